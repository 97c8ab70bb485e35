#![doc = include_str!("../README.md")]

mod checksum;
mod commands;
mod dialect_files;
mod dry_run;
mod error;
mod fault;
mod ledger;
mod lock;
mod migration;
mod modules;
mod runner;
mod source;
mod status;
mod step;
mod tenants;

pub use checksum::{checksum, normalize};
pub use dry_run::{DryRun, DryRunStep};
pub use error::{Error, ErrorKind, Result};
pub use fault::{FAULT_POINTS, FAULT_VARIABLE};
pub use futures_util::future::BoxFuture;
pub use ledger::{AppliedRow, MIGRATIONS_TABLE, SCHEMA_VERSIONS_TABLE};
pub use lock::{LOCK_TABLE, LockOptions};
pub use migration::{Migration, MigrationContext, NO_TRANSACTION_MARKER, Step, StepFn};
pub use modules::{Module, discover, discover_for};
pub use runner::{DownTarget, Migrator, Options, Report, Resolution, StepReport};
pub use source::{Migrations, create_migration_files};
pub use status::{ModuleState, State, Status, StatusEntry};
pub use step::Direction;
pub use tenants::{FanOut, OpenTenant, TenantOutcome, TenantResult, migrate_tenants};

#[doc(hidden)]
pub use include_dir;

/// Embeds a directory of migration files into the binary at compile time and evaluates to
/// `Result<Migrations>`. The path is resolved by `include_dir`, so start it with
/// `$CARGO_MANIFEST_DIR`.
#[macro_export]
macro_rules! embed_migrations {
    // `tt`, not `literal`: include_dir's macro refuses a literal wrapped in an invisible group.
    ($($path:tt)+) => {{
        // include_dir's output names the `include_dir` crate; this makes it resolve to ours,
        // so callers need no dependency of their own.
        use $crate::include_dir;
        static DIR: $crate::include_dir::Dir<'static> = $crate::include_dir::include_dir!($($path)+);
        $crate::Migrations::from_embedded(&DIR)
    }};
}
