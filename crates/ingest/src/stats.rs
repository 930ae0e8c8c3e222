//! What ingest tells about an input: for the manifest and for `aidlink check`.

use crate::reject::RejectReason;
use aidlink_config::Format;
use arrow_array::{Array, RecordBatch, StringArray};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Facts about one input file, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputStats {
    /// The config's name for the source.
    pub source: String,
    /// The file read.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The format it was read as (never `Auto`).
    pub format: Format,
    /// The encoding detected or applied: `utf-8`, `utf-8-bom`, `gb18030`,
    /// `utf-16le`, `utf-16be`; `binary` for Excel and Parquet.
    pub encoding: String,
    /// Data rows read (header and blank lines excluded); always
    /// `raw.num_rows() + rows_rejected`.
    pub rows_read: u64,
    /// Rows rejected by ingest.
    pub rows_rejected: u64,
    /// The field delimiter of a text file (configured or sniffed).
    pub delimiter: Option<char>,
    /// Blank lines (text) or empty rows (Excel) skipped: not data rows, not in `rows_read`.
    pub blank_lines: u64,
    /// Records above the header skipped as a title or notes (at most 10):
    /// not data rows, not in `rows_read`.
    pub preamble_rows: u64,
}

impl InputStats {
    /// The format's config name (`csv`, `tsv`, `xlsx`, `xls`, `parquet`).
    pub fn format_name(&self) -> &'static str {
        format_name(self.format)
    }
}

/// A format's config name.
pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Auto => "auto",
        Format::Csv => "csv",
        Format::Tsv => "tsv",
        Format::Xlsx => "xlsx",
        Format::Xls => "xls",
        Format::Parquet => "parquet",
    }
}

/// What `aidlink check` prints for a source, from ingest's side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The input's facts.
    pub stats: InputStats,
    /// Rejected rows by reason code, in code order; reasons with no rows are absent.
    pub rejects_by_reason: BTreeMap<String, u64>,
}

impl CheckReport {
    /// Summarizes an ingest result.
    pub fn from_output(output: &crate::IngestOutput) -> CheckReport {
        CheckReport {
            stats: output.stats.clone(),
            rejects_by_reason: count_reasons(&output.rejects),
        }
    }
}

/// Counts a rejects table's rows by reason code.
pub fn count_reasons(rejects: &RecordBatch) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let Some(col) = rejects
        .column_by_name(aidlink_vocab::schema::REASON)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
    else {
        return counts;
    };
    for i in 0..col.len() {
        if col.is_valid(i) {
            *counts.entry(col.value(i).to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// The codes ingest can reject for, for documentation and reports.
pub fn reject_codes() -> Vec<&'static str> {
    RejectReason::ALL.iter().map(|r| r.code()).collect()
}
