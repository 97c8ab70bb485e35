//! The Studio under `/studio/`: the web UI built from `studio/` (Vite + Preact) and embedded
//! in the binary, so `cargo run` needs no Node. `cargo xtask studio` rebuilds `studio/dist`.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

static BUNDLE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/studio/dist");

/// Styles: CodeMirror injects `<style>` elements at run time, so inline styles are allowed;
/// scripts are only the bundle's own.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/studio", get(|| async { Redirect::permanent("/studio/") }))
        .route("/studio/", get(|| async { asset("index.html") }))
        .route(
            "/studio/{*path}",
            get(|Path(path): Path<String>| async move { asset(&path) }),
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

fn asset(path: &str) -> Response {
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
    let mut response = file.contents().into_response();
    let headers = response.headers_mut();
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
