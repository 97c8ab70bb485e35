//! SQL text handling shared by every adapter: the placeholder lexer and the native rewrite.

mod access;
mod bind;
mod lexer;
mod session;
mod shape;

#[cfg(test)]
mod proptests;

pub use access::{is_read_only, refuse_writes};
pub use bind::{NativeStatement, describe_placeholders, to_native};
pub use lexer::{
    Dialect, MAX_PARAMETER_INDEX, Placeholder, PlaceholderKind, has_bare_word,
    is_transaction_control, join_call_parens, leading_keyword, may_have_placeholders, scan,
    split_statements,
};
pub use session::changes_session;
pub use shape::{Bound, Shape, refuse_transaction_control, shape};
