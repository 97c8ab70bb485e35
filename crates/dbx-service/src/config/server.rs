//! `dbx serve`'s settings: the `[server]` table.

use std::path::PathBuf;
use std::time::Duration;

use dbx_core::{Error, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// The migrations directory, for `dbx migrate` (unless `--source` says otherwise) and for
    /// the REST API and the Studio, which report and apply the same migrations.
    ///
    /// Default: `migrations`.
    pub migrations: PathBuf,
    /// The modules directory (`modules/*/database/`), for `dbx migrate`, the REST API and
    /// the Studio alike.
    ///
    /// Default: `modules` when that directory exists.
    pub modules: Option<PathBuf>,
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
    /// Bytes of row data one answer may carry, counted as the rows take memory (56 a row, 32
    /// a value, text and blobs by length plus 16): a REST statement, script or page of rows,
    /// or a Hrana statement, batch or cursor.
    /// Beyond, the request fails and says so.
    ///
    /// Default: 10485760 (10 MiB).
    pub max_result_bytes: usize,
    /// How long one statement may run, by the role of the token that sent it, over REST,
    /// Hrana and the Studio alike. A statement past its limit is cancelled on the database
    /// server.
    pub statement_timeout: StatementTimeouts,
    /// Connections open at once, HTTP and WebSocket. At the cap, the connection that has
    /// waited longest without a request is closed to make room. dbx raises its descriptor
    /// limit to the hard limit at start, and keeps this cap under three quarters of it.
    ///
    /// Default: 10000.
    pub max_connections: usize,
    /// How long a client has to send a request's head (after connecting, and between the
    /// requests of a kept-alive connection) before the connection is closed.
    ///
    /// Default: `10s`.
    #[serde(with = "dbx_core::serde_duration::plain")]
    #[schemars(with = "String")]
    pub header_read_timeout: Duration,
    /// Without `auth-keys`, host names accepted beside `localhost` and loopback addresses
    /// (a request naming any other host is refused, which defeats DNS rebinding).
    ///
    /// Default: none.
    pub allowed_hosts: Vec<String>,
    /// Without `auth-keys`, web origins (`https://app.example`) whose pages may write and
    /// open WebSockets, beside the server's own.
    ///
    /// Default: none.
    pub allowed_origins: Vec<String>,
    /// Where Hrana, the REST API, the Studio and `/metrics` are mounted: `/database/api`
    /// serves Hrana at `/database/api/v3/pipeline` (a client given
    /// `http://host/database/api/pipeline` finds it), WebSockets at `/database/api` and
    /// `/database/api/ws`, and the Studio at `/database/api/studio/`, as seed 000's workers
    /// expect. `/health` answers at the root too, for load balancers.
    ///
    /// Default: none (everything at the root).
    pub base_path: Option<String>,
    /// The Hrana (libSQL protocol) server's limits.
    pub hrana: HranaConfig,
}

/// Statement time limits by role; `"off"` for none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct StatementTimeouts {
    /// Administrator tokens, and every caller of a server without keys.
    ///
    /// Default: `5m`.
    #[serde(with = "dbx_core::serde_duration::option")]
    #[schemars(with = "String")]
    pub admin: Option<Duration>,
    /// Read-write tokens.
    ///
    /// Default: `30s`.
    #[serde(with = "dbx_core::serde_duration::option")]
    #[schemars(with = "String")]
    pub rw: Option<Duration>,
    /// Read-only tokens.
    ///
    /// Default: `30s`.
    #[serde(with = "dbx_core::serde_duration::option")]
    #[schemars(with = "String")]
    pub ro: Option<Duration>,
}

impl Default for StatementTimeouts {
    fn default() -> Self {
        Self {
            admin: Some(Duration::from_secs(300)),
            rw: Some(Duration::from_secs(30)),
            ro: Some(Duration::from_secs(30)),
        }
    }
}

/// The Hrana server's limits (`docs/hrana.md` gives each one's error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct HranaConfig {
    /// A stream unused this long lets go of its database connection: an HTTP stream
    /// expires, rolling back its open transaction; a WebSocket stream expires if it is inside
    /// a transaction, and otherwise opens a new connection at its next request.
    ///
    /// Default: `10s`.
    #[serde(with = "dbx_core::serde_duration::plain")]
    #[schemars(with = "String")]
    pub stream_idle_timeout: Duration,
    /// Open streams at most, HTTP and WebSocket together; beyond, new ones get
    /// `STREAMS_EXHAUSTED` (503 over HTTP).
    ///
    /// Default: 1000.
    pub max_streams: usize,
    /// Streams one WebSocket connection may have open.
    ///
    /// Default: 32.
    pub ws_max_streams: usize,
    /// How long a WebSocket connection has to send `hello` before it is closed.
    ///
    /// Default: `10s`.
    #[serde(with = "dbx_core::serde_duration::plain")]
    #[schemars(with = "String")]
    pub hello_timeout: Duration,
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
            ws_max_streams: 32,
            hello_timeout: Duration::from_secs(10),
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
    /// `base-path` checked: one or more `/segment`s of letters, digits, `-`, `_` and `.`,
    /// without a trailing `/`; `None` when unset (or `/`).
    pub fn base_path(&self) -> Result<Option<String>> {
        check_base_path(self.base_path.as_deref())
    }

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

/// Checks a base path (see [`ServerConfig::base_path`]).
pub fn check_base_path(path: Option<&str>) -> Result<Option<String>> {
    let Some(path) = path
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let valid = path.starts_with('/')
        && path[1..].split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if !valid {
        return Err(Error::Config(format!(
            "server.base-path = {path:?} is not a path like \"/database/api\": segments of \
             letters, digits, '-', '_' and '.', each after a '/'"
        )));
    }
    Ok(Some(path.to_owned()))
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            auth_keys: None,
            migrations: PathBuf::from("migrations"),
            modules: None,
            shutdown_timeout: Duration::from_secs(10),
            max_changes: 1000,
            max_statements: 100,
            max_body_bytes: 10 * 1024 * 1024,
            max_result_bytes: 10 * 1024 * 1024,
            statement_timeout: StatementTimeouts::default(),
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            base_path: None,
            hrana: HranaConfig::default(),
        }
    }
}
