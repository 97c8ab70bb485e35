//! The dbx side, the same code for every backend: an `Arc<dyn Adapter>` as a service gets
//! it from `DatabaseService`, with dbx's own placeholders and typed getters.

use std::sync::Arc;

use anyhow::Result;
use dbx_core::{Adapter, Row, Statement};

use super::{Driver, POINT_SELECT, Person, SCAN, score_of};

pub(crate) struct DbxDriver {
    db: Arc<dyn Adapter>,
    insert_sql: String,
}

impl DbxDriver {
    pub(crate) fn new(db: Arc<dyn Adapter>, insert_table: &str) -> Self {
        Self {
            db,
            insert_sql: format!("INSERT INTO {insert_table} (name, score) VALUES (?, ?)"),
        }
    }

    fn insert(&self, n: i64) -> Statement {
        Statement::new(self.insert_sql.as_str())
            .bind(format!("ins{n}"))
            .bind(score_of(n))
    }
}

fn person(row: &Row) -> Result<Person> {
    Ok(Person {
        id: row.get(0)?,
        name: row.get(1)?,
        score: row.get(2)?,
    })
}

impl Driver for DbxDriver {
    async fn point_select(&self, id: i64) -> Result<Person> {
        let rows = self.db.query(Statement::new(POINT_SELECT).bind(id)).await?;
        let row = rows.first().ok_or_else(|| anyhow::anyhow!("no row {id}"))?;
        person(row)
    }

    async fn insert_one(&self, n: i64) -> Result<()> {
        self.db.execute(self.insert(n)).await?;
        Ok(())
    }

    async fn insert_in_transaction(&self, n: i64, count: usize) -> Result<()> {
        let mut tx = self.db.transaction().await?;
        for k in super::insert_numbers(n, count) {
            tx.execute(self.insert(k)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_batch(&self, n: i64, count: usize) -> Result<()> {
        let stmts = super::insert_numbers(n, count).map(|k| self.insert(k));
        self.db.batch(stmts.collect()).await?;
        Ok(())
    }

    async fn scan(&self, after: i64) -> Result<Vec<Person>> {
        let rows = self.db.query(Statement::new(SCAN).bind(after)).await?;
        rows.rows.iter().map(person).collect()
    }
}
