//! Read connections, opened on first need and kept for reuse: one per call, or one held by
//! a session for its transaction ([`ReaderLease`]): a read-only session's read transaction,
//! or a deferred transaction until it writes (see [`Deferred`](super::Deferred)). Held ones
//! count against a budget of their own, so that sessions sitting in transactions never
//! starve pooled reads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dbx_core::{PoolStatus, Result};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{blocking, closed, lock};
use crate::open::{Conn, open};
use crate::options::SqliteOptions;
use crate::watch::{Abandon, Watch};

/// Read connections, opened on first need and kept for reuse.
#[derive(Debug)]
pub(crate) struct Readers {
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
    /// Connections held by sessions for their transactions.
    session_permits: Arc<Semaphore>,
    max: usize,
    in_use: AtomicUsize,
    closed: AtomicBool,
    /// The adapter's closing flag, for the watches of new connections.
    closing: Arc<AtomicBool>,
    options: Arc<SqliteOptions>,
}

impl Readers {
    pub(crate) fn new(options: Arc<SqliteOptions>, closing: Arc<AtomicBool>) -> Self {
        let max = options.max_readers.max(1);
        Self {
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max)),
            session_permits: Arc::new(Semaphore::new(options.max_session_transactions.max(1))),
            max,
            in_use: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            closing,
            options,
        }
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        self.check_open()?;
        Ok(permit)
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        Ok(())
    }

    /// A place for one more session transaction, waiting up to the busy timeout.
    async fn session_permit(&self) -> Result<OwnedSemaphorePermit> {
        self.check_open()?;
        let wait = self.options.busy_timeout;
        let max = self.options.max_session_transactions.max(1);
        let permit = tokio::time::timeout(wait, self.session_permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                dbx_core::Error::Busy(format!(
                    "waited {wait:?} for one of the {max} sessions in a transaction on {} \
                         to end: commit or roll back sooner, or raise max-session-transactions",
                    self.options.path.display()
                ))
            })?
            .map_err(|_| closed())?;
        self.check_open()?;
        Ok(permit)
    }

    /// An idle connection, or the watch a new one will get.
    fn take_idle(&self) -> (Option<Conn>, Arc<Watch>) {
        let conn = lock(&self.idle).pop();
        let watch = conn
            .as_ref()
            .map_or_else(|| Watch::new(self.closing.clone()), |c| c.watch.clone());
        (conn, watch)
    }

    /// Puts a connection back for reuse, unless the pool closed or a statement left state
    /// on it (a pragma setting, say), in which case it is closed: the next caller gets a
    /// clean one. Blocking: closing a connection is a call into SQLite.
    fn give_back(&self, conn: Conn) {
        let clean = !conn.watch.take_session_state() && conn.db.is_autocommit();
        if clean && !self.closed.load(Ordering::Acquire) {
            lock(&self.idle).push(conn);
        }
    }

    /// Runs `f` on a read connection. A run whose future is dropped is stopped at SQLite's
    /// next progress check.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T> + Send + 'static,
    {
        let permit = self.permit().await?;
        let (reused, watch) = self.take_idle();
        let readers = self.clone();
        let run = Watch::next_run();
        let abandon = Abandon::new(watch.clone(), run);
        let outcome = blocking(move || {
            let _permit = permit;
            let _counted = InUse::enter(&readers.in_use);
            let conn = match reused {
                Some(conn) => conn,
                None => open(&readers.options, false, watch)?,
            };
            conn.watch.start(run);
            let out = f(&conn);
            conn.watch.finish();
            readers.give_back(conn);
            out
        })
        .await;
        abandon.disarm();
        outcome?
    }

    /// A connection held until the lease is dropped, for a session's transaction.
    pub(crate) async fn lease(self: &Arc<Self>) -> Result<ReaderLease> {
        let permit = self.session_permit().await?;
        let (reused, watch) = self.take_idle();
        let conn = match reused {
            Some(conn) => conn,
            None => {
                let options = self.options.clone();
                blocking(move || open(&options, false, watch)).await??
            }
        };
        self.in_use.fetch_add(1, Ordering::Relaxed);
        Ok(ReaderLease {
            readers: self.clone(),
            slot: Arc::new(Mutex::new(Some(conn))),
            pending: Mutex::new(Vec::new()),
            _permit: permit,
        })
    }

    /// Waits for running reads (the adapter's closing flag stops them), then closes every
    /// read connection.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _drained = self.permits.acquire_many(all).await;
        let idle = std::mem::take(&mut *lock(&self.idle));
        let _ = blocking(move || drop(idle)).await;
        self.permits.close();
        self.session_permits.close();
    }

    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            in_use: self.in_use.load(Ordering::Relaxed),
            idle: lock(&self.idle).len(),
            max: self.max,
        }
    }
}

/// One connection held by a session for its transaction. Dropped, it
/// goes back to the pool if it is outside a transaction and clean, and is closed otherwise
/// (closing ends its transaction).
#[derive(Debug)]
pub(crate) struct ReaderLease {
    readers: Arc<Readers>,
    slot: Arc<Mutex<Option<Conn>>>,
    /// Rollbacks of savepoints dropped unfinished, run before the next statement.
    pending: Mutex<Vec<String>>,
    _permit: OwnedSemaphorePermit,
}

impl ReaderLease {
    /// Runs `f` on the held connection, after any queued cleanup.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T> + Send + 'static,
    {
        let slot = self.slot.clone();
        let cleanup: Vec<String> = std::mem::take(&mut *lock(&self.pending));
        let watch = lock(&self.slot)
            .as_ref()
            .map(|c| c.watch.clone())
            .ok_or_else(closed)?;
        let run = Watch::next_run();
        let abandon = Abandon::new(watch, run);
        let out = blocking(move || {
            let slot = lock(&slot);
            let conn = slot.as_ref().ok_or_else(closed)?;
            for sql in cleanup {
                let _ = conn.db.execute_batch(&sql);
            }
            conn.watch.start(run);
            let out = f(conn);
            conn.watch.finish();
            out
        })
        .await;
        abandon.disarm();
        out?
    }

    /// Queues SQL to run before the next statement on this connection.
    pub(crate) fn queue_cleanup(&self, sql: String) {
        lock(&self.pending).push(sql);
    }

    /// Whether a statement left state on the connection (a temporary table, a pragma
    /// setting).
    pub(crate) fn has_session_state(&self) -> bool {
        self.slot
            .try_lock()
            .map(|c| c.as_ref().is_some_and(|c| c.watch.has_session_state()))
            .unwrap_or(false)
    }

    /// Whether the connection is outside any transaction.
    pub(crate) fn is_autocommit(&self) -> bool {
        self.slot
            .try_lock()
            .map(|c| c.as_ref().is_none_or(|c| c.db.is_autocommit()))
            .unwrap_or(false)
    }
}

impl Drop for ReaderLease {
    fn drop(&mut self) {
        self.readers.in_use.fetch_sub(1, Ordering::Relaxed);
        // A run still going (its caller dropped) holds the slot; the connection is closed
        // when that run lets go of it.
        let Ok(mut slot) = self.slot.try_lock() else {
            return;
        };
        if let Some(conn) = slot.take() {
            let readers = self.readers.clone();
            let unfinished = !lock(&self.pending).is_empty();
            if unfinished {
                drop(conn);
            } else {
                readers.give_back(conn);
            }
        }
    }
}

/// Counts a reader as busy for as long as it lives, panics included.
struct InUse<'a>(&'a AtomicUsize);

impl<'a> InUse<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InUse<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
