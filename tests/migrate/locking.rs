//! Two runners at once, as two processes: one applies, the other waits and finds nothing to
//! do. A holder killed with SIGKILL does not keep the lock.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::per_backend;
use crate::support::{Backend, Db, describe, slow_sql};

fn write_slow_pair(db: &Db) {
    db.write(
        "1_slow.up.sql",
        &format!(
            "CREATE TABLE race_a (id INTEGER PRIMARY KEY);\n{};",
            slow_sql(db.backend, 5)
        ),
    );
    db.write(
        "2_second.up.sql",
        "CREATE TABLE race_b (id INTEGER PRIMARY KEY);",
    );
}

async fn two_processes_race(backend: Backend) {
    let db = Db::new(backend).await;
    write_slow_pair(&db);
    let spawn = || {
        db.cli(&["migrate", "up", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let mut runs = Vec::new();
    for out in &outputs {
        assert!(out.status.success(), "a runner failed:\n{}", describe(out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let applied = report["steps"].as_array().unwrap().len();
        runs.push((applied, report["waited_for_lock"].as_bool().unwrap()));
    }
    runs.sort_unstable();
    assert_eq!(
        runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        [0, 2],
        "exactly one runner applies both migrations"
    );
    assert!(
        runs[0].1,
        "the runner that applied nothing waited for the lock: {runs:?}"
    );
    assert_eq!(db.ledger_rows().await, 2, "each migration recorded once");
    assert!(db.has_table("race_a").await && db.has_table("race_b").await);
}
per_backend!(two_processes_race_one_applies, two_processes_race);

async fn killed_holder(backend: Backend) {
    let db = Db::new(backend).await;
    db.write(
        "1_table.up.sql",
        "CREATE TABLE stuck (id INTEGER PRIMARY KEY);",
    );
    // Data only, so that MySQL too runs it in a transaction, which dies with the process.
    db.write(
        "2_stuck.up.sql",
        &format!(
            "INSERT INTO stuck (id) VALUES (1);\n{};",
            slow_sql(db.backend, 30)
        ),
    );
    let mut holder = db
        .cli(&["migrate", "up"])
        .env("RUST_LOG", "dbx_migrate=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The migrator logs "running" for a migration only while it holds the lock.
    let stderr = holder.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("the holder exited before it reached migration 2")
            .unwrap();
        if line.contains("2_stuck") && line.contains("running") {
            break;
        }
    }
    holder.kill().unwrap();
    holder.wait().unwrap();

    // A faster version of the same migration: the next runner must get the lock and apply it.
    db.write("2_stuck.up.sql", "INSERT INTO stuck (id) VALUES (2);");
    let out = db.run(&["migrate", "up", "--json", "--lock-timeout", "60"]);
    assert!(out.status.success(), "{}", describe(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM stuck").await,
        1,
        "the killed run's insert was rolled back"
    );
    assert_eq!(db.scalar("SELECT MAX(id) FROM stuck").await, 2);
    assert_eq!(db.ledger_rows().await, 2);
}
per_backend!(a_killed_holder_does_not_keep_the_lock, killed_holder);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_gives_up_after_the_lock_timeout_and_names_the_holder() {
    let db = Db::new(Backend::Postgres).await;
    db.write(
        "1_slow.up.sql",
        &format!(
            "CREATE TABLE slow (id INTEGER PRIMARY KEY);\n{};",
            slow_sql(db.backend, 20)
        ),
    );
    let mut holder = db
        .cli(&["migrate", "up"])
        .env("RUST_LOG", "dbx_migrate=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stderr.take().unwrap()).lines();
    while !lines.next().unwrap().unwrap().contains("running") {}
    let out = db.run(&["migrate", "up", "--lock-timeout", "1"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("waiting for the migration lock"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gave up after") && stderr.contains("PostgreSQL backend"),
        "{stderr}"
    );
}

/// A runner whose lease runs out mid-run (a 600 ms lease, a migration of about two seconds
/// that keeps the heartbeat from writing) races a second runner. Whoever wins, every
/// migration is applied exactly once, and the only error allowed is the loser's `LockLost`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_never_lets_two_runners_apply() {
    use std::time::Duration;

    use dbx_migrate::{ErrorKind, LockOptions, Migrator, Options};

    let db = Db::new(Backend::Sqlite).await;
    db.write(
        "1_slow.up.sql",
        &format!(
            "CREATE TABLE lease_a (id INTEGER PRIMARY KEY);\n{};",
            slow_sql(Backend::Sqlite, 2)
        ),
    );
    db.write(
        "2_b.up.sql",
        "CREATE TABLE lease_b (id INTEGER PRIMARY KEY);",
    );
    db.write(
        "3_c.up.sql",
        "CREATE TABLE lease_c (id INTEGER PRIMARY KEY);",
    );
    let options = Options {
        lock: LockOptions {
            lease: Duration::from_millis(600),
            ..LockOptions::default()
        },
        ..Options::default()
    };
    // A second service on the same files stands in for a second process.
    let other = crate::support::open_service(db.dir.path()).await;
    let first = db.migrator().with_options(options);
    let second = Migrator::new(other.root(None).unwrap(), db.migrations()).with_options(options);
    let (a, b) = tokio::join!(first.up(None), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        second.up(None).await
    });
    let mut applied = 0;
    for outcome in [a, b] {
        match outcome {
            Ok(report) => applied += report.steps.len(),
            Err(e) => assert_eq!(e.kind(), ErrorKind::LockLost, "{e}"),
        }
    }
    assert_eq!(applied, 3, "each migration ran once, whoever ran it");
    assert_eq!(db.ledger_rows().await, 3);
    for t in ["lease_a", "lease_b", "lease_c"] {
        assert!(db.has_table(t).await, "{t}");
    }
}
