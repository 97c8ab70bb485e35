//! `--dry-run`: execute what would run inside one transaction and roll it back, so that the
//! database itself checks the SQL. What the backend cannot roll back is printed, not run.

use dbx_core::Statement;

use crate::error::{Context, Result};
use crate::ledger;
use crate::migration::{Migration, MigrationContext, Step};
use crate::runner::{DownTarget, Migrator};
use crate::step::{self, Direction};

/// One migration in a dry run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DryRunStep {
    /// `version_name`.
    pub label: String,
    /// Which way it would run.
    pub direction: Direction,
    /// Its statements (for a Rust migration: those it issued).
    pub statements: Vec<String>,
    /// Whether they were executed (and rolled back).
    pub executed: bool,
    /// Why they were not executed, when they were not.
    pub not_executed_because: Option<String>,
    /// The database's error, when a statement failed.
    pub error: Option<String>,
}

/// The outcome of a dry run. Nothing is changed in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DryRun {
    /// What would run, in order.
    pub steps: Vec<DryRunStep>,
}

impl DryRun {
    /// Whether every executed statement succeeded.
    pub fn succeeded(&self) -> bool {
        self.steps.iter().all(|s| s.error.is_none())
    }
}

impl Migrator {
    /// What `up(to)` would do, executed and rolled back where the backend allows.
    pub async fn dry_run_up(&self, to: Option<i64>) -> Result<DryRun> {
        let (rows, recorded_modules) = self.ledger_rows().await?;
        let plan = self.plan_up(&rows, to)?;
        let initialized: Vec<String> = recorded_modules.into_iter().map(|(m, _)| m).collect();
        let mut items: Vec<(String, Direction, Step)> = self
            .modules()
            .iter()
            .filter(|m| !initialized.contains(&m.name))
            .map(|m| {
                let text = format!(
                    "{}\n;\n{}",
                    m.schema_sql,
                    m.init_sql.as_deref().unwrap_or_default()
                );
                (
                    format!("module {} (schema.sql, init.sql)", m.name),
                    Direction::Up,
                    Step::sql(text),
                )
            })
            .collect();
        items.extend(
            plan.iter()
                .map(|m| (m.label(), Direction::Up, m.up.clone())),
        );
        self.execute_and_roll_back(items).await
    }

    /// What `down(target)` would do, executed and rolled back where the backend allows.
    pub async fn dry_run_down(&self, target: DownTarget) -> Result<DryRun> {
        let rows = ledger::read(self.adapter.as_ref()).await?;
        let plan: Vec<Migration> = self.plan_down(&rows, target)?;
        let mut items = Vec::new();
        for m in &plan {
            items.push((
                m.label(),
                Direction::Down,
                step::step_of(m, Direction::Down)?.clone(),
            ));
        }
        self.execute_and_roll_back(items).await
    }

    async fn execute_and_roll_back(&self, items: Vec<(String, Direction, Step)>) -> Result<DryRun> {
        let kind = self.adapter.kind();
        let mut out = DryRun::default();
        let mut tx = self
            .adapter
            .transaction()
            .await
            .context(|| "starting the dry-run transaction".to_owned())?;
        // Once one step cannot run, later ones may depend on it: list them without running.
        let mut stopped: Option<String> = None;
        for (label, direction, step) in items {
            let mut report = DryRunStep {
                label: label.clone(),
                direction,
                statements: step::statements(&step, kind),
                executed: false,
                not_executed_because: None,
                error: None,
            };
            if let Some(reason) = &stopped {
                report.not_executed_because = Some(reason.clone());
            } else if let Some(why) = step::why_not_transactional(&step, kind, &report.statements) {
                report.not_executed_because = Some(format!(
                    "{why}; a dry run cannot roll it back, so it and everything after it are only listed"
                ));
                stopped = Some(format!("it comes after {label}, which was only listed"));
            } else {
                let outcome = match &step {
                    Step::Sql { .. } => {
                        let mut failure = None;
                        for sql in &report.statements {
                            if let Err(e) = tx.execute(Statement::new(sql.as_str())).await {
                                failure = Some(format!("`{sql}`: {e}"));
                                break;
                            }
                        }
                        failure
                    }
                    Step::Rust(run) => {
                        let mut log = Vec::new();
                        let result = {
                            let mut ctx = MigrationContext::in_transaction(&mut *tx, &mut log);
                            run(&mut ctx).await
                        };
                        report.statements = log;
                        result.err().map(|e| e.to_string())
                    }
                };
                report.executed = true;
                if let Some(error) = outcome {
                    report.error = Some(error);
                    stopped = Some(format!("{label} failed"));
                }
            }
            out.steps.push(report);
        }
        tx.rollback()
            .await
            .context(|| "rolling back the dry run".to_owned())?;
        Ok(out)
    }
}
