//! SIGTERM stops accepting, lets the request in flight finish, then exits cleanly.

use std::time::Duration;

use dbx_core::Statement;
use serde_json::json;

use crate::support::{Backend, Db};
use crate::{Served, http};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish() {
    let db = Db::new(Backend::Postgres).await;
    let mut server = Served::start(&db, &[]);
    let url = format!("{}/api/databases/postgres/sql", server.base);
    let slow = tokio::spawn(async move {
        http(
            "POST",
            &url,
            Some(json!({"sql": "SELECT 42 AS answer FROM pg_sleep(2)"})),
        )
        .await
    });
    // Wait until PostgreSQL is running the statement, so the request is truly in flight.
    loop {
        let running = db
            .adapter
            .query(Statement::new(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'SELECT 42 AS answer%' AND state = 'active'",
            ))
            .await
            .unwrap()
            .scalar::<i64>()
            .unwrap();
        if running > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.terminate();
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"], json!([[42]]));
    let exit = tokio::task::spawn_blocking(move || server.child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "exits 0 after a graceful stop: {exit}");
}
