//! Out-of-order protection, dry runs, Rust migrations with nested transactions, and embedded
//! migrations.

use dbx_core::Value;
use dbx_migrate::{
    BoxFuture, DownTarget, ErrorKind, Migration, MigrationContext, Migrations, Migrator, Options,
};

use crate::per_backend;
use crate::support::{Backend, Db, describe};

async fn out_of_order(backend: Backend) {
    let db = Db::new(backend).await;
    db.write("1_a.up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);");
    db.write("3_c.up.sql", "CREATE TABLE c (id INTEGER PRIMARY KEY);");
    db.migrator().up(None).await.unwrap();
    // A branch merged later brings version 2.
    db.write("2_b.up.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);");
    let err = db.migrator().up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfOrder);
    assert!(
        err.to_string().contains("2_b") && err.to_string().contains("3_c"),
        "{err}"
    );
    assert!(err.to_string().contains("--allow-out-of-order"), "{err}");
    assert!(!db.has_table("b").await);

    let out = db.run(&["migrate", "up", "--allow-out-of-order", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(db.has_table("b").await);
}
per_backend!(out_of_order_is_refused_unless_allowed, out_of_order);

async fn dry_run(backend: Backend) {
    let db = Db::new(backend).await;
    db.write("1_a.up.sql", "CREATE TABLE dry_a (id INTEGER PRIMARY KEY);");
    db.write(
        "2_data.up.sql",
        "INSERT INTO dry_a (id) VALUES (1);\nINSERT INTO dry_a (id) VALUES (1);",
    );
    let out = db.run(&["migrate", "up", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CREATE TABLE dry_a"),
        "the statements are printed: {text}"
    );
    // Where the dry run executes, it finds the duplicate key of step 2 and exits with 1.
    assert_eq!(
        out.status.success(),
        backend == Backend::Mysql,
        "{}",
        describe(&out)
    );
    let out = db.run(&["migrate", "up", "--dry-run", "--json"]);
    let dry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = dry["steps"].as_array().unwrap();
    if backend == Backend::Mysql {
        // MySQL cannot roll back CREATE TABLE: it says so rather than pretending.
        assert_eq!(steps[0]["executed"], false, "{dry}");
        assert!(
            steps[0]["not_executed_because"]
                .as_str()
                .unwrap()
                .contains("MySQL commits"),
            "{dry}"
        );
        assert_eq!(steps[1]["executed"], false, "{dry}");
    } else {
        // Executed for real, so the duplicate key in step 2 is found, then all rolled back.
        assert_eq!(steps[0]["executed"], true, "{dry}");
        assert!(steps[0]["error"].is_null(), "{dry}");
        assert!(
            steps[1]["error"].as_str().is_some(),
            "the duplicate insert fails: {dry}"
        );
    }
    assert!(!db.has_table("dry_a").await, "a dry run changes nothing");
    assert_eq!(db.migrator().status().await.unwrap().entries.len(), 2);
    if db.has_table("_dbx_migrations").await {
        assert_eq!(db.ledger_rows().await, 0);
    }
}
per_backend!(dry_run_executes_and_rolls_back_where_possible, dry_run);

fn rust_up<'a>(ctx: &'a mut MigrationContext<'_>) -> BoxFuture<'a, dbx_core::Result<()>> {
    Box::pin(async move {
        ctx.execute(
            "CREATE TABLE ledger_entries (id INTEGER PRIMARY KEY, note VARCHAR(50))",
            vec![],
        )
        .await?;
        ctx.execute(
            "INSERT INTO ledger_entries (id, note) VALUES (?, ?)",
            vec![Value::from(1), Value::from("outer")],
        )
        .await?;
        // A nested transaction that fails is undone on its own (a savepoint).
        let nested: dbx_core::Result<()> = ctx
            .transaction(|inner| {
                Box::pin(async move {
                    inner
                        .execute(
                            "INSERT INTO ledger_entries (id, note) VALUES (2, 'inner')",
                            vec![],
                        )
                        .await?;
                    inner
                        .execute(
                            "INSERT INTO ledger_entries (id, note) VALUES (1, 'dup')",
                            vec![],
                        )
                        .await?;
                    Ok(())
                })
            })
            .await;
        assert!(nested.is_err());
        // One that succeeds is kept.
        ctx.transaction(|inner| {
            Box::pin(async move {
                inner
                    .execute(
                        "INSERT INTO ledger_entries (id, note) VALUES (3, 'kept')",
                        vec![],
                    )
                    .await?;
                Ok(())
            })
        })
        .await?;
        let rows = ctx
            .query("SELECT COUNT(*) FROM ledger_entries", vec![])
            .await?;
        assert_eq!(rows.scalar::<i64>()?, 2);
        Ok(())
    })
}

fn rust_down<'a>(ctx: &'a mut MigrationContext<'_>) -> BoxFuture<'a, dbx_core::Result<()>> {
    Box::pin(async move {
        ctx.execute("DROP TABLE ledger_entries", vec![]).await?;
        Ok(())
    })
}

async fn rust_migrations(backend: Backend) {
    let db = Db::new(backend).await;
    let set = Migrations::new(vec![Migration::rust(
        20_260_101_000_000,
        "ledger entries",
        rust_up,
        Some(rust_down),
    )])
    .unwrap();
    let migrator = Migrator::new(db.adapter.clone(), set);
    let report = migrator.up(None).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    let notes = db
        .adapter
        .query("SELECT note FROM ledger_entries ORDER BY id".into())
        .await
        .unwrap();
    let notes: Vec<String> = notes.rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(notes, ["outer", "kept"]);
    migrator.down(DownTarget::All).await.unwrap();
    assert!(!db.has_table("ledger_entries").await);
}
per_backend!(rust_migrations_with_savepoints, rust_migrations);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_migrations_run_from_the_binary() {
    let db = Db::new(Backend::Sqlite).await;
    let set =
        dbx_migrate::embed_migrations!("$CARGO_MANIFEST_DIR/migrate/fixtures/embedded").unwrap();
    assert_eq!(set.len(), 1);
    let migrator = Migrator::new(db.adapter.clone(), set).with_options(Options::default());
    migrator.up(None).await.unwrap();
    assert!(db.has_table("embedded_notes").await);
    migrator.down(DownTarget::All).await.unwrap();
    assert!(!db.has_table("embedded_notes").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_creates_a_pair_and_bad_input_is_explained() {
    let db = Db::new(Backend::Sqlite).await;
    let created = db.run_json(&["migrate", "new", "add users"]);
    let up = created["up"].as_str().unwrap();
    assert!(up.ends_with("_add_users.up.sql"), "{created}");
    assert!(db.dir.path().join(up).exists());

    db.write("create_things.sql", "SELECT 1");
    let out = db.run(&["migrate", "up"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("create_things.sql") && stderr.contains("<version>_<name>"),
        "{stderr}"
    );

    let out = db.run(&["migrate", "up", "--source", "nowhere"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nowhere"),
        "{}",
        describe(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_migrations_run_over_hrana_with_the_lease_lock() {
    use dbx_libsql::{LibsqlAdapter, LibsqlConfig};
    use std::sync::Arc;
    let server = dbx_tests::hrana_server::HranaServer::sqlite().await;
    let adapter: Arc<dyn dbx_core::Adapter> = Arc::new(
        LibsqlAdapter::connect(LibsqlConfig::new(&server.url))
            .await
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_a.up.sql"),
        "CREATE TABLE a (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    std::fs::write(dir.path().join("1_a.down.sql"), "DROP TABLE a;").unwrap();
    std::fs::write(dir.path().join("2_b.up.sql"), "CREATE TABLE b (id INTEGER PRIMARY KEY);\nINSERT INTO b (id) VALUES (1);\nINSERT INTO b (id) VALUES (1);").unwrap();
    let migrator = Migrator::new(adapter.clone(), Migrations::from_dir(dir.path()).unwrap());
    let err = migrator.up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Database, "{err}");
    let tables: Vec<String> = adapter
        .tables()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(
        tables.contains(&"a".to_owned()) && !tables.contains(&"b".to_owned()),
        "{tables:?}"
    );
    let lease = adapter
        .query("SELECT COUNT(*) FROM _dbx_migrations_lock".into())
        .await
        .unwrap();
    assert_eq!(
        lease.scalar::<i64>().unwrap(),
        0,
        "the lease is released after a failure"
    );
    std::fs::write(
        dir.path().join("2_b.up.sql"),
        "CREATE TABLE b (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    let migrator = Migrator::new(adapter.clone(), Migrations::from_dir(dir.path()).unwrap());
    assert_eq!(migrator.up(None).await.unwrap().steps.len(), 1);
    assert_eq!(
        migrator
            .status()
            .await
            .unwrap()
            .count(dbx_migrate::State::Applied),
        2
    );
}
