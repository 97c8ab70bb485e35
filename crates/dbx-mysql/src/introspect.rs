//! Introspection through `information_schema`, within the connection's current database.
//!
//! Decltypes are `DATA_TYPE` upper-cased (`BIGINT`, `VARCHAR`, `LONGBLOB`), with `UNSIGNED`
//! where it applies: the same names result columns report. InnoDB treats `RESTRICT` and
//! `NO ACTION` alike, and MariaDB reports an unspecified action as `RESTRICT`; both are
//! reported as `NO ACTION`.

use dbx_core::{
    AdapterKind, ColumnSchema, Error, ErrorKind, ForeignKeySchema, IndexSchema, Result, TableInfo,
    TableKind, TableSchema,
};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::error::map_err;

fn kind_of(table_type: &str) -> TableKind {
    if table_type == "VIEW" {
        TableKind::View
    } else {
        TableKind::Table
    }
}

/// Tables and views of the current database, sorted by name.
pub(crate) async fn tables(conn: &mut Conn) -> Result<Vec<TableInfo>> {
    let rows: Vec<(String, String)> = conn
        .query(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        )
        .await
        .map_err(map_err)?;
    let mut tables: Vec<TableInfo> = rows
        .into_iter()
        .map(|(name, kind)| TableInfo {
            kind: kind_of(&kind),
            name,
        })
        .collect();
    // Byte order, as on every backend; MySQL's ORDER BY follows the collation.
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

fn action(rule: &str) -> String {
    if rule == "RESTRICT" {
        "NO ACTION".to_owned()
    } else {
        rule.to_owned()
    }
}

/// One table of the current database.
pub(crate) async fn table(conn: &mut Conn, name: &str) -> Result<TableSchema> {
    let found: Option<String> = conn
        .exec_first(
            "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            (name,),
        )
        .await
        .map_err(map_err)?;
    let Some(kind) = found else {
        return Err(Error::from_database(
            ErrorKind::UndefinedTable,
            AdapterKind::Mysql,
            "1146",
            format!("Table '{name}' doesn't exist"),
        ));
    };

    let primary_key: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
            (name,),
        )
        .await
        .map_err(map_err)?;

    let column_rows: Vec<(String, String, String, Option<String>, String)> = conn
        .exec(
            "SELECT COLUMN_NAME, UPPER(DATA_TYPE), IS_NULLABLE, COLUMN_DEFAULT, COLUMN_TYPE \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
            (name,),
        )
        .await
        .map_err(map_err)?;
    let columns = column_rows
        .into_iter()
        .map(|(col, data_type, nullable, default, column_type)| {
            let unsigned = column_type.to_ascii_lowercase().contains("unsigned");
            ColumnSchema {
                primary_key: primary_key
                    .iter()
                    .position(|k| *k == col)
                    .and_then(|p| u32::try_from(p + 1).ok()),
                decltype: Some(if unsigned {
                    format!("{data_type} UNSIGNED")
                } else {
                    data_type
                }),
                nullable: nullable == "YES",
                // MariaDB spells "no default" as the text NULL.
                default: default.filter(|d| d != "NULL"),
                name: col,
            }
        })
        .collect();

    let index_rows: Vec<(String, i64, Option<String>)> = conn
        .exec(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' \
             ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            (name,),
        )
        .await
        .map_err(map_err)?;
    let mut indexes: Vec<IndexSchema> = Vec::new();
    for (index, non_unique, column) in index_rows {
        let column = column.unwrap_or_else(|| "<expression>".to_owned());
        match indexes.last_mut() {
            Some(last) if last.name == index => last.columns.push(column),
            _ => indexes.push(IndexSchema {
                name: index,
                columns: vec![column],
                unique: non_unique == 0,
            }),
        }
    }

    let fk_rows: Vec<(String, String, String, String, String, String)> = conn
        .exec(
            "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, \
                    r.UPDATE_RULE, r.DELETE_RULE \
             FROM information_schema.KEY_COLUMN_USAGE k \
             JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
              AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
            (name,),
        )
        .await
        .map_err(map_err)?;
    let mut foreign_keys: Vec<ForeignKeySchema> = Vec::new();
    for (constraint, column, referenced_table, referenced_column, on_update, on_delete) in fk_rows {
        match foreign_keys.last_mut() {
            Some(last) if last.name.as_deref() == Some(constraint.as_str()) => {
                last.columns.push(column);
                last.referenced_columns.push(referenced_column);
            }
            _ => foreign_keys.push(ForeignKeySchema {
                name: Some(constraint),
                columns: vec![column],
                referenced_table,
                referenced_columns: vec![referenced_column],
                on_update: action(&on_update),
                on_delete: action(&on_delete),
            }),
        }
    }

    Ok(TableSchema {
        name: name.to_owned(),
        kind: kind_of(&kind),
        columns,
        primary_key,
        indexes,
        foreign_keys,
    })
}
