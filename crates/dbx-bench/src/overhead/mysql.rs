//! MySQL/MariaDB: dbx-mysql against mysql_async's own pool, the same size, with the driver's
//! prepared-statement cache.

use std::sync::Arc;

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts};

use super::dbx_side::DbxDriver;
use super::{BackendResult, Contender, Driver, POINT_SELECT, Person, SCAN, score_of};
use crate::Scale;
use crate::databases::{MyDatabase, pool};

const INSERT: &str = "INSERT INTO bench_insert_raw (name, score) VALUES (?, ?)";

struct Raw(Pool);

fn person((id, name, score): (i64, String, f64)) -> Person {
    Person { id, name, score }
}

impl Driver for Raw {
    async fn point_select(&self, id: i64) -> Result<Person> {
        let mut conn = self.0.get_conn().await?;
        let row: Option<(i64, String, f64)> = conn.exec_first(POINT_SELECT, (id,)).await?;
        row.map(person).with_context(|| format!("no row {id}"))
    }

    async fn insert_one(&self, n: i64) -> Result<()> {
        let mut conn = self.0.get_conn().await?;
        conn.exec_drop(INSERT, (format!("ins{n}"), score_of(n)))
            .await?;
        Ok(())
    }

    async fn insert_in_transaction(&self, n: i64, count: usize) -> Result<()> {
        let mut conn = self.0.get_conn().await?;
        let mut tx = conn.start_transaction(TxOpts::default()).await?;
        for k in super::insert_numbers(n, count) {
            tx.exec_drop(INSERT, (format!("ins{k}"), score_of(k)))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn scan(&self, after: i64) -> Result<Vec<Person>> {
        let mut conn = self.0.get_conn().await?;
        let rows: Vec<(i64, String, f64)> = conn.exec(SCAN, (after,)).await?;
        Ok(rows.into_iter().map(person).collect())
    }
}

pub(super) async fn compare(server_url: &str, scale: Scale) -> Result<BackendResult> {
    let db = MyDatabase::create(server_url, "overhead").await?;
    let dbx = dbx_mysql::MySqlAdapter::connect_url(&db.url).await?;
    let raw = pool(&db.url)?;
    let contenders = [
        Contender::new("dbx", DbxDriver::new(Arc::new(dbx), "bench_insert_dbx")),
        Contender::new("mysql_async", Raw(raw.clone())),
    ];
    let setup = format!(
        "MariaDB {} on loopback TCP (InnoDB, flush at commit off), pools of {} on both sides",
        db.version,
        crate::databases::POOL_SIZE
    );
    let result = super::compare("mysql", setup, &contenders, scale).await;
    drop(contenders);
    raw.disconnect().await?;
    db.drop_now().await?;
    result
}
