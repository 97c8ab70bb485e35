//! Every route of `dbx serve`, on each backend, through a real socket.

use serde_json::json;

use crate::support::{Backend, Db};
use crate::{Served, http};

async fn every_route(backend: Backend) {
    let db = Db::new(backend).await;
    db.write(
        "1_first.up.sql",
        "CREATE TABLE first_table (id INTEGER PRIMARY KEY);",
    );
    let server = Served::start(&db, &[]);
    let base = &server.base;
    let kind = backend.kind_name();

    let (status, health) = http("GET", &format!("{base}/health"), None).await;
    assert_eq!((status, &health["status"]), (200, &json!("ok")), "{health}");
    let (_, adapters) = http("GET", &format!("{base}/api/adapters"), None).await;
    assert_eq!(adapters["adapters"][0]["kind"], kind, "{adapters}");
    assert_eq!(adapters["adapters"][0]["default"], true);

    // Tenants.
    let tenants = format!("{base}/api/adapters/{kind}/tenants");
    let (status, created) = http("POST", &tenants, Some(json!({"id": "acme"}))).await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = http("POST", &tenants, Some(json!({"id": "acme"}))).await;
    assert_eq!(
        (status, &again["error"]["kind"]),
        (409, &json!("tenant_exists")),
        "{again}"
    );
    let (status, bad) = http("POST", &tenants, Some(json!({"id": "Bad.Id"}))).await;
    assert_eq!(status, 400, "{bad}");
    let (_, list) = http("GET", &tenants, None).await;
    assert!(
        list["tenants"].as_array().unwrap().contains(&json!("acme")),
        "{list}"
    );

    // SQL into the tenant.
    let acme = format!("{base}/api/databases/{kind}.acme");
    for sql in [
        "CREATE TABLE owners (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)",
        "CREATE TABLE pets (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, owner_id INTEGER, \
         FOREIGN KEY (owner_id) REFERENCES owners (id))",
        "CREATE INDEX pets_name ON pets (name)",
    ] {
        let (status, out) = http("POST", &format!("{acme}/sql"), Some(json!({"sql": sql}))).await;
        assert_eq!(status, 200, "{sql}: {out}");
    }
    for (id, name) in [(1, "ann"), (2, "bob"), (3, "cy")] {
        let (status, out) = http(
            "POST",
            &format!("{acme}/sql"),
            Some(json!({"sql": "INSERT INTO owners (id, name) VALUES (:id, :name)", "params": {":id": id, ":name": name}})),
        )
        .await;
        assert_eq!((status, &out["rows_affected"]), (200, &json!(1)), "{out}");
    }
    for id in 1..=25 {
        let (status, out) = http(
            "POST",
            &format!("{acme}/sql"),
            Some(json!({"sql": "INSERT INTO pets (id, name, owner_id) VALUES (?, ?, ?)", "params": [id, format!("pet{id:02}"), id % 3 + 1]})),
        )
        .await;
        assert_eq!(status, 200, "{out}");
    }
    let (status, dup) = http(
        "POST",
        &format!("{acme}/sql"),
        Some(json!({"sql": "INSERT INTO owners (id, name) VALUES (1, 'again')"})),
    )
    .await;
    assert_eq!(
        (status, &dup["error"]["kind"]),
        (409, &json!("unique_violation")),
        "{dup}"
    );
    let (status, syntax) = http(
        "POST",
        &format!("{acme}/sql"),
        Some(json!({"sql": "SELEC 1"})),
    )
    .await;
    assert_eq!(
        (status, &syntax["error"]["kind"]),
        (400, &json!("syntax_error")),
        "{syntax}"
    );

    // Tables and schema; the root database does not see the tenant's tables.
    let (_, tables) = http("GET", &format!("{acme}/tables"), None).await;
    let names: Vec<&str> = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"owners") && names.contains(&"pets"),
        "{tables}"
    );
    let (_, root_tables) = http("GET", &format!("{base}/api/databases/{kind}/tables"), None).await;
    assert!(
        !root_tables.to_string().contains("\"pets\""),
        "{root_tables}"
    );
    let (status, pets) = http("GET", &format!("{acme}/tables/pets"), None).await;
    assert_eq!(status, 200, "{pets}");
    assert_eq!(pets["primary_key"], json!(["id"]));
    assert_eq!(pets["columns"].as_array().unwrap().len(), 3);
    assert!(pets["indexes"].to_string().contains("pets_name"), "{pets}");
    assert!(
        pets["foreign_keys"].to_string().contains("owners"),
        "{pets}"
    );
    let (status, missing) = http("GET", &format!("{acme}/tables/nope"), None).await;
    assert_eq!(
        (status, &missing["error"]["kind"]),
        (404, &json!("undefined_table")),
        "{missing}"
    );

    // Rows: pages, order, filters, and names checked against the schema.
    let rows = format!("{acme}/tables/pets/rows");
    let (_, page) = http("GET", &format!("{rows}?limit=10&offset=20"), None).await;
    assert_eq!(page["total"], 25);
    let ids: Vec<i64> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [21, 22, 23, 24, 25], "pages follow the primary key");
    let (_, sorted) = http("GET", &format!("{rows}?order=-name&limit=2"), None).await;
    assert_eq!(sorted["rows"][0][1], "pet25", "{sorted}");
    let (_, filtered) = http(
        "GET",
        &format!("{rows}?filter=owner_id:eq:2&filter=id:gt:10&order=id"),
        None,
    )
    .await;
    let ids: Vec<i64> = filtered["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [13, 16, 19, 22, 25], "{filtered}");
    for (query, expected) in [
        ("order=name;DROP", "no column"),
        ("filter=id:between:1", "unknown filter operator"),
        ("limit=5000", "at most 1000"),
        ("colour=red", "unknown query parameter"),
    ] {
        let (status, err) = http("GET", &format!("{rows}?{query}"), None).await;
        assert_eq!(status, 400, "{query}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(expected),
            "{query}: {err}"
        );
    }
    let (_, still) = http("GET", &format!("{rows}?limit=1"), None).await;
    assert_eq!(still["total"], 25, "nothing was dropped");

    // Migration status of the root database.
    let (status, migrations) = http(
        "GET",
        &format!("{base}/api/databases/{kind}/migrations"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{migrations}");
    assert_eq!(migrations["entries"][0]["state"], "pending", "{migrations}");

    // Hrana on the same port.
    let (status, probe) = http("GET", &format!("{base}/v2"), None).await;
    assert_eq!(status, 200);
    assert!(probe.as_str().unwrap().contains("Hrana"));

    // Metrics name routes by template and count errors by kind.
    let (status, metrics) = http("GET", &format!("{base}/metrics"), None).await;
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(
        metrics.contains("dbx_http_requests_total{method=\"GET\",route=\"/api/databases/{db}/tables/{table}/rows\",status=\"400\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("dbx_errors_total{kind=\"unique_violation\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "dbx_pool_connections{{adapter=\"{kind}\",state=\"max\"}}"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("dbx_tenant_cache_open"), "{metrics}");

    // Deleting the tenant.
    let (status, _) = http("DELETE", &format!("{tenants}/acme"), None).await;
    assert_eq!(status, 204);
    let (_, list) = http("GET", &tenants, None).await;
    assert!(
        !list["tenants"].as_array().unwrap().contains(&json!("acme")),
        "{list}"
    );
    let (status, _) = http("GET", &format!("{base}/api/databases/oracle/tables"), None).await;
    assert_eq!(status, 404);
}
crate::per_backend!(every_route_answers, every_route);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_clients_and_rest_see_the_same_data() {
    let db = Db::new(Backend::Sqlite).await;
    let server = Served::start(&db, &[]);
    let client = libsql::Builder::new_remote(server.base.clone(), String::new())
        .connector(hyper_014::client::HttpConnector::new())
        .build()
        .await
        .unwrap()
        .connect()
        .unwrap();
    client
        .execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", ())
        .await
        .unwrap();
    client
        .execute("INSERT INTO notes (body) VALUES ('from libsql')", ())
        .await
        .unwrap();
    let (_, rows) = http(
        "GET",
        &format!("{}/api/databases/sqlite/tables/notes/rows", server.base),
        None,
    )
    .await;
    assert_eq!(rows["rows"], json!([[1, "from libsql"]]), "{rows}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_address_is_refused_without_keys() {
    let db = Db::new(Backend::Sqlite).await;
    let out = db.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
}

async fn row_writes(backend: Backend) {
    let db = Db::new(backend).await;
    let server = Served::start(&db, &[]);
    let kind = backend.kind_name();
    let base = format!("{}/api/databases/{kind}", server.base);
    let (status, out) = http(
        "POST",
        &format!("{base}/sql"),
        Some(json!({"sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INTEGER)"})),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let rows = format!("{base}/tables/items/rows");
    // (method, body, expected status, expected error kind), in order.
    let steps = [
        (
            "POST",
            json!({"values": {"id": 1, "name": "bolt", "qty": 10}}),
            201,
            None,
        ),
        (
            "POST",
            json!({"values": {"id": 2, "name": "nut", "qty": 10}}),
            201,
            None,
        ),
        (
            "POST",
            json!({"values": {"id": 1, "name": "dup"}}),
            409,
            Some("unique_violation"),
        ),
        (
            "POST",
            json!({"values": {"id": 3}}),
            409,
            Some("not_null_violation"),
        ),
        (
            "POST",
            json!({"values": {"id; DROP TABLE items": 3}}),
            400,
            Some("invalid_argument"),
        ),
        (
            "PATCH",
            json!({"key": {"id": 2}, "values": {"qty": 7}}),
            200,
            None,
        ),
        // The same values again: the row is still found (MySQL reports 0 changed rows).
        (
            "PATCH",
            json!({"key": {"id": 2}, "values": {"qty": 7}}),
            200,
            None,
        ),
        (
            "PATCH",
            json!({"key": {"id": 99}, "values": {"qty": 1}}),
            404,
            Some("not_found"),
        ),
        // Only the primary key addresses a row.
        (
            "PATCH",
            json!({"key": {"name": "nut"}, "values": {"qty": 1}}),
            400,
            Some("invalid_argument"),
        ),
        ("DELETE", json!({"key": {"id": 1}}), 200, None),
        ("DELETE", json!({"key": {"id": 1}}), 404, Some("not_found")),
    ];
    for (method, body, expected, kind) in steps {
        let (status, out) = http(method, &rows, Some(body.clone())).await;
        assert_eq!(status, expected, "{method} {body}: {out}");
        if let Some(kind) = kind {
            assert_eq!(out["error"]["kind"], kind, "{method} {body}: {out}");
        }
    }
    let (_, left) = http("GET", &rows, None).await;
    assert_eq!(left["rows"], json!([[2, "nut", 7]]), "{left}");
}
crate::per_backend!(rows_are_inserted_updated_and_deleted_by_key, row_writes);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_open_hrana_streams() {
    let db = Db::new(Backend::Sqlite).await;
    let server = Served::start(&db, &[]);
    let gauge = async || {
        let (_, metrics) = http("GET", &format!("{}/metrics", server.base), None).await;
        let text = metrics.as_str().unwrap().to_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("dbx_hrana_streams_open "))
            .unwrap_or_else(|| panic!("no stream gauge in:\n{text}"))
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(gauge().await, 0);
    let pipeline = format!("{}/v2/pipeline", server.base);
    let (status, opened) = http(
        "POST",
        &pipeline,
        Some(
            json!({"baton": null, "requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}]}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(gauge().await, 1, "the stream stays open until closed");
    let (status, closed) = http(
        "POST",
        &pipeline,
        Some(json!({"baton": opened["baton"], "requests": [{"type": "close"}]})),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(gauge().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naming_a_tenant_never_creates_it() {
    let db = Db::new(Backend::Sqlite).await;
    let server = Served::start(&db, &[]);
    let (status, body) = http(
        "GET",
        &format!("{}/api/databases/sqlite.ghost/tables", server.base),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["kind"]),
        (404, &json!("no_such_tenant")),
        "{body}"
    );
    let (status, body) = http(
        "POST",
        &format!("{}/v2/pipeline", server.base),
        Some(json!({"baton": null, "requests": [{"type": "execute", "stmt": {"sql": "CREATE TABLE t (x)"}}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let namespaced = hyper_014::Request::post(format!("{}/v2/pipeline", server.base))
        .header("x-namespace", "ghost")
        .header("content-type", "application/json")
        .body(hyper_014::Body::from(
            json!({"baton": null, "requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}]})
                .to_string(),
        ))
        .unwrap();
    let response = hyper_014::Client::new().request(namespaced).await.unwrap();
    let status = response.status().as_u16();
    let text = hyper_014::body::to_bytes(response.into_body())
        .await
        .unwrap();
    assert_eq!(status, 404, "{text:?}");
    assert!(
        String::from_utf8_lossy(&text).contains("namespace ghost does not exist"),
        "{text:?}"
    );
    let (_, list) = http(
        "GET",
        &format!("{}/api/adapters/sqlite/tenants", server.base),
        None,
    )
    .await;
    assert_eq!(list["tenants"], json!([]), "no tenant was created: {list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_get_json_errors() {
    let db = Db::new(Backend::Sqlite).await;
    let server = Served::start(&db, &[]);
    let url = format!("{}/api/databases/sqlite/sql", server.base);
    // (content type, body, status, what the message says)
    let cases = [
        ("application/json", "{\"sql\": ", 400, "EOF while parsing"),
        (
            "application/json",
            "{\"sq\": \"x\"}",
            400,
            "unknown field `sq`",
        ),
        (
            "text/plain",
            "{\"sql\": \"SELECT 1\"}",
            415,
            "Content-Type: application/json",
        ),
    ];
    for (content_type, body, expected, says) in cases {
        let request = hyper_014::Request::post(&url)
            .header("content-type", content_type)
            .body(hyper_014::Body::from(body))
            .unwrap();
        let response = hyper_014::Client::new().request(request).await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{body}");
        let bytes = hyper_014::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let out: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
        assert_eq!(out["error"]["kind"], "invalid_argument", "{out}");
        let message = out["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message:?} lacks {says:?}");
    }
}

/// Row filters from the Studio and REST on columns of every kind: `like` matches numbers and
/// JSON by their text, and no operator, column or value a user types answers 500.
async fn filters_are_type_aware(backend: Backend) {
    let db = Db::new(backend).await;
    let json = match backend {
        Backend::Sqlite => "TEXT",
        Backend::Postgres => "JSONB",
        Backend::Mysql => "JSON",
    };
    db.adapter
        .execute(
            format!("CREATE TABLE things (id INTEGER PRIMARY KEY, n INTEGER, label VARCHAR(20), doc {json})")
                .into(),
        )
        .await
        .unwrap();
    db.adapter
        .execute(
            "INSERT INTO things VALUES (1, 15, 'one', '{\"k\": 1}'), (2, 25, 'two', '{\"k\": 2}'), \
             (3, 150, 'three', NULL)"
                .into(),
        )
        .await
        .unwrap();
    let server = Served::start(&db, &[]);
    let kind = backend.kind_name();
    let rows = format!("{}/api/databases/{kind}/tables/things/rows", server.base);
    let ids = |page: &serde_json::Value| -> Vec<i64> {
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect()
    };
    let (status, page) = http("GET", &format!("{rows}?filter=n:like:15%25&order=id"), None).await;
    assert_eq!((status, ids(&page)), (200, vec![1, 3]), "{page}");
    let (status, page) = http(
        "GET",
        &format!("{rows}?filter=doc:like:%252%7D&order=id"),
        None,
    )
    .await;
    assert_eq!((status, ids(&page)), (200, vec![2]), "{page}");
    for column in ["id", "n", "label", "doc"] {
        for op in [
            "eq", "ne", "lt", "le", "gt", "ge", "like", "null", "notnull",
        ] {
            for value in ["abc", "1", "%25", "%7B%7D", "2026-01-01"] {
                let url = format!("{rows}?filter={column}:{op}:{value}");
                let (status, body) = http("GET", &url, None).await;
                assert!(
                    status == 200 || status == 400,
                    "{column}:{op}:{value} answered {status}: {body}"
                );
            }
        }
    }
}
crate::per_backend!(
    filters_are_type_aware_and_never_answer_500,
    filters_are_type_aware
);
