//! Tokens a server must refuse: unsigned (`alg: none`), signed with HMAC using the public key
//! as the secret (the classic algorithm confusion), expired, and signed by a key it does not
//! trust.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::support::{Db, describe};

pub(super) struct Forged {
    tokens: [(&'static str, String); 4],
}

fn part(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Claims that would make the bearer an admin everywhere.
fn admin_claims() -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"a": "rw", "role": "admin", "exp": now + 3600})
}

impl Forged {
    pub(super) fn new(db: &Db) -> Self {
        let claims = part(&admin_claims());
        let none = format!("{}.{claims}.", part(&json!({"alg": "none", "typ": "JWT"})));
        let public = std::fs::read(db.dir.path().join("dbx-auth.key.pub")).unwrap();
        let signed = format!("{}.{claims}", part(&json!({"alg": "HS256", "typ": "JWT"})));
        let mut mac = Hmac::<Sha256>::new_from_slice(&public).unwrap();
        mac.update(signed.as_bytes());
        let hs256 = format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        let expired = crate::token(db, &["--role", "admin", "--expires", "0s"]);
        let out = db.run(&["token", "keygen", "--out", "stranger.key"]);
        assert!(out.status.success(), "{}", describe(&out));
        let out = db.run(&[
            "token",
            "create",
            "--key",
            "stranger.key",
            "--role",
            "admin",
        ]);
        assert!(out.status.success(), "{}", describe(&out));
        let stranger = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        Self {
            tokens: [
                ("an unsigned token (alg none)", none),
                ("HS256 signed with the public key", hs256),
                ("an expired token", expired),
                ("a token signed by an untrusted key", stranger),
            ],
        }
    }

    /// The `i`th forged token and what it is.
    pub(super) fn pick(&self, i: usize) -> (&'static str, &str) {
        let (name, token) = &self.tokens[i % self.tokens.len()];
        (name, token)
    }
}
