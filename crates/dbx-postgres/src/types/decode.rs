//! PostgreSQL binary results into [`Value`]s.

use std::error::Error as StdError;

use dbx_core::Value;
use tokio_postgres::types::{FromSql, Kind, Type};

use super::temporal;

type BoxError = Box<dyn StdError + Sync + Send>;

/// One decoded cell. `FromSql` for every type, deciding from the column type at run time.
pub(crate) struct Cell(pub(crate) Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn take<const N: usize>(raw: &[u8], at: usize) -> Result<[u8; N], BoxError> {
    raw.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| "value shorter than its type requires".into())
}

fn i16_at(raw: &[u8], at: usize) -> Result<i16, BoxError> {
    Ok(i16::from_be_bytes(take(raw, at)?))
}

fn i32_at(raw: &[u8], at: usize) -> Result<i32, BoxError> {
    Ok(i32::from_be_bytes(take(raw, at)?))
}

fn i64_at(raw: &[u8], at: usize) -> Result<i64, BoxError> {
    Ok(i64::from_be_bytes(take(raw, at)?))
}

fn text(raw: &[u8]) -> Result<Value, BoxError> {
    Ok(Value::Text(std::str::from_utf8(raw)?.to_owned()))
}

/// Decodes one non-NULL value of type `ty`.
pub(crate) fn decode(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    match *ty {
        // Functions returning nothing (pg_sleep, ...) still produce a column.
        Type::VOID => Ok(Value::Null),
        Type::BOOL => Ok(Value::Integer(i64::from(raw.first().copied().unwrap_or(0) != 0))),
        Type::INT2 => Ok(Value::Integer(i64::from(i16_at(raw, 0)?))),
        Type::INT4 => Ok(Value::Integer(i64::from(i32_at(raw, 0)?))),
        Type::INT8 => Ok(Value::Integer(i64_at(raw, 0)?)),
        Type::OID => Ok(Value::Integer(i64::from(u32::from_be_bytes(take(raw, 0)?)))),
        Type::FLOAT4 => Ok(Value::Real(f64::from(f32::from_be_bytes(take(raw, 0)?)))),
        Type::FLOAT8 => Ok(Value::Real(f64::from_be_bytes(take(raw, 0)?))),
        Type::NUMERIC => numeric(raw).map(Value::Text),
        Type::BYTEA => Ok(Value::Blob(raw.to_vec())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON | Type::XML => {
            text(raw)
        }
        Type::CHAR => Ok(Value::Text(char::from(raw.first().copied().unwrap_or(0)).to_string())),
        // jsonb's binary form is a version byte, then the JSON text.
        Type::JSONB => text(raw.get(1..).unwrap_or_default()),
        Type::UUID => uuid(raw).map(Value::Text),
        Type::DATE => Ok(Value::Text(temporal::date(i32_at(raw, 0)?))),
        Type::TIME => Ok(Value::Text(temporal::time(i64_at(raw, 0)?))),
        Type::TIMETZ => Ok(Value::Text(temporal::time_tz(i64_at(raw, 0)?, i32_at(raw, 8)?))),
        Type::TIMESTAMP => Ok(Value::Text(temporal::timestamp(i64_at(raw, 0)?, false))),
        Type::TIMESTAMPTZ => Ok(Value::Text(temporal::timestamp(i64_at(raw, 0)?, true))),
        Type::INTERVAL => Ok(Value::Text(temporal::interval(i64_at(raw, 0)?, i32_at(raw, 8)?, i32_at(raw, 12)?))),
        _ => match ty.kind() {
            Kind::Enum(_) => text(raw),
            Kind::Domain(inner) => decode(inner, raw),
            Kind::Array(element) => array(element, raw).map(|json| Value::Text(json.to_string())),
            // citext and similar extension types send their text as is.
            _ if ty.name() == "citext" => text(raw),
            _ => Err(format!(
                "dbx does not decode PostgreSQL type {} yet; cast the column to text in the query (for example `col::text`)",
                ty.name()
            )
            .into()),
        },
    }
}

/// The exact decimal text of a binary `NUMERIC`.
fn numeric(raw: &[u8]) -> Result<String, BoxError> {
    let ndigits = usize::try_from(i16_at(raw, 0)?).map_err(|_| "negative digit count")?;
    let weight = i32::from(i16_at(raw, 2)?);
    let sign = u16::from_be_bytes(take(raw, 4)?);
    let scale = usize::try_from(i16_at(raw, 6)?).map_err(|_| "negative scale")?;
    match sign {
        0xC000 => return Ok("NaN".to_owned()),
        0xD000 => return Ok("Infinity".to_owned()),
        0xF000 => return Ok("-Infinity".to_owned()),
        _ => {}
    }
    let digits: Vec<i16> = (0..ndigits)
        .map(|i| i16_at(raw, 8 + 2 * i))
        .collect::<Result<_, _>>()?;
    // Group i stands for digits[i] * 10000^(weight - i).
    let group = |position: i32| -> i16 {
        usize::try_from(weight - position)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&group(weight).to_string());
        for position in (0..weight).rev() {
            out.push_str(&format!("{:04}", group(position)));
        }
    }
    if scale > 0 {
        let mut fraction = String::new();
        let mut position = -1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", group(position)));
            position -= 1;
        }
        fraction.truncate(scale);
        out.push('.');
        out.push_str(&fraction);
    }
    Ok(out)
}

