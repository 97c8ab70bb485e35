//! Environment auto-detection: the variables of the seed deployments.
//!
//! | variable | effect |
//! | --- | --- |
//! | `DATABASE_TYPE` | makes that kind the default adapter (adding it if missing) |
//! | `DATABASE_FILE` | the SQLite root database path |
//! | `DATABASE_LIBSQL_URL` | adds a libSQL adapter with this primary, or sets the configured one's |
//! | `DATABASE_LIBSQL_REPLICAS` | comma-separated replica URLs for the libSQL adapter |
//! | `DATABASE_LIBSQL_AUTH_TOKEN` | the libSQL auth token |
//! | `POSTGRES_HOST`, `_PORT`, `_DB`, `_USER`, `_PASSWORD`, `_SSL` | add or complete the PostgreSQL adapter |
//! | `MYSQL_HOST`, `_PORT`, `_DATABASE`, `_USER`, `_PASSWORD` | add or complete the MySQL adapter |
//! | `DB_POOL_MIN`, `DB_POOL_MAX`, `DB_IDLE_TIMEOUT` | pool settings of the PostgreSQL and MySQL adapters |

use dbx_core::{AdapterKind, Error, Result};

use super::types::{AdapterConfig, DbxConfig, LibsqlAdapterConfig};

/// Each variable of an adapter, the adapter kinds it sets, and where its setting lives in
/// that adapter's configuration (a JSON pointer into its serialized form).
const SETTINGS: &[(&str, &[&str], &str)] = &[
    ("DATABASE_FILE", &["sqlite"], "/path"),
    ("DATABASE_LIBSQL_URL", &["libsql"], "/url"),
    ("DATABASE_LIBSQL_REPLICAS", &["libsql"], "/replicas"),
    ("DATABASE_LIBSQL_AUTH_TOKEN", &["libsql"], "/auth-token"),
    ("POSTGRES_HOST", &["postgres"], "/connection/host"),
    ("POSTGRES_PORT", &["postgres"], "/connection/port"),
    ("POSTGRES_DB", &["postgres"], "/connection/dbname"),
    ("POSTGRES_USER", &["postgres"], "/connection/user"),
    ("POSTGRES_PASSWORD", &["postgres"], "/connection/password"),
    ("POSTGRES_SSL", &["postgres"], "/connection/sslmode"),
    ("MYSQL_HOST", &["mysql"], "/connection/host"),
    ("MYSQL_PORT", &["mysql"], "/connection/port"),
    ("MYSQL_DATABASE", &["mysql"], "/connection/database"),
    ("MYSQL_USER", &["mysql"], "/connection/user"),
    ("MYSQL_PASSWORD", &["mysql"], "/connection/password"),
    (
        "DB_POOL_MIN",
        &["postgres", "mysql"],
        "/connection/pool/min-idle",
    ),
    (
        "DB_POOL_MAX",
        &["postgres", "mysql"],
        "/connection/pool/max-size",
    ),
    (
        "DB_IDLE_TIMEOUT",
        &["postgres", "mysql"],
        "/connection/pool/idle-timeout",
    ),
];

/// For each variable that is set, one line saying what it became in `config` (the result
/// of [`apply_env`]): `DB_IDLE_TIMEOUT=30000 -> postgres pool.idle-timeout = "30s"`.
/// Secrets are shown by length only.
pub fn explain_env(config: &DbxConfig, get: &impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(value) = get("DATABASE_TYPE") {
        let default = config
            .default_kind()
            .map_or_else(|| "none".to_owned(), |k| k.to_string());
        lines.push(format!(
            "DATABASE_TYPE={value} -> default adapter = {default}"
        ));
    }
    for (name, kinds, pointer) in SETTINGS {
        let Some(value) = get(name) else { continue };
        let secret = name.ends_with("PASSWORD") || name.ends_with("TOKEN");
        let shown = if secret {
            format!("({} characters)", value.chars().count())
        } else {
            value
        };
        for kind in *kinds {
            let Some(adapter) = config.adapters.iter().find(|a| a.kind().as_str() == *kind) else {
                continue;
            };
            let became = serde_json::to_value(adapter)
                .ok()
                .and_then(|v| v.pointer(pointer).cloned())
                .map_or_else(
                    || "unset".to_owned(),
                    |v| {
                        if secret {
                            "(set)".to_owned()
                        } else {
                            v.to_string()
                        }
                    },
                );
            let setting = pointer
                .trim_start_matches('/')
                .replace("connection/", "")
                .replace('/', ".");
            lines.push(format!("{name}={shown} -> {kind} {setting} = {became}"));
        }
    }
    lines
}

