//! The configuration types. Every option is documented here; `docs/configuration.md` and
//! the JSON Schema are derived from the same text.

use std::path::PathBuf;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{AdapterKind, Error, Result};
use schemars::JsonSchema;

use super::server::ServerConfig;
use serde::{Deserialize, Serialize};

/// The whole configuration of a dbx deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct DbxConfig {
    /// Where SQLite databases live; relative SQLite paths are resolved against it.
    ///
    /// Default: `./dbx-data`.
    pub data_dir: PathBuf,
    /// The adapters, at most one of each kind, exactly one of them the default.
    /// Empty means one SQLite adapter in `data-dir`.
    pub adapters: Vec<AdapterConfig>,
    /// `dbx serve`: where it listens and how it checks tokens. Its command-line options win.
    pub server: ServerConfig,
}

impl Default for DbxConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./dbx-data"),
            adapters: Vec::new(),
            server: ServerConfig::default(),
        }
    }
}

/// One adapter, selected by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AdapterConfig {
    /// SQLite files: the root database and one file per tenant.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteAdapterConfig),
    /// PostgreSQL: the root database and one schema per tenant.
    #[cfg(feature = "postgres")]
    Postgres(PostgresAdapterConfig),
    /// MySQL or MariaDB: the root database and one database per tenant.
    #[cfg(feature = "mysql")]
    Mysql(MysqlAdapterConfig),
    /// libSQL over Hrana: the primary, read replicas and one namespace per tenant.
    Libsql(LibsqlAdapterConfig),
}

/// SQLite settings.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct SqliteAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    pub auto_create_tenants: bool,
    /// The root database, relative to `data-dir` unless absolute.
    ///
    /// Default: `dbx.db`.
    pub path: PathBuf,
    /// The directory of tenant files (`<tenant>.db`), relative to `data-dir` unless absolute.
    ///
    /// Default: `tenants`.
    pub tenants_dir: PathBuf,
    /// `wal`, `delete`, `truncate` or `memory`.
    ///
    /// Default: `wal`.
    pub journal_mode: dbx_sqlite::JournalMode,
    /// `off`, `normal`, `full` or `extra`.
    ///
    /// Default: `normal`.
    pub synchronous: dbx_sqlite::Synchronous,
    /// Enforce foreign keys.
    ///
    /// Default: true.
    pub foreign_keys: bool,
    /// How long to wait for a lock.
    ///
    /// Default: `5s`.
    #[serde(with = "dbx_core::serde_duration::plain")]
    #[schemars(with = "String")]
    pub busy_timeout: Duration,
    /// Read connections per database.
    ///
    /// Default: 4.
    pub max_readers: usize,
    /// Sessions (Hrana streams) that may be inside a transaction at once per database, each
    /// on a connection of its own; one past the limit waits `busy-timeout`, then fails busy.
    ///
    /// Default: 16.
    pub max_session_transactions: usize,
    /// Let SQL attach other database files (`ATTACH`) and write copies (`VACUUM INTO`).
    /// Off, a tenant's SQL cannot reach any file but its own.
    ///
    /// Default: false.
    pub allow_attach: bool,
    /// The largest text or blob one value may be, so that an expression such as
    /// `randomblob(999999999)` fails instead of allocating its size.
    ///
    /// Default: 67108864 (64 MiB).
    pub max_value_bytes: usize,
    /// The tenant cache.
    pub cache: TenantCacheConfig,
}

#[cfg(feature = "sqlite")]
impl Default for SqliteAdapterConfig {
    fn default() -> Self {
        let options = dbx_sqlite::SqliteOptions::default();
        Self {
            default: false,
            auto_create_tenants: true,
            path: PathBuf::from("dbx.db"),
            tenants_dir: PathBuf::from("tenants"),
            journal_mode: options.journal_mode,
            synchronous: options.synchronous,
            foreign_keys: options.foreign_keys,
            busy_timeout: options.busy_timeout,
            max_readers: options.max_readers,
            max_session_transactions: options.max_session_transactions,
            allow_attach: options.allow_attach,
            max_value_bytes: options.max_value_bytes,
            cache: TenantCacheConfig::default(),
        }
    }
}

/// PostgreSQL settings.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct PostgresAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    pub auto_create_tenants: bool,
    /// Server, credentials, TLS, tenant schema prefix and pool.
    pub connection: dbx_postgres::PgConfig,
    /// The tenant cache.
    pub cache: TenantCacheConfig,
}

/// MySQL / MariaDB settings.
#[cfg(feature = "mysql")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct MysqlAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    pub auto_create_tenants: bool,
    /// Server, credentials, TLS, tenant database prefix and pool.
    pub connection: dbx_mysql::MySqlConfig,
    /// The tenant cache.
    pub cache: TenantCacheConfig,
}

/// libSQL settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct LibsqlAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    pub auto_create_tenants: bool,
    /// The primary's URL (`http://`, `https://`, `libsql://`).
    ///
    /// Default: none (required).
    pub url: Option<String>,
    /// Read replicas' URLs; reads outside transactions are spread over them.
    ///
    /// Default: none.
    pub replicas: Vec<String>,
    /// The bearer token sent to the servers.
    ///
    /// Default: none.
    pub auth_token: Option<String>,
    /// The tenant cache.
    pub cache: TenantCacheConfig,
}

