//! The Hrana wire types (JSON), apart from any server logic. Unknown fields are ignored, as
//! the spec asks of every peer; unknown `type` tags are errors.

pub(crate) mod pb;
#[cfg(test)]
mod proptests;
mod value;
pub mod ws;

use serde::{Deserialize, Serialize};

pub use value::Value;

/// An error in a result or a response: `{"message": "...", "code": "SQLITE_CONSTRAINT"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Error {
    /// What went wrong, for people.
    pub message: String,
    /// A stable code for programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Error {
    /// An error with a code.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: Some(code.to_owned()),
        }
    }
}

/// A named argument; the name may carry its sigil (`:a`, `@a`, `$a`) or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedArg {
    /// The parameter's name.
    pub name: String,
    /// Its value.
    pub value: Value,
}

/// One statement: SQL text (or the id of a stored text) and its arguments.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stmt {
    /// The SQL text; exactly one of `sql` and `sql_id` is given.
    #[serde(default)]
    pub sql: Option<String>,
    /// The id of a text stored with `store_sql` (v2+).
    #[serde(default)]
    pub sql_id: Option<i32>,
    /// Positional arguments.
    #[serde(default)]
    pub args: Vec<Value>,
    /// Named arguments.
    #[serde(default)]
    pub named_args: Vec<NamedArg>,
    /// Whether to return rows (default true).
    #[serde(default)]
    pub want_rows: Option<bool>,
}

/// A result column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Col {
    /// The name, if the column has one.
    pub name: Option<String>,
    /// The declared type, or null for expressions (v2+).
    #[serde(default)]
    pub decltype: Option<String>,
}

/// The result of one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StmtResult {
    /// The columns.
    pub cols: Vec<Col>,
    /// The rows, each one value per column.
    pub rows: Vec<Vec<Value>>,
    /// Rows changed by an INSERT, UPDATE or DELETE (a JSON number).
    pub affected_row_count: u64,
    /// The inserted rowid, as a decimal string, or null.
    #[serde(default)]
    pub last_insert_rowid: Option<String>,
}

/// A condition on earlier steps of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BatchCond {
    /// The step ran and succeeded.
    Ok {
        /// A 0-based index of an earlier step.
        step: u32,
    },
    /// The step ran and failed.
    Error {
        /// A 0-based index of an earlier step.
        step: u32,
    },
    /// The negation.
    Not {
        /// The negated condition.
        cond: Box<BatchCond>,
    },
    /// All of them (true when empty).
    And {
        /// The conditions.
        conds: Vec<BatchCond>,
    },
    /// Any of them (false when empty).
    Or {
        /// The conditions.
        conds: Vec<BatchCond>,
    },
    /// The stream is outside an explicit transaction (v3).
    IsAutocommit {},
}

/// One step of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchStep {
    /// Run only if this holds.
    #[serde(default)]
    pub condition: Option<BatchCond>,
    /// The statement.
    pub stmt: Stmt,
}

/// Statements run in order, each under an optional condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Batch {
    /// The steps.
    pub steps: Vec<BatchStep>,
}

/// One slot per step: a result if it ran and succeeded, an error if it ran and failed,
/// neither if it was skipped.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BatchResult {
    /// The results.
    pub step_results: Vec<Option<StmtResult>>,
    /// The errors.
    pub step_errors: Vec<Option<Error>>,
}

/// A request on an HTTP stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamRequest {
    /// Close the stream.
    Close {},
    /// Run one statement.
    Execute {
        /// The statement.
        stmt: Stmt,
    },
    /// Run a batch.
    Batch {
        /// The batch.
        batch: Batch,
    },
    /// Run `;`-separated statements, discarding rows.
    Sequence {
        /// The SQL text.
        #[serde(default)]
        sql: Option<String>,
        /// Or a stored text's id.
        #[serde(default)]
        sql_id: Option<i32>,
    },
    /// Describe a statement without running it.
    Describe {
        /// The SQL text.
        #[serde(default)]
        sql: Option<String>,
        /// Or a stored text's id.
        #[serde(default)]
        sql_id: Option<i32>,
    },
    /// Store a SQL text under an id, for this stream.
    StoreSql {
        /// The id.
        sql_id: i32,
        /// The text.
        sql: String,
    },
    /// Forget a stored text.
    CloseSql {
        /// The id.
        sql_id: i32,
    },
    /// Whether the stream is in autocommit mode (v3).
    GetAutocommit {},
}

impl StreamRequest {
    /// The request's `type`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            StreamRequest::Close {} => "close",
            StreamRequest::Execute { .. } => "execute",
            StreamRequest::Batch { .. } => "batch",
            StreamRequest::Sequence { .. } => "sequence",
            StreamRequest::Describe { .. } => "describe",
            StreamRequest::StoreSql { .. } => "store_sql",
            StreamRequest::CloseSql { .. } => "close_sql",
            StreamRequest::GetAutocommit {} => "get_autocommit",
        }
    }
}