fn uuid(raw: &[u8]) -> Result<String, BoxError> {
    let bytes: [u8; 16] = take(raw, 0)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// A binary array as JSON: nested lists for several dimensions, elements decoded by type.
fn array(element: &Type, raw: &[u8]) -> Result<serde_json::Value, BoxError> {
    let ndim = usize::try_from(i32_at(raw, 0)?).map_err(|_| "negative dimension count")?;
    if ndim == 0 {
        return Ok(serde_json::Value::Array(Vec::new()));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|d| {
            i32_at(raw, 12 + 8 * d)
                .and_then(|n| usize::try_from(n).map_err(|_| "negative dimension".into()))
        })
        .collect::<Result<_, _>>()?;
    let mut at = 12 + 8 * ndim;
    let total: usize = dims.iter().product();
    let mut flat = Vec::with_capacity(total);
    for _ in 0..total {
        let len = i32_at(raw, at)?;
        at += 4;
        if len < 0 {
            flat.push(serde_json::Value::Null);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| "bad element length")?;
        let bytes = raw
            .get(at..at + len)
            .ok_or("array element runs past the value")?;
        at += len;
        let json = match (element, decode(element, bytes)?) {
            (&Type::BOOL, Value::Integer(b)) => serde_json::Value::Bool(b != 0),
            (&Type::JSON | &Type::JSONB, Value::Text(t)) => serde_json::from_str(&t)?,
            (_, value) => super::value_to_json(value),
        };
        flat.push(json);
    }
    Ok(nest(&mut flat.into_iter(), &dims))
}

fn nest(items: &mut impl Iterator<Item = serde_json::Value>, dims: &[usize]) -> serde_json::Value {
    match dims {
        [] | [_] => {
            serde_json::Value::Array(items.take(dims.first().copied().unwrap_or(0)).collect())
        }
        [n, rest @ ..] => serde_json::Value::Array((0..*n).map(|_| nest(items, rest)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(weight: i16, sign: u16, scale: i16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(i16::try_from(digits.len()).unwrap().to_be_bytes());
        b.extend(weight.to_be_bytes());
        b.extend(sign.to_be_bytes());
        b.extend(scale.to_be_bytes());
        for d in digits {
            b.extend(d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_are_exact() {
        assert_eq!(
            numeric(&numeric_bytes(0, 0, 2, &[12, 3400])).unwrap(),
            "12.34"
        );
        assert_eq!(
            numeric(&numeric_bytes(1, 0x4000, 0, &[1, 0])).unwrap(),
            "-10000"
        );
        assert_eq!(numeric(&numeric_bytes(-1, 0, 5, &[50])).unwrap(), "0.00500");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric(&numeric_bytes(0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert_eq!(
            numeric(&numeric_bytes(4, 0, 3, &[1, 2345, 6789, 1234, 5678, 9000])).unwrap(),
            "12345678912345678.900"
        );
    }

    #[test]
    fn uuids_are_hyphenated() {
        let raw: Vec<u8> = (0u8..16).collect();
        assert_eq!(uuid(&raw).unwrap(), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }

    #[test]
    fn short_input_is_an_error_not_a_panic() {
        assert!(decode(&Type::INT8, &[1, 2]).is_err());
        assert!(decode(&Type::NUMERIC, &[0]).is_err());
        assert!(decode(&Type::INT4_ARRAY, &[0, 0, 0, 1, 0]).is_err());
    }
}
