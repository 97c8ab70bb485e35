//! Ed25519 JWTs: tokens checked on every pipeline and `hello`, read-only tokens refused
//! writes, streams bound to their token, and no unauthenticated public listener.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dbx_hrana::{AuthKeys, Config, ServerState};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{Reply, Server, call_with, execute, server_with};
use crate::libsql_client::start_with;
use crate::websocket::{close_code, connect, next_json, request, send};

pub(crate) use dbx_tests::jwt::{auth_config, signing_key, token, token_signed_by};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn as_bearer(s: &Server, token: Option<&str>, baton: Option<&str>, requests: Value) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    call_with(
        s,
        "POST",
        "/v3/pipeline",
        &headers,
        json!({"baton": baton, "requests": requests}).to_string(),
    )
    .await
}

fn count_rows(reply: &Reply) -> String {
    let body = reply.json();
    body["results"][0]["response"]["result"]["rows"][0][0]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no count in {body}"))
        .to_owned()
}

#[tokio::test]
async fn tokens_are_required_checked_and_explained() {
    let s = server_with(auth_config()).await;
    let cases = [
        (None, "AUTH_HTTP_HEADER_MISSING"),
        (Some("not-a-jwt".to_owned()), "AUTH_JWT_INVALID"),
        (
            Some(token_signed_by(&signing_key(2), json!({"a": "rw"}))),
            "AUTH_JWT_INVALID",
        ),
        (
            Some(token(json!({"a": "rw", "exp": now() - 10}))),
            "AUTH_JWT_EXPIRED",
        ),
        (
            Some(token(json!({"a": "rw", "nbf": now() + 3600}))),
            "AUTH_JWT_IMMATURE",
        ),
    ];
    for (token, code) in cases {
        let reply = as_bearer(&s, token.as_deref(), None, json!([execute("SELECT 1")])).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{code}: {}",
            reply.text
        );
        assert_eq!(reply.json()["code"], code, "{}", reply.text);
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("Unauthorized: ")
        );
    }
    let basic = call_with(
        &s,
        "POST",
        "/v3/pipeline",
        &[("authorization", "Basic dXNlcjpwYXNz")],
        json!({"baton": null, "requests": [execute("SELECT 1")]}).to_string(),
    )
    .await;
    assert_eq!(basic.json()["code"], "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME");
    // Probes stay open: clients send them without a token.
    assert_eq!(
        call_with(&s, "GET", "/v3", &[], String::new()).await.status,
        StatusCode::OK
    );
    let ok = as_bearer(
        &s,
        Some(&token(json!({"a": "rw"}))),
        None,
        json!([execute("SELECT 1")]),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // A token without `a` or `p` reads and writes, as in sqld.
    let plain = as_bearer(
        &s,
        Some(&token(json!({}))),
        None,
        json!([execute("CREATE TABLE t (a)")]),
    )
    .await;
    assert_eq!(plain.json()["results"][0]["type"], "ok", "{}", plain.text);
}

#[tokio::test]
async fn a_read_only_token_reads_and_its_writes_fail_whole() {
    let s = server_with(auth_config()).await;
    let rw = token(json!({"a": "rw"}));
    let ro = token(json!({"a": "ro"}));
    let setup = as_bearer(
        &s,
        Some(&rw),
        None,
        json!([
            execute("CREATE TABLE t (a)"),
            execute("INSERT INTO t VALUES (1)")
        ]),
    )
    .await;
    assert_eq!(setup.json()["results"][1]["type"], "ok", "{}", setup.text);

    let read = as_bearer(
        &s,
        Some(&ro),
        None,
        json!([execute("SELECT count(*) FROM t")]),
    )
    .await;
    assert_eq!(count_rows(&read), "1");
    // A read before the write in the same pipeline does not save it: nothing runs.
    for write in [
        "INSERT INTO t VALUES (2)",
        "WITH x AS (SELECT 1) DELETE FROM t",
        "DROP TABLE t",
        "PRAGMA user_version = 3",
    ] {
        let reply = as_bearer(
            &s,
            Some(&ro),
            None,
            json!([execute("SELECT 1"), execute(write)]),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{write}: {}",
            reply.text
        );
        assert_eq!(reply.json()["code"], "SQLITE_AUTH");
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("Authorization forbidden")
        );
    }
    let sequence = as_bearer(
        &s,
        Some(&ro),
        None,
        json!([{"type": "sequence", "sql": "SELECT 1; DELETE FROM t"}]),
    )
    .await;
    assert_eq!(sequence.status, StatusCode::FORBIDDEN, "{}", sequence.text);
    let after = as_bearer(
        &s,
        Some(&rw),
        None,
        json!([execute("SELECT count(*) FROM t")]),
    )
    .await;
    assert_eq!(
        count_rows(&after),
        "1",
        "the refused writes changed nothing"
    );
}

