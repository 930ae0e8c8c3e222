//! Compares candidate pairs field by field into levels.
//!
//! A [`Comparator`] holds the run's comparisons ([`spec`]); for each
//! candidate pair it writes one `u8` level code per comparison (code 0 is
//! `missing`) and, for comparisons with term-frequency adjustment, the share
//! of records holding the agreeing value. Pairs are compared in parallel
//! chunks and written in pair order, so the output does not depend on the
//! thread count. Each level is decided by a small function in [`levels`].
//!
//! It does no IO.

pub mod levels;
pub mod spec;
mod view;

pub use spec::{Comparison, Spec};
pub use view::{
    NO_ID, RARE_TF, RecordView, RowIds, TermFrequencies, TfTable, frozen_frequencies,
    term_frequencies,
};

use aidlink_block::ColumnError;
use aidlink_block::columns::{date, text};
use aidlink_vocab::{FieldKind, mask_id_text};
use arrow_array::RecordBatch;
use rayon::prelude::*;

/// Pairs per parallel chunk.
const CHUNK: usize = 8192;

/// The level vectors of a list of pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vectors {
    /// Comparisons per pair.
    pub width: usize,
    /// Level codes, `width` per pair, pair after pair.
    pub levels: Vec<u8>,
    /// Term frequencies, one per term-frequency comparison per pair (0 when
    /// the level is not one that agrees on a value).
    pub tf: Vec<f32>,
    /// Term-frequency comparisons per pair.
    pub tf_width: usize,
}

impl Vectors {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.levels.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The level codes of pair `p`.
    pub fn pair(&self, p: usize) -> &[u8] {
        &self.levels[p * self.width..(p + 1) * self.width]
    }
}

/// The comparisons of a run, ready to compare pairs of one record table.
#[derive(Clone, Debug)]
pub struct Comparator {
    /// The comparisons, in vector order.
    pub comparisons: Vec<Comparison>,
    extra: Vec<(String, bool, bool)>,
    tf_index: Vec<Option<usize>>,
}

impl Comparator {
    /// A comparator for `comparisons`.
    pub fn new(comparisons: Vec<Comparison>) -> Self {
        let extra = comparisons
            .iter()
            .filter_map(|c| match &c.spec {
                Spec::Field { column, kind } => Some((
                    column.clone(),
                    *kind == FieldKind::Date,
                    *kind == FieldKind::ChineseName,
                )),
                _ => None,
            })
            .collect();
        let mut next = 0;
        let tf_index = comparisons
            .iter()
            .map(|c| {
                c.tf.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        Comparator {
            comparisons,
            extra,
            tf_index,
        }
    }

    /// Number of term-frequency comparisons.
    pub fn tf_width(&self) -> usize {
        self.tf_index.iter().flatten().count()
    }

    /// Index of the term-frequency slot of comparison `c`, if it has one.
    pub fn tf_slot(&self, c: usize) -> Option<usize> {
        self.tf_index[c]
    }

    /// Prepares the view of `batch` the comparisons read, with term
    /// frequencies from `tf`.
    pub fn view<'a>(
        &self,
        batch: &'a RecordBatch,
        tf: TermFrequencies<'_>,
    ) -> Result<RecordView<'a>, ColumnError> {
        RecordView::new(batch, &self.extra, (None, None), tf)
    }

