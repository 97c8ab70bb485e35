//! Ed25519 JWTs, compatible with sqld's: who may read or write which namespace.
//!
//! Tokens are `header.payload.signature`, URL-safe base64, signed with EdDSA (Ed25519).
//! Claims: `a` is `ro`/`rw` (`roa`/`rwa` read the same way), for every namespace, or only for
//! the namespace named by the legacy `id` claim; `p` grants per namespace
//! (`{"ro": {"ns": ["a"]}, "rw": {"ns": ["b"]}}`, with `roa`, `rwa` and `ddl` too); `exp` and
//! `nbf` are honoured when present. The root database is the namespace `default`.
//! dbx's own tokens may add `role`: a token that may write everywhere is an administrator
//! (admin API, tenant management) unless its `role` says `rw` or `ro`.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::namespace::Namespace;
use super::stream::Caller;

/// The name the root database goes by in tokens.
pub const ROOT_NAMESPACE: &str = "default";

/// The public keys tokens are checked against; any one of them may have signed a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthKeys(Vec<VerifyingKey>);

impl AuthKeys {
    /// Reads keys as sqld takes them: one or more PEM `PUBLIC KEY` blocks, or one raw 32-byte
    /// key in URL-safe base64.
    pub fn parse(text: &str) -> dbx_core::Result<Self> {
        let text = text.trim();
        let config = |m: String| dbx_core::Error::Config(m);
        if text.contains("-----BEGIN") {
            let mut keys = Vec::new();
            for block in text.split_inclusive("-----END PUBLIC KEY-----") {
                let block = block.trim();
                if block.is_empty() {
                    continue;
                }
                let key = VerifyingKey::from_public_key_pem(block).map_err(|e| {
                    config(format!(
                        "a JWT key is not an Ed25519 PEM PUBLIC KEY block: {e}"
                    ))
                })?;
                keys.push(key);
            }
            return Ok(Self(keys));
        }
        let bytes = decode_b64(text).ok_or_else(|| {
            config("a raw JWT key must be 32 bytes of URL-safe base64, or PEM".to_owned())
        })?;
        let raw: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            config(format!(
                "a raw Ed25519 JWT key has 32 bytes; this one has {}",
                b.len()
            ))
        })?;
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|e| config(format!("the JWT key is not a valid Ed25519 key: {e}")))?;
        Ok(Self(vec![key]))
    }
}

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

/// What a token allows on one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    Read,
    Write,
}

/// The rights a request holds, and which token they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// SHA-256 of the token; `None` when auth is off. Streams are bound to it.
    pub(crate) token: Option<[u8; 32]>,
    everywhere: Option<Access>,
    per_namespace: HashMap<String, Access>,
    /// The `role` claim said this token is not an administrator, whatever it may write.
    not_admin: bool,
    /// When the token stops being valid (its `exp`).
    expires: Option<SystemTime>,
}

impl Grant {
    /// Everything, for a server without keys.
    pub(crate) fn open() -> Self {
        Self {
            token: None,
            everywhere: Some(Access::Write),
            per_namespace: HashMap::new(),
            not_admin: false,
            expires: None,
        }
    }

    /// Whether the token has expired since it was checked: a WebSocket connection keeps
    /// the grant of its `hello`, and must not outlive the token.
    pub(crate) fn has_expired(&self) -> bool {
        self.expires.is_some_and(|exp| SystemTime::now() >= exp)
    }

    /// The rights and limits of a request made with this grant and `access`.
    pub(crate) fn caller(&self, access: Access, limits: &super::RoleTimeouts) -> Caller {
        let timeout = if self.is_admin() {
            limits.admin
        } else if access == Access::Write {
            limits.read_write
        } else {
            limits.read_only
        };
        Caller {
            read_only: access == Access::Read,
            timeout,
        }
    }

    /// Whether it may write every namespace and is not marked otherwise: what the admin API
    /// asks for.
    pub(crate) fn is_admin(&self) -> bool {
        self.everywhere == Some(Access::Write) && !self.not_admin
    }

    /// What it allows on every namespace at once.
    pub(crate) fn everywhere(&self) -> Option<Access> {
        self.everywhere
    }

