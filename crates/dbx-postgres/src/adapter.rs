//! [`PgAdapter`]: a PostgreSQL database, or one tenant's schema in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use dbx_core::pool::Share;
use dbx_core::sql::Dialect;
use dbx_core::{
    Adapter, AdapterKind, Connection, Error, Health, Result, ResultSet, Statement, TableInfo,
    TableSchema, Transaction, async_trait,
};
use deadpool::managed::PoolError;

use crate::config::PgConfig;
use crate::error::map_err;
use crate::exec::{self, Prepared};
use crate::introspect;
use crate::pool::{self, Checkout, Pool, RoleLogin};
use crate::session::PgConnection;
use crate::transaction::PgTransaction;

/// Maps a pool failure onto a dbx error.
pub(crate) fn pool_error(e: PoolError<pool::ConnectError>) -> Error {
    dbx_core::pool::pool_error(e, AdapterKind::Postgres, pool::map_connect_error)
}

/// The pool and settings shared by the root adapter and every tenant adapter.
pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) config: PgConfig,
    /// The database connected to (the server's default: the user's name).
    pub(crate) dbname: String,
}

/// Shown without the config, whose URL and password may carry credentials.
impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("pool", &self.pool)
            .field("dbname", &self.dbname)
            .finish_non_exhaustive()
    }
}

/// A PostgreSQL database behind a pool. Tenant adapters (see [`PgTenants`](crate::PgTenants))
/// share the root's pool and differ only in their `search_path` and in holding at most
/// their share of the pool.
#[derive(Debug, Clone)]
pub struct PgAdapter {
    pub(crate) shared: Arc<Shared>,
    /// `None`: the server's default search path; `Some`: a quoted schema name. Also whose
    /// a connection is: a connection passing to another search path is reset first.
    pub(crate) search_path: Option<String>,
    /// `SET search_path TO ...` or `RESET search_path`, for this adapter's path.
    set_search_path: Arc<str>,
    /// How many connections this adapter may hold at once.
    share: Share,
    closed: Arc<AtomicBool>,
    /// The root adapter owns the pool and closes it; tenant adapters close only themselves.
    owns_pool: bool,
}

fn set_search_path(path: Option<&str>) -> Arc<str> {
    match path {
        Some(path) => format!("SET search_path TO {path}").into(),
        None => "RESET search_path".into(),
    }
}

impl PgAdapter {
    /// Connects (lazily: connections open on first use, except `min_idle` of them).
    pub async fn connect(config: PgConfig) -> Result<Self> {
        let pool = pool::build(&config, None).await?;
        let driver = config.to_driver()?;
        let dbname = driver
            .get_dbname()
            .or(driver.get_user())
            .unwrap_or("postgres")
            .to_owned();
        let search_path = config.search_path.clone();
        let share = Share::new(config.pool.max_size);
        let shared = Arc::new(Shared {
            pool,
            config,
            dbname,
        });
        Ok(Self {
            shared,
            set_search_path: set_search_path(search_path.as_deref()),
            search_path,
            share,
            closed: Arc::new(AtomicBool::new(false)),
            owns_pool: true,
        })
    }

    /// Connects to a `postgres://` URL with default settings.
    pub async fn connect_url(url: &str) -> Result<Self> {
        Self::connect(PgConfig::from_url(url)).await
    }

    /// An adapter over the same pool whose connections use `schema` (already quoted), and
    /// which holds at most a tenant's share of the pool.
    pub(crate) fn with_search_path(&self, schema: String) -> Self {
        Self {
            shared: self.shared.clone(),
            set_search_path: set_search_path(Some(&schema)),
            search_path: Some(schema),
            share: Share::new(self.shared.config.pool.tenant_share()),
            closed: Arc::new(AtomicBool::new(false)),
            owns_pool: false,
        }
    }

    /// An adapter for a tenant that logs in as a role of its own: a pool of its own, whose
    /// connections use `schema` (already quoted), at most the tenant's share of them.
    pub(crate) async fn with_login(&self, schema: String, login: &RoleLogin) -> Result<Self> {
        let pool = pool::build(&self.shared.config, Some(login)).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                pool,
                config: self.shared.config.clone(),
                dbname: self.shared.dbname.clone(),
            }),
            set_search_path: set_search_path(Some(&schema)),
            search_path: Some(schema),
            share: Share::new(self.shared.config.pool.tenant_share()),
            closed: Arc::new(AtomicBool::new(false)),
            owns_pool: true,
        })
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) || self.shared.pool.is_closed() {
            return Err(Error::Closed(AdapterKind::Postgres));
        }
        Ok(())
    }

    /// A connection from the pool, within this adapter's share, with this adapter's search
    /// path in force and nothing left on it by anyone else.
    pub(crate) async fn checkout(&self) -> Result<Checkout> {
        self.check_open()?;
        let wait = self.shared.config.pool.acquire_timeout;
        let get = async { self.shared.pool.get().await.map_err(pool_error) };
        let mut conn = self.share.hold(wait, AdapterKind::Postgres, get).await?;
        exec::run_pending(&mut conn).await?;
        conn.own(&self.search_path, &self.set_search_path)
            .await
            .map_err(map_err)?;
        Ok(conn)
    }

    /// A dedicated session, as the concrete type.
    pub async fn pg_connection(&self) -> Result<PgConnection> {
        Ok(PgConnection::new(self.clone(), self.checkout().await?))
    }
}

#[async_trait]
impl Adapter for PgAdapter {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Postgres
    }

    async fn query(&self, stmt: Statement) -> Result<ResultSet> {
        let shape = dbx_core::sql::shape(&stmt.sql, Dialect::Postgres)?;
        shape.refuse_transaction_control(&stmt.sql)?;
        let p = Prepared::with_shape(shape, stmt.params, stmt.limits)?;
        let mut conn = self.checkout().await?;
        exec::run(&mut conn, &p, false).await
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        for s in &stmts {
            dbx_core::sql::refuse_transaction_control(&s.sql, Dialect::Postgres)?;
        }
        let mut conn = self.checkout().await?;
        dbx_core::txn::run_atomically(&mut *conn, stmts).await
    }

    async fn transaction(&self) -> Result<Box<dyn Transaction>> {
        let conn = self.checkout().await?;
        Ok(Box::new(PgTransaction::begin(conn).await?))
    }

    async fn connection(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(self.pg_connection().await?))
    }

    async fn tables(&self) -> Result<Vec<TableInfo>> {
        let conn = self.checkout().await?;
        introspect::tables(&conn.client).await
    }

    async fn table(&self, name: &str) -> Result<TableSchema> {
        let conn = self.checkout().await?;
        introspect::table(&conn.client, name).await
    }

    async fn health(&self) -> Result<Health> {
        let started = Instant::now();
        let conn = self.checkout().await?;
        conn.client
            .simple_query("SELECT 1")
            .await
            .map_err(map_err)?;
        let latency = started.elapsed();
        drop(conn);
        Ok(Health {
            latency,
            pool: dbx_core::pool::status(&self.shared.pool),
        })
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if self.owns_pool {
            self.shared.pool.close();
        }
    }
}
