//! Connection settings.

use std::path::PathBuf;
use std::time::Duration;

/// SQLite's `journal_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum JournalMode {
    /// Write-ahead log: readers never block the writer and the writer never blocks readers.
    #[default]
    Wal,
    /// A rollback journal, deleted after each transaction.
    Delete,
    /// A rollback journal, truncated after each transaction.
    Truncate,
    /// A rollback journal kept in memory (unsafe on crash).
    Memory,
}

impl JournalMode {
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            JournalMode::Wal => "WAL",
            JournalMode::Delete => "DELETE",
            JournalMode::Truncate => "TRUNCATE",
            JournalMode::Memory => "MEMORY",
        }
    }
}

/// SQLite's `synchronous` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Synchronous {
    /// No syncs; fastest, loses data on power failure.
    Off,
    /// Syncs at checkpoints; with WAL, durable against application crashes.
    #[default]
    Normal,
    /// Syncs at every commit.
    Full,
    /// Like `Full`, and also syncs the directory.
    Extra,
}

impl Synchronous {
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// How to open a SQLite database.
///
/// ```
/// use dbx_sqlite::SqliteOptions;
/// let opts = SqliteOptions::new("app.db").max_readers(8);
/// assert_eq!(opts.max_readers, 8);
/// assert!(SqliteOptions::memory().is_memory());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "serde",
    serde(default, rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct SqliteOptions {
    /// The database file, or `:memory:` for a private in-memory database.
    ///
    /// Default: `:memory:`.
    pub path: PathBuf,
    /// Create the file if it is missing.
    ///
    /// Default: true.
    pub create_if_missing: bool,
    /// Default: WAL. In-memory databases ignore it.
    pub journal_mode: JournalMode,
    /// Default: NORMAL.
    pub synchronous: Synchronous,
    /// Enforce foreign keys.
    ///
    /// Default: true.
    pub foreign_keys: bool,
    /// How long to wait for a lock held by another connection or process, and for this
    /// adapter's own write lock.
    ///
    /// Default: 5 s.
    #[cfg_attr(feature = "serde", serde(with = "dbx_core::serde_duration::plain"))]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub busy_timeout: Duration,
    /// Read connections that may run at once, beside the one writer. They are opened on
    /// demand. In-memory databases use the writer only.
    ///
    /// Default: 4.
    pub max_readers: usize,
    /// Sessions that may be inside a transaction of their own at once (`BEGIN` from a
    /// Hrana stream or a dedicated [`Connection`](dbx_core::Connection)). Each holds a
    /// connection of its own beside the readers, so that open transactions never take the
    /// connections pooled reads run on. A session past the limit waits up to the busy
    /// timeout for one to end, then fails with `busy`.
    ///
    /// Default: 16.
    pub max_session_transactions: usize,
    /// Prepared statements kept per connection.
    ///
    /// Default: 128.
    pub statement_cache_capacity: usize,
    /// Let SQL attach other database files (`ATTACH DATABASE 'path'`) and write copies
    /// (`VACUUM INTO 'path'`). Off, both are refused with `permission_denied`, as is any
    /// `ATTACH` whose name is not a plain literal (SQLite cannot tell what an expression or
    /// a bound parameter names), while `VACUUM` and `ATTACH ':memory:'` still work: a
    /// database that takes SQL from outside (a tenant over Hrana, say) must not reach other
    /// files through it.
    ///
    /// Default: false.
    pub allow_attach: bool,
    /// The largest text or blob one value may be (SQLite's `SQLITE_LIMIT_LENGTH`), so that
    /// an expression such as `randomblob(999999999)` fails instead of making the process
    /// allocate its size. SQLite's own default is about 1 GB.
    ///
    /// Default: 67108864 (64 MiB).
    pub max_value_bytes: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            path: PathBuf::from(":memory:"),
            create_if_missing: true,
            journal_mode: JournalMode::Wal,
            synchronous: Synchronous::Normal,
            foreign_keys: true,
            busy_timeout: Duration::from_secs(5),
            max_readers: 4,
            max_session_transactions: 16,
            statement_cache_capacity: 128,
            allow_attach: false,
            max_value_bytes: 64 * 1024 * 1024,
        }
    }
}

impl SqliteOptions {
    /// Options for a file, with every other setting at its default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    /// Options for a private in-memory database.
    pub fn memory() -> Self {
        Self::default()
    }

    /// Whether these options name an in-memory database.
    pub fn is_memory(&self) -> bool {
        self.path.as_os_str() == ":memory:"
    }

    /// Sets [`max_session_transactions`](Self::max_session_transactions).
    #[must_use]
    pub fn max_session_transactions(mut self, n: usize) -> Self {
        self.max_session_transactions = n;
        self
    }

    /// Sets [`max_readers`](Self::max_readers).
    #[must_use]
    pub fn max_readers(mut self, n: usize) -> Self {
        self.max_readers = n;
        self
    }

    /// Sets [`busy_timeout`](Self::busy_timeout).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets [`journal_mode`](Self::journal_mode).
    #[must_use]
    pub fn journal_mode(mut self, mode: JournalMode) -> Self {
        self.journal_mode = mode;
        self
    }

    /// Sets [`synchronous`](Self::synchronous).
    #[must_use]
    pub fn synchronous(mut self, sync: Synchronous) -> Self {
        self.synchronous = sync;
        self
    }

    /// Sets [`foreign_keys`](Self::foreign_keys).
    #[must_use]
    pub fn foreign_keys(mut self, on: bool) -> Self {
        self.foreign_keys = on;
        self
    }

    /// Sets [`allow_attach`](Self::allow_attach).
    #[must_use]
    pub fn allow_attach(mut self, allow: bool) -> Self {
        self.allow_attach = allow;
        self
    }

    /// Sets [`max_value_bytes`](Self::max_value_bytes).
    #[must_use]
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// Sets [`create_if_missing`](Self::create_if_missing).
    #[must_use]
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }
}
