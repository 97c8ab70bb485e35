//! The conformance suite and MySQL-specific tests, against the server in
//! `DBX_TEST_MYSQL_URL` (a MariaDB started by `cargo xtask test`).

mod guards;
mod logins;
mod specific;

use std::sync::Arc;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, TenantManager, async_trait};
use dbx_mysql::{MySqlAdapter, MySqlConfig, MySqlTenants};
use dbx_tests::env::unique_name;
use dbx_tests::{Harness, Types, conformance_tests};

/// Each test works in a database of its own; tenant tests use a prefix of their own.
#[derive(Debug)]
struct MySqlHarness {
    url: String,
}

pub(crate) fn url() -> String {
    dbx_tests::fresh::mysql_url()
}

pub(crate) use dbx_tests::fresh::mysql_database as fresh_database;

pub(crate) async fn tenants_with(
    url: &str,
    max: usize,
    login: dbx_core::TenantLogin,
) -> Arc<MySqlTenants> {
    let mut config = MySqlConfig::from_url(url);
    config.tenant_login = login;
    config.tenant_database_prefix = format!("{}_", unique_name("t"));
    config.pool.max_size = max;
    Arc::new(
        MySqlTenants::new(
            MySqlAdapter::connect(config).await.unwrap(),
            TenantCacheConfig::default(),
        )
        .unwrap(),
    )
}

#[async_trait]
impl Harness for MySqlHarness {
    async fn new() -> Self {
        Self { url: url() }
    }

    async fn database(&self) -> Arc<dyn Adapter> {
        Arc::new(fresh_database(&self.url).await)
    }

    async fn tenants(&self) -> Arc<dyn TenantManager> {
        tenants_with(&self.url, 16, dbx_core::TenantLogin::PerTenant).await
    }

    fn slow_statement(&self) -> String {
        "SELECT SLEEP(60)".to_owned()
    }

    async fn tenants_on_one_connection(&self) -> Arc<dyn TenantManager> {
        // One login for all, so that both tenants really take turns on the connection.
        tenants_with(&self.url, 1, dbx_core::TenantLogin::Shared).await
    }

    fn types(&self) -> Types {
        Types {
            integer: "BIGINT",
            real: "DOUBLE",
            text: "TEXT",
            key_text: "VARCHAR(255)",
            blob: "LONGBLOB",
            auto_id: "BIGINT AUTO_INCREMENT PRIMARY KEY",
        }
    }

    fn reported_decltype(&self, declared: &str) -> String {
        match declared {
            "VARCHAR(255)" => "VARCHAR",
            other => other,
        }
        .to_owned()
    }
}

conformance_tests!(MySqlHarness);
