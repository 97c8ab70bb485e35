//! Package `hrana.http`: pipeline and cursor bodies.

use super::shared::{Batch, BatchResult, DescribeResult, Error, Stmt, StmtResult};

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PipelineReqBody {
    #[prost(string, optional, tag = "1")]
    pub(crate) baton: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) requests: Vec<StreamRequest>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PipelineRespBody {
    #[prost(string, optional, tag = "1")]
    pub(crate) baton: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub(crate) base_url: Option<String>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) results: Vec<StreamResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamResult {
    #[prost(oneof = "stream_result::Result", tags = "1, 2")]
    pub(crate) result: Option<stream_result::Result>,
}

pub(crate) mod stream_result {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Result {
        #[prost(message, tag = "1")]
        Ok(super::StreamResponse),
        #[prost(message, tag = "2")]
        Error(super::Error),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct CursorReqBody {
    #[prost(string, optional, tag = "1")]
    pub(crate) baton: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub(crate) batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct CursorRespBody {
    #[prost(string, optional, tag = "1")]
    pub(crate) baton: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub(crate) base_url: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StmtReq {
    #[prost(message, optional, tag = "1")]
    pub(crate) stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BatchReq {
    #[prost(message, optional, tag = "1")]
    pub(crate) batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SqlReq {
    #[prost(string, optional, tag = "1")]
    pub(crate) sql: Option<String>,
    #[prost(int32, optional, tag = "2")]
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
pub(crate) struct CloseSqlReq {
    #[prost(int32, tag = "1")]
    pub(crate) sql_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamRequest {
    #[prost(oneof = "stream_request::Request", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub(crate) request: Option<stream_request::Request>,
}

pub(crate) mod stream_request {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Request {
        #[prost(message, tag = "1")]
        Close(super::Empty),
        #[prost(message, tag = "2")]
        Execute(super::StmtReq),
        #[prost(message, tag = "3")]
        Batch(super::BatchReq),
        #[prost(message, tag = "4")]
        Sequence(super::SqlReq),
        #[prost(message, tag = "5")]
        Describe(super::SqlReq),
        #[prost(message, tag = "6")]
        StoreSql(super::StoreSqlReq),
        #[prost(message, tag = "7")]
        CloseSql(super::CloseSqlReq),
        #[prost(message, tag = "8")]
        GetAutocommit(super::Empty),
    }
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
pub(crate) struct DescribeResp {
    #[prost(message, optional, tag = "1")]
    pub(crate) result: Option<DescribeResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GetAutocommitResp {
    #[prost(bool, tag = "1")]
    pub(crate) is_autocommit: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamResponse {
    #[prost(oneof = "stream_response::Response", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub(crate) response: Option<stream_response::Response>,
}

pub(crate) mod stream_response {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Response {
        #[prost(message, tag = "1")]
        Close(super::Empty),
        #[prost(message, tag = "2")]
        Execute(super::StmtResp),
        #[prost(message, tag = "3")]
        Batch(super::BatchResp),
        #[prost(message, tag = "4")]
        Sequence(super::Empty),
        #[prost(message, tag = "5")]
        Describe(super::DescribeResp),
        #[prost(message, tag = "6")]
        StoreSql(super::Empty),
        #[prost(message, tag = "7")]
        CloseSql(super::Empty),
        #[prost(message, tag = "8")]
        GetAutocommit(super::GetAutocommitResp),
    }
}
