//! Hostile and careless clients against `dbx serve`, on every backend: a socket opening
//! stream after stream, HTTP streams left open, slow statements by the dozen, a client that
//! walks away from a statement, connections that never send `hello` or a whole request
//! head, a token that expires mid-session, upgrade probing for tenant names, a burst of
//! stream opens against `max-streams`, and web pages driving a server without keys. The
//! families run in a seeded random order; each ends by checking that another tenant is
//! still served.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Backend, Db, describe};
use crate::{HranaSocket as Socket, Served, hrana_socket, http_as, token};

/// How long a family may take to see the server do what it must; far above what it needs.
const LIVENESS: Duration = Duration::from_secs(20);
const WS_MAX_STREAMS: usize = 8;
const MAX_STREAMS: usize = 12;

struct Target {
    backend: Backend,
    db: Db,
    served: Served,
    admin: String,
    acme_rw: String,
    acme_ro: String,
    beta_rw: String,
    key: ed25519_dalek::SigningKey,
    inserted: u64,
}

fn slow(backend: Backend, seconds: u32, marker: &str) -> String {
    match backend {
        Backend::Postgres => format!("SELECT pg_sleep({seconds}) /* {marker} */"),
        Backend::Mysql => format!("SELECT SLEEP({seconds}) /* {marker} */"),
        Backend::Sqlite => format!(
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) \
             SELECT count(*) FROM r /* {marker} */"
        ),
    }
}

