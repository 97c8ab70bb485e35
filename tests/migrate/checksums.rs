//! Editing an applied migration is caught by name; line endings are not an edit; `repair`
//! re-records deliberately.

use dbx_migrate::{ErrorKind, State};

use crate::per_backend;
use crate::support::{Backend, Db, describe};

async fn tamper_then_repair(backend: Backend) {
    let db = Db::new(backend).await;
    db.write(
        "1_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    db.write(
        "2_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
    );
    db.run_json(&["migrate", "up"]);

    // Windows line endings and trailing spaces are not a change.
    db.write(
        "1_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);   \r\n\r\n",
    );
    let status = db.migrator().status().await.unwrap();
    assert_eq!(status.count(State::Applied), 2, "{status:?}");

    // A real edit is.
    db.write(
        "1_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    );
    db.write(
        "3_tags.up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
    );
    let err = db.migrator().up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Modified, "{err}");
    let out = db.run(&["migrate", "up"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1_users") && stderr.contains("dbx migrate repair"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("2_posts"),
        "only the edited migration is named: {stderr}"
    );
    assert!(
        !db.has_table("tags").await,
        "nothing runs while a migration is modified"
    );

    let status = db.run_json(&["migrate", "status"]);
    assert_eq!(status["entries"][0]["state"], "modified", "{status}");
    assert_eq!(status["entries"][1]["state"], "applied", "{status}");
    assert_eq!(status["entries"][2]["state"], "pending", "{status}");

    let repaired = db.run_json(&["migrate", "repair"]);
    assert_eq!(
        repaired["repaired"],
        serde_json::json!(["1_users"]),
        "{repaired}"
    );
    let out = db.run(&["migrate", "up"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(db.has_table("tags").await);
    let err_free = db.migrator().up(None).await.unwrap();
    assert!(err_free.steps.is_empty());

    // A deleted file shows as missing and does not block.
    std::fs::remove_file(db.migrations_dir().join("2_posts.up.sql")).unwrap();
    let status = db.migrator().status().await.unwrap();
    assert_eq!(status.count(State::Missing), 1, "{status:?}");
    db.migrator().up(None).await.unwrap();
}
per_backend!(tampering_is_refused_then_repaired, tamper_then_repair);
