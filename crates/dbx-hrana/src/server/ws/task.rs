//! One WebSocket stream's task: it runs the stream's requests in order on a connection of
//! its own, which it lets go of when the stream sits idle.
//!
//! A stream idle for [`Config::stream_idle_timeout`](crate::Config::stream_idle_timeout)
//! outside a transaction gives its database connection back and opens a new one at its next
//! request, so that streams a client keeps open hold nothing meanwhile. Idle inside a
//! transaction, it expires as an HTTP stream does: the transaction is rolled back, and every
//! later request on it answers `STREAM_EXPIRED`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use dbx_core::Adapter;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::conn::error;
use crate::proto::ws::{Response as WsResponse, ServerMsg};
use crate::proto::{self, StreamRequest, StreamResponse};
use crate::server::ServerState;
use crate::server::batch::Cursor;
use crate::server::errors::stmt_error;
use crate::server::stream::{Caller, Failure, Stream, Version};

pub(super) type Job = (i32, Work);

/// What a stream is asked to do.
pub(super) enum Work {
    Handle(StreamRequest),
    OpenCursor { cursor_id: i32, batch: proto::Batch },
    FetchCursor { cursor_id: i32, max_count: u32 },
    CloseCursor { cursor_id: i32 },
}

/// What a stream's task shares with its connection.
pub(super) struct StreamTask {
    pub(super) state: Arc<ServerState>,
    pub(super) adapter: Arc<dyn Adapter>,
    pub(super) caller: Arc<Mutex<Caller>>,
    pub(super) version: Version,
    pub(super) out: mpsc::Sender<ServerMsg>,
    /// The stream's place among the server's open streams.
    pub(super) _slot: OwnedSemaphorePermit,
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

fn failure_error(failure: Failure) -> proto::Error {
    match failure {
        Failure::Request(e) | Failure::Forbidden(e) => e,
        Failure::Protocol(m) => error("PROTOCOL_ERROR", m),
    }
}

/// Where a stream stands between requests.
enum State {
    /// Holding its connection.
    Open(Box<Stream>),
    /// Gave its connection back while idle outside a transaction; opens one when asked.
    Resting,
    /// Sat idle inside a transaction, which was rolled back.
    Expired,
}

impl StreamTask {
    async fn reply(&self, request_id: i32, result: Result<WsResponse, proto::Error>) {
        let _ = self.out.send(ServerMsg::response(request_id, result)).await;
    }

    async fn open(&self) -> dbx_core::Result<Box<Stream>> {
        let conn = self.adapter.connection().await?;
        Ok(Box::new(Stream::new(
            conn,
            self.state.config.limits.clone(),
            self.state.stats.clone(),
            None,
        )))
    }

    /// One stream: opens its connection, then runs its queue in order.
    pub(super) async fn run(self, open_request: i32, mut jobs: mpsc::Receiver<Job>) {
        let mut state = match self.open().await {
            Ok(stream) => {
                self.reply(open_request, Ok(WsResponse::OpenStream {}))
                    .await;
                State::Open(stream)
            }
            Err(e) => {
                self.reply(open_request, Err(stmt_error(&e))).await;
                // Until the client closes it, every request on the stream gets this answer.
                while let Some((request_id, _)) = jobs.recv().await {
                    let refusal = error("STREAM_NOT_OPEN", "the stream failed to open");
                    self.reply(request_id, Err(refusal)).await;
                }
                return;
            }
        };
        let idle = self.state.config.stream_idle_timeout;
        let mut cursors: HashMap<i32, Cursor> = HashMap::new();
        loop {
            let job = if matches!(state, State::Open(_)) {
                match tokio::time::timeout(idle, jobs.recv()).await {
                    Ok(job) => job,
                    Err(_) => {
                        let autocommit = matches!(&state, State::Open(s) if s.is_autocommit());
                        state = if autocommit {
                            State::Resting
                        } else {
                            cursors.clear();
                            State::Expired
                        };
                        continue;
                    }
                }
            } else {
                jobs.recv().await
            };
            let Some((request_id, work)) = job else {
                return;
            };
            if matches!(state, State::Expired) {
                let expired = error(
                    "STREAM_EXPIRED",
                    "The stream sat idle inside a transaction and expired; the transaction \
                     was rolled back. Close the stream and open another",
                );
                self.reply(request_id, Err(expired)).await;
                continue;
            }
            if matches!(state, State::Resting) {
                match self.open().await {
                    Ok(stream) => state = State::Open(stream),
                    Err(e) => {
                        self.reply(request_id, Err(stmt_error(&e))).await;
                        continue;
                    }
                }
            }
            let State::Open(stream) = &mut state else {
                continue;
            };
            let caller = *self.caller.lock().unwrap_or_else(PoisonError::into_inner);
            stream.set_caller(caller);
            let result = self.work(stream, &mut cursors, work).await;
            self.reply(request_id, result).await;
        }
    }

    async fn work(
        &self,
        stream: &mut Stream,
        cursors: &mut HashMap<i32, Cursor>,
        work: Work,
    ) -> Result<WsResponse, proto::Error> {
        match work {
            Work::Handle(request) => stream
                .handle(request, self.version)
                .await
                .map(ws_response)
                .map_err(failure_error),
            Work::OpenCursor { cursor_id, batch } => {
                // Nothing runs yet: the steps run as the client fetches.
                let cursor = stream
                    .open_cursor(batch, self.version)
                    .unwrap_or_else(|failure| Cursor::failed(failure_error(failure)));
                cursors.insert(cursor_id, cursor);
                Ok(WsResponse::OpenCursor {})
            }
            Work::FetchCursor {
                cursor_id,
                max_count,
            } => {
                let cursor = cursors.get_mut(&cursor_id).ok_or_else(|| {
                    error("CURSOR_NOT_OPEN", format!("cursor {cursor_id} is not open"))
                })?;
                let max = usize::try_from(max_count)
                    .unwrap_or(usize::MAX)
                    .min(self.state.config.limits.max_cursor_fetch);
                let (entries, done) = cursor.fetch(stream, max).await;
                Ok(WsResponse::FetchCursor { entries, done })
            }
            Work::CloseCursor { cursor_id } => {
                cursors.remove(&cursor_id);
                Ok(WsResponse::CloseCursor {})
            }
        }
    }
}
