//! Mounting everything under a base path (`server.base-path`), as seed 000 lays it out: its
//! workers reach Hrana at `http://host/database/api/pipeline` and `/database/api/ws`.
//!
//! The path is rewritten before routing, so every route (Hrana, REST, the Studio,
//! `/metrics`) answers under the base exactly as it does at the root, and the routes are
//! written once. Two names of the seed's own server are accepted under the base beside
//! Hrana's: `/ws` for the WebSocket and `/pipeline` for the v3 JSON pipeline. A libSQL client
//! given `http://host/database/api/pipeline` resolves its `v3/pipeline` next to that name,
//! so it reaches `/database/api/v3/pipeline`. `/health` also answers at the root, for load
//! balancers; any other path outside the base is 404.

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;

/// Where the routes are mounted, for the handlers that write absolute URLs (the Studio's
/// page); absent at the root.
#[derive(Debug, Clone)]
pub(crate) struct MountedAt(pub(crate) std::sync::Arc<str>);

/// The path to route for `path` under `base`, or `None` when it is outside.
fn inner_path(base: &str, path: &str) -> Option<String> {
    if path == "/health" {
        return Some(path.to_owned());
    }
    let rest = path.strip_prefix(base)?;
    let routed = match rest {
        "" | "/" | "/ws" => "/",
        "/pipeline" => "/v3/pipeline",
        other if other.starts_with('/') => other,
        _ => return None,
    };
    Some(routed.to_owned())
}

fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

fn outside(base: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": {
            "kind": "not_found",
            "message": format!("this server answers under {base}/ (server.base-path)"),
        }})),
    )
        .into_response()
}

/// `inner` answering under `base` (checked by `dbx_service::config::check_base_path`).
pub(crate) fn under(base: String, inner: Router) -> Router {
    let mounted: std::sync::Arc<str> = base.as_str().into();
    let service = tower::service_fn(move |mut request: Request<Body>| {
        let (base, inner, mounted) = (base.clone(), inner.clone(), mounted.clone());
        async move {
            let Some(uri) = inner_path(&base, request.uri().path())
                .and_then(|path| with_path(request.uri(), &path))
            else {
                return Ok::<_, Infallible>(outside(&base));
            };
            *request.uri_mut() = uri;
            request.extensions_mut().insert(MountedAt(mounted));
            inner.oneshot(request).await
        }
    });
    Router::new().fallback_service(service)
}

#[cfg(test)]
mod tests {
    use super::inner_path;

    #[test]
    fn paths_under_the_base_route_as_at_the_root() {
        let base = "/database/api";
        let routed = |p| inner_path(base, p);
        assert_eq!(routed("/database/api").as_deref(), Some("/"));
        assert_eq!(routed("/database/api/ws").as_deref(), Some("/"));
        assert_eq!(
            routed("/database/api/pipeline").as_deref(),
            Some("/v3/pipeline")
        );
        assert_eq!(
            routed("/database/api/v3/pipeline").as_deref(),
            Some("/v3/pipeline")
        );
        assert_eq!(routed("/database/api/studio/").as_deref(), Some("/studio/"));
        assert_eq!(routed("/health").as_deref(), Some("/health"));
        assert_eq!(routed("/database/apix"), None);
        assert_eq!(routed("/v3/pipeline"), None);
        assert_eq!(routed("/studio/"), None);
    }
}
