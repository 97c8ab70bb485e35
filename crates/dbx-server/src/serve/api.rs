//! The REST API under `/api`. A database is `{kind}` (the adapter's own) or `{kind}.{tenant}`.
//! Table and column names are checked against introspection and quoted, never interpolated
//! as given; values always travel as bound parameters.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine as _;
use dbx_core::sql::Dialect;
use dbx_core::tenancy::TenantId;
use dbx_core::{Adapter, AdapterKind, ResultSet, Statement, TableSchema, Value};
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::App;
use super::auth::Caller;
use super::error::{ApiError, ApiResult};

/// Rows per page when the client asks for none.
const DEFAULT_PAGE: u64 = 100;
/// The largest page a client may ask for.
pub(crate) const MAX_PAGE: u64 = 1000;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/adapters", get(adapters))
        .route(
            "/api/adapters/{kind}/tenants",
            get(list_tenants).post(create_tenant),
        )
        .route("/api/adapters/{kind}/tenants/{id}", delete(delete_tenant))
        .route("/api/databases/{db}/tables", get(tables))
        .route("/api/databases/{db}/tables/{table}", get(table))
        .route(
            "/api/databases/{db}/tables/{table}/rows",
            get(rows)
                .post(super::rows::insert)
                .patch(super::rows::update)
                .delete(super::rows::remove),
        )
        .route("/api/databases/{db}/sql", post(sql))
        .route("/api/databases/{db}/migrations", get(migrations))
}

fn parse_kind(app: &App, kind: &str) -> ApiResult<AdapterKind> {
    let kind: AdapterKind = kind
        .parse()
        .map_err(|e: dbx_core::Error| ApiError::not_found(e.to_string()))?;
    if !app.service.available_kinds().contains(&kind) {
        return Err(ApiError::not_found(format!(
            "no {kind} adapter is configured on this server; GET /api/adapters lists them"
        )));
    }
    Ok(kind)
}

/// A tenant id from a path or body: a malformed one is the client's mistake (400).
fn tenant_id(id: &str) -> ApiResult<TenantId> {
    TenantId::new(id).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// What the caller needs on a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    Read,
    Write,
}

/// `{kind}` or `{kind}.{tenant}`, split and checked.
fn target(app: &App, db: &str) -> ApiResult<(AdapterKind, Option<TenantId>)> {
    let (kind, tenant) = match db.split_once('.') {
        Some((kind, tenant)) => (kind, Some(tenant_id(tenant)?)),
        None => (db, None),
    };
    Ok((parse_kind(app, kind)?, tenant))
}

/// The adapter for `db`, after checking that the caller may do `need` there.
pub(super) async fn database(
    app: &App,
    caller: &Caller,
    db: &str,
    need: Need,
) -> ApiResult<Arc<dyn Adapter>> {
    let (kind, tenant) = target(app, db)?;
    match need {
        Need::Read => caller.require_read(tenant.as_ref())?,
        Need::Write => caller.require_write(tenant.as_ref())?,
    }
    match tenant {
        None => Ok(app.service.root(Some(kind))?),
        Some(id) => Ok(app.service.tenant(Some(kind), &id).await?),
    }
}

async fn adapters(State(app): State<Arc<App>>, _caller: Caller) -> ApiResult<Json<Json_>> {
    let default = app.service.default_kind();
    let mut list = Vec::new();
    for kind in app.service.available_kinds() {
        let policy = app.service.tenant_manager(Some(kind))?.policy();
        list.push(json!({
            "kind": kind,
            "default": kind == default,
            "tenancy": format!("{policy:?}"),
        }));
    }
    Ok(Json(json!({ "adapters": list })))
}

async fn list_tenants(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(kind): Path<String>,
) -> ApiResult<Json<Json_>> {
    caller.require_read_everything()?;
    let kind = parse_kind(&app, &kind)?;
    let tenants = app.service.list_tenants(Some(kind)).await?;
    let ids: Vec<&str> = tenants.iter().map(TenantId::as_str).collect();
    Ok(Json(json!({ "tenants": ids })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    id: String,
}

async fn create_tenant(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(kind): Path<String>,
    Json(body): Json<NewTenant>,
) -> ApiResult<(StatusCode, Json<Json_>)> {
    caller.require_admin()?;
    let kind = parse_kind(&app, &kind)?;
    let id = tenant_id(&body.id)?;
    if app.service.list_tenants(Some(kind)).await?.contains(&id) {
        return Err(ApiError::conflict(format!("tenant {id} already exists")));
    }
    app.service.create_tenant(&id, Some(kind)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id.as_str() }))))
}

