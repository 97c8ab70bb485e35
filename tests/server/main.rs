//! `dbx serve` as a real process on a real socket: every route answers, on SQLite, PostgreSQL
//! and MariaDB; libSQL clients reach the same data; SIGTERM lets requests in flight finish.

#[path = "../migrate/support.rs"]
#[allow(dead_code)]
mod support;

mod attacks;
mod attacks_clients;
mod attacks_resources;
mod auth;
mod changes;
mod cli;
mod damaged;
mod libsql_crate;
mod migrations;
mod npm_clients;
mod openapi;
mod outage;
mod routes;
mod script;
mod shutdown;
mod studio;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value as Json;
use support::Db;

/// A running `dbx serve`, stopped (SIGKILL) when dropped.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Served {
    /// Starts `dbx serve` for `db` on a free port and waits for its address line.
    pub(crate) fn start(db: &Db, extra: &[&str]) -> Served {
        Self::start_wrapped(db, &[], extra)
    }

    /// [`start`](Self::start) through `wrapper` (see `Db::cli_wrapped`).
    pub(crate) fn start_wrapped(db: &Db, wrapper: &[&str], extra: &[&str]) -> Served {
        let mut args = vec!["serve"];
        if !extra.contains(&"--listen") {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        args.extend_from_slice(extra);
        let mut command = db.cli(&args);
        if let Some((program, rest)) = wrapper.split_first() {
            // The wrapper runs dbx itself: `prlimit --nofile=1024:1024 -- dbx ...`.
            let inner = command;
            command = std::process::Command::new(program);
            command
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .current_dir(db.dir.path())
                .args(rest)
                .arg(inner.get_program())
                .args(inner.get_args());
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .expect("dbx serve exited before printing its address")
            .unwrap();
        let base = first
            .strip_prefix("dbx listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        // Keep reading so the pipe never fills.
        std::thread::spawn(move || for _ in lines {});
        Served { child, base }
    }

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `dbx token create --key dbx-auth.key <args>` in `db`'s directory: a signed token.
pub(crate) fn token(db: &Db, args: &[&str]) -> String {
    let mut all = vec!["token", "create", "--key", "dbx-auth.key"];
    all.extend_from_slice(args);
    let out = db.run(&all);
    assert!(out.status.success(), "{}", support::describe(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A Hrana WebSocket client's socket.
pub(crate) type HranaSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to the server at `base` (`http://...`) with the `hrana3` subprotocol and
/// `headers`; the handshake's error as text when the server refuses it.
pub(crate) async fn hrana_socket(
    base: &str,
    headers: &[(&'static str, &str)],
) -> Result<HranaSocket, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request = base
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    let all = request.headers_mut();
    all.insert("Sec-WebSocket-Protocol", "hrana3".parse().unwrap());
    for (name, value) in headers {
        all.insert(*name, value.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
        .map_err(|e| e.to_string())
}

/// One HTTP request; returns the status and the body (JSON when it parses, else a string).
pub(crate) async fn http(method: &str, url: &str, body: Option<Json>) -> (u16, Json) {
    http_as(method, url, None, body).await
}

/// [`http`] with `Authorization: Bearer <token>`.
pub(crate) async fn http_as(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Json>,
) -> (u16, Json) {
    let mut request = hyper_014::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(hyper_014::Body::empty, |b| {
        hyper_014::Body::from(b.to_string())
    });
    let response = hyper_014::Client::new()
        .request(request.body(body).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let bytes = hyper_014::body::to_bytes(response.into_body())
        .await
        .unwrap();
    let parsed = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, parsed)
}
