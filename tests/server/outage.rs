//! The database server killed with `kill -9` under Hrana load, then restarted: clients get
//! errors while it is down and answers again once it is back, from the same `dbx serve`
//! process, and every acknowledged insert is still there.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dbx_tests::faults::Crashable;
use dbx_tests::servers::{MariaServer, PgServer};
use serde_json::{Value as Json, json};

/// Clients that keep sending while the server dies and comes back.
const CLIENTS: usize = 4;

/// `dbx serve` on the adapter configured in `config`, on a free port.
fn serve(dir: &std::path::Path, config: &str) -> (Child, String) {
    std::fs::write(dir.join("dbx.toml"), config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbx-under-test"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .args([
            "--config",
            "dbx.toml",
            "--data-dir",
            "dbx-data",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    let base = first
        .trim()
        .strip_prefix("dbx listening on ")
        .unwrap()
        .to_owned();
    (child, base)
}

/// Counts of what the clients saw.
#[derive(Default)]
struct Seen {
    acknowledged: AtomicU64,
    attempted: AtomicU64,
    failed: AtomicU64,
}

type Http = hyper_014::Client<hyper_014::client::HttpConnector>;

/// A Hrana pipeline of `requests` and `close`: the status and the answer, `None` when there
/// was none (the server could not answer). Bounded, so that a hang fails the test.
async fn pipeline(client: &Http, base: &str, requests: Json) -> Option<(u16, Json)> {
    let mut all = requests.as_array().cloned().unwrap_or_default();
    all.push(json!({"type": "close"}));
    let request = hyper_014::Request::post(format!("{base}/v2/pipeline"))
        .header("content-type", "application/json")
        .body(hyper_014::Body::from(
            json!({"baton": null, "requests": all}).to_string(),
        ))
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        let response = client.request(request).await.ok()?;
        let status = response.status().as_u16();
        let bytes = hyper_014::body::to_bytes(response.into_body()).await.ok()?;
        Some((status, serde_json::from_slice(&bytes).ok()?))
    })
    .await
    .expect("a request hung for 30 s while the database was down or back")
}

fn execute(sql: &str, args: Json) -> Json {
    json!({"type": "execute", "stmt": {"sql": sql, "args": args}})
}

/// One insert through Hrana; true when it was acknowledged.
async fn insert(client: &Http, base: &str, n: u64) -> bool {
    let args = json!([{"type": "integer", "value": n.to_string()}]);
    let answer = pipeline(
        client,
        base,
        json!([execute("INSERT INTO kept (n) VALUES (?)", args)]),
    )
    .await;
    matches!(answer, Some((200, reply)) if reply["results"][0]["type"] == "ok")
}

async fn killed_under_load<S: Crashable>(server: S, config: String, count_rows: &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut dbx, base) = serve(dir.path(), &config);
    let client = hyper_014::Client::new();
    let created = pipeline(
        &client,
        &base,
        json!([execute("CREATE TABLE kept (n BIGINT NOT NULL)", json!([]))]),
    )
    .await;
    assert!(
        matches!(&created, Some((200, r)) if r["results"][0]["type"] == "ok"),
        "{created:?}"
    );

    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (seen, stop, base, client) =
                (seen.clone(), stop.clone(), base.clone(), client.clone());
            tokio::spawn(async move {
                let mut n = c as u64 * 1_000_000;
                while !stop.load(Ordering::Acquire) {
                    n += 1;
                    seen.attempted.fetch_add(1, Ordering::Relaxed);
                    if insert(&client, &base, n).await {
                        seen.acknowledged.fetch_add(1, Ordering::Relaxed);
                    } else {
                        seen.failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();

    // The crash lands under load: once the clients have had answers.
    let started = Instant::now();
    while seen.acknowledged.load(Ordering::Relaxed) < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no answers within 60 s of starting the load"
        );
        tokio::task::yield_now().await;
    }
    let mut server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.crash();
        server
    })
    .await
    .unwrap();
    // Clients get errors while the database is down (and no hang): wait for some.
    let failed_before_outage = seen.failed.load(Ordering::Relaxed);
    let started = Instant::now();
    while seen.failed.load(Ordering::Relaxed) < failed_before_outage + CLIENTS as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no errors within 60 s of the database going down"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed_in_outage = seen.failed.load(Ordering::Relaxed) - failed_before_outage;

    let server = tokio::task::spawn_blocking(move || server.start_again().map(|()| server))
        .await
        .unwrap()
        .expect("the database server restarts");
    // Answers come back from the same process, without a restart of dbx.
    let back = seen.acknowledged.load(Ordering::Relaxed);
    let started = Instant::now();
    while seen.acknowledged.load(Ordering::Relaxed) < back + 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no answers 60 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered_after = started.elapsed();
    stop.store(true, Ordering::Release);
    for c in clients {
        c.await.unwrap();
    }
    assert!(dbx.try_wait().unwrap().is_none(), "dbx serve kept running");

    // Every acknowledged insert survived; an insert cut off mid-answer may or may not have.
    let (_, reply) = pipeline(&client, &base, json!([execute(count_rows, json!([]))]))
        .await
        .expect("an answer once the database is back");
    let rows: u64 = reply["results"][0]["response"]["result"]["rows"][0][0]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .parse()
        .unwrap();
    let acknowledged = seen.acknowledged.load(Ordering::Relaxed);
    let attempted = seen.attempted.load(Ordering::Relaxed);
    assert!(
        (acknowledged..=attempted).contains(&rows),
        "{rows} rows, {acknowledged} inserts acknowledged of {attempted}"
    );
    eprintln!(
        "outage: {acknowledged} acknowledged, {} failed ({failed_in_outage} while down), answers again {:.1} s after the restart",
        seen.failed.load(Ordering::Relaxed),
        recovered_after.as_secs_f64()
    );
    let _ = dbx.kill();
    let _ = dbx.wait();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_under_hrana_load_recovers_without_a_restart() {
    // Durable commits: the shared test servers trade them for speed, which a crash would show.
    let server = tokio::task::spawn_blocking(|| {
        PgServer::start_with("-c fsync=on -c synchronous_commit=on -c full_page_writes=on")
    })
    .await
    .unwrap()
    .unwrap();
    let config = format!(
        "[[adapters]]\nkind = \"postgres\"\n[adapters.connection]\nurl = \"{}\"\n",
        server.url()
    );
    killed_under_load(server, config, "SELECT COUNT(*) FROM kept").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_killed_under_hrana_load_recovers_without_a_restart() {
    // Durable commits: the shared test servers trade them for speed, which a crash would show.
    let server = tokio::task::spawn_blocking(|| {
        MariaServer::start_with(&["--innodb-flush-log-at-trx-commit=1".to_owned()])
    })
    .await
    .unwrap()
    .unwrap();
    let config = format!(
        "[[adapters]]\nkind = \"mysql\"\n[adapters.connection]\nurl = \"{}\"\n",
        server.url()
    );
    killed_under_load(server, config, "SELECT COUNT(*) FROM kept").await;
}
