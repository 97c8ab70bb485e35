//! Every tenant at once: 200 SQLite tenants with --jobs 4, one failing while the rest finish,
//! and a rerun after the fix that touches only that one.

use dbx_core::tenancy::TenantId;

use crate::support::{Backend, Db, describe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sqlite_tenants_with_one_failure_and_resume() {
    let db = Db::new(Backend::Sqlite).await;
    db.write(
        "1_items.up.sql",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);",
    );
    db.write("1_items.down.sql", "DROP TABLE items;");
    db.write(
        "2_tags.up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
    );
    let ids: Vec<TenantId> = (0..200)
        .map(|i| TenantId::new(format!("t{i:03}")).unwrap())
        .collect();
    for id in &ids {
        db.service.create_tenant(id, None).await.unwrap();
    }
    // Tenant t057 already has a `tags` table, so migration 2 fails there.
    let broken = db.service.tenant(&ids[57], None).await.unwrap();
    broken
        .execute("CREATE TABLE tags (legacy TEXT)".into())
        .await
        .unwrap();

    let out = db.run(&["migrate", "up", "--all-tenants", "--jobs", "4", "--json"]);
    assert!(
        !out.status.success(),
        "a failed tenant makes the run fail:\n{}",
        describe(&out)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &result["summary"];
    assert_eq!(summary["migrated"], 199, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    let failed: Vec<&serde_json::Value> = result["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "failed")
        .collect();
    assert_eq!(failed[0]["tenant"], "t057");
    assert!(
        failed[0]["error"].as_str().unwrap().contains("2_tags"),
        "{}",
        failed[0]
    );

    // Each finished tenant has both migrations; the broken one kept migration 1 only.
    for i in [0, 56, 58, 199] {
        let t = db.service.tenant(&ids[i], None).await.unwrap();
        let n = t
            .query("SELECT COUNT(*) FROM _dbx_migrations".into())
            .await
            .unwrap();
        assert_eq!(n.scalar::<i64>().unwrap(), 2, "tenant {i}");
    }
    let n = broken
        .query("SELECT COUNT(*) FROM _dbx_migrations".into())
        .await
        .unwrap();
    assert_eq!(n.scalar::<i64>().unwrap(), 1);

    // Fix the tenant and run again: only it is migrated.
    broken.execute("DROP TABLE tags".into()).await.unwrap();
    let rerun = db.run_json(&["migrate", "up", "--all-tenants", "--jobs", "4"]);
    assert_eq!(rerun["summary"]["migrated"], 1, "{}", rerun["summary"]);
    assert_eq!(rerun["summary"]["up_to_date"], 199, "{}", rerun["summary"]);
    let migrated: Vec<&serde_json::Value> = rerun["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "migrated")
        .collect();
    assert_eq!(migrated[0]["tenant"], "t057");
    assert_eq!(migrated[0]["applied"], 1);

    // The human table names every tenant.
    let out = db.run(&["migrate", "status", "--all-tenants"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.starts_with('t')).count(),
        200,
        "a row per tenant:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_stops_starting_tenants() {
    let db = Db::new(Backend::Postgres).await;
    db.write(
        "1_items.up.sql",
        "CREATE TABLE items (id INTEGER PRIMARY KEY);",
    );
    let ids: Vec<TenantId> = (0..6)
        .map(|i| TenantId::new(format!("ff{i}")).unwrap())
        .collect();
    for id in &ids {
        db.service.create_tenant(id, None).await.unwrap();
    }
    let first = db.service.tenant(&ids[0], None).await.unwrap();
    first
        .execute("CREATE TABLE items (legacy TEXT)".into())
        .await
        .unwrap();
    let out = db.run(&[
        "migrate",
        "up",
        "--all-tenants",
        "--jobs",
        "1",
        "--fail-fast",
        "--json",
    ]);
    assert!(!out.status.success());
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["summary"]["failed"], 1, "{result}");
    assert_eq!(result["summary"]["skipped"], 5, "{result}");

    let out = db.run(&["migrate", "up", "--all-tenants", "--jobs", "3", "--json"]);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result["summary"]["migrated"], 5,
        "schema tenants on PostgreSQL too: {result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenant_is_migrated_alone() {
    let db = Db::new(Backend::Sqlite).await;
    db.write(
        "1_items.up.sql",
        "CREATE TABLE items (id INTEGER PRIMARY KEY);",
    );
    // The tenant does not exist yet: the default configuration creates it on first access.
    let report = db.run_json(&["migrate", "up", "--tenant", "acme"]);
    assert_eq!(report["steps"].as_array().unwrap().len(), 1, "{report}");
    let acme = db
        .service
        .tenant(&TenantId::new("acme").unwrap(), None)
        .await
        .unwrap();
    assert!(
        acme.tables()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "items")
    );
    assert!(
        !db.has_table("items").await,
        "the root database is untouched"
    );

    let out = db.run(&["migrate", "up", "--tenant", "Bad.Name"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--tenant") && stderr.contains("Bad.Name"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_options_the_embedded_sqlite_in_dbx_data_is_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/1_notes.up.sql"),
        "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dbx-under-test"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .args(["migrate", "up"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1_notes"));
    let file = dir.path().join("dbx-data/dbx.db");
    let db = dbx_sqlite::SqliteAdapter::open(dbx_sqlite::SqliteOptions::new(&file))
        .await
        .unwrap();
    let tables = dbx_core::Adapter::tables(&db).await.unwrap();
    assert!(tables.iter().any(|t| t.name == "notes"), "{tables:?}");
}
