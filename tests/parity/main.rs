//! One DDL fixture, introspected on SQLite, PostgreSQL and MySQL: after normalizing the
//! names each backend gives its types, the schemas are identical.

use dbx_core::{Adapter, TableSchema};
use dbx_tests::env::{server_url, unique_name};

/// Valid, as written, on all three backends. The primary key says NOT NULL because SQLite,
/// for compatibility with its early versions, lets a primary key other than an INTEGER rowid
/// hold NULL unless told otherwise, and introspection reports that truthfully.
const FIXTURE: [&str; 5] = [
    "CREATE TABLE authors (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255) DEFAULT 'anon')",
    "CREATE UNIQUE INDEX authors_email_idx ON authors (email)",
    "CREATE TABLE book_tags (book_id BIGINT NOT NULL, tag VARCHAR(255) NOT NULL, author_id BIGINT, note TEXT, \
     PRIMARY KEY (book_id, tag), \
     CONSTRAINT book_tags_author_fk FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE)",
    "CREATE INDEX book_tags_author_idx ON book_tags (author_id)",
    "CREATE INDEX book_tags_pair_idx ON book_tags (tag, note(20))",
];

/// A backend's type name as a portable family.
fn family(decltype: &str) -> &'static str {
    match decltype.to_ascii_lowercase().as_str() {
        "bigint" | "int8" | "integer" => "integer",
        "varchar" | "varchar(255)" | "character varying" => "varchar",
        "text" => "text",
        other => panic!("unexpected decltype {other:?}"),
    }
}

fn normalize(mut schema: TableSchema) -> TableSchema {
    for column in &mut schema.columns {
        column.decltype = column.decltype.as_deref().map(|d| family(d).to_owned());
        // PostgreSQL adds the literal's type: 'anon'::character varying.
        column.default = column
            .default
            .as_deref()
            .map(|d| d.split("::").next().unwrap_or(d).to_owned());
    }
    for index in &mut schema.indexes {
        // MySQL's prefix index keeps the column name; the others keep the expression.
        for column in &mut index.columns {
            if let Some(name) = column.split('(').next() {
                *column = name.trim_matches('"').to_owned();
            }
        }
    }
    // SQLite keeps no constraint names.
    for fk in &mut schema.foreign_keys {
        fk.name = None;
    }
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_introspects_the_same_everywhere() {
    let sqlite = dbx_sqlite::SqliteAdapter::memory().await.unwrap();

    let pg_url = server_url("DBX_TEST_POSTGRES_URL", "PostgreSQL");
    let schema = unique_name("p");
    let admin = dbx_postgres::PgAdapter::connect_url(&pg_url).await.unwrap();
    admin
        .execute(format!("CREATE SCHEMA {schema}").into())
        .await
        .unwrap();
    let pg = dbx_postgres::PgAdapter::connect(dbx_postgres::PgConfig {
        search_path: Some(schema),
        ..dbx_postgres::PgConfig::from_url(&pg_url)
    })
    .await
    .unwrap();

    let my_url = server_url("DBX_TEST_MYSQL_URL", "MySQL");
    let database = unique_name("p");
    let admin = dbx_mysql::MySqlAdapter::connect_url(&my_url).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {database} CHARACTER SET utf8mb4").into())
        .await
        .unwrap();
    let my = dbx_mysql::MySqlAdapter::connect(dbx_mysql::MySqlConfig {
        database: Some(database),
        ..dbx_mysql::MySqlConfig::from_url(&my_url)
    })
    .await
    .unwrap();

    // SQLite and PostgreSQL have no prefix indexes; give them the plain column instead.
    let sqlite_schema = schemas_with(&sqlite, "note(20)", "note").await;
    let pg_schema = schemas_with(&pg, "note(20)", "note").await;
    let my_schema = schemas_with(&my, "", "").await;
    assert_eq!(sqlite_schema, pg_schema, "SQLite and PostgreSQL differ");
    assert_eq!(pg_schema, my_schema, "PostgreSQL and MySQL differ");
    assert_eq!(my_schema[1].indexes.len(), 2);
}

/// Runs the fixture with `from` replaced by `to` (nothing when `from` is empty), and
/// introspects it.
async fn schemas_with(db: &dyn Adapter, from: &str, to: &str) -> Vec<TableSchema> {
    for sql in FIXTURE {
        let sql = if from.is_empty() {
            sql.to_owned()
        } else {
            sql.replace(from, to)
        };
        db.execute(sql.clone().into())
            .await
            .unwrap_or_else(|e| panic!("{:?}: {sql}: {e}", db.kind()));
    }
    let mut out = Vec::new();
    for table in ["authors", "book_tags"] {
        out.push(normalize(db.table(table).await.unwrap()));
    }
    out
}
