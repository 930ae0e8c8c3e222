//! The errors of the privacy stage.
//!
//! Causes are kept in fields named `error`, not `source`, and written into
//! the message: a caller printing the chain (`{:#}` with anyhow) would
//! otherwise show every cause twice.

use std::path::PathBuf;
use thiserror::Error;

/// What can go wrong while loading a key or building an analyst table.
#[derive(Debug, Error)]
pub enum PrivacyError {
    /// Both `key_file` and `key_env` are set, so which key is meant is unclear.
    #[error("[privacy] sets both key_file and key_env; set exactly one")]
    AmbiguousKey,
    /// The configured key file cannot be read.
    #[error("cannot read pseudonym key file {path}: {error}")]
    KeyFileUnreadable {
        /// The key file.
        path: PathBuf,
        /// The IO error.
        error: std::io::Error,
    },
    /// The key file can be read by other users, who could then recompute
    /// every pseudonym from a list of ID numbers.
    #[error(
        "pseudonym key file {path} is readable by group or others (mode {mode:04o}); run `chmod 600` on it"
    )]
    KeyFileTooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The configured environment variable is not set (or not UTF-8).
    #[error("environment variable {name} named by [privacy] key_env is not set")]
    KeyEnvUnset {
        /// The variable's name.
        name: String,
    },
    /// The key is too short to be a secret.
    #[error(
        "pseudonym key from {origin} has {bytes} bytes, at least {min} are needed (e.g. `openssl rand -hex 32`)"
    )]
    KeyTooShort {
        /// Where the key came from (file path or variable name).
        origin: String,
        /// Its length after trimming whitespace.
        bytes: usize,
        /// The minimum length.
        min: usize,
    },
    /// A column the policy treats in a type-specific way has another type.
    #[error(
        "table {table}: column {column} has type {found}, the privacy policy expects {expected}"
    )]
    ColumnType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The type found.
        found: String,
        /// The types the treatment can handle.
        expected: &'static str,
    },
    /// A column needed to build an aggregate table is missing.
    #[error("table {table} has no column {column} (columns: {available})")]
    MissingColumn {
        /// The table.
        table: String,
        /// The missing column.
        column: String,
        /// The columns the table has, comma-separated.
        available: String,
    },
    /// A kept analyst column still holds a valid resident ID number: the
    /// policy keeps a column it should not, so publishing stops.
    #[error(
        "table {table}: column {column} row {row} of the analyst view holds a resident ID number ({masked}); the privacy policy must not keep this column"
    )]
    IdentifierLeak {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// 1-based row.
        row: usize,
        /// The number found, masked.
        masked: String,
    },
    /// Arrow refused to assemble the output table.
    #[error("table {table}: {error}")]
    Arrow {
        /// The table.
        table: String,
        /// Arrow's error.
        error: arrow_schema::ArrowError,
    },
}

impl PrivacyError {
    /// The same error for rows that start `offset` rows into the whole
    /// table, when the view was made of a slice of it (publish makes it one
    /// row group at a time), so a leak names its row in the whole table.
    pub fn offset_rows(self, offset: usize) -> Self {
        match self {
            PrivacyError::IdentifierLeak {
                table,
                column,
                row,
                masked,
            } => PrivacyError::IdentifierLeak {
                table,
                column,
                row: row + offset,
                masked,
            },
            other => other,
        }
    }
}
