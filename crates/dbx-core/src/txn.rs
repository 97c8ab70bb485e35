//! A transaction over any connection that speaks SQL savepoints (PostgreSQL, MySQL), shared
//! so that each pooled adapter does not write its own.
//!
//! Dropping a transaction cannot run SQL, so it *abandons* the connection instead: the
//! adapter's [`TxConnection::abandon`] marks it, and the adapter rolls back a marked
//! connection before its next use (the pool's recycle check does it at checkout). A dropped
//! top-level transaction that owns its connection is also handed to a task that rolls back
//! at once, so the server does not keep its locks until the connection is reused. A dropped
//! savepoint sets a flag in its parent, which rolls back to the savepoint before its own next
//! statement.

use std::fmt;
use std::ops::DerefMut;

use async_trait::async_trait;

use crate::adapter::Transaction;
use crate::error::{Error, Result};
use crate::row::ResultSet;
use crate::sql::Dialect;
use crate::statement::Statement;

/// What [`SqlTransaction`] needs from a backend connection.
#[async_trait]
pub trait TxConnection: Send + fmt::Debug {
    /// The dialect, for recognising transaction-control statements.
    fn dialect(&self) -> Dialect;
    /// The statement that starts a transaction (`BEGIN`, `START TRANSACTION`).
    fn begin_sql(&self) -> &'static str;
    /// Runs a control statement: `BEGIN`, `COMMIT`, `SAVEPOINT`, ...
    async fn control(&mut self, sql: &str) -> Result<()>;
    /// Runs a caller's statement.
    async fn run(&mut self, stmt: Statement) -> Result<ResultSet>;
    /// Marks the connection so that the open transaction is rolled back before reuse.
    fn abandon(&mut self);
    /// Rolls back an abandoned transaction now, if there is one.
    async fn settle(&mut self) -> Result<()>;
    /// Refuses statements that cannot run inside a transaction on this backend.
    fn check_in_transaction(&self, _stmt: &Statement) -> Result<()> {
        Ok(())
    }
}

async fn run_all<C: TxConnection + ?Sized>(
    conn: &mut C,
    stmts: Vec<Statement>,
) -> Result<Vec<ResultSet>> {
    let mut results = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        results.push(conn.run(stmt).await?);
    }
    Ok(results)
}

/// Runs `stmts` in one new transaction: all of them take effect, or none does.
pub async fn run_atomically<C: TxConnection + ?Sized>(
    conn: &mut C,
    stmts: Vec<Statement>,
) -> Result<Vec<ResultSet>> {
    for stmt in &stmts {
        conn.check_in_transaction(stmt)?;
    }
    let begin = conn.begin_sql();
    conn.control(begin).await?;
    match run_all(conn, stmts).await {
        Ok(results) => match conn.control("COMMIT").await {
            Ok(()) => Ok(results),
            Err(e) => {
                let _ = conn.control("ROLLBACK").await;
                Err(e)
            }
        },
        Err(e) => {
            conn.control("ROLLBACK").await?;
            Err(e)
        }
    }
}

/// Runs `stmts` inside a savepoint of the transaction already open on `conn`; a failure
/// undoes only them and leaves the transaction open.
pub async fn run_in_savepoint<C: TxConnection + ?Sized>(
    conn: &mut C,
    stmts: Vec<Statement>,
) -> Result<Vec<ResultSet>> {
    for stmt in &stmts {
        conn.check_in_transaction(stmt)?;
    }
    conn.control("SAVEPOINT dbx_batch").await?;
    let result = run_all(conn, stmts).await;
    if result.is_err() {
        conn.control("ROLLBACK TO SAVEPOINT dbx_batch").await?;
    }
    conn.control("RELEASE SAVEPOINT dbx_batch").await?;
    result
}

enum Holder<'a, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    Owned(Option<O>),
    Borrowed(&'a mut C),
}

/// A transaction (depth 0) or savepoint (depth 1 and up) on a [`TxConnection`].
///
/// `O` is the owning handle of a pooled connection (it dereferences to `C`).
pub struct SqlTransaction<'a, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    holder: Holder<'a, C, O>,
    depth: u32,
    finished: bool,
    abandoned_child: Option<u32>,
}

impl<C, O> fmt::Debug for SqlTransaction<'_, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlTransaction")
            .field("depth", &self.depth)
            .field("finished", &self.finished)
            .finish()
    }
}

fn savepoint_name(depth: u32) -> String {
    format!("dbx_sp_{depth}")
}

fn rollback_to(depth: u32) -> String {
    let name = savepoint_name(depth);
    format!("ROLLBACK TO SAVEPOINT {name}")
}

impl<C, O> SqlTransaction<'static, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    /// Begins a transaction on a connection it owns.
    pub async fn begin(mut conn: O) -> Result<Self> {
        let begin = conn.begin_sql();
        conn.control(begin).await?;
        Ok(Self {
            holder: Holder::Owned(Some(conn)),
            depth: 0,
            finished: false,
            abandoned_child: None,
        })
    }
}

