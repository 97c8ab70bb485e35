//! `cargo xtask soak --seconds N`: mixed Hrana (HTTP JSON, HTTP protobuf, WebSocket) and REST
//! load at saturation against `dbx serve` on SQLite and on PostgreSQL, with the server's
//! memory and descriptors sampled every second. It fails on any 5xx but a documented
//! overload answer (503 with `Retry-After`), on any other failed request, on more than 10%
//! memory growth from the middle of the run to its end, and on descriptor growth.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde::Serialize;
use tokio::net::TcpStream;

use crate::databases::{PgDatabase, sqlite_file};
use crate::hrana::{Client, Kind, check_http, http_request};
use crate::serve::Served;
use crate::stats::SplitMix;
use crate::sys;

/// Connections, each held by one client that sends one kind of request after another.
const CLIENTS: usize = 32;
/// Memory may grow this much from the middle of the run to its end.
const MAX_GROWTH: f64 = 0.10;

/// What one client sends.
#[derive(Debug, Clone, Copy)]
enum Mix {
    Hrana(Kind),
    RestRead,
    RestInsert,
    RestSql,
}

const MIXES: [Mix; 6] = [
    Mix::Hrana(Kind::HttpJsonV2),
    Mix::Hrana(Kind::HttpProtobufV3),
    Mix::Hrana(Kind::WebSocket),
    Mix::RestRead,
    Mix::RestInsert,
    Mix::RestSql,
];

/// Answers by status, and the failures worth naming.
#[derive(Debug, Default)]
struct Counts {
    by_status: BTreeMap<u16, u64>,
    overload: u64,
    failures: u64,
    first_failure: Option<String>,
}

impl Counts {
    fn fail(&mut self, what: String) {
        self.failures += 1;
        self.first_failure.get_or_insert(what);
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sample {
    pub(crate) second: u64,
    pub(crate) rss_mib: f64,
    pub(crate) fds: usize,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SoakResult {
    pub(crate) backend: &'static str,
    pub(crate) seconds: u64,
    pub(crate) clients: usize,
    pub(crate) requests: u64,
    pub(crate) per_second: f64,
    pub(crate) by_status: BTreeMap<u16, u64>,
    /// 503 answers with `Retry-After`: documented overload, allowed.
    pub(crate) overload: u64,
    /// Everything else that was not a success: must be 0.
    pub(crate) failures: u64,
    pub(crate) first_failure: Option<String>,
    pub(crate) rss_mid_mib: f64,
    pub(crate) rss_end_mib: f64,
    pub(crate) rss_growth_pct: f64,
    pub(crate) fds_mid: usize,
    pub(crate) fds_end: usize,
    pub(crate) samples: Vec<Sample>,
}

/// A plain HTTP/1.1 connection for REST calls.
struct Rest {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Rest {
    async fn connect(addr: SocketAddr) -> Result<Rest> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Rest {
            sender,
            host: addr.to_string(),
        })
    }

    /// Status, whether a `Retry-After` came with it, and the body.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, bool, Bytes)> {
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host.as_str())
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let retry_after = response.headers().contains_key("retry-after");
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, retry_after, bytes))
    }
}

