//! The single write connection, behind an async lock.
//!
//! All writes in this process go through it, one at a time, so concurrent writers queue on
//! the lock instead of meeting `SQLITE_BUSY`. Whoever holds the lock holds a [`Lease`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use dbx_core::{Error, Result};
use tokio::sync::OwnedMutexGuard;

use super::{blocking, closed, lock};
use crate::open::{Conn, open};
use crate::options::SqliteOptions;
use crate::watch::{Abandon, Watch};

/// The single write connection.
#[derive(Debug)]
pub(crate) struct Writer {
    /// Empty until first use, after a reset and after close.
    conn: Mutex<Option<Conn>>,
    lock: Arc<tokio::sync::Mutex<()>>,
    /// SQL that must run before anything else on the connection: rollbacks queued by
    /// transactions and savepoints that were dropped without commit or rollback.
    pending: Mutex<Vec<String>>,
    /// Open a fresh connection before the next use: a session left state on this one.
    reset: AtomicBool,
    closed: AtomicBool,
    watch: Arc<Watch>,
    options: Arc<SqliteOptions>,
}

/// Exclusive use of the writer, held by a transaction, a session or a single write.
#[derive(Debug)]
pub(crate) struct Lease {
    writer: Arc<Writer>,
    fresh: AtomicBool,
    /// Keep state that statements leave on the connection (temporary tables, pragma
    /// settings) for as long as the lease lasts: a session's lease does, because its later
    /// statements may use it; a single write's does not.
    keeps_session_state: bool,
    _guard: OwnedMutexGuard<()>,
}

impl Writer {
    pub(crate) fn new(conn: Conn, options: Arc<SqliteOptions>) -> Arc<Self> {
        Arc::new(Self {
            watch: conn.watch.clone(),
            conn: Mutex::new(Some(conn)),
            lock: Arc::new(tokio::sync::Mutex::new(())),
            pending: Mutex::new(Vec::new()),
            reset: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            options,
        })
    }

    /// Waits for exclusive use, up to the busy timeout. `keeps_session_state`: see
    /// [`Lease`].
    pub(crate) async fn lease(self: &Arc<Self>, keeps_session_state: bool) -> Result<Lease> {
        let wait = self.options.busy_timeout;
        let guard = tokio::time::timeout(wait, self.lock.clone().lock_owned())
            .await
            .map_err(|_| {
                Error::Busy(format!(
                    "waited {wait:?} for the write lock of {}: another transaction holds it; \
                     retry, or raise busy-timeout",
                    self.options.path.display()
                ))
            })?;
        Ok(Lease {
            writer: self.clone(),
            fresh: AtomicBool::new(true),
            keeps_session_state,
            _guard: guard,
        })
    }

    /// Queues SQL to run before the next use of the connection, whoever that is.
    pub(crate) fn queue_cleanup(&self, sql: String) {
        lock(&self.pending).push(sql);
    }

    /// Makes the next use start on a fresh connection, so that state a session left on this
    /// one (temporary tables, pragma settings, attached databases) reaches nobody else.
    pub(crate) fn request_reset(&self) {
        self.reset.store(true, Ordering::Release);
    }

    /// Runs queued cleanups and resets soon, so that a dropped transaction does not keep
    /// SQLite's file lock until the next write comes along.
    pub(crate) fn flush_cleanup_soon(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let writer = self.clone();
        runtime.spawn(async move {
            if let Ok(lease) = writer.lease(false).await {
                let _ = lease.run(|_| Ok(())).await;
            }
        });
    }

    /// Stops the running statement (the adapter's closing flag is already set), waits for
    /// the lock up to the busy timeout, then closes the connection.
    pub(crate) async fn close(self: &Arc<Self>) {
        self.closed.store(true, Ordering::Release);
        let _lease = self.lease(false).await;
        let writer = self.clone();
        let _ = tokio::task::spawn_blocking(move || lock(&writer.conn).take()).await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Runs `f` on the connection (opening it when there is none), after any queued cleanup,
    /// and resets it afterwards when `f` left session state that nobody keeps. Blocking.
    fn with_conn<T>(
        &self,
        fresh: bool,
        keeps_session_state: bool,
        run: u64,
        f: impl FnOnce(&Conn) -> Result<T>,
    ) -> Result<T> {
        let mut slot = lock(&self.conn);
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        if self.reset.swap(false, Ordering::AcqRel) {
            // Closing the old connection ends whatever it held, transactions included.
            *slot = None;
            lock(&self.pending).clear();
        }
        if slot.is_none() {
            *slot = Some(open(&self.options, true, self.watch.clone())?);
        }
        let conn = slot.as_ref().ok_or_else(closed)?;
        let cleanup: Vec<String> = std::mem::take(&mut *lock(&self.pending));
        for sql in cleanup {
            // The savepoint or transaction may already be gone (SQLite rolls back on some
            // errors by itself), so a failure here is expected and harmless.
            let _ = conn.db.execute_batch(&sql);
        }
        if fresh && !conn.db.is_autocommit() {
            // Nobody holding a fresh lease can own an open transaction: this one was left by
            // a caller whose future was dropped mid-way. Undo it before reuse.
            let _ = conn.db.execute_batch("ROLLBACK");
        }
        self.watch.start(run);
        let out = f(conn);
        self.watch.finish();
        if !keeps_session_state && conn.db.is_autocommit() && self.watch.take_session_state() {
            *slot = None;
        }
        out
    }
}

impl Lease {
    /// Runs `f` on the writer connection, after any queued cleanup. A run whose future is
    /// dropped is stopped at SQLite's next progress check.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T> + Send + 'static,
    {
        let writer = self.writer.clone();
        let fresh = self.fresh.swap(false, Ordering::Relaxed);
        let keeps = self.keeps_session_state;
        let run = Watch::next_run();
        let abandon = Abandon::new(writer.watch.clone(), run);
        let out = blocking(move || writer.with_conn(fresh, keeps, run, f)).await;
        abandon.disarm();
        out?
    }

    /// Runs the writer connection's queued cleanup, and rolls back a transaction left open
    /// on it, when there is any, so that it holds none of SQLite's file locks while this
    /// lease is held for writes made on another connection.
    pub(crate) async fn settle(&self) -> Result<()> {
        let idle = lock(&self.writer.pending).is_empty()
            && !self.writer.reset.load(Ordering::Acquire)
            && self.is_autocommit();
        if idle {
            return Ok(());
        }
        self.run(|_| Ok(())).await
    }

    /// Whether the writer connection is outside any transaction.
    pub(crate) fn is_autocommit(&self) -> bool {
        lock(&self.writer.conn)
            .as_ref()
            .is_none_or(|c| c.db.is_autocommit())
    }

    /// Whether a statement left state on the connection that this lease keeps.
    pub(crate) fn has_session_state(&self) -> bool {
        self.writer.watch.has_session_state()
    }

    pub(crate) fn writer(&self) -> &Arc<Writer> {
        &self.writer
    }
}
