//! Hrana over WebSocket (JSON subprotocols `hrana3`, `hrana2`, `hrana1`).
//!
//! Each Hrana stream runs in a task of its own, fed by a bounded queue, so requests on one
//! stream run in order while other streams proceed; a full queue stops the socket from
//! being read (back-pressure). SQL texts from `store_sql` belong to the whole connection and
//! are substituted before a request is queued, so a later `close_sql` cannot race it.
//! Mistakes in a request (an unknown stream, a duplicate id, a feature newer than the
//! subprotocol) get a `response_error` and the connection stays up; only a message that
//! cannot be read, or a request before `hello`, closes it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dbx_core::Adapter;
use tokio::sync::mpsc;

use prost::Message as _;

use super::ServerState;
use super::auth;
use super::namespace::Namespace;
use super::stream::{Failure, Stream, Version};
use crate::proto::pb;
use crate::proto::ws::{ClientMsg, Request, Response as WsResponse, ServerMsg};
use crate::proto::{self, CursorEntry, Stmt, StreamRequest, StreamResponse};

/// Subprotocols in order of preference: the version and whether frames are protobuf.
const SUBPROTOCOLS: [(&str, Version, bool); 4] = [
    ("hrana3-protobuf", Version::V3, true),
    ("hrana3", Version::V3, false),
    ("hrana2", Version::V2, false),
    ("hrana1", Version::V1, false),
];

/// `GET /` with `Upgrade: websocket`.
pub(crate) async fn upgrade(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok());
    let available: Vec<(&str, Version, bool)> = SUBPROTOCOLS
        .into_iter()
        .filter(|(_, _, protobuf)| state.config.protobuf || !protobuf)
        .collect();
    let (ws, version, protobuf) = match offered {
        None => (ws, Version::V1, false),
        Some(list) => {
            let offered: Vec<String> = list
                .split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .collect();
            let Some((name, version, protobuf)) = available
                .iter()
                .find(|(name, _, _)| offered.iter().any(|o| o == name))
            else {
                let names: Vec<&str> = available.iter().map(|(name, _, _)| *name).collect();
                let message = format!(
                    "Only these WebSocket subprotocols are supported: {}",
                    names.join(" ")
                );
                return (StatusCode::BAD_REQUEST, message).into_response();
            };
            (ws.protocols([*name]), *version, *protobuf)
        }
    };
    // The namespace is fixed for the connection at the upgrade, as in sqld.
    // The token comes later, in `hello`.
    let namespace = match super::namespace::resolve(&state, &headers) {
        Ok(ns) => ns,
        Err(refusal) => return refusal.into_response(),
    };
    let adapter = match super::namespace::adapter(&state, &namespace).await {
        Ok(adapter) => adapter,
        Err(refusal) => return refusal.into_response(),
    };
    let limit = state.config.max_body_bytes;
    ws.max_message_size(limit).on_upgrade(move |socket| {
        connection(
            Conn::new(state, adapter, namespace, version),
            socket,
            protobuf,
        )
    })
}

/// Writes a server message in the connection's encoding.
fn encode(msg: ServerMsg, protobuf: bool) -> Message {
    if protobuf {
        Message::Binary(pb::convert::server_msg_out(msg).encode_to_vec().into())
    } else {
        Message::Text(serde_json::to_string(&msg).unwrap_or_default().into())
    }
}

/// Reads a client message; `Err` holds the close code and reason.
fn decode(incoming: &Message, protobuf: bool) -> Result<ClientMsg, (u16, String)> {
    match (incoming, protobuf) {
        (Message::Text(text), false) => {
            serde_json::from_str(text).map_err(|e| (1007, format!("cannot read the message: {e}")))
        }
        (Message::Binary(bytes), true) => pb::ws::ClientMsg::decode(bytes.as_ref())
            .map_err(|e| e.to_string())
            .and_then(pb::convert::client_msg_in)
            .map_err(|e| (1007, format!("cannot read the message: {e}"))),
        (Message::Binary(_), false) => Err((
            1003,
            "binary frames are not used by JSON subprotocols".to_owned(),
        )),
        (_, true) => Err((
            1003,
            "text frames are not used by hrana3-protobuf".to_owned(),
        )),
        _ => Err((1003, "unexpected frame".to_owned())),
    }
}

