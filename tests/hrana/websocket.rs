//! Hrana over WebSocket, frame by frame, with a plain WebSocket client.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::libsql_client::{Running, start};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(
    server: &Running,
    protocols: Option<&str>,
) -> Result<(Socket, Option<String>), String> {
    let mut request = server
        .url
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    if let Some(p) = protocols {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            let chosen = response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .map(|v| v.to_str().unwrap().to_owned());
            Ok((socket, chosen))
        }
        Err(e) => Err(e.to_string()),
    }
}

pub(crate) async fn send(socket: &mut Socket, msg: Value) {
    socket
        .send(Message::Text(msg.to_string().into()))
        .await
        .unwrap();
}

pub(crate) async fn next_json(socket: &mut Socket) -> Value {
    loop {
        match socket
            .next()
            .await
            .expect("a message")
            .expect("no socket error")
        {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

pub(crate) async fn close_code(socket: &mut Socket) -> Option<CloseCode> {
    while let Some(msg) = socket.next().await {
        if let Ok(Message::Close(frame)) = msg {
            return frame.map(|f| f.code);
        }
    }
    None
}

pub(crate) fn request(id: i32, request: Value) -> Value {
    json!({"type": "request", "request_id": id, "request": request})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subprotocols_are_negotiated_by_preference() {
    let server = start().await;
    let (_, chosen) = connect(&server, Some("hrana2, hrana3")).await.unwrap();
    assert_eq!(chosen.as_deref(), Some("hrana3"));
    let (_, chosen) = connect(&server, Some("hrana3, hrana3-protobuf"))
        .await
        .unwrap();
    assert_eq!(chosen.as_deref(), Some("hrana3-protobuf"));
    let json_only = crate::libsql_client::start_with(dbx_hrana::Config {
        protobuf: false,
        ..dbx_hrana::Config::default()
    })
    .await;
    let (_, chosen) = connect(&json_only, Some("hrana3-protobuf, hrana3"))
        .await
        .unwrap();
    assert_eq!(chosen.as_deref(), Some("hrana3"), "protobuf switched off");
    let (_, chosen) = connect(&server, None).await.unwrap();
    assert_eq!(chosen, None, "no header means hrana1, with no header back");
    let err = connect(&server, Some("mqtt")).await.unwrap_err();
    assert!(err.contains("400"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_before_hello_closes_with_1008() {
    let server = start().await;
    let (mut socket, _) = connect(&server, Some("hrana2")).await.unwrap();
    send(
        &mut socket,
        request(1, json!({"type": "open_stream", "stream_id": 1})),
    )
    .await;
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Policy));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_hello_is_for_hrana2_and_up() {
    let server = start().await;
    let (mut v2, _) = connect(&server, Some("hrana2")).await.unwrap();
    for _ in 0..2 {
        send(&mut v2, json!({"type": "hello", "jwt": null})).await;
        assert_eq!(next_json(&mut v2).await, json!({"type": "hello_ok"}));
    }
    let (mut v1, _) = connect(&server, Some("hrana1")).await.unwrap();
    send(&mut v1, json!({"type": "hello", "jwt": null})).await;
    assert_eq!(next_json(&mut v1).await["type"], "hello_ok");
    send(&mut v1, json!({"type": "hello", "jwt": null})).await;
    assert_eq!(close_code(&mut v1).await, Some(CloseCode::Policy));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_and_binary_frames_close_the_socket() {
    let server = start().await;
    let (mut socket, _) = connect(&server, Some("hrana3")).await.unwrap();
    socket
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Invalid));
    let (mut socket, _) = connect(&server, Some("hrana3")).await.unwrap();
    socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Unsupported));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_mistakes_get_errors_and_the_connection_stays() {
    let server = start().await;
    let (mut socket, _) = connect(&server, Some("hrana2")).await.unwrap();
    send(&mut socket, json!({"type": "hello", "jwt": null})).await;
    assert_eq!(next_json(&mut socket).await["type"], "hello_ok");
    // An unknown stream, and a v3 request on hrana2: errors, not a dropped connection.
    send(
        &mut socket,
        request(
            1,
            json!({"type": "execute", "stream_id": 9, "stmt": {"sql": "SELECT 1"}}),
        ),
    )
    .await;
    let reply = next_json(&mut socket).await;
    assert_eq!(
        (reply["type"].as_str(), reply["request_id"].as_i64()),
        (Some("response_error"), Some(1))
    );
    send(
        &mut socket,
        request(2, json!({"type": "get_autocommit", "stream_id": 9})),
    )
    .await;
    let reply = next_json(&mut socket).await;
    assert_eq!(reply["type"], "response_error");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hrana3"),
        "{reply}"
    );
    // The connection still works.
    send(
        &mut socket,
        request(3, json!({"type": "open_stream", "stream_id": 1})),
    )
    .await;
    send(&mut socket, request(4, json!({"type": "execute", "stream_id": 1, "stmt": {"sql": "SELECT 41 + 1", "want_rows": true}}))).await;
    let mut replies = [next_json(&mut socket).await, next_json(&mut socket).await];
    replies.sort_by_key(|r| r["request_id"].as_i64());
    assert_eq!(replies[0]["type"], "response_ok");
    assert_eq!(
        replies[1]["response"]["result"]["rows"][0][0],
        json!({"type": "integer", "value": "42"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_stream_a_batch_over_hrana3() {
    let server = start().await;
    let (mut socket, _) = connect(&server, Some("hrana3")).await.unwrap();
    send(&mut socket, json!({"type": "hello"})).await;
    next_json(&mut socket).await;
    send(
        &mut socket,
        request(1, json!({"type": "open_stream", "stream_id": 1})),
    )
    .await;
    send(
        &mut socket,
        request(
            2,
            json!({"type": "open_cursor", "stream_id": 1, "cursor_id": 7, "batch": {"steps": [
                {"stmt": {"sql": "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"}}
            ]}}),
        ),
    )
    .await;
    send(
        &mut socket,
        request(
            3,
            json!({"type": "fetch_cursor", "cursor_id": 7, "max_count": 3}),
        ),
    )
    .await;
    send(
        &mut socket,
        request(
            4,
            json!({"type": "fetch_cursor", "cursor_id": 7, "max_count": 100}),
        ),
    )
    .await;
    send(
        &mut socket,
        request(5, json!({"type": "close_cursor", "cursor_id": 7})),
    )
    .await;
    let mut replies = Vec::new();
    for _ in 0..5 {
        replies.push(next_json(&mut socket).await);
    }
    replies.sort_by_key(|r| r["request_id"].as_i64());
    assert!(
        replies.iter().all(|r| r["type"] == "response_ok"),
        "{replies:?}"
    );
    let first = &replies[2]["response"];
    let kinds: Vec<&str> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        (kinds.as_slice(), first["done"].as_bool()),
        (["step_begin", "row", "row"].as_slice(), Some(false))
    );
    let rest = &replies[3]["response"];
    let kinds: Vec<&str> = rest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        (kinds.as_slice(), rest["done"].as_bool()),
        (["row", "step_end"].as_slice(), Some(true))
    );
}
