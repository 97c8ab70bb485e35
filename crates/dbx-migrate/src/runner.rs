//! The [`Migrator`]: status, up, down, reset, redo, repair and resolve for one database.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use dbx_core::sql::split_statements;
use dbx_core::{Adapter, Statement};

use crate::error::{Context, Error, Result};
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
    migrations: Migrations,
    modules: Arc<Vec<Module>>,
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

    async fn ledger_rows(&self) -> Result<(Vec<AppliedRow>, Vec<(String, String)>)> {
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

    fn status_from(&self, rows: &[AppliedRow], initialized: &[(String, String)]) -> Status {
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
    async fn locked<T>(
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
    fn check_dirty(&self, rows: &[AppliedRow]) -> Result<()> {
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

    /// Initializes modules not yet recorded, then applies pending migrations (up to `to`).
    pub async fn up(&self, to: Option<i64>) -> Result<Report> {
        let (report, waited) = self
            .locked(async |held| {
                let mut report = Report::default();
                let rows = ledger::read(self.adapter.as_ref()).await?;
                self.check_dirty(&rows)?;
                let plan = self.plan_up(&rows, to)?;
                report.modules_initialized = self.init_modules(held).await?;
                for m in &plan {
                    let ms = step::run(self.adapter.as_ref(), held, m, Direction::Up).await?;
                    report.steps.push(StepReport::new(m, Direction::Up, ms));
                }
                Ok(report)
            })
            .await?;
        Ok(Report {
            waited_for_lock: waited,
            ..report
        })
    }

    async fn init_modules(&self, held: &MigrationLock) -> Result<Vec<String>> {
        let done: BTreeSet<String> = ledger::read_modules(self.adapter.as_ref())
            .await?
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        let mut initialized = Vec::new();
        for module in self.modules.iter().filter(|m| !done.contains(&m.name)) {
            self.init_module(held, module).await?;
            initialized.push(module.name.clone());
        }
        Ok(initialized)
    }

    async fn init_module(&self, held: &MigrationLock, module: &Module) -> Result<()> {
        let kind = self.adapter.kind();
        let text = format!(
            "{}\n;\n{}",
            module.schema_sql,
            module.init_sql.as_deref().unwrap_or_default()
        );
        let sql: Vec<String> = split_statements(&text, kind.dialect())
            .into_iter()
            .map(str::to_owned)
            .collect();
        let name = &module.name;
        tracing::info!(module = %name, statements = sql.len(), "initializing module schema");
        let total = sql.len();
        let failed = move |i: usize| {
            format!(
                "module {name}: schema.sql/init.sql statement {} of {total} failed",
                i + 1
            )
        };
        if ledger::transactional_ddl(kind) {
            let mut tx = self
                .adapter
                .transaction()
                .await
                .context(|| format!("module {name}"))?;
            if let Some(fence) = held.fence() {
                held.check_fence(tx.execute(fence).await).await?;
            }
            for (i, s) in sql.iter().enumerate() {
                tx.execute(Statement::new(s.as_str()))
                    .await
                    .context(|| failed(i))?;
            }
            tx.execute(ledger::insert_module(name, &module.checksum()))
                .await
                .context(|| format!("recording module {name}"))?;
            tx.commit()
                .await
                .context(|| format!("committing module {name}"))?;
        } else {
            for (i, s) in sql.iter().enumerate() {
                self.adapter
                    .execute(Statement::new(s.as_str()))
                    .await
                    .context(|| {
                        format!(
                            "{}; MySQL kept the statements before it, so write schema.sql with \
                         IF NOT EXISTS and run again once it is fixed",
                            failed(i)
                        )
                    })?;
            }
            self.adapter
                .execute(ledger::insert_module(name, &module.checksum()))
                .await
                .context(|| format!("recording module {name}"))?;
        }
        Ok(())
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

    /// Reverts applied migrations, newest first.
    pub async fn down(&self, target: DownTarget) -> Result<Report> {
        let (steps, waited) = self
            .locked(async |held| {
                let rows = ledger::read(self.adapter.as_ref()).await?;
                self.check_dirty(&rows)?;
                let mut steps = Vec::new();
                for m in &self.plan_down(&rows, target)? {
                    let ms = step::run(self.adapter.as_ref(), held, m, Direction::Down).await?;
                    steps.push(StepReport::new(m, Direction::Down, ms));
                }
                Ok(steps)
            })
            .await?;
        Ok(Report {
            steps,
            modules_initialized: Vec::new(),
            waited_for_lock: waited,
        })
    }

    /// Reverts every applied migration: the schema returns to where it was before them.
    pub async fn reset(&self) -> Result<Report> {
        self.down(DownTarget::All).await
    }

    /// Reverts the newest `steps` migrations and applies them again.
    pub async fn redo(&self, steps: usize) -> Result<Report> {
        let (report, waited) = self
            .locked(async |held| {
                let rows = ledger::read(self.adapter.as_ref()).await?;
                self.check_dirty(&rows)?;
                self.plan_up(&rows, None)?;
                let mut report = Report::default();
                let reverted = self.plan_down(&rows, DownTarget::Steps(steps))?;
                for m in &reverted {
                    let ms = step::run(self.adapter.as_ref(), held, m, Direction::Down).await?;
                    report.steps.push(StepReport::new(m, Direction::Down, ms));
                }
                for m in reverted.iter().rev() {
                    let ms = step::run(self.adapter.as_ref(), held, m, Direction::Up).await?;
                    report.steps.push(StepReport::new(m, Direction::Up, ms));
                }
                Ok(report)
            })
            .await?;
        Ok(Report {
            waited_for_lock: waited,
            ..report
        })
    }

    /// Records the current checksum (and description) of every modified migration, on
    /// purpose; returns their labels.
    pub async fn repair(&self) -> Result<Vec<String>> {
        let (fixed, _) = self
            .locked(async |_held| {
                let rows = ledger::read(self.adapter.as_ref()).await?;
                let status = self.status_from(&rows, &[]);
                let mut fixed = Vec::new();
                for e in status.entries.iter().filter(|e| e.state == State::Modified) {
                    let Some(m) = self
                        .all()
                        .into_iter()
                        .find(|m| m.module == e.module && m.version == e.version)
                    else {
                        continue;
                    };
                    self.adapter
                        .execute(ledger::set_checksum(
                            &m.module,
                            m.version,
                            &m.checksum,
                            &m.description,
                        ))
                        .await
                        .context(|| format!("repairing {}", m.label()))?;
                    tracing::info!(migration = %m.label(), "checksum re-recorded");
                    fixed.push(m.label());
                }
                Ok(fixed)
            })
            .await?;
        Ok(fixed)
    }

    /// Settles a dirty migration after the user has checked the database by hand.
    pub async fn resolve(&self, module: &str, version: i64, resolution: Resolution) -> Result<()> {
        self.locked(async |_held| {
            let rows = ledger::read(self.adapter.as_ref()).await?;
            let Some(row) = rows
                .iter()
                .find(|r| r.module == module && r.version == version)
            else {
                return Err(Error::Invalid(format!(
                    "migration {} has no record in {}; `dbx migrate status` lists what is recorded",
                    crate::migration::label(module, version, ""),
                    ledger::MIGRATIONS_TABLE
                )));
            };
            if !row.dirty && resolution == Resolution::Applied {
                return Err(Error::Invalid(format!(
                    "migration {version} is not dirty; there is nothing to resolve"
                )));
            }
            let stmt = match resolution {
                Resolution::Applied => ledger::mark_clean(module, version, row.duration_ms),
                Resolution::NotApplied => ledger::delete(module, version),
            };
            self.adapter
                .execute(stmt)
                .await
                .context(|| format!("resolving migration {version}"))?;
            // "Fully applied" means applied as the file now reads: the user may have fixed it.
            let current = self
                .all()
                .into_iter()
                .find(|m| m.module == module && m.version == version);
            if let (Resolution::Applied, Some(m)) = (resolution, current) {
                self.adapter
                    .execute(ledger::set_checksum(
                        module,
                        version,
                        &m.checksum,
                        &m.description,
                    ))
                    .await
                    .context(|| format!("recording the checksum of migration {version}"))?;
            }
            tracing::info!(version, ?resolution, "resolved");
            Ok(())
        })
        .await
        .map(|_| ())
    }
}

impl StepReport {
    fn new(m: &Migration, direction: Direction, duration_ms: i64) -> Self {
        StepReport {
            module: m.module.clone(),
            version: m.version,
            name: m.name.clone(),
            direction,
            duration_ms,
        }
    }
}