type Job = (i32, Work);

enum Work {
    Handle(StreamRequest),
    OpenCursor { cursor_id: i32, batch: proto::Batch },
    FetchCursor { cursor_id: i32, max_count: u32 },
    CloseCursor { cursor_id: i32 },
}

pub(crate) struct Conn {
    state: Arc<ServerState>,
    adapter: Arc<dyn Adapter>,
    namespace: Namespace,
    /// From the token of the latest `hello`; the stream tasks read it before each request.
    read_only: Arc<AtomicBool>,
    version: Version,
    out: mpsc::Sender<ServerMsg>,
    streams: HashMap<i32, mpsc::Sender<Job>>,
    cursors: HashMap<i32, i32>,
    sqls: HashMap<i32, String>,
}

fn error(code: &str, message: impl Into<String>) -> proto::Error {
    proto::Error::new(code, message)
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Serves one connection: reads client messages from `socket` and writes the server's to it.
/// Generic over the socket so that a session can also be driven without one (the fuzz
/// targets do).
pub(crate) async fn connection<S>(mut conn: Conn, mut socket: S, protobuf: bool)
where
    S: futures_util::Stream<Item = Result<Message, axum::Error>>
        + futures_util::Sink<Message>
        + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    let (out, mut outgoing) = mpsc::channel::<ServerMsg>(64);
    conn.out = out;
    let version = conn.version;
    let mut hello = false;
    loop {
        tokio::select! {
            Some(msg) = outgoing.recv() => {
                if socket.send(encode(msg, protobuf)).await.is_err() {
                    return;
                }
            }
            incoming = socket.next() => {
                let Some(Ok(incoming)) = incoming else { return };
                if matches!(incoming, Message::Close(_)) {
                    return;
                }
                if matches!(incoming, Message::Ping(_) | Message::Pong(_)) {
                    continue;
                }
                let msg = match decode(&incoming, protobuf) {
                    Ok(msg) => msg,
                    Err((code, reason)) => {
                        let _ = socket.send(close(code, &reason)).await;
                        return;
                    }
                };
                match msg {
                    ClientMsg::Hello { .. } if hello && version == Version::V1 => {
                        let _ = socket
                            .send(close(1008, "Repeated hello message is only supported in protocol version hrana2 and higher"))
                            .await;
                        return;
                    }
                    ClientMsg::Hello { jwt } => match conn.authenticate(jwt.as_deref()) {
                        Ok(()) => {
                            hello = true;
                            let _ = conn.out.send(ServerMsg::HelloOk {}).await;
                        }
                        Err(error) => {
                            // Queued responses go first, then the refusal, then the close.
                            drop(conn);
                            while let Some(msg) = outgoing.recv().await {
                                let _ = socket.send(encode(msg, protobuf)).await;
                            }
                            let refusal = ServerMsg::HelloError { error };
                            let _ = socket.send(encode(refusal, protobuf)).await;
                            let _ = socket.send(close(1000, "authentication failed")).await;
                            return;
                        }
                    },
                    ClientMsg::Request { .. } if !hello => {
                        let _ = socket.send(close(1008, "Received a request before hello message")).await;
                        return;
                    }
                    ClientMsg::Request { request_id, request } => conn.dispatch(request_id, request).await,
                }
            }
        }
    }
}

impl Conn {
    pub(crate) fn new(
        state: Arc<ServerState>,
        adapter: Arc<dyn Adapter>,
        namespace: Namespace,
        version: Version,
    ) -> Self {
        Self {
            state,
            adapter,
            namespace,
            read_only: Arc::new(AtomicBool::new(false)),
            version,
            out: mpsc::channel(1).0,
            streams: HashMap::new(),
            cursors: HashMap::new(),
            sqls: HashMap::new(),
        }
    }

