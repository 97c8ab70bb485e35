//! Behaviour only SQLite has: pragmas, the single writer, readers, files and `:memory:`.

use std::sync::Arc;
use std::time::Duration;

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, Error, ErrorKind, Statement, TenantId, TenantManager};
use dbx_sqlite::{JournalMode, SqliteAdapter, SqliteOptions, SqliteTenants, Synchronous};
use tokio::task::JoinSet;

async fn file_db(
    dir: &tempfile::TempDir,
    opts: impl FnOnce(SqliteOptions) -> SqliteOptions,
) -> SqliteAdapter {
    SqliteAdapter::open(opts(SqliteOptions::new(dir.path().join("t.db"))))
        .await
        .unwrap()
}

async fn pragma(db: &SqliteAdapter, name: &str) -> dbx_core::Value {
    db.query(format!("PRAGMA {name}").into())
        .await
        .unwrap()
        .rows[0]
        .values()[0]
        .clone()
}

#[tokio::test]
async fn defaults_are_wal_normal_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, |o| o).await;
    assert_eq!(pragma(&db, "journal_mode").await, "wal".into());
    assert_eq!(pragma(&db, "synchronous").await, 1.into());
    assert_eq!(pragma(&db, "foreign_keys").await, 1.into());
    assert_eq!(pragma(&db, "busy_timeout").await, 5000.into());
}

#[tokio::test]
async fn settings_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, |o| {
        o.journal_mode(JournalMode::Delete)
            .synchronous(Synchronous::Full)
            .foreign_keys(false)
            .busy_timeout(Duration::from_millis(1234))
    })
    .await;
    assert_eq!(pragma(&db, "journal_mode").await, "delete".into());
    assert_eq!(pragma(&db, "synchronous").await, 2.into());
    assert_eq!(pragma(&db, "foreign_keys").await, 0.into());
    assert_eq!(pragma(&db, "busy_timeout").await, 1234.into());
}

#[tokio::test]
async fn missing_file_without_create_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteAdapter::open(
        SqliteOptions::new(dir.path().join("nope.db")).create_if_missing(false),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("nope.db"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_times_out_as_busy_and_reads_continue() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, |o| o.busy_timeout(Duration::from_millis(200))).await;
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    let mut session = db.connection().await.unwrap();
    session.execute("BEGIN".into()).await.unwrap();
    session
        .execute("INSERT INTO t VALUES (1)".into())
        .await
        .unwrap();

    let err = db
        .execute("INSERT INTO t VALUES (2)".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("write lock"), "{err}");
    // Under WAL, readers are not blocked by the open write transaction, and do not see it.
    let count: i64 = db
        .query("SELECT COUNT(*) FROM t".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(count, 0);

    session.execute("COMMIT".into()).await.unwrap();
    db.execute("INSERT INTO t VALUES (2)".into()).await.unwrap();
    let count: i64 = db
        .query("SELECT COUNT(*) FROM t".into())
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_use_several_reader_connections() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(file_db(&dir, |o| o.max_readers(4)).await);
    let mut reads = JoinSet::new();
    for _ in 0..8 {
        let db = db.clone();
        // A read long enough that eight of them overlap.
        reads.spawn(async move {
            db.query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT COUNT(*) FROM n".into())
                .await
                .unwrap()
                .scalar::<i64>()
                .unwrap()
        });
    }
    while let Some(count) = reads.join_next().await {
        assert_eq!(count.unwrap(), 300_000);
    }
    let pool = db.health().await.unwrap().pool;
    // The writer counts as one; more than one reader means reads ran side by side.
    assert!(
        pool.idle >= 3,
        "expected at least two readers to have been opened: {pool:?}"
    );
    assert!(
        pool.idle <= 5,
        "never more than max_readers + the writer: {pool:?}"
    );
}

#[tokio::test]
async fn writing_statements_are_routed_to_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, |o| o).await;
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    // Starts like a read, writes all the same: SQLite's read-only check sends it to the writer.
    let rs = db
        .query("WITH v(x) AS (VALUES (7)) INSERT INTO t SELECT x FROM v RETURNING x".into())
        .await
        .unwrap();
    assert_eq!(rs.scalar::<i64>().unwrap(), 7);
    assert_eq!(rs.rows_affected, 1);
    db.query("PRAGMA user_version = 3".into()).await.unwrap();
    assert_eq!(pragma(&db, "user_version").await, 3.into());
}

