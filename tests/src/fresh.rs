//! Fresh, isolated databases on the shared test servers: a schema of its own on PostgreSQL,
//! a database of its own on MySQL, so tests never see each other's tables.

use dbx_core::Adapter as _;
use dbx_mysql::{MySqlAdapter, MySqlConfig};
use dbx_postgres::{PgAdapter, PgConfig};

use crate::env::{server_url, unique_name};

/// The PostgreSQL server of this run (`DBX_TEST_POSTGRES_URL`, set by `cargo xtask test`).
pub fn postgres_url() -> String {
    server_url("DBX_TEST_POSTGRES_URL", "PostgreSQL")
}

/// The MySQL server of this run (`DBX_TEST_MYSQL_URL`, a MariaDB set up by `cargo xtask test`).
pub fn mysql_url() -> String {
    server_url("DBX_TEST_MYSQL_URL", "MySQL")
}

/// A root adapter whose search path is a fresh schema.
pub async fn postgres_database(url: &str) -> PgAdapter {
    let schema = unique_name("s");
    let admin = PgAdapter::connect_url(url)
        .await
        .expect("connect to the test server");
    admin
        .execute(format!("CREATE SCHEMA {schema}").into())
        .await
        .unwrap();
    admin.close().await;
    PgAdapter::connect(PgConfig {
        search_path: Some(schema),
        ..PgConfig::from_url(url)
    })
    .await
    .unwrap()
}

/// A root adapter on a fresh database.
pub async fn mysql_database(url: &str) -> MySqlAdapter {
    mysql_database_with(url, |c| c).await
}

/// A root adapter on a fresh database, with its config adjusted by `tweak`.
pub async fn mysql_database_with(
    url: &str,
    tweak: impl FnOnce(MySqlConfig) -> MySqlConfig,
) -> MySqlAdapter {
    let database = unique_name("d");
    let admin = MySqlAdapter::connect_url(url)
        .await
        .expect("connect to the test server");
    admin
        .execute(format!("CREATE DATABASE {database} CHARACTER SET utf8mb4").into())
        .await
        .unwrap();
    admin.close().await;
    MySqlAdapter::connect(tweak(MySqlConfig {
        database: Some(database),
        ..MySqlConfig::from_url(url)
    }))
    .await
    .unwrap()
}
