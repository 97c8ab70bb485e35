//! Pool settings, the idle reaper, tenant shares and statement cancellation, shared by the
//! pooled adapters (PostgreSQL, MySQL).
//!
//! deadpool checks an object only when it hands it out; the reaper here closes idle and
//! over-age connections in the background as well.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{Manager, Pool, PoolError, WeakPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::adapter::{AdapterKind, PoolStatus};
use crate::error::{Error, Result};

/// Pool limits and timeouts.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "serde",
    serde(default, rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct PoolSettings {
    /// Most connections open at once.
    ///
    /// Default: 16.
    pub max_size: usize,
    /// Connections opened at start and kept through idle reaping.
    ///
    /// Default: 0.
    pub min_idle: usize,
    /// Longest wait to open a connection.
    ///
    /// Default: 10 s.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::plain"))]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub connect_timeout: Duration,
    /// Longest wait for a free connection when all are in use.
    ///
    /// Default: 30 s.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::plain"))]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub acquire_timeout: Duration,
    /// A connection unused this long is closed.
    ///
    /// Default: 10 minutes.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::option"))]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub idle_timeout: Option<Duration>,
    /// A connection older than this is closed when next returned or checked.
    ///
    /// Default: 30 minutes.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::option"))]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub max_lifetime: Option<Duration>,
    /// Most connections one tenant may hold at once, so that one tenant (a burst of slow
    /// queries, a client holding streams open) cannot take the whole pool from the others.
    /// The root database is not limited by it.
    ///
    /// Default: half of `max-size`, at least 1.
    pub max_per_tenant: Option<usize>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 16,
            min_idle: 0,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            max_per_tenant: None,
        }
    }
}

/// Closes idle and over-age connections in the background, keeping `min_idle` of them;
/// deadpool itself only checks an object when it is handed out.
pub fn spawn_reaper<M: Manager + 'static>(pool: &Pool<M>, settings: &PoolSettings)
where
    M::Type: Send,
{
    if settings.idle_timeout.is_none() && settings.max_lifetime.is_none() {
        return;
    }
    let period = settings
        .idle_timeout
        .into_iter()
        .chain(settings.max_lifetime)
        .min()
        .map_or(Duration::from_secs(30), |d| {
            (d / 2).clamp(Duration::from_millis(100), Duration::from_secs(30))
        });
    let weak = pool.weak();
    let (idle, lifetime, keep) = (
        settings.idle_timeout,
        settings.max_lifetime,
        settings.min_idle,
    );
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(pool) = weak.upgrade() else { return };
            if pool.is_closed() {
                return;
            }
            let kept = Arc::new(AtomicUsize::new(0));
            let reaped = pool.retain(|_, metrics| {
                let stale = idle.is_some_and(|d| metrics.last_used() >= d)
                    || lifetime.is_some_and(|d| metrics.age() >= d);
                let keep_anyway = !stale || kept.load(Ordering::Relaxed) < keep;
                if keep_anyway {
                    kept.fetch_add(1, Ordering::Relaxed);
                }
                keep_anyway
            });
            drop(reaped);
        }
    });
}

impl PoolSettings {
    /// How many connections one tenant may hold: `max-per-tenant`, or half the pool.
    pub fn tenant_share(&self) -> usize {
        self.max_per_tenant
            .unwrap_or(self.max_size / 2)
            .clamp(1, self.max_size.max(1))
    }

    /// Applies `DB_POOL_MIN`, `DB_POOL_MAX` and `DB_IDLE_TIMEOUT`. The timeout is in
    /// milliseconds when it is a bare number, as in the deployments these variables come
    /// from (`DB_IDLE_TIMEOUT=30000` is 30 s); a unit (`30s`, `10m`) says otherwise.
    pub fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = get("DB_POOL_MIN") {
            self.min_idle = crate::env::parse("DB_POOL_MIN", &v)?;
        }
        if let Some(v) = get("DB_POOL_MAX") {
            self.max_size = crate::env::parse("DB_POOL_MAX", &v)?;
        }
        if let Some(v) = get("DB_IDLE_TIMEOUT") {
            self.idle_timeout = Some(crate::env::parse_millis("DB_IDLE_TIMEOUT", &v)?);
        }
        Ok(())
    }
}

