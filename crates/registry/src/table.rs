//! The registry and event tables: their schemas and their RecordBatch form.
//!
//! Everything the registry needs from one period to the next is in one table,
//! so the publish stage can persist it as Parquet without knowing its insides.

use crate::text_array::{build_fixed, build_texts};
use aidlink_vocab::sort_by_text;
use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;
use std::collections::HashMap;
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
///
/// The registry is kept as three columns sorted by record key, the form its
/// table has: reading a registry back is a check of the table, not a copy
/// of millions of keys into a map, and writing it shares the same arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Registry {
    /// Record keys, sorted and unique, without nulls.
    pub(crate) keys: StringArray,
    /// The person number of each key, without nulls.
    pub(crate) numbers: UInt64Array,
    /// Periods in a row each key has been absent (0: present in the
    /// registry's period), without nulls.
    pub(crate) absent: UInt32Array,
    pub(crate) next_number: u64,
}

// Equality compares the columns' values, which is an equivalence.
impl Eq for Registry {}

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
            keys: StringArray::from_iter_values(std::iter::empty::<&str>()),
            numbers: UInt64Array::from_iter_values(std::iter::empty()),
            absent: UInt32Array::from_iter_values(std::iter::empty()),
            next_number: 1,
        }
    }

    /// Builds a registry from columns already sorted by unique key, with no
    /// nulls, of one length each.
    pub(crate) fn from_sorted(
        keys: StringArray,
        numbers: UInt64Array,
        absent: UInt32Array,
        next_number: u64,
    ) -> Registry {
        debug_assert!(keys.len() == numbers.len() && keys.len() == absent.len());
        debug_assert!((1..keys.len()).all(|i| keys.value(i - 1) < keys.value(i)));
        Registry {
            keys,
            numbers,
            absent,
            next_number,
        }
    }

    /// The entry index of `key`, by binary search of the sorted keys.
    fn find(&self, key: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.keys.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.keys.value(mid).cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The person number a record key belongs to.
    pub fn person_of(&self, key: &str) -> Option<u64> {
        self.find(key).map(|i| self.numbers.value(i))
    }

    /// The first person number not yet handed out.
    pub fn next_number(&self) -> u64 {
        self.next_number
    }

    /// Periods in a row `key` has been absent (0 when present in the
    /// registry's period), `None` for an unknown key.
    pub fn absent_periods(&self, key: &str) -> Option<u32> {
        self.find(key).map(|i| self.absent.value(i))
    }

    /// Number of record keys, absent ones included.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the registry has no record keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Record keys and their person numbers, in key order, absent keys included.
    pub fn entries(&self) -> impl Iterator<Item = (&str, u64)> {
        (0..self.len()).map(|i| (self.keys.value(i), self.numbers.value(i)))
    }

    /// The record keys of the registry's own period and their person
    /// numbers, in key order.
    pub fn present_entries(&self) -> impl Iterator<Item = (&str, u64)> {
        (0..self.len())
            .filter(|i| self.absent.value(*i) == 0)
            .map(|i| (self.keys.value(i), self.numbers.value(i)))
    }

    /// The registry as a table of [`registry_schema`], sorted by record key;
    /// the next person number is both a column and schema metadata.
    pub fn to_batch(&self) -> RecordBatch {
        let n = self.len();
        let ids = person_id_array(self.numbers.values());
        let next = UInt64Array::from(vec![self.next_number; n]);
        let metadata = HashMap::from([(
            NEXT_PERSON_NUMBER_METADATA.to_string(),
            self.next_number.to_string(),
        )]);
        let schema = Arc::new(Schema::new_with_metadata(
            registry_schema().fields().clone(),
            metadata,
        ));
        // The key, number and absence columns are the registry's own arrays.
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.keys.clone()),
            Arc::new(ids),
            Arc::new(self.numbers.clone()),
            Arc::new(self.absent.clone()),
            Arc::new(next),
        ];
        // The columns are built from the schema's own fields, so this cannot fail.
        build_batch(schema, columns)
    }

    /// Reads a registry written by [`Registry::to_batch`] (possibly after a
    /// Parquet round trip, which may or may not keep schema metadata).
    ///
    /// Rows are checked in order as if one by one: the first bad row decides
    /// the error. A table sorted by unique key, as `to_batch` writes it, is
    /// taken as it is; any other is sorted, and a key repeated with one
    /// person is kept once.
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
        let n = batch.num_rows();
        // Rows are independent: checked in parallel, the first failure in
        // row order is the one a row-by-row reading would have stopped at.
        let check = |row: usize| -> Result<(), RegistryError> {
            non_null_str(keys, RECORD_KEY, row)?;
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
            Ok(())
        };
        let failure: Option<(usize, RegistryError)> = (0..n)
            .into_par_iter()
            .with_min_len(1 << 12)
            .find_map_first(|row| check(row).err().map(|e| (row, e)));
        let checked = failure.as_ref().map_or(n, |(row, _)| *row);
        let largest = (0..checked)
            .into_par_iter()
            .with_min_len(1 << 12)
            .map(|row| {
                let listed = if next.is_null(row) {
                    0
                } else {
                    next.value(row)
                };
                listed.max(numbers.value(row).saturating_add(1))
            })
            .max();
        next_number = next_number.max(largest.unwrap_or(0));
        let absent_of = |row: usize| match absent_col {
            Some(a) if !a.is_null(row) => a.value(row),
            _ => 0,
        };
        // Registries are written sorted by unique key: then the columns are
        // the registry, and only need checking.
        let strictly_sorted = (1..checked)
            .into_par_iter()
            .with_min_len(1 << 12)
            .all(|row| keys.value(row - 1) < keys.value(row));
        if strictly_sorted {
            if let Some((_, e)) = failure {
                return Err(e);
            }
            let absent = match absent_col {
                Some(a) if a.null_count() == 0 => a.clone(),
                _ => UInt32Array::from_iter_values((0..n).map(absent_of)),
            };
            return Ok(Registry::from_sorted(
                keys.clone(),
                numbers.clone(),
                absent,
                next_number,
            ));
        }
        // Otherwise the checked rows in key order (ties in row order).
        let order = sort_by_text(checked, |row| keys.value(row));
        // The first row, in row order, whose key an earlier row gave another
        // person (the row-by-row reading this replaces stopped there).
        let clash = order
            .windows(2)
            .filter(|w| keys.value(w[0]) == keys.value(w[1]))
            .filter(|w| numbers.value(w[0]) != numbers.value(w[1]))
            .min_by_key(|w| w[1]);
        if let Some(w) = clash {
            let (first, number) = (numbers.value(w[0]), numbers.value(w[1]));
            return Err(RegistryError::DuplicateKey {
                key: keys.value(w[1]).to_string(),
                first: aidlink_vocab::person_id(first.min(number)),
                second: aidlink_vocab::person_id(first.max(number)),
            });
        }
        if let Some((_, e)) = failure {
            return Err(e);
        }
        // A repeated key keeps its first row's person and the last positive
        // absence its rows list, as inserting the rows one by one into a map
        // did.
        let runs: Vec<&[usize]> = order
            .chunk_by(|a, b| keys.value(*a) == keys.value(*b))
            .collect();
        let bytes = runs.iter().map(|run| keys.value(run[0]).len()).sum();
        let mut sorted_keys = StringBuilder::with_capacity(runs.len(), bytes);
        for run in &runs {
            sorted_keys.append_value(keys.value(run[0]));
        }
        let sorted_numbers = runs.iter().map(|run| numbers.value(run[0]));
        let sorted_absent = runs.iter().map(|run| {
            run.iter()
                .rev()
                .map(|row| absent_of(*row))
                .find(|a| *a > 0)
                .unwrap_or(0)
        });
        Ok(Registry::from_sorted(
            sorted_keys.finish(),
            UInt64Array::from_iter_values(sorted_numbers),
            UInt32Array::from_iter_values(sorted_absent),
            next_number,
        ))
    }
}

