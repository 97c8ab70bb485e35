//! Resource bounds that hold while data streams, measured on the `dbx serve` process:
//! memory under eight WebSocket cursors that are never fetched and under a 3M-row `/sql`
//! (bounded while they run, every stream released once the socket closes), and descriptors
//! under 1,100 idle connections with a limit of 1,024 while `/health` keeps answering.
//! The figures are printed; docs/reliability.md quotes them.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Backend, Db};
use crate::{Served, hrana_socket, http};

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

/// Waits until the server reports no Hrana stream open; fails past a generous deadline.
async fn streams_released(base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, metrics) = http("GET", &format!("{base}/metrics"), None).await;
        assert_eq!(status, 200, "{metrics}");
        let text = metrics.as_str().unwrap_or_default();
        if text.lines().any(|l| l == "dbx_hrana_streams_open 0") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "streams stayed open after their socket closed: {}",
            text.lines()
                .find(|l| l.starts_with("dbx_hrana_streams_open"))
                .unwrap_or("no gauge")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A served SQLite database warmed up: what opens once and stays (reader connections, runtime
/// threads, caches) is open, so that the returned RSS is the resting size of a server that
/// has served.
async fn warm_server(db: &Db) -> (Served, u64) {
    let served = Served::start(db, &[]);
    let url = format!("{}/api/databases/sqlite/sql", served.base);
    for _ in 0..3 {
        let (status, body) = http("POST", &url, Some(json!({"sql": "SELECT 1"}))).await;
        assert_eq!(status, 200, "{body}");
        let mut socket = hrana_socket(&served.base, &[]).await.unwrap();
        socket
            .send(Message::Text(
                json!({"type": "hello", "jwt": null}).to_string().into(),
            ))
            .await
            .unwrap();
        socket.next().await.unwrap().unwrap();
    }
    let start = rss(served.child.id());
    (served, start)
}

/// Waits until `pid`'s RSS is at most `bound`. `dbx serve` hands freed memory back to the
/// system every 10 s, and the runtime's idle blocking threads retire after 10 s; hence the
/// deadline of a minute.
async fn settles_below(pid: u32, bound: u64, what: &str) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
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
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_under_unfetched_cursors() {
    let db = Db::new(Backend::Sqlite).await;
    let (served, start) = warm_server(&db).await;
    let pid = served.child.id();
    // Eight cursors over endless rows, opened, fetched once, then left.
    let mut socket = hrana_socket(&served.base, &[]).await.unwrap();
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
    // Every stream and its cursor is dropped as the socket closes, and the memory they held
    // is given back.
    streams_released(&served.base).await;
    let after = settles_below(pid, start + start / 10, "after the socket closed").await;
    eprintln!(
        "RSS (MiB): start {:.1}; 8 unfetched cursors: peak {:.1}, after close {:.1}",
        start as f64 / MIB as f64,
        during as f64 / MIB as f64,
        after as f64 / MIB as f64,
    );
    // Each cursor holds at most one answer's worth (max-result-bytes, 10 MiB) ahead of its
    // client; eight of them, and room for the allocator's slack.
    assert!(
        during < start + (8 * 10 + 32) * MIB,
        "cursors grew RSS to {} MiB",
        during / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_under_a_3m_row_result() {
    let db = Db::new(Backend::Sqlite).await;
    let (served, start) = warm_server(&db).await;
    let pid = served.child.id();
    let url = format!("{}/api/databases/sqlite/sql", served.base);
    // 3M rows through /sql: stopped at max-result-bytes (10 MiB) while they stream. Three
    // times: the bound holds each time, so nothing of one run adds to the next.
    let mut peak = 0;
    for _ in 0..3 {
        let ((status, body), run_peak) =
            peak_rss_during(pid, http("POST", &url, Some(json!({"sql": THREE_MILLION})))).await;
        assert_eq!(status, 422, "{body}");
        peak = peak.max(run_peak);
    }
    let after = settles_below(pid, start + start / 10, "after the 3M-row /sql").await;
    eprintln!(
        "RSS (MiB): start {:.1}; 3M-row /sql three times: peak {:.1}, after {:.1}",
        start as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        after as f64 / MIB as f64,
    );
    assert!(
        peak < start + 80 * MIB,
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
