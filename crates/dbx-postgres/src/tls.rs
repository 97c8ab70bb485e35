//! TLS with rustls (ring provider), behind the `tls` feature.

use std::sync::Arc;

use dbx_core::{Error, Result};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{PgConfig, SslMode};

/// The connector for `config`, or `None` when it asks for no TLS.
pub(crate) fn connector(config: &PgConfig) -> Result<Option<MakeRustlsConnect>> {
    let wants = config.sslmode != SslMode::Disable
        || config
            .url
            .as_deref()
            .is_some_and(|u| u.contains("sslmode=require") || u.contains("sslmode=prefer"));
    if !wants {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    match &config.ssl_root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    Error::Config(format!("cannot read ssl-root-cert {}: {e}", path.display()))
                })?;
            if certs.is_empty() {
                return Err(Error::Config(format!(
                    "ssl-root-cert {} holds no certificate",
                    path.display()
                )));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Error::Config(format!("bad certificate in {}: {e}", path.display()))
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(tls)))
}
