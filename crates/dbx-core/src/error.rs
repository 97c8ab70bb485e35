//! One error type for every backend, with a normalized [`ErrorKind`].

use std::fmt;

use crate::AdapterKind;

/// `Result` with dbx's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, normalized across backends.
///
/// Code that reacts to errors (retry on `Busy`, answer 409 on `UniqueViolation`, ...) matches on
/// this instead of on backend codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ErrorKind {
    /// A unique or primary-key constraint was violated.
    UniqueViolation,
    /// A foreign-key constraint was violated.
    ForeignKeyViolation,
    /// A `NOT NULL` constraint was violated.
    NotNullViolation,
    /// A `CHECK` constraint was violated.
    CheckViolation,
    /// The SQL text could not be parsed.
    SyntaxError,
    /// The statement names a table that does not exist.
    UndefinedTable,
    /// The statement names a column that does not exist.
    UndefinedColumn,
    /// The database is locked by someone else; retrying later may succeed.
    Busy,
    /// An operation did not finish within its configured time.
    Timeout,
    /// A statement's rows came to more than the bytes it was allowed to return.
    ResultTooLarge,
    /// The connection to the database broke.
    ConnectionLost,
    /// The credentials do not allow the operation.
    PermissionDenied,
    /// A tenant id breaks the naming rule.
    InvalidTenant,
    /// The tenant does not exist.
    NoSuchTenant,
    /// The tenant to create exists already.
    TenantExists,
    /// The caller passed something unusable: wrong arguments, an impossible conversion.
    InvalidArgument,
    /// The configuration is wrong.
    Config,
    /// The backend cannot do what was asked.
    Unsupported,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A stable, lower-snake-case name for logs, metrics and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UniqueViolation => "unique_violation",
            ErrorKind::ForeignKeyViolation => "foreign_key_violation",
            ErrorKind::NotNullViolation => "not_null_violation",
            ErrorKind::CheckViolation => "check_violation",
            ErrorKind::SyntaxError => "syntax_error",
            ErrorKind::UndefinedTable => "undefined_table",
            ErrorKind::UndefinedColumn => "undefined_column",
            ErrorKind::Busy => "busy",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ResultTooLarge => "result_too_large",
            ErrorKind::ConnectionLost => "connection_lost",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::InvalidTenant => "invalid_tenant",
            ErrorKind::NoSuchTenant => "no_such_tenant",
            ErrorKind::TenantExists => "tenant_exists",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Config => "config",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error reported by a database engine or server, with its native code kept.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message} ({backend} {code})")]
pub struct DatabaseError {
    /// The normalized kind.
    pub kind: ErrorKind,
    /// The backend that reported it.
    pub backend: AdapterKind,
    /// The native code: an SQLite result-code name, a PostgreSQL SQLSTATE, a MySQL error number.
    pub code: String,
    /// The backend's own message.
    pub message: String,
}

