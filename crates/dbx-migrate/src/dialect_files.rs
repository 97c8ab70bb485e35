//! Files written for one backend beside the generic one: `schema.postgres.sql` over
//! `schema.sql`, `3_add_plan.mysql.up.sql` over `3_add_plan.up.sql`. Seed 001's own
//! `schema.sql` uses SQLite's `INTEGER PRIMARY KEY AUTOINCREMENT`, which PostgreSQL and
//! MySQL refuse; a module (or an application) that serves several backends carries a
//! variant for each one that needs it, and the backend migrated picks its own.

use std::path::PathBuf;

use dbx_core::sql::Dialect;

/// The infix of each dialect's files. libSQL speaks SQLite, so it takes `.sqlite` files.
pub(crate) fn infix(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
    }
}

const INFIXES: [&str; 3] = ["sqlite", "postgres", "mysql"];
const SUFFIXES: [&str; 3] = [".down.sql", ".up.sql", ".sql"];

/// A file name without its dialect infix, and the dialect it names:
/// `3_x.postgres.up.sql` is (`3_x.up.sql`, `postgres`); `3_x.up.sql` is itself, for all.
pub(crate) fn split(file_name: &str) -> (String, Option<&'static str>) {
    for suffix in SUFFIXES {
        let Some(stem) = file_name.strip_suffix(suffix) else {
            continue;
        };
        for infix in INFIXES {
            if let Some(base) = stem.strip_suffix(&format!(".{infix}")) {
                return (format!("{base}{suffix}"), Some(infix));
            }
        }
        break;
    }
    (file_name.to_owned(), None)
}

fn name_of(path: &std::path::Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

/// The files `dialect` runs: its own variants, and the generic files it has none for;
/// other dialects' variants are left out. With no dialect (migrations embedded for any
/// backend) only the generic files count.
pub(crate) fn choose(
    files: Vec<(PathBuf, String)>,
    dialect: Option<Dialect>,
) -> Vec<(PathBuf, String)> {
    let wanted = dialect.map(infix);
    let overridden: std::collections::BTreeSet<String> = files
        .iter()
        .filter_map(|(path, _)| {
            let (generic, of) = split(name_of(path));
            (of.is_some() && of == wanted).then_some(generic)
        })
        .collect();
    files
        .into_iter()
        .filter(|(path, _)| match split(name_of(path)) {
            (_, Some(of)) => Some(of) == wanted,
            (generic, None) => !overridden.contains(&generic),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialect_variant_replaces_the_generic_file_for_its_backend_only() {
        let files = |names: &[&str]| -> Vec<(PathBuf, String)> {
            names
                .iter()
                .map(|n| (PathBuf::from(n), String::new()))
                .collect()
        };
        let names = |chosen: Vec<(PathBuf, String)>| -> Vec<String> {
            chosen
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect()
        };
        let all = files(&[
            "1_a.up.sql",
            "1_a.postgres.up.sql",
            "1_a.down.sql",
            "2_b.sql",
            "2_b.mysql.sql",
        ]);
        assert_eq!(
            names(choose(all.clone(), Some(Dialect::Postgres))),
            ["1_a.postgres.up.sql", "1_a.down.sql", "2_b.sql"]
        );
        assert_eq!(
            names(choose(all.clone(), Some(Dialect::Mysql))),
            ["1_a.up.sql", "1_a.down.sql", "2_b.mysql.sql"]
        );
        assert_eq!(
            names(choose(all, None)),
            ["1_a.up.sql", "1_a.down.sql", "2_b.sql"]
        );
        assert_eq!(
            split("schema.postgres.sql"),
            ("schema.sql".to_owned(), Some("postgres"))
        );
        assert_eq!(
            split("3_x.sqlite.down.sql"),
            ("3_x.down.sql".to_owned(), Some("sqlite"))
        );
        assert_eq!(split("3_x.down.sql"), ("3_x.down.sql".to_owned(), None));
    }
}
