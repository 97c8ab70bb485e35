//! Columns, rows and result sets.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::value::{FromValue, Value};

/// A result column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Column {
    /// The column's name as the database reports it.
    pub name: String,
    /// The declared (native) type, when the backend knows it: `INTEGER`, `timestamptz`, ...
    pub decltype: Option<String>,
}

impl Column {
    /// A column with a name and an optional decltype.
    pub fn new(name: impl Into<String>, decltype: Option<String>) -> Self {
        Self {
            name: name.into(),
            decltype,
        }
    }
}

/// One result row. Its columns are shared with every other row of the same result.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[Column]>,
    values: Vec<Value>,
}

/// Something that picks a value out of a [`Row`]: a `usize` index or a `&str` column name.
pub trait RowIndex {
    /// The position in the row, or `None` if there is no such column.
    fn position(&self, columns: &[Column]) -> Option<usize>;
    /// The error for a row that has no such column.
    fn not_found(&self, columns: &[Column]) -> Error;
}

impl RowIndex for usize {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
    fn not_found(&self, columns: &[Column]) -> Error {
        Error::InvalidArgument(format!(
            "column index {self} is out of range for a row of {} columns",
            columns.len()
        ))
    }
}

impl RowIndex for &str {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name == *self)
    }
    fn not_found(&self, _columns: &[Column]) -> Error {
        Error::NoSuchColumn((*self).to_owned())
    }
}

impl Row {
    /// A row over shared columns. `values` must have one entry per column.
    pub fn new(columns: Arc<[Column]>, values: Vec<Value>) -> Self {
        debug_assert_eq!(columns.len(), values.len());
        Self { columns, values }
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Takes the values out of the row.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The raw value at an index or column name.
    pub fn value<I: RowIndex>(&self, index: I) -> Result<&Value> {
        let pos = index
            .position(&self.columns)
            .ok_or_else(|| index.not_found(&self.columns))?;
        Ok(&self.values[pos])
    }

    /// The value at an index or column name, converted to `T`.
    ///
    /// ```
    /// # use dbx_core::{Column, Row, Value};
    /// let cols: std::sync::Arc<[Column]> = vec![Column::new("id", None)].into();
    /// let row = Row::new(cols, vec![Value::Integer(7)]);
    /// assert_eq!(row.get::<i64>("id").unwrap(), 7);
    /// assert_eq!(row.get::<i32>(0).unwrap(), 7);
    /// ```
    pub fn get<T: FromValue>(&self, index: impl RowIndex) -> Result<T> {
        T::from_value(self.value(index)?)
    }
}

/// What a heap allocation costs beyond the bytes asked for: the allocator's header, and
/// rounding up (glibc's malloc needs 16 bytes a chunk, at least 32).
const ALLOCATION_OVERHEAD: usize = 16;

/// What one row counts for against a result limit: what it takes to hold in memory. The row
/// itself and its vector of values, each value's place in it, and text and blobs by their
/// length plus their allocation. On 64-bit targets a row of one integer counts 88 bytes, and
/// a row of one 100-byte text 204. Counting the holding cost rather than the payload makes a
/// byte limit a true memory bound for narrow rows too: millions of one-integer rows would
/// weigh eight bytes each by payload, and over eighty in memory.
pub fn row_bytes(values: &[Value]) -> usize {
    std::mem::size_of::<Row>()
        + ALLOCATION_OVERHEAD
        + values
            .iter()
            .map(|value| {
                std::mem::size_of::<Value>()
                    + match value {
                        Value::Text(t) if !t.is_empty() => t.len() + ALLOCATION_OVERHEAD,
                        Value::Blob(b) if !b.is_empty() => b.len() + ALLOCATION_OVERHEAD,
                        _ => 0,
                    }
            })
            .sum::<usize>()
}

/// Counts a result's rows against a statement's
/// [`max_result_bytes`](crate::StatementLimits::max_result_bytes) as they are read, so that an
/// adapter stops reading (and cancels the statement) the moment the limit is passed, instead
/// of holding the whole result and refusing it afterwards.
#[derive(Debug, Clone, Copy)]
pub struct ResultBudget {
    limit: Option<usize>,
    used: usize,
}

impl ResultBudget {
    /// A budget of `limit` bytes; `None` for no limit.
    pub fn new(limit: Option<usize>) -> Self {
        Self { limit, used: 0 }
    }

