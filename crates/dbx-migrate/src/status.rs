//! What `status` reports for each migration and module.

use std::fmt;

use crate::ledger::AppliedRow;
use crate::migration::Migration;

/// A migration's state in one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Applied, and its text still matches.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but its text changed since (checksum differs).
    Modified,
    /// Applied, but its file is gone.
    Missing,
    /// Failed part-way outside a transaction; needs `resolve`.
    Dirty,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Dirty => "dirty",
        })
    }
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusEntry {
    /// The module; empty for the application's migrations.
    pub module: String,
    /// The version.
    pub version: i64,
    /// The name (from the file, or from the record when the file is gone).
    pub name: String,
    /// The state.
    pub state: State,
    /// A pending migration older than the newest applied one.
    pub out_of_order: bool,
    /// When it was applied.
    pub applied_at: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// For a dirty migration: what failed.
    pub error: Option<String>,
    /// Its file, when it has one.
    pub origin: Option<String>,
}

impl StatusEntry {
    pub(crate) fn new(
        m: &Migration,
        row: Option<&AppliedRow>,
        state: State,
        out_of_order: bool,
    ) -> Self {
        StatusEntry {
            module: m.module.clone(),
            version: m.version,
            name: m.name.clone(),
            state,
            out_of_order,
            applied_at: row.map(|r| r.applied_at.clone()),
            duration_ms: row.map(|r| r.duration_ms),
            error: row.and_then(|r| r.error.clone()),
            origin: Some(m.origin.clone()),
        }
    }

    pub(crate) fn from_row(r: &AppliedRow, state: State) -> Self {
        StatusEntry {
            module: r.module.clone(),
            version: r.version,
            name: r.description.replace(' ', "_"),
            state,
            out_of_order: false,
            applied_at: Some(r.applied_at.clone()),
            duration_ms: Some(r.duration_ms),
            error: r.error.clone(),
            origin: None,
        }
    }

    /// `version_name`, with `module/` in front for a module's migration.
    pub fn label(&self) -> String {
        crate::migration::label(&self.module, self.version, &self.name)
    }
}

/// A module's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModuleState {
    /// Its name.
    pub name: String,
    /// Whether `_schema_versions` records it.
    pub initialized: bool,
    /// Whether `schema.sql`/`init.sql` changed after it was initialized. They are not run
    /// again; changes to an initialized module belong in its migrations.
    pub schema_changed: bool,
}

/// The state of every migration and module in one database.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    /// Migrations in run order, then records whose files are gone.
    pub entries: Vec<StatusEntry>,
    /// Modules in dependency order.
    pub modules: Vec<ModuleState>,
}

impl Status {
    /// How many entries are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }
}
