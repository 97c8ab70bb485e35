//! The [`Migrator`]: its options, status, and the plans that the commands (`commands.rs`)
//! carry out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use dbx_core::Adapter;

use crate::error::{Error, Result};
use crate::ledger::{self, AppliedRow};
use crate::lock::{self, LockOptions, MigrationLock};
use crate::migration::Migration;
use crate::modules::Module;
use crate::source::Migrations;
use crate::status::{ModuleState, State, Status, StatusEntry};
use crate::step::{self, Direction};

/// How a run behaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Apply pending migrations older than the newest applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// Lock waiting and lease length.
    pub lock: LockOptions,
}

/// How far `down` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// Revert the newest N applied migrations.
    Steps(usize),
    /// Revert every applied migration newer than this version.
    To(i64),
    /// Revert everything (`reset`).
    All,
}

/// What `resolve` records for a dirty migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// It is now fully applied (the user finished it by hand).
    Applied,
    /// Nothing of it remains (the user undid it); it runs again on the next `up`.
    NotApplied,
}

/// One migration that ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepReport {
    /// Its module; empty for the application's.
    pub module: String,
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// Which way it ran.
    pub direction: Direction,
    /// How long it took.
    pub duration_ms: i64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    /// The migrations that ran, in order.
    pub steps: Vec<StepReport>,
    /// The modules whose schema was initialized.
    pub modules_initialized: Vec<String>,
    /// Whether another runner held the lock when this one asked for it.
    pub waited_for_lock: bool,
}

type WaitHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Runs a set of migrations (and modules) against one database or tenant.
#[derive(Clone)]
pub struct Migrator {
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) migrations: Migrations,
    pub(crate) modules: Arc<Vec<Module>>,
    pub(crate) options: Options,
    on_wait: WaitHook,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("kind", &self.adapter.kind())
            .field("migrations", &self.migrations.len())
            .field("modules", &self.modules.len())
            .field("options", &self.options)
            .finish()
    }
}

impl Migrator {
    /// A migrator for `adapter` with the default options.
    pub fn new(adapter: Arc<dyn Adapter>, migrations: Migrations) -> Self {
        Migrator {
            adapter,
            migrations,
            modules: Arc::new(Vec::new()),
            options: Options::default(),
            on_wait: Arc::new(|holder| {
                tracing::info!(%holder, "waiting for the migration lock");
            }),
        }
    }

    /// Adds modules (from [`discover`](crate::discover)), initialized before any migration.
    pub fn with_modules(mut self, modules: Vec<Module>) -> Self {
        self.modules = Arc::new(modules);
        self
    }

    /// Sets the options.
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Called once with the holder's description when a run must wait for the lock.
    pub fn on_lock_wait(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_wait = Arc::new(hook);
        self
    }

    /// The same migrations and options for another database (a tenant).
    pub fn for_adapter(&self, adapter: Arc<dyn Adapter>) -> Self {
        Migrator {
            adapter,
            ..self.clone()
        }
    }

    /// Every migration in run order: modules' (in dependency order), then the application's.
    pub(crate) fn all(&self) -> Vec<&Migration> {
        self.modules
            .iter()
            .flat_map(|m| m.migrations.iter())
            .chain(self.migrations.iter())
            .collect()
    }

    pub(crate) fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The ledger's rows and recorded modules; empty when the ledger does not exist yet.
    pub(crate) async fn ledger_rows(&self) -> Result<(Vec<AppliedRow>, Vec<(String, String)>)> {
        if !ledger::exists(self.adapter.as_ref()).await? {
            return Ok((Vec::new(), Vec::new()));
        }
        let rows = ledger::read(self.adapter.as_ref()).await?;
        let modules = ledger::read_modules(self.adapter.as_ref()).await?;
        Ok((rows, modules))
    }

    /// Each migration's state, without taking the lock or creating anything.
    pub async fn status(&self) -> Result<Status> {
        let (rows, modules) = self.ledger_rows().await?;
        Ok(self.status_from(&rows, &modules))
    }

    pub(crate) fn status_from(
        &self,
        rows: &[AppliedRow],
        initialized: &[(String, String)],
    ) -> Status {
        let applied: BTreeMap<(&str, i64), &AppliedRow> = rows
            .iter()
            .map(|r| ((r.module.as_str(), r.version), r))
            .collect();
        let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
        for r in rows {
            let e = newest.entry(r.module.as_str()).or_insert(r.version);
            *e = (*e).max(r.version);
        }
        let mut entries = Vec::new();
        let mut known = BTreeSet::new();
        for m in self.all() {
            known.insert((m.module.as_str(), m.version));
            let row = applied.get(&(m.module.as_str(), m.version));
            let state = match row {
                None => State::Pending,
                Some(r) if r.dirty => State::Dirty,
                Some(r) if r.checksum != m.checksum => State::Modified,
                Some(_) => State::Applied,
            };
            let out_of_order = state == State::Pending
                && newest
                    .get(m.module.as_str())
                    .is_some_and(|&n| n > m.version);
            entries.push(StatusEntry::new(m, row.copied(), state, out_of_order));
        }
        for r in rows {
            if !known.contains(&(r.module.as_str(), r.version)) {
                let state = if r.dirty {
                    State::Dirty
                } else {
                    State::Missing
                };
                entries.push(StatusEntry::from_row(r, state));
            }
        }
        let recorded: BTreeMap<&str, &str> = initialized
            .iter()
            .map(|(m, c)| (m.as_str(), c.as_str()))
            .collect();
        let modules = self
            .modules
            .iter()
            .map(|m| ModuleState {
                name: m.name.clone(),
                initialized: recorded.contains_key(m.name.as_str()),
                schema_changed: recorded
                    .get(m.name.as_str())
                    .is_some_and(|c| *c != m.checksum()),
            })
            .collect();
        Status { entries, modules }
    }

