//! The connection pool: deadpool with a manager of dbx's own.
//!
//! deadpool-postgres's connection wrapper has no room for per-connection state, and dbx
//! keeps some beside each connection: whose it is (the root database's or a tenant's), so
//! that a connection passing to another owner is reset first; whether a statement may have
//! left session state on it, so that it is reset before its next use; the statements
//! prepared on it; and whether a statement on it was given up on, so that it is discarded.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dbx_core::pool::{Budget, BudgetSlot, LoginSecret, PoolSettings};
use dbx_core::{AdapterKind, Column};
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use tokio_postgres::{CancelToken, Client, NoTls, Statement};

use crate::types::decltype;

/// Puts a connection back as a new one finds it: no open cursor, settings as the server
/// and role set them, no prepared statement, no `LISTEN`, no advisory lock, no temporary
/// object, sequences' session state gone. `DISCARD ALL` does the same but cannot share one
/// round trip with the `SET search_path` that follows; this list runs in the same message.
pub(crate) const RESET_SESSION: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; \
     DEALLOCATE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; \
     DISCARD SEQUENCES;";

/// A statement prepared on one connection, with its result columns as dbx reports them
/// (fixed for the prepared statement, so built once rather than on every run).
#[derive(Debug, Clone)]
pub(crate) struct CachedStatement {
    pub(crate) statement: Statement,
    pub(crate) columns: Arc<[Column]>,
    /// Prepared with declared parameter types (see `PgConn::prepare_typed`).
    typed: bool,
}

/// Sends cancel requests for one connection's running statement.
#[derive(Clone)]
pub(crate) struct Canceller {
    token: CancelToken,
    #[cfg(feature = "tls")]
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canceller").finish_non_exhaustive()
    }
}

impl Canceller {
    /// Asks the server, on a connection of its own, to cancel whatever this connection runs.
    pub(crate) fn cancel(self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            #[cfg(feature = "tls")]
            if let Some(tls) = self.tls {
                let _ = self.token.cancel_query(tls).await;
                return;
            }
            let _ = self.token.cancel_query(NoTls).await;
        });
    }
}

/// Whose a connection is: the search path dbx last set on it (`None`: the server's).
pub(crate) type Owner = Option<String>;

/// One pooled connection and the state dbx keeps beside it.
#[derive(Debug)]
pub(crate) struct PgConn {
    pub(crate) client: Client,
    /// Whose it is since its last reset; `None` for a connection nobody has used yet.
    pub(crate) owner: Option<Owner>,
    /// A statement may have left session state (a setting, a temporary table, a lock ...):
    /// reset before the next use.
    pub(crate) dirty: bool,
    /// A statement was given up on while the server may still run it: the connection must
    /// not serve anyone again (see [`dbx_core::pool::InFlight`]).
    pub(crate) broken: Arc<AtomicBool>,
    pub(crate) canceller: Canceller,
    /// Statements prepared since the last reset, by text.
    statements: HashMap<String, CachedStatement>,
    capacity: usize,
    /// Set when a transaction on this connection was abandoned; the pool rolls it back
    /// before the connection is handed out again.
    pub(crate) needs_rollback: bool,
    /// Held by a read-only session: its transactions begin `READ ONLY`.
    pub(crate) read_only: bool,
    /// Its place in the tenants' connection budget, when it is a tenant login's.
    _slot: Option<BudgetSlot>,
}

impl PgConn {
    /// Whether a statement on it was given up on.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    /// A prepared statement for `sql`, from the cache when possible.
    pub(crate) async fn prepare(
        &mut self,
        sql: &str,
    ) -> Result<CachedStatement, tokio_postgres::Error> {
        if let Some(prepared) = self.statements.get(sql) {
            return Ok(prepared.clone());
        }
        let statement = self.client.prepare(sql).await?;
        Ok(self.keep(sql.to_owned(), statement, false))
    }

