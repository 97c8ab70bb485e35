//! [`LibsqlConnection`]: a dedicated session, one Hrana stream on the primary.

use dbx_core::sql::Dialect;
use dbx_core::txn::{
    SavepointGuard, SqlTransaction, TxConnection, run_atomically, run_in_savepoint,
};
use dbx_core::{
    AdapterKind, Column, Connection, Description, Result, ResultSet, Statement, Transaction,
    async_trait,
};

use crate::exec::RemoteConn;

/// A dedicated session on the primary. The server keeps its transaction state, and reports
/// it back, so `is_autocommit` is the server's own answer. Dropping the session closes the
/// stream, and the server rolls back what it left open.
#[derive(Debug)]
pub struct LibsqlConnection {
    conn: RemoteConn,
    abandoned_savepoint: Option<u32>,
    read_only: bool,
}

impl LibsqlConnection {
    pub(crate) fn new(conn: RemoteConn) -> Self {
        Self {
            conn,
            abandoned_savepoint: None,
            read_only: false,
        }
    }

    fn check_writes(&self, sql: &str) -> Result<()> {
        if self.read_only {
            dbx_core::sql::refuse_writes(sql, dbx_core::sql::Dialect::Sqlite)?;
        }
        Ok(())
    }

    async fn settle(&mut self) -> Result<()> {
        if let Some(depth) = self.abandoned_savepoint.take() {
            let name = format!("dbx_sp_{depth}");
            self.conn
                .control(&format!(
                    "ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
                ))
                .await?;
        }
        self.conn.settle().await
    }
}

#[async_trait]
impl Connection for LibsqlConnection {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Libsql
    }

    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        self.check_writes(&stmt.sql)?;
        self.settle().await?;
        self.conn.run_statement(stmt).await
    }

    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        for stmt in &stmts {
            self.check_writes(&stmt.sql)?;
        }
        self.settle().await?;
        if self.conn.conn.is_autocommit() {
            run_atomically(&mut self.conn, stmts).await
        } else {
            run_in_savepoint(&mut self.conn, stmts).await
        }
    }

    fn is_autocommit(&self) -> bool {
        self.conn.conn.is_autocommit()
    }

    fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    async fn describe(&mut self, sql: &str) -> Result<Description> {
        self.settle().await?;
        // Placeholders are rewritten to SQLite's own, as `query` does, so that the server
        // describes the statement that would run.
        let (native, params) = dbx_core::sql::describe_placeholders(sql, Dialect::Sqlite)?;
        let prepared = self
            .conn
            .conn
            .prepare(&native)
            .await
            .map_err(crate::error::map_err)?;
        let columns = prepared
            .columns()
            .iter()
            .map(|c| Column::new(c.name(), c.decl_type().map(str::to_owned)))
            .collect();
        Ok(Description {
            params,
            columns,
            is_explain: dbx_core::sql::leading_keyword(sql, Dialect::Sqlite).as_deref()
                == Some("EXPLAIN"),
            is_readonly: dbx_core::sql::is_read_only(sql, Dialect::Sqlite),
        })
    }

    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>> {
        self.settle().await?;
        if !self.conn.conn.is_autocommit() {
            // Inside the caller's own BEGIN: nest as a savepoint.
            let guard: SavepointGuard<'_, _, Box<RemoteConn>> =
                SavepointGuard::open(&mut self.conn, 1, &mut self.abandoned_savepoint).await?;
            return Ok(Box::new(guard));
        }
        let tx: SqlTransaction<'_, RemoteConn, Box<RemoteConn>> =
            SqlTransaction::begin_on(&mut self.conn).await?;
        Ok(Box::new(tx))
    }
}
