//! Package `hrana`: the shared messages.

use std::collections::HashMap;

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Error {
    #[prost(string, tag = "1")]
    pub(crate) message: String,
    #[prost(string, optional, tag = "2")]
    pub(crate) code: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Value {
    #[prost(oneof = "value::Kind", tags = "1, 2, 3, 4, 5")]
    pub(crate) kind: Option<value::Kind>,
}

pub(crate) mod value {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Null {}

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Kind {
        #[prost(message, tag = "1")]
        Null(Null),
        #[prost(sint64, tag = "2")]
        Integer(i64),
        #[prost(double, tag = "3")]
        Float(f64),
        #[prost(string, tag = "4")]
        Text(String),
        #[prost(bytes = "vec", tag = "5")]
        Blob(Vec<u8>),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedArg {
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<Value>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Stmt {
    #[prost(string, optional, tag = "1")]
    pub(crate) sql: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub(crate) sql_id: Option<i32>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) args: Vec<Value>,
    #[prost(message, repeated, tag = "4")]
    pub(crate) named_args: Vec<NamedArg>,
    #[prost(bool, optional, tag = "5")]
    pub(crate) want_rows: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Col {
    #[prost(string, optional, tag = "1")]
    pub(crate) name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub(crate) decltype: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Row {
    #[prost(message, repeated, tag = "1")]
    pub(crate) values: Vec<Value>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StmtResult {
    #[prost(message, repeated, tag = "1")]
    pub(crate) cols: Vec<Col>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) rows: Vec<Row>,
    #[prost(uint64, tag = "3")]
    pub(crate) affected_row_count: u64,
    #[prost(sint64, optional, tag = "4")]
    pub(crate) last_insert_rowid: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BatchCond {
    #[prost(oneof = "batch_cond::Cond", tags = "1, 2, 3, 4, 5, 6")]
    pub(crate) cond: Option<batch_cond::Cond>,
}

pub(crate) mod batch_cond {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct CondList {
        #[prost(message, repeated, tag = "1")]
        pub(crate) conds: Vec<super::BatchCond>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct IsAutocommit {}

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Cond {
        #[prost(uint32, tag = "1")]
        StepOk(u32),
        #[prost(uint32, tag = "2")]
        StepError(u32),
        #[prost(message, tag = "3")]
        Not(Box<super::BatchCond>),
        #[prost(message, tag = "4")]
        And(CondList),
        #[prost(message, tag = "5")]
        Or(CondList),
        #[prost(message, tag = "6")]
        IsAutocommit(IsAutocommit),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BatchStep {
    #[prost(message, optional, tag = "1")]
    pub(crate) condition: Option<BatchCond>,
    #[prost(message, optional, tag = "2")]
    pub(crate) stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Batch {
    #[prost(message, repeated, tag = "1")]
    pub(crate) steps: Vec<BatchStep>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BatchResult {
    #[prost(map = "uint32, message", tag = "1")]
    pub(crate) step_results: HashMap<u32, StmtResult>,
    #[prost(map = "uint32, message", tag = "2")]
    pub(crate) step_errors: HashMap<u32, Error>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StepBeginEntry {
    #[prost(uint32, tag = "1")]
    pub(crate) step: u32,
    #[prost(message, repeated, tag = "2")]
    pub(crate) cols: Vec<Col>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StepEndEntry {
    #[prost(uint64, tag = "1")]
    pub(crate) affected_row_count: u64,
    #[prost(sint64, optional, tag = "2")]
    pub(crate) last_insert_rowid: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StepErrorEntry {
    #[prost(uint32, tag = "1")]
    pub(crate) step: u32,
    #[prost(message, optional, tag = "2")]
    pub(crate) error: Option<Error>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct CursorEntry {
    #[prost(oneof = "cursor_entry::Entry", tags = "1, 2, 3, 4, 5")]
    pub(crate) entry: Option<cursor_entry::Entry>,
}

pub(crate) mod cursor_entry {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Entry {
        #[prost(message, tag = "1")]
        StepBegin(super::StepBeginEntry),
        #[prost(message, tag = "2")]
        StepEnd(super::StepEndEntry),
        #[prost(message, tag = "3")]
        StepError(super::StepErrorEntry),
        #[prost(message, tag = "4")]
        Row(super::Row),
        #[prost(message, tag = "5")]
        Error(super::Error),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DescribeParam {
    #[prost(string, optional, tag = "1")]
    pub(crate) name: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DescribeCol {
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    #[prost(string, optional, tag = "2")]
    pub(crate) decltype: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DescribeResult {
    #[prost(message, repeated, tag = "1")]
    pub(crate) params: Vec<DescribeParam>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) cols: Vec<DescribeCol>,
    #[prost(bool, tag = "3")]
    pub(crate) is_explain: bool,
    #[prost(bool, tag = "4")]
    pub(crate) is_readonly: bool,
}
