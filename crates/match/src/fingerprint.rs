//! A 64-bit fingerprint per record of everything blocking and the
//! comparisons read of it.
//!
//! Two records with the same fingerprint get the same blocking keys and
//! compare the same against any third record, so an incremental run may
//! reuse the levels of a pair whose two records kept their fingerprints.
//! The fingerprint covers the record's own columns that the blocking keys
//! and the comparison view read, and the household keys, which are derived
//! from other rows (a member belongs to the household of its head's own
//! row): a record whose head moved changes fingerprint. Term frequencies,
//! the other per-record value drawn from other rows, are frozen in the
//! model instead. Columns that neither blocking nor comparisons read (aid,
//! school, class, the source row number) are left out, so a record whose
//! aid changed keeps its pairs.

use aidlink_block::columns::{self, ColumnError};
use aidlink_block::{BlockingRule, KeyPart};
use aidlink_compare::Comparator;
use aidlink_vocab::schema;
use arrow_array::{BooleanArray, Date32Array, RecordBatch, StringArray};
use rayon::prelude::*;
use std::hash::Hasher;

/// Version of the fingerprint recipe; part of the state digest, so a state
/// fingerprinted otherwise is not reused.
pub const FINGERPRINT_VERSION: u32 = 1;

/// The text columns of the record schema that blocking or comparisons read.
const TEXT: &[&str] = &[
    schema::SOURCE,
    "id_number",
    "student_no",
    "certificate_no",
    "name",
    "name_pinyin",
    "gender",
    schema::ID_GENDER,
    "guardian_id",
    "head_id",
    "guardian_name_pinyin",
    "head_name_pinyin",
    "phone",
    "address",
];

/// The date columns read.
const DATES: &[&str] = &["birth_date", schema::ID_BIRTH_DATE];

/// The boolean columns read.
const FLAGS: &[&str] = &[
    schema::ID_CHECK_OK,
    schema::BIRTH_MATCHES_ID,
    schema::GENDER_MATCHES_ID,
];

/// The columns a fingerprint reads: the standard ones, the comparator's
/// extra fields (with their pinyin) and the rules' column key parts.
struct Read<'a> {
    text: Vec<Option<&'a StringArray>>,
    dates: Vec<Option<&'a Date32Array>>,
    flags: Vec<Option<&'a BooleanArray>>,
}

impl<'a> Read<'a> {
    fn new(
        batch: &'a RecordBatch,
        cmp: &Comparator,
        rules: &[BlockingRule],
    ) -> Result<Self, ColumnError> {
        let mut text_names: Vec<String> = TEXT.iter().map(|s| s.to_string()).collect();
        let mut date_names: Vec<String> = DATES.iter().map(|s| s.to_string()).collect();
        for (col, is_date, is_name) in cmp.extra_columns() {
            if *is_date {
                date_names.push(col.clone());
            } else {
                text_names.push(col.clone());
            }
            if *is_name {
                text_names.push(schema::pinyin_column(col));
            }
        }
        for rule in rules {
            for part in &rule.parts {
                if let KeyPart::Column(c) = part {
                    text_names.push(c.clone());
                }
            }
        }
        Ok(Read {
            text: text_names
                .iter()
                .map(|c| columns::opt_utf8(batch, c))
                .collect::<Result<_, _>>()?,
            dates: date_names
                .iter()
                .map(|c| columns::opt_date(batch, c))
                .collect::<Result<_, _>>()?,
            flags: FLAGS
                .iter()
                .map(|c| columns::opt_bool(batch, c))
                .collect::<Result<_, _>>()?,
        })
    }

    fn row(&self, i: usize, households: Option<&[u64; 3]>) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        // Each value is framed (a presence byte, then its bytes and length),
        // so no two different rows write the same byte stream.
        for c in &self.text {
            match columns::text(*c, i) {
                Some(t) => {
                    h.write_u8(1);
                    h.write(t.as_bytes());
                    h.write_usize(t.len());
                }
                None => h.write_u8(0),
            }
        }
        for c in &self.dates {
            match columns::date(*c, i) {
                Some(d) => {
                    h.write_u8(1);
                    h.write_i32(d);
                }
                None => h.write_u8(0),
            }
        }
        for c in &self.flags {
            h.write_u8(match columns::flag(*c, i) {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
        }
        for &k in households.into_iter().flatten() {
            h.write_u64(k);
        }
        finalize(h.finish())
    }
}

/// SplitMix64's finalizer: a bijection that spreads every input bit over
/// the whole word.
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable 64-bit digest of a text.
pub fn digest(text: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(text.as_bytes());
    h.write_usize(text.len());
    finalize(h.finish())
}

/// The fingerprint of every row of `batch`; `households` are the rows'
/// household keys in the whole table.
pub fn fingerprints(
    batch: &RecordBatch,
    cmp: &Comparator,
    rules: &[BlockingRule],
    households: &[[u64; 3]],
) -> Result<Vec<u64>, ColumnError> {
    let read = Read::new(batch, cmp, rules)?;
    Ok((0..batch.num_rows())
        .into_par_iter()
        .map(|i| read.row(i, households.get(i)))
        .collect())
}
