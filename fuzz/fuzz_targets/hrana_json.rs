//! Any bytes, read as a JSON pipeline, cursor request or WebSocket client message.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dbx_hrana::fuzzing::decode_json(data));
