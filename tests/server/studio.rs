//! The Studio in real headless Chromium: `tests/js/studio.test.mjs` drives it with
//! playwright-core against a `dbx serve` with keys, and saves screenshots to `target/e2e/`.

use std::path::{Path, PathBuf};

use serde_json::json;

use dbx_tests::node::run_node_test;

use crate::support::{Backend, Db, describe};
use crate::{Served, http, http_as, token};

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Debian's `chromium`, or `DBX_CHROMIUM`. Missing, the test fails and says how to install it.
fn chromium() -> PathBuf {
    let path = std::env::var_os("DBX_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "no Chromium at {}: `apt-get install chromium` (or set DBX_CHROMIUM); `.ci/run` installs it",
        path.display()
    );
    path
}

const SCHEMA: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(80), score INTEGER);
CREATE INDEX users_email ON users (email);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER,
  FOREIGN KEY (user_id) REFERENCES users (id));
";

async fn studio_in_chromium(backend: Backend) {
    let browser = chromium();
    let db = Db::new(backend).await;
    let out = db.run(&["token", "keygen"]);
    assert!(out.status.success(), "{}", describe(&out));
    db.write("1_shop.up.sql", SCHEMA);
    let out = db.run(&["migrate", "up"]);
    assert!(out.status.success(), "{}", describe(&out));
    // Written after `up`, so the Studio's migrations page has one of each.
    db.write(
        "2_later.up.sql",
        "CREATE TABLE later (id INTEGER PRIMARY KEY);",
    );
    db.write("2_later.down.sql", "DROP TABLE later;");
    let out = db.run(&["tenants", "create", "scoped"]);
    assert!(out.status.success(), "{}", describe(&out));
    let (admin, read_only) = (
        token(&db, &["--role", "admin"]),
        token(&db, &["--role", "ro"]),
    );
    let scoped = token(&db, &["--role", "rw", "--tenant", "scoped"]);
    // On SQLite the whole suite runs under seed 000's base path, the Studio included.
    let mut args = vec!["--auth-keys", "dbx-auth.key.pub"];
    if backend == Backend::Sqlite {
        args.extend(["--base-path", "/database/api"]);
    }
    let server = Served::start(&db, &args);
    if backend == Backend::Sqlite {
        assert!(server.base.ends_with("/database/api"), "{}", server.base);
    }
    let kind = backend.kind_name();
    let rows = format!("{}/api/databases/{kind}/tables/users/rows", server.base);
    for id in 1..=120 {
        let values = json!({"id": id, "name": format!("user{id}"), "email": format!("u{id}@example.com"), "score": (id * 37) % 101});
        let (status, body) = http_as(
            "POST",
            &rows,
            Some(&admin),
            Some(json!({ "values": values })),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, page) = http("GET", &format!("{}/studio/", server.base), None).await;
    assert_eq!(status, 200);
    assert!(
        page.as_str().unwrap_or("").contains("<div id=\"app\">"),
        "{page}"
    );

    let shots = workspace_root().join("target/e2e").join(kind);
    let env = [
        ("DBX_URL", server.base.clone()),
        ("DBX_DB", kind.to_owned()),
        ("DBX_ADMIN_TOKEN", admin.clone()),
        ("DBX_RO_TOKEN", read_only),
        ("DBX_SCOPED_TOKEN", scoped),
        ("DBX_E2E_DIR", shots.display().to_string()),
        ("DBX_CHROMIUM", browser.display().to_string()),
    ];
    let passed = run_node_test("studio.test.mjs", &env);
    assert_eq!(passed, 8, "every browser test ran");

    // The row the browser edited, as the REST API sees it now.
    let (status, body) =
        http_as("GET", &format!("{rows}?filter=id:eq:1"), Some(&admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["rows"][0][1], "Ada O'Brien", "{body}");
    for shot in [
        "02-rows-sorted-filtered",
        "05-staged-changes",
        "08-read-only-sql-refused",
    ] {
        let path = shots.join(format!("{shot}.png"));
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "screenshot {} is missing or empty",
            path.display()
        );
    }
}

crate::per_backend!(studio_in_chromium_on, studio_in_chromium);

/// One GET with the given request headers; the status, response headers and raw body.
async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, hyper_014::HeaderMap, Vec<u8>) {
    let mut request = hyper_014::Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = hyper_014::Client::new()
        .request(request.body(hyper_014::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = hyper_014::body::to_bytes(response.into_body())
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_is_served_from_the_binary() {
    use std::io::Read as _;

    let db = Db::new(Backend::Sqlite).await;
    let server = Served::start(&db, &[]);
    let studio = format!("{}/studio", server.base);

    // Relative, so that it holds under a base path too.
    let (status, headers, _) = get(&studio, &[]).await;
    assert_eq!(
        (status, &headers["location"]),
        (
            308,
            &"studio/".parse::<hyper_014::header::HeaderValue>().unwrap()
        )
    );
    let (status, headers, page) = get(&format!("{studio}/"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let page = String::from_utf8(page).unwrap();
    // A deep link reloads into the app itself.
    let (status, _, deep) = get(&format!("{studio}/db/sqlite/table/users"), &[]).await;
    assert_eq!(
        (status, String::from_utf8(deep).unwrap()),
        (200, page.clone())
    );

    let script = page
        .split('"')
        .find(|part| part.starts_with("/studio/assets/") && part.ends_with(".js"))
        .unwrap_or_else(|| panic!("no script in {page}"));
    let url = format!("{}{script}", server.base);
    let (status, headers, plain) = get(&url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(!headers.contains_key("content-encoding"));
    let (_, headers, zipped) = get(&url, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(
        zipped.len() * 2 < plain.len(),
        "{} vs {}",
        zipped.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    let (_, headers, _) = get(&url, &[("accept-encoding", "gzip;q=0, identity")]).await;
    assert!(
        !headers.contains_key("content-encoding"),
        "q=0 refuses gzip"
    );

    let (status, _, body) = get(&format!("{studio}/assets/missing.js"), &[]).await;
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("open /studio/"));
}
