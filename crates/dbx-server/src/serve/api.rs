//! The REST API under `/api`. A database is `{kind}` (the adapter's own) or `{kind}.{tenant}`.
//! Table and column names are checked against introspection and quoted, never interpolated
//! as given; values always travel as bound parameters.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use dbx_core::tenancy::TenantId;
use dbx_core::{Adapter, AdapterKind, Statement, StatementLimits, TableSchema};
use serde_json::Value as Json_;

use super::App;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Body};
use super::model::{
    AdapterInfo, Adapters, ErrorBody, QueryResult, SqlRequest, Tables, TenantRef, Tenants,
};
use super::values::{bounded_result, json_value};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/adapters", get(adapters))
        .route("/api/session", get(super::auth::session))
        .route(
            "/api/adapters/{kind}/tenants",
            get(list_tenants).post(create_tenant),
        )
        .route("/api/adapters/{kind}/tenants/{id}", delete(delete_tenant))
        .route("/api/databases/{db}/tables", get(tables))
        .route("/api/databases/{db}/tables/{table}", get(table))
        .route(
            "/api/databases/{db}/tables/{table}/rows",
            get(super::query::rows)
                .post(super::rows::insert)
                .patch(super::rows::update)
                .delete(super::rows::remove),
        )
        .route("/api/databases/{db}/sql", post(sql))
        .route(
            "/api/databases/{db}/script",
            post(super::script::run_script),
        )
        .route(
            "/api/databases/{db}/changes",
            post(super::changes::apply_changes),
        )
        .route("/api/databases/{db}/migrations", get(migrations))
        .route("/api/databases/{db}/migrations/up", post(migrate_up))
        .route("/api/databases/{db}/migrations/down", post(migrate_down))
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
pub(super) fn target(app: &App, db: &str) -> ApiResult<(AdapterKind, Option<TenantId>)> {
    let (kind, tenant) = match db.split_once('.') {
        Some((kind, tenant)) => (kind, Some(tenant_id(tenant)?)),
        None => (db, None),
    };
    Ok((parse_kind(app, kind)?, tenant))
}

/// A database as a REST request may use it: its adapter, and the limits every statement of
/// the request runs under (the caller's statement timeout, and the server's result size).
pub(super) struct Database {
    adapter: Arc<dyn Adapter>,
    limits: StatementLimits,
}

impl std::ops::Deref for Database {
    type Target = Arc<dyn Adapter>;
    fn deref(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }
}

impl Database {
    /// `stmt` under the request's limits.
    pub(super) fn limited(&self, stmt: Statement) -> Statement {
        stmt.with_limits(self.limits)
    }

    /// The request's limits, with `budget` bytes of rows left.
    pub(super) fn limits_within(&self, budget: usize) -> StatementLimits {
        StatementLimits {
            max_result_bytes: Some(budget),
            ..self.limits
        }
    }
}

/// The database `db`, after checking that the caller may do `need` there.
pub(super) async fn database(
    app: &App,
    caller: &Caller,
    db: &str,
    need: Need,
) -> ApiResult<Database> {
    let (kind, tenant) = target(app, db)?;
    match need {
        Need::Read => caller.require_read(tenant.as_ref())?,
        Need::Write => caller.require_write(tenant.as_ref())?,
    }
    let adapter = match tenant {
        None => app.service.root(Some(kind))?,
        // Never created by naming it: tenants are created with POST .../tenants (admin).
        Some(ref id) => app.service.existing_tenant(id, Some(kind)).await?,
    };
    let limits = StatementLimits {
        timeout: caller.statement_timeout(&app.timeouts, tenant.as_ref()),
        max_result_bytes: Some(app.max_result_bytes),
    };
    Ok(Database { adapter, limits })
}

/// The configured adapters.
#[utoipa::path(get, path = "/api/adapters", responses((status = 200, body = Adapters), (status = 401, body = ErrorBody)), tag = "adapters")]
pub(super) async fn adapters(
    State(app): State<Arc<App>>,
    _caller: Caller,
) -> ApiResult<Json<Adapters>> {
    let default = app.service.default_kind();
    let mut adapters = Vec::new();
    for kind in app.service.available_kinds() {
        let policy = app.service.tenant_manager(Some(kind))?.policy();
        adapters.push(AdapterInfo {
            kind: kind.to_string(),
            default: kind == default,
            tenancy: format!("{policy:?}"),
        });
    }
    Ok(Json(Adapters { adapters }))
}

/// An adapter's tenants.
#[utoipa::path(get, path = "/api/adapters/{kind}/tenants", params(("kind" = String, Path)),
    responses((status = 200, body = Tenants), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), tag = "tenants")]
pub(super) async fn list_tenants(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(kind): Path<String>,
) -> ApiResult<Json<Tenants>> {
    caller.require_read_everything()?;
    let kind = parse_kind(&app, &kind)?;
    let tenants = app.service.list_tenants(Some(kind)).await?;
    Ok(Json(Tenants {
        tenants: tenants.iter().map(ToString::to_string).collect(),
    }))
}

/// Creates a tenant (admin).
#[utoipa::path(post, path = "/api/adapters/{kind}/tenants", params(("kind" = String, Path)), request_body = TenantRef,
    responses((status = 201, body = TenantRef), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "tenants")]
pub(super) async fn create_tenant(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(kind): Path<String>,
    Body(body): Body<TenantRef>,
) -> ApiResult<(StatusCode, Json<TenantRef>)> {
    caller.require_admin()?;
    let kind = parse_kind(&app, &kind)?;
    let id = tenant_id(&body.id)?;
    app.service.create_tenant(&id, Some(kind)).await?;
    Ok((StatusCode::CREATED, Json(TenantRef { id: id.to_string() })))
}

