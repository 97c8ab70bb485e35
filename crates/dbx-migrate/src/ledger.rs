//! The tracking tables: `_dbx_migrations` (one row per applied migration) and
//! `_schema_versions` (one row per initialized module).
//!
//! Times are written by the migrator as RFC 3339 UTC text, so every backend stores and
//! returns the same thing.

use std::time::SystemTime;

use dbx_core::sql::Dialect;
use dbx_core::{Adapter, AdapterKind, Row, Statement, Value};

use crate::error::{Context, Result};

/// The ledger table.
pub const MIGRATIONS_TABLE: &str = "_dbx_migrations";
/// The module table.
pub const SCHEMA_VERSIONS_TABLE: &str = "_schema_versions";

/// One row of `_dbx_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// The module; empty for the application's migrations.
    pub module: String,
    /// The version.
    pub version: i64,
    /// The description at the time it ran.
    pub description: String,
    /// The checksum recorded when it ran (or at the last `repair`).
    pub checksum: String,
    /// When it finished (or started, while dirty).
    pub applied_at: String,
    /// How long it took.
    pub duration_ms: i64,
    /// Whether it failed part-way with changes that could not be rolled back.
    pub dirty: bool,
    /// For a dirty row: what failed.
    pub error: Option<String>,
}

fn create_migrations_sql(dialect: Dialect) -> String {
    // VARCHAR(191): the longest utf8mb4 key MySQL indexes on every row format.
    let (text, big, boolean) = match dialect {
        Dialect::Mysql => ("VARCHAR(191)", "BIGINT", "BOOLEAN"),
        Dialect::Postgres => ("TEXT", "BIGINT", "BOOLEAN"),
        Dialect::Sqlite => ("TEXT", "INTEGER", "BOOLEAN"),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
            module {text} NOT NULL,
            version {big} NOT NULL,
            description {text} NOT NULL,
            checksum {text} NOT NULL,
            applied_at {text} NOT NULL,
            duration_ms {big} NOT NULL,
            dirty {boolean} NOT NULL,
            error TEXT,
            PRIMARY KEY (module, version)
        )"
    )
}

fn create_schema_versions_sql(dialect: Dialect) -> String {
    let text = if dialect == Dialect::Mysql {
        "VARCHAR(191)"
    } else {
        "TEXT"
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {SCHEMA_VERSIONS_TABLE} (
            module {text} NOT NULL PRIMARY KEY,
            checksum {text} NOT NULL,
            initialized_at {text} NOT NULL
        )"
    )
}

/// Creates both tables when missing. `_schema_versions` comes first and the ledger, whose
/// existence readers test, last; a run stopped between the two (MySQL commits each DDL
/// statement on its own) leaves a database that every reader treats as not bootstrapped and
/// the next run completes, since both statements are `IF NOT EXISTS`.
pub(crate) async fn ensure(adapter: &dyn Adapter) -> Result<()> {
    let dialect = adapter.kind().dialect();
    let create = async |sql: String| {
        adapter
            .execute(Statement::new(sql))
            .await
            .context(|| "creating the migration tracking tables".to_owned())
    };
    create(create_schema_versions_sql(dialect)).await?;
    crate::fault::point("migrate.bootstrap");
    create(create_migrations_sql(dialect)).await?;
    Ok(())
}

/// Whether both tracking tables exist, without creating them. A database with only one
/// (from a runner stopped mid-bootstrap by an older dbx, which created the ledger first)
/// counts as not bootstrapped: readers see an empty ledger, and the next run creates what
/// is missing.
pub(crate) async fn exists(adapter: &dyn Adapter) -> Result<bool> {
    for table in [MIGRATIONS_TABLE, SCHEMA_VERSIONS_TABLE] {
        match adapter.table(table).await {
            Ok(_) => {}
            Err(e) if e.kind() == dbx_core::ErrorKind::UndefinedTable => return Ok(false),
            Err(e) => return Err(e).context(|| format!("looking for {table}")),
        }
    }
    Ok(true)
}

/// Every row, in (module, version) order.
pub(crate) async fn read(adapter: &dyn Adapter) -> Result<Vec<AppliedRow>> {
    let rows = adapter
        .query(Statement::new(format!(
            "SELECT module, version, description, checksum, applied_at, duration_ms, dirty, error \
             FROM {MIGRATIONS_TABLE} ORDER BY module, version"
        )))
        .await
        .context(|| format!("reading {MIGRATIONS_TABLE}"))?;
    rows.rows.iter().map(parse_row).collect()
}

fn parse_row(row: &Row) -> Result<AppliedRow> {
    let read = || -> dbx_core::Result<AppliedRow> {
        Ok(AppliedRow {
            module: row.get(0)?,
            version: row.get(1)?,
            description: row.get(2)?,
            checksum: row.get(3)?,
            applied_at: row.get(4)?,
            duration_ms: row.get(5)?,
            dirty: row.get(6)?,
            error: row.get(7)?,
        })
    };
    read().context(|| format!("reading a row of {MIGRATIONS_TABLE}"))
}

