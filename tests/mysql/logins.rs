//! Per-tenant logins: each tenant's SQL runs as a user of its own, which the server itself
//! keeps out of every other tenant's database, dbx's own and other users' threads.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, ErrorKind, Statement, TenantId, TenantLogin, TenantManager, Value};
use dbx_mysql::{MySqlAdapter, MySqlConfig, MySqlTenants};
use dbx_tests::env::unique_name;

use crate::guards::tenants;
use crate::url;

async fn text(db: &dyn Adapter, sql: &str) -> String {
    let rs = db.query(sql.into()).await.unwrap();
    match &rs.rows[0].values()[0] {
        Value::Text(t) => t.clone(),
        other => format!("{other:?}"),
    }
}

async fn denied(db: &dyn Adapter, sql: &str) {
    let err = db.execute(sql.into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{sql}: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_user_reaches_nothing_but_its_own_database() {
    let (tenants, acme, beta) = tenants(4, None, TenantLogin::PerTenant).await;
    let beta_db = tenants
        .database_of(&TenantId::new("beta").unwrap())
        .unwrap();
    beta.execute("INSERT INTO items (n) VALUES (7)".into())
        .await
        .unwrap();
    let me = text(&*acme, "SELECT CURRENT_USER()").await;
    assert!(
        me.starts_with(
            &tenants
                .database_of(&TenantId::new("acme").unwrap())
                .unwrap()
        ),
        "{me}"
    );
    for sql in [
        format!("SELECT * FROM `{beta_db}`.items"),
        format!("INSERT INTO `{beta_db}`.items (n) VALUES (1)"),
        format!("DROP TABLE `{beta_db}`.items"),
        format!("USE `{beta_db}`"),
        "SELECT * FROM _dbx.tenant_users".to_owned(),
        "SELECT * FROM mysql.user".to_owned(),
        "CREATE USER sneaky".to_owned(),
        "CREATE DATABASE planted".to_owned(),
        "SET GLOBAL max_connections = 1".to_owned(),
    ] {
        denied(&*acme, &sql).await;
    }
    let visible = acme.query("SHOW DATABASES".into()).await.unwrap();
    let names: Vec<String> = visible.rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert!(!names.contains(&beta_db), "{names:?}");
    assert_eq!(
        text(&*beta, "SELECT CAST(count(*) AS CHAR) FROM items").await,
        "1"
    );
    let stored = text(
        &MySqlAdapter::connect_url(&url()).await.unwrap(),
        &format!(
            "SELECT password FROM _dbx.tenant_users WHERE user = '{}'",
            me.split('@').next().unwrap()
        ),
    )
    .await;
    assert_eq!(stored.len(), 64);
    assert!(!format!("{tenants:?} {acme:?}").contains(&stored));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_kill_another_tenants_thread() {
    let (_tenants, acme, beta) = tenants(4, None, TenantLogin::PerTenant).await;
    let mut open = beta.transaction().await.unwrap();
    let thread: i64 = open
        .query("SELECT CONNECTION_ID()".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    open.execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
    for kill in ["KILL", "KILL QUERY"] {
        denied(&*acme, &format!("{kill} {thread}")).await;
    }
    open.commit().await.unwrap();
    assert_eq!(
        text(&*beta, "SELECT CAST(count(*) AS CHAR) FROM items").await,
        "1"
    );
}

/// `_` is a wildcard in `GRANT ... ON db.*`: tenant `a_b` must not get tenant `a-b`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_tenant_names_get_no_rights_on_each_other() {
    let mut config = MySqlConfig::from_url(url());
    config.tenant_database_prefix = format!("{}_", unique_name("w"));
    let tenants = MySqlTenants::new(
        MySqlAdapter::connect(config).await.unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    let (under, dash) = (TenantId::new("a_b").unwrap(), TenantId::new("a-b").unwrap());
    for id in [&under, &dash] {
        tenants.create_tenant(id).await.unwrap();
        tenants
            .tenant(id)
            .await
            .unwrap()
            .execute("CREATE TABLE items (n INT)".into())
            .await
            .unwrap();
    }
    let other = tenants.database_of(&dash).unwrap();
    let db = tenants.tenant(&under).await.unwrap();
    denied(&*db, &format!("SELECT * FROM `{other}`.items")).await;
    for id in [&under, &dash] {
        tenants.delete_tenant(id).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_made_with_a_shared_login_are_adopted_and_deleting_drops_the_user() {
    let prefix = format!("{}_", unique_name("a"));
    let config = |login| {
        let mut c = MySqlConfig::from_url(url());
        c.tenant_database_prefix = prefix.clone();
        c.tenant_login = login;
        c
    };
    let id = TenantId::new("old").unwrap();
    let shared = MySqlTenants::new(
        MySqlAdapter::connect(config(TenantLogin::Shared))
            .await
            .unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    shared.create_tenant(&id).await.unwrap();
    let old = shared.tenant(&id).await.unwrap();
    old.execute("CREATE TABLE items (n INT)".into())
        .await
        .unwrap();
    old.execute("INSERT INTO items VALUES (21)".into())
        .await
        .unwrap();
    shared.close_all().await;
    let per_tenant = MySqlTenants::new(
        MySqlAdapter::connect(config(TenantLogin::PerTenant))
            .await
            .unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    let adopted = per_tenant.tenant(&id).await.unwrap();
    adopted
        .execute("INSERT INTO items VALUES (12)".into())
        .await
        .unwrap();
    assert_eq!(
        text(&*adopted, "SELECT CAST(SUM(n) AS CHAR) FROM items").await,
        "33"
    );
    let user = per_tenant.database_of(&id).unwrap();
    assert!(
        text(&*adopted, "SELECT CURRENT_USER()")
            .await
            .starts_with(&user)
    );
    drop(adopted);
    per_tenant.delete_tenant(&id).await.unwrap();
    let admin = MySqlAdapter::connect_url(&url()).await.unwrap();
    let left: i64 = admin
        .query(Statement::with_args(
            "SELECT (SELECT count(*) FROM mysql.user WHERE User = ?) + \
             (SELECT count(*) FROM _dbx.tenant_users WHERE user = ?)",
            [Value::from(user.as_str()), Value::from(user.as_str())],
        ))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tenant_pools_stay_within_one_budget() {
    let prefix = format!("{}_", unique_name("b"));
    let mut config = MySqlConfig::from_url(url());
    config.tenant_database_prefix = prefix.clone();
    config.pool.max_size = 4;
    config.pool.max_per_tenant = Some(2);
    let tenants = Arc::new(
        MySqlTenants::new(
            MySqlAdapter::connect(config).await.unwrap(),
            TenantCacheConfig::default(),
        )
        .unwrap(),
    );
    let ids: Vec<TenantId> = (0..6)
        .map(|i| TenantId::new(format!("b{i}")).unwrap())
        .collect();
    for id in &ids {
        tenants.create_tenant(id).await.unwrap();
    }
    let mut work = tokio::task::JoinSet::new();
    for id in ids.clone() {
        for _ in 0..2 {
            let (tenants, id) = (tenants.clone(), id.clone());
            work.spawn(async move {
                let db = tenants.tenant(&id).await.unwrap();
                for _ in 0..3 {
                    db.query("SELECT SLEEP(0.02)".into()).await.unwrap();
                }
            });
        }
    }
    while let Some(done) = work.join_next().await {
        done.unwrap();
    }
    let admin = MySqlAdapter::connect_url(&url()).await.unwrap();
    let open: i64 = admin
        .query(Statement::with_args(
            "SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER LIKE ?",
            [Value::from(format!("{}%", prefix.replace('_', "\\_")))],
        ))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert!(
        open <= 4,
        "{open} tenant connections open against a budget of 4"
    );
    tokio::time::timeout(Duration::from_secs(5), async {
        for id in &ids {
            tenants
                .tenant(id)
                .await
                .unwrap()
                .query("SELECT 1".into())
                .await
                .unwrap();
        }
    })
    .await
    .unwrap();
    for id in &ids {
        tenants.delete_tenant(id).await.unwrap();
    }
}
