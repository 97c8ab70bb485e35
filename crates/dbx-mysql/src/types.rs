//! Mapping between MySQL values and dbx [`Value`]s. The table is in `docs/types.md`.
//!
//! Statements run as prepared statements (MySQL's binary protocol), so integers and floats
//! arrive typed; the column's type, flags and character set decide the rest.

use dbx_core::{Error, Result, Value};
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::{Column, Value as MyValue};

/// MySQL's id for the `binary` character set: bytes rather than text.
const BINARY_CHARSET: u16 = 63;

/// A dbx value as a MySQL parameter. MySQL converts text to dates, decimals and JSON itself.
pub(crate) fn to_mysql(value: Value) -> MyValue {
    match value {
        Value::Null => MyValue::NULL,
        Value::Integer(i) => MyValue::Int(i),
        Value::Real(r) => MyValue::Double(r),
        Value::Text(t) => MyValue::Bytes(t.into_bytes()),
        Value::Blob(b) => MyValue::Bytes(b),
    }
}

fn is_binary(col: &Column) -> bool {
    col.character_set() == BINARY_CHARSET
}

/// The BLOB and TEXT families share one wire type; the length tells them apart. Text lengths
/// count bytes, so they are divided by the character set's widest character (4 for utf8mb4).
fn blob_family(col: &Column) -> &'static str {
    let len = u64::from(col.column_length());
    let chars = if is_binary(col) { len } else { len / 4 };
    let names = if is_binary(col) {
        ["TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB"]
    } else {
        ["TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT"]
    };
    match chars {
        0..=255 => names[0],
        256..=65_535 => names[1],
        65_536..=16_777_215 => names[2],
        _ => names[3],
    }
}

/// The decltype dbx reports: the upper-case type name, as `information_schema` spells it.
pub(crate) fn decltype(col: &Column) -> String {
    let flags = col.flags();
    let name = match col.column_type() {
        ColumnType::MYSQL_TYPE_TINY => "TINYINT",
        ColumnType::MYSQL_TYPE_SHORT => "SMALLINT",
        ColumnType::MYSQL_TYPE_INT24 => "MEDIUMINT",
        ColumnType::MYSQL_TYPE_LONG => "INT",
        ColumnType::MYSQL_TYPE_LONGLONG => "BIGINT",
        ColumnType::MYSQL_TYPE_FLOAT => "FLOAT",
        ColumnType::MYSQL_TYPE_DOUBLE => "DOUBLE",
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => "DATE",
        ColumnType::MYSQL_TYPE_DATETIME | ColumnType::MYSQL_TYPE_DATETIME2 => "DATETIME",
        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => "TIME",
        ColumnType::MYSQL_TYPE_YEAR => "YEAR",
        ColumnType::MYSQL_TYPE_BIT => "BIT",
        ColumnType::MYSQL_TYPE_JSON => "JSON",
        _ if flags.contains(ColumnFlags::ENUM_FLAG) => "ENUM",
        _ if flags.contains(ColumnFlags::SET_FLAG) => "SET",
        ColumnType::MYSQL_TYPE_VARCHAR | ColumnType::MYSQL_TYPE_VAR_STRING => {
            if is_binary(col) {
                "VARBINARY"
            } else {
                "VARCHAR"
            }
        }
        ColumnType::MYSQL_TYPE_STRING => {
            if is_binary(col) {
                "BINARY"
            } else {
                "CHAR"
            }
        }
        ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_BLOB => blob_family(col),
        ColumnType::MYSQL_TYPE_GEOMETRY => "GEOMETRY",
        ColumnType::MYSQL_TYPE_NULL => "NULL",
        _ => "UNKNOWN",
    };
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG)
        && matches!(
            name,
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT"
        );
    if unsigned {
        format!("{name} UNSIGNED")
    } else {
        name.to_owned()
    }
}

fn fraction(micros: u32) -> String {
    if micros == 0 {
        String::new()
    } else {
        format!(".{:06}", micros).trim_end_matches('0').to_owned()
    }
}

/// A MySQL value of column `col` as a dbx value.
pub(crate) fn from_mysql(value: MyValue, col: &Column) -> Result<Value> {
    Ok(match value {
        MyValue::NULL => Value::Null,
        MyValue::Int(i) => Value::Integer(i),
        // BIGINT UNSIGNED past i64::MAX stays exact as text.
        MyValue::UInt(u) => {
            i64::try_from(u).map_or_else(|_| Value::Text(u.to_string()), Value::Integer)
        }
        MyValue::Float(f) => Value::Real(f64::from(f)),
        MyValue::Double(d) => Value::Real(d),
        MyValue::Date(y, m, d, h, mi, s, us) => {
            if matches!(
                col.column_type(),
                ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE
            ) {
                Value::Text(format!("{y:04}-{m:02}-{d:02}"))
            } else {
                Value::Text(format!(
                    "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}",
                    fraction(us)
                ))
            }
        }
        MyValue::Time(negative, days, h, m, s, us) => {
            let hours = u64::from(days) * 24 + u64::from(h);
            let sign = if negative { "-" } else { "" };
            Value::Text(format!("{sign}{hours:02}:{m:02}:{s:02}{}", fraction(us)))
        }
        MyValue::Bytes(bytes) => bytes_value(bytes, col)?,
    })
}

fn bytes_value(bytes: Vec<u8>, col: &Column) -> Result<Value> {
    match col.column_type() {
        // BIT(n) is an unsigned big-endian number of up to 8 bytes.
        ColumnType::MYSQL_TYPE_BIT => {
            let n = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            Ok(i64::try_from(n).map_or_else(|_| Value::Text(n.to_string()), Value::Integer))
        }
        ColumnType::MYSQL_TYPE_DECIMAL
        | ColumnType::MYSQL_TYPE_NEWDECIMAL
        | ColumnType::MYSQL_TYPE_JSON => text(bytes),
        _ if is_binary(col)
            && !col
                .flags()
                .intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG) =>
        {
            Ok(Value::Blob(bytes))
        }
        _ => text(bytes),
    }
}

fn text(bytes: Vec<u8>) -> Result<Value> {
    String::from_utf8(bytes)
        .map(Value::Text)
        .map_err(|e| Error::Conversion {
            from: "text",
            to: "String",
            detail: Some(format!("invalid UTF-8 from MySQL: {e}")),
        })
}
