//! How a client encodes requests in protobuf. The server only ever decodes them, so these
//! encoders exist for the round trip; each field goes to the spec's field of the same name.

use prost::Message as _;

use super::super::pb::{convert, http as pbh, shared as pbs, ws as pbw};
use super::super::ws::{ClientMsg, Request};
use super::super::*;

fn value_pb(v: &Value) -> pbs::Value {
    convert::value_out(v.clone())
}

fn stmt_pb(s: &Stmt) -> pbs::Stmt {
    pbs::Stmt {
        sql: s.sql.clone(),
        sql_id: s.sql_id,
        args: s.args.iter().map(value_pb).collect(),
        named_args: s
            .named_args
            .iter()
            .map(|a| pbs::NamedArg {
                name: a.name.clone(),
                value: Some(value_pb(&a.value)),
            })
            .collect(),
        want_rows: s.want_rows,
    }
}

fn cond_pb(c: &BatchCond) -> pbs::BatchCond {
    use pbs::batch_cond::{Cond, CondList, IsAutocommit};
    let list = |conds: &[BatchCond]| CondList {
        conds: conds.iter().map(cond_pb).collect(),
    };
    pbs::BatchCond {
        cond: Some(match c {
            BatchCond::Ok { step } => Cond::StepOk(*step),
            BatchCond::Error { step } => Cond::StepError(*step),
            BatchCond::Not { cond } => Cond::Not(Box::new(cond_pb(cond))),
            BatchCond::And { conds } => Cond::And(list(conds)),
            BatchCond::Or { conds } => Cond::Or(list(conds)),
            BatchCond::IsAutocommit {} => Cond::IsAutocommit(IsAutocommit {}),
        }),
    }
}

pub(super) fn batch_pb(b: &Batch) -> pbs::Batch {
    pbs::Batch {
        steps: b
            .steps
            .iter()
            .map(|s| pbs::BatchStep {
                condition: s.condition.as_ref().map(cond_pb),
                stmt: Some(stmt_pb(&s.stmt)),
            })
            .collect(),
    }
}

fn stream_request_pb(r: &StreamRequest) -> pbh::StreamRequest {
    use pbh::stream_request::Request as R;
    let sql = |sql: &Option<String>, sql_id: &Option<i32>| pbh::SqlReq {
        sql: sql.clone(),
        sql_id: *sql_id,
    };
    pbh::StreamRequest {
        request: Some(match r {
            StreamRequest::Close {} => R::Close(pbh::Empty {}),
            StreamRequest::Execute { stmt } => R::Execute(pbh::StmtReq {
                stmt: Some(stmt_pb(stmt)),
            }),
            StreamRequest::Batch { batch } => R::Batch(pbh::BatchReq {
                batch: Some(batch_pb(batch)),
            }),
            StreamRequest::Sequence { sql: s, sql_id } => R::Sequence(sql(s, sql_id)),
            StreamRequest::Describe { sql: s, sql_id } => R::Describe(sql(s, sql_id)),
            StreamRequest::StoreSql { sql_id, sql } => R::StoreSql(pbh::StoreSqlReq {
                sql_id: *sql_id,
                sql: sql.clone(),
            }),
            StreamRequest::CloseSql { sql_id } => R::CloseSql(pbh::CloseSqlReq { sql_id: *sql_id }),
            StreamRequest::GetAutocommit {} => R::GetAutocommit(pbh::Empty {}),
        }),
    }
}

pub(super) fn pipeline_pb(p: &PipelineReqBody) -> Vec<u8> {
    pbh::PipelineReqBody {
        baton: p.baton.clone(),
        requests: p.requests.iter().map(stream_request_pb).collect(),
    }
    .encode_to_vec()
}

pub(super) fn client_msg_pb(m: &ClientMsg) -> Vec<u8> {
    use pbw::client_msg::Msg;
    use pbw::request_msg::Request as R;
    let msg = match m {
        ClientMsg::Hello { jwt } => Msg::Hello(pbw::HelloMsg { jwt: jwt.clone() }),
        ClientMsg::Request {
            request_id,
            request,
        } => {
            let sql = |stream_id: &i32, sql: &Option<String>, sql_id: &Option<i32>| pbw::SqlReq {
                stream_id: *stream_id,
                sql: sql.clone(),
                sql_id: *sql_id,
            };
            let request = match request {
                Request::OpenStream { stream_id } => R::OpenStream(pbw::StreamId {
                    stream_id: *stream_id,
                }),
                Request::CloseStream { stream_id } => R::CloseStream(pbw::StreamId {
                    stream_id: *stream_id,
                }),
                Request::Execute { stream_id, stmt } => R::Execute(pbw::ExecuteReq {
                    stream_id: *stream_id,
                    stmt: Some(stmt_pb(stmt)),
                }),
                Request::Batch { stream_id, batch } => R::Batch(pbw::BatchReq {
                    stream_id: *stream_id,
                    batch: Some(batch_pb(batch)),
                }),
                Request::Sequence {
                    stream_id,
                    sql: s,
                    sql_id,
                } => R::Sequence(sql(stream_id, s, sql_id)),
                Request::Describe {
                    stream_id,
                    sql: s,
                    sql_id,
                } => R::Describe(sql(stream_id, s, sql_id)),
                Request::StoreSql { sql_id, sql } => R::StoreSql(pbw::StoreSqlReq {
                    sql_id: *sql_id,
                    sql: sql.clone(),
                }),
                Request::CloseSql { sql_id } => R::CloseSql(pbw::SqlId { sql_id: *sql_id }),
                Request::OpenCursor {
                    stream_id,
                    cursor_id,
                    batch,
                } => R::OpenCursor(pbw::OpenCursorReq {
                    stream_id: *stream_id,
                    cursor_id: *cursor_id,
                    batch: Some(batch_pb(batch)),
                }),
                Request::CloseCursor { cursor_id } => R::CloseCursor(pbw::CursorId {
                    cursor_id: *cursor_id,
                }),
                Request::FetchCursor {
                    cursor_id,
                    max_count,
                } => R::FetchCursor(pbw::FetchCursorReq {
                    cursor_id: *cursor_id,
                    max_count: *max_count,
                }),
                Request::GetAutocommit { stream_id } => R::GetAutocommit(pbw::StreamId {
                    stream_id: *stream_id,
                }),
            };
            Msg::Request(pbw::RequestMsg {
                request_id: *request_id,
                request: Some(request),
            })
        }
    };
    pbw::ClientMsg { msg: Some(msg) }.encode_to_vec()
}
