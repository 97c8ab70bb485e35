//! `dbx migrate up --all-tenants` aborted (as `kill -9` would) in the middle of 200 tenants
//! with four in flight, and at every named fault point of a migration on a few tenants.
//! After a rerun, every tenant is at the latest version with its data applied exactly once;
//! on MySQL, where DDL cannot roll back, the tenants caught inside a DDL migration are
//! reported dirty with the way out, and after `resolve` a rerun finishes them.

use dbx_core::Statement;
use dbx_core::tenancy::TenantId;

use dbx_migrate::{FAULT_POINTS, FAULT_VARIABLE};

use crate::per_backend;
use crate::support::{Backend, Db, describe};

const TENANTS: usize = 200;
/// Abort when this many migration steps have committed.
const KILL_AT: usize = 150;

/// About `millis` of work that changes nothing.
fn pause(backend: Backend, millis: u32) -> String {
    match backend {
        Backend::Postgres => format!("SELECT pg_sleep({})", f64::from(millis) / 1000.0),
        Backend::Mysql => format!("SELECT SLEEP({})", f64::from(millis) / 1000.0),
        Backend::Sqlite => format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) \
             SELECT max(x) FROM c",
            millis * 3_000
        ),
    }
}

/// Each tenant's state: migrations recorded, dirty ones, rows of migration 2, whether
/// migration 3's table exists.
async fn state(db: &Db, id: &TenantId) -> (i64, i64, i64, bool) {
    let tenant = db.service.tenant(id, None).await.unwrap();
    let scalar = |sql: &'static str| {
        let tenant = tenant.clone();
        async move {
            match tenant.query(Statement::new(sql)).await {
                Ok(rows) => rows.scalar::<Option<i64>>().unwrap().unwrap_or(0),
                Err(_) => -1,
            }
        }
    };
    let ledger = scalar("SELECT COUNT(*) FROM _dbx_migrations").await;
    let dirty = scalar("SELECT COUNT(*) FROM _dbx_migrations WHERE dirty = TRUE").await;
    let items = scalar("SELECT COUNT(*) FROM items").await;
    let extra = tenant.table("extra").await.is_ok();
    (ledger, dirty, items, extra)
}

async fn killed_mid_fan_out(backend: Backend) {
    let db = Db::new(backend).await;
    db.write(
        "1_items.up.sql",
        "CREATE TABLE items (id INT PRIMARY KEY, n INT NOT NULL);",
    );
    let values: Vec<String> = (1..=100).map(|i| format!("({i}, {i})")).collect();
    db.write(
        "2_fill.up.sql",
        &format!(
            "INSERT INTO items (id, n) VALUES {};\n{};",
            values.join(", "),
            pause(backend, 20)
        ),
    );
    // DDL after a pause: on MySQL it runs outside a transaction, with a dirty ledger row.
    db.write(
        "3_extra.up.sql",
        &format!("{};\nCREATE TABLE extra (x INT);", pause(backend, 60)),
    );
    let ids: Vec<TenantId> = (0..TENANTS)
        .map(|i| TenantId::new(format!("c{i:03}")).unwrap())
        .collect();
    for id in &ids {
        db.service.create_tenant(id, None).await.unwrap();
    }

    // Aborted when the KILL_AT-th migration step commits, with three more tenants mid-step.
    let out = db
        .cli(&["migrate", "up", "--all-tenants", "--jobs", "4"])
        .env(FAULT_VARIABLE, format!("migrate.after-commit@{KILL_AT}"))
        .output()
        .unwrap();
    assert_aborted(&out, "migrate.after-commit");

    let mut complete = 0;
    for id in &ids {
        let (ledger, dirty, items, _) = state(&db, id).await;
        assert!(
            items == 100 || items <= 0,
            "{id}: migration 2 half applied ({items} rows)"
        );
        if ledger == 3 && dirty == 0 {
            complete += 1;
        }
    }
    assert!(
        (1..TENANTS).contains(&complete),
        "the kill should land mid-run: {complete} of {TENANTS} tenants complete"
    );

    settle(&db, &ids).await;
}

/// The process ended by the fault point's abort, which said where.
fn assert_aborted(out: &std::process::Output, point: &str) {
    use std::os::unix::process::ExitStatusExt as _;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(6), "{}", describe(out));
    assert!(
        stderr.contains(&format!("aborting at fault point {point}")),
        "{stderr}"
    );
}

