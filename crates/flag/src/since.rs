//! Carrying a flag's `since` over from the previous period.
//!
//! [`crate::evaluate`] sees one period only, so for most flags it can only
//! say "since this period". A flag that was already raised on the same person
//! last period has held since last period's `since`; this keeps that earlier
//! month, which also keeps an unchanged flag from looking changed in deltas.

use crate::FlagError;
use crate::tables::{FLAG, PERSON_ID, SINCE};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use std::collections::HashMap;
use std::sync::Arc;

fn strings<'a>(
    batch: &'a RecordBatch,
    name: &str,
    which: &str,
) -> Result<&'a StringArray, FlagError> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| FlagError::BadFlagsTable {
            message: format!("{which} flags table has no column `{name}`"),
        })?;
    col.as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| FlagError::BadFlagsTable {
            message: format!(
                "{which} flags column `{name}` has type {}, expected Utf8",
                col.data_type()
            ),
        })
}

/// `current` with each flag's `since` set to the earlier of its own and that
/// of the same person and flag in `previous` (both tables of
/// [`crate::flags_schema`]; months compare as `YYYY-MM` text).
pub fn carry_since(
    previous: &RecordBatch,
    current: &RecordBatch,
) -> Result<RecordBatch, FlagError> {
    let (pp, pf, ps) = (
        strings(previous, PERSON_ID, "previous")?,
        strings(previous, FLAG, "previous")?,
        strings(previous, SINCE, "previous")?,
    );
    let mut earlier: HashMap<(&str, &str), &str> = HashMap::new();
    for row in 0..previous.num_rows() {
        if pp.is_null(row) || pf.is_null(row) || ps.is_null(row) {
            continue;
        }
        let e = earlier
            .entry((pp.value(row), pf.value(row)))
            .or_insert(ps.value(row));
        if ps.value(row) < *e {
            *e = ps.value(row);
        }
    }
    let (cp, cf, cs) = (
        strings(current, PERSON_ID, "current")?,
        strings(current, FLAG, "current")?,
        strings(current, SINCE, "current")?,
    );
    let since: StringArray = (0..current.num_rows())
        .map(|row| {
            if cs.is_null(row) {
                return None;
            }
            let own = cs.value(row);
            let key = (cp.value(row), cf.value(row));
            Some(match earlier.get(&key) {
                Some(prev) if *prev < own && !cp.is_null(row) && !cf.is_null(row) => *prev,
                _ => own,
            })
        })
        .collect();
    let schema = current.schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(current.columns())
        .map(|(f, c)| {
            if f.name() == SINCE {
                Arc::new(since.clone()) as ArrayRef
            } else {
                c.clone()
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).map_err(|e| FlagError::BadFlagsTable {
        message: format!("current flags table cannot be rebuilt: {e}"),
    })
}

/// The flags table as it should be published and compared: with its
/// `evidence_digest` ([`crate::add_evidence_digest`]) and, when there is a
/// previous period's flags table, each flag's `since` carried over
/// ([`carry_since`]).
pub fn stabilize(
    flags: &RecordBatch,
    previous: Option<&RecordBatch>,
    records: &RecordBatch,
    keys: &[String],
) -> Result<RecordBatch, FlagError> {
    let digested = crate::add_evidence_digest(flags, records, keys)?;
    match previous {
        Some(prev) => carry_since(prev, &digested),
        None => Ok(digested),
    }
}

/// [`stabilize`] with the record keys as one Arrow string array
/// (`aidlink_registry::record_key_array`): the same table.
pub fn stabilize_array(
    flags: &RecordBatch,
    previous: Option<&RecordBatch>,
    records: &RecordBatch,
    keys: &StringArray,
) -> Result<RecordBatch, FlagError> {
    let digested = crate::add_evidence_digest_array(flags, records, keys)?;
    match previous {
        Some(prev) => carry_since(prev, &digested),
        None => Ok(digested),
    }
}
