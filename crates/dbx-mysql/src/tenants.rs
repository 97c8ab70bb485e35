//! Database-per-tenant: tenant `acme` is database `t_acme` on the server (prefix configurable).
//!
//! Tenant adapters share the root adapter's pool; each checkout switches the connection with
//! `USE` when it is in another database, so no connection carries one tenant's database into
//! another's work. The root adapter needs a database of its own for the same reason: MySQL
//! cannot switch a connection back to "no database".

use std::sync::Arc;

use dbx_core::pool::{Budget, LoginSecret};
use dbx_core::tenancy::{TenantCache, TenantCacheConfig, TenantCacheStats};
use dbx_core::{
    Adapter, Error, Result, TenancyPolicy, TenantId, TenantLogin, TenantManager, async_trait,
};
use mysql_async::prelude::Queryable;
use tokio::sync::OnceCell;

use crate::adapter::MySqlAdapter;
use crate::error::map_err;
use crate::pool::UserLogin;
use crate::users;

/// Databases that are never a tenant's, whatever the prefix: the server's own and dbx's.
const SYSTEM_DATABASES: &[&str] = &[
    "mysql",
    "sys",
    "information_schema",
    "performance_schema",
    users::STORE_DATABASE,
];

/// MySQL tenants as databases on one server.
#[derive(Debug)]
pub struct MySqlTenants {
    root: MySqlAdapter,
    prefix: String,
    cache: TenantCache,
    /// The connections all tenant logins' pools may open together.
    budget: Arc<Budget>,
    /// Set once the password store exists (per-tenant logins only).
    store: OnceCell<()>,
}

