#![doc = include_str!("../README.md")]

mod adapter;
mod config;
mod error;
mod exec;
mod introspect;
mod route;
mod session;
mod tenants;
#[cfg(feature = "tls")]
mod tls;

pub use adapter::LibsqlAdapter;
pub use config::LibsqlConfig;
pub use route::reads_only;
pub use session::LibsqlConnection;
pub use tenants::LibsqlTenants;
