//! Test support shared by every backend's test binary: the [`Harness`] a backend implements
//! and the backend-generic conformance bodies, instantiated per backend by
//! [`conformance_tests!`].
// The bodies are named for what they check; a doc line on each would repeat the name.
#![allow(missing_docs)]

pub mod conformance;
pub mod env;
pub mod faults;
pub mod fresh;
mod harness;
pub mod hrana_server;
pub mod isolation;
pub mod jwt;
pub mod node;
pub mod servers;
pub mod types_doc;

pub use harness::{Harness, Types};
