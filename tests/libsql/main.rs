//! dbx-libsql against real Hrana servers: dbx's own server over SQLite, on loopback sockets.
//! The conformance suite runs through it unchanged.

use std::sync::{Arc, Mutex};

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, ErrorKind, Statement, TenantManager, Value, async_trait};
use dbx_hrana::{Config, ServerState};
use dbx_libsql::{LibsqlAdapter, LibsqlConfig, LibsqlTenants};
use dbx_sqlite::{SqliteAdapter, SqliteOptions, SqliteTenants};
use dbx_tests::hrana_server::HranaServer;
use dbx_tests::{Harness, Types, conformance_tests};

/// Each database is a dbx Hrana server over a fresh SQLite file; the servers live as long as
/// the test.
#[derive(Debug, Default)]
struct LibsqlHarness {
    servers: Mutex<Vec<HranaServer>>,
}

impl LibsqlHarness {
    fn keep(&self, server: HranaServer) -> String {
        let url = server.url.clone();
        self.servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(server);
        url
    }
}

#[async_trait]
impl Harness for LibsqlHarness {
    async fn new() -> Self {
        Self::default()
    }

    async fn database(&self) -> Arc<dyn Adapter> {
        let url = self.keep(HranaServer::sqlite().await);
        Arc::new(adapter_for(&url).await)
    }

    async fn tenants(&self) -> Arc<dyn TenantManager> {
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
        let state =
            ServerState::with_tenants(Arc::new(root), Arc::new(namespaces), Config::default());
        let url = self.keep(HranaServer::serve(state, Some(dir)).await);
        Arc::new(LibsqlTenants::new(
            LibsqlConfig::new(&url),
            url,
            TenantCacheConfig::default(),
        ))
    }

    fn slow_statement(&self) -> String {
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
            .to_owned()
    }

    fn temporary_tables(&self) -> bool {
        false
    }

    fn types(&self) -> Types {
        Types {
            integer: "INTEGER",
            real: "REAL",
            text: "TEXT",
            key_text: "VARCHAR(255)",
            blob: "BLOB",
            auto_id: "INTEGER PRIMARY KEY",
        }
    }

    fn reports_foreign_key_names(&self) -> bool {
        false
    }

    fn result_decltypes(&self) -> bool {
        false
    }
}

conformance_tests!(LibsqlHarness);

