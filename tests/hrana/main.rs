//! The Hrana HTTP pipeline over SQLite, request by request (`oneshot`, no socket).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dbx_hrana::{Config, Limits, ServerState, router};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Server {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

async fn server_with(config: Config) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteAdapter::open(SqliteOptions::new(dir.path().join("h.db")))
        .await
        .unwrap();
    Server {
        router: router(ServerState::new(Arc::new(db), config)),
        _dir: dir,
    }
}

async fn server() -> Server {
    server_with(Config::default()).await
}

struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
    headers: axum::http::HeaderMap,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

async fn call(server: &Server, method: &str, path: &str, body: String) -> Reply {
    call_with(server, method, path, &[], body).await
}

async fn call_with(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let req = builder.body(Body::from(body)).unwrap();
    let resp = server.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    }
}

async fn pipeline(server: &Server, version: &str, baton: Option<&str>, requests: Value) -> Reply {
    let body = json!({"baton": baton, "requests": requests}).to_string();
    call(server, "POST", &format!("/{version}/pipeline"), body).await
}

fn execute(sql: &str) -> Value {
    json!({"type": "execute", "stmt": {"sql": sql}})
}

fn int(n: i64) -> Value {
    json!({"type": "integer", "value": n.to_string()})
}

#[tokio::test]
async fn probes_answer_and_protobuf_can_be_switched_off() {
    let s = server().await;
    for path in ["/v2", "/v3", "/v3-protobuf"] {
        assert_eq!(
            call(&s, "GET", path, String::new()).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let off = server_with(Config {
        protobuf: false,
        ..Config::default()
    })
    .await;
    assert_eq!(
        call(&off, "GET", "/v3-protobuf", String::new())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&off, "POST", "/v3-protobuf/pipeline", String::new())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn execute_and_close_in_one_round_trip() {
    let s = server().await;
    let reply = pipeline(&s, "v2", None, json!([
        {"type": "execute", "stmt": {"sql": "SELECT ? + 1 AS n, 'x' AS t, X'626172' AS b, 1e18 AS f", "args": [int(41)], "want_rows": true}},
        {"type": "close"}
    ])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.content_type, "application/json");
    let body = reply.json();
    assert_eq!(
        body["baton"],
        Value::Null,
        "closed streams hand out no baton"
    );
    assert_eq!(body["base_url"], Value::Null);
    let result = &body["results"][0]["response"]["result"];
    assert_eq!(result["cols"][0]["name"], "n");
    assert_eq!(result["rows"][0][0], int(42));
    assert_eq!(result["rows"][0][1], json!({"type": "text", "value": "x"}));
    assert_eq!(
        result["rows"][0][2],
        json!({"type": "blob", "base64": "YmFy"})
    );
    assert_eq!(
        result["rows"][0][3],
        json!({"type": "float", "value": 1e18})
    );
    assert_eq!(
        body["results"][1],
        json!({"type": "ok", "response": {"type": "close"}})
    );
}

#[tokio::test]
async fn a_stream_keeps_its_transaction_across_requests() {
    let s = server().await;
    let first = pipeline(&s, "v3", None, json!([
        execute("CREATE TABLE t (x INTEGER)"), execute("BEGIN"), execute("INSERT INTO t VALUES (1)"), {"type": "get_autocommit"}
    ])).await.json();
    assert_eq!(first["results"][3]["response"]["is_autocommit"], false);
    let baton = first["baton"].as_str().unwrap().to_owned();
    // Another stream does not see the uncommitted row.
    let other = pipeline(
        &s,
        "v3",
        None,
        json!([execute("SELECT COUNT(*) FROM t"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        other["results"][0]["response"]["result"]["rows"][0][0],
        int(0)
    );
    let second = pipeline(
        &s,
        "v3",
        Some(&baton),
        json!([execute("COMMIT"), {"type": "get_autocommit"}, {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(second["results"][1]["response"]["is_autocommit"], true);
    let after = pipeline(
        &s,
        "v3",
        None,
        json!([execute("SELECT COUNT(*) FROM t"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        after["results"][0]["response"]["result"]["rows"][0][0],
        int(1)
    );
}

#[tokio::test]
async fn replayed_and_forged_batons_are_refused() {
    let s = server().await;
    let first = pipeline(&s, "v2", None, json!([execute("SELECT 1")]))
        .await
        .json();
    let old = first["baton"].as_str().unwrap().to_owned();
    let second = pipeline(&s, "v2", Some(&old), json!([execute("SELECT 2")]))
        .await
        .json();
    let newest = second["baton"].as_str().unwrap().to_owned();
    assert_ne!(old, newest, "every response hands out a new baton");
    let replay = pipeline(&s, "v2", Some(&old), json!([execute("SELECT 3")])).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.text.contains("already been used"), "{}", replay.text);
    // The holder of the newest baton goes on.
    assert_eq!(
        pipeline(&s, "v2", Some(&newest), json!([{"type": "close"}]))
            .await
            .status,
        StatusCode::OK
    );
    let mut forged = newest.into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = pipeline(
        &s,
        "v2",
        Some(std::str::from_utf8(&forged).unwrap()),
        json!([execute("SELECT 1")]),
    )
    .await;
    assert_eq!(
        (forged.status, forged.text.as_str()),
        (StatusCode::BAD_REQUEST, "Received an invalid baton")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_expire_and_roll_back() {
    let config = Config {
        stream_idle_timeout: Duration::from_millis(100),
        ..Config::default()
    };
    let s = server_with(config).await;
    let first = pipeline(
        &s,
        "v3",
        None,
        json!([
            execute("CREATE TABLE t (x INTEGER)"),
            execute("BEGIN"),
            execute("INSERT INTO t VALUES (1)")
        ]),
    )
    .await
    .json();
    let baton = first["baton"].as_str().unwrap().to_owned();
    // Not a wait for other work: the idle timeout itself must pass (three times over), with
    // no request on the stream meanwhile.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = pipeline(&s, "v3", Some(&baton), json!([execute("COMMIT")])).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(late.content_type, "application/json");
    assert_eq!(
        late.json(),
        json!({"message": "The stream has expired due to inactivity", "code": "STREAM_EXPIRED"})
    );
    let count = pipeline(
        &s,
        "v3",
        None,
        json!([execute("SELECT COUNT(*) FROM t"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        count["results"][0]["response"]["result"]["rows"][0][0],
        int(0),
        "the expired transaction rolled back"
    );
}

#[tokio::test]
async fn v3_features_on_v2_are_protocol_errors() {
    let s = server().await;
    let reply = pipeline(&s, "v2", None, json!([{"type": "get_autocommit"}])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text.contains("hrana3"), "{}", reply.text);
    let cond = pipeline(&s, "v2", None, json!([{"type": "batch", "batch": {"steps": [
        {"stmt": {"sql": "SELECT 1"}}, {"condition": {"type": "is_autocommit"}, "stmt": {"sql": "SELECT 2"}}
    ]}}])).await;
    assert_eq!(cond.status, StatusCode::BAD_REQUEST);
    let forward = pipeline(
        &s,
        "v3",
        None,
        json!([{"type": "batch", "batch": {"steps": [
            {"condition": {"type": "ok", "step": 0}, "stmt": {"sql": "SELECT 1"}}
        ]}}]),
    )
    .await;
    assert_eq!(forward.status, StatusCode::BAD_REQUEST);
    assert!(
        forward.text.contains("Invalid reference to step"),
        "{}",
        forward.text
    );
}

#[tokio::test]
async fn a_client_style_transaction_batch_commits_or_rolls_back() {
    let s = server().await;
    let setup = pipeline(
        &s,
        "v3",
        None,
        json!([execute("CREATE TABLE t (x INTEGER UNIQUE)"), {"type": "close"}]),
    )
    .await;
    assert_eq!(setup.status, StatusCode::OK);
    let batch = |second: i64| {
        json!([{"type": "batch", "batch": {"steps": [
        {"stmt": {"sql": "BEGIN IMMEDIATE", "want_rows": false}},
        {"condition": {"type": "ok", "step": 0}, "stmt": {"sql": "INSERT INTO t VALUES (?)", "args": [int(1)]}},
        {"condition": {"type": "ok", "step": 1}, "stmt": {"sql": "INSERT INTO t VALUES (?)", "args": [int(second)]}},
        {"condition": {"type": "and", "conds": [{"type": "ok", "step": 2}, {"type": "not", "cond": {"type": "is_autocommit"}}]}, "stmt": {"sql": "COMMIT"}},
        {"condition": {"type": "not", "cond": {"type": "ok", "step": 3}}, "stmt": {"sql": "ROLLBACK"}}
    ]}}, {"type": "close"}])
    };
    let failed = pipeline(&s, "v3", None, batch(1)).await.json();
    let result = &failed["results"][0]["response"]["result"];
    assert_eq!(result["step_errors"][2]["code"], "SQLITE_CONSTRAINT");
    assert_eq!(result["step_results"][3], Value::Null, "COMMIT was skipped");
    assert!(result["step_results"][4].is_object(), "ROLLBACK ran");
    let ok = pipeline(&s, "v3", None, batch(2)).await.json();
    assert!(
        ok["results"][0]["response"]["result"]["step_results"][3].is_object(),
        "COMMIT ran"
    );
    let count = pipeline(
        &s,
        "v3",
        None,
        json!([execute("SELECT COUNT(*) FROM t"), {"type": "close"}]),
    )
    .await
    .json();
    assert_eq!(
        count["results"][0]["response"]["result"]["rows"][0][0],
        int(2)
    );
}

#[tokio::test]
async fn stored_sql_limits_and_ids() {
    let limits = Limits {
        max_stored_sql: 2,
        max_sql_bytes: 32,
        ..Limits::default()
    };
    let s = server_with(Config {
        limits,
        ..Config::default()
    })
    .await;
    let reply = pipeline(
        &s,
        "v2",
        None,
        json!([
            {"type": "store_sql", "sql_id": 1, "sql": "SELECT 11"},
            {"type": "store_sql", "sql_id": 2, "sql": "SELECT 22"},
            {"type": "store_sql", "sql_id": 3, "sql": "SELECT 33"},
            {"type": "execute", "stmt": {"sql_id": 2}},
            {"type": "close_sql", "sql_id": 1},
            {"type": "store_sql", "sql_id": 4, "sql": format!("SELECT '{}'", "x".repeat(40))},
        ]),
    )
    .await
    .json();
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results[2]["error"]["code"], "SQL_STORE_TOO_MANY");
    assert_eq!(results[3]["response"]["result"]["rows"][0][0], int(22));
    assert_eq!(results[5]["error"]["code"], "SQL_STORE_TOO_LARGE");
    let baton = reply["baton"].as_str().unwrap();
    let duplicate = pipeline(
        &s,
        "v2",
        Some(baton),
        json!([{"type": "store_sql", "sql_id": 2, "sql": "SELECT 1"}]),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn statement_errors_carry_codes_and_keep_the_stream() {
    let s = server().await;
    let reply = pipeline(
        &s,
        "v2",
        None,
        json!([
            execute("CREATE TABLE t (x INTEGER PRIMARY KEY)"),
            execute("INSERT INTO t VALUES (1)"),
            execute("INSERT INTO t VALUES (1)"),
            execute("SELECT 1; SELECT 2"),
            execute("  -- nothing\n"),
            {"type": "execute", "stmt": {"sql": "SELECT ?, ?", "args": [int(1)]}},
            {"type": "sequence", "sql": "INSERT INTO t VALUES (2); INSERT INTO t VALUES (3);"},
            execute("SELECT COUNT(*) FROM t"),
            execute("BEGIN READONLY"),
            execute("COMMIT"),
        ]),
    )
    .await
    .json();
    let r = reply["results"].as_array().unwrap();
    assert_eq!(r[2]["error"]["code"], "SQLITE_CONSTRAINT");
    assert_eq!(r[3]["error"]["code"], "SQL_MANY_STATEMENTS");
    assert_eq!(r[4]["error"]["code"], "SQL_NO_STATEMENT");
    assert_eq!(r[5]["error"]["code"], "ARGS_INVALID");
    assert_eq!(r[6]["type"], "ok");
    assert_eq!(r[7]["response"]["result"]["rows"][0][0], int(3));
    assert_eq!(
        r[8]["type"], "ok",
        "BEGIN READONLY is accepted on SQLite: {}",
        r[8]
    );
    assert_eq!(r[9]["type"], "ok");
    assert!(
        reply["baton"].is_string(),
        "statement errors keep the stream"
    );
}

#[tokio::test]
async fn body_and_stream_limits_are_enforced() {
    let config = Config {
        max_body_bytes: 1024,
        max_streams: 2,
        ..Config::default()
    };
    let s = server_with(config).await;
    let big = pipeline(
        &s,
        "v2",
        None,
        json!([execute(&format!("SELECT '{}'", "x".repeat(2000)))]),
    )
    .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let bad = call(&s, "POST", "/v2/pipeline", "{not json".into()).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for _ in 0..2 {
        assert_eq!(
            pipeline(&s, "v2", None, json!([execute("SELECT 1")]))
                .await
                .status,
            StatusCode::OK
        );
    }
    let third = pipeline(&s, "v2", None, json!([execute("SELECT 1")])).await;
    assert_eq!(third.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(third.headers.get(header::RETRY_AFTER).unwrap(), "1");
    assert_eq!(third.json()["code"], "STREAMS_EXHAUSTED");
}

#[tokio::test]
async fn the_cursor_streams_entries_for_the_steps_that_ran() {
    let s = server().await;
    let body = json!({"baton": null, "batch": {"steps": [
        {"stmt": {"sql": "SELECT 1 AS a UNION ALL SELECT 2"}},
        {"condition": {"type": "error", "step": 0}, "stmt": {"sql": "SELECT 'skipped'"}},
        {"stmt": {"sql": "SELECT * FROM missing"}},
    ]}})
    .to_string();
    let reply = call(&s, "POST", "/v3/cursor", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let lines: Vec<Value> = reply
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines[0]["baton"].is_string());
    let types: Vec<&str> = lines[1..]
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["step_begin", "row", "row", "step_end", "step_error"]
    );
    assert_eq!(lines[1]["step"], 0);
    assert_eq!(lines[3]["row"][0], int(2));
    assert_eq!(lines[5]["step"], 2);
    assert_eq!(lines[5]["error"]["code"], "SQLITE_ERROR");
}

#[tokio::test]
async fn describe_reports_parameters_columns_and_kind() {
    let s = server().await;
    let reply = pipeline(&s, "v2", None, json!([
        execute("CREATE TABLE t (a TEXT, b int NOT NULL, c FURRY BUNNY)"),
        {"type": "describe", "sql": "SELECT a, b, c, ?1 + 1 AS d FROM t WHERE b = :b AND a = ?"},
        {"type": "describe", "sql": "EXPLAIN QUERY PLAN SELECT 1"},
        {"type": "describe", "sql": "UPDATE t SET a = 'x'"},
        {"type": "close"}
    ])).await.json();
    let d = &reply["results"][1]["response"]["result"];
    assert_eq!(
        d["params"],
        json!([{"name": "?1"}, {"name": ":b"}, {"name": null}])
    );
    assert_eq!(
        d["cols"],
        json!([{"name": "a", "decltype": "TEXT"}, {"name": "b", "decltype": "INT"}, {"name": "c", "decltype": "FURRY BUNNY"}, {"name": "d", "decltype": null}])
    );
    assert_eq!(
        (d["is_explain"].as_bool(), d["is_readonly"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(
        reply["results"][2]["response"]["result"]["is_explain"],
        true
    );
    assert_eq!(
        reply["results"][3]["response"]["result"]["is_readonly"],
        false
    );
}

mod auth;
mod autocommit;
mod backends;
mod js;
mod libsql_client;
mod limits;
mod namespaces;
mod websocket;
mod wire;
