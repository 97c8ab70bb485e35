//! [`Value`]s as PostgreSQL parameters, bound to the type the server inferred.
//!
//! A value whose variant matches the parameter type travels in binary. Anything else travels
//! in PostgreSQL's text format and the server converts it, exactly as it would convert a
//! literal: text into a `timestamptz`, `uuid` or `numeric` parameter, an integer into a
//! `numeric` one, a JSON array into an array parameter.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use dbx_core::Value;
use tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A borrowed value, bound as a parameter.
#[derive(Debug)]
pub(crate) struct Param<'a>(pub(crate) &'a Value);

fn is_text_type(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// Whether this value goes to this type in binary form.
fn binary(value: &Value, ty: &Type) -> bool {
    match value {
        Value::Null => true,
        Value::Integer(_) => matches!(
            *ty,
            Type::INT2
                | Type::INT4
                | Type::INT8
                | Type::OID
                | Type::FLOAT4
                | Type::FLOAT8
                | Type::BOOL
        ),
        Value::Real(_) => matches!(*ty, Type::FLOAT4 | Type::FLOAT8),
        Value::Text(_) => is_text_type(ty),
        Value::Blob(_) => *ty == Type::BYTEA,
    }
}

fn out_of_range(i: i64, ty: &Type) -> BoxError {
    format!("{i} does not fit a parameter of type {}", ty.name()).into()
}

fn write_binary(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    match (value, ty) {
        (Value::Integer(i), &Type::INT2) => {
            out.put_i16(i16::try_from(*i).map_err(|_| out_of_range(*i, ty))?)
        }
        (Value::Integer(i), &Type::INT4) => {
            out.put_i32(i32::try_from(*i).map_err(|_| out_of_range(*i, ty))?)
        }
        (Value::Integer(i), &Type::INT8) => out.put_i64(*i),
        (Value::Integer(i), &Type::OID) => {
            out.put_u32(u32::try_from(*i).map_err(|_| out_of_range(*i, ty))?)
        }
        (Value::Integer(b @ (0 | 1)), &Type::BOOL) => out.put_u8(u8::from(*b == 1)),
        (Value::Integer(i), &Type::BOOL) => {
            return Err(format!("{i} is not a boolean: use 0 or 1").into());
        }
        // Integers bound to floats: exact up to 2^53, like any integer-to-float cast.
        #[allow(clippy::cast_precision_loss)]
        (Value::Integer(i), &Type::FLOAT8) => out.put_f64(*i as f64),
        #[allow(clippy::cast_precision_loss)]
        (Value::Integer(i), _) => out.put_f32(*i as f32),
        (Value::Real(r), &Type::FLOAT8) => out.put_f64(*r),
        // float4 parameters hold what they can; the loss is the column type's, not dbx's.
        #[allow(clippy::cast_possible_truncation)]
        (Value::Real(r), _) => out.put_f32(*r as f32),
        (Value::Text(t), _) => out.put_slice(t.as_bytes()),
        (Value::Blob(b), _) => out.put_slice(b),
        (Value::Null, _) => {}
    }
    Ok(())
}

fn write_text(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    let text = match value {
        Value::Integer(i) => i.to_string(),
        Value::Real(r) if r.is_nan() => "NaN".to_owned(),
        Value::Real(r) if r.is_infinite() => {
            (if *r > 0.0 { "Infinity" } else { "-Infinity" }).to_owned()
        }
        Value::Real(r) => r.to_string(),
        Value::Text(t)
            if matches!(ty.kind(), Kind::Array(_)) && t.trim_start().starts_with('[') =>
        {
            super::json_array_to_pg(t)?
        }
        Value::Text(t) => {
            out.put_slice(t.as_bytes());
            return Ok(());
        }
        Value::Blob(_) => {
            return Err(format!(
                "a blob cannot be bound to a parameter of type {}; only bytea takes bytes",
                ty.name()
            )
            .into());
        }
        Value::Null => return Ok(()),
    };
    out.put_slice(text.as_bytes());
    Ok(())
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.0.is_null() {
            return Ok(IsNull::Yes);
        }
        if binary(self.0, ty) {
            write_binary(self.0, ty, out)?;
        } else {
            write_text(self.0, ty, out)?;
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        if binary(self.0, ty) {
            Format::Binary
        } else {
            Format::Text
        }
    }

    to_sql_checked!();
}
