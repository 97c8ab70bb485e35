//! Opening a connection: the settings, and the guards that keep SQL from the network inside
//! its own file and its own connection.
//!
//! Every connection gets:
//! - an authorizer that refuses what would reach beyond the tenant's file or this process's
//!   other tenants (`ATTACH` of a file, `VACUUM INTO`, pragmas that change settings of the
//!   whole process) and notes what leaves state on the connection (temporary objects,
//!   attached in-memory databases, pragma settings), so that the pool resets it before
//!   anyone else uses it;
//! - SQLite's defensive mode, which refuses the statements that can deliberately corrupt a
//!   database file (`PRAGMA writable_schema`, `journal_mode = OFF`, writes to shadow tables);
//! - a cap on the size of one value, so that `randomblob(999999999)` cannot make the process
//!   allocate a gigabyte;
//! - a progress handler that stops a statement at its deadline, when its caller goes away,
//!   or when the adapter closes (see [`Watch`]).

use std::sync::Arc;

use dbx_core::{AdapterKind, Error, Result};
use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::{OpenFlags, ffi};

use crate::error::map_err;
use crate::options::SqliteOptions;
use crate::watch::Watch;

/// One rusqlite connection and the controls that reach into its running statements.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) db: rusqlite::Connection,
    pub(crate) watch: Arc<Watch>,
}

/// SQLite runs the progress handler every this many virtual-machine steps: often enough
/// that a deadline is kept within a millisecond or so, rarely enough to cost nothing
/// measurable.
const PROGRESS_STEPS: i32 = 1000;

/// Opens one connection and applies the settings.
pub(crate) fn open(options: &SqliteOptions, writer: bool, watch: Arc<Watch>) -> Result<Conn> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if writer && options.create_if_missing {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut db = rusqlite::Connection::open_with_flags(&options.path, flags).map_err(|e| {
        match e {
            rusqlite::Error::SqliteFailure(code, _)
                if code.code == rusqlite::ErrorCode::CannotOpen =>
            {
                Error::Config(format!(
                    "cannot open SQLite database {}: the file or its directory is missing or not accessible",
                    options.path.display()
                ))
            }
            other => map_err(other),
        }
    })?;
    db.busy_timeout(options.busy_timeout).map_err(map_err)?;
    db.set_prepared_statement_cache_capacity(options.statement_cache_capacity);
    let max_value = i32::try_from(options.max_value_bytes).unwrap_or(i32::MAX);
    db.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_value)
        .map_err(map_err)?;
    db.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(map_err)?;
    let noted = watch.clone();
    let allow_attach = options.allow_attach;
    db.authorizer(Some(move |context: AuthContext<'_>| {
        authorize(&context, allow_attach, &noted)
    }))
    .map_err(map_err)?;
    let stopper = watch.clone();
    db.progress_handler(PROGRESS_STEPS, Some(move || stopper.should_stop()))
        .map_err(map_err)?;
    let mut pragmas = format!(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = {};",
        options.synchronous.as_sql(),
        if options.foreign_keys { "ON" } else { "OFF" }
    );
    if writer && !options.is_memory() {
        pragmas.push_str(&format!(
            " PRAGMA journal_mode = {};",
            options.journal_mode.as_sql()
        ));
    }
    if !writer {
        // A statement misrouted to a reader fails instead of writing behind the writer's back.
        pragmas.push_str(" PRAGMA query_only = ON;");
    }
    db.execute_batch(&pragmas)
        .map_err(|e| damaged(options, e))?;
    // The settings above are the connection's starting point, not state left by a caller.
    watch.take_session_state();
    Ok(Conn { db, watch })
}

/// Names the file and the way out when SQLite finds it is not a database (the first read of
/// a connection, the pragmas above, is where a damaged file shows).
fn damaged(options: &SqliteOptions, err: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    if let rusqlite::Error::SqliteFailure(code, _) = &err
        && matches!(code.code, NotADatabase | DatabaseCorrupt)
    {
        return Error::from_database(
            dbx_core::ErrorKind::Other,
            AdapterKind::Sqlite,
            crate::error::result_code_name(code.extended_code),
            format!(
                "{} is damaged or is not a SQLite database ({err}): restore it from a backup, \
                 or move it aside and create the database again",
                options.path.display()
            ),
        );
    }
    map_err(err)
}

/// Pragmas that set something for the whole process, not one connection: no SQL from a
/// tenant may change them for every other tenant.
const PROCESS_PRAGMAS: &[&str] = &[
    "temp_store_directory",
    "data_store_directory",
    "soft_heap_limit",
    "hard_heap_limit",
];

/// Pragmas whose argument names what to report (a table, an index) rather than a setting.
const QUERY_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "function_list",
    "module_list",
    "pragma_list",
    "collation_list",
    "database_list",
    "compile_options",
];

/// The authorizer. Attaching is allowed only for a temporary database (`''`, which `VACUUM`
/// uses) or `':memory:'`, both given as plain literals: SQLite tells the authorizer no
/// file name when the name is an expression or a bound parameter, and an unknown name is
/// refused, never guessed at.
fn authorize(context: &AuthContext<'_>, allow_attach: bool, watch: &Watch) -> Authorization {
    match context.action {
        AuthAction::Attach { filename } => {
            if !allow_attach && !filename.is_empty() && filename != ":memory:" {
                return Authorization::Deny;
            }
            watch.mark_session_state();
        }
        AuthAction::Unknown {
            code: ffi::SQLITE_ATTACH,
            ..
        } if !allow_attach => return Authorization::Deny,
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            if PROCESS_PRAGMAS.contains(&name.as_str()) {
                return Authorization::Deny;
            }
            if pragma_value.is_some() && !QUERY_PRAGMAS.contains(&name.as_str()) {
                watch.mark_session_state();
            }
        }
        AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. } => watch.mark_session_state(),
        _ => {}
    }
    Authorization::Allow
}
