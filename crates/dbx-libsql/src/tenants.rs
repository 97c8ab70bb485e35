//! [`LibsqlTenants`]: namespace-per-tenant through the sqld admin API.

use std::sync::Arc;

use dbx_core::tenancy::{TenantCache, TenantCacheConfig, TenantCacheStats};
use dbx_core::{Adapter, Error, Result, TenancyPolicy, TenantId, TenantManager, async_trait};
use hyper_014::{Body, Client, Method, Request, StatusCode, client::HttpConnector};

use crate::adapter::LibsqlAdapter;
use crate::config::LibsqlConfig;

/// Tenants as namespaces of one libSQL server. Created, deleted and listed through its admin
/// API (`POST /v1/namespaces/{ns}/create`, `DELETE /v1/namespaces/{ns}`, and dbx's
/// `GET /v1/namespaces`); opened on first access as adapters that send `x-namespace`, or that
/// reach `tenant_url_template` with `{tenant}` replaced (subdomain routing).
#[derive(Debug)]
pub struct LibsqlTenants {
    config: LibsqlConfig,
    admin_url: String,
    tenant_url_template: Option<String>,
    http: Client<HttpConnector>,
    cache: TenantCache,
}

impl LibsqlTenants {
    /// Tenants of the server at `config.url`, administered at `admin_url` (the same server
    /// when its admin API is on the main listener).
    pub fn new(
        config: LibsqlConfig,
        admin_url: impl Into<String>,
        cache: TenantCacheConfig,
    ) -> Self {
        Self {
            config,
            admin_url: admin_url.into().trim_end_matches('/').to_owned(),
            tenant_url_template: None,
            http: Client::new(),
            cache: TenantCache::new(cache),
        }
    }

    /// Reaches each tenant at `template` with `{tenant}` replaced by its id
    /// (`http://{tenant}.db.example.com`) instead of sending `x-namespace`.
    pub fn with_url_template(mut self, template: impl Into<String>) -> Self {
        self.tenant_url_template = Some(template.into());
        self
    }

    /// Sends one admin request; the status and the body.
    async fn admin(&self, method: Method, path: &str) -> Result<(StatusCode, String)> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.admin_url));
        if let Some(token) = &self.config.auth_token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Body::empty()).map_err(|e| {
            Error::Config(format!(
                "the admin URL {:?} is not usable: {e}",
                self.admin_url
            ))
        })?;
        let response = self.http.request(request).await.map_err(|e| {
            Error::ConnectionLost(format!(
                "the libSQL admin API at {} is unreachable: {e}",
                self.admin_url
            ))
        })?;
        let status = response.status();
        let body = hyper_014::body::to_bytes(response.into_body())
            .await
            .map_err(|e| Error::ConnectionLost(format!("the admin API's answer was cut: {e}")))?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    fn admin_error(&self, what: &str, status: StatusCode, body: &str) -> Error {
        Error::Config(format!(
            "the libSQL admin API refused to {what}: HTTP {status}: {body}"
        ))
    }

    fn tenant_config(&self, id: &TenantId) -> LibsqlConfig {
        let mut config = self.config.clone();
        config.replicas.clear();
        match &self.tenant_url_template {
            Some(template) => config.url = template.replace("{tenant}", id.as_str()),
            None => config.namespace = Some(id.as_str().to_owned()),
        }
        config
    }
}

#[async_trait]
impl TenantManager for LibsqlTenants {
    fn policy(&self) -> TenancyPolicy {
        TenancyPolicy::NamespacePerTenant
    }

    async fn create_tenant(&self, id: &TenantId) -> Result<()> {
        let (status, body) = self
            .admin(Method::POST, &format!("/v1/namespaces/{id}/create"))
            .await?;
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::CONFLICT => Err(Error::TenantExists { id: id.to_string() }),
            s => Err(self.admin_error(&format!("create namespace {id}"), s, &body)),
        }
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<()> {
        if let Some(open) = self.cache.remove(id).await {
            open.close().await;
        }
        let (status, body) = self
            .admin(Method::DELETE, &format!("/v1/namespaces/{id}"))
            .await?;
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(Error::no_such_tenant(id)),
            s => Err(self.admin_error(&format!("delete namespace {id}"), s, &body)),
        }
    }

    async fn list_tenants(&self) -> Result<Vec<TenantId>> {
        let (status, body) = self.admin(Method::GET, "/v1/namespaces").await?;
        if !status.is_success() {
            return Err(self.admin_error("list namespaces", status, &body));
        }
        parse_namespaces(&body)
    }

    async fn tenant_exists(&self, id: &TenantId) -> Result<bool> {
        Ok(self.list_tenants().await?.contains(id))
    }

    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>> {
        self.cache
            .get_or_open(id, async {
                if !self.tenant_exists(id).await? {
                    return Err(Error::no_such_tenant(id));
                }
                let adapter = LibsqlAdapter::connect(self.tenant_config(id)).await?;
                Ok(Arc::new(adapter) as Arc<dyn Adapter>)
            })
            .await
    }

    fn cache_stats(&self) -> TenantCacheStats {
        self.cache.stats()
    }

    async fn close_all(&self) {
        self.cache.close_all().await;
    }
}

/// `{"namespaces": ["a", "b"]}`, sorted; names that are not valid tenant ids are skipped.
fn parse_namespaces(body: &str) -> Result<Vec<TenantId>> {
    #[derive(serde::Deserialize)]
    struct Listing {
        namespaces: Vec<String>,
    }
    let listing: Listing = serde_json::from_str(body).map_err(|_| bad_list(body))?;
    let mut ids: Vec<TenantId> = listing
        .namespaces
        .into_iter()
        .filter_map(|name| TenantId::new(name).ok())
        .collect();
    ids.sort();
    Ok(ids)
}

fn bad_list(body: &str) -> Error {
    Error::Config(format!(
        "the libSQL server's GET /v1/namespaces answered {body:?}, not a namespace list; \
         it may be an sqld without dbx's listing endpoint"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_lists_parse() {
        let ids = parse_namespaces(r#"{"namespaces": ["beta", "alpha"]}"#).unwrap();
        let names: Vec<&str> = ids.iter().map(TenantId::as_str).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert!(
            parse_namespaces(r#"{"namespaces": []}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse_namespaces("not found").is_err());
    }
}
