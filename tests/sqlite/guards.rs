//! What keeps SQL from the network inside its own file and connection, and bounded in time
//! and memory: attachments, process-wide pragmas, value sizes, runaway statements, the
//! adapter closing under them, read-only sessions and state left on connections.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::{Adapter, ErrorKind, Statement};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};

/// A statement that never ends on its own.
const ENDLESS: &str =
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";

async fn open(dir: &tempfile::TempDir, name: &str, readers: usize) -> SqliteAdapter {
    SqliteAdapter::open(SqliteOptions::new(dir.path().join(name)).max_readers(readers))
        .await
        .unwrap()
}

/// Waits for `work`, failing the test if it hangs: the bound catches what was never
/// stopped, it judges no speed.
async fn bounded<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within a minute"))
}

#[tokio::test]
async fn attach_is_refused_unless_its_name_is_a_plain_literal_of_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, "a.db", 2).await;
    let other = open(&dir, "b.db", 2).await;
    other
        .execute("CREATE TABLE secrets (s TEXT)".into())
        .await
        .unwrap();
    let path = dir.path().join("b.db").display().to_string();
    let mut session = db.connection().await.unwrap();
    for (what, stmt) in [
        (
            "a literal path",
            Statement::new(format!("ATTACH '{path}' AS x")),
        ),
        (
            "a concatenation",
            Statement::new(format!("ATTACH DATABASE '{path}' || '' AS x")),
        ),
        (
            "a bound path",
            Statement::with_args("ATTACH ? AS x", [path.as_str()]),
        ),
        (
            "a subquery",
            Statement::new(format!("ATTACH (SELECT '{path}') AS x")),
        ),
        (
            "a shared in-memory database",
            Statement::new("ATTACH 'file::memory:?cache=shared' AS x"),
        ),
        (
            "a bound ':memory:'",
            Statement::with_args("ATTACH ? AS x", [":memory:"]),
        ),
        (
            "a copy written elsewhere",
            Statement::new(format!(
                "VACUUM INTO '{}'",
                dir.path().join("c.db").display()
            )),
        ),
    ] {
        let err = db.execute(stmt.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{what}: {err}");
        let err = session.execute(stmt).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{what}: {err}");
    }
    assert!(!dir.path().join("c.db").exists());
    // What reaches no file still works.
    session
        .execute("ATTACH ':memory:' AS m".into())
        .await
        .unwrap();
    session
        .execute("CREATE TABLE m.scratch (a)".into())
        .await
        .unwrap();
    // The session keeps the writer for its attachment until it ends.
    drop(session);
    db.execute("VACUUM".into()).await.unwrap();
}

#[tokio::test]
async fn pragmas_of_the_whole_process_and_file_corruption_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, "a.db", 2).await;
    for sql in [
        "PRAGMA temp_store_directory = '/nonexistent'",
        "PRAGMA data_store_directory = '/nonexistent'",
        "PRAGMA hard_heap_limit = 1",
        "PRAGMA soft_heap_limit = 1",
    ] {
        let err = db.execute(sql.into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{sql}: {err}");
    }
    // Defensive mode: no SQL may deliberately corrupt the file.
    db.execute("PRAGMA writable_schema = ON".into())
        .await
        .unwrap();
    let err = db
        .execute("UPDATE sqlite_schema SET sql = 'garbage'".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("may not be modified"), "{err}");
}

