//! One WebSocket connection's state: its namespace and token, its streams, cursors and
//! stored SQL texts, and the routing of each request to the stream it is for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dbx_core::Adapter;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::task::{Job, StreamTask, Work};
use crate::proto::ws::{Request, Response as WsResponse, ServerMsg};
use crate::proto::{self, Stmt, StreamRequest};
use crate::server::ServerState;
use crate::server::auth::{self, Grant};
use crate::server::namespace::{self, Namespace};
use crate::server::stream::{Caller, Version};

pub(super) fn error(code: &str, message: impl Into<String>) -> proto::Error {
    proto::Error::new(code, message)
}

/// A stream's task and the queue that feeds it.
struct StreamHandle {
    queue: mpsc::Sender<Job>,
    task: AbortHandle,
}

/// What a connection holds between messages.
pub(crate) struct Conn {
    state: Arc<ServerState>,
    namespace: Namespace,
    /// The namespace's database, opened at the first accepted `hello`.
    adapter: Option<Arc<dyn Adapter>>,
    /// The grant of the latest accepted `hello`: checked for expiry before each request.
    grant: Option<Grant>,
    /// From the token of the latest `hello`; each stream task reads it before each request.
    caller: Arc<Mutex<Caller>>,
    version: Version,
    out: mpsc::Sender<ServerMsg>,
    streams: HashMap<i32, StreamHandle>,
    cursors: HashMap<i32, i32>,
    sqls: HashMap<i32, String>,
}

impl Drop for Conn {
    /// The socket is gone: every stream stops now, cancelling its running statement, rather
    /// than finishing work nobody will read.
    fn drop(&mut self) {
        for stream in self.streams.values() {
            stream.task.abort();
        }
    }
}

impl Conn {
    pub(crate) fn new(state: Arc<ServerState>, namespace: Namespace, version: Version) -> Self {
        Self {
            state,
            namespace,
            adapter: None,
            grant: None,
            caller: Arc::default(),
            version,
            out: mpsc::channel(1).0,
            streams: HashMap::new(),
            cursors: HashMap::new(),
            sqls: HashMap::new(),
        }
    }

    pub(super) fn set_output(&mut self, out: mpsc::Sender<ServerMsg>) {
        self.out = out;
    }

    pub(super) fn version(&self) -> Version {
        self.version
    }

    pub(super) fn hello_timeout(&self) -> Duration {
        self.state.config.hello_timeout
    }

    pub(super) async fn send(&self, msg: ServerMsg) {
        let _ = self.out.send(msg).await;
    }

    /// Checks a `hello`'s token and takes its rights for the requests that follow; opens the
    /// namespace's database at the first one.
    pub(super) async fn authenticate(&mut self, jwt: Option<&str>) -> Result<(), proto::Error> {
        let grant = auth::from_hello(self.state.config.auth.as_ref(), jwt)
            .map_err(|e| error(e.code, e.message))?;
        let access =
            auth::require_access(&grant, &self.namespace).map_err(|e| error(e.code, e.message))?;
        if self.adapter.is_none() {
            let adapter = namespace::adapter(&self.state, &self.namespace)
                .await
                .map_err(|refusal| error(refusal.code(), refusal.message()))?;
            self.adapter = Some(adapter);
        }
        *self.caller.lock().unwrap_or_else(PoisonError::into_inner) =
            grant.caller(access, &self.state.config.statement_timeout);
        self.grant = Some(grant);
        Ok(())
    }

    async fn reply(&self, request_id: i32, result: Result<WsResponse, proto::Error>) {
        let _ = self.out.send(ServerMsg::response(request_id, result)).await;
    }

    /// Opens a stream: a task of its own, within the connection's and the server's limits.
    fn open_stream(&mut self, request_id: i32, stream_id: i32) -> Result<(), proto::Error> {
        if self.streams.contains_key(&stream_id) {
            return Err(error(
                "PROTOCOL_ERROR",
                format!("stream {stream_id} is already open"),
            ));
        }
        let config = &self.state.config;
        if self.streams.len() >= config.ws_max_streams {
            return Err(error(
                "STREAMS_EXHAUSTED",
                format!(
                    "a connection may have {} streams open; close some first",
                    config.ws_max_streams
                ),
            ));
        }
        let slot = self
            .state
            .stream_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                error(
                    "STREAMS_EXHAUSTED",
                    format!(
                        "the server has {} open streams, its limit; retry shortly",
                        config.max_streams
                    ),
                )
            })?;
        let adapter = self
            .adapter
            .clone()
            .ok_or_else(|| error("PROTOCOL_ERROR", "no hello yet"))?;
        let (queue, jobs) = mpsc::channel(8);
        let task = StreamTask {
            state: self.state.clone(),
            adapter,
            caller: self.caller.clone(),
            version: self.version,
            out: self.out.clone(),
            _slot: slot,
        };
        let task = tokio::spawn(task.run(request_id, jobs)).abort_handle();
        self.streams.insert(stream_id, StreamHandle { queue, task });
        Ok(())
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
            Some(stream) => {
                if stream.queue.send((request_id, work)).await.is_err() {
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

    /// Handles one request, unless the token of the last `hello` has expired since.
    pub(super) async fn dispatch(&mut self, request_id: i32, request: Request) {
        if self.grant.as_ref().is_some_and(Grant::has_expired) {
            let expired = error(
                "AUTH_JWT_EXPIRED",
                "The JWT has expired: send a hello with a new token",
            );
            self.reply(request_id, Err(expired)).await;
            return;
        }
        let result = self.route(request_id, request).await;
        if let Err(e) = result {
            self.reply(request_id, Err(e)).await;
        }
    }

    /// Handles connection-level requests at once and queues stream requests; errors are
    /// replied by the caller.
    async fn route(&mut self, request_id: i32, request: Request) -> Result<(), proto::Error> {
        match request {
            Request::OpenStream { stream_id } => self.open_stream(request_id, stream_id)?,
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
                // The protocol allows one open cursor per stream, which also bounds the rows
                // a stream holds for its client to one step's.
                if let Some((open, _)) = self.cursors.iter().find(|(_, s)| **s == stream_id) {
                    return Err(error(
                        "PROTOCOL_ERROR",
                        format!(
                            "stream {stream_id} already has cursor {open} open; close it first"
                        ),
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
