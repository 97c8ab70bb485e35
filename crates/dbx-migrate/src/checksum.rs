//! Checksums that survive an editor's line endings and trailing spaces, so that only a real
//! change to an applied migration is reported as one.

use sha2::{Digest, Sha256};

/// The text as hashed: `\r\n` and `\r` become `\n`, trailing whitespace is cut from every
/// line, and blank lines at the start and end are dropped.
pub fn normalize(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.lines().map(str::trim_end).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => lines[first..=last].join("\n"),
        _ => String::new(),
    }
}

/// The lower-case hex SHA-256 of the normalized text.
pub fn checksum(text: &str) -> String {
    let digest = Sha256::digest(normalize(text).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_trailing_space_do_not_change_the_checksum() {
        let unix = "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n";
        let windows = "CREATE TABLE t (id INT);  \r\nINSERT INTO t VALUES (1);\r\n\r\n";
        let old_mac = "\rCREATE TABLE t (id INT);\rINSERT INTO t VALUES (1);";
        assert_eq!(checksum(unix), checksum(windows));
        assert_eq!(checksum(unix), checksum(old_mac));
    }

    #[test]
    fn a_real_edit_changes_the_checksum() {
        let a = checksum("CREATE TABLE t (id INT);");
        assert_ne!(a, checksum("CREATE TABLE t (id BIGINT);"));
        // Leading indentation is content: it is kept.
        assert_ne!(a, checksum("  CREATE TABLE t (id INT);"));
        assert_eq!(a.len(), 64);
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
