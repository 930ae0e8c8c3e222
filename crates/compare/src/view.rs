//! The record table as the comparisons read it: borrowed Arrow columns plus
//! what is worth computing once per row (ID codes, term frequencies).
//!
//! Two per-row values depend on other rows of the table: the household keys
//! (a member row belongs to the household of its head's own row) and the
//! term frequencies of names. Household keys are passed in (blocking has
//! them, and the incremental matcher fingerprints them); term frequencies are
//! either counted over the table (training) or read from the model
//! ([`TermFrequencies::Frozen`]), so that a reused model scores a pair from
//! the two records alone.

use aidlink_block::columns::{self, ColumnError};
use aidlink_block::{KeyColumns, hash_str, id_code};
use aidlink_vocab::schema;
use arrow_array::{Array, BooleanArray, Date32Array, RecordBatch, StringArray};
use rayon::prelude::*;

/// No ID in this slot.
pub const NO_ID: u128 = id_code::NO_ID;

/// What the comparisons read of a row, hashed and packed into one struct so
/// that comparing a pair touches two cache lines instead of twenty Arrow
/// buffers. Text hashes are 0 for a missing value. Household facts use
/// 32-bit hashes: a collision would be one false household agreement in
/// billions of comparisons; names use 64 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Name characters.
    pub name: u64,
    /// Whole name pinyin.
    pub pinyin: u64,
    /// First pinyin syllable.
    pub surname: u64,
    /// Pinyin after the first syllable (0 when none).
    pub given: u64,
    /// Recorded birth date (days), `i32::MIN` when missing.
    pub birth: i32,
    /// The ID's birth date, `i32::MIN` when missing.
    pub id_birth: i32,
    /// Recorded gender code's first byte, 0 when missing.
    pub gender: u8,
    /// The ID's gender code's first byte, 0 when missing.
    pub id_gender: u8,
    /// Guardian ID and head ID.
    pub guardian_ids: [u32; 2],
    /// Guardian and head name pinyin.
    pub guardian_names: [u32; 2],
    /// Phone.
    pub phone: u32,
    /// Address.
    pub address: u32,
    /// Student number unless it is `G` + an ID.
    pub student_no: u32,
}

fn h64(t: Option<&str>) -> u64 {
    t.map_or(0, |t| hash_str(t) | 1)
}

fn h32(t: Option<&str>) -> u32 {
    t.map_or(0, |t| (hash_str(t) >> 32) as u32 | 1)
}

/// Term frequencies of distinct values: `(hash_str(value), share of rows)`,
/// sorted by hash.
pub type TfTable = Vec<(u64, f32)>;

/// Where the view's term frequencies come from.
#[derive(Clone, Copy, Debug)]
pub enum TermFrequencies<'m> {
    /// Counted over the table (training a model).
    Count,
    /// Read from a model: values of `name` and `name_pinyin` listed there
    /// have their listed share, every other value [`RARE_TF`] (the model
    /// lists only values more frequent than its floor, so a smaller share
    /// would be floored anyway).
    Frozen {
        /// Shares of names.
        name: &'m [(u64, f32)],
        /// Shares of name pinyin.
        pinyin: &'m [(u64, f32)],
    },
}

/// The term frequency a frozen table gives a value it does not list: the
/// smallest positive share, which every model floor (`tf_min`) exceeds.
pub const RARE_TF: f32 = f32::MIN_POSITIVE;

/// The ID facts of each row that the deterministic rules and clustering
/// read: the row's own ID code, whether it passes the check, and whether
/// the row's birth date or gender contradicts it.
pub struct RowIds<'a> {
    /// The row's own ID code (from `id_number`, [`id_code::code`]), `u64::MAX` when absent.
    pub own_id: Vec<u64>,
    /// Whether the row's own birth date or gender contradicts its ID.
    pub id_contradicted: Vec<bool>,
    /// Whether the row's own ID passes the check.
    pub id_check_ok: Option<&'a BooleanArray>,
}

impl<'a> RowIds<'a> {
    /// Reads them from `batch`.
    pub fn new(batch: &'a RecordBatch) -> Result<Self, ColumnError> {
        Self::with_ids(batch, None)
    }

