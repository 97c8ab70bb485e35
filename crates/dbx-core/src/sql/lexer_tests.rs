use super::*;

fn kinds(sql: &str, dialect: Dialect) -> Vec<PlaceholderKind> {
    scan(sql, dialect)
        .unwrap()
        .into_iter()
        .map(|p| p.kind)
        .collect()
}

fn named(n: &str) -> PlaceholderKind {
    PlaceholderKind::Named(n.to_owned())
}

use PlaceholderKind::{Anonymous, EscapedQuestion, Numbered};

const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

#[test]
fn every_placeholder_form() {
    for d in ALL {
        assert_eq!(
            kinds("SELECT ?, ?7, :a, @b, $c, $3 FROM t WHERE x = ?", d),
            vec![
                Anonymous,
                Numbered(7),
                named("a"),
                named("b"),
                named("c"),
                Numbered(3),
                Anonymous
            ],
            "{d:?}"
        );
    }
}

#[test]
fn spans_cover_the_whole_token() {
    let sql = "SELECT :name + ?12";
    let found = scan(sql, Dialect::Sqlite).unwrap();
    assert_eq!(&sql[found[0].span.clone()], ":name");
    assert_eq!(&sql[found[1].span.clone()], "?12");
}

#[test]
fn string_literals_hide_placeholders() {
    for d in ALL {
        assert_eq!(
            kinds("SELECT '?', 'it''s :a', ?", d),
            vec![Anonymous],
            "{d:?}"
        );
    }
}

