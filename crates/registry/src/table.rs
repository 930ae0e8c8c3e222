//! The registry and event tables: their schemas and their RecordBatch form.
//!
//! Everything the registry needs from one period to the next is in one table,
//! so the publish stage can persist it as Parquet without knowing its insides.

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use thiserror::Error;

/// Registry column: the record key (see [`crate::record_keys`]).
pub const RECORD_KEY: &str = "record_key";
/// Registry and event column: the published person ID, `P00000042`.
pub const PERSON_ID: &str = "person_id";
/// Registry column: the person number behind the person ID.
pub const PERSON_NUMBER: &str = "person_number";
/// Registry column: periods in a row the record key has been absent (0: in
/// the registry's period); absent keys are kept for a while so that a record
/// that skips a month returns to its person.
pub const ABSENT_PERIODS: &str = "absent_periods";
/// Registry column: the first person number not yet handed out (same on every row).
pub const NEXT_PERSON_NUMBER: &str = "next_person_number";
/// Schema metadata key that also carries the next person number, so that a
/// registry with no rows still remembers which numbers were used.
pub const NEXT_PERSON_NUMBER_METADATA: &str = "aidlink.next_person_number";
/// Event column: the event kind (`new`, `merge`, `split`, `retire`).
pub const EVENT: &str = "event";
/// Event column: the other person of a merge (merged away) or split (split from).
pub const OTHER_PERSON_ID: &str = "other_person_id";
/// Event column: a human-readable account of the records involved.
pub const DETAIL: &str = "detail";

/// What can be wrong with a registry table read back from storage.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// A column the registry needs is absent.
    #[error("registry table has no column `{column}` (columns present: {present})")]
    MissingColumn {
        /// The column looked for.
        column: &'static str,
        /// The columns the table has, comma-separated.
        present: String,
    },
    /// A column has another type than the registry schema says.
    #[error("registry column `{column}` has type {found}, expected {expected}")]
    WrongType {
        /// The column.
        column: &'static str,
        /// The type found.
        found: DataType,
        /// The type expected.
        expected: DataType,
    },
    /// A column that may not be null has a null.
    #[error("registry column `{column}` is null in row {row}")]
    Null {
        /// The column.
        column: &'static str,
        /// 0-based row of the table.
        row: usize,
    },
    /// One record key is mapped to two persons.
    #[error("registry maps record key `{key}` to both {first} and {second}")]
    DuplicateKey {
        /// The record key.
        key: String,
        /// One person ID.
        first: String,
        /// The other person ID.
        second: String,
    },
    /// A row's person ID text does not spell its person number.
    #[error("registry row {row}: person_id `{person_id}` does not match person_number {number}")]
    InconsistentPerson {
        /// 0-based row of the table.
        row: usize,
        /// The person ID text.
        person_id: String,
        /// The person number.
        number: u64,
    },
    /// The schema metadata's next person number is not a number.
    #[error("registry metadata `{key}` is `{value}`, expected a whole number")]
    BadMetadata {
        /// The metadata key.
        key: &'static str,
        /// The value seen.
        value: String,
    },
}

/// Which person each record key belongs to, and the next unused person number.
///
/// Person numbers are handed out in increasing order and never reused, even
/// after a person retires or is merged away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    pub(crate) persons: BTreeMap<String, u64>,
    /// Keys absent from the registry's period, with how many periods in a row.
    pub(crate) absent: BTreeMap<String, u32>,
    pub(crate) next_number: u64,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

/// Schema of the registry table: one row per record key of the period.
pub fn registry_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(RECORD_KEY, DataType::Utf8, false),
        Field::new(PERSON_ID, DataType::Utf8, false),
        Field::new(PERSON_NUMBER, DataType::UInt64, false),
        Field::new(ABSENT_PERIODS, DataType::UInt32, false),
        Field::new(NEXT_PERSON_NUMBER, DataType::UInt64, false),
    ]))
}

/// Schema of the person events table (`person_events`).
pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(EVENT, DataType::Utf8, false),
        Field::new(PERSON_ID, DataType::Utf8, false),
        Field::new(OTHER_PERSON_ID, DataType::Utf8, true),
        Field::new(DETAIL, DataType::Utf8, false),
    ]))
}

impl Registry {
    /// An empty registry whose first person will be number 1.
    pub fn new() -> Self {
        Registry {
            persons: BTreeMap::new(),
            absent: BTreeMap::new(),
            next_number: 1,
        }
    }

