//! The configuration: `dbx.toml`, the environment and defaults, merged in that order of
//! precedence from lowest to highest, with command-line overrides on top.

mod env;
mod file;
mod server;
mod types;

use std::path::{Path, PathBuf};

use dbx_core::{AdapterKind, Result};

pub use env::{apply_env, explain_env};
pub use file::{parse, substitute};
pub use server::{HranaConfig, ServerConfig, StatementTimeouts, check_base_path};
#[cfg(feature = "mysql")]
pub use types::MysqlAdapterConfig;
#[cfg(feature = "postgres")]
pub use types::PostgresAdapterConfig;
#[cfg(feature = "sqlite")]
pub use types::SqliteAdapterConfig;
pub use types::{AdapterConfig, DbxConfig, LibsqlAdapterConfig};

/// The adapter used when nothing is configured: SQLite in `data-dir`.
fn default_adapter() -> Result<AdapterConfig> {
    #[cfg(feature = "sqlite")]
    return Ok(AdapterConfig::Sqlite(SqliteAdapterConfig::default()));
    #[cfg(not(feature = "sqlite"))]
    return Err(dbx_core::Error::Config(
        "no adapter is configured, and this build has no SQLite to fall back on".to_owned(),
    ));
}

/// Settings given on the command line; they win over everything else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--adapter`: which adapter is the default.
    pub default_adapter: Option<AdapterKind>,
}

/// Loads the configuration: defaults, then the file (if any), then the environment read
/// through `get`, then `overrides`. The result is validated.
pub fn load(
    file: Option<&Path>,
    get: &impl Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<DbxConfig> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                dbx_core::Error::Config(format!(
                    "cannot read the configuration file {}: {e}",
                    path.display()
                ))
            })?;
            parse(&text, get).map_err(|e| match e {
                dbx_core::Error::Config(msg) => {
                    dbx_core::Error::Config(format!("{}: {msg}", path.display()))
                }
                other => other,
            })?
        }
        None => DbxConfig::default(),
    };
    if config.adapters.is_empty() {
        // No adapters configured: the embedded SQLite default, which the environment may
        // complete or join with others.
        let mut sqlite = default_adapter()?;
        sqlite.set_default(true);
        config.adapters.push(sqlite);
    }
    if let [only] = config.adapters.as_mut_slice() {
        // The only adapter of the file is its default, and stays so when the environment
        // adds another.
        only.set_default(true);
    }
    apply_env(&mut config, get)?;
    if let Some(dir) = &overrides.data_dir {
        config.data_dir.clone_from(dir);
    }
    if let Some(kind) = overrides.default_adapter {
        config.make_default(kind, "--adapter")?;
    }
    config.validate()?;
    Ok(config)
}