/// A parameter of a described statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescribeParam {
    /// The name with its sigil, or null for `?`.
    pub name: Option<String>,
}

/// A column of a described statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescribeCol {
    /// The name.
    pub name: String,
    /// The declared type, or null.
    pub decltype: Option<String>,
}

/// What `describe` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescribeResult {
    /// Parameter i describes parameter i+1.
    pub params: Vec<DescribeParam>,
    /// The result columns.
    pub cols: Vec<DescribeCol>,
    /// Whether it is an EXPLAIN.
    pub is_explain: bool,
    /// Whether it only reads.
    pub is_readonly: bool,
}

/// A successful stream response; its `type` is the request's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResponse {
    /// To `close`.
    Close {},
    /// To `execute`.
    Execute {
        /// The result.
        result: StmtResult,
    },
    /// To `batch`.
    Batch {
        /// The result.
        result: BatchResult,
    },
    /// To `sequence`.
    Sequence {},
    /// To `describe`.
    Describe {
        /// The result.
        result: DescribeResult,
    },
    /// To `store_sql`.
    StoreSql {},
    /// To `close_sql`.
    CloseSql {},
    /// To `get_autocommit`.
    GetAutocommit {
        /// Whether no transaction is open.
        is_autocommit: bool,
    },
}

/// One pipeline result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResult {
    /// The request succeeded.
    Ok {
        /// Its response.
        response: StreamResponse,
    },
    /// The request failed; the stream goes on.
    Error {
        /// Why.
        error: Error,
    },
}

/// `POST /v2|v3/pipeline` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineReqBody {
    /// The stream's baton; absent or null opens a new stream.
    #[serde(default)]
    pub baton: Option<String>,
    /// The requests, run in order.
    pub requests: Vec<StreamRequest>,
}

/// `POST /v2|v3/pipeline` response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRespBody {
    /// The baton for the stream's next request, or null once the stream is closed.
    pub baton: Option<String>,
    /// Where to send the stream's next request; null means the same URL.
    pub base_url: Option<String>,
    /// One result per request.
    pub results: Vec<StreamResult>,
}

/// `POST /v3/cursor` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorReqBody {
    /// The stream's baton; absent or null opens a new stream.
    #[serde(default)]
    pub baton: Option<String>,
    /// The batch whose results are streamed.
    pub batch: Batch,
}

/// The first line of a `/v3/cursor` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorRespBody {
    /// The baton for the stream's next request.
    pub baton: Option<String>,
    /// Where to send the stream's next request.
    pub base_url: Option<String>,
}

/// One entry of a cursor. Only these five types exist; clients reject any other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CursorEntry {
    /// A step starts producing rows.
    StepBegin {
        /// The step.
        step: u32,
        /// Its columns.
        cols: Vec<Col>,
    },
    /// One row of the current step.
    Row {
        /// The values.
        row: Vec<Value>,
    },
    /// The current step finished.
    StepEnd {
        /// Rows it changed.
        affected_row_count: u64,
        /// The inserted rowid, as a decimal string.
        last_insert_rowid: Option<String>,
    },
    /// A step failed.
    StepError {
        /// The step.
        step: u32,
        /// Why.
        error: Error,
    },
    /// The whole batch failed; always the last entry.
    Error {
        /// Why.
        error: Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_requests_decode_as_clients_send_them() {
        let body = r#"{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"}],"named_args":[],"want_rows":true}},{"type":"close"}]}"#;
        let req: PipelineReqBody = serde_json::from_str(body).unwrap();
        assert_eq!(req.baton, None);
        assert_eq!(req.requests.len(), 2);
        assert_eq!(req.requests[1], StreamRequest::Close {});
        let cond = r#"{"type":"and","conds":[{"type":"ok","step":0},{"type":"not","cond":{"type":"is_autocommit"}}]}"#;
        assert!(
            matches!(serde_json::from_str::<BatchCond>(cond).unwrap(), BatchCond::And { conds } if conds.len() == 2)
        );
        // Unknown fields are ignored; unknown types are not.
        assert!(serde_json::from_str::<Stmt>(r#"{"sql":"x","replication_index":"5"}"#).is_ok());
        assert!(serde_json::from_str::<StreamRequest>(r#"{"type":"explode"}"#).is_err());
    }

    #[test]
    fn responses_encode_as_clients_expect() {
        let resp = PipelineRespBody {
            baton: None,
            base_url: None,
            results: vec![StreamResult::Ok {
                response: StreamResponse::GetAutocommit {
                    is_autocommit: true,
                },
            }],
        };
        assert_eq!(
            serde_json::to_string(&resp).unwrap(),
            r#"{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"get_autocommit","is_autocommit":true}}]}"#
        );
        let result = StmtResult {
            cols: vec![],
            rows: vec![],
            affected_row_count: 3,
            last_insert_rowid: Some("7".into()),
        };
        let json = serde_json::to_string(&result).unwrap();
        assert!(
            json.contains(r#""affected_row_count":3"#)
                && json.contains(r#""last_insert_rowid":"7""#),
            "{json}"
        );
    }
}
