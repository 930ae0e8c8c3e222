//! Errors of the flag stage.

use arrow_schema::DataType;
use thiserror::Error;

/// What can stop the flag stage.
#[derive(Debug, Error)]
pub enum FlagError {
    /// The `[flags]` table could not be read.
    #[error(transparent)]
    Config(#[from] aidlink_config::ConfigError),
    /// The `[flags]` parameters contradict each other.
    #[error("[flags] {key}: {message}")]
    InvalidRules {
        /// The key at fault.
        key: &'static str,
        /// What is wrong, with the values seen.
        message: String,
    },
    /// The record table lacks a column the flags need.
    #[error("record table has no column `{column}` (columns present: {present})")]
    MissingColumn {
        /// The column looked for.
        column: &'static str,
        /// The columns the table has, comma-separated.
        present: String,
    },
    /// A record table column has another type than the record schema says.
    #[error("record table column `{column}` has type {found}, expected {expected}")]
    WrongType {
        /// The column.
        column: String,
        /// The type found.
        found: DataType,
        /// The type expected.
        expected: DataType,
    },
    /// There is not one person ID per record.
    #[error("{person_ids} person IDs for {records} records, expected one per record")]
    LengthMismatch {
        /// Rows of the record table.
        records: usize,
        /// Person IDs given.
        person_ids: usize,
    },
    /// A record names a source that has no roles.
    #[error(
        "record {row} is from source `{source_name}`, which is not among the configured sources ({known})"
    )]
    UnknownSource {
        /// The source name seen.
        source_name: String,
        /// The record's 1-based row in its source.
        row: u64,
        /// The configured sources, comma-separated.
        known: String,
    },
    /// A column that may not be null has a null.
    #[error("record table column `{column}` is null in table row {row}")]
    Null {
        /// The column.
        column: &'static str,
        /// 0-based row of the table.
        row: usize,
    },
    /// The records name more persons than the flag stage can number.
    #[error("{persons} persons in one period, expected fewer than 2^32")]
    TooManyPersons {
        /// Persons found.
        persons: usize,
    },
    /// A flags table given to [`crate::carry_since`] is not one this crate wrote.
    #[error("flags table: {message}")]
    BadFlagsTable {
        /// What is wrong.
        message: String,
    },
}
