//! The commands that change a database: up (with module initialization), down, reset,
//! redo, repair and resolve. Each runs under the migration lock.

use std::collections::BTreeSet;

use dbx_core::Statement;
use dbx_core::sql::split_statements;

use crate::error::{Context, Error, Result};
use crate::ledger;
use crate::lock::MigrationLock;
use crate::migration::Migration;
use crate::modules::Module;
use crate::runner::{DownTarget, Migrator, Report, Resolution, StepReport};
use crate::status::State;
use crate::step::{self, Direction};

impl Migrator {
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
        let schema_file = module.schema_file.clone();
        let dialect = crate::dialect_files::infix(kind.dialect());
        let generic = !schema_file.contains(&format!(".{dialect}."));
        let failed = move |i: usize| {
            let hint = if generic {
                format!(
                    "; if {schema_file} is written for another database, add \
                     schema.{dialect}.sql (and init.{dialect}.sql) beside it for {kind}"
                )
            } else {
                String::new()
            };
            format!(
                "module {name}: {schema_file}/init statement {} of {total} failed{hint}",
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

    /// Reverts every applied migration, then applies every migration, under one lock: a
    /// schema rebuilt from the files, as seed 002's `reset` means. Only reverting is
    /// [`down`](Self::down) with [`DownTarget::All`] (`dbx migrate down --to 0`).
    pub async fn reset(&self) -> Result<Report> {
        let (report, waited) = self
            .locked(async |held| {
                let rows = ledger::read(self.adapter.as_ref()).await?;
                self.check_dirty(&rows)?;
                // Refuse before reverting anything if the files cannot be applied after.
                self.plan_up(&rows, None)?;
                let mut report = Report::default();
                for m in &self.plan_down(&rows, DownTarget::All)? {
                    let ms = step::run(self.adapter.as_ref(), held, m, Direction::Down).await?;
                    report.steps.push(StepReport::new(m, Direction::Down, ms));
                }
                let rows = ledger::read(self.adapter.as_ref()).await?;
                for m in &self.plan_up(&rows, None)? {
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
