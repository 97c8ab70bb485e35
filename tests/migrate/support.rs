//! A fresh database per test on each backend, reachable both from the library (through
//! `DatabaseService`, from a `dbx.toml`) and from the `dbx` command run as a process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use dbx_core::{Adapter, Statement, TableSchema};
use dbx_migrate::{Migrations, Migrator};
use dbx_service::{DatabaseService, Overrides};
use dbx_tests::env::unique_name;
use tempfile::TempDir;

/// The backends the migration suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Backend {
    /// The adapter kind's name, as in URLs and configuration.
    pub(crate) fn kind_name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }
}

/// One test's database and working directory.
pub(crate) struct Db {
    pub(crate) backend: Backend,
    pub(crate) dir: TempDir,
    pub(crate) service: Arc<DatabaseService>,
    pub(crate) adapter: Arc<dyn Adapter>,
}

impl Db {
    /// A new, empty database: a file, a schema or a database of its own.
    pub(crate) async fn new(backend: Backend) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let config = match backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => {
                let url = dbx_tests::fresh::postgres_url();
                let schema = unique_name("mig");
                let admin = dbx_postgres::PgAdapter::connect_url(&url).await.unwrap();
                admin
                    .execute(Statement::new(format!("CREATE SCHEMA {schema}")))
                    .await
                    .unwrap();
                admin.close().await;
                format!(
                    "[adapters.connection]\nurl = \"{url}\"\n\
                     search-path = \"{schema}\"\ntenant-schema-prefix = \"{schema}_\"\n"
                )
            }
            Backend::Mysql => {
                let url = dbx_tests::fresh::mysql_url();
                let database = unique_name("mig");
                let admin = dbx_mysql::MySqlAdapter::connect_url(&url).await.unwrap();
                admin
                    .execute(Statement::new(format!("CREATE DATABASE {database}")))
                    .await
                    .unwrap();
                admin.close().await;
                format!(
                    "[adapters.connection]\nurl = \"{url}\"\n\
                     database = \"{database}\"\ntenant-database-prefix = \"{database}_\"\n"
                )
            }
        };
        let config = format!("[[adapters]]\nkind = \"{}\"\n{config}", backend.kind_name());
        std::fs::write(dir.path().join("dbx.toml"), config).unwrap();
        std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
        let service = open_service(dir.path()).await;
        let adapter = service.root(None).unwrap();
        Db {
            backend,
            dir,
            service,
            adapter,
        }
    }

    pub(crate) fn migrations_dir(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Writes a file under `migrations/`.
    pub(crate) fn write(&self, name: &str, text: &str) {
        std::fs::write(self.migrations_dir().join(name), text).unwrap();
    }

    /// The migrations on disk now.
    pub(crate) fn migrations(&self) -> Migrations {
        Migrations::from_dir(&self.migrations_dir()).unwrap()
    }

    /// A migrator for the files on disk now.
    pub(crate) fn migrator(&self) -> Migrator {
        Migrator::new(self.adapter.clone(), self.migrations())
    }

    /// `dbx <args>` in this test's directory, against this test's database.
    pub(crate) fn cli(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbx-under-test"));
        // Only this test's configuration: no DATABASE_* or POSTGRES_* from the caller.
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(self.dir.path())
            .args(["--config", "dbx.toml", "--data-dir", "dbx-data"])
            .args(args);
        cmd
    }

    /// Runs `dbx <args>` to the end.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cli(args).output().unwrap()
    }

    /// Runs `dbx <args> --json`, expects success, and parses what it printed.
    pub(crate) fn run_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "dbx {args:?} failed:\n{}",
            describe(&out)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", describe(&out)))
    }

    /// The user tables (no `_dbx_*`/`_schema_versions`) with their full introspected schema.
    pub(crate) async fn schema(&self) -> Vec<TableSchema> {
        let mut out = Vec::new();
        for table in self.adapter.tables().await.unwrap() {
            if table.name.starts_with("_dbx_") || table.name == "_schema_versions" {
                continue;
            }
            out.push(self.adapter.table(&table.name).await.unwrap());
        }
        out
    }

    /// Whether a table exists.
    pub(crate) async fn has_table(&self, name: &str) -> bool {
        self.adapter
            .tables()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == name)
    }

    /// A single integer from a query.
    pub(crate) async fn scalar(&self, sql: &str) -> i64 {
        self.adapter
            .query(Statement::new(sql))
            .await
            .unwrap()
            .scalar::<i64>()
            .unwrap()
    }

    /// The number of rows in `_dbx_migrations`.
    pub(crate) async fn ledger_rows(&self) -> i64 {
        self.scalar("SELECT COUNT(*) FROM _dbx_migrations").await
    }
}

/// Opens the service a test directory's `dbx.toml` describes, as the command does.
pub(crate) async fn open_service(dir: &Path) -> Arc<DatabaseService> {
    let config = dbx_service::config::load(
        Some(&dir.join("dbx.toml")),
        &|_| None,
        &Overrides {
            data_dir: Some(dir.join("dbx-data")),
            default_adapter: None,
        },
    )
    .unwrap();
    DatabaseService::open(&config).await.unwrap()
}

/// Exit status, stdout and stderr, for assertion messages.
pub(crate) fn describe(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A statement that keeps the database busy for about `secs` seconds.
pub(crate) fn slow_sql(backend: Backend, secs: u32) -> String {
    match backend {
        Backend::Postgres => format!("SELECT pg_sleep({secs})"),
        Backend::Mysql => format!("SELECT SLEEP({secs})"),
        // SQLite has no sleep; counting takes roughly a second per few million rows here.
        Backend::Sqlite => format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) \
             SELECT max(x) FROM c",
            u64::from(secs) * 3_000_000
        ),
    }
}

/// Instantiates a test body once per backend: `per_backend!(name, body_fn)`.
#[macro_export]
macro_rules! per_backend {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body($crate::support::Backend::Postgres).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                $body($crate::support::Backend::Mysql).await;
            }
        }
    };
}
