#![doc = include_str!("../README.md")]

mod adapter;
mod error;
mod exec;
mod introspect;
mod open;
mod options;
mod pool;
mod session;
mod tenants;
mod transaction;
mod watch;

pub use adapter::SqliteAdapter;
pub use error::result_code_name;
pub use options::{JournalMode, SqliteOptions, Synchronous};
pub use session::SqliteConnection;
pub use tenants::SqliteTenants;
pub use transaction::SqliteTransaction;

/// The core types a user of this crate needs.
pub use dbx_core::{
    self as core, Adapter, Connection, Error, ErrorKind, Result, Statement, Transaction, Value,
};
