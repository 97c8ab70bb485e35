//! `/api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations
//! and the body types in `model.rs`.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{api, auth, changes, model, query, rows, script};

#[derive(OpenApi)]
#[openapi(
    info(title = "dbx REST API", description = "Tables, rows, SQL, tenants and migration status over SQLite, PostgreSQL, MySQL and libSQL. A database is `{kind}` or `{kind}.{tenant}`."),
    paths(
        api::adapters,
        api::list_tenants,
        api::create_tenant,
        api::delete_tenant,
        api::tables,
        api::table,
        query::rows,
        rows::insert,
        rows::update,
        rows::remove,
        changes::apply_changes,
        api::sql,
        script::run_script,
        api::migrations,
        api::migrate_up,
        api::migrate_down,
        super::health,
        auth::session,
    ),
    components(schemas(model::ErrorBody, model::ErrorDetail)),
    modifiers(&BearerAuth, &DefaultError),
    security(("bearer" = []))
)]
pub(crate) struct ApiDoc;

/// Declares the `Authorization: Bearer` token that servers with keys require.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every operation may also answer with an error body: 401 and 403 with keys, 503 while a
/// database is unreachable, 500 for the unexpected. The document says so as `default`.
struct DefaultError;

impl utoipa::Modify for DefaultError {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = ResponseBuilder::new()
            .description("an error: `{\"error\": {\"kind\", \"message\"}}`")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("default".to_owned())
                    .or_insert_with(|| error.clone().into());
            }
        }
    }
}

/// The document itself; open, so that clients can be generated before they hold a token.
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
