//! dbx errors as Hrana `Error`s with codes clients know.

use dbx_core::{AdapterKind, Error, ErrorKind};

use crate::proto;

/// The SQLite base code name for a (possibly extended) code name:
/// `SQLITE_CONSTRAINT_UNIQUE` becomes `SQLITE_CONSTRAINT`, as sqld and the clients expect.
fn base_code(code: &str) -> String {
    let mut parts = code.splitn(3, '_');
    match (parts.next(), parts.next()) {
        (Some("SQLITE"), Some(base)) => format!("SQLITE_{base}"),
        _ => code.to_owned(),
    }
}

/// The SQLite code that stands for `kind` on a backend that is not SQLite.
fn code_for_kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::UniqueViolation
        | ErrorKind::ForeignKeyViolation
        | ErrorKind::NotNullViolation
        | ErrorKind::CheckViolation => "SQLITE_CONSTRAINT",
        ErrorKind::Busy | ErrorKind::Timeout => "SQLITE_BUSY",
        ErrorKind::PermissionDenied => "SQLITE_AUTH",
        ErrorKind::InvalidArgument => "SQLITE_MISMATCH",
        _ => "SQLITE_ERROR",
    }
}

/// The Hrana error for a failed statement.
pub(crate) fn stmt_error(err: &Error) -> proto::Error {
    let code = match err {
        Error::Database(db) if matches!(db.backend, AdapterKind::Sqlite | AdapterKind::Libsql) => {
            base_code(&db.code)
        }
        // A write in a read-only transaction: PostgreSQL's SQLSTATE 25006, MySQL's 1792.
        Error::Database(db)
            if (db.backend == AdapterKind::Postgres && db.code == "25006")
                || (db.backend == AdapterKind::Mysql && db.code == "1792") =>
        {
            "SQLITE_READONLY".to_owned()
        }
        Error::Database(db) => code_for_kind(db.kind).to_owned(),
        Error::Arguments(_) => "ARGS_INVALID".to_owned(),
        Error::Unsupported { .. } => "SQL_NOT_SUPPORTED".to_owned(),
        Error::Busy(_) | Error::Timeout(_) => "SQLITE_BUSY".to_owned(),
        // Stopped past its time limit, as sqlite3_interrupt stops a statement.
        Error::StatementTimeout(_) => "SQLITE_INTERRUPT".to_owned(),
        Error::ResultTooLarge { .. } => "RESPONSE_TOO_LARGE".to_owned(),
        Error::ConnectionLost(_) | Error::Closed(_) => "SERVER_ERROR".to_owned(),
        other => code_for_kind(other.kind()).to_owned(),
    };
    proto::Error {
        message: err.to_string(),
        code: Some(code),
    }
}

/// The status for a failure to reach a database: 503 when waiting may help (the server is
/// busy, slow or unreachable), 500 when it will not (a damaged file, say).
pub(crate) fn unreachable_status(kind: ErrorKind) -> axum::http::StatusCode {
    match kind {
        ErrorKind::Busy | ErrorKind::Timeout | ErrorKind::ConnectionLost => {
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        }
        _ => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Every 503 says when to try again, so that clients back off instead of hammering.
pub(crate) fn with_retry_after(mut response: axum::response::Response) -> axum::response::Response {
    if response.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_fold_to_their_base() {
        assert_eq!(
            base_code("SQLITE_CONSTRAINT_PRIMARYKEY"),
            "SQLITE_CONSTRAINT"
        );
        assert_eq!(base_code("SQLITE_BUSY"), "SQLITE_BUSY");
        let pg = Error::from_database(
            ErrorKind::UniqueViolation,
            AdapterKind::Postgres,
            "23505",
            "dup",
        );
        assert_eq!(stmt_error(&pg).code.as_deref(), Some("SQLITE_CONSTRAINT"));
        assert_eq!(
            stmt_error(&Error::Arguments("x".into())).code.as_deref(),
            Some("ARGS_INVALID")
        );
    }
}
