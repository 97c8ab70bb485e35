//! Transactions: dbx-core's [`SqlTransaction`] over a pooled MySQL connection.

use dbx_core::sql::Dialect;
use dbx_core::txn::{SqlTransaction, TxConnection};
use dbx_core::{Result, ResultSet, Statement, async_trait};

use crate::exec::{self, Prepared};
use crate::pool::{Checkout, MyConn};

/// A MySQL transaction or savepoint.
pub(crate) type MyTransaction<'a> = SqlTransaction<'a, MyConn, Checkout>;

#[async_trait]
impl TxConnection for MyConn {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn begin_sql(&self) -> &'static str {
        if self.read_only {
            "START TRANSACTION READ ONLY"
        } else {
            "START TRANSACTION"
        }
    }

    async fn control(&mut self, sql: &str) -> Result<()> {
        exec::control(self, sql).await
    }

    async fn run(&mut self, stmt: Statement) -> Result<ResultSet> {
        exec::run(self, &Prepared::new(stmt, dbx_core::sql::Dialect::Mysql)?).await
    }

    fn abandon(&mut self) {
        self.needs_rollback = true;
    }

    async fn settle(&mut self) -> Result<()> {
        exec::run_pending(self).await
    }

    fn check_in_transaction(&self, stmt: &Statement) -> Result<()> {
        // DDL would commit the transaction on the spot; refuse rather than pretend.
        let shape = dbx_core::sql::shape(&stmt.sql, Dialect::Mysql)?;
        exec::refuse_implicit_commit(shape.keyword())
    }
}
