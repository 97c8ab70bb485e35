//! Deferred transactions of dedicated sessions: they read without holding anyone up, take
//! the write lock at their first write, and are refused that write when their snapshot is
//! stale, as SQLite's own deferred transactions are.

use std::time::Duration;

use dbx_core::{Adapter, ErrorKind};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};

async fn open(dir: &tempfile::TempDir) -> SqliteAdapter {
    let db = SqliteAdapter::open(
        SqliteOptions::new(dir.path().join("d.db")).busy_timeout(Duration::from_millis(500)),
    )
    .await
    .unwrap();
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    db
}

async fn count(db: &SqliteAdapter) -> i64 {
    let rs = db.query("SELECT COUNT(*) FROM t".into()).await.unwrap();
    rs.scalar().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_snapshot_cannot_write_and_a_retry_can() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let mut session = db.connection().await.unwrap();
    session.execute("BEGIN".into()).await.unwrap();
    session
        .query("SELECT COUNT(*) FROM t".into())
        .await
        .unwrap();
    // Another writer commits after the session's snapshot was taken.
    db.execute("INSERT INTO t VALUES (1)".into()).await.unwrap();
    let err = session
        .execute("INSERT INTO t VALUES (2)".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(
        err.to_string()
            .contains("roll back and run the transaction again"),
        "{err}"
    );
    session.execute("ROLLBACK".into()).await.unwrap();
    // The failed upgrade kept no lock: the pool writes, and the retried transaction too.
    db.execute("INSERT INTO t VALUES (3)".into()).await.unwrap();
    session.execute("BEGIN".into()).await.unwrap();
    session
        .execute("INSERT INTO t VALUES (4)".into())
        .await
        .unwrap();
    session.execute("COMMIT".into()).await.unwrap();
    assert_eq!(count(&db).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writing_transaction_holds_other_writers_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let mut session = db.connection().await.unwrap();
    session.execute("BEGIN".into()).await.unwrap();
    session
        .execute("INSERT INTO t VALUES (1)".into())
        .await
        .unwrap();
    // The pool's writer waits its busy timeout, then fails: only writes serialize.
    let err = db
        .execute("INSERT INTO t VALUES (2)".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    // Reads go on, and see only what is committed.
    assert_eq!(count(&db).await, 0);
    session.execute("COMMIT".into()).await.unwrap();
    db.execute("INSERT INTO t VALUES (2)".into()).await.unwrap();
    assert_eq!(count(&db).await, 2);
    // Dropped in the middle of a writing transaction, a session rolls back and frees the
    // write lock.
    session.execute("BEGIN".into()).await.unwrap();
    session
        .execute("INSERT INTO t VALUES (3)".into())
        .await
        .unwrap();
    drop(session);
    db.execute("INSERT INTO t VALUES (4)".into()).await.unwrap();
    assert_eq!(count(&db).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_tables_in_a_deferred_transaction_stay_with_the_session_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let mut session = db.connection().await.unwrap();
    session.execute("BEGIN".into()).await.unwrap();
    session
        .execute("CREATE TEMP TABLE scratch (y INTEGER)".into())
        .await
        .unwrap();
    session
        .execute("INSERT INTO scratch VALUES (7)".into())
        .await
        .unwrap();
    session.execute("COMMIT".into()).await.unwrap();
    // The session still sees its temporary table after the transaction...
    let rs = session.query("SELECT y FROM scratch".into()).await.unwrap();
    assert_eq!(rs.scalar::<i64>().unwrap(), 7);
    // ...and writes still work from it, while nobody else sees the table.
    session
        .execute("INSERT INTO t VALUES (1)".into())
        .await
        .unwrap();
    let err = db.query("SELECT y FROM scratch".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndefinedTable, "{err}");
    drop(session);
    for _ in 0..8 {
        let err = db.query("SELECT y FROM scratch".into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndefinedTable, "{err}");
    }
    assert_eq!(count(&db).await, 1);
}
