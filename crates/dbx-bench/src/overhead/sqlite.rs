//! SQLite: dbx-sqlite against rusqlite, in two forms. An async service must keep blocking
//! calls off the reactor, so its least-cost rusqlite is a connection moved onto tokio's
//! blocking pool per call (`spawn_blocking`); the plain blocking call is also measured, as
//! the floor no async code reaches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};
use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::Semaphore;

use super::dbx_side::DbxDriver;
use super::{BackendResult, Contender, Driver, POINT_SELECT, Person, SCAN, score_of};
use crate::Scale;
use crate::databases::{open_like_dbx, sqlite_file};

const INSERT: &str = "INSERT INTO bench_insert (name, score) VALUES (?1, ?2)";
/// dbx-sqlite's default reader count, given to the raw pool too.
const READERS: usize = 4;

fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        name: r.get(1)?,
        score: r.get(2)?,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The work itself, shared by both rusqlite sides.
fn select_one(conn: &Connection, id: i64) -> rusqlite::Result<Person> {
    conn.prepare_cached(POINT_SELECT)?.query_row([id], person)
}

fn insert_one(conn: &Connection, n: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(INSERT)?
        .execute(params![format!("ins{n}"), score_of(n)])?;
    Ok(())
}

fn insert_many(conn: &mut Connection, n: i64, count: usize) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        for k in super::insert_numbers(n, count) {
            insert.execute(params![format!("ins{k}"), score_of(k)])?;
        }
    }
    tx.commit()
}

fn scan(conn: &Connection, after: i64) -> rusqlite::Result<Vec<Person>> {
    conn.prepare_cached(SCAN)?
        .query_map([after], person)?
        .collect()
}

/// rusqlite as an async service would use it without dbx: one writer behind a mutex and a
/// few readers, every call on the blocking pool.
struct SpawnBlocking {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl SpawnBlocking {
    fn open(path: PathBuf) -> Result<Self> {
        Ok(Self {
            writer: Arc::new(Mutex::new(open_like_dbx(&path)?)),
            path,
            idle: Arc::default(),
            permits: Arc::new(Semaphore::new(READERS)),
        })
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = self.permits.clone().acquire_owned().await?;
        let (idle, path) = (self.idle.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = match lock(&idle).pop() {
                Some(c) => c,
                None => open_like_dbx(&path)?,
            };
            let out = f(&conn);
            lock(&idle).push(conn);
            Ok(out?)
        })
        .await?
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let writer = self.writer.clone();
        Ok(tokio::task::spawn_blocking(move || f(&mut lock(&writer))).await??)
    }
}

impl Driver for SpawnBlocking {
    async fn point_select(&self, id: i64) -> Result<Person> {
        self.read(move |c| select_one(c, id)).await
    }
    async fn insert_one(&self, n: i64) -> Result<()> {
        self.write(move |c| insert_one(c, n)).await
    }
    async fn insert_in_transaction(&self, n: i64, count: usize) -> Result<()> {
        self.write(move |c| insert_many(c, n, count)).await
    }
    async fn scan(&self, after: i64) -> Result<Vec<Person>> {
        self.read(move |c| scan(c, after)).await
    }
}

/// rusqlite called in place, blocking the caller: the floor.
struct Blocking(Mutex<Connection>);

impl Driver for Blocking {
    async fn point_select(&self, id: i64) -> Result<Person> {
        Ok(select_one(&lock(&self.0), id)?)
    }
    async fn insert_one(&self, n: i64) -> Result<()> {
        Ok(insert_one(&lock(&self.0), n)?)
    }
    async fn insert_in_transaction(&self, n: i64, count: usize) -> Result<()> {
        Ok(insert_many(&mut lock(&self.0), n, count)?)
    }
    async fn scan(&self, after: i64) -> Result<Vec<Person>> {
        Ok(scan(&lock(&self.0), after)?)
    }
}

pub(super) async fn compare(dir: &Path, scale: Scale) -> Result<BackendResult> {
    let files = ["dbx.db", "spawn-blocking.db", "blocking.db"].map(|f| sqlite_file(&dir.join(f)));
    let [dbx_file, async_file, sync_file] = files;
    let dbx = SqliteAdapter::open(SqliteOptions::new(dbx_file?))
        .await
        .context("opening the dbx side")?;
    let contenders = [
        Contender::new("dbx", DbxDriver::new(Arc::new(dbx), "bench_insert")),
        Contender::new(
            "rusqlite + spawn_blocking",
            SpawnBlocking::open(async_file?)?,
        ),
        Contender::new(
            "rusqlite, blocking",
            Blocking(Mutex::new(open_like_dbx(&sync_file?)?)),
        )
        .sequential_only(),
    ];
    let setup = format!(
        "SQLite {} (bundled by rusqlite), one file per side, WAL, synchronous = NORMAL, \
         {READERS} readers",
        rusqlite::version()
    );
    super::compare("sqlite", setup, &contenders, scale).await
}
