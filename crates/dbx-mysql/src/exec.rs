//! Runs one statement on a pooled connection.

use std::sync::Arc;

use dbx_core::sql::{Dialect, leading_keyword, to_native};
use dbx_core::{AdapterKind, Column, Error, ResultSet, Result, Row, Statement, Value};
use mysql_async::consts::StatusFlags;
use mysql_async::prelude::Queryable;

use crate::error::map_err;
use crate::pool::{CurrentDb, MyConn};
use crate::types::{decltype, from_mysql, to_mysql};

/// A statement rewritten to MySQL's `?` placeholders, arguments in order.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) sql: String,
    pub(crate) args: Vec<Value>,
    keyword: Option<String>,
}

impl Prepared {
    pub(crate) fn new(stmt: Statement) -> Result<Self> {
        let native = to_native(&stmt.sql, stmt.params, Dialect::Mysql)?;
        let keyword = leading_keyword(&native.sql, Dialect::Mysql);
        Ok(Self { sql: native.sql.into_owned(), args: native.args, keyword })
    }

    /// Statements after which MySQL commits on its own.
    pub(crate) fn commits_implicitly(&self) -> bool {
        matches!(
            self.keyword.as_deref(),
            Some("CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE" | "GRANT" | "REVOKE" | "LOCK" | "UNLOCK")
        )
    }

    /// Refuses statements that would break the atomicity a batch or transaction promises.
    pub(crate) fn refuse_implicit_commit(&self, inside: &str) -> Result<()> {
        if self.commits_implicitly() {
            return Err(Error::Unsupported {
                backend: AdapterKind::Mysql,
                what: format!(
                    "{} inside {inside}: MySQL commits DDL implicitly, so the {inside} could not be undone; \
                     run DDL on its own, outside {inside}",
                    self.keyword.as_deref().unwrap_or("this statement")
                ),
            });
        }
        Ok(())
    }
}

/// Runs queued cleanup before anything else.
pub(crate) async fn run_pending(conn: &mut MyConn) -> Result<()> {
    if conn.needs_rollback {
        conn.conn.query_drop("ROLLBACK").await.map_err(map_err)?;
        conn.needs_rollback = false;
    }
    Ok(())
}

/// Runs `p` in the connection's current database.
pub(crate) async fn run(conn: &mut MyConn, p: &Prepared) -> Result<ResultSet> {
    run_pending(conn).await?;
    let stmt = conn.prepare(&p.sql).await.map_err(map_err)?;
    let params: Vec<mysql_async::Value> = p.args.iter().cloned().map(to_mysql).collect();
    let params = if params.is_empty() { mysql_async::Params::Empty } else { mysql_async::Params::Positional(params) };
    let mut result = conn.conn.exec_iter(&stmt, params).await.map_err(map_err)?;
    let driver_columns = result.columns().unwrap_or_else(|| Arc::from(Vec::new()));
    let columns: Arc<[Column]> =
        driver_columns.iter().map(|c| Column::new(c.name_str(), Some(decltype(c)))).collect();
    let raw_rows: Vec<mysql_async::Row> = result.collect().await.map_err(map_err)?;
    let rows_affected = result.affected_rows();
    let last_insert_id = result.last_insert_id().filter(|id| *id > 0).and_then(|id| i64::try_from(id).ok());
    result.drop_result().await.map_err(map_err)?;
    let mut rows = Vec::with_capacity(raw_rows.len());
    for row in raw_rows {
        let values = row
            .unwrap_raw()
            .into_iter()
            .zip(driver_columns.iter())
            .map(|(v, c)| from_mysql(v.unwrap_or(mysql_async::Value::NULL), c))
            .collect::<Result<Vec<_>>>()?;
        rows.push(Row::new(columns.clone(), values));
    }
    if p.keyword.as_deref() == Some("USE") {
        conn.database = CurrentDb::Unknown;
    }
    let rows_affected = if columns.is_empty() { rows_affected } else { 0 };
    Ok(ResultSet { columns, rows, rows_affected, last_insert_id })
}

/// Whether the server says a transaction is open on this connection.
pub(crate) fn in_transaction(conn: &MyConn) -> bool {
    conn.conn
        .last_ok_packet()
        .is_some_and(|ok| ok.status_flags().contains(StatusFlags::SERVER_STATUS_IN_TRANS))
}

pub(crate) async fn control(conn: &mut MyConn, sql: &str) -> Result<()> {
    run_pending(conn).await?;
    conn.conn.query_drop(sql).await.map_err(map_err)
}

async fn run_all(conn: &mut MyConn, stmts: &[Prepared]) -> Result<Vec<ResultSet>> {
    let mut results = Vec::with_capacity(stmts.len());
    for p in stmts {
        results.push(run(conn, p).await?);
    }
    Ok(results)
}

/// `START TRANSACTION` ... `COMMIT`, rolling back on the first failure.
pub(crate) async fn run_atomically(conn: &mut MyConn, stmts: &[Prepared]) -> Result<Vec<ResultSet>> {
    for p in stmts {
        p.refuse_implicit_commit("a batch")?;
    }
    control(conn, "START TRANSACTION").await?;
    match run_all(conn, stmts).await {
        Ok(results) => match control(conn, "COMMIT").await {
            Ok(()) => Ok(results),
            Err(e) => {
                let _ = control(conn, "ROLLBACK").await;
                Err(e)
            }
        },
        Err(e) => {
            control(conn, "ROLLBACK").await?;
            Err(e)
        }
    }
}

/// Runs statements inside a savepoint of the open transaction.
pub(crate) async fn run_in_savepoint(conn: &mut MyConn, stmts: &[Prepared]) -> Result<Vec<ResultSet>> {
    for p in stmts {
        p.refuse_implicit_commit("a batch")?;
    }
    control(conn, "SAVEPOINT dbx_batch").await?;
    let result = run_all(conn, stmts).await;
    if result.is_err() {
        control(conn, "ROLLBACK TO SAVEPOINT dbx_batch").await?;
    }
    control(conn, "RELEASE SAVEPOINT dbx_batch").await?;
    result
}
