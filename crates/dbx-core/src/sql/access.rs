//! Telling statements that only read from statements that may write, for read-only access.

use super::lexer::{Dialect, bare_words, is_transaction_control, leading_keyword};
use crate::error::{Error, Result};

/// Words that make a reading statement write: data changes in a CTE (`WITH d AS (DELETE ...)`),
/// `SELECT ... INTO` (a new table in PostgreSQL, variables or files in MySQL), `EXPLAIN
/// ANALYZE` (which runs the statement in PostgreSQL), and row locks (`FOR UPDATE`/`FOR SHARE`).
const WRITING_WORDS: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT", "INTO", "ANALYZE", "LOCK", "SHARE",
    "CALL", "DO",
];

/// Whether `sql` (one statement) can only read.
///
/// Deliberately conservative: a statement counts as reading only if it starts with `SELECT`,
/// `VALUES`, `WITH`, `TABLE`, `EXPLAIN`, `SHOW`, `DESCRIBE` or `DESC` and holds none of the
/// [`WRITING_WORDS`] outside literals and comments, or if it controls a transaction.
/// `PRAGMA`, `SET` and every DDL count as writing. A function that writes when called from a
/// `SELECT` (PostgreSQL `nextval`, user functions) is not detected: pair this with the
/// database's own read-only mode where that matters.
pub fn is_read_only(sql: &str, dialect: Dialect) -> bool {
    if is_transaction_control(sql, dialect) {
        return true;
    }
    let reads = matches!(
        leading_keyword(sql, dialect).as_deref(),
        Some("SELECT" | "VALUES" | "WITH" | "TABLE" | "EXPLAIN" | "SHOW" | "DESCRIBE" | "DESC")
    );
    reads
        && !bare_words(sql, dialect)
            .iter()
            .any(|w| WRITING_WORDS.contains(&w.as_str()))
}

/// Refuses, for a read-only session, a statement that may write (as [`is_read_only`]
/// judges it) with [`Error::PermissionDenied`].
pub fn refuse_writes(sql: &str, dialect: Dialect) -> Result<()> {
    if is_read_only(sql, dialect) {
        return Ok(());
    }
    let shown: String = sql.trim().chars().take(200).collect();
    Err(Error::PermissionDenied(format!(
        "the session is read-only and this statement may write: {shown:?}; use a read-write \
         session or token"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pass_and_writes_do_not() {
        let d = Dialect::Sqlite;
        for sql in [
            "SELECT 1",
            "select * from t where name = 'DELETE'",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES (1), (2)",
            "EXPLAIN QUERY PLAN SELECT 1",
            "BEGIN READONLY",
            "COMMIT",
            "SELECT \"update\" FROM t -- insert",
        ] {
            assert!(is_read_only(sql, d), "{sql} should read only");
        }
        for sql in [
            "INSERT INTO t VALUES (1)",
            "update t set a = 1",
            "WITH d AS (SELECT 1) DELETE FROM t",
            "CREATE TABLE t (a)",
            "PRAGMA journal_mode = delete",
            "SELECT * INTO copy FROM t",
            "SELECT * FROM t FOR UPDATE",
            "DROP TABLE t",
        ] {
            assert!(!is_read_only(sql, d), "{sql} should count as writing");
        }
        assert!(!is_read_only(
            "EXPLAIN ANALYZE DELETE FROM t",
            Dialect::Postgres
        ));
        assert!(is_read_only("SELECT $$DELETE$$", Dialect::Postgres));
    }
}
