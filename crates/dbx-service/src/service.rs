//! [`DatabaseService`]: the adapters of a deployment, their tenants, health and counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dbx_core::{Adapter, AdapterKind, Error, ErrorKind, Result, TenantId, TenantManager};

use crate::instrument::Counted;
use crate::stats::{AdapterStats, Counters, ServiceStats};

/// One adapter as the service holds it.
#[derive(Debug)]
struct Entry {
    kind: AdapterKind,
    root: Arc<dyn Adapter>,
    tenants: Arc<dyn TenantManager>,
    auto_create: bool,
    /// Serializes creation on first access, so that a burst of requests for a new tenant
    /// creates it once.
    creating: tokio::sync::Mutex<()>,
}

/// An adapter to register with [`ServiceBuilder::adapter`].
#[derive(Debug)]
pub struct AdapterSetup {
    /// The adapter's own database.
    pub root: Arc<dyn Adapter>,
    /// Its tenants.
    pub tenants: Arc<dyn TenantManager>,
    /// Whether requests that name no adapter go to it.
    pub default: bool,
    /// Whether a tenant is created on its first access.
    pub auto_create_tenants: bool,
}

/// Collects adapters, then checks them in [`build`](ServiceBuilder::build).
#[derive(Debug, Default)]
pub struct ServiceBuilder {
    setups: Vec<AdapterSetup>,
}

impl ServiceBuilder {
    /// Adds an adapter.
    #[must_use]
    pub fn adapter(mut self, setup: AdapterSetup) -> Self {
        self.setups.push(setup);
        self
    }

    /// Checks that each kind appears once and exactly one adapter is the default (implied
    /// when there is only one), naming the offending entries otherwise.
    pub fn build(self) -> Result<DatabaseService> {
        let name = |i: usize, s: &AdapterSetup| format!("adapter #{} ({})", i + 1, s.root.kind());
        for (i, s) in self.setups.iter().enumerate() {
            if let Some(j) = self.setups[..i]
                .iter()
                .position(|t| t.root.kind() == s.root.kind())
            {
                return Err(Error::Config(format!(
                    "{} and {} are the same kind: each kind may appear once",
                    name(j, &self.setups[j]),
                    name(i, s)
                )));
            }
        }
        let defaults: Vec<usize> = (0..self.setups.len())
            .filter(|i| self.setups[*i].default)
            .collect();
        let default = match (defaults.as_slice(), self.setups.len()) {
            (_, 0) => {
                return Err(Error::Config(
                    "a database service needs at least one adapter".to_owned(),
                ));
            }
            ([], 1) => 0,
            ([one], _) => *one,
            ([], _) => {
                return Err(Error::Config(
                    "no adapter is marked default: mark exactly one as the default".to_owned(),
                ));
            }
            (many, _) => {
                let names: Vec<String> = many.iter().map(|i| name(*i, &self.setups[*i])).collect();
                return Err(Error::Config(format!(
                    "{} are all marked default: mark exactly one",
                    names.join(" and ")
                )));
            }
        };
        let default = self.setups[default].root.kind();
        let entries = self
            .setups
            .into_iter()
            .map(|s| Entry {
                kind: s.root.kind(),
                root: s.root,
                tenants: s.tenants,
                auto_create: s.auto_create_tenants,
                creating: tokio::sync::Mutex::new(()),
            })
            .collect();
        Ok(DatabaseService {
            entries,
            default,
            counters: Arc::new(Counters::default()),
            closed: AtomicBool::new(false),
        })
    }
}

/// One adapter's health.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdapterHealth {
    /// The adapter.
    pub kind: AdapterKind,
    /// Whether a trivial query succeeded.
    pub ok: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
    /// How long the query took, in milliseconds.
    pub latency_ms: f64,
    /// Pool connections in use.
    pub pool_in_use: usize,
    /// Pool connections idle.
    pub pool_idle: usize,
    /// The pool's limit.
    pub pool_max: usize,
}

/// The holder of a deployment's adapters. Share it as `Arc<DatabaseService>`.
#[derive(Debug)]
pub struct DatabaseService {
    entries: Vec<Entry>,
    default: AdapterKind,
    counters: Arc<Counters>,
    closed: AtomicBool,
}

impl DatabaseService {
    /// An empty builder.
    pub fn builder() -> ServiceBuilder {
        ServiceBuilder::default()
    }