impl MySqlTenants {
    /// Tenants on `root`'s server, with `root`'s configured database prefix.
    pub fn new(root: MySqlAdapter, cache: TenantCacheConfig) -> Result<Self> {
        let prefix = root.shared.config.tenant_database_prefix.clone();
        dbx_core::tenancy::validate_prefix(&prefix, "tenant-database-prefix")?;
        if root.shared.home.is_none() {
            return Err(Error::Config(
                "MySQL tenants need the root adapter to have a database (set `database`, or name one in the URL), \
                 so that pooled connections can be switched back to it"
                    .to_owned(),
            ));
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

    /// Makes or refreshes the tenant's user and returns its password.
    async fn login(&self, id: &TenantId, database: &str) -> Result<LoginSecret> {
        let mut conn = self.root.checkout().await?;
        self.store
            .get_or_try_init(|| async {
                users::ensure_store(&mut conn.conn)
                    .await
                    .map_err(|e| user_error(e, id))
            })
            .await?;
        let share = self.root.shared.config.pool.tenant_share();
        users::login(&mut conn.conn, database, share, LoginSecret::generate()?)
            .await
            .map_err(|e| user_error(e, id))
    }

    /// The adapter of an existing tenant database, logging in as its user when tenants
    /// have their own.
    async fn open(&self, id: &TenantId, database: String) -> Result<MySqlAdapter> {
        if !self.per_tenant_login() {
            return Ok(self.root.with_database(database));
        }
        let login = UserLogin {
            password: self.login(id, &database).await?,
            user: database.clone(),
            budget: self.budget.clone(),
        };
        self.root.with_login(database, &login).await
    }

    /// Connections the tenant logins' pools may still open.
    pub fn budget_free(&self) -> usize {
        self.budget.free()
    }

    /// The database name of a tenant. A name that is a system database or the root
    /// adapter's own is refused, so that no tenant operation can reach either.
    pub fn database_of(&self, id: &TenantId) -> Result<String> {
        let database = dbx_core::tenancy::prefixed_name(&self.prefix, id, 64, "database")?;
        if self.is_reserved(&database) {
            return Err(Error::InvalidTenant {
                id: id.to_string(),
                reason: format!(
                    "with the prefix {:?} it would be database {database}, which is the \
                     server's or the root database's own",
                    self.prefix
                ),
            });
        }
        Ok(database)
    }

    /// The server's own databases and the root adapter's: never a tenant's.
    fn is_reserved(&self, database: &str) -> bool {
        SYSTEM_DATABASES.contains(&database.to_ascii_lowercase().as_str())
            || self.root.shared.home.as_deref() == Some(database)
    }

    async fn exists(&self, database: &str) -> Result<bool> {
        let mut conn = self.root.checkout().await?;
        let found: Option<String> = conn
            .conn
            .exec_first(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (database,),
            )
            .await
            .map_err(map_err)?;
        Ok(found.is_some())
    }
}

/// A failure to make or use a tenant's user, with what to do when dbx's login lacks the
/// right to manage users.
fn user_error(e: mysql_async::Error, id: &TenantId) -> Error {
    if let mysql_async::Error::Server(server) = &e
        && [1044, 1045, 1142, 1227, 1410].contains(&server.code)
    {
        return Error::PermissionDenied(format!(
            "tenant {id}: dbx's MySQL login may not create users or grant ({}); grant it \
             CREATE USER and GRANT OPTION, or set tenant-login = \"shared\" to run every \
             tenant as this login",
            server.message
        ));
    }
    map_err(e)
}

#[async_trait]
impl TenantManager for MySqlTenants {
    fn policy(&self) -> TenancyPolicy {
        TenancyPolicy::DatabasePerTenant
    }

    async fn create_tenant(&self, id: &TenantId) -> Result<()> {
        let database = self.database_of(id)?;
        let mut conn = self.root.checkout().await?;
        // The id rule leaves nothing to escape; backticks keep '-' and leading digits legal.
        // utf8mb4 whatever the server's default: tenants hold text in every language.
        match conn
            .conn
            .query_drop(format!(
                "CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
            ))
            .await
        {
            Ok(()) if self.per_tenant_login() => {
                drop(conn);
                self.login(id, &database).await.map(|_| ())
            }
            Ok(()) => Ok(()),
            Err(mysql_async::Error::Server(e)) if e.code == 1007 => {
                Err(Error::TenantExists { id: id.to_string() })
            }
            Err(e) => Err(map_err(e)),
        }
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<()> {
        let database = self.database_of(id)?;
        if let Some(open) = self.cache.remove(id).await {
            open.close().await;
        }
        let mut conn = self.root.checkout().await?;
        if self.per_tenant_login() {
            users::ensure_store(&mut conn.conn)
                .await
                .map_err(|e| user_error(e, id))?;
            users::drop(&mut conn.conn, &database)
                .await
                .map_err(|e| user_error(e, id))?;
        }
        match conn
            .conn
            .query_drop(format!("DROP DATABASE `{database}`"))
            .await
        {
            Ok(()) => Ok(()),
            Err(mysql_async::Error::Server(e)) if e.code == 1008 => Err(Error::no_such_tenant(id)),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn list_tenants(&self) -> Result<Vec<TenantId>> {
        let mut conn = self.root.checkout().await?;
        let names: Vec<String> = conn
            .conn
            .exec(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(?)) = ? ORDER BY SCHEMA_NAME",
                (&self.prefix, &self.prefix),
            )
            .await
            .map_err(map_err)?;
        let mut ids: Vec<TenantId> = names
            .iter()
            .filter(|n| !self.is_reserved(n))
            .filter_map(|n| {
                n.strip_prefix(&self.prefix)
                    .and_then(|s| TenantId::new(s).ok())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    async fn tenant_exists(&self, id: &TenantId) -> Result<bool> {
        self.exists(&self.database_of(id)?).await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>> {
        let database = self.database_of(id)?;
        self.cache
            .get_or_open(id, async {
                if !self.exists(&database).await? {
                    return Err(Error::no_such_tenant(id));
                }
                Ok(Arc::new(self.open(id, database.clone()).await?) as Arc<dyn Adapter>)
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
