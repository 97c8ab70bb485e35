//! One keep-alive HTTP client for the attack suite: REST calls, Hrana pipelines with their
//! namespace header, and what came back.

use hyper_014::client::HttpConnector;
use serde_json::{Value as Json, json};

pub(super) struct Client {
    http: hyper_014::Client<HttpConnector>,
    base: String,
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or(Json::Null)
    }
}

/// A Hrana `execute` request.
pub(super) fn execute(sql: &str) -> Json {
    json!({"type": "execute", "stmt": {"sql": sql}})
}

/// `text` percent-encoded for a URL path or query, every byte but letters and digits.
pub(super) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Client {
    pub(super) fn new(base: &str) -> Self {
        Self {
            http: hyper_014::Client::new(),
            base: base.to_owned(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        namespace: Option<&str>,
        body: Option<Json>,
    ) -> Reply {
        let mut request = hyper_014::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(ns) = namespace {
            request = request.header("x-namespace", ns);
        }
        let body = match body {
            Some(b) => {
                request = request.header("content-type", "application/json");
                hyper_014::Body::from(b.to_string())
            }
            None => hyper_014::Body::empty(),
        };
        let response = self
            .http
            .request(request.body(body).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: the server did not answer: {e}"));
        let status = response.status().as_u16();
        let bytes = hyper_014::body::to_bytes(response.into_body())
            .await
            .unwrap();
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub(super) async fn rest(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Json>,
    ) -> Reply {
        self.send(method, path, token, None, body).await
    }

    /// A Hrana pipeline (`/v2/pipeline`) in `namespace`.
    pub(super) async fn hrana(
        &self,
        namespace: &str,
        token: &str,
        baton: Option<&str>,
        requests: Json,
    ) -> Reply {
        let body = json!({"baton": baton, "requests": requests});
        self.send(
            "POST",
            "/v2/pipeline",
            Some(token),
            Some(namespace),
            Some(body),
        )
        .await
    }

    /// Inserts one row of `tenant`'s own through the REST row API.
    pub(super) async fn insert_rest(&self, kind: &str, tenant: &str, token: &str, n: u64) -> Reply {
        let path = format!("/api/databases/{kind}.{tenant}/tables/secrets/rows");
        self.rest(
            "POST",
            &path,
            Some(token),
            Some(json!({"values": {"owner": tenant, "n": n}})),
        )
        .await
    }

    /// Inserts one row of `tenant`'s own through Hrana, with bound arguments.
    pub(super) async fn insert_hrana(&self, tenant: &str, token: &str, n: usize) -> Reply {
        let insert = json!({"type": "execute", "stmt": {
            "sql": "INSERT INTO secrets (owner, n) VALUES (?, ?)",
            "args": [{"type": "text", "value": tenant}, {"type": "integer", "value": n.to_string()}],
        }});
        self.hrana(tenant, token, None, json!([insert, {"type": "close"}]))
            .await
    }
}
