//! Reading settings from environment variables, with errors that name the variable.

use std::str::FromStr;

use crate::error::{Error, Result};

/// Parses `value`, the text of environment variable `name`.
pub fn parse<T: FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::Config(format!("{name}={value:?} is not a valid value for {name}")))
}

/// A duration from an environment variable whose bare numbers are milliseconds
/// (`30000`), or that names its unit (`250ms`, `30s`, `10m`, `1h`).
pub fn parse_millis(name: &str, value: &str) -> Result<std::time::Duration> {
    let trimmed = value.trim();
    if let Ok(millis) = trimmed.parse::<u64>() {
        return Ok(std::time::Duration::from_millis(millis));
    }
    crate::serde_duration::parse(trimmed).map_err(|e| Error::Config(format!("{name}: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bare_numbers_are_milliseconds() {
        use std::time::Duration;
        let ms = |v| super::parse_millis("DB_IDLE_TIMEOUT", v).unwrap();
        assert_eq!(ms("30000"), Duration::from_secs(30));
        assert_eq!(ms("30s"), Duration::from_secs(30));
        assert_eq!(ms("250ms"), Duration::from_millis(250));
        let err = super::parse_millis("DB_IDLE_TIMEOUT", "soon").unwrap_err();
        assert!(err.to_string().contains("DB_IDLE_TIMEOUT"), "{err}");
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(super::parse::<u16>("PORT", " 5432 ").unwrap(), 5432);
        assert!(
            super::parse::<u16>("PORT", "lots")
                .unwrap_err()
                .to_string()
                .contains("PORT")
        );
    }
}
