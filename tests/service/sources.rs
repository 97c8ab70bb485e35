//! One set of defaults whatever the source of configuration: an adapter added by the
//! environment variables of the seed deployments behaves as one written in `dbx.toml`, and
//! `DatabaseService` built from either creates tenants on first access.

use std::collections::HashMap;

use dbx_core::{AdapterKind, Statement, TenantId};
use dbx_service::DatabaseService;
use dbx_service::config::{self, Overrides};
use dbx_tests::env::unique_name;

fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

/// The adapter of `kind` in `config` as JSON, without its `default` mark, so that two
/// sources compare on everything else.
fn adapter(config: &config::DbxConfig, kind: AdapterKind) -> serde_json::Value {
    let mut adapter = serde_json::to_value(config.adapter(kind).unwrap()).unwrap();
    adapter.as_object_mut().unwrap().remove("default");
    adapter
}

#[test]
fn an_adapter_from_the_environment_has_the_defaults_of_one_from_the_file() {
    // The kind, the variables that add it, and what its file entry needs beside `kind`.
    type Case = (AdapterKind, Vec<(&'static str, String)>, &'static str);
    let cases: [Case; 3] = [
        (
            AdapterKind::Postgres,
            vec![("POSTGRES_HOST", "localhost".into())],
            "",
        ),
        (
            AdapterKind::Mysql,
            vec![("MYSQL_HOST", "localhost".into())],
            "",
        ),
        (
            AdapterKind::Libsql,
            vec![("DATABASE_LIBSQL_URL", "http://127.0.0.1:8080".into())],
            "url = \"http://127.0.0.1:8080\"\n",
        ),
    ];
    for (kind, vars, extra) in cases {
        let from_env = config::load(None, &env(&vars), &Overrides::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dbx.toml");
        let host = if kind == AdapterKind::Libsql {
            String::new()
        } else {
            "[adapters.connection]\nhost = \"localhost\"\n".to_owned()
        };
        std::fs::write(
            &file,
            format!(
                "[[adapters]]\nkind = \"sqlite\"\ndefault = true\n\n[[adapters]]\nkind = \"{kind}\"\n{extra}{host}"
            ),
        )
        .unwrap();
        let from_file = config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(
            adapter(&from_env, kind),
            adapter(&from_file, kind),
            "{kind}"
        );
        assert_eq!(
            adapter(&from_env, kind)["auto-create-tenants"],
            serde_json::json!(true),
            "{kind}"
        );
    }
}

#[test]
fn config_check_says_what_each_variable_became() {
    let vars = [
        ("DB_IDLE_TIMEOUT", "30000".to_owned()),
        ("DB_POOL_MAX", "12".to_owned()),
        ("POSTGRES_HOST", "pg.internal".to_owned()),
        ("POSTGRES_PASSWORD", "hunter2".to_owned()),
        ("DATABASE_TYPE", "postgres".to_owned()),
    ];
    let get = env(&vars);
    let config = config::load(None, &get, &Overrides::default()).unwrap();
    let lines = config::explain_env(&config, &get);
    let text = lines.join("\n");
    for expected in [
        "DATABASE_TYPE=postgres -> default adapter = postgres",
        "DB_IDLE_TIMEOUT=30000 -> postgres pool.idle-timeout = \"30s\"",
        "DB_POOL_MAX=12 -> postgres pool.max-size = 12",
        "POSTGRES_HOST=pg.internal -> postgres host = \"pg.internal\"",
        "POSTGRES_PASSWORD=(7 characters) -> postgres password = (set)",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("hunter2"), "{text}");
}

/// A server URL's parts: user, password, host, port and database.
struct Parts {
    user: String,
    password: Option<String>,
    host: String,
    port: String,
    database: String,
}

/// `scheme://user[:password]@host:port/database` as its parts.
fn parts(url: &str) -> Parts {
    let rest = url.split_once("://").unwrap().1;
    let (auth, rest) = rest.split_once('@').unwrap();
    let (user, password) = match auth.split_once(':') {
        Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
        None => (auth.to_owned(), None),
    };
    let (address, database) = rest.split_once('/').unwrap();
    let database = database.split('?').next().unwrap().to_owned();
    let (host, port) = address.rsplit_once(':').unwrap();
    Parts {
        user,
        password,
        host: host.to_owned(),
        port: port.to_owned(),
        database,
    }
}

/// A service built from the environment only, as seed 001 deploys it.
async fn from_env(
    vars: Vec<(&'static str, String)>,
    data_dir: &std::path::Path,
) -> DatabaseService {
    let overrides = Overrides {
        data_dir: Some(data_dir.to_owned()),
        default_adapter: None,
    };
    let config = config::load(None, &env(&vars), &overrides).unwrap();
    std::sync::Arc::try_unwrap(DatabaseService::open(&config).await.unwrap()).unwrap()
}

async fn tenants_are_created_on_first_access(kind: AdapterKind, url: String) {
    let Parts {
        user,
        password,
        host,
        port,
        database,
    } = parts(&url);
    let names: [&str; 5] = match kind {
        AdapterKind::Postgres => [
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
            "POSTGRES_DB",
        ],
        _ => [
            "MYSQL_HOST",
            "MYSQL_PORT",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
            "MYSQL_DATABASE",
        ],
    };
    let mut vars = vec![
        (names[0], host),
        (names[1], port),
        (names[2], user),
        (names[4], database),
        ("DATABASE_TYPE", kind.to_string()),
    ];
    if let Some(password) = password {
        vars.push((names[3], password));
    }
    let dir = tempfile::tempdir().unwrap();
    let service = from_env(vars, dir.path()).await;
    let id = TenantId::new(unique_name("envt")).unwrap();
    let tenant = service.tenant(&id, None).await.unwrap();
    tenant
        .execute(Statement::new(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY)",
        ))
        .await
        .unwrap();
    assert!(service.list_tenants(None).await.unwrap().contains(&id));
    service.delete_tenant(&id, None).await.unwrap();
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_from_the_environment_creates_tenants_on_first_access() {
    tenants_are_created_on_first_access(AdapterKind::Postgres, dbx_tests::fresh::postgres_url())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_from_the_environment_creates_tenants_on_first_access() {
    tenants_are_created_on_first_access(AdapterKind::Mysql, dbx_tests::fresh::mysql_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_file_in_a_missing_directory_is_created_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state/deep/app.db");
    let service = from_env(
        vec![("DATABASE_FILE", file.display().to_string())],
        &dir.path().join("data"),
    )
    .await;
    service
        .root(None)
        .unwrap()
        .execute(Statement::new("CREATE TABLE t (x INTEGER)"))
        .await
        .unwrap();
    assert!(file.is_file(), "{} was not created", file.display());
    service.shutdown().await;
}

#[test]
fn a_base_path_is_checked() {
    use dbx_service::config::check_base_path;
    assert_eq!(
        check_base_path(Some("/database/api/")).unwrap().as_deref(),
        Some("/database/api")
    );
    assert_eq!(check_base_path(Some("/")).unwrap(), None);
    for bad in ["database/api", "/a//b", "/a/../b", "/a b", "/a?x"] {
        let err = check_base_path(Some(bad)).unwrap_err();
        assert!(err.to_string().contains("server.base-path"), "{bad}: {err}");
    }
}
