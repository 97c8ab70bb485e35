//! `dbx serve`: Hrana over HTTP and WebSocket (with the namespace admin API), the REST API
//! under `/api`, `/health` and `/metrics`, all on one port, with a graceful shutdown.

mod api;
mod auth;
mod changes;
mod error;
mod memory;
mod metrics;
mod model;
mod mount;
mod openapi;
mod query;
mod rows;
mod script;
mod studio;
mod values;

pub(crate) use values::value_json;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clap::Args;
use dbx_hrana::ServerState;
use dbx_service::DatabaseService;

use crate::cli::{Cli, init_logging, load_config};

/// Options of `dbx serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on [config: server.listen; default 127.0.0.1:8080]. Without
    /// keys only a loopback address is allowed.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,

    /// Which configured adapter Hrana clients reach (the default one otherwise); its tenants
    /// are the Hrana namespaces.
    #[arg(long, value_name = "KIND")]
    adapter: Option<dbx_core::AdapterKind>,

    /// The migrations directory whose status `/api/databases/{db}/migrations` reports
    /// [config: server.migrations; default ./migrations].
    #[arg(long, value_name = "DIR")]
    migrations: Option<PathBuf>,

    /// Ed25519 public keys (PEM, or one raw base64 key) that sign access tokens, for Hrana
    /// and REST alike [config: server.auth-keys]. With keys, every request needs a token and
    /// any address may be used.
    #[arg(long, value_name = "FILE", env = "DBX_AUTH_KEYS_FILE")]
    auth_keys: Option<PathBuf>,

    /// The most row writes one `POST /api/databases/{db}/changes` request may carry (they
    /// run in one transaction) [config: server.max-changes; default 1000].
    #[arg(long, value_name = "N")]
    max_changes: Option<usize>,

    /// The most statements one `POST /api/databases/{db}/script` may hold
    /// [config: server.max-statements; default 100].
    #[arg(long, value_name = "N")]
    max_statements: Option<usize>,

    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C
    /// [config: server.shutdown-timeout; default 10].
    #[arg(long, value_name = "SECS")]
    shutdown_timeout: Option<u64>,

    /// Serve Hrana, REST, the Studio and /metrics under this path, as `/database/api` for
    /// seed 000's workers [config: server.base-path; default none].
    #[arg(long, value_name = "PATH")]
    base_path: Option<String>,
}

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) service: Arc<DatabaseService>,
    pub(crate) hrana: Arc<ServerState>,
    pub(crate) http: metrics::HttpMetrics,
    /// The migrations and modules, as `dbx migrate` finds them.
    pub(crate) sources: crate::sources::Sources,
    pub(crate) auth: Option<dbx_hrana::AuthKeys>,
    /// The most row writes one `POST .../changes` may carry.
    pub(crate) max_changes: usize,
    /// The most statements one `POST .../script` may hold.
    pub(crate) max_statements: usize,
    /// Bytes of row data one REST answer may carry.
    pub(crate) max_result_bytes: usize,
    /// How long one statement may run, by role.
    pub(crate) timeouts: dbx_hrana::RoleTimeouts,
}

/// Whether every adapter answers.
#[utoipa::path(get, path = "/health", responses((status = 200, body = model::HealthReport), (status = 503, body = model::HealthReport)), tag = "operations")]
pub(crate) async fn health(State(app): State<Arc<App>>) -> (StatusCode, Json<model::HealthReport>) {
    let adapters: Vec<model::AdapterCheck> = app
        .service
        .health()
        .await
        .into_iter()
        .map(|h| model::AdapterCheck {
            kind: h.kind.to_string(),
            ok: h.ok,
            error: h.error,
            latency_ms: h.latency_ms,
            pool_in_use: h.pool_in_use,
            pool_idle: h.pool_idle,
            pool_max: h.pool_max,
        })
        .collect();
    let ok = adapters.iter().all(|a| a.ok);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let status_text = if ok { "ok" } else { "degraded" };
    (
        status,
        Json(model::HealthReport {
            status: status_text.to_owned(),
            adapters,
        }),
    )
}

/// The statement time limits of the `[server]` table.
fn role_timeouts(server: &dbx_service::config::ServerConfig) -> dbx_hrana::RoleTimeouts {
    let t = &server.statement_timeout;
    dbx_hrana::RoleTimeouts {
        admin: t.admin,
        read_write: t.rw,
        read_only: t.ro,
    }
}

/// How many connections to accept at once: the configured cap, kept under three quarters of
/// the descriptor limit (raised to the hard limit first), so that the databases' own files
/// and sockets always find a descriptor and the server goes on answering near the cap.
fn connection_cap(configured: usize) -> usize {
    let descriptors = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        Err(e) => {
            tracing::warn!("cannot raise the descriptor limit: {e}");
            return configured;
        }
    };
    let cap = configured.min(descriptors / 4 * 3);
    if cap < configured {
        tracing::info!(
            descriptors,
            cap,
            "accepting at most {cap} connections: the descriptor limit is {descriptors}"
        );
    }
    cap.max(1)
}

