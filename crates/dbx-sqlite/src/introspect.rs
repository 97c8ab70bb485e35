//! Introspection through `sqlite_schema` and the `table_xinfo`, `index_list`, `index_info`
//! and `foreign_key_list` pragmas (as table-valued functions, so names are bound, not spliced).

use dbx_core::{
    AdapterKind, ColumnSchema, Error, ErrorKind, ForeignKeySchema, IndexSchema, Result, TableInfo,
    TableKind, TableSchema,
};
use rusqlite::{Connection, OptionalExtension};

use crate::error::map_err;

fn kind_from(text: &str) -> TableKind {
    if text == "view" {
        TableKind::View
    } else {
        TableKind::Table
    }
}

/// User tables and views, sorted by name.
pub(crate) fn tables(conn: &Connection) -> Result<Vec<TableInfo>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, type FROM sqlite_schema \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
        )
        .map_err(map_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(TableInfo {
                name: r.get(0)?,
                kind: kind_from(&r.get::<_, String>(1)?),
            })
        })
        .map_err(map_err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(map_err)
}

/// One table's schema.
pub(crate) fn table(conn: &Connection, name: &str) -> Result<TableSchema> {
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_err)?;
    let Some(kind) = kind else {
        return Err(Error::from_database(
            ErrorKind::UndefinedTable,
            AdapterKind::Sqlite,
            "SQLITE_ERROR",
            format!("no such table: {name}"),
        ));
    };
    let columns = columns(conn, name)?;
    let mut primary_key: Vec<(u32, String)> = columns
        .iter()
        .filter_map(|c| c.primary_key.map(|pos| (pos, c.name.clone())))
        .collect();
    primary_key.sort();
    Ok(TableSchema {
        name: name.to_owned(),
        kind: kind_from(&kind),
        primary_key: primary_key.into_iter().map(|(_, n)| n).collect(),
        indexes: indexes(conn, name)?,
        foreign_keys: foreign_keys(conn, name)?,
        columns,
    })
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<ColumnSchema>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1) \
             WHERE hidden IN (0, 2, 3) ORDER BY cid",
        )
        .map_err(map_err)?;
    let rows = stmt
        .query_map([table], |r| {
            let decltype: String = r.get(1)?;
            let pk: u32 = r.get(4)?;
            Ok(ColumnSchema {
                name: r.get(0)?,
                decltype: (!decltype.is_empty()).then_some(decltype),
                // SQLite lets primary-key columns hold NULL unless declared NOT NULL, except
                // an INTEGER PRIMARY KEY, which is the rowid and never NULL.
                nullable: !r.get::<_, bool>(2)?,
                default: r.get(3)?,
                primary_key: (pk > 0).then_some(pk),
            })
        })
        .map_err(map_err)?;
    let mut cols: Vec<ColumnSchema> = rows.collect::<rusqlite::Result<_>>().map_err(map_err)?;
    let pk_count = cols.iter().filter(|c| c.primary_key.is_some()).count();
    for col in &mut cols {
        let is_rowid = pk_count == 1
            && col.primary_key.is_some()
            && col
                .decltype
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("INTEGER"));
        if is_rowid {
            col.nullable = false;
        }
    }
    Ok(cols)
}

fn indexes(conn: &Connection, table: &str) -> Result<Vec<IndexSchema>> {
    let mut list = conn
        .prepare_cached("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
        .map_err(map_err)?;
    let found: Vec<(String, bool, String)> = list
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(map_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(map_err)?;
    let mut info = conn
        .prepare_cached("SELECT name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
        .map_err(map_err)?;
    let mut out = Vec::new();
    for (name, unique, origin) in found {
        // The primary key is reported on its own, not as an index.
        if origin == "pk" {
            continue;
        }
        let columns = info
            .query_map([&name], |r| {
                Ok(r.get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| "<expression>".to_owned()))
            })
            .map_err(map_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(map_err)?;
        out.push(IndexSchema {
            name,
            columns,
            unique,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn foreign_keys(conn: &Connection, table: &str) -> Result<Vec<ForeignKeySchema>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .map_err(map_err)?;
    let rows: Vec<(i64, String, String, Option<String>, String, String)> = stmt
        .query_map([table], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(map_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(map_err)?;
    let mut out: Vec<(i64, ForeignKeySchema)> = Vec::new();
    for (id, referenced, from, to, on_update, on_delete) in rows {
        if out.last().is_none_or(|(last, _)| *last != id) {
            out.push((
                id,
                ForeignKeySchema {
                    name: None,
                    columns: Vec::new(),
                    referenced_table: referenced.clone(),
                    referenced_columns: Vec::new(),
                    on_update,
                    on_delete,
                },
            ));
        }
        let fk = &mut out.last_mut().expect("pushed above").1;
        fk.columns.push(from);
        // `to` is NULL when the key references the parent's primary key implicitly.
        fk.referenced_columns.push(to.unwrap_or_default());
    }
    let mut fks: Vec<ForeignKeySchema> = out.into_iter().map(|(_, fk)| fk).collect();
    for fk in &mut fks {
        if fk.referenced_columns.iter().any(String::is_empty) {
            fk.referenced_columns = primary_key_of(conn, &fk.referenced_table)?;
        }
    }
    Ok(fks)
}

fn primary_key_of(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
        .map_err(map_err)?;
    let names = stmt
        .query_map([table], |r| r.get(0))
        .map_err(map_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(map_err)?;
    Ok(names)
}