    /// Reads them from `batch`, taking the own ID codes from `ids` (the
    /// batch's IDs, already read) when given.
    pub fn with_ids(
        batch: &'a RecordBatch,
        ids: Option<&id_code::RowIdCodes>,
    ) -> Result<Self, ColumnError> {
        let rows = batch.num_rows();
        let id_col = columns::opt_utf8(batch, "id_number")?;
        let own_id = match ids {
            Some(ids) if ids.packed.len() == rows => {
                (0..rows).into_par_iter().map(|i| ids.own_code(i)).collect()
            }
            _ => (0..rows)
                .into_par_iter()
                .map(|i| {
                    columns::text(id_col, i)
                        .and_then(id_code::digits)
                        .map_or(u64::MAX, |d| id_code::code(&d))
                })
                .collect(),
        };
        let bm = columns::opt_bool(batch, schema::BIRTH_MATCHES_ID)?;
        let gm = columns::opt_bool(batch, schema::GENDER_MATCHES_ID)?;
        let id_contradicted = (0..rows)
            .into_par_iter()
            .map(|i| columns::flag(bm, i) == Some(false) || columns::flag(gm, i) == Some(false))
            .collect();
        Ok(RowIds {
            own_id,
            id_contradicted,
            id_check_ok: columns::opt_bool(batch, schema::ID_CHECK_OK)?,
        })
    }

    /// The row's *trusted* ID: its own ID when the check passes and neither
    /// its birth date nor its gender contradicts it. Clustering never joins
    /// two different trusted IDs.
    pub fn trusted_id(&self, i: usize) -> Option<u64> {
        if self.id_contradicted[i] || columns::flag(self.id_check_ok, i) != Some(true) {
            return None;
        }
        (self.own_id[i] != u64::MAX).then_some(self.own_id[i])
    }

    /// Whether the row has an ID that passes the check.
    pub fn id_valid(&self, i: usize) -> bool {
        columns::flag(self.id_check_ok, i) == Some(true) && self.own_id[i] != u64::MAX
    }
}

/// A borrowed view of the record table with per-row precomputations.
pub struct RecordView<'a> {
    /// Rows.
    pub rows: usize,
    /// Up to three IDs per row (own ID, from student number, from
    /// certificate number), packed ([`id_code::pack`]), [`NO_ID`] where absent.
    pub ids: Vec<[u128; 3]>,
    /// The rows' own ID facts.
    pub row_ids: RowIds<'a>,
    pub(crate) name: Option<&'a StringArray>,
    pub(crate) name_pinyin: Option<&'a StringArray>,
    pub(crate) birth: Option<&'a Date32Array>,
    pub(crate) id_birth: Option<&'a Date32Array>,
    pub(crate) gender: Option<&'a StringArray>,
    pub(crate) id_gender: Option<&'a StringArray>,
    pub(crate) guardian_pinyin: Option<&'a StringArray>,
    pub(crate) head_pinyin: Option<&'a StringArray>,
    pub(crate) household_no: Option<&'a StringArray>,
    pub(crate) phone: Option<&'a StringArray>,
    pub(crate) address: Option<&'a StringArray>,
    pub(crate) student_no: Option<&'a StringArray>,
    /// Hashed facts per row.
    pub facts: Vec<Facts>,
    /// Household keys per row (own number, head's and guardian's household;
    /// see [`aidlink_block::household`]), 0 for none.
    pub households: Vec<[u64; 3]>,
    /// Share of rows with the row's name (term frequency), 0 without a name.
    pub name_tf: Vec<f32>,
    /// Share of rows with the row's name pinyin.
    pub pinyin_tf: Vec<f32>,
    /// Every distinct name's count when counted ([`TermFrequencies::Count`]),
    /// `(hash_str(name), rows holding it)` sorted by hash, empty when
    /// frozen: what a trained model keeps.
    pub name_tf_counts: Vec<(u64, u32)>,
    /// The same for name pinyin.
    pub pinyin_tf_counts: Vec<(u64, u32)>,
    pub(crate) extra_text: Vec<Option<&'a StringArray>>,
    pub(crate) extra_pinyin: Vec<Option<&'a StringArray>>,
    pub(crate) extra_date: Vec<Option<&'a Date32Array>>,
}