    /// [`Comparator::view`] reusing household keys blocking already computed
    /// ([`aidlink_block::household::household_keys`] of the same batch; for
    /// a batch of some rows of a table, those rows' keys in the whole table).
    pub fn view_with_households<'a>(
        &self,
        batch: &'a RecordBatch,
        households: Vec<[u64; 3]>,
        tf: TermFrequencies<'_>,
    ) -> Result<RecordView<'a>, ColumnError> {
        RecordView::new(batch, &self.extra, (Some(households), None), tf)
    }

    /// [`Comparator::view_with_households`] also reusing the IDs blocking
    /// already read ([`aidlink_block::id_code::RowIdCodes`] of the same batch).
    pub fn view_with_parts<'a>(
        &self,
        batch: &'a RecordBatch,
        households: Vec<[u64; 3]>,
        ids: aidlink_block::id_code::RowIdCodes,
        tf: TermFrequencies<'_>,
    ) -> Result<RecordView<'a>, ColumnError> {
        RecordView::new(batch, &self.extra, (Some(households), Some(ids)), tf)
    }

    /// The extra columns compared (name, whether a date, whether a Chinese
    /// name), in comparison order.
    pub fn extra_columns(&self) -> &[(String, bool, bool)] {
        &self.extra
    }

    /// Compares rows `i` and `j`, writing levels and term frequencies.
    pub fn compare(
        &self,
        v: &RecordView<'_>,
        i: usize,
        j: usize,
        levels: &mut [u8],
        tf: &mut [f32],
    ) {
        self.compare_gated(v, i, j, levels, tf, true);
    }

    /// Compares rows `i` and `j`; with `gate` false the household comparison
    /// is made even when the names differ. That is how u is estimated:
    /// strangers' household agreement, not the rare strangers whose names
    /// also agree (among whom, in a sample, true matches are common).
    pub fn compare_gated(
        &self,
        v: &RecordView<'_>,
        i: usize,
        j: usize,
        levels: &mut [u8],
        tf: &mut [f32],
        gate: bool,
    ) {
        let mut id_agrees = false;
        let mut names_differ = false;
        let mut extra = 0;
        // The ID and the name decide how birth, gender and household are
        // read, so they are compared first whatever the comparison order.
        for (c, cmp) in self.comparisons.iter().enumerate() {
            match cmp.spec {
                Spec::Id => {
                    levels[c] = id_level(v, i, j);
                    id_agrees =
                        (levels::id::EXACT..=levels::id::TRANSPOSITION).contains(&levels[c]);
                }
                Spec::Name => {
                    let l = name_level_fast(v, i, j);
                    levels[c] = l;
                    names_differ = l == levels::name::DIFFERENT;
                    if let Some(s) = self.tf_index[c] {
                        tf[s] = match l {
                            levels::name::EXACT => v.name_tf[i].max(v.name_tf[j]),
                            levels::name::PINYIN => v.pinyin_tf[i].max(v.pinyin_tf[j]),
                            _ => 0.0,
                        };
                    }
                }
                _ => {}
            }
        }
        for (c, cmp) in self.comparisons.iter().enumerate() {
            levels[c] = match &cmp.spec {
                Spec::Id | Spec::Name => continue,
                Spec::Birth => birth_level(v, i, j, id_agrees),
                Spec::Gender => gender_level(v, i, j, id_agrees),
                Spec::Household if names_differ && gate => levels::household::MISSING,
                Spec::Household => household_level(v, i, j),
                Spec::StudentNo => student_no_level(v, i, j),
                Spec::Field { kind, .. } => {
                    let k = extra;
                    extra += 1;
                    let l = field_level(v, k, *kind, i, j);
                    if let Some(s) = self.tf_index[c] {
                        tf[s] = 0.0;
                    }
                    l
                }
            };
        }
    }

    /// Compares every pair, in parallel, in pair order.
    pub fn compare_pairs(&self, v: &RecordView<'_>, pairs: &[(u32, u32)]) -> Vectors {
        self.compare_pairs_gated(v, pairs, true)
    }

    /// [`Comparator::compare_pairs`] with the household gate on or off
    /// (see [`Comparator::compare_gated`]).
    pub fn compare_pairs_gated(
        &self,
        v: &RecordView<'_>,
        pairs: &[(u32, u32)],
        gate: bool,
    ) -> Vectors {
        let width = self.comparisons.len();
        let tf_width = self.tf_width();
        let chunks: Vec<(Vec<u8>, Vec<f32>)> = pairs
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut lv = vec![0u8; chunk.len() * width];
                let mut tf = vec![0f32; chunk.len() * tf_width];
                for (k, &(i, j)) in chunk.iter().enumerate() {
                    self.compare_gated(
                        v,
                        i as usize,
                        j as usize,
                        &mut lv[k * width..(k + 1) * width],
                        &mut tf[k * tf_width..(k + 1) * tf_width],
                        gate,
                    );
                }
                (lv, tf)
            })
            .collect();
        let mut out = Vectors {
            width,
            levels: Vec::with_capacity(pairs.len() * width),
            tf: Vec::with_capacity(pairs.len() * tf_width),
            tf_width,
        };
        for (lv, tf) in chunks {
            out.levels.extend(lv);
            out.tf.extend(tf);
        }
        out
    }

    /// The value comparison `c` reads from row `i`, for explanations; IDs
    /// are masked.
    pub fn display(&self, v: &RecordView<'_>, c: usize, i: usize) -> String {
        let dash = || "-".to_string();
        let show_date = |d: Option<i32>| {
            d.map_or_else(dash, |d| aidlink_vocab::CivilDate::from_days(d).to_string())
        };
        match &self.comparisons[c].spec {
            Spec::Id => {
                let ids: Vec<String> = v.ids[i]
                    .iter()
                    .filter(|&&x| x != NO_ID)
                    .map(|&x| {
                        let d = aidlink_block::id_code::unpack(x);
                        let s: String = d
                            .iter()
                            .map(|&k| if k == 10 { 'X' } else { char::from(b'0' + k) })
                            .collect();
                        mask_id_text(&s)
                    })
                    .collect();
                if ids.is_empty() {
                    dash()
                } else {
                    ids.join("|")
                }
            }
            Spec::Name => format!(
                "{} ({})",
                text(v.name, i).unwrap_or("-"),
                text(v.name_pinyin, i).unwrap_or("-")
            ),
            Spec::Birth => match date(v.birth, i) {
                Some(d) => show_date(Some(d)),
                None => date(v.id_birth, i)
                    .map_or_else(dash, |d| format!("{} (ID)", show_date(Some(d)))),
            },
            Spec::Gender => match text(v.gender, i) {
                Some(g) => g.to_string(),
                None => text(v.id_gender, i).map_or_else(dash, |g| format!("{g} (ID)")),
            },
            Spec::Household => {
                let mut parts = Vec::new();
                for (label, col) in [
                    ("guardian", v.guardian_pinyin),
                    ("head", v.head_pinyin),
                    ("hh", v.household_no),
                    ("addr", v.address),
                ] {
                    if let Some(t) = text(col, i) {
                        parts.push(format!("{label} {t}"));
                    }
                }
                if text(v.phone, i).is_some() {
                    parts.push("phone".into());
                }
                if parts.is_empty() {
                    dash()
                } else {
                    parts.join("; ")
                }
            }
            Spec::StudentNo => text(v.student_no, i).map_or_else(dash, mask_id_text),
            Spec::Field { kind, .. } => {
                let k = self.comparisons[..c]
                    .iter()
                    .filter(|x| matches!(x.spec, Spec::Field { .. }))
                    .count();
                match kind {
                    FieldKind::Date => show_date(date(v.extra_date[k], i)),
                    FieldKind::ResidentId | FieldKind::Phone => {
                        text(v.extra_text[k], i).map_or_else(dash, mask_id_text)
                    }
                    _ => text(v.extra_text[k], i).map_or_else(dash, str::to_string),
                }
            }
        }
    }
}

