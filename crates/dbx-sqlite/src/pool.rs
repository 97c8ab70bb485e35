//! One writer connection behind an async lock, plus read connections opened on demand.
//!
//! All writes in this process go through the writer, one at a time, so concurrent writers
//! queue on the lock instead of meeting `SQLITE_BUSY`. Readers run in parallel under WAL.
//! Every call into rusqlite runs on tokio's blocking pool.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use dbx_core::{AdapterKind, Error, PoolStatus, Result};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedMutexGuard, Semaphore};

use crate::error::map_err;
use crate::options::SqliteOptions;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic inside a rusqlite call leaves the connection itself usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn closed() -> Error {
    Error::Closed(AdapterKind::Sqlite)
}

/// Opens one connection and applies the settings.
pub(crate) fn open(options: &SqliteOptions, writer: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if writer && options.create_if_missing {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(&options.path, flags).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::CannotOpen => {
            Error::Config(format!(
                "cannot open SQLite database {}: the file or its directory is missing or not accessible",
                options.path.display()
            ))
        }
        other => map_err(other),
    })?;
    conn.busy_timeout(options.busy_timeout).map_err(map_err)?;
    conn.set_prepared_statement_cache_capacity(options.statement_cache_capacity);
    if !options.allow_attach {
        conn.authorizer(Some(refuse_attaching_files))
            .map_err(map_err)?;
    }
    let mut pragmas = format!(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = {};",
        options.synchronous.as_sql(),
        if options.foreign_keys { "ON" } else { "OFF" }
    );
    if writer && !options.is_memory() {
        pragmas.push_str(&format!(
            " PRAGMA journal_mode = {};",
            options.journal_mode.as_sql()
        ));
    }
    if !writer {
        // A statement misrouted to a reader fails instead of writing behind the writer's back.
        pragmas.push_str(" PRAGMA query_only = ON;");
    }
    conn.execute_batch(&pragmas)
        .map_err(|e| damaged(options, e))?;
    Ok(conn)
}

/// Names the file and the way out when SQLite finds it is not a database (the first read of
/// a connection, the pragmas above, is where a damaged file shows).
fn damaged(options: &SqliteOptions, err: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    if let rusqlite::Error::SqliteFailure(code, _) = &err
        && matches!(code.code, NotADatabase | DatabaseCorrupt)
    {
        return Error::from_database(
            dbx_core::ErrorKind::Other,
            AdapterKind::Sqlite,
            crate::error::result_code_name(code.extended_code),
            format!(
                "{} is damaged or is not a SQLite database ({err}): restore it from a backup, \
                 or move it aside and create the database again",
                options.path.display()
            ),
        );
    }
    map_err(err)
}

