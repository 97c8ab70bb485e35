//! The load generator: clients that each hold one connection (an HTTP/1.1 keep-alive
//! connection or a WebSocket with one open stream) and send requests one after another,
//! checking that every answer holds the rows asked for.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::pb;
use crate::overhead::TABLE_ROWS;
use crate::stats::{Samples, SplitMix};

pub(crate) const SQL: &str = "SELECT id, name, score FROM bench WHERE id = ?";
/// Statements in the batch workload.
const BATCH_STEPS: usize = 10;

/// What one request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// `POST /v2/pipeline` (JSON): `execute` + `close`.
    HttpJsonV2,
    /// `POST /v3-protobuf/pipeline`: `execute` + `close`.
    HttpProtobufV3,
    /// One `execute` on a WebSocket stream that stays open (`hrana3`, JSON).
    WebSocket,
    /// `POST /v3/pipeline` (JSON): a `batch` of 10 point selects + `close`.
    Batch10,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [
        Kind::HttpJsonV2,
        Kind::HttpProtobufV3,
        Kind::WebSocket,
        Kind::Batch10,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Kind::HttpJsonV2 => "HTTP v2 JSON pipeline: execute + close",
            Kind::HttpProtobufV3 => "HTTP v3 protobuf pipeline: execute + close",
            Kind::WebSocket => "WebSocket execute on one open stream",
            Kind::Batch10 => "HTTP v3 JSON: a 10-statement batch + close",
        }
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One client's connection.
pub(crate) enum Client {
    Http {
        sender: SendRequest<Full<Bytes>>,
        host: String,
        kind: Kind,
    },
    Ws {
        ws: Box<Ws>,
        next_request: i64,
    },
}

