//! Runs one statement on a pooled connection.

use std::borrow::Cow;
use std::sync::Arc;

use dbx_core::pool::{InFlight, broken_session, within};
use dbx_core::sql::{Dialect, leading_keyword};
use dbx_core::{AdapterKind, Column, Error, Result, ResultBudget, ResultSet, Row, Value};
use mysql_async::consts::StatusFlags;
use mysql_async::prelude::Queryable;

use crate::pool::MyConn;
use crate::types::{decltype, from_mysql, to_mysql};

/// A statement rewritten to MySQL's `?` placeholders, arguments in order.
pub(crate) type Prepared = dbx_core::sql::Bound;

/// Refuses a statement after which MySQL commits on its own (DDL, GRANT, LOCK TABLES ...)
/// inside a batch or transaction, whose all-or-nothing promise it would break.
pub(crate) fn refuse_implicit_commit(keyword: Option<&str>) -> Result<()> {
    if matches!(
        keyword,
        Some(
            "CREATE"
                | "ALTER"
                | "DROP"
                | "RENAME"
                | "TRUNCATE"
                | "GRANT"
                | "REVOKE"
                | "LOCK"
                | "UNLOCK"
        )
    ) {
        return Err(Error::Unsupported {
            backend: AdapterKind::Mysql,
            what: format!(
                "{} inside a batch or transaction: MySQL commits it implicitly, so the work before it could \
                 not be undone; run it on its own, outside any batch or transaction",
                keyword.unwrap_or("this statement")
            ),
        });
    }
    Ok(())
}

/// Runs queued cleanup before anything else, and refuses a connection whose earlier
/// statement was given up on.
pub(crate) async fn run_pending(conn: &mut MyConn) -> Result<()> {
    if conn.is_broken() {
        return Err(broken_session(AdapterKind::Mysql));
    }
    if conn.needs_rollback {
        if let Err(e) = conn.conn.query_drop("ROLLBACK").await {
            return Err(conn.fail(e));
        }
        conn.needs_rollback = false;
    }
    Ok(())
}

/// Runs `p` in the connection's current database.
/// The text to prepare: `p`'s, with the placeholder of each blob argument read as bytes
/// (`CAST(? AS BINARY)`). The protocol has one parameter type for text and bytes, which the
/// server reads in the connection's character set, so `SELECT ?` of bytes that are not
/// UTF-8 would come back as text that cannot be decoded.
fn text_for(p: &Prepared) -> Cow<'_, str> {
    let sql = p.sql();
    if !p.args.iter().any(|a| matches!(a, Value::Blob(_))) {
        return Cow::Borrowed(sql);
    }
    let Ok(placeholders) = dbx_core::sql::scan(sql, Dialect::Mysql) else {
        return Cow::Borrowed(sql);
    };
    if placeholders.len() != p.args.len() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 32);
    let mut copied = 0;
    for (placeholder, arg) in placeholders.iter().zip(&p.args) {
        if matches!(arg, Value::Blob(_)) {
            out.push_str(&sql[copied..placeholder.span.start]);
            out.push_str("CAST(? AS BINARY)");
            copied = placeholder.span.end;
        }
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

pub(crate) async fn run(conn: &mut MyConn, p: &Prepared) -> Result<ResultSet> {
    run_pending(conn).await?;
    let stmt = match conn.prepare(&text_for(p)).await {
        Ok(stmt) => stmt,
        Err(e) => return Err(failed(conn, e).await),
    };
    let params: Vec<mysql_async::Value> = p.args.iter().cloned().map(to_mysql).collect();
    let params = if params.is_empty() {
        mysql_async::Params::Empty
    } else {
        mysql_async::Params::Positional(params)
    };
    if p.shape.changes_session() {
        // Whatever it does to the session, the connection is reset before its next use.
        conn.dirty = true;
    }
    // Rows of a read stop being read at the limit; a write is never cut short halfway.
    let reads_only = dbx_core::sql::is_read_only(p.sql(), Dialect::Mysql);
    let mut budget = ResultBudget::for_statement(p.limits.max_result_bytes, reads_only);
    let killer = &conn.killer;
    let in_flight = InFlight::new(conn.broken.clone(), || killer.clone().cancel());
    let driver = &mut conn.conn;
    // The outer error is dbx's own (a deadline, the byte limit, a value that cannot be
    // converted), after which the statement may still be running; the inner one is the
    // server's, after which it is over.
    let outcome = within(p.limits.timeout, async {
        let mut result = match driver.exec_iter(&stmt, params).await {
            Ok(result) => result,
            Err(e) => return Ok(Err(e)),
        };
        let driver_columns = result.columns().unwrap_or_else(|| Arc::from(Vec::new()));
        let columns: Arc<[Column]> = driver_columns
            .iter()
            .map(|c| Column::new(c.name_str(), Some(decltype(c))))
            .collect();
        let mut rows = Vec::new();
        loop {
            let row = match result.next().await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => return Ok(Err(e)),
            };
            let values = row
                .unwrap_raw()
                .into_iter()
                .zip(driver_columns.iter())
                .map(|(v, c)| from_mysql(v.unwrap_or(mysql_async::Value::NULL), c))
                .collect::<Result<Vec<_>>>()?;
            budget.charge(&values)?;
            rows.push(Row::new(columns.clone(), values));
        }
        let affected = result.affected_rows();
        let last_id = result.last_insert_id();
        if let Err(e) = result.drop_result().await {
            return Ok(Err(e));
        }
        Ok(Ok((columns, rows, affected, last_id)))
    })
    .await;
    // Dropping `in_flight` unfinished (the `?` below) kills the statement on the server and
    // retires the connection.
    let (columns, rows, rows_affected, last_insert_id) = match outcome? {
        Ok(parts) => {
            in_flight.finish();
            parts
        }
        Err(e) => {
            in_flight.finish();
            return Err(failed(conn, e).await);
        }
    };
    if !autocommit(conn) {
        // `SET autocommit = 0`, from this statement or code it called: every later write on
        // the connection would wait for a COMMIT that never comes.
        conn.dirty = true;
    }
    let last_insert_id = last_insert_id
        .filter(|id| *id > 0)
        .and_then(|id| i64::try_from(id).ok());
    let rows_affected = if columns.is_empty() { rows_affected } else { 0 };
    Ok(ResultSet {
        columns,
        rows,
        rows_affected,
        last_insert_id,
    })
}

