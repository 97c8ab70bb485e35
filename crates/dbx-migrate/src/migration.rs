//! One migration, from a SQL file or from Rust, and the context a Rust migration runs in.

use std::fmt;

use dbx_core::{Connection, ExecResult, ResultSet, Statement, Transaction, Value};
use futures_util::future::BoxFuture;

use crate::checksum::checksum;

/// A Rust migration step. It receives the context and returns a boxed future, so it can be
/// written as a plain `fn`:
///
/// ```
/// use dbx_migrate::{MigrationContext, BoxFuture};
///
/// fn up<'a>(ctx: &'a mut MigrationContext<'_>) -> BoxFuture<'a, dbx_core::Result<()>> {
///     Box::pin(async move {
///         ctx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", vec![]).await?;
///         Ok(())
///     })
/// }
/// ```
pub type StepFn =
    for<'a, 'b> fn(&'a mut MigrationContext<'b>) -> BoxFuture<'a, dbx_core::Result<()>>;

/// The first-line marker that runs a SQL file outside a transaction.
pub const NO_TRANSACTION_MARKER: &str = "-- dbx:no-transaction";

/// What a migration step runs.
#[derive(Clone)]
pub enum Step {
    /// SQL text: one or more statements separated by `;`.
    Sql {
        /// The text as written.
        text: String,
        /// Whether its first line is [`NO_TRANSACTION_MARKER`].
        no_transaction: bool,
    },
    /// Rust code.
    Rust(StepFn),
}

impl Step {
    /// A SQL step; the no-transaction marker is read from its first line.
    pub fn sql(text: impl Into<String>) -> Self {
        let text = text.into();
        let no_transaction = text
            .lines()
            .next()
            .is_some_and(|line| line.trim().eq_ignore_ascii_case(NO_TRANSACTION_MARKER));
        Step::Sql {
            text,
            no_transaction,
        }
    }

    /// Whether the author asked for no transaction.
    pub fn no_transaction(&self) -> bool {
        matches!(
            self,
            Step::Sql {
                no_transaction: true,
                ..
            }
        )
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Sql {
                text,
                no_transaction,
            } => f
                .debug_struct("Sql")
                .field("bytes", &text.len())
                .field("no_transaction", no_transaction)
                .finish(),
            Step::Rust(_) => f.write_str("Rust"),
        }
    }
}

/// One migration.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The module it belongs to; empty for the application's own migrations.
    pub module: String,
    /// The version: a sequence number or a `YYYYMMDDHHMMSS` timestamp.
    pub version: i64,
    /// The name from the file name, e.g. `create_users`.
    pub name: String,
    /// A readable description (the name with `_` as spaces, unless given).
    pub description: String,
    /// Forward.
    pub up: Step,
    /// Backward, if the migration can be reverted.
    pub down: Option<Step>,
    /// SHA-256 of the normalized up text (for Rust migrations: of the version and
    /// description, since code cannot be hashed meaningfully).
    pub checksum: String,
    /// Where it came from, for messages: a file path or `rust`.
    pub origin: String,
}

impl Migration {
    /// A SQL migration.
    pub fn sql(version: i64, name: &str, up: &str, down: Option<&str>) -> Self {
        Migration {
            module: String::new(),
            version,
            name: name.to_owned(),
            description: name.replace('_', " "),
            up: Step::sql(up),
            down: down.map(Step::sql),
            checksum: checksum(up),
            origin: format!("{version}_{name}"),
        }
    }

    /// A Rust migration (seed 002's `Migration { id, description, up, down }`).
    pub fn rust(id: i64, description: &str, up: StepFn, down: Option<StepFn>) -> Self {
        Migration {
            module: String::new(),
            version: id,
            name: description.replace(' ', "_"),
            description: description.to_owned(),
            up: Step::Rust(up),
            down: down.map(Step::Rust),
            checksum: checksum(&format!("rust migration {id}: {description}")),
            origin: "rust".to_owned(),
        }
    }

    /// `version_name`, prefixed with `module/` for a module's migration.
    pub fn label(&self) -> String {
        label(&self.module, self.version, &self.name)
    }
}

/// `version_name`, prefixed with `module/` when there is a module.
pub(crate) fn label(module: &str, version: i64, name: &str) -> String {
    let base = if name.is_empty() {
        version.to_string()
    } else {
        format!("{version}_{name}")
    };
    if module.is_empty() {
        base
    } else {
        format!("{module}/{base}")
    }
}

enum Handle<'a> {
    Tx(&'a mut (dyn Transaction + 'a)),
    Session(&'a mut (dyn Connection + 'a)),
}

/// What a Rust migration works through: `query`, `execute` and nested `transaction`s, which
/// are savepoints inside the migration's own transaction.
pub struct MigrationContext<'a> {
    handle: Handle<'a>,
    log: &'a mut Vec<String>,
}

impl fmt::Debug for MigrationContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.handle {
            Handle::Tx(_) => "transaction",
            Handle::Session(_) => "session",
        };
        f.debug_struct("MigrationContext")
            .field("mode", &mode)
            .field("statements", &self.log.len())
            .finish()
    }
}

impl<'a> MigrationContext<'a> {
    pub(crate) fn in_transaction(
        tx: &'a mut (dyn Transaction + 'a),
        log: &'a mut Vec<String>,
    ) -> Self {
        MigrationContext {
            handle: Handle::Tx(tx),
            log,
        }
    }

    pub(crate) fn in_session(
        conn: &'a mut (dyn Connection + 'a),
        log: &'a mut Vec<String>,
    ) -> Self {
        MigrationContext {
            handle: Handle::Session(conn),
            log,
        }
    }

    /// Runs a statement and returns its rows.
    pub async fn query(&mut self, sql: &str, params: Vec<Value>) -> dbx_core::Result<ResultSet> {
        self.log.push(sql.to_owned());
        let stmt = Statement::with_args(sql, params);
        match &mut self.handle {
            Handle::Tx(tx) => tx.query(stmt).await,
            Handle::Session(conn) => conn.query(stmt).await,
        }
    }

    /// Runs a statement for its effect.
    pub async fn execute(&mut self, sql: &str, params: Vec<Value>) -> dbx_core::Result<ExecResult> {
        self.query(sql, params).await.map(|r| ExecResult::from(&r))
    }

    /// Runs `work` in a nested transaction: a savepoint when the migration already runs in a
    /// transaction, a transaction otherwise. Its work is kept when it returns `Ok` and undone
    /// when it returns `Err`.
    pub async fn transaction<T, F>(&mut self, work: F) -> dbx_core::Result<T>
    where
        F: for<'c, 'd> FnOnce(&'c mut MigrationContext<'d>) -> BoxFuture<'c, dbx_core::Result<T>>,
    {
        let mut nested = match &mut self.handle {
            Handle::Tx(tx) => tx.savepoint().await?,
            Handle::Session(conn) => conn.transaction().await?,
        };
        let outcome = {
            let mut child = MigrationContext {
                handle: Handle::Tx(&mut *nested),
                log: &mut *self.log,
            };
            work(&mut child).await
        };
        match outcome {
            Ok(value) => {
                nested.commit().await?;
                Ok(value)
            }
            Err(e) => {
                nested.rollback().await?;
                Err(e)
            }
        }
    }
}