#[tokio::test]
async fn insert_ids_and_affected_rows_are_exact() {
    let db = SqliteAdapter::memory().await.unwrap();
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)".into())
        .await
        .unwrap();
    let first = db
        .execute("INSERT INTO t (x) VALUES (1), (2)".into())
        .await
        .unwrap();
    assert_eq!((first.rows_affected, first.last_insert_id), (2, Some(2)));
    let update = db.execute("UPDATE t SET x = x + 1".into()).await.unwrap();
    assert_eq!((update.rows_affected, update.last_insert_id), (2, None));
    let select = db.query("SELECT * FROM t".into()).await.unwrap();
    assert_eq!((select.rows_affected, select.last_insert_id), (0, None));
    let ddl = db
        .execute("CREATE TABLE u (y INTEGER)".into())
        .await
        .unwrap();
    assert_eq!((ddl.rows_affected, ddl.last_insert_id), (0, None));
}

#[tokio::test]
async fn memory_databases_are_private() {
    let a = SqliteAdapter::memory().await.unwrap();
    let b = SqliteAdapter::memory().await.unwrap();
    a.execute("CREATE TABLE only_in_a (x INTEGER)".into())
        .await
        .unwrap();
    assert_eq!(a.tables().await.unwrap().len(), 1);
    assert!(b.tables().await.unwrap().is_empty());
}

#[tokio::test]
async fn more_than_one_statement_is_refused() {
    let db = SqliteAdapter::memory().await.unwrap();
    let err = db
        .execute("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER)".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("batch"), "{err}");
    assert!(db.tables().await.unwrap().is_empty(), "nothing of it ran");
}

#[tokio::test]
async fn decltypes_and_defaults_are_reported_as_declared() {
    let db = SqliteAdapter::memory().await.unwrap();
    db.execute(
        "CREATE TABLE t (a VARCHAR(20) DEFAULT 'x', b NUMERIC(10,2) NOT NULL DEFAULT 0, c)".into(),
    )
    .await
    .unwrap();
    let schema = db.table("t").await.unwrap();
    let got: Vec<_> = schema
        .columns
        .iter()
        .map(|c| (c.decltype.as_deref(), c.default.as_deref(), c.nullable))
        .collect();
    assert_eq!(
        got,
        [
            (Some("VARCHAR(20)"), Some("'x'"), true),
            (Some("NUMERIC(10,2)"), Some("0"), false),
            (None, None, true)
        ]
    );
    let rs = db
        .query("SELECT a, b, c, 1 + 1 AS two FROM t".into())
        .await
        .unwrap();
    let decl: Vec<_> = rs.columns.iter().map(|c| c.decltype.as_deref()).collect();
    assert_eq!(
        decl,
        [Some("VARCHAR(20)"), Some("NUMERIC(10,2)"), None, None]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_transaction_is_rolled_back_before_reuse() {
    let db = SqliteAdapter::memory().await.unwrap();
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    let work = async {
        let mut tx = db.transaction().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)".into()).await.unwrap();
        // Never finishes: the timeout below drops the whole future, transaction included.
        std::future::pending::<()>().await;
    };
    assert!(
        tokio::time::timeout(Duration::from_millis(50), work)
            .await
            .is_err()
    );
    db.execute("INSERT INTO t VALUES (2)".into()).await.unwrap();
    let rows = db.query("SELECT x FROM t".into()).await.unwrap();
    assert_eq!(
        rows.rows
            .iter()
            .map(|r| r.get::<i64>(0).unwrap())
            .collect::<Vec<_>>(),
        [2]
    );
}

/// Tenants under `dir` with a cache of `capacity` and no idle timeout.
async fn tenants_holding(dir: &std::path::Path, capacity: u64) -> SqliteTenants {
    let cache = TenantCacheConfig {
        capacity,
        time_to_idle: None,
    };
    SqliteTenants::open(dir, SqliteOptions::default(), cache)
        .await
        .unwrap()
}

async fn tenants_in(dir: &std::path::Path) -> SqliteTenants {
    SqliteTenants::open(dir, SqliteOptions::default(), TenantCacheConfig::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_open_tenant_closes_it_and_removes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = tenants_in(dir.path()).await;
    let id = TenantId::new("acme").unwrap();
    tenants.create_tenant(&id).await.unwrap();
    let db = tenants.tenant(&id).await.unwrap();
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    db.query("SELECT * FROM t".into()).await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        assert!(
            dir.path().join(format!("acme.db{suffix}")).exists(),
            "acme.db{suffix} exists while open"
        );
    }
    tenants.delete_tenant(&id).await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        assert!(
            !dir.path().join(format!("acme.db{suffix}")).exists(),
            "acme.db{suffix} removed"
        );
    }
    // A handle taken before the delete now fails clearly instead of writing to a ghost file.
    let err = db.query("SELECT 1".into()).await.unwrap_err();
    assert!(matches!(err, Error::Closed(_)), "{err}");
}

