//! The conformance suite and PostgreSQL-specific tests, against the server in
//! `DBX_TEST_POSTGRES_URL` (started by `cargo xtask test`).

mod guards;
mod logins;
mod specific;

use std::sync::Arc;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, TenantManager, async_trait};
use dbx_postgres::{PgAdapter, PgConfig, PgTenants};
use dbx_tests::env::unique_name;
use dbx_tests::{Harness, Types, conformance_tests};

/// Each test works in a schema of its own; tenant tests use a prefix of their own.
#[derive(Debug)]
struct PgHarness {
    url: String,
}

pub(crate) fn url() -> String {
    dbx_tests::fresh::postgres_url()
}

pub(crate) use dbx_tests::fresh::postgres_database as fresh_database;

#[async_trait]
impl Harness for PgHarness {
    async fn new() -> Self {
        Self { url: url() }
    }

    async fn database(&self) -> Arc<dyn Adapter> {
        Arc::new(fresh_database(&self.url).await)
    }

    async fn tenants(&self) -> Arc<dyn TenantManager> {
        let config = PgConfig {
            tenant_schema_prefix: format!("{}_", unique_name("t")),
            ..PgConfig::from_url(&self.url)
        };
        let root = PgAdapter::connect(config).await.unwrap();
        Arc::new(PgTenants::new(root, TenantCacheConfig::default()).unwrap())
    }

    fn slow_statement(&self) -> String {
        "SELECT pg_sleep(60)".to_owned()
    }

    async fn tenants_on_one_connection(&self) -> Arc<dyn TenantManager> {
        // One login for all, so that both tenants really take turns on the connection.
        let mut config = PgConfig {
            tenant_schema_prefix: format!("{}_", unique_name("t")),
            tenant_login: dbx_core::TenantLogin::Shared,
            ..PgConfig::from_url(&self.url)
        };
        config.pool.max_size = 1;
        let root = PgAdapter::connect(config).await.unwrap();
        Arc::new(PgTenants::new(root, TenantCacheConfig::default()).unwrap())
    }

    fn types(&self) -> Types {
        Types {
            integer: "BIGINT",
            real: "DOUBLE PRECISION",
            text: "TEXT",
            key_text: "VARCHAR(255)",
            blob: "BYTEA",
            auto_id: "BIGSERIAL PRIMARY KEY",
        }
    }

    fn reported_decltype(&self, declared: &str) -> String {
        match declared {
            "BIGINT" => "int8",
            "DOUBLE PRECISION" => "float8",
            "TEXT" => "text",
            "VARCHAR(255)" => "varchar",
            "BYTEA" => "bytea",
            other => other,
        }
        .to_owned()
    }

    fn reported_default(&self, literal: &str) -> String {
        format!("{literal}::character varying")
    }
}

conformance_tests!(PgHarness);
