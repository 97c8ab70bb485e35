//! Properties of the wire types over generated messages: what a peer encodes, in JSON or in
//! protobuf, decodes to the same message; and no input, random or a damaged real message,
//! makes a decoder panic.

use proptest::prelude::*;
use prost::Message as _;

mod encode;

use self::encode::{batch_pb, client_msg_pb, pipeline_pb};
use super::pb::{convert, http as pbh, ws as pbw};
use super::ws::{ClientMsg, Request};
use super::*;

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Integer),
        // NaN is never equal to itself, and JSON sends infinities as the largest finite
        // doubles (a documented wire decision), so round trips are checked on finite values.
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        ".{0,16}".prop_map(Value::Text),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Value::Blob),
    ]
}

fn stmt() -> impl Strategy<Value = Stmt> {
    (
        prop::option::of(".{0,24}"),
        prop::option::of(any::<i32>()),
        prop::collection::vec(value(), 0..4),
        prop::collection::vec(("[:@$]?[a-z]{1,4}", value()), 0..3),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(sql, sql_id, args, named, want_rows)| Stmt {
            sql,
            sql_id,
            args,
            named_args: named
                .into_iter()
                .map(|(name, value)| NamedArg { name, value })
                .collect(),
            want_rows,
        })
}

fn cond() -> impl Strategy<Value = BatchCond> {
    let leaf = prop_oneof![
        any::<u32>().prop_map(|step| BatchCond::Ok { step }),
        any::<u32>().prop_map(|step| BatchCond::Error { step }),
        Just(BatchCond::IsAutocommit {}),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_map(|c| BatchCond::Not { cond: Box::new(c) }),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|conds| BatchCond::And { conds }),
            prop::collection::vec(inner, 0..3).prop_map(|conds| BatchCond::Or { conds }),
        ]
    })
}

fn batch() -> impl Strategy<Value = Batch> {
    prop::collection::vec((prop::option::of(cond()), stmt()), 0..4).prop_map(|steps| Batch {
        steps: steps
            .into_iter()
            .map(|(condition, stmt)| BatchStep { condition, stmt })
            .collect(),
    })
}

fn sql_ref() -> impl Strategy<Value = (Option<String>, Option<i32>)> {
    (prop::option::of(".{0,16}"), prop::option::of(any::<i32>()))
}

fn stream_request() -> impl Strategy<Value = StreamRequest> {
    prop_oneof![
        Just(StreamRequest::Close {}),
        stmt().prop_map(|stmt| StreamRequest::Execute { stmt }),
        batch().prop_map(|batch| StreamRequest::Batch { batch }),
        sql_ref().prop_map(|(sql, sql_id)| StreamRequest::Sequence { sql, sql_id }),
        sql_ref().prop_map(|(sql, sql_id)| StreamRequest::Describe { sql, sql_id }),
        (any::<i32>(), ".{0,16}").prop_map(|(sql_id, sql)| StreamRequest::StoreSql { sql_id, sql }),
        any::<i32>().prop_map(|sql_id| StreamRequest::CloseSql { sql_id }),
        Just(StreamRequest::GetAutocommit {}),
    ]
}

fn baton() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[A-Za-z0-9._-]{0,24}")
}

fn pipeline() -> impl Strategy<Value = PipelineReqBody> {
    (baton(), prop::collection::vec(stream_request(), 0..5))
        .prop_map(|(baton, requests)| PipelineReqBody { baton, requests })
}

fn cursor() -> impl Strategy<Value = CursorReqBody> {
    (baton(), batch()).prop_map(|(baton, batch)| CursorReqBody { baton, batch })
}

fn ws_request() -> impl Strategy<Value = Request> {
    let id = any::<i32>;
    prop_oneof![
        id().prop_map(|stream_id| Request::OpenStream { stream_id }),
        id().prop_map(|stream_id| Request::CloseStream { stream_id }),
        (id(), stmt()).prop_map(|(stream_id, stmt)| Request::Execute { stream_id, stmt }),
        (id(), batch()).prop_map(|(stream_id, batch)| Request::Batch { stream_id, batch }),
        (id(), sql_ref()).prop_map(|(stream_id, (sql, sql_id))| Request::Sequence {
            stream_id,
            sql,
            sql_id
        }),
        (id(), sql_ref()).prop_map(|(stream_id, (sql, sql_id))| Request::Describe {
            stream_id,
            sql,
            sql_id
        }),
        (id(), ".{0,16}").prop_map(|(sql_id, sql)| Request::StoreSql { sql_id, sql }),
        id().prop_map(|sql_id| Request::CloseSql { sql_id }),
        (id(), id(), batch()).prop_map(|(stream_id, cursor_id, batch)| Request::OpenCursor {
            stream_id,
            cursor_id,
            batch
        }),
        id().prop_map(|cursor_id| Request::CloseCursor { cursor_id }),
        (id(), any::<u32>()).prop_map(|(cursor_id, max_count)| Request::FetchCursor {
            cursor_id,
            max_count
        }),
        id().prop_map(|stream_id| Request::GetAutocommit { stream_id }),
    ]
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        prop::option::of(".{0,32}").prop_map(|jwt| ClientMsg::Hello { jwt }),
        (any::<i32>(), ws_request()).prop_map(|(request_id, request)| ClientMsg::Request {
            request_id,
            request
        }),
    ]
}

