#![doc = include_str!("../README.md")]

pub mod config;
pub mod deploy;
mod instrument;
mod open;
mod service;
mod stats;
mod tenants;

pub use config::{DbxConfig, Overrides};
pub use service::{AdapterHealth, AdapterSetup, DatabaseService, ServiceBuilder};
pub use stats::{AdapterStats, ServiceStats};
pub use tenants::ServiceTenants;
