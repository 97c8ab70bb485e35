//! Entry points for the fuzz targets under `fuzz/` (the `fuzzing` feature): every request
//! decoder, and a whole WebSocket session driven without a socket. Not a stable API.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ws::Message;
use dbx_core::Adapter;
use prost::Message as _;

use crate::proto::pb;
use crate::proto::ws::ClientMsg;
use crate::proto::{CursorReqBody, PipelineReqBody};
use crate::server::{ServerState, Version, ws};

/// Reads `bytes` every way the server reads a JSON request body or message.
pub fn decode_json(bytes: &[u8]) {
    let _ = serde_json::from_slice::<PipelineReqBody>(bytes);
    let _ = serde_json::from_slice::<CursorReqBody>(bytes);
    let _ = serde_json::from_slice::<ClientMsg>(bytes);
}

/// Reads `bytes` every way the server reads a protobuf request body or message.
pub fn decode_protobuf(bytes: &[u8]) {
    if let Ok(body) = pb::http::PipelineReqBody::decode(bytes) {
        let _ = pb::convert::pipeline_in(body);
    }
    if let Ok(body) = pb::http::CursorReqBody::decode(bytes) {
        let _ = pb::convert::cursor_in(body);
    }
    if let Ok(msg) = pb::ws::ClientMsg::decode(bytes) {
        let _ = pb::convert::client_msg_in(msg);
    }
}

/// One frame a client sends.
#[derive(Debug, Clone)]
pub enum Frame {
    /// A text frame (the JSON subprotocols).
    Text(String),
    /// A binary frame (`hrana3-protobuf`).
    Binary(Vec<u8>),
}

/// A socket that plays `frames` in order, then ends, and counts what the server sends.
struct Scripted {
    incoming: VecDeque<Message>,
    sent: usize,
}

impl futures_util::Stream for Scripted {
    type Item = Result<Message, axum::Error>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.incoming.pop_front().map(Ok))
    }
}

impl futures_util::Sink<Message> for Scripted {
    type Error = axum::Error;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(mut self: Pin<&mut Self>, _: Message) -> Result<(), Self::Error> {
        self.sent += 1;
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs one WebSocket session of `frames` against `adapter`, as the server would after the
/// upgrade to `hrana3` (or `hrana3-protobuf`), and returns how many messages it sent back.
pub async fn websocket_session(
    adapter: Arc<dyn Adapter>,
    frames: Vec<Frame>,
    protobuf: bool,
) -> usize {
    let state = ServerState::new(adapter.clone(), crate::Config::default());
    let incoming = frames
        .into_iter()
        .map(|f| match f {
            Frame::Text(t) => Message::Text(t.into()),
            Frame::Binary(b) => Message::Binary(b.into()),
        })
        .collect();
    let mut socket = Scripted { incoming, sent: 0 };
    let conn = ws::Conn::new(state, None, Version::V3);
    ws::connection(conn, &mut socket, protobuf).await;
    socket.sent
}
