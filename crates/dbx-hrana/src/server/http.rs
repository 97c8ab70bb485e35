//! Hrana over HTTP: `POST /v2|v3/pipeline`, streams named by batons, idle expiry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use prost::Message as _;

use super::ServerState;
use super::auth;
use super::baton::random_u64;
use super::namespace::{self, Namespace};
use super::stream::{Caller, Failure, Stream, Version};
use crate::proto::pb;
use crate::proto::{
    self, CursorEntry, CursorReqBody, CursorRespBody, PipelineReqBody, PipelineRespBody,
    StreamRequest, StreamResult,
};

/// Who a stream belongs to: the namespace and the token it was opened under. Its batons work
/// for that pair only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) namespace: Namespace,
    token: Option<[u8; 32]>,
}

/// Where a stream stands between requests.
#[derive(Debug)]
pub(crate) enum Slot {
    /// Waiting for the request that carries sequence `next`.
    Idle {
        stream: Box<Stream>,
        next: u64,
        since: Instant,
        owner: Owner,
    },
    /// A request is running on it; another one now is a reused baton.
    Busy { owner: Owner },
    /// Expired for idleness; kept a while so that late requests learn why.
    Expired { at: Instant, owner: Owner },
}

impl Slot {
    pub(crate) fn owner(&self) -> &Owner {
        match self {
            Slot::Idle { owner, .. } | Slot::Busy { owner } | Slot::Expired { owner, .. } => owner,
        }
    }

    pub(crate) fn namespace(&self) -> Option<&dbx_core::TenantId> {
        self.owner().namespace.as_ref()
    }
}

/// The HTTP streams of a server.
#[derive(Debug, Default)]
pub(crate) struct Streams {
    pub(crate) slots: HashMap<u64, Slot>,
}

impl Streams {
    /// Expires idle streams (dropping their connections, which rolls back open
    /// transactions) and forgets old tombstones.
    pub(crate) fn sweep(&mut self, state: &super::Config) {
        let now = Instant::now();
        for slot in self.slots.values_mut() {
            if let Slot::Idle { since, owner, .. } = slot
                && now.duration_since(*since) >= state.stream_idle_timeout
            {
                *slot = Slot::Expired {
                    at: now,
                    owner: owner.clone(),
                };
            }
        }
        self.slots
            .retain(|_, slot| !matches!(slot, Slot::Expired { at, .. } if now.duration_since(*at) >= state.stream_tombstone));
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

/// How request and response bodies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Protobuf,
}

impl Encoding {
    fn respond(
        self,
        status: StatusCode,
        json: impl FnOnce() -> String,
        protobuf: impl FnOnce() -> Vec<u8>,
    ) -> Response {
        match self {
            Encoding::Json => {
                (status, [(header::CONTENT_TYPE, "application/json")], json()).into_response()
            }
            Encoding::Protobuf => (
                status,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                protobuf(),
            )
                .into_response(),
        }
    }

    /// A Hrana `Error` body, so that clients show its code.
    fn error(self, status: StatusCode, code: &str, message: &str) -> Response {
        let error = proto::Error::new(code, message);
        super::errors::with_retry_after(self.respond(
            status,
            || serde_json::to_string(&error).unwrap_or_default(),
            || pb::convert::error_out(error.clone()).encode_to_vec(),
        ))
    }

    fn decode_pipeline(self, body: &[u8]) -> Result<PipelineReqBody, String> {
        match self {
            Encoding::Json => serde_json::from_slice(body)
                .map_err(|e| format!("Cannot deserialize client message from JSON: {e}")),
            Encoding::Protobuf => pb::http::PipelineReqBody::decode(body)
                .map_err(|e| format!("Cannot decode client message from protobuf: {e}"))
                .and_then(pb::convert::pipeline_in),
        }
    }

