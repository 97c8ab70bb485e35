//! Any bytes, read as a protobuf pipeline, cursor request or WebSocket client message.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dbx_hrana::fuzzing::decode_protobuf(data));