/// Builds a pool with these settings, opens `min_idle` connections and starts the reaper.
pub async fn build<M>(
    manager: M,
    settings: &PoolSettings,
    kind: AdapterKind,
    map: fn(M::Error) -> Error,
) -> Result<Pool<M>>
where
    M: Manager + 'static,
    M::Type: Send,
{
    if settings.max_size == 0 {
        return Err(Error::Config("pool max-size must be at least 1".to_owned()));
    }
    let pool = Pool::builder(manager)
        .max_size(settings.max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.acquire_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the {kind} pool: {e}")))?;
    let mut warm = Vec::new();
    for _ in 0..settings.min_idle.min(settings.max_size) {
        warm.push(pool.get().await.map_err(|e| pool_error(e, kind, map))?);
    }
    drop(warm);
    spawn_reaper(&pool, settings);
    Ok(pool)
}

/// Maps a pool failure onto a dbx error, with `map` for the driver's own errors.
pub fn pool_error<E>(e: PoolError<E>, kind: AdapterKind, map: fn(E) -> Error) -> Error {
    match e {
        PoolError::Backend(e) => map(e),
        PoolError::Timeout(what) => Error::Timeout(format!(
            "no {kind} connection within the pool's limit ({what:?}): the server may be down, or every \
             connection is busy; raise pool max-size or acquire-timeout"
        )),
        PoolError::Closed => Error::Closed(kind),
        PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            Error::ConnectionLost(format!("{kind} pool: could not hand out a connection"))
        }
    }
}

/// The pool's occupancy.
pub fn status<M: Manager>(pool: &Pool<M>) -> PoolStatus {
    let status = pool.status();
    PoolStatus {
        in_use: status.size.saturating_sub(status.available),
        idle: status.available,
        max: status.max_size,
    }
}

/// One adapter's share of a shared pool: at most `size` of its connections in use at once.
#[derive(Debug, Clone)]
pub struct Share {
    permits: Arc<Semaphore>,
    size: usize,
}

/// A pooled connection together with its place in a [`Share`]; both are given back when it
/// is dropped. It dereferences to the connection itself, as the pool's object does.
#[derive(Debug)]
pub struct Held<O> {
    object: O,
    _place: OwnedSemaphorePermit,
}

impl<O: Deref> Deref for Held<O> {
    type Target = O::Target;
    fn deref(&self) -> &O::Target {
        &self.object
    }
}

impl<O: DerefMut> DerefMut for Held<O> {
    fn deref_mut(&mut self) -> &mut O::Target {
        &mut self.object
    }
}

impl Share {
    /// A share of `size` connections.
    pub fn new(size: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(size.max(1))),
            size: size.max(1),
        }
    }

    /// Waits up to `wait` for a place in the share, then for a connection from `get`.
    pub async fn hold<O, F>(&self, wait: Duration, kind: AdapterKind, get: F) -> Result<Held<O>>
    where
        F: Future<Output = Result<O>>,
    {
        let place = tokio::time::timeout(wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "this tenant already holds {} {kind} connections, its share of the pool, and \
                     none came free within {wait:?}: finish or close streams and transactions, \
                     or raise pool max-per-tenant",
                    self.size
                ))
            })?
            .map_err(|_| Error::Closed(kind))?;
        Ok(Held {
            object: get.await?,
            _place: place,
        })
    }
}

/// A statement on the wire. Dropped before [`finish`](InFlight::finish), its caller went away,
/// its deadline passed or its rows were cut short: the statement may still be running on
/// the server, so `cancel` is called to stop it there, and the connection is marked broken,
/// which makes the pool discard it instead of handing it to anyone else (a cancellation
/// that arrived late would otherwise stop the next user's statement).
#[derive(Debug)]
pub struct InFlight<F: FnOnce()> {
    broken: Arc<AtomicBool>,
    cancel: Option<F>,
}

impl<F: FnOnce()> InFlight<F> {
    /// A statement about to be sent on the connection whose broken flag is `broken`.
    pub fn new(broken: Arc<AtomicBool>, cancel: F) -> Self {
        Self {
            broken,
            cancel: Some(cancel),
        }
    }

    /// The statement ended on the server, successfully or not: nothing to cancel.
    pub fn finish(mut self) {
        self.cancel = None;
    }
}

impl<F: FnOnce()> Drop for InFlight<F> {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            self.broken.store(true, Ordering::Release);
            cancel();
        }
    }
}

/// Runs `work` within `timeout`, failing with [`Error::StatementTimeout`] past it (`work`
/// is dropped then, which cancels an [`InFlight`] statement inside it).
pub async fn within<T>(
    timeout: Option<Duration>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        None => work.await,
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .unwrap_or(Err(Error::StatementTimeout(limit))),
    }
}

/// The error for a connection whose earlier statement was given up on (cancelled, timed out
/// or cut short): the session cannot go on, as the connection may still be busy with it.
pub fn broken_session(kind: AdapterKind) -> Error {
    Error::ConnectionLost(format!(
        "this {kind} session's connection was given up after one of its statements was \
         cancelled (a timeout, a result over its limit, or its caller leaving); open a new \
         session"
    ))
}

/// Frees one idle connection of a pool, for [`Budget`].
trait ReleaseIdle: Send + Sync {
    /// Closes one idle connection; `None` once the pool is gone or closed.
    fn release_one(&self) -> Option<bool>;
}

