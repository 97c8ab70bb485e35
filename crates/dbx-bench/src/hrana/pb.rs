//! The few Hrana 3 protobuf messages the load generator sends and reads, written from the
//! spec's field numbers rather than taken from the server, so that the two stay independent
//! peers.

/// `PipelineReqBody`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PipelineReqBody {
    #[prost(string, optional, tag = "1")]
    pub(crate) baton: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) requests: Vec<StreamRequest>,
}

/// `StreamRequest`, with the two kinds the bench sends.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamRequest {
    #[prost(oneof = "Request", tags = "1, 2")]
    pub(crate) request: Option<Request>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum Request {
    #[prost(message, tag = "1")]
    Close(Empty),
    #[prost(message, tag = "2")]
    Execute(ExecuteStreamReq),
}

/// A message with no fields (`CloseStreamReq`).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ExecuteStreamReq {
    #[prost(message, optional, tag = "1")]
    pub(crate) stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Stmt {
    #[prost(string, optional, tag = "1")]
    pub(crate) sql: Option<String>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) args: Vec<Value>,
    #[prost(bool, optional, tag = "5")]
    pub(crate) want_rows: Option<bool>,
}

/// `Value`, integers only.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Value {
    #[prost(oneof = "Kind", tags = "2")]
    pub(crate) kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum Kind {
    #[prost(sint64, tag = "2")]
    Integer(i64),
}

/// `PipelineRespBody`, reading only the results.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PipelineRespBody {
    #[prost(message, repeated, tag = "3")]
    pub(crate) results: Vec<StreamResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamResult {
    #[prost(oneof = "Outcome", tags = "1, 2")]
    pub(crate) outcome: Option<Outcome>,
}

/// A response is a message; reading it as bytes keeps it undecoded (same wire type).
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum Outcome {
    #[prost(bytes, tag = "1")]
    Ok(Vec<u8>),
    #[prost(message, tag = "2")]
    Error(Error),
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Error {
    #[prost(string, tag = "1")]
    pub(crate) message: String,
}

/// An `execute` of `sql` with one integer argument, then `close`.
pub(crate) fn execute_and_close(sql: &str, arg: i64) -> Vec<u8> {
    use prost::Message as _;
    let execute = ExecuteStreamReq {
        stmt: Some(Stmt {
            sql: Some(sql.to_owned()),
            args: vec![Value {
                kind: Some(Kind::Integer(arg)),
            }],
            want_rows: Some(true),
        }),
    };
    PipelineReqBody {
        baton: None,
        requests: vec![
            StreamRequest {
                request: Some(Request::Execute(execute)),
            },
            StreamRequest {
                request: Some(Request::Close(Empty {})),
            },
        ],
    }
    .encode_to_vec()
}

/// Whether a response body holds only successful results, and as many as were asked.
pub(crate) fn all_ok(body: &[u8], expected: usize) -> Result<(), String> {
    use prost::Message as _;
    let resp = PipelineRespBody::decode(body).map_err(|e| format!("undecodable response: {e}"))?;
    if resp.results.len() != expected {
        return Err(format!("{} results, want {expected}", resp.results.len()));
    }
    for r in resp.results {
        match r.outcome {
            Some(Outcome::Ok(_)) => {}
            Some(Outcome::Error(e)) => return Err(e.message),
            None => return Err("a result with neither ok nor error".to_owned()),
        }
    }
    Ok(())
}
