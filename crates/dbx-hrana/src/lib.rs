#![doc = include_str!("../README.md")]

pub mod proto;
pub mod server;

pub use server::{Config, Limits, ServerState, router, serve};
