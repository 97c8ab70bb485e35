//! The Rust `libsql` crate (remote mode: JSON Hrana v3 over HTTP) against a dbx server on a
//! real socket.

use std::sync::Arc;

use dbx_core::Adapter;
use dbx_hrana::{Config, ServerState};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};

pub(crate) struct Running {
    pub(crate) url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) async fn start() -> Running {
    start_with(Config::default()).await
}

pub(crate) async fn start_with(config: Config) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteAdapter::open(SqliteOptions::new(dir.path().join("h.db")))
        .await
        .unwrap();
    start_on(Arc::new(db), config, dir).await
}

/// A server over `adapter` on a real socket; `dir` lives as long as the server.
pub(crate) async fn start_on(
    adapter: Arc<dyn Adapter>,
    config: Config,
    dir: tempfile::TempDir,
) -> Running {
    let state = ServerState::new(adapter, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(dbx_hrana::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Running {
        url,
        stop: Some(stop),
        _dir: dir,
    }
}

pub(crate) async fn client(url: &str) -> libsql::Connection {
    let db = libsql::Builder::new_remote(url.to_owned(), String::new())
        .connector(hyper_014::client::HttpConnector::new())
        .build()
        .await
        .unwrap();
    db.connect().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_query_and_named_parameters() {
    let server = start().await;
    let conn = client(&server.url).await;
    conn.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, photo BLOB)",
        (),
    )
    .await
    .unwrap();
    let inserted = conn
        .execute(
            "INSERT INTO people (name, score, photo) VALUES (?1, ?2, ?3)",
            libsql::params!["ada", 9.5, vec![1u8, 2, 3]],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 1);
    conn.execute(
        "INSERT INTO people (name, score) VALUES (:name, :score)",
        libsql::named_params! {":name": "grace", ":score": 8.0},
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
    assert_eq!(conn.last_insert_rowid(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_transactions() {
    let server = start().await;
    let conn = client(&server.url).await;
    conn.execute_batch(
        "CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);",
    )
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
    // The crate sends BEGIN READONLY, which stock SQLite rejects; dbx maps it.
    let ro = conn
        .transaction_with_behavior(libsql::TransactionBehavior::ReadOnly)
        .await
        .unwrap();
    let mut rows = ro.query("SELECT COUNT(*) FROM t", ()).await.unwrap();
    assert_eq!(
        rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap(),
        3
    );
    drop(rows);
    ro.commit().await.unwrap();

    let err = conn
        .execute("INSERT INTO t VALUES (1)", ())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_learns_the_columns_from_describe() {
    let server = start().await;
    let conn = client(&server.url).await;
    conn.execute("CREATE TABLE t (a TEXT, b int NOT NULL)", ())
        .await
        .unwrap();
    // The crate's prepare() sends `describe` and keeps the column names it returns (it reports
    // no decltypes and counts parameters from the arguments it is given).
    let stmt = conn
        .prepare("SELECT a, b, ?1 + 1 AS d FROM t")
        .await
        .unwrap();
    let names: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["a", "b", "d"]);
    let err = conn
        .prepare("SELECT nope FROM t")
        .await
        .err()
        .expect("describe of a bad statement fails");
    assert!(err.to_string().contains("no such column"), "{err}");
}
