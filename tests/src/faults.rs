//! A database server killed with `kill -9` mid-query, then restarted, under one adapter.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::{Adapter, ErrorKind, Statement};

/// A server a test owns and may crash.
pub trait Crashable: Send + 'static {
    /// `kill -9`, as in a crash.
    fn crash(&mut self);
    /// Starts again on the same data and port.
    fn start_again(&mut self) -> Result<(), String>;
}

impl Crashable for crate::servers::PgServer {
    fn crash(&mut self) {
        self.kill9();
    }
    fn start_again(&mut self) -> Result<(), String> {
        self.restart()
    }
}

impl Crashable for crate::servers::MariaServer {
    fn crash(&mut self) {
        self.kill9();
    }
    fn start_again(&mut self) -> Result<(), String> {
        self.restart()
    }
}

/// Commits 100 rows, kills the server while `sleep_sql` runs (once `running_sql`, a count
/// of the server's sessions running it, says it does), and checks that the query in flight
/// fails with `ConnectionLost` (no hang, no panic), that work during the outage fails within
/// the pool's limits, that the first query after the restart succeeds on the same adapter,
/// and that every committed row survived. Returns the server.
pub async fn kill_and_recover<S: Crashable>(
    db: Arc<dyn Adapter>,
    server: S,
    sleep_sql: &'static str,
    running_sql: &'static str,
) -> S {
    db.execute("CREATE TABLE kept (n INT)".into())
        .await
        .unwrap();
    let inserts = (0..100)
        .map(|n| Statement::with_args("INSERT INTO kept VALUES (?)", [n]))
        .collect();
    db.batch(inserts).await.unwrap();

    let in_flight = {
        let db = db.clone();
        tokio::spawn(async move { db.query(sleep_sql.into()).await })
    };
    // The kill must land while the server runs the statement: wait until it says so.
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let running = db.query(running_sql.into()).await.unwrap();
            if running.scalar::<i64>().unwrap() > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the statement never started on the server");
    let mut server = server;
    let mut server = tokio::task::spawn_blocking(move || {
        server.crash();
        server
    })
    .await
    .unwrap();

    // Bounded by the test, not by luck: the answer comes when the socket closes.
    let err = tokio::time::timeout(Duration::from_secs(20), in_flight)
        .await
        .expect("no hang")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    let during = tokio::time::timeout(Duration::from_secs(20), db.query("SELECT 1".into()))
        .await
        .expect("no hang");
    let kind = during.unwrap_err().kind();
    assert!(
        matches!(kind, ErrorKind::ConnectionLost | ErrorKind::Timeout),
        "{kind:?}"
    );

    let server = tokio::task::spawn_blocking(move || server.start_again().map(|()| server))
        .await
        .unwrap()
        .unwrap();
    let count: i64 = db
        .query("SELECT COUNT(*) FROM kept".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(
        count, 100,
        "every row committed before the kill is still there"
    );
    server
}
