//! Errors of the delta stage.

use arrow_schema::DataType;
use thiserror::Error;

/// What can stop a diff.
#[derive(Debug, Error)]
pub enum DeltaError {
    /// A key column is absent from one of the tables.
    #[error("{entity}: the {side} table has no key column `{column}` (columns present: {present})")]
    MissingKeyColumn {
        /// The entity diffed.
        entity: String,
        /// `previous` or `current`.
        side: &'static str,
        /// The key column.
        column: String,
        /// The columns the table has, comma-separated.
        present: String,
    },
    /// No key columns were given.
    #[error("{entity}: no key columns given, a diff needs at least one")]
    NoKeyColumns {
        /// The entity diffed.
        entity: String,
    },
    /// Two rows of one table have the same key.
    #[error("{entity}: the {side} table has two rows with key `{key}`")]
    DuplicateKey {
        /// The entity diffed.
        entity: String,
        /// `previous` or `current`.
        side: &'static str,
        /// The key, its values joined by `|`.
        key: String,
    },
    /// A key cell is null.
    #[error("{entity}: the {side} table has a null `{column}` in row {row}, a key may not be null")]
    NullKey {
        /// The entity diffed.
        entity: String,
        /// `previous` or `current`.
        side: &'static str,
        /// The key column.
        column: String,
        /// 0-based row.
        row: usize,
    },
    /// A column has a type the change feed cannot render.
    #[error(
        "{entity}: column `{column}` has type {data_type}, which a delta cannot carry \
         (supported: text, booleans, integers, floats, Date32 and lists of these)"
    )]
    UnsupportedType {
        /// The entity diffed.
        entity: String,
        /// The column.
        column: String,
        /// Its type.
        data_type: DataType,
    },
    /// A table given as a delta or an events table lacks a column or has a
    /// column of the wrong type.
    #[error("{table} table: column `{column}` {problem}")]
    BadTable {
        /// `delta` or `person events`.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A delta row or event has a value outside the allowed ones.
    #[error("{table} table row {row}: `{column}` is `{value}`, expected one of {allowed}")]
    BadValue {
        /// `delta` or `person events`.
        table: &'static str,
        /// 0-based row.
        row: usize,
        /// The column.
        column: &'static str,
        /// The value seen.
        value: String,
        /// The values allowed, comma-separated.
        allowed: &'static str,
    },
}
