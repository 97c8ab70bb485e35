//! Hrana over WebSocket (JSON subprotocols `hrana3`, `hrana2`, `hrana1`, and
//! `hrana3-protobuf`).
//!
//! The upgrade checks only the form of the namespace: whether it exists, and the database
//! behind it, are looked at once a `hello` has brought a token that may use it, so that a
//! caller without a token learns nothing and opens nothing. A connection that sends no
//! `hello` within [`Config::hello_timeout`](super::Config::hello_timeout) is closed, and a
//! token that expires stops working until a new `hello` brings another.
//!
//! Each Hrana stream runs in a task of its own, fed by a bounded queue, so requests on one
//! stream run in order while other streams proceed; a full queue stops the socket from
//! being read (back-pressure). When the socket closes, every stream task is stopped at
//! once, cancelling what its statement was doing, and everything the connection held is
//! freed. Mistakes in a request (an unknown stream, a duplicate id, a feature newer than
//! the subprotocol) get a `response_error` and the connection stays up; only a message that
//! cannot be read, or a request before `hello`, closes it.

mod conn;
mod task;

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message as _;
use tokio::sync::mpsc;

pub(crate) use self::conn::Conn;
use super::ServerState;
use super::stream::Version;
use crate::proto::pb;
use crate::proto::ws::{ClientMsg, ServerMsg};

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
    // The namespace is fixed for the connection at the upgrade, as in sqld; whether it
    // exists is for a caller with a token to learn, after `hello`.
    let namespace = match super::namespace::resolve(&state, &headers) {
        Ok(ns) => ns,
        Err(refusal) => return refusal.into_response(),
    };
    let limit = state.config.max_body_bytes;
    ws.max_message_size(limit).on_upgrade(move |socket| {
        connection(Conn::new(state, namespace, version), socket, protobuf)
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
    conn.set_output(out);
    let version = conn.version();
    let hello_by = tokio::time::Instant::now() + conn.hello_timeout();
    let mut hello = false;
    loop {
        tokio::select! {
            Some(msg) = outgoing.recv() => {
                if socket.send(encode(msg, protobuf)).await.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(hello_by), if !hello => {
                let _ = socket.send(close(1008, "no hello message in time: send hello first")).await;
                return;
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
                    ClientMsg::Hello { jwt } => match conn.authenticate(jwt.as_deref()).await {
                        Ok(()) => {
                            hello = true;
                            conn.send(ServerMsg::HelloOk {}).await;
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