    /// The person number a record key belongs to.
    pub fn person_of(&self, key: &str) -> Option<u64> {
        self.persons.get(key).copied()
    }

    /// The first person number not yet handed out.
    pub fn next_number(&self) -> u64 {
        self.next_number
    }

    /// Periods in a row `key` has been absent (0 when present in the
    /// registry's period), `None` for an unknown key.
    pub fn absent_periods(&self, key: &str) -> Option<u32> {
        self.persons
            .contains_key(key)
            .then(|| self.absent.get(key).copied().unwrap_or(0))
    }

    /// Number of record keys, absent ones included.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// Whether the registry has no record keys.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }

    /// Record keys and their person numbers, in key order, absent keys included.
    pub fn entries(&self) -> impl Iterator<Item = (&str, u64)> {
        self.persons.iter().map(|(k, n)| (k.as_str(), *n))
    }

    /// The record keys of the registry's own period and their person
    /// numbers, in key order.
    pub fn present_entries(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries()
            .filter(|(k, _)| !self.absent.contains_key(*k))
    }

    /// How many record keys of the registry's period each person has.
    pub(crate) fn sizes(&self) -> HashMap<u64, usize> {
        let mut sizes = HashMap::new();
        for (_, n) in self.present_entries() {
            *sizes.entry(n).or_insert(0) += 1;
        }
        sizes
    }

    /// The registry as a table of [`registry_schema`], sorted by record key;
    /// the next person number is both a column and schema metadata.
    pub fn to_batch(&self) -> RecordBatch {
        let keys = StringArray::from_iter_values(self.persons.keys());
        let ids = StringArray::from_iter_values(
            self.persons.values().map(|n| aidlink_vocab::person_id(*n)),
        );
        let numbers = UInt64Array::from_iter_values(self.persons.values().copied());
        let absent = UInt32Array::from_iter_values(
            self.persons
                .keys()
                .map(|k| self.absent.get(k).copied().unwrap_or(0)),
        );
        let next = UInt64Array::from_iter_values(std::iter::repeat_n(
            self.next_number,
            self.persons.len(),
        ));
        let metadata = HashMap::from([(
            NEXT_PERSON_NUMBER_METADATA.to_string(),
            self.next_number.to_string(),
        )]);
        let schema = Arc::new(Schema::new_with_metadata(
            registry_schema().fields().clone(),
            metadata,
        ));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(keys),
            Arc::new(ids),
            Arc::new(numbers),
            Arc::new(absent),
            Arc::new(next),
        ];
        // The columns are built from the schema's own fields, so this cannot fail.
        build_batch(schema, columns)
    }

    /// Reads a registry written by [`Registry::to_batch`] (possibly after a
    /// Parquet round trip, which may or may not keep schema metadata).
    pub fn from_batch(batch: &RecordBatch) -> Result<Registry, RegistryError> {
        let keys = string_column(batch, RECORD_KEY)?;
        let ids = string_column(batch, PERSON_ID)?;
        let numbers = u64_column(batch, PERSON_NUMBER)?;
        let next = u64_column(batch, NEXT_PERSON_NUMBER)?;
        // Absent from registries written before keys were kept while absent.
        let absent_col = match batch.column_by_name(ABSENT_PERIODS) {
            None => None,
            Some(col) => Some(col.as_any().downcast_ref::<UInt32Array>().ok_or_else(|| {
                RegistryError::WrongType {
                    column: ABSENT_PERIODS,
                    found: col.data_type().clone(),
                    expected: DataType::UInt32,
                }
            })?),
        };
        let mut absent = BTreeMap::new();
        let mut next_number = 1u64;
        if let Some(text) = batch.schema().metadata().get(NEXT_PERSON_NUMBER_METADATA) {
            next_number = text
                .trim()
                .parse()
                .map_err(|_| RegistryError::BadMetadata {
                    key: NEXT_PERSON_NUMBER_METADATA,
                    value: text.clone(),
                })?;
        }
        // Rows are checked in order; keys are collected and sorted once
        // (a stable sort, so a repeated key's rows stay in row order) instead
        // of millions of tree insertions of owned keys.
        let mut pairs: Vec<(&str, u64, usize)> = Vec::with_capacity(batch.num_rows());
        let mut failure: Option<(usize, RegistryError)> = None;
        for row in 0..batch.num_rows() {
            let checked = non_null_str(keys, RECORD_KEY, row).and_then(|key| {
                let id = non_null_str(ids, PERSON_ID, row)?;
                if numbers.is_null(row) {
                    return Err(RegistryError::Null {
                        column: PERSON_NUMBER,
                        row,
                    });
                }
                let number = numbers.value(row);
                if !spells(id, number) {
                    return Err(RegistryError::InconsistentPerson {
                        row,
                        person_id: id.to_string(),
                        number,
                    });
                }
                Ok((key, number))
            });
            let (key, number) = match checked {
                Ok(ok) => ok,
                Err(e) => {
                    failure = Some((row, e));
                    break;
                }
            };
            if !next.is_null(row) {
                next_number = next_number.max(next.value(row));
            }
            next_number = next_number.max(number.saturating_add(1));
            if let Some(a) = absent_col.filter(|a| !a.is_null(row) && a.value(row) > 0) {
                absent.insert(key.to_string(), a.value(row));
            }
            pairs.push((key, number, row));
        }
        // Registries are written sorted by key; only check that.
        if !pairs.windows(2).all(|w| w[0].0 <= w[1].0) {
            pairs.par_sort_by(|a, b| a.0.cmp(b.0));
        }
        // The first row, in row order, whose key an earlier row gave another
        // person (the row-by-row reading this replaces stopped there).
        let clash = pairs
            .windows(2)
            .filter(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1)
            .min_by_key(|w| w[1].2);
        if let Some(w) = clash
            && failure.as_ref().is_none_or(|(row, _)| w[1].2 < *row)
        {
            let (first, number) = (w[0].1, w[1].1);
            return Err(RegistryError::DuplicateKey {
                key: w[1].0.to_string(),
                first: aidlink_vocab::person_id(first.min(number)),
                second: aidlink_vocab::person_id(first.max(number)),
            });
        }
        if let Some((_, e)) = failure {
            return Err(e);
        }
        pairs.dedup_by(|later, first| later.0 == first.0);
        let persons: BTreeMap<String, u64> = pairs
            .into_iter()
            .map(|(k, n, _)| (k.to_string(), n))
            .collect();
        Ok(Registry {
            persons,
            absent,
            next_number,
        })
    }
}