#[test]
fn quoted_identifiers_hide_placeholders() {
    assert_eq!(
        kinds(r#"SELECT "a?b", `c:d`, [e@f], ?"#, Dialect::Sqlite),
        vec![Anonymous]
    );
    assert_eq!(
        kinds(r#"SELECT "a?b", "x""?y", ?"#, Dialect::Postgres),
        vec![Anonymous]
    );
    assert_eq!(kinds("SELECT `a?b`, ?", Dialect::Mysql), vec![Anonymous]);
}

#[test]
fn comments_hide_placeholders() {
    for d in ALL {
        assert_eq!(
            kinds("SELECT ? -- :a ?\n, ? /* ? :b */", d),
            vec![Anonymous, Anonymous]
        );
    }
    assert_eq!(
        kinds("SELECT ? # :a ?\n, ?", Dialect::Mysql),
        vec![Anonymous, Anonymous]
    );
    // In MySQL `--` starts a comment only when a space follows.
    assert_eq!(kinds("SELECT 1--?", Dialect::Mysql), vec![Anonymous]);
}

#[test]
fn postgres_nested_comments_and_casts() {
    assert_eq!(
        kinds("SELECT /* a /* ? */ :b */ ?", Dialect::Postgres),
        vec![Anonymous]
    );
    assert_eq!(
        kinds(
            "SELECT :a::int, x::text, ?::jsonb, '1'::date",
            Dialect::Postgres
        ),
        vec![named("a"), Anonymous]
    );
}

#[test]
fn postgres_dollar_quoted_bodies() {
    let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT ? + :x $$ LANGUAGE sql; SELECT $1";
    assert_eq!(kinds(sql, Dialect::Postgres), vec![Numbered(1)]);
    let tagged = "DO $body$ BEGIN PERFORM '$$ ?'; END $body$; SELECT :after";
    assert_eq!(kinds(tagged, Dialect::Postgres), vec![named("after")]);
    // `$name` not closed by a `$` is a named parameter.
    assert_eq!(
        kinds("SELECT $name", Dialect::Postgres),
        vec![named("name")]
    );
}

#[test]
fn postgres_escape_strings_take_backslashes() {
    assert_eq!(
        kinds(r"SELECT E'\'?', ?", Dialect::Postgres),
        vec![Anonymous]
    );
    // Without the E prefix a backslash is an ordinary character.
    assert_eq!(kinds(r"SELECT '\', ?", Dialect::Postgres), vec![Anonymous]);
}

#[test]
fn mysql_strings_take_backslashes() {
    assert_eq!(
        kinds(r#"SELECT 'a\'?', "b\"?", ?"#, Dialect::Mysql),
        vec![Anonymous]
    );
}

#[test]
fn double_question_mark_is_a_literal() {
    assert_eq!(
        kinds(
            "SELECT data ?? 'k', data ??| array['a'], ?",
            Dialect::Postgres
        ),
        vec![EscapedQuestion, EscapedQuestion, Anonymous]
    );
}

#[test]
fn system_variables_and_operators_are_not_parameters() {
    assert_eq!(
        kinds("SELECT @@version, @a", Dialect::Mysql),
        vec![named("a")]
    );
    assert_eq!(
        kinds("SELECT v @@ q, ?", Dialect::Postgres),
        vec![Anonymous]
    );
    assert_eq!(
        kinds("SELECT a@>b, 1 : 2, x:=3", Dialect::Mysql),
        Vec::<PlaceholderKind>::new()
    );
}

#[test]
fn identifiers_with_dollars_are_not_parameters() {
    assert_eq!(
        kinds("SELECT a$b, c$1 FROM t", Dialect::Postgres),
        Vec::<PlaceholderKind>::new()
    );
}

#[test]
fn out_of_range_positions_are_errors() {
    assert!(
        scan("SELECT ?0", Dialect::Sqlite)
            .unwrap_err()
            .contains("?0")
    );
    assert!(scan("SELECT $0", Dialect::Postgres).is_err());
    assert!(scan("SELECT ?65536", Dialect::Sqlite).is_err());
    assert!(scan("SELECT ?99999999999999999999", Dialect::Sqlite).is_err());
    assert_eq!(
        kinds("SELECT ?65535", Dialect::Sqlite),
        vec![Numbered(65_535)]
    );
}

#[test]
fn unterminated_quotes_run_to_the_end() {
    assert_eq!(kinds("SELECT ?, 'abc ?", Dialect::Sqlite), vec![Anonymous]);
    assert_eq!(kinds("SELECT ? /* ?", Dialect::Postgres), vec![Anonymous]);
    assert_eq!(
        kinds("SELECT $$ ?", Dialect::Postgres),
        Vec::<PlaceholderKind>::new()
    );
}

#[test]
fn non_ascii_text_is_safe() {
    assert_eq!(
        kinds("SELECT 'ß?', :naïve, ?", Dialect::Sqlite),
        vec![named("naïve"), Anonymous]
    );
}

#[test]
fn leading_keyword_skips_comments_and_parens() {
    assert_eq!(
        leading_keyword("  -- c\n /* x */ (select 1)", Dialect::Sqlite).as_deref(),
        Some("SELECT")
    );
    assert_eq!(
        leading_keyword("with x as (select 1) insert", Dialect::Sqlite).as_deref(),
        Some("WITH")
    );
    assert_eq!(leading_keyword("   ", Dialect::Sqlite), None);
    assert_eq!(
        leading_keyword("# c\nBEGIN", Dialect::Mysql).as_deref(),
        Some("BEGIN")
    );
}

#[test]
fn transaction_control_statements() {
    for sql in [
        "BEGIN",
        "begin immediate",
        " COMMIT",
        "END",
        "ROLLBACK TO x",
        "SAVEPOINT a",
        "RELEASE a",
        "START TRANSACTION",
        "/* c */ start  transaction read only",
    ] {
        assert!(is_transaction_control(sql, Dialect::Sqlite), "{sql}");
    }
    for sql in ["SELECT 1", "INSERT INTO begin VALUES (1)", "START", "ENDS"] {
        assert!(!is_transaction_control(sql, Dialect::Sqlite), "{sql}");
    }
}

#[test]
fn statements_split_only_outside_literals_and_comments() {
    let sql = "CREATE TABLE t (a); INSERT INTO t VALUES ('x;y'); -- c; d\n /* e; */ SELECT \"a;b\" FROM t;;  ";
    assert_eq!(
        split_statements(sql, Dialect::Sqlite),
        [
            "CREATE TABLE t (a)",
            "INSERT INTO t VALUES ('x;y')",
            "-- c; d\n /* e; */ SELECT \"a;b\" FROM t"
        ]
    );
    assert!(split_statements("  ; -- nothing\n", Dialect::Sqlite).is_empty());
    assert_eq!(
        split_statements("DO $$ BEGIN; END $$; SELECT 1", Dialect::Postgres).len(),
        2
    );
    assert_eq!(split_statements("SELECT 1", Dialect::Mysql), ["SELECT 1"]);
}

#[test]
fn call_parens_join_outside_literals_only() {
    assert_eq!(
        join_call_parens(
            "SELECT COUNT (*), 'a (b' FROM t -- x (y\nWHERE a IN  (1)",
            Dialect::Mysql
        ),
        "SELECT COUNT(*), 'a (b' FROM t -- x (y\nWHERE a IN(1)"
    );
    assert_eq!(
        join_call_parens("SELECT 1 + (2)", Dialect::Mysql),
        "SELECT 1 + (2)"
    );
}
