//! One Hrana stream: a dedicated dbx connection and the SQL texts stored on it.

use std::collections::HashMap;

use std::sync::Arc;
use std::time::Duration;

use dbx_core::sql::{Dialect, is_read_only, split_statements};
use dbx_core::{Connection, ErrorKind, ResultSet, Statement, StatementLimits};

use super::Limits;
use super::batch::{BatchRun, Cursor};
use super::dialect::shim;
use super::errors::stmt_error;
use super::stats::Stats;
use crate::proto::{
    self, Batch, BatchResult, Col, CursorEntry, Stmt, StmtResult, StreamRequest, StreamResponse,
};

/// The protocol version a request arrived under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// Hrana 1 (WebSocket `hrana1`).
    V1,
    /// Hrana 2 (`/v2/...`, WebSocket `hrana2`).
    V2,
    /// Hrana 3 (`/v3/...`).
    V3,
}

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The request failed; the stream and the rest of the pipeline go on.
    Request(proto::Error),
    /// The client broke the protocol; the whole pipeline fails with 400 and the stream is
    /// dropped, as the spec says.
    Protocol(String),
    /// A read-only token sent a statement that may write. Nothing of the request ran; over
    /// HTTP the whole pipeline fails with 403, over WebSocket the request gets this error.
    Forbidden(proto::Error),
}

fn request_error(code: &str, message: impl Into<String>) -> Failure {
    Failure::Request(proto::Error::new(code, message))
}

/// Who sends a stream's requests, from the token of each: whether it may only read, and how
/// long its statements may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Caller {
    pub(crate) read_only: bool,
    pub(crate) timeout: Option<Duration>,
}

/// A stream's state.
#[derive(Debug)]
pub(crate) struct Stream {
    conn: Box<dyn Connection>,
    sqls: HashMap<i32, String>,
    dialect: Dialect,
    caller: Caller,
    limits: Limits,
    stats: Arc<Stats>,
    /// Its place among the server's open streams, when it holds one itself.
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stats.stream_closed();
    }
}

