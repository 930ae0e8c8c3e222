//! The `link` entity: which person each record belongs to.
//!
//! Record keys carry natural keys such as student numbers, which embed ID
//! numbers, so the link table names records by a digest of the key instead:
//! the delta can then be shared as widely as the persons table. The digest is
//! a pseudonym, not encryption: whoever can list candidate keys can find a
//! record's digest, which is how a caseworker with the registry looks one up.

use crate::text::par_sized;
use aidlink_registry::{PERSON_ID, Registry};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Link column: the digest of the record key (see [`record_digest`]).
pub const RECORD: &str = "record";
/// Link column: the source the record comes from.
pub const SOURCE: &str = "source";

/// The first 20 hex digits (80 bits) of the SHA-256 of a record key, which
/// names a record without spelling its natural key.
pub fn record_digest(record_key: &str) -> String {
    hex::encode(raw_digest(record_key))
}

/// Schema of the link table.
pub fn link_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(RECORD, DataType::Utf8, false),
        Field::new(SOURCE, DataType::Utf8, false),
        Field::new(PERSON_ID, DataType::Utf8, false),
    ]))
}

/// The link table of a registry: `record` (digest of the record key),
/// `source` and `person_id`, one row per record key of the registry's own
/// period (keys kept while absent are left out), sorted by `record`.
/// Diff it on `record`: an insert is a record seen for the first time, a
/// delete a record gone, an update a record that now belongs to another
/// person.
pub fn link_table(registry: &Registry) -> RecordBatch {
    // Millions of digests: hashed in parallel, each kept as a number whose
    // order is the digest's hex text's order, then sorted; ties, which only
    // a digest collision could make, go to the source, then the person ID
    // text.
    let entries: Vec<(&str, u64)> = registry.present_entries().collect();
    let (names, source_index) = sources(entries.iter().map(|e| e.0));
    let mut rows: Vec<(u128, u32, u64)> = entries
        .par_iter()
        .zip(source_index.par_iter())
        .map(|(&(k, n), &s)| (digest_number(raw_digest(k)), s, n))
        .collect();
    drop((entries, source_index));
    rows.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| names[a.1 as usize].cmp(names[b.1 as usize]))
            .then_with(|| aidlink_vocab::person_id(a.2).cmp(&aidlink_vocab::person_id(b.2)))
    });
    let source_name = |r: &(u128, u32, u64)| names[r.1 as usize];
    let n = rows.len();
    let record = par_sized(
        n,
        |_| 2 * DIGEST_BYTES,
        |i, slot| {
            // Hex of ten bytes fills the twenty bytes of the slot.
            let digest = &rows[i].0.to_be_bytes()[..DIGEST_BYTES];
            let _ = hex::encode_to_slice(digest, slot);
        },
    );
    let source = par_sized(
        n,
        |i| source_name(&rows[i]).len(),
        |i, slot| slot.copy_from_slice(source_name(&rows[i]).as_bytes()),
    );
    let person = par_sized(
        n,
        |i| person_id_len(rows[i].2),
        |i, slot| write_person_id(slot, rows[i].2),
    );
    // Beyond 2 GiB of text (a hundred million records) the columns are
    // built one row at a time, as a builder would.
    let record = record.unwrap_or_else(|| {
        StringArray::from_iter_values(
            rows.iter()
                .map(|r| hex::encode(&r.0.to_be_bytes()[..DIGEST_BYTES])),
        )
    });
    let source =
        source.unwrap_or_else(|| StringArray::from_iter_values(rows.iter().map(source_name)));
    let person = person.unwrap_or_else(|| {
        StringArray::from_iter_values(rows.iter().map(|r| aidlink_vocab::person_id(r.2)))
    });
    let columns: Vec<ArrayRef> = vec![Arc::new(record), Arc::new(source), Arc::new(person)];
    // The columns are built here for this very schema.
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(link_schema(), columns)
        .expect("link columns are built for the link schema")
}

