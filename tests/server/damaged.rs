//! A tenant's SQLite file damaged or deleted under `dbx serve`: that tenant gets an error
//! that says what happened and what to do, over REST and Hrana, and the others carry on.

use serde_json::{Value as Json, json};

use crate::support::{Backend, Db};
use crate::{Served, http};

async fn rows(base: &str, tenant: &str) -> (u16, Json) {
    http(
        "GET",
        &format!("{base}/api/databases/sqlite.{tenant}/tables/items/rows"),
        None,
    )
    .await
}

async fn hrana(base: &str, tenant: &str) -> (u16, String) {
    let request = hyper_014::Request::post(format!("{base}/v2/pipeline"))
        .header("content-type", "application/json")
        .header("x-namespace", tenant)
        .body(hyper_014::Body::from(
            json!({"baton": null, "requests": [
                {"type": "execute", "stmt": {"sql": "SELECT count(*) FROM items"}}, {"type": "close"}]})
            .to_string(),
        ))
        .unwrap();
    let response = hyper_014::Client::new().request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = hyper_014::body::to_bytes(response.into_body())
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn message(body: &Json) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_deleted_tenant_file_is_reported_and_the_others_carry_on() {
    let db = Db::new(Backend::Sqlite).await;
    // One open tenant at a time, so that using one closes (and checkpoints) the others.
    let config = db.dir.path().join("dbx.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[adapters.cache]\ncapacity = 1\n")).unwrap();
    let served = Served::start(&db, &[]);
    let base = &served.base;
    for t in ["damaged", "gone", "deleted_open", "healthy"] {
        let (status, body) = http(
            "POST",
            &format!("{base}/api/adapters/sqlite/tenants"),
            Some(json!({"id": t})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        for sql in [
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)",
            "INSERT INTO items (name) VALUES ('kept')",
        ] {
            let (status, body) = http(
                "POST",
                &format!("{base}/api/databases/sqlite.{t}/sql"),
                Some(json!({"sql": sql})),
            )
            .await;
            assert_eq!(status, 200, "{t}: {body}");
        }
    }
    let dir = db.dir.path().join("dbx-data/tenants");
    // `healthy` is open now; the others were closed, their WAL folded into their files.
    assert_eq!(rows(base, "healthy").await.0, 200);

    // Garbage over a closed tenant's file: reported as damaged, with the file and the way out.
    let file = dir.join("damaged.db");
    let len = usize::try_from(std::fs::metadata(&file).unwrap().len()).unwrap();
    std::fs::write(&file, vec![0x5a; len]).unwrap();
    let (status, body) = rows(base, "damaged").await;
    assert_eq!(status, 500, "{body}");
    let said = message(&body);
    assert!(
        said.contains("damaged.db")
            && said.contains("is damaged or is not a SQLite database")
            && said.contains("backup"),
        "{said}"
    );
    let (status, text) = hrana(base, "damaged").await;
    assert!(
        status >= 400 && text.contains("is damaged"),
        "{status}: {text}"
    );

    // A closed tenant whose file was deleted no longer exists.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("gone.db{suffix}")));
    }
    let (status, body) = rows(base, "gone").await;
    assert_eq!(status, 404, "{body}");
    assert!(message(&body).contains("there is no tenant"), "{body}");

    // An open tenant whose file is deleted is closed at its next request, not written to.
    assert_eq!(rows(base, "deleted_open").await.0, 200);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("deleted_open.db{suffix}")));
    }
    let (status, body) = http(
        "POST",
        &format!("{base}/api/databases/sqlite.deleted_open/sql"),
        Some(json!({"sql": "INSERT INTO items (name) VALUES ('lost?')"})),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        message(&body).contains("deleted while it was open"),
        "{body}"
    );
    let (status, text) = hrana(base, "deleted_open").await;
    assert_eq!(status, 404, "{text}");

    // The others carry on, reading and writing.
    let (status, body) = http(
        "POST",
        &format!("{base}/api/databases/sqlite.healthy/sql"),
        Some(json!({"sql": "INSERT INTO items (name) VALUES ('more')"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rows(base, "healthy").await;
    assert_eq!((status, body["total"].clone()), (200, json!(2)), "{body}");
    let (status, text) = hrana(base, "healthy").await;
    assert!(status == 200 && text.contains("\"2\""), "{status}: {text}");
    let (status, body) = http(
        "POST",
        &format!("{base}/api/adapters/sqlite/tenants"),
        Some(json!({"id": "fresh"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(http("GET", &format!("{base}/health"), None).await.0, 200);
}
