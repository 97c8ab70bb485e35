//! From a [`DbxConfig`] to a running [`DatabaseService`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dbx_core::{Error, Result};

use crate::config::{AdapterConfig, DbxConfig};
use crate::service::{AdapterSetup, DatabaseService};

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(
    config: &crate::config::SqliteAdapterConfig,
    data_dir: &Path,
) -> Result<AdapterSetup> {
    use dbx_sqlite::{SqliteAdapter, SqliteOptions, SqliteTenants};
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let template = SqliteOptions::default()
        .journal_mode(config.journal_mode)
        .synchronous(config.synchronous)
        .foreign_keys(config.foreign_keys)
        .busy_timeout(config.busy_timeout)
        .max_readers(config.max_readers)
        .max_session_transactions(config.max_session_transactions)
        .allow_attach(config.allow_attach)
        .max_value_bytes(config.max_value_bytes);
    let path = resolve(data_dir, &config.path);
    // `DATABASE_FILE=/data/state/app.db` on a fresh volume: the directory is made, as
    // `data-dir` is.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let root = SqliteAdapter::open(SqliteOptions {
        path,
        ..template.clone()
    })
    .await?;
    let tenants = SqliteTenants::open(
        resolve(data_dir, &config.tenants_dir),
        template,
        config.cache,
    )
    .await?;
    Ok(AdapterSetup {
        root: Arc::new(root),
        tenants: Arc::new(tenants),
        default: config.default,
        auto_create_tenants: config.auto_create_tenants,
    })
}

#[cfg(feature = "libsql")]
async fn open_libsql(config: &crate::config::LibsqlAdapterConfig) -> Result<AdapterSetup> {
    use dbx_libsql::{LibsqlAdapter, LibsqlConfig, LibsqlTenants};
    let url = config
        .url
        .clone()
        .ok_or_else(|| Error::Config("`url` is required: the primary's http:// URL".to_owned()))?;
    let mut connection = LibsqlConfig::new(&url);
    connection.auth_token = config.auth_token.clone();
    connection.replicas = config.replicas.clone();
    let root = LibsqlAdapter::connect(connection.clone()).await?;
    // Namespaces are administered on the primary (sqld's admin API on the main listener, as
    // `dbx serve` has it).
    let tenants = LibsqlTenants::new(connection, url, config.cache);
    Ok(AdapterSetup {
        root: Arc::new(root),
        tenants: Arc::new(tenants),
        default: config.default,
        auto_create_tenants: config.auto_create_tenants,
    })
}

async fn open_one(adapter: &AdapterConfig, data_dir: &Path) -> Result<AdapterSetup> {
    match adapter {
        #[cfg(feature = "sqlite")]
        AdapterConfig::Sqlite(config) => open_sqlite(config, data_dir).await,
        #[cfg(feature = "postgres")]
        AdapterConfig::Postgres(config) => {
            let root = dbx_postgres::PgAdapter::connect(config.connection.clone()).await?;
            let tenants = dbx_postgres::PgTenants::new(root.clone(), config.cache)?;
            Ok(AdapterSetup {
                root: Arc::new(root),
                tenants: Arc::new(tenants),
                default: config.default,
                auto_create_tenants: config.auto_create_tenants,
            })
        }
        #[cfg(feature = "mysql")]
        AdapterConfig::Mysql(config) => {
            let root = dbx_mysql::MySqlAdapter::connect(config.connection.clone()).await?;
            let tenants = dbx_mysql::MySqlTenants::new(root.clone(), config.cache)?;
            Ok(AdapterSetup {
                root: Arc::new(root),
                tenants: Arc::new(tenants),
                default: config.default,
                auto_create_tenants: config.auto_create_tenants,
            })
        }
        #[cfg(feature = "libsql")]
        AdapterConfig::Libsql(config) => open_libsql(config).await,
        #[cfg(not(feature = "libsql"))]
        AdapterConfig::Libsql(_) => Err(Error::Unsupported {
            backend: dbx_core::AdapterKind::Libsql,
            what: "this build has no libSQL adapter (the `libsql` feature is off); enable it, or \
                   remove the libsql adapter from the configuration (or unset DATABASE_LIBSQL_URL)"
                .to_owned(),
        }),
    }
}

impl DatabaseService {
    /// Opens every adapter of a validated configuration.
    pub async fn open(config: &DbxConfig) -> Result<Arc<Self>> {
        let mut builder = DatabaseService::builder();
        for adapter in &config.adapters {
            let setup = open_one(adapter, &config.data_dir)
                .await
                .map_err(|e| match e {
                    Error::Config(msg) => {
                        Error::Config(format!("{} adapter: {msg}", adapter.kind()))
                    }
                    other => other,
                })?;
            builder = builder.adapter(setup);
        }
        Ok(Arc::new(builder.build()?))
    }
}
