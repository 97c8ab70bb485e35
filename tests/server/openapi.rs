//! `/api/openapi.json`: a consistent OpenAPI 3.1 document, and real responses from every
//! route, on each backend, validated against the schema it declares for them.

use serde_json::{Value as Json, json};

use crate::support::{Backend, Db};
use crate::{Served, http};

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Json, out: &mut Vec<&'a str>) {
    match value {
        Json::Object(map) => {
            if let Some(Json::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Json::Array(list) => list.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Checks the document on its own: version, resolvable references, path parameters
/// declared, responses on every operation, and component schemas that are valid JSON Schema.
fn check_document(doc: &Json) {
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut all = Vec::new();
    refs(doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {r}"
        );
    }
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                operation_ids.insert(id.to_owned()),
                "operationId {id} twice"
            );
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    declared.contains(&name),
                    "{method} {path} does not declare {name}"
                );
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(
            jsonschema::draft202012::meta::is_valid(schema),
            "component {name} is not valid JSON Schema"
        );
    }
}

/// Validates `body` against what the document says `method path` answers with `status`.
fn check_response(doc: &Json, method: &str, path: &str, status: u16, body: &Json) {
    let responses = &doc["paths"][path][method.to_lowercase()]["responses"];
    let declared = &responses[status.to_string()];
    // Errors the document does not list one by one fall under `default`, which must be the
    // error body; a success must be declared exactly.
    let response = if declared.is_object() || status < 400 {
        declared
    } else {
        &responses["default"]
    };
    assert!(
        response.is_object(),
        "the document has no {status} for {method} {path}"
    );
    let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
        // No body is documented: none may come.
        assert!(
            body.is_null() || body.as_str() == Some(""),
            "{method} {path} {status} sent a body the document does not declare: {body}"
        );
        return;
    };
    let mut full = Json::Object(schema.clone());
    full["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&full).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\nbody: {body}"
    );
}