async fn delete_tenant(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let kind = parse_kind(&app, &kind)?;
    let id = tenant_id(&id)?;
    app.service.delete_tenant(&id, Some(kind)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn tables(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
) -> ApiResult<Json<Json_>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    let list = adapter.tables().await?;
    Ok(Json(json!({ "tables": list })))
}

async fn table(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
) -> ApiResult<Json<TableSchema>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    Ok(Json(adapter.table(&table).await?))
}

pub(super) fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The column named `name`, or a 400 that lists the table's columns.
pub(super) fn column<'a>(schema: &'a TableSchema, name: &str) -> ApiResult<&'a str> {
    schema.column(name).map(|c| c.name.as_str()).ok_or_else(|| {
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        ApiError::bad_request(format!(
            "table {} has no column {name:?}; its columns are {}",
            schema.name,
            names.join(", ")
        ))
    })
}

/// `col:op:value` to a condition and its bound values.
fn condition(
    schema: &TableSchema,
    dialect: Dialect,
    filter: &str,
) -> ApiResult<(String, Vec<Value>)> {
    let mut parts = filter.splitn(3, ':');
    let (Some(col), Some(op)) = (parts.next(), parts.next()) else {
        return Err(ApiError::bad_request(format!(
            "filter {filter:?} is not column:operator:value (operators: eq, ne, lt, le, gt, ge, like, null, notnull)"
        )));
    };
    let col = quote(dialect, column(schema, col)?);
    let value = parts.next();
    let binary = |sql_op: &str| -> ApiResult<(String, Vec<Value>)> {
        let value = value.ok_or_else(|| {
            ApiError::bad_request(format!(
                "filter {filter:?} needs a value after the operator"
            ))
        })?;
        Ok((format!("{col} {sql_op} ?"), vec![Value::from(value)]))
    };
    match op {
        "eq" => binary("="),
        "ne" => binary("<>"),
        "lt" => binary("<"),
        "le" => binary("<="),
        "gt" => binary(">"),
        "ge" => binary(">="),
        "like" => binary("LIKE"),
        "null" => Ok((format!("{col} IS NULL"), Vec::new())),
        "notnull" => Ok((format!("{col} IS NOT NULL"), Vec::new())),
        other => Err(ApiError::bad_request(format!(
            "unknown filter operator {other:?}; use eq, ne, lt, le, gt, ge, like, null or notnull"
        ))),
    }
}

fn parse_count(name: &str, text: &str, max: u64) -> ApiResult<u64> {
    let n: u64 = text.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "{name} must be a non-negative whole number, not {text:?}"
        ))
    })?;
    if n > max {
        return Err(ApiError::bad_request(format!("{name} is at most {max}")));
    }
    Ok(n)
}

async fn rows(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Json_>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    let schema = adapter.table(&table).await?;
    let dialect = adapter.kind().dialect();
    let (mut limit, mut offset) = (DEFAULT_PAGE, 0);
    let mut order = Vec::new();
    let mut conditions = Vec::new();
    let mut args = Vec::new();
    for (key, value) in &query {
        match key.as_str() {
            "limit" => limit = parse_count("limit", value, MAX_PAGE)?,
            "offset" => offset = parse_count("offset", value, i64::MAX.unsigned_abs())?,
            "order" => {
                for part in value.split(',').filter(|p| !p.is_empty()) {
                    let (name, dir) = match part.strip_prefix('-') {
                        Some(name) => (name, "DESC"),
                        None => (part, "ASC"),
                    };
                    order.push(format!("{} {dir}", quote(dialect, column(&schema, name)?)));
                }
            }
            "filter" => {
                let (cond, values) = condition(&schema, dialect, value)?;
                conditions.push(cond);
                args.extend(values);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {other:?}; use limit, offset, order and filter"
                )));
            }
        }
    }
    if order.is_empty() {
        // A stable page order: the primary key, when there is one.
        order = schema
            .primary_key
            .iter()
            .map(|c| format!("{} ASC", quote(dialect, c)))
            .collect();
    }
    let from = quote(dialect, &schema.name);
    let where_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let order_sql = if order.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", order.join(", "))
    };
    let total = adapter
        .query(Statement::with_args(
            format!("SELECT COUNT(*) FROM {from}{where_sql}"),
            args.clone(),
        ))
        .await?
        .scalar::<i64>()?;
    let mut page_args = args;
    page_args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    page_args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let result = adapter
        .query(Statement::with_args(
            format!("SELECT * FROM {from}{where_sql}{order_sql} LIMIT ? OFFSET ?"),
            page_args,
        ))
        .await?;
    let mut body = result_json(&result);
    body["total"] = json!(total);
    body["limit"] = json!(limit);
    body["offset"] = json!(offset);
    Ok(Json(body))
}

