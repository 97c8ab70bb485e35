//! SQLite-style placeholders behave the same on every backend.

use dbx_core::{ErrorKind, Statement, Value};

use crate::Harness;

async fn pairs<H: Harness>(h: &H) -> std::sync::Arc<dyn dbx_core::Adapter> {
    let db = h.database().await;
    let t = h.types();
    db.execute(
        format!(
            "CREATE TABLE pairs (k {} PRIMARY KEY, v {})",
            t.key_text, t.integer
        )
        .into(),
    )
    .await
    .unwrap();
    db
}

async fn value_of(db: &dyn dbx_core::Adapter, key: &str) -> Option<i64> {
    db.query(Statement::with_args(
        "SELECT v FROM pairs WHERE k = ?",
        [key],
    ))
    .await
    .unwrap()
    .first()
    .map(|r| r.get(0).unwrap())
}

pub async fn positional_arguments<H: Harness>(h: &H) {
    let db = pairs(h).await;
    db.execute(Statement::with_args(
        "INSERT INTO pairs (k, v) VALUES (?, ?)",
        [Value::from("a"), 1.into()],
    ))
    .await
    .unwrap();
    assert_eq!(value_of(&*db, "a").await, Some(1));
}

pub async fn named_arguments_with_and_without_sigil<H: Harness>(h: &H) {
    let db = pairs(h).await;
    for (i, (sql, name)) in [
        ("INSERT INTO pairs (k, v) VALUES (:k, :v)", ""),
        ("INSERT INTO pairs (k, v) VALUES (@k, @v)", "@"),
        ("INSERT INTO pairs (k, v) VALUES ($k, $v)", "$"),
        ("INSERT INTO pairs (k, v) VALUES (:k, @v)", ":"),
    ]
    .into_iter()
    .enumerate()
    {
        let stmt = Statement::new(sql)
            .bind_named(&format!("{name}k"), format!("key{i}"))
            .bind_named(&format!("{name}v"), i64::try_from(i).unwrap());
        db.execute(stmt)
            .await
            .unwrap_or_else(|e| panic!("{sql} with sigil {name:?}: {e}"));
    }
    for i in 0..4 {
        assert_eq!(value_of(&*db, &format!("key{i}")).await, Some(i));
    }
}

pub async fn numbered_positions_with_holes<H: Harness>(h: &H) {
    let db = pairs(h).await;
    // ?2 is never used; its argument is accepted because ?3 makes three positions.
    let stmt = Statement::with_args(
        "INSERT INTO pairs (k, v) VALUES (?3, ?1)",
        [Value::from(10), "unused".into(), "hole".into()],
    );
    db.execute(stmt).await.unwrap();
    assert_eq!(value_of(&*db, "hole").await, Some(10));
    let reversed = db
        .query(Statement::with_args(
            "SELECT v FROM pairs WHERE k = ?2 AND v = ?1",
            [Value::from(10), "hole".into()],
        ))
        .await
        .unwrap();
    assert_eq!(reversed.rows.len(), 1);
}

pub async fn a_name_used_twice<H: Harness>(h: &H) {
    let db = pairs(h).await;
    for (k, v) in [("twice", 42), ("other", 7)] {
        db.execute(
            Statement::new("INSERT INTO pairs (k, v) VALUES (:k, :v)")
                .bind_named("k", k)
                .bind_named("v", v),
        )
        .await
        .unwrap();
    }
    let rs = db
        .query(
            Statement::new("SELECT v FROM pairs WHERE k = :k AND (v = :v OR k = :k)")
                .bind_named("k", "twice")
                .bind_named("v", 0),
        )
        .await
        .unwrap();
    assert_eq!(rs.scalar::<i64>().unwrap(), 42);
}

pub async fn missing_arguments_are_errors<H: Harness>(h: &H) {
    let db = pairs(h).await;
    let err = db
        .execute(Statement::with_args(
            "INSERT INTO pairs (k, v) VALUES (?, ?)",
            ["only-one"],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("?2"), "{err}");
    let err = db
        .execute(Statement::new("INSERT INTO pairs (k, v) VALUES (:k, :v)").bind_named("k", "x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(":v"), "{err}");
    // Nothing was written: a missing argument is never a silent NULL.
    assert_eq!(
        db.query("SELECT k FROM pairs".into())
            .await
            .unwrap()
            .rows
            .len(),
        0
    );
}

pub async fn surplus_arguments_are_errors<H: Harness>(h: &H) {
    let db = pairs(h).await;
    let err = db
        .execute(Statement::with_args(
            "INSERT INTO pairs (k, v) VALUES (?, ?)",
            [Value::from("a"), 1.into(), 2.into()],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let err = db
        .execute(
            Statement::new("INSERT INTO pairs (k, v) VALUES (:k, 1)")
                .bind_named("k", "a")
                .bind_named("typo", 2),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("typo"), "{err}");
}

pub async fn placeholders_in_literals_are_text<H: Harness>(h: &H) {
    let db = pairs(h).await;
    db.execute(Statement::with_args(
        "INSERT INTO pairs (k, v) VALUES ('what? :no @no $no', ?)",
        [5],
    ))
    .await
    .unwrap();
    assert_eq!(value_of(&*db, "what? :no @no $no").await, Some(5));
}
