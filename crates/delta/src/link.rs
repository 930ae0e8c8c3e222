//! The `link` entity: which person each record belongs to.
//!
//! Record keys carry natural keys such as student numbers, which embed ID
//! numbers, so the link table names records by a digest of the key instead:
//! the delta can then be shared as widely as the persons table. The digest is
//! a pseudonym, not encryption: whoever can list candidate keys can find a
//! record's digest, which is how a caseworker with the registry looks one up.

use aidlink_registry::{PERSON_ID, Registry};
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::fmt::Write;
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
    // Millions of digests: hashed in parallel as raw bytes (whose order is
    // their hex text's order), then sorted; ties, which only a digest
    // collision could make, go to the source, then the person ID text.
    let entries: Vec<(&str, u64)> = registry.present_entries().collect();
    let mut rows: Vec<([u8; 10], &str, u64)> = entries
        .par_iter()
        .map(|&(k, n)| {
            let source = k.split_once('|').map_or("", |(s, _)| s);
            (raw_digest(k), source, n)
        })
        .collect();
    drop(entries);
    rows.par_sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| aidlink_vocab::person_id(a.2).cmp(&aidlink_vocab::person_id(b.2)))
    });
    let n = rows.len();
    let mut record = StringBuilder::with_capacity(n, n * 20);
    let mut hex_text = [0u8; 20];
    for r in &rows {
        // Hex of ten bytes fills the twenty, and is ASCII, so this always
        // writes the digest's text.
        let ok = hex::encode_to_slice(r.0, &mut hex_text).is_ok();
        record.append_value(match std::str::from_utf8(&hex_text) {
            Ok(text) if ok => text,
            _ => "",
        });
    }
    let sources = rows.iter().map(|r| r.1.len()).sum();
    let mut source = StringBuilder::with_capacity(n, sources);
    rows.iter().for_each(|r| source.append_value(r.1));
    let mut person = StringBuilder::with_capacity(n, n * 9);
    for r in &rows {
        // Writing into a builder cannot fail; the text is `person_id`'s.
        let _ = write!(person, "P{:08}", r.2);
        person.append_value("");
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(record.finish()),
        Arc::new(source.finish()),
        Arc::new(person.finish()),
    ];
    // The columns are built here for this very schema.
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(link_schema(), columns)
        .expect("link columns are built for the link schema")
}

/// The 10 bytes of SHA-256 behind [`record_digest`].
fn raw_digest(record_key: &str) -> [u8; 10] {
    let digest = Sha256::digest(record_key.as_bytes());
    let mut out = [0u8; 10];
    out.copy_from_slice(&digest[..10]);
    out
}
