//! The same clients against dbx servers backed by PostgreSQL and MySQL (MariaDB): the
//! dialect-neutral subset, with each backend's type names, plus the dialect shims.

use std::sync::Arc;

use dbx_core::Adapter;
use dbx_hrana::Config;
use dbx_tests::fresh::{mysql_database, mysql_url, postgres_database, postgres_url};

use crate::js::run_node_on;
use crate::libsql_client::{Running, client, start_on};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Postgres,
    Mysql,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    fn types(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Backend::Postgres => ("BIGINT", "DOUBLE PRECISION", "BYTEA"),
            Backend::Mysql => ("BIGINT", "DOUBLE", "BLOB"),
        }
    }
}

/// A server over a fresh schema (PostgreSQL) or database (MySQL) of the run's test server.
pub(crate) async fn start_backend(backend: Backend, config: Config) -> Running {
    let adapter: Arc<dyn Adapter> = match backend {
        Backend::Postgres => Arc::new(postgres_database(&postgres_url()).await),
        Backend::Mysql => Arc::new(mysql_database(&mysql_url()).await),
    };
    start_on(adapter, config, tempfile::tempdir().unwrap()).await
}

async fn first_i64(rows: &mut libsql::Rows) -> i64 {
    rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
}

/// The Rust `libsql` crate: values, placeholders, batches, every transaction behaviour,
/// describe, and errors.
async fn libsql_crate_on(backend: Backend) {
    let server = start_backend(backend, Config::default()).await;
    let conn = client(&server.url).await;
    let (int, real, blob) = backend.types();
    conn.execute(
        &format!(
            "CREATE TABLE people (id {int} PRIMARY KEY, name TEXT, score {real}, photo {blob})"
        ),
        (),
    )
    .await
    .unwrap();
    let inserted = conn
        .execute(
            "INSERT INTO people (id, name, score, photo) VALUES (?1, ?2, ?3, ?4)",
            libsql::params![1, "ada", 9.5, vec![1u8, 2, 3]],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 1);
    conn.execute(
        "INSERT INTO people (id, name, score) VALUES (:id, :name, :score)",
        libsql::named_params! {":id": 2, ":name": "grace", ":score": 8.0},
    )
    .await
    .unwrap();
    let mut rows = conn
        .query("SELECT id, name, score, photo FROM people ORDER BY id", ())
        .await
        .unwrap();
    let first = rows.next().await.unwrap().unwrap();
    assert_eq!(first.get::<i64>(0).unwrap(), 1);
    assert_eq!(first.get::<String>(1).unwrap(), "ada");
    assert_eq!(first.get::<f64>(2).unwrap(), 9.5);
    assert_eq!(first.get::<Vec<u8>>(3).unwrap(), vec![1, 2, 3]);
    let second = rows.next().await.unwrap().unwrap();
    assert_eq!(second.get::<String>(1).unwrap(), "grace");
    assert!(rows.next().await.unwrap().is_none());
    drop(rows);

    conn.execute_batch(&format!(
        "CREATE TABLE t (x {int} UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"
    ))
    .await
    .unwrap();
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (3)", ()).await.unwrap();
    tx.rollback().await.unwrap();
    let tx = conn
        .transaction_with_behavior(libsql::TransactionBehavior::Immediate)
        .await
        .unwrap();
    tx.execute("INSERT INTO t VALUES (4)", ()).await.unwrap();
    tx.commit().await.unwrap();
    // BEGIN READONLY becomes the backend's own read-only transaction, which refuses writes.
    let ro = conn
        .transaction_with_behavior(libsql::TransactionBehavior::ReadOnly)
        .await
        .unwrap();
    let mut rows = ro.query("SELECT COUNT(*) FROM t", ()).await.unwrap();
    assert_eq!(first_i64(&mut rows).await, 3);
    drop(rows);
    let refused = ro.execute("INSERT INTO t VALUES (5)", ()).await;
    let Err(refused) = refused else {
        panic!("a write inside BEGIN READONLY succeeded");
    };
    assert!(refused.to_string().contains("SQLITE_READONLY"), "{refused}");
    ro.rollback().await.unwrap();
    let mut rows = conn.query("SELECT COUNT(*) FROM t", ()).await.unwrap();
    assert_eq!(first_i64(&mut rows).await, 3);
    drop(rows);

    let err = conn
        .execute("INSERT INTO t VALUES (1)", ())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SQLITE_CONSTRAINT"), "{err}");
    let stmt = conn
        .prepare("SELECT name, score, ?1 + 1 AS d FROM people")
        .await
        .unwrap();
    let names: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["name", "score", "d"]);
    let Err(err) = conn.execute("PRAGMA foreign_keys = ON", ()).await else {
        panic!("PRAGMA ran on {}", backend.name());
    };
    assert!(err.to_string().contains("SQLite-only"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_crate_on_postgres() {
    libsql_crate_on(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_crate_on_mysql() {
    libsql_crate_on(Backend::Mysql).await;
}

/// The npm client suites, each on a fresh server over `backend`.
async fn npm_clients_on(backend: Backend, file: &str, config: Config) {
    let server = start_backend(backend, config).await;
    run_node_on(file, server, backend.name()).await;
}

fn protobuf_off() -> Config {
    Config {
        protobuf: false,
        ..Config::default()
    }
}

/// One test per backend for an npm suite file: `name_on_postgres` and `name_on_mysql`.
macro_rules! on_both_backends {
    ($($name:ident: $file:literal, $config:expr;)*) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    npm_clients_on(Backend::Postgres, $file, $config).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_mysql() {
                    npm_clients_on(Backend::Mysql, $file, $config).await;
                }
            }
        )*
    };
}

on_both_backends! {
    hrana_client_over_websocket_json: "hrana-ws.test.mjs", protobuf_off();
    hrana_client_over_http_json: "hrana-http-json.test.mjs", protobuf_off();
}
