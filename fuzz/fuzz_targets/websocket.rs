//! A WebSocket session: after a valid `hello`, any frames, as the server handles them once
//! the connection is upgraded; requests run on a fresh in-memory SQLite database. The first
//! byte picks JSON (`hrana3`) or protobuf (`hrana3-protobuf`); 0xFF separates frames.
#![no_main]

use std::sync::{Arc, OnceLock};

use dbx_hrana::fuzzing::{Frame, websocket_session};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let protobuf = head % 2 == 1;
    // A protobuf `ClientMsg { hello: HelloMsg {} }` is field 1, length 0.
    let mut frames = vec![if protobuf {
        Frame::Binary(vec![0x0a, 0x00])
    } else {
        Frame::Text(r#"{"type":"hello","jwt":null}"#.to_owned())
    }];
    frames.extend(rest.split(|&b| b == 0xFF).map(|chunk| {
        if protobuf {
            Frame::Binary(chunk.to_vec())
        } else {
            Frame::Text(String::from_utf8_lossy(chunk).into_owned())
        }
    }));
    runtime().block_on(async {
        let Ok(db) = dbx_sqlite::SqliteAdapter::memory().await else {
            return;
        };
        websocket_session(Arc::new(db), frames, protobuf).await;
    });
});
