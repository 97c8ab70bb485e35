//! [`SqliteAdapter`]: the pool-level handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use dbx_core::sql::{self, Dialect};
use dbx_core::{
    Adapter, AdapterKind, Connection, Error, Health, Result, ResultSet, Statement, TableInfo,
    TableSchema, Transaction, async_trait,
};

use crate::exec::{self, Prepared, ReadOutcome};
use crate::introspect;
use crate::open::{Conn, open};
use crate::options::SqliteOptions;
use crate::pool::{Deferred, Pinned, Readers, Writer, blocking};
use crate::session::SqliteConnection;
use crate::transaction::SqliteTransaction;
use crate::watch::Watch;

/// A SQLite database: one writer and, for files, a pool of readers.
///
/// Cloning is cheap and shares the connections. Dropping the last clone closes them.
#[derive(Debug, Clone)]
pub struct SqliteAdapter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) options: Arc<SqliteOptions>,
    pub(crate) writer: Arc<Writer>,
    readers: Option<Arc<Readers>>,
    /// Set at close: every connection's running statement stops at its next progress check.
    closing: Arc<AtomicBool>,
}

impl SqliteAdapter {
    /// Opens (and by default creates) the database.
    pub async fn open(options: SqliteOptions) -> Result<Self> {
        let options = Arc::new(options);
        let closing = Arc::new(AtomicBool::new(false));
        let for_open = options.clone();
        let watch = Watch::new(closing.clone());
        let conn = blocking(move || open(&for_open, true, watch)).await??;
        // A private in-memory database exists only on its one connection.
        let readers = (!options.is_memory())
            .then(|| Arc::new(Readers::new(options.clone(), closing.clone())));
        let inner = Inner {
            writer: Writer::new(conn, options.clone()),
            readers,
            options,
            closing,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Opens a private in-memory database.
    pub async fn memory() -> Result<Self> {
        Self::open(SqliteOptions::memory()).await
    }

    /// The options it was opened with.
    pub fn options(&self) -> &SqliteOptions {
        &self.inner.options
    }

    /// A dedicated session, as the concrete type.
    pub async fn sqlite_connection(&self) -> Result<SqliteConnection> {
        self.inner.check_open()?;
        Ok(SqliteConnection::new(self.inner.clone()))
    }
}

/// Statements worth trying on a read connection; SQLite itself then confirms read-only-ness.
fn may_read(p: &Prepared) -> bool {
    matches!(
        p.shape.keyword(),
        Some("SELECT" | "WITH" | "VALUES" | "EXPLAIN" | "PRAGMA")
    )
}

/// Prepares a statement for the pooled adapter, which refuses transaction control: the next
/// call may run on another connection.
fn prepare_pooled(stmt: Statement) -> Result<Prepared> {
    let shape = sql::shape(&stmt.sql, Dialect::Sqlite)?;
    shape.refuse_transaction_control(&stmt.sql)?;
    Prepared::with_shape(shape, stmt.params, stmt.limits)
}

fn read_only_refusal(p: &Prepared) -> Error {
    sql::refuse_writes(p.sql(), Dialect::Sqlite)
        .err()
        .unwrap_or_else(|| {
            Error::PermissionDenied(format!(
                "the session is read-only and SQLite says this statement writes: {:?}",
                p.sql()
            ))
        })
}

impl Inner {
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closing.load(Ordering::Acquire) || self.writer.is_closed() {
            return Err(Error::Closed(AdapterKind::Sqlite));
        }
        Ok(())
    }

    /// Runs one statement outside any transaction: on a reader when SQLite confirms it only
    /// reads, otherwise on the writer. With `read_only`, a statement that writes is refused
    /// instead.
    pub(crate) async fn run_autocommit(&self, p: Prepared, read_only: bool) -> Result<ResultSet> {
        self.check_open()?;
        let outcome = match &self.readers {
            Some(readers) if read_only || may_read(&p) => {
                readers
                    .run(move |c| Ok(exec::run_if_readonly(c, p)))
                    .await?
            }
            // An in-memory database has only its writer, where a read-only session's
            // statements run if SQLite says they only read.
            None if read_only => {
                let lease = self.writer.lease(false).await?;
                lease.run(move |c| Ok(exec::run_if_readonly(c, p))).await?
            }
            _ => ReadOutcome::Writes(p),
        };
        let p = match outcome {
            ReadOutcome::Done(result) => return result,
            ReadOutcome::Writes(p) => p,
        };
        if read_only {
            return Err(read_only_refusal(&p));
        }
        let lease = self.writer.lease(false).await?;
        lease.run(move |c| exec::run(c, &p)).await
    }

    pub(crate) async fn batch_autocommit(&self, stmts: Vec<Prepared>) -> Result<Vec<ResultSet>> {
        self.check_open()?;
        let lease = self.writer.lease(false).await?;
        lease
            .run(move |c| exec::run_atomically(c, "BEGIN IMMEDIATE", &stmts))
            .await
    }

    /// A connection held for a session's transaction: the writer, or for a read-only
    /// session a reader (the writer of an in-memory database, which has no readers).
    pub(crate) async fn pin(&self, read_only: bool) -> Result<Pinned> {
        self.check_open()?;
        match (&self.readers, read_only) {
            (Some(readers), true) => Ok(Pinned::Reader(readers.lease().await?)),
            _ => Ok(Pinned::Writer(self.writer.lease(true).await?)),
        }
    }

    /// A pooled connection for a session's deferred transaction, which takes the write
    /// lock only when it first writes; `None` for an in-memory database, whose one
    /// connection is the writer.
    pub(crate) async fn pin_deferred(&self) -> Result<Option<Pinned>> {
        self.check_open()?;
        let Some(readers) = &self.readers else {
            return Ok(None);
        };
        let reader = readers.lease().await?;
        Ok(Some(Pinned::Deferred(Deferred::new(
            reader,
            self.writer.clone(),
        ))))
    }

    /// Runs a read-only helper (introspection, health) on a reader, or on the writer for an
    /// in-memory database.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T> + Send + 'static,
    {
        self.check_open()?;
        match &self.readers {
            Some(readers) => readers.run(f).await,
            None => self.writer.lease(false).await?.run(f).await,
        }
    }
}

fn prepare_all(stmts: Vec<Statement>) -> Result<Vec<Prepared>> {
    stmts.into_iter().map(prepare_pooled).collect()
}

#[async_trait]
impl Adapter for SqliteAdapter {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Sqlite
    }

