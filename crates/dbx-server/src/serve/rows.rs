//! Row writes: insert, and update or delete by primary key. Every column name is checked
//! against the table's introspected schema; values are bound, never spliced.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dbx_core::sql::Dialect;
use dbx_core::{Statement, TableSchema, Value};
use serde_json::{Map, Value as Json_};

use super::App;
use super::api::{Need, database};
use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::model::{ErrorBody, RowWrite, WriteResult};
use super::query::{column, quote};
use super::values::json_value;

/// `col = ?` pairs for `map`, with names checked and quoted.
fn assignments(
    schema: &TableSchema,
    dialect: Dialect,
    map: &Map<String, Json_>,
) -> ApiResult<(Vec<String>, Vec<Value>)> {
    let mut names = Vec::with_capacity(map.len());
    let mut values = Vec::with_capacity(map.len());
    for (name, value) in map {
        names.push(quote(dialect, column(schema, name)?));
        values.push(json_value(value)?);
    }
    Ok((names, values))
}

/// The `WHERE` clause for a full primary key, or a 400 that names the key columns.
fn key_condition(
    schema: &TableSchema,
    dialect: Dialect,
    key: &Map<String, Json_>,
) -> ApiResult<(String, Vec<Value>)> {
    if schema.primary_key.is_empty() {
        return Err(ApiError::bad_request(format!(
            "table {} has no primary key, so rows cannot be addressed one by one; use the SQL endpoint",
            schema.name
        )));
    }
    let mut given: Vec<&str> = key.keys().map(String::as_str).collect();
    given.sort_unstable();
    let mut expected: Vec<&str> = schema.primary_key.iter().map(String::as_str).collect();
    expected.sort_unstable();
    if given != expected {
        return Err(ApiError::bad_request(format!(
            "\"key\" must give exactly the primary key of {}: {}",
            schema.name,
            schema.primary_key.join(", ")
        )));
    }
    let (names, values) = assignments(schema, dialect, key)?;
    let condition = names
        .iter()
        .map(|n| format!("{n} = ?"))
        .collect::<Vec<_>>()
        .join(" AND ");
    Ok((condition, values))
}

/// Inserts one row.
#[utoipa::path(post, path = "/api/databases/{db}/tables/{table}/rows", params(("db" = String, Path), ("table" = String, Path)),
    request_body = RowWrite,
    responses((status = 201, body = WriteResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "rows")]
pub(crate) async fn insert(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
    Json(body): Json<RowWrite>,
) -> ApiResult<(StatusCode, Json<WriteResult>)> {
    let adapter = database(&app, &caller, &db, Need::Write).await?;
    let schema = adapter.table(&table).await?;
    let dialect = adapter.kind().dialect();
    if !body.key.is_empty() {
        return Err(ApiError::bad_request(
            "an insert takes \"values\" only, not \"key\"",
        ));
    }
    if body.values.is_empty() {
        return Err(ApiError::bad_request(
            "\"values\" must name at least one column",
        ));
    }
    let (names, values) = assignments(&schema, dialect, &body.values)?;
    let marks = vec!["?"; names.len()].join(", ");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        quote(dialect, &schema.name),
        names.join(", ")
    );
    let result = adapter.query(Statement::with_args(sql, values)).await?;
    Ok((
        StatusCode::CREATED,
        Json(WriteResult {
            rows_affected: result.rows_affected,
            last_insert_id: result.last_insert_id,
        }),
    ))
}

/// Updates the row with the given primary key.
#[utoipa::path(patch, path = "/api/databases/{db}/tables/{table}/rows", params(("db" = String, Path), ("table" = String, Path)),
    request_body = RowWrite,
    responses((status = 200, body = WriteResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "rows")]
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
    Json(body): Json<RowWrite>,
) -> ApiResult<Json<WriteResult>> {
    let adapter = database(&app, &caller, &db, Need::Write).await?;
    let schema = adapter.table(&table).await?;
    let dialect = adapter.kind().dialect();
    if body.values.is_empty() {
        return Err(ApiError::bad_request(
            "\"values\" must name at least one column to change",
        ));
    }
    let (where_sql, key_values) = key_condition(&schema, dialect, &body.key)?;
    let (names, mut values) = assignments(&schema, dialect, &body.values)?;
    let set = names
        .iter()
        .map(|n| format!("{n} = ?"))
        .collect::<Vec<_>>()
        .join(", ");
    values.extend(key_values.iter().cloned());
    let table_sql = quote(dialect, &schema.name);
    let sql = format!("UPDATE {table_sql} SET {set} WHERE {where_sql}");
    let result = adapter.query(Statement::with_args(sql, values)).await?;
    if result.rows_affected == 0 {
        // MySQL counts only rows whose values changed; an update to the same values still
        // found its row.
        let exists = adapter
            .query(Statement::with_args(
                format!("SELECT COUNT(*) FROM {table_sql} WHERE {where_sql}"),
                key_values,
            ))
            .await?
            .scalar::<i64>()?;
        found(u64::try_from(exists).unwrap_or_default())?;
    }
    Ok(Json(WriteResult {
        rows_affected: result.rows_affected,
        last_insert_id: None,
    }))
}

/// Deletes the row with the given primary key.
#[utoipa::path(delete, path = "/api/databases/{db}/tables/{table}/rows", params(("db" = String, Path), ("table" = String, Path)),
    request_body = RowWrite,
    responses((status = 200, body = WriteResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "rows")]
pub(crate) async fn remove(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
    Json(body): Json<RowWrite>,
) -> ApiResult<Json<WriteResult>> {
    let adapter = database(&app, &caller, &db, Need::Write).await?;
    let schema = adapter.table(&table).await?;
    let dialect = adapter.kind().dialect();
    if !body.values.is_empty() {
        return Err(ApiError::bad_request(
            "a delete takes \"key\" only, not \"values\"",
        ));
    }
    let (where_sql, key_values) = key_condition(&schema, dialect, &body.key)?;
    let sql = format!(
        "DELETE FROM {} WHERE {where_sql}",
        quote(dialect, &schema.name)
    );
    let result = adapter.query(Statement::with_args(sql, key_values)).await?;
    found(result.rows_affected)?;
    Ok(Json(WriteResult {
        rows_affected: result.rows_affected,
        last_insert_id: None,
    }))
}

/// A write that matched no row: the key names nothing.
fn found(rows_affected: u64) -> ApiResult<()> {
    if rows_affected == 0 {
        return Err(ApiError::not_found("no row has that primary key"));
    }
    Ok(())
}
