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

/// A lease left by a runner on another host is waited for until it runs out, then taken
/// over; a lease left by a runner of this host that died (aborted at a fault point right
/// after a commit) is taken over at once. Either way every migration is applied once.
/// (That a runner whose lease was taken over is fenced off is dbx-migrate's own test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_of_runners_that_are_gone_are_taken_over() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use dbx_core::Statement;
    use dbx_migrate::{FAULT_VARIABLE, LOCK_TABLE, LockOptions, Options};

    let db = Db::new(Backend::Sqlite).await;
    for (name, table) in [("1_a", "lease_a"), ("2_b", "lease_b"), ("3_c", "lease_c")] {
        db.write(
            &format!("{name}.up.sql"),
            &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);"),
        );
    }
    // A runner on another host holds the lease for 800 ms more and never renews it.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    db.adapter
        .batch(vec![
            Statement::new(format!(
                "CREATE TABLE {LOCK_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), \
                 holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, \
                 expires_at_ms INTEGER NOT NULL)"
            )),
            Statement::with_args(
                format!("INSERT INTO {LOCK_TABLE} VALUES (1, 'elsewhere pid 7 run 1', 'elsewhere', 7, ?)"),
                [i64::try_from(now).unwrap() + 800],
            ),
        ])
        .await
        .unwrap();
    let options = Options {
        lock: LockOptions {
            poll: Duration::from_millis(20),
            ..LockOptions::default()
        },
        ..Options::default()
    };
    let report = db
        .migrator()
        .with_options(options)
        .up(Some(1))
        .await
        .unwrap();
    assert!(report.waited_for_lock, "the live lease was waited for");
    assert_eq!(report.steps.len(), 1);

    // A runner of this host dies holding the lease, right after committing migration 2.
    let out = db
        .cli(&["migrate", "up"])
        .env(FAULT_VARIABLE, "migrate.after-commit")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", describe(&out));
    let holders = db
        .scalar(&format!("SELECT COUNT(*) FROM {LOCK_TABLE}"))
        .await;
    assert_eq!(holders, 1, "the dead runner's lease is still there");
    let out = db
        .cli(&["migrate", "up"])
        .env("RUST_LOG", "dbx_migrate=warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("taking over a migration lease that its runner did not release"),
        "{stderr}"
    );
    assert_eq!(db.ledger_rows().await, 3);
    for t in ["lease_a", "lease_b", "lease_c"] {
        assert!(db.has_table(t).await, "{t}");
    }
    assert_eq!(
        db.scalar(&format!("SELECT COUNT(*) FROM {LOCK_TABLE}"))
            .await,
        0
    );
}