    /// Checks a `hello`'s token and takes its rights for the requests that follow.
    fn authenticate(&self, jwt: Option<&str>) -> Result<(), proto::Error> {
        let grant = auth::from_hello(self.state.config.auth.as_ref(), jwt)
            .and_then(|grant| auth::require_access(&grant, &self.namespace))
            .map_err(|e| error(e.code, e.message))?;
        self.read_only
            .store(grant == auth::Access::Read, Ordering::SeqCst);
        Ok(())
    }

    async fn reply(&self, request_id: i32, result: Result<WsResponse, proto::Error>) {
        let msg = match result {
            Ok(response) => ServerMsg::ResponseOk {
                request_id,
                response,
            },
            Err(error) => ServerMsg::ResponseError { request_id, error },
        };
        let _ = self.out.send(msg).await;
    }

    fn needs(&self, version: Version, what: &str) -> Result<(), proto::Error> {
        if self.version < version {
            let name = if version == Version::V3 {
                "hrana3"
            } else {
                "hrana2"
            };
            return Err(error(
                "PROTOCOL_ERROR",
                format!("`{what}` is only supported in protocol version {name} and higher"),
            ));
        }
        Ok(())
    }

    fn resolve(&self, stmt: &mut Stmt) -> Result<(), proto::Error> {
        if let Some(id) = stmt.sql_id.take() {
            if stmt.sql.is_some() {
                return Err(error(
                    "PROTOCOL_ERROR",
                    "a statement gives both `sql` and `sql_id`; give one",
                ));
            }
            let sql = self
                .sqls
                .get(&id)
                .ok_or_else(|| error("PROTOCOL_ERROR", format!("SQL text {id} is not stored")))?;
            stmt.sql = Some(sql.clone());
        }
        Ok(())
    }

    async fn queue(&self, stream_id: i32, request_id: i32, work: Work) {
        match self.streams.get(&stream_id) {
            // A full queue waits here, which stops reading the socket: back-pressure.
            Some(queue) => {
                if queue.send((request_id, work)).await.is_err() {
                    self.reply(
                        request_id,
                        Err(error(
                            "STREAM_NOT_OPEN",
                            format!("stream {stream_id} has closed"),
                        )),
                    )
                    .await;
                }
            }
            None => {
                self.reply(
                    request_id,
                    Err(error(
                        "PROTOCOL_ERROR",
                        format!("stream {stream_id} is not open"),
                    )),
                )
                .await
            }
        }
    }

    async fn dispatch(&mut self, request_id: i32, request: Request) {
        let result = self.route(request_id, request).await;
        if let Err(e) = result {
            self.reply(request_id, Err(e)).await;
        }
    }

