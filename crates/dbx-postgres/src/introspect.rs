//! Introspection through `pg_catalog`, within the connection's current schema.
//!
//! Column decltypes are PostgreSQL type names (`int8`, `varchar`, `timestamptz`, `int4[]`),
//! the same names result columns report.

use dbx_core::{
    AdapterKind, ColumnSchema, Error, ErrorKind, ForeignKeySchema, IndexSchema, Result, TableInfo,
    TableKind, TableSchema,
};
use tokio_postgres::Client;

use crate::error::map_err;

fn kind_of(relkind: i8) -> TableKind {
    if matches!(u8::try_from(relkind).unwrap_or(0), b'v' | b'm') {
        TableKind::View
    } else {
        TableKind::Table
    }
}

const RELATIONS: &str = "SELECT c.oid, c.relname::text, c.relkind FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

/// Tables and views of the current schema, sorted by name.
pub(crate) async fn tables(client: &Client) -> Result<Vec<TableInfo>> {
    let rows = client
        .query(&format!("{RELATIONS} ORDER BY c.relname"), &[])
        .await
        .map_err(map_err)?;
    Ok(rows
        .iter()
        .map(|r| TableInfo {
            name: r.get(1),
            kind: kind_of(r.get(2)),
        })
        .collect())
}

fn action(code: i8) -> String {
    match u8::try_from(code).unwrap_or(b'a') {
        b'r' => "RESTRICT",
        b'c' => "CASCADE",
        b'n' => "SET NULL",
        b'd' => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_owned()
}

/// One table of the current schema.
pub(crate) async fn table(client: &Client, name: &str) -> Result<TableSchema> {
    let found = client
        .query_opt(&format!("{RELATIONS} AND c.relname = $1"), &[&name])
        .await
        .map_err(map_err)?;
    let Some(found) = found else {
        return Err(Error::from_database(
            ErrorKind::UndefinedTable,
            AdapterKind::Postgres,
            "42P01",
            format!("relation \"{name}\" does not exist"),
        ));
    };
    let oid: u32 = found.get(0);
    let kind = kind_of(found.get(2));

    let pk_rows = client
        .query(
            "SELECT a.attname::text FROM pg_catalog.pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
            &[&oid],
        )
        .await
        .map_err(map_err)?;
    let primary_key: Vec<String> = pk_rows.iter().map(|r| r.get(0)).collect();

    let column_rows = client
        .query(
            "SELECT a.attname::text, \
                    CASE WHEN t.typcategory = 'A' THEN et.typname::text || '[]' ELSE t.typname::text END, \
                    NOT a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(map_err)?;
    let columns = column_rows
        .iter()
        .map(|r| {
            let name: String = r.get(0);
            let position = primary_key.iter().position(|k| *k == name);
            ColumnSchema {
                decltype: Some(r.get(1)),
                nullable: r.get(2),
                default: r.get(3),
                primary_key: position.and_then(|p| u32::try_from(p + 1).ok()),
                name,
            }
        })
        .collect();

    let index_rows = client
        .query(
            "SELECT ic.relname::text, i.indisunique, \
                    ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true) \
                          FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) \
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
             WHERE i.indrelid = $1 AND NOT i.indisprimary ORDER BY ic.relname",
            &[&oid],
        )
        .await
        .map_err(map_err)?;
    let indexes = index_rows
        .iter()
        .map(|r| IndexSchema {
            name: r.get(0),
            unique: r.get(1),
            columns: r.get(2),
        })
        .collect();

    let fk_rows = client
        .query(
            "SELECT con.conname::text, fc.relname::text, con.confupdtype, con.confdeltype, \
                    ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
                          ORDER BY k.ord), \
                    ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum \
                          ORDER BY k.ord) \
             FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid \
             WHERE con.conrelid = $1 AND con.contype = 'f' ORDER BY con.conname",
            &[&oid],
        )
        .await
        .map_err(map_err)?;
    let foreign_keys = fk_rows
        .iter()
        .map(|r| ForeignKeySchema {
            name: Some(r.get(0)),
            referenced_table: r.get(1),
            on_update: action(r.get(2)),
            on_delete: action(r.get(3)),
            columns: r.get(4),
            referenced_columns: r.get(5),
        })
        .collect();

    Ok(TableSchema {
        name: name.to_owned(),
        kind,
        columns,
        primary_key,
        indexes,
        foreign_keys,
    })
}
