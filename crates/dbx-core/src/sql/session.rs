//! Telling statements that may leave state behind on their connection.

use super::lexer::{Dialect, bare_words, leading_keyword};

/// Statements whose purpose is session state: settings, prepared statements, cursors,
/// notifications, locks held past the statement, the current database, attached files,
/// and anonymous or stored code that may do any of these.
const SESSION_KEYWORDS: &[&str] = &[
    "SET",
    "RESET",
    "DISCARD",
    "DEALLOCATE",
    "PREPARE",
    "LISTEN",
    "UNLISTEN",
    "DECLARE",
    "CLOSE",
    "LOAD",
    "DO",
    "CALL",
    "LOCK",
    "UNLOCK",
    "USE",
    "HANDLER",
    "PRAGMA",
    "ATTACH",
    "DETACH",
];

/// Words that, anywhere outside literals and comments, mean the statement may create
/// session state: temporary objects, `set_config`, advisory and named locks.
const SESSION_WORDS: &[&str] = &["TEMP", "TEMPORARY", "SET_CONFIG", "GET_LOCK"];

/// Whether `sql` (one statement) may leave state on the connection it runs on that a later
/// user of that connection would see: a setting (`SET`, `set_config`), a temporary object,
/// a prepared statement, a cursor, a `LISTEN`, an advisory or named lock, `USE`, an
/// attached database, or code (`DO`, `CALL`) that may do any of these.
///
/// Deliberately conservative, and blind to one thing: a function the database already holds
/// that changes the session when called from an ordinary `SELECT`. Pooled adapters reset a
/// connection after a statement for which this is true, and whenever a connection passes
/// from one tenant to another, whatever ran on it.
pub fn changes_session(sql: &str, dialect: Dialect) -> bool {
    if leading_keyword(sql, dialect).is_some_and(|k| SESSION_KEYWORDS.contains(&k.as_str())) {
        return true;
    }
    bare_words(sql, dialect).iter().any(|w| {
        SESSION_WORDS.contains(&w.as_str())
            || w.starts_with("PG_ADVISORY")
            || w.starts_with("PG_TRY_ADVISORY")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_changes_are_seen_and_plain_statements_are_not() {
        let pg = Dialect::Postgres;
        for sql in [
            "SET TimeZone = 'UTC'",
            "select set_config('search_path', 'x', false)",
            "CREATE TEMP TABLE t AS SELECT 1",
            "create temporary table t (a int)",
            "SELECT pg_advisory_lock(1)",
            "SELECT pg_try_advisory_lock_shared(1)",
            "LISTEN ch",
            "PREPARE p AS SELECT 1",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "DO $$ BEGIN PERFORM 1; END $$",
            "RESET ROLE",
            "SET SESSION AUTHORIZATION DEFAULT",
        ] {
            assert!(changes_session(sql, pg), "{sql}");
        }
        for sql in [
            "SELECT * FROM t WHERE name = 'SET temp'",
            "INSERT INTO t (a) VALUES ($1)",
            "UPDATE t SET a = 1",
            "SELECT \"temp\" FROM t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
        ] {
            assert!(!changes_session(sql, pg), "{sql}");
        }
        assert!(changes_session("SET autocommit = 0", Dialect::Mysql));
        assert!(changes_session("SELECT GET_LOCK('a', 1)", Dialect::Mysql));
        assert!(changes_session("USE other", Dialect::Mysql));
        assert!(changes_session(
            "PRAGMA foreign_keys = OFF",
            Dialect::Sqlite
        ));
        assert!(changes_session("ATTACH ':memory:' AS m", Dialect::Sqlite));
    }
}
