//! Where migrations come from: a directory of `<version>_<name>.up.sql` files (with optional
//! `.down.sql`), the same files embedded at compile time, or Rust values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dbx_core::sql::Dialect;

use crate::error::{Error, Result};
use crate::migration::Migration;

/// An ordered set of migrations with unique versions, cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    list: Arc<Vec<Migration>>,
}

impl Migrations {
    /// A set from values; two migrations with one version (in one module) are an error.
    pub fn new(mut list: Vec<Migration>) -> Result<Self> {
        list.sort_by(|a, b| (&a.module, a.version).cmp(&(&b.module, b.version)));
        for pair in list.windows(2) {
            if pair[0].module == pair[1].module && pair[0].version == pair[1].version {
                return Err(Error::Invalid(format!(
                    "two migrations have version {}: {} and {}; give one of them a new version",
                    pair[0].version, pair[0].origin, pair[1].origin
                )));
            }
        }
        Ok(Migrations {
            list: Arc::new(list),
        })
    }

    /// Reads every `*.sql` file in `dir`. A missing directory is an error that names it; a
    /// `.sql` file whose name breaks the rule is an error, other files are ignored.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::from_dir_in_module(dir, "", None)
    }

    /// The migrations of a directory as `dialect` runs them: a file written for that
    /// backend (`3_x.postgres.up.sql`) replaces the generic one (`3_x.up.sql`), and other
    /// backends' files are left out.
    pub fn from_dir_for(dir: &Path, dialect: Dialect) -> Result<Self> {
        Self::from_dir_in_module(dir, "", Some(dialect))
    }

    pub(crate) fn from_dir_in_module(
        dir: &Path,
        module: &str,
        dialect: Option<Dialect>,
    ) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::source_file(
                dir,
                format!(
                    "cannot read the migrations directory ({e}); create it, or pass --source \
                     with the right path"
                ),
            )
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::source_file(dir, e.to_string()))?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "sql") && path.is_file() {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::source_file(&path, format!("cannot read it: {e}")))?;
                files.push((path, text));
            }
        }
        Self::from_files(crate::dialect_files::choose(files, dialect), module)
    }

    /// The migrations of a directory embedded with [`embed_migrations!`](crate::embed_migrations).
    pub fn from_embedded(dir: &include_dir::Dir<'_>) -> Result<Self> {
        let files = dir
            .files()
            .filter(|f| f.path().extension().is_some_and(|ext| ext == "sql"))
            .map(|f| {
                let text = f.contents_utf8().ok_or_else(|| {
                    Error::source_file(f.path(), "is not UTF-8 text; save it as UTF-8")
                })?;
                Ok((f.path().to_path_buf(), text.to_owned()))
            })
            .collect::<Result<Vec<_>>>()?;
        Self::from_files(files, "")
    }

    /// Pairs up `.up.sql`/`.down.sql` (or plain `.sql`, up only) files into migrations.
    pub fn from_files(files: Vec<(PathBuf, String)>, module: &str) -> Result<Self> {
        #[derive(Default)]
        struct Pair {
            name: String,
            up: Option<(PathBuf, String)>,
            down: Option<(PathBuf, String)>,
        }
        let mut pairs: BTreeMap<i64, Pair> = BTreeMap::new();
        for (path, text) in files {
            let file_name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            // A dialect's variant pairs and is named as the generic file it stands for.
            let (generic, _) = crate::dialect_files::split(file_name);
            let parsed =
                parse_file_name(&generic).map_err(|reason| Error::source_file(&path, reason))?;
            let pair = pairs.entry(parsed.version).or_default();
            if !pair.name.is_empty() && pair.name != parsed.name {
                let other = pair
                    .up
                    .as_ref()
                    .or(pair.down.as_ref())
                    .map(|(p, _)| p.display().to_string());
                return Err(Error::source_file(
                    &path,
                    format!(
                        "version {} is also used by {}; every migration needs its own version",
                        parsed.version,
                        other.unwrap_or_default()
                    ),
                ));
            }
            pair.name = parsed.name;
            let slot = if parsed.is_down {
                &mut pair.down
            } else {
                &mut pair.up
            };
            if let Some((existing, _)) = slot {
                return Err(Error::source_file(
                    &path,
                    format!(
                        "duplicates {}: keep either `.sql` or `.up.sql`, not both",
                        existing.display()
                    ),
                ));
            }
            *slot = Some((path, text));
        }
        let mut list = Vec::with_capacity(pairs.len());
        for (version, pair) in pairs {
            let Some((up_path, up_text)) = pair.up else {
                let (down_path, _) = pair.down.unwrap_or_default();
                return Err(Error::source_file(
                    down_path,
                    "has no matching .up.sql file; add it, or remove this down file",
                ));
            };
            let mut migration = Migration::sql(
                version,
                &pair.name,
                &up_text,
                pair.down.as_ref().map(|(_, text)| text.as_str()),
            );
            migration.module = module.to_owned();
            migration.origin = up_path.display().to_string();
            list.push(migration);
        }
        Self::new(list)
    }

    /// Adds migrations from another set (Rust migrations beside SQL files, say).
    pub fn merge(self, other: Migrations) -> Result<Self> {
        let mut list: Vec<Migration> = self.list.iter().cloned().collect();
        list.extend(other.list.iter().cloned());
        Self::new(list)
    }

    /// The migrations in version order.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.list.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