fn host(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

async fn setup(backend: Backend) -> Target {
    let db = Db::new(backend).await;
    let out = db.run(&["token", "keygen"]);
    assert!(out.status.success(), "{}", describe(&out));
    let config = db.dir.path().join("dbx.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "[server]\nheader-read-timeout = \"1s\"\n\
             statement-timeout = {{ rw = \"3s\" }}\n\
             hrana = {{ hello-timeout = \"1s\", ws-max-streams = {WS_MAX_STREAMS}, max-streams = {MAX_STREAMS} }}\n\n{text}"
        ),
    )
    .unwrap();
    let admin = token(&db, &["--role", "admin"]);
    let acme_rw = token(&db, &["--role", "rw", "--tenant", "acme"]);
    let acme_ro = token(&db, &["--role", "ro", "--tenant", "acme"]);
    let beta_rw = token(&db, &["--role", "rw", "--tenant", "beta"]);
    let pem = std::fs::read_to_string(db.dir.path().join("dbx-auth.key")).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let served = Served::start(&db, &["--auth-keys", "dbx-auth.key.pub"]);
    let kind = backend.kind_name();
    for t in ["acme", "beta"] {
        let (status, body) = http_as(
            "POST",
            &format!("{}/api/adapters/{kind}/tenants", served.base),
            Some(&admin),
            Some(json!({"id": t})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = http_as(
            "POST",
            &format!("{}/api/databases/{kind}.{t}/sql", served.base),
            Some(&admin),
            Some(json!({"sql": "CREATE TABLE items (n INTEGER)"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    Target {
        backend,
        db,
        served,
        admin,
        acme_rw,
        acme_ro,
        beta_rw,
        key,
        inserted: 0,
    }
}

impl Target {
    fn kind(&self) -> &'static str {
        self.backend.kind_name()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.base)
    }

    /// beta inserts a row and must be answered 201 while acme misbehaves.
    async fn beta_is_served(&mut self, while_what: &str) {
        let url = self.url(&format!(
            "/api/databases/{}.beta/tables/items/rows",
            self.kind()
        ));
        let insert = http_as(
            "POST",
            &url,
            Some(&self.beta_rw),
            Some(json!({"values": {"n": 1}})),
        );
        let (status, body) = tokio::time::timeout(LIVENESS, insert)
            .await
            .unwrap_or_else(|_| panic!("beta was not answered while {while_what}"));
        assert_eq!(status, 201, "beta's insert while {while_what}: {body}");
        self.inserted += 1;
    }

    async fn socket(&self, namespace: &str, origin: Option<&str>) -> Result<Socket, String> {
        let mut headers = vec![("x-namespace", namespace)];
        headers.extend(origin.map(|origin| ("Origin", origin)));
        hrana_socket(&self.url(""), &headers).await
    }

    /// A token for acme signed here, to choose its expiry.
    fn acme_token_expiring(&self, at: u64) -> String {
        dbx_tests::jwt::token_signed_by(
            &self.key,
            json!({"p": {"rw": {"ns": ["acme"]}}, "role": "rw", "exp": at}),
        )
    }

    /// Whether a statement carrying `marker` still runs on the database server.
    async fn running(&self, marker: &str) -> i64 {
        let sql = match self.backend {
            Backend::Postgres => format!(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{marker}%' \
                 AND query NOT LIKE '%pg_stat_activity%'"
            ),
            Backend::Mysql => format!(
                "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%{marker}%' \
                 AND INFO NOT LIKE '%PROCESSLIST%'"
            ),
            Backend::Sqlite => return 0,
        };
        let rs = self.db.adapter.query(sql.into()).await.unwrap();
        rs.scalar::<i64>().unwrap()
    }
}

/// A Hrana pipeline in `namespace`, with the headers a client may choose.
async fn pipeline(
    base: &str,
    namespace: &str,
    token: Option<&str>,
    baton: Option<&str>,
    requests: Json,
    headers: &[(&str, &str)],
) -> (u16, Json) {
    let mut request = hyper_014::Request::builder()
        .method("POST")
        .uri(format!("{base}/v2/pipeline"))
        .header("x-namespace", namespace);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut typed = false;
    for (name, value) in headers {
        typed |= name.eq_ignore_ascii_case("content-type");
        request = request.header(*name, *value);
    }
    if !typed {
        request = request.header("content-type", "application/json");
    }
    let body = json!({"baton": baton, "requests": requests}).to_string();
    let response = hyper_014::Client::new()
        .request(request.body(hyper_014::Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = hyper_014::body::to_bytes(response.into_body())
        .await
        .unwrap();
    let parsed = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, parsed)
}

/// Closes a stream; one that expired meanwhile (idle streams do) is closed already.
async fn close_stream(base: &str, namespace: &str, token: &str, baton: &str) {
    let close = json!([{"type": "close"}]);
    let (status, body) = pipeline(base, namespace, Some(token), Some(baton), close, &[]).await;
    assert!(
        status == 200 || (status == 400 && body["code"] == "STREAM_EXPIRED"),
        "{status} {body}"
    );
}

async fn send(socket: &mut Socket, msg: Json) -> Result<(), String> {
    socket
        .send(Message::Text(msg.to_string().into()))
        .await
        .map_err(|e| e.to_string())
}

/// The next JSON message, or `None` once the server closed the socket.
async fn next(socket: &mut Socket) -> Option<Json> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Sends `hello` with `jwt` and returns the answer's type (`None`: the socket closed).
async fn hello(socket: &mut Socket, jwt: Json) -> Option<Json> {
    send(socket, json!({"type": "hello", "jwt": jwt}))
        .await
        .ok()?;
    next(socket).await.map(|reply| reply["type"].clone())
}

/// Sends one request and returns its response (`None` when the socket was closed).
async fn request(socket: &mut Socket, id: u64, req: Json) -> Option<Json> {
    send(
        socket,
        json!({"type": "request", "request_id": id, "request": req}),
    )
    .await
    .ok()?;
    next(socket).await
}

fn execute(stream: u64, sql: &str) -> Json {
    json!({"type": "execute", "stream_id": stream, "stmt": {"sql": sql}})
}

/// One socket opening stream after stream and running a statement on each.
async fn many_websocket_streams(t: &mut Target) {
    let mut socket = t.socket("acme", None).await.unwrap();
    let hello = hello(&mut socket, json!(t.acme_ro)).await;
    assert_eq!(hello, Some(json!("hello_ok")));
    let mut opened = 0;
    for stream in 1..=40u64 {
        let open = request(
            &mut socket,
            stream * 2,
            json!({"type": "open_stream", "stream_id": stream}),
        )
        .await
        .expect("the socket stays open");
        if open["type"] == "response_ok" {
            let run = request(&mut socket, stream * 2 + 1, execute(stream, "SELECT 1"))
                .await
                .unwrap();
            assert_eq!(run["type"], "response_ok", "{run}");
            opened += 1;
        } else {
            assert_eq!(open["type"], "response_error", "{open}");
            assert!(
                open["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("streams"),
                "{open}"
            );
        }
    }
    assert_eq!(opened, WS_MAX_STREAMS, "streams one socket may hold");
    t.beta_is_served("one socket held its streams").await;
    drop(socket);
}

/// HTTP streams opened and never closed, as libSQL clients leave them.
async fn http_streams_left_open(t: &mut Target) {
    let mut batons = Vec::new();
    for _ in 0..(MAX_STREAMS - 2) {
        let run = json!([{"type": "execute", "stmt": {"sql": "SELECT count(*) FROM items"}}]);
        let (status, body) =
            pipeline(&t.served.base, "acme", Some(&t.acme_ro), None, run, &[]).await;
        if status == 200 {
            batons.push(body["baton"].as_str().unwrap().to_owned());
        } else {
            // acme's share of connections is spent: its own stream waits, then says so.
            assert_eq!(status, 503, "{body}");
        }
    }
    t.beta_is_served("HTTP streams were left open").await;
    for baton in &batons {
        close_stream(&t.served.base, "acme", &t.acme_ro, baton).await;
    }
}

/// A burst of stream opens against `max-streams`, all at once over HTTP.
async fn stream_burst(t: &mut Target) {
    // Streams of both tenants, so that no tenant share stands in for max-streams.
    let opens = (0..3 * MAX_STREAMS).map(|i| {
        let (ns, token) = if i % 2 == 0 {
            ("acme", &t.acme_rw)
        } else {
            ("beta", &t.beta_rw)
        };
        let run = json!([{"type": "execute", "stmt": {"sql": "SELECT 1"}}]);
        let base = t.served.base.clone();
        async move {
            (
                ns,
                token,
                pipeline(&base, ns, Some(token), None, run, &[]).await,
            )
        }
    });
    let results = futures_util::future::join_all(opens).await;
    let mut open = Vec::new();
    for (ns, token, (status, body)) in &results {
        match body["baton"].as_str() {
            Some(baton) if *status == 200 => open.push((*ns, *token, baton.to_owned())),
            _ => assert!([503, 429].contains(status), "{status} {body}"),
        }
    }
    assert!(
        open.len() <= MAX_STREAMS,
        "{} streams open against max-streams {MAX_STREAMS}",
        open.len()
    );
    for (ns, token, baton) in &open {
        close_stream(&t.served.base, ns, token, baton).await;
    }
    t.beta_is_served("a burst of streams was opened").await;
}

/// Twenty slow statements at once from acme.
async fn slow_statements(t: &mut Target) {
    let mut work = tokio::task::JoinSet::new();
    for i in 0..20 {
        let url = t.url(&format!("/api/databases/{}.acme/sql", t.kind()));
        let (token, sql) = (t.acme_rw.clone(), slow(t.backend, 20, &format!("slow{i}")));
        work.spawn(
            async move { http_as("POST", &url, Some(&token), Some(json!({"sql": sql}))).await },
        );
    }
    t.beta_is_served("acme ran twenty slow statements").await;
    while let Some(done) = work.join_next().await {
        let (status, body) = done.unwrap();
        // Past the rw timeout, or no connection within acme's share.
        assert!([503, 504].contains(&status), "{status} {body}");
    }
}

/// A client that sends a long statement and goes away: it stops on the server.
async fn abandoned_statement(t: &mut Target) {
    let marker = format!("gone{}", std::process::id());
    // A socket of its own, closed by dropping it: a pooled client would keep it open.
    let body = json!({"sql": slow(t.backend, 3600, &marker)}).to_string();
    let mut tcp = tokio::net::TcpStream::connect(host(&t.served.base))
        .await
        .unwrap();
    let head = format!(
        "POST /api/databases/{}.acme/sql HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        t.kind(),
        t.admin,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    if t.backend != Backend::Sqlite {
        wait_for(
            || async { t.running(&marker).await == 1 },
            "the statement to start",
        )
        .await;
    }
    drop(tcp);
    if t.backend != Backend::Sqlite {
        wait_for(
            || async { t.running(&marker).await == 0 },
            "the abandoned statement to stop",
        )
        .await;
    }
    t.beta_is_served("a client walked away from its statement")
        .await;
}

async fn wait_for<F, Fut>(mut ready: F, what: &str)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + LIVENESS;
    while !ready().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited too long for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sockets that never send `hello`, and connections that never finish a request head.
async fn silent_connections(t: &mut Target) {
    let mut sockets = Vec::new();
    for _ in 0..50 {
        sockets.push(t.socket("acme", None).await.unwrap());
    }
    let mut heads = Vec::new();
    for _ in 0..50 {
        let mut tcp = tokio::net::TcpStream::connect(host(&t.served.base))
            .await
            .unwrap();
        tcp.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        heads.push(tcp);
    }
    for socket in &mut sockets {
        let closed = tokio::time::timeout(LIVENESS, next(socket)).await;
        assert!(
            matches!(closed, Ok(None)),
            "a socket without hello stayed open"
        );
    }
    for tcp in &mut heads {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(LIVENESS, tcp.read(&mut buf)).await;
        // Closed (0 bytes), or a 408 answer before the close.
        match read {
            Ok(Ok(0) | Err(_)) => {}
            Ok(Ok(n)) => assert!(
                String::from_utf8_lossy(&buf[..n]).contains("408"),
                "{}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(_) => panic!("a connection without a full request head stayed open"),
        }
    }
    t.beta_is_served("silent connections were open").await;
}

/// A token that expires mid-session stops working on the socket.
async fn expiring_token(t: &mut Target) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = t.acme_token_expiring(now + 2);
    let mut socket = t.socket("acme", None).await.unwrap();
    assert_eq!(
        hello(&mut socket, json!(token)).await,
        Some(json!("hello_ok"))
    );
    let open = request(
        &mut socket,
        1,
        json!({"type": "open_stream", "stream_id": 1}),
    )
    .await
    .unwrap();
    assert_eq!(open["type"], "response_ok", "{open}");
    wait_for(
        || async {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                > now + 2
        },
        "the token to expire",
    )
    .await;
    match request(&mut socket, 2, execute(1, "SELECT 1")).await {
        None => {}
        Some(reply) => {
            assert_eq!(reply["type"], "response_error", "{reply}");
            assert_eq!(reply["error"]["code"], "AUTH_JWT_EXPIRED", "{reply}");
        }
    }
}

/// Without a token, an upgrade tells nothing about which tenants exist.
async fn upgrade_probing(t: &mut Target) {
    let mut answers = Vec::new();
    for namespace in ["acme", "no-such-tenant"] {
        let mut socket = t
            .socket(namespace, None)
            .await
            .expect("the upgrade is answered alike");
        let greeted = hello(&mut socket, Json::Null).await;
        let reply = request(
            &mut socket,
            1,
            json!({"type": "open_stream", "stream_id": 1}),
        )
        .await;
        answers.push((greeted, reply.map(|r| r["type"].clone())));
    }
    assert_eq!(
        answers[0], answers[1],
        "acme and a missing tenant answer alike: {answers:?}"
    );
    assert_ne!(
        answers[0].1,
        Some(json!("response_ok")),
        "no stream without a token"
    );
}

async fn hostile_clients(backend: Backend, seed: u64) {
    let mut t = setup(backend).await;
    let mut order: Vec<usize> = (0..8).collect();
    let mut state = seed;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, usize::try_from(state % (i as u64 + 1)).unwrap());
    }
    eprintln!(
        "{}: families in order {order:?} (seed {seed})",
        backend.kind_name()
    );
    for family in order {
        match family {
            0 => many_websocket_streams(&mut t).await,
            1 => http_streams_left_open(&mut t).await,
            2 => stream_burst(&mut t).await,
            3 => slow_statements(&mut t).await,
            4 => abandoned_statement(&mut t).await,
            5 => silent_connections(&mut t).await,
            6 => expiring_token(&mut t).await,
            _ => upgrade_probing(&mut t).await,
        }
    }
    let (status, body) = http_as(
        "POST",
        &t.url(&format!("/api/databases/{}.beta/sql", t.kind())),
        Some(&t.admin),
        Some(json!({"sql": "SELECT count(*) FROM items"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rows"][0][0],
        json!(t.inserted),
        "every acknowledged insert of beta's is there"
    );
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    (u64::from(nanos) << 17) | 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_serves_others_through_hostile_clients() {
    hostile_clients(Backend::Sqlite, seed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serves_others_through_hostile_clients() {
    hostile_clients(Backend::Postgres, seed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_serves_others_through_hostile_clients() {
    hostile_clients(Backend::Mysql, seed()).await;
}

/// A server without keys answers only loopback pages of its own: a foreign page cannot
/// write through it (a CORS-simple POST), reach it by another host name (DNS rebinding) or
/// open a WebSocket to it.
async fn web_pages_cannot_drive(backend: Backend) {
    let db = Db::new(backend).await;
    let served = Served::start(&db, &[]);
    let base = served.base.clone();
    let create = json!([{"type": "execute", "stmt": {"sql": "CREATE TABLE planted (n INTEGER)"}}]);
    let evil = "https://evil.example";
    let attempts: [(&str, &[(&str, &str)]); 4] = [
        ("a text/plain POST", &[("content-type", "text/plain")]),
        (
            "a form POST",
            &[("content-type", "application/x-www-form-urlencoded")],
        ),
        ("a foreign Origin", &[("origin", evil)]),
        ("a rebound Host", &[("host", "evil.example")]),
    ];
    for (what, headers) in attempts {
        let (status, body) = pipeline(&base, "default", None, None, create.clone(), headers).await;
        assert!((400..500).contains(&status), "{what}: {status} {body}");
    }
    let tables = http_as(
        "GET",
        &format!("{base}/api/databases/{}/tables", backend.kind_name()),
        None,
        None,
    )
    .await;
    assert_eq!(tables.0, 200, "{}", tables.1);
    assert!(
        !tables.1.to_string().contains("planted"),
        "a page created a table: {}",
        tables.1
    );
    // The server's own pages, and clients that are not browsers, still work.
    let own = [("origin", base.as_str())];
    let read = json!([{"type": "execute", "stmt": {"sql": "SELECT 1"}}]);
    let (status, body) = pipeline(&base, "default", None, None, read.clone(), &own).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = pipeline(&base, "default", None, None, read, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        hrana_socket(&base, &[("Origin", evil)]).await.is_err(),
        "a WebSocket from a foreign page was accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refuses_web_pages_without_keys() {
    web_pages_cannot_drive(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_web_pages_without_keys() {
    web_pages_cannot_drive(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_refuses_web_pages_without_keys() {
    web_pages_cannot_drive(Backend::Mysql).await;
}
