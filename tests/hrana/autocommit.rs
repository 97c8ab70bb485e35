//! `get_autocommit` and `is_autocommit` conditions follow what the database did, including
//! rollbacks the client did not ask for.

use dbx_hrana::Config;
use serde_json::{Value, json};

use super::{Reply, execute, pipeline, server};
use crate::backends::{Backend, start_backend};

fn autocommit_flags(reply: &Reply) -> Vec<bool> {
    reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["response"]["is_autocommit"].as_bool())
        .collect()
}

const GET: fn() -> Value = || json!({"type": "get_autocommit"});

#[tokio::test]
async fn an_implicit_rollback_on_sqlite_shows_as_autocommit() {
    let s = server().await;
    let reply = pipeline(
        &s,
        "v3",
        None,
        json!([
            execute("CREATE TABLE u (x UNIQUE)"),
            execute("INSERT INTO u VALUES (1)"),
            execute("BEGIN"),
            GET(),
            // OR ROLLBACK ends the whole transaction when the constraint fails.
            execute("INSERT OR ROLLBACK INTO u VALUES (1)"),
            GET(),
            {"type": "batch", "batch": {"steps": [
                {"stmt": {"sql": "SELECT 'still in autocommit'"},
                 "condition": {"type": "is_autocommit"}}
            ]}},
        ]),
    )
    .await;
    assert_eq!(autocommit_flags(&reply), [false, true], "{}", reply.text);
    let batch = &reply.json()["results"][6]["response"]["result"];
    assert!(!batch["step_results"][0].is_null(), "{batch}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_statement_leaves_a_postgres_transaction_open_until_rollback() {
    let server = start_backend(Backend::Postgres, Config::default()).await;
    let flags = autocommit_through_a_failure(&server.url).await;
    assert_eq!(flags, [false, false, true]);
}

/// BEGIN, a failing statement, then ROLLBACK, asking for the autocommit state after each,
/// through a real socket.
async fn autocommit_through_a_failure(url: &str) -> Vec<bool> {
    let body = json!({"baton": null, "requests": [
        execute("BEGIN"),
        GET(),
        execute("SELECT * FROM no_such_table"),
        GET(),
        execute("ROLLBACK"),
        GET(),
    ]})
    .to_string();
    let uri: hyper_014::Uri = format!("{url}/v3/pipeline").parse().unwrap();
    let request = hyper_014::Request::post(uri)
        .header("content-type", "application/json")
        .body(hyper_014::Body::from(body))
        .unwrap();
    let response = hyper_014::Client::new().request(request).await.unwrap();
    let bytes = hyper_014::body::to_bytes(response.into_body())
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&bytes).unwrap();
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["response"]["is_autocommit"].as_bool())
        .collect()
}
