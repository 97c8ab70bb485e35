//! Reading rows: pages, order and filters, with every name checked against the table's
//! introspected schema and quoted for the dialect, and every value bound.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use dbx_core::sql::Dialect;
use dbx_core::{Statement, TableSchema, Value};

use super::App;
use super::api::{Need, database};
use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::model::{ErrorBody, RowsPage};
use super::values::bounded_result;

/// Rows per page when the client asks for none.
const DEFAULT_PAGE: u64 = 100;
/// The largest page a client may ask for.
const MAX_PAGE: u64 = 1000;

/// A table's name as the REST API writes it in SQL. On SQLite it names the `main`
/// database, so that a temporary table of the same name on the connection can never stand
/// in for it.
pub(super) fn table_ref(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("main.{}", quote(dialect, name)),
        Dialect::Postgres | Dialect::Mysql => quote(dialect, name),
    }
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
    let name = column(schema, col)?;
    let col = quote(dialect, name);
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
        "like" => {
            // PostgreSQL has no LIKE for numbers, jsonb, uuid, timestamps...: match their text.
            let textual = schema
                .column(name)
                .and_then(|c| c.decltype.as_deref())
                .is_some_and(is_textual);
            if dialect == Dialect::Postgres && !textual {
                let (_, values) = binary("LIKE")?;
                return Ok((format!("CAST({col} AS TEXT) LIKE ?"), values));
            }
            binary("LIKE")
        }
        "null" => Ok((format!("{col} IS NULL"), Vec::new())),
        "notnull" => Ok((format!("{col} IS NOT NULL"), Vec::new())),
        other => Err(ApiError::bad_request(format!(
            "unknown filter operator {other:?}; use eq, ne, lt, le, gt, ge, like, null or notnull"
        ))),
    }
}

/// Whether a PostgreSQL column type is a string type, which `LIKE` takes as it is.
fn is_textual(decltype: &str) -> bool {
    let t = decltype.to_ascii_lowercase();
    t.contains("char") || t.contains("text") || t == "name"
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

/// A page of a table's rows.
#[utoipa::path(
    get,
    path = "/api/databases/{db}/tables/{table}/rows",
    params(
        ("db" = String, Path, description = "`{kind}` or `{kind}.{tenant}`"),
        ("table" = String, Path),
        ("limit" = Option<u64>, Query, description = "at most 1000; default 100"),
        ("offset" = Option<u64>, Query),
        ("order" = Option<String>, Query, description = "`name,-created`: columns, `-` for descending"),
        ("filter" = Option<Vec<String>>, Query, description = "`column:op:value`, op one of eq ne lt le gt ge like null notnull; repeatable"),
    ),
    responses(
        (status = 200, body = RowsPage),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    tag = "rows"
)]
pub(super) async fn rows(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> ApiResult<Json<RowsPage>> {
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
    let from = table_ref(dialect, &schema.name);
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
        .query(adapter.limited(Statement::with_args(
            format!("SELECT COUNT(*) FROM {from}{where_sql}"),
            args.clone(),
        )))
        .await?
        .scalar::<i64>()?;
    let mut page_args = args;
    page_args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    page_args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let result = adapter
        .query(adapter.limited(Statement::with_args(
            format!("SELECT * FROM {from}{where_sql}{order_sql} LIMIT ? OFFSET ?"),
            page_args,
        )))
        .await?;
    let page = bounded_result(&result, app.max_result_bytes)?;
    Ok(Json(RowsPage {
        columns: page.columns,
        rows: page.rows,
        total,
        limit,
        offset,
    }))
}