fn id_level(v: &RecordView<'_>, i: usize, j: usize) -> u8 {
    let mut best = levels::id::MISSING;
    for &a in v.ids[i].iter().filter(|&&x| x != NO_ID) {
        for &b in v.ids[j].iter().filter(|&&x| x != NO_ID) {
            let l = levels::id_level(a, b);
            if best == levels::id::MISSING || l < best {
                best = l;
            }
        }
    }
    if best == levels::id::EXACT && (v.row_ids.id_contradicted[i] || v.row_ids.id_contradicted[j]) {
        return levels::id::EXACT_CONTRADICTED;
    }
    best
}

fn name_level(
    name: Option<&arrow_array::StringArray>,
    pinyin: Option<&arrow_array::StringArray>,
    i: usize,
    j: usize,
) -> u8 {
    match (text(name, i), text(name, j)) {
        (Some(a), Some(b)) => levels::name_level(a, b, text(pinyin, i), text(pinyin, j)),
        _ => levels::name::MISSING,
    }
}

/// The name level from the hashed facts; only a pair whose surnames agree
/// but whose pinyin differs needs the texts (for Jaro-Winkler), and then
/// [`levels::name_level`] decides, so both paths give the same level.
fn name_level_fast(v: &RecordView<'_>, i: usize, j: usize) -> u8 {
    let (a, b) = (&v.facts[i], &v.facts[j]);
    if a.name == 0 || b.name == 0 {
        return levels::name::MISSING;
    }
    if a.name == b.name {
        return levels::name::EXACT;
    }
    if a.pinyin == 0 || b.pinyin == 0 {
        return levels::name::DIFFERENT;
    }
    if a.pinyin == b.pinyin {
        return levels::name::PINYIN;
    }
    if a.surname == b.surname {
        return name_level(v.name, v.name_pinyin, i, j);
    }
    if a.given != 0 && a.given == b.given {
        levels::name::SIMILAR
    } else {
        levels::name::DIFFERENT
    }
}

