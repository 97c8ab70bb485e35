//! Introspection of a fixture schema with a composite primary key, a unique index, a
//! foreign key and a view.

use dbx_core::{
    ColumnSchema, ErrorKind, ForeignKeySchema, IndexSchema, TableInfo, TableKind, TableSchema,
};

use crate::Harness;

async fn fixture<H: Harness>(h: &H) -> std::sync::Arc<dyn dbx_core::Adapter> {
    let db = h.database().await;
    let t = h.types();
    for sql in [
        format!(
            "CREATE TABLE authors (id {i} PRIMARY KEY, email {k} NOT NULL, name {k} DEFAULT 'anon')",
            i = t.integer,
            k = t.key_text
        ),
        "CREATE UNIQUE INDEX authors_email_idx ON authors (email)".to_owned(),
        format!(
            "CREATE TABLE book_tags (book_id {i} NOT NULL, tag {k} NOT NULL, author_id {i}, note {t}, \
             PRIMARY KEY (book_id, tag), \
             CONSTRAINT book_tags_author_fk FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE)",
            i = t.integer,
            k = t.key_text,
            t = t.text
        ),
        "CREATE INDEX book_tags_author_idx ON book_tags (author_id)".to_owned(),
        "CREATE VIEW author_names AS SELECT name FROM authors".to_owned(),
    ] {
        db.execute(sql.into()).await.unwrap();
    }
    db
}

fn column(
    name: &str,
    decltype: String,
    nullable: bool,
    default: Option<String>,
    pk: Option<u32>,
) -> ColumnSchema {
    ColumnSchema {
        name: name.to_owned(),
        decltype: Some(decltype),
        nullable,
        default,
        primary_key: pk,
    }
}

pub async fn fixture_schema_comes_back_exactly<H: Harness>(h: &H) {
    let db = fixture(h).await;
    let t = h.types();
    let int = h.reported_decltype(t.integer);
    let key = h.reported_decltype(t.key_text);
    let text = h.reported_decltype(t.text);

    let authors = db.table("authors").await.unwrap();
    assert_eq!(
        authors,
        TableSchema {
            name: "authors".into(),
            kind: TableKind::Table,
            columns: vec![
                column("id", int.clone(), false, None, Some(1)),
                column("email", key.clone(), false, None, None),
                column(
                    "name",
                    key.clone(),
                    true,
                    Some(h.reported_default("'anon'")),
                    None
                ),
            ],
            primary_key: vec!["id".into()],
            indexes: vec![IndexSchema {
                name: "authors_email_idx".into(),
                columns: vec!["email".into()],
                unique: true
            }],
            foreign_keys: vec![],
        }
    );

    let tags = db.table("book_tags").await.unwrap();
    assert_eq!(
        tags,
        TableSchema {
            name: "book_tags".into(),
            kind: TableKind::Table,
            columns: vec![
                column("book_id", int.clone(), false, None, Some(1)),
                column("tag", key, false, None, Some(2)),
                column("author_id", int, true, None, None),
                column("note", text, true, None, None),
            ],
            primary_key: vec!["book_id".into(), "tag".into()],
            indexes: vec![IndexSchema {
                name: "book_tags_author_idx".into(),
                columns: vec!["author_id".into()],
                unique: false
            }],
            foreign_keys: vec![ForeignKeySchema {
                name: h
                    .reports_foreign_key_names()
                    .then(|| "book_tags_author_fk".into()),
                columns: vec!["author_id".into()],
                referenced_table: "authors".into(),
                referenced_columns: vec!["id".into()],
                on_update: "NO ACTION".into(),
                on_delete: "CASCADE".into(),
            }],
        }
    );
}

pub async fn tables_lists_tables_and_views<H: Harness>(h: &H) {
    let db = fixture(h).await;
    let tables = db.tables().await.unwrap();
    let expected = [
        ("author_names", TableKind::View),
        ("authors", TableKind::Table),
        ("book_tags", TableKind::Table),
    ];
    assert_eq!(
        tables,
        expected.map(|(name, kind)| TableInfo {
            name: name.into(),
            kind
        })
    );
    assert_eq!(
        db.table("author_names").await.unwrap().kind,
        TableKind::View
    );
}

pub async fn missing_table_is_undefined_table<H: Harness>(h: &H) {
    let db = fixture(h).await;
    let err = db.table("no_such_table").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndefinedTable, "{err}");
    // A hostile name is looked up as data, never spliced into SQL.
    let err = db.table("authors; DROP TABLE authors").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndefinedTable, "{err}");
    assert!(db.table("authors").await.is_ok());
}
