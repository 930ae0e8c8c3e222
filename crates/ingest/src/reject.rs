//! Why ingest rejects a row, and the rejects table it builds.
//!
//! A reject keeps the row's raw text so nothing read is lost; the reason is
//! a stable code (documented in `docs/ingest.md`) and the message says, for a
//! person, what was wrong and where (the physical line in text files).

use aidlink_vocab::schema::rejects_schema;
use arrow_array::builder::{StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use std::sync::Arc;

/// The structural reasons ingest rejects a row for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// More or fewer fields than the header has.
    RaggedRow,
    /// The header line again, in the middle of the data (files concatenated).
    RepeatedHeader,
    /// Bytes that are invalid in the file's encoding.
    Undecodable,
    /// A quoted field that is never closed before the end of the file.
    UnterminatedQuote,
    /// Every field is empty (a row of bare delimiters).
    EmptyRow,
}

impl RejectReason {
    /// Every reason, in code order.
    pub const ALL: &'static [RejectReason] = &[
        RejectReason::EmptyRow,
        RejectReason::RaggedRow,
        RejectReason::RepeatedHeader,
        RejectReason::Undecodable,
        RejectReason::UnterminatedQuote,
    ];

    /// The code written to the `reason` column.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::RaggedRow => "ragged_row",
            RejectReason::RepeatedHeader => "repeated_header",
            RejectReason::Undecodable => "undecodable",
            RejectReason::UnterminatedQuote => "unterminated_quote",
            RejectReason::EmptyRow => "empty_row",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One rejected row before it goes into the table.
#[derive(Clone, Debug)]
pub struct Reject {
    /// 1-based data row number.
    pub row: u64,
    /// The row's raw text (decoded, so bad bytes show as U+FFFD).
    pub raw: String,
    /// Why.
    pub reason: RejectReason,
    /// For a person: what was wrong, and where.
    pub message: String,
    /// The canonical field concerned, when there is one.
    pub field: Option<String>,
}

/// Builds the rejects table (schema `rejects_schema()`) for one source.
pub fn rejects_batch(source: &str, rejects: &[Reject]) -> Result<RecordBatch, ArrowError> {
    let n = rejects.len();
    let mut src = StringBuilder::with_capacity(n, n * source.len());
    let mut row = UInt64Builder::with_capacity(n);
    let mut raw = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut message = StringBuilder::new();
    let mut field = StringBuilder::new();
    for r in rejects {
        src.append_value(source);
        row.append_value(r.row);
        raw.append_value(&r.raw);
        reason.append_value(r.reason.code());
        message.append_value(&r.message);
        field.append_option(r.field.as_deref());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(src.finish()),
        Arc::new(row.finish()),
        Arc::new(raw.finish()),
        Arc::new(reason.finish()),
        Arc::new(message.finish()),
        Arc::new(field.finish()),
    ];
    RecordBatch::try_new(rejects_schema(), columns)
}
