//! DatabaseService and its configuration, on SQLite.

mod config;
mod deploy;
mod sources;

use std::path::Path;
use std::sync::Arc;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{AdapterKind, Error, ErrorKind, Statement, TenantId};
use dbx_service::config::{AdapterConfig, SqliteAdapterConfig};
use dbx_service::{AdapterSetup, DatabaseService, DbxConfig};
use dbx_sqlite::{SqliteAdapter, SqliteOptions, SqliteTenants};
use tokio::task::JoinSet;

fn id(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

async fn sqlite_setup(dir: &Path, default: bool) -> AdapterSetup {
    AdapterSetup {
        root: Arc::new(
            SqliteAdapter::open(SqliteOptions::new(dir.join("root.db")))
                .await
                .unwrap(),
        ),
        tenants: Arc::new(
            SqliteTenants::open(
                dir.join("t"),
                SqliteOptions::default(),
                TenantCacheConfig::default(),
            )
            .await
            .unwrap(),
        ),
        default,
        auto_create_tenants: true,
    }
}

async fn service_in(
    dir: &Path,
    tweak: impl FnOnce(&mut SqliteAdapterConfig),
) -> Arc<DatabaseService> {
    let mut sqlite = SqliteAdapterConfig::default();
    tweak(&mut sqlite);
    let config = DbxConfig {
        data_dir: dir.to_path_buf(),
        adapters: vec![AdapterConfig::Sqlite(sqlite)],
        ..DbxConfig::default()
    };
    let mut config = config;
    config.validate().unwrap();
    DatabaseService::open(&config).await.unwrap()
}

#[tokio::test]
async fn the_builder_names_duplicate_kinds_and_ambiguous_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let err = DatabaseService::builder()
        .adapter(sqlite_setup(dir.path(), true).await)
        .adapter(sqlite_setup(dir.path(), false).await)
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("adapter #1 (sqlite) and adapter #2 (sqlite)"),
        "{err}"
    );

    let pg = dbx_postgres::PgAdapter::connect(dbx_postgres::PgConfig::default())
        .await
        .unwrap();
    let pg_setup = |default| AdapterSetup {
        root: Arc::new(pg.clone()),
        tenants: Arc::new(
            dbx_postgres::PgTenants::new(pg.clone(), TenantCacheConfig::default()).unwrap(),
        ),
        default,
        auto_create_tenants: true,
    };
    let err = DatabaseService::builder()
        .adapter(sqlite_setup(dir.path(), true).await)
        .adapter(pg_setup(true))
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("adapter #1 (sqlite) and adapter #2 (postgres) are all marked default"),
        "{err}"
    );
    let err = DatabaseService::builder()
        .adapter(sqlite_setup(dir.path(), false).await)
        .adapter(pg_setup(false))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("no adapter is marked default"),
        "{err}"
    );
    // One adapter is the default without saying so.
    let one = DatabaseService::builder()
        .adapter(sqlite_setup(dir.path(), false).await)
        .build()
        .unwrap();
    assert_eq!(one.default_kind(), AdapterKind::Sqlite);
    assert_eq!(one.available_kinds(), [AdapterKind::Sqlite]);
}

