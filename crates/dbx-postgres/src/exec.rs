//! Runs one statement on a pooled connection.

use std::pin::pin;

use dbx_core::pool::{InFlight, broken_session, within};
use dbx_core::sql::{Dialect, leading_keyword};
use dbx_core::{AdapterKind, Error, Result, ResultBudget, ResultSet, Row, Value};
use futures_util::StreamExt;
use tokio_postgres::types::{ToSql, Type};

use crate::error::map_err;
use crate::pool::PgConn;
use crate::types::{Cell, Param};

/// A statement rewritten to `$n` placeholders, with its arguments in that order.
pub(crate) type Prepared = dbx_core::sql::Bound;

/// Whether `haystack` contains `needle` (lower-case ASCII), ignoring ASCII case, without
/// lower-casing a copy of the whole text.
fn mentions(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Whether PostgreSQL's row count means "rows changed" for this statement, rather than "rows
/// returned" (a `SELECT`'s count is reported as 0 affected, as on every backend).
fn counts_changes(p: &Prepared) -> bool {
    match p.keyword() {
        Some("INSERT" | "UPDATE" | "DELETE" | "MERGE" | "COPY") => true,
        Some("WITH") => ["insert ", "update ", "delete ", "merge "]
            .iter()
            .any(|w| mentions(p.sql(), w)),
        _ => false,
    }
}

/// Parameter types to prepare `stmt` again with, when the server had nothing to infer a
/// parameter's type from (`SELECT $1`: it settles on `text`) and the value bound there is
/// an integer, a real or a blob: that value's own type (`int8`, `float8`, `bytea`), so that
/// `SELECT ?` returns what it was given. `None` when every parameter already fits. Where
/// `text` came from the context instead (`WHERE name = $1`), the server refuses the typed
/// statement and the untyped one serves, the value sent as text as before.
fn typed_for_values(stmt: &tokio_postgres::Statement, args: &[Value]) -> Option<Vec<Type>> {
    let natural = |value: &Value| match value {
        Value::Integer(_) => Some(Type::INT8),
        Value::Real(_) => Some(Type::FLOAT8),
        Value::Blob(_) => Some(Type::BYTEA),
        Value::Null | Value::Text(_) => None,
    };
    let params = stmt.params();
    if params.len() != args.len() {
        return None;
    }
    let mut retyped = false;
    let types = params
        .iter()
        .zip(args)
        .map(|(inferred, value)| match natural(value) {
            Some(own) if *inferred == Type::TEXT => {
                retyped = true;
                own
            }
            _ => inferred.clone(),
        })
        .collect();
    retyped.then_some(types)
}

/// The PostgreSQL error code for "prepared statement does not exist".
const NO_SUCH_PREPARED: &str = "26000";

/// Runs queued cleanup (rollbacks of abandoned transactions) before anything else, and
/// refuses a connection whose earlier statement was given up on.
pub(crate) async fn run_pending(conn: &mut PgConn) -> Result<()> {
    if conn.is_broken() {
        return Err(broken_session(AdapterKind::Postgres));
    }
    if conn.needs_rollback {
        conn.client
            .batch_execute("ROLLBACK")
            .await
            .map_err(map_err)?;
        conn.needs_rollback = false;
    }
    Ok(())
}

/// Runs `p` on `conn` as it stands (search path already set), inside a transaction or not.
pub(crate) async fn run(
    conn: &mut PgConn,
    p: &Prepared,
    in_transaction: bool,
) -> Result<ResultSet> {
    run_pending(conn).await?;
    let cached = match conn.prepare(p.sql()).await {
        Err(e) if e.code().is_some_and(|c| c.code() == NO_SUCH_PREPARED) => {
            conn.forget_statements();
            conn.prepare(p.sql()).await
        }
        other => other,
    }
    .map_err(map_err)?;
    let cached = match typed_for_values(&cached.statement, &p.args) {
        Some(types) => conn
            .prepare_typed(p.sql(), &types, in_transaction)
            .await
            .map_err(map_err)?
            .unwrap_or(cached),
        None => cached,
    };
    let (stmt, columns) = (cached.statement, cached.columns);
    if stmt.params().len() != p.args.len() {
        return Err(Error::Arguments(format!(
            "PostgreSQL sees {} parameters but {} arguments were bound",
            stmt.params().len(),
            p.args.len()
        )));
    }
    let params: Vec<Param<'_>> = p.args.iter().map(Param).collect();
    if p.shape.changes_session() {
        // Whatever it does to the session, the connection is reset before its next use.
        // Statements prepared before may now mean something else (a temporary table that
        // shadows a table, another search path) or be gone (`DISCARD`), so they are
        // prepared again.
        conn.dirty = true;
        conn.forget_statements();
    }
    // Rows of a read stop being read at the limit; a write is never cut short halfway.
    let reads_only = dbx_core::sql::is_read_only(p.sql(), Dialect::Postgres);
    let mut budget = ResultBudget::for_statement(p.limits.max_result_bytes, reads_only);
    let client = &conn.client;
    let in_flight = InFlight::new(conn.broken.clone(), || conn.canceller.clone().cancel());
    let outcome = within(p.limits.timeout, async {
        let stream = client
            .query_raw(&stmt, params.iter().map(|p| p as &(dyn ToSql + Sync)))
            .await
            .map_err(map_err)?;
        let mut stream = pin!(stream);
        let mut rows = Vec::new();
        while let Some(row) = stream.next().await {
            let row = row.map_err(map_err)?;
            let values = (0..columns.len())
                .map(|i| row.try_get::<_, Cell>(i).map(|c| c.0).map_err(map_err))
                .collect::<Result<Vec<_>>>()?;
            budget.charge(&values)?;
            rows.push(Row::new(columns.clone(), values));
        }
        Ok::<_, Error>((rows, stream.rows_affected().unwrap_or(0)))
    })
    .await;
    match &outcome {
        // Cut short by the deadline or the byte limit: the statement may still be running on
        // the server. Dropping `in_flight` cancels it and retires the connection.
        Err(Error::StatementTimeout(_) | Error::ResultTooLarge { .. }) => drop(in_flight),
        _ => in_flight.finish(),
    }
    let (rows, count) = outcome?;
    let rows_affected = if counts_changes(p) { count } else { 0 };
    // PostgreSQL has no last-insert id; an INSERT ... RETURNING of one integer provides it.
    let last_insert_id = match (p.keyword(), rows.as_slice()) {
        (Some("INSERT"), [row]) => match row.values().first() {
            Some(Value::Integer(id)) => Some(*id),
            _ => None,
        },
        _ => None,
    };
    Ok(ResultSet {
        columns,
        rows,
        rows_affected,
        last_insert_id,
    })
}

/// Runs a control statement (BEGIN, COMMIT, SAVEPOINT ...).
pub(crate) async fn control(conn: &mut PgConn, sql: &str) -> Result<()> {
    run_pending(conn).await?;
    conn.client.batch_execute(sql).await.map_err(map_err)
}

/// Describes `sql` from PostgreSQL's own prepare: parameters in dbx's placeholder labels,
/// columns with their native types. PostgreSQL cannot say whether a statement writes, so
/// `is_readonly` is dbx's conservative reading of the text.
pub(crate) async fn describe(conn: &mut PgConn, sql: &str) -> Result<dbx_core::Description> {
    run_pending(conn).await?;
    let (native, params) = dbx_core::sql::describe_placeholders(sql, Dialect::Postgres)?;
    let columns = conn
        .prepare(&native)
        .await
        .map_err(map_err)?
        .columns
        .to_vec();
    Ok(dbx_core::Description {
        params,
        columns,
        is_explain: leading_keyword(sql, Dialect::Postgres).as_deref() == Some("EXPLAIN"),
        is_readonly: dbx_core::sql::is_read_only(sql, Dialect::Postgres),
    })
}
