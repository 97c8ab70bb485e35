//! Which statements may go to a read replica, and which replica is next.
//!
//! A replica may lag the primary and refuses writes, so a statement goes to one only when it
//! provably only reads. Anything else, and everything inside a transaction, goes to the primary.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dbx_core::sql::{
    Dialect, is_read_only, is_transaction_control, leading_keyword, split_statements,
};

/// Whether every statement in `sql` only reads, by a conservative reading of the text:
/// `SELECT`/`VALUES`/`WITH`/`EXPLAIN` without a writing word outside literals and comments.
/// `PRAGMA`, `ATTACH`, transaction control and text with no statement never count as reads.
pub fn reads_only(sql: &str) -> bool {
    let statements = split_statements(sql, Dialect::Sqlite);
    !statements.is_empty()
        && statements.iter().all(|s| {
            !is_transaction_control(s, Dialect::Sqlite)
                && !matches!(
                    leading_keyword(s, Dialect::Sqlite).as_deref(),
                    Some("PRAGMA" | "ATTACH" | "DETACH" | "SHOW" | "DESCRIBE" | "DESC")
                )
                && is_read_only(s, Dialect::Sqlite)
        })
}

/// Replicas in round-robin order; one that failed sits out until its back-off ends.
#[derive(Debug)]
pub(crate) struct Rotation<T> {
    members: Vec<(T, Mutex<Option<Instant>>)>,
    next: AtomicUsize,
    back_off: Duration,
}

impl<T> Rotation<T> {
    pub(crate) fn new(members: Vec<T>, back_off: Duration) -> Self {
        Self {
            members: members.into_iter().map(|m| (m, Mutex::new(None))).collect(),
            next: AtomicUsize::new(0),
            back_off,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The next member that is not sitting out, with its index; `None` when all are.
    pub(crate) fn pick(&self) -> Option<(usize, &T)> {
        let n = self.members.len();
        let now = Instant::now();
        for _ in 0..n {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % n;
            let (member, down_until) = &self.members[i];
            let mut down_until = down_until.lock().unwrap_or_else(|e| e.into_inner());
            match *down_until {
                Some(until) if now < until => continue,
                _ => {
                    *down_until = None;
                    return Some((i, member));
                }
            }
        }
        None
    }

    /// Takes member `i` out of the rotation for the back-off.
    pub(crate) fn sit_out(&self, i: usize) {
        if let Some((_, down_until)) = self.members.get(i) {
            *down_until.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + self.back_off);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_to_replicas() {
        for sql in [
            "SELECT 1",
            "select * from t",
            "  SELECT a FROM t WHERE b = ?",
            "(SELECT 1)",
            "SELECT 'INSERT INTO t VALUES (1)'",
            "SELECT \"delete\" FROM t",
            "SELECT 1 -- DELETE FROM t",
            "SELECT 1 /* UPDATE t SET a = 1 */",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5) SELECT i FROM r",
            "VALUES (1), (2)",
            "EXPLAIN QUERY PLAN SELECT * FROM t",
            "SELECT 1; SELECT 2;",
            "SELECT count(*) FROM t GROUP BY a HAVING count(*) > 1",
            "SELECT * FROM a JOIN b ON a.id = b.a_id ORDER BY a.id LIMIT 10 OFFSET 5",
            "SELECT json_extract(doc, '$.a') FROM docs",
        ] {
            assert!(reads_only(sql), "{sql} only reads");
        }
    }

    #[test]
    fn anything_else_goes_to_the_primary() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (1) RETURNING id",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "REPLACE INTO t VALUES (1)",
            "UPSERT INTO t VALUES (1)",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            "WITH d AS (SELECT 1) DELETE FROM t WHERE a IN d",
            "CREATE TABLE t (a)",
            "DROP TABLE t",
            "ALTER TABLE t ADD COLUMN b",
            "CREATE INDEX i ON t (a)",
            "PRAGMA table_info(t)",
            "PRAGMA journal_mode = WAL",
            "pragma foreign_keys",
            "ATTACH DATABASE 'x.db' AS x",
            "DETACH DATABASE x",
            "BEGIN",
            "BEGIN READONLY",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT s",
            "RELEASE s",
            "VACUUM",
            "ANALYZE",
            "REINDEX t",
            "SELECT 1; DELETE FROM t",
            "DELETE FROM t; SELECT 1",
            "SELECT * FROM t; INSERT INTO t VALUES (1) -- one of two",
            "/* SELECT */ DELETE FROM t",
            "-- SELECT\nUPDATE t SET a = 1",
            "EXPLAIN ANALYZE DELETE FROM t",
            "SELECT * INTO t2 FROM t",
            "",
            "  -- only a comment",
            ";;",
        ] {
            assert!(!reads_only(sql), "{sql:?} must go to the primary");
        }
    }

    #[test]
    fn the_rotation_spreads_and_skips_members_sitting_out() {
        let rotation = Rotation::new(vec!["a", "b", "c"], Duration::from_secs(60));
        let picks: Vec<&str> = (0..6).map(|_| *rotation.pick().unwrap().1).collect();
        assert_eq!(picks, ["a", "b", "c", "a", "b", "c"]);
        rotation.sit_out(1);
        let picks: Vec<&str> = (0..4).map(|_| *rotation.pick().unwrap().1).collect();
        assert!(!picks.contains(&"b"), "{picks:?}");
        rotation.sit_out(0);
        rotation.sit_out(2);
        assert!(rotation.pick().is_none());
        let quick = Rotation::new(vec!["a"], Duration::ZERO);
        quick.sit_out(0);
        assert_eq!(quick.pick().map(|(i, _)| i), Some(0), "the back-off ended");
    }
}
