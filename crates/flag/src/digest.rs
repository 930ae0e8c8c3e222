//! A stable stand-in for a flag's evidence, for comparing months.
//!
//! Evidence names records as `source:row`, which is what a caseworker needs
//! to open the file, but rows move from month to month, so the same evidence
//! reads differently next month. The digest names the evidence by its
//! records' keys (`aidlink_registry::record_keys`) instead: it changes exactly
//! when the set of records behind the flag changes, and spells no key.

use crate::FlagError;
use crate::tables::EVIDENCE;
use aidlink_vocab::RecordTexts;
use aidlink_vocab::schema::{SOURCE, SOURCE_ROW};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Flags column added by [`add_evidence_digest`].
pub const EVIDENCE_DIGEST: &str = "evidence_digest";

/// The (source, row) a `source:row` citation names; only the canonical
/// spelling `format!("{row}")` names a record.
fn parse_reference(reference: &str) -> Option<(&str, u64)> {
    let (src, number) = reference.rsplit_once(':')?;
    let canonical = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && (number.len() == 1 || !number.starts_with('0'));
    if !canonical {
        return None;
    }
    Some((src, number.parse::<u64>().ok()?))
}

/// `flags` with an `evidence_digest` column appended: the first 20 hex
/// digits of the SHA-256 of the sorted record keys of each flag's evidence.
/// `records` and `keys` are the period's record table and its record keys,
/// one per row, as given to [`crate::evaluate`].
pub fn add_evidence_digest(
    flags: &RecordBatch,
    records: &RecordBatch,
    keys: &[String],
) -> Result<RecordBatch, FlagError> {
    digest_with(flags, records, RecordTexts::Strings(keys))
}

/// [`add_evidence_digest`] with the record keys as one Arrow string array
/// (`aidlink_registry::record_key_array`); a null key reads as empty.
pub fn add_evidence_digest_array(
    flags: &RecordBatch,
    records: &RecordBatch,
    keys: &StringArray,
) -> Result<RecordBatch, FlagError> {
    digest_with(flags, records, RecordTexts::Array(keys))
}

fn digest_with(
    flags: &RecordBatch,
    records: &RecordBatch,
    keys: RecordTexts,
) -> Result<RecordBatch, FlagError> {
    let bad = |message: String| FlagError::BadFlagsTable { message };
    let source = records
        .column_by_name(SOURCE)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| bad(format!("record table has no Utf8 column `{SOURCE}`")))?;
    let row = records
        .column_by_name(SOURCE_ROW)
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .ok_or_else(|| bad(format!("record table has no UInt64 column `{SOURCE_ROW}`")))?;
    if keys.len() != records.num_rows() {
        return Err(bad(format!(
            "{} record keys for {} records, expected one per record",
            keys.len(),
            records.num_rows()
        )));
    }
    let evidence = flags
        .column_by_name(EVIDENCE)
        .and_then(|c| c.as_list_opt::<i32>())
        .ok_or_else(|| bad(format!("flags table has no list column `{EVIDENCE}`")))?;
    let items = evidence
        .values()
        .as_string_opt::<i32>()
        .ok_or_else(|| bad(format!("flags column `{EVIDENCE}` holds no text")))?;
    let offsets = evidence.value_offsets();
    let flag_rows = flags.num_rows();
    // Only the cited records are looked up: each citation is parsed once,
    // and one pass over the record table in row order finds the records
    // they name. No `source:row` text is built for the millions of records.
    let cited: Vec<Option<(&str, u64)>> = (0..items.len())
        .map(|j| {
            (!items.is_null(j))
                .then(|| parse_reference(items.value(j)))
                .flatten()
        })
        .collect();
    let mut wanted: FxHashMap<(&str, u64), usize> = FxHashMap::default();
    for c in cited.iter().flatten() {
        wanted.insert(*c, usize::MAX);
    }
    // For a reference repeated in the table, the last record wins.
    let found: Vec<((&str, u64), usize)> = (0..records.num_rows())
        .into_par_iter()
        .with_min_len(64 * 1024)
        .filter_map(|i| {
            let key = (source.value(i), row.value(i));
            wanted.contains_key(&key).then_some((key, i))
        })
        .collect();
    for (key, i) in found {
        wanted.insert(key, i);
    }
    let digests: Vec<Result<String, FlagError>> = (0..flag_rows)
        .into_par_iter()
        .map(|i| {
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            let mut record_keys = Vec::with_capacity(end - start);
            for j in (start..end).filter(|j| !items.is_null(*j)) {
                let key = cited[j]
                    .and_then(|c| wanted.get(&c).copied())
                    .filter(|r| *r != usize::MAX)
                    .map(|r| keys.get(r))
                    .ok_or_else(|| {
                        bad(format!(
                            "flag row {i} cites record `{}`, which the record table lacks",
                            items.value(j)
                        ))
                    })?;
                record_keys.push(key);
            }
            record_keys.sort_unstable();
            let mut hasher = Sha256::new();
            for k in record_keys {
                hasher.update(k.as_bytes());
                hasher.update(b"\n");
            }
            Ok(hex::encode(&hasher.finalize()[..10]))
        })
        .collect();
    // The first bad row in row order, whatever the thread count.
    let digests: Vec<String> = digests.into_iter().collect::<Result<_, _>>()?;
    // With the digest there, evidence is shown in deltas but not compared.
    let mut fields: Vec<Field> = flags
        .schema_ref()
        .fields()
        .iter()
        .map(|f| {
            let f = f.as_ref().clone();
            if f.name() == EVIDENCE {
                crate::not_compared(f)
            } else {
                f
            }
        })
        .collect();
    fields.push(Field::new(EVIDENCE_DIGEST, DataType::Utf8, false));
    let mut columns: Vec<ArrayRef> = flags.columns().to_vec();
    columns.push(Arc::new(StringArray::from(digests)));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| bad(format!("flags table cannot take the digest column: {e}")))
}
