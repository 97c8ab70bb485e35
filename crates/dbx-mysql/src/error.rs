//! MySQL and MariaDB error numbers onto dbx's [`ErrorKind`].

use dbx_core::{AdapterKind, Error, ErrorKind};

/// The kind for a server error number.
pub fn kind_of_error_code(code: u16) -> ErrorKind {
    match code {
        1062 | 1586 => ErrorKind::UniqueViolation,
        1216 | 1217 | 1451 | 1452 => ErrorKind::ForeignKeyViolation,
        1048 | 1364 => ErrorKind::NotNullViolation,
        // 3819 is MySQL's CHECK violation, 4025 MariaDB's.
        3819 | 4025 => ErrorKind::CheckViolation,
        1064 | 1149 => ErrorKind::SyntaxError,
        1146 | 1051 => ErrorKind::UndefinedTable,
        1054 => ErrorKind::UndefinedColumn,
        1205 | 1213 => ErrorKind::Busy,
        1044 | 1045 | 1095 | 1142 | 1143 | 1227 | 1370 => ErrorKind::PermissionDenied,
        1053 | 1927 | 2006 | 2013 => ErrorKind::ConnectionLost,
        1969 | 3024 => ErrorKind::Timeout,
        1264 | 1265 | 1292 | 1366 | 1406 | 1690 => ErrorKind::InvalidArgument,
        1235 => ErrorKind::Unsupported,
        _ => ErrorKind::Other,
    }
}

/// Converts a mysql_async error into a dbx error.
pub(crate) fn map_err(err: mysql_async::Error) -> Error {
    match err {
        mysql_async::Error::Server(e) => Error::from_database(
            kind_of_error_code(e.code),
            AdapterKind::Mysql,
            e.code.to_string(),
            e.message,
        ),
        mysql_async::Error::Io(e) => Error::ConnectionLost(format!("MySQL connection: {e}")),
        mysql_async::Error::Driver(e) => match e {
            mysql_async::DriverError::StmtParamsMismatch { required, supplied } => {
                Error::Arguments(format!(
                    "MySQL sees {required} parameters but {supplied} arguments were bound"
                ))
            }
            other => Error::ConnectionLost(format!("MySQL driver: {other}")),
        },
        mysql_async::Error::Url(e) => Error::Config(format!("invalid MySQL URL: {e}")),
        mysql_async::Error::Other(e) => Error::ConnectionLost(format!("MySQL: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(kind_of_error_code(1062), ErrorKind::UniqueViolation);
        assert_eq!(kind_of_error_code(4025), ErrorKind::CheckViolation);
        assert_eq!(kind_of_error_code(9999), ErrorKind::Other);
    }
}