fn stmt_result() -> impl Strategy<Value = StmtResult> {
    (
        prop::collection::vec(
            (
                prop::option::of("[a-z]{0,8}"),
                prop::option::of("[A-Z]{0,8}"),
            ),
            0..3,
        ),
        prop::collection::vec(prop::collection::vec(value(), 0..3), 0..3),
        any::<u64>(),
        prop::option::of(any::<i64>().prop_map(|i| i.to_string())),
    )
        .prop_map(
            |(cols, rows, affected_row_count, last_insert_rowid)| StmtResult {
                cols: cols
                    .into_iter()
                    .map(|(name, decltype)| Col { name, decltype })
                    .collect(),
                rows,
                affected_row_count,
                last_insert_rowid,
            },
        )
}

fn pipeline_response() -> impl Strategy<Value = PipelineRespBody> {
    let result = prop_oneof![
        stmt_result().prop_map(|result| StreamResult::Ok {
            response: StreamResponse::Execute { result }
        }),
        Just(StreamResult::Ok {
            response: StreamResponse::Close {}
        }),
        any::<bool>().prop_map(|is_autocommit| StreamResult::Ok {
            response: StreamResponse::GetAutocommit { is_autocommit }
        }),
        (".{0,16}", prop::option::of("[A-Z_]{1,12}")).prop_map(|(message, code)| {
            StreamResult::Error {
                error: Error { message, code },
            }
        }),
    ];
    (
        baton(),
        prop::option::of("http://[a-z]{1,8}"),
        prop::collection::vec(result, 0..4),
    )
        .prop_map(|(baton, base_url, results)| PipelineRespBody {
            baton,
            base_url,
            results,
        })
}

/// Every way the server reads a request body or message; none may panic, whatever the bytes.
fn decode_everything(bytes: &[u8]) {
    let _ = serde_json::from_slice::<PipelineReqBody>(bytes);
    let _ = serde_json::from_slice::<CursorReqBody>(bytes);
    let _ = serde_json::from_slice::<ClientMsg>(bytes);
    if let Ok(body) = pbh::PipelineReqBody::decode(bytes) {
        let _ = convert::pipeline_in(body);
    }
    if let Ok(body) = pbh::CursorReqBody::decode(bytes) {
        let _ = convert::cursor_in(body);
    }
    if let Ok(msg) = pbw::ClientMsg::decode(bytes) {
        let _ = convert::client_msg_in(msg);
    }
}

/// `bytes` with a few bytes changed, dropped or inserted at generated places.
fn damage(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, how) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match how % 3 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn json_requests_decode_to_what_was_encoded(p in pipeline(), c in cursor(), m in client_msg()) {
        prop_assert_eq!(serde_json::from_slice::<PipelineReqBody>(&serde_json::to_vec(&p).unwrap()).unwrap(), p);
        prop_assert_eq!(serde_json::from_slice::<CursorReqBody>(&serde_json::to_vec(&c).unwrap()).unwrap(), c);
        prop_assert_eq!(serde_json::from_slice::<ClientMsg>(&serde_json::to_vec(&m).unwrap()).unwrap(), m);
    }

    #[test]
    fn json_responses_decode_to_what_was_encoded(r in pipeline_response()) {
        prop_assert_eq!(serde_json::from_slice::<PipelineRespBody>(&serde_json::to_vec(&r).unwrap()).unwrap(), r);
    }

    #[test]
    fn protobuf_requests_decode_to_what_was_encoded(p in pipeline(), c in cursor(), m in client_msg()) {
        let decoded = convert::pipeline_in(pbh::PipelineReqBody::decode(pipeline_pb(&p).as_slice()).unwrap());
        prop_assert_eq!(decoded, Ok(p));
        let cursor_bytes = pbh::CursorReqBody { baton: c.baton.clone(), batch: Some(batch_pb(&c.batch)) }.encode_to_vec();
        let decoded = convert::cursor_in(pbh::CursorReqBody::decode(cursor_bytes.as_slice()).unwrap());
        prop_assert_eq!(decoded, Ok(c));
        let decoded = convert::client_msg_in(pbw::ClientMsg::decode(client_msg_pb(&m).as_slice()).unwrap());
        prop_assert_eq!(decoded, Ok(m));
    }

    #[test]
    fn no_bytes_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
    }

    /// Damaged real messages reach deeper than random bytes: most of the message still parses.
    #[test]
    fn damaged_messages_do_not_panic_a_decoder(p in pipeline(), m in client_msg(), edits in edits()) {
        decode_everything(&damage(serde_json::to_vec(&p).unwrap(), &edits));
        decode_everything(&damage(pipeline_pb(&p), &edits));
        decode_everything(&damage(serde_json::to_vec(&m).unwrap(), &edits));
        decode_everything(&damage(client_msg_pb(&m), &edits));
    }
}
