//! [`SqliteConnection`]: a dedicated session for callers that run `BEGIN`/`COMMIT` themselves.
//!
//! Outside a transaction a session behaves like the adapter: reads go to readers, writes to
//! the writer. When one of its statements opens a transaction (`BEGIN`, `SAVEPOINT`), the
//! session pins the writer and keeps it until SQLite reports autocommit again, including
//! after an implicit rollback. Other writers wait on the lock meanwhile, so a session that
//! sits in a transaction holds up every writer of the database; protocol servers expire
//! idle streams for that reason.
//!
//! A `PRAGMA` also pins the writer, for the rest of the session: a pragma changes the
//! connection it runs on, and the session's later statements must run on that connection
//! (a migration turning `foreign_keys` off to rebuild a table, say). When such a session
//! ends, `foreign_keys` is set back to the configured value before the writer serves anyone
//! else.

use std::sync::Arc;

use dbx_core::Description;
use dbx_core::{AdapterKind, Connection, Result, ResultSet, Statement, Transaction, async_trait};

use crate::adapter::Inner;
use crate::exec::{self, Prepared};
use crate::pool::Lease;
use crate::transaction::SqliteTransaction;

/// A dedicated SQLite session.
#[derive(Debug)]
pub struct SqliteConnection {
    db: Arc<Inner>,
    pinned: Option<Lease>,
    /// A PRAGMA ran: keep the writer until the session ends.
    sticky: bool,
}

impl SqliteConnection {
    pub(crate) fn new(db: Arc<Inner>) -> Self {
        Self {
            db,
            pinned: None,
            sticky: false,
        }
    }

    /// Drops the pin once no transaction is open, so other writers can proceed.
    fn unpin_if_idle(&mut self) {
        if !self.sticky && self.pinned.as_ref().is_some_and(Lease::is_autocommit) {
            self.pinned = None;
        }
    }

    async fn pin(&mut self) -> Result<&Lease> {
        if self.pinned.is_none() {
            self.pinned = Some(self.db.writer.lease().await?);
        }
        Ok(self.pinned.as_ref().expect("pinned above"))
    }
}

#[async_trait]
impl Connection for SqliteConnection {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Sqlite
    }

    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.db.check_open()?;
        self.unpin_if_idle();
        let p = Prepared::new(stmt, dbx_core::sql::Dialect::Sqlite)?;
        let controls = p.shape.is_transaction_control();
        if p.shape.keyword() == Some("PRAGMA") {
            self.sticky = true;
        }
        if self.pinned.is_none() && !controls && !self.sticky {
            return self.db.run_autocommit(p).await;
        }
        let result = self.pin().await?.run(move |c| exec::run(c, &p)).await;
        self.unpin_if_idle();
        result?
    }

    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        self.db.check_open()?;
        self.unpin_if_idle();
        let stmts = stmts
            .into_iter()
            .map(|s| Prepared::new(s, dbx_core::sql::Dialect::Sqlite))
            .collect::<Result<Vec<_>>>()?;
        match &self.pinned {
            Some(lease) => {
                lease
                    .run(move |c| exec::run_in_savepoint(c, &stmts))
                    .await?
            }
            None => self.db.batch_autocommit(stmts).await,
        }
    }

    fn is_autocommit(&self) -> bool {
        self.pinned.as_ref().is_none_or(Lease::is_autocommit)
    }

    async fn describe(&mut self, sql: &str) -> Result<Description> {
        self.db.check_open()?;
        self.unpin_if_idle();
        let sql = sql.to_owned();
        match &self.pinned {
            // Inside a transaction, describe on the transaction's own connection, which sees
            // its uncommitted schema changes.
            Some(lease) => lease.run(move |c| exec::describe(c, &sql)).await?,
            None => self.db.read(move |c| exec::describe(c, &sql)).await?,
        }
    }

    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.db.check_open()?;
        self.unpin_if_idle();
        match self.pinned {
            // The caller opened a transaction with BEGIN: nest inside it.
            Some(ref lease) => Ok(Box::new(SqliteTransaction::savepoint_on(lease, 1).await?)),
            None => {
                self.pin().await?;
                Ok(Box::new(
                    SqliteTransaction::begin_on_session(&mut self.pinned).await?,
                ))
            }
        }
    }
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        let Some(lease) = self.pinned.take() else {
            return;
        };
        let writer = lease.writer().clone();
        let mut cleanup = Vec::new();
        if !lease.is_autocommit() {
            cleanup.push("ROLLBACK".to_owned());
        }
        if self.sticky {
            let on = if self.db.options.foreign_keys {
                "ON"
            } else {
                "OFF"
            };
            cleanup.push(format!("PRAGMA foreign_keys = {on}"));
        }
        if cleanup.is_empty() {
            return;
        }
        for sql in cleanup {
            writer.queue_cleanup(sql);
        }
        drop(lease);
        writer.flush_cleanup_soon();
    }
}
