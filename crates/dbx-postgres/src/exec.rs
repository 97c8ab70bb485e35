//! Runs one statement on a pooled connection.

use std::pin::pin;

use dbx_core::sql::{Dialect, leading_keyword};
use dbx_core::{Error, Result, ResultSet, Row, Value};
use futures_util::StreamExt;
use tokio_postgres::types::ToSql;

use crate::error::map_err;
use crate::pool::{PgConn, SearchPath};
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

/// Whether the statement may change session state that dbx tracks (`search_path`) or drop
/// prepared statements.
fn touches_session(p: &Prepared) -> bool {
    matches!(
        p.keyword(),
        Some("SET" | "RESET" | "DISCARD" | "DEALLOCATE")
    ) || mentions(p.sql(), "search_path")
        || mentions(p.sql(), "set_config")
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

/// The PostgreSQL error code for "prepared statement does not exist".
const NO_SUCH_PREPARED: &str = "26000";

/// Runs queued cleanup (rollbacks of abandoned transactions) before anything else.
pub(crate) async fn run_pending(conn: &mut PgConn) -> Result<()> {
    if conn.needs_rollback {
        conn.client
            .batch_execute("ROLLBACK")
            .await
            .map_err(map_err)?;
        conn.needs_rollback = false;
    }
    Ok(())
}

/// Runs `p` on `conn` as it stands (search path already set).
pub(crate) async fn run(conn: &mut PgConn, p: &Prepared) -> Result<ResultSet> {
    run_pending(conn).await?;
    let cached = match conn.prepare(p.sql()).await {
        Err(e) if e.code().is_some_and(|c| c.code() == NO_SUCH_PREPARED) => {
            conn.forget_statements();
            conn.prepare(p.sql()).await
        }
        other => other,
    }
    .map_err(map_err)?;
    let (stmt, columns) = (cached.statement, cached.columns);
    if stmt.params().len() != p.args.len() {
        return Err(Error::Arguments(format!(
            "PostgreSQL sees {} parameters but {} arguments were bound",
            stmt.params().len(),
            p.args.len()
        )));
    }
    let params: Vec<Param<'_>> = p.args.iter().map(Param).collect();
    let outcome = async {
        let stream = conn
            .client
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
            rows.push(Row::new(columns.clone(), values));
        }
        Ok::<_, Error>((rows, stream.rows_affected().unwrap_or(0)))
    }
    .await;
    if touches_session(p) {
        // Whatever the caller did to the session, set the search path again before reuse.
        conn.search_path = SearchPath::Unknown;
        if matches!(p.keyword(), Some("DISCARD" | "DEALLOCATE")) {
            conn.forget_statements();
        }
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
