//! Mapping between PostgreSQL types and dbx [`Value`]s. The table is in `docs/types.md`.

mod decode;
mod encode;
mod temporal;

use dbx_core::Value;
use tokio_postgres::types::{Kind, Type};

pub(crate) use decode::Cell;
pub(crate) use encode::Param;

/// The decltype dbx reports for a PostgreSQL type: its name, with `[]` for arrays.
pub(crate) fn decltype(ty: &Type) -> String {
    match ty.kind() {
        Kind::Array(element) => format!("{}[]", element.name()),
        _ => ty.name().to_owned(),
    }
}

/// A value inside a JSON array.
pub(crate) fn value_to_json(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(r) => {
            serde_json::Number::from_f64(r).map_or_else(|| r.to_string().into(), Into::into)
        }
        Value::Text(t) => t.into(),
        Value::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("\\x{hex}").into()
        }
    }
}

/// A JSON array (`[1, [2, null], "a"]`) as a PostgreSQL array literal (`{1,{2,NULL},"a"}`).
pub(crate) fn json_array_to_pg(
    json: &str,
) -> Result<String, Box<dyn std::error::Error + Sync + Send>> {
    let parsed: serde_json::Value = serde_json::from_str(json)?;
    let mut out = String::with_capacity(json.len());
    write_pg_array(&parsed, &mut out)?;
    Ok(out)
}

fn write_pg_array(
    value: &serde_json::Value,
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error + Sync + Send>> {
    let serde_json::Value::Array(items) = value else {
        return Err("an array parameter takes a JSON array, like [1, 2, 3]".into());
    };
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            serde_json::Value::Array(_) => write_pg_array(item, out)?,
            serde_json::Value::Null => out.push_str("NULL"),
            serde_json::Value::Bool(b) => out.push_str(if *b { "t" } else { "f" }),
            serde_json::Value::Number(n) => out.push_str(&n.to_string()),
            serde_json::Value::String(s) => quote_element(s, out),
            serde_json::Value::Object(_) => quote_element(&item.to_string(), out),
        }
    }
    out.push('}');
    Ok(())
}

fn quote_element(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arrays_become_array_literals() {
        assert_eq!(json_array_to_pg("[1, 2, 3]").unwrap(), "{1,2,3}");
        assert_eq!(
            json_array_to_pg(r#"[["a", null], ["b\"", "c\\"]]"#).unwrap(),
            r#"{{"a",NULL},{"b\"","c\\"}}"#
        );
        assert_eq!(json_array_to_pg("[true, false]").unwrap(), "{t,f}");
        assert!(json_array_to_pg("{\"a\": 1}").is_err());
        assert!(json_array_to_pg("[1,").is_err());
    }

    #[test]
    fn array_decltypes_say_so() {
        assert_eq!(decltype(&Type::INT4_ARRAY), "int4[]");
        assert_eq!(decltype(&Type::TIMESTAMPTZ), "timestamptz");
    }
}
