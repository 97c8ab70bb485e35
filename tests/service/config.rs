//! Configuration: file, environment, defaults and precedence.

use std::collections::HashMap;

use dbx_core::AdapterKind;
use dbx_service::config::{self, AdapterConfig, Overrides};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

#[test]
fn unknown_keys_name_the_key_and_its_line() {
    let text = "data-dir = \"x\"\n\n[[adapters]]\nkind = \"sqlite\"\ndefault = true\njournal-mod = \"wal\"\n";
    let err = config::parse(text, &env(&[])).unwrap_err().to_string();
    assert!(
        err.contains("journal-mod") && err.contains("line 6"),
        "{err}"
    );
    let top = config::parse("data-dir = \"x\"\nlisten = 1\n", &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(top.contains("listen") && top.contains("line 2"), "{top}");
}

fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../dbx.example.toml")).unwrap()
}

#[test]
fn the_example_config_parses_and_validates() {
    let mut config = config::parse(&example(), &env(&[])).unwrap();
    config.validate().unwrap();
    assert_eq!(config.data_dir, std::path::PathBuf::from("./dbx-data"));
    let kinds: Vec<AdapterKind> = config.adapters.iter().map(AdapterConfig::kind).collect();
    assert_eq!(
        kinds,
        [
            AdapterKind::Sqlite,
            AdapterKind::Postgres,
            AdapterKind::Mysql
        ]
    );
    assert_eq!(config.default_kind(), Some(AdapterKind::Sqlite));
    let Some(AdapterConfig::Postgres(pg)) = config.adapter(AdapterKind::Postgres) else {
        panic!()
    };
    assert_eq!(
        pg.connection.url.as_deref(),
        Some("postgres://postgres@127.0.0.1:5432/postgres")
    );
    assert_eq!(
        pg.connection.pool.idle_timeout,
        Some(std::time::Duration::from_secs(600))
    );
    assert_eq!(pg.cache.capacity, 100);
}

#[test]
fn variables_are_substituted_with_defaults() {
    let text = example();
    let config = config::parse(
        &text,
        &env(&[
            ("DBX_DATA_DIR", "/srv/dbx"),
            ("DATABASE_URL", "postgres://u@db/x"),
        ]),
    )
    .unwrap();
    assert_eq!(config.data_dir, std::path::PathBuf::from("/srv/dbx"));
    let Some(AdapterConfig::Postgres(pg)) = config.adapter(AdapterKind::Postgres) else {
        panic!()
    };
    assert_eq!(pg.connection.url.as_deref(), Some("postgres://u@db/x"));
    let err = config::parse("data-dir = \"${NOT_SET}\"\n", &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("NOT_SET") && err.contains("line 1"), "{err}");
}

#[test]
fn validation_names_the_offending_entries() {
    let twice = "[[adapters]]\nkind = \"sqlite\"\n[[adapters]]\nkind = \"postgres\"\n[[adapters]]\nkind = \"sqlite\"\n";
    let err = config::parse(twice, &env(&[]))
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("adapters[0] and adapters[2] are both kind sqlite"),
        "{err}"
    );
    let two_defaults = "[[adapters]]\nkind = \"sqlite\"\ndefault = true\n[[adapters]]\nkind = \"mysql\"\ndefault = true\n";
    let err = config::parse(two_defaults, &env(&[]))
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("adapters[0] (sqlite) and adapters[1] (mysql)"),
        "{err}"
    );
    let none = "[[adapters]]\nkind = \"sqlite\"\n[[adapters]]\nkind = \"mysql\"\n";
    let err = config::parse(none, &env(&[]))
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("none of the adapters (sqlite, mysql) is marked default"),
        "{err}"
    );
}

#[test]
fn no_configuration_at_all_is_sqlite_in_dbx_data() {
    let config = config::load(None, &env(&[]), &Overrides::default()).unwrap();
    assert_eq!(config.data_dir, std::path::PathBuf::from("./dbx-data"));
    assert_eq!(config.adapters.len(), 1);
    let AdapterConfig::Sqlite(sqlite) = &config.adapters[0] else {
        panic!()
    };
    assert!(sqlite.default && sqlite.auto_create_tenants);
    assert_eq!(sqlite.path, std::path::PathBuf::from("dbx.db"));
}

