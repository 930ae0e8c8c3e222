//! Errors of the match stage.

use thiserror::Error;

/// What can go wrong while linking.
#[derive(Debug, Error)]
pub enum MatchError {
    /// The record table lacks a column or has one of the wrong type.
    #[error(transparent)]
    Column(#[from] aidlink_block::ColumnError),
    /// A row index given to `explain` is outside the table.
    #[error("row index {index} is outside the record table, which has {rows} rows (indices 0 to {last})", last = rows.saturating_sub(1))]
    RowOutOfRange {
        /// The index given.
        index: usize,
        /// Rows in the table.
        rows: usize,
    },
    /// A `[matching]` setting has a value that cannot work.
    #[error("[matching] {key} = {value}: {allowed}")]
    InvalidSetting {
        /// The settings key.
        key: &'static str,
        /// The value seen.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A saved model does not fit this table or these settings.
    #[error("model does not fit: {0}")]
    ModelMismatch(String),
    /// Building the links table failed (a bug, not an input problem).
    #[error("cannot build the links table: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}
