//! Transactions and savepoints.
//!
//! A transaction dropped without `commit` or `rollback` marks its connection
//! `needs_rollback`; every use of a connection (the pool's recycle check at checkout, and each
//! statement) runs that `ROLLBACK` first, so nobody inherits the abandoned work. A dropped
//! top-level transaction also hands its connection to a task that rolls back at once, so the
//! server does not sit "idle in transaction" holding locks until the connection is reused.
//! A dropped savepoint rolls back to itself the same way, before its parent's next statement.

use dbx_core::sql::{Dialect, is_transaction_control};
use dbx_core::{Error, Result, ResultSet, Statement, Transaction, async_trait};

use crate::exec::{self, Prepared};
use crate::pool::{PgConn, Pooled};

#[derive(Debug)]
enum Holder<'a> {
    Owned(Option<Pooled>),
    Borrowed(&'a mut PgConn),
}

/// An open PostgreSQL transaction (depth 0) or savepoint (depth 1 and up).
#[derive(Debug)]
pub struct PgTransaction<'a> {
    holder: Holder<'a>,
    depth: u32,
    finished: bool,
    /// A savepoint dropped inside this transaction, to roll back before the next statement.
    abandoned_child: Option<u32>,
}

fn savepoint_name(depth: u32) -> String {
    format!("dbx_sp_{depth}")
}

fn conn_of<'h>(holder: &'h mut Holder<'_>) -> Result<&'h mut PgConn> {
    match holder {
        Holder::Owned(Some(conn)) => Ok(conn),
        Holder::Owned(None) => Err(Error::InvalidArgument(
            "the transaction has already ended".into(),
        )),
        Holder::Borrowed(conn) => Ok(conn),
    }
}

impl PgTransaction<'static> {
    pub(crate) async fn begin(mut conn: Pooled) -> Result<Self> {
        exec::control(&mut conn, "BEGIN").await?;
        Ok(Self {
            holder: Holder::Owned(Some(conn)),
            depth: 0,
            finished: false,
            abandoned_child: None,
        })
    }
}

impl<'a> PgTransaction<'a> {
    /// Begins a transaction on a session's connection.
    pub(crate) async fn begin_on(conn: &'a mut PgConn) -> Result<Self> {
        exec::control(conn, "BEGIN").await?;
        Ok(Self {
            holder: Holder::Borrowed(conn),
            depth: 0,
            finished: false,
            abandoned_child: None,
        })
    }

    /// Opens a savepoint at `depth` on a connection already inside a transaction.
    pub(crate) async fn savepoint_on(conn: &'a mut PgConn, depth: u32) -> Result<Self> {
        exec::control(conn, &format!("SAVEPOINT {}", savepoint_name(depth))).await?;
        Ok(Self {
            holder: Holder::Borrowed(conn),
            depth,
            finished: false,
            abandoned_child: None,
        })
    }

    fn conn(&mut self) -> Result<&mut PgConn> {
        conn_of(&mut self.holder)
    }

    /// Rolls back a savepoint that a child dropped, before anything else runs here.
    async fn settle_children(&mut self) -> Result<()> {
        if let Some(depth) = self.abandoned_child.take() {
            let name = savepoint_name(depth);
            exec::control(
                self.conn()?,
                &format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
            )
            .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, sql: String) -> Result<()> {
        self.settle_children().await?;
        exec::control(self.conn()?, &sql).await?;
        self.finished = true;
        Ok(())
    }
}

#[async_trait]
impl Transaction for PgTransaction<'_> {
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        if is_transaction_control(&stmt.sql, Dialect::Postgres) {
            return Err(Error::InvalidArgument(format!(
                "{:?} would end or nest this transaction behind its back: use commit(), rollback() or savepoint()",
                stmt.sql.trim()
            )));
        }
        self.settle_children().await?;
        let p = Prepared::new(stmt)?;
        exec::run(self.conn()?, &p).await
    }

    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.settle_children().await?;
        let depth = self.depth + 1;
        let child = PgTransaction::savepoint_on(conn_of(&mut self.holder)?, depth).await?;
        Ok(Box::new(SavepointGuard::new(
            child,
            &mut self.abandoned_child,
        )))
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let sql = match self.depth {
            0 => "COMMIT".to_owned(),
            d => format!("RELEASE SAVEPOINT {}", savepoint_name(d)),
        };
        self.finish(sql).await
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        let sql = match self.depth {
            0 => "ROLLBACK".to_owned(),
            d => format!(
                "ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}",
                savepoint_name(d)
            ),
        };
        self.finish(sql).await
    }
}

impl Drop for PgTransaction<'_> {
    fn drop(&mut self) {
        if self.finished || self.depth > 0 {
            // Savepoints are settled by their parent (see `SavepointGuard`).
            return;
        }
        match &mut self.holder {
            Holder::Borrowed(conn) => conn.needs_rollback = true,
            Holder::Owned(slot) => {
                if let Some(mut conn) = slot.take() {
                    conn.needs_rollback = true;
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        runtime.spawn(async move {
                            let _ = exec::run_pending(&mut conn).await;
                        });
                    }
                }
            }
        }
    }
}

/// A savepoint that tells its parent when it was dropped unfinished. The parent cannot be
/// reached through the savepoint's own borrow of the connection, hence the separate flag.
#[derive(Debug)]
pub(crate) struct SavepointGuard<'a> {
    inner: PgTransaction<'a>,
    parent_flag: &'a mut Option<u32>,
}

impl<'a> SavepointGuard<'a> {
    pub(crate) fn new(inner: PgTransaction<'a>, parent_flag: &'a mut Option<u32>) -> Self {
        Self { inner, parent_flag }
    }
}

#[async_trait]
impl Transaction for SavepointGuard<'_> {
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.inner.query(stmt).await
    }

    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.inner.savepoint().await
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let sql = format!("RELEASE SAVEPOINT {}", savepoint_name(self.inner.depth));
        self.inner.finish(sql).await
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        let name = savepoint_name(self.inner.depth);
        self.inner
            .finish(format!(
                "ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
            ))
            .await
    }
}

impl Drop for SavepointGuard<'_> {
    fn drop(&mut self) {
        if !self.inner.finished {
            *self.parent_flag = Some(self.inner.depth);
        }
    }
}
