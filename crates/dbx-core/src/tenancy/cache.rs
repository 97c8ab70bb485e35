//! An LRU of open tenant adapters, shared by every backend's [`TenantManager`](super::TenantManager).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;
use moka::notification::RemovalCause;

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

/// Open tenant adapters, least recently used first out.
///
/// An evicted adapter is dropped from the cache; its pool or files close when the last
/// user's `Arc` goes, so eviction never pulls a connection from under running work.
/// Concurrent first lookups of one tenant open it exactly once.
#[derive(Debug)]
pub struct TenantCache {
    cache: Cache<TenantId, Arc<dyn Adapter>>,
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
            .eviction_listener(move |_id: Arc<TenantId>, _adapter, cause: RemovalCause| {
                if cause.was_evicted() {
                    evicted.fetch_add(1, Ordering::Relaxed);
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
        let entry = self
            .cache
            .entry_by_ref(id)
            .or_try_insert_with(open)
            .await
            .map_err(|shared: Arc<Error>| Arc::unwrap_or_clone(shared))?;
        let counter = if entry.is_fresh() {
            &self.misses
        } else {
            &self.hits
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(entry.into_value())
    }

    /// The adapter for `id` if it is open.
    pub async fn get(&self, id: &TenantId) -> Option<Arc<dyn Adapter>> {
        self.cache.get(id).await
    }

    /// Takes `id` out of the cache and returns its adapter, if it was open.
    pub async fn remove(&self, id: &TenantId) -> Option<Arc<dyn Adapter>> {
        self.cache.remove(id).await
    }

    /// Closes every open adapter and empties the cache.
    pub async fn close_all(&self) {
        let open: Vec<Arc<dyn Adapter>> = self.cache.iter().map(|(_, adapter)| adapter).collect();
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