/// Refuses attaching a database file, which `ATTACH` and `VACUUM INTO` do, and allows the
/// rest. `VACUUM` attaches a temporary database without a name, and `:memory:` reaches no
/// file, so both stay allowed.
fn refuse_attaching_files(context: AuthContext<'_>) -> Authorization {
    match context.action {
        AuthAction::Attach { filename } if !filename.is_empty() && filename != ":memory:" => {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

/// The single write connection.
#[derive(Debug)]
pub(crate) struct Writer {
    conn: Mutex<Option<Connection>>,
    lock: Arc<tokio::sync::Mutex<()>>,
    /// SQL that must run before anything else on the connection: rollbacks queued by
    /// transactions and savepoints that were dropped without commit or rollback.
    pending: Mutex<Vec<String>>,
    options: Arc<SqliteOptions>,
}

/// Exclusive use of the writer, held by a transaction or a single write.
#[derive(Debug)]
pub(crate) struct Lease {
    writer: Arc<Writer>,
    fresh: AtomicBool,
    _guard: OwnedMutexGuard<()>,
}

impl Writer {
    pub(crate) fn new(conn: Connection, options: Arc<SqliteOptions>) -> Arc<Self> {
        Arc::new(Self {
            conn: Mutex::new(Some(conn)),
            lock: Arc::new(tokio::sync::Mutex::new(())),
            pending: Mutex::new(Vec::new()),
            options,
        })
    }

    /// Waits for exclusive use, up to the busy timeout.
    pub(crate) async fn lease(self: &Arc<Self>) -> Result<Lease> {
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
            _guard: guard,
        })
    }

    /// Queues SQL to run before the next use of the connection, whoever that is.
    pub(crate) fn queue_cleanup(self: &Arc<Self>, sql: String) {
        lock(&self.pending).push(sql);
    }

    /// Runs queued cleanups soon, so that a dropped transaction does not keep SQLite's file
    /// lock until the next write comes along.
    pub(crate) fn flush_cleanup_soon(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let writer = self.clone();
        runtime.spawn(async move {
            if let Ok(lease) = writer.lease().await {
                let _ = lease.run(|_| ()).await;
            }
        });
    }

    /// Waits for running work, then closes the connection.
    pub(crate) async fn close(self: &Arc<Self>) {
        let _lease = self.lease().await;
        let writer = self.clone();
        let _ = tokio::task::spawn_blocking(move || lock(&writer.conn).take()).await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        // Only `close` empties the slot; a running statement holds the mutex briefly.
        self.conn.try_lock().map(|c| c.is_none()).unwrap_or(false)
    }
}

impl Lease {
    /// Runs `f` on the writer connection, after any queued cleanup.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        let writer = self.writer.clone();
        let fresh = self.fresh.swap(false, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let slot = lock(&writer.conn);
            let conn = slot.as_ref().ok_or_else(closed)?;
            let cleanup: Vec<String> = std::mem::take(&mut *lock(&writer.pending));
            for sql in cleanup {
                // The savepoint or transaction may already be gone (SQLite rolls back on
                // some errors by itself), so a failure here is expected and harmless.
                let _ = conn.execute_batch(&sql);
            }
            if fresh && !conn.is_autocommit() {
                // Nobody holding a fresh lease can own an open transaction: this one was left
                // by a caller whose future was dropped mid-way. Undo it before reuse.
                let _ = conn.execute_batch("ROLLBACK");
            }
            Ok(f(conn))
        })
        .await
        .map_err(|e| Error::ConnectionLost(format!("the SQLite worker task failed: {e}")))?
    }

    /// Whether the writer connection is outside any transaction.
    pub(crate) fn is_autocommit(&self) -> bool {
        lock(&self.writer.conn)
            .as_ref()
            .is_none_or(Connection::is_autocommit)
    }

    pub(crate) fn writer(&self) -> &Arc<Writer> {
        &self.writer
    }
}

/// Read connections, opened on first need and kept for reuse.
#[derive(Debug)]
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    max: usize,
    in_use: AtomicUsize,
    closed: AtomicBool,
    options: Arc<SqliteOptions>,
}

impl Readers {
    pub(crate) fn new(options: Arc<SqliteOptions>) -> Self {
        let max = options.max_readers.max(1);
        Self {
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max)),
            max,
            in_use: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            options,
        }
    }

    /// Runs `f` on a read connection.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let reused = lock(&self.idle).pop();
        let readers = self.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _counted = InUse::enter(&readers.in_use);
            let conn = match reused {
                Some(conn) => conn,
                None => open(&readers.options, false)?,
            };
            let out = f(&conn);
            if !readers.closed.load(Ordering::Acquire) {
                lock(&readers.idle).push(conn);
            }
            Ok(out)
        })
        .await;
        outcome.map_err(|e| Error::ConnectionLost(format!("the SQLite worker task failed: {e}")))?
    }

    /// Waits for running reads, then closes every read connection.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _drained = self.permits.acquire_many(all).await;
        lock(&self.idle).clear();
        self.permits.close();
    }

    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            in_use: self.in_use.load(Ordering::Relaxed),
            idle: lock(&self.idle).len(),
            max: self.max,
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
