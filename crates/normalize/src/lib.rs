//! Normalizes raw extract fields into typed, comparable record tables.
//!
//! Ingest hands over a *raw table* per source: `source_row` and one `Utf8`
//! column per mapped field, holding each cell exactly as the department
//! typed it. [`normalize_source`] turns it into the *record table* of
//! [`aidlink_vocab::schema::record_schema`]: every field cleaned by the rule
//! of its [`FieldKind`](aidlink_vocab::FieldKind), the columns the matcher
//! derives from the resident ID, a pinyin key per name, and a `notes` column
//! naming every rule that changed a value. Rows that carry nothing a matcher
//! could use go to the *rejects table* instead, with a reason; nothing is
//! dropped silently, so input rows = records + rejects.
//!
//! Each rule is a small function in a module named for what it does:
//! [`ids`], [`names`] and [`pinyin_key`] (with [`surnames`]), [`dates`],
//! [`gender`], [`phone`], [`amount`], [`free_text`], [`codes`], [`subsidy`],
//! applied after the source's value mapping ([`values`]). The rules and their
//! note codes are listed in `docs/normalization.md`.
//!
//! Work is split into chunks of [`CHUNK_ROWS`] rows normalized in parallel
//! (rayon) and concatenated in order, so the output does not depend on the
//! number of threads.
//!
//! ```
//! use aidlink_normalize::{names::normalize_name, pinyin_key::pinyin_key};
//! let name = normalize_name(" 劉 娜 ").value.unwrap();
//! assert_eq!(name, "刘娜");
//! assert_eq!(pinyin_key(&name), "liu na");
//! ```

pub mod amount;
mod chunk;
pub mod codes;
mod columns;
pub mod dates;
pub mod free_text;
pub mod gender;
pub mod ids;
pub mod names;
pub mod notes;
pub mod phone;
pub mod pinyin_key;
pub mod placeholder;
mod plan;
pub mod rejects;
pub mod subsidy;
pub mod surnames;
pub mod values;
pub mod width;

use aidlink_config::Config;
use aidlink_vocab::schema::SOURCE;
use aidlink_vocab::schema::rejects_schema;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, new_null_array};
use arrow_schema::ArrowError;
use arrow_select::concat::{concat, concat_batches};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;

pub use notes::{Note, NoteSet, note_code};

/// Rows per parallel chunk: large enough that per-chunk overhead vanishes,
/// small enough that both cores stay busy on a small source.
pub const CHUNK_ROWS: usize = 64 * 1024;

/// A source's normalized rows.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// Accepted rows in input order, schema `record_schema(&config.extra_fields)`.
    pub records: RecordBatch,
    /// Rejected rows in input order, schema [`rejects_schema`].
    pub rejects: RecordBatch,
    /// How many accepted rows carry each note code (codes that never occurred are absent).
    pub note_counts: BTreeMap<String, u64>,
    /// Accepted rows whose `id_number` was read but fails its check digit.
    pub id_check_failed: u64,
    /// Accepted rows with a usable `id_number` (check passed or not).
    pub id_present: u64,
}

/// Why a raw table could not be normalized at all. Row-level problems are
/// never errors: they are notes or rejects.
#[derive(Debug, Error)]
pub enum NormalizeError {
    /// The source name is not in the config.
    #[error("source `{source_name}` is not in the config; configured sources are: {known}")]
    UnknownSource {
        /// The name asked for.
        source_name: String,
        /// The configured source names.
        known: String,
    },
    /// The raw table lacks its `source_row` column.
    #[error("raw table of source `{source_name}` has no `source_row` column of type UInt64")]
    MissingSourceRow {
        /// The source.
        source_name: String,
    },
    /// A raw column is not text.
    #[error(
        "raw table of source `{source_name}`: column `{column}` is {found}, expected Utf8 text"
    )]
    NotText {
        /// The source.
        source_name: String,
        /// The column.
        column: String,
        /// Its Arrow type.
        found: String,
    },
    /// A raw column is neither a canonical field nor a declared extra field.
    #[error(
        "raw table of source `{source_name}`: column `{column}` is not a canonical field nor declared in [fields]; record fields are: {known}"
    )]
    UnknownField {
        /// The source.
        source_name: String,
        /// The column.
        column: String,
        /// The fields the record table has.
        known: String,
    },
    /// Arrow refused to assemble a table (a bug, never an input problem).
    #[error("assembling the record table of source `{source_name}`: {source}")]
    Arrow {
        /// The source.
        source_name: String,
        /// Arrow's error.
        source: ArrowError,
    },
}

/// Normalizes the raw table of one source (see the crate documentation).
pub fn normalize_source(
    config: &Config,
    source_name: &str,
    raw: &RecordBatch,
) -> Result<Normalized, NormalizeError> {
    let plan = plan::Plan::new(config, source_name, raw)?;
    let arrow = |source: ArrowError| NormalizeError::Arrow {
        source_name: source_name.to_string(),
        source,
    };
    let n = raw.num_rows();
    let chunks: Vec<chunk::ChunkOut> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|c| {
            let start = c * CHUNK_ROWS;
            chunk::normalize_chunk(&plan, &raw.slice(start, CHUNK_ROWS.min(n - start)))
        })
        .collect::<Result<_, _>>()
        .map_err(arrow)?;
    let records = assemble(&plan, &chunks).map_err(arrow)?;
    let rejects =
        concat_batches(&rejects_schema(), chunks.iter().map(|c| &c.rejects)).map_err(arrow)?;
    let mut counts = vec![0u64; plan.codes.len()];
    let (mut id_check_failed, mut id_present) = (0, 0);
    for c in &chunks {
        for (total, n) in counts.iter_mut().zip(&c.note_counts) {
            *total += n;
        }
        id_check_failed += c.id_check_failed;
        id_present += c.id_present;
    }
    let note_counts = plan
        .codes
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(code, n)| (code.clone(), n))
        .collect();
    Ok(Normalized {
        records,
        rejects,
        note_counts,
        id_check_failed,
        id_present,
    })
}

/// Joins the chunks' columns into the record table, one column per task:
/// a computed column is concatenated in chunk order, an absent one is built
/// once as nulls, and `source` once as a constant.
fn assemble(plan: &plan::Plan, chunks: &[chunk::ChunkOut]) -> Result<RecordBatch, ArrowError> {
    let rows: usize = chunks.iter().map(|c| c.rows).sum();
    let columns: Vec<ArrayRef> = plan
        .schema
        .fields()
        .par_iter()
        .enumerate()
        .map(|(i, field)| {
            let parts: Vec<&dyn Array> = chunks
                .iter()
                .filter_map(|c| c.columns[i].as_deref())
                .collect();
            if field.name() == SOURCE {
                Ok(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    plan.source.as_str(),
                    rows,
                ))) as ArrayRef)
            } else if parts.is_empty() {
                Ok(new_null_array(field.data_type(), rows))
            } else if let [one] = parts.as_slice() {
                Ok(one.slice(0, one.len()))
            } else {
                concat(&parts)
            }
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new_with_options(
        plan.schema.clone(),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
}
