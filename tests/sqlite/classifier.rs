//! The read-only classifiers over a generated corpus. `is_read_only` decides what a read-only
//! token may run (Hrana and REST) and `dbx_libsql::reads_only` what may go to a replica; a
//! writing statement called read-only would let a read-only token write. SQLite itself is the
//! judge for its dialect: a statement it prepares and calls writing (`sqlite3_stmt_readonly`)
//! must never pass either classifier. PostgreSQL and MySQL writes are judged by their label.

use std::sync::atomic::{AtomicUsize, Ordering};

use dbx_core::sql::{Dialect, is_read_only, split_statements};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Text that holds writing words without writing: literals, comments, quoted names.
fn decoy() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "'DELETE FROM t'",
        "'x'';DROP TABLE t;--'",
        "'INSERT'",
        "\"update\"",
        "1",
        "NULL",
        "'-- ; REPLACE'",
    ])
    .prop_map(str::to_owned)
}

/// Leading and inner filler a client may send.
fn filler() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "",
        " ",
        "\n\t",
        "-- note: DELETE\n",
        "/* UPDATE t */ ",
        "/**/",
    ])
}

/// Upper, lower or mixed case, as SQL allows, leaving the decoys (added after) alone.
fn recase(text: &str, mode: u8) -> String {
    match mode % 3 {
        0 => text.to_ascii_uppercase(),
        1 => text.to_ascii_lowercase(),
        _ => text
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
    }
}

/// SQLite statements, writing and reading; `{}` takes a decoy. SQLite decides which write.
const SQLITE: &[&str] = &[
    "INSERT INTO t (b) VALUES ({})",
    "INSERT OR REPLACE INTO t (a, b) VALUES (1, {})",
    "REPLACE INTO u VALUES (1, {})",
    "INSERT INTO t DEFAULT VALUES",
    "INSERT INTO t (b) VALUES ({}) RETURNING a",
    "UPDATE t SET b = {} WHERE a = 1",
    "UPDATE t SET b = {} RETURNING *",
    "DELETE FROM t WHERE b = {}",
    "DELETE FROM t RETURNING a",
    "WITH w AS (SELECT {} AS x) INSERT INTO u (x) SELECT x FROM w",
    "WITH w AS (SELECT {} AS x) UPDATE t SET b = (SELECT x FROM w)",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) DELETE FROM t WHERE a IN c",
    "CREATE TABLE n (x DEFAULT {})",
    "CREATE TABLE n AS SELECT {} AS x",
    "CREATE INDEX n ON t (b)",
    "CREATE VIEW n AS SELECT {} AS x",
    "CREATE TRIGGER n AFTER INSERT ON t BEGIN DELETE FROM u; END",
    "CREATE TEMP TABLE n (x)",
    "DROP TABLE u",
    "DROP VIEW v",
    "DROP INDEX i",
    "ALTER TABLE t ADD COLUMN c TEXT DEFAULT {}",
    "ALTER TABLE u RENAME TO n",
    "PRAGMA user_version = 7",
    "PRAGMA t.user_version = 7",
    "VACUUM",
    "ANALYZE",
    "REINDEX",
    "SELECT * FROM t WHERE b = {}",
    "SELECT {} AS x",
    "SELECT count(*) FROM t",
    "WITH w AS (SELECT {} AS x) SELECT * FROM w",
    "VALUES (1), ({})",
    "SELECT * FROM v",
    "EXPLAIN QUERY PLAN SELECT * FROM t",
    "PRAGMA table_info(t)",
    "SELECT \"delete\" FROM (SELECT {} AS \"delete\")",
    "SELECT replace(b, 'a', 'b') FROM t",
];

fn sqlite_statement() -> impl Strategy<Value = String> {
    (
        prop::sample::select(SQLITE.to_vec()),
        decoy(),
        filler(),
        filler(),
        any::<u8>(),
    )
        .prop_map(|(template, decoy, lead, tail, case)| {
            let (head, rest) = template.split_once("{}").unwrap_or((template, ""));
            let body = if template.contains("{}") {
                format!("{}{decoy}{}", recase(head, case), recase(rest, case))
            } else {
                recase(template, case)
            };
            format!("{lead}{body}{tail}")
        })
}

fn oracle() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);
         CREATE TABLE u (x, y);
         CREATE VIEW v AS SELECT a FROM t;
         CREATE INDEX i ON t (b);",
    )
    .unwrap();
    conn
}

/// What SQLite says of one statement: `None` when it will not prepare it.
fn writes(conn: &rusqlite::Connection, sql: &str) -> Option<bool> {
    conn.prepare(sql).ok().map(|stmt| !stmt.readonly())
}

