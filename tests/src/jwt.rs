//! Ed25519 JWTs for servers with auth: one trusted key, and tokens signed by it or by others.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dbx_hrana::{AuthKeys, Config};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};

/// A deterministic key, so that tests can sign with the trusted one or another.
pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A server trusting the key with `seed` 1, given as sqld takes a raw key.
pub fn auth_config() -> Config {
    let public = URL_SAFE_NO_PAD.encode(signing_key(1).verifying_key().to_bytes());
    Config {
        auth: Some(AuthKeys::parse(&public).unwrap()),
        ..Config::default()
    }
}

/// A token with `claims`, signed by `key`.
pub fn token_signed_by(key: &SigningKey, claims: Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "typ": "JWT"}).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{head}.{body}");
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signed.as_bytes()).to_bytes());
    format!("{signed}.{signature}")
}

/// A token with `claims`, signed by the trusted key.
pub fn token(claims: Value) -> String {
    token_signed_by(&signing_key(1), claims)
}