impl Stream {
    pub(crate) fn new(
        conn: Box<dyn Connection>,
        limits: Limits,
        stats: Arc<Stats>,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Self {
        let dialect = conn.kind().dialect();
        stats.stream_opened();
        Self {
            conn,
            sqls: HashMap::new(),
            dialect,
            caller: Caller::default(),
            limits,
            stats,
            _slot: slot,
        }
    }

    /// Takes the rights and limits of the token of the request about to run: a read-only
    /// token's statements that may write are refused, here and by the connection itself.
    pub(crate) fn set_caller(&mut self, caller: Caller) {
        if caller.read_only != self.caller.read_only {
            self.conn.set_read_only(caller.read_only);
        }
        self.caller = caller;
    }

    /// Whether no transaction is open on the stream.
    pub(crate) fn is_autocommit(&self) -> bool {
        self.conn.is_autocommit()
    }

    /// The limits of one statement whose rows may take `budget` bytes.
    fn limits_for(&self, budget: Option<usize>) -> StatementLimits {
        StatementLimits {
            timeout: self.caller.timeout,
            max_result_bytes: budget,
        }
    }

    fn sql_of(&self, sql: Option<String>, sql_id: Option<i32>) -> Result<String, Failure> {
        match (sql, sql_id) {
            (Some(sql), None) => Ok(sql),
            (None, Some(id)) => self.sqls.get(&id).cloned().ok_or_else(|| {
                Failure::Protocol(format!(
                    "SQL text with id {id} was not stored on this stream"
                ))
            }),
            (Some(_), Some(_)) => Err(Failure::Protocol(
                "a statement gives both `sql` and `sql_id`; give one".into(),
            )),
            (None, None) => Err(Failure::Protocol(
                "a statement gives neither `sql` nor `sql_id`".into(),
            )),
        }
    }

    /// Runs one request. `close` is answered here; the caller drops the stream.
    pub(crate) async fn handle(
        &mut self,
        req: StreamRequest,
        version: Version,
    ) -> Result<StreamResponse, Failure> {
        check_version(&req, version)?;
        self.check_writes(&req)?;
        match req {
            StreamRequest::Close {} => Ok(StreamResponse::Close {}),
            StreamRequest::Execute { stmt } => {
                let budget = self.limits.max_result_bytes;
                let (result, _) = self.execute(stmt, budget).await.map_err(Failure::Request)?;
                Ok(StreamResponse::Execute { result })
            }
            StreamRequest::Batch { batch } => Ok(StreamResponse::Batch {
                result: self.batch(batch, version).await?,
            }),
            StreamRequest::Sequence { sql, sql_id } => {
                let sql = self.sql_of(sql, sql_id)?;
                for part in split_statements(&sql, self.dialect) {
                    self.stats.count(part, self.dialect);
                    let stmt = Statement::new(shim(part, self.dialect).map_err(Failure::Request)?)
                        .with_limits(self.limits_for(Some(self.limits.max_result_bytes)));
                    self.conn
                        .execute(stmt)
                        .await
                        .map_err(|e| Failure::Request(stmt_error(&e)))?;
                }
                Ok(StreamResponse::Sequence {})
            }
            StreamRequest::Describe { sql, sql_id } => {
                let sql = self.sql_of(sql, sql_id)?;
                let d = self
                    .conn
                    .describe(&shim(&sql, self.dialect).map_err(Failure::Request)?)
                    .await
                    .map_err(|e| Failure::Request(stmt_error(&e)))?;
                Ok(StreamResponse::Describe {
                    result: proto::DescribeResult {
                        params: d
                            .params
                            .into_iter()
                            .map(|name| proto::DescribeParam { name })
                            .collect(),
                        cols: d
                            .columns
                            .into_iter()
                            .map(|c| proto::DescribeCol {
                                name: c.name,
                                decltype: c.decltype,
                            })
                            .collect(),
                        is_explain: d.is_explain,
                        is_readonly: d.is_readonly,
                    },
                })
            }
            StreamRequest::StoreSql { sql_id, sql } => {
                if self.sqls.contains_key(&sql_id) {
                    return Err(Failure::Protocol(format!(
                        "SQL text with id {sql_id} is already stored"
                    )));
                }
                if self.sqls.len() >= self.limits.max_stored_sql {
                    return Err(request_error(
                        "SQL_STORE_TOO_MANY",
                        format!(
                            "a stream may store at most {} SQL texts; close some with close_sql",
                            self.limits.max_stored_sql
                        ),
                    ));
                }
                if sql.len() > self.limits.max_sql_bytes {
                    return Err(request_error(
                        "SQL_STORE_TOO_LARGE",
                        format!(
                            "a stored SQL text may have at most {} bytes; this one has {}",
                            self.limits.max_sql_bytes,
                            sql.len()
                        ),
                    ));
                }
                self.sqls.insert(sql_id, sql);
                Ok(StreamResponse::StoreSql {})
            }
            StreamRequest::CloseSql { sql_id } => {
                self.sqls.remove(&sql_id);
                Ok(StreamResponse::CloseSql {})
            }
            StreamRequest::GetAutocommit {} => {
                if version < Version::V3 {
                    return Err(Failure::Protocol(
                        "The `get_autocommit` request is only supported in protocol version hrana3 and higher".into(),
                    ));
                }
                Ok(StreamResponse::GetAutocommit {
                    is_autocommit: self.conn.is_autocommit(),
                })
            }
        }
    }

    /// Runs one statement whose rows may take `budget` bytes; returns the bytes they took.
    pub(crate) async fn execute(
        &mut self,
        stmt: Stmt,
        budget: usize,
    ) -> Result<(StmtResult, usize), proto::Error> {
        let want_rows = stmt.want_rows.unwrap_or(true);
        let sql = self.sql_of(stmt.sql, stmt.sql_id).map_err(|f| match f {
            Failure::Request(e) => e,
            Failure::Protocol(m) => proto::Error::new("SQL_INPUT_ERROR", m),
            Failure::Forbidden(e) => e,
        })?;
        let parts = split_statements(&sql, self.dialect);
        match parts.len() {
            0 => {
                return Err(proto::Error::new(
                    "SQL_NO_STATEMENT",
                    "the SQL text holds no statement",
                ));
            }
            1 => {}
            n => {
                return Err(proto::Error::new(
                    "SQL_MANY_STATEMENTS",
                    format!(
                        "the SQL text holds {n} statements; execute takes one (use sequence or batch)"
                    ),
                ));
            }
        }
        self.stats.count(&sql, self.dialect);
        // Rows nobody asked for cost nothing, so they are not limited.
        let limits = self.limits_for(want_rows.then_some(budget));
        let mut statement = Statement::new(shim(&sql, self.dialect)?).with_limits(limits);
        statement.params.positional = stmt.args.into_iter().map(Into::into).collect();
        for arg in stmt.named_args {
            statement.params.insert_named(&arg.name, arg.value.into());
        }
        let too_large = |bytes: Option<usize>| {
            let about = bytes.map_or_else(
                || "more than".to_owned(),
                |b| format!("about {b} bytes, over"),
            );
            proto::Error::new(
                "RESPONSE_TOO_LARGE",
                format!(
                    "the rows come to {about} the {} bytes a statement, batch or cursor may \
                     return; select fewer rows or columns (LIMIT), or raise the server's \
                     max_result_bytes",
                    self.limits.max_result_bytes
                ),
            )
        };
        let result = match self.conn.query(statement).await {
            Ok(result) => result,
            // A read stopped at the limit as its rows came in.
            Err(e) if e.kind() == ErrorKind::ResultTooLarge => return Err(too_large(None)),
            Err(e) => return Err(stmt_error(&e)),
        };
        // A write runs to its end whatever its rows come to; its answer is judged here.
        let bytes = if want_rows { result.approx_bytes() } else { 0 };
        if bytes > budget {
            return Err(too_large(Some(bytes)));
        }
        Ok((to_result(result, want_rows), bytes))
    }

    /// Refuses, before anything runs, a request holding a statement that may write when the
    /// stream is read-only. Stored SQL is looked up; unknown ids are left for `handle` to report.
    fn check_writes(&self, req: &StreamRequest) -> Result<(), Failure> {
        if !self.caller.read_only {
            return Ok(());
        }
        let texts: Vec<&str> = match req {
            StreamRequest::Execute { stmt } => {
                self.text(&stmt.sql, stmt.sql_id).into_iter().collect()
            }
            StreamRequest::Batch { batch } => self.batch_texts(batch),
            StreamRequest::Sequence { sql, sql_id } => {
                self.text(sql, *sql_id).into_iter().collect()
            }
            _ => Vec::new(),
        };
        self.refuse_writes(&texts)
    }

    fn text<'a>(&'a self, sql: &'a Option<String>, id: Option<i32>) -> Option<&'a str> {
        sql.as_deref()
            .or_else(|| id.and_then(|id| self.sqls.get(&id).map(String::as_str)))
    }

    fn batch_texts<'a>(&'a self, batch: &'a Batch) -> Vec<&'a str> {
        batch
            .steps
            .iter()
            .filter_map(|step| self.text(&step.stmt.sql, step.stmt.sql_id))
            .collect()
    }

    fn refuse_writes(&self, texts: &[&str]) -> Result<(), Failure> {
        for sql in texts {
            for part in split_statements(sql, self.dialect) {
                if !is_read_only(part, self.dialect) {
                    return Err(Failure::Forbidden(proto::Error::new(
                        "SQLITE_AUTH",
                        format!(
                            "the token is read-only and this statement may write: {:?}; use a read-write token",
                            truncate(part, 200)
                        ),
                    )));
                }
            }
        }
        Ok(())
    }

    async fn batch(&mut self, batch: Batch, version: Version) -> Result<BatchResult, Failure> {
        let run = BatchRun::new(
            batch,
            version,
            self.limits.max_batch_steps,
            self.limits.max_result_bytes,
        )?;
        Ok(run.finish(self).await)
    }

    /// A cursor over `batch`, which runs nothing until it is fetched.
    pub(crate) fn open_cursor(&self, batch: Batch, version: Version) -> Result<Cursor, Failure> {
        if self.caller.read_only {
            self.refuse_writes(&self.batch_texts(&batch))?;
        }
        let run = BatchRun::new(
            batch,
            version,
            self.limits.max_batch_steps,
            self.limits.max_result_bytes,
        )?;
        Ok(Cursor::new(run))
    }

    /// Runs a batch for an HTTP cursor: entries for the steps that ran, in order.
    pub(crate) async fn cursor(
        &mut self,
        batch: Batch,
        version: Version,
    ) -> Result<Vec<CursorEntry>, Failure> {
        let mut cursor = self.open_cursor(batch, version)?;
        let (entries, _) = cursor.fetch(self, usize::MAX).await;
        Ok(entries)
    }
}

/// Requests and fields newer than the negotiated version are protocol errors.
fn check_version(req: &StreamRequest, version: Version) -> Result<(), Failure> {
    let too_new = |what: &str, needed: &str| {
        Failure::Protocol(format!(
            "The `{what}` request is only supported in protocol version {needed} and higher"
        ))
    };
    if version >= Version::V2 {
        return Ok(());
    }
    match req {
        StreamRequest::Sequence { .. }
        | StreamRequest::Describe { .. }
        | StreamRequest::StoreSql { .. }
        | StreamRequest::CloseSql { .. } => Err(too_new(req.kind(), "hrana2")),
        StreamRequest::Execute { stmt } if stmt.sql_id.is_some() => Err(Failure::Protocol(
            "`sql_id` in a statement is only supported in protocol version hrana2 and higher"
                .into(),
        )),
        StreamRequest::Batch { batch } if batch.steps.iter().any(|s| s.stmt.sql_id.is_some()) => {
            Err(Failure::Protocol(
                "`sql_id` in a statement is only supported in protocol version hrana2 and higher"
                    .into(),
            ))
        }
        _ => Ok(()),
    }
}

fn to_result(rs: ResultSet, want_rows: bool) -> StmtResult {
    let cols = rs
        .columns
        .iter()
        .map(|c| Col {
            name: Some(c.name.clone()),
            decltype: c.decltype.clone(),
        })
        .collect();
    let rows = if want_rows {
        rs.rows
            .into_iter()
            .map(|r| r.into_values().into_iter().map(Into::into).collect())
            .collect()
    } else {
        Vec::new()
    };
    StmtResult {
        cols,
        rows,
        affected_row_count: rs.rows_affected,
        last_insert_rowid: rs.last_insert_id.map(|id| id.to_string()),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
