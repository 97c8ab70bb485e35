//! `dbx serve --auth-keys`: tokens from `dbx token`, roles admin/rw/ro, tenant scopes, and the
//! same keys on Hrana and REST.

use serde_json::json;

use crate::support::{Backend, Db, describe};
use crate::{Served, http_as as call, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_tenant_scopes_are_enforced() {
    let db = Db::new(Backend::Sqlite).await;
    let out = db.run(&["token", "keygen"]);
    assert!(out.status.success(), "{}", describe(&out));
    let admin = token(&db, &["--role", "admin", "--expires", "1h"]);
    let rw = token(&db, &["--role", "rw"]);
    let ro = token(&db, &["--role", "ro"]);
    let ro_acme = token(&db, &["--role", "ro", "--tenant", "acme"]);
    let expired = token(&db, &["--role", "admin", "--expires", "0s"]);
    // Public address: allowed now that there are keys.
    let server = Served::start(
        &db,
        &["--auth-keys", "dbx-auth.key.pub", "--listen", "0.0.0.0:0"],
    );
    let base = server.base.replace("0.0.0.0", "127.0.0.1");
    let api = format!("{base}/api");

    let (status, body) = call("GET", &format!("{api}/adapters"), None, None).await;
    assert_eq!(
        (status, &body["error"]["kind"]),
        (401, &json!("unauthorized")),
        "{body}"
    );
    let (status, _) = call("GET", &format!("{base}/health"), None, None).await;
    assert_eq!(status, 200, "health stays open for probes");
    let (status, body) = call("GET", &format!("{api}/adapters"), Some(&expired), None).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    let (status, _) = call("GET", &format!("{api}/adapters"), Some("not.a.token"), None).await;
    assert_eq!(status, 401);

    // What each token allows, as the Studio reads it.
    for (token, role, read_everything, write_everything, named) in [
        (&admin, "admin", true, true, json!([])),
        (&rw, "rw", true, true, json!([])),
        (&ro, "ro", true, false, json!([])),
        (
            &ro_acme,
            "ro",
            false,
            false,
            json!([{"name": "acme", "write": false}]),
        ),
    ] {
        let (status, session) = call("GET", &format!("{api}/session"), Some(token), None).await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(
            session,
            json!({"auth": true, "role": role, "read_everything": read_everything,
                   "write_everything": write_everything, "databases": named}),
        );
    }

    // Tenant management is for admins.
    let tenants = format!("{api}/adapters/sqlite/tenants");
    let (status, body) = call("POST", &tenants, Some(&rw), Some(json!({"id": "acme"}))).await;
    assert_eq!(
        (status, &body["error"]["kind"]),
        (403, &json!("permission_denied")),
        "{body}"
    );
    let (status, _) = call("POST", &tenants, Some(&admin), Some(json!({"id": "acme"}))).await;
    assert_eq!(status, 201);
    let acme = format!("{api}/databases/sqlite.acme");
    let (status, _) = call(
        "POST",
        &format!("{acme}/sql"),
        Some(&rw),
        Some(json!({"sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"})),
    )
    .await;
    assert_eq!(status, 200);
    let rows = format!("{acme}/tables/notes/rows");
    let (status, _) = call(
        "POST",
        &rows,
        Some(&rw),
        Some(json!({"values": {"id": 1, "body": "hi"}})),
    )
    .await;
    assert_eq!(status, 201);

    // Read-only: reads pass, every kind of write is refused and changes nothing.
    let (status, page) = call("GET", &rows, Some(&ro), None).await;
    assert_eq!((status, &page["total"]), (200, &json!(1)), "{page}");
    for (method, url, body) in [
        (
            "POST",
            rows.clone(),
            json!({"values": {"id": 2, "body": "no"}}),
        ),
        (
            "PATCH",
            rows.clone(),
            json!({"key": {"id": 1}, "values": {"body": "no"}}),
        ),
        ("DELETE", rows.clone(), json!({"key": {"id": 1}})),
        (
            "POST",
            format!("{acme}/sql"),
            json!({"sql": "DELETE FROM notes"}),
        ),
    ] {
        let (status, out) = call(method, &url, Some(&ro), Some(body)).await;
        assert_eq!(
            (status, &out["error"]["kind"]),
            (403, &json!("permission_denied")),
            "{method} {url}: {out}"
        );
    }
    let (status, out) = call(
        "POST",
        &format!("{acme}/sql"),
        Some(&ro),
        Some(json!({"sql": "SELECT body FROM notes"})),
    )
    .await;
    assert_eq!((status, &out["rows"]), (200, &json!([["hi"]])), "{out}");

    // A token for one tenant sees that tenant only.
    let (status, _) = call("GET", &format!("{acme}/tables"), Some(&ro_acme), None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        "GET",
        &format!("{api}/databases/sqlite/tables"),
        Some(&ro_acme),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call("GET", &tenants, Some(&ro_acme), None).await;
    assert_eq!(status, 403);

    // Metrics are for admins.
    let (status, _) = call("GET", &format!("{base}/metrics"), Some(&rw), None).await;
    assert_eq!(status, 403);
    let (status, _) = call("GET", &format!("{base}/metrics"), Some(&admin), None).await;
    assert_eq!(status, 200);

    // Hrana takes the same tokens.
    let client = |token: String| {
        let url = base.clone();
        async move {
            libsql::Builder::new_remote(url, token)
                .connector(hyper_014::client::HttpConnector::new())
                .build()
                .await
                .unwrap()
                .connect()
                .unwrap()
        }
    };
    let writer = client(rw.clone()).await;
    writer
        .execute("CREATE TABLE root_notes (id INTEGER PRIMARY KEY)", ())
        .await
        .unwrap();
    let reader = client(ro.clone()).await;
    assert!(
        reader
            .execute("INSERT INTO root_notes (id) VALUES (1)", ())
            .await
            .is_err()
    );
    let anonymous = client(String::new()).await;
    assert!(anonymous.execute("SELECT 1", ()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_commands_explain_mistakes() {
    let db = Db::new(Backend::Sqlite).await;
    let out = db.run(&["token", "create", "--role", "ro"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dbx token keygen"),
        "{}",
        describe(&out)
    );
    assert!(db.run(&["token", "keygen"]).status.success());
    let again = db.run(&["token", "keygen"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists"),
        "{}",
        describe(&again)
    );
    let out = db.run(&["token", "create", "--role", "ro", "--expires", "soon"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--expires"),
        "{}",
        describe(&out)
    );
    let out = db.run(&["token", "create", "--role", "admin", "--tenant", "acme"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("every tenant"),
        "{}",
        describe(&out)
    );
    let out = db.run(&["serve", "--auth-keys", "missing.pub"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.pub"),
        "{}",
        describe(&out)
    );
}
