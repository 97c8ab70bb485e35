//! `https://` servers: a hyper-rustls connector (ring) for the libsql crate's hyper 0.14
//! stack, trusting the system's roots, or only the CA in `LibsqlConfig::tls_ca_file`.

use std::path::Path;

use dbx_core::{Error, Result};
use hyper_014::client::HttpConnector;
use hyper_rustls_025::{HttpsConnector, HttpsConnectorBuilder};

pub(crate) fn connector(ca_file: Option<&Path>) -> Result<HttpsConnector<HttpConnector>> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let builder = HttpsConnectorBuilder::new();
    let builder = match ca_file {
        None => builder
            .with_native_roots()
            .map_err(|e| Error::Config(format!("cannot load the system's TLS roots: {e}")))?,
        Some(path) => builder.with_tls_config(client_config(path)?),
    };
    Ok(builder.https_only().enable_http1().wrap_connector(http))
}

fn client_config(ca_file: &Path) -> Result<rustls_022::ClientConfig> {
    let pem = std::fs::read(ca_file).map_err(|e| Error::io(ca_file, e))?;
    let mut roots = rustls_022::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| {
            Error::Config(format!("{}: not a PEM certificate: {e}", ca_file.display()))
        })?;
        roots.add(cert).map_err(|e| {
            Error::Config(format!(
                "{}: not a usable CA certificate: {e}",
                ca_file.display()
            ))
        })?;
    }
    if roots.is_empty() {
        return Err(Error::Config(format!(
            "{}: holds no PEM certificate; give the CA that signed the server's certificate",
            ca_file.display()
        )));
    }
    Ok(rustls_022::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth())
}
