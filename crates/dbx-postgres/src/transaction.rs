//! Transactions: dbx-core's [`SqlTransaction`] over a pooled PostgreSQL connection.

use dbx_core::sql::Dialect;
use dbx_core::txn::{SqlTransaction, TxConnection};
use dbx_core::{Result, ResultSet, Statement, async_trait};

use crate::exec::{self, Prepared};
use crate::pool::{Checkout, PgConn};

/// A PostgreSQL transaction or savepoint.
pub(crate) type PgTransaction<'a> = SqlTransaction<'a, PgConn, Checkout>;

#[async_trait]
impl TxConnection for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn begin_sql(&self) -> &'static str {
        if self.read_only {
            "BEGIN READ ONLY"
        } else {
            "BEGIN"
        }
    }

    async fn control(&mut self, sql: &str) -> Result<()> {
        exec::control(self, sql).await
    }

    async fn run(&mut self, stmt: Statement) -> Result<ResultSet> {
        exec::run(
            self,
            &Prepared::new(stmt, dbx_core::sql::Dialect::Postgres)?,
            true,
        )
        .await
    }

    fn abandon(&mut self) {
        self.needs_rollback = true;
    }

    async fn settle(&mut self) -> Result<()> {
        exec::run_pending(self).await
    }
}
