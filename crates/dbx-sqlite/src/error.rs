//! Maps rusqlite errors onto dbx's [`ErrorKind`], keeping SQLite's result-code name.

use dbx_core::{AdapterKind, Error, ErrorKind};
use rusqlite::ffi;

/// The name of an SQLite (extended) result code, as SQLite's documentation spells it.
pub fn result_code_name(extended: i32) -> &'static str {
    match extended {
        ffi::SQLITE_CONSTRAINT_UNIQUE => "SQLITE_CONSTRAINT_UNIQUE",
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => "SQLITE_CONSTRAINT_PRIMARYKEY",
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => "SQLITE_CONSTRAINT_FOREIGNKEY",
        ffi::SQLITE_CONSTRAINT_NOTNULL => "SQLITE_CONSTRAINT_NOTNULL",
        ffi::SQLITE_CONSTRAINT_CHECK => "SQLITE_CONSTRAINT_CHECK",
        ffi::SQLITE_CONSTRAINT_TRIGGER => "SQLITE_CONSTRAINT_TRIGGER",
        ffi::SQLITE_CONSTRAINT_ROWID => "SQLITE_CONSTRAINT_ROWID",
        ffi::SQLITE_CONSTRAINT_DATATYPE => "SQLITE_CONSTRAINT_DATATYPE",
        ffi::SQLITE_BUSY_SNAPSHOT => "SQLITE_BUSY_SNAPSHOT",
        ffi::SQLITE_BUSY_RECOVERY => "SQLITE_BUSY_RECOVERY",
        ffi::SQLITE_READONLY_DBMOVED => "SQLITE_READONLY_DBMOVED",
        _ => match extended & 0xff {
            ffi::SQLITE_ERROR => "SQLITE_ERROR",
            ffi::SQLITE_INTERNAL => "SQLITE_INTERNAL",
            ffi::SQLITE_PERM => "SQLITE_PERM",
            ffi::SQLITE_ABORT => "SQLITE_ABORT",
            ffi::SQLITE_BUSY => "SQLITE_BUSY",
            ffi::SQLITE_LOCKED => "SQLITE_LOCKED",
            ffi::SQLITE_NOMEM => "SQLITE_NOMEM",
            ffi::SQLITE_READONLY => "SQLITE_READONLY",
            ffi::SQLITE_INTERRUPT => "SQLITE_INTERRUPT",
            ffi::SQLITE_IOERR => "SQLITE_IOERR",
            ffi::SQLITE_CORRUPT => "SQLITE_CORRUPT",
            ffi::SQLITE_NOTFOUND => "SQLITE_NOTFOUND",
            ffi::SQLITE_FULL => "SQLITE_FULL",
            ffi::SQLITE_CANTOPEN => "SQLITE_CANTOPEN",
            ffi::SQLITE_PROTOCOL => "SQLITE_PROTOCOL",
            ffi::SQLITE_SCHEMA => "SQLITE_SCHEMA",
            ffi::SQLITE_TOOBIG => "SQLITE_TOOBIG",
            ffi::SQLITE_CONSTRAINT => "SQLITE_CONSTRAINT",
            ffi::SQLITE_MISMATCH => "SQLITE_MISMATCH",
            ffi::SQLITE_MISUSE => "SQLITE_MISUSE",
            ffi::SQLITE_AUTH => "SQLITE_AUTH",
            ffi::SQLITE_RANGE => "SQLITE_RANGE",
            ffi::SQLITE_NOTADB => "SQLITE_NOTADB",
            _ => "SQLITE_UNKNOWN",
        },
    }
}