fn birth_level(v: &RecordView<'_>, i: usize, j: usize, id_agrees: bool) -> u8 {
    let pick = |r: usize| {
        let f = &v.facts[r];
        if f.birth != i32::MIN {
            Some(f.birth)
        } else if !id_agrees && f.id_birth != i32::MIN {
            Some(f.id_birth)
        } else {
            None
        }
    };
    match (pick(i), pick(j)) {
        (Some(a), Some(b)) => levels::date_level(a, b),
        _ => levels::date::MISSING,
    }
}

fn gender_level(v: &RecordView<'_>, i: usize, j: usize, id_agrees: bool) -> u8 {
    let pick = |r: usize| {
        let f = &v.facts[r];
        if f.gender != 0 {
            f.gender
        } else if !id_agrees {
            f.id_gender
        } else {
            0
        }
    };
    match (pick(i), pick(j)) {
        (0, _) | (_, 0) => levels::binary::MISSING,
        (a, b) => levels::binary_level(a, b),
    }
}

fn household_level(v: &RecordView<'_>, i: usize, j: usize) -> u8 {
    use levels::household as h;
    let (a, b) = (&v.facts[i], &v.facts[j]);
    let shared = |x: &[u32; 2], y: &[u32; 2]| x.iter().any(|&p| p != 0 && y.contains(&p));
    let has = |x: &[u32; 2]| x.iter().any(|&p| p != 0);
    if shared(&a.guardian_ids, &b.guardian_ids) {
        return h::GUARDIAN_ID;
    }
    let (ki, kj) = (&v.households[i], &v.households[j]);
    if ki.iter().any(|&x| x != 0 && kj.contains(&x)) {
        return h::HOUSEHOLD_NO;
    }
    if a.phone != 0 && a.phone == b.phone {
        return h::PHONE;
    }
    if shared(&a.guardian_names, &b.guardian_names) {
        return h::GUARDIAN_NAME;
    }
    if a.address != 0 && a.address == b.address {
        return h::ADDRESS;
    }
    let has_household = |k: &[u64; 3]| k.iter().any(|&x| x != 0);
    let comparable = ((has(&a.guardian_ids) || has(&a.guardian_names))
        && (has(&b.guardian_ids) || has(&b.guardian_names)))
        || (has_household(ki) && has_household(kj))
        || (a.phone != 0 && b.phone != 0)
        || (a.address != 0 && b.address != 0);
    if comparable { h::DIFFERENT } else { h::MISSING }
}

fn student_no_level(v: &RecordView<'_>, i: usize, j: usize) -> u8 {
    // A student number that is `G` + an ID is already part of the ID comparison.
    match (v.facts[i].student_no, v.facts[j].student_no) {
        (0, _) | (_, 0) => levels::binary::MISSING,
        (a, b) => levels::binary_level(a, b),
    }
}

fn field_level(v: &RecordView<'_>, k: usize, kind: FieldKind, i: usize, j: usize) -> u8 {
    if kind == FieldKind::Date {
        return match (date(v.extra_date[k], i), date(v.extra_date[k], j)) {
            (Some(a), Some(b)) => levels::date_level(a, b),
            _ => levels::date::MISSING,
        };
    }
    let (Some(a), Some(b)) = (text(v.extra_text[k], i), text(v.extra_text[k], j)) else {
        return 0;
    };
    match kind {
        FieldKind::ResidentId => match (
            aidlink_block::id_code::digits(a),
            aidlink_block::id_code::digits(b),
        ) {
            (Some(x), Some(y)) => levels::id_level(
                aidlink_block::id_code::pack(&x),
                aidlink_block::id_code::pack(&y),
            ),
            _ if a == b => levels::id::EXACT,
            _ => levels::id::DIFFERENT,
        },
        FieldKind::ChineseName => {
            levels::name_level(a, b, text(v.extra_pinyin[k], i), text(v.extra_pinyin[k], j))
        }
        FieldKind::Phone => levels::phone_level(a, b),
        FieldKind::FreeText => levels::text_level(a, b),
        _ => levels::binary_level(a, b),
    }
}
