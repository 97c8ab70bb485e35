//! Multi-tenancy: validated tenant ids, the isolation policies and the trait adapters
//! implement to create, list, delete and open tenants.

mod cache;
mod tenant_id;

use std::sync::Arc;

use async_trait::async_trait;

use crate::adapter::Adapter;
use crate::error::Result;

pub use cache::{TenantCache, TenantCacheConfig, TenantCacheStats};
pub use tenant_id::{MAX_TENANT_ID_LEN, RESERVED_TENANT_IDS, TENANT_ID_RULE, TenantId};

/// Checks a prefix for tenant schema or database names: 1 to 16 of `a-z`, `0-9`, `_`.
/// `setting` names the configuration key in the error.
///
/// An empty prefix is refused: every schema or database of the server would then look
/// like a tenant, `public`, `mysql` and `information_schema` included, and deleting such a
/// "tenant" would drop a system schema.
pub fn validate_prefix(prefix: &str, setting: &str) -> Result<()> {
    if prefix.is_empty() {
        return Err(crate::Error::Config(format!(
            "{setting} is empty: give tenants a prefix of their own (such as \"t_\"), or every \
             schema or database on the server would count as a tenant"
        )));
    }
    let valid = prefix.len() <= 16
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(crate::Error::Config(format!(
            "{setting} {prefix:?} must be 1 to 16 characters of a-z, 0-9 and '_'"
        )));
    }
    Ok(())
}

/// `prefix` + `id`, refused rather than truncated when longer than the backend's
/// identifier limit (truncation could make two tenants share one name).
pub fn prefixed_name(prefix: &str, id: &TenantId, limit: usize, what: &str) -> Result<String> {
    let name = format!("{prefix}{id}");
    if name.len() > limit {
        return Err(crate::Error::InvalidTenant {
            id: id.to_string(),
            reason: format!(
                "with the prefix {prefix:?} the {what} name would be {} bytes long; the limit is {limit}",
                name.len()
            ),
        });
    }
    Ok(name)
}

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

/// Which database login runs a tenant's SQL on a server backend (PostgreSQL, MySQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TenantLogin {
    /// Each tenant logs in as a role (PostgreSQL) or user (MySQL) of its own, which owns
    /// the tenant's schema or database and has no right on any other: the server itself
    /// keeps tenants apart, whatever SQL they send.
    #[default]
    PerTenant,
    /// Every tenant runs as the configured login; dbx keeps tenants apart by search path
    /// or current database, which a tenant's SQL can name its way around (see
    /// docs/reliability.md).
    Shared,
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
    /// [`ErrorKind::TenantExists`](crate::ErrorKind::TenantExists) error.
    async fn create_tenant(&self, id: &TenantId) -> Result<()>;

    /// Deletes a tenant and all its data, closing it first if it is open.
    /// Deleting one that does not exist is a
    /// [`ErrorKind::NoSuchTenant`](crate::ErrorKind::NoSuchTenant) error.
    async fn delete_tenant(&self, id: &TenantId) -> Result<()>;

    /// The tenants, sorted.
    async fn list_tenants(&self) -> Result<Vec<TenantId>>;

    /// Whether the tenant exists.
    async fn tenant_exists(&self, id: &TenantId) -> Result<bool>;

    /// The tenant's adapter, opened on first access and cached after that.
    /// A tenant that does not exist is an `NoSuchTenant` error.
    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>>;

    /// The counters of the tenant cache.
    fn cache_stats(&self) -> TenantCacheStats;

    /// Closes every open tenant and empties the cache.
    async fn close_all(&self);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_the_identifier_rule() {
        assert!(validate_prefix("t_", "p").is_ok());
        assert!(validate_prefix("", "p").is_err());
        let err = validate_prefix("T-", "tenant-schema-prefix").unwrap_err();
        assert!(err.to_string().contains("tenant-schema-prefix"), "{err}");
        assert!(validate_prefix(&"a".repeat(17), "p").is_err());
    }

    #[test]
    fn long_names_are_refused_not_truncated() {
        let id = TenantId::new("a".repeat(63)).unwrap();
        assert_eq!(prefixed_name("", &id, 63, "schema").unwrap().len(), 63);
        let err = prefixed_name("t_", &id, 63, "schema").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidTenant);
        assert!(err.to_string().contains("65 bytes"), "{err}");
    }
}
