//! Hostile SQL from a tenant, mixed into the randomized run: SQL that names another
//! tenant's file, schema or database; session state left for the next caller (temporary
//! tables shadowing real ones, settings, `autocommit` off); runaway and oversized
//! statements; a read-only token trying to hold the write lock; the reserved tenant id.
//! Each is checked on the spot, and the victims' own writes are counted, so the final
//! check of every tenant's rows proves that none was lost or misplaced.

use std::sync::Mutex;

use serde_json::{Value as Json, json};

use super::client::{self, Reply};
use super::requests::{Rng, expect};
use super::{Tally, Target, tenant};
use crate::support::Backend;

/// Families of hostile SQL, one per action.
pub(super) const FAMILIES: usize = 6;

fn sql_path(t: &Target, db: &str) -> String {
    format!("/api/databases/{}.{db}/sql", t.kind)
}

/// A Hrana statement's outcome: `"ok"` or the error code.
fn hrana_outcome(r: &Reply, i: usize) -> String {
    let result = &r.json()["results"][i];
    match result["type"].as_str() {
        Some("ok") => "ok".to_owned(),
        _ => result["error"]["code"]
            .as_str()
            .unwrap_or("no code")
            .to_owned(),
    }
}

/// SQL by which tenant `a` would read tenant `b`'s rows, by backend, in several forms.
fn reach_other(t: &Target, rng: &mut Rng, b: &str) -> (String, Vec<Json>) {
    match t.backend {
        Backend::Sqlite => {
            let victim = if rng.below(4) == 0 {
                t.tenants_dir.parent().unwrap().join("dbx.db")
            } else {
                t.tenants_dir.join(format!("{b}.db"))
            };
            let path = victim.display().to_string();
            match rng.below(4) {
                0 => (format!("ATTACH DATABASE '{path}' || '' AS x"), vec![]),
                1 => (format!("ATTACH (SELECT '{path}') AS x"), vec![]),
                2 => (
                    "ATTACH ? AS x".to_owned(),
                    vec![json!({"type": "text", "value": path})],
                ),
                _ => (
                    format!("ATTACH DATABASE 'file:{path}?mode=ro' AS x"),
                    vec![],
                ),
            }
        }
        Backend::Postgres => match rng.below(3) {
            0 => (
                format!("SELECT owner FROM \"{}{b}\".secrets", t.prefix),
                vec![],
            ),
            1 => (
                format!(
                    "INSERT INTO \"{}{b}\".secrets (owner, n) VALUES ('x', 1)",
                    t.prefix
                ),
                vec![],
            ),
            _ => ("SET ROLE postgres".to_owned(), vec![]),
        },
        Backend::Mysql => match rng.below(3) {
            0 => (
                format!("SELECT owner FROM `{}{b}`.secrets", t.prefix),
                vec![],
            ),
            1 => (
                format!(
                    "INSERT INTO `{}{b}`.secrets (owner, n) VALUES ('x', 1)",
                    t.prefix
                ),
                vec![],
            ),
            _ => (format!("USE `{}{b}`", t.prefix), vec![]),
        },
    }
}

/// SQL that leaves session state behind: a temporary table shadowing `secrets`, settings
/// that would make the next caller read-only or in another time zone, `autocommit` off.
fn leave_state(backend: Backend, rng: &mut Rng) -> &'static str {
    let choices: &[&str] = match backend {
        Backend::Sqlite => &[
            "CREATE TEMP TABLE secrets (id INTEGER PRIMARY KEY, owner TEXT, n INTEGER)",
            "PRAGMA temp_store = memory",
        ],
        Backend::Postgres => &[
            "CREATE TEMP TABLE secrets (id BIGSERIAL PRIMARY KEY, owner TEXT, n BIGINT)",
            "SELECT set_config('default_transaction_read_only', 'on', false)",
            "SELECT set_config('TimeZone', 'Asia/Tokyo', false)",
            "SELECT pg_advisory_lock(42)",
            "PREPARE stolen AS SELECT 1",
        ],
        Backend::Mysql => &[
            "SET autocommit = 0",
            "CREATE TEMPORARY TABLE secrets (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(16), n BIGINT)",
            "SET SESSION TRANSACTION READ ONLY",
            "SELECT GET_LOCK('dbx', 0)",
        ],
    };
    choices[rng.below(choices.len())]
}

fn runaway(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
        }
        Backend::Postgres => "SELECT pg_sleep(30)",
        Backend::Mysql => "SELECT SLEEP(30)",
    }
}

/// 100,000 rows of 100 bytes: far past the server's `max-result-bytes` of 64 KiB.
fn oversized(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 100000) \
             SELECT hex(randomblob(50)) FROM r"
        }
        Backend::Postgres => "SELECT repeat('x', 100) FROM generate_series(1, 100000)",
        Backend::Mysql => {
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 100000) \
             SELECT REPEAT('x', 100) FROM r"
        }
    }
}

/// What a read-only caller would use to keep writers out.
fn write_lock(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &["BEGIN EXCLUSIVE"],
        Backend::Postgres => &["BEGIN", "LOCK TABLE secrets IN ACCESS EXCLUSIVE MODE"],
        Backend::Mysql => &["LOCK TABLES secrets WRITE"],
    }
}