// One place for each adapter's defaults: `#[serde(default)]` takes missing fields from
// these, so a setting left out of `dbx.toml` and an adapter added by the environment get
// the same values.
#[cfg(feature = "postgres")]
impl Default for PostgresAdapterConfig {
    fn default() -> Self {
        Self {
            default: false,
            auto_create_tenants: true,
            connection: dbx_postgres::PgConfig::default(),
            cache: TenantCacheConfig::default(),
        }
    }
}

#[cfg(feature = "mysql")]
impl Default for MysqlAdapterConfig {
    fn default() -> Self {
        Self {
            default: false,
            auto_create_tenants: true,
            connection: dbx_mysql::MySqlConfig::default(),
            cache: TenantCacheConfig::default(),
        }
    }
}

impl Default for LibsqlAdapterConfig {
    fn default() -> Self {
        Self {
            default: false,
            auto_create_tenants: true,
            url: None,
            replicas: Vec::new(),
            auth_token: None,
            cache: TenantCacheConfig::default(),
        }
    }
}

impl AdapterConfig {
    /// The kind.
    pub fn kind(&self) -> AdapterKind {
        match self {
            #[cfg(feature = "sqlite")]
            AdapterConfig::Sqlite(_) => AdapterKind::Sqlite,
            #[cfg(feature = "postgres")]
            AdapterConfig::Postgres(_) => AdapterKind::Postgres,
            #[cfg(feature = "mysql")]
            AdapterConfig::Mysql(_) => AdapterKind::Mysql,
            AdapterConfig::Libsql(_) => AdapterKind::Libsql,
        }
    }

    /// Whether it is marked the default.
    pub fn is_default(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            AdapterConfig::Sqlite(c) => c.default,
            #[cfg(feature = "postgres")]
            AdapterConfig::Postgres(c) => c.default,
            #[cfg(feature = "mysql")]
            AdapterConfig::Mysql(c) => c.default,
            AdapterConfig::Libsql(c) => c.default,
        }
    }

    pub(crate) fn set_default(&mut self, on: bool) {
        match self {
            #[cfg(feature = "sqlite")]
            AdapterConfig::Sqlite(c) => c.default = on,
            #[cfg(feature = "postgres")]
            AdapterConfig::Postgres(c) => c.default = on,
            #[cfg(feature = "mysql")]
            AdapterConfig::Mysql(c) => c.default = on,
            AdapterConfig::Libsql(c) => c.default = on,
        }
    }

    /// Whether tenants are created on first access.
    pub fn auto_create_tenants(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            AdapterConfig::Sqlite(c) => c.auto_create_tenants,
            #[cfg(feature = "postgres")]
            AdapterConfig::Postgres(c) => c.auto_create_tenants,
            #[cfg(feature = "mysql")]
            AdapterConfig::Mysql(c) => c.auto_create_tenants,
            AdapterConfig::Libsql(c) => c.auto_create_tenants,
        }
    }
}

impl DbxConfig {
    /// The adapter of `kind`, if configured.
    pub fn adapter(&self, kind: AdapterKind) -> Option<&AdapterConfig> {
        self.adapters.iter().find(|a| a.kind() == kind)
    }

    /// Makes `kind` the only default. `source` names where the choice came from, for the
    /// error when that adapter is not configured.
    pub(crate) fn make_default(&mut self, kind: AdapterKind, source: &str) -> Result<()> {
        if self.adapter(kind).is_none() {
            return Err(Error::Config(format!(
                "{source} asks for {kind} as the default adapter, but no {kind} adapter is configured"
            )));
        }
        for adapter in &mut self.adapters {
            adapter.set_default(adapter.kind() == kind);
        }
        Ok(())
    }

    /// Each kind at most once, exactly one default (implied when there is one adapter).
    pub fn validate(&mut self) -> Result<()> {
        self.server.listen_addr()?;
        self.server.base_path()?;
        for (i, a) in self.adapters.iter().enumerate() {
            if let Some(j) = self.adapters[..i].iter().position(|b| b.kind() == a.kind()) {
                return Err(Error::Config(format!(
                    "adapters[{j}] and adapters[{i}] are both kind {}: each kind may appear once",
                    a.kind()
                )));
            }
        }
        let defaults: Vec<String> = self
            .adapters
            .iter()
            .enumerate()
            .filter(|(_, a)| a.is_default())
            .map(|(i, a)| format!("adapters[{i}] ({})", a.kind()))
            .collect();
        match (defaults.len(), self.adapters.len()) {
            (_, 0) => Err(Error::Config("no adapter is configured".to_owned())),
            (0, 1) => {
                self.adapters[0].set_default(true);
                Ok(())
            }
            (1, _) => Ok(()),
            (0, _) => Err(Error::Config(format!(
                "none of the adapters ({}) is marked default: set default = true on exactly one",
                self.adapters
                    .iter()
                    .map(|a| a.kind().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            _ => Err(Error::Config(format!(
                "{} are all marked default: set default = true on exactly one",
                defaults.join(" and ")
            ))),
        }
    }

    /// The default adapter's kind (after validation).
    pub fn default_kind(&self) -> Option<AdapterKind> {
        self.adapters
            .iter()
            .find(|a| a.is_default())
            .map(AdapterConfig::kind)
    }
}
