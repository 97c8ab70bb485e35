//! The npm libSQL clients (`@libsql/client` and `@libsql/hrana-client`, installed into
//! tests/js by `cargo xtask test`) against `dbx serve` on every backend: every call of
//! their suites, `describe` and stored SQL included, through the same layers a user's
//! requests cross. The bare Hrana server's suites (tests/hrana) cover the settings
//! `dbx serve` does not expose, such as protobuf turned off.

use dbx_tests::node::run_node_test;

use crate::Served;
use crate::support::{Backend, Db};

/// Runs each suite file on a fresh `dbx serve` over a fresh database of `backend`.
async fn npm_clients(backend: Backend) {
    for file in [
        "hrana-ws.test.mjs",
        "hrana-http.test.mjs",
        "client-http.test.mjs",
        "client-ws.test.mjs",
    ] {
        let db = Db::new(backend).await;
        let server = Served::start(&db, &[]);
        let env = vec![
            ("DBX_HRANA_URL", server.base.clone()),
            ("DBX_HRANA_BACKEND", backend.kind_name().to_owned()),
        ];
        let passed = tokio::task::spawn_blocking(move || run_node_test(file, &env))
            .await
            .unwrap();
        eprintln!("node --test {file} on {backend:?} through dbx serve: {passed} passed");
    }
}
crate::per_backend!(the_npm_clients_through_dbx_serve, npm_clients);