impl<M: Manager + 'static> ReleaseIdle for WeakPool<M> {
    fn release_one(&self) -> Option<bool> {
        let pool = self.upgrade().filter(|p| !p.is_closed())?;
        let mut taken = false;
        let released = pool.retain(|_, _| std::mem::replace(&mut taken, true));
        Some(!released.removed.is_empty())
    }
}

/// How often a [`Budget`] waiter looks again for another pool's idle connection.
const RECHECK_IDLE: Duration = Duration::from_millis(20);

/// One connection budget over many pools: with a login per tenant, each tenant has a pool
/// of its own, and together they may open at most `size` connections to the server. A pool
/// that needs a connection when the budget is spent closes an idle one of another pool
/// first, and only then waits.
pub struct Budget {
    slots: Arc<Semaphore>,
    size: usize,
    pools: Mutex<Vec<Box<dyn ReleaseIdle>>>,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("size", &self.size)
            .field("free", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

/// One connection's place in a [`Budget`], given back when the connection closes.
pub type BudgetSlot = OwnedSemaphorePermit;

impl Budget {
    /// A budget of `size` connections.
    pub fn new(size: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(size.max(1))),
            size: size.max(1),
            pools: Mutex::new(Vec::new()),
        })
    }

    /// Connections the budget has left.
    pub fn free(&self) -> usize {
        self.slots.available_permits()
    }

    /// Lets the budget close `pool`'s idle connections when another pool needs one.
    pub fn register<M: Manager + 'static>(&self, pool: &Pool<M>) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.push(Box::new(pool.weak()));
    }

    /// A place for one new connection: a free one, else one freed by closing another
    /// pool's idle connection, else the first to come free within `wait`. Connections go
    /// back to their own pool idle rather than closing, so a waiter looks for idle ones
    /// again every few milliseconds while it waits.
    pub async fn slot(&self, wait: Duration, kind: AdapterKind) -> Result<BudgetSlot> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                return Ok(slot);
            }
            self.release_one_idle();
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                return Ok(slot);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout(format!(
                    "all {} {kind} connections of the tenants' budget are in use and none came \
                     free within {wait:?}: raise pool max-size, or lower max-per-tenant",
                    self.size
                )));
            }
            let pause = (deadline - now).min(RECHECK_IDLE);
            if let Ok(slot) = tokio::time::timeout(pause, self.slots.clone().acquire_owned()).await
            {
                return slot.map_err(|_| Error::Closed(kind));
            }
        }
    }

    /// Closes one idle connection of some pool, forgetting pools that are gone.
    fn release_one_idle(&self) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let mut i = 0;
        while i < pools.len() {
            match pools[i].release_one() {
                None => {
                    pools.swap_remove(i);
                }
                Some(true) => return,
                Some(false) => i += 1,
            }
        }
    }
}

/// The password of a login dbx made for a tenant. Its `Debug` shows nothing of it, so that
/// no log line or error carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginSecret(String);

impl std::fmt::Debug for LoginSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginSecret(..)")
    }
}

impl LoginSecret {
    /// A new random password: 32 bytes from the operating system, as 64 hex digits (which
    /// every server accepts and no quoting can break).
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| {
            Error::Config(format!(
                "the operating system gave no random bytes for a tenant login: {e}"
            ))
        })?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// A password read back from where dbx keeps it.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The password itself, for the driver and the store only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Why a pool could not open a connection: the driver's error, or the tenants' connection
/// [`Budget`] was spent. The error type of the pooled adapters' deadpool managers.
#[derive(Debug)]
pub enum ConnectError<E> {
    /// The server or driver failed.
    Driver(E),
    /// No place in the budget came free in time.
    Budget(Error),
}

impl<E: std::fmt::Display> std::fmt::Display for ConnectError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Driver(e) => e.fmt(f),
            Self::Budget(e) => e.fmt(f),
        }
    }
}

impl<E> From<E> for ConnectError<E> {
    fn from(e: E) -> Self {
        Self::Driver(e)
    }
}

impl<E> ConnectError<E> {
    /// The dbx error, with `map` for the driver's.
    pub fn into_error(self, map: fn(E) -> Error) -> Error {
        match self {
            Self::Driver(e) => map(e),
            Self::Budget(e) => e,
        }
    }
}

/// A place in `budget` for a new connection, when the pool has one (tenant logins' pools).
pub async fn budget_slot<E>(
    budget: Option<&Budget>,
    wait: Duration,
    kind: AdapterKind,
) -> std::result::Result<Option<BudgetSlot>, ConnectError<E>> {
    match budget {
        Some(budget) => budget
            .slot(wait, kind)
            .await
            .map(Some)
            .map_err(ConnectError::Budget),
        None => Ok(None),
    }
}