/// Deletes a tenant and its data (admin).
#[utoipa::path(delete, path = "/api/adapters/{kind}/tenants/{id}", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), tag = "tenants")]
pub(super) async fn delete_tenant(
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

/// Tables and views.
#[utoipa::path(get, path = "/api/databases/{db}/tables", params(("db" = String, Path, description = "`{kind}` or `{kind}.{tenant}`")),
    responses((status = 200, body = Tables), (status = 404, body = ErrorBody)), tag = "schema")]
pub(super) async fn tables(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
) -> ApiResult<Json<Tables>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    let tables = adapter.tables().await?;
    Ok(Json(Tables { tables }))
}

/// One table: columns, primary key, indexes, foreign keys.
#[utoipa::path(get, path = "/api/databases/{db}/tables/{table}", params(("db" = String, Path), ("table" = String, Path)),
    responses((status = 200, body = TableSchema), (status = 404, body = ErrorBody)), tag = "schema")]
pub(super) async fn table(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((db, table)): Path<(String, String)>,
) -> ApiResult<Json<TableSchema>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    Ok(Json(adapter.table(&table).await?))
}

/// Runs one statement.
#[utoipa::path(post, path = "/api/databases/{db}/sql", params(("db" = String, Path)), request_body = SqlRequest,
    responses((status = 200, body = QueryResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "sql")]
pub(super) async fn sql(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
    Body(request): Body<SqlRequest>,
) -> ApiResult<Json<QueryResult>> {
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
    let result = adapter.query(adapter.limited(stmt)).await?;
    Ok(Json(bounded_result(&result, app.max_result_bytes)?))
}

/// Migration status of a database.
#[utoipa::path(get, path = "/api/databases/{db}/migrations", params(("db" = String, Path)),
    responses((status = 200, body = dbx_migrate::Status), (status = 404, body = ErrorBody)), tag = "migrations")]
pub(super) async fn migrations(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
) -> ApiResult<Json<dbx_migrate::Status>> {
    let adapter = database(&app, &caller, &db, Need::Read).await?;
    let migrator = app
        .sources
        .migrator(adapter.adapter, dbx_migrate::Options::default(), false)?;
    Ok(Json(migrator.status().await?))
}

/// How far `migrations/up` and `migrations/down` go.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
pub(super) struct MigrateParams {
    /// `up`: apply up to this version; `down`: revert every migration newer than it (0: all).
    to: Option<i64>,
    /// `down` only: how many to revert (default 1).
    steps: Option<usize>,
}

/// How long a request waits for another runner's migration lock before it answers 409.
const REST_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn rest_migrator(
    app: &App,
    adapter: Arc<dyn dbx_core::Adapter>,
) -> ApiResult<dbx_migrate::Migrator> {
    let options = dbx_migrate::Options {
        lock: dbx_migrate::LockOptions {
            timeout: REST_LOCK_TIMEOUT,
            ..dbx_migrate::LockOptions::default()
        },
        ..dbx_migrate::Options::default()
    };
    Ok(app.sources.migrator(adapter, options, false)?)
}

/// Runs a migration command to its end on a blocking thread of the runtime: the migrator's
/// futures are not `Send`, so they cannot be a handler's, and a run must finish (or fail
/// and record why) even if the client goes away.
async fn off_the_reactor(
    run: impl AsyncFnOnce() -> dbx_migrate::Result<dbx_migrate::Report> + Send + 'static,
) -> ApiResult<dbx_migrate::Report> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(run()))
        .await
        .map_err(|e| ApiError::internal(format!("the migration task failed: {e}")))?
        .map_err(ApiError::from)
}

/// Initializes new modules and applies pending migrations (admin), under the same lock as
/// `dbx migrate up`.
#[utoipa::path(post, path = "/api/databases/{db}/migrations/up", params(("db" = String, Path), MigrateParams),
    responses((status = 200, body = dbx_migrate::Report), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "migrations")]
pub(super) async fn migrate_up(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
    Query(params): Query<MigrateParams>,
) -> ApiResult<Json<dbx_migrate::Report>> {
    caller.require_admin()?;
    if params.steps.is_some() {
        return Err(ApiError::bad_request("`steps` is for down; up takes `to`"));
    }
    let adapter = database(&app, &caller, &db, Need::Write).await?;
    let migrator = rest_migrator(&app, adapter.adapter)?;
    let report = off_the_reactor(async move || migrator.up(params.to).await).await?;
    Ok(Json(report))
}

/// Reverts the newest migration, the newest `steps`, or every one newer than `to` (admin),
/// under the same lock as `dbx migrate down`.
#[utoipa::path(post, path = "/api/databases/{db}/migrations/down", params(("db" = String, Path), MigrateParams),
    responses((status = 200, body = dbx_migrate::Report), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), tag = "migrations")]
pub(super) async fn migrate_down(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(db): Path<String>,
    Query(params): Query<MigrateParams>,
) -> ApiResult<Json<dbx_migrate::Report>> {
    caller.require_admin()?;
    let target = match (params.to, params.steps) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give `to` or `steps`, not both"));
        }
        (Some(v), None) => dbx_migrate::DownTarget::To(v),
        (None, Some(n)) => dbx_migrate::DownTarget::Steps(n),
        (None, None) => dbx_migrate::DownTarget::Steps(1),
    };
    let adapter = database(&app, &caller, &db, Need::Write).await?;
    let migrator = rest_migrator(&app, adapter.adapter)?;
    let report = off_the_reactor(async move || migrator.down(target).await).await?;
    Ok(Json(report))
}
