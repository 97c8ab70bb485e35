//! The connection pool: deadpool with a manager of dbx's own.
//!
//! deadpool-postgres's connection wrapper has no room for per-connection state, and dbx
//! needs two pieces of it: the `search_path` the connection is set to (so that a tenant's
//! schema never carries over to another tenant's work), and a statement cache keyed by that
//! path (a statement prepared in one tenant's schema names that schema's tables).

use std::collections::HashMap;
use std::sync::Arc;

use dbx_core::Column;
use dbx_core::pool::PoolSettings;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use tokio_postgres::{Client, NoTls, Statement};

use crate::types::decltype;

/// What a connection's `search_path` is known to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchPath {
    /// As the server set it at connect time.
    ServerDefault,
    /// Set by dbx to this value.
    Set(String),
    /// Possibly changed by a caller's own SQL; set it again before the next use.
    Unknown,
}

/// A statement prepared on one connection, with its result columns as dbx reports them
/// (fixed for the prepared statement, so built once rather than on every run).
#[derive(Debug, Clone)]
pub(crate) struct CachedStatement {
    pub(crate) statement: Statement,
    pub(crate) columns: Arc<[Column]>,
}

/// One pooled connection and the state dbx keeps beside it.
#[derive(Debug)]
pub(crate) struct PgConn {
    pub(crate) client: Client,
    pub(crate) search_path: SearchPath,
    /// Statements prepared under the server's search path, by text.
    statements: HashMap<String, CachedStatement>,
    /// Statements prepared under a search path dbx set, by path and then text, so that a
    /// lookup borrows both instead of building a key.
    by_path: HashMap<String, HashMap<String, CachedStatement>>,
    /// Statements in both maps.
    cached: usize,
    capacity: usize,
    /// Set when a transaction on this connection was abandoned; the pool rolls it back
    /// before the connection is handed out again.
    pub(crate) needs_rollback: bool,
}

impl PgConn {
    /// A prepared statement for `sql` under the current search path, from the cache when
    /// possible.
    pub(crate) async fn prepare(
        &mut self,
        sql: &str,
    ) -> Result<CachedStatement, tokio_postgres::Error> {
        let found = match &self.search_path {
            SearchPath::Set(path) => self.by_path.get(path.as_str()).and_then(|m| m.get(sql)),
            _ => self.statements.get(sql),
        };
        if let Some(prepared) = found {
            return Ok(prepared.clone());
        }
        let statement = self.client.prepare(sql).await?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| Column::new(c.name(), Some(decltype(c.type_()))))
            .collect();
        let prepared = CachedStatement { statement, columns };
        if self.cached >= self.capacity {
            // Simple and bounded: statements are cheap to prepare again.
            self.forget_statements();
        }
        let map = match &self.search_path {
            SearchPath::Set(path) => self.by_path.entry(path.clone()).or_default(),
            _ => &mut self.statements,
        };
        map.insert(sql.to_owned(), prepared.clone());
        self.cached += 1;
        Ok(prepared)
    }

    /// Forgets prepared statements, after the server may have dropped them (`DISCARD`).
    pub(crate) fn forget_statements(&mut self) {
        self.statements.clear();
        self.by_path.clear();
        self.cached = 0;
    }
}

/// Creates and checks connections.
pub(crate) struct PgManager {
    config: tokio_postgres::Config,
    #[cfg(feature = "tls")]
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    settings: PoolSettings,
    statement_cache_capacity: usize,
}

impl std::fmt::Debug for PgManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "tls")]
        let tls = self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        f.debug_struct("PgManager")
            .field("config", &self.config)
            .field("tls", &tls)
            .finish_non_exhaustive()
    }
}

impl PgManager {
    async fn connect_plain(&self) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<PgConn, tokio_postgres::Error> {
        // The connection future drives the socket; it ends when the client is dropped or the
        // server goes away, and then the client reports itself closed.
        #[cfg(feature = "tls")]
        let client = match &self.tls {
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                tokio::spawn(connection);
                client
            }
            None => self.connect_plain().await?,
        };
        #[cfg(not(feature = "tls"))]
        let client = self.connect_plain().await?;
        Ok(PgConn {
            client,
            search_path: SearchPath::ServerDefault,
            statements: HashMap::new(),
            by_path: HashMap::new(),
            cached: 0,
            capacity: self.statement_cache_capacity.max(1),
            needs_rollback: false,
        })
    }

    async fn recycle(
        &self,
        conn: &mut PgConn,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if conn.client.is_closed() {
            return Err(RecycleError::message("connection closed"));
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
        if conn.needs_rollback {
            conn.client
                .batch_execute("ROLLBACK")
                .await
                .map_err(RecycleError::Backend)?;
            conn.needs_rollback = false;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<PgManager>;
pub(crate) type Pooled = managed::Object<PgManager>;

/// Builds the pool, opens `min_idle` connections and starts the idle reaper.
pub(crate) async fn build(config: &crate::config::PgConfig) -> dbx_core::Result<Pool> {
    let settings = &config.pool;
    let manager = PgManager {
        config: config.to_driver()?,
        #[cfg(feature = "tls")]
        tls: crate::tls::connector(config)?,
        settings: settings.clone(),
        statement_cache_capacity: config.statement_cache_capacity,
    };
    dbx_core::pool::build(
        manager,
        settings,
        dbx_core::AdapterKind::Postgres,
        crate::error::map_err,
    )
    .await
}
