//! Hrana over WebSocket: the messages (JSON subprotocols `hrana1`, `hrana2`, `hrana3`).

use serde::{Deserialize, Serialize};

use super::{Batch, BatchResult, CursorEntry, DescribeResult, Error, Stmt, StmtResult};

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Authenticates; must come first, and may come again from v2 on.
    Hello {
        /// The token, if any.
        #[serde(default)]
        jwt: Option<String>,
    },
    /// A request; its response carries the same id.
    Request {
        /// Echoed in the response.
        request_id: i32,
        /// The request.
        request: Request,
    },
}

/// A request over WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Opens a stream under a client-chosen id.
    OpenStream {
        /// The id.
        stream_id: i32,
    },
    /// Closes a stream.
    CloseStream {
        /// The id.
        stream_id: i32,
    },
    /// Runs one statement.
    Execute {
        /// The stream.
        stream_id: i32,
        /// The statement.
        stmt: Stmt,
    },
    /// Runs a batch.
    Batch {
        /// The stream.
        stream_id: i32,
        /// The batch.
        batch: Batch,
    },
    /// Runs `;`-separated statements (v2).
    Sequence {
        /// The stream.
        stream_id: i32,
        /// The SQL text.
        #[serde(default)]
        sql: Option<String>,
        /// Or a stored text's id.
        #[serde(default)]
        sql_id: Option<i32>,
    },
    /// Describes a statement (v2).
    Describe {
        /// The stream.
        stream_id: i32,
        /// The SQL text.
        #[serde(default)]
        sql: Option<String>,
        /// Or a stored text's id.
        #[serde(default)]
        sql_id: Option<i32>,
    },
    /// Stores a SQL text for the whole connection (v2).
    StoreSql {
        /// The id.
        sql_id: i32,
        /// The text.
        sql: String,
    },
    /// Forgets a stored text (v2).
    CloseSql {
        /// The id.
        sql_id: i32,
    },
    /// Runs a batch whose results are fetched entry by entry (v3).
    OpenCursor {
        /// The stream.
        stream_id: i32,
        /// The cursor's id.
        cursor_id: i32,
        /// The batch.
        batch: Batch,
    },
    /// Closes a cursor (v3).
    CloseCursor {
        /// The cursor.
        cursor_id: i32,
    },
    /// Fetches entries of a cursor (v3).
    FetchCursor {
        /// The cursor.
        cursor_id: i32,
        /// At most this many entries.
        max_count: u32,
    },
    /// Whether a stream is in autocommit mode (v3).
    GetAutocommit {
        /// The stream.
        stream_id: i32,
    },
}

/// A successful response; its `type` is the request's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// To `open_stream`.
    OpenStream {},
    /// To `close_stream`.
    CloseStream {},
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
    /// To `open_cursor`.
    OpenCursor {},
    /// To `close_cursor`.
    CloseCursor {},
    /// To `fetch_cursor`.
    FetchCursor {
        /// The entries.
        entries: Vec<CursorEntry>,
        /// Whether the cursor has no more entries.
        done: bool,
    },
    /// To `get_autocommit`.
    GetAutocommit {
        /// Whether no transaction is open.
        is_autocommit: bool,
    },
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The hello was accepted.
    HelloOk {},
    /// The hello was refused; the server closes the socket.
    HelloError {
        /// Why.
        error: Error,
    },
    /// A request succeeded.
    ResponseOk {
        /// The request's id.
        request_id: i32,
        /// The response.
        response: Response,
    },
    /// A request failed; the connection goes on.
    ResponseError {
        /// The request's id.
        request_id: i32,
        /// Why.
        error: Error,
    },
}

impl ServerMsg {
    /// The answer to request `request_id`.
    pub fn response(request_id: i32, result: Result<Response, Error>) -> Self {
        match result {
            Ok(response) => Self::ResponseOk {
                request_id,
                response,
            },
            Err(error) => Self::ResponseError { request_id, error },
        }
    }
}
