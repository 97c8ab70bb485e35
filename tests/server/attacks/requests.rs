//! The randomized requests of the attack suite: legitimate ones and attacks, each checked on
//! the spot against its documented answer.

use std::sync::Mutex;

use serde_json::{Value as Json, json};

use super::client::{self, Reply};
use super::{BODY_LIMIT, TENANTS, Tally, Target, tenant};
use crate::support::Backend;

/// Tenant ids that break the rule, for REST paths, the Hrana header and tenant creation.
const HOSTILE_IDS: &[&str] = &[
    "..",
    "../t01",
    "t01/../t02",
    "T01",
    "t01;DROP TABLE secrets",
    "t01' OR '1'='1",
    ".hidden",
    "-t01",
    "t01 space",
    "t01.t02",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// Table names a REST path may carry, none of them a table.
const HOSTILE_TABLES: &[&str] = &[
    "secrets\"; DROP TABLE secrets; --",
    "secrets' OR '1'='1",
    "secrets/**/",
    "secrets;",
    "../secrets",
    "`secrets`",
];

/// Column names a REST query or body may carry, none of them a column.
const HOSTILE_COLUMNS: &[&str] = &[
    "owner\" = owner --",
    "n; DROP TABLE secrets",
    "owner/**/",
    "(SELECT 1)",
];

/// A small seeded generator, so that a failing run can be replayed.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }
}

/// Asserts that `reply` has `status`, naming the attack.
pub(super) fn expect(what: &str, reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
}

/// Rows a read returned must all belong to `owner`.
fn only_own_rows(what: &str, rows: &[Json], owner_column: usize, owner: &str) -> u64 {
    for row in rows {
        assert_eq!(
            row[owner_column],
            json!(owner),
            "{what}: a row of another tenant: {row}"
        );
    }
    rows.len() as u64
}

