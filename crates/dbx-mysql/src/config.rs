//! Connection and pool settings.

use dbx_core::pool::PoolSettings;
use dbx_core::{Error, Result, TenantLogin};

/// How to reach a MySQL or MariaDB server.
///
/// Give either `url` or the parts; a URL wins over the parts.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "serde",
    serde(default, rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct MySqlConfig {
    /// `mysql://user:password@host:port/database`.
    ///
    /// Default: none.
    pub url: Option<String>,
    /// Default: `127.0.0.1`.
    pub host: String,
    /// Default: 3306.
    pub port: u16,
    /// Default: `root`.
    pub user: String,
    /// Default: none.
    pub password: Option<String>,
    /// Require TLS (needs the `tls` feature).
    ///
    /// Default: false.
    pub ssl: bool,
    /// PEM file of the certificate authorities to trust for TLS; none trusts the webpki
    /// (Mozilla) roots.
    ///
    /// Default: none.
    pub ssl_root_cert: Option<std::path::PathBuf>,
    /// The root adapter's database; overrides the URL's.
    ///
    /// Default: none.
    pub database: Option<String>,
    /// The prefix of tenant databases: tenant `acme` lives in database `t_acme`.
    ///
    /// Default: `t_`.
    pub tenant_database_prefix: String,
    /// Which login runs a tenant's SQL: `per-tenant` (a user of its own per tenant, with
    /// every right on its database and none elsewhere; needs a login that may create users
    /// and grant) or `shared` (this login, kept to the tenant's database by `USE` only).
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

impl Default for MySqlConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "127.0.0.1".to_owned(),
            port: 3306,
            user: "root".to_owned(),
            password: None,
            ssl: false,
            ssl_root_cert: None,
            database: None,
            tenant_database_prefix: "t_".to_owned(),
            tenant_login: TenantLogin::default(),
            statement_cache_capacity: 256,
            pool: PoolSettings::default(),
        }
    }
}

impl MySqlConfig {
    /// A config from a URL.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// Applies `MYSQL_HOST`, `MYSQL_PORT`, `MYSQL_DATABASE`, `MYSQL_USER`, `MYSQL_PASSWORD`,
    /// `DB_POOL_MIN`, `DB_POOL_MAX` and `DB_IDLE_TIMEOUT`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = get("MYSQL_HOST") {
            self.host = v;
        }
        if let Some(v) = get("MYSQL_PORT") {
            self.port = dbx_core::env::parse("MYSQL_PORT", &v)?;
        }
        if let Some(v) = get("MYSQL_DATABASE") {
            self.database = Some(v);
        }
        if let Some(v) = get("MYSQL_USER") {
            self.user = v;
        }
        if let Some(v) = get("MYSQL_PASSWORD") {
            self.password = Some(v);
        }
        self.pool.apply_env(&get)?;
        Ok(())
    }

    /// The mysql_async options these stand for.
    pub(crate) fn to_driver(&self) -> Result<mysql_async::Opts> {
        if self.pool.max_size == 0 {
            return Err(Error::Config("pool max-size must be at least 1".to_owned()));
        }
        let base = match &self.url {
            Some(url) => mysql_async::OptsBuilder::from_opts(
                mysql_async::Opts::from_url(url).map_err(|e| {
                    Error::Config(format!(
                        "invalid MySQL URL: {e}; expected mysql://user:password@host:port/database"
                    ))
                })?,
            ),
            None => mysql_async::OptsBuilder::default()
                .ip_or_hostname(self.host.clone())
                .tcp_port(self.port)
                .user(Some(self.user.clone()))
                .pass(self.password.clone()),
        };
        let base = if self.ssl {
            if !cfg!(feature = "tls") {
                return Err(Error::Config(
                    "TLS to MySQL is required, but dbx-mysql was built without its `tls` feature: \
                     enable it, or set ssl to false"
                        .to_owned(),
                ));
            }
            let mut ssl = mysql_async::SslOpts::default();
            if let Some(ca) = &self.ssl_root_cert {
                ssl = ssl.with_root_certs(vec![ca.clone().into()]);
            }
            base.ssl_opts(Some(ssl))
        } else {
            base
        };
        let base = match &self.database {
            Some(db) => base.db_name(Some(db.clone())),
            None => base,
        };
        // UPDATE reports matched rows, as SQLite and PostgreSQL do, not only changed ones.
        // dbx keeps its own statement cache, keyed by database (see pool.rs), so the driver's is off.
        Ok(base
            .client_found_rows(true)
            .stmt_cache_size(0)
            .prefer_socket(false)
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_and_bad_values() {
        let mut c = MySqlConfig::default();
        c.apply_env(|k| match k {
            "MYSQL_HOST" => Some("db".to_owned()),
            "DB_POOL_MAX" => Some("12".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!((c.host.as_str(), c.pool.max_size), ("db", 12));
        let err = c
            .apply_env(|k| (k == "MYSQL_PORT").then(|| "x".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("MYSQL_PORT"), "{err}");
        assert!(MySqlConfig::from_url("postgres://x").to_driver().is_err());
    }
}
