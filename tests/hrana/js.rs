//! The npm clients (installed by `cargo xtask test` into tests/js) against a dbx server.

use std::path::PathBuf;
use std::process::Command;

use dbx_hrana::Config;

use crate::libsql_client::{Running, start_with};

fn js_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/js"))
}

/// Runs one `node --test` file against a fresh server and fails with node's report.
async fn run_node(file: &str) {
    run_node_with(file, Config::default()).await;
}

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
    assert!(
        js_dir().join("node_modules/@libsql/client").is_dir(),
        "the npm clients are not installed: run `cargo xtask test`, or `npm ci` in tests/js"
    );
    let url = server.url.clone();
    let script = file.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("--test")
            .arg(&script)
            .current_dir(js_dir())
            .env("DBX_HRANA_URL", url)
            .env("DBX_HRANA_BACKEND", backend)
            .envs(env)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (install Node.js 20 or newer)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "node --test {file} failed:\n{report}");
    // A run that executed nothing must not pass.
    let passed = report
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let failed = report
        .lines()
        .find_map(|l| l.strip_prefix("# fail "))
        .and_then(|n| n.trim().parse::<u32>().ok());
    assert!(
        passed > 0 && failed == Some(0),
        "node ran no test, or some failed:\n{report}"
    );
    eprintln!("node --test {file} on {backend}: {passed} passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_client_over_http() {
    run_node("client-http.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_client_over_websocket() {
    run_node("client-ws.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hrana_client_v3_over_websocket_protobuf() {
    // The client offers hrana3-protobuf first, and dbx prefers it.
    run_node("hrana-ws.test.mjs").await;
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
async fn hrana_client_v3_over_http_protobuf() {
    run_node("hrana-http.test.mjs").await;
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
