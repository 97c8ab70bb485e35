//! SQLite tenants at scale: creating 10,000 (and 100,000 where the disk allows), then random
//! access through a cache of 1,000 open tenants, telling cold opens from warm hits by the
//! cache's own miss counter; and this process's memory and descriptors, which the cache must
//! bound whatever the tenant count.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Statement, TenantId, TenantManager};
use dbx_sqlite::{SqliteOptions, SqliteTenants};
use serde::Serialize;

use crate::Scale;
use crate::stats::{Samples, SplitMix, Summary};
use crate::sys::{self, ProcessUse};

/// One tenant count's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TenantRun {
    pub(crate) tenants: usize,
    pub(crate) cache_capacity: u64,
    pub(crate) create_s: f64,
    pub(crate) creates_per_s: f64,
    pub(crate) disk_mib: f64,
    pub(crate) accesses: usize,
    pub(crate) cold: Summary,
    pub(crate) warm: Summary,
    /// Open tenants once the cache has applied its evictions.
    pub(crate) open_after: u64,
    /// Descriptors on tenant files, and distinct tenant databases among them, at that time.
    pub(crate) tenant_fds: usize,
    pub(crate) tenant_files_open: usize,
    pub(crate) before: ProcessUse,
    pub(crate) after_access: ProcessUse,
    /// After `close_all`: what is left once every tenant is closed.
    pub(crate) after_close: ProcessUse,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct TenantsResult {
    pub(crate) runs: Vec<TenantRun>,
    /// Why a larger count was not run, if it was not.
    pub(crate) skipped: Option<String>,
}

fn id(i: usize) -> Result<TenantId> {
    Ok(TenantId::new(format!("t{i:06}"))?)
}

async fn run_one(dir: &Path, tenants: usize, capacity: u64, accesses: usize) -> Result<TenantRun> {
    let manager = SqliteTenants::open(
        dir,
        SqliteOptions::default(),
        TenantCacheConfig {
            capacity,
            time_to_idle: None,
        },
    )
    .await?;
    let before = sys::process_use("self")?;

    let started = Instant::now();
    for i in 0..tenants {
        manager
            .create_tenant(&id(i)?)
            .await
            .with_context(|| format!("creating tenant {i}"))?;
    }
    let create_s = started.elapsed().as_secs_f64();
    let listed = manager.list_tenants().await?.len();
    ensure!(
        listed == tenants,
        "{listed} tenants listed, {tenants} created"
    );

    let mut rng = SplitMix::new(0x7E7A);
    let (mut cold, mut warm) = (Samples::default(), Samples::default());
    let count = Statement::new("SELECT count(*) FROM sqlite_schema");
    for _ in 0..accesses {
        let tenant = id(usize::try_from(rng.one_to(tenants as u64)).unwrap_or(1) - 1)?;
        let misses = manager.cache_stats().misses;
        let t = Instant::now();
        let db = manager.tenant(&tenant).await?;
        let tables: i64 = db.query(count.clone()).await?.scalar()?;
        let took = t.elapsed();
        ensure!(tables == 0, "tenant {tenant} has {tables} tables, want 0");
        if manager.cache_stats().misses > misses {
            cold.push(took);
        } else {
            warm.push(took);
        }
    }
    manager.run_pending_evictions().await;
    let open_after = manager.cache_stats().open;
    let after_access = sys::process_use("self")?;
    let (tenant_fds, tenant_files_open) = sys::open_under(dir)?;
    manager.close_all().await;
    drop(manager);
    let after_close = sys::process_use("self")?;
    Ok(TenantRun {
        tenants,
        cache_capacity: capacity,
        create_s,
        creates_per_s: tenants as f64 / create_s,
        disk_mib: sys::disk_usage(dir)? as f64 / (1024.0 * 1024.0),
        accesses,
        cold: cold.summary(),
        warm: warm.summary(),
        open_after,
        tenant_fds,
        tenant_files_open,
        before,
        after_access,
        after_close,
    })
}

pub(crate) async fn run(scale: Scale) -> Result<TenantsResult> {
    let (counts, capacity, accesses): (&[usize], u64, usize) = match scale {
        Scale::Quick => (&[60, 240], 20, 300),
        Scale::Full => (&[10_000, 100_000], 1_000, 20_000),
    };
    let mut runs = Vec::new();
    let mut skipped = None;
    for &tenants in counts {
        let dir = tempfile::tempdir()?;
        if let Some(last) = runs.last() {
            // Grow the last run's disk use in proportion, with room to spare.
            let last: &TenantRun = last;
            let need = last.disk_mib * (tenants as f64 / last.tenants as f64) * 3.0 + 1024.0;
            let free = sys::free_bytes(dir.path())? as f64 / (1024.0 * 1024.0);
            if free < need {
                skipped = Some(format!(
                    "{tenants} tenants need about {need:.0} MiB; {free:.0} MiB are free"
                ));
                break;
            }
        }
        let run = run_one(dir.path(), tenants, capacity, accesses).await?;
        eprintln!(
            "  {tenants} tenants: created in {:.1} s, cold p50 {:.0} µs, warm p50 {:.0} µs",
            run.create_s, run.cold.p50_us, run.warm.p50_us
        );
        runs.push(run);
    }
    Ok(TenantsResult { runs, skipped })
}
