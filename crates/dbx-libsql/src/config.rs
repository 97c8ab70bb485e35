//! Where the primary, the replicas and the credentials are.

use std::time::Duration;

use dbx_core::{Error, Result};

/// How to reach a libSQL server (sqld, Turso, or `dbx serve`) over Hrana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibsqlConfig {
    /// The primary: every write, and everything inside a transaction, goes here.
    pub url: String,
    /// Sent as `Authorization: Bearer`.
    pub auth_token: Option<String>,
    /// Read replicas: reads outside transactions go round-robin over them.
    pub replicas: Vec<String>,
    /// How long a replica that failed sits out before it is tried again.
    ///
    /// Default: 5 s.
    pub replica_back_off: Duration,
    /// The namespace to use, sent as `x-namespace`.
    pub namespace: Option<String>,
    /// With the `tls` feature: trust only this CA (PEM) for `https://` servers, instead of
    /// the system's roots.
    ///
    /// Default: none.
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// Connections (Hrana streams) open at once at most, over primary and replicas; more
    /// callers wait for one to finish.
    ///
    /// Default: 64.
    pub max_connections: usize,
}

impl LibsqlConfig {
    /// A primary at `url`, without token, replicas or namespace.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth_token: None,
            replicas: Vec::new(),
            replica_back_off: Duration::from_secs(5),
            namespace: None,
            max_connections: 64,
            tls_ca_file: None,
        }
    }

    /// From `DATABASE_LIBSQL_URL`, `DATABASE_LIBSQL_AUTH_TOKEN` and
    /// `DATABASE_LIBSQL_REPLICAS` (comma-separated URLs).
    pub fn from_env() -> Result<Self> {
        let url = std::env::var("DATABASE_LIBSQL_URL").map_err(|_| {
            Error::Config("DATABASE_LIBSQL_URL is not set: give the libSQL server's URL".into())
        })?;
        let mut config = Self::new(url);
        config.auth_token = std::env::var("DATABASE_LIBSQL_AUTH_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
        config.replicas = std::env::var("DATABASE_LIBSQL_REPLICAS")
            .map(|list| parse_replicas(&list))
            .unwrap_or_default();
        Ok(config)
    }
}

/// Comma-separated URLs, blanks ignored.
pub(crate) fn parse_replicas(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_lists_ignore_blanks() {
        assert_eq!(
            parse_replicas(" http://a:1 , ,http://b:2,"),
            ["http://a:1", "http://b:2"]
        );
        assert!(parse_replicas("").is_empty());
    }
}