/// Whether the server says `autocommit` is on for this connection.
fn autocommit(conn: &MyConn) -> bool {
    conn.conn.last_ok_packet().is_none_or(|ok| {
        ok.status_flags()
            .contains(StatusFlags::SERVER_STATUS_AUTOCOMMIT)
    })
}

/// Whether the server says a transaction is open on this connection.
pub(crate) fn in_transaction(conn: &MyConn) -> bool {
    conn.conn.last_ok_packet().is_some_and(|ok| {
        ok.status_flags()
            .contains(StatusFlags::SERVER_STATUS_IN_TRANS)
    })
}

pub(crate) async fn control(conn: &mut MyConn, sql: &str) -> Result<()> {
    run_pending(conn).await?;
    match conn.conn.query_drop(sql).await {
        Ok(()) => Ok(()),
        Err(e) => Err(failed(conn, e).await),
    }
}

/// Converts a statement's error, and refreshes what [`in_transaction`] reads. An error
/// packet carries no status flags, so after one the driver keeps no word on whether a
/// transaction is open (a failed statement ends none); `DO 0`, a no-op, brings an OK packet
/// that does. Only failures pay for the extra round trip.
async fn failed(conn: &mut MyConn, err: mysql_async::Error) -> dbx_core::Error {
    let err = conn.fail(err);
    if !conn.is_broken() {
        let _ = conn.conn.query_drop("DO 0").await;
    }
    err
}

/// Describes `sql` from the server's prepare: parameters in dbx's placeholder labels, result
/// columns with their native types. `is_readonly` is dbx's conservative reading of the text,
/// since MySQL does not say.
pub(crate) async fn describe(conn: &mut MyConn, sql: &str) -> Result<dbx_core::Description> {
    run_pending(conn).await?;
    let (native, params) = dbx_core::sql::describe_placeholders(sql, Dialect::Mysql)?;
    let stmt = match conn.prepare(&native).await {
        Ok(stmt) => stmt,
        Err(e) => return Err(conn.fail(e)),
    };
    let columns = stmt
        .columns()
        .iter()
        .map(|c| Column::new(c.name_str(), Some(decltype(c))))
        .collect();
    Ok(dbx_core::Description {
        params,
        columns,
        is_explain: leading_keyword(sql, Dialect::Mysql).as_deref() == Some("EXPLAIN"),
        is_readonly: dbx_core::sql::is_read_only(sql, Dialect::Mysql),
    })
}
