//! What tenant isolation costs: one statement at a time, (a) always to one tenant over a
//! shared login (no reset ever needed), (b) round-robin over 8 tenants on a shared pool
//! (every statement pays the reset before another tenant's use), (c) round-robin over 8
//! tenants each logged in as its own role or user, with a budget of 16 connections (each
//! tenant keeps its own, no reset), and (d) the same with a budget of 2 (every switch closes
//! another tenant's idle connection and logs in anew). Rounds interleave the four; ratios
//! are against (a).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, TenantId, TenantLogin, TenantManager};
use serde::Serialize;

use crate::databases::{MyDatabase, PgDatabase};
use crate::stats::{Samples, Summary};
use crate::{Scale, ServerUrls};

const TENANTS: usize = 8;
const QUERY: &str = "SELECT count(*) FROM items";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct IsolationResult {
    pub(crate) backend: &'static str,
    pub(crate) same_tenant: Summary,
    pub(crate) switching_shared: Summary,
    pub(crate) switching_per_tenant: Summary,
    pub(crate) switching_per_tenant_tight: Summary,
    /// Mean per statement, against the same-tenant case.
    pub(crate) reset_ratio: f64,
    pub(crate) per_tenant_ratio: f64,
    pub(crate) per_tenant_tight_ratio: f64,
}

/// Eight tenants with an `items` table, opened through `manager`.
async fn open(manager: &dyn TenantManager) -> Result<Vec<Arc<dyn Adapter>>> {
    let mut out = Vec::new();
    for i in 0..TENANTS {
        let id = TenantId::new(format!("i{i}"))?;
        manager.create_tenant(&id).await?;
        let db = manager.tenant(&id).await?;
        db.execute("CREATE TABLE items (n INTEGER)".into()).await?;
        out.push(db);
    }
    Ok(out)
}

async fn time(dbs: &[Arc<dyn Adapter>], ops: usize, out: &mut Samples) -> Result<()> {
    for i in 0..ops {
        let db = &dbs[i % dbs.len()];
        let started = Instant::now();
        db.query(QUERY.into()).await?;
        out.push(started.elapsed());
    }
    Ok(())
}

/// The tenant managers under test, one per case.
struct Managers<'a> {
    shared: &'a dyn TenantManager,
    per_tenant: &'a dyn TenantManager,
    per_tenant_tight: &'a dyn TenantManager,
}

async fn measure(
    backend: &'static str,
    managers: &Managers<'_>,
    scale: Scale,
) -> Result<IsolationResult> {
    let cases = [
        open(managers.shared).await?,
        open(managers.per_tenant).await?,
        open(managers.per_tenant_tight).await?,
    ];
    let (ops, rounds) = match scale {
        Scale::Quick => (50, 2),
        Scale::Full => (2_000, 10),
    };
    let mut samples: [Samples; 4] = Default::default();
    // One warm-up round, not recorded: every pool holds its connections.
    for dbs in &cases {
        time(dbs, TENANTS * 2, &mut Samples::default()).await?;
    }
    for _ in 0..rounds {
        time(&cases[0][..1], ops, &mut samples[0]).await?;
        for (dbs, out) in cases.iter().zip(&mut samples[1..]) {
            time(dbs, ops, out).await?;
        }
    }
    let [same, switching, own, tight] = samples.map(|s| s.summary());
    Ok(IsolationResult {
        backend,
        reset_ratio: switching.mean_us / same.mean_us,
        per_tenant_ratio: own.mean_us / same.mean_us,
        per_tenant_tight_ratio: tight.mean_us / same.mean_us,
        same_tenant: same,
        switching_shared: switching,
        switching_per_tenant: own,
        switching_per_tenant_tight: tight,
    })
}

async fn remove_tenants(managers: &[Box<dyn TenantManager>]) -> Result<()> {
    for manager in managers {
        for id in manager.list_tenants().await? {
            manager.delete_tenant(&id).await?;
        }
        manager.close_all().await;
    }
    Ok(())
}

/// The three cases' settings: (schema or database prefix, login, connection budget).
const CASES: [(&str, TenantLogin, usize); 3] = [
    ("s_", TenantLogin::Shared, 16),
    ("p_", TenantLogin::PerTenant, 16),
    ("t_", TenantLogin::PerTenant, 2),
];

/// Measures the cases on `managers` (in [`CASES`] order), then deletes their tenants.
async fn measure_and_remove(
    backend: &'static str,
    managers: &[Box<dyn TenantManager>],
    scale: Scale,
) -> Result<IsolationResult> {
    let [shared, per_tenant, per_tenant_tight] = managers else {
        unreachable!("one manager per case")
    };
    let result = measure(
        backend,
        &Managers {
            shared: shared.as_ref(),
            per_tenant: per_tenant.as_ref(),
            per_tenant_tight: per_tenant_tight.as_ref(),
        },
        scale,
    )
    .await?;
    remove_tenants(managers).await?;
    Ok(result)
}

async fn postgres(url: &str, scale: Scale) -> Result<IsolationResult> {
    let db = PgDatabase::create(url, "isolation").await?;
    let mut managers: Vec<Box<dyn TenantManager>> = Vec::new();
    for (prefix, login, size) in CASES {
        let mut config = dbx_postgres::PgConfig::from_url(&db.url);
        config.tenant_schema_prefix = prefix.to_owned();
        config.tenant_login = login;
        config.pool.max_size = size;
        let root = dbx_postgres::PgAdapter::connect(config).await?;
        managers.push(Box::new(dbx_postgres::PgTenants::new(
            root,
            TenantCacheConfig::default(),
        )?));
    }
    let result = measure_and_remove("postgres", &managers, scale).await;
    db.drop_now().await?;
    result
}

async fn mysql(url: &str, scale: Scale) -> Result<IsolationResult> {
    let db = MyDatabase::create(url, "isolation").await?;
    // Tenant databases are named by the prefix alone (16 characters at most): the process
    // id keeps two runs apart.
    let run = std::process::id() % 100_000;
    let mut managers: Vec<Box<dyn TenantManager>> = Vec::new();
    for (prefix, login, size) in CASES {
        let mut config = dbx_mysql::MySqlConfig::from_url(&db.url);
        config.tenant_database_prefix = format!("bi{run}{prefix}");
        config.tenant_login = login;
        config.pool.max_size = size;
        let root = dbx_mysql::MySqlAdapter::connect(config).await?;
        managers.push(Box::new(dbx_mysql::MySqlTenants::new(
            root,
            TenantCacheConfig::default(),
        )?));
    }
    let result = measure_and_remove("mysql", &managers, scale).await;
    db.drop_now().await?;
    result
}

pub(crate) async fn run(scale: Scale, urls: &ServerUrls) -> Result<Vec<IsolationResult>> {
    let results = vec![
        postgres(&urls.postgres, scale).await?,
        mysql(&urls.mysql, scale).await?,
    ];
    for r in &results {
        eprintln!(
            "isolation {}: same tenant {:.0} µs; switching tenants on a shared login {:.0} µs \
             ({:.2}×, the reset); per-tenant logins {:.0} µs ({:.2}×), with a budget of 2 \
             connections for 8 tenants {:.0} µs ({:.2}×)",
            r.backend,
            r.same_tenant.mean_us,
            r.switching_shared.mean_us,
            r.reset_ratio,
            r.switching_per_tenant.mean_us,
            r.per_tenant_ratio,
            r.switching_per_tenant_tight.mean_us,
            r.per_tenant_tight_ratio
        );
    }
    Ok(results)
}
