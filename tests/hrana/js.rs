//! The npm clients (installed by `cargo xtask test` into tests/js) against a bare Hrana
//! server, for the settings `dbx serve` does not expose (protobuf off) and for tokens. The
//! same suites run through `dbx serve` on every backend in tests/server/npm_clients.rs.

use dbx_hrana::Config;
use dbx_tests::node::run_node_test;

use crate::libsql_client::{Running, start_with};

/// Runs one `node --test` file against a fresh server and fails with node's report.
async fn run_node_with(file: &str, config: Config) {
    run_node_on(file, start_with(config).await, "sqlite").await;
}

/// Runs one `node --test` file against `server`, whose database is `backend`.
pub(crate) async fn run_node_on(file: &str, server: Running, backend: &'static str) {
    run_node_env(file, server, backend, Vec::new()).await;
}

/// As [`run_node_on`], with more environment variables for the script.
async fn run_node_env(
    file: &str,
    server: Running,
    backend: &'static str,
    env: Vec<(&'static str, String)>,
) {
    let mut env = env;
    env.push(("DBX_HRANA_URL", server.url.clone()));
    env.push(("DBX_HRANA_BACKEND", backend.to_owned()));
    let script = file.to_owned();
    let passed = tokio::task::spawn_blocking(move || run_node_test(&script, &env))
        .await
        .unwrap();
    eprintln!("node --test {file} on {backend}: {passed} passed");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hrana_client_v3_over_websocket_json() {
    run_node_with(
        "hrana-ws.test.mjs",
        Config {
            protobuf: false,
            ..Config::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hrana_client_over_http_with_protobuf_off() {
    run_node_with(
        "hrana-http-json.test.mjs",
        Config {
            protobuf: false,
            ..Config::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_client_with_auth_tokens() {
    use crate::auth::{auth_config, token};
    let server = start_with(auth_config()).await;
    let env = vec![
        ("DBX_HRANA_RW_TOKEN", token(serde_json::json!({"a": "rw"}))),
        ("DBX_HRANA_RO_TOKEN", token(serde_json::json!({"a": "ro"}))),
    ];
    run_node_env("auth.test.mjs", server, "sqlite", env).await;
}
