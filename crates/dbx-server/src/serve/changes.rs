//! `POST /api/databases/{db}/changes`: row inserts, updates and deletes, across tables, in
//! one transaction. The Studio commits its staged edits through it, so a change that fails
//! leaves none of the others behind.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use dbx_core::TableSchema;

use super::App;
use super::api::{Need, database};
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Body};
use super::model::{ChangeOp, Changes, ChangesApplied, ErrorBody};
use super::rows::{Target, apply, plan_delete, plan_insert, plan_update};

/// Applies every change or none.
#[utoipa::path(post, path = "/api/databases/{db}/changes", params(("db" = String, Path, description = "`{kind}` or `{kind}.{tenant}`")),
    request_body = Changes,
    responses((status = 200, body = ChangesApplied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "rows")]
pub(super) async fn apply_changes(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
    Body(body): Body<Changes>,
) -> ApiResult<Json<ChangesApplied>> {
    if body.changes.is_empty() {
        return Err(ApiError::bad_request("\"changes\" is empty: nothing to do"));
    }
    if body.changes.len() > app.max_changes {
        return Err(ApiError::bad_request(format!(
            "{} changes in one request; the limit is {} (`dbx serve --max-changes`)",
            body.changes.len(),
            app.max_changes
        )));
    }
    let adapter = database(&app, &caller, &db, Need::Write).await?;
    let dialect = adapter.kind().dialect();
    // Plan everything before the transaction opens: a bad name costs no round trip.
    let mut schemas: HashMap<&str, TableSchema> = HashMap::new();
    let mut planned = Vec::with_capacity(body.changes.len());
    for (n, change) in body.changes.iter().enumerate() {
        let what = format!("change {} ({} {})", n + 1, change.op, change.table);
        if !schemas.contains_key(change.table.as_str()) {
            let schema = adapter
                .table(&change.table)
                .await
                .map_err(|e| ApiError::from(e).within(&what))?;
            schemas.insert(&change.table, schema);
        }
        let schema = &schemas[change.table.as_str()];
        let row = change.row();
        let plan = match change.op {
            ChangeOp::Insert => plan_insert(schema, dialect, row),
            ChangeOp::Update => plan_update(schema, dialect, row),
            ChangeOp::Delete => plan_delete(schema, dialect, row),
        }
        .map_err(|e| e.within(&what))?;
        planned.push((what, plan));
    }
    let limits = adapter.limits_within(app.max_result_bytes);
    let mut tx = adapter.transaction().await?;
    let mut results = Vec::with_capacity(planned.len());
    for (what, plan) in planned {
        match apply(&mut Target::Transaction(&mut *tx), plan, limits).await {
            Ok(result) => results.push(result),
            Err(e) => {
                // The error to report is the change's; a failed rollback only adds noise
                // (the session is discarded either way).
                let _ = tx.rollback().await;
                return Err(e.within(&format!("{what}; nothing was committed")));
            }
        }
    }
    tx.commit().await?;
    Ok(Json(ChangesApplied { results }))
}
