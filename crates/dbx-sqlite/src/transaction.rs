//! Transactions and savepoints on a held connection: the writer, or a read-only session's
//! reader.
//!
//! A transaction holds its connection for its whole life, so no other statement of this
//! process runs inside it. When one is dropped without `commit` or `rollback`, its `Drop`
//! queues the matching `ROLLBACK` (or `ROLLBACK TO`) on the connection, which runs queued
//! SQL before anything else, so the next user never sees the abandoned work. For the writer
//! a task is also spawned to run it right away, which releases SQLite's file lock without
//! waiting for the next write.

use dbx_core::sql::Dialect;
use dbx_core::{Error, Result, ResultSet, Statement, Transaction, async_trait};

use crate::exec::{self, Prepared};
use crate::pool::Pinned;

/// Where a transaction's connection lives.
#[derive(Debug)]
enum Holder<'a> {
    /// A top-level transaction from the adapter owns its connection.
    Owned(Option<Pinned>),
    /// A savepoint borrows its parent's.
    Borrowed(&'a Pinned),
    /// A top-level transaction on a dedicated session uses the session's pinned connection
    /// and unpins it when it ends, unless the session keeps it for state its statements set.
    Session {
        slot: &'a mut Option<Pinned>,
        keep: bool,
    },
}

/// An open SQLite transaction (depth 0) or savepoint (depth 1 and up).
#[derive(Debug)]
pub struct SqliteTransaction<'a> {
    holder: Holder<'a>,
    depth: u32,
    finished: bool,
}

fn savepoint_name(depth: u32) -> String {
    format!("dbx_sp_{depth}")
}

impl SqliteTransaction<'static> {
    /// Begins a transaction on a freshly leased writer.
    pub(crate) async fn begin(pinned: Pinned) -> Result<Self> {
        pinned.run(|c| exec::control(c, "BEGIN IMMEDIATE")).await?;
        Ok(Self {
            holder: Holder::Owned(Some(pinned)),
            depth: 0,
            finished: false,
        })
    }
}

impl<'a> SqliteTransaction<'a> {
    /// Begins a transaction with `begin` on a session's pinned connection.
    pub(crate) async fn begin_on_session(
        slot: &'a mut Option<Pinned>,
        keep: bool,
        begin: &'static str,
    ) -> Result<Self> {
        let pinned = slot
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("no pinned connection".into()))?;
        pinned.run(move |c| exec::control(c, begin)).await?;
        Ok(Self {
            holder: Holder::Session { slot, keep },
            depth: 0,
            finished: false,
        })
    }

    /// Opens a savepoint inside a transaction the caller started with `BEGIN`.
    pub(crate) async fn savepoint_on(pinned: &'a Pinned, depth: u32) -> Result<Self> {
        let sql = format!("SAVEPOINT {}", savepoint_name(depth));
        pinned.run(move |c| exec::control(c, &sql)).await?;
        Ok(Self {
            holder: Holder::Borrowed(pinned),
            depth,
            finished: false,
        })
    }

    fn lease(&self) -> Result<&Pinned> {
        let lease = match &self.holder {
            Holder::Owned(lease) => lease.as_ref(),
            Holder::Borrowed(lease) => Some(*lease),
            Holder::Session { slot, .. } => slot.as_ref(),
        };
        lease.ok_or_else(|| Error::InvalidArgument("the transaction has already ended".into()))
    }

    fn release(&mut self) {
        match &mut self.holder {
            Holder::Owned(lease) => drop(lease.take()),
            Holder::Session { slot, keep } => {
                if !*keep {
                    drop(slot.take());
                }
            }
            Holder::Borrowed(_) => {}
        }
    }

    fn rollback_sql(&self) -> String {
        match self.depth {
            0 => "ROLLBACK".to_owned(),
            d => format!("ROLLBACK TO {0}; RELEASE {0}", savepoint_name(d)),
        }
    }

    async fn finish(&mut self, sql: String) -> Result<()> {
        self.lease()?.run(move |c| exec::control(c, &sql)).await?;
        self.finished = true;
        if self.depth == 0 {
            self.release();
        }
        Ok(())
    }
}

#[async_trait]
impl Transaction for SqliteTransaction<'_> {
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        let shape = dbx_core::sql::shape(&stmt.sql, Dialect::Sqlite)?;
        if shape.is_transaction_control() {
            return Err(Error::InvalidArgument(format!(
                "{:?} would end or nest this transaction behind its back: use commit(), \
                 rollback() or savepoint()",
                stmt.sql.trim()
            )));
        }
        let p = Prepared::with_shape(shape, stmt.params, stmt.limits)?;
        let pinned = self.lease()?;
        pinned.ready_for(&p.shape).await?;
        pinned.run(move |c| exec::run(c, &p)).await
    }

    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>> {
        let lease = self.lease()?;
        Ok(Box::new(
            SqliteTransaction::savepoint_on(lease, self.depth + 1).await?,
        ))
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let sql = match self.depth {
            0 => "COMMIT".to_owned(),
            d => format!("RELEASE {}", savepoint_name(d)),
        };
        self.finish(sql).await
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        let sql = self.rollback_sql();
        self.finish(sql).await
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let sql = self.rollback_sql();
        let Ok(pinned) = self.lease() else { return };
        pinned.queue_cleanup(sql);
        if self.depth == 0 {
            pinned.flush_soon();
            self.release();
        }
    }
}