/// One randomized request, legitimate or hostile, checked on the spot.
pub(super) async fn one_request(t: &Target, rng: &mut Rng, tally: &Mutex<Tally>) {
    let (a, b) = (rng.below(TENANTS), rng.below(TENANTS));
    let (ta, tb) = (tenant(a), tenant(b));
    let kind = t.kind;
    let c = &t.client;
    let action = rng.below(24 + super::hostile_sql::FAMILIES);
    let category = match action {
        0 | 1 => {
            let n = u64::try_from(rng.below(1_000_000)).unwrap() + 1;
            let r = c.insert_rest(kind, &ta, &t.rw[a], n).await;
            expect("a REST insert", &r, 201);
            tally.lock().unwrap().inserted[a] += 1;
            "legitimate REST insert"
        }
        2 | 3 => {
            let n = rng.below(1_000_000) + 1;
            let r = c.insert_hrana(&ta, &t.rw[a], n).await;
            expect("a Hrana insert", &r, 200);
            assert_eq!(r.json()["results"][0]["type"], "ok", "{}", r.body);
            tally.lock().unwrap().inserted[a] += 1;
            "legitimate Hrana insert"
        }
        4 | 5 => {
            let r = c
                .rest(
                    "GET",
                    &format!("/api/databases/{kind}.{ta}/tables/secrets/rows?limit=1000&order=id"),
                    Some(&t.ro[a]),
                    None,
                )
                .await;
            expect("a REST read", &r, 200);
            let body = r.json();
            let owner = body["columns"]
                .as_array()
                .unwrap()
                .iter()
                .position(|c| c == "owner")
                .unwrap();
            let n = only_own_rows("a REST read", body["rows"].as_array().unwrap(), owner, &ta);
            tally.lock().unwrap().rows_read += n;
            "legitimate REST read"
        }
        6 | 7 => {
            let r = c
                .hrana(
                    &ta,
                    &t.ro[a],
                    None,
                    json!([client::execute("SELECT owner FROM secrets"), {"type": "close"}]),
                )
                .await;
            expect("a Hrana read", &r, 200);
            let rows = r.json()["results"][0]["response"]["result"]["rows"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let rows: Vec<Json> = rows.iter().map(|row| json!([row[0]["value"]])).collect();
            let n = only_own_rows("a Hrana read", &rows, 0, &ta);
            tally.lock().unwrap().rows_read += n;
            "legitimate Hrana read"
        }
        8 => {
            // A stream opened in `a`, then every way to take its baton elsewhere.
            let open = c
                .hrana(&ta, &t.rw[a], None, json!([client::execute("SELECT 1")]))
                .await;
            expect("opening a stream", &open, 200);
            let baton = open.json()["baton"].as_str().unwrap().to_owned();
            if a != b {
                let r = c
                    .hrana(
                        &tb,
                        &t.rw[b],
                        Some(&baton),
                        json!([client::execute("SELECT owner FROM secrets")]),
                    )
                    .await;
                expect("a baton taken to another tenant", &r, 400);
            }
            let r = c
                .hrana(
                    &ta,
                    &t.ro[a],
                    Some(&baton),
                    json!([client::execute("SELECT 1")]),
                )
                .await;
            expect("a baton taken to another token", &r, 400);
            let mut tampered = baton.clone().into_bytes();
            let at = tampered.len() / 2;
            tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
            let r = c
                .hrana(
                    &ta,
                    &t.rw[a],
                    Some(&String::from_utf8(tampered).unwrap()),
                    json!([client::execute("SELECT 1")]),
                )
                .await;
            expect("a tampered baton", &r, 400);
            let r = c
                .hrana(&ta, &t.rw[a], Some(&baton), json!([{"type": "close"}]))
                .await;
            expect("the rightful holder closing its stream", &r, 200);
            let r = c
                .hrana(
                    &ta,
                    &t.rw[a],
                    Some(&baton),
                    json!([client::execute("SELECT 1")]),
                )
                .await;
            expect("a baton used twice", &r, 400);
            "stolen, tampered and reused batons"
        }
        9 if a != b => {
            let r = c
                .hrana(
                    &tb,
                    &t.rw[a],
                    None,
                    json!([client::execute("SELECT owner FROM secrets")]),
                )
                .await;
            expect("a Hrana namespace the token does not cover", &r, 403);
            let r = c
                .rest(
                    "GET",
                    &format!("/api/databases/{kind}.{tb}/tables/secrets/rows"),
                    Some(&t.rw[a]),
                    None,
                )
                .await;
            expect("a REST database the token does not cover", &r, 403);
            let r = c.insert_rest(kind, &tb, &t.rw[a], 1).await;
            expect("a REST write to another tenant", &r, 403);
            "forged namespace or database"
        }
        10 => {
            let evil = HOSTILE_IDS[rng.below(HOSTILE_IDS.len())];
            let r = c
                .rest(
                    "GET",
                    &format!("/api/databases/{kind}.{}/tables", client::encode(evil)),
                    Some(&t.admin),
                    None,
                )
                .await;
            expect(&format!("REST database {kind}.{evil:?}"), &r, 400);
            let r = c
                .hrana(evil, &t.admin, None, json!([client::execute("SELECT 1")]))
                .await;
            expect(&format!("Hrana namespace {evil:?}"), &r, 400);
            let r = c
                .rest(
                    "POST",
                    &format!("/api/adapters/{kind}/tenants"),
                    Some(&t.admin),
                    Some(json!({"id": evil})),
                )
                .await;
            expect(&format!("creating tenant {evil:?}"), &r, 400);
            "hostile tenant id"
        }
        11 => {
            let evil = HOSTILE_TABLES[rng.below(HOSTILE_TABLES.len())];
            let r = c
                .rest(
                    "GET",
                    &format!(
                        "/api/databases/{kind}.{ta}/tables/{}/rows",
                        client::encode(evil)
                    ),
                    Some(&t.rw[a]),
                    None,
                )
                .await;
            expect(&format!("REST table {evil:?}"), &r, 404);
            "hostile table name"
        }
        12 => {
            let evil = HOSTILE_COLUMNS[rng.below(HOSTILE_COLUMNS.len())];
            let rows = format!("/api/databases/{kind}.{ta}/tables/secrets/rows");
            let r = c
                .rest(
                    "GET",
                    &format!("{rows}?filter={}:eq:x", client::encode(evil)),
                    Some(&t.rw[a]),
                    None,
                )
                .await;
            expect(&format!("filter on {evil:?}"), &r, 400);
            let r = c
                .rest(
                    "GET",
                    &format!("{rows}?order={}", client::encode(evil)),
                    Some(&t.rw[a]),
                    None,
                )
                .await;
            expect(&format!("order by {evil:?}"), &r, 400);
            let r = c
                .rest(
                    "POST",
                    &rows,
                    Some(&t.rw[a]),
                    Some(json!({"values": {evil: "x", "owner": ta, "n": 1}})),
                )
                .await;
            expect(&format!("insert into {evil:?}"), &r, 400);
            "hostile column name"
        }
        13 => {
            let padding = "x".repeat(BODY_LIMIT + 1024);
            let r = c
                .rest(
                    "POST",
                    &format!("/api/databases/{kind}.{ta}/sql"),
                    Some(&t.rw[a]),
                    Some(json!({"sql": format!("SELECT '{padding}'")})),
                )
                .await;
            expect("an oversized REST body", &r, 413);
            let r = c
                .hrana(
                    &ta,
                    &t.rw[a],
                    None,
                    json!([client::execute(&format!("SELECT '{padding}'"))]),
                )
                .await;
            expect("an oversized Hrana body", &r, 413);
            "oversized body"
        }
        14..=17 => {
            let (name, forged) = t.forged.pick(action - 14);
            let r = c
                .rest(
                    "GET",
                    &format!("/api/databases/{kind}.{ta}/tables"),
                    Some(forged),
                    None,
                )
                .await;
            expect(&format!("REST with {name}"), &r, 401);
            let r = c
                .hrana(
                    &ta,
                    forged,
                    None,
                    json!([client::execute("SELECT owner FROM secrets")]),
                )
                .await;
            expect(&format!("Hrana with {name}"), &r, 401);
            "forged or expired token"
        }
        18 => {
            let r = c
                .rest(
                    "POST",
                    &format!("/api/databases/{kind}.{ta}/sql"),
                    Some(&t.ro[a]),
                    Some(json!({"sql": "DELETE FROM secrets"})),
                )
                .await;
            expect("REST write with a read-only token", &r, 403);
            let r = c.insert_rest(kind, &ta, &t.ro[a], 1).await;
            expect("REST row insert with a read-only token", &r, 403);
            let r = c
                .hrana(
                    &ta,
                    &t.ro[a],
                    None,
                    json!([client::execute("DELETE FROM secrets")]),
                )
                .await;
            expect("Hrana write with a read-only token", &r, 403);
            "read-only token writing"
        }
        19 if t.backend == Backend::Sqlite && a != b => {
            // SQL that would reach another tenant's file.
            let other = t.tenants_dir.join(format!("{tb}.db"));
            let attach = format!("ATTACH DATABASE '{}' AS other", other.display());
            let r = c
                .rest(
                    "POST",
                    &format!("/api/databases/{kind}.{ta}/sql"),
                    Some(&t.rw[a]),
                    Some(json!({"sql": attach})),
                )
                .await;
            expect("REST ATTACH of another tenant's file", &r, 403);
            let r = c
                .hrana(
                    &ta,
                    &t.rw[a],
                    None,
                    json!([client::execute(&attach), {"type": "close"}]),
                )
                .await;
            expect("Hrana ATTACH of another tenant's file", &r, 200);
            let error = &r.json()["results"][0];
            assert_eq!(error["type"], "error", "{}", r.body);
            assert_eq!(error["error"]["code"], "SQLITE_AUTH", "{}", r.body);
            let copy = t.tenants_dir.join("stolen.db");
            let vacuum = format!("VACUUM INTO '{}'", copy.display());
            let r = c
                .rest(
                    "POST",
                    &format!("/api/databases/{kind}.{ta}/sql"),
                    Some(&t.rw[a]),
                    Some(json!({"sql": vacuum})),
                )
                .await;
            expect("REST VACUUM INTO", &r, 403);
            assert!(!copy.exists(), "VACUUM INTO wrote a file");
            "SQL reaching another file (SQLite)"
        }
        24.. => super::hostile_sql::one(t, rng, action - 24, (a, b), tally).await,
        _ => {
            let r = c.rest("GET", "/health", None, None).await;
            expect("health", &r, 200);
            "health"
        }
    };
    *tally.lock().unwrap().requests.entry(category).or_default() += 1;
}