    fn decode_cursor(self, body: &[u8]) -> Result<CursorReqBody, String> {
        match self {
            Encoding::Json => serde_json::from_slice(body)
                .map_err(|e| format!("Cannot deserialize client message from JSON: {e}")),
            Encoding::Protobuf => pb::http::CursorReqBody::decode(body)
                .map_err(|e| format!("Cannot decode client message from protobuf: {e}"))
                .and_then(pb::convert::cursor_in),
        }
    }
}

pub(crate) async fn pipeline_v2(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pipeline(state, Version::V2, Encoding::Json, &headers, body).await
}

pub(crate) async fn pipeline_v3_protobuf(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pipeline(state, Version::V3, Encoding::Protobuf, &headers, body).await
}

pub(crate) async fn cursor_v3(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    cursor(state, Encoding::Json, &headers, body).await
}

pub(crate) async fn cursor_v3_protobuf(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    cursor(state, Encoding::Protobuf, &headers, body).await
}

pub(crate) async fn pipeline_v3(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pipeline(state, Version::V3, Encoding::Json, &headers, body).await
}

/// The namespace a request is for, and the rights and limits its token holds there.
fn authorize(state: &ServerState, headers: &HeaderMap) -> Result<(Owner, Caller), Box<Response>> {
    let refused = |r: Response| Box::new(r);
    let namespace = namespace::resolve(state, headers).map_err(|r| refused(r.into()))?;
    let grant = auth::from_headers(state.config.auth.as_ref(), headers)
        .map_err(|e| refused(e.into_response()))?;
    let access =
        auth::require_access(&grant, &namespace).map_err(|e| refused(e.into_response()))?;
    let caller = grant.caller(access, &state.config.statement_timeout);
    let owner = Owner {
        namespace,
        token: grant.token,
    };
    Ok((owner, caller))
}

/// The stream a request is for: a new one, or one taken out of its slot (marked busy).
/// A stream belongs to the namespace it was opened in; its baton works nowhere else.
async fn acquire(
    state: &ServerState,
    baton: Option<&str>,
    owner: &Owner,
    encoding: Encoding,
) -> Result<(u64, Box<Stream>, u64), Response> {
    let Some(baton) = baton else {
        // A place is taken before anything else, so that concurrent openers cannot overshoot.
        let slot = state
            .stream_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                let message = format!(
                    "the server has {} open streams, its limit; retry shortly",
                    state.config.max_streams
                );
                encoding.error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "STREAMS_EXHAUSTED",
                    &message,
                )
            })?;
        let adapter = namespace::adapter(state, &owner.namespace).await?;
        let conn = adapter.connection().await.map_err(|e| {
            encoding.error(
                super::errors::unreachable_status(e.kind()),
                "SERVER_ERROR",
                &format!("cannot open a stream: {e}"),
            )
        })?;
        return Ok((
            random_u64(),
            Box::new(Stream::new(
                conn,
                state.config.limits.clone(),
                state.stats.clone(),
                Some(slot),
            )),
            random_u64(),
        ));
    };
    let Some((id, seq)) = state.baton_key.verify(baton) else {
        return Err(text(StatusCode::BAD_REQUEST, "Received an invalid baton"));
    };
    let mut streams = state.streams.lock().await;
    streams.sweep(&state.config);
    let Some(slot) = streams.slots.remove(&id) else {
        return Err(text(StatusCode::BAD_REQUEST, "Received an invalid baton"));
    };
    if slot.namespace() != owner.namespace.as_ref() {
        streams.slots.insert(id, slot);
        return Err(text(
            StatusCode::BAD_REQUEST,
            "Received a baton of a stream in another namespace",
        ));
    }
    if slot.owner() != owner {
        streams.slots.insert(id, slot);
        return Err(text(
            StatusCode::BAD_REQUEST,
            "Received a baton of a stream opened with another token",
        ));
    }
    match slot {
        Slot::Idle {
            stream,
            next,
            owner,
            ..
        } if next == seq => {
            streams.slots.insert(id, Slot::Busy { owner });
            Ok((id, stream, seq))
        }
        expired @ Slot::Expired { .. } => {
            streams.slots.insert(id, expired);
            Err(encoding.error(
                StatusCode::BAD_REQUEST,
                "STREAM_EXPIRED",
                "The stream has expired due to inactivity",
            ))
        }
        other => {
            // A replay or a concurrent use: the holder of the newest baton keeps the stream.
            streams.slots.insert(id, other);
            Err(text(
                StatusCode::BAD_REQUEST,
                "Received a baton that has already been used",
            ))
        }
    }
}