/// A value as JSON: numbers, strings and null as themselves, blobs as `{"base64": ...}`.
pub(crate) fn value_json(value: &Value) -> Json_ {
    match value {
        Value::Null => Json_::Null,
        Value::Integer(i) => json!(i),
        Value::Real(f) => json!(f),
        Value::Text(s) => json!(s),
        Value::Blob(b) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) }),
    }
}

pub(super) fn json_value(value: &Json_) -> ApiResult<Value> {
    match value {
        Json_::Null => Ok(Value::Null),
        Json_::Bool(b) => Ok(Value::from(*b)),
        Json_::Number(n) => n
            .as_i64()
            .map(Value::Integer)
            .or_else(|| n.as_f64().map(Value::Real))
            .ok_or_else(|| {
                ApiError::bad_request(format!("the number {n} does not fit in 64 bits"))
            }),
        Json_::String(s) => Ok(Value::from(s.as_str())),
        Json_::Object(map) => match map.get("base64").and_then(Json_::as_str) {
            Some(text) if map.len() == 1 => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(Value::Blob)
                .map_err(|e| {
                    ApiError::bad_request(format!("invalid base64 in a blob parameter: {e}"))
                }),
            _ => Err(ApiError::bad_request(
                "a parameter is null, a boolean, a number, a string or {\"base64\": \"...\"}",
            )),
        },
        Json_::Array(_) => Err(ApiError::bad_request(
            "a parameter cannot be an array; bind each value separately",
        )),
    }
}

fn result_json(result: &ResultSet) -> Json_ {
    let columns: Vec<&str> = result.column_names().collect();
    let rows: Vec<Vec<Json_>> = result
        .rows
        .iter()
        .map(|r| r.values().iter().map(value_json).collect())
        .collect();
    json!({
        "columns": columns,
        "rows": rows,
        "rows_affected": result.rows_affected,
        "last_insert_id": result.last_insert_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    sql: String,
    #[serde(default)]
    params: Option<Json_>,
}

async fn sql(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
    Json(request): Json<SqlRequest>,
) -> ApiResult<Json<Json_>> {
    let (kind, _) = target(&app, &db)?;
    // A statement that only reads needs only read access; anything else needs write.
    let need = if dbx_core::sql::is_read_only(&request.sql, kind.dialect()) {
        Need::Read
    } else {
        Need::Write
    };
    let adapter = database(&app, &caller, &db, need).await?;
    let stmt = match &request.params {
        None | Some(Json_::Null) => Statement::new(request.sql),
        Some(Json_::Array(list)) => {
            let values = list.iter().map(json_value).collect::<ApiResult<Vec<_>>>()?;
            Statement::with_args(request.sql, values)
        }
        Some(Json_::Object(map)) => {
            let mut stmt = Statement::new(request.sql);
            for (name, value) in map {
                stmt = stmt.bind_named(name, json_value(value)?);
            }
            stmt
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "params is an array (positional) or an object (named)",
            ));
        }
    };
    let result = adapter.query(stmt).await?;
    Ok(Json(result_json(&result)))
}

async fn migrations(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
) -> ApiResult<Json<dbx_migrate::Status>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    let set = if app.migrations_dir.is_dir() {
        dbx_migrate::Migrations::from_dir(&app.migrations_dir)?
    } else {
        dbx_migrate::Migrations::default()
    };
    let status = dbx_migrate::Migrator::new(adapter, set).status().await?;
    Ok(Json(status))
}