#[tokio::test]
async fn listing_ignores_files_that_are_not_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = tenants_in(dir.path()).await;
    tenants
        .create_tenant(&TenantId::new("real").unwrap())
        .await
        .unwrap();
    for junk in ["notes.txt", "Bad.db", "a b.db", ".db", "real.db-wal-old"] {
        std::fs::write(dir.path().join(junk), b"").unwrap();
    }
    std::fs::create_dir(dir.path().join("subdir")).unwrap();
    assert_eq!(
        tenants.list_tenants().await.unwrap(),
        [TenantId::new("real").unwrap()]
    );
}

#[tokio::test]
async fn tenant_cache_counts_hits_misses_and_evictions() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = tenants_holding(dir.path(), 2).await;
    let ids: Vec<TenantId> = ["t1", "t2", "t3", "t4"]
        .iter()
        .map(|s| TenantId::new(*s).unwrap())
        .collect();
    for id in &ids {
        tenants.create_tenant(id).await.unwrap();
        let db = tenants.tenant(id).await.unwrap();
        db.execute(Statement::with_args(
            "CREATE TABLE who (name TEXT)",
            Vec::<String>::new(),
        ))
        .await
        .unwrap();
        db.execute(Statement::with_args(
            "INSERT INTO who VALUES (?)",
            [id.as_str()],
        ))
        .await
        .unwrap();
    }
    tenants.run_pending_evictions().await;
    let stats = tenants.cache_stats();
    assert!(stats.open <= 2, "{stats:?}");
    assert!(stats.evictions >= 2, "{stats:?}");
    // Evicted tenants reopen with their data.
    for id in &ids {
        let name: String = tenants
            .tenant(id)
            .await
            .unwrap()
            .query("SELECT name FROM who".into())
            .await
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(name, id.as_str());
    }
    let stats = tenants.cache_stats();
    assert_eq!(
        stats.hits + stats.misses,
        8,
        "every lookup counted once: {stats:?}"
    );
    assert!(stats.misses >= 6, "capacity 2 forced reopens: {stats:?}");
    // An open tenant is a hit.
    tenants.tenant(&ids[3]).await.unwrap();
    assert_eq!(tenants.cache_stats().hits, stats.hits + 1);
}

/// The tenant databases this process holds open under `dir`, read from `/proc/self/fd`.
fn open_databases(dir: &std::path::Path) -> usize {
    let mut open = std::collections::BTreeSet::new();
    for fd in std::fs::read_dir("/proc/self/fd").unwrap() {
        // A descriptor closed since the listing has no link to read; it is not open.
        if let Ok(target) = std::fs::read_link(fd.unwrap().path())
            && target.starts_with(dir)
            && target.extension().is_some_and(|e| e == "db")
        {
            open.insert(target);
        }
    }
    open.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evicted_tenants_close_their_files_so_the_cache_bounds_what_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let capacity = 3;
    let tenants = tenants_holding(dir.path(), capacity).await;
    let ids: Vec<TenantId> = (0..30)
        .map(|i| TenantId::new(format!("b{i}")).unwrap())
        .collect();
    for id in &ids {
        tenants.create_tenant(id).await.unwrap();
    }
    assert_eq!(
        open_databases(dir.path()),
        0,
        "creating leaves nothing open"
    );
    // A fixed, scattered order: every lookup of a tenant not among the last three opens it.
    for step in 0..200 {
        let id = &ids[(step * 7 + step / 5) % ids.len()];
        let db = tenants.tenant(id).await.unwrap();
        let n: i64 = db
            .query("SELECT count(*) FROM sqlite_schema".into())
            .await
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 0);
        drop(db);
        let open = open_databases(dir.path());
        assert!(
            open <= usize::try_from(capacity).unwrap(),
            "step {step}: {open} tenant databases open with a cache of {capacity}: {:?}",
            tenants.cache_stats()
        );
    }
    let stats = tenants.cache_stats();
    assert!(stats.misses > 150, "the order forces reopens: {stats:?}");
    assert_eq!(stats.open, capacity, "{stats:?}");
    tenants.close_all().await;
    assert_eq!(open_databases(dir.path()), 0, "close_all closes everything");
}

