#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use dbx_core::*;

/// The service an application holds: adapters from configuration, tenants, health, stats.
pub use dbx_service as service;
#[doc(inline)]
pub use dbx_service::{DatabaseService, DbxConfig};

/// The SQLite adapter.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use dbx_sqlite as sqlite;
#[cfg(feature = "sqlite")]
#[doc(inline)]
pub use dbx_sqlite::{SqliteAdapter, SqliteOptions, SqliteTenants};

/// The PostgreSQL adapter.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use dbx_postgres as postgres;
#[cfg(feature = "postgres")]
#[doc(inline)]
pub use dbx_postgres::{PgAdapter, PgConfig, PgTenants};

/// The MySQL / MariaDB adapter.
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use dbx_mysql as mysql;
#[cfg(feature = "mysql")]
#[doc(inline)]
pub use dbx_mysql::{MySqlAdapter, MySqlConfig, MySqlTenants};

/// The libSQL adapter: a Hrana client with read replicas and namespace-per-tenant.
#[cfg(feature = "libsql")]
#[cfg_attr(docsrs, doc(cfg(feature = "libsql")))]
pub use dbx_libsql as libsql;
#[cfg(feature = "libsql")]
#[doc(inline)]
pub use dbx_libsql::{LibsqlAdapter, LibsqlConfig, LibsqlTenants};

/// The Hrana (libSQL wire protocol) server: libSQL and Turso clients over any adapter.
#[cfg(feature = "hrana")]
#[cfg_attr(docsrs, doc(cfg(feature = "hrana")))]
pub use dbx_hrana as hrana;

/// Migrations: SQL, Rust and embedded sources, cross-process locks, dirty-state recovery,
/// modules, and every tenant at once.
#[cfg(feature = "migrate")]
#[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
pub use dbx_migrate as migrate;
