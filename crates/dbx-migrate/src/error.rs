//! Errors of the migrator: each says what is wrong and what to run next.

use std::path::PathBuf;

/// The broad class of an [`Error`], for callers that branch on it and for JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A migration file or module manifest is unreadable or badly named.
    Source,
    /// An applied migration's text no longer matches its recorded checksum.
    Modified,
    /// A migration failed part-way where nothing could roll it back.
    Dirty,
    /// A pending migration is older than the newest applied one.
    OutOfOrder,
    /// Another runner held the lock for longer than the lock timeout.
    LockTimeout,
    /// Another runner took over the lock while this one was still working.
    LockLost,
    /// Modules depend on each other in a cycle, or on a module that does not exist.
    Dependency,
    /// The request cannot be carried out: no down migration, an unknown version, ...
    Invalid,
    /// The database refused or failed; [`Error::Database`] keeps the adapter's own error.
    Database,
}

impl ErrorKind {
    /// A stable lower-snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Source => "source",
            ErrorKind::Modified => "modified",
            ErrorKind::Dirty => "dirty",
            ErrorKind::OutOfOrder => "out_of_order",
            ErrorKind::LockTimeout => "lock_timeout",
            ErrorKind::LockLost => "lock_lost",
            ErrorKind::Dependency => "dependency",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Database => "database",
        }
    }
}

/// An error from discovering or running migrations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read, or its name breaks the naming rule.
    #[error("{path}: {reason}")]
    Source {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// Applied migrations were edited after they ran.
    #[error(
        "applied migration{} changed since {}: {}. Restore the original text, or, if the \
         change is deliberate and harmless (a comment, formatting), run `dbx migrate repair` \
         to record the new checksum",
        if .0.len() == 1 { "" } else { "s" },
        if .0.len() == 1 { "it ran" } else { "they ran" },
        .0.join(", ")
    )]
    Modified(Vec<String>),

    /// A migration failed part-way and left changes that could not be undone.
    #[error("{0}")]
    Dirty(String),

    /// Pending migrations older than the newest applied one.
    #[error(
        "pending migration{} older than the newest applied one ({newest}): {}. This usually \
         comes from merging branches; pass --allow-out-of-order (or \
         `Options::allow_out_of_order`) to apply {} anyway",
        if .pending.len() == 1 { " is" } else { "s are" },
        .pending.join(", "),
        if .pending.len() == 1 { "it" } else { "them" }
    )]
    OutOfOrder {
        /// The newest applied migration.
        newest: String,
        /// The older pending ones.
        pending: Vec<String>,
    },

    /// The lock stayed taken for the whole lock timeout.
    #[error(
        "gave up after {waited_secs} s waiting for the migration lock, held by {holder}. \
         If that runner is still working, wait for it; raise the wait with --lock-timeout"
    )]
    LockTimeout {
        /// Seconds waited.
        waited_secs: u64,
        /// Who holds it, as far as the backend can tell.
        holder: String,
    },

    /// The lease expired and another runner took it.
    #[error(
        "lost the migration lock to {holder} while migrating (this runner stalled for longer \
         than the lease of {lease_secs} s); stopped before the next migration. Run again"
    )]
    LockLost {
        /// The runner that has it now.
        holder: String,
        /// The lease length.
        lease_secs: u64,
    },

    /// A module dependency problem.
    #[error("{0}")]
    Dependency(String),

    /// A request that cannot be carried out.
    #[error("{0}")]
    Invalid(String),

    /// The database failed.
    #[error("{context}: {source}")]
    Database {
        /// What the migrator was doing.
        context: String,
        /// The adapter's error.
        #[source]
        source: dbx_core::Error,
    },
}

impl Error {
    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Source { .. } => ErrorKind::Source,
            Error::Modified(_) => ErrorKind::Modified,
            Error::Dirty(_) => ErrorKind::Dirty,
            Error::OutOfOrder { .. } => ErrorKind::OutOfOrder,
            Error::LockTimeout { .. } => ErrorKind::LockTimeout,
            Error::LockLost { .. } => ErrorKind::LockLost,
            Error::Dependency(_) => ErrorKind::Dependency,
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Database { .. } => ErrorKind::Database,
        }
    }

    /// The adapter's error, for [`ErrorKind::Database`].
    pub fn database_error(&self) -> Option<&dbx_core::Error> {
        match self {
            Error::Database { source, .. } => Some(source),
            _ => None,
        }
    }

    pub(crate) fn source_file(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Source {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Adds what the migrator was doing to an adapter error.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, dbx_core::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Database {
            context: what(),
            source,
        })
    }
}

/// The migrator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
