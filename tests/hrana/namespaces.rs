//! Namespaces: tenants of the serving adapter, chosen per request, managed by the admin API.

use std::sync::Arc;

use axum::http::StatusCode;
use dbx_core::tenancy::TenantCacheConfig;
use dbx_hrana::{Config, ServerState, router};
use dbx_sqlite::{SqliteAdapter, SqliteOptions, SqliteTenants};
use serde_json::{Value, json};

use super::{Reply, Server, call_with, execute, int};

async fn server_with_tenants(config: Config) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let root = SqliteAdapter::open(SqliteOptions::new(dir.path().join("root.db")))
        .await
        .unwrap();
    let tenants = SqliteTenants::open(
        dir.path().join("ns"),
        SqliteOptions::default(),
        TenantCacheConfig::default(),
    )
    .await
    .unwrap();
    let state = ServerState::with_tenants(Arc::new(root), Arc::new(tenants), config);
    Server {
        router: router(state),
        _dir: dir,
    }
}

async fn in_namespace(s: &Server, ns: Option<&str>, baton: Option<&str>, requests: Value) -> Reply {
    let headers: Vec<(&str, &str)> = ns.map(|n| vec![("x-namespace", n)]).unwrap_or_default();
    call_with(
        s,
        "POST",
        "/v3/pipeline",
        &headers,
        json!({"baton": baton, "requests": requests}).to_string(),
    )
    .await
}

#[tokio::test]
async fn the_admin_api_creates_lists_and_deletes() {
    let s = server_with_tenants(Config::default()).await;
    for ns in ["beta", "alpha"] {
        assert_eq!(
            call_with(
                &s,
                "POST",
                &format!("/v1/namespaces/{ns}/create"),
                &[],
                String::new()
            )
            .await
            .status,
            StatusCode::OK
        );
    }
    let list = call_with(&s, "GET", "/v1/namespaces", &[], String::new()).await;
    assert_eq!(list.json(), json!({"namespaces": ["alpha", "beta"]}));
    assert_eq!(
        call_with(
            &s,
            "POST",
            "/v1/namespaces/alpha/create",
            &[],
            String::new()
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        call_with(&s, "DELETE", "/v1/namespaces/gamma", &[], String::new())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad = call_with(
        &s,
        "POST",
        "/v1/namespaces/Bad%20Name/create",
        &[],
        String::new(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json()["error"].as_str().unwrap().contains("a-z, 0-9"),
        "{}",
        bad.text
    );
    assert_eq!(
        call_with(&s, "DELETE", "/v1/namespaces/beta", &[], String::new())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call_with(&s, "GET", "/v1/namespaces", &[], String::new())
            .await
            .json(),
        json!({"namespaces": ["alpha"]})
    );
}

#[tokio::test]
async fn namespaces_are_isolated_and_batons_stay_in_theirs() {
    let s = server_with_tenants(Config::default()).await;
    for ns in ["a", "b"] {
        call_with(
            &s,
            "POST",
            &format!("/v1/namespaces/{ns}/create"),
            &[],
            String::new(),
        )
        .await;
    }
    let a = in_namespace(
        &s,
        Some("a"),
        None,
        json!([
            execute("CREATE TABLE secrets (v TEXT)"),
            execute("INSERT INTO secrets VALUES ('of a')")
        ]),
    )
    .await
    .json();
    let baton = a["baton"].as_str().unwrap().to_owned();
    let b = in_namespace(
        &s,
        Some("b"),
        None,
        json!([execute("SELECT v FROM secrets"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        b["results"][0]["error"]["code"], "SQLITE_ERROR",
        "namespace b has no table of a: {b}"
    );
    let root = in_namespace(
        &s,
        None,
        None,
        json!([execute("SELECT v FROM secrets"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        root["results"][0]["type"], "error",
        "the root database has no table of a either"
    );
    // a's baton is refused under b and under the root, and still works under a.
    for other in [Some("b"), None] {
        let stolen = in_namespace(
            &s,
            other,
            Some(&baton),
            json!([execute("SELECT v FROM secrets")]),
        )
        .await;
        assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
        assert!(stolen.text.contains("another namespace"), "{}", stolen.text);
    }
    let own = in_namespace(
        &s,
        Some("a"),
        Some(&baton),
        json!([execute("SELECT v FROM secrets"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        own["results"][0]["response"]["result"]["rows"][0][0],
        json!({"type": "text", "value": "of a"})
    );
}

#[tokio::test]
async fn unknown_and_hostile_namespaces_are_refused() {
    let s = server_with_tenants(Config::default()).await;
    let unknown = in_namespace(&s, Some("nobody"), None, json!([execute("SELECT 1")])).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for hostile in ["../etc", "a;b", "UPPER", "a.b"] {
        let reply = in_namespace(&s, Some(hostile), None, json!([execute("SELECT 1")])).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{hostile}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn the_host_names_the_namespace_under_the_configured_suffix() {
    let config = Config {
        namespace_host_suffix: Some("db.test".into()),
        ..Config::default()
    };
    let s = server_with_tenants(config).await;
    call_with(&s, "POST", "/v1/namespaces/acme/create", &[], String::new()).await;
    let body = json!({"requests": [execute("CREATE TABLE here (x INTEGER)"), {"type": "close"}]})
        .to_string();
    let by_host = call_with(
        &s,
        "POST",
        "/v3/pipeline",
        &[("host", "acme.db.test:8080")],
        body,
    )
    .await;
    assert_eq!(by_host.status, StatusCode::OK, "{}", by_host.text);
    let check = in_namespace(
        &s,
        Some("acme"),
        None,
        json!([execute("SELECT COUNT(*) FROM here"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        check["results"][0]["response"]["result"]["rows"][0][0],
        int(0),
        "the table went to acme"
    );
    // Without keys, a host neither under the suffix nor a loopback name is refused: a web
    // page could have rebound it to this server.
    let body = json!({"requests": [execute("SELECT 1"), {"type": "close"}]}).to_string();
    assert_eq!(
        call_with(
            &s,
            "POST",
            "/v3/pipeline",
            &[("host", "elsewhere.example")],
            body
        )
        .await
        .status,
        StatusCode::MISDIRECTED_REQUEST
    );
}
