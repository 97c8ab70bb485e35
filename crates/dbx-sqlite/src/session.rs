//! [`SqliteConnection`]: a dedicated session for callers that run `BEGIN`/`COMMIT` themselves.
//!
//! Outside a transaction a session behaves like the adapter: reads go to readers, writes to
//! the writer. A deferred `BEGIN` (or a first `SAVEPOINT`) pins a connection of its own that
//! takes the write lock only at the transaction's first write ([`Deferred`]), so sessions
//! that read hold up nobody, as with SQLite's own deferred transactions. `BEGIN IMMEDIATE`
//! and `BEGIN EXCLUSIVE` pin the writer at once. Either way the pin lasts until SQLite
//! reports autocommit again, including after an implicit rollback. A session holding the
//! write lock holds up every writer of the database; protocol servers expire idle streams
//! for that reason.
//!
//! [`Deferred`]: crate::pool::Deferred
//!
//! A read-only session pins a reader instead, so its transactions are read transactions
//! (`BEGIN IMMEDIATE` and `BEGIN EXCLUSIVE` fail there, as the reader cannot write) and it
//! never holds up a writer. Its statements that may write are refused.
//!
//! A statement that may leave state on its connection (a `PRAGMA` setting, a temporary
//! table, an attached in-memory database) also pins the writer, for the rest of the
//! session: the session's later statements must run where that state is. When such a
//! session ends, the writer is reopened before it serves anyone else, so the state reaches
//! nobody.

use std::sync::Arc;

use dbx_core::sql::Dialect;
use dbx_core::{
    AdapterKind, Connection, Description, Result, ResultSet, Statement, Transaction, async_trait,
};

use crate::adapter::Inner;
use crate::exec::{self, Prepared};
use crate::pool::Pinned;
use crate::transaction::SqliteTransaction;

/// A dedicated SQLite session.
#[derive(Debug)]
pub struct SqliteConnection {
    db: Arc<Inner>,
    pinned: Option<Pinned>,
    /// A statement left session state on the writer: keep it until the session ends.
    sticky: bool,
    read_only: bool,
}

impl SqliteConnection {
    pub(crate) fn new(db: Arc<Inner>) -> Self {
        Self {
            db,
            pinned: None,
            sticky: false,
            read_only: false,
        }
    }

    /// Drops the pin once no transaction is open, so other writers can proceed.
    fn unpin_if_idle(&mut self) {
        if !self.sticky && self.pinned.as_ref().is_some_and(Pinned::is_autocommit) {
            self.pinned = None;
        }
    }

    async fn pin(&mut self) -> Result<&Pinned> {
        if self.pinned.is_none() {
            self.pinned = Some(self.db.pin(self.read_only).await?);
        }
        Ok(self.pinned.as_ref().expect("pinned above"))
    }

    fn prepare(&self, stmt: Statement) -> Result<Prepared> {
        if self.read_only {
            dbx_core::sql::refuse_writes(&stmt.sql, Dialect::Sqlite)?;
        }
        Prepared::new(stmt, Dialect::Sqlite)
    }
}

/// Whether the statement opens a transaction that takes no lock until it writes: `BEGIN`
/// or `BEGIN DEFERRED`, or a `SAVEPOINT` outside any transaction (the caller knows it is
/// outside one).
fn opens_deferred(p: &Prepared) -> bool {
    let sql = p.sql();
    match p.shape.keyword() {
        Some("BEGIN") => ["IMMEDIATE", "EXCLUSIVE"]
            .iter()
            .all(|word| !dbx_core::sql::has_bare_word(sql, Dialect::Sqlite, word)),
        Some("SAVEPOINT") => true,
        _ => false,
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
        let p = self.prepare(stmt)?;
        let controls = p.shape.is_transaction_control();
        // A statement that may leave session state runs on the writer, so that the state
        // is where the session's later statements run.
        let may_leave_state = p.shape.changes_session() && !self.read_only;
        if self.pinned.is_none() && !controls && !may_leave_state && !self.sticky {
            return self.db.run_autocommit(p, self.read_only).await;
        }
        if self.pinned.is_none() && !self.read_only && opens_deferred(&p) {
            self.pinned = self.db.pin_deferred().await?;
        }
        let pinned = self.pin().await?;
        pinned.ready_for(&p.shape).await?;
        let result = pinned.run(move |c| exec::run(c, &p)).await;
        // The authorizer saw whether it did leave some: then the connection is kept.
        match pinned {
            Pinned::Writer(lease) => self.sticky |= lease.has_session_state(),
            Pinned::Deferred(deferred) => self.sticky |= deferred.has_session_state(),
            Pinned::Reader(_) => {}
        }
        self.unpin_if_idle();
        result
    }

    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        self.db.check_open()?;
        self.unpin_if_idle();
        let stmts = stmts
            .into_iter()
            .map(|s| self.prepare(s))
            .collect::<Result<Vec<_>>>()?;
        if let Some(pinned) = &self.pinned {
            for stmt in &stmts {
                pinned.ready_for(&stmt.shape).await?;
            }
            return pinned.run(move |c| exec::run_in_savepoint(c, &stmts)).await;
        }
        if !self.read_only {
            return self.db.batch_autocommit(stmts).await;
        }
        // A read-only batch: one read transaction on a reader, let go of at the end.
        let pinned = self.db.pin(true).await?;
        pinned
            .run(move |c| exec::run_atomically(c, "BEGIN", &stmts))
            .await
    }

    fn is_autocommit(&self) -> bool {
        self.pinned.as_ref().is_none_or(Pinned::is_autocommit)
    }

    fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    async fn describe(&mut self, sql: &str) -> Result<Description> {
        self.db.check_open()?;
        self.unpin_if_idle();
        let sql = sql.to_owned();
        match &self.pinned {
            // Inside a transaction, describe on the transaction's own connection, which sees
            // its uncommitted schema changes.
            Some(pinned) => pinned.run(move |c| exec::describe(c, &sql)).await,
            None => self.db.read(move |c| exec::describe(c, &sql)).await,
        }
    }

    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.db.check_open()?;
        self.unpin_if_idle();
        let begin = if self.read_only {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        };
        match self.pinned {
            // The caller opened a transaction with BEGIN: nest inside it.
            Some(ref pinned) => Ok(Box::new(SqliteTransaction::savepoint_on(pinned, 1).await?)),
            None => {
                self.pin().await?;
                Ok(Box::new(
                    SqliteTransaction::begin_on_session(&mut self.pinned, self.sticky, begin)
                        .await?,
                ))
            }
        }
    }
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        // A reader in a transaction is closed when its lease goes, which ends the transaction.
        let Some(Pinned::Writer(lease)) = self.pinned.take() else {
            return;
        };
        let writer = lease.writer().clone();
        let in_transaction = !lease.is_autocommit();
        if in_transaction {
            writer.queue_cleanup("ROLLBACK".to_owned());
        }
        let reset = self.sticky || lease.has_session_state();
        if reset {
            writer.request_reset();
        }
        drop(lease);
        if in_transaction || reset {
            writer.flush_cleanup_soon();
        }
    }
}