    /// Whether nothing is pending, dirty or modified and every module is initialized; reads
    /// without the lock, so that a tenant that is up to date costs one query or two.
    pub async fn is_up_to_date(&self) -> Result<bool> {
        let status = self.status().await?;
        Ok(status.modules.iter().all(|m| m.initialized)
            && status
                .entries
                .iter()
                .all(|e| matches!(e.state, State::Applied | State::Missing)))
    }

    async fn lock(&self) -> Result<MigrationLock> {
        let hook = self.on_wait.clone();
        lock::acquire(&self.adapter, self.options.lock, &move |h: &str| hook(h)).await
    }

    /// Runs `work` under the lock and releases it whatever happens.
    pub(crate) async fn locked<T>(
        &self,
        work: impl AsyncFnOnce(&MigrationLock) -> Result<T>,
    ) -> Result<(T, bool)> {
        let held = self.lock().await?;
        let waited = held.waited;
        let outcome = async {
            ledger::ensure(self.adapter.as_ref()).await?;
            work(&held).await
        }
        .await;
        held.release().await;
        outcome.map(|v| (v, waited))
    }

    /// Refuses to go on while a migration is dirty.
    pub(crate) fn check_dirty(&self, rows: &[AppliedRow]) -> Result<()> {
        if let Some(row) = rows.iter().find(|r| r.dirty) {
            let origin = self
                .all()
                .into_iter()
                .find(|m| m.module == row.module && m.version == row.version)
                .map(|m| m.origin.clone());
            return Err(Error::Dirty(step::dirty_guidance(
                row,
                origin.as_deref(),
                None,
            )));
        }
        Ok(())
    }

    /// The pending migrations up to `to`, after the checksum and order checks.
    pub(crate) fn plan_up(&self, rows: &[AppliedRow], to: Option<i64>) -> Result<Vec<Migration>> {
        let status = self.status_from(rows, &[]);
        let modified: Vec<String> = status
            .entries
            .iter()
            .filter(|e| e.state == State::Modified)
            .map(|e| format!("{} ({})", e.label(), e.origin.as_deref().unwrap_or("rust")))
            .collect();
        if !modified.is_empty() {
            return Err(Error::Modified(modified));
        }
        let out_of_order: Vec<&StatusEntry> =
            status.entries.iter().filter(|e| e.out_of_order).collect();
        if !out_of_order.is_empty() && !self.options.allow_out_of_order {
            let newest = rows
                .iter()
                .filter(|r| out_of_order.iter().any(|e| e.module == r.module))
                .max_by_key(|r| r.version)
                .map(|r| {
                    crate::migration::label(&r.module, r.version, &r.description.replace(' ', "_"))
                })
                .unwrap_or_default();
            return Err(Error::OutOfOrder {
                newest,
                pending: out_of_order.iter().map(|e| e.label()).collect(),
            });
        }
        let applied: BTreeSet<(&str, i64)> = rows
            .iter()
            .map(|r| (r.module.as_str(), r.version))
            .collect();
        Ok(self
            .all()
            .into_iter()
            .filter(|m| !applied.contains(&(m.module.as_str(), m.version)))
            .filter(|m| to.is_none_or(|to| m.version <= to))
            .cloned()
            .collect())
    }

    /// The applied migrations `target` reverts, newest first; each must have a down step.
    pub(crate) fn plan_down(
        &self,
        rows: &[AppliedRow],
        target: DownTarget,
    ) -> Result<Vec<Migration>> {
        let applied: BTreeSet<(&str, i64)> = rows
            .iter()
            .map(|r| (r.module.as_str(), r.version))
            .collect();
        let mut candidates: Vec<&Migration> = self
            .all()
            .into_iter()
            .filter(|m| applied.contains(&(m.module.as_str(), m.version)))
            .collect();
        candidates.reverse();
        let chosen: Vec<&Migration> = match target {
            DownTarget::Steps(n) => candidates.into_iter().take(n).collect(),
            DownTarget::To(v) => candidates.into_iter().filter(|m| m.version > v).collect(),
            DownTarget::All => candidates,
        };
        for m in &chosen {
            step::step_of(m, Direction::Down)?;
        }
        let missing: Vec<String> = self
            .status_from(rows, &[])
            .entries
            .iter()
            .filter(|e| e.state == State::Missing)
            .filter(|e| match target {
                DownTarget::To(v) => e.version > v,
                DownTarget::All => true,
                DownTarget::Steps(_) => false,
            })
            .map(StatusEntry::label)
            .collect();
        if !missing.is_empty() {
            return Err(Error::Invalid(format!(
                "cannot revert {}: applied, but the files are gone; restore them, or remove \
                 the records with `dbx migrate resolve <version> --not-applied`",
                missing.join(", ")
            )));
        }
        Ok(chosen.into_iter().cloned().collect())
    }
}
