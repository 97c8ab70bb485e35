#![doc = include_str!("../README.md")]

mod adapter;
mod config;
mod error;
mod exec;
mod introspect;
mod pool;
mod roles;
mod session;
mod tenants;
#[cfg(feature = "tls")]
mod tls;
mod transaction;
mod types;

pub use adapter::PgAdapter;
pub use config::{PgConfig, SslMode};
pub use dbx_core::pool::PoolSettings;
pub use error::kind_of_sqlstate;
pub use session::PgConnection;
pub use tenants::PgTenants;

/// The core types a user of this crate needs.
pub use dbx_core::{
    self as core, Adapter, Connection, Error, ErrorKind, Result, Statement, Transaction, Value,
};