    /// The budget an adapter applies while reading a statement's rows: `limit` for a
    /// statement that only reads, none for one that may write. A write is never cut short
    /// halfway (its changes might stand while the caller is told it failed); it runs to the
    /// end, and its caller judges the size of its rows.
    pub fn for_statement(limit: Option<usize>, reads_only: bool) -> Self {
        Self::new(limit.filter(|_| reads_only))
    }

    /// Counts one row; fails with [`Error::ResultTooLarge`] once the rows pass the limit.
    pub fn charge(&mut self, values: &[Value]) -> Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        self.used = self.used.saturating_add(row_bytes(values));
        if self.used > limit {
            return Err(Error::ResultTooLarge { limit });
        }
        Ok(())
    }

    /// The bytes counted so far.
    pub fn used(&self) -> usize {
        self.used
    }
}

/// The full outcome of one statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultSet {
    /// The result columns; empty for statements that return no rows.
    pub columns: Arc<[Column]>,
    /// The rows.
    pub rows: Vec<Row>,
    /// Rows inserted, updated or deleted by the statement.
    pub rows_affected: u64,
    /// The id of the inserted row, where the backend reports one (see each adapter's docs).
    pub last_insert_id: Option<i64>,
}

impl ResultSet {
    /// A result with no rows.
    pub fn empty() -> Self {
        Self::default()
    }

    /// About how many bytes the rows take, as [`row_bytes`] counts each. Servers compare it
    /// with their response limits.
    pub fn approx_bytes(&self) -> usize {
        self.rows.iter().map(|row| row_bytes(row.values())).sum()
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<&Row> {
        self.rows.first()
    }

    /// The single value of a one-row, one-column result, converted to `T`.
    pub fn scalar<T: FromValue>(&self) -> Result<T> {
        match (self.rows.as_slice(), self.columns.len()) {
            ([row], 1) => row.get(0),
            (rows, cols) => Err(Error::InvalidArgument(format!(
                "expected one row with one column, got {} rows with {cols} columns",
                rows.len()
            ))),
        }
    }

    /// The column names.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }
}

/// The outcome of a statement run for its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecResult {
    /// Rows inserted, updated or deleted.
    pub rows_affected: u64,
    /// The id of the inserted row, where the backend reports one.
    pub last_insert_id: Option<i64>,
}

impl From<&ResultSet> for ExecResult {
    fn from(r: &ResultSet) -> Self {
        Self {
            rows_affected: r.rows_affected,
            last_insert_id: r.last_insert_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let cols: Arc<[Column]> = vec![
            Column::new("a", Some("INTEGER".into())),
            Column::new("b", None),
        ]
        .into();
        Row::new(cols, vec![Value::Integer(1), Value::Text("x".into())])
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn rows_count_what_they_take_in_memory() {
        assert_eq!(row_bytes(&[Value::Integer(1)]), 88);
        assert_eq!(row_bytes(&[Value::Text("x".repeat(100))]), 204);
        assert_eq!(row_bytes(&[Value::Text(String::new()), Value::Null]), 120);
    }

    #[test]
    fn get_by_index_and_name() {
        let r = row();
        assert_eq!(r.get::<i64>(0).unwrap(), 1);
        assert_eq!(r.get::<String>("b").unwrap(), "x");
        assert!(matches!(r.get::<i64>("nope"), Err(Error::NoSuchColumn(n)) if n == "nope"));
        let err = r.get::<i64>(5).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn scalar_needs_exactly_one_cell() {
        let r = row();
        let rs = ResultSet {
            columns: r.columns.clone(),
            rows: vec![r],
            ..Default::default()
        };
        assert!(rs.scalar::<i64>().is_err());
        let cols: Arc<[Column]> = vec![Column::new("n", None)].into();
        let one = ResultSet {
            rows: vec![Row::new(cols.clone(), vec![Value::Integer(3)])],
            columns: cols,
            ..Default::default()
        };
        assert_eq!(one.scalar::<i64>().unwrap(), 3);
    }
}
