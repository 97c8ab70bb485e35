//! The conformance suite and SQLite-specific tests, against file databases in a temp dir.

mod classifier;
mod deferred;
mod guards;
mod specific;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dbx_core::tenancy::TenantCacheConfig;
use dbx_core::{Adapter, TenantManager, async_trait};
use dbx_sqlite::{SqliteAdapter, SqliteOptions, SqliteTenants};
use dbx_tests::{Harness, Types, conformance_tests};
use tempfile::TempDir;

/// Fresh file databases under a temp dir that lives as long as the test.
#[derive(Debug)]
struct SqliteHarness {
    dir: TempDir,
    next: AtomicUsize,
}

#[async_trait]
impl Harness for SqliteHarness {
    async fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
            next: AtomicUsize::new(0),
        }
    }

    async fn database(&self) -> Arc<dyn Adapter> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("db{n}.db"));
        Arc::new(
            SqliteAdapter::open(SqliteOptions::new(path))
                .await
                .expect("open a SQLite file"),
        )
    }

    async fn tenants(&self) -> Arc<dyn TenantManager> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.path().join(format!("tenants{n}"));
        Arc::new(
            SqliteTenants::open(dir, SqliteOptions::default(), TenantCacheConfig::default())
                .await
                .unwrap(),
        )
    }

    fn slow_statement(&self) -> String {
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
            .to_owned()
    }

    fn types(&self) -> Types {
        Types {
            integer: "INTEGER",
            real: "REAL",
            text: "TEXT",
            key_text: "VARCHAR(255)",
            blob: "BLOB",
            auto_id: "INTEGER PRIMARY KEY",
        }
    }

    fn reports_foreign_key_names(&self) -> bool {
        false
    }
}

conformance_tests!(SqliteHarness);
