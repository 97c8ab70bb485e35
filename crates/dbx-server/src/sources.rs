//! Where migrations and modules come from: one answer for `dbx migrate` and for `dbx serve`
//! (its REST API and the Studio), so that a module migration the command line applied shows
//! as applied in the Studio too. The command line's `--source`/`--modules` win over
//! `server.migrations`/`server.modules` in `dbx.toml`; without either, `./migrations` and
//! (when it exists) `./modules`.

use std::path::PathBuf;
use std::sync::Arc;

use dbx_core::Adapter;
use dbx_migrate::{Migrations, Migrator, Options};
use dbx_service::config::ServerConfig;

/// The migrations directory and the modules directory.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    pub(crate) migrations: PathBuf,
    pub(crate) modules: Option<PathBuf>,
}

impl Sources {
    /// `migrations` and `modules` from the command line, over the configuration's.
    pub(crate) fn new(
        migrations: Option<PathBuf>,
        modules: Option<PathBuf>,
        server: &ServerConfig,
    ) -> Self {
        let modules = modules.or_else(|| server.modules.clone()).or_else(|| {
            let default = PathBuf::from("modules");
            default.is_dir().then_some(default)
        });
        Self {
            migrations: migrations.unwrap_or_else(|| server.migrations.clone()),
            modules,
        }
    }

    /// A migrator for `adapter` over these files, each backend taking its own variants
    /// (`schema.postgres.sql`). With `strict`, a missing migrations directory is an error
    /// unless modules are there (the command line); otherwise it means no migrations (the
    /// server, which only reports and applies what exists).
    pub(crate) fn migrator(
        &self,
        adapter: Arc<dyn Adapter>,
        options: Options,
        strict: bool,
    ) -> dbx_migrate::Result<Migrator> {
        let dialect = adapter.kind().dialect();
        let modules = match &self.modules {
            Some(dir) => dbx_migrate::discover_for(dir, dialect)?,
            None => Vec::new(),
        };
        let migrations = if self.migrations.is_dir() || (strict && modules.is_empty()) {
            Migrations::from_dir_for(&self.migrations, dialect)?
        } else {
            Migrations::default()
        };
        Ok(Migrator::new(adapter, migrations)
            .with_modules(modules)
            .with_options(options))
    }
}
