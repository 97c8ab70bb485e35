//! `dbx sql`, `dbx tenants` and `dbx config` as processes.

use crate::support::{Backend, Db, describe};

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", describe(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_and_sql_from_the_command_line() {
    let db = Db::new(Backend::Postgres).await;
    assert!(stdout(&db.run(&["tenants", "create", "acme"])).contains("created tenant acme"));
    assert_eq!(stdout(&db.run(&["tenants", "list"])).trim(), "acme");

    stdout(&db.run(&[
        "sql",
        "--tenant",
        "acme",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)",
    ]));
    let inserted = stdout(&db.run(&[
        "sql",
        "--tenant",
        "acme",
        "INSERT INTO t VALUES (1, 'ann'), (2, NULL)",
    ]));
    assert!(inserted.contains("2 row(s) affected"), "{inserted}");
    let table = stdout(&db.run(&[
        "sql",
        "--tenant",
        "acme",
        "SELECT id, name FROM t ORDER BY id",
    ]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["id", "name"],
        "{table}"
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["2", "NULL"],
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&db.run(&[
        "sql",
        "--json",
        "--tenant",
        "acme",
        "SELECT name FROM t WHERE id = 1",
    ])))
    .unwrap();
    assert_eq!(json["rows"], serde_json::json!([["ann"]]));
    // The root database has no such table: the tenant was used.
    let out = db.run(&["sql", "SELECT COUNT(*) FROM t"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not exist"),
        "{}",
        describe(&out)
    );

    assert!(stdout(&db.run(&["tenants", "delete", "acme"])).contains("deleted tenant acme"));
    assert_eq!(stdout(&db.run(&["tenants", "list"])).trim(), "");
    let out = db.run(&["tenants", "create", "Not Valid"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid tenant id"),
        "{}",
        describe(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_schema_and_check() {
    let db = Db::new(Backend::Sqlite).await;
    let schema: serde_json::Value =
        serde_json::from_str(&stdout(&db.run(&["config", "schema"]))).unwrap();
    assert!(schema["properties"]["adapters"].is_object(), "{schema}");
    let ok = stdout(&db.run(&["config", "check", "dbx.toml"]));
    assert!(
        ok.contains("valid") && ok.contains("sqlite (default)"),
        "{ok}"
    );

    std::fs::write(
        db.dir.path().join("bad.toml"),
        "[[adapters]]\nkind = \"sqlite\"\ncolour = \"red\"\n",
    )
    .unwrap();
    let out = db.run(&["config", "check", "bad.toml"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("colour"),
        "{stderr}"
    );

    let help = stdout(&db.run(&["--help"]));
    for command in ["serve", "migrate", "sql", "tenants", "config"] {
        assert!(help.contains(command), "{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_its_settings_from_the_server_table() {
    use serde_json::json;

    use crate::{Served, http, http_as};

    let db = Db::new(Backend::Sqlite).await;
    stdout(&db.run(&["token", "keygen"]));
    let token = stdout(&db.run(&[
        "token",
        "create",
        "--key",
        "dbx-auth.key",
        "--role",
        "admin",
    ]));
    let config = db.dir.path().join("dbx.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[server]\nauth-keys = \"dbx-auth.key.pub\"\nmax-changes = 2\nmax-body-bytes = 4096\nmax-result-bytes = 100\n\
         [server.hrana]\nprotobuf = false\n",
    );
    std::fs::write(&config, &text).unwrap();
    let checked = stdout(&db.run(&["config", "check", "dbx.toml"]));
    assert!(
        checked.contains("with the keys in dbx-auth.key.pub"),
        "{checked}"
    );

    let three = json!({"changes": [
        {"table": "t", "op": "insert", "values": {"id": 1}},
        {"table": "t", "op": "insert", "values": {"id": 2}},
        {"table": "t", "op": "insert", "values": {"id": 3}},
    ]});
    {
        let server = Served::start(&db, &[]);
        let api = format!("{}/api/databases/sqlite", server.base);
        // The keys come from the file: no token, no entry.
        let (status, _) = http("GET", &format!("{api}/tables"), None).await;
        assert_eq!(status, 401);
        let (status, out) = http_as(
            "POST",
            &format!("{api}/changes"),
            Some(token.trim()),
            Some(three.clone()),
        )
        .await;
        assert_eq!(status, 400, "{out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the limit is 2"),
            "{out}"
        );
        // So does the result limit: 200 bytes of text is over 100.
        let wide = format!("SELECT '{}' AS wide", "w".repeat(200));
        let (status, out) = http_as(
            "POST",
            &format!("{api}/sql"),
            Some(token.trim()),
            Some(json!({"sql": wide})),
        )
        .await;
        assert_eq!(
            (status, &out["error"]["kind"]),
            (422, &json!("response_too_large")),
            "{out}"
        );
        let (_, out) = http_as(
            "POST",
            &format!("{api}/script"),
            Some(token.trim()),
            Some(json!({"sql": format!("SELECT 1; {wide}")})),
        )
        .await;
        assert_eq!(out["failed"]["statement"], 2, "{out}");
        assert_eq!(
            out["failed"]["error"]["kind"], "response_too_large",
            "{out}"
        );
        let pipeline = json!({"requests": [{"type": "execute", "stmt": {"sql": wide}}]});
        let (status, out) = http_as(
            "POST",
            &format!("{}/v2/pipeline", server.base),
            Some(token.trim()),
            Some(pipeline),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            out["results"][0]["error"]["code"], "RESPONSE_TOO_LARGE",
            "{out}"
        );
        // The body limit holds for REST and Hrana alike; protobuf is off.
        let big = json!({"sql": format!("SELECT '{}'", "x".repeat(5000))});
        let (status, out) = http_as(
            "POST",
            &format!("{api}/sql"),
            Some(token.trim()),
            Some(big.clone()),
        )
        .await;
        assert_eq!(status, 413);
        let message = out["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("server.max-body-bytes"), "{out}");
        let pipeline = json!({"requests": [{"type": "execute", "stmt": big}]});
        let (status, _) = http_as(
            "POST",
            &format!("{}/v2/pipeline", server.base),
            Some(token.trim()),
            Some(pipeline),
        )
        .await;
        assert_eq!(status, 413);
        let (status, _) = http_as(
            "GET",
            &format!("{}/v3-protobuf", server.base),
            Some(token.trim()),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = http_as(
            "GET",
            &format!("{}/v3", server.base),
            Some(token.trim()),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    {
        // The command line wins over the file.
        let server = Served::start(&db, &["--max-changes", "5"]);
        let api = format!("{}/api/databases/sqlite", server.base);
        let (status, out) = http_as(
            "POST",
            &format!("{api}/sql"),
            Some(token.trim()),
            Some(json!({"sql": "CREATE TABLE t (id INTEGER PRIMARY KEY)"})),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let (status, out) = http_as(
            "POST",
            &format!("{api}/changes"),
            Some(token.trim()),
            Some(three),
        )
        .await;
        assert_eq!(status, 200, "{out}");
    }

    // A bad address in the file is named, with the form it should take.
    std::fs::write(
        &config,
        text.replace("[server]\n", "[server]\nlisten = \"localhost\"\n"),
    )
    .unwrap();
    let out = db.run(&["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("server.listen = \"localhost\"") && stderr.contains("127.0.0.1:8080"),
        "{stderr}"
    );
}

/// `dbx config schema | head -c 100`, `dbx migrate status --json | head`: when the reader
/// goes away first, dbx ends quietly, as Unix tools do, instead of panicking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::Read as _;
    use std::os::unix::process::ExitStatusExt as _;
    let db = Db::new(Backend::Sqlite).await;
    for i in 0..40 {
        db.write(&format!("{i:03}_step.up.sql"), "SELECT 1;");
    }
    for args in [
        vec!["config", "schema"],
        vec!["migrate", "status", "--json"],
    ] {
        let mut child = db
            .cli(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader closes its end before dbx writes anything.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            status.success() || status.signal() == Some(13),
            "{args:?} ended with {status}: {stderr}"
        );
    }
}

/// `dbx config check`, with no file, prints what each seed variable became, in its unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_prints_what_the_environment_became() {
    let db = Db::new(Backend::Sqlite).await;
    let out = db
        .cli(&["config", "check"])
        .env("DB_IDLE_TIMEOUT", "30000")
        .env("MYSQL_HOST", "db.internal")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("dbx.toml: valid"), "{text}");
    assert!(
        text.contains("DB_IDLE_TIMEOUT=30000 -> mysql pool.idle-timeout = \"30s\""),
        "{text}"
    );
}