async fn adapter_for(url: &str) -> LibsqlAdapter {
    LibsqlAdapter::connect(LibsqlConfig::new(url))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_transactions_and_introspection_round_trip() {
    let server = HranaServer::sqlite().await;
    let db = adapter_for(&server.url).await;
    db.execute(Statement::new(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, photo BLOB)",
    ))
    .await
    .unwrap();
    let inserted = db
        .execute(Statement::with_named(
            "INSERT INTO people (name, photo) VALUES (:name, :photo)",
            [
                ("name", Value::from("ada")),
                ("photo", Value::Blob(vec![0, 255])),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(inserted.rows_affected, 1);
    assert_eq!(inserted.last_insert_id, Some(1));
    let rows = db
        .query(Statement::with_args(
            "SELECT name, photo FROM people WHERE id = ?",
            [1],
        ))
        .await
        .unwrap();
    assert_eq!(rows.rows[0].get::<String>("name").unwrap(), "ada");
    assert_eq!(rows.rows[0].get::<Vec<u8>>(1).unwrap(), vec![0, 255]);

    let duplicate = db
        .execute(Statement::with_args(
            "INSERT INTO people (name) VALUES (?)",
            ["ada"],
        ))
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::UniqueViolation, "{duplicate}");
    let missing = db
        .query(Statement::new("SELECT * FROM nowhere"))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::UndefinedTable, "{missing}");
    let refused = db.execute(Statement::new("BEGIN")).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument, "{refused}");

    let mut tx = db.transaction().await.unwrap();
    tx.execute(Statement::new("INSERT INTO people (name) VALUES ('grace')"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut tx = db.transaction().await.unwrap();
    tx.execute(Statement::new(
        "INSERT INTO people (name) VALUES ('edsger')",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let names = db
        .query(Statement::new("SELECT name FROM people ORDER BY id"))
        .await
        .unwrap();
    let names: Vec<String> = names.rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(names, ["ada", "edsger"]);

    let batch = db
        .batch(vec![
            Statement::new("INSERT INTO people (name) VALUES ('barbara')"),
            Statement::new("INSERT INTO people (name) VALUES ('ada')"),
        ])
        .await;
    assert!(batch.is_err(), "the duplicate fails the batch");
    let count = db
        .query(Statement::new("SELECT count(*) FROM people"))
        .await
        .unwrap();
    assert_eq!(
        count.rows[0].get::<i64>(0).unwrap(),
        2,
        "the batch left nothing behind"
    );

    let mut session = db.connection().await.unwrap();
    assert!(session.is_autocommit());
    session.execute(Statement::new("BEGIN")).await.unwrap();
    assert!(!session.is_autocommit());
    session.execute(Statement::new("ROLLBACK")).await.unwrap();
    assert!(session.is_autocommit());

    let schema = db.table("people").await.unwrap();
    let columns: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["id", "name", "photo"]);
    assert_eq!(schema.primary_key, ["id"]);
    assert!(
        schema
            .indexes
            .iter()
            .any(|i| i.unique && i.columns == ["name"])
    );
    let tables = db.tables().await.unwrap();
    assert_eq!(tables.len(), 1);
    db.health().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_spread_over_replicas_and_writes_stay_on_the_primary() {
    let primary = HranaServer::sqlite().await;
    let mut first = HranaServer::sqlite().await;
    let mut second = HranaServer::sqlite().await;
    // The three servers are separate databases; give each the same table and row, as
    // replication would.
    for server in [&primary, &first, &second] {
        let db = adapter_for(&server.url).await;
        db.execute(Statement::new("CREATE TABLE t (x INTEGER)"))
            .await
            .unwrap();
        db.execute(Statement::new("INSERT INTO t VALUES (7)"))
            .await
            .unwrap();
    }
    let before = [
        primary.state.stats(),
        first.state.stats(),
        second.state.stats(),
    ];

    let mut config = LibsqlConfig::new(&primary.url);
    config.replicas = vec![first.url.clone(), second.url.clone()];
    let db = LibsqlAdapter::connect(config).await.unwrap();
    for _ in 0..1000 {
        let rows = db.query(Statement::new("SELECT x FROM t")).await.unwrap();
        assert_eq!(rows.rows[0].get::<i64>(0).unwrap(), 7);
    }
    for i in 0..10 {
        db.execute(Statement::with_args("INSERT INTO t VALUES (?)", [i]))
            .await
            .unwrap();
    }
    let delta = |server: &HranaServer, before: &dbx_hrana::StatsSnapshot| {
        let now = server.state.stats();
        (
            now.statements - before.statements,
            now.writes - before.writes,
        )
    };
    let (p_all, p_writes) = delta(&primary, &before[0]);
    let (a_all, a_writes) = delta(&first, &before[1]);
    let (b_all, b_writes) = delta(&second, &before[2]);
    assert_eq!(
        (p_all, p_writes),
        (10, 10),
        "the primary saw the writes and no read"
    );
    assert_eq!((a_writes, b_writes), (0, 0), "no write reached a replica");
    eprintln!("1,000 reads over two replicas: {a_all} / {b_all}");
    assert_eq!(a_all + b_all, 1000);
    for reads in [a_all, b_all] {
        assert!(
            (450..=550).contains(&reads),
            "uneven spread: {a_all} / {b_all}"
        );
    }

    // A stopped replica does not fail reads.
    second.stop_and_wait().await;
    let served_before = first.state.stats().statements;
    for _ in 0..100 {
        let rows = db.query(Statement::new("SELECT x FROM t")).await.unwrap();
        assert_eq!(rows.rows[0].get::<i64>(0).unwrap(), 7);
    }
    assert!(first.state.stats().statements - served_before >= 99);

    // With every replica down, reads fall back to the primary.
    first.stop_and_wait().await;
    let primary_before = primary.state.stats().statements;
    for _ in 0..20 {
        let rows = db.query(Statement::new("SELECT x FROM t")).await.unwrap();
        assert_eq!(rows.rows.len(), 11);
    }
    assert_eq!(primary.state.stats().statements - primary_before, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_token_is_sent_and_its_rights_hold() {
    use dbx_tests::jwt::{auth_config, token};
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteAdapter::open(SqliteOptions::new(dir.path().join("auth.db")))
        .await
        .unwrap();
    let server = HranaServer::start(Arc::new(db), auth_config(), Some(dir)).await;
    let with_token = |claims: serde_json::Value| {
        let mut config = LibsqlConfig::new(&server.url);
        config.auth_token = Some(token(claims));
        LibsqlAdapter::connect(config)
    };
    let writer = with_token(serde_json::json!({"a": "rw"})).await.unwrap();
    writer
        .execute(Statement::new("CREATE TABLE t (x)"))
        .await
        .unwrap();
    let reader = with_token(serde_json::json!({"a": "ro"})).await.unwrap();
    reader
        .query(Statement::new("SELECT * FROM t"))
        .await
        .unwrap();
    let refused = reader
        .execute(Statement::new("INSERT INTO t VALUES (1)"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::PermissionDenied, "{refused}");
    let anonymous = adapter_for(&server.url).await;
    let err = anonymous
        .query(Statement::new("SELECT 1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

/// A TLS front for `upstream` (host:port) with the test CA's `localhost`/`127.0.0.1`
/// certificate; its `https://` URL.
async fn tls_front(upstream: String, certs: &dbx_tests::servers::TestCerts) -> String {
    let cert_pem = std::fs::read(&certs.cert).unwrap();
    let key_pem = std::fs::read(&certs.key).unwrap();
    let chain = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .unwrap()
        .expect("a private key");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_servers_are_reached_with_a_trusted_ca_only() {
    let certs = dbx_tests::servers::TestCerts::generate().expect("openssl makes test certificates");
    let server = HranaServer::sqlite().await;
    let url = tls_front(server.url.trim_start_matches("http://").to_owned(), &certs).await;

    let mut config = LibsqlConfig::new(&url);
    config.tls_ca_file = Some(certs.ca.clone());
    let db = LibsqlAdapter::connect(config).await.unwrap();
    db.execute(Statement::new("CREATE TABLE t (x)"))
        .await
        .unwrap();
    db.execute(Statement::with_args("INSERT INTO t VALUES (?)", [5]))
        .await
        .unwrap();
    let rows = db.query(Statement::new("SELECT x FROM t")).await.unwrap();
    assert_eq!(rows.rows[0].get::<i64>(0).unwrap(), 5);

    // The system's roots do not know the test CA: the connection is refused.
    let untrusted = LibsqlAdapter::connect(LibsqlConfig::new(&url))
        .await
        .unwrap();
    let err = untrusted
        .query(Statement::new("SELECT 1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert!(
        server.state.stats().statements == 3,
        "the untrusted client reached the server: {:?}",
        server.state.stats()
    );
}
