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
//! Work is parallel (rayon) by blocks of rows for the reject rule, then by
//! column: each record column is built whole, in row order, by one task,
//! for one source or for several at once ([`normalize_sources`]), so the
//! output does not depend on the number of threads and no column is copied
//! after it is built.
//!
//! ```
//! use aidlink_normalize::{names::normalize_name, pinyin_key::pinyin_key};
//! let name = normalize_name(" 劉 娜 ").value.unwrap();
//! assert_eq!(name, "刘娜");
//! assert_eq!(pinyin_key(&name), "liu na");
//! ```

pub mod amount;
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
mod table;
pub mod values;
pub mod width;

use aidlink_config::Config;
#[cfg(doc)]
use aidlink_vocab::schema::rejects_schema;
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use std::collections::BTreeMap;
use thiserror::Error;

pub use notes::{Note, NoteSet, note_code};

/// Rows per block where work is split by rows (a name column's blocks);
/// fixed, so that the blocks do not depend on the number of threads.
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
    let mut all = normalize_sources(config, &[(source_name, raw)])?;
    let source = all.sources.pop().ok_or_else(|| NormalizeError::Arrow {
        source_name: source_name.to_string(),
        source: ArrowError::ComputeError("no outcome for the source".into()),
    })?;
    Ok(Normalized {
        records: all.records,
        rejects: source.rejects,
        note_counts: source.note_counts,
        id_check_failed: source.id_check_failed,
        id_present: source.id_present,
    })
}

/// Several sources normalized into one record table.
#[derive(Debug, Clone)]
pub struct NormalizedSources {
    /// Every source's accepted rows, the sources one after another in the
    /// order given, each in input order; schema `record_schema(&config.extra_fields)`.
    /// The same rows as concatenating each source's [`Normalized::records`].
    pub records: RecordBatch,
    /// Per source, in the order given.
    pub sources: Vec<SourceNormalized>,
}

/// What normalizing one of several sources gave, besides its records.
#[derive(Debug, Clone)]
pub struct SourceNormalized {
    /// The source's config name.
    pub source: String,
    /// Its accepted rows: `records` rows of this source.
    pub rows_accepted: u64,
    /// Its rejected rows in input order, schema [`rejects_schema`].
    pub rejects: RecordBatch,
    /// How many accepted rows carry each note code (codes that never occurred are absent).
    pub note_counts: BTreeMap<String, u64>,
    /// Accepted rows whose `id_number` was read but fails its check digit.
    pub id_check_failed: u64,
    /// Accepted rows with a usable `id_number` (check passed or not).
    pub id_present: u64,
}

/// Normalizes the raw tables of several sources (config name and raw table
/// each) into one record table, as [`normalize_source`] on each followed by
/// concatenating their records would, but writing every column once: at a
/// million students the copy of that concatenation alone is half a second.
/// An empty list gives an empty record table.
pub fn normalize_sources(
    config: &Config,
    sources: &[(&str, &RecordBatch)],
) -> Result<NormalizedSources, NormalizeError> {
    if sources.is_empty() {
        return Ok(NormalizedSources {
            records: RecordBatch::new_empty(aidlink_vocab::schema::record_schema(
                &config.extra_fields,
            )),
            sources: Vec::new(),
        });
    }
    let plans = sources
        .iter()
        .map(|(name, raw)| Ok((plan::Plan::new(config, name, raw)?, *raw)))
        .collect::<Result<Vec<_>, NormalizeError>>()?;
    let (records, outs) = table::build(&plans).map_err(|source| NormalizeError::Arrow {
        source_name: sources
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", "),
        source,
    })?;
    let sources = plans
        .iter()
        .zip(outs)
        .map(|((plan, _), out)| SourceNormalized {
            source: plan.source.clone(),
            rows_accepted: out.rows as u64,
            rejects: out.rejects,
            note_counts: plan
                .codes
                .iter()
                .zip(out.note_counts)
                .filter(|(_, n)| *n > 0)
                .map(|(code, n)| (code.clone(), n))
                .collect(),
            id_check_failed: out.id_check_failed,
            id_present: out.id_present,
        })
        .collect();
    Ok(NormalizedSources { records, sources })
}
