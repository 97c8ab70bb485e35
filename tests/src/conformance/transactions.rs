//! Transactions and savepoints through `Adapter::transaction`.

use std::sync::Arc;

use dbx_core::{Adapter, ErrorKind, Statement};

use crate::Harness;

pub(crate) async fn items<H: Harness>(h: &H) -> Arc<dyn Adapter> {
    let db = h.database().await;
    let t = h.types();
    db.execute(
        format!(
            "CREATE TABLE items (id {}, name {} NOT NULL)",
            t.auto_id, t.key_text
        )
        .into(),
    )
    .await
    .unwrap();
    db
}

pub(crate) fn insert(name: &str) -> Statement {
    Statement::with_args("INSERT INTO items (name) VALUES (?)", [name])
}

pub(crate) async fn names(db: &dyn Adapter) -> Vec<String> {
    let rs = db
        .query("SELECT name FROM items ORDER BY name".into())
        .await
        .unwrap();
    rs.rows.iter().map(|r| r.get(0).unwrap()).collect()
}

pub async fn commit_makes_work_visible<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut tx = db.transaction().await.unwrap();
    tx.execute(insert("a")).await.unwrap();
    tx.execute(insert("b")).await.unwrap();
    let inside = tx.query("SELECT COUNT(*) FROM items".into()).await.unwrap();
    assert_eq!(inside.scalar::<i64>().unwrap(), 2);
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["a", "b"]);
}

pub async fn rollback_discards_work<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut tx = db.transaction().await.unwrap();
    tx.execute(insert("gone")).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(names(&*db).await.is_empty());
}

pub async fn nested_savepoint_rolls_back_alone<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut tx = db.transaction().await.unwrap();
    tx.execute(insert("outer")).await.unwrap();
    {
        let mut sp = tx.savepoint().await.unwrap();
        sp.execute(insert("inner")).await.unwrap();
        {
            let mut deeper = sp.savepoint().await.unwrap();
            deeper.execute(insert("deeper")).await.unwrap();
            deeper.commit().await.unwrap();
        }
        sp.rollback().await.unwrap();
    }
    tx.execute(insert("after")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["after", "outer"]);
}

pub async fn released_savepoint_commits_with_outer<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut tx = db.transaction().await.unwrap();
    let mut sp = tx.savepoint().await.unwrap();
    sp.execute(insert("kept")).await.unwrap();
    sp.commit().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["kept"]);
}

pub async fn dropped_transaction_rolls_back<H: Harness>(h: &H) {
    let db = items(h).await;
    {
        let mut tx = db.transaction().await.unwrap();
        tx.execute(insert("abandoned")).await.unwrap();
        // Dropped here without commit or rollback.
    }
    // The next writer is not blocked, and does not inherit the abandoned work.
    db.execute(insert("next")).await.unwrap();
    let mut tx = db.transaction().await.unwrap();
    tx.execute(insert("third")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["next", "third"]);
}

pub async fn dropped_savepoint_rolls_back_alone<H: Harness>(h: &H) {
    let db = items(h).await;
    let mut tx = db.transaction().await.unwrap();
    tx.execute(insert("outer")).await.unwrap();
    {
        let mut sp = tx.savepoint().await.unwrap();
        sp.execute(insert("dropped")).await.unwrap();
    }
    tx.execute(insert("later")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["later", "outer"]);
}

pub async fn uncommitted_work_is_invisible_outside<H: Harness>(h: &H) {
    let db = items(h).await;
    db.execute(insert("committed")).await.unwrap();
    let mut tx = db.transaction().await.unwrap();
    tx.execute(insert("pending")).await.unwrap();
    assert_eq!(names(&*db).await, ["committed"]);
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["committed", "pending"]);
}

pub async fn pooled_adapter_refuses_transaction_control<H: Harness>(h: &H) {
    let db = items(h).await;
    for sql in ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT x"] {
        let err = db.execute(sql.into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{sql}: {err}");
        assert!(err.to_string().contains("transaction()"), "{sql}: {err}");
    }
    let mut tx = db.transaction().await.unwrap();
    let err = tx.execute("COMMIT".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    tx.execute(insert("still-open")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&*db).await, ["still-open"]);
}