    /// Handles connection-level requests at once and queues stream requests; errors are
    /// replied by the caller.
    async fn route(&mut self, request_id: i32, request: Request) -> Result<(), proto::Error> {
        match request {
            Request::OpenStream { stream_id } => {
                if self.streams.contains_key(&stream_id) {
                    return Err(error(
                        "PROTOCOL_ERROR",
                        format!("stream {stream_id} is already open"),
                    ));
                }
                let (queue, jobs) = mpsc::channel(8);
                self.streams.insert(stream_id, queue);
                let task = StreamTask {
                    state: self.state.clone(),
                    adapter: self.adapter.clone(),
                    read_only: self.read_only.clone(),
                    version: self.version,
                    out: self.out.clone(),
                };
                tokio::spawn(task.run(request_id, jobs));
            }
            Request::CloseStream { stream_id } => {
                // Dropping the queue ends the task once it has run what was queued before,
                // and with it the stream's connection (rolling back an open transaction).
                self.streams.remove(&stream_id);
                self.cursors.retain(|_, s| *s != stream_id);
                self.reply(request_id, Ok(WsResponse::CloseStream {})).await;
            }
            Request::Execute {
                stream_id,
                mut stmt,
            } => {
                self.resolve(&mut stmt)?;
                self.queue(
                    stream_id,
                    request_id,
                    Work::Handle(StreamRequest::Execute { stmt }),
                )
                .await;
            }
            Request::Batch {
                stream_id,
                mut batch,
            } => {
                for step in &mut batch.steps {
                    self.resolve(&mut step.stmt)?;
                }
                self.queue(
                    stream_id,
                    request_id,
                    Work::Handle(StreamRequest::Batch { batch }),
                )
                .await;
            }
            Request::Sequence {
                stream_id,
                sql,
                sql_id,
            } => {
                self.needs(Version::V2, "sequence")?;
                let mut stmt = Stmt {
                    sql,
                    sql_id,
                    ..Stmt::default()
                };
                self.resolve(&mut stmt)?;
                let request = StreamRequest::Sequence {
                    sql: stmt.sql,
                    sql_id: None,
                };
                self.queue(stream_id, request_id, Work::Handle(request))
                    .await;
            }
            Request::Describe {
                stream_id,
                sql,
                sql_id,
            } => {
                self.needs(Version::V2, "describe")?;
                let mut stmt = Stmt {
                    sql,
                    sql_id,
                    ..Stmt::default()
                };
                self.resolve(&mut stmt)?;
                let request = StreamRequest::Describe {
                    sql: stmt.sql,
                    sql_id: None,
                };
                self.queue(stream_id, request_id, Work::Handle(request))
                    .await;
            }
            Request::StoreSql { sql_id, sql } => {
                self.needs(Version::V2, "store_sql")?;
                let limits = &self.state.config.limits;
                if self.sqls.contains_key(&sql_id) {
                    return Err(error(
                        "PROTOCOL_ERROR",
                        format!("SQL text {sql_id} is already stored"),
                    ));
                }
                if self.sqls.len() >= self.state.config.ws_max_stored_sql {
                    return Err(error(
                        "SQL_STORE_TOO_MANY",
                        format!(
                            "a connection may store at most {} SQL texts",
                            self.state.config.ws_max_stored_sql
                        ),
                    ));
                }
                if sql.len() > limits.max_sql_bytes {
                    return Err(error(
                        "SQL_STORE_TOO_LARGE",
                        format!(
                            "a stored SQL text may have at most {} bytes",
                            limits.max_sql_bytes
                        ),
                    ));
                }
                self.sqls.insert(sql_id, sql);
                self.reply(request_id, Ok(WsResponse::StoreSql {})).await;
            }
            Request::CloseSql { sql_id } => {
                self.needs(Version::V2, "close_sql")?;
                self.sqls.remove(&sql_id);
                self.reply(request_id, Ok(WsResponse::CloseSql {})).await;
            }
            Request::GetAutocommit { stream_id } => {
                self.needs(Version::V3, "get_autocommit")?;
                self.queue(
                    stream_id,
                    request_id,
                    Work::Handle(StreamRequest::GetAutocommit {}),
                )
                .await;
            }
            Request::OpenCursor {
                stream_id,
                cursor_id,
                mut batch,
            } => {
                self.needs(Version::V3, "open_cursor")?;
                if self.cursors.contains_key(&cursor_id) {
                    return Err(error(
                        "PROTOCOL_ERROR",
                        format!("cursor {cursor_id} is already open"),
                    ));
                }
                for step in &mut batch.steps {
                    self.resolve(&mut step.stmt)?;
                }
                self.cursors.insert(cursor_id, stream_id);
                self.queue(stream_id, request_id, Work::OpenCursor { cursor_id, batch })
                    .await;
            }
            Request::FetchCursor {
                cursor_id,
                max_count,
            } => {
                self.needs(Version::V3, "fetch_cursor")?;
                let stream_id = *self.cursors.get(&cursor_id).ok_or_else(|| {
                    error("CURSOR_NOT_OPEN", format!("cursor {cursor_id} is not open"))
                })?;
                self.queue(
                    stream_id,
                    request_id,
                    Work::FetchCursor {
                        cursor_id,
                        max_count,
                    },
                )
                .await;
            }
            Request::CloseCursor { cursor_id } => {
                self.needs(Version::V3, "close_cursor")?;
                match self.cursors.remove(&cursor_id) {
                    Some(stream_id) => {
                        self.queue(stream_id, request_id, Work::CloseCursor { cursor_id })
                            .await
                    }
                    None => self.reply(request_id, Ok(WsResponse::CloseCursor {})).await,
                }
            }
        }
        Ok(())
    }
}

