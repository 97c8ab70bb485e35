//! Dialect shims: libSQL clients speak SQLite's transaction statements; each backend gets
//! its own spelling of them, and SQLite-only statements get a clear refusal elsewhere.
//!
//! | client sends | SQLite | PostgreSQL | MySQL |
//! | --- | --- | --- | --- |
//! | `BEGIN [DEFERRED\|IMMEDIATE\|EXCLUSIVE] [TRANSACTION]` | as sent | `BEGIN` | `START TRANSACTION` |
//! | `BEGIN [TRANSACTION] READONLY` | `BEGIN DEFERRED` | `BEGIN READ ONLY` | `START TRANSACTION READ ONLY` |
//! | `COMMIT`/`END`/`ROLLBACK` `[TRANSACTION]` | as sent | as sent | `COMMIT` / `ROLLBACK` |
//! | `PRAGMA`, `ATTACH`, `DETACH` | as sent | refused | refused |
//! | `COUNT (*)`: a space before a call's `(` | as sent | as sent | `COUNT(*)` |
//!
//! PostgreSQL and MySQL take row locks as they write, so `IMMEDIATE` and `EXCLUSIVE` (which
//! take SQLite's database write lock up front) become a plain transaction.

use dbx_core::sql::{Dialect, join_call_parens, leading_keyword};

use crate::proto;

/// The statement to run on `dialect` for `sql` (one statement), or why it cannot run there.
pub(crate) fn shim(sql: &str, dialect: Dialect) -> Result<String, proto::Error> {
    let shimmed = control(sql, dialect)?;
    if dialect == Dialect::Mysql {
        // The Rust libsql crate re-renders statements as `COUNT (*)`, which MySQL rejects.
        return Ok(join_call_parens(&shimmed, dialect));
    }
    Ok(shimmed)
}

fn control(sql: &str, dialect: Dialect) -> Result<String, proto::Error> {
    let Some(keyword) = leading_keyword(sql, dialect) else {
        return Ok(sql.to_owned());
    };
    match keyword.as_str() {
        "BEGIN" => Ok(begin(sql, dialect).unwrap_or_else(|| sql.to_owned())),
        "COMMIT" | "END" | "ROLLBACK" if dialect == Dialect::Mysql => {
            Ok(finish(sql, &keyword).unwrap_or_else(|| sql.to_owned()))
        }
        "PRAGMA" | "ATTACH" | "DETACH" if dialect != Dialect::Sqlite => {
            let backend = if dialect == Dialect::Postgres {
                "PostgreSQL"
            } else {
                "MySQL"
            };
            Err(proto::Error::new(
                "SQLITE_ERROR",
                format!(
                    "{keyword} is SQLite-only and this server runs on {backend}, which has no equivalent: {:?}",
                    sql.trim()
                ),
            ))
        }
        _ => Ok(sql.to_owned()),
    }
}

/// The words of a short control statement, upper-cased, without a trailing `;`.
fn words(sql: &str) -> Vec<String> {
    sql.trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect()
}

/// A `BEGIN` form for `dialect`, or `None` to leave the text alone (forms not listed above).
fn begin(sql: &str, dialect: Dialect) -> Option<String> {
    let words = words(sql);
    let mut mode = None;
    for word in words.iter().skip(1) {
        match word.as_str() {
            "TRANSACTION" => {}
            "DEFERRED" | "IMMEDIATE" | "EXCLUSIVE" | "READONLY" if mode.is_none() => {
                mode = Some(word.as_str());
            }
            _ => return None,
        }
    }
    let read_only = mode == Some("READONLY");
    Some(
        match (dialect, read_only) {
            (Dialect::Sqlite, true) => "BEGIN DEFERRED",
            (Dialect::Sqlite, false) => return None,
            (Dialect::Postgres, true) => "BEGIN READ ONLY",
            (Dialect::Postgres, false) => "BEGIN",
            (Dialect::Mysql, true) => "START TRANSACTION READ ONLY",
            (Dialect::Mysql, false) => "START TRANSACTION",
        }
        .to_owned(),
    )
}

/// MySQL's spelling of SQLite's `END`, `COMMIT TRANSACTION` and `ROLLBACK TRANSACTION`.
fn finish(sql: &str, keyword: &str) -> Option<String> {
    let words = words(sql);
    if words.len() > 2 || words.get(1).is_some_and(|w| w != "TRANSACTION") {
        // `ROLLBACK TO SAVEPOINT x` and friends are MySQL syntax already.
        return None;
    }
    Some(
        if keyword == "ROLLBACK" {
            "ROLLBACK"
        } else {
            "COMMIT"
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str, dialect: Dialect) -> String {
        shim(sql, dialect).unwrap()
    }

    #[test]
    fn begins_map_per_backend() {
        let (s, p, m) = (Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql);
        assert_eq!(ok("BEGIN READONLY", s), "BEGIN DEFERRED");
        assert_eq!(ok("begin transaction readonly", s), "BEGIN DEFERRED");
        assert_eq!(ok("BEGIN IMMEDIATE", s), "BEGIN IMMEDIATE");
        assert_eq!(ok("SELECT 'BEGIN READONLY'", s), "SELECT 'BEGIN READONLY'");
        for form in [
            "BEGIN",
            "BEGIN DEFERRED",
            "BEGIN IMMEDIATE",
            "begin exclusive transaction",
        ] {
            assert_eq!(ok(form, p), "BEGIN", "{form}");
            assert_eq!(ok(form, m), "START TRANSACTION", "{form}");
        }
        assert_eq!(ok("BEGIN TRANSACTION READONLY", p), "BEGIN READ ONLY");
        assert_eq!(ok("BEGIN READONLY;", m), "START TRANSACTION READ ONLY");
        // Native forms pass untouched.
        assert_eq!(
            ok("BEGIN ISOLATION LEVEL SERIALIZABLE", p),
            "BEGIN ISOLATION LEVEL SERIALIZABLE"
        );
    }

    #[test]
    fn endings_map_on_mysql_and_sqlite_only_statements_are_refused() {
        let m = Dialect::Mysql;
        assert_eq!(ok("END", m), "COMMIT");
        assert_eq!(ok("END TRANSACTION", m), "COMMIT");
        assert_eq!(ok("ROLLBACK TRANSACTION", m), "ROLLBACK");
        assert_eq!(ok("ROLLBACK TO SAVEPOINT a", m), "ROLLBACK TO SAVEPOINT a");
        assert_eq!(ok("END", Dialect::Postgres), "END");
        let err = shim("PRAGMA foreign_keys = ON", Dialect::Postgres).unwrap_err();
        assert!(err.message.contains("PostgreSQL"), "{}", err.message);
        assert!(shim("PRAGMA foreign_keys = ON", Dialect::Sqlite).is_ok());
    }
}
