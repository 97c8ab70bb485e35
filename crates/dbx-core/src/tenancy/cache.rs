//! An LRU of open tenant adapters, shared by every backend's [`TenantManager`](super::TenantManager).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use moka::future::Cache;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;

use super::TenantId;
use crate::adapter::Adapter;
use crate::error::{Error, Result};

/// Size and idle limits of a [`TenantCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "serde",
    serde(default, rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct TenantCacheConfig {
    /// How many tenants stay open at once.
    ///
    /// Default: 100.
    pub capacity: u64,
    /// How long an unused tenant stays open; `None` keeps it until capacity pushes it out.
    ///
    /// Default: 10 minutes.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::option"))]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub time_to_idle: Option<Duration>,
}

impl Default for TenantCacheConfig {
    fn default() -> Self {
        Self {
            capacity: 100,
            time_to_idle: Some(Duration::from_secs(600)),
        }
    }
}

/// Counters of a [`TenantCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantCacheStats {
    /// Tenants open now. Removals count when the cache applies them, so just after an
    /// eviction this may still include the evicted tenant.
    pub open: u64,
    /// Lookups that found the tenant open.
    pub hits: u64,
    /// Lookups that had to open it.
    pub misses: u64,
    /// Tenants closed to make room or because they sat idle.
    pub evictions: u64,
}

/// What the cache holds for one tenant: its adapter behind a lock, so that an eviction can
/// let go of it at once. moka may keep an evicted entry's value until a later maintenance
/// pass; were the adapter held by that value, an evicted tenant would stay open until then,
/// and the open tenants would outgrow the capacity under steady misses.
#[derive(Debug, Clone)]
struct Slot(Arc<Mutex<Option<Arc<dyn Adapter>>>>);

impl Slot {
    fn new(adapter: Arc<dyn Adapter>) -> Self {
        Self(Arc::new(Mutex::new(Some(adapter))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<dyn Adapter>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The adapter, unless the entry was evicted or removed after it was looked up.
    fn adapter(&self) -> Option<Arc<dyn Adapter>> {
        self.lock().clone()
    }

    fn take(&self) -> Option<Arc<dyn Adapter>> {
        self.lock().take()
    }
}

/// Open tenant adapters, least recently used first out.
///
/// An evicted adapter leaves the cache at once; its pool or files close when the last user's
/// `Arc` goes, so eviction never pulls a connection from under running work. A lookup that
/// opens a tenant applies pending evictions before it returns, so the tenants held open by
/// the cache never exceed its capacity for long.
/// Concurrent first lookups of one tenant open it exactly once.
#[derive(Debug)]
pub struct TenantCache {
    cache: Cache<TenantId, Slot>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: Arc<AtomicU64>,
    /// Entries that left the cache for any reason. moka updates its own entry count only at
    /// maintenance time, so `open` is kept as misses minus removals instead.
    removed: Arc<AtomicU64>,
}

impl TenantCache {
    /// An empty cache with the given limits.
    pub fn new(config: TenantCacheConfig) -> Self {
        let evictions = Arc::new(AtomicU64::new(0));
        let removed = Arc::new(AtomicU64::new(0));
        let (evicted, gone) = (evictions.clone(), removed.clone());
        let mut builder = Cache::builder()
            .max_capacity(config.capacity)
            // Plain LRU: a tenant opened for a request stays for the next one. moka's default
            // (TinyLFU) may turn a newcomer away at once when the cache is full, so a tenant's
            // first two requests would open it twice.
            .eviction_policy(EvictionPolicy::lru())
            .eviction_listener(move |_id: Arc<TenantId>, slot: Slot, cause: RemovalCause| {
                if cause.was_evicted() {
                    evicted.fetch_add(1, Ordering::Relaxed);
                    // The adapter closes when its last user lets go of it, possibly right
                    // here. An explicit removal leaves it to the caller, who got the slot.
                    drop(slot.take());
                }
                if cause != RemovalCause::Replaced {
                    gone.fetch_add(1, Ordering::Relaxed);
                }
            });
        if let Some(idle) = config.time_to_idle {
            builder = builder.time_to_idle(idle);
        }
        Self {
            cache: builder.build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions,
            removed,
        }
    }

    /// The open adapter for `id`, or the one `open` produces. When several tasks ask for the
    /// same missing tenant at once, one runs `open` and the others wait for its result.
    pub async fn get_or_open<F>(&self, id: &TenantId, open: F) -> Result<Arc<dyn Adapter>>
    where
        F: Future<Output = Result<Arc<dyn Adapter>>>,
    {
        let mut open = Some(open);
        loop {
            let mut opened = None;
            let init = async {
                // `open` is taken only by a lookup that found no entry, and that lookup
                // returns below, so a later round always finds it here.
                let Some(open) = open.take() else {
                    return Err(Error::ConnectionLost(format!(
                        "tenant {id} was evicted while it was being opened; retry"
                    )));
                };
                let adapter = open.await?;
                opened = Some(adapter.clone());
                Ok(Slot::new(adapter))
            };
            let entry = self
                .cache
                .entry_by_ref(id)
                .or_try_insert_with(init)
                .await
                .map_err(|shared: Arc<Error>| Arc::unwrap_or_clone(shared))?;
            if let Some(adapter) = opened {
                self.misses.fetch_add(1, Ordering::Relaxed);
                // Evict now rather than at moka's next maintenance, so that the open tenants
                // stay within capacity however the lookups come.
                self.cache.run_pending_tasks().await;
                return Ok(adapter);
            }
            if let Some(adapter) = entry.value().adapter() {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(adapter);
            }
            // Evicted between the lookup and now: drop the stale entry and look again. `open`
            // has not run, so the next round opens the tenant.
            self.cache.remove(id).await;
        }
    }

    /// The adapter for `id` if it is open.
    pub async fn get(&self, id: &TenantId) -> Option<Arc<dyn Adapter>> {
        self.cache.get(id).await?.adapter()
    }

    /// Takes `id` out of the cache and returns its adapter, if it was open.
    pub async fn remove(&self, id: &TenantId) -> Option<Arc<dyn Adapter>> {
        self.cache.remove(id).await?.take()
    }

    /// Closes every open adapter and empties the cache.
    pub async fn close_all(&self) {
        let open: Vec<Arc<dyn Adapter>> = self
            .cache
            .iter()
            .filter_map(|(_, slot)| slot.take())
            .collect();
        self.cache.invalidate_all();
        for adapter in open {
            adapter.close().await;
        }
        self.cache.run_pending_tasks().await;
    }

    /// Applies pending evictions now instead of at the cache's next maintenance.
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    /// The counters.
    pub fn stats(&self) -> TenantCacheStats {
        TenantCacheStats {
            open: self
                .misses
                .load(Ordering::Relaxed)
                .saturating_sub(self.removed.load(Ordering::Relaxed)),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}
