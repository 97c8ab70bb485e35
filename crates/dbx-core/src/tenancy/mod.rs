//! Multi-tenancy: validated tenant ids, the isolation policies and the trait adapters
//! implement to create, list, delete and open tenants.

mod cache;
mod tenant_id;

use std::sync::Arc;

use async_trait::async_trait;

use crate::adapter::Adapter;
use crate::error::Result;

pub use cache::{TenantCache, TenantCacheConfig, TenantCacheStats};
pub use tenant_id::{MAX_TENANT_ID_LEN, TENANT_ID_RULE, TenantId};

/// How a backend isolates one tenant from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum TenancyPolicy {
    /// One database file per tenant (SQLite).
    FilePerTenant,
    /// One schema per tenant in a shared database (PostgreSQL).
    SchemaPerTenant,
    /// One database per tenant on a shared server (MySQL).
    DatabasePerTenant,
    /// One namespace per tenant on a libSQL server.
    NamespacePerTenant,
}

/// Creates, lists, deletes and opens the tenants of one backend.
///
/// Every method takes a [`TenantId`], so an id that breaks the naming rule never reaches a
/// file system path or a `CREATE SCHEMA`.
#[async_trait]
pub trait TenantManager: Send + Sync + std::fmt::Debug {
    /// The isolation this manager provides.
    fn policy(&self) -> TenancyPolicy;

    /// Creates a tenant. Creating one that exists is an
    /// [`ErrorKind::InvalidTenant`](crate::ErrorKind::InvalidTenant) error.
    async fn create_tenant(&self, id: &TenantId) -> Result<()>;

    /// Deletes a tenant and all its data, closing it first if it is open.
    /// Deleting one that does not exist is an `InvalidTenant` error.
    async fn delete_tenant(&self, id: &TenantId) -> Result<()>;

    /// The tenants, sorted.
    async fn list_tenants(&self) -> Result<Vec<TenantId>>;

    /// Whether the tenant exists.
    async fn tenant_exists(&self, id: &TenantId) -> Result<bool>;

    /// The tenant's adapter, opened on first access and cached after that.
    /// A tenant that does not exist is an `InvalidTenant` error.
    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>>;
}
