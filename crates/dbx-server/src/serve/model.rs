//! The REST API's request and response bodies. They are the source of `/api/openapi.json`:
//! handlers return these types, so the document describes what is really sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A configured adapter.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AdapterInfo {
    /// `sqlite`, `postgres`, `mysql` or `libsql`.
    pub(crate) kind: String,
    /// Whether requests that name no adapter go to it.
    pub(crate) default: bool,
    /// How it keeps tenants apart: `FilePerTenant`, `SchemaPerTenant`, ...
    pub(crate) tenancy: String,
}

/// `GET /api/adapters`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Adapters {
    pub(crate) adapters: Vec<AdapterInfo>,
}

/// `GET /api/adapters/{kind}/tenants`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Tenants {
    pub(crate) tenants: Vec<String>,
}

/// A tenant to create, or the one created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantRef {
    /// 1 to 63 of `a-z 0-9 _ -`, starting with a letter or digit.
    pub(crate) id: String,
}

/// `GET /api/databases/{db}/tables`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Tables {
    pub(crate) tables: Vec<dbx_core::TableInfo>,
}

/// A statement's result. Values are JSON null, numbers and strings; blobs are
/// `{"base64": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueryResult {
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Value>>,
    pub(crate) rows_affected: u64,
    pub(crate) last_insert_id: Option<i64>,
}

/// A page of rows.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RowsPage {
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Value>>,
    /// Rows matching the filters, on every page.
    pub(crate) total: i64,
    pub(crate) limit: u64,
    pub(crate) offset: u64,
}

/// `POST /api/databases/{db}/sql`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SqlRequest {
    /// One statement, with SQLite-style placeholders on every backend.
    pub(crate) sql: String,
    /// An array binds `?` in order; an object binds names (`":id": 1`).
    #[serde(default)]
    pub(crate) params: Option<Value>,
}

/// `POST /api/databases/{db}/script`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScriptRequest {
    /// Statements separated by `;` (outside literals, quoted names and comments).
    pub(crate) sql: String,
}

/// What a script did: each statement's result up to the first failure.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScriptResult {
    /// The statements that ran, in order.
    pub(crate) results: Vec<StatementResult>,
    /// The statement that failed, if one did; the ones after it did not run.
    pub(crate) failed: Option<StatementFailure>,
    /// The script left a transaction open (a `BEGIN` without `COMMIT`, or a failure inside
    /// one), and it was rolled back.
    pub(crate) rolled_back: bool,
}

/// One statement of a script and its result.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatementResult {
    pub(crate) sql: String,
    #[serde(flatten)]
    pub(crate) result: QueryResult,
}

/// The statement of a script that failed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatementFailure {
    /// Its position, from 1.
    pub(crate) statement: usize,
    pub(crate) sql: String,
    pub(crate) error: ErrorDetail,
}

/// A row write. `values` for insert and update; `key` (the full primary key) for update
/// and delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RowWrite {
    #[serde(default)]
    pub(crate) values: Map<String, Value>,
    #[serde(default)]
    pub(crate) key: Map<String, Value>,
}

/// `POST /api/databases/{db}/changes`: row writes applied in one transaction, in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Changes {
    pub(crate) changes: Vec<Change>,
}

/// One row write of a [`Changes`] request: `values` for insert and update, `key` (the full
/// primary key) for update and delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Change {
    pub(crate) table: String,
    pub(crate) op: ChangeOp,
    #[serde(default)]
    pub(crate) values: Map<String, Value>,
    #[serde(default)]
    pub(crate) key: Map<String, Value>,
}

impl Change {
    /// The write, as the single-row endpoints take it.
    pub(crate) fn row(&self) -> RowRef<'_> {
        RowRef {
            values: &self.values,
            key: &self.key,
        }
    }
}

/// What a [`Change`] does.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChangeOp {
    Insert,
    Update,
    Delete,
}

/// Each change's result, in request order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangesApplied {
    pub(crate) results: Vec<WriteResult>,
}

/// A row write's parts, borrowed from a [`RowWrite`] or a [`Change`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowRef<'a> {
    pub(crate) values: &'a Map<String, Value>,
    pub(crate) key: &'a Map<String, Value>,
}

impl RowWrite {
    pub(crate) fn row(&self) -> RowRef<'_> {
        RowRef {
            values: &self.values,
            key: &self.key,
        }
    }
}

/// What a row write did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WriteResult {
    pub(crate) rows_affected: u64,
    pub(crate) last_insert_id: Option<i64>,
}

/// Every error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// dbx's `ErrorKind` name, or `invalid_argument`, `not_found`, `conflict`,
    /// `unauthorized`, `permission_denied`, `response_too_large`.
    pub(crate) kind: String,
    pub(crate) message: String,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HealthReport {
    /// `ok`, or `degraded` when an adapter failed its check.
    pub(crate) status: String,
    pub(crate) adapters: Vec<AdapterCheck>,
}

/// One adapter's check.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AdapterCheck {
    pub(crate) kind: String,
    pub(crate) ok: bool,
    pub(crate) error: Option<String>,
    pub(crate) latency_ms: f64,
    pub(crate) pool_in_use: usize,
    pub(crate) pool_idle: usize,
    pub(crate) pool_max: usize,
}

/// `GET /api/session`: what the caller's token allows.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Session {
    /// Whether the server checks tokens at all.
    pub(crate) auth: bool,
    /// `admin`, `rw` or `ro`.
    pub(crate) role: String,
    /// Whether it may read every database (and list tenants).
    pub(crate) read_everything: bool,
    /// Whether it may write every database.
    pub(crate) write_everything: bool,
    /// Databases the token names one by one; `default` is the root database.
    pub(crate) databases: Vec<NamedDatabase>,
}

/// A database a token names.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NamedDatabase {
    pub(crate) name: String,
    pub(crate) write: bool,
}

impl std::fmt::Display for ChangeOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChangeOp::Insert => "insert",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        })
    }
}
