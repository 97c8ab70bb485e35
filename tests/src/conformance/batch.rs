//! `Adapter::batch` is all or nothing.

use dbx_core::{ErrorKind, Statement};

use super::transactions::{insert, items, names};
use crate::Harness;

pub async fn failing_third_statement_leaves_nothing<H: Harness>(h: &H) {
    let db = items(h).await;
    let err = db
        .batch(vec![
            insert("first"),
            insert("second"),
            Statement::new("INSERT INTO items (name) VALUES (NULL)"),
            insert("fourth"),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotNullViolation, "{err}");
    assert!(names(&*db).await.is_empty());
    // The adapter is usable afterwards.
    db.execute(insert("after")).await.unwrap();
    assert_eq!(names(&*db).await, ["after"]);
}

pub async fn batch_returns_each_result<H: Harness>(h: &H) {
    let db = items(h).await;
    let results = db
        .batch(vec![
            insert("a"),
            insert("b"),
            Statement::new("SELECT name FROM items ORDER BY name"),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].rows_affected, 1);
    assert_eq!(results[1].rows_affected, 1);
    assert_eq!(results[2].rows.len(), 2);
    assert_eq!(results[2].rows[1].get::<String>(0).unwrap(), "b");
}