    /// The namespaces it names one by one, with what it allows on each.
    pub(crate) fn per_namespace(&self) -> impl Iterator<Item = (&str, Access)> {
        self.per_namespace
            .iter()
            .map(|(ns, access)| (ns.as_str(), *access))
    }

    /// What this grant allows on `ns`, if anything.
    pub(crate) fn access(&self, ns: &Namespace) -> Option<Access> {
        let name = ns.as_ref().map_or(ROOT_NAMESPACE, |id| id.as_str());
        self.everywhere.max(self.per_namespace.get(name).copied())
    }
}

/// Why a token was refused: a Hrana error code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) status: StatusCode,
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> AuthError {
    AuthError {
        code,
        message: message.into(),
        status: StatusCode::UNAUTHORIZED,
    }
}

impl IntoResponse for AuthError {
    /// sqld's `{"error": ...}` shape, plus `message` and `code` so that Hrana clients show the
    /// real code rather than a bare HTTP status.
    fn into_response(self) -> Response {
        let prefix = if self.status == StatusCode::FORBIDDEN {
            "Authorization forbidden"
        } else {
            "Unauthorized"
        };
        let body = serde_json::json!({
            "error": format!("{prefix}: {}", self.message),
            "message": self.message,
            "code": self.code,
        });
        (self.status, Json(body)).into_response()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize, Default)]
struct NamespaceList {
    #[serde(default)]
    ns: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Permissions {
    #[serde(default)]
    ro: NamespaceList,
    #[serde(default)]
    roa: NamespaceList,
    #[serde(default)]
    rw: NamespaceList,
    #[serde(default)]
    rwa: NamespaceList,
    #[serde(default)]
    ddl: NamespaceList,
}

#[derive(Deserialize)]
struct Claims {
    a: Option<String>,
    id: Option<String>,
    p: Option<Permissions>,
    exp: Option<f64>,
    nbf: Option<f64>,
    role: Option<String>,
}

/// Checks a token's signature, times and claims.
pub(crate) fn verify(keys: &AuthKeys, token: &str) -> Result<Grant, AuthError> {
    let invalid = |why: &str| unauthorized("AUTH_JWT_INVALID", format!("invalid JWT: {why}"));
    let mut parts = token.trim().split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("a JWT has three dot-separated parts"));
    };
    let header: Header = decode_b64(head)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("the header is not base64 JSON"))?;
    if header.alg != "EdDSA" {
        return Err(invalid(&format!(
            "the algorithm is {:?}; tokens must be signed with EdDSA (Ed25519)",
            header.alg
        )));
    }
    let signature = decode_b64(sig)
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| invalid("the signature is not a base64 Ed25519 signature"))?;
    let signed = &token.trim().as_bytes()[..head.len() + 1 + body.len()];
    if !keys
        .0
        .iter()
        .any(|key| key.verify_strict(signed, &signature).is_ok())
    {
        return Err(invalid("no configured key verifies its signature"));
    }
    let claims: Claims = decode_b64(body)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("the claims are not base64 JSON"))?;
    let now = now();
    if claims.exp.is_some_and(|exp| now >= exp) {
        return Err(unauthorized("AUTH_JWT_EXPIRED", "The JWT has expired"));
    }
    if claims.nbf.is_some_and(|nbf| now < nbf) {
        return Err(unauthorized(
            "AUTH_JWT_IMMATURE",
            "The JWT is not valid yet (nbf is in the future)",
        ));
    }
    grant_of(claims, token)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn grant_of(claims: Claims, token: &str) -> Result<Grant, AuthError> {
    let base = match claims.a.as_deref() {
        Some("ro" | "roa") => Some(Access::Read),
        Some("rw" | "rwa") => Some(Access::Write),
        None if claims.p.is_none() => Some(Access::Write),
        None => None,
        Some(other) => {
            return Err(unauthorized(
                "AUTH_JWT_INVALID",
                format!("invalid JWT: claim `a` is {other:?}; use \"ro\" or \"rw\""),
            ));
        }
    };
    let mut per_namespace = HashMap::new();
    let mut everywhere = base;
    if let Some(id) = claims.id {
        everywhere = None;
        if let Some(access) = base {
            per_namespace.insert(id, access);
        }
    }
    if let Some(p) = claims.p {
        let lists = [
            (p.ro, Access::Read),
            (p.roa, Access::Read),
            (p.rw, Access::Write),
            (p.rwa, Access::Write),
            (p.ddl, Access::Write),
        ];
        for (list, access) in lists {
            for ns in list.ns {
                let entry = per_namespace.entry(ns).or_insert(access);
                *entry = (*entry).max(access);
            }
        }
    }
    let not_admin = match claims.role.as_deref() {
        None | Some("admin") => false,
        Some("rw" | "ro") => true,
        Some(other) => {
            return Err(unauthorized(
                "AUTH_JWT_INVALID",
                format!("invalid JWT: claim `role` is {other:?}; use \"admin\", \"rw\" or \"ro\""),
            ));
        }
    };
    Ok(Grant {
        token: Some(Sha256::digest(token.trim().as_bytes()).into()),
        everywhere,
        per_namespace,
        not_admin,
        expires: claims.exp.map(|exp| {
            let after = std::time::Duration::try_from_secs_f64(exp).unwrap_or_default();
            UNIX_EPOCH + after
        }),
    })
}

