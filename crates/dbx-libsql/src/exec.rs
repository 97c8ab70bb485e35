//! Statements on one libsql remote connection (one Hrana stream).

use std::sync::Arc;

use dbx_core::pool::within;
use dbx_core::sql::{Dialect, is_transaction_control, leading_keyword, to_native};
use dbx_core::txn::TxConnection;
use dbx_core::{Column, Result, ResultBudget, ResultSet, Row, Statement, Value, async_trait};

use crate::error::map_err;

/// A remote connection, and whether it owes the server a rollback.
#[derive(Debug)]
pub(crate) struct RemoteConn {
    pub(crate) conn: libsql::Connection,
    needs_rollback: bool,
    /// The adapter's connection budget, held while this connection lives.
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

fn to_libsql(value: Value) -> libsql::Value {
    match value {
        Value::Null => libsql::Value::Null,
        Value::Integer(i) => libsql::Value::Integer(i),
        Value::Real(r) => libsql::Value::Real(r),
        Value::Text(t) => libsql::Value::Text(t),
        Value::Blob(b) => libsql::Value::Blob(b),
    }
}

fn from_libsql(value: libsql::Value) -> Value {
    match value {
        libsql::Value::Null => Value::Null,
        libsql::Value::Integer(i) => Value::Integer(i),
        libsql::Value::Real(r) => Value::Real(r),
        libsql::Value::Text(t) => Value::Text(t),
        libsql::Value::Blob(b) => Value::Blob(b),
    }
}

/// Whether a statement changes rows, so that its change count and rowid mean something. A
/// `WITH` does only when a write follows its common table expressions; `WITH ... SELECT`
/// is a query and must come back with its rows.
fn counts_changes(sql: &str) -> bool {
    match leading_keyword(sql, Dialect::Sqlite).as_deref() {
        Some("INSERT" | "UPDATE" | "DELETE" | "REPLACE") => true,
        Some("WITH") => !dbx_core::sql::is_read_only(sql, Dialect::Sqlite),
        _ => false,
    }
}

impl RemoteConn {
    pub(crate) fn new(
        conn: libsql::Connection,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            conn,
            needs_rollback: false,
            _permit: permit,
        }
    }

    /// Runs one statement and reads its rows, within its limits. Hrana has no way to
    /// cancel a statement, so one past its deadline is abandoned, not stopped: the server
    /// runs it to its own end.
    pub(crate) async fn run_statement(&self, stmt: Statement) -> Result<ResultSet> {
        let limits = stmt.limits;
        let reads_only = dbx_core::sql::is_read_only(&stmt.sql, Dialect::Sqlite);
        let budget = ResultBudget::for_statement(limits.max_result_bytes, reads_only);
        within(limits.timeout, self.run_unbounded(stmt, budget)).await
    }

    async fn run_unbounded(&self, stmt: Statement, mut budget: ResultBudget) -> Result<ResultSet> {
        let native = to_native(&stmt.sql, stmt.params, Dialect::Sqlite)?;
        let args =
            libsql::params::Params::Positional(native.args.into_iter().map(to_libsql).collect());
        // A write without RETURNING, and transaction control, go through `execute`: only it
        // updates the change count, the rowid and the autocommit state on a remote connection.
        if (counts_changes(&stmt.sql) && !returns_rows(&stmt.sql))
            || is_transaction_control(&stmt.sql, Dialect::Sqlite)
        {
            let before = self.conn.last_insert_rowid();
            let rows_affected = self
                .conn
                .execute(&native.sql, args)
                .await
                .map_err(map_err)?;
            let rowid = self.conn.last_insert_rowid();
            return Ok(ResultSet {
                columns: Arc::from(Vec::new()),
                rows: Vec::new(),
                rows_affected,
                last_insert_id: (rows_affected > 0 && (rowid != before || rowid != 0))
                    .then_some(rowid),
            });
        }
        let mut rows = self.conn.query(&native.sql, args).await.map_err(map_err)?;
        let count = rows.column_count();
        let columns: Arc<[Column]> = (0..count)
            // The libsql crate drops the server's decltypes (its row types come from the
            // first row's values), so none are reported.
            .map(|i| Column::new(rows.column_name(i).unwrap_or_default(), None))
            .collect();
        let mut out = Vec::new();
        while let Some(row) = rows.next().await.map_err(map_err)? {
            let values = (0..count)
                .map(|i| row.get_value(i).map(from_libsql))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(map_err)?;
            budget.charge(&values)?;
            out.push(Row::new(columns.clone(), values));
        }
        // With RETURNING, each row is one changed row.
        let rows_affected = if counts_changes(&stmt.sql) {
            u64::try_from(out.len()).unwrap_or(u64::MAX)
        } else {
            0
        };
        Ok(ResultSet {
            columns,
            rows: out,
            rows_affected,
            last_insert_id: None,
        })
    }
}

/// Whether the statement has a `RETURNING` clause outside literals and comments.
fn returns_rows(sql: &str) -> bool {
    dbx_core::sql::has_bare_word(sql, Dialect::Sqlite, "RETURNING")
}

#[async_trait]
impl TxConnection for RemoteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn begin_sql(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    async fn control(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).await.map_err(map_err)?;
        Ok(())
    }

    async fn run(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.run_statement(stmt).await
    }

    fn abandon(&mut self) {
        self.needs_rollback = true;
    }

    async fn settle(&mut self) -> Result<()> {
        if std::mem::take(&mut self.needs_rollback) && !self.conn.is_autocommit() {
            self.control("ROLLBACK").await?;
        }
        Ok(())
    }
}
