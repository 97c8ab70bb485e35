//! Tenant isolation under attack: 3,000 randomized requests across 50 tenants over REST and
//! Hrana, legitimate reads and writes interleaved with forged namespaces, stolen and tampered
//! batons, hostile tenant ids and SQL names, oversized bodies and forged tokens. Every attack
//! gets its documented status, no request reads or writes another tenant's rows, and the
//! server serves to the end.

mod client;
mod forge;
mod hostile_sql;
mod requests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use serde_json::json;

use self::client::Client;
use self::requests::{Rng, expect, one_request};
use crate::support::{Backend, Db, describe};
use crate::{Served, token};

const TENANTS: usize = 50;
const WORKERS: usize = 4;
const REQUESTS_PER_WORKER: usize = 750;
/// `server.max-body-bytes` for this server, so that oversized bodies stay cheap to send.
const BODY_LIMIT: usize = 256 * 1024;
/// `server.max-result-bytes`: the hostile SQL's oversized results pass it many times over.
const RESULT_LIMIT: usize = 64 * 1024;

fn tenant(i: usize) -> String {
    format!("t{i:02}")
}

fn create_table(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TABLE secrets (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, n INTEGER NOT NULL)"
        }
        Backend::Postgres => {
            "CREATE TABLE secrets (id BIGSERIAL PRIMARY KEY, owner TEXT NOT NULL, n BIGINT NOT NULL)"
        }
        Backend::Mysql => {
            "CREATE TABLE secrets (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(16) NOT NULL, n BIGINT NOT NULL)"
        }
    }
}

/// The server, its tenants and every token the attacks use.
struct Target {
    backend: Backend,
    kind: &'static str,
    client: Client,
    admin: String,
    rw: Vec<String>,
    ro: Vec<String>,
    forged: forge::Forged,
    tenants_dir: std::path::PathBuf,
    /// The tenant schema or database prefix (PostgreSQL, MySQL).
    prefix: String,
}

/// What the run counted: requests by category, and legitimate inserts per tenant.
#[derive(Default)]
struct Tally {
    requests: BTreeMap<&'static str, u64>,
    inserted: Vec<u64>,
    rows_read: u64,
}

async fn setup(backend: Backend) -> (Db, Served, Target) {
    let db = Db::new(backend).await;
    let out = db.run(&["token", "keygen"]);
    assert!(out.status.success(), "{}", describe(&out));
    let config = db.dir.path().join("dbx.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let prefix = text
        .lines()
        .find_map(|l| l.split_once("-prefix = "))
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .unwrap_or_default();
    std::fs::write(
        &config,
        format!(
            "[server]\nmax-body-bytes = {BODY_LIMIT}\nmax-result-bytes = {RESULT_LIMIT}\n\
             statement-timeout = {{ ro = \"1s\" }}\n\n{text}"
        ),
    )
    .unwrap();
    let admin = token(&db, &["--role", "admin"]);
    // Tenant 0's tokens come from `dbx token create`; the others carry the same claims,
    // signed here with the same key, which saves a hundred processes.
    let (mut rw, mut ro) = (
        vec![token(&db, &["--role", "rw", "--tenant", &tenant(0)])],
        vec![token(&db, &["--role", "ro", "--tenant", &tenant(0)])],
    );
    let pem = std::fs::read_to_string(db.dir.path().join("dbx-auth.key")).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let scoped = |access: &str, t: &str| {
        dbx_tests::jwt::token_signed_by(&key, json!({"p": {access: {"ns": [t]}}, "role": access}))
    };
    for i in 1..TENANTS {
        rw.push(scoped("rw", &tenant(i)));
        ro.push(scoped("ro", &tenant(i)));
    }
    let forged = forge::Forged::new(&db);
    let served = Served::start(&db, &["--auth-keys", "dbx-auth.key.pub"]);
    let kind = backend.kind_name();
    let client = Client::new(&served.base);
    for (i, writer) in rw.iter().enumerate() {
        let t = tenant(i);
        let r = client
            .rest(
                "POST",
                &format!("/api/adapters/{kind}/tenants"),
                Some(&admin),
                Some(json!({"id": t})),
            )
            .await;
        assert_eq!(r.status, 201, "creating {t}: {}", r.body);
        let r = client
            .rest(
                "POST",
                &format!("/api/databases/{kind}.{t}/sql"),
                Some(writer),
                Some(json!({"sql": create_table(backend)})),
            )
            .await;
        assert_eq!(r.status, 200, "{t}: {}", r.body);
        let r = client.insert_rest(kind, &t, writer, 0).await;
        assert_eq!(r.status, 201, "{t}: {}", r.body);
    }
    let tenants_dir = db.dir.path().join("dbx-data/tenants");
    let target = Target {
        backend,
        kind,
        client,
        admin,
        rw,
        ro,
        forged,
        tenants_dir,
        prefix,
    };
    (db, served, target)
}

/// Every tenant holds exactly its own rows: the first one and each legitimate insert.
async fn verify_every_tenant(t: &Target, tally: &Tally) {
    for i in 0..TENANTS {
        let ti = tenant(i);
        let r = t
            .client
            .rest(
                "POST",
                &format!("/api/databases/{}.{ti}/sql", t.kind),
                Some(&t.admin),
                Some(json!({"sql": "SELECT owner, count(*) FROM secrets GROUP BY owner"})),
            )
            .await;
        expect("counting rows", &r, 200);
        let rows = r.json()["rows"].clone();
        let expected = tally.inserted[i] + 1;
        assert_eq!(rows, json!([[ti, expected]]), "tenant {ti}: {}", r.body);
    }
    if t.backend == Backend::Sqlite {
        let mut files: Vec<String> = std::fs::read_dir(&t.tenants_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".db"))
            .collect();
        files.sort();
        let wanted: Vec<String> = (0..TENANTS).map(|i| format!("{}.db", tenant(i))).collect();
        assert_eq!(files, wanted, "only the tenants' own files exist");
    }
}

async fn isolation_under_attack(backend: Backend) {
    let (_db, mut served, target) = setup(backend).await;
    let target = Arc::new(target);
    let tally = Arc::new(Mutex::new(Tally {
        inserted: vec![0; TENANTS],
        ..Tally::default()
    }));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (target, tally) = (target.clone(), tally.clone());
            tokio::spawn(async move {
                let mut rng = Rng(0x5EED_0000 + w as u64);
                for _ in 0..REQUESTS_PER_WORKER {
                    one_request(&target, &mut rng, &tally).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let tally = Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap();
    verify_every_tenant(&target, &tally).await;
    let r = target.client.rest("GET", "/health", None, None).await;
    expect("health after the attacks", &r, 200);
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "dbx serve is still running"
    );
    let total: u64 = tally.requests.values().sum();
    eprintln!(
        "{}: {total} requests, {} rows read, every one its own tenant's: {:?}",
        target.kind, tally.rows_read, tally.requests
    );
    assert_eq!(total, (WORKERS * REQUESTS_PER_WORKER) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tenants_stay_isolated_under_attack() {
    isolation_under_attack(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tenants_stay_isolated_under_attack() {
    isolation_under_attack(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_tenants_stay_isolated_under_attack() {
    isolation_under_attack(Backend::Mysql).await;
}