#[test]
fn libsql_variables_add_or_complete_the_adapter() {
    let vars = [
        ("DATABASE_LIBSQL_URL", "http://primary:8080"),
        (
            "DATABASE_LIBSQL_REPLICAS",
            "http://r1:8080, http://r2:8080,",
        ),
        ("DATABASE_LIBSQL_AUTH_TOKEN", "secret"),
    ];
    let config = config::load(None, &env(&vars), &Overrides::default()).unwrap();
    let Some(AdapterConfig::Libsql(libsql)) = config.adapter(AdapterKind::Libsql) else {
        panic!("added")
    };
    assert_eq!(libsql.url.as_deref(), Some("http://primary:8080"));
    assert_eq!(libsql.replicas, ["http://r1:8080", "http://r2:8080"]);
    assert_eq!(libsql.auth_token.as_deref(), Some("secret"));
    assert_eq!(
        config.default_kind(),
        Some(AdapterKind::Sqlite),
        "the embedded default stays the default"
    );

    // A file's libSQL adapter is completed, not duplicated.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dbx.toml");
    std::fs::write(
        &file,
        "[[adapters]]\nkind = \"libsql\"\nurl = \"http://from-file\"\n",
    )
    .unwrap();
    let config = config::load(
        Some(&file),
        &env(&[("DATABASE_LIBSQL_AUTH_TOKEN", "t")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(config.adapters.len(), 1);
    let Some(AdapterConfig::Libsql(libsql)) = config.adapter(AdapterKind::Libsql) else {
        panic!()
    };
    assert_eq!(
        (libsql.url.as_deref(), libsql.auth_token.as_deref()),
        (Some("http://from-file"), Some("t"))
    );

    let err = config::load(
        None,
        &env(&[("DATABASE_LIBSQL_AUTH_TOKEN", "t")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("DATABASE_LIBSQL_URL"), "{err}");
}

#[test]
fn server_variables_add_or_complete_adapters() {
    let vars = [
        ("DATABASE_TYPE", "postgres"),
        ("DATABASE_FILE", "/var/lib/app.db"),
        ("POSTGRES_HOST", "pg.internal"),
        ("POSTGRES_PORT", "6543"),
        ("POSTGRES_DB", "app"),
        ("MYSQL_HOST", "my.internal"),
        ("DB_POOL_MAX", "40"),
        ("DB_POOL_MIN", "2"),
        ("DB_IDLE_TIMEOUT", "30000"),
    ];
    let config = config::load(None, &env(&vars), &Overrides::default()).unwrap();
    assert_eq!(config.default_kind(), Some(AdapterKind::Postgres));
    let Some(AdapterConfig::Sqlite(sqlite)) = config.adapter(AdapterKind::Sqlite) else {
        panic!()
    };
    assert_eq!(sqlite.path, std::path::PathBuf::from("/var/lib/app.db"));
    let Some(AdapterConfig::Postgres(pg)) = config.adapter(AdapterKind::Postgres) else {
        panic!()
    };
    assert_eq!(
        (
            pg.connection.host.as_str(),
            pg.connection.port,
            pg.connection.dbname.as_str()
        ),
        ("pg.internal", 6543, "app")
    );
    assert_eq!(
        (pg.connection.pool.max_size, pg.connection.pool.min_idle),
        (40, 2)
    );
    assert_eq!(
        pg.connection.pool.idle_timeout,
        Some(std::time::Duration::from_secs(30))
    );
    let Some(AdapterConfig::Mysql(my)) = config.adapter(AdapterKind::Mysql) else {
        panic!()
    };
    assert_eq!(
        (my.connection.host.as_str(), my.connection.pool.max_size),
        ("my.internal", 40)
    );

    let err = config::load(
        None,
        &env(&[("DATABASE_TYPE", "oracle")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("DATABASE_TYPE") && err.to_string().contains("oracle"),
        "{err}"
    );
    let err = config::load(
        None,
        &env(&[("POSTGRES_PORT", "lots")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("POSTGRES_PORT"), "{err}");
}

#[test]
fn precedence_is_command_line_then_environment_then_file_then_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dbx.toml");
    std::fs::write(
        &file,
        "data-dir = \"/from/file\"\n[[adapters]]\nkind = \"sqlite\"\ndefault = true\nmax-readers = 2\n\
         [[adapters]]\nkind = \"postgres\"\n[adapters.connection]\nhost = \"file-host\"\nport = 1111\n",
    )
    .unwrap();
    let none = Overrides::default();
    // File over defaults.
    let config = config::load(Some(&file), &env(&[]), &none).unwrap();
    assert_eq!(config.data_dir, std::path::PathBuf::from("/from/file"));
    assert_eq!(config.default_kind(), Some(AdapterKind::Sqlite));
    let Some(AdapterConfig::Postgres(pg)) = config.adapter(AdapterKind::Postgres) else {
        panic!()
    };
    assert_eq!(
        (
            pg.connection.host.as_str(),
            pg.connection.port,
            pg.connection.user.as_str()
        ),
        ("file-host", 1111, "postgres")
    );
    // Environment over file.
    let vars = env(&[("POSTGRES_HOST", "env-host"), ("DATABASE_TYPE", "postgres")]);
    let config = config::load(Some(&file), &vars, &none).unwrap();
    let Some(AdapterConfig::Postgres(pg)) = config.adapter(AdapterKind::Postgres) else {
        panic!()
    };
    assert_eq!(
        (pg.connection.host.as_str(), pg.connection.port),
        ("env-host", 1111)
    );
    assert_eq!(config.default_kind(), Some(AdapterKind::Postgres));
    // Command line over environment.
    let cli = Overrides {
        data_dir: Some("/from/cli".into()),
        default_adapter: Some(AdapterKind::Sqlite),
    };
    let config = config::load(Some(&file), &vars, &cli).unwrap();
    assert_eq!(config.data_dir, std::path::PathBuf::from("/from/cli"));
    assert_eq!(config.default_kind(), Some(AdapterKind::Sqlite));
    let err = config::load(
        Some(&file),
        &vars,
        &Overrides {
            default_adapter: Some(AdapterKind::Mysql),
            ..none
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("--adapter asks for mysql"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let err = config::load(
        Some(std::path::Path::new("/nonexistent/dbx.toml")),
        &env(&[]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dbx.toml"), "{err}");
}
