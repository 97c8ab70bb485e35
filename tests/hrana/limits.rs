//! Result size, batch steps and cursor fetches: each limit gives its documented answer, and
//! the stream carries on.

use dbx_hrana::{Config, Limits};
use serde_json::{Value, json};

use super::{call, execute, int, pipeline, server_with};
use crate::libsql_client::start_with;
use crate::websocket::{connect, next_json, request, send};

fn limited(limits: Limits) -> Config {
    Config {
        limits,
        ..Config::default()
    }
}

/// `n` rows of 100 bytes of text each, which count 116 bytes (16 for the row).
fn rows_of_100_bytes(n: u32) -> Value {
    execute(&format!(
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) \
         SELECT printf('%0100d', i) FROM r"
    ))
}

#[tokio::test]
async fn results_over_the_byte_limit_fail_and_the_stream_goes_on() {
    // 10 rows come to 2,040 bytes, 11 to 2,244.
    let s = server_with(limited(Limits {
        max_result_bytes: 2100,
        ..Limits::default()
    }))
    .await;
    let reply = pipeline(
        &s,
        "v3",
        None,
        json!([
            rows_of_100_bytes(10),
            rows_of_100_bytes(11),
            // Rows not asked for cost nothing.
            {"type": "execute", "stmt": {"sql": "SELECT zeroblob(5000)", "want_rows": false}},
            {"type": "batch", "batch": {"steps": [
                {"stmt": rows_of_100_bytes(6)["stmt"]},
                {"stmt": rows_of_100_bytes(6)["stmt"]},
            ]}},
            execute("SELECT 1"),
        ]),
    )
    .await
    .json();
    let r = reply["results"].as_array().unwrap();
    assert_eq!(r[0]["type"], "ok", "{}", r[0]);
    assert_eq!(
        r[0]["response"]["result"]["rows"].as_array().unwrap().len(),
        10
    );
    assert_eq!(r[1]["error"]["code"], "RESPONSE_TOO_LARGE", "{}", r[1]);
    assert!(
        r[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_result_bytes")
    );
    assert_eq!(r[2]["type"], "ok", "{}", r[2]);
    // The batch shares one budget: the second step of 1,224 bytes is over the 876 left.
    let steps = &r[3]["response"]["result"];
    assert!(steps["step_errors"][0].is_null(), "{steps}");
    assert_eq!(steps["step_errors"][1]["code"], "RESPONSE_TOO_LARGE");
    assert_eq!(r[4]["response"]["result"]["rows"][0][0], int(1));
}

#[tokio::test]
async fn batches_over_the_step_limit_are_refused_before_running() {
    let s = server_with(limited(Limits {
        max_batch_steps: 3,
        ..Limits::default()
    }))
    .await;
    let steps: Vec<Value> = (0..4)
        .map(|i| json!({"stmt": {"sql": format!("CREATE TABLE t{i} (a)")}}))
        .collect();
    let reply = pipeline(
        &s,
        "v3",
        None,
        json!([
            {"type": "batch", "batch": {"steps": steps}},
            execute("SELECT count(*) FROM sqlite_master"),
        ]),
    )
    .await
    .json();
    let r = reply["results"].as_array().unwrap();
    assert_eq!(r[0]["error"]["code"], "BATCH_TOO_LARGE", "{}", r[0]);
    assert_eq!(
        r[1]["response"]["result"]["rows"][0][0],
        int(0),
        "no step ran"
    );
    let body = json!({"baton": null, "batch": {"steps": steps}}).to_string();
    let cursor = call(&s, "POST", "/v3/cursor", body).await;
    assert!(cursor.text.contains("BATCH_TOO_LARGE"), "{}", cursor.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_fetch_returns_at_most_the_configured_entries() {
    let server = start_with(limited(Limits {
        max_cursor_fetch: 2,
        ..Limits::default()
    }))
    .await;
    let (mut socket, _) = connect(&server, Some("hrana3")).await.unwrap();
    send(&mut socket, json!({"type": "hello"})).await;
    next_json(&mut socket).await;
    send(
        &mut socket,
        request(1, json!({"type": "open_stream", "stream_id": 1})),
    )
    .await;
    next_json(&mut socket).await;
    let batch =
        json!({"steps": [{"stmt": {"sql": "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"}}]});
    send(
        &mut socket,
        request(
            2,
            json!({"type": "open_cursor", "stream_id": 1, "cursor_id": 1, "batch": batch}),
        ),
    )
    .await;
    next_json(&mut socket).await;
    // step_begin, three rows and step_end: five entries, two at a time.
    let mut sizes = Vec::new();
    for id in 3..6 {
        send(
            &mut socket,
            request(
                id,
                json!({"type": "fetch_cursor", "cursor_id": 1, "max_count": 100}),
            ),
        )
        .await;
        let reply = next_json(&mut socket).await;
        let response = &reply["response"];
        sizes.push(response["entries"].as_array().unwrap().len());
        if response["done"] == true {
            break;
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_stored_sql_and_message_size_limits() {
    let server = start_with(Config {
        ws_max_stored_sql: 1,
        max_body_bytes: 1024,
        ..Config::default()
    })
    .await;
    let (mut socket, _) = connect(&server, Some("hrana2")).await.unwrap();
    send(&mut socket, json!({"type": "hello"})).await;
    next_json(&mut socket).await;
    for id in 1..=2 {
        let store = json!({"type": "store_sql", "sql_id": id, "sql": "SELECT 1"});
        send(&mut socket, request(id, store)).await;
    }
    let first = next_json(&mut socket).await;
    let second = next_json(&mut socket).await;
    assert_eq!(first["type"], "response_ok", "{first}");
    assert_eq!(second["error"]["code"], "SQL_STORE_TOO_MANY", "{second}");
    // A message over max_body_bytes ends the connection rather than being buffered.
    let huge = json!({"type": "store_sql", "sql_id": 9, "sql": "x".repeat(4096)});
    send(&mut socket, request(3, huge)).await;
    let next = futures_util::StreamExt::next(&mut socket).await;
    assert!(
        !matches!(
            next,
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(_)))
        ),
        "an oversized message was answered: {next:?}"
    );
}
