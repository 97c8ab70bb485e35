//! The Studio under `/studio/`: the web UI built from `studio/` (Vite + Preact) and embedded
//! in the binary, so `cargo run` needs no Node. `cargo xtask studio` rebuilds `studio/dist`.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

static BUNDLE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/studio/dist");

/// Styles: CodeMirror injects `<style>` elements at run time, so inline styles are allowed;
/// scripts are only the bundle's own.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        // Relative, so that it holds under a base path too.
        .route("/studio", get(|| async { Redirect::permanent("studio/") }))
        .route(
            "/studio/",
            get(|mounted: Mounted, headers: HeaderMap| async move {
                asset("index.html", &headers, &mounted)
            }),
        )
        .route(
            "/studio/{*path}",
            get(
                |Path(path): Path<String>, mounted: Mounted, headers: HeaderMap| async move {
                    asset(&path, &headers, &mounted)
                },
            ),
        )
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The bundle's text files, gzipped once on first use: the SQL editor's script shrinks from
/// about 440 KB to 145 KB on the wire.
fn gzipped(path: &str) -> Option<&'static [u8]> {
    static GZIPPED: OnceLock<HashMap<&'static str, Vec<u8>>> = OnceLock::new();
    let all = GZIPPED.get_or_init(|| {
        let mut all = HashMap::new();
        let mut stack = vec![&BUNDLE];
        while let Some(dir) = stack.pop() {
            stack.extend(dir.dirs());
            for file in dir.files() {
                let Some(name) = file.path().to_str() else {
                    continue;
                };
                if !content_type(name).starts_with("text/") {
                    continue;
                }
                if let Ok(bytes) = gzip(file.contents()) {
                    all.insert(name, bytes);
                }
            }
        }
        all
    });
    all.get(path).map(Vec::as_slice)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            // `gzip;q=0` means "not gzip".
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// Where the server is mounted (`server.base-path`), empty at the root.
type Mounted = Option<axum::Extension<super::mount::MountedAt>>;

/// The page with its asset URLs absolute under the mount point: the bundle writes them
/// relative (`./assets/`), which would resolve wrongly from a deep link's path, and the
/// content security policy forbids a `<base>` element.
fn page(file: &'static [u8], mounted: &Mounted) -> Vec<u8> {
    let base = mounted.as_ref().map_or("", |m| &*m.0.0);
    String::from_utf8_lossy(file)
        .replace("\"./assets/", &format!("\"{base}/studio/assets/"))
        .into_bytes()
}

fn asset(path: &str, request: &HeaderMap, mounted: &Mounted) -> Response {
    // The Studio routes by the URL's fragment, so any other path without a file extension
    // is a reload of a deep link: answer with the app itself.
    let path = match BUNDLE.get_file(path) {
        Some(_) => path,
        None if !path.rsplit('/').next().unwrap_or("").contains('.') => "index.html",
        None => {
            return (
                StatusCode::NOT_FOUND,
                format!("the Studio has no file {path:?}; open /studio/"),
            )
                .into_response();
        }
    };
    let Some(file) = BUNDLE.get_file(path) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "this binary was built without the Studio bundle; run `cargo xtask studio`",
        )
            .into_response();
    };
    // Files under assets/ carry a content hash in their names and never change.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let compressed = if accepts_gzip(request) && path != "index.html" {
        gzipped(path)
    } else {
        None
    };
    let mut response = if path == "index.html" {
        page(file.contents(), mounted).into_response()
    } else {
        compressed.unwrap_or(file.contents()).into_response()
    };
    let headers = response.headers_mut();
    if compressed.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