    async fn query(&self, stmt: Statement) -> Result<ResultSet> {
        self.inner
            .run_autocommit(prepare_pooled(stmt)?, false)
            .await
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        self.inner.batch_autocommit(prepare_all(stmts)?).await
    }

    async fn transaction(&self) -> Result<Box<dyn Transaction>> {
        self.inner.check_open()?;
        let lease = self.inner.writer.lease(false).await?;
        Ok(Box::new(
            SqliteTransaction::begin(Pinned::Writer(lease)).await?,
        ))
    }

    async fn connection(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(self.sqlite_connection().await?))
    }

    async fn tables(&self) -> Result<Vec<TableInfo>> {
        self.inner.read(|c| introspect::tables(&c.db)).await
    }

    async fn table(&self, name: &str) -> Result<TableSchema> {
        let name = name.to_owned();
        self.inner
            .read(move |c| introspect::table(&c.db, &name))
            .await
    }

    async fn health(&self) -> Result<Health> {
        let started = Instant::now();
        self.inner
            .read(|c| {
                c.db.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                    .map_err(crate::error::map_err)
            })
            .await?;
        let latency = started.elapsed();
        let mut pool = self
            .inner
            .readers
            .as_ref()
            .map(|r| r.status())
            .unwrap_or_default();
        // The writer counts as one more connection.
        pool.max += 1;
        pool.idle += 1;
        Ok(Health { latency, pool })
    }

    async fn close(&self) {
        self.inner.closing.store(true, Ordering::Release);
        if let Some(readers) = &self.inner.readers {
            readers.close().await;
        }
        self.inner.writer.close().await;
    }
}
