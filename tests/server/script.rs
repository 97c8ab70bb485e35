//! `POST /api/databases/{db}/script`: statements split outside literals and comments, run in
//! order on one session until one fails; a transaction left open is rolled back.

use serde_json::{Value as Json, json};

use crate::support::{Backend, Db};
use crate::{Served, http};

async fn scripts_run_in_order_until_one_fails(backend: Backend) {
    let db = Db::new(backend).await;
    let server = Served::start(&db, &["--max-statements", "5"]);
    let kind = backend.kind_name();
    let base = format!("{}/api/databases/{kind}", server.base);
    let script = |sql: &str| {
        let url = format!("{base}/script");
        let body = json!({ "sql": sql });
        async move { http("POST", &url, Some(body)).await }
    };
    let ids = || async {
        let (_, out) = http("GET", &format!("{base}/tables/s/rows?order=id"), None).await;
        out["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].clone())
            .collect::<Vec<Json>>()
    };

    let (status, out) = script(
        "CREATE TABLE s (id INTEGER PRIMARY KEY, v VARCHAR(10));\n\
         INSERT INTO s VALUES (1, 'a'); -- a comment; not a statement\n\
         INSERT INTO s VALUES (2, 'b;c');\n\
         SELECT v FROM s ORDER BY id;",
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["results"].as_array().map(Vec::len), Some(4), "{out}");
    assert_eq!(out["results"][3]["rows"], json!([["a"], ["b;c"]]), "{out}");
    assert_eq!(
        (&out["failed"], &out["rolled_back"]),
        (&Json::Null, &json!(false))
    );

    // Autocommit: what ran before the failure stays; nothing after it runs.
    let (status, out) = script(
        "INSERT INTO s VALUES (3, 'x'); INSERT INTO s VALUES (1, 'dup'); INSERT INTO s VALUES (4, 'y')",
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["results"].as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(out["failed"]["statement"], 2, "{out}");
    assert_eq!(out["failed"]["error"]["kind"], "unique_violation", "{out}");
    assert_eq!(ids().await, [json!(1), json!(2), json!(3)]);

    // A transaction the script opens and leaves open is rolled back.
    let (_, out) = script("BEGIN; INSERT INTO s VALUES (5, 't'); SELEC oops").await;
    assert_eq!(out["failed"]["statement"], 3, "{out}");
    assert_eq!(out["failed"]["error"]["kind"], "syntax_error", "{out}");
    assert_eq!(out["rolled_back"], true, "{out}");
    let (_, out) = script("BEGIN; INSERT INTO s VALUES (6, 'u')").await;
    assert_eq!(
        (&out["failed"], &out["rolled_back"]),
        (&Json::Null, &json!(true)),
        "{out}"
    );
    let (_, out) = script("BEGIN; INSERT INTO s VALUES (7, 'v'); COMMIT").await;
    assert_eq!(out["rolled_back"], false, "{out}");
    assert_eq!(ids().await, [json!(1), json!(2), json!(3), json!(7)]);

    for (sql, says) in [
        (
            "SELECT 1; SELECT 2; SELECT 3; SELECT 4; SELECT 5; SELECT 6",
            "the limit is 5",
        ),
        (" ; -- only a comment", "no statement"),
    ] {
        let (status, out) = script(sql).await;
        assert_eq!(
            (status, &out["error"]["kind"]),
            (400, &json!("invalid_argument")),
            "{out}"
        );
        let message = out["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message:?} lacks {says:?}");
    }
}
crate::per_backend!(
    scripts_stop_at_the_first_failure,
    scripts_run_in_order_until_one_fails
);
