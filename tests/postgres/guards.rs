//! What one caller's SQL may leave on a pooled PostgreSQL connection never reaches the next
//! caller, a statement given up on stops on the server, and one tenant holds at most its
//! share of the pool.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, ErrorKind, Statement, TenantId, TenantLogin, TenantManager};
use dbx_postgres::{PgAdapter, PgConfig, PgTenants};
use dbx_tests::env::unique_name;

use crate::url;

/// Tenants `acme` and `beta` on a pool of `max` connections, each with an `items` table.
pub(crate) async fn tenants(
    max: usize,
    per_tenant: Option<usize>,
    login: TenantLogin,
) -> (PgTenants, Arc<dyn Adapter>, Arc<dyn Adapter>) {
    let mut config = PgConfig {
        tenant_schema_prefix: format!("{}_", unique_name("g")),
        tenant_login: login,
        ..PgConfig::from_url(url())
    };
    config.pool.max_size = max;
    config.pool.max_per_tenant = per_tenant;
    config.pool.acquire_timeout = Duration::from_millis(500);
    let root = PgAdapter::connect(config).await.unwrap();
    let tenants = PgTenants::new(root, TenantCacheConfig::default()).unwrap();
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

pub(crate) async fn text(db: &dyn Adapter, sql: &str) -> String {
    db.query(sql.into())
        .await
        .unwrap()
        .scalar::<String>()
        .unwrap()
}

async fn bounded<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within a minute"))
}

/// How many server backends are running a statement that contains `marker`.
async fn running(marker: &str) -> i64 {
    let admin = PgAdapter::connect_url(&url()).await.unwrap();
    let n = admin
        .query(Statement::with_args(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' \
             AND pid <> pg_backend_pid() AND strpos(query, ?) > 0",
            [marker],
        ))
        .await
        .unwrap()
        .scalar::<i64>()
        .unwrap();
    admin.close().await;
    n
}

/// Waits until the server runs `n` statements marked `marker`.
async fn until_running(marker: &str, n: i64) {
    bounded(&format!("{n} statements marked {marker} running"), async {
        while running(marker).await != n {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_locks_and_statements_never_cross_tenants() {
    // One connection, one login for both: every reset is needed, and tested.
    let (_tenants, acme, beta) = tenants(1, None, TenantLogin::Shared).await;
    let zone = text(&*beta, "SHOW TimeZone").await;
    for sql in [
        "SELECT set_config('TimeZone', 'Asia/Tokyo', false)",
        "SELECT set_config('default_transaction_read_only', 'on', false)",
        "SELECT pg_advisory_lock(4242)",
        "LISTEN secrets",
        "PREPARE stolen AS SELECT count(*) FROM items",
    ] {
        acme.execute(sql.into()).await.unwrap();
    }
    // The one connection went from acme to beta: nothing acme set is there.
    assert_eq!(text(&*beta, "SHOW TimeZone").await, zone);
    let done = beta
        .execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
    assert_eq!(done.rows_affected, 1);
    let lock = beta
        .query("SELECT pg_try_advisory_lock(4242)".into())
        .await
        .unwrap();
    assert!(
        lock.scalar::<bool>().unwrap(),
        "acme's advisory lock was still held"
    );
    let err = beta.execute("EXECUTE stolen".into()).await.unwrap_err();
    assert!(err.to_string().contains("stolen"), "{err}");
    let listening = text(&*beta, "SELECT count(*)::text FROM pg_listening_channels()").await;
    assert_eq!(listening, "0");
    // A change a tenant makes to its own session lasts one statement on the pool too.
    beta.execute("SET TimeZone = 'Asia/Tokyo'".into())
        .await
        .unwrap();
    assert_eq!(text(&*beta, "SHOW TimeZone").await, zone);
    // Role switches of a superuser login are undone as well.
    acme.execute("SET ROLE pg_read_all_data".into())
        .await
        .unwrap();
    assert_eq!(text(&*beta, "SELECT current_user::text").await, "postgres");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_abandoned_and_oversized_statements_stop_on_the_server() {
    let db = PgAdapter::connect_url(&url()).await.unwrap();
    let marker = unique_name("slow");
    let sleep = format!("SELECT pg_sleep(60) -- {marker}");
    let err = db
        .query(Statement::new(sleep.as_str()).timeout(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    until_running(&marker, 0).await;

    let abandoned = unique_name("gone");
    let runner = db.clone();
    let sql = format!("SELECT pg_sleep(60) -- {abandoned}");
    let task = tokio::spawn(async move { runner.query(sql.as_str().into()).await });
    until_running(&abandoned, 1).await;
    task.abort();
    until_running(&abandoned, 0).await;

    let big = unique_name("big");
    let rows = format!("SELECT i, pg_sleep(0.001) FROM generate_series(1, 100000) i -- {big}");
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
    assert!(err.to_string().contains("max-per-tenant"), "{err}");
    // The others still get connections.
    beta.execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
    drop(held);
    acme.execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
}

#[tokio::test]
async fn system_and_root_schemas_are_never_tenants() {
    for prefix in ["", "pg_t"] {
        let root = PgAdapter::connect(PgConfig {
            tenant_schema_prefix: prefix.to_owned(),
            ..PgConfig::from_url(url())
        })
        .await
        .unwrap();
        let err = PgTenants::new(root, TenantCacheConfig::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{prefix:?}: {err}");
    }
    // With the prefix "p", the schema public would read as tenant "ublic".
    let root = PgAdapter::connect(PgConfig {
        tenant_schema_prefix: "p".to_owned(),
        ..PgConfig::from_url(url())
    })
    .await
    .unwrap();
    let tenants = PgTenants::new(root, TenantCacheConfig::default()).unwrap();
    let listed = tenants.list_tenants().await.unwrap();
    assert!(!listed.iter().any(|t| t.as_str() == "ublic"), "{listed:?}");
    let err = tenants
        .delete_tenant(&TenantId::new("ublic").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTenant, "{err}");
    let public = text(
        &*Arc::new(PgAdapter::connect_url(&url()).await.unwrap()),
        "SELECT count(*)::text FROM pg_namespace WHERE nspname = 'public'",
    )
    .await;
    assert_eq!(public, "1");
}
