//! Statement limits, read-only sessions and session state, the same on every backend.

use std::time::Duration;

use dbx_core::{Adapter, ErrorKind, Statement, TenantId};

use super::transactions::{insert, items};
use crate::Harness;

/// A statement that returns `n` rows of one integer, written the same on every backend.
fn counting(n: u32) -> Statement {
    Statement::new(format!(
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) \
         SELECT i FROM r"
    ))
}

/// Waits for `work`, failing the test if it hangs: the bound catches a statement that was
/// never stopped, it judges no speed.
async fn bounded<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within a minute"))
}

pub async fn a_statement_past_its_timeout_fails_with_timeout<H: Harness>(h: &H) {
    let db = h.database().await;
    let slow = Statement::new(h.slow_statement()).timeout(Duration::from_millis(300));
    let err = bounded("a timed-out statement", db.query(slow))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("300ms"), "{err}");
    // The pool serves on; a statement under its limit is untouched by it.
    let quick = counting(3).timeout(Duration::from_secs(30));
    assert_eq!(db.query(quick).await.unwrap().rows.len(), 3);
    // The same in a session, which the timeout leaves unusable rather than half-busy.
    let mut conn = db.connection().await.unwrap();
    let slow = Statement::new(h.slow_statement()).timeout(Duration::from_millis(300));
    let err = bounded("a timed-out statement in a session", conn.query(slow))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    drop(conn);
    assert_eq!(db.query(counting(2)).await.unwrap().rows.len(), 2);
}

pub async fn rows_past_the_byte_limit_fail_as_they_stream<H: Harness>(h: &H) {
    let db = h.database().await;
    // 100,000 rows of one integer count 88 bytes each (what they take in memory): far over
    // 10,000.
    let err = bounded(
        "a result over its limit",
        db.query(counting(100_000).max_result_bytes(10_000)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResultTooLarge, "{err}");
    assert!(err.to_string().contains("10000 bytes"), "{err}");
    // 100 rows come to 8,800 bytes, under the limit.
    let fits = db
        .query(counting(100).max_result_bytes(10_000))
        .await
        .unwrap();
    assert_eq!(fits.rows.len(), 100);
    assert_eq!(fits.approx_bytes(), 8_800);
    let mut conn = db.connection().await.unwrap();
    let err = conn
        .query(counting(100_000).max_result_bytes(10_000))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResultTooLarge, "{err}");
    drop(conn);
    assert_eq!(db.query(counting(2)).await.unwrap().rows.len(), 2);
}

pub async fn read_only_sessions_refuse_writes_and_read<H: Harness>(h: &H) {
    let db = items(h).await;
    db.execute(insert("kept")).await.unwrap();
    let mut conn = db.connection().await.unwrap();
    conn.set_read_only(true);
    let err = conn.execute(insert("refused")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = conn
        .batch(vec!["SELECT 1".into(), insert("refused")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    conn.execute("BEGIN".into()).await.unwrap();
    let seen = conn
        .query("SELECT COUNT(*) FROM items".into())
        .await
        .unwrap();
    assert_eq!(seen.scalar::<i64>().unwrap(), 1);
    conn.execute("COMMIT".into()).await.unwrap();
    assert!(conn.is_autocommit());
    // The transaction API begins a read-only transaction, which the database enforces too.
    {
        let mut tx = conn.transaction().await.unwrap();
        let seen = tx.query("SELECT COUNT(*) FROM items".into()).await.unwrap();
        assert_eq!(seen.scalar::<i64>().unwrap(), 1);
        tx.rollback().await.unwrap();
    }
    conn.set_read_only(false);
    conn.execute(insert("written")).await.unwrap();
    drop(conn);
    let count = db.query("SELECT COUNT(*) FROM items".into()).await.unwrap();
    assert_eq!(count.scalar::<i64>().unwrap(), 2);
}

/// Two tenants, each with an `items` table holding one row of its own.
async fn two_tenants<H: Harness>(
    h: &H,
) -> (std::sync::Arc<dyn Adapter>, std::sync::Arc<dyn Adapter>) {
    let tenants = h.tenants_on_one_connection().await;
    let mut out = Vec::new();
    for name in ["acme", "beta"] {
        let id = TenantId::new(name).unwrap();
        tenants.create_tenant(&id).await.unwrap();
        let db = tenants.tenant(&id).await.unwrap();
        db.execute(format!("CREATE TABLE items (n {})", h.types().integer).into())
            .await
            .unwrap();
        db.execute("INSERT INTO items (n) VALUES (1)".into())
            .await
            .unwrap();
        out.push(db);
    }
    let beta = out.pop().unwrap();
    (out.pop().unwrap(), beta)
}

async fn count_items(db: &dyn Adapter) -> i64 {
    db.query("SELECT COUNT(*) FROM items".into())
        .await
        .unwrap()
        .scalar::<i64>()
        .unwrap()
}

pub async fn temporary_tables_never_reach_another_caller<H: Harness>(h: &H) {
    let (acme, beta) = two_tenants(h).await;
    if !h.temporary_tables() {
        let err = acme
            .execute("CREATE TEMPORARY TABLE items AS SELECT 12 AS n".into())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unsupported statement"), "{err}");
        return;
    }
    // A temporary table named like a real one shadows it on the connection it was made on.
    acme.execute("CREATE TEMPORARY TABLE items AS SELECT 12 AS n".into())
        .await
        .unwrap();
    // The pool put the connection back clean: the next caller, of either tenant, sees the
    // real table, and writes land in it.
    assert_eq!(count_items(&*beta).await, 1);
    beta.execute("INSERT INTO items (n) VALUES (2)".into())
        .await
        .unwrap();
    assert_eq!(count_items(&*acme).await, 1);
    // A session keeps its temporary table for its own statements, and nobody else sees it.
    let mut session = acme.connection().await.unwrap();
    session
        .execute("CREATE TEMPORARY TABLE items AS SELECT 12 AS n".into())
        .await
        .unwrap();
    session
        .execute("INSERT INTO items (n) VALUES (13)".into())
        .await
        .unwrap();
    let mine = session
        .query("SELECT COUNT(*) FROM items".into())
        .await
        .unwrap();
    assert_eq!(mine.scalar::<i64>().unwrap(), 2);
    drop(session);
    assert_eq!(count_items(&*beta).await, 2);
    beta.execute("INSERT INTO items (n) VALUES (3)".into())
        .await
        .unwrap();
    assert_eq!(count_items(&*beta).await, 3);
    assert_eq!(count_items(&*acme).await, 1);
    acme.execute("INSERT INTO items (n) VALUES (4)".into())
        .await
        .unwrap();
    assert_eq!(count_items(&*acme).await, 2);
}

pub async fn an_abandoned_statement_gives_its_connection_back<H: Harness>(h: &H) {
    let (acme, _beta) = two_tenants(h).await;
    let slow = h.slow_statement();
    let db = acme.clone();
    let task = tokio::spawn(async move { db.query(Statement::new(slow)).await });
    // Let it reach the database, then leave without waiting for it.
    tokio::task::yield_now().await;
    task.abort();
    let _ = task.await;
    // With one connection to share, the next statement can only run once the abandoned one
    // was stopped.
    assert_eq!(
        bounded("the statement after an abandoned one", count_items(&*acme)).await,
        1
    );
}