/// The modules recorded in `_schema_versions`, with their checksums.
pub(crate) async fn read_modules(adapter: &dyn Adapter) -> Result<Vec<(String, String)>> {
    let rows = match adapter
        .query(Statement::new(format!(
            "SELECT module, checksum FROM {SCHEMA_VERSIONS_TABLE} ORDER BY module"
        )))
        .await
    {
        Ok(rows) => rows,
        // A runner killed between creating the two tables (MySQL DDL commits one by one)
        // leaves this one missing: no module was recorded, and the next run creates it.
        Err(e) if e.kind() == dbx_core::ErrorKind::UndefinedTable => return Ok(Vec::new()),
        Err(e) => return Err(e).context(|| format!("reading {SCHEMA_VERSIONS_TABLE}")),
    };
    rows.rows
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<dbx_core::Result<_>>()
        .context(|| format!("reading a row of {SCHEMA_VERSIONS_TABLE}"))
}

/// The current time as RFC 3339 UTC with milliseconds.
pub(crate) fn now_text() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Records a migration: finished (`dirty = false`) or started outside a transaction.
pub(crate) fn insert(
    module: &str,
    version: i64,
    description: &str,
    checksum: &str,
    duration_ms: i64,
    dirty: bool,
) -> Statement {
    Statement::with_args(
        format!(
            "INSERT INTO {MIGRATIONS_TABLE} \
             (module, version, description, checksum, applied_at, duration_ms, dirty, error) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        [
            Value::from(module),
            Value::from(version),
            Value::from(description),
            Value::from(checksum),
            Value::from(now_text()),
            Value::from(duration_ms),
            Value::from(dirty),
            if dirty {
                Value::from("running: if this stays, the runner stopped part-way")
            } else {
                Value::Null
            },
        ],
    )
}

/// Marks a row clean (finished) with its duration.
pub(crate) fn mark_clean(module: &str, version: i64, duration_ms: i64) -> Statement {
    Statement::with_args(
        format!(
            "UPDATE {MIGRATIONS_TABLE} SET dirty = ?, error = NULL, applied_at = ?, duration_ms = ? \
             WHERE module = ? AND version = ?"
        ),
        [
            Value::from(false),
            Value::from(now_text()),
            Value::from(duration_ms),
            Value::from(module),
            Value::from(version),
        ],
    )
}

/// Marks a row dirty with what failed.
pub(crate) fn mark_dirty(module: &str, version: i64, error: &str) -> Statement {
    Statement::with_args(
        format!(
            "UPDATE {MIGRATIONS_TABLE} SET dirty = ?, error = ? WHERE module = ? AND version = ?"
        ),
        [
            Value::from(true),
            Value::from(error),
            Value::from(module),
            Value::from(version),
        ],
    )
}

/// Forgets a migration (after its down ran, or on `resolve --not-applied`).
pub(crate) fn delete(module: &str, version: i64) -> Statement {
    Statement::with_args(
        format!("DELETE FROM {MIGRATIONS_TABLE} WHERE module = ? AND version = ?"),
        [Value::from(module), Value::from(version)],
    )
}

/// Re-records a checksum (`repair`).
pub(crate) fn set_checksum(
    module: &str,
    version: i64,
    checksum: &str,
    description: &str,
) -> Statement {
    Statement::with_args(
        format!(
            "UPDATE {MIGRATIONS_TABLE} SET checksum = ?, description = ? WHERE module = ? AND version = ?"
        ),
        [
            Value::from(checksum),
            Value::from(description),
            Value::from(module),
            Value::from(version),
        ],
    )
}

/// Records an initialized module.
pub(crate) fn insert_module(module: &str, checksum: &str) -> Statement {
    Statement::with_args(
        format!(
            "INSERT INTO {SCHEMA_VERSIONS_TABLE} (module, checksum, initialized_at) VALUES (?, ?, ?)"
        ),
        [
            Value::from(module),
            Value::from(checksum),
            Value::from(now_text()),
        ],
    )
}

/// Whether statements of this backend can run inside a transaction that also rolls back
/// DDL. MySQL commits DDL implicitly, so only pure data statements qualify there.
pub(crate) fn transactional_ddl(kind: AdapterKind) -> bool {
    kind != AdapterKind::Mysql
}

/// Whether MySQL can run this statement inside a transaction and roll it back.
pub(crate) fn mysql_rollbackable(sql: &str) -> bool {
    matches!(
        dbx_core::sql::leading_keyword(sql, Dialect::Mysql).as_deref(),
        Some("INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" | "WITH" | "DO" | "VALUES")
    )
}
