#![doc = include_str!("../README.md")]

pub mod proto;
pub mod server;

pub use server::{
    AuthKeys, Config, Limits, ServerState, StatsSnapshot, TokenRefused, TokenRights, admin_router,
    router, serve,
};