/// A legitimate insert into `tenant` over REST and one over Hrana, both counted.
async fn victim_writes(t: &Target, i: usize, tally: &Mutex<Tally>) {
    let r = t.client.insert_rest(t.kind, &tenant(i), &t.rw[i], 7).await;
    expect(
        "a REST insert after another caller's session state",
        &r,
        201,
    );
    tally.lock().unwrap().inserted[i] += 1;
    let r = t.client.insert_hrana(&tenant(i), &t.rw[i], 7).await;
    expect(
        "a Hrana insert after another caller's session state",
        &r,
        200,
    );
    assert_eq!(hrana_outcome(&r, 0), "ok", "{}", r.body);
    tally.lock().unwrap().inserted[i] += 1;
}

/// One hostile statement family, `family` below [`FAMILIES`], from tenant `a` against `b`.
pub(super) async fn one(
    t: &Target,
    rng: &mut Rng,
    family: usize,
    (a, b): (usize, usize),
    tally: &Mutex<Tally>,
) -> &'static str {
    let (ta, tb) = (tenant(a), tenant(b));
    let c = &t.client;
    match family {
        0 if a != b => {
            let (sql, args) = reach_other(t, rng, &tb);
            if args.is_empty() {
                let r = c
                    .rest(
                        "POST",
                        &sql_path(t, &ta),
                        Some(&t.rw[a]),
                        Some(json!({"sql": sql})),
                    )
                    .await;
                expect(&format!("REST {sql}"), &r, 403);
            }
            let stmt = json!({"type": "execute", "stmt": {"sql": sql, "args": args}});
            let r = c
                .hrana(&ta, &t.rw[a], None, json!([stmt, {"type": "close"}]))
                .await;
            expect(&format!("Hrana {sql}"), &r, 200);
            let code = hrana_outcome(&r, 0);
            assert!(
                ["SQLITE_AUTH", "SQLITE_PERM", "PERMISSION_DENIED"].contains(&code.as_str()),
                "Hrana {sql}: {}",
                r.body
            );
            "SQL naming another tenant's data"
        }
        1 => {
            let sql = leave_state(t.backend, rng);
            let token = if rng.below(2) == 0 {
                &t.rw[a]
            } else {
                &t.ro[a]
            };
            if rng.below(2) == 0 {
                let r = c
                    .rest(
                        "POST",
                        &sql_path(t, &ta),
                        Some(token),
                        Some(json!({"sql": sql})),
                    )
                    .await;
                assert!(
                    [200, 403].contains(&r.status),
                    "REST {sql}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                let r = c
                    .hrana(
                        &ta,
                        token,
                        None,
                        json!([client::execute(sql), {"type": "close"}]),
                    )
                    .await;
                // A read-only token's write is refused before it runs (403).
                assert!(
                    [200, 403].contains(&r.status),
                    "Hrana {sql}: {} {}",
                    r.status,
                    r.body
                );
            }
            // Neither the next caller of any tenant nor the tenant itself may lose a write.
            victim_writes(t, b, tally).await;
            victim_writes(t, a, tally).await;
            "session state left for the next caller"
        }
        2 => {
            let r = c
                .rest(
                    "POST",
                    &sql_path(t, &ta),
                    Some(&t.ro[a]),
                    Some(json!({"sql": runaway(t.backend)})),
                )
                .await;
            expect("a runaway statement past the read-only timeout", &r, 504);
            victim_writes(t, a, tally).await;
            "runaway statement"
        }
        3 => {
            let sql = oversized(t.backend);
            if rng.below(2) == 0 {
                let r = c
                    .rest(
                        "POST",
                        &sql_path(t, &ta),
                        Some(&t.ro[a]),
                        Some(json!({"sql": sql})),
                    )
                    .await;
                expect("a result past max-result-bytes", &r, 422);
            } else {
                let r = c
                    .hrana(
                        &ta,
                        &t.ro[a],
                        None,
                        json!([client::execute(sql), {"type": "close"}]),
                    )
                    .await;
                expect("a Hrana result past max-result-bytes", &r, 200);
                assert_eq!(hrana_outcome(&r, 0), "RESPONSE_TOO_LARGE", "{}", r.body);
            }
            "oversized result"
        }
        4 => {
            // A read-only stream tries to hold the write lock, and stays open.
            let requests: Vec<Json> = write_lock(t.backend)
                .iter()
                .map(|sql| client::execute(sql))
                .collect();
            let r = c.hrana(&ta, &t.ro[a], None, json!(requests)).await;
            assert!(
                [200, 403].contains(&r.status),
                "a read-only stream taking the write lock: {} {}",
                r.status,
                r.body
            );
            let baton = r.json()["baton"].as_str().map(str::to_owned);
            victim_writes(t, a, tally).await;
            if let Some(baton) = baton {
                let r = c
                    .hrana(&ta, &t.ro[a], Some(&baton), json!([{"type": "close"}]))
                    .await;
                expect("closing the read-only stream", &r, 200);
            }
            "read-only caller holding the write lock"
        }
        _ => {
            let r = c
                .rest(
                    "POST",
                    &format!("/api/adapters/{}/tenants", t.kind),
                    Some(&t.admin),
                    Some(json!({"id": "default"})),
                )
                .await;
            expect("creating tenant default", &r, 400);
            let r = c
                .hrana(
                    "default",
                    &t.rw[a],
                    None,
                    json!([client::execute("SELECT 1")]),
                )
                .await;
            expect("a tenant token on namespace default", &r, 403);
            "the reserved tenant id"
        }
    }
}