/// The source named by a record key (the text before its first `|`).
pub(crate) fn source_of(key: &str) -> &str {
    key.split_once('|').map_or("", |(s, _)| s)
}

/// The distinct sources of `keys`, and each key's index into them. Keys in
/// key order come in runs of one source, so a key is first checked against
/// the previous key's source. Sorting millions of records by digest puts
/// their keys in random order: reading a source out of its key afterwards
/// would miss the cache on every row, an index into a few names does not.
pub(crate) fn sources<'a>(keys: impl Iterator<Item = &'a str>) -> (Vec<&'a str>, Vec<u32>) {
    let mut names: Vec<&str> = Vec::new();
    let mut index = Vec::with_capacity(keys.size_hint().0);
    let mut last: Option<(u32, &str)> = None;
    for key in keys {
        let same = last.filter(|(_, name)| {
            key.as_bytes().get(name.len()) == Some(&b'|') && key.starts_with(name)
        });
        let i = match same {
            Some((i, _)) => i,
            None => {
                let name = source_of(key);
                let i = match names.iter().position(|n| *n == name) {
                    Some(i) => i as u32,
                    None => {
                        names.push(name);
                        (names.len() - 1) as u32
                    }
                };
                last = Some((i, name));
                i
            }
        };
        index.push(i);
    }
    (names, index)
}

/// Bytes of the SHA-256 a record digest keeps.
pub(crate) const DIGEST_BYTES: usize = 10;

/// The digest as the high bytes of a number, so numbers order as digests do.
pub(crate) fn digest_number(digest: [u8; DIGEST_BYTES]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..DIGEST_BYTES].copy_from_slice(&digest);
    u128::from_be_bytes(bytes)
}

/// The length of `aidlink_vocab::person_id(n)`: `P` and at least 8 digits.
pub(crate) fn person_id_len(n: u64) -> usize {
    1 + n.checked_ilog10().map_or(1, |d| d as usize + 1).max(8)
}

/// Writes `aidlink_vocab::person_id(n)` into a slot of [`person_id_len`].
pub(crate) fn write_person_id(slot: &mut [u8], mut n: u64) {
    if let Some((p, digits)) = slot.split_first_mut() {
        *p = b'P';
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
}

/// The 10 bytes of SHA-256 behind [`record_digest`].
pub(crate) fn raw_digest(record_key: &str) -> [u8; DIGEST_BYTES] {
    let digest = Sha256::digest(record_key.as_bytes());
    let mut out = [0u8; DIGEST_BYTES];
    out.copy_from_slice(&digest[..DIGEST_BYTES]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_written_as_vocab_spells_them() {
        for n in [0, 1, 42, 99_999_999, 100_000_000, 123_456_789_012, u64::MAX] {
            let mut slot = vec![0u8; person_id_len(n)];
            write_person_id(&mut slot, n);
            assert_eq!(
                String::from_utf8(slot).unwrap(),
                aidlink_vocab::person_id(n)
            );
        }
    }

    #[test]
    fn sources_name_each_key_as_source_of_does() {
        let keys = [
            "enrollment|sno:1",
            "enrollment|sno:2",
            "enrollmentx|id:3",
            "none",
            "household|id:4",
            "enrollment|sno:5",
            "",
            "a|b|c",
        ];
        let (names, index) = sources(keys.iter().copied());
        assert_eq!(names, ["enrollment", "enrollmentx", "", "household", "a"]);
        for (key, i) in keys.iter().zip(&index) {
            assert_eq!(names[*i as usize], source_of(key), "{key}");
        }
    }

    #[test]
    fn digest_numbers_order_as_their_hex_text() {
        let keys = ["a", "b", "enrollment|sno:1", "household|id:2", ""];
        let mut by_number: Vec<&str> = keys.to_vec();
        by_number.sort_by_key(|k| digest_number(raw_digest(k)));
        let mut by_text = keys.to_vec();
        by_text.sort_by_key(|k| record_digest(k));
        assert_eq!(by_number, by_text);
    }
}
