//! Token checks for other servers that share the Hrana server's keys (dbx's REST API).

use dbx_core::tenancy::TenantId;

use super::auth::{self, Access, AuthKeys, Grant};

/// What a verified token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRights(Grant);

/// Why a token was refused: a stable code (`AUTH_JWT_EXPIRED`, ...) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefused {
    /// The Hrana error code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl AuthKeys {
    /// Checks a token's signature, times and claims.
    pub fn verify(&self, token: &str) -> Result<TokenRights, TokenRefused> {
        auth::verify(self, token)
            .map(TokenRights)
            .map_err(|e| TokenRefused {
                code: e.code,
                message: e.message,
            })
    }
}

impl TokenRights {
    /// Whether it may read the tenant (`None`: the root database).
    pub fn can_read(&self, tenant: Option<&TenantId>) -> bool {
        self.0.access(&tenant.cloned()).is_some()
    }

    /// Whether it may write the tenant (`None`: the root database).
    pub fn can_write(&self, tenant: Option<&TenantId>) -> bool {
        self.0.access(&tenant.cloned()) == Some(Access::Write)
    }

    /// Whether it may read every database.
    pub fn can_read_everything(&self) -> bool {
        self.0.everywhere().is_some()
    }

    /// Whether it may write every database.
    pub fn can_write_everything(&self) -> bool {
        self.0.everywhere() == Some(Access::Write)
    }

    /// The databases it names one by one (`"default"` is the root database), and whether it may
    /// write each. Rights it has everywhere are not repeated here.
    pub fn named_databases(&self) -> Vec<(String, bool)> {
        let mut named: Vec<(String, bool)> = self
            .0
            .per_namespace()
            .map(|(ns, access)| (ns.to_owned(), access == Access::Write))
            .collect();
        named.sort();
        named
    }

    /// Whether it is an administrator: writes everywhere and is not marked `rw` or `ro`.
    pub fn is_admin(&self) -> bool {
        self.0.is_admin()
    }
}
