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

#[cfg(test)]
mod tests {
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
