#![doc = include_str!("../README.md")]

mod adapter;
pub mod env;
mod error;
#[cfg(feature = "pool")]
pub mod pool;
mod row;
mod schema;
pub mod serde_duration;
pub mod sql;
mod statement;
pub mod tenancy;
#[cfg(feature = "pool")]
pub mod txn;
mod value;

pub use adapter::{Adapter, AdapterKind, Connection, Description, Health, PoolStatus, Transaction};
pub use error::{DatabaseError, Error, ErrorKind, Result};
pub use row::{Column, ExecResult, ResultBudget, ResultSet, Row, RowIndex, row_bytes};
pub use schema::{ColumnSchema, ForeignKeySchema, IndexSchema, TableInfo, TableKind, TableSchema};
pub use statement::{Params, Statement, StatementLimits, bare_name};
pub use tenancy::{TenancyPolicy, TenantId, TenantLogin, TenantManager};
pub use value::{FromValue, Value};

/// Re-exported so adapters and users implement the traits with the same macro version.
pub use async_trait::async_trait;