#[tokio::test]
async fn one_value_cannot_make_the_process_allocate_a_gigabyte() {
    let dir = tempfile::tempdir().unwrap();
    let db =
        SqliteAdapter::open(SqliteOptions::new(dir.path().join("a.db")).max_value_bytes(1 << 20))
            .await
            .unwrap();
    let err = db
        .query("SELECT length(randomblob(999999999))".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("too big"), "{err}");
    let ok = db
        .query("SELECT length(randomblob(1000))".into())
        .await
        .unwrap();
    assert_eq!(ok.scalar::<i64>().unwrap(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_runaway_statement_stops_and_frees_its_reader() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(&dir, "a.db", 1).await);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let runner = db.clone();
    let task = tokio::spawn(async move {
        let _ = started_tx.send(());
        runner.query(ENDLESS.into()).await
    });
    started_rx.await.unwrap();
    // The one reader is busy with it (the health check reads too), so this waits until the
    // runaway statement ends: which it does once nobody waits for it.
    let health = db.health();
    task.abort();
    bounded("a read after an abandoned runaway statement", health)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_stops_running_statements_and_waits_for_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(&dir, "a.db", 2).await);
    // One session in a transaction on the writer, one in a deferred transaction on a
    // connection of its own, and one pooled read.
    let mut sessions = Vec::new();
    for begin in ["BEGIN IMMEDIATE", "BEGIN"] {
        let (begun_tx, begun_rx) = tokio::sync::oneshot::channel();
        let db = db.clone();
        sessions.push(tokio::spawn(async move {
            let mut session = db.connection().await?;
            session.execute(begin.into()).await?;
            let _ = begun_tx.send(());
            session.query(ENDLESS.into()).await
        }));
        begun_rx.await.unwrap();
    }
    let reader = db.clone();
    let on_reader = tokio::spawn(async move { reader.query(ENDLESS.into()).await });
    // The reader's statement is running once a reader counts as in use beside the one the
    // health check itself takes.
    bounded("the read starting", async {
        while db.health().await.unwrap().pool.in_use == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let running = sessions.into_iter().chain([on_reader]);
    bounded("closing under runaway statements", db.close()).await;
    for task in running {
        let err = bounded("a stopped statement", task)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Other, "{err}");
        assert!(err.to_string().contains("closed"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_never_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteAdapter::open(
        SqliteOptions::new(dir.path().join("a.db")).busy_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    let mut reader = db.connection().await.unwrap();
    reader.set_read_only(true);
    for begin in ["BEGIN EXCLUSIVE", "BEGIN IMMEDIATE"] {
        let err = reader.execute(begin.into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{begin}: {err}");
        assert!(reader.is_autocommit());
    }
    reader.execute("BEGIN".into()).await.unwrap();
    let before = reader.query("SELECT COUNT(*) FROM t".into()).await.unwrap();
    assert_eq!(before.scalar::<i64>().unwrap(), 0);
    // A writer goes ahead while the read transaction is open (a held write lock would make
    // it wait 300 ms and fail as busy), and the reader keeps its snapshot.
    db.execute("INSERT INTO t VALUES (1)".into()).await.unwrap();
    let during = reader.query("SELECT COUNT(*) FROM t".into()).await.unwrap();
    assert_eq!(during.scalar::<i64>().unwrap(), 0);
    reader.execute("COMMIT".into()).await.unwrap();
    let after = reader.query("SELECT COUNT(*) FROM t".into()).await.unwrap();
    assert_eq!(after.scalar::<i64>().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_a_session_leaves_is_gone_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, "a.db", 2).await;
    db.execute("CREATE TABLE items (n INTEGER)".into())
        .await
        .unwrap();
    {
        let mut session = db.connection().await.unwrap();
        session
            .execute("CREATE TEMP TABLE items (n INTEGER)".into())
            .await
            .unwrap();
        session
            .execute("PRAGMA foreign_keys = OFF".into())
            .await
            .unwrap();
        session
            .execute("PRAGMA recursive_triggers = ON".into())
            .await
            .unwrap();
        session
            .execute("INSERT INTO items VALUES (1)".into())
            .await
            .unwrap();
        let mine = session
            .query("SELECT COUNT(*) FROM temp.items".into())
            .await;
        assert_eq!(mine.unwrap().scalar::<i64>().unwrap(), 1);
    }
    // The writer was reopened: the next write lands in the real table and is kept, and the
    // settings are the configured ones again.
    let done = db
        .execute("INSERT INTO items VALUES (2)".into())
        .await
        .unwrap();
    assert_eq!(done.rows_affected, 1);
    let main = db.query("SELECT n FROM main.items".into()).await.unwrap();
    assert_eq!(main.rows.len(), 1);
    let mut check = db.connection().await.unwrap();
    check.execute("BEGIN IMMEDIATE".into()).await.unwrap();
    let fk = check.query("PRAGMA foreign_keys".into()).await.unwrap();
    assert_eq!(fk.scalar::<i64>().unwrap(), 1);
    let rt = check
        .query("PRAGMA recursive_triggers".into())
        .await
        .unwrap();
    assert_eq!(rt.scalar::<i64>().unwrap(), 0);
    let temp = check
        .query("SELECT COUNT(*) FROM temp.sqlite_schema".into())
        .await
        .unwrap();
    assert_eq!(temp.scalar::<i64>().unwrap(), 0);
    check.execute("ROLLBACK".into()).await.unwrap();
}