impl<'a, C, O> SqlTransaction<'a, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    /// Begins a transaction on a borrowed connection (a dedicated session's).
    pub async fn begin_on(conn: &'a mut C) -> Result<Self> {
        let begin = conn.begin_sql();
        conn.control(begin).await?;
        Ok(Self {
            holder: Holder::Borrowed(conn),
            depth: 0,
            finished: false,
            abandoned_child: None,
        })
    }

    /// Opens savepoint `depth` on a connection that is already inside a transaction.
    pub async fn savepoint_on(conn: &'a mut C, depth: u32) -> Result<Self> {
        conn.control(&format!("SAVEPOINT {}", savepoint_name(depth)))
            .await?;
        Ok(Self {
            holder: Holder::Borrowed(conn),
            depth,
            finished: false,
            abandoned_child: None,
        })
    }

    fn conn(&mut self) -> Result<&mut C> {
        conn_of(&mut self.holder)
    }

    async fn settle_children(&mut self) -> Result<()> {
        if let Some(depth) = self.abandoned_child.take() {
            let conn = self.conn()?;
            conn.control(&rollback_to(depth)).await?;
            conn.control(&format!("RELEASE SAVEPOINT {}", savepoint_name(depth)))
                .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, commit: bool) -> Result<()> {
        self.settle_children().await?;
        let depth = self.depth;
        let conn = self.conn()?;
        match (depth, commit) {
            (0, true) => conn.control("COMMIT").await?,
            (0, false) => conn.control("ROLLBACK").await?,
            (d, true) => {
                conn.control(&format!("RELEASE SAVEPOINT {}", savepoint_name(d)))
                    .await?
            }
            (d, false) => {
                conn.control(&rollback_to(d)).await?;
                conn.control(&format!("RELEASE SAVEPOINT {}", savepoint_name(d)))
                    .await?;
            }
        }
        self.finished = true;
        Ok(())
    }
}

fn conn_of<'h, C, O>(holder: &'h mut Holder<'_, C, O>) -> Result<&'h mut C>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    match holder {
        Holder::Owned(Some(conn)) => Ok(conn),
        Holder::Owned(None) => Err(Error::InvalidArgument(
            "the transaction has already ended".into(),
        )),
        Holder::Borrowed(conn) => Ok(conn),
    }
}

#[async_trait]
impl<C, O> Transaction for SqlTransaction<'_, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        let conn = self.conn()?;
        if crate::sql::shape(&stmt.sql, conn.dialect())?.is_transaction_control() {
            return Err(Error::InvalidArgument(format!(
                "{:?} would end or nest this transaction behind its back: use commit(), rollback() or savepoint()",
                stmt.sql.trim()
            )));
        }
        conn.check_in_transaction(&stmt)?;
        self.settle_children().await?;
        self.conn()?.run(stmt).await
    }

    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.settle_children().await?;
        let depth = self.depth + 1;
        let child: SqlTransaction<'_, C, O> =
            SqlTransaction::savepoint_on(conn_of(&mut self.holder)?, depth).await?;
        Ok(Box::new(SavepointGuard {
            inner: child,
            parent_flag: &mut self.abandoned_child,
        }))
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.finish(true).await
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        self.finish(false).await
    }
}

impl<C, O> Drop for SqlTransaction<'_, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    fn drop(&mut self) {
        // Savepoints are settled by their parent, through `SavepointGuard`.
        if self.finished || self.depth > 0 {
            return;
        }
        match &mut self.holder {
            Holder::Borrowed(conn) => conn.abandon(),
            Holder::Owned(slot) => {
                if let Some(mut conn) = slot.take() {
                    conn.abandon();
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        runtime.spawn(async move {
                            let _ = conn.settle().await;
                        });
                    }
                }
            }
        }
    }
}

/// A savepoint that tells its parent when it is dropped unfinished.
pub struct SavepointGuard<'a, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    inner: SqlTransaction<'a, C, O>,
    parent_flag: &'a mut Option<u32>,
}

impl<C, O> fmt::Debug for SavepointGuard<'_, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<'a, C, O> SavepointGuard<'a, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    /// Opens a savepoint on a session already inside a transaction; `parent_flag` is set if
    /// the savepoint is dropped unfinished.
    pub async fn open(
        conn: &'a mut C,
        depth: u32,
        parent_flag: &'a mut Option<u32>,
    ) -> Result<Self> {
        Ok(Self {
            inner: SqlTransaction::savepoint_on(conn, depth).await?,
            parent_flag,
        })
    }
}

#[async_trait]
impl<C, O> Transaction for SavepointGuard<'_, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.inner.query(stmt).await
    }

    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.inner.savepoint().await
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.inner.finish(true).await
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        self.inner.finish(false).await
    }
}

impl<C, O> Drop for SavepointGuard<'_, C, O>
where
    C: TxConnection + 'static,
    O: DerefMut<Target = C> + Send + 'static,
{
    fn drop(&mut self) {
        if !self.inner.finished {
            *self.parent_flag = Some(self.inner.depth);
        }
    }
}