#[tokio::test]
async fn the_cache_keeps_the_most_recently_used_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = tenants_holding(dir.path(), 2).await;
    let [a, b, c] = ["a", "b", "c"].map(|s| TenantId::new(s).unwrap());
    for id in [&a, &b, &c] {
        tenants.create_tenant(id).await.unwrap();
    }
    for id in [&a, &b, &a, &c] {
        tenants.tenant(id).await.unwrap();
    }
    let before = tenants.cache_stats();
    // `c` is new and `a` was used after `b`, so `b` was the one to go.
    tenants.tenant(&a).await.unwrap();
    tenants.tenant(&c).await.unwrap();
    let after = tenants.cache_stats();
    assert_eq!(after.hits - before.hits, 2, "{before:?} -> {after:?}");
    tenants.tenant(&b).await.unwrap();
    assert_eq!(tenants.cache_stats().misses - after.misses, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_access_opens_a_tenant_once() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = Arc::new(tenants_in(dir.path()).await);
    let id = TenantId::new("busy").unwrap();
    tenants.create_tenant(&id).await.unwrap();
    tenants.close_all().await;
    let before = tenants.cache_stats().misses;
    let mut opens = JoinSet::new();
    for _ in 0..50 {
        let (tenants, id) = (tenants.clone(), id.clone());
        opens.spawn(async move { tenants.tenant(&id).await.unwrap() });
    }
    let mut handles = Vec::new();
    while let Some(db) = opens.join_next().await {
        handles.push(db.unwrap());
    }
    assert_eq!(
        tenants.cache_stats().misses - before,
        1,
        "{:?}",
        tenants.cache_stats()
    );
    assert!(
        handles.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])),
        "every task got the same adapter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_tenant_while_others_open_it_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = Arc::new(tenants_in(dir.path()).await);
    let race = async {
        for round in 0..20 {
            let id = TenantId::new(format!("race{round}")).unwrap();
            let mut openers = JoinSet::new();
            for _ in 0..4 {
                let (tenants, id) = (tenants.clone(), id.clone());
                // Keeps asking until the tenant exists; NoSuchTenant is expected before.
                openers.spawn(async move {
                    loop {
                        match tenants.tenant(&id).await {
                            Ok(db) => return db.query("SELECT 1".into()).await.unwrap(),
                            Err(e) => assert_eq!(e.kind(), ErrorKind::NoSuchTenant, "{e}"),
                        }
                        tokio::task::yield_now().await;
                    }
                });
            }
            tenants.create_tenant(&id).await.unwrap();
            while let Some(opened) = openers.join_next().await {
                opened.unwrap();
            }
        }
    };
    // Generous: the race finishes in well under a second; only a deadlock reaches this.
    tokio::time::timeout(Duration::from_secs(60), race)
        .await
        .expect("create and open deadlocked");
}

#[tokio::test]
async fn every_documented_type_round_trips() {
    let db = SqliteAdapter::memory().await.unwrap();
    let failures =
        dbx_tests::types_doc::round_trip(&db, &dbx_tests::types_doc::rows("SQLite")).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn idle_tenants_are_closed_after_time_to_idle() {
    let dir = tempfile::tempdir().unwrap();
    let idle = Duration::from_millis(100);
    let tenants = SqliteTenants::open(
        dir.path(),
        SqliteOptions::default(),
        TenantCacheConfig {
            capacity: 100,
            time_to_idle: Some(idle),
        },
    )
    .await
    .unwrap();
    let id = TenantId::new("sleepy").unwrap();
    tenants.create_tenant(&id).await.unwrap();
    tenants
        .tenant(&id)
        .await
        .unwrap()
        .query("SELECT 1".into())
        .await
        .unwrap();
    // Poll rather than time: the tenant must leave the cache once it has sat idle.
    let mut stats = tenants.cache_stats();
    for _ in 0..100 {
        tokio::time::sleep(idle).await;
        tenants.run_pending_evictions().await;
        stats = tenants.cache_stats();
        if stats.evictions >= 1 {
            break;
        }
    }
    assert_eq!((stats.open, stats.evictions), (0, 1), "{stats:?}");
    // And it comes back on the next access.
    tenants
        .tenant(&id)
        .await
        .unwrap()
        .query("SELECT 1".into())
        .await
        .unwrap();
}

#[tokio::test]
async fn sql_cannot_reach_other_files_unless_attach_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    let copy = dir.path().join("copy.db");
    let db = file_db(&dir, |o| o).await;
    db.execute("CREATE TABLE t (x)".into()).await.unwrap();
    for sql in [
        format!("ATTACH DATABASE '{}' AS other", other.display()),
        format!(
            "ATTACH DATABASE 'file:{}?mode=rwc' AS other",
            other.display()
        ),
        format!("VACUUM INTO '{}'", copy.display()),
    ] {
        let err = db.execute(sql.clone().into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{sql}: {err}");
    }
    assert!(!other.exists() && !copy.exists(), "no file was created");
    // What reaches no other file still works.
    db.execute("VACUUM".into()).await.unwrap();
    let mut session = db.connection().await.unwrap();
    session
        .execute("ATTACH DATABASE ':memory:' AS scratch".into())
        .await
        .unwrap();
    session
        .execute("CREATE TABLE scratch.n (x)".into())
        .await
        .unwrap();
    drop(session);

    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    let db = file_db(&dir, |o| o.allow_attach(true)).await;
    let mut session = db.connection().await.unwrap();
    session
        .execute(format!("ATTACH DATABASE '{}' AS other", other.display()).into())
        .await
        .unwrap();
    assert!(other.exists(), "allowed, ATTACH creates the file");
}