fn position(config: &DbxConfig, kind: AdapterKind) -> Option<usize> {
    config.adapters.iter().position(|a| a.kind() == kind)
}

/// The adapter of `kind`, added with its defaults if it is missing.
fn ensure(config: &mut DbxConfig, kind: AdapterKind) -> Result<&mut AdapterConfig> {
    let index = match position(config, kind) {
        Some(i) => i,
        None => {
            config.adapters.push(blank(kind)?);
            config.adapters.len() - 1
        }
    };
    Ok(&mut config.adapters[index])
}

fn blank(kind: AdapterKind) -> Result<AdapterConfig> {
    let not_built = |feature: &str| {
        Error::Config(format!(
            "{kind} is asked for, but this build has no {kind} adapter (cargo feature `{feature}`)"
        ))
    };
    match kind {
        #[cfg(feature = "sqlite")]
        AdapterKind::Sqlite => Ok(AdapterConfig::Sqlite(Default::default())),
        #[cfg(feature = "postgres")]
        AdapterKind::Postgres => Ok(AdapterConfig::Postgres(Default::default())),
        #[cfg(feature = "mysql")]
        AdapterKind::Mysql => Ok(AdapterConfig::Mysql(Default::default())),
        AdapterKind::Libsql => Ok(AdapterConfig::Libsql(LibsqlAdapterConfig::default())),
        #[allow(unreachable_patterns)]
        other => Err(not_built(other.as_str())),
    }
}

fn any_set(get: &impl Fn(&str) -> Option<String>, names: &[&str]) -> bool {
    names.iter().any(|n| get(n).is_some())
}

/// Applies the environment to `config`.
pub fn apply_env(config: &mut DbxConfig, get: &impl Fn(&str) -> Option<String>) -> Result<()> {
    #[cfg(feature = "sqlite")]
    if let Some(file) = get("DATABASE_FILE")
        && let AdapterConfig::Sqlite(sqlite) = ensure(config, AdapterKind::Sqlite)?
    {
        sqlite.path = file.into();
    }

    let libsql_url = get("DATABASE_LIBSQL_URL");
    let libsql_vars = ["DATABASE_LIBSQL_REPLICAS", "DATABASE_LIBSQL_AUTH_TOKEN"];
    if libsql_url.is_some() || position(config, AdapterKind::Libsql).is_some() {
        if let AdapterConfig::Libsql(libsql) = ensure(config, AdapterKind::Libsql)? {
            if let Some(url) = libsql_url {
                libsql.url = Some(url);
            }
            if let Some(replicas) = get("DATABASE_LIBSQL_REPLICAS") {
                libsql.replicas = replicas
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            if let Some(token) = get("DATABASE_LIBSQL_AUTH_TOKEN") {
                libsql.auth_token = Some(token);
            }
        }
    } else if any_set(get, &libsql_vars) {
        return Err(Error::Config(
            "DATABASE_LIBSQL_REPLICAS or DATABASE_LIBSQL_AUTH_TOKEN is set, but there is no libSQL adapter: \
             set DATABASE_LIBSQL_URL, or configure one in dbx.toml"
                .to_owned(),
        ));
    }

    #[cfg(feature = "postgres")]
    {
        let vars = [
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_DB",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
            "POSTGRES_SSL",
        ];
        if (any_set(get, &vars) || position(config, AdapterKind::Postgres).is_some())
            && let AdapterConfig::Postgres(pg) = ensure(config, AdapterKind::Postgres)?
        {
            pg.connection.apply_env(get)?;
        }
    }

    #[cfg(feature = "mysql")]
    {
        let vars = [
            "MYSQL_HOST",
            "MYSQL_PORT",
            "MYSQL_DATABASE",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
        ];
        if (any_set(get, &vars) || position(config, AdapterKind::Mysql).is_some())
            && let AdapterConfig::Mysql(my) = ensure(config, AdapterKind::Mysql)?
        {
            my.connection.apply_env(get)?;
        }
    }

    if let Some(kind) = get("DATABASE_TYPE") {
        let kind: AdapterKind = kind
            .parse()
            .map_err(|e| Error::Config(format!("DATABASE_TYPE: {e}")))?;
        ensure(config, kind)?;
        config.make_default(kind, "DATABASE_TYPE")?;
    }
    Ok(())
}
