//! The Hrana server: [`router`] and [`serve`].

mod auth;
mod batch;
mod baton;
mod dialect;
mod errors;
mod guard;
mod http;
mod listen;
mod namespace;
mod stats;
mod stream;
mod token;
pub(crate) mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use dbx_core::{Adapter, TenantManager};

pub use auth::{AuthKeys, ROOT_NAMESPACE};
pub use guard::BrowserGuard;
pub use listen::{ListenLimits, serve_router};
pub use stats::StatsSnapshot;
pub use stream::Version;
pub use token::{TokenRefused, TokenRights};

/// Per-stream limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// SQL texts a stream may store with `store_sql`.
    ///
    /// Default: 50.
    pub max_stored_sql: usize,
    /// Bytes of one stored SQL text.
    ///
    /// Default: 64 KiB.
    pub max_sql_bytes: usize,
    /// Bytes of row data one statement may return, and one batch or cursor in all, counted as
    /// the rows take memory ([`dbx_core::row_bytes`]). Beyond, the statement fails with
    /// `RESPONSE_TOO_LARGE`, and a cursor ends with that error.
    ///
    /// Default: 10 MiB.
    pub max_result_bytes: usize,
    /// Steps in one batch or cursor; beyond, the request fails with `BATCH_TOO_LARGE` before
    /// any step runs.
    ///
    /// Default: 10,000.
    pub max_batch_steps: usize,
    /// Entries one WebSocket `fetch_cursor` returns at most, whatever `max_count` asks; the
    /// client fetches again for the rest.
    ///
    /// Default: 1,000.
    pub max_cursor_fetch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stored_sql: 50,
            max_sql_bytes: 64 * 1024,
            max_result_bytes: 10 * 1024 * 1024,
            max_batch_steps: 10_000,
            max_cursor_fetch: 1000,
        }
    }
}

/// How long one statement may run, by the role of the token that sent it. A statement past
/// its limit is cancelled on the database server and fails with `SQLITE_INTERRUPT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleTimeouts {
    /// Tokens that may write every namespace (and a server without keys).
    ///
    /// Default: 300 s.
    pub admin: Option<Duration>,
    /// Read-write tokens.
    ///
    /// Default: 30 s.
    pub read_write: Option<Duration>,
    /// Read-only tokens.
    ///
    /// Default: 30 s.
    pub read_only: Option<Duration>,
}

impl Default for RoleTimeouts {
    fn default() -> Self {
        Self {
            admin: Some(Duration::from_secs(300)),
            read_write: Some(Duration::from_secs(30)),
            read_only: Some(Duration::from_secs(30)),
        }
    }
}

/// Server settings. Every limit is explicit; exceeding one is a documented error.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// A stream unused this long lets go of its database connection. An HTTP stream
    /// expires; a WebSocket stream expires if it was inside a transaction (rolled back), and
    /// otherwise opens a new connection at its next request.
    ///
    /// Default: 10 s.
    pub stream_idle_timeout: Duration,
    /// How long an expired stream still answers `STREAM_EXPIRED` rather than "invalid baton".
    ///
    /// Default: 300 s.
    pub stream_tombstone: Duration,
    /// Open streams at most, over HTTP and WebSocket together; beyond, new HTTP streams get
    /// 503 `STREAMS_EXHAUSTED` and WebSocket `open_stream` that error.
    ///
    /// Default: 1,000.
    pub max_streams: usize,
    /// Streams one WebSocket connection may have open; beyond, `open_stream` fails with
    /// `STREAMS_EXHAUSTED`.
    ///
    /// Default: 32.
    pub ws_max_streams: usize,
    /// A WebSocket connection must send `hello` within this time, or it is closed.
    ///
    /// Default: 10 s.
    pub hello_timeout: Duration,
    /// How long one statement may run, by role.
    pub statement_timeout: RoleTimeouts,
    /// Bytes of a request body at most; beyond, 413.
    ///
    /// Default: 10 MiB.
    pub max_body_bytes: usize,
    /// Per-stream limits.
    pub limits: Limits,
    /// Serve the protobuf encoding (`/v3-protobuf/*`, `hrana3-protobuf`). Turned off, those
    /// paths answer 404, so clients that probe for protobuf fall back to JSON.
    ///
    /// Default: true.
    pub protobuf: bool,
    /// SQL texts one WebSocket connection may store (shared by its streams).
    ///
    /// Default: 150.
    pub ws_max_stored_sql: usize,
    /// Namespaces are also read from the `Host` header when it ends with this suffix:
    /// with `db.example.com`, host `acme.db.example.com` is namespace `acme`.
    ///
    /// Default: none (namespaces come from the `x-namespace` header only).
    pub namespace_host_suffix: Option<String>,
    /// Serve the admin API (`/v1/namespaces`) on the main router; turn off to serve it on a
    /// listener of its own with [`admin_router`].
    ///
    /// Default: true.
    pub admin_on_main: bool,
    /// Sent as `base_url` in every response, for sticky routing.
    ///
    /// Default: none.
    pub base_url: Option<String>,
    /// Keys for Ed25519 JWTs. With keys, every pipeline, cursor and WebSocket `hello` needs a
    /// token; without, anyone who reaches the server may do anything.
    ///
    /// Default: none.
    pub auth: Option<AuthKeys>,
    /// Let [`serve`] listen on a non-loopback address without [`Config::auth`]. Off, it
    /// refuses to, so that an open database is never exposed by accident.
    ///
    /// Default: false.
    pub allow_public_without_auth: bool,
    /// Without keys, host names accepted beside the loopback ones (see [`BrowserGuard`]).
    ///
    /// Default: none.
    pub allowed_hosts: Vec<String>,
    /// Without keys, web origins that may write and open WebSockets beside the server's own.
    ///
    /// Default: none.
    pub allowed_origins: Vec<String>,
    /// Connections and request heads, for [`serve`].
    pub listen: ListenLimits,
}

