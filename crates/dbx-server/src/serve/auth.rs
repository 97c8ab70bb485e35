//! Who is calling the REST API: the `Authorization: Bearer` token, checked against the same
//! Ed25519 keys as the Hrana server. Without keys every caller may do everything (and the
//! server only listens on loopback).

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use dbx_core::tenancy::TenantId;
use dbx_hrana::TokenRights;

use super::App;
use super::error::ApiError;
use super::model::{ErrorBody, NamedDatabase, Session};

/// The caller's rights; `None` when the server has no keys.
#[derive(Debug)]
pub(crate) struct Caller(Option<TokenRights>);

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let Some(keys) = &app.auth else {
            return Ok(Caller(None));
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "send `Authorization: Bearer <token>`; `dbx token create` makes one",
                )
            })?;
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::unauthorized(format!(
                "the Authorization scheme is {scheme:?}; use `Bearer <token>`"
            )));
        }
        keys.verify(token)
            .map(|rights| Caller(Some(rights)))
            .map_err(|refused| {
                ApiError::unauthorized(format!("{} ({})", refused.message, refused.code))
            })
    }
}

fn name(tenant: Option<&TenantId>) -> String {
    tenant.map_or_else(|| "the root database".to_owned(), |t| format!("tenant {t}"))
}

impl Caller {
    pub(crate) fn require_read(&self, tenant: Option<&TenantId>) -> Result<(), ApiError> {
        match &self.0 {
            Some(rights) if !rights.can_read(tenant) => Err(ApiError::forbidden(format!(
                "this token may not read {}",
                name(tenant)
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn require_write(&self, tenant: Option<&TenantId>) -> Result<(), ApiError> {
        match &self.0 {
            Some(rights) if !rights.can_write(tenant) => Err(ApiError::forbidden(format!(
                "this token may not write {}; a read-write token is needed",
                name(tenant)
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn require_read_everything(&self) -> Result<(), ApiError> {
        match &self.0 {
            Some(rights) if !rights.can_read_everything() => Err(ApiError::forbidden(
                "listing tenants needs a token that is not limited to some tenants",
            )),
            _ => Ok(()),
        }
    }

    /// How long the caller's statements on `tenant` may run: an administrator's (and every
    /// caller's without keys) by the admin limit, a token that may write there by the
    /// read-write one, any other by the read-only one.
    pub(crate) fn statement_timeout(
        &self,
        timeouts: &dbx_hrana::RoleTimeouts,
        tenant: Option<&TenantId>,
    ) -> Option<std::time::Duration> {
        match &self.0 {
            None => timeouts.admin,
            Some(rights) if rights.is_admin() => timeouts.admin,
            Some(rights) if rights.can_write(tenant) => timeouts.read_write,
            Some(_) => timeouts.read_only,
        }
    }

    pub(crate) fn require_admin(&self) -> Result<(), ApiError> {
        match &self.0 {
            Some(rights) if !rights.is_admin() => Err(ApiError::forbidden(
                "this needs an admin token (`dbx token create --role admin`)",
            )),
            _ => Ok(()),
        }
    }
}

/// What the caller's token allows, for clients (the Studio) that shape their screens by it.
#[utoipa::path(get, path = "/api/session", responses((status = 200, body = Session), (status = 401, body = ErrorBody)), tag = "auth")]
pub(super) async fn session(State(app): State<Arc<App>>, caller: Caller) -> Json<Session> {
    let auth = app.auth.is_some();
    Json(match &caller.0 {
        None => Session {
            auth,
            role: "admin".to_owned(),
            read_everything: true,
            write_everything: true,
            databases: Vec::new(),
        },
        Some(rights) => {
            let write_everything = rights.can_write_everything();
            let named = rights.named_databases();
            let role = if rights.is_admin() {
                "admin"
            } else if write_everything || named.iter().any(|(_, write)| *write) {
                "rw"
            } else {
                "ro"
            };
            Session {
                auth,
                role: role.to_owned(),
                read_everything: rights.can_read_everything(),
                write_everything,
                databases: named
                    .into_iter()
                    .map(|(name, write)| NamedDatabase { name, write })
                    .collect(),
            }
        }
    })
}
