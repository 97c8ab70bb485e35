//! `down` and `reset` bring the schema back to where it was: compared by introspection.

use dbx_migrate::{DownTarget, ErrorKind};

use crate::per_backend;
use crate::support::{Backend, Db};

fn write_three(db: &Db) {
    db.write(
        "1_authors.up.sql",
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
         CREATE UNIQUE INDEX authors_name ON authors (name);",
    );
    db.write("1_authors.down.sql", "DROP TABLE authors;");
    db.write(
        "2_books.up.sql",
        "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id), title VARCHAR(200));\n\
         CREATE INDEX books_author ON books (author_id);",
    );
    db.write("2_books.down.sql", "DROP TABLE books;");
    db.write(
        "3_book_year.up.sql",
        "ALTER TABLE books ADD COLUMN published INTEGER;",
    );
    db.write(
        "3_book_year.down.sql",
        "ALTER TABLE books DROP COLUMN published;",
    );
}

async fn down_and_reset(backend: Backend) {
    let db = Db::new(backend).await;
    let at_start = db.schema().await;
    write_three(&db);
    let migrator = db.migrator();
    migrator.up(Some(2)).await.unwrap();
    let after_two = db.schema().await;
    migrator.up(None).await.unwrap();
    let after_three = db.schema().await;
    assert_ne!(after_two, after_three);
    assert!(
        after_three
            .iter()
            .any(|t| t.name == "books" && t.column("published").is_some())
    );

    let report = migrator.down(DownTarget::Steps(1)).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(
        db.schema().await,
        after_two,
        "down 1 returns to the schema after migration 2"
    );

    migrator.up(None).await.unwrap();
    assert_eq!(
        db.schema().await,
        after_three,
        "and up again returns to the full schema"
    );

    // Reset rebuilds from the files: every migration reverted, then every one applied, so
    // rows written since are gone and the schema is the full one.
    db.adapter
        .execute("INSERT INTO authors (id, name) VALUES (1, 'gone after reset')".into())
        .await
        .unwrap();
    let out = db.run_json(&["migrate", "reset"]);
    let directions: Vec<&str> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["direction"].as_str().unwrap())
        .collect();
    assert_eq!(
        directions,
        ["down", "down", "down", "up", "up", "up"],
        "{out}"
    );
    assert_eq!(
        db.schema().await,
        after_three,
        "reset ends at the full schema"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM authors").await, 0);
    assert_eq!(db.ledger_rows().await, 3);

    // Only reverting is `down --to 0`.
    let out = db.run_json(&["migrate", "down", "--to", "0"]);
    assert_eq!(out["steps"].as_array().unwrap().len(), 3, "{out}");
    assert_eq!(
        db.schema().await,
        at_start,
        "down --to 0 returns to the starting schema"
    );
    assert_eq!(db.ledger_rows().await, 0);

    let out = db.run_json(&["migrate", "up"]);
    assert_eq!(out["steps"].as_array().unwrap().len(), 3);
    let out = db.run_json(&["migrate", "down", "--to", "1"]);
    assert_eq!(out["steps"].as_array().unwrap().len(), 2, "{out}");
    let redo = db.run_json(&["migrate", "redo"]);
    let directions: Vec<&str> = redo["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, ["down", "up"], "{redo}");
    assert_eq!(db.schema().await.len(), 1, "only authors is left");
}
per_backend!(down_and_reset_restore_the_schema, down_and_reset);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_without_down_cannot_be_reverted_and_nothing_is_touched() {
    let db = Db::new(Backend::Sqlite).await;
    db.write("1_a.up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);");
    db.write("1_a.down.sql", "DROP TABLE a;");
    // A plain `.sql` file is an up migration; its down file would be `2_b.down.sql`.
    db.write("2_b.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);");
    db.migrator().up(None).await.unwrap();
    let err = db.migrator().reset().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let text = err.to_string();
    assert!(text.contains("2_b has no down migration"), "{err}");
    assert!(text.contains("migrations/2_b.down.sql or revert"), "{err}");
    assert!(
        db.has_table("a").await && db.has_table("b").await,
        "nothing was reverted"
    );
    assert_eq!(db.ledger_rows().await, 2);
}