#[tokio::test]
async fn root_tenants_and_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_in(dir.path(), |_| {}).await;
    let root = service.root(None).unwrap();
    root.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    assert_eq!(
        service
            .root(Some(AdapterKind::Sqlite))
            .unwrap()
            .tables()
            .await
            .unwrap()
            .len(),
        1
    );
    let err = service.root(Some(AdapterKind::Mysql)).unwrap_err();
    assert!(
        err.to_string()
            .contains("no mysql adapter is configured; available: sqlite"),
        "{err}"
    );

    service.create_tenant(&id("acme"), None).await.unwrap();
    service
        .create_tenant(&id("globex"), Some(AdapterKind::Sqlite))
        .await
        .unwrap();
    assert_eq!(
        service.list_tenants(None).await.unwrap(),
        [id("acme"), id("globex")]
    );
    let acme = service.tenant(&id("acme"), None).await.unwrap();
    acme.execute("CREATE TABLE only_acme (x INTEGER)".into())
        .await
        .unwrap();
    assert!(
        service
            .tenant(&id("globex"), None)
            .await
            .unwrap()
            .tables()
            .await
            .unwrap()
            .is_empty()
    );
    service.delete_tenant(&id("acme"), None).await.unwrap();
    assert_eq!(service.list_tenants(None).await.unwrap(), [id("globex")]);
    assert!(dir.path().join("tenants").join("globex.db").exists());
    assert!(dir.path().join("dbx.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_first_accesses_create_a_tenant_once() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_in(dir.path(), |_| {}).await;
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let service = service.clone();
        tasks.spawn(async move {
            let db = service
                .tenant(&TenantId::new("newcomer").unwrap(), None)
                .await
                .unwrap();
            db.query("SELECT 1".into()).await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(service.stats().tenants_created, 1);
    assert_eq!(service.list_tenants(None).await.unwrap(), [id("newcomer")]);
}

#[tokio::test]
async fn auto_creation_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_in(dir.path(), |c| c.auto_create_tenants = false).await;
    let err = service.tenant(&id("stranger"), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchTenant, "{err}");
    assert!(err.to_string().contains("create it first"), "{err}");
    assert!(service.list_tenants(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn stats_count_queries_errors_and_cache_use() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_in(dir.path(), |_| {}).await;
    let root = service.root(None).unwrap();
    root.execute("CREATE TABLE u (x INTEGER UNIQUE)".into())
        .await
        .unwrap();
    root.execute(Statement::with_args("INSERT INTO u VALUES (?)", [1]))
        .await
        .unwrap();
    assert!(
        root.execute(Statement::with_args("INSERT INTO u VALUES (?)", [1]))
            .await
            .is_err()
    );
    assert!(root.query("SELECT * FROM missing".into()).await.is_err());
    let mut tx = root.transaction().await.unwrap();
    tx.execute(Statement::with_args("INSERT INTO u VALUES (?)", [2]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    service.tenant(&id("a"), None).await.unwrap();
    service.tenant(&id("a"), None).await.unwrap();

    let stats = service.stats();
    assert_eq!(stats.queries, 5);
    assert_eq!(stats.errors.get("unique_violation"), Some(&1));
    assert_eq!(stats.errors.get("undefined_table"), Some(&1));
    let cache = stats.adapters[&AdapterKind::Sqlite];
    assert_eq!(cache.open_tenants, 1);
    assert!(cache.cache_hits >= 1, "{cache:?}");
}

#[tokio::test]
async fn health_reports_each_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_in(dir.path(), |_| {}).await;
    let health = service.health().await;
    assert_eq!(health.len(), 1);
    assert!(health[0].ok && health[0].error.is_none(), "{health:?}");
    assert!(health[0].pool_max >= 1, "{health:?}");
}

#[tokio::test]
async fn shutdown_closes_everything_and_later_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_in(dir.path(), |_| {}).await;
    let root = service.root(None).unwrap();
    let tenant = service.tenant(&id("t1"), None).await.unwrap();
    service.shutdown().await;
    for err in [
        root.query("SELECT 1".into()).await.unwrap_err(),
        tenant.query("SELECT 1".into()).await.unwrap_err(),
        service.root(None).unwrap_err(),
        service.tenant(&id("t1"), None).await.unwrap_err(),
    ] {
        assert!(matches!(err, Error::Closed(AdapterKind::Sqlite)), "{err}");
    }
    assert!(!service.health().await[0].ok);
}

/// Open file descriptors of this process whose target lies under `dir`.
fn open_files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(target) = std::fs::read_link(entry.path())
            && target.starts_with(dir)
        {
            out.push(target.display().to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tenants_through_a_cache_of_a_hundred_keep_files_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let tenants_dir = dir.path().join("tenants");
    let service = service_in(dir.path(), |c| {
        c.cache = TenantCacheConfig {
            capacity: 100,
            time_to_idle: None,
        };
    })
    .await;
    for n in 0..1000 {
        let tenant = id(&format!("t{n:04}"));
        let db = service.tenant(&tenant, None).await.unwrap();
        db.execute("CREATE TABLE who (name TEXT)".into())
            .await
            .unwrap();
        db.execute(Statement::with_args(
            "INSERT INTO who VALUES (?)",
            [tenant.as_str()],
        ))
        .await
        .unwrap();
    }
    assert_eq!(service.stats().tenants_created, 1000);
    // Evicted tenants close when the cache's maintenance runs and their last user lets go; on a
    // loaded machine that can take a while, so wait (up to a generous deadline) for the count
    // to settle rather than for a fixed time.
    service.tenant(&id("t0999"), None).await.unwrap();
    let count_databases = |files: &[String]| {
        files
            .iter()
            .filter(|f| f.ends_with(".db"))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut files = open_files_under(&tenants_dir);
    while count_databases(&files) > 110 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // moka applies evictions at its maintenance, which only cache activity brings about.
        service.tenant(&id("t0999"), None).await.unwrap();
        files = open_files_under(&tenants_dir);
    }
    let databases = count_databases(&files);
    assert!(databases <= 110, "{databases} tenant databases still open");
    assert!(
        files.len() <= 110 * 4,
        "{} tenant files still open",
        files.len()
    );
    let stats = service.stats().adapters[&AdapterKind::Sqlite];
    assert!(stats.cache_evictions >= 890, "{stats:?}");

    // Every tenant's data is intact after eviction and reopening.
    for n in (0..1000).step_by(7) {
        let tenant = id(&format!("t{n:04}"));
        let name: String = service
            .tenant(&tenant, None)
            .await
            .unwrap()
            .query("SELECT name FROM who".into())
            .await
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(name, tenant.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_libsql_adapter_serves_its_root_and_namespaced_tenants() {
    use dbx_service::config::LibsqlAdapterConfig;
    let dir = tempfile::tempdir().unwrap();
    let root = SqliteAdapter::open(SqliteOptions::new(dir.path().join("root.db")))
        .await
        .unwrap();
    let namespaces = SqliteTenants::open(
        dir.path().join("ns"),
        SqliteOptions::default(),
        TenantCacheConfig::default(),
    )
    .await
    .unwrap();
    let state = dbx_hrana::ServerState::with_tenants(
        Arc::new(root),
        Arc::new(namespaces),
        dbx_hrana::Config::default(),
    );
    let server = dbx_tests::hrana_server::HranaServer::serve(state, None).await;

    let libsql = LibsqlAdapterConfig {
        url: Some(server.url.clone()),
        default: true,
        auto_create_tenants: true,
        ..LibsqlAdapterConfig::default()
    };
    let mut config = DbxConfig {
        data_dir: dir.path().to_path_buf(),
        adapters: vec![AdapterConfig::Libsql(libsql)],
        ..DbxConfig::default()
    };
    config.validate().unwrap();
    let service = DatabaseService::open(&config).await.unwrap();
    let acme = TenantId::new("acme").unwrap();
    let tenant = service.tenant(&acme, None).await.unwrap();
    tenant
        .execute("CREATE TABLE who (name TEXT)".into())
        .await
        .unwrap();
    let listed = service.list_tenants(None).await.unwrap();
    assert_eq!(
        listed,
        std::slice::from_ref(&acme),
        "created on first access, through the admin API"
    );
    let root = service.root(None).unwrap();
    let err = root.query("SELECT * FROM who".into()).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::UndefinedTable,
        "the tenant's table is not the root's"
    );
}
