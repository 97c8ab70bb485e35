//! Migrating every tenant of an adapter: bounded parallelism, continue-on-error or fail-fast,
//! a result per tenant, and resume for free, since a tenant that is up to date is only read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use dbx_core::Adapter;
use dbx_core::tenancy::TenantId;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use crate::error::Error;
use crate::runner::Migrator;

/// What happened to one tenant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TenantOutcome {
    /// Nothing was pending; the tenant was only read.
    UpToDate,
    /// Migrations ran.
    Migrated {
        /// How many.
        applied: usize,
        /// Modules initialized.
        modules_initialized: usize,
    },
    /// The tenant failed; the others went on (unless fail-fast).
    Failed {
        /// The error's class (`dirty`, `database`, ...).
        kind: String,
        /// The error.
        error: String,
    },
    /// Not attempted, because an earlier tenant failed and fail-fast was on.
    Skipped,
}

/// One tenant's line in the result table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantResult {
    /// The tenant.
    pub tenant: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: TenantOutcome,
    /// Wall time for this tenant.
    pub duration_ms: u64,
}

/// How to run across tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    /// Tenants migrated at once (at least 1).
    pub jobs: usize,
    /// Stop starting new tenants after the first failure.
    pub fail_fast: bool,
}

impl Default for FanOut {
    fn default() -> Self {
        FanOut {
            jobs: 4,
            fail_fast: false,
        }
    }
}

/// Opens a tenant's adapter.
pub type OpenTenant =
    Arc<dyn Fn(TenantId) -> BoxFuture<'static, dbx_core::Result<Arc<dyn Adapter>>> + Send + Sync>;

/// Runs `up(to)` on every tenant in `tenants` with `migrator`'s migrations and options.
/// `progress` is called as each tenant finishes. Results come back in `tenants` order.
pub async fn migrate_tenants(
    migrator: &Migrator,
    tenants: Vec<TenantId>,
    to: Option<i64>,
    fan_out: FanOut,
    open: OpenTenant,
    progress: &(dyn Fn(&TenantResult) + Send + Sync),
) -> Vec<TenantResult> {
    let stop = Arc::new(AtomicBool::new(false));
    let jobs = fan_out.jobs.max(1);
    let mut results: Vec<(usize, TenantResult)> =
        futures_util::stream::iter(tenants.into_iter().enumerate())
            .map(|(index, id)| {
                let open = open.clone();
                let stop = stop.clone();
                async move {
                    let started = Instant::now();
                    let outcome = if stop.load(Ordering::Acquire) {
                        TenantOutcome::Skipped
                    } else {
                        let outcome = migrate_one(migrator, open, id.clone(), to).await;
                        if fan_out.fail_fast && matches!(outcome, TenantOutcome::Failed { .. }) {
                            stop.store(true, Ordering::Release);
                        }
                        outcome
                    };
                    let result = TenantResult {
                        tenant: id.to_string(),
                        outcome,
                        duration_ms: u64::try_from(started.elapsed().as_millis())
                            .unwrap_or(u64::MAX),
                    };
                    progress(&result);
                    (index, result)
                }
            })
            .buffer_unordered(jobs)
            .collect()
            .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn migrate_one(
    migrator: &Migrator,
    open: OpenTenant,
    id: TenantId,
    to: Option<i64>,
) -> TenantOutcome {
    let failed = |e: Error| TenantOutcome::Failed {
        kind: e.kind().as_str().to_owned(),
        error: e.to_string(),
    };
    let adapter = match open(id.clone()).await {
        Ok(adapter) => adapter,
        Err(e) => {
            return TenantOutcome::Failed {
                kind: "database".to_owned(),
                error: format!("opening tenant {id}: {e}"),
            };
        }
    };
    let tenant = migrator.for_adapter(adapter);
    match tenant.is_up_to_date().await {
        Ok(true) => return TenantOutcome::UpToDate,
        Ok(false) => {}
        Err(e) => return failed(e),
    }
    match tenant.up(to).await {
        Ok(report) if report.steps.is_empty() && report.modules_initialized.is_empty() => {
            TenantOutcome::UpToDate
        }
        Ok(report) => TenantOutcome::Migrated {
            applied: report.steps.len(),
            modules_initialized: report.modules_initialized.len(),
        },
        Err(e) => {
            tracing::warn!(tenant = %id, error = %e, "tenant migration failed");
            failed(e)
        }
    }
}