/// The Hrana server's settings from the `[server]` table.
fn hrana_config(
    server: &dbx_service::config::ServerConfig,
    auth: Option<dbx_hrana::AuthKeys>,
) -> dbx_hrana::Config {
    let hrana = &server.hrana;
    dbx_hrana::Config {
        stream_idle_timeout: hrana.stream_idle_timeout,
        max_streams: hrana.max_streams,
        ws_max_streams: hrana.ws_max_streams,
        hello_timeout: hrana.hello_timeout,
        statement_timeout: role_timeouts(server),
        allowed_hosts: server.allowed_hosts.clone(),
        allowed_origins: server.allowed_origins.clone(),
        listen: dbx_hrana::ListenLimits {
            max_connections: connection_cap(server.max_connections),
            header_read_timeout: server.header_read_timeout,
        },
        max_body_bytes: server.max_body_bytes,
        limits: dbx_hrana::Limits {
            max_stored_sql: hrana.max_stored_sql,
            max_sql_bytes: hrana.max_sql_bytes,
            max_result_bytes: server.max_result_bytes,
            max_batch_steps: hrana.max_batch_steps,
            max_cursor_fetch: hrana.max_cursor_fetch,
        },
        protobuf: hrana.protobuf,
        ws_max_stored_sql: hrana.ws_max_stored_sql,
        namespace_host_suffix: hrana.namespace_host_suffix.clone(),
        auth,
        ..dbx_hrana::Config::default()
    }
}

/// Everything on one router: REST, health and metrics beside the Hrana routes (which carry
/// the same browser checks from their own config).
fn router(app: Arc<App>) -> Router {
    let guard = Arc::new(app.hrana.config().browser_guard());
    let ours = api::routes()
        .route("/health", get(health))
        .route("/api/openapi.json", get(openapi::document))
        .route("/metrics", get(metrics::render))
        .merge(studio::routes())
        // The Hrana routes carry the same limit from their own config.
        .layer(axum::extract::DefaultBodyLimit::max(
            app.hrana.config().max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(move |request, next| {
            guard.clone().layer(request, next)
        }))
        .with_state(app.clone());
    let hrana = dbx_hrana::router(app.hrana.clone()).layer(axum::middleware::from_fn_with_state(
        app.clone(),
        metrics::track,
    ));
    ours.merge(hrana)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

pub(super) async fn run(cli: &Cli, args: &ServeArgs) -> Result<ExitCode> {
    init_logging("warn,dbx_server=info,dbx_migrate=info");
    let config = load_config(cli, args.adapter)?;
    // The command line (and DBX_AUTH_KEYS_FILE) over the file's [server] table.
    let server = &config.server;
    let listen = match args.listen {
        Some(addr) => addr,
        None => server.listen_addr()?,
    };
    let base_path = dbx_service::config::check_base_path(
        args.base_path.as_deref().or(server.base_path.as_deref()),
    )?;
    let sources = crate::sources::Sources::new(args.migrations.clone(), None, server);
    let max_changes = args.max_changes.unwrap_or(server.max_changes);
    let max_statements = args.max_statements.unwrap_or(server.max_statements);
    let shutdown_timeout = args
        .shutdown_timeout
        .map_or(server.shutdown_timeout, Duration::from_secs);
    let auth = match args.auth_keys.as_ref().or(server.auth_keys.as_ref()) {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the auth keys file {}", path.display()))?;
            Some(
                dbx_hrana::AuthKeys::parse(&text)
                    .with_context(|| format!("in the auth keys file {}", path.display()))?,
            )
        }
        None => None,
    };
    if auth.is_none() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} without authentication: pass --auth-keys FILE (or set \
             server.auth-keys; `dbx token keygen` makes the keys), or listen on a loopback \
             address such as 127.0.0.1"
        );
    }
    let service = DatabaseService::open(&config)
        .await
        .context("opening the databases")?;
    let kind = args.adapter.unwrap_or_else(|| service.default_kind());
    let hrana = ServerState::with_tenants(
        service.root(Some(kind))?,
        service.tenant_manager(Some(kind))?,
        hrana_config(server, auth.clone()),
    );
    let app = Arc::new(App {
        service: service.clone(),
        hrana,
        http: metrics::HttpMetrics::default(),
        sources,
        auth,
        max_changes,
        max_statements,
        max_result_bytes: config.server.max_result_bytes,
        timeouts: role_timeouts(&config.server),
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    print_urls(addr, kind, base_path.as_deref().unwrap_or_default());
    memory::spawn_trimmer();

    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let limits = app.hrana.config().listen;
    let routes = match base_path {
        Some(base) => mount::under(base, router(app)),
        None => router(app),
    };
    let server = dbx_hrana::serve_router(listener, routes, limits, async move {
        stop_signal().await;
        tracing::info!("stopping: no new connections; waiting for requests in flight");
        let _ = stopping_tx.send(true);
    });
    let bound = shutdown_timeout;
    let mut stopping = stopping_rx;
    let outcome = tokio::select! {
        served = server => served.context("serving"),
        () = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(bound).await;
        } => {
            tracing::warn!(secs = bound.as_secs(), "requests still running after the shutdown timeout; closing anyway");
            Ok(())
        }
    };
    // Closing stops statements still running; what cannot stop in a few seconds (a database
    // server that does not answer) is left to the process exit.
    if tokio::time::timeout(Duration::from_secs(5), service.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the databases did not close within 5 s; exiting anyway");
    }
    tracing::info!("stopped");
    outcome.map(|()| ExitCode::SUCCESS)
}

/// One line per entry point, first the address, so that scripts can read it.
#[allow(clippy::print_stdout)]
fn print_urls(addr: SocketAddr, kind: dbx_core::AdapterKind, base: &str) {
    use std::io::Write as _;
    println!("dbx listening on http://{addr}{base}");
    let hrana = if base.is_empty() {
        format!("http://{addr} and ws://{addr}")
    } else {
        format!("http://{addr}{base}/pipeline and ws://{addr}{base}/ws")
    };
    println!("  Hrana (libSQL clients): {hrana} ({kind})");
    println!("  Studio (web UI):        http://{addr}{base}/studio/");
    println!("  REST API:               http://{addr}{base}/api/adapters");
    println!("  health and metrics:     http://{addr}/health, http://{addr}{base}/metrics");
    let _ = std::io::stdout().flush();
}
