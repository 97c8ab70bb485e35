//! The connection pool: deadpool with a manager of dbx's own, as for PostgreSQL.
//!
//! Each connection remembers whose it is (the database dbx last put it in), so that a
//! connection passing to another tenant is reset first, and whether a statement may have
//! left session state on it (a variable, a temporary table, a lock, `autocommit` off), so
//! that it is reset before its next use. The reset is `COM_RESET_CONNECTION`. Prepared
//! statements are kept per connection and dropped at every reset: MySQL binds a prepared
//! statement to the database it was prepared in, so one prepared for a tenant must never
//! run for another. The driver's own statement cache (keyed by SQL alone) is off.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dbx_core::AdapterKind;
use dbx_core::pool::{Budget, BudgetSlot, LoginSecret, PoolSettings};
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Statement};

/// Stops one connection's running statement with `KILL QUERY`, sent on a connection of
/// its own (the busy one cannot take another command).
#[derive(Clone)]
pub(crate) struct Killer {
    opts: Opts,
    thread: u32,
}

/// Driver options, shown without their password (mysql_async's own `Debug` prints it).
pub(crate) fn redacted(opts: &Opts) -> String {
    format!(
        "{}@{}:{}/{}",
        opts.user().unwrap_or(""),
        opts.ip_or_hostname(),
        opts.tcp_port(),
        opts.db_name().unwrap_or("")
    )
}

impl std::fmt::Debug for Killer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Killer")
            .field("opts", &redacted(&self.opts))
            .field("thread", &self.thread)
            .finish()
    }
}

impl Killer {
    pub(crate) fn cancel(self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            if let Ok(mut conn) = Conn::new(self.opts).await {
                let _ = conn.query_drop(format!("KILL QUERY {}", self.thread)).await;
                let _ = conn.disconnect().await;
            }
        });
    }
}

/// Whose a connection is: the database dbx last put it in.
pub(crate) type Owner = Option<String>;

/// One pooled connection and the state dbx keeps beside it.
pub(crate) struct MyConn {
    pub(crate) conn: Conn,
    /// Whose it is since its last reset; `None` for a connection nobody has used yet.
    owner: Option<Owner>,
    /// A statement may have left session state: reset before the next use.
    pub(crate) dirty: bool,
    /// Prepared statements since the last reset, by text.
    statements: HashMap<String, Statement>,
    capacity: usize,
    /// Set when a transaction on this connection was abandoned.
    pub(crate) needs_rollback: bool,
    /// Held by a read-only session: its transactions start `READ ONLY`.
    pub(crate) read_only: bool,
    /// Set after a fatal driver error, or when a statement was given up on while the server
    /// may still run it (see [`dbx_core::pool::InFlight`]); the pool discards the connection.
    pub(crate) broken: Arc<AtomicBool>,
    pub(crate) killer: Killer,
    /// Its place in the tenants' connection budget, when it is a tenant login's.
    _slot: Option<BudgetSlot>,
}

/// Shown without the driver's connection, whose `Debug` prints its options, password
/// included.
impl std::fmt::Debug for MyConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MyConn")
            .field("thread", &self.killer.thread)
            .field("owner", &self.owner)
            .field("dirty", &self.dirty)
            .finish_non_exhaustive()
    }
}

impl MyConn {
    /// Converts a driver error, remembering fatal ones so that the connection is not reused.
    pub(crate) fn fail(&mut self, err: mysql_async::Error) -> dbx_core::Error {
        if err.is_fatal() {
            self.broken.store(true, Ordering::Release);
        }
        crate::error::map_err(err)
    }

    /// Whether a fatal error, or a statement given up on, made this connection unusable.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire) || self.conn.is_disconnected()
    }

    /// A prepared statement for `sql`.
    pub(crate) async fn prepare(&mut self, sql: &str) -> Result<Statement, mysql_async::Error> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        if self.statements.len() >= self.capacity {
            self.close_statements().await?;
        }
        let stmt = self.conn.prep(sql).await?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Closes every cached statement on the server, which counts them against a global limit.
    pub(crate) async fn close_statements(&mut self) -> Result<(), mysql_async::Error> {
        let all: Vec<Statement> = self.statements.drain().map(|(_, s)| s).collect();
        for stmt in all {
            self.conn.close(stmt).await?;
        }
        Ok(())
    }

    /// Makes the connection `owner`'s, in its database: resets it first if it was someone
    /// else's or a statement may have left session state on it.
    pub(crate) async fn own(&mut self, owner: &Owner) -> Result<(), mysql_async::Error> {
        if self.owner.as_ref() == Some(owner) && !self.dirty {
            return Ok(());
        }
        if self.owner.is_some() {
            // COM_RESET_CONNECTION: rolls back, drops temporary tables, user variables,
            // prepared statements and named locks, and puts every session variable back.
            if !self.conn.reset().await? {
                return Err(mysql_async::Error::Other(
                    "this server cannot reset a connection (COM_RESET_CONNECTION needs MySQL \
                     5.7.3 or MariaDB 10.2.4), so dbx cannot keep tenants' sessions apart"
                        .into(),
                ));
            }
            self.statements.clear();
        }
        if let Some(name) = owner {
            self.conn.query_drop(format!("USE `{name}`")).await?;
        }
        self.owner = Some(owner.clone());
        self.dirty = false;
        Ok(())
    }
}

