//! The connection pool: deadpool with a manager of dbx's own, as for PostgreSQL.
//!
//! Each connection remembers which database it is in, so that a tenant adapter switches it
//! with `USE` only when needed, and keeps prepared statements keyed by that database: MySQL
//! binds a prepared statement to the database it was prepared in, so a statement prepared
//! for one tenant must never run for another. The driver's own statement cache (keyed by SQL
//! alone) is therefore turned off.

use std::collections::HashMap;
use std::time::Duration;

use dbx_core::pool::PoolSettings;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Statement};

/// Which database a connection is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CurrentDb {
    Known(Option<String>),
    /// A caller's own `USE` may have moved it; switch again before the next use.
    Unknown,
}

/// One pooled connection and the state dbx keeps beside it.
#[derive(Debug)]
pub(crate) struct MyConn {
    pub(crate) conn: Conn,
    pub(crate) database: CurrentDb,
    /// Prepared statements by database and then text, so that a lookup borrows both instead
    /// of building a key.
    statements: HashMap<Option<String>, HashMap<String, Statement>>,
    /// Statements in the map, across databases.
    cached: usize,
    capacity: usize,
    /// Set when a transaction on this connection was abandoned.
    pub(crate) needs_rollback: bool,
    /// Set after a fatal driver error; the pool discards the connection.
    broken: bool,
}

impl MyConn {
    /// Converts a driver error, remembering fatal ones so that the connection is not reused.
    pub(crate) fn fail(&mut self, err: mysql_async::Error) -> dbx_core::Error {
        if err.is_fatal() {
            self.broken = true;
        }
        crate::error::map_err(err)
    }

    /// Whether a fatal error made this connection unusable.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken || self.conn.is_disconnected()
    }

    /// The database statements are keyed by now: where `USE` is unknown, they share the
    /// "no database" entry, as before dbx knew.
    fn statement_key(&self) -> &Option<String> {
        match &self.database {
            CurrentDb::Known(db) => db,
            CurrentDb::Unknown => &None,
        }
    }

    /// A prepared statement for `sql` in the current database.
    pub(crate) async fn prepare(&mut self, sql: &str) -> Result<Statement, mysql_async::Error> {
        if let Some(stmt) = self
            .statements
            .get(self.statement_key())
            .and_then(|by_text| by_text.get(sql))
        {
            return Ok(stmt.clone());
        }
        if self.cached >= self.capacity {
            self.close_statements().await?;
        }
        let stmt = self.conn.prep(sql).await?;
        let db = self.statement_key().clone();
        self.statements
            .entry(db)
            .or_default()
            .insert(sql.to_owned(), stmt.clone());
        self.cached += 1;
        Ok(stmt)
    }

    /// Closes every cached statement on the server, which counts them against a global limit.
    pub(crate) async fn close_statements(&mut self) -> Result<(), mysql_async::Error> {
        let all: Vec<Statement> = self
            .statements
            .drain()
            .flat_map(|(_, m)| m.into_values())
            .collect();
        self.cached = 0;
        for stmt in all {
            self.conn.close(stmt).await?;
        }
        Ok(())
    }

    /// Makes `db` the current database.
    pub(crate) async fn use_database(
        &mut self,
        db: &Option<String>,
    ) -> Result<(), mysql_async::Error> {
        let wanted = CurrentDb::Known(db.clone());
        if self.database == wanted {
            return Ok(());
        }
        match db {
            Some(name) => self.conn.query_drop(format!("USE `{name}`")).await?,
            None => {
                // MySQL has no way back to "no database" short of a reset.
                self.conn.reset().await?;
                self.statements.clear();
                self.cached = 0;
            }
        }
        self.database = wanted;
        Ok(())
    }
}

/// Creates and checks connections.
#[derive(Debug)]
pub(crate) struct MyManager {
    opts: mysql_async::Opts,
    settings: PoolSettings,
    statement_cache_capacity: usize,
}

/// A connection idle longer than this is pinged before reuse. mysql_async has no task
/// watching the socket, so a server restart is only noticed on use; the ping turns that
/// into a fresh connection instead of a failed statement.
const PING_AFTER_IDLE: Duration = Duration::from_millis(500);

impl managed::Manager for MyManager {
    type Type = MyConn;
    type Error = mysql_async::Error;

    async fn create(&self) -> Result<MyConn, mysql_async::Error> {
        let conn = Conn::new(self.opts.clone()).await?;
        let database = CurrentDb::Known(self.opts.db_name().map(str::to_owned));
        Ok(MyConn {
            conn,
            database,
            statements: HashMap::new(),
            cached: 0,
            capacity: self.statement_cache_capacity.max(1),
            needs_rollback: false,
            broken: false,
        })
    }

    async fn recycle(
        &self,
        conn: &mut MyConn,
        metrics: &Metrics,
    ) -> RecycleResult<mysql_async::Error> {
        if conn.broken || conn.conn.is_disconnected() {
            return Err(RecycleError::message("connection lost"));
        }
        if self
            .settings
            .max_lifetime
            .is_some_and(|max| metrics.age() >= max)
        {
            return Err(RecycleError::message("connection reached its max lifetime"));
        }
        if self
            .settings
            .idle_timeout
            .is_some_and(|idle| metrics.last_used() >= idle)
        {
            return Err(RecycleError::message("connection sat idle too long"));
        }
        if metrics.last_used() >= PING_AFTER_IDLE {
            conn.conn.ping().await.map_err(RecycleError::Backend)?;
        }
        if conn.needs_rollback {
            conn.conn
                .query_drop("ROLLBACK")
                .await
                .map_err(RecycleError::Backend)?;
            conn.needs_rollback = false;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<MyManager>;
pub(crate) type Pooled = managed::Object<MyManager>;

/// Builds the pool, opens `min_idle` connections and starts the idle reaper.
pub(crate) async fn build(
    opts: mysql_async::Opts,
    settings: &PoolSettings,
    statement_cache_capacity: usize,
) -> dbx_core::Result<Pool> {
    let manager = MyManager {
        opts,
        settings: settings.clone(),
        statement_cache_capacity,
    };
    dbx_core::pool::build(
        manager,
        settings,
        dbx_core::AdapterKind::Mysql,
        crate::error::map_err,
    )
    .await
}