/// Reruns the migrations over every tenant, resolving on MySQL the tenants left dirty inside
/// a DDL migration as an operator would, and checks that each is complete, its data applied
/// exactly once.
async fn settle(db: &Db, ids: &[TenantId]) {
    let rerun = db.run(&["migrate", "up", "--all-tenants", "--jobs", "4", "--json"]);
    if !rerun.status.success() {
        // Only MySQL may leave dirty tenants: its DDL runs outside a transaction.
        assert_eq!(db.backend, Backend::Mysql, "{}", describe(&rerun));
        resolve_dirty(db, &rerun).await;
        let again = db.run(&["migrate", "up", "--all-tenants", "--jobs", "4"]);
        assert!(again.status.success(), "{}", describe(&again));
    }
    for id in ids {
        assert_eq!(
            state(db, id).await,
            (3, 0, 100, true),
            "{id} after the rerun"
        );
    }
}

/// Each tenant the rerun reports dirty: the error names the migration and `resolve`; the
/// tenant is resolved by what its DDL left.
async fn resolve_dirty(db: &Db, rerun: &std::process::Output) {
    let report: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
    let failed: Vec<&serde_json::Value> = report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{report}");
    for tenant in &failed {
        let error = tenant["error"].as_str().unwrap();
        // "migration 3_extra is dirty: ... `dbx migrate resolve 3` ... --not-applied ..."
        let label = error
            .strip_prefix("migration ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{error}"));
        let (version, _) = label.split_once('_').unwrap();
        assert!(
            error.contains("is dirty") && error.contains(&format!("resolve {version}")),
            "{error}"
        );
        // As an operator would: look at what the migration's DDL left, then say so.
        let id = tenant["tenant"].as_str().unwrap();
        let made = match version {
            "1" => "items",
            "3" => "extra",
            other => panic!("migration {other} runs in a transaction and cannot be dirty"),
        };
        let adapter = db
            .service
            .tenant(&TenantId::new(id).unwrap(), None)
            .await
            .unwrap();
        let mut resolve = vec!["migrate", "resolve", version, "--tenant", id];
        if adapter.table(made).await.is_err() {
            resolve.push("--not-applied");
        }
        let out = db.run(&resolve);
        assert!(out.status.success(), "{}", describe(&out));
    }
}
per_backend!(
    a_killed_fan_out_resumes_with_nothing_half_applied,
    killed_mid_fan_out
);

/// Each named fault point, in turn, aborts a run over a few tenants one at a time; the next
/// run finishes every tenant. A point the backend never reaches (the dirty marks of steps
/// outside a transaction, which only MySQL's DDL takes) lets the run finish.
async fn aborted_at_every_point(backend: Backend) {
    const FEW: usize = 4;
    for point in FAULT_POINTS {
        let db = Db::new(backend).await;
        db.write(
            "1_items.up.sql",
            "CREATE TABLE items (id INT PRIMARY KEY, n INT NOT NULL);",
        );
        let values: Vec<String> = (1..=100).map(|i| format!("({i}, {i})")).collect();
        db.write(
            "2_fill.up.sql",
            &format!("INSERT INTO items (id, n) VALUES {};", values.join(", ")),
        );
        db.write("3_extra.up.sql", "CREATE TABLE extra (x INT);");
        let ids: Vec<TenantId> = (0..FEW)
            .map(|i| TenantId::new(format!("f{i}")).unwrap())
            .collect();
        for id in &ids {
            db.service.create_tenant(id, None).await.unwrap();
        }
        // The second time the point is reached: past the first tenant's first step.
        let out = db
            .cli(&["migrate", "up", "--all-tenants", "--jobs", "1"])
            .env(FAULT_VARIABLE, format!("{point}@2"))
            .output()
            .unwrap();
        let reached = match *point {
            "migrate.after-dirty-mark" | "migrate.before-clean-mark" => backend == Backend::Mysql,
            _ => true,
        };
        if reached {
            assert_aborted(&out, point);
            // Status reads every tenant whatever the abort left.
            let status = db.run(&["migrate", "status", "--all-tenants"]);
            assert!(
                !String::from_utf8_lossy(&status.stderr).contains("no such table"),
                "{point}: {}",
                describe(&status)
            );
        } else {
            assert!(out.status.success(), "{point}: {}", describe(&out));
        }
        settle(&db, &ids).await;
    }
}
per_backend!(
    an_abort_at_every_fault_point_is_recovered,
    aborted_at_every_point
);
