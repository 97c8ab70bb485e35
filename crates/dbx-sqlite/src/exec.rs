//! Runs one statement on a rusqlite connection. Everything here is blocking and runs on
//! tokio's blocking pool, never on a reactor thread.

use std::sync::Arc;

use dbx_core::Description;
use dbx_core::{Column, Error, Result, ResultBudget, ResultSet, Row, Value};
use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::map_err;
use crate::open::Conn;
use crate::watch::Stop;

/// A statement in SQLite's `?N` form, with its arguments in that order.
pub(crate) type Prepared = dbx_core::sql::Bound;

/// Whether the statement is an `INSERT`/`REPLACE`, whose rowid is reported even when it equals
/// the previous one. Other statements report a rowid only when it changed (a `WITH ...
/// INSERT`, or a trigger that inserts).
fn may_insert(p: &Prepared) -> bool {
    matches!(p.keyword(), Some("INSERT" | "REPLACE"))
}

/// Borrows a dbx value as a rusqlite parameter without copying text or blobs.
struct Bind<'a>(&'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn to_value(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => {
            Value::Text(
                String::from_utf8(t.to_vec()).map_err(|e| Error::Conversion {
                    from: "text",
                    to: "String",
                    detail: Some(e.to_string()),
                })?,
            )
        }
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}

/// What a read connection did with a statement.
pub(crate) enum ReadOutcome {
    /// It ran.
    Done(Result<ResultSet>),
    /// SQLite says the statement writes; it was not run and goes back for the writer.
    Writes(Prepared),
}

/// Runs `p` only if SQLite judges it read-only (`sqlite3_stmt_readonly`).
pub(crate) fn run_if_readonly(conn: &Conn, p: Prepared) -> ReadOutcome {
    match conn.db.prepare_cached(p.sql()) {
        Ok(stmt) if !stmt.readonly() => ReadOutcome::Writes(p),
        Ok(stmt) => ReadOutcome::Done(run_prepared(conn, stmt, &p)),
        Err(e) => ReadOutcome::Done(Err(map_err(e))),
    }
}

/// Runs `p` and returns its full result.
pub(crate) fn run(conn: &Conn, p: &Prepared) -> Result<ResultSet> {
    let stmt = conn.db.prepare_cached(p.sql()).map_err(map_err)?;
    run_prepared(conn, stmt, p)
}

/// The error for a step that failed: a statement the watch stopped says why (its deadline,
/// or the adapter closing); anything else is SQLite's own error.
fn step_error(conn: &Conn, p: &Prepared, err: rusqlite::Error) -> Error {
    match conn.watch.stopped() {
        Stop::Deadline => Error::StatementTimeout(p.limits.timeout.unwrap_or_default()),
        Stop::Closing => crate::pool::closed(),
        Stop::Abandoned | Stop::No => map_err(err),
    }
}

fn run_prepared(
    conn: &Conn,
    mut stmt: rusqlite::CachedStatement<'_>,
    p: &Prepared,
) -> Result<ResultSet> {
    if stmt.parameter_count() != p.args.len() {
        // The rewrite numbers parameters densely, so this only happens for SQLite-only forms
        // such as `#name` that dbx does not treat as placeholders.
        return Err(Error::Arguments(format!(
            "SQLite sees {} parameters but {} arguments were bound",
            stmt.parameter_count(),
            p.args.len()
        )));
    }
    for (i, arg) in p.args.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, Bind(arg)).map_err(map_err)?;
    }
    let columns: Arc<[Column]> = stmt
        .columns()
        .map(|c| Column::new(c.name(), c.decl_type().map(str::to_owned)))
        .collect();
    let readonly = stmt.readonly();
    let db = &conn.db;
    let changes_before = db.total_changes();
    let rowid_before = db.last_insert_rowid();
    // Rows of a read stop being read at the limit; a write is never cut short halfway, so
    // its rows are all read and the caller judges their size.
    let mut budget = ResultBudget::for_statement(p.limits.max_result_bytes, readonly);
    conn.watch.arm(p.limits.timeout);

    let mut rows = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(|e| step_error(conn, p, e))? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map_err(map_err).and_then(to_value))
            .collect::<Result<Vec<_>>>()?;
        budget.charge(&values)?;
        rows.push(Row::new(columns.clone(), values));
    }
    drop(cursor);

    // `changes()` and `last_insert_rowid()` are per connection and keep the values of the
    // last writing statement, so they are reported only when this statement changed rows.
    let changed = !readonly && db.total_changes() != changes_before;
    let rows_affected = if changed { db.changes() } else { 0 };
    let rowid = db.last_insert_rowid();
    let last_insert_id = (changed && (may_insert(p) || rowid != rowid_before)).then_some(rowid);
    Ok(ResultSet {
        columns,
        rows,
        rows_affected,
        last_insert_id,
    })
}

/// Runs control SQL (`BEGIN`, `COMMIT`, ...).
pub(crate) fn control(conn: &Conn, sql: &str) -> Result<()> {
    conn.db.execute_batch(sql).map_err(map_err)
}

/// Runs statements in order and stops at the first failure.
pub(crate) fn run_all(conn: &Conn, stmts: &[Prepared]) -> Result<Vec<ResultSet>> {
    stmts.iter().map(|p| run(conn, p)).collect()
}

/// Runs `stmts` inside `begin ... COMMIT`, rolling back on the first failure. `begin` is
/// `BEGIN IMMEDIATE` on the writer, so that a conflict shows at the start, and a plain
/// (deferred) `BEGIN` for a read-only session's reader.
pub(crate) fn run_atomically(
    conn: &Conn,
    begin: &str,
    stmts: &[Prepared],
) -> Result<Vec<ResultSet>> {
    control(conn, begin)?;
    let result = run_all(conn, stmts);
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    match (result, control(conn, end)) {
        (Ok(results), Ok(())) => Ok(results),
        (Ok(_), Err(commit_failed)) => {
            let _ = control(conn, "ROLLBACK");
            Err(commit_failed)
        }
        (Err(e), _) => Err(e),
    }
}

/// Runs `stmts` inside a savepoint of the open transaction, undoing only them on failure.
pub(crate) fn run_in_savepoint(conn: &Conn, stmts: &[Prepared]) -> Result<Vec<ResultSet>> {
    control(conn, "SAVEPOINT dbx_batch")?;
    let result = run_all(conn, stmts);
    if result.is_err() {
        let _ = control(conn, "ROLLBACK TO dbx_batch");
    }
    control(conn, "RELEASE dbx_batch")?;
    result
}

/// Prepares `sql` as written (SQLite's own parameter names) and describes it.
pub(crate) fn describe(conn: &Conn, sql: &str) -> Result<Description> {
    let stmt = conn.db.prepare_cached(sql).map_err(map_err)?;
    let params = (1..=stmt.parameter_count())
        .map(|i| stmt.parameter_name(i).map(str::to_owned))
        .collect();
    let columns = stmt
        .columns()
        .map(|c| Column::new(c.name(), c.decl_type().map(str::to_owned)))
        .collect();
    Ok(Description {
        params,
        columns,
        is_explain: stmt.is_explain() != 0,
        is_readonly: stmt.readonly(),
    })
}
