//! Migrations through `dbx serve`: the server reads the same migrations and modules as
//! `dbx migrate` (so what the command line applied shows as applied), and an admin applies
//! and reverts them over REST under the same lock as the command line.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value as Json;

use crate::support::{Backend, Db, describe, slow_sql};
use crate::{Served, http, http_as, token};

/// Each entry's `module/version:state`, sorted.
fn states(status: &Json) -> Vec<String> {
    let mut states: Vec<String> = status["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {status}"))
        .iter()
        .map(|e| {
            format!(
                "{}/{}:{}",
                e["module"].as_str().unwrap(),
                e["version"],
                e["state"].as_str().unwrap()
            )
        })
        .collect();
    states.sort();
    states
}

async fn migrations_through_the_server(backend: Backend) {
    let db = Db::new(backend).await;
    let root = db.dir.path();
    let module = root.join("modules/notes/database");
    std::fs::create_dir_all(module.join("migrations")).unwrap();
    std::fs::write(
        module.join("schema.sql"),
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
    )
    .unwrap();
    std::fs::write(
        module.join("migrations/001_tag.sql"),
        "ALTER TABLE notes ADD COLUMN tag TEXT;",
    )
    .unwrap();
    db.write("1_a.up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);");
    db.write("1_a.down.sql", "DROP TABLE a;");
    let out = db.run(&["migrate", "up"]);
    assert!(out.status.success(), "{}", describe(&out));

    let out = db.run(&["token", "keygen"]);
    assert!(out.status.success(), "{}", describe(&out));
    let (admin, writer) = (
        token(&db, &["--role", "admin"]),
        token(&db, &["--role", "rw"]),
    );
    let server = Served::start(&db, &["--auth-keys", "dbx-auth.key.pub"]);
    let kind = backend.kind_name();
    let url = format!("{}/api/databases/{kind}/migrations", server.base);
    let (status, body) = http_as("GET", &url, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(states(&body), ["/1:applied", "notes/1:applied"], "{body}");

    // New files: only an admin applies them, and the command line sees the result.
    db.write("2_b.up.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);");
    db.write("2_b.down.sql", "DROP TABLE b;");
    let (status, body) = http_as("POST", &format!("{url}/up"), Some(&writer), None).await;
    assert_eq!(status, 403, "{body}");
    let (status, report) = http_as("POST", &format!("{url}/up"), Some(&admin), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["steps"][0]["name"], "b", "{report}");
    assert!(db.has_table("b").await);
    let cli = db.run_json(&["migrate", "status"]);
    assert_eq!(
        states(&cli),
        ["/1:applied", "/2:applied", "notes/1:applied"],
        "{cli}"
    );

    // Reverting one, then asking for both a step count and a target.
    let (status, report) =
        http_as("POST", &format!("{url}/down?steps=1"), Some(&admin), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["steps"][0]["direction"], "down", "{report}");
    assert!(!db.has_table("b").await);
    let (status, body) = http_as(
        "POST",
        &format!("{url}/down?steps=1&to=0"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // The command line holds the lock mid-migration: the server's run waits for it, then
    // finds nothing left to do.
    db.write(
        "3_slow.up.sql",
        &format!(
            "CREATE TABLE slow (id INTEGER PRIMARY KEY);\n{};",
            slow_sql(backend, 2)
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
    while !lines.next().unwrap().unwrap().contains("3_slow") {}
    let (status, report) = http_as("POST", &format!("{url}/up"), Some(&admin), None).await;
    assert!(holder.wait().unwrap().success());
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["waited_for_lock"], true, "{report}");
    let ran: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        !ran.contains(&"slow"),
        "the slow migration ran twice: {report}"
    );
    let (_, body) = http_as("GET", &url, Some(&admin), None).await;
    assert!(
        states(&body).iter().all(|s| s.ends_with(":applied")),
        "{body}"
    );
    // Without a token nothing is shown.
    let (status, _) = http("GET", &url, None).await;
    assert_eq!(status, 401);
}
crate::per_backend!(
    the_server_reads_and_applies_the_migrations_of_the_command_line,
    migrations_through_the_server
);
