//! `Value`: `{"type": "integer", "value": "42"}` and friends.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Hrana value. Integers travel as decimal strings so that 64-bit values survive JSON
/// parsers that use doubles; blobs as base64.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `{"type":"null"}`.
    Null,
    /// `{"type":"integer","value":"-5"}`.
    Integer(i64),
    /// `{"type":"float","value":0.5}`.
    Float(f64),
    /// `{"type":"text","value":"..."}`.
    Text(String),
    /// `{"type":"blob","base64":"..."}`.
    Blob(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kind, value, base64) = match self {
            Value::Null => ("null", None, None),
            Value::Integer(i) => (
                "integer",
                Some(serde_json::Value::String(i.to_string())),
                None,
            ),
            // JSON has no infinities or NaN: infinities go out as the largest finite double of
            // the same sign (exact in protobuf), and NaN, which SQLite itself stores as NULL,
            // as null.
            Value::Float(f) if f.is_nan() => ("null", None, None),
            Value::Float(f) => {
                let finite = if f.is_infinite() {
                    f.signum() * f64::MAX
                } else {
                    *f
                };
                (
                    "float",
                    serde_json::Number::from_f64(finite).map(serde_json::Value::Number),
                    None,
                )
            }
            Value::Text(t) => ("text", Some(serde_json::Value::String(t.clone())), None),
            // Unpadded, as sqld writes: the Go client accepts nothing else.
            Value::Blob(b) => ("blob", None, Some(STANDARD_NO_PAD.encode(b))),
        };
        Wire {
            kind: kind.to_owned(),
            value,
            base64,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(d)?;
        let missing =
            |what: &str| D::Error::custom(format!("a {} value needs `{what}`", wire.kind));
        match wire.kind.as_str() {
            "null" => Ok(Value::Null),
            "integer" => match wire.value {
                Some(serde_json::Value::String(s)) => s
                    .parse()
                    .map(Value::Integer)
                    .map_err(|_| D::Error::custom(format!("{s:?} is not a 64-bit integer"))),
                // Accept a plain JSON number too, when it is an exact integer.
                Some(serde_json::Value::Number(n)) => n
                    .as_i64()
                    .map(Value::Integer)
                    .ok_or_else(|| D::Error::custom(format!("{n} is not a 64-bit integer"))),
                _ => Err(missing("value (a decimal string)")),
            },
            "float" => match wire.value {
                Some(serde_json::Value::Number(n)) => {
                    n.as_f64().map(Value::Float).ok_or_else(|| missing("value"))
                }
                _ => Err(missing("value (a number)")),
            },
            "text" => match wire.value {
                Some(serde_json::Value::String(s)) => Ok(Value::Text(s)),
                _ => Err(missing("value (a string)")),
            },
            "blob" => {
                let text = wire.base64.ok_or_else(|| missing("base64"))?;
                // Padded or not: clients differ.
                let trimmed = text.trim_end_matches('=');
                STANDARD_NO_PAD
                    .decode(trimmed)
                    .or_else(|_| STANDARD.decode(&text))
                    .map(Value::Blob)
                    .map_err(|e| D::Error::custom(format!("invalid base64 in blob: {e}")))
            }
            other => Err(D::Error::custom(format!("unknown value type {other:?}"))),
        }
    }
}

impl From<dbx_core::Value> for Value {
    fn from(v: dbx_core::Value) -> Self {
        match v {
            dbx_core::Value::Null => Value::Null,
            dbx_core::Value::Integer(i) => Value::Integer(i),
            dbx_core::Value::Real(r) => Value::Float(r),
            dbx_core::Value::Text(t) => Value::Text(t),
            dbx_core::Value::Blob(b) => Value::Blob(b),
        }
    }
}

impl From<Value> for dbx_core::Value {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => dbx_core::Value::Null,
            Value::Integer(i) => dbx_core::Value::Integer(i),
            Value::Float(f) => dbx_core::Value::Real(f),
            Value::Text(t) => dbx_core::Value::Text(t),
            Value::Blob(b) => dbx_core::Value::Blob(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Value) -> Value {
        serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap()
    }

    #[test]
    fn wire_forms() {
        assert_eq!(
            serde_json::to_string(&Value::Integer(i64::MIN)).unwrap(),
            r#"{"type":"integer","value":"-9223372036854775808"}"#
        );
        assert_eq!(
            serde_json::to_string(&Value::Blob(b"bar".to_vec())).unwrap(),
            r#"{"type":"blob","base64":"YmFy"}"#
        );
        assert_eq!(
            serde_json::to_string(&Value::Blob(b"ba".to_vec())).unwrap(),
            r#"{"type":"blob","base64":"YmE"}"#
        );
        for v in [
            Value::Null,
            Value::Integer(i64::MAX),
            Value::Float(1e18),
            Value::Text("ž".into()),
            Value::Blob(vec![0, 255]),
        ] {
            assert_eq!(round_trip(v.clone()), v);
        }
    }

    #[test]
    fn padded_and_unpadded_blobs_are_accepted() {
        for text in [
            r#"{"type":"blob","base64":"YmE="}"#,
            r#"{"type":"blob","base64":"YmE"}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<Value>(text).unwrap(),
                Value::Blob(b"ba".to_vec())
            );
        }
    }

    #[test]
    fn every_finite_double_comes_back_exactly() {
        // Found by the property tests: without serde_json's `float_roundtrip`, these parsed
        // one ULP away from what was written.
        for f in [
            2.0562664433338793e127,
            6.50349626544957e-309,
            0.1,
            -1.5e-300,
        ] {
            assert_eq!(round_trip(Value::Float(f)), Value::Float(f), "{f:e}");
        }
    }

    #[test]
    fn non_finite_floats_have_a_defined_form() {
        assert_eq!(
            round_trip(Value::Float(f64::INFINITY)),
            Value::Float(f64::MAX)
        );
        assert_eq!(
            round_trip(Value::Float(f64::NEG_INFINITY)),
            Value::Float(-f64::MAX)
        );
        assert_eq!(round_trip(Value::Float(f64::NAN)), Value::Null);
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            r#"{"type":"integer","value":"1.5"}"#,
            r#"{"type":"integer"}"#,
            r#"{"type":"blob","base64":"!!"}"#,
            r#"{"type":"date"}"#,
        ] {
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
        }
    }
}
