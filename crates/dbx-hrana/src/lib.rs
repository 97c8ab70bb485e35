#![doc = include_str!("../README.md")]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod proto;
pub mod server;

pub use server::{
    AuthKeys, BrowserGuard, Config, Limits, ListenLimits, RoleTimeouts, ServerState, StatsSnapshot,
    TokenRefused, TokenRights, admin_router, router, serve, serve_router,
};