/// The person ID text of each number, as [`aidlink_vocab::person_id`] spells
/// it (`P` and the number, zero-padded to eight digits), written straight
/// into one array's buffers.
pub(crate) fn person_id_array(numbers: &[u64]) -> StringArray {
    // Below 10^8 every ID is `P` and eight digits: nine bytes each, written
    // in place.
    if numbers.par_iter().all(|n| *n < 100_000_000) {
        return build_fixed(numbers.len(), 9, |i, slot| {
            let mut rest = numbers[i];
            for d in slot[1..].iter_mut().rev() {
                *d = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            slot[0] = b'P';
        });
    }
    build_texts(numbers.len(), 9, |i, out| {
        let mut text = [0u8; 28];
        out.extend_from_slice(write_person_id(numbers[i], &mut text).as_bytes());
    })
}

/// Writes the person ID of `number` into `buf` and returns it.
pub(crate) fn write_person_id(number: u64, buf: &mut [u8; 28]) -> &str {
    // Twenty digits hold any u64; digits are written from the end.
    let mut at = buf.len();
    let mut rest = number;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    while buf.len() - at < 8 {
        at -= 1;
        buf[at] = b'0';
    }
    at -= 1;
    buf[at] = b'P';
    // Only ASCII digits and `P` were written.
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
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
        Registry::from_sorted(
            StringArray::from(vec!["a|sno:1", "b|id:2"]),
            UInt64Array::from(vec![3, 7]),
            UInt32Array::from(vec![0, 2]),
            9,
        )
    }

    /// A registry table with the given rows, in this order.
    fn table(keys: Vec<&str>, numbers: Vec<u64>, absent: Vec<u32>) -> RecordBatch {
        let n = numbers.len();
        let ids: Vec<String> = numbers
            .iter()
            .map(|n| aidlink_vocab::person_id(*n))
            .collect();
        RecordBatch::try_new(
            registry_schema(),
            vec![
                Arc::new(StringArray::from(keys)),
                Arc::new(StringArray::from(ids)),
                Arc::new(UInt64Array::from(numbers)),
                Arc::new(UInt32Array::from(absent)),
                Arc::new(UInt64Array::from(vec![10; n])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn person_id_text_is_written_as_person_id_spells_it() {
        let numbers = [
            0,
            1,
            9,
            10,
            42,
            12_345_678,
            99_999_999,
            100_000_000,
            u64::MAX,
        ];
        let ids = person_id_array(&numbers);
        for (i, n) in numbers.iter().enumerate() {
            assert_eq!(ids.value(i), aidlink_vocab::person_id(*n));
        }
    }

    #[test]
    fn reads_unsorted_tables_and_repeated_keys() {
        let batch = table(vec!["c", "a", "b", "a"], vec![3, 1, 2, 1], vec![0, 0, 4, 5]);
        let reg = Registry::from_batch(&batch).unwrap();
        let entries: Vec<(&str, u64)> = reg.entries().collect();
        assert_eq!(entries, [("a", 1), ("b", 2), ("c", 3)]);
        // The repeated key keeps its last positive absence, as a map did.
        assert_eq!(reg.absent_periods("a"), Some(5));
        assert_eq!(reg.absent_periods("b"), Some(4));
        assert_eq!(reg.absent_periods("c"), Some(0));
        assert_eq!(reg.absent_periods("d"), None);
        assert_eq!(reg.next_number(), 10);
        // Written back, it is sorted and reads as itself.
        let back = Registry::from_batch(&reg.to_batch()).unwrap();
        assert_eq!(back, reg);
        let present: Vec<(&str, u64)> = back.present_entries().collect();
        assert_eq!(present, [("c", 3)]);
    }

    #[test]
    fn absent_nulls_and_a_missing_absent_column_read_as_present() {
        let batch = table(vec!["a", "b"], vec![1, 2], vec![0, 0]);
        let mut columns = batch.columns().to_vec();
        columns[3] = Arc::new(UInt32Array::from(vec![None, Some(3)]));
        let schema = Arc::new(Schema::new(
            registry_schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let nulls = RecordBatch::try_new(schema, columns).unwrap();
        let reg = Registry::from_batch(&nulls).unwrap();
        assert_eq!(reg.absent_periods("a"), Some(0));
        assert_eq!(reg.absent_periods("b"), Some(3));
        let mut old = batch.clone();
        old.remove_column(3);
        let reg = Registry::from_batch(&old).unwrap();
        assert_eq!(reg.present_entries().count(), 2);
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
            next_number: 42,
            ..Registry::new()
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

    /// A registry table of these persons, keys and numbers (never absent,
    /// next number 10), to feed `from_batch` bad rows.
    fn cols(ids: Vec<&str>, keys: Vec<&str>, numbers: Vec<u64>) -> RecordBatch {
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
    }

    #[test]
    fn rejects_inconsistent_and_duplicate_rows() {
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