/// One request of `mix`; records its outcome.
async fn one(
    mix: Mix,
    conn: &mut (Rest, Option<Client>),
    rng: &mut SplitMix,
    db: &str,
    insert_table: &str,
    counts: &Mutex<Counts>,
) -> Result<()> {
    let (rest, ws) = conn;
    let id = rng.one_to(crate::overhead::TABLE_ROWS.unsigned_abs());
    let (status, retry_after, body, hrana) = match mix {
        Mix::Hrana(Kind::WebSocket) => {
            let client = ws.as_mut().context("no WebSocket")?;
            let outcome = client.request(rng).await;
            let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Ok(()) => *c.by_status.entry(200).or_default() += 1,
                Err(e) => c.fail(format!("WebSocket: {e:#}")),
            }
            return Ok(());
        }
        Mix::Hrana(kind) => {
            let (path, content_type, body, ids) = http_request(kind, rng);
            let (status, retry, bytes) = rest.send("POST", path, content_type, body).await?;
            (status, retry, bytes, Some((kind, ids)))
        }
        Mix::RestRead => {
            let offset = id % 9_000;
            let path = format!("/api/databases/{db}/tables/bench/rows?limit=20&offset={offset}");
            let (status, retry, bytes) = rest
                .send("GET", &path, "application/json", Vec::new())
                .await?;
            (status, retry, bytes, None)
        }
        Mix::RestInsert => {
            let path = format!("/api/databases/{db}/tables/{insert_table}/rows");
            let body = format!(r#"{{"values": {{"name": "soak{id}", "score": 1.5}}}}"#);
            let (status, retry, bytes) = rest
                .send("POST", &path, "application/json", body.into_bytes())
                .await?;
            (status, retry, bytes, None)
        }
        Mix::RestSql => {
            let path = format!("/api/databases/{db}/sql");
            let body =
                format!(r#"{{"sql": "SELECT name FROM bench WHERE id = ?", "params": [{id}]}}"#);
            let (status, retry, bytes) = rest
                .send("POST", &path, "application/json", body.into_bytes())
                .await?;
            (status, retry, bytes, None)
        }
    };
    let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
    *c.by_status.entry(status).or_default() += 1;
    match status {
        503 if retry_after => c.overload += 1,
        200 | 201 => {
            if let Some((kind, ids)) = hrana
                && let Err(e) = check_http(kind, status, &body, &ids)
            {
                c.fail(format!("{kind:?}: {e:#}"));
            }
        }
        _ => c.fail(format!(
            "{mix:?}: HTTP {status}{}: {}",
            if retry_after { " (Retry-After)" } else { "" },
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
    }
    Ok(())
}

async fn soak(
    backend: &'static str,
    served: &Served,
    db: &str,
    insert_table: &str,
    seconds: u64,
) -> Result<SoakResult> {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let end = Instant::now() + Duration::from_secs(seconds);
    let addr = served.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (counts, db, insert_table) =
                (counts.clone(), db.to_owned(), insert_table.to_owned());
            let mix = MIXES[i % MIXES.len()];
            tokio::spawn(async move {
                let ws = match mix {
                    Mix::Hrana(Kind::WebSocket) => {
                        Some(Client::connect(Kind::WebSocket, addr).await?)
                    }
                    _ => None,
                };
                let mut conn = (Rest::connect(addr).await?, ws);
                let mut rng = SplitMix::new(0x50AC + i as u64);
                while Instant::now() < end {
                    one(mix, &mut conn, &mut rng, &db, &insert_table, &counts).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    let pid = served.pid.to_string();
    let started = Instant::now();
    let mut samples = Vec::new();
    // Up to the last whole second before the clients stop: the moment they stop, their
    // connections close, which says nothing about the server.
    for second in 1..seconds {
        tokio::time::sleep_until(tokio::time::Instant::from_std(
            started + Duration::from_secs(second),
        ))
        .await;
        let u = sys::process_use(&pid)?;
        samples.push(Sample {
            second,
            rss_mib: u.rss_mib,
            fds: u.fds,
        });
    }
    for client in clients {
        client.await.context("a soak client panicked")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counts = Arc::try_unwrap(counts)
        .map_err(|_| anyhow::anyhow!("clients still hold the counts"))?
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let requests: u64 = counts.by_status.values().sum::<u64>() + counts.failures;
    let mid = &samples[samples.len() / 2];
    let last = samples.last().context("no samples")?;
    Ok(SoakResult {
        backend,
        seconds,
        clients: CLIENTS,
        requests,
        per_second: requests as f64 / elapsed,
        by_status: counts.by_status,
        overload: counts.overload,
        failures: counts.failures,
        first_failure: counts.first_failure,
        rss_mid_mib: mid.rss_mib,
        rss_end_mib: last.rss_mib,
        rss_growth_pct: (last.rss_mib / mid.rss_mib - 1.0) * 100.0,
        fds_mid: mid.fds,
        fds_end: last.fds,
        samples,
    })
}

pub(crate) async fn run(
    seconds: u64,
    urls: &crate::ServerUrls,
    dbx: &Path,
) -> Result<Vec<SoakResult>> {
    ensure!(seconds >= 3, "a soak needs at least 3 seconds");
    let dir = tempfile::tempdir()?;
    sqlite_file(&dir.path().join("dbx.db"))?;
    let served = Served::sqlite(dbx, dir.path()).await?;
    eprintln!("soak: sqlite, {seconds} s");
    let sqlite = soak("sqlite", &served, "sqlite", "bench_insert", seconds).await?;
    served.stop().await?;

    let db = PgDatabase::create(&urls.postgres, "soak").await?;
    let served = Served::postgres(dbx, dir.path(), &db.url).await?;
    eprintln!("soak: postgres, {seconds} s");
    let postgres = soak("postgres", &served, "postgres", "bench_insert_dbx", seconds).await?;
    served.stop().await?;
    db.drop_now().await?;
    Ok(vec![sqlite, postgres])
}

/// The verdict: every failure named. Memory and descriptors are judged only on runs long
/// enough for start-up to have settled (20 s and more).
pub(crate) fn judge(results: &[SoakResult]) -> Result<()> {
    let mut problems = Vec::new();
    for r in results {
        if r.failures > 0 {
            problems.push(format!(
                "{}: {} failed requests, first: {}",
                r.backend,
                r.failures,
                r.first_failure.as_deref().unwrap_or("?")
            ));
        }
        if r.seconds >= 20 {
            if r.rss_growth_pct >= MAX_GROWTH * 100.0 {
                problems.push(format!(
                    "{}: memory grew {:.1}% from the middle to the end ({:.1} → {:.1} MiB)",
                    r.backend, r.rss_growth_pct, r.rss_mid_mib, r.rss_end_mib
                ));
            }
            if r.fds_end > r.fds_mid {
                problems.push(format!(
                    "{}: descriptors grew from {} to {}",
                    r.backend, r.fds_mid, r.fds_end
                ));
            }
        }
    }
    ensure!(
        problems.is_empty(),
        "the soak failed:\n  {}",
        problems.join("\n  ")
    );
    Ok(())
}
