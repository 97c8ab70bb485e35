//! Modules (seed 001): `modules/<name>/database/` holds `schema.sql` (required), `init.sql`
//! (optional) and `migrations/*.sql`; `module.yaml` (beside `database/` or inside it) lists
//! `dependencies:`. Modules initialize in dependency order, once each. A module that serves
//! several backends carries variants (`schema.postgres.sql`, `init.mysql.sql`,
//! `migrations/2_x.postgres.sql`), chosen over the generic file for that backend.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dbx_core::sql::Dialect;
use serde::Deserialize;

use crate::checksum::checksum;
use crate::error::{Error, Result};
use crate::source::Migrations;

/// One discovered module.
#[derive(Debug, Clone)]
pub struct Module {
    /// The directory name under `modules/`.
    pub name: String,
    /// `modules/<name>/database`.
    pub dir: PathBuf,
    /// `schema.sql`, or the variant for the backend it was discovered for.
    pub schema_sql: String,
    /// The file `schema_sql` came from (`schema.sql` or `schema.postgres.sql`).
    pub schema_file: String,
    /// `init.sql`, if present.
    pub init_sql: Option<String>,
    /// The modules this one needs first.
    pub dependencies: Vec<String>,
    /// `migrations/*.sql`, recorded under the module's name.
    pub migrations: Migrations,
}

impl Module {
    /// The checksum recorded in `_schema_versions`: schema and init text together.
    pub fn checksum(&self) -> String {
        checksum(&format!(
            "{}\n-- init --\n{}",
            self.schema_sql,
            self.init_sql.as_deref().unwrap_or_default()
        ))
    }
}

#[derive(Debug, Default, Deserialize)]
struct Manifest {
    #[serde(default)]
    dependencies: Vec<String>,
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::source_file(path, format!("cannot read it: {e}"))),
    }
}

fn read_manifest(module_dir: &Path) -> Result<Manifest> {
    for path in [
        module_dir.join("module.yaml"),
        module_dir.join("database/module.yaml"),
    ] {
        if let Some(text) = read_optional(&path)? {
            return serde_yaml::from_str::<Option<Manifest>>(&text)
                .map(Option::unwrap_or_default)
                .map_err(|e| {
                    Error::source_file(
                        &path,
                        format!("is not valid YAML with a `dependencies:` list: {e}"),
                    )
                });
        }
    }
    Ok(Manifest::default())
}

/// `<stem>.<dialect>.sql` when it exists (and a dialect is given), else `<stem>.sql`; the
/// text and the file's name, or `None` when neither exists.
fn read_for(dir: &Path, stem: &str, dialect: Option<Dialect>) -> Result<Option<(String, String)>> {
    if let Some(dialect) = dialect {
        let name = format!("{stem}.{}.sql", crate::dialect_files::infix(dialect));
        if let Some(text) = read_optional(&dir.join(&name))? {
            return Ok(Some((text, name)));
        }
    }
    let name = format!("{stem}.sql");
    Ok(read_optional(&dir.join(&name))?.map(|text| (text, name)))
}

/// Finds every module under `root` (usually `./modules`) and returns them in dependency order,
/// ties broken by name. Directories without `database/` are not modules and are skipped.
/// Generic files only; [`discover_for`] picks each backend's variants.
pub fn discover(root: &Path) -> Result<Vec<Module>> {
    discover_in(root, None)
}

/// [`discover`] for one backend: `schema.postgres.sql`, `init.postgres.sql` and
/// `migrations/*.postgres.sql` (likewise `mysql`, `sqlite`) replace the generic files.
pub fn discover_for(root: &Path, dialect: Dialect) -> Result<Vec<Module>> {
    discover_in(root, Some(dialect))
}