struct FileName {
    version: i64,
    name: String,
    is_down: bool,
}

const NAMING_RULE: &str = "migration files are named <version>_<name>.up.sql, \
     <version>_<name>.down.sql or <version>_<name>.sql, where the version is digits (a number \
     or a YYYYMMDDHHMMSS timestamp) and the name uses letters, digits, '_' and '-'";

fn parse_file_name(file_name: &str) -> std::result::Result<FileName, String> {
    let (stem, is_down) = if let Some(stem) = file_name.strip_suffix(".down.sql") {
        (stem, true)
    } else if let Some(stem) = file_name.strip_suffix(".up.sql") {
        (stem, false)
    } else if let Some(stem) = file_name.strip_suffix(".sql") {
        (stem, false)
    } else {
        return Err(NAMING_RULE.to_owned());
    };
    let Some((digits, name)) = stem.split_once('_') else {
        return Err(format!(
            "has no '_' between version and name; {NAMING_RULE}"
        ));
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the version {digits:?} is not all digits; {NAMING_RULE}"
        ));
    }
    let version = digits
        .parse::<i64>()
        .map_err(|_| format!("the version {digits} is too large (at most 18 digits)"))?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "the name {name:?} is empty or has other characters; {NAMING_RULE}"
        ));
    }
    Ok(FileName {
        version,
        name: name.to_owned(),
        is_down,
    })
}

/// Validates a name given to `dbx migrate new`.
fn check_new_name(name: &str) -> Result<String> {
    let slug = name.trim().replace([' ', '-'], "_").to_ascii_lowercase();
    if slug.is_empty() || !slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Invalid(format!(
            "the migration name {name:?} may use only letters, digits, spaces, '_' and '-'"
        )));
    }
    Ok(slug)
}

/// Creates `<version>_<name>.up.sql` and `.down.sql` in `dir` and returns their paths.
///
/// The version continues a directory of small sequence numbers (`0003` after `0002`, with the
/// same width); otherwise it is the current UTC time as `YYYYMMDDHHMMSS`, bumped past the
/// newest existing version so that two quick calls never collide.
pub fn create_migration_files(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
    let slug = check_new_name(name)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::source_file(dir, format!("cannot create the directory: {e}")))?;
    let existing = Migrations::from_dir(dir)?;
    let newest = existing.iter().map(|m| m.version).max();
    let sequential_width = existing_sequence_width(dir);
    let version_text = match (newest, sequential_width) {
        (Some(newest), Some(width)) if newest < 100_000_000 => {
            format!("{:0width$}", newest + 1)
        }
        _ => {
            let now = timestamp_version();
            newest.map_or(now, |n| now.max(n + 1)).to_string()
        }
    };
    let up = dir.join(format!("{version_text}_{slug}.up.sql"));
    let down = dir.join(format!("{version_text}_{slug}.down.sql"));
    let write = |path: &Path, text: &str| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .map_err(|e| Error::source_file(path, format!("cannot create it: {e}")))
    };
    write(&up, &format!("-- {}: forward\n", slug.replace('_', " ")))?;
    write(
        &down,
        &format!(
            "-- {}: undo what the .up.sql file does\n",
            slug.replace('_', " ")
        ),
    )?;
    Ok((up, down))
}

