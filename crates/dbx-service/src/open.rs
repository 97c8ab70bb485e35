//! From a [`DbxConfig`] to a running [`DatabaseService`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dbx_core::{AdapterKind, Error, Result};

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
        .max_readers(config.max_readers);
    let root = SqliteAdapter::open(SqliteOptions {
        path: resolve(data_dir, &config.path),
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
        AdapterConfig::Libsql(_) => Err(Error::Unsupported {
            backend: AdapterKind::Libsql,
            what: "the libSQL adapter is not part of this build yet; remove the libsql adapter from the \
                   configuration (or unset DATABASE_LIBSQL_URL) to start"
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
