//! libsql errors as dbx errors. A remote server reports SQLite errors as Hrana errors whose
//! text carries the code (`SQLITE_CONSTRAINT`) and SQLite's message, so the kind is read
//! from both.

use dbx_core::{AdapterKind, Error, ErrorKind};

/// The dbx error for a libsql error.
pub(crate) fn map_err(err: libsql::Error) -> Error {
    let text = err.to_string();
    match err {
        libsql::Error::ConnectionFailed(_) => Error::ConnectionLost(text),
        libsql::Error::Hrana(_) | libsql::Error::RemoteSqliteFailure(..) => {
            if looks_like_transport(&text) {
                return Error::ConnectionLost(text);
            }
            let code = sqlite_code(&text).unwrap_or("SQLITE_ERROR").to_owned();
            Error::from_database(kind_of(&code, &text), AdapterKind::Libsql, code, text)
        }
        libsql::Error::SqliteFailure(_, _) => Error::from_database(
            kind_of("", &text),
            AdapterKind::Libsql,
            "SQLITE_ERROR",
            text,
        ),
        _ => Error::from_database(ErrorKind::Other, AdapterKind::Libsql, "LIBSQL", text),
    }
}

fn looks_like_transport(text: &str) -> bool {
    [
        "error trying to connect",
        "connection refused",
        "connection closed",
        "hyper",
    ]
    .iter()
    .any(|needle| text.to_ascii_lowercase().contains(needle))
}

/// The first `SQLITE_*` or Hrana code word in the text.
fn sqlite_code(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("SQLITE_") || *w == "ARGS_INVALID" || *w == "SQL_PARSE_ERROR")
}

fn kind_of(code: &str, text: &str) -> ErrorKind {
    let has = |needle: &str| text.contains(needle);
    match code {
        _ if has("UNIQUE constraint failed") || has("PRIMARY KEY") && has("constraint") => {
            ErrorKind::UniqueViolation
        }
        _ if has("FOREIGN KEY constraint failed") => ErrorKind::ForeignKeyViolation,
        _ if has("NOT NULL constraint failed") => ErrorKind::NotNullViolation,
        _ if has("CHECK constraint failed") => ErrorKind::CheckViolation,
        _ if has("no such table") => ErrorKind::UndefinedTable,
        _ if has("no such column") => ErrorKind::UndefinedColumn,
        _ if has("syntax error")
            || has("incomplete input")
            || has("unrecognized token")
            || code == "SQL_PARSE_ERROR" =>
        {
            ErrorKind::SyntaxError
        }
        "SQLITE_BUSY" | "SQLITE_LOCKED" => ErrorKind::Busy,
        "SQLITE_AUTH" | "SQLITE_PERM" | "SQLITE_READONLY" => ErrorKind::PermissionDenied,
        "ARGS_INVALID" => ErrorKind::InvalidArgument,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_code_and_message() {
        let text = "Hrana: `api error: `{\"message\":\"UNIQUE constraint failed: t.x\",\"code\":\"SQLITE_CONSTRAINT\"}``";
        assert_eq!(sqlite_code(text), Some("SQLITE_CONSTRAINT"));
        assert_eq!(
            kind_of("SQLITE_CONSTRAINT", text),
            ErrorKind::UniqueViolation
        );
        assert_eq!(
            kind_of("SQLITE_ERROR", "no such table: t"),
            ErrorKind::UndefinedTable
        );
        assert_eq!(
            kind_of("SQLITE_BUSY", "database is locked"),
            ErrorKind::Busy
        );
        assert_eq!(
            kind_of("SQLITE_ERROR", "near \"SELEC\": syntax error"),
            ErrorKind::SyntaxError
        );
    }
}
