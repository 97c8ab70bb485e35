//! Named points where a test makes the runner's process abort, as `kill -9` would, so that
//! every dangerous moment of a migration is proven recoverable on every run instead of
//! when a kill happens to land there.
//!
//! `DBX_FAULT_ABORT_AT=<point>` aborts at the first time the point is reached, and
//! `<point>@<n>` at the n-th (counted across the process, tenants included). Unset, a point
//! costs one load of a value read once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that names the point.
pub const FAULT_VARIABLE: &str = "DBX_FAULT_ABORT_AT";

/// Every point, in the order a migration reaches them.
pub const FAULT_POINTS: &[&str] = &[
    // Between creating `_schema_versions` and `_dbx_migrations`.
    "migrate.bootstrap",
    // A step in a transaction: its SQL and its ledger row written, the commit not sent.
    "migrate.before-commit",
    // A step in a transaction: committed, the next step not started.
    "migrate.after-commit",
    // A step outside a transaction (MySQL DDL): marked dirty, its SQL not run.
    "migrate.after-dirty-mark",
    // A step outside a transaction: its SQL run, the dirty mark not cleared.
    "migrate.before-clean-mark",
];

static TARGET: OnceLock<Option<(String, usize)>> = OnceLock::new();
static HITS: AtomicUsize = AtomicUsize::new(0);

fn target() -> Option<&'static (String, usize)> {
    TARGET
        .get_or_init(|| {
            let value = std::env::var(FAULT_VARIABLE).ok()?;
            let (name, nth) = match value.split_once('@') {
                Some((name, n)) => (name.to_owned(), n.parse().unwrap_or(1)),
                None => (value, 1),
            };
            Some((name, nth))
        })
        .as_ref()
}

/// Aborts the process here when the variable names this point (and its count is reached).
pub(crate) fn point(name: &'static str) {
    debug_assert!(FAULT_POINTS.contains(&name), "unlisted fault point {name}");
    let Some((wanted, nth)) = target() else {
        return;
    };
    if wanted == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
        eprintln!("dbx: aborting at fault point {name} ({FAULT_VARIABLE})");
        std::process::abort();
    }
}
