//! Constraint, syntax and name errors map to the right `ErrorKind`, with the native code kept.

use std::sync::Arc;

use dbx_core::{Adapter, ErrorKind, Statement};

use crate::Harness;

async fn schema<H: Harness>(h: &H) -> Arc<dyn Adapter> {
    let db = h.database().await;
    let t = h.types();
    // One statement at a time: MySQL commits DDL implicitly, so its batch refuses DDL.
    for sql in [
        format!("CREATE TABLE parents (id {} PRIMARY KEY)", t.integer),
        format!(
            "CREATE TABLE kids (id {i} PRIMARY KEY, parent_id {i}, email {k} NOT NULL UNIQUE, \
             age {i} CHECK (age >= 0), FOREIGN KEY (parent_id) REFERENCES parents (id))",
            i = t.integer,
            k = t.key_text
        ),
        "INSERT INTO parents (id) VALUES (1)".to_owned(),
        "INSERT INTO kids (id, parent_id, email, age) VALUES (1, 1, 'a@x', 5)".to_owned(),
    ] {
        db.execute(sql.into()).await.unwrap();
    }
    db
}

async fn expect_kind(db: &dyn Adapter, sql: &str, kind: ErrorKind) {
    let err = db.execute(Statement::new(sql)).await.expect_err(sql);
    assert_eq!(err.kind(), kind, "{sql}: {err}");
    if let Some(native) = err.database() {
        assert!(
            !native.code.is_empty() && !native.message.is_empty(),
            "{sql}: {native:?}"
        );
    }
}

pub async fn unique_violation<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(
        &*db,
        "INSERT INTO kids (id, parent_id, email, age) VALUES (2, 1, 'a@x', 1)",
        ErrorKind::UniqueViolation,
    )
    .await;
    expect_kind(
        &*db,
        "INSERT INTO parents (id) VALUES (1)",
        ErrorKind::UniqueViolation,
    )
    .await;
}

pub async fn foreign_key_violation<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(
        &*db,
        "INSERT INTO kids (id, parent_id, email, age) VALUES (2, 99, 'b@x', 1)",
        ErrorKind::ForeignKeyViolation,
    )
    .await;
    expect_kind(
        &*db,
        "DELETE FROM parents WHERE id = 1",
        ErrorKind::ForeignKeyViolation,
    )
    .await;
}

pub async fn not_null_violation<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(
        &*db,
        "INSERT INTO kids (id, parent_id, email, age) VALUES (2, 1, NULL, 1)",
        ErrorKind::NotNullViolation,
    )
    .await;
}

pub async fn check_violation<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(
        &*db,
        "INSERT INTO kids (id, parent_id, email, age) VALUES (2, 1, 'c@x', -1)",
        ErrorKind::CheckViolation,
    )
    .await;
}

pub async fn syntax_error<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(&*db, "SELEC id FROM kids", ErrorKind::SyntaxError).await;
    expect_kind(&*db, "SELECT id FROM kids WHERE", ErrorKind::SyntaxError).await;
}

pub async fn undefined_table<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(
        &*db,
        "SELECT * FROM no_such_table",
        ErrorKind::UndefinedTable,
    )
    .await;
    expect_kind(
        &*db,
        "INSERT INTO no_such_table (x) VALUES (1)",
        ErrorKind::UndefinedTable,
    )
    .await;
}

pub async fn undefined_column<H: Harness>(h: &H) {
    let db = schema(h).await;
    expect_kind(
        &*db,
        "SELECT no_such_column FROM kids",
        ErrorKind::UndefinedColumn,
    )
    .await;
}