/// The share of rows holding each row's value of `col` (0 for a null), and
/// each distinct value's count. A share is `count as f32 / rows as f32`.
///
/// Counted by sorting `(hash, row)` and walking the runs, so every access is
/// sequential: a binary search per row would miss the cache at every step.
pub fn term_frequencies(col: Option<&StringArray>, rows: usize) -> (Vec<f32>, Vec<(u64, u32)>) {
    let Some(col) = col else {
        return (vec![0.0; rows], Vec::new());
    };
    let mut keyed: Vec<(u64, u32)> = (0..rows)
        .into_par_iter()
        .filter_map(|i| columns::text(Some(col), i).map(|t| (hash_str(t), i as u32)))
        .collect();
    keyed.par_sort_unstable();
    let n = rows.max(1) as f32;
    let mut out = vec![0f32; rows];
    let mut table = Vec::new();
    let mut s = 0;
    while s < keyed.len() {
        let mut e = s + 1;
        while e < keyed.len() && keyed[e].0 == keyed[s].0 {
            e += 1;
        }
        let f = (e - s) as f32 / n;
        for &(_, r) in &keyed[s..e] {
            out[r as usize] = f;
        }
        table.push((keyed[s].0, (e - s) as u32));
        s = e;
    }
    (out, table)
}

/// Each row's share of `col` from a frozen table ([`RARE_TF`] for a value
/// the table does not list, 0 for a null).
pub fn frozen_frequencies(
    col: Option<&StringArray>,
    rows: usize,
    table: &[(u64, f32)],
) -> Vec<f32> {
    let Some(col) = col else {
        return vec![0.0; rows];
    };
    (0..rows)
        .into_par_iter()
        .map(|i| match columns::text(Some(col), i) {
            None => 0.0,
            Some(t) => {
                let h = hash_str(t);
                table
                    .binary_search_by_key(&h, |e| e.0)
                    .map_or(RARE_TF, |k| table[k].1)
            }
        })
        .collect()
}

