#![doc = include_str!("../README.md")]

mod adapter;
mod config;
mod error;
mod exec;
mod introspect;
mod pool;
mod session;
mod tenants;
mod transaction;
mod types;
mod users;

pub use adapter::MySqlAdapter;
pub use config::MySqlConfig;
pub use dbx_core::pool::PoolSettings;
pub use error::kind_of_error_code;
pub use session::MySqlConnection;
pub use tenants::MySqlTenants;

/// The core types a user of this crate needs.
pub use dbx_core::{
    self as core, Adapter, Connection, Error, ErrorKind, Result, Statement, Transaction, Value,
};