    /// A statement for `sql` with its parameters declared as `types`, from the cache when
    /// possible; `None` when the server refuses those types (an operator that does not
    /// exist for them, say), which is remembered too. Inside a transaction the attempt runs
    /// in a savepoint, since a refused prepare would abort the transaction.
    pub(crate) async fn prepare_typed(
        &mut self,
        sql: &str,
        types: &[tokio_postgres::types::Type],
        in_transaction: bool,
    ) -> Result<Option<CachedStatement>, tokio_postgres::Error> {
        let oids: Vec<String> = types.iter().map(|t| t.oid().to_string()).collect();
        let key = format!("{sql}\u{0}{}", oids.join(","));
        if let Some(prepared) = self.statements.get(&key) {
            return Ok(prepared.typed.then(|| prepared.clone()));
        }
        if in_transaction {
            self.client.batch_execute("SAVEPOINT dbx_retype").await?;
        }
        let attempt = self.client.prepare_typed(sql, types).await;
        if in_transaction {
            let end = if attempt.is_ok() {
                "RELEASE SAVEPOINT dbx_retype"
            } else {
                "ROLLBACK TO SAVEPOINT dbx_retype; RELEASE SAVEPOINT dbx_retype"
            };
            self.client.batch_execute(end).await?;
        }
        match attempt {
            Ok(statement) => Ok(Some(self.keep(key, statement, true))),
            Err(e) if e.as_db_error().is_some() => {
                // Refused for these types: the untyped statement serves, and is cached
                // under this key as the answer "no".
                let untyped = self.prepare(sql).await?;
                self.statements.insert(key, untyped);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn keep(
        &mut self,
        key: String,
        statement: tokio_postgres::Statement,
        typed: bool,
    ) -> CachedStatement {
        let columns = statement
            .columns()
            .iter()
            .map(|c| Column::new(c.name(), Some(decltype(c.type_()))))
            .collect();
        let prepared = CachedStatement {
            statement,
            columns,
            typed,
        };
        if self.statements.len() >= self.capacity {
            // Simple and bounded: statements are cheap to prepare again.
            self.forget_statements();
        }
        self.statements.insert(key, prepared.clone());
        prepared
    }

    /// Forgets prepared statements (tokio-postgres closes each on the server as it goes),
    /// after a reset or when the server may have dropped them (`DISCARD`).
    pub(crate) fn forget_statements(&mut self) {
        self.statements.clear();
    }

    /// Makes the connection `owner`'s, with `search` as its search path: resets it first
    /// if it was someone else's or a statement may have left session state on it. One
    /// round trip when anything is to be done, none otherwise.
    pub(crate) async fn own(
        &mut self,
        owner: &Owner,
        search: &str,
    ) -> Result<(), tokio_postgres::Error> {
        let same = self.owner.as_ref() == Some(owner);
        if same && !self.dirty {
            return Ok(());
        }
        let mut sql = String::new();
        if self.owner.is_some() {
            // Used before, by someone else or with state left behind: nothing of it may
            // reach the next user.
            self.forget_statements();
            sql.push_str(RESET_SESSION);
        }
        sql.push_str(search);
        self.client.batch_execute(&sql).await?;
        self.owner = Some(owner.clone());
        self.dirty = false;
        Ok(())
    }
}

/// Why the pool could not open a connection.
pub(crate) type ConnectError = dbx_core::pool::ConnectError<tokio_postgres::Error>;

/// Maps a connection failure onto a dbx error.
pub(crate) fn map_connect_error(e: ConnectError) -> dbx_core::Error {
    e.into_error(crate::error::map_err)
}

/// Creates and checks connections.
pub(crate) struct PgManager {
    config: tokio_postgres::Config,
    /// For a tenant login's pool: the budget all tenant pools open their connections in.
    budget: Option<Arc<Budget>>,
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

    fn canceller(&self, client: &Client) -> Canceller {
        Canceller {
            token: client.cancel_token(),
            #[cfg(feature = "tls")]
            tls: self.tls.clone(),
        }
    }
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = ConnectError;

    async fn create(&self) -> Result<PgConn, ConnectError> {
        let slot = dbx_core::pool::budget_slot(
            self.budget.as_deref(),
            self.settings.connect_timeout,
            AdapterKind::Postgres,
        )
        .await?;
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
            canceller: self.canceller(&client),
            client,
            owner: None,
            dirty: false,
            broken: Arc::default(),
            statements: HashMap::new(),
            capacity: self.statement_cache_capacity.max(1),
            needs_rollback: false,
            read_only: false,
            _slot: slot,
        })
    }

    async fn recycle(&self, conn: &mut PgConn, metrics: &Metrics) -> RecycleResult<ConnectError> {
        if conn.client.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        if conn.is_broken() {
            return Err(RecycleError::message(
                "a statement on it was cancelled; the server may still be busy with it",
            ));
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
                .map_err(|e| RecycleError::Backend(e.into()))?;
            conn.needs_rollback = false;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<PgManager>;
pub(crate) type Pooled = managed::Object<PgManager>;
/// A pooled connection held within an adapter's share of the pool.
pub(crate) type Checkout = dbx_core::pool::Held<Pooled>;

/// A tenant's own login: the role it runs as, and where its connections count.
#[derive(Debug, Clone)]
pub(crate) struct RoleLogin {
    pub(crate) role: String,
    pub(crate) password: LoginSecret,
    pub(crate) budget: Arc<Budget>,
}

/// Builds the pool, opens `min_idle` connections and starts the idle reaper. With `login`,
/// a tenant's pool: its connections log in as the tenant's role, at most the tenant's
/// share of them, within the tenants' budget.
pub(crate) async fn build(
    config: &crate::config::PgConfig,
    login: Option<&RoleLogin>,
) -> dbx_core::Result<Pool> {
    let mut driver = config.to_driver()?;
    let mut settings = config.pool.clone();
    if let Some(login) = login {
        driver.user(&login.role).password(login.password.expose());
        settings.max_size = config.pool.tenant_share();
        settings.min_idle = 0;
    }
    let settings = &settings;
    let manager = PgManager {
        config: driver,
        budget: login.map(|l| l.budget.clone()),
        #[cfg(feature = "tls")]
        tls: crate::tls::connector(config)?,
        settings: settings.clone(),
        statement_cache_capacity: config.statement_cache_capacity,
    };
    let pool =
        dbx_core::pool::build(manager, settings, AdapterKind::Postgres, map_connect_error).await?;
    if let Some(login) = login {
        login.budget.register(&pool);
    }
    Ok(pool)
}
