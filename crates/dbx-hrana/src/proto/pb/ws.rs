//! Package `hrana.ws`: WebSocket messages.

use super::shared::{Batch, BatchResult, CursorEntry, DescribeResult, Error, Stmt, StmtResult};

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ClientMsg {
    #[prost(oneof = "client_msg::Msg", tags = "1, 2")]
    pub(crate) msg: Option<client_msg::Msg>,
}

pub(crate) mod client_msg {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Msg {
        #[prost(message, tag = "1")]
        Hello(super::HelloMsg),
        #[prost(message, tag = "2")]
        Request(super::RequestMsg),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct HelloMsg {
    #[prost(string, optional, tag = "1")]
    pub(crate) jwt: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RequestMsg {
    #[prost(int32, tag = "1")]
    pub(crate) request_id: i32,
    #[prost(
        oneof = "request_msg::Request",
        tags = "2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13"
    )]
    pub(crate) request: Option<request_msg::Request>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamId {
    #[prost(int32, tag = "1")]
    pub(crate) stream_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ExecuteReq {
    #[prost(int32, tag = "1")]
    pub(crate) stream_id: i32,
    #[prost(message, optional, tag = "2")]
    pub(crate) stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BatchReq {
    #[prost(int32, tag = "1")]
    pub(crate) stream_id: i32,
    #[prost(message, optional, tag = "2")]
    pub(crate) batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct OpenCursorReq {
    #[prost(int32, tag = "1")]
    pub(crate) stream_id: i32,
    #[prost(int32, tag = "2")]
    pub(crate) cursor_id: i32,
    #[prost(message, optional, tag = "3")]
    pub(crate) batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct CursorId {
    #[prost(int32, tag = "1")]
    pub(crate) cursor_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct FetchCursorReq {
    #[prost(int32, tag = "1")]
    pub(crate) cursor_id: i32,
    #[prost(uint32, tag = "2")]
    pub(crate) max_count: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SqlReq {
    #[prost(int32, tag = "1")]
    pub(crate) stream_id: i32,
    #[prost(string, optional, tag = "2")]
    pub(crate) sql: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub(crate) sql_id: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StoreSqlReq {
    #[prost(int32, tag = "1")]
    pub(crate) sql_id: i32,
    #[prost(string, tag = "2")]
    pub(crate) sql: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SqlId {
    #[prost(int32, tag = "1")]
    pub(crate) sql_id: i32,
}

pub(crate) mod request_msg {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Request {
        #[prost(message, tag = "2")]
        OpenStream(super::StreamId),
        #[prost(message, tag = "3")]
        CloseStream(super::StreamId),
        #[prost(message, tag = "4")]
        Execute(super::ExecuteReq),
        #[prost(message, tag = "5")]
        Batch(super::BatchReq),
        #[prost(message, tag = "6")]
        OpenCursor(super::OpenCursorReq),
        #[prost(message, tag = "7")]
        CloseCursor(super::CursorId),
        #[prost(message, tag = "8")]
        FetchCursor(super::FetchCursorReq),
        #[prost(message, tag = "9")]
        Sequence(super::SqlReq),
        #[prost(message, tag = "10")]
        Describe(super::SqlReq),
        #[prost(message, tag = "11")]
        StoreSql(super::StoreSqlReq),
        #[prost(message, tag = "12")]
        CloseSql(super::SqlId),
        #[prost(message, tag = "13")]
        GetAutocommit(super::StreamId),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ServerMsg {
    #[prost(oneof = "server_msg::Msg", tags = "1, 2, 3, 4")]
    pub(crate) msg: Option<server_msg::Msg>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct HelloErrorMsg {
    #[prost(message, optional, tag = "1")]
    pub(crate) error: Option<Error>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ResponseErrorMsg {
    #[prost(int32, tag = "1")]
    pub(crate) request_id: i32,
    #[prost(message, optional, tag = "2")]
    pub(crate) error: Option<Error>,
}

pub(crate) mod server_msg {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Msg {
        #[prost(message, tag = "1")]
        HelloOk(super::Empty),
        #[prost(message, tag = "2")]
        HelloError(super::HelloErrorMsg),
        #[prost(message, tag = "3")]
        ResponseOk(super::ResponseOkMsg),
        #[prost(message, tag = "4")]
        ResponseError(super::ResponseErrorMsg),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ResponseOkMsg {
    #[prost(int32, tag = "1")]
    pub(crate) request_id: i32,
    #[prost(
        oneof = "response_ok_msg::Response",
        tags = "2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13"
    )]
    pub(crate) response: Option<response_ok_msg::Response>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StmtResp {
    #[prost(message, optional, tag = "1")]
    pub(crate) result: Option<StmtResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BatchResp {
    #[prost(message, optional, tag = "1")]
    pub(crate) result: Option<BatchResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct FetchCursorResp {
    #[prost(message, repeated, tag = "1")]
    pub(crate) entries: Vec<CursorEntry>,
    #[prost(bool, tag = "2")]
    pub(crate) done: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DescribeResp {
    #[prost(message, optional, tag = "1")]
    pub(crate) result: Option<DescribeResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GetAutocommitResp {
    #[prost(bool, tag = "1")]
    pub(crate) is_autocommit: bool,
}

pub(crate) mod response_ok_msg {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Response {
        #[prost(message, tag = "2")]
        OpenStream(super::Empty),
        #[prost(message, tag = "3")]
        CloseStream(super::Empty),
        #[prost(message, tag = "4")]
        Execute(super::StmtResp),
        #[prost(message, tag = "5")]
        Batch(super::BatchResp),
        #[prost(message, tag = "6")]
        OpenCursor(super::Empty),
        #[prost(message, tag = "7")]
        CloseCursor(super::Empty),
        #[prost(message, tag = "8")]
        FetchCursor(super::FetchCursorResp),
        #[prost(message, tag = "9")]
        Sequence(super::Empty),
        #[prost(message, tag = "10")]
        Describe(super::DescribeResp),
        #[prost(message, tag = "11")]
        StoreSql(super::Empty),
        #[prost(message, tag = "12")]
        CloseSql(super::Empty),
        #[prost(message, tag = "13")]
        GetAutocommit(super::GetAutocommitResp),
    }
}
