//! Durations in configuration files, written as `"30s"`, `"250ms"`, `"10m"` or `"1h"`.

use std::time::Duration;

use crate::error::{Error, Result};

/// Parses `"250ms"`, `"30s"`, `"10m"`, `"1h"` or a bare number of seconds.
pub fn parse(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        Error::Config(format!(
            "{text:?} is not a duration: write e.g. \"250ms\", \"30s\", \"10m\" or \"1h\""
        ))
    })?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        other => Err(Error::Config(format!(
            "unknown duration unit {other:?} in {text:?}: use ms, s, m or h"
        ))),
    }
}

/// Formats a duration the way [`parse`] reads it.
pub fn format(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else if d.as_secs().is_multiple_of(3600) {
        format!("{}h", d.as_secs() / 3600)
    } else if d.as_secs().is_multiple_of(60) {
        format!("{}m", d.as_secs() / 60)
    } else {
        format!("{}s", d.as_secs())
    }
}

#[cfg(feature = "serde")]
/// `serde(with = ...)` helpers for `Duration` fields.
pub mod plain {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a duration as text.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*d))
    }

    /// Reads a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "serde")]
/// `serde(with = ...)` helpers for `Option<Duration>` fields; `"off"` means `None`.
pub mod option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes an optional duration as text, `"off"` for none.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format(*d)),
            None => s.serialize_str("off"),
        }
    }

    /// Reads an optional duration; `"off"` means none.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim() == "off" {
            return Ok(None);
        }
        super::parse(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in ["250ms", "30s", "10m", "1h"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(parse("5").unwrap(), Duration::from_secs(5));
        assert!(parse("5 days").unwrap_err().to_string().contains("unit"));
        assert!(parse("soon").is_err());
    }
}
