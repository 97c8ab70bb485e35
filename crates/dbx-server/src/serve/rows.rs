//! Row writes: insert, and update or delete by primary key. Every column name is checked
//! against the table's introspected schema; values are bound, never spliced.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dbx_core::sql::Dialect;
use dbx_core::{Adapter, ResultSet, Statement, StatementLimits, TableSchema, Transaction, Value};
use serde_json::{Map, Value as Json_};

use super::App;
use super::api::{Need, database};
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Body};
use super::model::{ErrorBody, RowRef, RowWrite, WriteResult};
use super::query::{column, quote, table_ref};
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

/// A row write turned into SQL, ready to run on the pool or inside a transaction.
pub(super) struct Planned {
    statement: Statement,
    /// What a write that affected no row means.
    if_none_affected: NoneAffected,
    is_insert: bool,
}

/// What to conclude when a write affected no row.
enum NoneAffected {
    /// Nothing to conclude (an insert).
    Fine,
    /// The key names no row (a delete).
    NotFound,
    /// Count the key's rows to tell "no such row" from "no change": MySQL counts only rows
    /// whose values changed (an update).
    CountKey(String, Vec<Value>),
}

pub(super) fn plan_insert(
    schema: &TableSchema,
    dialect: Dialect,
    body: RowRef<'_>,
) -> ApiResult<Planned> {
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
    let (names, values) = assignments(schema, dialect, body.values)?;
    let marks = vec!["?"; names.len()].join(", ");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        table_ref(dialect, &schema.name),
        names.join(", ")
    );
    Ok(Planned {
        statement: Statement::with_args(sql, values),
        if_none_affected: NoneAffected::Fine,
        is_insert: true,
    })
}

pub(super) fn plan_update(
    schema: &TableSchema,
    dialect: Dialect,
    body: RowRef<'_>,
) -> ApiResult<Planned> {
    if body.values.is_empty() {
        return Err(ApiError::bad_request(
            "\"values\" must name at least one column to change",
        ));
    }
    let (where_sql, key_values) = key_condition(schema, dialect, body.key)?;
    let (names, mut values) = assignments(schema, dialect, body.values)?;
    let set = names
        .iter()
        .map(|n| format!("{n} = ?"))
        .collect::<Vec<_>>()
        .join(", ");
    values.extend(key_values.iter().cloned());
    let table_sql = table_ref(dialect, &schema.name);
    Ok(Planned {
        statement: Statement::with_args(
            format!("UPDATE {table_sql} SET {set} WHERE {where_sql}"),
            values,
        ),
        if_none_affected: NoneAffected::CountKey(
            format!("SELECT COUNT(*) FROM {table_sql} WHERE {where_sql}"),
            key_values,
        ),
        is_insert: false,
    })
}

pub(super) fn plan_delete(
    schema: &TableSchema,
    dialect: Dialect,
    body: RowRef<'_>,
) -> ApiResult<Planned> {
    if !body.values.is_empty() {
        return Err(ApiError::bad_request(
            "a delete takes \"key\" only, not \"values\"",
        ));
    }
    let (where_sql, key_values) = key_condition(schema, dialect, body.key)?;
    let sql = format!(
        "DELETE FROM {} WHERE {where_sql}",
        table_ref(dialect, &schema.name)
    );
    Ok(Planned {
        statement: Statement::with_args(sql, key_values),
        if_none_affected: NoneAffected::NotFound,
        is_insert: false,
    })
}

/// Where a planned write runs: the pool (one statement) or an open transaction.
pub(super) enum Target<'a> {
    Pool(&'a dyn Adapter),
    Transaction(&'a mut dyn Transaction),
}

impl Target<'_> {
    async fn query(&mut self, stmt: Statement) -> dbx_core::Result<ResultSet> {
        match self {
            Target::Pool(adapter) => adapter.query(stmt).await,
            Target::Transaction(tx) => tx.query(stmt).await,
        }
    }
}

/// Runs a planned write under `limits`; an update or delete whose key names no row is a 404.
pub(super) async fn apply(
    target: &mut Target<'_>,
    planned: Planned,
    limits: StatementLimits,
) -> ApiResult<WriteResult> {
    let result = target.query(planned.statement.with_limits(limits)).await?;
    let missing = match planned.if_none_affected {
        _ if result.rows_affected > 0 => false,
        NoneAffected::Fine => false,
        NoneAffected::NotFound => true,
        NoneAffected::CountKey(sql, key_values) => {
            let count = target
                .query(Statement::with_args(sql, key_values).with_limits(limits))
                .await?
                .scalar::<i64>()?;
            count == 0
        }
    };
    if missing {
        return Err(ApiError::not_found("no row has that primary key"));
    }
    Ok(WriteResult {
        rows_affected: result.rows_affected,
        last_insert_id: if planned.is_insert {
            result.last_insert_id
        } else {
            None
        },
    })
}

/// How a write is turned into SQL: [`plan_insert`], [`plan_update`] or [`plan_delete`].
type Plan = fn(&TableSchema, Dialect, RowRef<'_>) -> ApiResult<Planned>;

/// One row write on the pool, after checking that the caller may write `db`.
async fn write_one(
    app: &App,
    caller: &Caller,
    (db, table): (String, String),
    body: &RowWrite,
    plan: Plan,
) -> ApiResult<WriteResult> {
    let adapter = database(app, caller, &db, Need::Write).await?;
    let schema = adapter.table(&table).await?;
    let planned = plan(&schema, adapter.kind().dialect(), body.row())?;
    let limits = adapter.limits_within(app.max_result_bytes);
    apply(&mut Target::Pool(&**adapter), planned, limits).await
}

/// Inserts one row.
#[utoipa::path(post, path = "/api/databases/{db}/tables/{table}/rows", params(("db" = String, Path), ("table" = String, Path)),
    request_body = RowWrite,
    responses((status = 201, body = WriteResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "rows")]
pub(crate) async fn insert(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    Body(body): Body<RowWrite>,
) -> ApiResult<(StatusCode, Json<WriteResult>)> {
    let result = write_one(&app, &caller, path, &body, plan_insert).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// Updates the row with the given primary key.
#[utoipa::path(patch, path = "/api/databases/{db}/tables/{table}/rows", params(("db" = String, Path), ("table" = String, Path)),
    request_body = RowWrite,
    responses((status = 200, body = WriteResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "rows")]
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    Body(body): Body<RowWrite>,
) -> ApiResult<Json<WriteResult>> {
    Ok(Json(
        write_one(&app, &caller, path, &body, plan_update).await?,
    ))
}

/// Deletes the row with the given primary key.
#[utoipa::path(delete, path = "/api/databases/{db}/tables/{table}/rows", params(("db" = String, Path), ("table" = String, Path)),
    request_body = RowWrite,
    responses((status = 200, body = WriteResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "rows")]
pub(crate) async fn remove(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    Body(body): Body<RowWrite>,
) -> ApiResult<Json<WriteResult>> {
    Ok(Json(
        write_one(&app, &caller, path, &body, plan_delete).await?,
    ))
}
