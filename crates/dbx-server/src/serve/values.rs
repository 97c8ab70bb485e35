//! Values between JSON and dbx: null, numbers and strings as themselves, blobs as
//! `{"base64": "..."}`, both ways.

use base64::Engine as _;
use dbx_core::{ResultSet, Value};
use serde_json::{Value as Json_, json};

use super::error::{ApiError, ApiResult};
use super::model::QueryResult;

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

/// A result set as the API sends it, unless its rows come to more than `max_bytes`.
pub(super) fn bounded_result(result: &ResultSet, max_bytes: usize) -> ApiResult<QueryResult> {
    within_budget(result.approx_bytes(), max_bytes)?;
    Ok(query_result(result))
}

/// Refuses rows of `bytes` (see [`ResultSet::approx_bytes`]) when they exceed `max_bytes`.
pub(super) fn within_budget(bytes: usize, max_bytes: usize) -> ApiResult<()> {
    if bytes > max_bytes {
        return Err(ApiError::too_large(format!(
            "the rows come to about {bytes} bytes, over the {max_bytes} one answer may carry; \
             select fewer rows or columns (LIMIT, or pages of /rows), or raise the server's \
             server.max-result-bytes"
        )));
    }
    Ok(())
}

/// A result set as the API sends it.
pub(super) fn query_result(result: &ResultSet) -> QueryResult {
    QueryResult {
        columns: result.column_names().map(str::to_owned).collect(),
        rows: result
            .rows
            .iter()
            .map(|r| r.values().iter().map(value_json).collect())
            .collect(),
        rows_affected: result.rows_affected,
        last_insert_id: result.last_insert_id,
    }
}
