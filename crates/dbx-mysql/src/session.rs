//! [`MySqlConnection`]: a dedicated session on one pooled connection.
//!
//! The transaction state comes from the server itself: the `SERVER_STATUS_IN_TRANS` flag of
//! the last OK packet, so implicit commits (DDL) and implicit rollbacks are reflected.
//! A session dropped inside a transaction rolls it back before its connection is reused.

use dbx_core::txn::SavepointGuard;
use dbx_core::{AdapterKind, Connection, Result, ResultSet, Statement, Transaction, async_trait};

use crate::adapter::MySqlAdapter;
use crate::exec::{self, Prepared};
use crate::pool::Checkout;
use crate::transaction::MyTransaction;

/// A dedicated MySQL session.
#[derive(Debug)]
pub struct MySqlConnection {
    adapter: MySqlAdapter,
    conn: Checkout,
    abandoned_savepoint: Option<u32>,
    read_only: bool,
}

impl MySqlConnection {
    pub(crate) fn new(adapter: MySqlAdapter, conn: Checkout) -> Self {
        Self {
            adapter,
            conn,
            abandoned_savepoint: None,
            read_only: false,
        }
    }

    fn check_writes(&self, sql: &str) -> Result<()> {
        if self.read_only {
            dbx_core::sql::refuse_writes(sql, dbx_core::sql::Dialect::Mysql)?;
        }
        Ok(())
    }

    async fn settle(&mut self) -> Result<()> {
        self.adapter.check_open()?;
        if let Some(depth) = self.abandoned_savepoint.take() {
            let name = format!("dbx_sp_{depth}");
            exec::control(&mut self.conn, &format!("ROLLBACK TO SAVEPOINT {name}")).await?;
            exec::control(&mut self.conn, &format!("RELEASE SAVEPOINT {name}")).await?;
        }
        exec::run_pending(&mut self.conn).await
    }
}

#[async_trait]
impl Connection for MySqlConnection {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Mysql
    }

    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.check_writes(&stmt.sql)?;
        self.settle().await?;
        exec::run(
            &mut self.conn,
            &Prepared::new(stmt, dbx_core::sql::Dialect::Mysql)?,
        )
        .await
    }

    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        for stmt in &stmts {
            self.check_writes(&stmt.sql)?;
        }
        self.settle().await?;
        if exec::in_transaction(&self.conn) {
            dbx_core::txn::run_in_savepoint(&mut *self.conn, stmts).await
        } else {
            dbx_core::txn::run_atomically(&mut *self.conn, stmts).await
        }
    }

    fn is_autocommit(&self) -> bool {
        !exec::in_transaction(&self.conn)
    }

    fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
        // transaction() then starts `READ ONLY`, which the server itself enforces.
        self.conn.read_only = read_only;
    }

    async fn describe(&mut self, sql: &str) -> Result<dbx_core::Description> {
        self.settle().await?;
        exec::describe(&mut self.conn, sql).await
    }

    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.settle().await?;
        if exec::in_transaction(&self.conn) {
            let guard: SavepointGuard<'_, _, Checkout> =
                SavepointGuard::open(&mut *self.conn, 1, &mut self.abandoned_savepoint).await?;
            return Ok(Box::new(guard));
        }
        Ok(Box::new(MyTransaction::begin_on(&mut *self.conn).await?))
    }
}

impl Drop for MySqlConnection {
    fn drop(&mut self) {
        if exec::in_transaction(&self.conn) || self.abandoned_savepoint.is_some() {
            self.conn.needs_rollback = true;
        }
        self.conn.read_only = false;
    }
}
