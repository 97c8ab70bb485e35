//! Whole responses, byte for byte, as insta snapshots: what a client parses. Batons are
//! random, so they are replaced by `[baton]` before the comparison.

use serde_json::{Value, json};

use super::{call, call_with, execute, pipeline, server, server_with};
use crate::auth::auth_config as auth_keys_config;

fn scrub_baton(mut body: Value) -> Value {
    if body["baton"].is_string() {
        body["baton"] = json!("[baton]");
    }
    body
}

#[tokio::test]
async fn an_execute_with_every_value_type() {
    let s = server().await;
    let reply = pipeline(
        &s,
        "v3",
        None,
        json!([
            execute("CREATE TABLE v (i INTEGER, r REAL, t TEXT, b BLOB, n)"),
            {"type": "execute", "stmt": {
                "sql": "INSERT INTO v VALUES (?, ?, :t, @b, NULL)",
                "args": [{"type": "integer", "value": "-9223372036854775808"}, {"type": "float", "value": 0.5}],
                "named_args": [
                    {"name": ":t", "value": {"type": "text", "value": "žluť"}},
                    {"name": "@b", "value": {"type": "blob", "base64": "AP8="}},
                ],
            }},
            execute("SELECT * FROM v"),
            {"type": "get_autocommit"},
            {"type": "close"},
        ]),
    )
    .await;
    insta::assert_json_snapshot!(scrub_baton(reply.json()));
}

#[tokio::test]
async fn statement_and_protocol_errors() {
    let s = server().await;
    let reply = pipeline(
        &s,
        "v3",
        None,
        json!([
            execute("SELEC 1"),
            execute("SELECT * FROM missing"),
            {"type": "execute", "stmt": {"sql": "SELECT ?", "args": []}},
            {"type": "store_sql", "sql_id": 1, "sql": "SELECT 1"},
            {"type": "batch", "batch": {"steps": [
                {"stmt": {"sql": "SELECT 1"}},
                {"stmt": {"sql_id": 1}, "condition": {"type": "error", "step": 0}},
            ]}},
        ]),
    )
    .await;
    insta::assert_json_snapshot!(scrub_baton(reply.json()));
    let protocol = pipeline(&s, "v2", None, json!([{"type": "get_autocommit"}])).await;
    insta::assert_snapshot!(format!(
        "{} {}\n{}",
        protocol.status, protocol.content_type, protocol.text
    ));
}

#[tokio::test]
async fn a_cursor_body() {
    let s = server().await;
    let body = json!({"baton": null, "batch": {"steps": [
        {"stmt": {"sql": "SELECT 1 AS one UNION ALL SELECT 2"}},
        {"stmt": {"sql": "SELECT * FROM missing"}},
        {"stmt": {"sql": "SELECT 'skipped'"}, "condition": {"type": "ok", "step": 1}},
    ]}});
    let reply = call(&s, "POST", "/v3/cursor", body.to_string()).await;
    let lines: Vec<Value> = reply
        .text
        .lines()
        .map(|l| scrub_baton(serde_json::from_str(l).unwrap()))
        .collect();
    insta::assert_json_snapshot!(lines);
}

#[tokio::test]
async fn auth_refusals() {
    let s = server_with(auth_keys_config()).await;
    let body = json!({"baton": null, "requests": [execute("SELECT 1")]}).to_string();
    let missing = call_with(&s, "POST", "/v3/pipeline", &[], body.clone()).await;
    let garbage = call_with(
        &s,
        "POST",
        "/v3/pipeline",
        &[("authorization", "Bearer x.y.z")],
        body,
    )
    .await;
    insta::assert_json_snapshot!(json!({
        "missing": {"status": missing.status.as_u16(), "body": missing.json()},
        "garbage": {"status": garbage.status.as_u16(), "body": garbage.json()},
    }));
}
