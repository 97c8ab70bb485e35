//! Properties of the lexer and the rewrite, over generated input: nothing panics on any text,
//! and the rewrite changes placeholders and nothing else.

use proptest::prelude::*;

use super::*;
use crate::statement::Params;
use crate::value::Value;

const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

/// Text that is mostly SQL punctuation, quotes, comment openers and sigils, so that the
/// lexer's states are all reached, plus any Unicode now and then.
fn sqlish() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ \\n?:@$#'\"`;\\-/*\\\\()\\[\\]0-9a-zEe_.,=]{0,64}",
        1 => any::<String>(),
    ]
}

fn params() -> impl Strategy<Value = Params> {
    (
        prop::collection::vec(any::<i64>().prop_map(Value::from), 0..4),
        prop::collection::vec(("[a-z]{1,3}", any::<i64>().prop_map(Value::from)), 0..3),
    )
        .prop_map(|(positional, named)| Params { positional, named })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nothing_panics_on_any_text(sql in sqlish(), params in params()) {
        for dialect in DIALECTS {
            let _ = scan(&sql, dialect);
            let _ = leading_keyword(&sql, dialect);
            let _ = is_transaction_control(&sql, dialect);
            let _ = split_statements(&sql, dialect);
            let _ = is_read_only(&sql, dialect);
            let _ = has_bare_word(&sql, dialect, "insert");
            let _ = join_call_parens(&sql, dialect);
            let _ = describe_placeholders(&sql, dialect);
            let _ = to_native(&sql, params.clone(), dialect);
        }
    }

    /// On any text the lexer accepts, the rewrite keeps every byte between placeholders.
    #[test]
    fn only_placeholders_change(sql in sqlish()) {
        for dialect in DIALECTS {
            let Ok(found) = scan(&sql, dialect) else { continue };
            let Ok((native, _)) = describe_placeholders(&sql, dialect) else { continue };
            let mut rest = native.as_str();
            let mut last = 0;
            for p in &found {
                let kept = &sql[last..p.span.start];
                prop_assert!(rest.starts_with(kept), "{dialect:?}: {sql:?} became {native:?}");
                rest = &rest[kept.len()..];
                // Skip the native placeholder: `?` (MySQL, and an escaped `??` anywhere), or
                // `?N`/`$N`, whose digits no kept text can continue (the source's own
                // placeholder would have taken them).
                let len = if dialect == Dialect::Mysql || p.kind == PlaceholderKind::EscapedQuestion {
                    1
                } else {
                    rest.char_indices()
                        .skip(1)
                        .find(|(_, c)| !c.is_ascii_digit())
                        .map_or(rest.len(), |(i, _)| i)
                };
                prop_assert!(rest.len() >= len, "{dialect:?}: {sql:?} became {native:?}");
                rest = &rest[len..];
                last = p.span.end;
            }
            prop_assert_eq!(rest, &sql[last..], "{:?}: {:?}", dialect, sql);
        }
    }
}

/// A piece of generated SQL: text the rewrite must keep as it is, or a placeholder.
#[derive(Debug, Clone)]
enum Piece {
    Kept(String),
    Anonymous,
    /// A name from a small set, so that some repeat, with one of the three sigils.
    Named(char, usize),
}

/// Content for quotes and comments: placeholder look-alikes, other quotes, keywords.
fn content() -> impl Strategy<Value = String> {
    "[a-z ?:@$#;0-9=]{0,12}|\\? :a @b \\$1 \\?2 \\$c|SELECT \\?|:x::int"
}

/// Text the lexer must leave alone in `dialect`, holding `body`.
fn protected(dialect: Dialect, body: String, kind: u8) -> String {
    let doubled = |q: char| body.replace(q, &format!("{q}{q}"));
    match (kind % 8, dialect) {
        (0, _) => format!("'{}'", doubled('\'')),
        (1, Dialect::Mysql) => format!("\"{}\"", doubled('"')),
        (1, _) => format!("\"{}\"", doubled('"')),
        (2, _) => format!("-- {}\n", body.replace('\n', " ")),
        (3, _) => format!("/* {} */", body.replace('*', " ")),
        (4, Dialect::Postgres) => format!("$$ {} $$", body.replace('$', " ")),
        (4, Dialect::Mysql) => format!("# {}\n", body),
        (4, Dialect::Sqlite) => format!("[{}]", body.replace(']', " ")),
        (5, Dialect::Postgres) => format!("$tag$ {} $tag$", body.replace('$', " ")),
        (5, _) => format!("`{}`", doubled('`')),
        (6, Dialect::Postgres) => format!("E'it\\'s {}'", doubled('\'')),
        (6, Dialect::Mysql) => format!("'it\\'s {}'", doubled('\'')),
        (6, Dialect::Sqlite) => format!("x'00ff' '{}'", doubled('\'')),
        (_, Dialect::Postgres) => format!("/* a /* {} */ b */", body.replace('*', " ")),
        (_, _) => format!("'{}' -- ? \n", doubled('\'')),
    }
}

