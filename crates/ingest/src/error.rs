//! The errors that stop a source from being read at all.
//!
//! Anything that concerns one row (a ragged row, bad bytes, a repeated
//! header) is not an error but a reject (see [`crate::reject`]); these are the
//! failures that leave no table: the file is missing, has an unknown format,
//! lacks a mapped column, or cannot be parsed as a workbook or Parquet file.
//! Every variant names the file.

use std::path::PathBuf;
use thiserror::Error;

/// A mapped column that the file does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingColumn {
    /// The canonical field the config maps.
    pub field: String,
    /// The header the config expects for it.
    pub header: String,
}

impl std::fmt::Display for MissingColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (header `{}`)", self.field, self.header)
    }
}

/// Why a source could not be read.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The config has no source of that name.
    #[error("no source named `{name}` in the config; sources are: {}", available.join(", "))]
    UnknownSource {
        /// The name asked for.
        name: String,
        /// The sources the config has.
        available: Vec<String>,
    },
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// `format = "auto"` and the extension says nothing we read.
    #[error(
        "cannot tell the format of {path} from its extension `{extension}`; set the source's format to csv, tsv, xlsx, xls or parquet"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The extension seen (empty when none).
        extension: String,
    },
    /// The configured delimiter cannot separate fields.
    #[error(
        "{path}: delimiter `{delimiter}` is not usable; use a single ASCII character other than a quote or a line break"
    )]
    BadDelimiter {
        /// The file.
        path: PathBuf,
        /// The configured delimiter.
        delimiter: char,
    },
    /// The file has no header row (it is empty or blank).
    #[error("{path} has no header row: the file is empty or only blank lines")]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// Columns the config maps are not in the file's header.
    #[error(
        "{path}: mapped columns not found: {}; the file's columns are: {}",
        missing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        found.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
    )]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// The mapped fields whose header is absent.
        missing: Vec<MissingColumn>,
        /// The headers the file does have, in file order.
        found: Vec<String>,
    },
    /// A mapped header occurs more than once, so the column is ambiguous.
    #[error(
        "{path}: column `{header}` (mapped to {field}) appears more than once, at columns {first} and {second}"
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The canonical field the config maps to it.
        field: String,
        /// The repeated header.
        header: String,
        /// 1-based position of its first occurrence.
        first: usize,
        /// 1-based position of its second occurrence.
        second: usize,
    },
    /// The workbook could not be opened or its sheet read.
    #[error("cannot read workbook {path}: {source}")]
    Excel {
        /// The file.
        path: PathBuf,
        /// What calamine said.
        source: calamine::Error,
    },
    /// The configured sheet is not in the workbook.
    #[error("{path} has no sheet `{sheet}`; its sheets are: {}", available.join(", "))]
    SheetNotFound {
        /// The file.
        path: PathBuf,
        /// The sheet the config names (a name or a 0-based index).
        sheet: String,
        /// The workbook's sheet names, in order.
        available: Vec<String>,
    },
    /// The Parquet file could not be read.
    #[error("cannot read Parquet file {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        source: parquet::errors::ParquetError,
    },
    /// A Parquet column has a type we do not turn into text.
    #[error("{path}: column `{column}` has type {data_type}, which ingest cannot turn into text")]
    UnsupportedColumnType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: String,
    },
    /// Building the Arrow table failed (a column over 2 GiB of text, say).
    #[error("cannot build the table for {path}: {source}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// What arrow said.
        source: arrow_schema::ArrowError,
    },
}
