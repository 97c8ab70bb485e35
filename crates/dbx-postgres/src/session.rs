//! [`PgConnection`]: a dedicated session on one pooled connection.
//!
//! PostgreSQL does not report the transaction status through tokio-postgres, so the session
//! follows its own statements: `BEGIN`/`START TRANSACTION` open a transaction, and `COMMIT`,
//! `END`, `ROLLBACK` (not `ROLLBACK TO`) and `ABORT` close it, whether they succeed or not
//! (a failed `COMMIT` rolls back). A session dropped inside a transaction rolls it back
//! before its connection returns to service.

use dbx_core::{AdapterKind, Connection, Result, ResultSet, Statement, Transaction, async_trait};

use crate::adapter::PgAdapter;
use crate::exec::{self, Prepared};
use crate::pool::Checkout;
use dbx_core::txn::SavepointGuard;

use crate::transaction::PgTransaction;

/// A dedicated PostgreSQL session.
#[derive(Debug)]
pub struct PgConnection {
    adapter: PgAdapter,
    conn: Checkout,
    in_transaction: bool,
    abandoned_savepoint: Option<u32>,
    read_only: bool,
}

/// How a transaction-control statement moves the session's transaction state.
fn transition(p: &Prepared) -> Option<bool> {
    let sql = p.sql();
    match p.keyword() {
        Some("BEGIN" | "START") => Some(true),
        Some("COMMIT" | "END" | "ABORT") => Some(false),
        Some("ROLLBACK") => {
            let upper = sql.to_ascii_uppercase();
            (!upper.split_whitespace().any(|w| w == "TO")).then_some(false)
        }
        Some("PREPARE") if sql.to_ascii_uppercase().contains("TRANSACTION") => Some(false),
        _ => None,
    }
}

impl PgConnection {
    pub(crate) fn new(adapter: PgAdapter, conn: Checkout) -> Self {
        Self {
            adapter,
            conn,
            in_transaction: false,
            abandoned_savepoint: None,
            read_only: false,
        }
    }

    fn check_writes(&self, sql: &str) -> Result<()> {
        if self.read_only {
            dbx_core::sql::refuse_writes(sql, dbx_core::sql::Dialect::Postgres)?;
        }
        Ok(())
    }

    async fn settle(&mut self) -> Result<()> {
        self.adapter.check_open()?;
        if let Some(depth) = self.abandoned_savepoint.take() {
            let name = format!("dbx_sp_{depth}");
            exec::control(
                &mut self.conn,
                &format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
            )
            .await?;
        }
        if self.conn.needs_rollback {
            // A transaction opened through `transaction()` was dropped.
            exec::run_pending(&mut self.conn).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Connection for PgConnection {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Postgres
    }

    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.check_writes(&stmt.sql)?;
        self.settle().await?;
        let p = Prepared::new(stmt, dbx_core::sql::Dialect::Postgres)?;
        let change = p
            .shape
            .is_transaction_control()
            .then(|| transition(&p))
            .flatten();
        // Transaction control itself never needs parameters retyped.
        let result = exec::run(&mut self.conn, &p, self.in_transaction).await;
        match change {
            Some(true) if result.is_ok() => self.in_transaction = true,
            Some(false) => self.in_transaction = false,
            _ => {}
        }
        result
    }

    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        for stmt in &stmts {
            self.check_writes(&stmt.sql)?;
        }
        self.settle().await?;
        if self.in_transaction {
            dbx_core::txn::run_in_savepoint(&mut *self.conn, stmts).await
        } else {
            dbx_core::txn::run_atomically(&mut *self.conn, stmts).await
        }
    }

    fn is_autocommit(&self) -> bool {
        !self.in_transaction
    }

    fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
        // transaction() then begins `READ ONLY`, which the server itself enforces.
        self.conn.read_only = read_only;
    }

    async fn describe(&mut self, sql: &str) -> Result<dbx_core::Description> {
        self.settle().await?;
        exec::describe(&mut self.conn, sql).await
    }

    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.settle().await?;
        if self.in_transaction {
            // Inside the caller's own BEGIN: nest as a savepoint.
            let guard: SavepointGuard<'_, _, Checkout> =
                SavepointGuard::open(&mut *self.conn, 1, &mut self.abandoned_savepoint).await?;
            return Ok(Box::new(guard));
        }
        Ok(Box::new(PgTransaction::begin_on(&mut *self.conn).await?))
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        if self.in_transaction || self.abandoned_savepoint.is_some() {
            self.conn.needs_rollback = true;
        }
        self.conn.read_only = false;
    }
}
