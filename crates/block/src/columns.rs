//! Typed access to the columns of the record table that blocking and
//! comparison read, with errors that name the column and what was expected.

use arrow_array::{Array, BooleanArray, Date32Array, RecordBatch, StringArray, UInt64Array};
use thiserror::Error;

/// What can be wrong with the record table given to the match stage.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ColumnError {
    /// A column the match stage needs is not in the table.
    #[error("record table has no column `{column}` (columns present: {present})")]
    Missing {
        /// The column looked for.
        column: String,
        /// The columns the table has, comma-separated.
        present: String,
    },
    /// A column has another Arrow type than the record schema gives it.
    #[error("record table column `{column}` has type {found}, expected {expected}")]
    WrongType {
        /// The column.
        column: String,
        /// The Arrow type the record schema gives it.
        expected: &'static str,
        /// The Arrow type found.
        found: String,
    },
}

fn present(batch: &RecordBatch) -> String {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn wrong(batch: &RecordBatch, column: &str, expected: &'static str) -> ColumnError {
    let found = batch
        .schema()
        .field_with_name(column)
        .map(|f| f.data_type().to_string())
        .unwrap_or_default();
    ColumnError::WrongType {
        column: column.to_string(),
        expected,
        found,
    }
}

/// The `Utf8` column `name`, or `None` when the table does not have it
/// (a period whose sources map no such field).
pub fn opt_utf8<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<Option<&'a StringArray>, ColumnError> {
    match batch.column_by_name(name) {
        None => Ok(None),
        Some(col) => col
            .as_any()
            .downcast_ref::<StringArray>()
            .map(Some)
            .ok_or_else(|| wrong(batch, name, "Utf8")),
    }
}

/// The `Date32` column `name`, or `None` when absent.
pub fn opt_date<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<Option<&'a Date32Array>, ColumnError> {
    match batch.column_by_name(name) {
        None => Ok(None),
        Some(col) => col
            .as_any()
            .downcast_ref::<Date32Array>()
            .map(Some)
            .ok_or_else(|| wrong(batch, name, "Date32")),
    }
}

/// The `Boolean` column `name`, or `None` when absent.
pub fn opt_bool<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<Option<&'a BooleanArray>, ColumnError> {
    match batch.column_by_name(name) {
        None => Ok(None),
        Some(col) => col
            .as_any()
            .downcast_ref::<BooleanArray>()
            .map(Some)
            .ok_or_else(|| wrong(batch, name, "Boolean")),
    }
}

/// The `Utf8` column `name`, which must exist.
pub fn utf8<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray, ColumnError> {
    opt_utf8(batch, name)?.ok_or_else(|| ColumnError::Missing {
        column: name.to_string(),
        present: present(batch),
    })
}

/// The `UInt64` column `name`, which must exist.
pub fn uint64<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a UInt64Array, ColumnError> {
    match batch.column_by_name(name) {
        None => Err(ColumnError::Missing {
            column: name.to_string(),
            present: present(batch),
        }),
        Some(col) => col
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(|| wrong(batch, name, "UInt64")),
    }
}

/// The value of row `i` of an optional text column; `None` for a null, an
/// empty text or an absent column.
#[inline]
pub fn text(col: Option<&StringArray>, i: usize) -> Option<&str> {
    let col = col?;
    if col.is_null(i) {
        return None;
    }
    let v = col.value(i);
    (!v.is_empty()).then_some(v)
}

/// The value of row `i` of an optional date column.
#[inline]
pub fn date(col: Option<&Date32Array>, i: usize) -> Option<i32> {
    let col = col?;
    (!col.is_null(i)).then(|| col.value(i))
}

/// The value of row `i` of an optional boolean column.
#[inline]
pub fn flag(col: Option<&BooleanArray>, i: usize) -> Option<bool> {
    let col = col?;
    (!col.is_null(i)).then(|| col.value(i))
}
