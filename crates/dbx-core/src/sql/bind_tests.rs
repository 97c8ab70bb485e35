use super::*;
use crate::Statement;

fn native(stmt: Statement, dialect: Dialect) -> (String, Vec<Value>) {
    let n = to_native(&stmt.sql, stmt.params, dialect).unwrap();
    (n.sql.into_owned(), n.args)
}

fn ints(v: &[i64]) -> Vec<Value> {
    v.iter().copied().map(Value::Integer).collect()
}

#[test]
fn anonymous_positions() {
    let s = Statement::with_args("SELECT ?, ?", [1, 2]);
    assert_eq!(
        native(s.clone(), Dialect::Sqlite),
        ("SELECT ?1, ?2".into(), ints(&[1, 2]))
    );
    assert_eq!(
        native(s.clone(), Dialect::Postgres),
        ("SELECT $1, $2".into(), ints(&[1, 2]))
    );
    assert_eq!(
        native(s, Dialect::Mysql),
        ("SELECT ?, ?".into(), ints(&[1, 2]))
    );
}

#[test]
fn numbered_positions_reorder_for_mysql() {
    let s = Statement::with_args("SELECT ?2, ?1, ?2", [10, 20]);
    assert_eq!(
        native(s.clone(), Dialect::Postgres),
        ("SELECT $2, $1, $2".into(), ints(&[10, 20]))
    );
    assert_eq!(
        native(s, Dialect::Mysql),
        ("SELECT ?, ?, ?".into(), ints(&[20, 10, 20]))
    );
}

#[test]
fn dollar_numbers_mean_positions() {
    let s = Statement::with_args("SELECT $2, $1", [1, 2]);
    assert_eq!(native(s, Dialect::Mysql).1, ints(&[2, 1]));
}

#[test]
fn holes_are_compacted() {
    // ?2 is never used: its argument is accepted and dropped, and the rest is renumbered so
    // that PostgreSQL does not see an untyped, unused $2.
    let s = Statement::with_args("SELECT ?1, ?3", [1, 2, 3]);
    assert_eq!(
        native(s.clone(), Dialect::Postgres),
        ("SELECT $1, $2".into(), ints(&[1, 3]))
    );
    assert_eq!(
        native(s, Dialect::Sqlite),
        ("SELECT ?1, ?2".into(), ints(&[1, 3]))
    );
}

#[test]
fn a_hole_still_counts_as_a_position() {
    let err = to_native(
        "SELECT ?1, ?3",
        Statement::with_args("", [1, 2]).params,
        Dialect::Sqlite,
    )
    .unwrap_err();
    assert!(err.to_string().contains("?3"), "{err}");
}

#[test]
fn names_with_and_without_sigil_and_repeated() {
    let s = Statement::new("SELECT :a, @b, $a, :a")
        .bind_named(":a", 1)
        .bind_named("b", 2);
    assert_eq!(
        native(s.clone(), Dialect::Postgres),
        ("SELECT $1, $2, $1, $1".into(), ints(&[1, 2]))
    );
    assert_eq!(
        native(s, Dialect::Mysql),
        ("SELECT ?, ?, ?, ?".into(), ints(&[1, 2, 1, 1]))
    );
}

#[test]
fn named_placeholders_accept_positional_arguments() {
    let s = Statement::with_args("SELECT :a, :b, :a", [1, 2]);
    assert_eq!(native(s, Dialect::Mysql).1, ints(&[1, 2, 1]));
}

#[test]
fn mixing_follows_sqlite_positions() {
    // `:n` takes position 3 because ?2 was the highest before it; the trailing `?` takes 4.
    // The named argument wins over the positional one at the same position.
    let s = Statement::with_args("SELECT ?2, ?1, :n, ?", [1, 2, 99, 4]).bind_named("n", 3);
    assert_eq!(native(s, Dialect::Mysql).1, ints(&[2, 1, 3, 4]));
}

#[test]
fn missing_arguments_are_named() {
    let err = to_native("SELECT ?, :who, ?", Params::new(), Dialect::Sqlite).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    let msg = err.to_string();
    assert!(
        msg.contains("?1") && msg.contains(":who") && msg.contains("?3"),
        "{msg}"
    );
}

#[test]
fn surplus_arguments_are_errors() {
    let err = to_native(
        "SELECT ?",
        Statement::with_args("", [1, 2]).params,
        Dialect::Sqlite,
    )
    .unwrap_err();
    assert!(err.to_string().contains("2 positional arguments"), "{err}");
    let unknown = Statement::new("SELECT :a")
        .bind_named("a", 1)
        .bind_named("zz", 2);
    let err = to_native(&unknown.sql, unknown.params, Dialect::Sqlite).unwrap_err();
    assert!(
        err.to_string().contains("\"zz\"") && err.to_string().contains("a"),
        "{err}"
    );
    let none = Statement::with_args("SELECT 1", [1]);
    assert!(to_native(&none.sql, none.params, Dialect::Postgres).is_err());
}

#[test]
fn no_placeholders_borrows_the_text() {
    let n = to_native("SELECT 'a?b'", Params::new(), Dialect::Postgres).unwrap();
    assert!(matches!(n.sql, Cow::Borrowed(_)));
}

#[test]
fn escaped_question_marks_become_literals() {
    let s = Statement::with_args("SELECT doc ?? 'k', doc ??| array[?]", ["x"]);
    assert_eq!(
        native(s, Dialect::Postgres).0,
        "SELECT doc ? 'k', doc ?| array[$1]"
    );
}

#[test]
fn casts_and_literals_survive() {
    let s = Statement::with_args("SELECT ?::int, '?', $$ :x $$, \"?\"", [5]);
    assert_eq!(
        native(s, Dialect::Postgres).0,
        "SELECT $1::int, '?', $$ :x $$, \"?\""
    );
}

#[test]
fn describe_labels_parameters_as_sqlite_does() {
    let (sql, labels) =
        describe_placeholders("SELECT ?1 + 1, :b, @b, ?, '?' FROM t", Dialect::Postgres).unwrap();
    // dbx names drop the sigil, so `:b` and `@b` are one parameter.
    assert_eq!(sql, "SELECT $1 + 1, $2, $2, $3, '?' FROM t");
    assert_eq!(labels, vec![Some("?1".into()), Some(":b".into()), None]);
    let (sql, labels) = describe_placeholders("SELECT :x, :x", Dialect::Mysql).unwrap();
    assert_eq!(sql, "SELECT ?, ?");
    assert_eq!(labels, vec![Some(":x".into())]);
}
