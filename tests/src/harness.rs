//! What a backend provides to run the conformance bodies.

use std::sync::Arc;

use dbx_core::{Adapter, TenantManager, async_trait};

/// Column type names for portable DDL, per backend.
#[derive(Debug, Clone)]
pub struct Types {
    /// A 64-bit integer column.
    pub integer: &'static str,
    /// A 64-bit float column.
    pub real: &'static str,
    /// An unbounded text column.
    pub text: &'static str,
    /// A text column short enough to be indexed on every backend.
    pub key_text: &'static str,
    /// A binary column holding at least 1 MiB.
    pub blob: &'static str,
    /// An auto-incrementing integer primary key, as a full column definition tail.
    pub auto_id: &'static str,
}

/// One backend under test. Each test gets a new harness, so each test gets fresh databases.
#[async_trait]
pub trait Harness: Send + Sync + Sized + std::fmt::Debug + 'static {
    /// Sets up whatever the backend needs for one test.
    async fn new() -> Self;
    /// A fresh, empty database.
    async fn database(&self) -> Arc<dyn Adapter>;
    /// A tenant manager with no tenants.
    async fn tenants(&self) -> Arc<dyn TenantManager>;
    /// DDL type names.
    fn types(&self) -> Types;
    /// A statement that runs for a minute or more (`pg_sleep`, `SLEEP`, an endless
    /// recursive CTE), to be stopped by a timeout, a cancellation or a close.
    fn slow_statement(&self) -> String;
    /// A tenant manager whose tenants all share one pooled connection, so that whatever a
    /// statement leaves on it would meet the next one; separate files need no such thing.
    async fn tenants_on_one_connection(&self) -> Arc<dyn TenantManager> {
        self.tenants().await
    }
    /// The decltype the backend reports for a column declared with `declared`.
    fn reported_decltype(&self, declared: &str) -> String {
        declared.to_owned()
    }
    /// The default expression the backend reports for a column declared `DEFAULT <literal>`.
    fn reported_default(&self, literal: &str) -> String {
        literal.to_owned()
    }
    /// Whether query results carry each column's decltype (the libsql crate drops them).
    fn result_decltypes(&self) -> bool {
        true
    }
    /// Whether the client can create temporary tables (the libsql crate refuses the
    /// statement before sending it).
    fn temporary_tables(&self) -> bool {
        true
    }
    /// Whether introspection reports foreign-key constraint names (SQLite keeps none).
    fn reports_foreign_key_names(&self) -> bool {
        true
    }
}
