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

/// Seed 000's layout: `dbx serve --base-path /database/api`, its workers' `@libsql/client`
/// given `http://host/database/api/pipeline`, WebSocket clients `ws://host/database/api/ws`,
/// REST beside them, `/health` at the root for load balancers, nothing else outside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_clients_reach_hrana_under_a_base_path() {
    for (file, ws) in [
        ("client-http.test.mjs", None),
        ("client-ws.test.mjs", Some("/ws")),
        ("hrana-http.test.mjs", None),
        ("hrana-ws.test.mjs", Some("")),
    ] {
        let db = Db::new(Backend::Sqlite).await;
        let server = Served::start(&db, &["--base-path", "/database/api"]);
        let mounted = server.base.clone();
        let mut env = vec![
            ("DBX_HRANA_URL", format!("{mounted}/pipeline")),
            ("DBX_HRANA_BACKEND", "sqlite".to_owned()),
        ];
        if let Some(suffix) = ws {
            let ws_url = format!("{mounted}{suffix}").replace("http://", "ws://");
            env.push(("DBX_HRANA_WS_URL", ws_url));
        }
        tokio::task::spawn_blocking(move || run_node_test(file, &env))
            .await
            .unwrap();
    }
    let db = Db::new(Backend::Sqlite).await;
    let server = Served::start(&db, &["--base-path", "/database/api"]);
    let mounted = server.base.clone();
    assert!(mounted.ends_with("/database/api"), "{mounted}");
    let root = mounted.trim_end_matches("/database/api").to_owned();
    let (status, body) = crate::http("GET", &format!("{mounted}/api/adapters"), None).await;
    assert_eq!(status, 200, "{body}");
    // The Studio's page names its assets under the base, from a deep link's path too.
    let (status, page) = crate::http("GET", &format!("{mounted}/studio/db/sqlite"), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.as_str()
            .unwrap_or_default()
            .contains("\"/database/api/studio/assets/"),
        "{page}"
    );
    let (status, body) = crate::http("GET", &format!("{root}/health"), None).await;
    assert_eq!(status, 200, "{body}");
    for outside in [
        "/api/adapters",
        "/v3/pipeline",
        "/studio/",
        "/database/apix",
    ] {
        let (status, body) = crate::http("GET", &format!("{root}{outside}"), None).await;
        assert_eq!(status, 404, "{outside}: {body}");
    }
}
