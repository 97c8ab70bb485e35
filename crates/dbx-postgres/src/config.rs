//! Connection and pool settings.

use dbx_core::pool::PoolSettings;
use dbx_core::{Error, Result, TenantLogin};

/// Whether to use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SslMode {
    /// Plain TCP.
    #[default]
    Disable,
    /// TLS if the server offers it (needs the `tls` feature).
    Prefer,
    /// TLS or fail (needs the `tls` feature).
    Require,
}

/// How to reach a PostgreSQL server.
///
/// Give either `url` or the parts; a URL wins over the parts.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "serde",
    serde(default, rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/dbname?sslmode=...`.
    ///
    /// Default: none.
    pub url: Option<String>,
    /// Default: `127.0.0.1`.
    pub host: String,
    /// Default: 5432.
    pub port: u16,
    /// Default: `postgres`.
    pub user: String,
    /// Default: none.
    pub password: Option<String>,
    /// Default: `postgres`.
    pub dbname: String,
    /// Default: disable.
    pub sslmode: SslMode,
    /// PEM file of the certificate authorities to trust for TLS; none trusts the webpki
    /// (Mozilla) roots.
    ///
    /// Default: none.
    pub ssl_root_cert: Option<std::path::PathBuf>,
    /// The root adapter's `search_path`; none keeps the server's default.
    ///
    /// Default: none.
    pub search_path: Option<String>,
    /// The prefix of tenant schemas: tenant `acme` lives in schema `t_acme`.
    ///
    /// Default: `t_`.
    pub tenant_schema_prefix: String,
    /// Which login runs a tenant's SQL: `per-tenant` (a role of its own per tenant, owning
    /// its schema and nothing else; needs a login that may create roles) or `shared` (this
    /// login, kept to the tenant's schema by `search_path` only).
    ///
    /// Default: `per-tenant`.
    pub tenant_login: TenantLogin,
    /// Prepared statements kept per connection.
    ///
    /// Default: 256.
    pub statement_cache_capacity: usize,
    /// Pool settings.
    pub pool: PoolSettings,
}

impl Default for PgConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "127.0.0.1".to_owned(),
            port: 5432,
            user: "postgres".to_owned(),
            password: None,
            dbname: "postgres".to_owned(),
            sslmode: SslMode::Disable,
            ssl_root_cert: None,
            search_path: None,
            tenant_schema_prefix: "t_".to_owned(),
            tenant_login: TenantLogin::default(),
            statement_cache_capacity: 256,
            pool: PoolSettings::default(),
        }
    }
}

impl PgConfig {
    /// A config from a URL.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// Applies the environment variables dbx honours: `POSTGRES_HOST`, `POSTGRES_PORT`,
    /// `POSTGRES_DB`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_SSL` (`true`/`require`,
    /// `prefer`, `false`/`disable`), `DB_POOL_MIN`, `DB_POOL_MAX` and `DB_IDLE_TIMEOUT`
    /// (seconds, or a duration like `30s`).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = get("POSTGRES_HOST") {
            self.host = v;
        }
        if let Some(v) = get("POSTGRES_PORT") {
            self.port = dbx_core::env::parse("POSTGRES_PORT", &v)?;
        }
        if let Some(v) = get("POSTGRES_DB") {
            self.dbname = v;
        }
        if let Some(v) = get("POSTGRES_USER") {
            self.user = v;
        }
        if let Some(v) = get("POSTGRES_PASSWORD") {
            self.password = Some(v);
        }
        if let Some(v) = get("POSTGRES_SSL") {
            self.sslmode = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "require" | "on" => SslMode::Require,
                "prefer" => SslMode::Prefer,
                "0" | "false" | "disable" | "off" | "" => SslMode::Disable,
                other => {
                    return Err(Error::Config(format!(
                        "POSTGRES_SSL={other:?}: use true/require, prefer or false/disable"
                    )));
                }
            };
        }
        self.pool.apply_env(&get)?;
        Ok(())
    }

    /// The tokio-postgres settings these stand for.
    pub(crate) fn to_driver(&self) -> Result<tokio_postgres::Config> {
        let mut config = match &self.url {
            Some(url) => url.parse::<tokio_postgres::Config>().map_err(|e| {
                Error::Config(format!("invalid PostgreSQL URL: {e}; expected postgres://user:password@host:port/dbname"))
            })?,
            None => {
                let mut c = tokio_postgres::Config::new();
                c.host(&self.host).port(self.port).user(&self.user).dbname(&self.dbname);
                if let Some(p) = &self.password {
                    c.password(p);
                }
                c
            }
        };
        config.connect_timeout(self.pool.connect_timeout);
        config.application_name("dbx");
        let mode = match (self.sslmode, config.get_ssl_mode()) {
            (SslMode::Require, _) | (_, tokio_postgres::config::SslMode::Require) => {
                SslMode::Require
            }
            (SslMode::Prefer, _) | (_, tokio_postgres::config::SslMode::Prefer)
                if cfg!(feature = "tls") =>
            {
                SslMode::Prefer
            }
            _ => SslMode::Disable,
        };
        if mode == SslMode::Require && !cfg!(feature = "tls") {
            return Err(Error::Config(
                "TLS to PostgreSQL is required, but dbx-postgres was built without its `tls` feature: \
                 enable it, or set sslmode to disable"
                    .to_owned(),
            ));
        }
        config.ssl_mode(match mode {
            SslMode::Require => tokio_postgres::config::SslMode::Require,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        });
        if self.pool.max_size == 0 {
            return Err(Error::Config("pool max-size must be at least 1".to_owned()));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn environment_overrides_parts() {
        let env = |k: &str| match k {
            "POSTGRES_HOST" => Some("db.internal".to_owned()),
            "POSTGRES_PORT" => Some("6543".to_owned()),
            "POSTGRES_SSL" => Some("false".to_owned()),
            "DB_POOL_MAX" => Some("40".to_owned()),
            "DB_IDLE_TIMEOUT" => Some("30000".to_owned()),
            _ => None,
        };
        let mut c = PgConfig::default();
        c.apply_env(env).unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.pool.max_size),
            ("db.internal", 6543, 40)
        );
        assert_eq!(c.pool.idle_timeout, Some(Duration::from_secs(30)));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let mut c = PgConfig::default();
        let err = c
            .apply_env(|k| (k == "POSTGRES_PORT").then(|| "lots".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("POSTGRES_PORT"), "{err}");
        assert!(PgConfig::from_url("mysql://nope").to_driver().is_err());
    }
}
