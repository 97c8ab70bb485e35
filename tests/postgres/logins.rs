//! Per-tenant logins: each tenant's SQL runs as a role of its own, which the server itself
//! keeps out of every other tenant's schema, dbx's own tables and other roles' backends,
//! and which tenant SQL cannot trade for dbx's login.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, ErrorKind, TenantId, TenantLogin, TenantManager};
use dbx_postgres::{PgAdapter, PgConfig, PgTenants};
use dbx_tests::env::unique_name;

use crate::guards::{tenants, text};
use crate::url;

async fn admin() -> PgAdapter {
    PgAdapter::connect_url(&url()).await.unwrap()
}

async fn denied(db: &dyn Adapter, sql: &str) {
    let err = db.execute(sql.into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{sql}: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_role_reaches_nothing_but_its_own_schema() {
    let (tenants, acme, beta) = tenants(4, None, TenantLogin::PerTenant).await;
    let beta_schema = tenants.schema_of(&TenantId::new("beta").unwrap()).unwrap();
    beta.execute("INSERT INTO items (n) VALUES (7)".into())
        .await
        .unwrap();
    let acme_role = text(&*acme, "SELECT current_user::text").await;
    assert_ne!(acme_role, "postgres");
    assert_ne!(acme_role, text(&*beta, "SELECT current_user::text").await);
    for sql in [
        format!("SELECT * FROM \"{beta_schema}\".items"),
        format!("INSERT INTO \"{beta_schema}\".items (n) VALUES (1)"),
        format!("DROP TABLE \"{beta_schema}\".items"),
        "SELECT * FROM _dbx.tenant_roles".to_owned(),
        "SET ROLE postgres".to_owned(),
        "SELECT set_config('role', 'postgres', false)".to_owned(),
        "SET SESSION AUTHORIZATION postgres".to_owned(),
        "CREATE TABLE public.planted (n int)".to_owned(),
        "SELECT * FROM pg_catalog.pg_authid".to_owned(),
        "CREATE ROLE sneaky".to_owned(),
    ] {
        denied(&*acme, &sql).await;
    }
    // Undoing a role switch leads back to the tenant's own role, never to dbx's.
    let session = acme.connection().await.unwrap();
    let mut session = session;
    session.execute("RESET ROLE".into()).await.unwrap();
    let who = session
        .query("SELECT current_user::text, session_user::text".into())
        .await
        .unwrap();
    assert_eq!(who.rows[0].get::<String>(0).unwrap(), acme_role);
    assert_eq!(who.rows[0].get::<String>(1).unwrap(), acme_role);
    drop(session);
    assert_eq!(
        text(&*beta, "SELECT count(*)::text FROM items").await,
        "1",
        "beta's row is untouched"
    );
    // dbx's own login is never the tenant's, and the stored password is not in its Debug.
    let admin = admin().await;
    let stored = text(
        &admin,
        &format!("SELECT password FROM _dbx.tenant_roles WHERE role = '{acme_role}'"),
    )
    .await;
    assert_eq!(stored.len(), 64);
    assert!(!format!("{tenants:?} {acme:?}").contains(&stored));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_signal_another_tenants_backend() {
    let (_tenants, acme, beta) = tenants(4, None, TenantLogin::PerTenant).await;
    let beta_role = text(&*beta, "SELECT current_user::text").await;
    let mut open = beta.transaction().await.unwrap();
    open.execute("INSERT INTO items (n) VALUES (1)".into())
        .await
        .unwrap();
    let err = acme
        .query(
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{beta_role}'"
            )
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = acme
        .query(
            format!(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = '{beta_role}'"
            )
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    open.commit().await.unwrap();
    assert_eq!(text(&*beta, "SELECT count(*)::text FROM items").await, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_made_with_a_shared_login_are_adopted() {
    let prefix = format!("{}_", unique_name("a"));
    let config = |login| PgConfig {
        tenant_schema_prefix: prefix.clone(),
        tenant_login: login,
        ..PgConfig::from_url(url())
    };
    let id = TenantId::new("old").unwrap();
    let shared = PgTenants::new(
        PgAdapter::connect(config(TenantLogin::Shared))
            .await
            .unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    shared.create_tenant(&id).await.unwrap();
    let old = shared.tenant(&id).await.unwrap();
    for sql in [
        "CREATE TABLE items (id BIGSERIAL PRIMARY KEY, n INT)",
        "CREATE VIEW big AS SELECT * FROM items WHERE n > 10",
        "CREATE SEQUENCE loose",
        "CREATE TYPE mood AS ENUM ('ok', 'not')",
        "CREATE FUNCTION twice(x INT) RETURNS INT LANGUAGE sql AS 'SELECT 2 * x'",
        "INSERT INTO items (n) VALUES (21)",
    ] {
        old.execute(sql.into()).await.unwrap();
    }
    shared.close_all().await;
    let per_tenant = PgTenants::new(
        PgAdapter::connect(config(TenantLogin::PerTenant))
            .await
            .unwrap(),
        TenantCacheConfig::default(),
    )
    .unwrap();
    let adopted = per_tenant.tenant(&id).await.unwrap();
    adopted
        .execute("INSERT INTO items (n) VALUES (twice(6))".into())
        .await
        .unwrap();
    assert_eq!(
        text(
            &*adopted,
            "SELECT string_agg(n::text, ',' ORDER BY id) FROM big"
        )
        .await,
        "21,12"
    );
    adopted
        .execute("SELECT nextval('loose')".into())
        .await
        .unwrap();
    adopted
        .execute("ALTER TABLE items ADD COLUMN m mood".into())
        .await
        .unwrap();
    let role = text(&*adopted, "SELECT current_user::text").await;
    assert_ne!(role, "postgres");
    let schema = per_tenant.schema_of(&id).unwrap();
    let foreign = text(
        &admin().await,
        &format!(
            "SELECT count(*)::text FROM pg_class WHERE relnamespace = '\"{schema}\"'::regnamespace \
             AND relowner <> '\"{role}\"'::regrole"
        ),
    )
    .await;
    assert_eq!(foreign, "0", "everything in the schema is the role's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_tenant_drops_its_role_and_password() {
    let (tenants, acme, _beta) = tenants(4, None, TenantLogin::PerTenant).await;
    let role = text(&*acme, "SELECT current_user::text").await;
    drop(acme);
    tenants
        .delete_tenant(&TenantId::new("acme").unwrap())
        .await
        .unwrap();
    let admin = admin().await;
    let left = text(
        &admin,
        &format!(
            "SELECT ((SELECT count(*) FROM pg_roles WHERE rolname = '{role}') + \
             (SELECT count(*) FROM _dbx.tenant_roles WHERE role = '{role}'))::text"
        ),
    )
    .await;
    assert_eq!(left, "0");
    // Made again, it starts empty under a fresh role of the same name.
    let id = TenantId::new("acme").unwrap();
    tenants.create_tenant(&id).await.unwrap();
    let again = tenants.tenant(&id).await.unwrap();
    assert_eq!(
        text(
            &*again,
            "SELECT count(*)::text FROM pg_tables WHERE schemaname = current_schema()"
        )
        .await,
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tenant_pools_stay_within_one_budget() {
    let prefix = format!("{}_", unique_name("b"));
    let mut config = PgConfig {
        tenant_schema_prefix: prefix.clone(),
        ..PgConfig::from_url(url())
    };
    config.pool.max_size = 4;
    config.pool.max_per_tenant = Some(2);
    let tenants = Arc::new(
        PgTenants::new(
            PgAdapter::connect(config).await.unwrap(),
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
            let tenants = tenants.clone();
            let id = id.clone();
            work.spawn(async move {
                let db = tenants.tenant(&id).await.unwrap();
                for _ in 0..3 {
                    db.query("SELECT pg_sleep(0.02)".into()).await.unwrap();
                }
            });
        }
    }
    while let Some(done) = work.join_next().await {
        done.unwrap();
    }
    let admin = admin().await;
    let pattern = format!("{prefix}%");
    let open = admin
        .query(dbx_core::Statement::with_args(
            "SELECT count(*) FROM pg_stat_activity WHERE usename LIKE $1",
            [dbx_core::Value::from(pattern.as_str())],
        ))
        .await
        .unwrap()
        .scalar::<i64>()
        .unwrap();
    assert!(
        open <= 4,
        "{open} tenant connections open against a budget of 4"
    );
    assert!(tenants.budget_free() <= 4);
    tokio::time::timeout(Duration::from_secs(5), async {
        // Every tenant still gets a connection while the others keep theirs idle.
        for id in &ids {
            let db = tenants.tenant(id).await.unwrap();
            db.query("SELECT 1".into()).await.unwrap();
        }
    })
    .await
    .unwrap();
}
