//! PostgreSQL: dbx-postgres against tokio-postgres through deadpool-postgres, the pool a
//! service without dbx would use, with the same size and cached statements.

use std::sync::Arc;

use anyhow::Result;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::dbx_side::DbxDriver;
use super::{BackendResult, Contender, Driver, Person, score_of};
use crate::Scale;
use crate::databases::PgDatabase;

const POINT_SELECT: &str = "SELECT id, name, score FROM bench WHERE id = $1";
const SCAN: &str = "SELECT id, name, score FROM bench WHERE id > $1 ORDER BY id LIMIT 1000";
const INSERT: &str = "INSERT INTO bench_insert_raw (name, score) VALUES ($1, $2)";

struct Raw(Pool);

fn person(row: &tokio_postgres::Row) -> Result<Person> {
    Ok(Person {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        score: row.try_get(2)?,
    })
}

impl Driver for Raw {
    async fn point_select(&self, id: i64) -> Result<Person> {
        let client = self.0.get().await?;
        let stmt = client.prepare_cached(POINT_SELECT).await?;
        person(&client.query_one(&stmt, &[&id]).await?)
    }

    async fn insert_one(&self, n: i64) -> Result<()> {
        let client = self.0.get().await?;
        let stmt = client.prepare_cached(INSERT).await?;
        client
            .execute(&stmt, &[&format!("ins{n}"), &score_of(n)])
            .await?;
        Ok(())
    }

    async fn insert_in_transaction(&self, n: i64, count: usize) -> Result<()> {
        let mut client = self.0.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(INSERT).await?;
        for k in super::insert_numbers(n, count) {
            tx.execute(&stmt, &[&format!("ins{k}"), &score_of(k)])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn scan(&self, after: i64) -> Result<Vec<Person>> {
        let client = self.0.get().await?;
        let stmt = client.prepare_cached(SCAN).await?;
        client
            .query(&stmt, &[&after])
            .await?
            .iter()
            .map(person)
            .collect()
    }
}

pub(super) async fn compare(server_url: &str, scale: Scale) -> Result<BackendResult> {
    let db = PgDatabase::create(server_url, "overhead").await?;
    let dbx = dbx_postgres::PgAdapter::connect_url(&db.url).await?;
    let manager = Manager::from_config(
        db.url.parse()?,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let raw = Pool::builder(manager)
        .max_size(crate::databases::POOL_SIZE)
        .build()?;
    let contenders = [
        Contender::new("dbx", DbxDriver::new(Arc::new(dbx), "bench_insert_dbx")),
        Contender::new("tokio-postgres + deadpool", Raw(raw)),
    ];
    let setup = format!(
        "PostgreSQL {} on loopback TCP (fsync off), pools of {} on both sides",
        db.version,
        crate::databases::POOL_SIZE
    );
    let result = super::compare("postgres", setup, &contenders, scale).await;
    drop(contenders);
    db.drop_now().await?;
    result
}
