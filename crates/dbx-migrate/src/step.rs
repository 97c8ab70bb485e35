//! Running one migration step: inside a transaction together with its tracking row, or, where
//! that is impossible, outside one with a dirty flag recorded first.

use std::fmt;
use std::time::Instant;

use dbx_core::sql::split_statements;
use dbx_core::{Adapter, AdapterKind, Statement};

use crate::error::{Context, Error, Result};
use crate::ledger::{self, AppliedRow};
use crate::lock::MigrationLock;
use crate::migration::{Migration, MigrationContext, Step};

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Forward (`up`).
    Up,
    /// Backward (`down`).
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// The statements of a SQL step, split the way the backend reads them.
pub(crate) fn statements(step: &Step, kind: AdapterKind) -> Vec<String> {
    match step {
        Step::Sql { text, .. } => split_statements(text, kind.dialect())
            .into_iter()
            .map(str::to_owned)
            .collect(),
        Step::Rust(_) => Vec::new(),
    }
}

/// Why a step cannot run in a transaction on this backend, or `None` when it can. `sql` is
/// the step's [`statements`].
pub(crate) fn why_not_transactional(
    step: &Step,
    kind: AdapterKind,
    sql: &[String],
) -> Option<&'static str> {
    if step.no_transaction() {
        return Some("it starts with `-- dbx:no-transaction`, so it runs without a transaction");
    }
    if ledger::transactional_ddl(kind) {
        return None;
    }
    match step {
        Step::Sql { .. } if sql.iter().all(|s| ledger::mysql_rollbackable(s)) => None,
        Step::Sql { .. } => Some(
            "MySQL commits each schema change (CREATE, ALTER, DROP, ...) the moment it runs, so \
             it runs without a transaction",
        ),
        Step::Rust(_) => Some(
            "Rust migrations run without an outer transaction on MySQL, which cannot roll back \
             schema changes; use ctx.transaction for data changes",
        ),
    }
}

