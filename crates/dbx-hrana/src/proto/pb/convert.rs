//! Between the protobuf messages and the JSON-shaped types the server works with.
//! Decoding refuses messages that leave out a required oneof or field, as sqld does.

use super::http::{self, stream_request, stream_response, stream_result};
use super::shared::{self as pb, batch_cond, cursor_entry, value};
use crate::proto::{self as json};

pub(crate) type Decoded<T> = Result<T, String>;

fn missing(what: &str) -> String {
    format!("protobuf message without {what}")
}

pub(crate) fn value_in(v: pb::Value) -> Decoded<json::Value> {
    Ok(match v.kind.ok_or_else(|| missing("a Value type"))? {
        value::Kind::Null(_) => json::Value::Null,
        value::Kind::Integer(i) => json::Value::Integer(i),
        value::Kind::Float(f) => json::Value::Float(f),
        value::Kind::Text(t) => json::Value::Text(t),
        value::Kind::Blob(b) => json::Value::Blob(b),
    })
}

pub(crate) fn value_out(v: json::Value) -> pb::Value {
    let kind = match v {
        json::Value::Null => value::Kind::Null(value::Null {}),
        json::Value::Integer(i) => value::Kind::Integer(i),
        // Protobuf carries any double, infinities and NaN included.
        json::Value::Float(f) => value::Kind::Float(f),
        json::Value::Text(t) => value::Kind::Text(t),
        json::Value::Blob(b) => value::Kind::Blob(b),
    };
    pb::Value { kind: Some(kind) }
}

fn stmt_in(s: pb::Stmt) -> Decoded<json::Stmt> {
    Ok(json::Stmt {
        sql: s.sql,
        sql_id: s.sql_id,
        args: s.args.into_iter().map(value_in).collect::<Decoded<_>>()?,
        named_args: s
            .named_args
            .into_iter()
            .map(|a| {
                Ok(json::NamedArg {
                    name: a.name,
                    value: value_in(a.value.ok_or_else(|| missing("a named argument's value"))?)?,
                })
            })
            .collect::<Decoded<_>>()?,
        want_rows: s.want_rows,
    })
}

fn cond_in(c: pb::BatchCond) -> Decoded<json::BatchCond> {
    let list = |l: batch_cond::CondList| {
        l.conds
            .into_iter()
            .map(cond_in)
            .collect::<Decoded<Vec<_>>>()
    };
    Ok(match c.cond.ok_or_else(|| missing("a BatchCond type"))? {
        batch_cond::Cond::StepOk(step) => json::BatchCond::Ok { step },
        batch_cond::Cond::StepError(step) => json::BatchCond::Error { step },
        batch_cond::Cond::Not(c) => json::BatchCond::Not {
            cond: Box::new(cond_in(*c)?),
        },
        batch_cond::Cond::And(l) => json::BatchCond::And { conds: list(l)? },
        batch_cond::Cond::Or(l) => json::BatchCond::Or { conds: list(l)? },
        batch_cond::Cond::IsAutocommit(_) => json::BatchCond::IsAutocommit {},
    })
}

pub(crate) fn batch_in(b: pb::Batch) -> Decoded<json::Batch> {
    let steps = b
        .steps
        .into_iter()
        .map(|s| {
            Ok(json::BatchStep {
                condition: s.condition.map(cond_in).transpose()?,
                stmt: stmt_in(s.stmt.ok_or_else(|| missing("a batch step's statement"))?)?,
            })
        })
        .collect::<Decoded<_>>()?;
    Ok(json::Batch { steps })
}

pub(crate) fn error_out(e: json::Error) -> pb::Error {
    pb::Error {
        message: e.message,
        code: e.code,
    }
}

fn col_out(c: json::Col) -> pb::Col {
    pb::Col {
        name: c.name,
        decltype: c.decltype,
    }
}

fn rowid_out(rowid: Option<String>) -> Option<i64> {
    rowid.and_then(|r| r.parse().ok())
}

fn result_out(r: json::StmtResult) -> pb::StmtResult {
    pb::StmtResult {
        cols: r.cols.into_iter().map(col_out).collect(),
        rows: r
            .rows
            .into_iter()
            .map(|row| pb::Row {
                values: row.into_iter().map(value_out).collect(),
            })
            .collect(),
        affected_row_count: r.affected_row_count,
        last_insert_rowid: rowid_out(r.last_insert_rowid),
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn batch_result_out(r: json::BatchResult) -> pb::BatchResult {
    pb::BatchResult {
        step_results: r
            .step_results
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| Some((index(i), result_out(r?))))
            .collect(),
        step_errors: r
            .step_errors
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| Some((index(i), error_out(e?))))
            .collect(),
    }
}