#[tokio::test]
async fn a_baton_works_only_with_the_token_that_opened_the_stream() {
    let s = server_with(auth_config()).await;
    let first = token(json!({"a": "rw", "sub": "first"}));
    let second = token(json!({"a": "rw", "sub": "second"}));
    let opened = as_bearer(&s, Some(&first), None, json!([execute("BEGIN")])).await;
    let baton = opened.json()["baton"].as_str().unwrap().to_owned();
    let stolen = as_bearer(
        &s,
        Some(&second),
        Some(&baton),
        json!([execute("SELECT 1")]),
    )
    .await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert!(stolen.text.contains("another token"), "{}", stolen.text);
    // The rightful holder keeps the stream.
    let resumed = as_bearer(&s, Some(&first), Some(&baton), json!([execute("COMMIT")])).await;
    assert_eq!(
        resumed.json()["results"][0]["type"],
        "ok",
        "{}",
        resumed.text
    );
}

#[tokio::test]
async fn per_namespace_claims_limit_where_a_token_works() {
    let s = server_with(auth_config()).await;
    let elsewhere = token(json!({"p": {"rw": {"ns": ["acme"]}}}));
    let reply = as_bearer(&s, Some(&elsewhere), None, json!([execute("SELECT 1")])).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(reply.json()["code"], "AUTH_JWT_NOT_ALLOWED");
    let legacy = token(json!({"a": "ro", "id": "default"}));
    let reply = as_bearer(&s, Some(&legacy), None, json!([execute("SELECT 1")])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = as_bearer(
        &s,
        Some(&legacy),
        None,
        json!([execute("CREATE TABLE x (a)")]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    let mixed = token(json!({"p": {"ro": {"ns": ["default"]}, "rw": {"ns": ["default"]}}}));
    let reply = as_bearer(
        &s,
        Some(&mixed),
        None,
        json!([execute("CREATE TABLE x (a)")]),
    )
    .await;
    assert_eq!(
        reply.json()["results"][0]["type"],
        "ok",
        "the stronger grant wins: {}",
        reply.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_hello_carries_the_token() {
    let server = start_with(auth_config()).await;

    let (mut socket, _) = connect(&server, Some("hrana3")).await.unwrap();
    send(&mut socket, json!({"type": "hello", "jwt": null})).await;
    let refused = next_json(&mut socket).await;
    assert_eq!(refused["type"], "hello_error", "{refused}");
    assert_eq!(refused["error"]["code"], "AUTH_HEADER_NOT_FOUND");
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Normal));

    let (mut socket, _) = connect(&server, Some("hrana3")).await.unwrap();
    send(
        &mut socket,
        json!({"type": "hello", "jwt": token(json!({"a": "ro"}))}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "hello_ok");
    send(
        &mut socket,
        request(1, json!({"type": "open_stream", "stream_id": 1})),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "response_ok");
    let write = json!({"type": "execute", "stream_id": 1, "stmt": {"sql": "CREATE TABLE w (a)"}});
    send(&mut socket, request(2, write.clone())).await;
    let refused = next_json(&mut socket).await;
    assert_eq!(refused["type"], "response_error", "{refused}");
    assert_eq!(refused["error"]["code"], "SQLITE_AUTH");
    // The socket stays up, and a fresh hello with a read-write token lifts the limit (v2+).
    send(
        &mut socket,
        json!({"type": "hello", "jwt": token(json!({"a": "rw"}))}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "hello_ok");
    send(&mut socket, request(3, write)).await;
    let done = next_json(&mut socket).await;
    assert_eq!(done["type"], "response_ok", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_libsql_crate_sends_its_auth_token() {
    let server = start_with(auth_config()).await;
    let connect_as = |token: String| {
        let url = server.url.clone();
        async move {
            libsql::Builder::new_remote(url, token)
                .connector(hyper_014::client::HttpConnector::new())
                .build()
                .await
                .unwrap()
                .connect()
                .unwrap()
        }
    };
    let rw = connect_as(token(json!({"a": "rw"}))).await;
    rw.execute("CREATE TABLE t (a)", ()).await.unwrap();
    rw.execute("INSERT INTO t VALUES (7)", ()).await.unwrap();
    let ro = connect_as(token(json!({"a": "ro"}))).await;
    let mut rows = ro.query("SELECT a FROM t", ()).await.unwrap();
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), 7);
    let err = ro
        .execute("INSERT INTO t VALUES (8)", ())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    let nobody = connect_as(String::new()).await;
    let Err(err) = nobody.query("SELECT 1", ()).await else {
        panic!("a query without a token succeeded");
    };
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn a_public_listener_needs_keys_or_an_explicit_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<SqliteAdapter> = Arc::new(
        SqliteAdapter::open(SqliteOptions::new(dir.path().join("p.db")))
            .await
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let state = ServerState::new(db.clone(), Config::default());
    let err = dbx_hrana::serve(listener, state, async {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("without authentication"), "{err}");
    for config in [
        auth_config(),
        Config {
            allow_public_without_auth: true,
            ..Config::default()
        },
    ] {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let state = ServerState::new(db.clone(), config);
        dbx_hrana::serve(listener, state, async {}).await.unwrap();
    }
}

#[test]
fn keys_are_read_as_pem_or_raw_and_bad_ones_are_explained() {
    use ed25519_dalek::pkcs8::EncodePublicKey as _;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    let public = signing_key(1).verifying_key();
    let pem = public.to_public_key_pem(LineEnding::LF).unwrap();
    let raw = URL_SAFE_NO_PAD.encode(public.to_bytes());
    assert_eq!(
        AuthKeys::parse(&pem).unwrap(),
        AuthKeys::parse(&raw).unwrap()
    );
    let other = signing_key(2)
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let both = AuthKeys::parse(&format!("{pem}{other}")).unwrap();
    assert_ne!(
        both,
        AuthKeys::parse(&raw).unwrap(),
        "both PEM blocks are read"
    );
    let short = AuthKeys::parse("AAAA").unwrap_err();
    assert!(short.to_string().contains("32 bytes"), "{short}");
    let garbage =
        AuthKeys::parse("-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----").unwrap_err();
    assert!(garbage.to_string().contains("PEM"), "{garbage}");
}

#[tokio::test]
async fn the_admin_api_needs_a_token_that_writes_everywhere() {
    let s = server_with(auth_config()).await;
    let rw = format!("Bearer {}", token(json!({"a": "rw"})));
    let ro = format!("Bearer {}", token(json!({"a": "ro"})));
    let one = format!("Bearer {}", token(json!({"a": "rw", "id": "acme"})));
    // dbx's `role` claim: writing everywhere is not enough when the role says rw.
    let rw_role = format!("Bearer {}", token(json!({"a": "rw", "role": "rw"})));
    let bad_role = format!("Bearer {}", token(json!({"a": "rw", "role": "root"})));
    let create = "/v1/namespaces/acme/create";
    let anonymous = call_with(&s, "POST", create, &[], String::new()).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text
    );
    let invalid = call_with(
        &s,
        "POST",
        create,
        &[("authorization", &bad_role)],
        String::new(),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNAUTHORIZED, "{}", invalid.text);
    assert!(invalid.text.contains("role"), "{}", invalid.text);
    for weak in [&ro, &one, &rw_role] {
        let refused = call_with(
            &s,
            "POST",
            create,
            &[("authorization", weak)],
            String::new(),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert_eq!(refused.json()["code"], "AUTH_JWT_NOT_ALLOWED");
    }
    // Past the guard: this server has no namespaces, which the handler says.
    let admitted = call_with(&s, "POST", create, &[("authorization", &rw)], String::new()).await;
    assert_eq!(admitted.status, StatusCode::NOT_FOUND, "{}", admitted.text);
    assert!(admitted.text.contains("no namespaces"), "{}", admitted.text);
    let stats = call_with(
        &s,
        "GET",
        "/v1/stats",
        &[("authorization", &rw)],
        String::new(),
    )
    .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    assert!(stats.json()["statements"].is_u64());
    let stats = call_with(&s, "GET", "/v1/stats", &[], String::new()).await;
    assert_eq!(stats.status, StatusCode::UNAUTHORIZED);
}