impl<'a> RecordView<'a> {
    /// Borrows the columns of `batch` and precomputes per-row values.
    /// `extra` names the extra columns compared, with whether each is a
    /// date and whether a Chinese name; `households`, when given, are the
    /// batch's household keys, and `ids` its IDs already read; `tf` says
    /// where term frequencies come from.
    pub fn new(
        batch: &'a RecordBatch,
        extra: &[(String, bool, bool)],
        (households, ids): (Option<Vec<[u64; 3]>>, Option<id_code::RowIdCodes>),
        tf: TermFrequencies<'_>,
    ) -> Result<Self, ColumnError> {
        let rows = batch.num_rows();
        let keys = KeyColumns::new(batch, &[])?;
        let given_ids = ids.filter(|x| x.packed.len() == rows);
        let ids_of = || -> Vec<[u128; 3]> {
            (0..rows)
                .into_par_iter()
                .map(|i| {
                    let (v, n) = keys.ids(i);
                    let mut out = [NO_ID; 3];
                    for (o, t) in out.iter_mut().zip(v[..n].iter().flatten()) {
                        if let Some(d) = id_code::digits(t) {
                            *o = id_code::pack(&d);
                        }
                    }
                    out
                })
                .collect()
        };
        let name = columns::opt_utf8(batch, "name")?;
        let name_pinyin = columns::opt_utf8(batch, &schema::pinyin_column("name"))?;
        let mut extra_text = Vec::new();
        let mut extra_pinyin = Vec::new();
        let mut extra_date = Vec::new();
        for (col, is_date, is_name) in extra {
            if *is_date {
                extra_text.push(None);
                extra_date.push(columns::opt_date(batch, col)?);
            } else {
                extra_text.push(columns::opt_utf8(batch, col)?);
                extra_date.push(None);
            }
            extra_pinyin.push(if *is_name {
                columns::opt_utf8(batch, &schema::pinyin_column(col))?
            } else {
                None
            });
        }
        let gender = columns::opt_utf8(batch, "gender")?;
        let id_gender = columns::opt_utf8(batch, schema::ID_GENDER)?;
        let birth = columns::opt_date(batch, "birth_date")?;
        let id_birth = columns::opt_date(batch, schema::ID_BIRTH_DATE)?;
        let guardian_id = columns::opt_utf8(batch, "guardian_id")?;
        let head_id = columns::opt_utf8(batch, "head_id")?;
        let guardian_pinyin = columns::opt_utf8(batch, &schema::pinyin_column("guardian_name"))?;
        let head_pinyin = columns::opt_utf8(batch, &schema::pinyin_column("head_name"))?;
        let phone = columns::opt_utf8(batch, "phone")?;
        let address = columns::opt_utf8(batch, "address")?;
        let student_no = columns::opt_utf8(batch, "student_no")?;
        let facts_of = || -> Vec<Facts> {
            (0..rows)
                .into_par_iter()
                .map(|i| {
                    let py = columns::text(name_pinyin, i);
                    let (sur, given) = match py {
                        Some(p) => match p.split_once(' ') {
                            Some((s, g)) => (Some(s), (!g.is_empty()).then_some(g)),
                            None => (Some(p), None),
                        },
                        None => (None, None),
                    };
                    let first = |t: Option<&str>| t.and_then(|t| t.bytes().next()).unwrap_or(0);
                    Facts {
                        name: h64(columns::text(name, i)),
                        pinyin: h64(py),
                        surname: h64(sur),
                        given: h64(given),
                        birth: columns::date(birth, i).unwrap_or(i32::MIN),
                        id_birth: columns::date(id_birth, i).unwrap_or(i32::MIN),
                        gender: first(columns::text(gender, i)),
                        id_gender: first(columns::text(id_gender, i)),
                        guardian_ids: [
                            h32(columns::text(guardian_id, i)),
                            h32(columns::text(head_id, i)),
                        ],
                        guardian_names: [
                            h32(columns::text(guardian_pinyin, i)),
                            h32(columns::text(head_pinyin, i)),
                        ],
                        phone: h32(columns::text(phone, i)),
                        address: h32(columns::text(address, i)),
                        student_no: h32(columns::text(student_no, i)
                            .filter(|s| !(s.len() == 19 && s.starts_with(['G', 'g'])))),
                    }
                })
                .collect()
        };
        let tf_of = || match tf {
            TermFrequencies::Count => rayon::join(
                || term_frequencies(name, rows),
                || term_frequencies(name_pinyin, rows),
            ),
            TermFrequencies::Frozen { name: n, pinyin: p } => (
                (frozen_frequencies(name, rows, n), Vec::new()),
                (frozen_frequencies(name_pinyin, rows, p), Vec::new()),
            ),
        };
        // The four parts are independent, and each has serial stretches (the
        // term frequencies' walk over sorted runs): computed side by side,
        // one part's serial stretch leaves the other core to the rest.
        let ((read_ids, row_ids), (facts, tfs)) = rayon::join(
            || match &given_ids {
                Some(given) => (Vec::new(), RowIds::with_ids(batch, Some(given))),
                None => rayon::join(ids_of, || RowIds::new(batch)),
            },
            || rayon::join(facts_of, tf_of),
        );
        let row_ids = row_ids?;
        let ids = match given_ids {
            Some(given) => given.packed,
            None => read_ids,
        };
        let ((name_tf, name_tf_counts), (pinyin_tf, pinyin_tf_counts)) = tfs;
        Ok(RecordView {
            facts,
            rows,
            ids,
            row_ids,
            name,
            name_pinyin,
            birth: columns::opt_date(batch, "birth_date")?,
            id_birth: columns::opt_date(batch, schema::ID_BIRTH_DATE)?,
            gender: columns::opt_utf8(batch, "gender")?,
            id_gender: columns::opt_utf8(batch, schema::ID_GENDER)?,
            guardian_pinyin: columns::opt_utf8(batch, &schema::pinyin_column("guardian_name"))?,
            head_pinyin: columns::opt_utf8(batch, &schema::pinyin_column("head_name"))?,
            household_no: columns::opt_utf8(batch, "household_no")?,
            phone: columns::opt_utf8(batch, "phone")?,
            address: columns::opt_utf8(batch, "address")?,
            student_no: columns::opt_utf8(batch, "student_no")?,
            households: match households {
                Some(h) if h.len() == rows => h,
                _ => aidlink_block::household::household_keys(batch)?,
            },
            name_tf,
            pinyin_tf,
            name_tf_counts,
            pinyin_tf_counts,
            extra_text,
            extra_pinyin,
            extra_date,
        })
    }

    /// The row's trusted ID ([`RowIds::trusted_id`]).
    pub fn trusted_id(&self, i: usize) -> Option<u64> {
        self.row_ids.trusted_id(i)
    }

    /// Whether the row has an ID that passes the check.
    pub fn id_valid(&self, i: usize) -> bool {
        self.row_ids.id_valid(i)
    }

    /// Whether row `i`'s text column `col` is null.
    pub fn is_null(col: Option<&StringArray>, i: usize) -> bool {
        col.is_none_or(|c| c.is_null(i))
    }
}
