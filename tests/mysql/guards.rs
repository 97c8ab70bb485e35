//! What one caller's SQL may leave on a pooled MySQL connection never reaches the next
//! caller (`autocommit` off above all: writes answered as done would be lost), a statement
//! given up on is killed on the server, and one tenant holds at most its share of the pool.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, ErrorKind, Statement, TenantId, TenantLogin, TenantManager};
use dbx_mysql::{MySqlAdapter, MySqlConfig, MySqlTenants};
use dbx_tests::env::unique_name;

use crate::{fresh_database, url};

/// Tenants `acme` and `beta` on a pool of `max` connections, each with an `items` table.
pub(crate) async fn tenants(
    max: usize,
    per_tenant: Option<usize>,
    login: TenantLogin,
) -> (MySqlTenants, Arc<dyn Adapter>, Arc<dyn Adapter>) {
    let mut config = MySqlConfig::from_url(url());
    config.tenant_login = login;
    config.tenant_database_prefix = format!("{}_", unique_name("g"));
    config.pool.max_size = max;
    config.pool.max_per_tenant = per_tenant;
    config.pool.acquire_timeout = Duration::from_millis(500);
    let tenants = MySqlTenants::new(
        MySqlAdapter::connect(config).await.unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    for name in ["acme", "beta"] {
        let id = TenantId::new(name).unwrap();
        tenants.create_tenant(&id).await.unwrap();
        let db = tenants.tenant(&id).await.unwrap();
        db.execute("CREATE TABLE items (n BIGINT)".into())
            .await
            .unwrap();
        out.push(db);
    }
    let beta = out.pop().unwrap();
    (tenants, out.pop().unwrap(), beta)
}

async fn bounded<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within a minute"))
}

/// How many server threads are running a statement that contains `marker`.
async fn running(marker: &str) -> i64 {
    let admin = MySqlAdapter::connect_url(&url()).await.unwrap();
    let n = admin
        .query(Statement::with_args(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE COMMAND IN ('Query', 'Execute') AND ID <> CONNECTION_ID() AND INSTR(INFO, ?) > 0",
            [marker],
        ))
        .await
        .unwrap()
        .scalar::<i64>()
        .unwrap();
    admin.close().await;
    n
}

async fn until_running(marker: &str, n: i64) {
    bounded(&format!("{n} statements marked {marker} running"), async {
        while running(marker).await != n {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocommit_off_settings_and_locks_never_reach_the_next_caller() {
    // One connection, one login for both: every reset is needed, and tested.
    let (tenants, acme, beta) = tenants(1, None, TenantLogin::Shared).await;
    for sql in [
        "SET autocommit = 0",
        "SET SESSION sql_mode = 'ANSI_QUOTES'",
        "CREATE TEMPORARY TABLE items AS SELECT 12 AS n",
    ] {
        acme.execute(sql.into()).await.unwrap();
    }
    let lock = acme.query("SELECT GET_LOCK('dbx-guard', 0)".into()).await;
    assert_eq!(lock.unwrap().scalar::<i64>().unwrap(), 1);
    // Every insert answered as done is there, seen from a connection of another pool.
    for n in 1..=3 {
        beta.execute(Statement::with_args(
            "INSERT INTO items (n) VALUES (?)",
            [n],
        ))
        .await
        .unwrap();
    }
    let outside = MySqlAdapter::connect_url(&url()).await.unwrap();
    let database = tenants
        .database_of(&TenantId::new("beta").unwrap())
        .unwrap();
    let count = outside
        .query(format!("SELECT COUNT(*) FROM `{database}`.items").into())
        .await
        .unwrap();
    assert_eq!(count.scalar::<i64>().unwrap(), 3);
    let lock = outside
        .query("SELECT IS_FREE_LOCK('dbx-guard')".into())
        .await
        .unwrap();
    assert_eq!(
        lock.scalar::<i64>().unwrap(),
        1,
        "acme's named lock was still held"
    );
    let mode = beta
        .query("SELECT @@SESSION.sql_mode".into())
        .await
        .unwrap();
    assert!(!mode.scalar::<String>().unwrap().contains("ANSI_QUOTES"));
    // Acme's own next statement starts clean too: its temporary table is gone.
    let real = acme
        .query("SELECT COUNT(*) FROM items".into())
        .await
        .unwrap();
    assert_eq!(real.scalar::<i64>().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_leaves_a_transaction_open_is_rolled_back_and_refused() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE t (x INT)".into()).await.unwrap();
    db.execute(
        "CREATE PROCEDURE open_and_write() BEGIN START TRANSACTION; INSERT INTO t VALUES (1); END"
            .into(),
    )
    .await
    .unwrap();
    let err = db
        .execute("CALL open_and_write()".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("rolled back"), "{err}");
    let count = db.query("SELECT COUNT(*) FROM t".into()).await.unwrap();
    assert_eq!(count.scalar::<i64>().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_abandoned_and_oversized_statements_are_killed() {
    let db = fresh_database(&url()).await;
    let marker = unique_name("slow");
    let err = db
        .query(
            Statement::new(format!("SELECT SLEEP(60) /* {marker} */"))
                .timeout(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    until_running(&marker, 0).await;

    let abandoned = unique_name("gone");
    let runner = db.clone();
    let sql = format!("SELECT SLEEP(60) /* {abandoned} */");
    let task = tokio::spawn(async move { runner.query(sql.as_str().into()).await });
    until_running(&abandoned, 1).await;
    task.abort();
    until_running(&abandoned, 0).await;

    let big = unique_name("big");
    let rows = format!(
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000) \
         SELECT i, SLEEP(0.0001) FROM r /* {big} */"
    );
    let err = db
        .query(Statement::new(rows).max_result_bytes(1000))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResultTooLarge, "{err}");
    until_running(&big, 0).await;
    assert_eq!(db.query("SELECT 1".into()).await.unwrap().rows.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenant_cannot_take_the_whole_pool() {
    for login in [TenantLogin::Shared, TenantLogin::PerTenant] {
        one_tenant_holds_its_share(login).await;
    }
}

async fn one_tenant_holds_its_share(login: TenantLogin) {
    let (_tenants, acme, beta) = tenants(4, Some(2), login).await;
    let held = [
        acme.transaction().await.unwrap(),
        acme.transaction().await.unwrap(),
    ];
    let err = acme.transaction().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    beta.execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
    drop(held);
    acme.execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
}

#[tokio::test]
async fn system_and_root_databases_are_never_tenants() {
    let mut config = MySqlConfig::from_url(url());
    config.tenant_database_prefix = String::new();
    let err = MySqlTenants::new(
        MySqlAdapter::connect(config).await.unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    // With the prefix "s", the database sys would read as tenant "ys".
    let mut config = MySqlConfig::from_url(url());
    config.tenant_database_prefix = "s".to_owned();
    let tenants = MySqlTenants::new(
        MySqlAdapter::connect(config).await.unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    let listed = tenants.list_tenants().await.unwrap();
    assert!(!listed.iter().any(|t| t.as_str() == "ys"), "{listed:?}");
    let err = tenants
        .delete_tenant(&TenantId::new("ys").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTenant, "{err}");
}
