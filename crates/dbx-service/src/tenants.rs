//! The service seen as a [`TenantManager`] for one adapter, for servers that take one (the
//! Hrana server's namespaces): tenants it opens are counted like every other tenant the
//! service hands out, but never created on access, so that a client with read access cannot
//! create a tenant by naming it; servers create tenants through their admin API.

use std::sync::Arc;

use dbx_core::tenancy::{TenancyPolicy, TenantCacheStats, TenantId, TenantManager};
use dbx_core::{Adapter, AdapterKind, Result, async_trait};

use crate::DatabaseService;

/// One adapter's tenants, through the service.
#[derive(Debug, Clone)]
pub struct ServiceTenants {
    service: Arc<DatabaseService>,
    kind: AdapterKind,
}

impl DatabaseService {
    /// The tenants of the adapter `kind` (the default one for `None`) as a [`TenantManager`].
    pub fn tenant_manager(
        self: &Arc<Self>,
        kind: Option<AdapterKind>,
    ) -> Result<Arc<dyn TenantManager>> {
        let kind = kind.unwrap_or_else(|| self.default_kind());
        self.root(Some(kind))?;
        Ok(Arc::new(ServiceTenants {
            service: self.clone(),
            kind,
        }))
    }
}

#[async_trait]
impl TenantManager for ServiceTenants {
    fn policy(&self) -> TenancyPolicy {
        self.service
            .raw_tenants(self.kind)
            .map_or(TenancyPolicy::DatabasePerTenant, |t| t.policy())
    }

    async fn create_tenant(&self, id: &TenantId) -> Result<()> {
        self.service.create_tenant(id, Some(self.kind)).await
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<()> {
        self.service.delete_tenant(id, Some(self.kind)).await
    }

    async fn list_tenants(&self) -> Result<Vec<TenantId>> {
        self.service.list_tenants(Some(self.kind)).await
    }

    async fn tenant_exists(&self, id: &TenantId) -> Result<bool> {
        self.service.raw_tenants(self.kind)?.tenant_exists(id).await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>> {
        self.service.existing_tenant(id, Some(self.kind)).await
    }

    fn cache_stats(&self) -> TenantCacheStats {
        self.service
            .raw_tenants(self.kind)
            .map(|t| t.cache_stats())
            .unwrap_or_default()
    }

    async fn close_all(&self) {
        if let Ok(tenants) = self.service.raw_tenants(self.kind) {
            tenants.close_all().await;
        }
    }
}
