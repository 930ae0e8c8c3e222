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
use sha2::{Digest, Sha256};
use std::collections::HashMap;
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
    let by_ref: HashMap<String, &str> = (0..records.num_rows())
        .map(|i| {
            (
                format!("{}:{}", source.value(i), row.value(i)),
                keys[i].as_str(),
            )
        })
        .collect();
    let evidence = flags
        .column_by_name(EVIDENCE)
        .and_then(|c| c.as_list_opt::<i32>())
        .ok_or_else(|| bad(format!("flags table has no list column `{EVIDENCE}`")))?;
    let mut digests = Vec::with_capacity(flags.num_rows());
    for i in 0..flags.num_rows() {
        let items = evidence.value(i);
        let items = items
            .as_string_opt::<i32>()
            .ok_or_else(|| bad(format!("flags column `{EVIDENCE}` holds no text")))?;
        let mut record_keys = Vec::with_capacity(items.len());
        for j in (0..items.len()).filter(|j| !items.is_null(*j)) {
            let reference = items.value(j);
            let key = by_ref.get(reference).ok_or_else(|| {
                bad(format!(
                    "flag row {i} cites record `{reference}`, which the record table lacks"
                ))
            })?;
            record_keys.push(*key);
        }
        record_keys.sort_unstable();
        let mut hasher = Sha256::new();
        for k in record_keys {
            hasher.update(k.as_bytes());
            hasher.update(b"\n");
        }
        digests.push(hex::encode(&hasher.finalize()[..10]));
    }
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
