//! The protobuf encoding of Hrana 3 (`/v3-protobuf/*`, `hrana3-protobuf`), with the field
//! numbers of the spec. The server works with the JSON-shaped types in [`crate::proto`];
//! these messages are converted at the edge.
// Each message mirrors a documented JSON type of `crate::proto`; the docs live there.
#![allow(missing_docs, missing_debug_implementations)]

pub(crate) mod convert;
pub(crate) mod http;
pub(crate) mod shared;
pub(crate) mod ws;