    fn entry(&self, kind: Option<AdapterKind>) -> Result<&Entry> {
        let kind = kind.unwrap_or(self.default);
        let entry = self
            .entries
            .iter()
            .find(|e| e.kind == kind)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "no {kind} adapter is configured; available: {}",
                    self.available_kinds()
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed(kind));
        }
        Ok(entry)
    }

    /// The adapter's own tenant manager, unwrapped (no counting, no creation on access).
    pub(crate) fn raw_tenants(&self, kind: AdapterKind) -> Result<Arc<dyn TenantManager>> {
        Ok(self.entry(Some(kind))?.tenants.clone())
    }

    /// The default adapter's kind.
    pub fn default_kind(&self) -> AdapterKind {
        self.default
    }

    /// Every configured kind, in a stable order.
    pub fn available_kinds(&self) -> Vec<AdapterKind> {
        let mut kinds: Vec<AdapterKind> = self.entries.iter().map(|e| e.kind).collect();
        kinds.sort();
        kinds
    }

    /// The adapter's own database; the default adapter's when `kind` is `None`.
    pub fn root(&self, kind: Option<AdapterKind>) -> Result<Arc<dyn Adapter>> {
        let entry = self.entry(kind)?;
        Ok(Counted::wrap(entry.root.clone(), self.counters.clone()))
    }

    /// A tenant's database, created on first access when the adapter is set to; `kind`
    /// `None` is the default adapter. Like every tenant method, it takes the tenant first.
    pub async fn tenant(
        &self,
        id: &TenantId,
        kind: Option<AdapterKind>,
    ) -> Result<Arc<dyn Adapter>> {
        let entry = self.entry(kind)?;
        let adapter = match entry.tenants.tenant(id).await {
            Ok(adapter) => adapter,
            Err(e) if e.kind() == ErrorKind::NoSuchTenant && entry.auto_create => {
                self.create_if_missing(entry, id).await?;
                entry.tenants.tenant(id).await?
            }
            Err(e) => return Err(e),
        };
        Ok(Counted::wrap(adapter, self.counters.clone()))
    }

    /// A tenant's database only if the tenant exists: never created on access, whatever the
    /// adapter's setting. For servers, where opening a tenant must not be a way to create one.
    pub async fn existing_tenant(
        &self,
        id: &TenantId,
        kind: Option<AdapterKind>,
    ) -> Result<Arc<dyn Adapter>> {
        let adapter = self.entry(kind)?.tenants.tenant(id).await?;
        Ok(Counted::wrap(adapter, self.counters.clone()))
    }

    async fn create_if_missing(&self, entry: &Entry, id: &TenantId) -> Result<()> {
        let _one_at_a_time = entry.creating.lock().await;
        if !entry.tenants.tenant_exists(id).await? {
            entry.tenants.create_tenant(id).await?;
            self.counters.tenant_created();
        }
        Ok(())
    }

    /// Creates a tenant.
    pub async fn create_tenant(&self, id: &TenantId, kind: Option<AdapterKind>) -> Result<()> {
        let entry = self.entry(kind)?;
        let _one_at_a_time = entry.creating.lock().await;
        entry.tenants.create_tenant(id).await?;
        self.counters.tenant_created();
        Ok(())
    }

    /// Deletes a tenant and its data.
    pub async fn delete_tenant(&self, id: &TenantId, kind: Option<AdapterKind>) -> Result<()> {
        self.entry(kind)?.tenants.delete_tenant(id).await
    }

    /// The tenants of an adapter, sorted.
    pub async fn list_tenants(&self, kind: Option<AdapterKind>) -> Result<Vec<TenantId>> {
        self.entry(kind)?.tenants.list_tenants().await
    }

    /// Runs a trivial query on every adapter.
    pub async fn health(&self) -> Vec<AdapterHealth> {
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let health = if self.closed.load(Ordering::Acquire) {
                Err(Error::Closed(entry.kind))
            } else {
                entry.root.health().await
            };
            out.push(match health {
                Ok(h) => AdapterHealth {
                    kind: entry.kind,
                    ok: true,
                    error: None,
                    latency_ms: h.latency.as_secs_f64() * 1000.0,
                    pool_in_use: h.pool.in_use,
                    pool_idle: h.pool.idle,
                    pool_max: h.pool.max,
                },
                Err(e) => AdapterHealth {
                    kind: entry.kind,
                    ok: false,
                    error: Some(e.to_string()),
                    latency_ms: 0.0,
                    pool_in_use: 0,
                    pool_idle: 0,
                    pool_max: 0,
                },
            });
        }
        out
    }

    /// Queries, errors by kind, tenants created, and each adapter's tenant cache.
    pub fn stats(&self) -> ServiceStats {
        let (queries, errors, tenants_created) = self.counters.snapshot();
        let adapters = self
            .entries
            .iter()
            .map(|e| (e.kind, AdapterStats::from(e.tenants.cache_stats())))
            .collect();
        ServiceStats {
            queries,
            errors,
            tenants_created,
            adapters,
        }
    }

    /// Closes every tenant and every root adapter. Later calls fail with
    /// [`Error::Closed`]; work already running finishes first where the adapter allows.
    pub async fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        for entry in &self.entries {
            entry.tenants.close_all().await;
            entry.root.close().await;
        }
    }
}
