//! SQLSTATE codes onto dbx's [`ErrorKind`].

use dbx_core::{AdapterKind, Error, ErrorKind};

/// The kind for a SQLSTATE code.
pub fn kind_of_sqlstate(code: &str) -> ErrorKind {
    match code {
        "23505" => ErrorKind::UniqueViolation,
        "23503" => ErrorKind::ForeignKeyViolation,
        "23502" => ErrorKind::NotNullViolation,
        "23514" => ErrorKind::CheckViolation,
        "42601" => ErrorKind::SyntaxError,
        "42P01" => ErrorKind::UndefinedTable,
        "42703" => ErrorKind::UndefinedColumn,
        // No operator or function for the argument types given: the caller's to fix.
        "42883" | "42804" => ErrorKind::InvalidArgument,
        // Serialization failures, deadlocks and NOWAIT lock failures succeed when retried.
        "40001" | "40P01" | "55P03" => ErrorKind::Busy,
        "57014" => ErrorKind::Timeout,
        "42501" => ErrorKind::PermissionDenied,
        "0A000" => ErrorKind::Unsupported,
        // Shutdown of the server or of this backend.
        "57P01" | "57P02" | "57P03" => ErrorKind::ConnectionLost,
        _ if code.starts_with("08") => ErrorKind::ConnectionLost,
        _ if code.starts_with("28") => ErrorKind::PermissionDenied,
        // Data exceptions: bad input text, numbers out of range, division by zero.
        _ if code.starts_with("22") => ErrorKind::InvalidArgument,
        _ => ErrorKind::Other,
    }
}

/// Converts a tokio-postgres error into a dbx error.
pub(crate) fn map_err(err: tokio_postgres::Error) -> Error {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        let mut message = db.message().to_owned();
        if let Some(detail) = db.detail() {
            message.push_str(": ");
            message.push_str(detail);
        }
        return Error::from_database(kind_of_sqlstate(code), AdapterKind::Postgres, code, message);
    }
    if err.is_closed() {
        return Error::ConnectionLost(format!("the PostgreSQL connection is closed: {err}"));
    }
    // Errors without a server response: I/O, protocol, or conversion of a value.
    let text = err.to_string();
    let source = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    if text.starts_with("error serializing parameter")
        || text.starts_with("error deserializing column")
    {
        return Error::InvalidArgument(format!("{text}: {source}"));
    }
    Error::ConnectionLost(if source.is_empty() {
        text
    } else {
        format!("{text}: {source}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        assert_eq!(kind_of_sqlstate("23505"), ErrorKind::UniqueViolation);
        assert_eq!(kind_of_sqlstate("08006"), ErrorKind::ConnectionLost);
        assert_eq!(kind_of_sqlstate("22P02"), ErrorKind::InvalidArgument);
        assert_eq!(kind_of_sqlstate("XX000"), ErrorKind::Other);
    }
}
