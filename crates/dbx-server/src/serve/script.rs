//! `POST /api/databases/{db}/script`: several statements, run in order on one session, as a
//! SQL editor runs a script. Each statement commits on its own unless the script opens a
//! transaction itself; a transaction left open at the end is rolled back, never kept.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use dbx_core::Statement;
use dbx_core::sql::{is_read_only, split_statements};

use super::App;
use super::api::{Need, database, target};
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Body};
use super::model::{ErrorBody, ScriptRequest, ScriptResult, StatementFailure, StatementResult};
use super::values::{query_result, within_budget};

/// Runs the statements until one fails.
#[utoipa::path(post, path = "/api/databases/{db}/script", params(("db" = String, Path, description = "`{kind}` or `{kind}.{tenant}`")),
    request_body = ScriptRequest,
    responses((status = 200, body = ScriptResult, description = "every statement ran, or `failed` says which one did not"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)), tag = "sql")]
pub(super) async fn run_script(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
    Body(request): Body<ScriptRequest>,
) -> ApiResult<Json<ScriptResult>> {
    let (kind, _) = target(&app, &db)?;
    let dialect = kind.dialect();
    let statements = split_statements(&request.sql, dialect);
    if statements.is_empty() {
        return Err(ApiError::bad_request("the script holds no statement"));
    }
    if statements.len() > app.max_statements {
        return Err(ApiError::bad_request(format!(
            "the script holds {} statements; the limit is {} (`dbx serve --max-statements`)",
            statements.len(),
            app.max_statements
        )));
    }
    // Checked before anything runs: one statement that may write needs write access.
    let need = if statements.iter().all(|s| is_read_only(s, dialect)) {
        Need::Read
    } else {
        Need::Write
    };
    let adapter = database(&app, &caller, &db, need).await?;
    let mut session = adapter.connection().await?;
    let mut results = Vec::with_capacity(statements.len());
    let mut failed = None;
    // One budget for the whole answer: every statement's rows count against it.
    let mut budget = app.max_result_bytes;
    for (n, sql) in statements.iter().enumerate() {
        let outcome = session
            .query(Statement::new(*sql).with_limits(adapter.limits_within(budget)))
            .await
            .map_err(ApiError::from);
        let outcome = outcome.and_then(|result| {
            let bytes = result.approx_bytes();
            within_budget(bytes, budget)
                .map_err(|e| e.within("it ran, but its rows cannot be sent"))?;
            budget -= bytes;
            Ok(result)
        });
        match outcome {
            Ok(result) => {
                results.push(StatementResult {
                    sql: (*sql).to_owned(),
                    result: query_result(&result),
                });
            }
            Err(e) => {
                failed = Some(StatementFailure {
                    statement: n + 1,
                    sql: (*sql).to_owned(),
                    error: e.detail(),
                });
                break;
            }
        }
    }
    let rolled_back = !session.is_autocommit();
    if rolled_back {
        session.query(Statement::new("ROLLBACK")).await?;
    }
    Ok(Json(ScriptResult {
        results,
        failed,
        rolled_back,
    }))
}
