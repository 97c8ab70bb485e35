//! Reads the type tables of `docs/types.md`, so that every documented row is a tested row.

use dbx_core::Value;

/// One row: declare a column as `declared`, write `written`, expect `read_back` and `decltype`.
#[derive(Debug, Clone)]
pub struct TypeRow {
    pub declared: String,
    pub written: Value,
    pub read_back: Value,
    pub decltype: String,
}

fn parse_value(cell: &str) -> Value {
    let cell = cell.trim();
    let (name, inner) = match cell.split_once('(') {
        Some((name, rest)) => (
            name,
            rest.strip_suffix(')')
                .unwrap_or_else(|| panic!("unclosed value {cell:?}")),
        ),
        None => (cell, ""),
    };
    match name {
        "Null" => Value::Null,
        "Integer" => Value::Integer(
            inner
                .parse()
                .unwrap_or_else(|_| panic!("bad integer {cell:?}")),
        ),
        "Real" => Value::Real(
            inner
                .parse()
                .unwrap_or_else(|_| panic!("bad real {cell:?}")),
        ),
        "Text" => {
            Value::Text(serde_json::from_str(inner).unwrap_or_else(|_| panic!("bad text {cell:?}")))
        }
        "Blob" => Value::Blob(
            (0..inner.len())
                .step_by(2)
                .map(|i| {
                    u8::from_str_radix(&inner[i..i + 2], 16)
                        .unwrap_or_else(|_| panic!("bad hex {cell:?}"))
                })
                .collect(),
        ),
        other => panic!("unknown value kind {other:?} in docs/types.md"),
    }
}

/// The rows of the table under `## {section}`.
pub fn rows(section: &str) -> Vec<TypeRow> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/types.md");
    let doc = std::fs::read_to_string(path).expect("docs/types.md exists");
    let heading = format!("## {section}");
    let body = doc
        .split(&heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no section {heading:?} in docs/types.md"));
    let body = body.split("\n## ").next().unwrap_or_default();
    let rows: Vec<TypeRow> = body
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect();
            assert_eq!(cells.len(), 4, "a row of four cells: {line}");
            TypeRow {
                declared: cells[0].to_owned(),
                written: parse_value(cells[1]),
                read_back: parse_value(cells[2]),
                decltype: cells[3].to_owned(),
            }
        })
        .collect();
    assert!(!rows.is_empty(), "the {section} table has rows");
    rows
}

/// Round-trips every row through `db`, one table per row, and returns the failures.
pub async fn round_trip(db: &dyn dbx_core::Adapter, rows: &[TypeRow]) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let table = format!("typ{i}");
        let outcome = async {
            db.execute(format!("CREATE TABLE {table} (v {})", row.declared).into())
                .await?;
            db.execute(dbx_core::Statement::with_args(
                format!("INSERT INTO {table} (v) VALUES (?)"),
                [row.written.clone()],
            ))
            .await?;
            db.query(format!("SELECT v FROM {table}").into()).await
        }
        .await;
        match outcome {
            Err(e) => failures.push(format!("{}: {e}", row.declared)),
            Ok(rs) => {
                let got = rs.rows.first().map(|r| r.values()[0].clone());
                let decl = rs
                    .columns
                    .first()
                    .and_then(|c| c.decltype.clone())
                    .unwrap_or_default();
                if got.as_ref() != Some(&row.read_back) || decl != row.decltype {
                    failures.push(format!(
                        "{}: wrote {:?}, expected {:?} ({}), got {:?} ({decl})",
                        row.declared, row.written, row.read_back, row.decltype, got
                    ));
                }
            }
        }
    }
    failures
}
