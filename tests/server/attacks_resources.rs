//! Resource bounds that hold while data streams, measured on the `dbx serve` process:
//! memory under eight WebSocket cursors that are never fetched and under a 3M-row `/sql`
//! (bounded while they run, back near the start once the socket closes), and descriptors
//! under 1,100 idle connections with a limit of 1,024 while `/health` keeps answering.
//! The figures are printed; docs/reliability.md quotes them.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Backend, Db};
use crate::{Served, http};

const MIB: u64 = 1024 * 1024;
/// Rows no test ever wants read: each cursor's statement would produce gigabytes.
const ENDLESS: &str = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) \
     SELECT i, hex(randomblob(100)) FROM r";
const THREE_MILLION: &str = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r \
     WHERE i < 3000000) SELECT i, 'row ' || i FROM r";

fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Samples `pid`'s RSS until `work` ends; returns the work's output and the peak.
async fn peak_rss_during<T>(pid: u32, work: impl std::future::Future<Output = T>) -> (T, u64) {
    let mut peak = rss(pid);
    let mut work = std::pin::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            out = &mut work => return (out, peak.max(rss(pid))),
            _ = tick.tick() => peak = peak.max(rss(pid)),
        }
    }
}

/// Waits until `pid`'s RSS is at most `bound`, and returns it; fails past a generous deadline.
async fn settles_below(pid: u32, bound: u64, what: &str) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = rss(pid);
        if now <= bound {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: RSS stayed at {} MiB, above {} MiB",
            now / MIB,
            bound / MIB
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_under_unfetched_cursors_and_huge_results() {
    let db = Db::new(Backend::Sqlite).await;
    let served = Served::start(&db, &[]);
    let pid = served.child.id();
    // Warm up what opens once and stays (reader connections, runtime threads, caches), so
    // that "start" is the resting size of a server that has served.
    let url = format!("{}/api/databases/sqlite/sql", served.base);
    for _ in 0..3 {
        let (status, body) = http("POST", &url, Some(json!({"sql": "SELECT 1"}))).await;
        assert_eq!(status, 200, "{body}");
        let mut request = served
            .base
            .replace("http://", "ws://")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "hrana3".parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
            .send(Message::Text(
                json!({"type": "hello", "jwt": null}).to_string().into(),
            ))
            .await
            .unwrap();
        socket.next().await.unwrap().unwrap();
    }
    let start = rss(pid);

    // Eight cursors over endless rows, opened, fetched once, then left.
    let mut request = served
        .base
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "hrana3".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |msg: serde_json::Value| Message::Text(msg.to_string().into());
    socket
        .send(send(json!({"type": "hello", "jwt": null})))
        .await
        .unwrap();
    let mut id = 0;
    for cursor in 1..=8 {
        for req in [
            json!({"type": "open_stream", "stream_id": cursor}),
            json!({"type": "open_cursor", "stream_id": cursor, "cursor_id": cursor,
                   "batch": {"steps": [{"stmt": {"sql": ENDLESS}}]}}),
            json!({"type": "fetch_cursor", "cursor_id": cursor, "max_count": 10}),
        ] {
            id += 1;
            socket
                .send(send(
                    json!({"type": "request", "request_id": id, "request": req}),
                ))
                .await
                .unwrap();
        }
    }
    // Every reply, the fetches' included: the cursors are open and have produced rows.
    let mut replies = 0;
    let mut during = rss(pid);
    while replies < 1 + 8 * 3 {
        match socket.next().await.unwrap().unwrap() {
            Message::Text(t) => {
                let reply: serde_json::Value = serde_json::from_str(&t).unwrap();
                assert_ne!(reply["type"], "response_error", "{reply}");
                replies += 1;
            }
            _ => continue,
        }
        during = during.max(rss(pid));
    }
    // Left unfetched while other work goes on: nothing reads ahead for them.
    for _ in 0..20 {
        let (status, _) = http("GET", &format!("{}/health", served.base), None).await;
        assert_eq!(status, 200);
        during = during.max(rss(pid));
    }
    drop(socket);
    let after_cursors = settles_below(pid, start + start / 10, "after the socket closed").await;

    // 3M rows through /sql: stopped at max-result-bytes (10 MiB) while they stream.
    let ((status, body), peak) =
        peak_rss_during(pid, http("POST", &url, Some(json!({"sql": THREE_MILLION})))).await;
    assert_eq!(status, 422, "{body}");
    let after_big = settles_below(pid, start + start / 10, "after the 3M-row /sql").await;
    eprintln!(
        "RSS (MiB): start {:.1}; 8 unfetched cursors: peak {:.1}, after close {:.1}; \
         3M-row /sql: peak {:.1}, after {:.1}",
        start as f64 / MIB as f64,
        during as f64 / MIB as f64,
        after_cursors as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        after_big as f64 / MIB as f64,
    );
    // Each cursor holds at most one answer's worth (max-result-bytes, 10 MiB) ahead of its
    // client; eight of them, and room for the allocator's slack.
    assert!(
        during < start + (8 * 10 + 32) * MIB,
        "cursors grew RSS to {} MiB",
        during / MIB
    );
    assert!(
        peak < start + 128 * MIB,
        "the 3M-row /sql grew RSS to {} MiB",
        peak / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_with_1100_idle_connections_and_1024_descriptors() {
    // This process holds the client side of every connection.
    rlimit::increase_nofile_limit(4096).unwrap();
    let db = Db::new(Backend::Sqlite).await;
    let served = Served::start_wrapped(&db, &["prlimit", "--nofile=1024:1024", "--"], &[]);
    let pid = served.child.id();
    let (status, _) = http("GET", &format!("{}/health", served.base), None).await;
    assert_eq!(status, 200);
    let before = descriptors(pid);
    let addr = served.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut peak = descriptors(pid);
    for _ in 0..5 {
        let health = tokio::time::timeout(
            Duration::from_secs(10),
            http("GET", &format!("{}/health", served.base), None),
        )
        .await
        .expect("/health answered beside 1,100 idle connections");
        assert_eq!(health.0, 200);
        peak = peak.max(descriptors(pid));
    }
    eprintln!(
        "descriptors (limit 1024): {before} before, at most {peak} with 1,100 idle connections; \
         /health answered"
    );
    assert!(peak <= 1024, "{peak}");
    drop(idle);
}