fn describe_out(d: json::DescribeResult) -> pb::DescribeResult {
    pb::DescribeResult {
        params: d
            .params
            .into_iter()
            .map(|p| pb::DescribeParam { name: p.name })
            .collect(),
        cols: d
            .cols
            .into_iter()
            .map(|c| pb::DescribeCol {
                name: c.name,
                decltype: c.decltype,
            })
            .collect(),
        is_explain: d.is_explain,
        is_readonly: d.is_readonly,
    }
}

pub(crate) fn entry_out(e: json::CursorEntry) -> pb::CursorEntry {
    let entry = match e {
        json::CursorEntry::StepBegin { step, cols } => {
            cursor_entry::Entry::StepBegin(pb::StepBeginEntry {
                step,
                cols: cols.into_iter().map(col_out).collect(),
            })
        }
        json::CursorEntry::Row { row } => cursor_entry::Entry::Row(pb::Row {
            values: row.into_iter().map(value_out).collect(),
        }),
        json::CursorEntry::StepEnd {
            affected_row_count,
            last_insert_rowid,
        } => cursor_entry::Entry::StepEnd(pb::StepEndEntry {
            affected_row_count,
            last_insert_rowid: rowid_out(last_insert_rowid),
        }),
        json::CursorEntry::StepError { step, error } => {
            cursor_entry::Entry::StepError(pb::StepErrorEntry {
                step,
                error: Some(error_out(error)),
            })
        }
        json::CursorEntry::Error { error } => cursor_entry::Entry::Error(error_out(error)),
    };
    pb::CursorEntry { entry: Some(entry) }
}

pub(crate) fn stream_request_in(r: http::StreamRequest) -> Decoded<json::StreamRequest> {
    use stream_request::Request as R;
    Ok(
        match r.request.ok_or_else(|| missing("a StreamRequest type"))? {
            R::Close(_) => json::StreamRequest::Close {},
            R::Execute(e) => json::StreamRequest::Execute {
                stmt: stmt_in(e.stmt.ok_or_else(|| missing("a statement"))?)?,
            },
            R::Batch(b) => json::StreamRequest::Batch {
                batch: batch_in(b.batch.ok_or_else(|| missing("a batch"))?)?,
            },
            R::Sequence(s) => json::StreamRequest::Sequence {
                sql: s.sql,
                sql_id: s.sql_id,
            },
            R::Describe(s) => json::StreamRequest::Describe {
                sql: s.sql,
                sql_id: s.sql_id,
            },
            R::StoreSql(s) => json::StreamRequest::StoreSql {
                sql_id: s.sql_id,
                sql: s.sql,
            },
            R::CloseSql(s) => json::StreamRequest::CloseSql { sql_id: s.sql_id },
            R::GetAutocommit(_) => json::StreamRequest::GetAutocommit {},
        },
    )
}

pub(crate) fn stream_response_out(r: json::StreamResponse) -> http::StreamResponse {
    use stream_response::Response as R;
    let response = match r {
        json::StreamResponse::Close {} => R::Close(http::Empty {}),
        json::StreamResponse::Execute { result } => R::Execute(http::StmtResp {
            result: Some(result_out(result)),
        }),
        json::StreamResponse::Batch { result } => R::Batch(http::BatchResp {
            result: Some(batch_result_out(result)),
        }),
        json::StreamResponse::Sequence {} => R::Sequence(http::Empty {}),
        json::StreamResponse::Describe { result } => R::Describe(http::DescribeResp {
            result: Some(describe_out(result)),
        }),
        json::StreamResponse::StoreSql {} => R::StoreSql(http::Empty {}),
        json::StreamResponse::CloseSql {} => R::CloseSql(http::Empty {}),
        json::StreamResponse::GetAutocommit { is_autocommit } => {
            R::GetAutocommit(http::GetAutocommitResp { is_autocommit })
        }
    };
    http::StreamResponse {
        response: Some(response),
    }
}

pub(crate) fn pipeline_in(b: http::PipelineReqBody) -> Decoded<json::PipelineReqBody> {
    Ok(json::PipelineReqBody {
        baton: b.baton,
        requests: b
            .requests
            .into_iter()
            .map(stream_request_in)
            .collect::<Decoded<_>>()?,
    })
}

pub(crate) fn pipeline_out(b: json::PipelineRespBody) -> http::PipelineRespBody {
    let results = b
        .results
        .into_iter()
        .map(|r| http::StreamResult {
            result: Some(match r {
                json::StreamResult::Ok { response } => {
                    stream_result::Result::Ok(stream_response_out(response))
                }
                json::StreamResult::Error { error } => {
                    stream_result::Result::Error(error_out(error))
                }
            }),
        })
        .collect();
    http::PipelineRespBody {
        baton: b.baton,
        base_url: b.base_url,
        results,
    }
}

