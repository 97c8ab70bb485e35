//! Schema-per-tenant: tenant `acme` is schema `t_acme` (the prefix is configurable).
//!
//! With per-tenant logins (the default), each tenant has a role of its own that owns its
//! schema, and a small pool of its own whose connections log in as that role (see
//! [`roles`](crate::roles)); all tenants' pools together stay within one budget of `max-size`
//! connections. With a shared login, tenant adapters share the root adapter's pool, and each
//! checkout resets a connection that served another tenant and sets its `search_path` to
//! the tenant's schema alone (see the crate docs).

use std::sync::Arc;

use dbx_core::pool::{Budget, LoginSecret};
use dbx_core::tenancy::{TenantCache, TenantCacheConfig, TenantCacheStats};
use dbx_core::{
    Adapter, Error, Result, TenancyPolicy, TenantId, TenantLogin, TenantManager, async_trait,
};
use tokio::sync::OnceCell;

use crate::adapter::PgAdapter;
use crate::error::map_err;
use crate::pool::RoleLogin;
use crate::roles;

/// PostgreSQL tenants as schemas of one database.
#[derive(Debug)]
pub struct PgTenants {
    root: PgAdapter,
    prefix: String,
    cache: TenantCache,
    /// The connections all tenant logins' pools may open together.
    budget: Arc<Budget>,
    /// Set once the password store exists (per-tenant logins only).
    store: OnceCell<()>,
}

/// Schemas that are never a tenant's, whatever the prefix: the server's own and dbx's.
fn is_system_schema(name: &str) -> bool {
    name == "public"
        || name == "information_schema"
        || name == roles::STORE_SCHEMA
        || name.starts_with("pg_")
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
        let budget = Budget::new(root.shared.config.pool.max_size);
        Ok(Self {
            root,
            prefix,
            cache: TenantCache::new(cache),
            budget,
            store: OnceCell::new(),
        })
    }

    fn per_tenant_login(&self) -> bool {
        self.root.shared.config.tenant_login == TenantLogin::PerTenant
    }

    /// The login role of a tenant's schema.
    fn role_of(&self, schema: &str, id: &TenantId) -> Result<String> {
        let dbname = self.root.shared.dbname.as_str();
        roles::role_of(schema, dbname, id)
    }

    async fn ensure_store(&self) -> Result<()> {
        self.store
            .get_or_try_init(|| async {
                let conn = self.root.checkout().await?;
                roles::ensure_store(&conn.client).await
            })
            .await
            .map(|_| ())
    }

    /// The adapter of an existing tenant schema, logging in as its role when tenants
    /// have their own.
    async fn open(&self, id: &TenantId, schema: &str) -> Result<PgAdapter> {
        let quoted = Self::quoted(schema);
        if !self.per_tenant_login() {
            return Ok(self.root.with_search_path(quoted));
        }
        self.ensure_store().await?;
        let role = self.role_of(schema, id)?;
        let share = self.root.shared.config.pool.tenant_share();
        let fresh = LoginSecret::generate()?;
        let password = {
            let mut conn = self.root.checkout().await?;
            roles::login(&mut conn.client, schema, &role, share, fresh)
                .await
                .map_err(|e| role_error(e, id))?
        };
        let login = RoleLogin {
            role,
            password,
            budget: self.budget.clone(),
        };
        self.root.with_login(quoted, &login).await
    }

    /// Connections the tenant logins' pools may still open.
    pub fn budget_free(&self) -> usize {
        self.budget.free()
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

/// A failure to make or use a tenant's role, with what to do when dbx's login lacks the
/// right to manage roles.
fn role_error(e: tokio_postgres::Error, id: &TenantId) -> Error {
    if e.code().is_some_and(|c| c.code() == "42501") {
        return Error::PermissionDenied(format!(
            "tenant {id}: dbx's PostgreSQL login may not create or manage roles ({e}); grant it              CREATEROLE, or set tenant-login = \"shared\" to run every tenant as this login"
        ));
    }
    map_err(e)
}

#[async_trait]
impl TenantManager for PgTenants {
    fn policy(&self) -> TenancyPolicy {
        TenancyPolicy::SchemaPerTenant
    }

    async fn create_tenant(&self, id: &TenantId) -> Result<()> {
        let schema = self.schema_of(id)?;
        let made = if self.per_tenant_login() {
            self.ensure_store().await?;
            let role = self.role_of(&schema, id)?;
            let share = self.root.shared.config.pool.tenant_share();
            let password = LoginSecret::generate()?;
            let mut conn = self.root.checkout().await?;
            roles::create(&mut conn.client, &schema, &role, share, &password).await
        } else {
            let conn = self.root.checkout().await?;
            conn.client
                .batch_execute(&format!("CREATE SCHEMA {}", Self::quoted(&schema)))
                .await
        };
        match made {
            Ok(()) => Ok(()),
            // 42P06: the schema exists; 42710: so does a role of that name.
            Err(e)
                if e.code()
                    .is_some_and(|c| ["42P06", "42710"].contains(&c.code())) =>
            {
                Err(Error::TenantExists { id: id.to_string() })
            }
            Err(e) => Err(role_error(e, id)),
        }
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<()> {
        let schema = self.schema_of(id)?;
        if let Some(open) = self.cache.remove(id).await {
            open.close().await;
        }
        let mut conn = self.root.checkout().await?;
        let dropped = if self.per_tenant_login() {
            self.ensure_store().await?;
            let role = self.role_of(&schema, id)?;
            roles::drop(&mut conn.client, &schema, &role).await
        } else {
            conn.client
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", Self::quoted(&schema)))
                .await
        };
        match dropped {
            Ok(()) => Ok(()),
            Err(e) if e.code().is_some_and(|c| c.code() == "3F000") => {
                Err(Error::no_such_tenant(id))
            }
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
                    return Err(Error::no_such_tenant(id));
                }
                Ok(Arc::new(self.open(id, &schema).await?) as Arc<dyn Adapter>)
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
