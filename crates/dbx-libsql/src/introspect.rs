//! Introspection over Hrana: SQLite's `sqlite_schema` and the `table_xinfo`, `index_list`,
//! `index_xinfo` and `foreign_key_list` pragmas as table-valued functions, with the table name
//! bound as a parameter, never spliced into the text.

use dbx_core::{
    AdapterKind, ColumnSchema, Error, ErrorKind, ForeignKeySchema, IndexSchema, Result, Row,
    Statement, TableInfo, TableKind, TableSchema,
};

use crate::exec::RemoteConn;

fn kind_from(text: &str) -> TableKind {
    if text == "view" {
        TableKind::View
    } else {
        TableKind::Table
    }
}

async fn rows(conn: &RemoteConn, sql: &str, name: &str) -> Result<Vec<Row>> {
    Ok(conn
        .run_statement(Statement::new(sql).bind(name.to_owned()))
        .await?
        .rows)
}

/// User tables and views, sorted by name.
pub(crate) async fn tables(conn: &RemoteConn) -> Result<Vec<TableInfo>> {
    let found = conn
        .run_statement(Statement::new(
            "SELECT name, type FROM sqlite_schema \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
        ))
        .await?;
    found
        .rows
        .iter()
        .map(|r| {
            Ok(TableInfo {
                name: r.get(0)?,
                kind: kind_from(&r.get::<String>(1)?),
            })
        })
        .collect()
}

/// One table's schema.
pub(crate) async fn table(conn: &RemoteConn, name: &str) -> Result<TableSchema> {
    let kind = rows(
        conn,
        "SELECT type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1",
        name,
    )
    .await?;
    let Some(kind) = kind.first() else {
        return Err(Error::from_database(
            ErrorKind::UndefinedTable,
            AdapterKind::Libsql,
            "SQLITE_ERROR",
            format!("no such table: {name}"),
        ));
    };
    let kind: String = kind.get(0)?;
    let columns = columns(conn, name).await?;
    let mut primary_key: Vec<(u32, String)> = columns
        .iter()
        .filter_map(|c| c.primary_key.map(|pos| (pos, c.name.clone())))
        .collect();
    primary_key.sort();
    Ok(TableSchema {
        name: name.to_owned(),
        kind: kind_from(&kind),
        primary_key: primary_key.into_iter().map(|(_, n)| n).collect(),
        indexes: indexes(conn, name).await?,
        foreign_keys: foreign_keys(conn, name).await?,
        columns,
    })
}

async fn columns(conn: &RemoteConn, table: &str) -> Result<Vec<ColumnSchema>> {
    let found = rows(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1) \
         WHERE hidden IN (0, 2, 3) ORDER BY cid",
        table,
    )
    .await?;
    let mut cols = Vec::with_capacity(found.len());
    for r in &found {
        let decltype: String = r.get(1)?;
        let pk: i64 = r.get(4)?;
        cols.push(ColumnSchema {
            name: r.get(0)?,
            decltype: (!decltype.is_empty()).then_some(decltype),
            nullable: r.get::<i64>(2)? == 0,
            default: r.get(3)?,
            primary_key: u32::try_from(pk).ok().filter(|p| *p > 0),
        });
    }
    // An INTEGER PRIMARY KEY is the rowid and never NULL, declared so or not.
    let pk_count = cols.iter().filter(|c| c.primary_key.is_some()).count();
    for col in &mut cols {
        if pk_count == 1
            && col.primary_key.is_some()
            && col
                .decltype
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("INTEGER"))
        {
            col.nullable = false;
        }
    }
    Ok(cols)
}

async fn indexes(conn: &RemoteConn, table: &str) -> Result<Vec<IndexSchema>> {
    let found = rows(
        conn,
        "SELECT name, \"unique\", origin FROM pragma_index_list(?1)",
        table,
    )
    .await?;
    let mut out = Vec::new();
    for r in &found {
        // The primary key is reported on its own, not as an index.
        if r.get::<String>(2)? == "pk" {
            continue;
        }
        let name: String = r.get(0)?;
        let columns = rows(
            conn,
            "SELECT name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
            &name,
        )
        .await?
        .iter()
        .map(|c| {
            Ok(c.get::<Option<String>>(0)?
                .unwrap_or_else(|| "<expression>".into()))
        })
        .collect::<Result<_>>()?;
        out.push(IndexSchema {
            name,
            columns,
            unique: r.get::<i64>(1)? != 0,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn foreign_keys(conn: &RemoteConn, table: &str) -> Result<Vec<ForeignKeySchema>> {
    let found = rows(
        conn,
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        table,
    )
    .await?;
    let mut out: Vec<(i64, ForeignKeySchema)> = Vec::new();
    for r in &found {
        let id: i64 = r.get(0)?;
        if out.last().is_none_or(|(last, _)| *last != id) {
            out.push((
                id,
                ForeignKeySchema {
                    name: None,
                    columns: Vec::new(),
                    referenced_table: r.get(1)?,
                    referenced_columns: Vec::new(),
                    on_update: r.get(4)?,
                    on_delete: r.get(5)?,
                },
            ));
        }
        if let Some((_, fk)) = out.last_mut() {
            fk.columns.push(r.get(2)?);
            // `to` is NULL when the key references the parent's primary key implicitly.
            fk.referenced_columns
                .push(r.get::<Option<String>>(3)?.unwrap_or_default());
        }
    }
    let mut fks: Vec<ForeignKeySchema> = out.into_iter().map(|(_, fk)| fk).collect();
    for fk in &mut fks {
        if fk.referenced_columns.iter().any(String::is_empty) {
            fk.referenced_columns = rows(
                conn,
                "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                &fk.referenced_table,
            )
            .await?
            .iter()
            .map(|c| c.get(0))
            .collect::<Result<_>>()?;
        }
    }
    Ok(fks)
}
