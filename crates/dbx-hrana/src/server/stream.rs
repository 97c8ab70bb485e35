//! One Hrana stream: a dedicated dbx connection and the SQL texts stored on it.

use std::collections::HashMap;

use dbx_core::sql::{Dialect, is_read_only, split_statements};
use dbx_core::{Connection, ResultSet, Statement};

use std::sync::Arc;

use super::Limits;
use super::dialect::shim;
use super::errors::stmt_error;
use super::stats::Stats;
use crate::proto::{
    self, Batch, BatchCond, BatchResult, Col, CursorEntry, Stmt, StmtResult, StreamRequest,
    StreamResponse,
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

/// A stream's state.
#[derive(Debug)]
pub(crate) struct Stream {
    conn: Box<dyn Connection>,
    sqls: HashMap<i32, String>,
    dialect: Dialect,
    /// Set from the token of each request: statements that may write are refused.
    pub(crate) read_only: bool,
    limits: Limits,
    stats: Arc<Stats>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stats.stream_closed();
    }
}

impl Stream {
    pub(crate) fn new(conn: Box<dyn Connection>, limits: Limits, stats: Arc<Stats>) -> Self {
        let dialect = conn.kind().dialect();
        stats.stream_opened();
        Self {
            conn,
            sqls: HashMap::new(),
            dialect,
            read_only: false,
            limits,
            stats,
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
                    let stmt = Statement::new(shim(part, self.dialect).map_err(Failure::Request)?);
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
    async fn execute(
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
        let mut statement = Statement::new(shim(&sql, self.dialect)?);
        statement.params.positional = stmt.args.into_iter().map(Into::into).collect();
        for arg in stmt.named_args {
            statement.params.insert_named(&arg.name, arg.value.into());
        }
        let result = self
            .conn
            .query(statement)
            .await
            .map_err(|e| stmt_error(&e))?;
        let bytes = if want_rows { result.approx_bytes() } else { 0 };
        if bytes > budget {
            return Err(proto::Error::new(
                "RESPONSE_TOO_LARGE",
                format!(
                    "the rows come to about {bytes} bytes, over the {} bytes a statement, batch or cursor may return; select fewer rows or columns (LIMIT), or raise the server's max_result_bytes",
                    self.limits.max_result_bytes
                ),
            ));
        }
        Ok((to_result(result, want_rows), bytes))
    }

    /// Refuses, before anything runs, a request holding a statement that may write when the
    /// stream is read-only. Stored SQL is looked up; unknown ids are left for `handle` to report.
    fn check_writes(&self, req: &StreamRequest) -> Result<(), Failure> {
        if !self.read_only {
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

    /// Runs a batch, calling `each` with every step's outcome in order.
    async fn run_batch(
        &mut self,
        batch: Batch,
        version: Version,
        mut each: impl FnMut(usize, Option<Result<StmtResult, proto::Error>>) + Send,
    ) -> Result<(), Failure> {
        if batch.steps.len() > self.limits.max_batch_steps {
            return Err(request_error(
                "BATCH_TOO_LARGE",
                format!(
                    "the batch has {} steps; a batch may have at most {}: split it",
                    batch.steps.len(),
                    self.limits.max_batch_steps
                ),
            ));
        }
        for (i, step) in batch.steps.iter().enumerate() {
            if let Some(cond) = &step.condition {
                check_condition(cond, i, version)?;
            }
        }
        let mut budget = self.limits.max_result_bytes;
        // None: skipped; Some(true): ran and succeeded; Some(false): ran and failed.
        let mut outcomes: Vec<Option<bool>> = Vec::with_capacity(batch.steps.len());
        for (i, step) in batch.steps.into_iter().enumerate() {
            let run = step
                .condition
                .as_ref()
                .is_none_or(|c| evaluate(c, &outcomes, self.conn.is_autocommit()));
            if !run {
                outcomes.push(None);
                each(i, None);
                continue;
            }
            let outcome = self
                .execute(step.stmt, budget)
                .await
                .map(|(result, bytes)| {
                    budget -= bytes;
                    result
                });
            outcomes.push(Some(outcome.is_ok()));
            each(i, Some(outcome));
        }
        Ok(())
    }

    async fn batch(&mut self, batch: Batch, version: Version) -> Result<BatchResult, Failure> {
        let mut result = BatchResult::default();
        self.run_batch(batch, version, |_, outcome| {
            let (ok, err) = match outcome {
                None => (None, None),
                Some(Ok(r)) => (Some(r), None),
                Some(Err(e)) => (None, Some(e)),
            };
            result.step_results.push(ok);
            result.step_errors.push(err);
        })
        .await?;
        Ok(result)
    }

    /// Runs a batch for a cursor: entries for the steps that ran, in order.
    pub(crate) async fn cursor(
        &mut self,
        batch: Batch,
        version: Version,
    ) -> Result<Vec<CursorEntry>, Failure> {
        if self.read_only {
            self.refuse_writes(&self.batch_texts(&batch))?;
        }
        let mut entries = Vec::new();
        self.run_batch(batch, version, |i, outcome| {
            let step = u32::try_from(i).unwrap_or(u32::MAX);
            match outcome {
                None => {}
                Some(Err(error)) => entries.push(CursorEntry::StepError { step, error }),
                Some(Ok(result)) => {
                    entries.push(CursorEntry::StepBegin {
                        step,
                        cols: result.cols,
                    });
                    entries.extend(result.rows.into_iter().map(|row| CursorEntry::Row { row }));
                    entries.push(CursorEntry::StepEnd {
                        affected_row_count: result.affected_row_count,
                        last_insert_rowid: result.last_insert_rowid,
                    });
                }
            }
        })
        .await?;
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

/// Conditions may only refer to earlier steps, and `is_autocommit` needs v3.
fn check_condition(cond: &BatchCond, index: usize, version: Version) -> Result<(), Failure> {
    match cond {
        BatchCond::Ok { step } | BatchCond::Error { step } => {
            if usize::try_from(*step).map_or(true, |s| s >= index) {
                return Err(Failure::Protocol(format!(
                    "Invalid reference to step in a batch condition: step {index} refers to step {step}"
                )));
            }
            Ok(())
        }
        BatchCond::Not { cond } => check_condition(cond, index, version),
        BatchCond::And { conds } | BatchCond::Or { conds } => conds
            .iter()
            .try_for_each(|c| check_condition(c, index, version)),
        BatchCond::IsAutocommit {} if version < Version::V3 => Err(Failure::Protocol(
            "The `is_autocommit` condition is only supported in protocol version hrana3 and higher"
                .into(),
        )),
        BatchCond::IsAutocommit {} => Ok(()),
    }
}

fn evaluate(cond: &BatchCond, outcomes: &[Option<bool>], autocommit: bool) -> bool {
    let outcome = |step: u32| {
        usize::try_from(step)
            .ok()
            .and_then(|s| outcomes.get(s).copied())
            .flatten()
    };
    match cond {
        BatchCond::Ok { step } => outcome(*step) == Some(true),
        // A skipped step is neither ok nor error, as the spec says.
        BatchCond::Error { step } => outcome(*step) == Some(false),
        BatchCond::Not { cond } => !evaluate(cond, outcomes, autocommit),
        BatchCond::And { conds } => conds.iter().all(|c| evaluate(c, outcomes, autocommit)),
        BatchCond::Or { conds } => conds.iter().any(|c| evaluate(c, outcomes, autocommit)),
        BatchCond::IsAutocommit {} => autocommit,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_follow_the_spec() {
        let outcomes = [Some(true), Some(false), None];
        assert!(evaluate(&BatchCond::Ok { step: 0 }, &outcomes, true));
        assert!(evaluate(&BatchCond::Error { step: 1 }, &outcomes, true));
        // A skipped step is neither ok nor an error.
        assert!(!evaluate(&BatchCond::Error { step: 2 }, &outcomes, true));
        assert!(!evaluate(&BatchCond::Ok { step: 2 }, &outcomes, true));
        assert!(evaluate(&BatchCond::And { conds: vec![] }, &outcomes, true));
        assert!(!evaluate(&BatchCond::Or { conds: vec![] }, &outcomes, true));
        assert!(!evaluate(
            &BatchCond::Not {
                cond: Box::new(BatchCond::IsAutocommit {})
            },
            &outcomes,
            true
        ));
        assert!(check_condition(&BatchCond::Ok { step: 3 }, 3, Version::V3).is_err());
        assert!(check_condition(&BatchCond::IsAutocommit {}, 3, Version::V2).is_err());
    }
}
