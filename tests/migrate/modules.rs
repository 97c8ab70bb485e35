//! Modules: discovered under modules/*/database/, initialized in dependency order once each,
//! then their migrations run like any other.

use std::path::Path;

use crate::per_backend;
use crate::support::{Backend, Db, describe};

fn module(
    root: &Path,
    name: &str,
    deps: &[&str],
    schema: &str,
    init: Option<&str>,
    migrations: &[(&str, &str)],
) {
    let db_dir = root.join("modules").join(name).join("database");
    std::fs::create_dir_all(db_dir.join("migrations")).unwrap();
    std::fs::write(db_dir.join("schema.sql"), schema).unwrap();
    if let Some(init) = init {
        std::fs::write(db_dir.join("init.sql"), init).unwrap();
    }
    for (file, text) in migrations {
        std::fs::write(db_dir.join("migrations").join(file), text).unwrap();
    }
    let deps: String = deps.iter().map(|d| format!("  - {d}\n")).collect();
    std::fs::write(
        root.join("modules").join(name).join("module.yaml"),
        format!("name: {name}\nversion: 1.0.0\ndependencies:\n{deps}"),
    )
    .unwrap();
}

async fn modules_in_order(backend: Backend) {
    let db = Db::new(backend).await;
    let root = db.dir.path();
    // billing references users, which references orgs: created in any other order, the
    // foreign keys would fail on PostgreSQL and MySQL.
    module(
        root,
        "billing",
        &["users"],
        "CREATE TABLE billing_invoices (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, \
         FOREIGN KEY (user_id) REFERENCES users_accounts (id));",
        None,
        &[(
            "001_add_total.sql",
            "ALTER TABLE billing_invoices ADD COLUMN total INTEGER;",
        )],
    );
    module(
        root,
        "users",
        &["orgs"],
        "CREATE TABLE users_accounts (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, \
         FOREIGN KEY (org_id) REFERENCES orgs_list (id));",
        None,
        &[],
    );
    module(
        root,
        "orgs",
        &[],
        "CREATE TABLE orgs_list (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);",
        Some("INSERT INTO orgs_list (id, name) VALUES (1, 'default');"),
        &[(
            "001_add_plan.sql",
            "ALTER TABLE orgs_list ADD COLUMN plan VARCHAR(20);",
        )],
    );
    std::fs::remove_dir(db.migrations_dir()).unwrap();

    let report = db.run_json(&["migrate", "up"]);
    assert_eq!(
        report["modules_initialized"],
        serde_json::json!(["orgs", "users", "billing"]),
        "{report}"
    );
    let steps: Vec<String> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}/{}", s["module"].as_str().unwrap(), s["version"]))
        .collect();
    assert_eq!(
        steps,
        ["orgs/1", "billing/1"],
        "module migrations in dependency order"
    );
    assert!(
        db.adapter
            .table("billing_invoices")
            .await
            .unwrap()
            .column("total")
            .is_some()
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _schema_versions").await, 3);

    // Never initialized twice: init.sql's row is not inserted again.
    let again = db.run_json(&["migrate", "up"]);
    assert_eq!(
        again["modules_initialized"],
        serde_json::json!([]),
        "{again}"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM orgs_list").await, 1);

    let status = db.run_json(&["migrate", "status"]);
    let modules = status["modules"].as_array().unwrap();
    assert!(modules.iter().all(|m| m["initialized"] == true), "{status}");
}
per_backend!(modules_initialize_in_dependency_order, modules_in_order);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_cycle_is_a_clear_error() {
    let db = Db::new(Backend::Sqlite).await;
    let root = db.dir.path();
    module(
        root,
        "a",
        &["b"],
        "CREATE TABLE a_t (id INTEGER);",
        None,
        &[],
    );
    module(
        root,
        "b",
        &["a"],
        "CREATE TABLE b_t (id INTEGER);",
        None,
        &[],
    );
    let out = db.run(&["migrate", "up"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cycle: a -> b -> a"), "{}", describe(&out));
    assert!(!db.has_table("a_t").await, "nothing ran");
}

/// Seed 001's own schema (`INTEGER PRIMARY KEY AUTOINCREMENT`, SQLite's) beside the variants
/// PostgreSQL and MySQL need: each backend runs its own files, schema, init and migrations;
/// without a variant, the error says to add one.
async fn dialect_files(backend: Backend) {
    let db = Db::new(backend).await;
    let root = db.dir.path();
    module(
        root,
        "notes",
        &[],
        "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);",
        Some("INSERT INTO notes (body) VALUES ('generic init');"),
        &[
            ("001_tag.sql", "ALTER TABLE notes ADD COLUMN tag TEXT;"),
            (
                "002_mark.sql",
                "INSERT INTO notes (body) VALUES ('generic 002');",
            ),
        ],
    );
    let dir = root.join("modules/notes/database");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "schema.postgres.sql",
        "CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL);",
    );
    write(
        "schema.mysql.sql",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTO_INCREMENT, body TEXT NOT NULL);",
    );
    write(
        "init.postgres.sql",
        "INSERT INTO notes (body) VALUES ('postgres init');",
    );
    write(
        "migrations/002_mark.mysql.sql",
        "INSERT INTO notes (body) VALUES ('mysql 002');",
    );

    // First without PostgreSQL's schema variant: the error points at the way out.
    if backend == Backend::Postgres {
        std::fs::rename(dir.join("schema.postgres.sql"), root.join("aside.sql")).unwrap();
        let out = db.run(&["migrate", "up"]);
        assert!(!out.status.success(), "{}", describe(&out));
        let text = describe(&out);
        assert!(text.contains("add schema.postgres.sql"), "{text}");
        std::fs::rename(root.join("aside.sql"), dir.join("schema.postgres.sql")).unwrap();
    }
    let out = db.run(&["migrate", "up"]);
    assert!(out.status.success(), "{}", describe(&out));
    let rows = db
        .adapter
        .query("SELECT body FROM notes ORDER BY id".into())
        .await
        .unwrap();
    let bodies: Vec<String> = rows.rows.iter().map(|r| r.get(0).unwrap()).collect();
    let expected = match backend {
        Backend::Sqlite => ["generic init", "generic 002"],
        Backend::Postgres => ["postgres init", "generic 002"],
        Backend::Mysql => ["generic init", "mysql 002"],
    };
    assert_eq!(bodies, expected);
    let status = db.run_json(&["migrate", "status"]);
    let states: Vec<&str> = status["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "applied"], "{status}");
}
per_backend!(each_backend_runs_its_own_module_files, dialect_files);
