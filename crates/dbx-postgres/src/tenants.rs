//! Schema-per-tenant: tenant `acme` is schema `t_acme` (the prefix is configurable).
//!
//! Tenant adapters share the root adapter's pool. Each checkout sets the connection's
//! `search_path` to the tenant's schema alone when it differs from what the connection last
//! had, so no connection carries one tenant's path into another's work (see the crate docs).

use std::sync::Arc;

use dbx_core::tenancy::{TenantCache, TenantCacheConfig, TenantCacheStats};
use dbx_core::{Adapter, Error, Result, TenancyPolicy, TenantId, TenantManager, async_trait};

use crate::adapter::PgAdapter;
use crate::error::map_err;

/// PostgreSQL tenants as schemas of one database.
#[derive(Debug)]
pub struct PgTenants {
    root: PgAdapter,
    prefix: String,
    cache: TenantCache,
}

/// Schemas that are never a tenant's, whatever the prefix: the server's own.
fn is_system_schema(name: &str) -> bool {
    name == "public" || name == "information_schema" || name.starts_with("pg_")
}

impl PgTenants {
    /// Tenants of `root`'s database, with `root`'s configured schema prefix.
    pub fn new(root: PgAdapter, cache: TenantCacheConfig) -> Result<Self> {
        let prefix = root.shared.config.tenant_schema_prefix.clone();
        dbx_core::tenancy::validate_prefix(&prefix, "tenant-schema-prefix")?;
        if prefix.starts_with("pg_") {
            return Err(Error::Config(format!(
                "tenant-schema-prefix {prefix:?} starts with pg_, which PostgreSQL keeps for \
                 its own schemas; choose another prefix"
            )));
        }
        Ok(Self {
            root,
            prefix,
            cache: TenantCache::new(cache),
        })
    }

    /// The schema name of a tenant, unquoted. A name that is a system schema or the root
    /// adapter's own is refused, so that no tenant operation can reach either.
    pub fn schema_of(&self, id: &TenantId) -> Result<String> {
        // PostgreSQL truncates identifiers past 63 bytes, which could merge two tenants.
        let schema = dbx_core::tenancy::prefixed_name(&self.prefix, id, 63, "schema")?;
        if is_system_schema(&schema) || self.is_root_schema(&schema) {
            return Err(Error::InvalidTenant {
                id: id.to_string(),
                reason: format!(
                    "with the prefix {:?} it would be schema {schema}, which is the server's or \
                     the root database's own",
                    self.prefix
                ),
            });
        }
        Ok(schema)
    }

    fn is_root_schema(&self, schema: &str) -> bool {
        self.root
            .search_path
            .as_deref()
            .is_some_and(|path| path.trim_matches('"') == schema)
    }

    fn quoted(schema: &str) -> String {
        // The id rule and the prefix rule leave nothing that needs escaping; the quotes keep
        // '-' and leading digits legal.
        format!("\"{schema}\"")
    }

    async fn exists(&self, schema: &str) -> Result<bool> {
        let conn = self.root.checkout().await?;
        let row = conn
            .client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .await
            .map_err(map_err)?;
        Ok(row.is_some())
    }
}

fn missing(id: &TenantId) -> Error {
    Error::InvalidTenant {
        id: id.to_string(),
        reason: "no such tenant; create it first".to_owned(),
    }
}

#[async_trait]
impl TenantManager for PgTenants {
    fn policy(&self) -> TenancyPolicy {
        TenancyPolicy::SchemaPerTenant
    }

    async fn create_tenant(&self, id: &TenantId) -> Result<()> {
        let schema = self.schema_of(id)?;
        let conn = self.root.checkout().await?;
        match conn
            .client
            .batch_execute(&format!("CREATE SCHEMA {}", Self::quoted(&schema)))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.code().is_some_and(|c| c.code() == "42P06") => Err(Error::InvalidTenant {
                id: id.to_string(),
                reason: "the tenant already exists".to_owned(),
            }),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<()> {
        let schema = self.schema_of(id)?;
        if let Some(open) = self.cache.remove(id).await {
            open.close().await;
        }
        let conn = self.root.checkout().await?;
        match conn
            .client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", Self::quoted(&schema)))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.code().is_some_and(|c| c.code() == "3F000") => Err(missing(id)),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn list_tenants(&self) -> Result<Vec<TenantId>> {
        let conn = self.root.checkout().await?;
        let rows = conn
            .client
            .query(
                "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname",
                &[&self.prefix],
            )
            .await
            .map_err(map_err)?;
        let mut ids: Vec<TenantId> = rows
            .iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|name| !is_system_schema(name) && !self.is_root_schema(name))
            .filter_map(|name| {
                name.strip_prefix(&self.prefix)
                    .and_then(|s| TenantId::new(s).ok())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    async fn tenant_exists(&self, id: &TenantId) -> Result<bool> {
        self.exists(&self.schema_of(id)?).await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>> {
        let schema = self.schema_of(id)?;
        self.cache
            .get_or_open(id, async {
                if !self.exists(&schema).await? {
                    return Err(missing(id));
                }
                Ok(Arc::new(self.root.with_search_path(Self::quoted(&schema))) as Arc<dyn Adapter>)
            })
            .await
    }

    fn cache_stats(&self) -> TenantCacheStats {
        self.cache.stats()
    }

    async fn close_all(&self) {
        self.cache.close_all().await;
    }
}
