//! A session's deferred transaction (`BEGIN`, `BEGIN DEFERRED`, a first `SAVEPOINT`): it
//! reads on a connection of the reader pool and takes the write lock only at its first
//! write.
//!
//! SQLite's deferred `BEGIN` takes no lock, so two connections can both be in a
//! transaction and only their writes serialize. Pinning the single writer at `BEGIN` would
//! instead stop every other writer of the process for as long as the session sat in its
//! transaction, even one that only ever reads. So the transaction runs on a pooled
//! connection, kept `query_only` until the transaction first writes. Then the session takes
//! the writer's lock (this process's other writers queue on it, as they do for any write,
//! instead of meeting `SQLITE_BUSY`), lifts `query_only`, and keeps both until the
//! transaction ends. If another write committed after the transaction first read, SQLite
//! refuses that first write with `SQLITE_BUSY_SNAPSHOT`, exactly as on a deferred
//! transaction of its own: the caller rolls back and retries.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use dbx_core::Result;

use super::{Lease, ReaderLease, Writer, lock};
use crate::error::map_err;
use crate::open::Conn;

/// A deferred transaction's connection, and the write lock once it has written.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// Declared before `write`, so that on drop the connection (and with it SQLite's file
    /// lock) goes before this process's write lock is handed on.
    reader: ReaderLease,
    writer: Arc<Writer>,
    write: Mutex<Option<Lease>>,
    /// Whether `query_only` is lifted on the connection now.
    writable: Arc<AtomicBool>,
}

/// Sets `query_only` without it counting as state a caller left on the connection.
fn set_query_only(conn: &Conn, on: bool) -> Result<()> {
    let had_state = conn.watch.has_session_state();
    let sql = if on {
        "PRAGMA query_only = ON"
    } else {
        "PRAGMA query_only = OFF"
    };
    let out = conn.db.execute_batch(sql).map_err(map_err);
    if !had_state {
        conn.watch.take_session_state();
    }
    out
}

impl Deferred {
    pub(crate) fn new(reader: ReaderLease, writer: Arc<Writer>) -> Self {
        Self {
            reader,
            writer,
            write: Mutex::new(None),
            writable: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Takes the write lock for the rest of the transaction, waiting for other writers up to
    /// the busy timeout. The writer connection's own leftovers (the rollback of a
    /// transaction dropped unfinished) run first, so that it holds no file lock.
    pub(crate) async fn upgrade(&self) -> Result<()> {
        if lock(&self.write).is_some() {
            return Ok(());
        }
        let lease = self.writer.lease(false).await?;
        lease.settle().await?;
        *lock(&self.write) = Some(lease);
        Ok(())
    }

    /// Runs `f` on the connection, writable if the write lock is held. When the transaction
    /// has ended, the connection is made `query_only` again and the write lock let go of.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T> + Send + 'static,
    {
        let holds_write = lock(&self.write).is_some();
        let writable = self.writable.clone();
        let out = self
            .reader
            .run(move |c| {
                if holds_write && !writable.load(Ordering::Acquire) {
                    set_query_only(c, false)?;
                    writable.store(true, Ordering::Release);
                }
                let out = f(c);
                if writable.load(Ordering::Acquire)
                    && c.db.is_autocommit()
                    && set_query_only(c, true).is_ok()
                {
                    writable.store(false, Ordering::Release);
                }
                out
            })
            .await;
        if !self.writable.load(Ordering::Acquire) {
            lock(&self.write).take();
        }
        out
    }

    pub(crate) fn is_autocommit(&self) -> bool {
        self.reader.is_autocommit()
    }

    /// Whether a statement left state (a temporary table, a pragma setting) on the
    /// connection, so that the session must keep it.
    pub(crate) fn has_session_state(&self) -> bool {
        self.reader.has_session_state()
    }

    pub(crate) fn queue_cleanup(&self, sql: String) {
        self.reader.queue_cleanup(sql);
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        if self.writable.load(Ordering::Acquire) {
            // Pending SQL makes the lease close the connection instead of pooling it, so a
            // writable connection never serves a reader.
            self.reader
                .queue_cleanup("PRAGMA query_only = ON".to_owned());
        }
    }
}
