//! What `dbx migrate` prints: aligned tables for people, one JSON document with `--json`.
// This module is the command's output; printing is its job.
#![allow(clippy::print_stdout)]

use std::path::Path;

use dbx_migrate::{DryRun, Report, Resolution, Status, TenantOutcome, TenantResult};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// Prints for people or, with `--json`, for programs.
#[derive(Debug)]
pub(crate) struct Printer {
    json: bool,
}

/// Left-aligned columns, sized to their widest cell.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

fn dashes(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_owned())
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Printer { json }
    }

    fn json(&self, value: &impl serde::Serialize) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }

    pub(crate) fn created(&self, up: &Path, down: &Path) {
        if self.json {
            self.json(&json!({"up": up, "down": down}));
        } else {
            println!("created {}\ncreated {}", up.display(), down.display());
        }
    }

    pub(crate) fn report(&self, report: &Report) {
        if self.json {
            return self.json(report);
        }
        for module in &report.modules_initialized {
            println!("initialized module {module}");
        }
        if report.steps.is_empty() {
            println!("nothing to do: the database is up to date");
            return;
        }
        let rows: Vec<Vec<String>> = report
            .steps
            .iter()
            .map(|s| {
                let label = if s.module.is_empty() {
                    format!("{}_{}", s.version, s.name)
                } else {
                    format!("{}/{}_{}", s.module, s.version, s.name)
                };
                vec![
                    s.direction.to_string(),
                    label,
                    format!("{} ms", s.duration_ms),
                ]
            })
            .collect();
        table(&["DIRECTION", "MIGRATION", "DURATION"], &rows);
        let total: i64 = report.steps.iter().map(|s| s.duration_ms).sum();
        println!("{} migration(s) in {total} ms", report.steps.len());
    }

    pub(crate) fn dry_run(&self, dry: &DryRun) {
        if self.json {
            return self.json(dry);
        }
        if dry.steps.is_empty() {
            println!("dry run: nothing to do");
            return;
        }
        for step in &dry.steps {
            let status = match (&step.error, step.executed) {
                (Some(_), _) => "FAILED (rolled back)",
                (None, true) => "executed, then rolled back",
                (None, false) => "listed only, not executed",
            };
            println!("-- {} ({}): {status}", step.label, step.direction);
            if let Some(why) = &step.not_executed_because {
                println!("--   {why}");
            }
            for sql in &step.statements {
                println!("{};", sql.trim_end_matches(';'));
            }
            if let Some(error) = &step.error {
                println!("-- error: {error}");
            }
        }
        println!("-- dry run: nothing was changed");
    }

    pub(crate) fn status(&self, status: &Status) {
        if self.json {
            return self.json(status);
        }
        for m in &status.modules {
            let state = match (m.initialized, m.schema_changed) {
                (false, _) => "not initialized",
                (true, false) => "initialized",
                (true, true) => "initialized; schema.sql changed since (not re-run)",
            };
            println!("module {}: {state}", m.name);
        }
        let rows: Vec<Vec<String>> = status
            .entries
            .iter()
            .map(|e| {
                let mut state = e.state.to_string();
                if e.out_of_order {
                    state.push_str(" (out of order)");
                }
                vec![
                    e.label(),
                    state,
                    dashes(e.applied_at.clone()),
                    dashes(e.duration_ms.map(|d| format!("{d} ms"))),
                    dashes(e.error.clone()),
                ]
            })
            .collect();
        table(
            &["MIGRATION", "STATE", "APPLIED AT", "DURATION", "ERROR"],
            &rows,
        );
    }

    pub(crate) fn repaired(&self, fixed: &[String]) {
        if self.json {
            return self.json(&json!({"repaired": fixed}));
        }
        if fixed.is_empty() {
            println!("nothing to repair: every applied migration matches its file");
        }
        for label in fixed {
            println!("re-recorded the checksum of {label}");
        }
    }

    pub(crate) fn resolved(&self, version: i64, resolution: Resolution) {
        let what = match resolution {
            Resolution::Applied => "marked as applied",
            Resolution::NotApplied => "forgotten; it runs again on the next `up`",
        };
        if self.json {
            return self.json(&json!({"resolved": version, "as": format!("{resolution:?}")}));
        }
        println!("migration {version} {what}");
    }

    pub(crate) fn tenant_results(&self, results: &[TenantResult]) {
        let count =
            |f: fn(&TenantOutcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
        let migrated = count(|o| matches!(o, TenantOutcome::Migrated { .. }));
        let up_to_date = count(|o| matches!(o, TenantOutcome::UpToDate));
        let failed = count(|o| matches!(o, TenantOutcome::Failed { .. }));
        let skipped = count(|o| matches!(o, TenantOutcome::Skipped));
        if self.json {
            return self.json(&json!({
                "tenants": results,
                "summary": {"migrated": migrated, "up_to_date": up_to_date, "failed": failed, "skipped": skipped},
            }));
        }
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                let (outcome, detail) = match &r.outcome {
                    TenantOutcome::UpToDate => ("up to date", String::new()),
                    TenantOutcome::Migrated {
                        applied,
                        modules_initialized,
                    } => (
                        "migrated",
                        format!("{applied} migration(s), {modules_initialized} module(s)"),
                    ),
                    TenantOutcome::Failed { error, .. } => ("FAILED", error.clone()),
                    TenantOutcome::Skipped => (
                        "skipped",
                        "an earlier tenant failed (--fail-fast)".to_owned(),
                    ),
                };
                vec![
                    r.tenant.clone(),
                    outcome.to_owned(),
                    format!("{} ms", r.duration_ms),
                    detail,
                ]
            })
            .collect();
        table(&["TENANT", "OUTCOME", "TIME", "DETAIL"], &rows);
        println!(
            "{} tenant(s): {migrated} migrated, {up_to_date} up to date, {failed} failed, {skipped} skipped",
            results.len()
        );
    }

    pub(crate) fn tenant_status(&self, rows: &[(String, Status)]) {
        if self.json {
            let list: Vec<_> = rows
                .iter()
                .map(|(tenant, status)| json!({"tenant": tenant, "status": status}))
                .collect();
            return self.json(&list);
        }
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|(tenant, s)| {
                use dbx_migrate::State;
                vec![
                    tenant.clone(),
                    s.count(State::Applied).to_string(),
                    s.count(State::Pending).to_string(),
                    (s.count(State::Dirty) + s.count(State::Modified)).to_string(),
                ]
            })
            .collect();
        table(
            &["TENANT", "APPLIED", "PENDING", "DIRTY/MODIFIED"],
            &table_rows,
        );
    }
}

/// A progress bar on stderr, or a hidden one when stderr is not a terminal.
pub(crate) fn progress_bar(len: usize, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(u64::try_from(len).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {elapsed}") {
        bar.set_style(style);
    }
    bar
}
