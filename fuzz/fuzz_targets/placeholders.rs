//! Any text, in any dialect, through the lexer, the rewrite and the classifiers. The first
//! byte picks the dialect and how many arguments to bind.
#![no_main]

use dbx_core::Params;
use dbx_core::Value;
use dbx_core::sql::{self, Dialect};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let dialect = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql][usize::from(head % 3)];
    let text = String::from_utf8_lossy(rest);
    let params = Params {
        positional: (0..head / 3 % 4)
            .map(|i| Value::from(i64::from(i)))
            .collect(),
        named: (0..head / 12 % 3)
            .map(|i| (format!("p{i}"), Value::Null))
            .collect(),
    };
    let _ = sql::to_native(&text, params, dialect);
    let _ = sql::describe_placeholders(&text, dialect);
    let _ = sql::leading_keyword(&text, dialect);
    let _ = sql::split_statements(&text, dialect);
    let _ = sql::is_read_only(&text, dialect);
    let _ = sql::join_call_parens(&text, dialect);
});
