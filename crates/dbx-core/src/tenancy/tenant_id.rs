//! Tenant ids: validated once, then safe to use as file, schema or database names.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The longest tenant id: PostgreSQL's and MySQL's identifier limit.
pub const MAX_TENANT_ID_LEN: usize = 63;

/// Ids no tenant may take: `default` names the root database wherever tenants are named
/// (Hrana namespaces, token claims), so a tenant called `default` would be confused with it.
pub const RESERVED_TENANT_IDS: &[&str] = &["default"];

/// The naming rule, as stated in every rejection.
pub const TENANT_ID_RULE: &str = "a tenant id is 1 to 63 characters from a-z, 0-9, '_' and '-', \
     starting with a letter or digit";

/// A validated tenant id.
///
/// Ids are checked, never escaped or "cleaned": `Acme`, `../x` and `a b` are rejected rather
/// than turned into something else, so two different inputs can never name the same tenant.
/// Because of the rule, an id can be used as a file name, a schema name or a database name
/// without quoting surprises (it never contains a dot, a slash, a quote or a NUL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct TenantId(String);

impl TenantId {
    /// Validates `id`.
    ///
    /// ```
    /// use dbx_core::TenantId;
    /// assert!(TenantId::new("acme-42").is_ok());
    /// assert!(TenantId::new("../etc").is_err());
    /// ```
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        match problem(&id) {
            None => Ok(TenantId(id)),
            Some(reason) => Err(Error::InvalidTenant {
                id: shorten(&id),
                reason: format!("{reason}; {TENANT_ID_RULE}"),
            }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn problem(id: &str) -> Option<String> {
    let chars = id.chars().count();
    if chars == 0 {
        return Some("it is empty".to_owned());
    }
    if chars > MAX_TENANT_ID_LEN {
        return Some(format!("it is {chars} characters long"));
    }
    if let Some((at, c)) = id
        .chars()
        .enumerate()
        .find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
    {
        let shown = if c.is_ascii_graphic() {
            format!("'{c}'")
        } else {
            format!("U+{:04X}", u32::from(c))
        };
        return Some(format!(
            "character {shown} at position {} is not allowed",
            at + 1
        ));
    }
    if id.starts_with(['_', '-']) {
        return Some("it starts with '_' or '-'".to_owned());
    }
    if RESERVED_TENANT_IDS.contains(&id) {
        return Some(format!(
            "{id:?} is reserved: it names the root database in namespaces and tokens"
        ));
    }
    None
}

/// Keeps error messages short when someone sends a megabyte of id.
fn shorten(id: &str) -> String {
    const SHOWN: usize = 80;
    if id.chars().count() <= SHOWN {
        id.to_owned()
    } else {
        let head: String = id.chars().take(SHOWN).collect();
        format!("{head}...")
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TenantId::new(s)
    }
}

impl TryFrom<String> for TenantId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        TenantId::new(s)
    }
}

impl TryFrom<&str> for TenantId {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        TenantId::new(s)
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> Self {
        id.0
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "0", "acme", "acme-corp_2", "9lives", &"x".repeat(63)] {
            assert_eq!(TenantId::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_with_the_rule_and_the_reason() {
        let err = TenantId::new("Acme").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidTenant);
        let msg = err.to_string();
        assert!(
            msg.contains("'A' at position 1") && msg.contains(TENANT_ID_RULE),
            "{msg}"
        );
        assert!(
            TenantId::new("a\0b")
                .unwrap_err()
                .to_string()
                .contains("U+0000")
        );
        assert!(TenantId::new("").unwrap_err().to_string().contains("empty"));
        assert!(
            TenantId::new("x".repeat(64))
                .unwrap_err()
                .to_string()
                .contains("64 characters")
        );
        assert!(TenantId::new("-x").is_err());
        assert!(TenantId::new("_x").is_err());
        let reserved = TenantId::new("default").unwrap_err().to_string();
        assert!(reserved.contains("reserved"), "{reserved}");
        assert!(TenantId::new("default2").is_ok());
    }

    #[test]
    fn huge_ids_are_cut_in_messages() {
        let err = TenantId::new("A".repeat(10_000)).unwrap_err();
        assert!(err.to_string().len() < 400);
    }
}
