//! The dynamic value that crosses every backend: SQLite's five storage classes.

use std::fmt;

use crate::error::{Error, Result};

/// One SQL value.
///
/// Every backend maps its native types onto these five variants; the native type name travels
/// beside the value as the column's decltype (see [`Column`](crate::Column)).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "type", content = "value", rename_all = "lowercase")
)]
pub enum Value {
    /// SQL `NULL`.
    #[default]
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Raw bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The variant's name, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Integer(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
        }
    }

    /// Whether this is `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r:?}"),
            Value::Text(t) => f.write_str(t),
            Value::Blob(b) => write!(f, "<{} bytes>", b.len()),
        }
    }
}

macro_rules! from_lossless_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Integer(i64::from(v))
            }
        }
    )*};
}
from_lossless_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Integer(i64::from(v))
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Real(f64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

// u64 and usize can exceed i64::MAX, so they convert with a check instead of `From`.
impl TryFrom<u64> for Value {
    type Error = Error;
    fn try_from(v: u64) -> Result<Self> {
        i64::try_from(v).map(Value::Integer).map_err(|_| {
            Error::InvalidArgument(format!("{v} does not fit a 64-bit signed integer"))
        })
    }
}

impl TryFrom<usize> for Value {
    type Error = Error;
    fn try_from(v: usize) -> Result<Self> {
        Value::try_from(v as u64)
    }
}

/// Conversion from a [`Value`] into a Rust type, used by [`Row::get`](crate::Row::get).
///
/// Conversions never lose information silently: an integer that does not fit the target type,
/// or a value of the wrong variant, is an [`Error::Conversion`].
pub trait FromValue: Sized {
    /// Converts a borrowed value.
    fn from_value(value: &Value) -> Result<Self>;
}

fn mismatch<T>(value: &Value, target: &'static str) -> Result<T> {
    Err(Error::Conversion {
        from: value.type_name(),
        to: target,
        detail: None,
    })
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self> {
        Ok(value.clone())
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Integer(i) => Ok(*i),
            other => mismatch(other, "i64"),
        }
    }
}

macro_rules! from_value_narrow_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self> {
                let wide = i64::from_value(value).or_else(|_| mismatch(value, stringify!($t)))?;
                <$t>::try_from(wide).map_err(|_| Error::Conversion {
                    from: "integer",
                    to: stringify!($t),
                    detail: Some(format!("{wide} is out of range")),
                })
            }
        }
    )*};
}
from_value_narrow_int!(i8, i16, i32, u8, u16, u32, u64, usize);

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Integer(0) => Ok(false),
            Value::Integer(1) => Ok(true),
            Value::Integer(i) => Err(Error::Conversion {
                from: "integer",
                to: "bool",
                detail: Some(format!("{i} is neither 0 nor 1")),
            }),
            other => mismatch(other, "bool"),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Real(r) => Ok(*r),
            // Integer columns read as floats are common (SUM, AVG on integer data) and exact
            // up to 2^53; beyond that the caller asked for a float and gets the nearest one.
            #[allow(clippy::cast_precision_loss)]
            Value::Integer(i) => Ok(*i as f64),
            other => mismatch(other, "f64"),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Text(t) => Ok(t.clone()),
            other => mismatch(other, "String"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => mismatch(other, "Vec<u8>"),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

macro_rules! try_from_value {
    ($($t:ty),*) => {$(
        impl TryFrom<Value> for $t {
            type Error = Error;
            fn try_from(value: Value) -> Result<Self> {
                <$t as FromValue>::from_value(&value)
            }
        }
    )*};
}
try_from_value!(i8, i16, i32, i64, u8, u16, u32, u64, usize, bool, f64);

impl TryFrom<Value> for String {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self> {
        match value {
            Value::Text(t) => Ok(t),
            other => mismatch(&other, "String"),
        }
    }
}

impl TryFrom<Value> for Vec<u8> {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self> {
        match value {
            Value::Blob(b) => Ok(b),
            other => mismatch(&other, "Vec<u8>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_convert_with_range_checks() {
        assert_eq!(Value::from(-5i8), Value::Integer(-5));
        assert_eq!(Value::from(u32::MAX), Value::Integer(4_294_967_295));
        assert!(Value::try_from(u64::MAX).is_err());
        assert_eq!(Value::try_from(7u64).unwrap(), Value::Integer(7));
        assert_eq!(i32::from_value(&Value::Integer(-3)).unwrap(), -3);
        let err = i32::from_value(&Value::Integer(i64::MAX)).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        assert!(u8::from_value(&Value::Integer(-1)).is_err());
    }

    #[test]
    fn wrong_variant_is_an_error_not_a_default() {
        let err = i64::from_value(&Value::Text("12".into())).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
        assert!(
            err.to_string().contains("text") && err.to_string().contains("i64"),
            "{err}"
        );
        assert!(String::from_value(&Value::Null).is_err());
    }

    #[test]
    fn options_and_bools() {
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Option::<String>::from_value(&Value::Null).unwrap(), None);
        assert_eq!(
            Option::<i64>::from_value(&Value::Integer(4)).unwrap(),
            Some(4)
        );
        assert!(bool::from_value(&Value::Integer(1)).unwrap());
        assert!(bool::from_value(&Value::Integer(2)).is_err());
        assert_eq!(Value::from(true), Value::Integer(1));
    }

    #[test]
    fn floats_accept_integers() {
        assert_eq!(f64::from_value(&Value::Integer(3)).unwrap(), 3.0);
        assert_eq!(f64::from_value(&Value::Real(1e18)).unwrap(), 1e18);
    }
}
