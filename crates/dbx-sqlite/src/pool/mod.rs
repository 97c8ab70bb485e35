//! One writer connection behind an async lock, plus read connections opened on demand.
//! Every call into rusqlite runs on tokio's blocking pool.

mod deferred;
mod readers;
mod writer;

use std::sync::{Mutex, MutexGuard, PoisonError};

use dbx_core::sql::{Dialect, Shape};
use dbx_core::{AdapterKind, Error, Result};

pub(crate) use deferred::Deferred;
pub(crate) use readers::{ReaderLease, Readers};
pub(crate) use writer::{Lease, Writer};

use crate::open::Conn;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside a rusqlite call leaves the connection itself usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn closed() -> Error {
    Error::Closed(AdapterKind::Sqlite)
}

/// Runs blocking work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::ConnectionLost(format!("the SQLite worker task failed: {e}")))
}

/// The connection a session holds while a transaction is open on it: the writer; for a
/// read-only session a reader (whose transactions can only read, so they never hold up
/// writers); or for a deferred transaction a pooled connection that takes the write lock
/// at its first write ([`Deferred`]).
#[derive(Debug)]
pub(crate) enum Pinned {
    Writer(Lease),
    Reader(ReaderLease),
    Deferred(Deferred),
}

impl Pinned {
    /// Runs `f` on the held connection.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T> + Send + 'static,
    {
        match self {
            Pinned::Writer(lease) => lease.run(f).await,
            Pinned::Reader(lease) => lease.run(f).await,
            Pinned::Deferred(deferred) => deferred.run(f).await,
        }
    }

    /// Readies the held connection for a statement: a deferred transaction takes the write
    /// lock before its first statement that may write or leave session state. Transaction
    /// control (`COMMIT`, `SAVEPOINT`, ...) never needs it.
    pub(crate) async fn ready_for(&self, shape: &Shape) -> Result<()> {
        let Pinned::Deferred(deferred) = self else {
            return Ok(());
        };
        let writes = !dbx_core::sql::is_read_only(shape.sql(), Dialect::Sqlite);
        if !shape.is_transaction_control() && (writes || shape.changes_session()) {
            deferred.upgrade().await?;
        }
        Ok(())
    }

    /// Whether the held connection is outside any transaction.
    pub(crate) fn is_autocommit(&self) -> bool {
        match self {
            Pinned::Writer(lease) => lease.is_autocommit(),
            Pinned::Reader(lease) => lease.is_autocommit(),
            Pinned::Deferred(deferred) => deferred.is_autocommit(),
        }
    }

    /// Queues SQL (a rollback of an abandoned transaction or savepoint) to run before the
    /// next statement on the held connection, whoever runs it.
    pub(crate) fn queue_cleanup(&self, sql: String) {
        match self {
            Pinned::Writer(lease) => lease.writer().queue_cleanup(sql),
            Pinned::Reader(lease) => lease.queue_cleanup(sql),
            Pinned::Deferred(deferred) => deferred.queue_cleanup(sql),
        }
    }

    /// Runs queued cleanup soon, for a writer let go of: so that SQLite's write lock is not
    /// held until the next write. A pooled connection's cleanup runs when it is closed or
    /// reused.
    pub(crate) fn flush_soon(&self) {
        if let Pinned::Writer(lease) = self {
            lease.writer().flush_cleanup_soon();
        }
    }
}
