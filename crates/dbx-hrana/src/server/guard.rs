//! What keeps a web page from driving a server that has no keys.
//!
//! Without keys the server trusts whoever reaches it, which is meant to be this machine
//! only. A browser on this machine reaches it too, on behalf of any page it shows:
//! - a page on another site can send a "simple" cross-site request (a form post, or a
//!   `fetch` with a `text/plain` body) without asking first;
//! - a page can rebind its own host name to 127.0.0.1 and then read the answers too.
//!
//! So, without keys: a request must name a loopback host (or one configured in
//! `allowed_hosts`), which defeats rebinding; a write or a WebSocket upgrade that carries an
//! `Origin` must come from the server's own origin (or one in `allowed_origins`); and Hrana
//! pipelines and cursors refuse the content types a browser sends without asking. With keys,
//! a request needs a token a page cannot add on its own, and only the content types are
//! checked.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The checks, from the server's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowserGuard {
    /// Whether tokens are required; then only content types are checked.
    pub keys: bool,
    /// Host names (without port) accepted beside the loopback ones.
    pub allowed_hosts: Vec<String>,
    /// Hosts under this suffix are accepted too: they name namespaces
    /// ([`Config::namespace_host_suffix`](crate::Config::namespace_host_suffix)).
    pub host_suffix: Option<String>,
    /// Origins (`scheme://host[:port]`) accepted beside the server's own.
    pub allowed_origins: Vec<String>,
}

/// Content types a browser sends across sites without a preflight.
const SIMPLE_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

fn refuse(status: StatusCode, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({
            "error": {"kind": "permission_denied", "message": message}
        })),
    )
        .into_response()
}

/// The host of a `Host` header or an origin's authority, without the port.
fn host_only(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn is_loopback_name(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl BrowserGuard {
    /// Why a request is refused, if it is.
    fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        let hrana_body = method == Method::POST
            && (path.starts_with("/v2/")
                || path.starts_with("/v3/")
                || path.starts_with("/v3-protobuf/"));
        if hrana_body && let Some(kind) = header_text(headers, header::CONTENT_TYPE) {
            let essence = kind
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if SIMPLE_TYPES.contains(&essence.as_str()) {
                return Some(refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "a Hrana request with Content-Type {essence} is refused, as a web page \
                         could send it from another site: send application/json (or \
                         application/x-protobuf), or no Content-Type"
                    ),
                ));
            }
        }
        if self.keys {
            return None;
        }
        let host = header_text(headers, header::HOST).unwrap_or("");
        let name = host_only(host);
        let under_suffix = self.host_suffix.as_deref().is_some_and(|suffix| {
            name.len() > suffix.len()
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
        });
        if !host.is_empty()
            && !is_loopback_name(name)
            && !under_suffix
            && !self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
        {
            return Some(refuse(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this server has no keys and answers only to loopback host names, not \
                     {host:?}: connect through 127.0.0.1 or localhost, add the name to \
                     server.allowed-hosts, or configure keys (server.auth-keys)"
                ),
            ));
        }
        let upgrade = headers.contains_key(header::UPGRADE);
        let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        let origin = header_text(headers, header::ORIGIN)?;
        if !(writes || upgrade) {
            return None;
        }
        let own = origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
        if own
            || self
                .allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
        {
            return None;
        }
        Some(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "this server has no keys, and a request from the web page at {origin:?} may not \
                 write or open a WebSocket: add the origin to server.allowed-origins, or \
                 configure keys (server.auth-keys)"
            ),
        ))
    }

    /// The middleware: refuses what [`BrowserGuard`] says, passes the rest on.
    pub async fn layer(self: std::sync::Arc<Self>, request: Request, next: Next) -> Response {
        match self.check(request.method(), request.uri().path(), request.headers()) {
            Some(refusal) => refusal,
            None => next.run(request).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), value.parse().unwrap());
        }
        map
    }

    #[test]
    fn hosts_origins_and_simple_types() {
        let open = BrowserGuard::default();
        let local = [(header::HOST, "127.0.0.1:8080")];
        assert!(
            open.check(&Method::POST, "/v2/pipeline", &headers(&local))
                .is_none()
        );
        let rebound = [(header::HOST, "evil.example:8080")];
        let refused = open.check(&Method::GET, "/api/adapters", &headers(&rebound));
        assert_eq!(refused.unwrap().status(), StatusCode::MISDIRECTED_REQUEST);
        for host in ["localhost:1", "[::1]:8080", "app.localhost"] {
            assert!(
                open.check(&Method::GET, "/", &headers(&[(header::HOST, host)]))
                    .is_none(),
                "{host}"
            );
        }
        let foreign = [
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "https://evil.example"),
        ];
        let refused = open.check(
            &Method::POST,
            "/api/databases/sqlite/sql",
            &headers(&foreign),
        );
        assert_eq!(refused.unwrap().status(), StatusCode::FORBIDDEN);
        assert!(
            open.check(&Method::GET, "/health", &headers(&foreign))
                .is_none()
        );
        let own = [
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "http://127.0.0.1:8080"),
        ];
        assert!(
            open.check(&Method::POST, "/api/x", &headers(&own))
                .is_none()
        );
        let simple = [
            (header::HOST, "127.0.0.1:8080"),
            (header::CONTENT_TYPE, "text/plain;charset=UTF-8"),
        ];
        let keyed = BrowserGuard {
            keys: true,
            ..BrowserGuard::default()
        };
        for guard in [&open, &keyed] {
            let refused = guard.check(&Method::POST, "/v2/pipeline", &headers(&simple));
            assert_eq!(
                refused.unwrap().status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            );
        }
        assert!(
            keyed
                .check(&Method::POST, "/v2/pipeline", &headers(&rebound))
                .is_none()
        );
    }
}
