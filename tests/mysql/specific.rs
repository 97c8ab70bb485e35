//! MySQL-specific tests: types, DDL's implicit commit, insert ids, tenant isolation on a
//! shared pool, and a server killed mid-query.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::{Adapter, ErrorKind, Statement, TenantId, TenantManager, Value};
use dbx_mysql::{MySqlAdapter, MySqlConfig};

use crate::{fresh_database, tenants_with, url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_type_round_trips() {
    let db = fresh_database(&url()).await;
    let failures =
        dbx_tests::types_doc::round_trip(&db, &dbx_tests::types_doc::rows("MySQL / MariaDB")).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn ddl_in_a_batch_or_transaction_is_refused_not_faked() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE t (x INT)".into()).await.unwrap();
    let err = db
        .batch(vec![
            "INSERT INTO t VALUES (1)".into(),
            "CREATE TABLE u (y INT)".into(),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("commits it implicitly"), "{err}");
    let mut tx = db.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (2)".into()).await.unwrap();
    assert_eq!(
        tx.execute("DROP TABLE t".into()).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    tx.rollback().await.unwrap();
    let count: i64 = db
        .query("SELECT COUNT(*) FROM t".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(
        count, 0,
        "nothing of the refused batch or the rolled-back transaction remains"
    );
    assert!(db.tables().await.unwrap().iter().all(|t| t.name != "u"));
}

#[tokio::test]
async fn a_session_sees_ddl_commit_implicitly() {
    let db = fresh_database(&url()).await;
    let mut conn = db.connection().await.unwrap();
    conn.execute("START TRANSACTION".into()).await.unwrap();
    assert!(!conn.is_autocommit());
    conn.execute("CREATE TABLE t (x INT)".into()).await.unwrap();
    assert!(
        conn.is_autocommit(),
        "MySQL committed at the DDL, and the session knows it"
    );
}

#[tokio::test]
async fn insert_ids_come_from_the_ok_packet() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, x INT)".into())
        .await
        .unwrap();
    let first = db
        .execute("INSERT INTO t (x) VALUES (1), (2)".into())
        .await
        .unwrap();
    assert_eq!((first.rows_affected, first.last_insert_id), (2, Some(1)));
    let update = db.execute("UPDATE t SET x = 2".into()).await.unwrap();
    assert_eq!(
        (update.rows_affected, update.last_insert_id),
        (2, None),
        "matched rows, not only changed ones"
    );
    let select = db
        .query(Statement::new("SELECT x FROM t WHERE id = :id").bind_named("id", 2))
        .await
        .unwrap();
    assert_eq!((select.rows.len(), select.rows_affected), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_stay_isolated_on_a_shared_pool_under_concurrency() {
    // 20 tenants, 10 tasks each, through 4 connections that keep switching databases; a
    // statement prepared in one tenant's database must never run for another.
    let tenants = tenants_with(&url(), 4, dbx_core::TenantLogin::PerTenant).await;
    let ids: Vec<TenantId> = (0..20)
        .map(|i| TenantId::new(format!("tenant{i:02}")).unwrap())
        .collect();
    for id in &ids {
        tenants.create_tenant(id).await.unwrap();
        let db = tenants.tenant(id).await.unwrap();
        db.execute("CREATE TABLE entries (owner VARCHAR(64) NOT NULL, n INT)".into())
            .await
            .unwrap();
    }
    dbx_tests::isolation::hammer(tenants.clone(), &ids, 10, 10).await;
    for id in &ids {
        tenants.delete_tenant(id).await.unwrap();
    }
}

#[tokio::test]
async fn a_callers_own_use_does_not_leak() {
    // With one login for all, `USE` of another tenant's database is possible, and undone.
    let tenants = tenants_with(&url(), 1, dbx_core::TenantLogin::Shared).await;
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
    let db_a = tenants.tenant(&a).await.unwrap();
    db_a.execute(format!("USE `{}`", tenants.database_of(&b).unwrap()).into())
        .await
        .unwrap();
    let name: String = db_a
        .query("SELECT name FROM who".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(name, "a");
    for id in [&a, &b] {
        tenants.delete_tenant(id).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_in_flight_work_and_the_adapter_recovers() {
    let server = tokio::task::spawn_blocking(dbx_tests::servers::MariaServer::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("this test needs its own MariaDB server: {e}"));
    let mut config = MySqlConfig::from_url(server.url());
    config.pool.connect_timeout = Duration::from_secs(2);
    config.pool.acquire_timeout = Duration::from_secs(5);
    let db = Arc::new(MySqlAdapter::connect(config).await.unwrap());
    // The test servers trade durability for speed; this one must keep every commit.
    db.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 1".into())
        .await
        .unwrap();
    let mut server = dbx_tests::faults::kill_and_recover(
        db,
        server,
        "SELECT SLEEP(60)",
        "SELECT COUNT(*) FROM information_schema.processlist WHERE info = 'SELECT SLEEP(60)'",
    )
    .await;
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_verify_the_server() {
    let certs = dbx_tests::servers::TestCerts::generate().expect("test certificates");
    let options = vec![
        format!("--ssl-ca={}", certs.ca.display()),
        format!("--ssl-cert={}", certs.cert.display()),
        format!("--ssl-key={}", certs.key.display()),
    ];
    let server =
        tokio::task::spawn_blocking(move || dbx_tests::servers::MariaServer::start_with(&options))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("this test needs its own MariaDB server with TLS: {e}"));
    let mut config = MySqlConfig::from_url(server.url());
    config.ssl = true;
    config.ssl_root_cert = Some(certs.ca.clone());
    let db = MySqlAdapter::connect(config.clone()).await.unwrap();
    let rs = db
        .query("SHOW SESSION STATUS LIKE 'Ssl_cipher'".into())
        .await
        .unwrap();
    let cipher: String = rs.first().unwrap().get(1).unwrap();
    assert!(!cipher.is_empty(), "the session is encrypted");

    config.ssl_root_cert = None;
    config.pool.connect_timeout = Duration::from_secs(5);
    let untrusted = MySqlAdapter::connect(config).await.unwrap();
    let err = untrusted.query("SELECT 1".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    drop(server);
}

/// Blob parameters travel as bytes, not as text in the connection's character set: bytes
/// that are not UTF-8 round-trip through a blob column and through `SELECT ?`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_parameters_are_bytes() {
    let db = fresh_database(&url()).await;
    db.execute("CREATE TABLE files (id INT PRIMARY KEY, body LONGBLOB)".into())
        .await
        .unwrap();
    let bytes = vec![0u8, 0xff, 0xfe, 0x80, b'a', 0xc3];
    db.execute(Statement::with_args(
        "INSERT INTO files VALUES (1, ?)",
        [Value::Blob(bytes.clone())],
    ))
    .await
    .unwrap();
    let rs = db
        .query("SELECT body FROM files WHERE id = 1".into())
        .await
        .unwrap();
    assert_eq!(rs.rows[0].values()[0], Value::Blob(bytes.clone()));
    let rs = db
        .query(Statement::with_args(
            "SELECT ? AS v",
            [Value::Blob(bytes.clone())],
        ))
        .await
        .unwrap();
    assert_eq!(rs.rows[0].values()[0], Value::Blob(bytes.clone()));
    let rs = db
        .query(Statement::with_args(
            "SELECT COUNT(*) FROM files WHERE body = ?",
            [Value::Blob(bytes)],
        ))
        .await
        .unwrap();
    assert_eq!(rs.scalar::<i64>().unwrap(), 1);
}
