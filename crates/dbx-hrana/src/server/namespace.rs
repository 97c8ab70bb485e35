//! Namespaces: a namespace is a tenant of the serving adapter.
//!
//! A request's namespace comes from the `x-namespace` header, else from the `Host` header
//! when it ends with the configured suffix (`acme.db.example.com` with suffix
//! `db.example.com`), else it is the root database. The admin API creates, deletes and lists
//! namespaces: sqld's `POST /v1/namespaces/{ns}/create` and `DELETE /v1/namespaces/{ns}`, and
//! `GET /v1/namespaces`, which sqld lacks.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dbx_core::{Adapter, ErrorKind, TenantId};

use super::ServerState;

/// The namespace of a request: `None` is the root database.
pub(crate) type Namespace = Option<TenantId>;

/// Why a request's namespace cannot be served: a status and a message for the client.
///
/// Kept small (a `Response` is over 100 bytes) so `Result`s carrying it stay cheap.
pub(crate) struct Refusal(StatusCode, Box<str>);

impl Refusal {
    /// A Hrana error code for the refusal, for a WebSocket `hello_error`.
    pub(crate) fn code(&self) -> &'static str {
        if self.0 == StatusCode::NOT_FOUND {
            "NAMESPACE_NOT_FOUND"
        } else {
            "SERVER_ERROR"
        }
    }

    pub(crate) fn message(&self) -> &str {
        &self.1
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        super::errors::with_retry_after(
            (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response(),
        )
    }
}

impl From<Refusal> for Response {
    fn from(refusal: Refusal) -> Self {
        refusal.into_response()
    }
}

fn refuse(status: StatusCode, message: String) -> Refusal {
    Refusal(status, message.into())
}

/// The namespace a request names, or the answer to give when it names an invalid one.
pub(crate) fn resolve(state: &ServerState, headers: &HeaderMap) -> Result<Namespace, Refusal> {
    let named = headers
        .get("x-namespace")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let suffix = state.config.namespace_host_suffix.as_deref()?;
            let host = headers.get(header::HOST)?.to_str().ok()?;
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            let label = host.strip_suffix(suffix)?.strip_suffix('.')?;
            (!label.is_empty() && !label.contains('.')).then(|| label.to_owned())
        });
    match named {
        // `default` is the root database, as in tokens and in sqld; no tenant may take it.
        None => Ok(None),
        Some(name) if name == super::auth::ROOT_NAMESPACE => Ok(None),
        Some(name) => TenantId::new(name)
            .map(Some)
            .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("invalid namespace: {e}"))),
    }
}

/// The adapter serving `ns`.
pub(crate) async fn adapter(
    state: &ServerState,
    ns: &Namespace,
) -> Result<Arc<dyn Adapter>, Refusal> {
    let Some(id) = ns else {
        return Ok(state.root.clone());
    };
    let Some(tenants) = &state.tenants else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            format!("namespace {id} does not exist: this server has no namespaces"),
        ));
    };
    tenants.tenant(id).await.map_err(|e| match e.kind() {
        ErrorKind::NoSuchTenant => refuse(
            StatusCode::NOT_FOUND,
            format!("namespace {id} does not exist; create it with POST /v1/namespaces/{id}/create ({e})"),
        ),
        kind => refuse(
            super::errors::unreachable_status(kind),
            format!("namespace {id} cannot be opened: {e}"),
        ),
    })
}

fn manager(state: &ServerState) -> Result<&Arc<dyn dbx_core::TenantManager>, Refusal> {
    state.tenants.as_ref().ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "this server has no namespaces".to_owned(),
        )
    })
}

fn tenant_id(ns: &str) -> Result<TenantId, Refusal> {
    TenantId::new(ns)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("invalid namespace: {e}")))
}

fn outcome(result: dbx_core::Result<()>, missing: StatusCode) -> Response {
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) if e.kind() == ErrorKind::TenantExists => {
            refuse(StatusCode::CONFLICT, e.to_string()).into_response()
        }
        Err(e) if e.kind() == ErrorKind::NoSuchTenant => {
            refuse(missing, e.to_string()).into_response()
        }
        Err(e) if e.kind() == ErrorKind::InvalidTenant => {
            refuse(StatusCode::BAD_REQUEST, e.to_string()).into_response()
        }
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `POST /v1/namespaces/{ns}/create`.
pub(crate) async fn create(
    State(state): State<Arc<ServerState>>,
    Path(ns): Path<String>,
) -> Response {
    let (tenants, id) = match (manager(&state), tenant_id(&ns)) {
        (Ok(t), Ok(id)) => (t, id),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    outcome(tenants.create_tenant(&id).await, StatusCode::BAD_REQUEST)
}

/// `DELETE /v1/namespaces/{ns}`.
pub(crate) async fn delete(
    State(state): State<Arc<ServerState>>,
    Path(ns): Path<String>,
) -> Response {
    let (tenants, id) = match (manager(&state), tenant_id(&ns)) {
        (Ok(t), Ok(id)) => (t, id),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    // Streams of the deleted namespace lose their database; drop them now.
    state
        .streams
        .lock()
        .await
        .slots
        .retain(|_, slot| slot.namespace() != Some(&id));
    outcome(tenants.delete_tenant(&id).await, StatusCode::NOT_FOUND)
}

/// `GET /v1/namespaces`: `{"namespaces": ["a", "b"]}`.
pub(crate) async fn list(State(state): State<Arc<ServerState>>) -> Response {
    let tenants = match manager(&state) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match tenants.list_tenants().await {
        Ok(ids) => Json(serde_json::json!({ "namespaces": ids })).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
