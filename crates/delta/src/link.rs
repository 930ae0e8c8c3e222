//! The `link` entity: which person each record belongs to.
//!
//! Record keys carry natural keys such as student numbers, which embed ID
//! numbers, so the link table names records by a digest of the key instead:
//! the delta can then be shared as widely as the persons table. The digest is
//! a pseudonym, not encryption: whoever can list candidate keys can find a
//! record's digest, which is how a caseworker with the registry looks one up.

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
    let digest = Sha256::digest(record_key.as_bytes());
    hex::encode(&digest[..10])
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
    // Millions of digests: hashed in parallel, then sorted (a total order,
    // so the table is the same whatever the thread count).
    let entries: Vec<(&str, u64)> = registry.present_entries().collect();
    let mut rows: Vec<(String, &str, String)> = entries
        .par_iter()
        .map(|&(k, n)| {
            let source = k.split_once('|').map_or("", |(s, _)| s);
            (record_digest(k), source, aidlink_vocab::person_id(n))
        })
        .collect();
    rows.par_sort_unstable();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.as_str()),
        )),
    ];
    // The columns are built here for this very schema.
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(link_schema(), columns)
        .expect("link columns are built for the link schema")
}