fn kind_of(extended: i32, message: &str) -> ErrorKind {
    match extended {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            return ErrorKind::UniqueViolation;
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return ErrorKind::ForeignKeyViolation,
        ffi::SQLITE_CONSTRAINT_NOTNULL => return ErrorKind::NotNullViolation,
        ffi::SQLITE_CONSTRAINT_CHECK => return ErrorKind::CheckViolation,
        _ => {}
    }
    match extended & 0xff {
        ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => ErrorKind::Busy,
        ffi::SQLITE_PERM | ffi::SQLITE_AUTH | ffi::SQLITE_READONLY => ErrorKind::PermissionDenied,
        ffi::SQLITE_INTERRUPT => ErrorKind::Timeout,
        ffi::SQLITE_RANGE | ffi::SQLITE_TOOBIG | ffi::SQLITE_MISMATCH => ErrorKind::InvalidArgument,
        ffi::SQLITE_ERROR => classify_message(message),
        _ => ErrorKind::Other,
    }
}

/// SQLite reports parse and name errors as plain `SQLITE_ERROR`; the message tells them apart.
fn classify_message(message: &str) -> ErrorKind {
    if message.starts_with("no such table") || message.starts_with("no such view") {
        ErrorKind::UndefinedTable
    } else if message.starts_with("no such column") || message.contains("has no column named") {
        ErrorKind::UndefinedColumn
    } else if message.contains("syntax error")
        || message.starts_with("incomplete input")
        || message.starts_with("unrecognized token")
    {
        ErrorKind::SyntaxError
    } else {
        ErrorKind::Other
    }
}

/// Converts a rusqlite error into a dbx error.
pub(crate) fn map_err(err: rusqlite::Error) -> Error {
    match err {
        rusqlite::Error::SqliteFailure(code, _)
            if code.extended_code == ffi::SQLITE_BUSY_SNAPSHOT =>
        {
            Error::from_database(
                ErrorKind::Busy,
                AdapterKind::Sqlite,
                "SQLITE_BUSY_SNAPSHOT",
                "another write committed after this transaction first read, so its snapshot \
                 is stale and it cannot write: roll back and run the transaction again, or \
                 open it with BEGIN IMMEDIATE so that it takes the write lock before it reads"
                    .to_owned(),
            )
        }
        rusqlite::Error::SqliteFailure(code, message) => {
            let message = message.unwrap_or_else(|| code.to_string());
            let kind = kind_of(code.extended_code, &message);
            Error::from_database(
                kind,
                AdapterKind::Sqlite,
                result_code_name(code.extended_code),
                message,
            )
        }
        // Errors found while preparing: same codes, plus where in the text SQLite stopped.
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => {
            let kind = kind_of(error.extended_code, &msg);
            let message = if offset >= 0 {
                format!("{msg} (at byte {offset})")
            } else {
                msg
            };
            Error::from_database(
                kind,
                AdapterKind::Sqlite,
                result_code_name(error.extended_code),
                message,
            )
        }
        rusqlite::Error::MultipleStatement => Error::InvalidArgument(
            "the SQL holds more than one statement: send one statement per call, or use batch"
                .to_owned(),
        ),
        rusqlite::Error::InvalidParameterCount(given, expected) => Error::Arguments(format!(
            "the statement takes {expected} arguments but {given} were given"
        )),
        rusqlite::Error::Utf8Error(_, e) => Error::Conversion {
            from: "text",
            to: "String",
            detail: Some(format!("invalid UTF-8: {e}")),
        },
        other => Error::from_database(
            ErrorKind::Other,
            AdapterKind::Sqlite,
            "SQLITE_MISUSE",
            other.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_classification() {
        assert_eq!(
            classify_message("no such table: x"),
            ErrorKind::UndefinedTable
        );
        assert_eq!(
            classify_message("table t has no column named z"),
            ErrorKind::UndefinedColumn
        );
        assert_eq!(
            classify_message("near \"SELEC\": syntax error"),
            ErrorKind::SyntaxError
        );
        assert_eq!(classify_message("something else"), ErrorKind::Other);
    }

    #[test]
    fn code_names() {
        assert_eq!(
            result_code_name(ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            "SQLITE_CONSTRAINT_FOREIGNKEY"
        );
        assert_eq!(result_code_name(ffi::SQLITE_IOERR_READ), "SQLITE_IOERR");
        assert_eq!(kind_of(ffi::SQLITE_BUSY_SNAPSHOT, ""), ErrorKind::Busy);
    }
}
