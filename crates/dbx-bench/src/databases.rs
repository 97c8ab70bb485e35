//! The databases every section measures on: a `bench` table of 10,000 rows and, per side,
//! an empty insert table, in a fresh SQLite file, PostgreSQL database or MariaDB database.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::NoTls;

use crate::overhead::{fill_rows, values_insert};

/// Connections in each pool, raw and dbx alike (dbx's default `max-size`).
pub(crate) const POOL_SIZE: usize = 16;

/// The insert tables: one per side, so that each side's table grows alike.
const INSERT_TABLES: [&str; 2] = ["bench_insert_dbx", "bench_insert_raw"];

/// Opens a connection with dbx-sqlite's defaults: WAL, `synchronous = NORMAL`, foreign keys,
/// a 5 s busy timeout and 128 cached statements.
pub(crate) fn open_like_dbx(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(128);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

/// A new SQLite file at `path` with the filled `bench` table and an empty `bench_insert`.
pub(crate) fn sqlite_file(path: &Path) -> Result<PathBuf> {
    let conn = open_like_dbx(path)?;
    conn.execute_batch(
        "CREATE TABLE bench (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL NOT NULL);
         CREATE TABLE bench_insert (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL NOT NULL);
         BEGIN;",
    )?;
    for chunk in fill_rows(1000) {
        conn.execute_batch(&values_insert("bench", &chunk))?;
    }
    conn.execute_batch("COMMIT")?;
    Ok(path.to_owned())
}

/// `url` with its database part replaced.
pub(crate) fn url_with_database(url: &str, database: &str) -> Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("{url:?} is not a URL"))?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    Ok(format!("{scheme}://{authority}/{database}{query}"))
}

/// A database name of this process, so that runs against a shared server do not collide.
fn database_name(purpose: &str) -> String {
    format!("dbx_bench_{purpose}_{}", std::process::id())
}

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {url}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// A fresh PostgreSQL database with the bench tables, dropped by [`PgDatabase::drop_now`].
pub(crate) struct PgDatabase {
    admin: tokio_postgres::Client,
    name: String,
    pub(crate) url: String,
    pub(crate) version: String,
}

impl PgDatabase {
    pub(crate) async fn create(server_url: &str, purpose: &str) -> Result<Self> {
        let admin = pg_connect(server_url).await?;
        let name = database_name(purpose);
        // Separate calls: PostgreSQL runs a multi-statement string as one transaction, and
        // neither statement may run inside one.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        let url = url_with_database(server_url, &name)?;
        let db = pg_connect(&url).await?;
        db.batch_execute(
            "CREATE TABLE bench (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION NOT NULL)",
        )
        .await?;
        for table in INSERT_TABLES {
            db.batch_execute(&format!(
                "CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, \
                 score DOUBLE PRECISION NOT NULL)"
            ))
            .await?;
        }
        for chunk in fill_rows(1000) {
            db.batch_execute(&values_insert("bench", &chunk)).await?;
        }
        db.batch_execute("ANALYZE bench").await?;
        let version: String = db.query_one("SHOW server_version", &[]).await?.get(0);
        Ok(Self {
            admin,
            name,
            url,
            version,
        })
    }

    /// Drops the database, ending any session still in it.
    pub(crate) async fn drop_now(self) -> Result<()> {
        self.admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}

/// A mysql_async pool of [`POOL_SIZE`] connections, set up as a service that cares for speed
/// sets it up, and as dbx behaves:
/// - connections are kept. mysql_async keeps at most `min` of them idle and closes the rest as
///   they come back, so a pool with `min = 0` opens a new connection (handshake, session
///   queries, statements prepared again) for nearly every query: about 6 times slower for a
///   point select here (620 µs against 94). dbx's pool keeps idle connections until they
///   idle out;
/// - sessions are kept as they are between uses. By default the pool resets each connection
///   it gets back (`COM_RESET_CONNECTION`), one more round trip per checkout that also drops
///   the server's prepared statements: about twice as slow here. dbx tracks the session
///   state it changes instead;
/// - TCP stays TCP. By default a connection to a local server switches to the Unix socket
///   the server names (75–79 µs a point select here, against 81–121 µs over TCP); dbx
///   connects where it is told to, and the comparison needs one transport on both sides.
pub(crate) fn pool(url: &str) -> Result<Pool> {
    let opts = Opts::from_url(url).with_context(|| format!("bad MySQL URL {url}"))?;
    let constraints = PoolConstraints::new(POOL_SIZE, POOL_SIZE).context("pool size")?;
    let pool_opts = PoolOpts::default()
        .with_constraints(constraints)
        .with_reset_connection(false);
    Ok(Pool::new(
        OptsBuilder::from_opts(opts)
            .pool_opts(pool_opts)
            .prefer_socket(false),
    ))
}

/// A fresh MySQL database with the bench tables, dropped by [`MyDatabase::drop_now`].
pub(crate) struct MyDatabase {
    admin: Pool,
    name: String,
    pub(crate) url: String,
    pub(crate) version: String,
}

impl MyDatabase {
    pub(crate) async fn create(server_url: &str, purpose: &str) -> Result<Self> {
        let admin = pool(server_url)?;
        let name = database_name(purpose);
        let mut conn = admin
            .get_conn()
            .await
            .with_context(|| format!("connecting to MySQL at {server_url}"))?;
        conn.query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        conn.query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .await?;
        conn.query_drop(format!("USE {name}")).await?;
        conn.query_drop(
            "CREATE TABLE bench (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, score DOUBLE NOT NULL)",
        )
        .await?;
        for table in INSERT_TABLES {
            conn.query_drop(format!(
                "CREATE TABLE {table} (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
                 name VARCHAR(64) NOT NULL, score DOUBLE NOT NULL)"
            ))
            .await?;
        }
        for chunk in fill_rows(1000) {
            conn.query_drop(values_insert("bench", &chunk)).await?;
        }
        let version: Option<String> = conn.query_first("SELECT VERSION()").await?;
        drop(conn);
        Ok(Self {
            url: url_with_database(server_url, &name)?,
            admin,
            name,
            version: version.unwrap_or_default(),
        })
    }

    pub(crate) async fn drop_now(self) -> Result<()> {
        let mut conn = self.admin.get_conn().await?;
        conn.query_drop(format!("DROP DATABASE IF EXISTS {}", self.name))
            .await?;
        drop(conn);
        self.admin.disconnect().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_part_is_replaced() {
        assert_eq!(
            url_with_database("postgres://u@h:5/postgres", "b").unwrap(),
            "postgres://u@h:5/b"
        );
        assert_eq!(
            url_with_database("mysql://u:p@h:5/test?ssl-mode=disabled", "b").unwrap(),
            "mysql://u:p@h:5/b?ssl-mode=disabled"
        );
        assert_eq!(
            url_with_database("postgres://h", "b").unwrap(),
            "postgres://h/b"
        );
        assert!(url_with_database("nonsense", "b").is_err());
    }

    #[test]
    fn a_sqlite_file_holds_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = sqlite_file(&dir.path().join("b.db")).unwrap();
        let conn = open_like_dbx(&path).unwrap();
        let (n, name): (i64, String) = conn
            .query_row(
                "SELECT count(*), max(name) FROM bench WHERE id BETWEEN 9998 AND 9999",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, name.as_str()), (2, "user9999"));
    }
}
