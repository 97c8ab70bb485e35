//! Hrana over HTTP: `POST /v2|v3/pipeline`, streams named by batons, idle expiry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ServerState;
use super::baton::random_u64;
use super::stream::{Failure, Stream, Version};
use crate::proto::{
    self, CursorEntry, CursorReqBody, CursorRespBody, PipelineReqBody, PipelineRespBody,
    StreamRequest, StreamResult,
};

/// Where a stream stands between requests.
#[derive(Debug)]
pub(crate) enum Slot {
    /// Waiting for the request that carries sequence `next`.
    Idle {
        stream: Box<Stream>,
        next: u64,
        since: Instant,
    },
    /// A request is running on it; another one now is a reused baton.
    Busy,
    /// Expired for idleness; kept a while so that late requests learn why.
    Expired { at: Instant },
}

/// The HTTP streams of a server.
#[derive(Debug, Default)]
pub(crate) struct Streams {
    pub(crate) slots: HashMap<u64, Slot>,
}

impl Streams {
    fn live(&self) -> usize {
        self.slots
            .values()
            .filter(|s| !matches!(s, Slot::Expired { .. }))
            .count()
    }

    /// Expires idle streams (dropping their connections, which rolls back open
    /// transactions) and forgets old tombstones.
    pub(crate) fn sweep(&mut self, state: &super::Config) {
        let now = Instant::now();
        for slot in self.slots.values_mut() {
            if let Slot::Idle { since, .. } = slot
                && now.duration_since(*since) >= state.stream_idle_timeout
            {
                *slot = Slot::Expired { at: now };
            }
        }
        self.slots.retain(|_, slot| !matches!(slot, Slot::Expired { at } if now.duration_since(*at) >= state.stream_tombstone));
    }
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.into(),
    )
        .into_response()
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::to_string(&proto::Error::new(code, message)).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub(crate) async fn pipeline_v2(State(state): State<Arc<ServerState>>, body: Bytes) -> Response {
    pipeline(state, Version::V2, body).await
}

pub(crate) async fn pipeline_v3(State(state): State<Arc<ServerState>>, body: Bytes) -> Response {
    pipeline(state, Version::V3, body).await
}

/// The stream a request is for: a new one, or one taken out of its slot (marked busy).
async fn acquire(
    state: &ServerState,
    baton: Option<&str>,
) -> Result<(u64, Box<Stream>, u64), Response> {
    let Some(baton) = baton else {
        if state.streams.lock().await.live() >= state.config.max_streams {
            let mut response = json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "STREAMS_EXHAUSTED",
                &format!(
                    "the server has {} open streams, its limit; retry shortly",
                    state.config.max_streams
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return Err(response);
        }
        let conn = state.adapter.connection().await.map_err(|e| {
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_ERROR",
                &format!("cannot open a stream: {e}"),
            )
        })?;
        return Ok((random_u64(), Box::new(Stream::new(conn)), random_u64()));
    };
    let Some((id, seq)) = state.baton_key.verify(baton) else {
        return Err(text(StatusCode::BAD_REQUEST, "Received an invalid baton"));
    };
    let mut streams = state.streams.lock().await;
    streams.sweep(&state.config);
    match streams.slots.remove(&id) {
        Some(Slot::Idle { stream, next, .. }) if next == seq => {
            streams.slots.insert(id, Slot::Busy);
            Ok((id, stream, seq))
        }
        Some(Slot::Expired { at }) => {
            streams.slots.insert(id, Slot::Expired { at });
            Err(json_error(
                StatusCode::BAD_REQUEST,
                "STREAM_EXPIRED",
                "The stream has expired due to inactivity",
            ))
        }
        Some(other) => {
            // A replay or a concurrent use: the holder of the newest baton keeps the stream.
            streams.slots.insert(id, other);
            Err(text(
                StatusCode::BAD_REQUEST,
                "Received a baton that has already been used",
            ))
        }
        None => Err(text(StatusCode::BAD_REQUEST, "Received an invalid baton")),
    }
}

/// Puts a stream back after a request and returns its next baton, or forgets it if closed.
async fn release(
    state: &ServerState,
    id: u64,
    stream: Box<Stream>,
    seq: u64,
    closed: bool,
) -> Option<String> {
    let mut streams = state.streams.lock().await;
    if closed {
        streams.slots.remove(&id);
        return None;
    }
    let next = seq.wrapping_add(1);
    streams.slots.insert(
        id,
        Slot::Idle {
            stream,
            next,
            since: Instant::now(),
        },
    );
    Some(state.baton_key.sign(id, next))
}

/// `POST /v3/cursor`: the batch's results as newline-separated JSON, the baton line first.
pub(crate) async fn cursor_v3(State(state): State<Arc<ServerState>>, body: Bytes) -> Response {
    let request: CursorReqBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("Cannot deserialize client message from JSON: {e}"),
            );
        }
    };
    let (id, mut stream, seq) = match acquire(&state, request.baton.as_deref()).await {
        Ok(acquired) => acquired,
        Err(response) => return response,
    };
    let entries = match stream.cursor(request.batch, Version::V3).await {
        Ok(entries) => entries,
        Err(Failure::Request(error)) => vec![CursorEntry::Error { error }],
        Err(Failure::Protocol(message)) => {
            state.streams.lock().await.slots.remove(&id);
            return text(StatusCode::BAD_REQUEST, message);
        }
    };
    let baton = release(&state, id, stream, seq, false).await;
    let head = CursorRespBody {
        baton,
        base_url: state.config.base_url.clone(),
    };
    let mut out = serde_json::to_string(&head).unwrap_or_default();
    for entry in entries {
        out.push('\n');
        out.push_str(&serde_json::to_string(&entry).unwrap_or_default());
    }
    out.push('\n');
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], out).into_response()
}

async fn pipeline(state: Arc<ServerState>, version: Version, body: Bytes) -> Response {
    let request: PipelineReqBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("Cannot deserialize client message from JSON: {e}"),
            );
        }
    };
    let (id, mut stream, seq) = match acquire(&state, request.baton.as_deref()).await {
        Ok(acquired) => acquired,
        Err(response) => return response,
    };
    let mut results = Vec::with_capacity(request.requests.len());
    let mut closed = false;
    for req in request.requests {
        if closed {
            state.streams.lock().await.slots.remove(&id);
            return text(StatusCode::BAD_REQUEST, "Stream for this baton was closed");
        }
        closed = matches!(req, StreamRequest::Close {});
        match stream.handle(req, version, &state.config.limits).await {
            Ok(response) => results.push(StreamResult::Ok { response }),
            Err(Failure::Request(error)) => results.push(StreamResult::Error { error }),
            Err(Failure::Protocol(message)) => {
                // The spec drops the stream on a protocol error; dropping it rolls back.
                state.streams.lock().await.slots.remove(&id);
                return text(StatusCode::BAD_REQUEST, message);
            }
        }
    }
    let baton = release(&state, id, stream, seq, closed).await;
    let body = PipelineRespBody {
        baton,
        base_url: state.config.base_url.clone(),
        results,
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}