fn json_arg(id: i64) -> String {
    format!(r#"{{"sql":"{SQL}","args":[{{"type":"integer","value":"{id}"}}]}}"#)
}

/// Whether a JSON answer holds the row of `id`: `"user<id>"`, quotes included, matches no
/// other id.
fn has_row(body: &str, id: i64) -> bool {
    body.contains(&format!("\"user{id}\""))
}

fn excerpt(body: &str) -> &str {
    let end = body.char_indices().nth(300).map_or(body.len(), |(i, _)| i);
    &body[..end]
}

impl Client {
    pub(crate) async fn connect(kind: Kind, addr: SocketAddr) -> Result<Client> {
        if kind == Kind::WebSocket {
            return Self::connect_ws(addr).await;
        }
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Client::Http {
            sender,
            host: addr.to_string(),
            kind,
        })
    }

    async fn connect_ws(addr: SocketAddr) -> Result<Client> {
        let mut request = format!("ws://{addr}/").into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "hrana3".parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .context("WebSocket handshake")?;
        ws.send(Message::text(r#"{"type":"hello","jwt":null}"#))
            .await?;
        expect_ws(&mut ws, "hello_ok").await?;
        ws.send(Message::text(
            r#"{"type":"request","request_id":0,"request":{"type":"open_stream","stream_id":1}}"#,
        ))
        .await?;
        expect_ws(&mut ws, "response_ok").await?;
        Ok(Client::Ws {
            ws: Box::new(ws),
            next_request: 1,
        })
    }

    /// Sends one request for random rows and checks the answer.
    pub(crate) async fn request(&mut self, rng: &mut SplitMix) -> Result<()> {
        match self {
            Client::Ws { ws, next_request } => {
                let id = rng.one_to(TABLE_ROWS.unsigned_abs());
                *next_request += 1;
                let text = format!(
                    r#"{{"type":"request","request_id":{next_request},"request":{{"type":"execute","stream_id":1,"stmt":{}}}}}"#,
                    json_arg(id)
                );
                ws.send(Message::text(text)).await?;
                let answer = expect_ws(ws, "response_ok").await?;
                ensure!(has_row(&answer, id), "no row {id} in {}", excerpt(&answer));
                Ok(())
            }
            Client::Http { sender, host, kind } => {
                let (path, content_type, body, ids) = http_request(*kind, rng);
                let request = hyper::Request::post(path)
                    .header("host", host.as_str())
                    .header("content-type", content_type)
                    .body(Full::new(Bytes::from(body)))?;
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                check_http(*kind, status.as_u16(), &bytes, &ids)
            }
        }
    }
}

/// The path, content type, body and row ids of one HTTP request.
pub(crate) fn http_request(
    kind: Kind,
    rng: &mut SplitMix,
) -> (&'static str, &'static str, Vec<u8>, Vec<i64>) {
    let rows = TABLE_ROWS.unsigned_abs();
    match kind {
        Kind::HttpProtobufV3 => {
            let id = rng.one_to(rows);
            let body = pb::execute_and_close(SQL, id);
            (
                "/v3-protobuf/pipeline",
                "application/x-protobuf",
                body,
                vec![id],
            )
        }
        Kind::Batch10 => {
            let ids: Vec<i64> = (0..BATCH_STEPS).map(|_| rng.one_to(rows)).collect();
            let steps: Vec<String> = ids
                .iter()
                .map(|&id| format!(r#"{{"stmt":{}}}"#, json_arg(id)))
                .collect();
            let body = format!(
                r#"{{"baton":null,"requests":[{{"type":"batch","batch":{{"steps":[{}]}}}},{{"type":"close"}}]}}"#,
                steps.join(",")
            );
            ("/v3/pipeline", "application/json", body.into_bytes(), ids)
        }
        Kind::HttpJsonV2 | Kind::WebSocket => {
            let id = rng.one_to(rows);
            let body = format!(
                r#"{{"baton":null,"requests":[{{"type":"execute","stmt":{}}},{{"type":"close"}}]}}"#,
                json_arg(id)
            );
            (
                "/v2/pipeline",
                "application/json",
                body.into_bytes(),
                vec![id],
            )
        }
    }
}

pub(crate) fn check_http(kind: Kind, status: u16, body: &[u8], ids: &[i64]) -> Result<()> {
    if kind == Kind::HttpProtobufV3 {
        ensure!(status == 200, "HTTP {status}");
        pb::all_ok(body, 2).map_err(anyhow::Error::msg)?;
        // A text value is field 4 with a one-byte length, then the text itself.
        let name = format!("user{}", ids[0]);
        let mut needle = vec![0x22, u8::try_from(name.len()).unwrap_or(0)];
        needle.extend_from_slice(name.as_bytes());
        ensure!(
            body.windows(needle.len()).any(|w| w == needle),
            "no row {} in the protobuf answer",
            ids[0]
        );
        return Ok(());
    }
    let text = std::str::from_utf8(body).context("a JSON answer that is not UTF-8")?;
    ensure!(status == 200, "HTTP {status}: {}", excerpt(text));
    // Errors, whether of the request or of a batch step, carry a message; rows here never do.
    ensure!(!text.contains("\"message\""), "an error: {}", excerpt(text));
    for &id in ids {
        ensure!(has_row(text, id), "no row {id} in {}", excerpt(text));
    }
    Ok(())
}

/// The next text message, which must contain `marker`.
async fn expect_ws(ws: &mut Ws, marker: &str) -> Result<String> {
    loop {
        let message = ws
            .next()
            .await
            .context("the server closed the WebSocket")??;
        match message {
            Message::Text(text) => {
                let text = text.to_string();
                ensure!(
                    text.contains(marker),
                    "expected {marker}: {}",
                    excerpt(&text)
                );
                return Ok(text);
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => bail!("unexpected WebSocket message {other:?}"),
        }
    }
}

/// One measured cell: `clients` clients of one kind for a fixed time.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Cell {
    pub(crate) kind: Kind,
    pub(crate) clients: usize,
    pub(crate) requests: usize,
    pub(crate) seconds: f64,
    pub(crate) per_second: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
}

/// Runs `clients` clients for `warmup + measure`; only requests that start after the warm-up
/// count. Any failed request fails the cell: a rate of failures measures nothing.
pub(crate) async fn run_cell(
    kind: Kind,
    addr: SocketAddr,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<Cell> {
    let start = Instant::now();
    let (counted_from, end) = (start + warmup, start + warmup + measure);
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            tokio::spawn(async move {
                let mut client = Client::connect(kind, addr).await?;
                let mut rng = SplitMix::new(0xC0FFEE + i as u64);
                let mut samples = Samples::default();
                loop {
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    client
                        .request(&mut rng)
                        .await
                        .with_context(|| format!("{} with {clients} clients", kind.title()))?;
                    if t >= counted_from {
                        samples.push(t.elapsed());
                    }
                }
                Ok::<_, anyhow::Error>(samples)
            })
        })
        .collect();
    let mut all = Samples::default();
    for task in tasks {
        all.extend(&task.await.context("a client task panicked")??);
    }
    let seconds = measure.as_secs_f64();
    let summary = all.summary();
    Ok(Cell {
        kind,
        clients,
        requests: summary.n,
        seconds,
        per_second: summary.n as f64 / seconds,
        p50_us: summary.p50_us,
        p99_us: summary.p99_us,
    })
}

/// Sends about `total` requests of `kind` over `clients` clients as fast as they go, and says
/// how many it sent (a whole number per client).
pub(crate) async fn send(
    kind: Kind,
    addr: SocketAddr,
    clients: usize,
    total: usize,
) -> Result<usize> {
    let per_client = total.div_ceil(clients.max(1));
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            tokio::spawn(async move {
                let mut client = Client::connect(kind, addr).await?;
                let mut rng = SplitMix::new(0xFEED + i as u64);
                for _ in 0..per_client {
                    client.request(&mut rng).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.context("a client task panicked")??;
    }
    Ok(per_client * clients)
}
