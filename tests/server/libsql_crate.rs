//! The Rust `libsql` crate (remote mode), as a user points it at `dbx serve`, on every
//! backend: it describes each statement before running it, so every call here also proves
//! that `describe` reaches the adapter through the service's layers.

use crate::Served;
use crate::support::{Backend, Db};

async fn client(base: &str) -> libsql::Connection {
    libsql::Builder::new_remote(base.to_owned(), String::new())
        .connector(hyper_014::client::HttpConnector::new())
        .build()
        .await
        .unwrap()
        .connect()
        .unwrap()
}

fn blob_type(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "BYTEA",
        Backend::Mysql => "LONGBLOB",
    }
}

async fn names(conn: &libsql::Connection, sql: &str) -> Vec<String> {
    let mut rows = conn.query(sql, ()).await.unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        out.push(row.get::<String>(0).unwrap());
    }
    out
}

async fn scalar(conn: &libsql::Connection, sql: &str) -> i64 {
    let mut rows = conn.query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
}

async fn the_libsql_crate(backend: Backend) {
    let db = Db::new(backend).await;
    let server = Served::start(&db, &[]);
    let conn = client(&server.base).await;
    let blob = blob_type(backend);
    conn.execute(
        &format!(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, \
             photo {blob})"
        ),
        (),
    )
    .await
    .unwrap();

    // Positional and named parameters, every value type.
    let inserted = conn
        .execute(
            "INSERT INTO people (id, name, score, photo) VALUES (?, ?, ?, ?)",
            libsql::params![1, "ada", 9.5, vec![0u8, 159, 146, 150]],
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

    // A prepared statement says what it returns before it runs.
    let stmt = conn
        .prepare("SELECT id, name, score, photo FROM people WHERE id >= ? ORDER BY id")
        .await
        .unwrap();
    let columns: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(columns, ["id", "name", "score", "photo"]);
    let mut rows = stmt.query([1]).await.unwrap();
    let first = rows.next().await.unwrap().unwrap();
    assert_eq!(first.get::<i64>(0).unwrap(), 1);
    assert_eq!(first.get::<String>(1).unwrap(), "ada");
    assert_eq!(first.get::<f64>(2).unwrap(), 9.5);
    assert_eq!(first.get::<Vec<u8>>(3).unwrap(), vec![0, 159, 146, 150]);
    let second = rows.next().await.unwrap().unwrap();
    assert_eq!(second.get::<String>(1).unwrap(), "grace");
    assert!(rows.next().await.unwrap().is_none());

    // Transactions: a rollback leaves nothing, a commit everything.
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO people (id, name) VALUES (3, 'lost')", ())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO people (id, name) VALUES (4, 'kept')", ())
        .await
        .unwrap();
    let inside = names(&tx, "SELECT name FROM people ORDER BY id").await;
    assert_eq!(inside, ["ada", "grace", "kept"]);
    tx.commit().await.unwrap();

    // A batch runs every statement.
    conn.execute_batch(
        "INSERT INTO people (id, name) VALUES (5, 'linus'); \
         UPDATE people SET score = 1.5 WHERE id = 5;",
    )
    .await
    .unwrap();
    let all = names(&conn, "SELECT name FROM people ORDER BY id").await;
    assert_eq!(all, ["ada", "grace", "kept", "linus"]);

    // Two streams both in a transaction: a BEGIN takes no lock, only writes serialize.
    let other = client(&server.base).await;
    let count = "SELECT COUNT(*) FROM people";
    conn.execute("BEGIN", ()).await.unwrap();
    assert_eq!(scalar(&conn, count).await, 4);
    other.execute("BEGIN", ()).await.unwrap();
    other
        .execute("INSERT INTO people (id, name) VALUES (6, 'other')", ())
        .await
        .unwrap();
    assert_eq!(scalar(&conn, count).await, 4);
    assert_eq!(scalar(&other, count).await, 5);
    other.execute("COMMIT", ()).await.unwrap();
    conn.execute("COMMIT", ()).await.unwrap();
    assert_eq!(scalar(&conn, count).await, 5);

    // A statement the database cannot prepare fails with the database's own words.
    let err = conn
        .prepare("SELECT nope FROM people")
        .await
        .err()
        .expect("preparing a missing column must fail");
    assert!(err.to_string().contains("nope"), "{err}");
}
crate::per_backend!(the_libsql_crate_through_dbx_serve, the_libsql_crate);
