//! PostgreSQL-specific tests: types, placeholders next to PostgreSQL syntax, tenant isolation
//! on a shared pool, pool limits, and a server killed mid-query.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, ErrorKind, Statement, TenantId, TenantManager, Value};
use dbx_postgres::{PgAdapter, PgConfig, PgTenants};
use dbx_tests::env::unique_name;

use crate::{fresh_database, url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_type_round_trips() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE EXTENSION IF NOT EXISTS citext SCHEMA public".into())
        .await
        .unwrap();
    db.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')".into())
        .await
        .unwrap();
    let failures =
        dbx_tests::types_doc::round_trip(&db, &dbx_tests::types_doc::rows("PostgreSQL")).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn casts_dollar_quotes_and_jsonb_operators_survive_placeholders() {
    let db = fresh_database(&url()).await;
    let rs = db
        .query(Statement::with_args("SELECT ?::int + 1 AS n, $$ it's :not ? a param $$ AS body, '{\"k\":1}'::jsonb ?? 'k' AS has", [41]))
        .await
        .unwrap();
    let row = rs.first().unwrap();
    assert_eq!(row.get::<i64>("n").unwrap(), 42);
    assert_eq!(row.get::<String>("body").unwrap(), " it's :not ? a param ");
    assert!(row.get::<bool>("has").unwrap());
    let any = db
        .query(Statement::with_args(
            "SELECT '{\"a\":1,\"b\":2}'::jsonb ??| ?::text[] AS any_of",
            ["[\"b\",\"z\"]"],
        ))
        .await
        .unwrap();
    assert!(any.scalar::<bool>().unwrap());
}

#[tokio::test]
async fn parameters_bind_to_inferred_types() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE ev (at TIMESTAMPTZ, ok BOOLEAN, n NUMERIC, id UUID)".into())
        .await
        .unwrap();
    db.execute(Statement::with_args(
        "INSERT INTO ev VALUES (?, ?, ?, ?)",
        [
            Value::from("2024-01-02 03:04:05+00"),
            1.into(),
            5.into(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into(),
        ],
    ))
    .await
    .unwrap();
    let rs = db
        .query("SELECT at, ok, n FROM ev WHERE at > ?".into())
        .await;
    assert_eq!(
        rs.unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "a missing argument is an error"
    );
    let rs = db
        .query(Statement::with_args(
            "SELECT at, ok, n FROM ev WHERE at > ?",
            ["2024-01-01T00:00:00Z"],
        ))
        .await
        .unwrap();
    assert_eq!(
        rs.first().unwrap().values(),
        &[Value::from("2024-01-02T03:04:05Z"), 1.into(), "5".into()]
    );
    let err = db
        .execute(Statement::with_args("INSERT INTO ev (ok) VALUES (?)", [2]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let err = db
        .execute(Statement::with_args(
            "INSERT INTO ev (id) VALUES (?)",
            ["not-a-uuid"],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[tokio::test]
async fn insert_ids_come_from_returning_only() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, x INT)".into())
        .await
        .unwrap();
    let plain = db
        .execute("INSERT INTO t (x) VALUES (1)".into())
        .await
        .unwrap();
    assert_eq!((plain.rows_affected, plain.last_insert_id), (1, None));
    let returning = db
        .execute("INSERT INTO t (x) VALUES (2) RETURNING id".into())
        .await
        .unwrap();
    assert_eq!(
        (returning.rows_affected, returning.last_insert_id),
        (1, Some(2))
    );
    let select = db.query("SELECT * FROM t".into()).await.unwrap();
    assert_eq!((select.rows.len(), select.rows_affected), (2, 0));
    let update = db.execute("UPDATE t SET x = x + 1".into()).await.unwrap();
    assert_eq!(update.rows_affected, 2);
}

async fn tenants_with(cache: TenantCacheConfig, max: usize) -> Arc<PgTenants> {
    let mut config = PgConfig::from_url(url());
    config.tenant_schema_prefix = format!("{}_", unique_name("t"));
    config.pool.max_size = max;
    Arc::new(PgTenants::new(PgAdapter::connect(config).await.unwrap(), cache).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_stay_isolated_on_a_shared_pool_under_concurrency() {
    // 20 tenants, 10 tasks each, through a pool of 4 connections: every connection serves
    // many tenants in turn, so a search_path left behind would show up as foreign rows.
    let tenants = tenants_with(TenantCacheConfig::default(), 4).await;
    let ids: Vec<TenantId> = (0..20)
        .map(|i| TenantId::new(format!("tenant{i:02}")).unwrap())
        .collect();
    for id in &ids {
        tenants.create_tenant(id).await.unwrap();
        tenants
            .tenant(id)
            .await
            .unwrap()
            .execute("CREATE TABLE entries (owner TEXT NOT NULL, n INT)".into())
            .await
            .unwrap();
    }
    dbx_tests::isolation::hammer(tenants.clone(), &ids, 10, 10).await;
}

#[tokio::test]
async fn a_callers_own_set_search_path_does_not_leak() {
    let tenants = tenants_with(TenantCacheConfig::default(), 1).await;
    let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
    for id in [&a, &b] {
        tenants.create_tenant(id).await.unwrap();
        let db = tenants.tenant(id).await.unwrap();
        db.execute("CREATE TABLE who (name TEXT)".into())
            .await
            .unwrap();
        db.execute(Statement::with_args(
            "INSERT INTO who VALUES (?)",
            [id.as_str()],
        ))
        .await
        .unwrap();
    }
    let schema_b = tenants.schema_of(&b).unwrap();
    // With one connection in the pool, tenant a's next statement reuses the same connection.
    let db_a = tenants.tenant(&a).await.unwrap();
    db_a.execute(format!("SET search_path TO \"{schema_b}\"").into())
        .await
        .unwrap();
    let name: String = db_a
        .query("SELECT name FROM who".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(name, "a");
}

#[tokio::test]
async fn idle_connections_are_reaped() {
    let mut config = PgConfig::from_url(url());
    config.pool.idle_timeout = Some(Duration::from_millis(200));
    config.pool.max_size = 4;
    let db = Arc::new(PgAdapter::connect(config).await.unwrap());
    let mut busy = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let db = db.clone();
        busy.spawn(async move { db.query("SELECT pg_sleep(0.1)".into()).await.unwrap() });
    }
    while busy.join_next().await.is_some() {}
    assert!(db.health().await.unwrap().pool.idle >= 2);
    // The reaper runs every 100 ms here; give it plenty of turns.
    let mut idle = usize::MAX;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let status = db.health().await.unwrap().pool;
        idle = status.idle + status.in_use;
        if idle <= 1 {
            break;
        }
    }
    assert!(
        idle <= 1,
        "idle connections were not reaped: {idle} still open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_in_flight_work_and_the_adapter_recovers() {
    let server = tokio::task::spawn_blocking(dbx_tests::servers::PgServer::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("this test needs its own PostgreSQL server: {e}"));
    // The shared test servers trade durability for speed; this one must keep every commit.
    let admin = PgAdapter::connect_url(&server.url()).await.unwrap();
    admin
        .execute("ALTER DATABASE postgres SET synchronous_commit = on".into())
        .await
        .unwrap();
    admin.close().await;

    let mut config = PgConfig::from_url(server.url());
    config.pool.connect_timeout = Duration::from_secs(2);
    config.pool.acquire_timeout = Duration::from_secs(5);
    let db = Arc::new(PgAdapter::connect(config).await.unwrap());
    drop(dbx_tests::faults::kill_and_recover(
        db,
        server,
        "SELECT pg_sleep(60)",
        "SELECT COUNT(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'",
    )
    .await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_verify_the_server() {
    let certs = dbx_tests::servers::TestCerts::generate().expect("test certificates");
    let options = format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        certs.cert.display(),
        certs.key.display()
    );
    let server =
        tokio::task::spawn_blocking(move || dbx_tests::servers::PgServer::start_with(&options))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("this test needs its own PostgreSQL server with TLS: {e}"));

    let mut config = PgConfig::from_url(server.url());
    config.sslmode = dbx_postgres::SslMode::Require;
    config.ssl_root_cert = Some(certs.ca.clone());
    let db = PgAdapter::connect(config.clone()).await.unwrap();
    let encrypted: bool = db
        .query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert!(encrypted, "the session is encrypted");

    // A server whose certificate is not signed by a trusted CA is refused.
    config.ssl_root_cert = None;
    config.pool.connect_timeout = Duration::from_secs(5);
    let untrusted = PgAdapter::connect(config).await.unwrap();
    let err = untrusted.query("SELECT 1".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    drop(server);
}

/// `SELECT ?` gives the server nothing to infer the parameter's type from, so it settles on
/// text; the value bound keeps its own type instead, in autocommit and in a transaction,
/// while a parameter whose text type comes from its context still takes the value as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untyped_parameter_takes_the_value_type() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE people (name TEXT)".into())
        .await
        .unwrap();
    let select = |value: Value| Statement::with_args("SELECT ? AS v", [value]);
    let cases = [
        Value::Integer(42),
        Value::Real(2.5),
        Value::Blob(vec![0, 255, 7]),
        Value::Text("text".into()),
    ];
    for value in cases.clone() {
        let rs = db.query(select(value.clone())).await.unwrap();
        assert_eq!(rs.rows[0].values()[0], value, "autocommit");
    }
    let mut session = db.connection().await.unwrap();
    session.execute("BEGIN".into()).await.unwrap();
    for value in cases {
        let rs = session.query(select(value.clone())).await.unwrap();
        assert_eq!(rs.rows[0].values()[0], value, "in a transaction");
    }
    // Text from the context: the integer is compared as text, and the transaction lives on.
    session
        .execute(Statement::with_args("INSERT INTO people VALUES (?)", [7]))
        .await
        .unwrap();
    let rs = session
        .query(Statement::with_args(
            "SELECT COUNT(*) FROM people WHERE name = ?",
            [7],
        ))
        .await
        .unwrap();
    assert_eq!(rs.scalar::<i64>().unwrap(), 1);
    session.execute("COMMIT".into()).await.unwrap();
    let rs = db
        .query(Statement::with_args(
            "SELECT name FROM people WHERE name = ?",
            [7],
        ))
        .await
        .unwrap();
    assert_eq!(rs.scalar::<String>().unwrap(), "7");
}