fn pieces(dialect: Dialect) -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        3 => prop::sample::select(vec!["SELECT", "x", "=", "+", "(", ")", ",", "WHERE", "t.a", "1"])
            .prop_map(|w| Piece::Kept(w.to_owned())),
        3 => (content(), any::<u8>()).prop_map(move |(body, kind)| Piece::Kept(protected(dialect, body, kind))),
        2 => Just(Piece::Anonymous),
        2 => (prop::sample::select(vec![':', '@', '$']), 0..4usize).prop_map(|(s, i)| Piece::Named(s, i)),
    ];
    prop::collection::vec(piece, 0..16)
}

/// The SQL, its expected native form and its arguments in native order, worked out from the
/// pieces alone: SQLite's numbering (a `?` takes the next position, a name its first one).
fn expected(dialect: Dialect, pieces: &[Piece]) -> (String, String, Params, Vec<Value>) {
    let mut sql = Vec::new();
    let mut native = Vec::new();
    let mut names: Vec<(usize, u32)> = Vec::new();
    let mut highest = 0u32;
    let mut occurrences = Vec::new();
    for piece in pieces {
        let position = match piece {
            Piece::Kept(text) => {
                sql.push(text.clone());
                native.push(text.clone());
                continue;
            }
            Piece::Anonymous => {
                sql.push("?".to_owned());
                highest += 1;
                highest
            }
            Piece::Named(sigil, i) => {
                sql.push(format!("{sigil}p{i}"));
                match names.iter().find(|(n, _)| n == i) {
                    Some(&(_, position)) => position,
                    None => {
                        highest += 1;
                        names.push((*i, highest));
                        highest
                    }
                }
            }
        };
        occurrences.push(position);
        native.push(match dialect {
            Dialect::Sqlite => format!("?{position}"),
            Dialect::Postgres => format!("${position}"),
            Dialect::Mysql => "?".to_owned(),
        });
    }
    let value_of = |position: u32| match names.iter().find(|(_, p)| *p == position) {
        Some((i, _)) => Value::from(format!("p{i}")),
        None => Value::from(i64::from(position)),
    };
    let params = Params {
        // Positions taken by names get a placeholder value; the name's own value wins.
        positional: (1..=highest)
            .map(|p| {
                if names.iter().any(|(_, q)| *q == p) {
                    Value::Null
                } else {
                    value_of(p)
                }
            })
            .collect(),
        named: names
            .iter()
            .map(|(i, p)| (format!("p{i}"), value_of(*p)))
            .collect(),
    };
    let args = match dialect {
        Dialect::Mysql => occurrences.iter().map(|&p| value_of(p)).collect(),
        _ => (1..=highest).map(value_of).collect(),
    };
    (sql.join(" "), native.join(" "), params, args)
}

fn generated() -> impl Strategy<Value = (Dialect, Vec<Piece>)> {
    prop::sample::select(DIALECTS.to_vec()).prop_flat_map(|d| (Just(d), pieces(d)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Literals, comments and quoted identifiers full of placeholder look-alikes come out as
    /// they went in; every real placeholder gets its native number and its own argument.
    #[test]
    fn the_rewrite_leaves_protected_text_alone((dialect, pieces) in generated()) {
        let (sql, native, params, args) = expected(dialect, &pieces);
        let rewritten = to_native(&sql, params, dialect).map_err(|e| TestCaseError::fail(format!("{sql:?}: {e}")))?;
        prop_assert_eq!(rewritten.sql.as_ref(), native.as_str(), "{:?}: {:?}", dialect, sql);
        prop_assert_eq!(rewritten.args, args, "{:?}: {:?}", dialect, sql);
    }
}