#[test]
fn no_statement_sqlite_calls_writing_passes_as_read_only() {
    let conn = oracle();
    let (judged, writing) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(Config::with_cases(3000));
    runner
        .run(&sqlite_statement(), |sql| {
            let Some(w) = writes(&conn, &sql) else {
                return Ok(());
            };
            judged.fetch_add(1, Ordering::Relaxed);
            if w {
                writing.fetch_add(1, Ordering::Relaxed);
                prop_assert!(
                    !is_read_only(&sql, Dialect::Sqlite),
                    "is_read_only passed a write: {sql:?}"
                );
                prop_assert!(
                    !dbx_libsql::reads_only(&sql),
                    "reads_only passed a write: {sql:?}"
                );
            }
            Ok(())
        })
        .unwrap();
    // The corpus must mostly be SQL that SQLite accepts, with many writes, or the property
    // says nothing.
    let (judged, writing) = (judged.into_inner(), writing.into_inner());
    assert!(judged > 2000, "only {judged} of 3000 statements prepared");
    assert!(writing > 1000, "only {writing} writing statements");
}

#[test]
fn a_write_anywhere_in_a_text_makes_it_writing() {
    let conn = oracle();
    let two = (sqlite_statement(), sqlite_statement());
    let mut runner = TestRunner::new(Config::with_cases(2000));
    runner
        .run(&two, |(first, second)| {
            let (Some(w1), Some(w2)) = (writes(&conn, &first), writes(&conn, &second)) else {
                return Ok(());
            };
            let text = format!("{first};{second}");
            if w1 || w2 {
                // As the Hrana server checks a `sequence` and the REST API a script.
                let parts = split_statements(&text, Dialect::Sqlite);
                prop_assert!(
                    !parts.iter().all(|p| is_read_only(p, Dialect::Sqlite)),
                    "a write passed inside {text:?}: {parts:?}"
                );
                prop_assert!(!dbx_libsql::reads_only(&text), "reads_only passed {text:?}");
            }
            Ok(())
        })
        .unwrap();
}

/// PostgreSQL and MySQL statements that write (or lock, or run a statement that writes),
/// among them those that start like a read.
const OTHER_WRITES: &[(Dialect, &str)] = &[
    (Dialect::Postgres, "SELECT * INTO n FROM t WHERE b = {}"),
    (Dialect::Postgres, "SELECT * FROM t WHERE b = {} FOR UPDATE"),
    (Dialect::Postgres, "SELECT * FROM t WHERE b = {} FOR SHARE"),
    (
        Dialect::Postgres,
        "EXPLAIN ANALYZE DELETE FROM t WHERE b = {}",
    ),
    (
        Dialect::Postgres,
        "WITH d AS (DELETE FROM t WHERE b = {} RETURNING *) SELECT * FROM d",
    ),
    (
        Dialect::Postgres,
        "WITH d AS (UPDATE t SET b = {} RETURNING *) SELECT * FROM d",
    ),
    (Dialect::Postgres, "TABLE t; DELETE FROM t WHERE b = {}"),
    (Dialect::Postgres, "COPY t FROM STDIN"),
    (Dialect::Postgres, "TRUNCATE t"),
    (Dialect::Postgres, "CALL p({})"),
    (Dialect::Postgres, "DO $$BEGIN DELETE FROM t; END$$"),
    (Dialect::Postgres, "LOCK TABLE t"),
    (
        Dialect::Postgres,
        "MERGE INTO t USING u ON t.a = u.x WHEN MATCHED THEN DELETE",
    ),
    (Dialect::Postgres, "SET search_path TO other"),
    (Dialect::Postgres, "REFRESH MATERIALIZED VIEW m"),
    (
        Dialect::Mysql,
        "SELECT * INTO OUTFILE '/tmp/x' FROM t WHERE b = {}",
    ),
    (Dialect::Mysql, "SELECT b INTO @v FROM t WHERE b = {}"),
    (Dialect::Mysql, "SELECT * FROM t WHERE b = {} FOR UPDATE"),
    (
        Dialect::Mysql,
        "SELECT * FROM t WHERE b = {} LOCK IN SHARE MODE",
    ),
    (Dialect::Mysql, "LOAD DATA INFILE 'x' INTO TABLE t"),
    (Dialect::Mysql, "DO SLEEP({})"),
    (
        Dialect::Mysql,
        "INSERT INTO t VALUES (1, {}) ON DUPLICATE KEY UPDATE b = {}",
    ),
    (Dialect::Mysql, "REPLACE INTO t VALUES (1, {})"),
    (Dialect::Mysql, "HANDLER t OPEN"),
    (Dialect::Mysql, "SET @a = {}"),
    (Dialect::Mysql, "CALL p({})"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn postgres_and_mysql_writes_never_pass(
        (dialect, template) in prop::sample::select(OTHER_WRITES.to_vec()),
        decoy in decoy(),
        lead in filler(),
        case in any::<u8>(),
    ) {
        let sql = format!("{lead}{}", recase(template, case).replace("{}", &decoy));
        let parts = split_statements(&sql, dialect);
        prop_assert!(!parts.iter().all(|p| is_read_only(p, dialect)), "{dialect:?}: {sql:?}");
    }
}