fn excerpt(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}...", one_line.chars().take(77).collect::<String>())
    } else {
        one_line
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The step of `m` in `direction`, or an error when it has no down.
pub(crate) fn step_of(m: &Migration, direction: Direction) -> Result<&Step> {
    match direction {
        Direction::Up => Ok(&m.up),
        Direction::Down => m.down.as_ref().ok_or_else(|| {
            Error::Invalid(format!(
                "migration {} has no down migration, so it cannot be reverted; add {} or \
                 revert it by hand and run `dbx migrate resolve {} --not-applied`",
                m.label(),
                down_hint(&m.origin),
                m.version
            ))
        }),
    }
}

/// What to add for a down migration: the down file beside an up file (`5_x.up.sql` and
/// `5_x.sql` both pair with `5_x.down.sql`), or a down step for one written in Rust.
fn down_hint(origin: &str) -> String {
    let stem = origin
        .strip_suffix(".up.sql")
        .or_else(|| origin.strip_suffix(".sql"));
    match stem {
        Some(stem) => format!("{stem}.down.sql"),
        None => "a down step to the Rust migration".to_owned(),
    }
}

/// Runs one step under `lock` and records it; returns its duration in milliseconds.
pub(crate) async fn run(
    adapter: &dyn Adapter,
    lock: &MigrationLock,
    m: &Migration,
    direction: Direction,
) -> Result<i64> {
    let step = step_of(m, direction)?;
    let kind = adapter.kind();
    let sql = statements(step, kind);
    let span = tracing::info_span!("migration", label = %m.label(), %direction);
    let _enter = span.enter();
    tracing::info!(statements = sql.len(), "running");
    let ms = match why_not_transactional(step, kind, &sql) {
        None => in_transaction(adapter, lock, m, direction, step, &sql).await?,
        Some(why) => outside_transaction(adapter, lock, m, direction, step, &sql, why).await?,
    };
    tracing::info!(duration_ms = ms, "done");
    Ok(ms)
}

async fn in_transaction(
    adapter: &dyn Adapter,
    lock: &MigrationLock,
    m: &Migration,
    direction: Direction,
    step: &Step,
    sql: &[String],
) -> Result<i64> {
    let label = m.label();
    let started = Instant::now();
    let mut tx = adapter
        .transaction()
        .await
        .context(|| format!("starting the transaction for migration {label}"))?;
    if let Some(fence) = lock.fence() {
        lock.check_fence(tx.execute(fence).await).await?;
    }
    let kept_nothing =
        "nothing from it was kept, because it ran in one transaction with its tracking row";
    match step {
        Step::Sql { .. } => {
            for (i, statement) in sql.iter().enumerate() {
                tx.execute(Statement::new(statement.as_str())).await.context(|| {
                    format!(
                        "migration {label} ({direction}) failed at statement {} of {} (`{}`); {kept_nothing}",
                        i + 1,
                        sql.len(),
                        excerpt(statement)
                    )
                })?;
            }
        }
        Step::Rust(run_step) => {
            let mut log = Vec::new();
            let mut ctx = MigrationContext::in_transaction(&mut *tx, &mut log);
            run_step(&mut ctx)
                .await
                .context(|| format!("migration {label} ({direction}) failed; {kept_nothing}"))?;
        }
    }
    let ms = elapsed_ms(started);
    let record = match direction {
        Direction::Up => {
            ledger::insert(&m.module, m.version, &m.description, &m.checksum, ms, false)
        }
        Direction::Down => ledger::delete(&m.module, m.version),
    };
    tx.execute(record)
        .await
        .context(|| format!("recording migration {label}"))?;
    crate::fault::point("migrate.before-commit");
    tx.commit()
        .await
        .context(|| format!("committing migration {label}"))?;
    crate::fault::point("migrate.after-commit");
    Ok(ms)
}

async fn outside_transaction(
    adapter: &dyn Adapter,
    lock: &MigrationLock,
    m: &Migration,
    direction: Direction,
    step: &Step,
    sql: &[String],
    why: &str,
) -> Result<i64> {
    let label = m.label();
    let started = Instant::now();
    // One session for the whole step: session settings (PRAGMA foreign_keys, SET ...) made by
    // one statement hold for the next.
    let mut conn = adapter
        .connection()
        .await
        .context(|| format!("opening a session for migration {label}"))?;
    if let Some(fence) = lock.fence() {
        lock.check_fence(conn.execute(fence).await).await?;
    }
    let mark = match direction {
        Direction::Up => ledger::insert(&m.module, m.version, &m.description, &m.checksum, 0, true),
        Direction::Down => ledger::mark_dirty(
            &m.module,
            m.version,
            "reverting: if this stays, the runner stopped part-way through the down migration",
        ),
    };
    conn.execute(mark)
        .await
        .context(|| format!("recording the start of migration {label}"))?;
    crate::fault::point("migrate.after-dirty-mark");
    let failure = match step {
        Step::Sql { .. } => {
            let mut failure = None;
            for (i, statement) in sql.iter().enumerate() {
                if let Err(e) = conn.execute(Statement::new(statement.as_str())).await {
                    failure = Some(format!(
                        "{direction} failed at statement {} of {} (`{}`): {e}; statements 1 to {} took effect",
                        i + 1,
                        sql.len(),
                        excerpt(statement),
                        i
                    ));
                    break;
                }
            }
            failure
        }
        Step::Rust(run_step) => {
            let mut log = Vec::new();
            let mut ctx = MigrationContext::in_session(&mut *conn, &mut log);
            let outcome = run_step(&mut ctx).await;
            outcome.err().map(|e| {
                format!(
                    "{direction} failed after {} statement(s): {e}; the statements before the failing one took effect",
                    log.len()
                )
            })
        }
    };
    if let Some(error) = failure {
        conn.execute(ledger::mark_dirty(&m.module, m.version, &error))
            .await
            .context(|| format!("recording the failure of migration {label}"))?;
        let row = AppliedRow {
            module: m.module.clone(),
            version: m.version,
            description: m.description.clone(),
            checksum: m.checksum.clone(),
            applied_at: String::new(),
            duration_ms: 0,
            dirty: true,
            error: Some(error),
        };
        return Err(Error::Dirty(dirty_guidance(
            &row,
            Some(&m.origin),
            Some(why),
        )));
    }
    crate::fault::point("migrate.before-clean-mark");
    let ms = elapsed_ms(started);
    let record = match direction {
        Direction::Up => ledger::mark_clean(&m.module, m.version, ms),
        Direction::Down => ledger::delete(&m.module, m.version),
    };
    conn.execute(record)
        .await
        .context(|| format!("recording migration {label}"))?;
    Ok(ms)
}

/// What a user reads about a dirty migration: what failed, why it could not be undone, what
/// to check and the two ways out.
pub(crate) fn dirty_guidance(row: &AppliedRow, origin: Option<&str>, why: Option<&str>) -> String {
    let label =
        crate::migration::label(&row.module, row.version, &row.description.replace(' ', "_"));
    let module_flag = if row.module.is_empty() {
        String::new()
    } else {
        format!(" --module {}", row.module)
    };
    let what = row.error.as_deref().unwrap_or("it failed part-way");
    let why = why
        .map(|w| format!(" It could not be rolled back: {w}."))
        .unwrap_or_default();
    let file = origin.map_or_else(|| "the migration's SQL".to_owned(), |o| o.to_owned());
    format!(
        "migration {label} is dirty: {what}.{why} Compare the database with {file}: finish or \
         undo what took effect by hand, then run `dbx migrate resolve {version}{module_flag}` \
         if the migration is now fully applied, or `dbx migrate resolve {version}{module_flag} \
         --not-applied` if nothing of it remains (it will run again). Until then no migration \
         runs on this database",
        version = row.version
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_down_hint_names_the_down_file() {
        assert_eq!(
            super::down_hint("migrations/5_x.up.sql"),
            "migrations/5_x.down.sql"
        );
        assert_eq!(
            super::down_hint("migrations/5_x.sql"),
            "migrations/5_x.down.sql"
        );
        assert_eq!(
            super::down_hint("rust"),
            "a down step to the Rust migration"
        );
    }
}
