//! [`MySqlAdapter`]: a MySQL or MariaDB database, or one tenant's database on the server.

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
use mysql_async::prelude::Queryable;

use crate::config::MySqlConfig;
use crate::error::map_err;
use crate::exec::{self, Prepared};
use crate::introspect;
use crate::pool::{self, Checkout, Pool, UserLogin};
use crate::session::MySqlConnection;
use crate::transaction::MyTransaction;

/// Maps a pool failure onto a dbx error.
pub(crate) fn pool_error(e: PoolError<pool::ConnectError>) -> Error {
    dbx_core::pool::pool_error(e, AdapterKind::Mysql, pool::map_connect_error)
}

pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) config: MySqlConfig,
    /// The database named by the config or URL.
    pub(crate) home: Option<String>,
    /// The driver options the config stands for.
    pub(crate) opts: mysql_async::Opts,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("pool", &self.pool)
            .field("home", &self.home)
            .field("opts", &pool::redacted(&self.opts))
            .finish_non_exhaustive()
    }
}

/// A MySQL database behind a pool. Tenant adapters share the root's pool and differ only in
/// the database their connections are switched to.
#[derive(Debug, Clone)]
pub struct MySqlAdapter {
    pub(crate) shared: Arc<Shared>,
    /// The database its connections are put in; also whose a connection is, so that one
    /// passing to another database is reset first.
    pub(crate) database: Option<String>,
    /// How many connections this adapter may hold at once.
    share: Share,
    closed: Arc<AtomicBool>,
    owns_pool: bool,
}

impl MySqlAdapter {
    /// Connects (lazily, except `min_idle` connections).
    pub async fn connect(config: MySqlConfig) -> Result<Self> {
        let opts = config.to_driver()?;
        let home = opts.db_name().map(str::to_owned);
        let pool = pool::build(
            opts.clone(),
            &config.pool,
            config.statement_cache_capacity,
            None,
        )
        .await?;
        let share = Share::new(config.pool.max_size);
        let shared = Arc::new(Shared {
            pool,
            config,
            home: home.clone(),
            opts,
        });
        Ok(Self {
            shared,
            database: home,
            share,
            closed: Arc::new(AtomicBool::new(false)),
            owns_pool: true,
        })
    }

    /// Connects to a `mysql://` URL with default settings.
    pub async fn connect_url(url: &str) -> Result<Self> {
        Self::connect(MySqlConfig::from_url(url)).await
    }

    /// An adapter over the same pool whose connections are put in `database`, and which
    /// holds at most a tenant's share of the pool.
    pub(crate) fn with_database(&self, database: String) -> Self {
        Self {
            shared: self.shared.clone(),
            database: Some(database),
            share: Share::new(self.shared.config.pool.tenant_share()),
            closed: Arc::new(AtomicBool::new(false)),
            owns_pool: false,
        }
    }

    /// An adapter for a tenant that logs in as a user of its own: a pool of its own, whose
    /// connections are put in `database`, at most the tenant's share of them.
    pub(crate) async fn with_login(&self, database: String, login: &UserLogin) -> Result<Self> {
        let config = &self.shared.config;
        let pool = pool::build(
            self.shared.opts.clone(),
            &config.pool,
            config.statement_cache_capacity,
            Some(login),
        )
        .await?;
        Ok(Self {
            shared: Arc::new(Shared {
                pool,
                config: config.clone(),
                home: self.shared.home.clone(),
                opts: self.shared.opts.clone(),
            }),
            database: Some(database),
            share: Share::new(config.pool.tenant_share()),
            closed: Arc::new(AtomicBool::new(false)),
            owns_pool: true,
        })
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) || self.shared.pool.is_closed() {
            return Err(Error::Closed(AdapterKind::Mysql));
        }
        Ok(())
    }

    /// A connection from the pool, within this adapter's share, in this adapter's database
    /// and with nothing left on it by anyone else.
    pub(crate) async fn checkout(&self) -> Result<Checkout> {
        self.check_open()?;
        let wait = self.shared.config.pool.acquire_timeout;
        let get = async { self.shared.pool.get().await.map_err(pool_error) };
        let mut conn = self.share.hold(wait, AdapterKind::Mysql, get).await?;
        exec::run_pending(&mut conn).await?;
        if let Err(e) = conn.own(&self.database).await {
            return Err(conn.fail(e));
        }
        Ok(conn)
    }

    /// A dedicated session, as the concrete type.
    pub async fn mysql_connection(&self) -> Result<MySqlConnection> {
        Ok(MySqlConnection::new(self.clone(), self.checkout().await?))
    }
}

#[async_trait]
impl Adapter for MySqlAdapter {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Mysql
    }

    async fn query(&self, stmt: Statement) -> Result<ResultSet> {
        let shape = dbx_core::sql::shape(&stmt.sql, Dialect::Mysql)?;
        shape.refuse_transaction_control(&stmt.sql)?;
        let p = Prepared::with_shape(shape, stmt.params, stmt.limits)?;
        let mut conn = self.checkout().await?;
        let result = exec::run(&mut conn, &p).await;
        // A connection given up on mid-statement is discarded, transaction and all; its
        // status flags are stale, and the statement's own error is the answer.
        if !conn.is_broken() && exec::in_transaction(&conn) {
            // Something the statement ran (a stored procedure, say) left a transaction open:
            // its writes are not committed, and an answer must not say they are.
            exec::control(&mut conn, "ROLLBACK").await?;
            return Err(Error::Unsupported {
                backend: AdapterKind::Mysql,
                what: format!(
                    "{:?} left a transaction open, so its changes were rolled back; run it in \
                     transaction() or on a connection() that commits",
                    p.sql()
                ),
            });
        }
        result
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        for s in &stmts {
            dbx_core::sql::refuse_transaction_control(&s.sql, Dialect::Mysql)?;
        }
        let mut conn = self.checkout().await?;
        dbx_core::txn::run_atomically(&mut *conn, stmts).await
    }

    async fn transaction(&self) -> Result<Box<dyn Transaction>> {
        Ok(Box::new(
            MyTransaction::begin(self.checkout().await?).await?,
        ))
    }

    async fn connection(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(self.mysql_connection().await?))
    }

    async fn tables(&self) -> Result<Vec<TableInfo>> {
        let mut conn = self.checkout().await?;
        introspect::tables(&mut conn.conn).await
    }

    async fn table(&self, name: &str) -> Result<TableSchema> {
        let mut conn = self.checkout().await?;
        introspect::table(&mut conn.conn, name).await
    }

    async fn health(&self) -> Result<Health> {
        let started = Instant::now();
        let mut conn = self.checkout().await?;
        conn.conn.ping().await.map_err(map_err)?;
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
