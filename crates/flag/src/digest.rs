//! A stable stand-in for a flag's evidence, for comparing months.
//!
//! Evidence names records as `source:row`, which is what a caseworker needs
//! to open the file, but rows move from month to month, so the same evidence
//! reads differently next month. The digest names the evidence by its
//! records' keys (`aidlink_registry::record_keys`) instead: it changes exactly
//! when the set of records behind the flag changes, and spells no key.

use crate::FlagError;
use crate::tables::EVIDENCE;
use aidlink_vocab::schema::{SOURCE, SOURCE_ROW};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Flags column added by [`add_evidence_digest`].
pub const EVIDENCE_DIGEST: &str = "evidence_digest";

/// `flags` with an `evidence_digest` column appended: the first 20 hex
/// digits of the SHA-256 of the sorted record keys of each flag's evidence.
/// `records` and `keys` are the period's record table and its record keys,
/// one per row, as given to [`crate::evaluate`].
pub fn add_evidence_digest(
    flags: &RecordBatch,
    records: &RecordBatch,
    keys: &[String],
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
    // Records by (source, row), sorted, looked up by binary search: no
    // `source:row` text is built for the millions of records. For a
    // reference repeated in the table, the last record wins.
    let mut sources: Vec<&str> = (0..records.num_rows()).map(|i| source.value(i)).collect();
    sources.sort_unstable();
    sources.dedup();
    let source_index = |s: &str| sources.binary_search(&s).ok();
    let mut by_ref: Vec<(usize, u64, usize)> = (0..records.num_rows())
        .map(|i| (source_index(source.value(i)).unwrap_or(0), row.value(i), i))
        .collect();
    by_ref.par_sort_unstable();
    let lookup = |reference: &str| -> Option<&str> {
        let (src, number) = reference.rsplit_once(':')?;
        // Only the canonical spelling `format!("{row}")` names a record.
        let canonical = !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
            && (number.len() == 1 || !number.starts_with('0'));
        if !canonical {
            return None;
        }
        let (src, number) = (source_index(src)?, number.parse::<u64>().ok()?);
        let end = by_ref.partition_point(|(s, r, _)| (*s, *r) <= (src, number));
        let (s, r, i) = *by_ref.get(end.checked_sub(1)?)?;
        ((s, r) == (src, number)).then(|| keys[i].as_str())
    };
    let evidence = flags
        .column_by_name(EVIDENCE)
        .and_then(|c| c.as_list_opt::<i32>())
        .ok_or_else(|| bad(format!("flags table has no list column `{EVIDENCE}`")))?;
    let items = evidence
        .values()
        .as_string_opt::<i32>()
        .ok_or_else(|| bad(format!("flags column `{EVIDENCE}` holds no text")))?;
    let offsets = evidence.value_offsets();
    let digests: Vec<Result<String, FlagError>> = (0..flags.num_rows())
        .into_par_iter()
        .map(|i| {
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            let mut record_keys = Vec::with_capacity(end - start);
            for j in (start..end).filter(|j| !items.is_null(*j)) {
                let reference = items.value(j);
                let key = lookup(reference).ok_or_else(|| {
                    bad(format!(
                        "flag row {i} cites record `{reference}`, which the record table lacks"
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