fn ws_response(response: StreamResponse) -> WsResponse {
    match response {
        StreamResponse::Execute { result } => WsResponse::Execute { result },
        StreamResponse::Batch { result } => WsResponse::Batch { result },
        StreamResponse::Sequence {} => WsResponse::Sequence {},
        StreamResponse::Describe { result } => WsResponse::Describe { result },
        StreamResponse::StoreSql {} => WsResponse::StoreSql {},
        StreamResponse::CloseSql {} => WsResponse::CloseSql {},
        StreamResponse::GetAutocommit { is_autocommit } => {
            WsResponse::GetAutocommit { is_autocommit }
        }
        StreamResponse::Close {} => WsResponse::CloseStream {},
    }
}

/// What a stream's task shares with its connection.
struct StreamTask {
    state: Arc<ServerState>,
    adapter: Arc<dyn Adapter>,
    read_only: Arc<AtomicBool>,
    version: Version,
    out: mpsc::Sender<ServerMsg>,
}

impl StreamTask {
    /// One stream: opens its connection, then runs its queue in order.
    async fn run(self, open_request: i32, mut jobs: mpsc::Receiver<Job>) {
        let StreamTask {
            state,
            adapter,
            read_only,
            version,
            out,
        } = self;
        let reply = |request_id: i32, result: Result<WsResponse, proto::Error>| {
            let out = out.clone();
            async move {
                let msg = match result {
                    Ok(response) => ServerMsg::ResponseOk {
                        request_id,
                        response,
                    },
                    Err(error) => ServerMsg::ResponseError { request_id, error },
                };
                let _ = out.send(msg).await;
            }
        };
        let mut stream = match adapter.connection().await {
            Ok(conn) => {
                reply(open_request, Ok(WsResponse::OpenStream {})).await;
                Stream::new(conn, state.config.limits.clone(), state.stats.clone())
            }
            Err(e) => {
                reply(open_request, Err(super::errors::stmt_error(&e))).await;
                // Until the client closes it, every request on the stream gets this answer.
                while let Some((request_id, _)) = jobs.recv().await {
                    reply(
                        request_id,
                        Err(error("STREAM_NOT_OPEN", "the stream failed to open")),
                    )
                    .await;
                }
                return;
            }
        };
        let mut cursors: HashMap<i32, VecDeque<CursorEntry>> = HashMap::new();
        while let Some((request_id, work)) = jobs.recv().await {
            stream.read_only = read_only.load(Ordering::SeqCst);
            let result = match work {
                Work::Handle(request) => match stream.handle(request, version).await {
                    Ok(response) => Ok(ws_response(response)),
                    Err(Failure::Request(e) | Failure::Forbidden(e)) => Err(e),
                    Err(Failure::Protocol(m)) => Err(error("PROTOCOL_ERROR", m)),
                },
                Work::OpenCursor { cursor_id, batch } => {
                    let entries = match stream.cursor(batch, version).await {
                        Ok(entries) => entries,
                        Err(Failure::Request(e) | Failure::Forbidden(e)) => {
                            vec![CursorEntry::Error { error: e }]
                        }
                        Err(Failure::Protocol(m)) => vec![CursorEntry::Error {
                            error: error("PROTOCOL_ERROR", m),
                        }],
                    };
                    cursors.insert(cursor_id, entries.into());
                    Ok(WsResponse::OpenCursor {})
                }
                Work::FetchCursor {
                    cursor_id,
                    max_count,
                } => match cursors.get_mut(&cursor_id) {
                    Some(entries) => {
                        let n = usize::try_from(max_count)
                            .unwrap_or(usize::MAX)
                            .min(state.config.limits.max_cursor_fetch)
                            .min(entries.len());
                        let batch: Vec<CursorEntry> = entries.drain(..n).collect();
                        Ok(WsResponse::FetchCursor {
                            entries: batch,
                            done: entries.is_empty(),
                        })
                    }
                    None => Err(error(
                        "CURSOR_NOT_OPEN",
                        format!("cursor {cursor_id} is not open"),
                    )),
                },
                Work::CloseCursor { cursor_id } => {
                    cursors.remove(&cursor_id);
                    Ok(WsResponse::CloseCursor {})
                }
            };
            reply(request_id, result).await;
        }
    }
}