/// Why the pool could not open a connection.
pub(crate) type ConnectError = dbx_core::pool::ConnectError<mysql_async::Error>;

/// Maps a connection failure onto a dbx error.
pub(crate) fn map_connect_error(e: ConnectError) -> dbx_core::Error {
    e.into_error(crate::error::map_err)
}

/// A tenant's own login: the user it runs as, and where its connections count.
#[derive(Debug, Clone)]
pub(crate) struct UserLogin {
    pub(crate) user: String,
    pub(crate) password: LoginSecret,
    pub(crate) budget: Arc<Budget>,
}

/// Creates and checks connections.
pub(crate) struct MyManager {
    opts: mysql_async::Opts,
    /// Where `KILL QUERY` is sent from: dbx's own login, so that a tenant's cancellations
    /// never count against the tenant user's connection limit.
    kill_opts: mysql_async::Opts,
    /// For a tenant login's pool: the budget all tenant pools open their connections in.
    budget: Option<Arc<Budget>>,
    settings: PoolSettings,
    statement_cache_capacity: usize,
}

impl std::fmt::Debug for MyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MyManager")
            .field("opts", &redacted(&self.opts))
            .finish_non_exhaustive()
    }
}

/// A connection idle longer than this is pinged before reuse. mysql_async has no task
/// watching the socket, so a server restart is only noticed on use; the ping turns that
/// into a fresh connection instead of a failed statement.
const PING_AFTER_IDLE: Duration = Duration::from_millis(500);

impl managed::Manager for MyManager {
    type Type = MyConn;
    type Error = ConnectError;

    async fn create(&self) -> Result<MyConn, ConnectError> {
        let slot = dbx_core::pool::budget_slot(
            self.budget.as_deref(),
            self.settings.connect_timeout,
            AdapterKind::Mysql,
        )
        .await?;
        let conn = Conn::new(self.opts.clone()).await?;
        Ok(MyConn {
            killer: Killer {
                opts: self.kill_opts.clone(),
                thread: conn.id(),
            },
            conn,
            owner: None,
            dirty: false,
            statements: HashMap::new(),
            capacity: self.statement_cache_capacity.max(1),
            needs_rollback: false,
            read_only: false,
            broken: Arc::default(),
            _slot: slot,
        })
    }

    async fn recycle(&self, conn: &mut MyConn, metrics: &Metrics) -> RecycleResult<ConnectError> {
        if conn.is_broken() {
            return Err(RecycleError::message(
                "connection lost, or a statement on it was cancelled",
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
        if metrics.last_used() >= PING_AFTER_IDLE {
            conn.conn
                .ping()
                .await
                .map_err(|e| RecycleError::Backend(e.into()))?;
        }
        if conn.needs_rollback {
            conn.conn
                .query_drop("ROLLBACK")
                .await
                .map_err(|e| RecycleError::Backend(e.into()))?;
            conn.needs_rollback = false;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<MyManager>;
pub(crate) type Pooled = managed::Object<MyManager>;
/// A pooled connection held within an adapter's share of the pool.
pub(crate) type Checkout = dbx_core::pool::Held<Pooled>;

/// Builds the pool, opens `min_idle` connections and starts the idle reaper. With `login`,
/// a tenant's pool: its connections log in as the tenant's user, at most the tenant's
/// share of them, within the tenants' budget.
pub(crate) async fn build(
    opts: mysql_async::Opts,
    settings: &PoolSettings,
    statement_cache_capacity: usize,
    login: Option<&UserLogin>,
) -> dbx_core::Result<Pool> {
    let mut settings = settings.clone();
    let kill_opts = opts.clone();
    let opts = match login {
        Some(login) => {
            settings.max_size = settings.tenant_share();
            settings.min_idle = 0;
            // A tenant user may enter its own database only, which bears its name.
            mysql_async::OptsBuilder::from_opts(opts)
                .user(Some(&login.user))
                .pass(Some(login.password.expose()))
                .db_name(Some(&login.user))
                .into()
        }
        None => opts,
    };
    let manager = MyManager {
        opts,
        kill_opts,
        budget: login.map(|l| l.budget.clone()),
        settings: settings.clone(),
        statement_cache_capacity,
    };
    let pool =
        dbx_core::pool::build(manager, &settings, AdapterKind::Mysql, map_connect_error).await?;
    if let Some(login) = login {
        login.budget.register(&pool);
    }
    Ok(pool)
}
