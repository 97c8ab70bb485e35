//! Migrating every tenant: 20 migrations applied to 1,000 SQLite tenants by the `dbx migrate
//! up --all-tenants --jobs N` command, for N = 1, 2 and 4, each on fresh tenants, and every
//! tenant's ledger checked afterwards.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{TenantId, TenantManager};
use dbx_sqlite::{SqliteOptions, SqliteTenants};
use serde::Serialize;

use crate::Scale;

const MIGRATIONS: usize = 20;
pub(crate) const JOBS: [usize; 3] = [1, 2, 4];

#[derive(Debug, Clone, Serialize)]
pub(crate) struct JobsRun {
    pub(crate) jobs: usize,
    pub(crate) tenants: usize,
    pub(crate) migrations: usize,
    pub(crate) wall_s: f64,
    pub(crate) tenants_per_s: f64,
    pub(crate) speedup: f64,
}

/// Writes migration `k` (1-based): a table with an index, then a column and seed rows on it,
/// the kind of steps a service's schema history is made of.
fn write_migrations(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for k in 1..=MIGRATIONS {
        let (up, down) = if k == 1 {
            (
                "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
                 name TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);\n\
                 INSERT INTO users (email, name) VALUES ('owner@example.com', 'Owner');\n"
                    .to_owned(),
                "DROP TABLE users;\n".to_owned(),
            )
        } else if k % 2 == 0 {
            (
                format!(
                    "CREATE TABLE items{k} (id INTEGER PRIMARY KEY, \
                     owner INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL, \
                     created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);\n\
                     CREATE INDEX items{k}_owner ON items{k} (owner);\n"
                ),
                format!("DROP TABLE items{k};\n"),
            )
        } else {
            let table = format!("items{}", k - 1);
            (
                format!(
                    "ALTER TABLE {table} ADD COLUMN note{k} TEXT;\n\
                     INSERT INTO {table} (owner, title, note{k}) \
                     SELECT id, 'welcome', 'seeded by {k}' FROM users;\n"
                ),
                format!("ALTER TABLE {table} DROP COLUMN note{k};\n"),
            )
        };
        let stem = format!("{:03}_step_{k}", k);
        std::fs::write(dir.join(format!("{stem}.up.sql")), up)?;
        std::fs::write(dir.join(format!("{stem}.down.sql")), down)?;
    }
    Ok(())
}

async fn create_tenants(dir: &Path, count: usize) -> Result<()> {
    let manager =
        SqliteTenants::open(dir, SqliteOptions::default(), TenantCacheConfig::default()).await?;
    for i in 0..count {
        manager
            .create_tenant(&TenantId::new(format!("m{i:05}"))?)
            .await?;
    }
    manager.close_all().await;
    Ok(())
}

/// Every tenant holds all the migrations, none dirty, and the last data migration's row.
fn check_tenants(dir: &Path, count: usize) -> Result<()> {
    let mut checked = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("db") {
            continue;
        }
        let conn = rusqlite::Connection::open(&path)?;
        let (applied, dirty): (i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(dirty), 0) FROM _dbx_migrations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // Migration 19 (odd) seeded one row per user into the table of migration 18.
        let seeded: i64 = conn.query_row(
            "SELECT count(*) FROM items18 WHERE note19 = 'seeded by 19'",
            [],
            |r| r.get(0),
        )?;
        ensure!(
            applied == i64::try_from(MIGRATIONS)? && dirty == 0 && seeded == 1,
            "{}: {applied} migrations applied ({dirty} dirty, {seeded} seeded rows), \
             want {MIGRATIONS} clean and 1 row",
            path.display()
        );
        checked += 1;
    }
    ensure!(
        checked == count,
        "{checked} tenant files checked, want {count}"
    );
    Ok(())
}

async fn run_jobs(dbx: &Path, source: &Path, tenants: usize, jobs: usize) -> Result<f64> {
    let data = tempfile::tempdir()?;
    let tenants_dir = data.path().join("tenants");
    create_tenants(&tenants_dir, tenants).await?;
    let started = Instant::now();
    let out = tokio::process::Command::new(dbx)
        .arg("--data-dir")
        .arg(data.path())
        .args(["migrate", "--source"])
        .arg(source)
        .args(["up", "--all-tenants", "--jobs", &jobs.to_string()])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .await
        .context("running dbx migrate")?;
    let wall = started.elapsed().as_secs_f64();
    ensure!(
        out.status.success(),
        "dbx migrate up --all-tenants --jobs {jobs} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    check_tenants(&tenants_dir, tenants)?;
    Ok(wall)
}

pub(crate) async fn run(scale: Scale, dbx: &Path) -> Result<Vec<JobsRun>> {
    let tenants = match scale {
        Scale::Quick => 12,
        Scale::Full => 1_000,
    };
    let source = tempfile::tempdir()?;
    write_migrations(source.path())?;
    let mut runs: Vec<JobsRun> = Vec::new();
    for jobs in JOBS {
        let wall_s = run_jobs(dbx, source.path(), tenants, jobs).await?;
        let single = runs.first().map_or(wall_s, |r| r.wall_s);
        eprintln!("  --jobs {jobs}: {tenants} tenants in {wall_s:.1} s");
        runs.push(JobsRun {
            jobs,
            tenants,
            migrations: MIGRATIONS,
            wall_s,
            tenants_per_s: tenants as f64 / wall_s,
            speedup: single / wall_s,
        });
    }
    Ok(runs)
}