impl Config {
    /// The browser checks these settings call for.
    pub fn browser_guard(&self) -> BrowserGuard {
        BrowserGuard {
            keys: self.auth.is_some(),
            allowed_hosts: self.allowed_hosts.clone(),
            host_suffix: self.namespace_host_suffix.clone(),
            allowed_origins: self.allowed_origins.clone(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            stream_idle_timeout: Duration::from_secs(10),
            stream_tombstone: Duration::from_secs(300),
            max_streams: 1000,
            ws_max_streams: 32,
            hello_timeout: Duration::from_secs(10),
            statement_timeout: RoleTimeouts::default(),
            max_body_bytes: 10 * 1024 * 1024,
            limits: Limits::default(),
            protobuf: true,
            namespace_host_suffix: None,
            admin_on_main: true,
            ws_max_stored_sql: 150,
            base_url: None,
            auth: None,
            allow_public_without_auth: false,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            listen: ListenLimits::default(),
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub struct ServerState {
    root: Arc<dyn Adapter>,
    tenants: Option<Arc<dyn TenantManager>>,
    config: Config,
    baton_key: baton::BatonKey,
    streams: tokio::sync::Mutex<http::Streams>,
    /// One permit per open stream, HTTP or WebSocket: `max_streams` in all.
    stream_slots: Arc<tokio::sync::Semaphore>,
    stats: Arc<stats::Stats>,
}

impl ServerState {
    /// The settings it was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A server over `adapter`, without namespaces.
    pub fn new(adapter: Arc<dyn Adapter>, config: Config) -> Arc<Self> {
        Self::build(adapter, None, config)
    }

    /// A server over `root` whose namespaces are the tenants of `tenants`.
    pub fn with_tenants(
        root: Arc<dyn Adapter>,
        tenants: Arc<dyn TenantManager>,
        config: Config,
    ) -> Arc<Self> {
        Self::build(root, Some(tenants), config)
    }

    /// If a tokio runtime is running, a task expires idle streams every second (requests also
    /// expire them as they look streams up).
    fn build(
        root: Arc<dyn Adapter>,
        tenants: Option<Arc<dyn TenantManager>>,
        config: Config,
    ) -> Arc<Self> {
        let stream_slots = Arc::new(tokio::sync::Semaphore::new(config.max_streams));
        let state = Arc::new(Self {
            root,
            tenants,
            config,
            baton_key: baton::BatonKey::random(),
            streams: tokio::sync::Mutex::new(http::Streams::default()),
            stream_slots,
            stats: Arc::default(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&state);
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let Some(state) = weak.upgrade() else { return };
                    state.streams.lock().await.sweep(&state.config);
                }
            });
        }
        state
    }
}

async fn probe_v2() -> &'static str {
    "Hello, this is HTTP API v2 (Hrana over HTTP)"
}

async fn probe_v3() -> &'static str {
    "Hello, this is HTTP API v3 (Hrana over HTTP)"
}

/// The Hrana routes: WebSocket on `/`, the `/v2`, `/v3` and `/v3-protobuf` probes, and the
/// pipelines and cursors of each.
pub fn router(state: Arc<ServerState>) -> Router {
    let limit = state.config.max_body_bytes;
    let mut router = Router::new()
        .route("/", get(ws::upgrade))
        .route("/v2", get(probe_v2))
        .route("/v3", get(probe_v3))
        .route("/v2/pipeline", post(http::pipeline_v2))
        .route("/v3/pipeline", post(http::pipeline_v3))
        .route("/v3/cursor", post(http::cursor_v3));
    if state.config.protobuf {
        router = router
            .route("/v3-protobuf", get(probe_v3))
            .route("/v3-protobuf/pipeline", post(http::pipeline_v3_protobuf))
            .route("/v3-protobuf/cursor", post(http::cursor_v3_protobuf));
    }
    if state.config.admin_on_main {
        router = router.merge(admin_routes(&state));
    }
    let guard = Arc::new(state.config.browser_guard());
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(move |request, next| {
            guard.clone().layer(request, next)
        }))
        .with_state(state)
}

/// The admin API. With JWT keys configured, it needs a token that may write everywhere.
fn admin_routes(state: &Arc<ServerState>) -> Router<Arc<ServerState>> {
    Router::new()
        .route("/v1/stats", get(stats::report))
        .route("/v1/namespaces", get(namespace::list))
        .route("/v1/namespaces/{ns}/create", post(namespace::create))
        .route(
            "/v1/namespaces/{ns}",
            axum::routing::delete(namespace::delete),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ))
}

/// The admin API alone, for a listener of its own (see [`Config::admin_on_main`]).
pub fn admin_router(state: Arc<ServerState>) -> Router {
    admin_routes(&state).with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes.
///
/// Fails at once, serving nothing, when the listener is not on a loopback address and the
/// server has no [`Config::auth`] keys, unless [`Config::allow_public_without_auth`] is set.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ServerState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback()
        && state.config.auth.is_none()
        && !state.config.allow_public_without_auth
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "refusing to serve {addr} without authentication: configure JWT keys \
                 (Config::auth), listen on a loopback address, or set \
                 Config::allow_public_without_auth"
            ),
        ));
    }
    let limits = state.config.listen;
    serve_router(listener, router(state), limits, shutdown).await
}
