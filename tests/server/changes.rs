//! `POST /api/databases/{db}/changes`: row writes across tables in one transaction. All land,
//! or, when one fails, none does and the error names the change.

use serde_json::json;

use crate::Served;
use crate::http;
use crate::support::{Backend, Db};

async fn changes_are_all_or_nothing(backend: Backend) {
    let db = Db::new(backend).await;
    let server = Served::start(&db, &["--max-changes", "3"]);
    let kind = backend.kind_name();
    let base = format!("{}/api/databases/{kind}", server.base);
    for sql in [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INTEGER)",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20))",
    ] {
        let (status, out) = http("POST", &format!("{base}/sql"), Some(json!({ "sql": sql }))).await;
        assert_eq!(status, 200, "{out}");
    }
    let changes = format!("{base}/changes");
    let rows = |table: &str| format!("{base}/tables/{table}/rows");

    let (status, out) = http(
        "POST",
        &changes,
        Some(json!({"changes": [
            {"table": "items", "op": "insert", "values": {"id": 1, "name": "bolt", "qty": 10}},
            {"table": "tags", "op": "insert", "values": {"id": 1, "label": "metal"}},
            {"table": "items", "op": "update", "key": {"id": 1}, "values": {"qty": 11}},
        ]})),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["results"].as_array().map(Vec::len), Some(3), "{out}");
    let (_, items) = http("GET", &rows("items"), None).await;
    assert_eq!(items["rows"], json!([[1, "bolt", 11]]), "{items}");
    let (_, tags) = http("GET", &rows("tags"), None).await;
    assert_eq!(tags["rows"], json!([[1, "metal"]]), "{tags}");

    // (changes, status, error kind, what the message must say); after each, nothing changed.
    let failures = [
        (
            json!([
                {"table": "items", "op": "update", "key": {"id": 1}, "values": {"qty": 99}},
                {"table": "items", "op": "insert", "values": {"id": 1, "name": "dup"}},
            ]),
            409,
            "unique_violation",
            "change 2 (insert items); nothing was committed",
        ),
        (
            json!([
                {"table": "tags", "op": "delete", "key": {"id": 1}},
                {"table": "items", "op": "delete", "key": {"id": 42}},
            ]),
            404,
            "not_found",
            "change 2 (delete items); nothing was committed: no row has that primary key",
        ),
        (
            json!([{"table": "nope", "op": "insert", "values": {"id": 1}}]),
            404,
            "undefined_table",
            "change 1 (insert nope)",
        ),
        (
            json!([{"table": "items", "op": "update", "key": {"name": "bolt"}, "values": {"qty": 1}}]),
            400,
            "invalid_argument",
            "change 1 (update items): \"key\" must give exactly the primary key",
        ),
        (
            json!([
                {"table": "tags", "op": "delete", "key": {"id": 1}},
                {"table": "tags", "op": "delete", "key": {"id": 1}},
                {"table": "tags", "op": "delete", "key": {"id": 1}},
                {"table": "tags", "op": "delete", "key": {"id": 1}},
            ]),
            400,
            "invalid_argument",
            "the limit is 3 (`dbx serve --max-changes`)",
        ),
        (json!([]), 400, "invalid_argument", "nothing to do"),
    ];
    for (list, expected, kind, message) in failures {
        let (status, out) = http("POST", &changes, Some(json!({ "changes": list }))).await;
        assert_eq!(
            (status, &out["error"]["kind"]),
            (expected, &json!(kind)),
            "{list}: {out}"
        );
        let text = out["error"]["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{list}: {text:?} lacks {message:?}");
        let (_, items) = http("GET", &rows("items"), None).await;
        assert_eq!(
            items["rows"],
            json!([[1, "bolt", 11]]),
            "after {list}: {items}"
        );
        let (_, tags) = http("GET", &rows("tags"), None).await;
        assert_eq!(tags["rows"], json!([[1, "metal"]]), "after {list}: {tags}");
    }
}
crate::per_backend!(
    changes_commit_together_or_not_at_all,
    changes_are_all_or_nothing
);
