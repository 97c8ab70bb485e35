//! Counters the service keeps: queries, errors by kind, tenants created.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use dbx_core::tenancy::TenantCacheStats;
use dbx_core::{AdapterKind, Result};

/// Live counters, shared by every instrumented handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    queries: AtomicU64,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    tenants_created: AtomicU64,
}

impl Counters {
    /// Counts one statement and, if it failed, its error kind.
    pub(crate) fn record<T>(&self, result: &Result<T>) {
        self.queries.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = result {
            let mut errors = self
                .errors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *errors.entry(e.kind().as_str()).or_default() += 1;
        }
    }

    pub(crate) fn tenant_created(&self) {
        self.tenants_created.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> (u64, BTreeMap<String, u64>, u64) {
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (
            self.queries.load(Ordering::Relaxed),
            errors.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            self.tenants_created.load(Ordering::Relaxed),
        )
    }
}

/// What [`DatabaseService::stats`](crate::DatabaseService::stats) reports.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ServiceStats {
    /// Statements run through the service's handles.
    pub queries: u64,
    /// Failed statements, by [`ErrorKind`](dbx_core::ErrorKind) name.
    pub errors: BTreeMap<String, u64>,
    /// Tenants created, explicitly or on first access.
    pub tenants_created: u64,
    /// Per adapter: its tenant cache.
    pub adapters: BTreeMap<AdapterKind, AdapterStats>,
}

/// One adapter's tenant cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct AdapterStats {
    /// Tenants open now.
    pub open_tenants: u64,
    /// Lookups that found the tenant open.
    pub cache_hits: u64,
    /// Lookups that opened it.
    pub cache_misses: u64,
    /// Tenants closed to make room or after sitting idle.
    pub cache_evictions: u64,
}

impl From<TenantCacheStats> for AdapterStats {
    fn from(s: TenantCacheStats) -> Self {
        Self {
            open_tenants: s.open,
            cache_hits: s.hits,
            cache_misses: s.misses,
            cache_evictions: s.evictions,
        }
    }
}
