//! The configuration types. Every option is documented here; `docs/configuration.md` and
//! the JSON Schema are derived from the same text.

use std::path::PathBuf;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{AdapterKind, Error, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

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

/// `dbx serve`'s settings. Relative paths are relative to the working directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on, `host:port`. Without `auth-keys` only a loopback address is
    /// allowed.
    ///
    /// Default: `127.0.0.1:8080`.
    pub listen: String,
    /// A file of Ed25519 public keys (PEM, or one raw base64 key) that sign access tokens, for
    /// Hrana, REST and the Studio alike. With keys every request needs a token.
    ///
    /// Default: none (no tokens; loopback only).
    pub auth_keys: Option<PathBuf>,
    /// The migrations directory whose status the REST API and the Studio report.
    ///
    /// Default: `migrations`.
    pub migrations: PathBuf,
    /// How long requests in flight get to finish after SIGTERM or Ctrl-C.
    ///
    /// Default: `10s`.
    #[serde(with = "dbx_core::serde_duration::plain")]
    #[schemars(with = "String")]
    pub shutdown_timeout: Duration,
    /// The most row writes one `POST /api/databases/{db}/changes` request may carry.
    ///
    /// Default: 1000.
    pub max_changes: usize,
    /// The most statements one `POST /api/databases/{db}/script` may hold.
    ///
    /// Default: 100.
    pub max_statements: usize,
    /// Bytes of one request body at most, REST and Hrana alike; beyond, 413.
    ///
    /// Default: 10485760 (10 MiB).
    pub max_body_bytes: usize,
    /// Bytes of row data one answer may carry (text and blobs by length, other values as
    /// 8): a REST statement, script or page of rows, or a Hrana statement, batch or cursor.
    /// Beyond, the request fails and says so.
    ///
    /// Default: 10485760 (10 MiB).
    pub max_result_bytes: usize,
    /// The Hrana (libSQL protocol) server's limits.
    pub hrana: HranaConfig,
}

/// The Hrana server's limits (`docs/hrana.md` gives each one's error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct HranaConfig {
    /// An HTTP stream unused this long expires and rolls back its open transaction.
    ///
    /// Default: `10s`.
    #[serde(with = "dbx_core::serde_duration::plain")]
    #[schemars(with = "String")]
    pub stream_idle_timeout: Duration,
    /// Open HTTP streams at most; beyond, new ones get 503 `STREAMS_EXHAUSTED`.
    ///
    /// Default: 1000.
    pub max_streams: usize,
    /// SQL texts one stream may store with `store_sql`.
    ///
    /// Default: 50.
    pub max_stored_sql: usize,
    /// SQL texts one WebSocket connection may store, shared by its streams.
    ///
    /// Default: 150.
    pub ws_max_stored_sql: usize,
    /// Bytes of one stored SQL text.
    ///
    /// Default: 65536.
    pub max_sql_bytes: usize,
    /// Steps in one batch or cursor; beyond, `BATCH_TOO_LARGE` before any step runs.
    ///
    /// Default: 10000.
    pub max_batch_steps: usize,
    /// Entries one WebSocket `fetch_cursor` returns at most.
    ///
    /// Default: 1000.
    pub max_cursor_fetch: usize,
    /// Serve the protobuf encoding; off, clients fall back to JSON.
    ///
    /// Default: true.
    #[serde(default = "yes")]
    pub protobuf: bool,
    /// Also read the namespace from `Host` when it ends with this suffix (`db.example.com`:
    /// host `acme.db.example.com` is tenant `acme`).
    ///
    /// Default: none (the `x-namespace` header only).
    pub namespace_host_suffix: Option<String>,
}

impl Default for HranaConfig {
    fn default() -> Self {
        Self {
            stream_idle_timeout: Duration::from_secs(10),
            max_streams: 1000,
            max_stored_sql: 50,
            ws_max_stored_sql: 150,
            max_sql_bytes: 64 * 1024,
            max_batch_steps: 10_000,
            max_cursor_fetch: 1000,
            protobuf: true,
            namespace_host_suffix: None,
        }
    }
}

impl ServerConfig {
    /// `listen` as a socket address.
    pub fn listen_addr(&self) -> Result<std::net::SocketAddr> {
        self.listen.parse().map_err(|_| {
            Error::Config(format!(
                "server.listen = {:?} is not an IP address and port; write it like \"127.0.0.1:8080\" or \"[::1]:8080\"",
                self.listen
            ))
        })
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            auth_keys: None,
            migrations: PathBuf::from("migrations"),
            shutdown_timeout: Duration::from_secs(10),
            max_changes: 1000,
            max_statements: 100,
            max_body_bytes: 10 * 1024 * 1024,
            max_result_bytes: 10 * 1024 * 1024,
            hrana: HranaConfig::default(),
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
    #[serde(default = "yes")]
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
    #[serde(default = "yes")]
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
    /// Let SQL attach other database files (`ATTACH`) and write copies (`VACUUM INTO`).
    /// Off, a tenant's SQL cannot reach any file but its own.
    ///
    /// Default: false.
    pub allow_attach: bool,
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
            allow_attach: options.allow_attach,
            cache: TenantCacheConfig::default(),
        }
    }
}

/// PostgreSQL settings.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct PostgresAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    #[serde(default = "yes")]
    pub auto_create_tenants: bool,
    /// Server, credentials, TLS, tenant schema prefix and pool.
    pub connection: dbx_postgres::PgConfig,
    /// The tenant cache.
    pub cache: TenantCacheConfig,
}

/// MySQL / MariaDB settings.
#[cfg(feature = "mysql")]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct MysqlAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    #[serde(default = "yes")]
    pub auto_create_tenants: bool,
    /// Server, credentials, TLS, tenant database prefix and pool.
    pub connection: dbx_mysql::MySqlConfig,
    /// The tenant cache.
    pub cache: TenantCacheConfig,
}

/// libSQL settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct LibsqlAdapterConfig {
    /// This adapter serves requests that name no adapter.
    ///
    /// Default: false (true when it is the only adapter).
    pub default: bool,
    /// Create a tenant on its first access instead of refusing it.
    ///
    /// Default: true.
    #[serde(default = "yes")]
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