/// Every error dbx returns.
///
/// Errors are `Clone` so that one failure can be handed to every task waiting on the same
/// work (for example, concurrent first opens of one tenant).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database rejected the statement or failed while running it.
    #[error(transparent)]
    Database(#[from] Box<DatabaseError>),

    /// A tenant id that breaks the naming rule, or names something the tenant cannot be.
    #[error("invalid tenant id {id:?}: {reason}")]
    InvalidTenant {
        /// The id as given (possibly cut short if very long).
        id: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A tenant that does not exist (see [`Error::no_such_tenant`]).
    #[error("there is no tenant {id:?}: {advice}")]
    NoSuchTenant {
        /// The tenant's id.
        id: String,
        /// What happened to it, or how to create it.
        advice: String,
    },

    /// Creating a tenant that exists already.
    #[error("the tenant {id:?} already exists")]
    TenantExists {
        /// The tenant's id.
        id: String,
    },

    /// Arguments that do not fit the statement: missing, surplus or unknown names.
    #[error("invalid arguments: {0}")]
    Arguments(String),

    /// Any other unusable input from the caller.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A value that cannot become the requested Rust type.
    #[error("cannot convert {from} to {to}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Conversion {
        /// The value's variant.
        from: &'static str,
        /// The requested type.
        to: &'static str,
        /// Why, when the variant alone does not say.
        detail: Option<String>,
    },

    /// A column asked for by a name the result does not have.
    #[error("no column named {0:?} in this result")]
    NoSuchColumn(String),

    /// A configuration value that cannot be used.
    #[error("configuration error: {0}")]
    Config(String),

    /// Something this backend cannot do.
    #[error("unsupported on {backend}: {what}")]
    Unsupported {
        /// The backend.
        backend: AdapterKind,
        /// What was asked, and where possible what to do instead.
        what: String,
    },

    /// Waiting for a lock or a connection took longer than the configured limit.
    #[error("timed out: {0}")]
    Timeout(String),

    /// A statement ran longer than its [`timeout`](crate::StatementLimits::timeout) and was
    /// cancelled.
    #[error(
        "the statement ran longer than its limit of {0:?} and was cancelled: make it cheaper \
         (an index, a LIMIT), or raise the statement timeout"
    )]
    StatementTimeout(std::time::Duration),

    /// A statement's rows passed its
    /// [`max_result_bytes`](crate::StatementLimits::max_result_bytes); reading stopped there
    /// and the statement was cancelled.
    #[error(
        "the rows come to more than the {limit} bytes this statement may return: select fewer \
         rows or columns (LIMIT, or pages), or raise the limit"
    )]
    ResultTooLarge {
        /// The limit, in bytes as [`row_bytes`](crate::row_bytes) counts them.
        limit: usize,
    },

    /// The session or token may only read, and the statement may write.
    #[error("permission denied: {0}")]
    PermissionDenied(String),

    /// Another writer holds the database and did not let go in time.
    #[error("database busy: {0}")]
    Busy(String),

    /// The connection broke, or the worker that owned it is gone.
    #[error("connection lost: {0}")]
    ConnectionLost(String),

    /// The adapter was closed; open a new one.
    #[error("the {0} adapter is closed; open a new one to keep working")]
    Closed(AdapterKind),

    /// A file-system error, for backends that keep files.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        source: std::sync::Arc<std::io::Error>,
    },
}

impl Error {
    /// A tenant that does not exist, with the ways to create one.
    pub fn no_such_tenant(id: impl fmt::Display) -> Self {
        Error::NoSuchTenant {
            id: id.to_string(),
            advice: "create it first (POST /api/adapters/{kind}/tenants, `dbx tenants create`, \
                     DatabaseService::create_tenant), or turn on auto-create-tenants"
                .to_owned(),
        }
    }

    /// The normalized kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Database(e) => e.kind,
            Error::InvalidTenant { .. } => ErrorKind::InvalidTenant,
            Error::NoSuchTenant { .. } => ErrorKind::NoSuchTenant,
            Error::TenantExists { .. } => ErrorKind::TenantExists,
            Error::Arguments(_)
            | Error::InvalidArgument(_)
            | Error::Conversion { .. }
            | Error::NoSuchColumn(_) => ErrorKind::InvalidArgument,
            Error::Config(_) => ErrorKind::Config,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Timeout(_) | Error::StatementTimeout(_) => ErrorKind::Timeout,
            Error::ResultTooLarge { .. } => ErrorKind::ResultTooLarge,
            Error::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Error::Busy(_) => ErrorKind::Busy,
            Error::ConnectionLost(_) => ErrorKind::ConnectionLost,
            Error::Closed(_) | Error::Io { .. } => ErrorKind::Other,
        }
    }

    /// The backend's native error, when the database reported one.
    pub fn database(&self) -> Option<&DatabaseError> {
        match self {
            Error::Database(e) => Some(e),
            _ => None,
        }
    }

    /// Builds an [`Error::Io`].
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source: source.into(),
        }
    }

    /// Builds an [`Error::Database`]; adapters call this from their error mapping.
    pub fn from_database(
        kind: ErrorKind,
        backend: AdapterKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Database(Box::new(DatabaseError {
            kind,
            backend,
            code: code.into(),
            message: message.into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_keep_native_code_and_message() {
        let e = Error::from_database(
            ErrorKind::UniqueViolation,
            AdapterKind::Sqlite,
            "SQLITE_CONSTRAINT_UNIQUE",
            "UNIQUE constraint failed: t.x",
        );
        assert_eq!(e.kind(), ErrorKind::UniqueViolation);
        assert_eq!(e.database().unwrap().code, "SQLITE_CONSTRAINT_UNIQUE");
        assert_eq!(
            e.to_string(),
            "UNIQUE constraint failed: t.x (sqlite SQLITE_CONSTRAINT_UNIQUE)"
        );
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(
            ErrorKind::ForeignKeyViolation.as_str(),
            "foreign_key_violation"
        );
        assert_eq!(Error::Closed(AdapterKind::Sqlite).kind(), ErrorKind::Other);
        assert_eq!(
            Error::Arguments("x".into()).kind(),
            ErrorKind::InvalidArgument
        );
    }
}