/// The digit width of existing file versions, when they are short sequence numbers.
fn existing_sequence_width(dir: &Path) -> Option<usize> {
    let names = std::fs::read_dir(dir).ok()?;
    names
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.split_once('_').map(|(v, _)| v.len()))
        .filter(|&w| w < 9)
        .max()
}

/// The current UTC time as a `YYYYMMDDHHMMSS` number.
fn timestamp_version() -> i64 {
    let text = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
        list.iter()
            .map(|(n, t)| (PathBuf::from(n), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn pairs_up_and_down_and_orders_by_version() {
        let set = Migrations::from_files(
            files(&[
                (
                    "20260101120000_add_email.up.sql",
                    "ALTER TABLE users ADD email TEXT",
                ),
                ("2_create_users.up.sql", "CREATE TABLE users (id INT)"),
                ("2_create_users.down.sql", "DROP TABLE users"),
                (
                    "3_seed.sql",
                    "-- dbx:no-transaction\nINSERT INTO users VALUES (1)",
                ),
            ]),
            "",
        )
        .unwrap();
        let versions: Vec<i64> = set.iter().map(|m| m.version).collect();
        assert_eq!(versions, [2, 3, 20_260_101_120_000]);
        let first = set.iter().next().unwrap();
        assert_eq!(first.description, "create users");
        assert!(first.down.is_some());
        let seed = set.iter().nth(1).unwrap();
        assert!(seed.down.is_none());
        assert!(seed.up.no_transaction());
    }

    #[test]
    fn bad_names_and_duplicates_are_named() {
        for (name, expected) in [
            ("create_users.sql", "not all digits"),
            ("12.up.sql", "no '_'"),
            ("1_bad name.sql", "other characters"),
            ("1234567890123456789012_x.sql", "too large"),
        ] {
            let err = Migrations::from_files(files(&[(name, "")]), "").unwrap_err();
            assert!(err.to_string().contains(expected), "{name}: {err}");
            assert!(err.to_string().contains(name), "{err}");
        }
        let err =
            Migrations::from_files(files(&[("1_a.sql", ""), ("1_b.sql", "")]), "").unwrap_err();
        assert!(err.to_string().contains("also used by"), "{err}");
        let err =
            Migrations::from_files(files(&[("1_a.sql", ""), ("1_a.up.sql", "")]), "").unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = Migrations::from_files(files(&[("4_x.down.sql", "")]), "").unwrap_err();
        assert!(err.to_string().contains("no matching .up.sql"), "{err}");
    }

    #[test]
    fn new_files_continue_a_sequence_or_use_a_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let (up, down) = create_migration_files(dir.path(), "Create users").unwrap();
        let stamp = up
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split('_')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(stamp.len(), 14, "{up:?}");
        assert!(down.to_str().unwrap().ends_with("_create_users.down.sql"));
        let (next, _) = create_migration_files(dir.path(), "again").unwrap();
        let next_stamp: i64 = next
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split('_')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(next_stamp > stamp.parse::<i64>().unwrap());

        let seq = tempfile::tempdir().unwrap();
        std::fs::write(seq.path().join("0007_first.up.sql"), "SELECT 1").unwrap();
        let (up, _) = create_migration_files(seq.path(), "second").unwrap();
        assert!(up.ends_with("0008_second.up.sql"), "{up:?}");
        let err = create_migration_files(seq.path(), "semi;colon").unwrap_err();
        assert!(err.to_string().contains("may use only"), "{err}");
    }
}