/// Puts a stream back after a request and returns its next baton, or forgets it if closed.
async fn release(
    state: &ServerState,
    id: u64,
    stream: Box<Stream>,
    seq: u64,
    closed: bool,
    owner: Owner,
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
            owner,
        },
    );
    Some(state.baton_key.sign(id, next))
}

/// The answer to a failure that ends the whole request: a protocol error (400, as the spec
/// says) or a read-only token's write (403, as sqld). The stream is dropped, rolling back.
async fn drop_stream(state: &ServerState, id: u64, failure: Failure) -> Response {
    state.streams.lock().await.slots.remove(&id);
    match failure {
        Failure::Protocol(message) => text(StatusCode::BAD_REQUEST, message),
        Failure::Forbidden(error) => auth::forbidden_write(error.message).into_response(),
        // Request errors are answered in the body; callers match them first.
        Failure::Request(error) => text(StatusCode::BAD_REQUEST, error.message),
    }
}

/// `POST /v3/cursor`: the batch's results, the baton first. JSON is one object per line;
/// protobuf is length-delimited messages.
async fn cursor(
    state: Arc<ServerState>,
    encoding: Encoding,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let (owner, caller) = match authorize(&state, headers) {
        Ok(authorized) => authorized,
        Err(response) => return *response,
    };
    let request = match encoding.decode_cursor(&body) {
        Ok(r) => r,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    let (id, mut stream, seq) =
        match acquire(&state, request.baton.as_deref(), &owner, encoding).await {
            Ok(acquired) => acquired,
            Err(response) => return response,
        };
    stream.set_caller(caller);
    let entries = match stream.cursor(request.batch, Version::V3).await {
        Ok(entries) => entries,
        Err(Failure::Request(error)) => vec![CursorEntry::Error { error }],
        Err(failure) => return drop_stream(&state, id, failure).await,
    };
    let baton = release(&state, id, stream, seq, false, owner).await;
    let head = CursorRespBody {
        baton,
        base_url: state.config.base_url.clone(),
    };
    if encoding == Encoding::Protobuf {
        let head = pb::http::CursorRespBody {
            baton: head.baton,
            base_url: head.base_url,
        };
        let mut out = head.encode_length_delimited_to_vec();
        for entry in entries {
            out.extend(pb::convert::entry_out(entry).encode_length_delimited_to_vec());
        }
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            out,
        )
            .into_response();
    }
    let mut out = serde_json::to_string(&head).unwrap_or_default();
    for entry in entries {
        out.push('\n');
        out.push_str(&serde_json::to_string(&entry).unwrap_or_default());
    }
    out.push('\n');
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], out).into_response()
}

async fn pipeline(
    state: Arc<ServerState>,
    version: Version,
    encoding: Encoding,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let (owner, caller) = match authorize(&state, headers) {
        Ok(authorized) => authorized,
        Err(response) => return *response,
    };
    let request = match encoding.decode_pipeline(&body) {
        Ok(r) => r,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    let (id, mut stream, seq) =
        match acquire(&state, request.baton.as_deref(), &owner, encoding).await {
            Ok(acquired) => acquired,
            Err(response) => return response,
        };
    stream.set_caller(caller);
    let mut results = Vec::with_capacity(request.requests.len());
    let mut closed = false;
    for req in request.requests {
        if closed {
            state.streams.lock().await.slots.remove(&id);
            return text(StatusCode::BAD_REQUEST, "Stream for this baton was closed");
        }
        closed = matches!(req, StreamRequest::Close {});
        match stream.handle(req, version).await {
            Ok(response) => results.push(StreamResult::Ok { response }),
            Err(Failure::Request(error)) => results.push(StreamResult::Error { error }),
            Err(failure) => return drop_stream(&state, id, failure).await,
        }
    }
    let baton = release(&state, id, stream, seq, closed, owner).await;
    let body = PipelineRespBody {
        baton,
        base_url: state.config.base_url.clone(),
        results,
    };
    encoding.respond(
        StatusCode::OK,
        || serde_json::to_string(&body).unwrap_or_default(),
        || pb::convert::pipeline_out(body.clone()).encode_to_vec(),
    )
}