pub(crate) fn cursor_in(b: http::CursorReqBody) -> Decoded<json::CursorReqBody> {
    Ok(json::CursorReqBody {
        baton: b.baton,
        batch: batch_in(b.batch.ok_or_else(|| missing("a batch"))?)?,
    })
}

/// A WebSocket client message, decoded from protobuf.
pub(crate) fn client_msg_in(m: super::ws::ClientMsg) -> Decoded<json::ws::ClientMsg> {
    use super::ws::client_msg::Msg;
    use super::ws::request_msg::Request as R;
    use json::ws::Request as J;
    Ok(match m.msg.ok_or_else(|| missing("a ClientMsg type"))? {
        Msg::Hello(h) => json::ws::ClientMsg::Hello { jwt: h.jwt },
        Msg::Request(r) => {
            let need_batch = |b: Option<pb::Batch>| batch_in(b.ok_or_else(|| missing("a batch"))?);
            let request = match r.request.ok_or_else(|| missing("a request type"))? {
                R::OpenStream(s) => J::OpenStream {
                    stream_id: s.stream_id,
                },
                R::CloseStream(s) => J::CloseStream {
                    stream_id: s.stream_id,
                },
                R::Execute(e) => J::Execute {
                    stream_id: e.stream_id,
                    stmt: stmt_in(e.stmt.ok_or_else(|| missing("a statement"))?)?,
                },
                R::Batch(b) => J::Batch {
                    stream_id: b.stream_id,
                    batch: need_batch(b.batch)?,
                },
                R::OpenCursor(c) => J::OpenCursor {
                    stream_id: c.stream_id,
                    cursor_id: c.cursor_id,
                    batch: need_batch(c.batch)?,
                },
                R::CloseCursor(c) => J::CloseCursor {
                    cursor_id: c.cursor_id,
                },
                R::FetchCursor(f) => J::FetchCursor {
                    cursor_id: f.cursor_id,
                    max_count: f.max_count,
                },
                R::Sequence(s) => J::Sequence {
                    stream_id: s.stream_id,
                    sql: s.sql,
                    sql_id: s.sql_id,
                },
                R::Describe(s) => J::Describe {
                    stream_id: s.stream_id,
                    sql: s.sql,
                    sql_id: s.sql_id,
                },
                R::StoreSql(s) => J::StoreSql {
                    sql_id: s.sql_id,
                    sql: s.sql,
                },
                R::CloseSql(s) => J::CloseSql { sql_id: s.sql_id },
                R::GetAutocommit(s) => J::GetAutocommit {
                    stream_id: s.stream_id,
                },
            };
            json::ws::ClientMsg::Request {
                request_id: r.request_id,
                request,
            }
        }
    })
}

/// A WebSocket server message, encoded for protobuf.
pub(crate) fn server_msg_out(m: json::ws::ServerMsg) -> super::ws::ServerMsg {
    use super::ws::{self as w, response_ok_msg::Response as R, server_msg::Msg};
    use json::ws::Response as J;
    let msg = match m {
        json::ws::ServerMsg::HelloOk {} => Msg::HelloOk(w::Empty {}),
        json::ws::ServerMsg::HelloError { error } => Msg::HelloError(w::HelloErrorMsg {
            error: Some(error_out(error)),
        }),
        json::ws::ServerMsg::ResponseError { request_id, error } => {
            Msg::ResponseError(w::ResponseErrorMsg {
                request_id,
                error: Some(error_out(error)),
            })
        }
        json::ws::ServerMsg::ResponseOk {
            request_id,
            response,
        } => {
            let response = match response {
                J::OpenStream {} => R::OpenStream(w::Empty {}),
                J::CloseStream {} => R::CloseStream(w::Empty {}),
                J::Execute { result } => R::Execute(w::StmtResp {
                    result: Some(result_out(result)),
                }),
                J::Batch { result } => R::Batch(w::BatchResp {
                    result: Some(batch_result_out(result)),
                }),
                J::Sequence {} => R::Sequence(w::Empty {}),
                J::Describe { result } => R::Describe(w::DescribeResp {
                    result: Some(describe_out(result)),
                }),
                J::StoreSql {} => R::StoreSql(w::Empty {}),
                J::CloseSql {} => R::CloseSql(w::Empty {}),
                J::OpenCursor {} => R::OpenCursor(w::Empty {}),
                J::CloseCursor {} => R::CloseCursor(w::Empty {}),
                J::FetchCursor { entries, done } => R::FetchCursor(w::FetchCursorResp {
                    entries: entries.into_iter().map(entry_out).collect(),
                    done,
                }),
                J::GetAutocommit { is_autocommit } => {
                    R::GetAutocommit(w::GetAutocommitResp { is_autocommit })
                }
            };
            Msg::ResponseOk(w::ResponseOkMsg {
                request_id,
                response: Some(response),
            })
        }
    };
    super::ws::ServerMsg { msg: Some(msg) }
}