/// Whether `id` is [`aidlink_vocab::person_id`] of `number` (`P` and at
/// least eight digits), checked without building the text.
fn spells(id: &str, number: u64) -> bool {
    let Some(digits) = id.strip_prefix('P') else {
        return false;
    };
    let width = number.checked_ilog10().map_or(1, |l| l as usize + 1).max(8);
    digits.len() == width
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n == number)
}

/// Builds a batch from columns that match `schema` by construction.
pub(crate) fn build_batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> RecordBatch {
    // No input can reach a failure here: the columns are built in this crate
    // for the very schema they are checked against, so a failure is a bug.
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(schema, columns).expect("columns are built for their own schema")
}

fn present(batch: &RecordBatch) -> String {
    let names: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    names.join(", ")
}

fn column<'a>(batch: &'a RecordBatch, name: &'static str) -> Result<&'a ArrayRef, RegistryError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| RegistryError::MissingColumn {
            column: name,
            present: present(batch),
        })
}

fn string_column<'a>(
    batch: &'a RecordBatch,
    name: &'static str,
) -> Result<&'a StringArray, RegistryError> {
    let col = column(batch, name)?;
    col.as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| RegistryError::WrongType {
            column: name,
            found: col.data_type().clone(),
            expected: DataType::Utf8,
        })
}

fn u64_column<'a>(
    batch: &'a RecordBatch,
    name: &'static str,
) -> Result<&'a UInt64Array, RegistryError> {
    let col = column(batch, name)?;
    col.as_any()
        .downcast_ref::<UInt64Array>()
        .ok_or_else(|| RegistryError::WrongType {
            column: name,
            found: col.data_type().clone(),
            expected: DataType::UInt64,
        })
}