/// The grant of a WebSocket `hello`: its `jwt`, checked when the server has keys.
pub(crate) fn from_hello(keys: Option<&AuthKeys>, jwt: Option<&str>) -> Result<Grant, AuthError> {
    let Some(keys) = keys else {
        return Ok(Grant::open());
    };
    let jwt = jwt.ok_or_else(|| {
        unauthorized(
            "AUTH_HEADER_NOT_FOUND",
            "Authentication failed: the hello message carries no jwt; send one",
        )
    })?;
    verify(keys, jwt)
}

/// The grant of an HTTP request: its `Authorization: Bearer` token, checked when the server
/// has keys.
pub(crate) fn from_headers(
    keys: Option<&AuthKeys>,
    headers: &HeaderMap,
) -> Result<Grant, AuthError> {
    let Some(keys) = keys else {
        return Ok(Grant::open());
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        unauthorized(
            "AUTH_HTTP_HEADER_MISSING",
            "Authentication failed: send `Authorization: Bearer <jwt>`",
        )
    })?;
    let value = value.to_str().map_err(|_| {
        unauthorized(
            "AUTH_HTTP_HEADER_INVALID",
            "the Authorization header is not ASCII",
        )
    })?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized(
            "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME",
            format!("the Authorization scheme is {scheme:?}; use `Bearer <jwt>`"),
        ));
    }
    verify(keys, token)
}

/// The refusal for a grant without any access to `ns`.
pub(crate) fn require_access(grant: &Grant, ns: &Namespace) -> Result<Access, AuthError> {
    grant.access(ns).ok_or_else(|| AuthError {
        code: "AUTH_JWT_NOT_ALLOWED",
        message: format!(
            "the token grants no access to namespace {}",
            ns.as_ref().map_or(ROOT_NAMESPACE, |id| id.as_str())
        ),
        status: StatusCode::FORBIDDEN,
    })
}

/// Guards the admin API: with keys configured, only a token that may write every namespace
/// (`a: rw` without `id`, or no claims) gets through.
pub(crate) async fn require_admin(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<super::ServerState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(keys) = &state.config.auth {
        match from_headers(Some(keys), request.headers()) {
            Ok(grant) if grant.is_admin() => {}
            Ok(_) => {
                return AuthError {
                    code: "AUTH_JWT_NOT_ALLOWED",
                    message: "the admin API needs a token that may write every namespace \
                              (claim `a: rw` without `id` or `p`)"
                        .to_owned(),
                    status: StatusCode::FORBIDDEN,
                }
                .into_response();
            }
            Err(e) => return e.into_response(),
        }
    }
    next.run(request).await
}

/// The 403 for a read-only token that tried to write.
pub(crate) fn forbidden_write(message: String) -> AuthError {
    AuthError {
        code: "SQLITE_AUTH",
        message,
        status: StatusCode::FORBIDDEN,
    }
}