fn discover_in(root: &Path, dialect: Option<Dialect>) -> Result<Vec<Module>> {
    let entries = std::fs::read_dir(root)
        .map_err(|e| Error::source_file(root, format!("cannot read the modules directory: {e}")))?;
    let mut found = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::source_file(root, e.to_string()))?;
        let module_dir = entry.path();
        let db_dir = module_dir.join("database");
        if !db_dir.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let (schema_sql, schema_file) = read_for(&db_dir, "schema", dialect)?.ok_or_else(|| {
            Error::source_file(
                db_dir.join("schema.sql"),
                "is missing: every module with a database/ directory needs a schema.sql",
            )
        })?;
        let init_sql = read_for(&db_dir, "init", dialect)?.map(|(text, _)| text);
        let migrations_dir = db_dir.join("migrations");
        let migrations = if migrations_dir.is_dir() {
            Migrations::from_dir_in_module(&migrations_dir, &name, dialect)?
        } else {
            Migrations::default()
        };
        let manifest = read_manifest(&module_dir)?;
        found.insert(
            name.clone(),
            Module {
                name,
                dir: db_dir,
                schema_sql,
                schema_file,
                init_sql,
                dependencies: manifest.dependencies,
                migrations,
            },
        );
    }
    order(found)
}

/// Orders modules so that each comes after its dependencies.
fn order(mut modules: BTreeMap<String, Module>) -> Result<Vec<Module>> {
    for module in modules.values() {
        for dep in &module.dependencies {
            if !modules.contains_key(dep) {
                return Err(Error::Dependency(format!(
                    "module {:?} depends on {dep:?}, which has no modules/{dep}/database/ \
                     directory; add that module or remove it from {:?}'s module.yaml",
                    module.name, module.name
                )));
            }
        }
    }
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(modules.len());
    while !modules.is_empty() {
        let ready = modules
            .values()
            .find(|m| m.dependencies.iter().all(|d| done.contains(d)))
            .map(|m| m.name.clone());
        let Some(name) = ready else {
            return Err(Error::Dependency(format!(
                "module dependencies form a cycle: {}; remove one of these dependencies",
                find_cycle(&modules)
            )));
        };
        if let Some(module) = modules.remove(&name) {
            done.insert(name);
            out.push(module);
        }
    }
    Ok(out)
}

/// A readable cycle among modules that are all blocked (`a -> b -> a`).
fn find_cycle(blocked: &BTreeMap<String, Module>) -> String {
    let Some(start) = blocked.keys().next() else {
        return String::new();
    };
    let mut path = vec![start.clone()];
    let mut current = start.clone();
    loop {
        let next = blocked[&current]
            .dependencies
            .iter()
            .find(|d| blocked.contains_key(*d))
            .cloned()
            .unwrap_or_default();
        if let Some(at) = path.iter().position(|p| *p == next) {
            let mut cycle = path[at..].to_vec();
            cycle.push(next);
            return cycle.join(" -> ");
        }
        path.push(next.clone());
        current = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(root: &Path, name: &str, deps: &[&str]) {
        let db = root.join(name).join("database");
        std::fs::create_dir_all(db.join("migrations")).unwrap();
        std::fs::write(
            db.join("schema.sql"),
            format!("CREATE TABLE {name}_t (id INT);"),
        )
        .unwrap();
        let list: Vec<String> = deps.iter().map(|d| format!("  - {d}\n")).collect();
        std::fs::write(
            root.join(name).join("module.yaml"),
            format!("name: {name}\ndependencies:\n{}", list.concat()),
        )
        .unwrap();
    }

    #[test]
    fn dependencies_come_first() {
        let root = tempfile::tempdir().unwrap();
        module(root.path(), "billing", &["users", "audit"]);
        module(root.path(), "users", &["audit"]);
        module(root.path(), "audit", &[]);
        std::fs::create_dir_all(root.path().join("docs")).unwrap();
        let names: Vec<String> = discover(root.path())
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["audit", "users", "billing"]);
    }

    #[test]
    fn cycles_and_missing_dependencies_are_named() {
        let root = tempfile::tempdir().unwrap();
        module(root.path(), "a", &["b"]);
        module(root.path(), "b", &["c"]);
        module(root.path(), "c", &["a"]);
        let err = discover(root.path()).unwrap_err();
        assert!(err.to_string().contains("a -> b -> c -> a"), "{err}");

        let root = tempfile::tempdir().unwrap();
        module(root.path(), "a", &["ghost"]);
        let err = discover(root.path()).unwrap_err();
        assert!(err.to_string().contains("\"ghost\""), "{err}");
        assert_eq!(err.kind(), crate::ErrorKind::Dependency);
    }

    #[test]
    fn a_database_dir_without_schema_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("x/database")).unwrap();
        let err = discover(root.path()).unwrap_err();
        assert!(err.to_string().contains("schema.sql"), "{err}");
    }
}
