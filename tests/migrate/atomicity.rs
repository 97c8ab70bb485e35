//! A migration that fails half-way: nothing of it stays where the backend can roll back DDL;
//! on MySQL, and for no-transaction migrations, a recorded dirty state with a guided way out.

use dbx_migrate::{ErrorKind, Resolution, State};

use crate::support::{Backend, Db, describe};

const HALF_BROKEN: &str = "CREATE TABLE half (id INTEGER PRIMARY KEY);\n\
     INSERT INTO half (id) VALUES (1);\n\
     CREATE TABLE broken (id INTEGER PRIMARY KEY, oops NOT_A_TYPE_AT_ALL(;\n";

async fn rolls_back_everything(backend: Backend) {
    let db = Db::new(backend).await;
    db.write("1_ok.up.sql", "CREATE TABLE fine (id INTEGER PRIMARY KEY);");
    db.write("2_half.up.sql", HALF_BROKEN);
    let err = db.migrator().up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Database, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("2_half") && message.contains("statement 3 of 3"),
        "{message}"
    );
    assert!(message.contains("nothing from it was kept"), "{message}");

    assert!(
        db.has_table("fine").await,
        "the migration before it stays applied"
    );
    assert!(
        !db.has_table("half").await,
        "the failed migration's table was rolled back"
    );
    assert_eq!(db.ledger_rows().await, 1, "and so was its tracking row");
    let status = db.migrator().status().await.unwrap();
    assert_eq!(status.entries[1].state, State::Pending);

    db.write(
        "2_half.up.sql",
        "CREATE TABLE half (id INTEGER PRIMARY KEY);",
    );
    let report = db.migrator().up(None).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    assert!(db.has_table("half").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_leaves_nothing_on_sqlite() {
    rolls_back_everything(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_leaves_nothing_on_postgres() {
    rolls_back_everything(Backend::Postgres).await;
}

/// The dirty path: status shows it, runs refuse with guidance, `resolve` settles it.
async fn dirty_then_resolved(db: &Db, file: &str, marker: &str) {
    let out = db.run(&["migrate", "up"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("is dirty") && stderr.contains("statement 3 of 3"),
        "{stderr}"
    );
    assert!(stderr.contains("statements 1 to 2 took effect"), "{stderr}");
    assert!(stderr.contains("dbx migrate resolve 1"), "{stderr}");
    assert!(
        db.has_table("half").await,
        "statements before the failure took effect"
    );

    // `status` exits 1 while something is dirty.
    let out = db.run(&["migrate", "status", "--json"]);
    assert!(
        !out.status.success(),
        "status reports a dirty database with exit code 1"
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["entries"][0]["state"], "dirty", "{status}");
    assert!(
        status["entries"][0]["error"]
            .as_str()
            .unwrap()
            .contains("statement 3"),
        "{status}"
    );

    // Further runs refuse until resolved, with the same guidance.
    let again = db.run(&["migrate", "up"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("migrate resolve 1"),
        "{}",
        describe(&again)
    );

    // Way out 1: undo by hand, forget the record, fix the file, run again.
    db.adapter.execute("DROP TABLE half".into()).await.unwrap();
    let out = db.run(&["migrate", "resolve", "1", "--not-applied"]);
    assert!(out.status.success(), "{}", describe(&out));
    db.write(
        file,
        "CREATE TABLE half (id INTEGER PRIMARY KEY);\nINSERT INTO half (id) VALUES (1);",
    );
    let report = db.run_json(&["migrate", "up"]);
    assert_eq!(report["steps"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM half").await, 1);

    // Way out 2: finish by hand and mark it applied (library API this time).
    db.write(
        "2_more.up.sql",
        &format!(
            "{marker}CREATE TABLE more_a (id INTEGER PRIMARY KEY);\nCREATE TABLE more_b (oops(;"
        ),
    );
    let err = db.migrator().up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Dirty, "{err}");
    db.adapter
        .execute("CREATE TABLE more_b (id INTEGER PRIMARY KEY)".into())
        .await
        .unwrap();
    db.write(
        "2_more.up.sql",
        &format!("{marker}CREATE TABLE more_a (id INTEGER PRIMARY KEY);\nCREATE TABLE more_b (id INTEGER PRIMARY KEY);"),
    );
    db.migrator()
        .resolve("", 2, Resolution::Applied)
        .await
        .unwrap();
    let status = db.migrator().status().await.unwrap();
    assert!(
        status.entries.iter().all(|e| e.state == State::Applied),
        "resolved as applied, with the fixed file's checksum: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_ddl_failure_is_dirty_and_recoverable() {
    let db = Db::new(Backend::Mysql).await;
    db.write("1_half.up.sql", HALF_BROKEN);
    dirty_then_resolved(&db, "1_half.up.sql", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_transaction_migration_failure_is_dirty_on_postgres() {
    let db = Db::new(Backend::Postgres).await;
    db.write(
        "1_half.up.sql",
        &format!("-- dbx:no-transaction\n{HALF_BROKEN}"),
    );
    dirty_then_resolved(&db, "1_half.up.sql", "-- dbx:no-transaction\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_transaction_migration_failure_is_dirty_on_sqlite() {
    let db = Db::new(Backend::Sqlite).await;
    db.write(
        "1_half.up.sql",
        &format!("-- dbx:no-transaction\n{HALF_BROKEN}"),
    );
    dirty_then_resolved(&db, "1_half.up.sql", "-- dbx:no-transaction\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_data_only_migrations_still_roll_back() {
    let db = Db::new(Backend::Mysql).await;
    db.write(
        "1_table.up.sql",
        "CREATE TABLE items (id INTEGER PRIMARY KEY);",
    );
    db.write(
        "2_data.up.sql",
        "INSERT INTO items (id) VALUES (1);\nINSERT INTO items (id) VALUES (1);",
    );
    let err = db.migrator().up(None).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Database,
        "a data migration is not left dirty: {err}"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM items").await,
        0,
        "its first insert was rolled back"
    );
    assert_eq!(db.ledger_rows().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_no_transaction_lets_pragma_foreign_keys_work() {
    // Inside a transaction SQLite ignores `PRAGMA foreign_keys`; a no-transaction migration
    // runs on one session, so the pragma holds for the statements after it.
    let db = Db::new(Backend::Sqlite).await;
    db.write(
        "1_tables.up.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));\n\
         INSERT INTO parent (id) VALUES (1);\nINSERT INTO child (id, parent_id) VALUES (1, 1);",
    );
    db.write(
        "2_rebuild_parent.up.sql",
        "-- dbx:no-transaction\nPRAGMA foreign_keys = OFF;\n\
         CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);\n\
         INSERT INTO parent_new (id) SELECT id FROM parent;\nDROP TABLE parent;\n\
         ALTER TABLE parent_new RENAME TO parent;\nPRAGMA foreign_keys = ON;",
    );
    let report = db.migrator().up(None).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM child").await,
        1,
        "the child rows survived"
    );
    assert!(
        db.adapter
            .table("parent")
            .await
            .unwrap()
            .column("name")
            .is_some()
    );
}
