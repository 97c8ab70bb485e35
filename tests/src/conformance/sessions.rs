//! Dedicated connections: caller-driven transactions and autocommit tracking.

use dbx_core::{ErrorKind, Statement};

use super::transactions::{insert, items, names};
use crate::Harness;

pub async fn begin_commit_tracks_autocommit<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut conn = db.connection().await.unwrap();
    assert!(conn.is_autocommit());
    conn.execute("BEGIN".into()).await.unwrap();
    assert!(!conn.is_autocommit());
    conn.execute(insert("in-session")).await.unwrap();
    let seen = conn
        .query("SELECT COUNT(*) FROM items".into())
        .await
        .unwrap();
    assert_eq!(seen.scalar::<i64>().unwrap(), 1);
    conn.execute("COMMIT".into()).await.unwrap();
    assert!(conn.is_autocommit());
    assert_eq!(names(&*db).await, ["in-session"]);
}

pub async fn sql_rollback_discards<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut conn = db.connection().await.unwrap();
    conn.execute("BEGIN".into()).await.unwrap();
    conn.execute(insert("gone")).await.unwrap();
    conn.execute("ROLLBACK".into()).await.unwrap();
    assert!(conn.is_autocommit());
    assert!(names(&*db).await.is_empty());
    // Outside a transaction the session writes in autocommit mode.
    conn.execute(insert("direct")).await.unwrap();
    assert_eq!(names(&*db).await, ["direct"]);
    // A stray COMMIT is an error on SQLite and a warning on PostgreSQL; either way the
    // session stays in autocommit mode and usable.
    let _ = conn.execute("COMMIT".into()).await;
    assert!(conn.is_autocommit());
    conn.execute(insert("still-works")).await.unwrap();
    assert_eq!(names(&*db).await, ["direct", "still-works"]);
}

pub async fn dropped_session_rolls_back_and_frees_writers<H: Harness>(h: &H) {
    let db = items(h).await;
    {
        let mut conn = db.connection().await.unwrap();
        conn.execute("BEGIN".into()).await.unwrap();
        conn.execute(insert("abandoned")).await.unwrap();
    }
    db.execute(insert("next")).await.unwrap();
    assert_eq!(names(&*db).await, ["next"]);
}

pub async fn session_transaction_api<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut conn = db.connection().await.unwrap();
    {
        let mut tx = conn.transaction().await.unwrap();
        tx.execute(insert("a")).await.unwrap();
        let mut sp = tx.savepoint().await.unwrap();
        sp.execute(insert("b")).await.unwrap();
        sp.rollback().await.unwrap();
        tx.commit().await.unwrap();
    }
    assert!(conn.is_autocommit());
    conn.execute(insert("c")).await.unwrap();
    assert_eq!(names(&*db).await, ["a", "c"]);
}

pub async fn session_batch_is_atomic<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut conn = db.connection().await.unwrap();
    let err = conn
        .batch(vec![
            insert("x"),
            Statement::new("INSERT INTO items (name) VALUES (NULL)"),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotNullViolation);
    assert!(conn.is_autocommit());
    // Inside an open transaction, a failed batch undoes only itself.
    conn.execute("BEGIN".into()).await.unwrap();
    conn.execute(insert("kept")).await.unwrap();
    assert!(
        conn.batch(vec![
            insert("y"),
            Statement::new("INSERT INTO items (name) VALUES (NULL)")
        ])
        .await
        .is_err()
    );
    assert!(
        !conn.is_autocommit(),
        "a failed batch must not end the caller's transaction"
    );
    conn.execute("COMMIT".into()).await.unwrap();
    assert_eq!(names(&*db).await, ["kept"]);
}

pub async fn a_failed_statement_leaves_the_transaction_open<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut conn = db.connection().await.unwrap();
    conn.execute("BEGIN".into()).await.unwrap();
    conn.execute(insert("before")).await.unwrap();
    // A constraint error (at execution) and a syntax error (at prepare) end no transaction,
    // and the session must still say so: MySQL's error packets carry no status flags.
    let err = conn
        .execute(Statement::new("INSERT INTO items (name) VALUES (NULL)"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotNullViolation);
    assert!(!conn.is_autocommit(), "after a constraint error");
    let err = conn.execute("SELEC nonsense".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SyntaxError);
    assert!(!conn.is_autocommit(), "after a syntax error");
    conn.execute("ROLLBACK".into()).await.unwrap();
    assert!(conn.is_autocommit());
    assert!(names(&*db).await.is_empty());
}

pub async fn describe_reports_columns_parameters_and_kind<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut conn = db.connection().await.unwrap();
    let d = conn
        .describe("SELECT id, name FROM items WHERE name = :name AND id > ?")
        .await
        .unwrap();
    let columns: Vec<&str> = d.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["id", "name"]);
    assert_eq!(d.params.len(), 2, "{d:?}");
    assert_eq!(d.params[0].as_deref(), Some(":name"), "{d:?}");
    assert!(d.is_readonly && !d.is_explain, "{d:?}");
    let d = conn.describe("DELETE FROM items").await.unwrap();
    assert!(!d.is_readonly && d.columns.is_empty(), "{d:?}");
    let err = conn.describe("SELECT nope FROM items").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndefinedColumn, "{err}");
}

/// Two sessions both in a transaction, as SQLite and sqld allow: a `BEGIN` takes no lock,
/// so the first session's open transaction must not keep the second from writing.
pub async fn two_sessions_both_in_a_transaction<H: Harness>(h: &H) {
    let db = items(h).await;
    db.execute(insert("before")).await.unwrap();
    let mut first = db.connection().await.unwrap();
    let mut second = db.connection().await.unwrap();
    first.execute("BEGIN".into()).await.unwrap();
    let count = "SELECT COUNT(*) FROM items";
    assert_eq!(
        first
            .query(count.into())
            .await
            .unwrap()
            .scalar::<i64>()
            .unwrap(),
        1
    );
    second.execute("BEGIN".into()).await.unwrap();
    second.execute(insert("second")).await.unwrap();
    // Each sees its own snapshot: the first not the second's uncommitted row.
    assert_eq!(
        first
            .query(count.into())
            .await
            .unwrap()
            .scalar::<i64>()
            .unwrap(),
        1
    );
    assert_eq!(
        second
            .query(count.into())
            .await
            .unwrap()
            .scalar::<i64>()
            .unwrap(),
        2
    );
    second.execute("COMMIT".into()).await.unwrap();
    first.execute("COMMIT".into()).await.unwrap();
    assert_eq!(names(&*db).await, ["before", "second"]);
    // A read transaction never holds up a writer of the pool either.
    first.execute("BEGIN".into()).await.unwrap();
    first.query(count.into()).await.unwrap();
    db.execute(insert("pooled")).await.unwrap();
    first.execute("ROLLBACK".into()).await.unwrap();
    assert_eq!(names(&*db).await, ["before", "pooled", "second"]);
}