async fn responses_match(backend: Backend) {
    let db = Db::new(backend).await;
    db.write(
        "1_a.up.sql",
        "CREATE TABLE first_table (id INTEGER PRIMARY KEY);",
    );
    let server = Served::start(&db, &[]);
    let base = &server.base;
    let (status, doc) = http("GET", &format!("{base}/api/openapi.json"), None).await;
    assert_eq!(status, 200);
    check_document(&doc);
    // The check can fail: a body of the wrong shape is caught.
    let wrong = std::panic::catch_unwind(|| {
        check_response(
            &doc,
            "POST",
            "/api/databases/{db}/sql",
            200,
            &json!({"columns": 1}),
        );
    });
    assert!(wrong.is_err(), "a wrong body passed validation");
    let kind = backend.kind_name();
    let blob = if backend == Backend::Postgres {
        "BYTEA"
    } else {
        "BLOB"
    };
    let rows_path = "/api/databases/{db}/tables/{table}/rows";
    let db_url = format!("{base}/api/databases/{kind}");
    let calls: Vec<(&str, &str, String, Option<Json>)> = vec![
        ("GET", "/health", format!("{base}/health"), None),
        ("GET", "/api/adapters", format!("{base}/api/adapters"), None),
        ("GET", "/api/session", format!("{base}/api/session"), None),
        (
            "POST",
            "/api/adapters/{kind}/tenants",
            format!("{base}/api/adapters/{kind}/tenants"),
            Some(json!({"id": "docs"})),
        ),
        (
            "POST",
            "/api/adapters/{kind}/tenants",
            format!("{base}/api/adapters/{kind}/tenants"),
            Some(json!({"id": "docs"})),
        ),
        (
            "GET",
            "/api/adapters/{kind}/tenants",
            format!("{base}/api/adapters/{kind}/tenants"),
            None,
        ),
        (
            "POST",
            "/api/databases/{db}/sql",
            format!("{db_url}/sql"),
            Some(
                json!({"sql": format!("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20), data {blob})")}),
            ),
        ),
        (
            "POST",
            "/api/databases/{db}/sql",
            format!("{db_url}/sql"),
            Some(json!({"sql": "SELEC"})),
        ),
        (
            "POST",
            rows_path,
            format!("{db_url}/tables/t/rows"),
            Some(json!({"values": {"id": 1, "name": "a", "data": {"base64": "AAEC"}}})),
        ),
        (
            "POST",
            rows_path,
            format!("{db_url}/tables/t/rows"),
            Some(json!({"values": {"id": 1, "name": "dup"}})),
        ),
        (
            "POST",
            "/api/databases/{db}/sql",
            format!("{db_url}/sql"),
            Some(json!({"sql": "SELECT id, name, data FROM t WHERE id = ?", "params": [1]})),
        ),
        (
            "GET",
            rows_path,
            format!("{db_url}/tables/t/rows?order=-id&filter=name:like:a%25"),
            None,
        ),
        (
            "GET",
            rows_path,
            format!("{db_url}/tables/t/rows?order=nope"),
            None,
        ),
        (
            "PATCH",
            rows_path,
            format!("{db_url}/tables/t/rows"),
            Some(json!({"key": {"id": 1}, "values": {"name": "b"}})),
        ),
        (
            "PATCH",
            rows_path,
            format!("{db_url}/tables/t/rows"),
            Some(json!({"key": {"id": 9}, "values": {"name": "b"}})),
        ),
        (
            "POST",
            "/api/databases/{db}/script",
            format!("{db_url}/script"),
            Some(json!({"sql": "SELECT 1 AS one; SELECT name FROM t; SELEC"})),
        ),
        (
            "POST",
            "/api/databases/{db}/script",
            format!("{db_url}/script"),
            Some(json!({"sql": ";"})),
        ),
        (
            "POST",
            "/api/databases/{db}/changes",
            format!("{db_url}/changes"),
            Some(json!({"changes": [
                {"table": "t", "op": "insert", "values": {"id": 2, "name": "c"}},
                {"table": "t", "op": "update", "key": {"id": 2}, "values": {"name": "d"}},
            ]})),
        ),
        (
            "POST",
            "/api/databases/{db}/changes",
            format!("{db_url}/changes"),
            Some(json!({"changes": [{"table": "t", "op": "delete", "key": {"id": 404}}]})),
        ),
        (
            "GET",
            "/api/databases/{db}/tables",
            format!("{db_url}/tables"),
            None,
        ),
        (
            "GET",
            "/api/databases/{db}/tables/{table}",
            format!("{db_url}/tables/t"),
            None,
        ),
        (
            "GET",
            "/api/databases/{db}/tables/{table}",
            format!("{db_url}/tables/none"),
            None,
        ),
        (
            "GET",
            "/api/databases/{db}/migrations",
            format!("{db_url}/migrations"),
            None,
        ),
        (
            "POST",
            "/api/databases/{db}/migrations/up",
            format!("{db_url}/migrations/up"),
            None,
        ),
        (
            "POST",
            "/api/databases/{db}/migrations/down",
            format!("{db_url}/migrations/down?steps=1"),
            None,
        ),
        (
            "DELETE",
            rows_path,
            format!("{db_url}/tables/t/rows"),
            Some(json!({"key": {"id": 1}})),
        ),
        (
            "DELETE",
            "/api/adapters/{kind}/tenants/{id}",
            format!("{base}/api/adapters/{kind}/tenants/docs"),
            None,
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (method, template, url, body) in calls {
        let (status, answer) = http(method, &url, body).await;
        check_response(&doc, method, template, status, &answer);
        seen.insert((method.to_lowercase(), template.to_owned()));
    }
    // Every operation in the document was exercised.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                seen.contains(&(method.clone(), path.clone())),
                "{method} {path} was not called"
            );
        }
    }
}
crate::per_backend!(responses_match_the_document, responses_match);