fn non_null_str<'a>(
    col: &'a StringArray,
    name: &'static str,
    row: usize,
) -> Result<&'a str, RegistryError> {
    if col.is_null(row) {
        return Err(RegistryError::Null { column: name, row });
    }
    Ok(col.value(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Registry {
        Registry {
            persons: BTreeMap::from([("a|sno:1".to_string(), 3), ("b|id:2".to_string(), 7)]),
            absent: BTreeMap::from([("b|id:2".to_string(), 2)]),
            next_number: 9,
        }
    }

    #[test]
    fn round_trips_through_a_batch() {
        let reg = sample();
        let batch = reg.to_batch();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(Registry::from_batch(&batch).unwrap(), reg);
    }

    #[test]
    fn empty_registry_keeps_next_number_in_metadata() {
        let reg = Registry {
            persons: BTreeMap::new(),
            absent: BTreeMap::new(),
            next_number: 42,
        };
        let back = Registry::from_batch(&reg.to_batch()).unwrap();
        assert_eq!(back.next_number(), 42);
    }

    #[test]
    fn next_number_survives_lost_metadata() {
        let batch = sample().to_batch();
        let plain = RecordBatch::try_new(registry_schema(), batch.columns().to_vec()).unwrap();
        assert_eq!(Registry::from_batch(&plain).unwrap().next_number(), 9);
    }

    #[test]
    fn rejects_inconsistent_and_duplicate_rows() {
        let cols = |ids: Vec<&str>, keys: Vec<&str>, numbers: Vec<u64>| -> RecordBatch {
            let n = numbers.len();
            RecordBatch::try_new(
                registry_schema(),
                vec![
                    Arc::new(StringArray::from(keys)),
                    Arc::new(StringArray::from(ids)),
                    Arc::new(UInt64Array::from(numbers)),
                    Arc::new(UInt32Array::from(vec![0; n])),
                    Arc::new(UInt64Array::from(vec![10; n])),
                ],
            )
            .unwrap()
        };
        let bad_id = cols(vec!["P00000002"], vec!["k"], vec![1]);
        assert!(matches!(
            Registry::from_batch(&bad_id),
            Err(RegistryError::InconsistentPerson { row: 0, .. })
        ));
        let dup = cols(vec!["P00000001", "P00000002"], vec!["k", "k"], vec![1, 2]);
        let err = Registry::from_batch(&dup).unwrap_err();
        assert_eq!(
            err.to_string(),
            "registry maps record key `k` to both P00000001 and P00000002"
        );
    }

    #[test]
    fn person_ids_are_checked_as_person_id_spells_them() {
        for n in [0, 1, 42, 99_999_999, 100_000_000, 123_456_789_012] {
            assert!(spells(&aidlink_vocab::person_id(n), n), "{n}");
        }
        assert!(!spells("P0000001", 1));
        assert!(!spells("P000000001", 1));
        assert!(!spells("Q00000001", 1));
        assert!(!spells("P0000000x", 1));
        assert!(!spells("P00000002", 1));
        assert!(!spells("P+0000001", 1));
    }

    #[test]
    fn the_first_bad_row_decides_the_error() {
        let cols = |ids: Vec<&str>, keys: Vec<&str>, numbers: Vec<u64>| -> RecordBatch {
            let n = numbers.len();
            RecordBatch::try_new(
                registry_schema(),
                vec![
                    Arc::new(StringArray::from(keys)),
                    Arc::new(StringArray::from(ids)),
                    Arc::new(UInt64Array::from(numbers)),
                    Arc::new(UInt32Array::from(vec![0; n])),
                    Arc::new(UInt64Array::from(vec![10; n])),
                ],
            )
            .unwrap()
        };
        // A clash in row 1 comes before the inconsistent row 2.
        let clash_first = cols(
            vec!["P00000001", "P00000002", "P00000009"],
            vec!["k", "k", "j"],
            vec![1, 2, 3],
        );
        assert!(matches!(
            Registry::from_batch(&clash_first),
            Err(RegistryError::DuplicateKey { .. })
        ));
        // An inconsistent row 1 comes before the clash in row 2.
        let bad_first = cols(
            vec!["P00000001", "P00000009", "P00000002"],
            vec!["k", "j", "k"],
            vec![1, 3, 2],
        );
        assert!(matches!(
            Registry::from_batch(&bad_first),
            Err(RegistryError::InconsistentPerson { row: 1, .. })
        ));
        // A key repeated with the same person is no clash.
        let repeated = cols(vec!["P00000001", "P00000001"], vec!["k", "k"], vec![1, 1]);
        assert_eq!(Registry::from_batch(&repeated).unwrap().len(), 1);
    }

    #[test]
    fn names_missing_columns() {
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                RECORD_KEY,
                DataType::Utf8,
                false,
            )])),
            vec![Arc::new(StringArray::from(vec!["k"]))],
        )
        .unwrap();
        let err = Registry::from_batch(&batch).unwrap_err();
        assert_eq!(
            err.to_string(),
            "registry table has no column `person_id` (columns present: record_key)"
        );
    }
}
