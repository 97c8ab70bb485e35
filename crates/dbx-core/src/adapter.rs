//! The traits every backend implements: a pool-level [`Adapter`], a dedicated
//! [`Connection`] and a [`Transaction`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::row::{ExecResult, ResultSet};
use crate::schema::{TableInfo, TableSchema};
use crate::sql::Dialect;
use crate::statement::Statement;

/// Which backend an adapter talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum AdapterKind {
    /// SQLite through rusqlite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// libSQL / Turso over Hrana.
    Libsql,
}

impl AdapterKind {
    /// Every kind, in a stable order.
    pub const ALL: [AdapterKind; 4] = [
        AdapterKind::Sqlite,
        AdapterKind::Postgres,
        AdapterKind::Mysql,
        AdapterKind::Libsql,
    ];

    /// The lower-case name used in configuration, URLs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            AdapterKind::Sqlite => "sqlite",
            AdapterKind::Postgres => "postgres",
            AdapterKind::Mysql => "mysql",
            AdapterKind::Libsql => "libsql",
        }
    }

    /// The SQL dialect the backend speaks.
    pub fn dialect(self) -> Dialect {
        match self {
            AdapterKind::Sqlite | AdapterKind::Libsql => Dialect::Sqlite,
            AdapterKind::Postgres => Dialect::Postgres,
            AdapterKind::Mysql => Dialect::Mysql,
        }
    }
}

impl fmt::Display for AdapterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdapterKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => Ok(AdapterKind::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(AdapterKind::Postgres),
            "mysql" | "mariadb" => Ok(AdapterKind::Mysql),
            "libsql" | "turso" => Ok(AdapterKind::Libsql),
            _ => Err(Error::Config(format!(
                "unknown adapter kind {s:?}: expected one of sqlite, postgres, mysql, libsql"
            ))),
        }
    }
}

/// Connection-pool occupancy at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Connections handed out.
    pub in_use: usize,
    /// Connections open and waiting.
    pub idle: usize,
    /// The most connections the pool will open.
    pub max: usize,
}

/// The outcome of [`Adapter::health`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// How long a trivial query took.
    pub latency: Duration,
    /// Pool occupancy after the query.
    pub pool: PoolStatus,
}

/// A database reached through a pool: the handle applications share (usually as an
/// `Arc<dyn Adapter>`).
///
/// Every method may run concurrently with the others. Statements use SQLite-style
/// placeholders on every backend (see [`Statement`]).
#[async_trait]
pub trait Adapter: Send + Sync + fmt::Debug {
    /// The backend.
    fn kind(&self) -> AdapterKind;

    /// Runs one statement and returns its full result: columns, rows, rows affected and the
    /// inserted id where the backend reports one.
    async fn query(&self, stmt: Statement) -> Result<ResultSet>;

    /// Runs one statement for its effect.
    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        self.query(stmt).await.map(|r| ExecResult::from(&r))
    }

    /// Runs every statement in one transaction: all of them take effect, or none does.
    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>>;

    /// Starts a transaction on a connection of its own. Dropping it without commit rolls it
    /// back before that connection serves anyone else.
    async fn transaction(&self) -> Result<Box<dyn Transaction>>;

    /// A dedicated session with its own transaction state, for callers that issue `BEGIN`
    /// and `COMMIT` themselves (a protocol server maps one client stream onto one of these).
    async fn connection(&self) -> Result<Box<dyn Connection>>;

    /// The tables and views, sorted by name, without the backend's internal ones.
    async fn tables(&self) -> Result<Vec<TableInfo>>;

    /// One table's columns, primary key, indexes and foreign keys.
    /// A missing table is an [`ErrorKind::UndefinedTable`](crate::ErrorKind::UndefinedTable) error.
    async fn table(&self, name: &str) -> Result<TableSchema>;

    /// Runs a trivial query and reports its latency and the pool's state.
    async fn health(&self) -> Result<Health>;

    /// Closes the pool. Later calls fail with [`Error::Closed`]; work already running finishes.
    async fn close(&self);
}

/// What a statement would do, found by preparing it without running it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    /// Parameter i is position i+1; its name with the sigil, or `None` for `?`.
    pub params: Vec<Option<String>>,
    /// The result columns.
    pub columns: Vec<crate::row::Column>,
    /// Whether it is an `EXPLAIN`.
    pub is_explain: bool,
    /// Whether it only reads.
    pub is_readonly: bool,
}

/// A dedicated session: one backend connection, held until dropped.
///
/// Statements may include `BEGIN`, `COMMIT`, `ROLLBACK` and `SAVEPOINT`; the session tracks
/// the resulting state in [`is_autocommit`](Connection::is_autocommit). A session dropped
/// inside a transaction rolls it back before the connection is reused.
#[async_trait]
pub trait Connection: Send + fmt::Debug {
    /// The backend.
    fn kind(&self) -> AdapterKind;

    /// Runs one statement and returns its full result.
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet>;

    /// Runs one statement for its effect.
    async fn execute(&mut self, stmt: Statement) -> Result<ExecResult> {
        self.query(stmt).await.map(|r| ExecResult::from(&r))
    }

    /// Runs the statements atomically: in a new transaction when in autocommit mode, or
    /// inside a savepoint of the open transaction.
    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>>;

    /// Whether no transaction is open on this session.
    fn is_autocommit(&self) -> bool;

    /// Makes the session read-only, or read-write again. A read-only session refuses
    /// statements that may write ([`sql::is_read_only`](crate::sql::is_read_only) is the
    /// judge, and on SQLite the engine's own verdict as well) with
    /// [`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied), and its
    /// transactions are read transactions: on SQLite they never take the write lock, so a
    /// read-only caller cannot hold up writers. The change applies from the next statement.
    fn set_read_only(&mut self, read_only: bool);

    /// Starts a transaction on this session.
    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// Prepares `sql` without running it and says what it takes and returns.
    ///
    /// Required, with no default body: a wrapper (a counting or tracing layer) that forgot
    /// to forward it would otherwise answer "unsupported" for a backend that supports it.
    async fn describe(&mut self, sql: &str) -> Result<Description>;
}

/// An open transaction. Dropping it without [`commit`](Transaction::commit) rolls it back.
#[async_trait]
pub trait Transaction: Send + fmt::Debug {
    /// Runs one statement inside the transaction and returns its full result.
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet>;

    /// Runs one statement inside the transaction for its effect.
    async fn execute(&mut self, stmt: Statement) -> Result<ExecResult> {
        self.query(stmt).await.map(|r| ExecResult::from(&r))
    }

    /// Opens a nested transaction (a savepoint). Committing it releases the savepoint into
    /// this transaction; rolling it back, or dropping it, undoes only its own work.
    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// Makes the work permanent (or, for a savepoint, part of the enclosing transaction).
    async fn commit(self: Box<Self>) -> Result<()>;

    /// Undoes the work.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_print() {
        for kind in AdapterKind::ALL {
            assert_eq!(kind.as_str().parse::<AdapterKind>().unwrap(), kind);
        }
        assert_eq!(
            "PostgreSQL".parse::<AdapterKind>().unwrap(),
            AdapterKind::Postgres
        );
        let err = "oracle".parse::<AdapterKind>().unwrap_err();
        assert!(
            err.to_string().contains("sqlite, postgres, mysql, libsql"),
            "{err}"
        );
    }
}
