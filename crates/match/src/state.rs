//! The match state: what the next period's incremental run needs from this
//! one, as one flat table (`match_state.parquet`, restricted tier).
//!
//! One row per fact, told apart by `kind`; every column is a non-null
//! primitive, so the table writes and reads as fast as Parquet goes (the
//! columns a kind does not use hold zeros, which compress to nothing):
//!
//! | kind | `key` | `left` | `right` | `rules` | `levels` | `tf` | `decided` |
//! |---|---|---|---|---|---|---|---|
//! | 0 header (first row, once) | digest of model and settings | state format | comparisons | blocking rules | | | |
//! | 1 record | fingerprint (ascending, unique) | | rules giving it several keys | rules giving it keys | | | 1 when one of its IDs fails its check |
//! | 2 pair | | left record number | right record number | rule mask | level codes | term frequencies | deterministic rule |
//! | 3 capped block | block key | rule index | | | | | |
//!
//! The last column, `tags` (`FixedSizeBinary(4 × rules)`), holds per record
//! and blocking rule the high 32 bits of its key when it has exactly one
//! (little-endian u32): the next period finds the unchanged members of a
//! block a change touched by comparing tags, without computing every
//! record's keys.
//!
//! A record number is the record's position among the kind-1 rows (0-based).
//! `levels` is `FixedSizeBinary(comparisons)`, `tf` is
//! `FixedSizeBinary(4 × term-frequency comparisons)` (little-endian f32).
//! Records whose fingerprint occurs twice are left out (their pairs could
//! not be told apart), as are their pairs: next time they count as changed.

use crate::MatchError;
use arrow_array::{
    Array, ArrayRef, FixedSizeBinaryArray, RecordBatch, UInt8Array, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

/// Version of the state layout.
pub const STATE_FORMAT: u32 = 1;

const HEADER: u8 = 0;
const RECORD: u8 = 1;
const PAIR: u8 = 2;
const CAPPED: u8 = 3;

/// The schema of the state table for `width` comparisons, `tf_width`
/// term-frequency comparisons and `rules` blocking rules.
pub fn schema(width: usize, tf_width: usize, rules: usize) -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("kind", DataType::UInt8, false),
        Field::new("key", DataType::UInt64, false),
        Field::new("left", DataType::UInt32, false),
        Field::new("right", DataType::UInt32, false),
        Field::new("rules", DataType::UInt32, false),
        Field::new(
            "levels",
            DataType::FixedSizeBinary(width.max(1) as i32),
            false,
        ),
        Field::new(
            "tf",
            DataType::FixedSizeBinary((4 * tf_width.max(1)) as i32),
            false,
        ),
        Field::new("decided", DataType::UInt8, false),
        Field::new(
            "tags",
            DataType::FixedSizeBinary((4 * rules.max(1)) as i32),
            false,
        ),
    ]))
}

/// Everything a state is made of.
pub struct StateParts<'a> {
    /// Digest of the model and settings.
    pub digest: u64,
    /// Fingerprint per row of the record table.
    pub fingerprints: &'a [u64],
    /// Candidate pairs (row indices).
    pub pairs: &'a [(u32, u32)],
    /// Rule mask per pair.
    pub masks: &'a [u32],
    /// Level codes, `width` per pair.
    pub levels: &'a [u8],
    /// Comparisons per pair.
    pub width: usize,
    /// Term frequencies, `tf_width` per pair.
    pub tf: &'a [f32],
    /// Term-frequency comparisons per pair.
    pub tf_width: usize,
    /// Deterministic rule code per pair (0 none).
    pub decided: &'a [u8],
    /// Keys of capped blocks, per rule.
    pub capped: &'a [Vec<u64>],
    /// Key tags per row.
    pub row_keys: &'a aidlink_block::incremental::RowKeys,
}

/// Builds the state table.
pub fn build(p: StateParts<'_>) -> Result<RecordBatch, MatchError> {
    use rayon::prelude::*;
    let n = p.fingerprints.len();
    let mut sorted: Vec<(u64, u32)> = p
        .fingerprints
        .iter()
        .enumerate()
        .map(|(i, &f)| (f, i as u32))
        .collect();
    sorted.par_sort_unstable();
    // Record number per row, u32::MAX for a fingerprint seen twice.
    let mut number = vec![u32::MAX; n];
    let mut fps = Vec::with_capacity(n);
    let mut rows_of_fps: Vec<usize> = Vec::with_capacity(n);
    let mut k = 0;
    while k < sorted.len() {
        let mut e = k + 1;
        while e < sorted.len() && sorted[e].0 == sorted[k].0 {
            e += 1;
        }
        if e == k + 1 {
            number[sorted[k].1 as usize] = fps.len() as u32;
            fps.push(sorted[k].0);
            rows_of_fps.push(sorted[k].1 as usize);
        }
        k = e;
    }
    let kept: Vec<usize> = (0..p.pairs.len())
        .into_par_iter()
        .filter(|&q| {
            let (a, b) = p.pairs[q];
            number[a as usize] != u32::MAX && number[b as usize] != u32::MAX
        })
        .collect();
    let capped: Vec<(u64, u32)> = p
        .capped
        .iter()
        .enumerate()
        .flat_map(|(r, keys)| keys.iter().map(move |&k| (k, r as u32)))
        .collect();
    let first_pair = 1 + fps.len();
    let rows = first_pair + kept.len() + capped.len();
    let (w, tw) = (p.width.max(1), p.tf_width.max(1));
    // Each column is allocated zeroed and its record, pair and capped
    // segments are filled in parallel.
    let (rec, pair) = (1..first_pair, first_pair..first_pair + kept.len());
    let capped_at = first_pair + kept.len();
    let fill_u32 = |header: u32,
                    of_record: &(dyn Fn(usize) -> u32 + Sync),
                    of_pair: &(dyn Fn(usize) -> u32 + Sync),
                    of_capped: &(dyn Fn(&(u64, u32)) -> u32 + Sync)| {
        let mut v = vec![0u32; rows];
        v[0] = header;
        v[rec.clone()]
            .par_iter_mut()
            .zip(rows_of_fps.par_iter())
            .for_each(|(o, &i)| *o = of_record(i));
        v[pair.clone()]
            .par_iter_mut()
            .zip(kept.par_iter())
            .for_each(|(o, &q)| *o = of_pair(q));
        for (o, c) in v[capped_at..].iter_mut().zip(&capped) {
            *o = of_capped(c);
        }
        UInt32Array::from(v)
    };
    let mut kinds = vec![PAIR; rows];
    kinds[0] = HEADER;
    kinds[rec.clone()].fill(RECORD);
    kinds[capped_at..].fill(CAPPED);
    let kind = UInt8Array::from(kinds);
    let mut keys = vec![0u64; rows];
    keys[0] = p.digest;
    keys[rec.clone()].copy_from_slice(&fps);
    for (o, c) in keys[capped_at..].iter_mut().zip(&capped) {
        *o = c.0;
    }
    let key = UInt64Array::from(keys);
    let left = fill_u32(
        STATE_FORMAT,
        &|_| 0,
        &|q| number[p.pairs[q].0 as usize],
        &|c| c.1,
    );
    let right = fill_u32(
        p.width as u32,
        &|i| p.row_keys.multi[i],
        &|q| number[p.pairs[q].1 as usize],
        &|_| 0,
    );
    let rules = fill_u32(
        p.capped.len() as u32,
        &|i| p.row_keys.any[i],
        &|q| p.masks[q],
        &|_| 0,
    );
    let mut dec = vec![0u8; rows];
    dec[rec.clone()]
        .par_iter_mut()
        .zip(rows_of_fps.par_iter())
        .for_each(|(o, &i)| *o = u8::from(p.row_keys.failing[i]));
    dec[pair.clone()]
        .par_iter_mut()
        .zip(kept.par_iter())
        .for_each(|(o, &q)| *o = p.decided[q]);
    let decided = UInt8Array::from(dec);
    let slots = p.row_keys.slots;
    let tw4 = 4 * slots.max(1);
    let mut tags = vec![0u8; rows * tw4];
    tags[tw4..first_pair * tw4]
        .par_chunks_mut(tw4)
        .zip(rows_of_fps.par_iter())
        .for_each(|(out, &i)| {
            for r in 0..slots {
                out[4 * r..4 * r + 4]
                    .copy_from_slice(&p.row_keys.tags[i * slots + r].to_le_bytes());
            }
        });
    let mut levels = vec![0u8; rows * w];
    levels[first_pair * w..(first_pair + kept.len()) * w]
        .par_chunks_mut(w)
        .zip(kept.par_iter())
        .for_each(|(out, &q)| {
            out[..p.width].copy_from_slice(&p.levels[q * p.width..(q + 1) * p.width])
        });
    let mut tf = vec![0u8; rows * 4 * tw];
    tf[first_pair * 4 * tw..(first_pair + kept.len()) * 4 * tw]
        .par_chunks_mut(4 * tw)
        .zip(kept.par_iter())
        .for_each(|(out, &q)| {
            for s in 0..p.tf_width {
                out[4 * s..4 * s + 4].copy_from_slice(&p.tf[q * p.tf_width + s].to_le_bytes());
            }
        });
    let cols: Vec<ArrayRef> = vec![
        Arc::new(kind),
        Arc::new(key),
        Arc::new(left),
        Arc::new(right),
        Arc::new(rules),
        Arc::new(FixedSizeBinaryArray::try_new(
            w as i32,
            levels.into(),
            None,
        )?),
        Arc::new(FixedSizeBinaryArray::try_new(
            (4 * tw) as i32,
            tf.into(),
            None,
        )?),
        Arc::new(decided),
        Arc::new(FixedSizeBinaryArray::try_new(
            tw4 as i32,
            tags.into(),
            None,
        )?),
    ];
    Ok(RecordBatch::try_new(
        schema(p.width, p.tf_width, slots),
        cols,
    )?)
}

/// A state with no records and no pairs (exact-ID linking keeps nothing to reuse).
pub fn empty(digest: u64) -> Result<RecordBatch, MatchError> {
    build(StateParts {
        digest,
        fingerprints: &[],
        pairs: &[],
        masks: &[],
        levels: &[],
        width: 0,
        tf: &[],
        tf_width: 0,
        decided: &[],
        capped: &[],
        row_keys: &aidlink_block::incremental::RowKeys::default(),
    })
}

/// A previous period's state, read back.
pub struct Previous {
    /// Fingerprints of its records, ascending.
    pub fingerprints: Vec<u64>,
    /// Its pairs as record numbers.
    pub pairs: Vec<(u32, u32)>,
    /// Rule mask per pair.
    pub masks: Vec<u32>,
    /// Level codes, `width` per pair.
    pub levels: Vec<u8>,
    /// Term frequencies, `tf_width` per pair.
    pub tf: Vec<f32>,
    /// Deterministic rule code per pair.
    pub decided: Vec<u8>,
    /// Capped block keys per rule (sorted).
    pub capped: Vec<Vec<u64>>,
    /// Key tags per record.
    pub row_keys: aidlink_block::incremental::RowKeys,
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("no column `{name}`"))?
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| {
            format!(
                "column `{name}` has type {}",
                batch
                    .schema()
                    .field_with_name(name)
                    .map(|f| f.data_type().to_string())
                    .unwrap_or_default()
            )
        })
}

impl Previous {
    /// Reads a state made under `digest` for `width` comparisons,
    /// `tf_width` term-frequency comparisons and `rules` blocking rules;
    /// the error says why it cannot be used.
    pub fn read(
        batch: &RecordBatch,
        digest: u64,
        width: usize,
        tf_width: usize,
        rules: usize,
    ) -> Result<Previous, String> {
        let kind = column::<UInt8Array>(batch, "kind")?;
        let key = column::<UInt64Array>(batch, "key")?;
        let left = column::<UInt32Array>(batch, "left")?;
        let right = column::<UInt32Array>(batch, "right")?;
        let mask = column::<UInt32Array>(batch, "rules")?;
        let levels = column::<FixedSizeBinaryArray>(batch, "levels")?;
        let tf = column::<FixedSizeBinaryArray>(batch, "tf")?;
        let decided = column::<UInt8Array>(batch, "decided")?;
        let tags = column::<FixedSizeBinaryArray>(batch, "tags")?;
        if tags.value_length() as usize != 4 * rules.max(1) {
            return Err("made for other blocking rules".into());
        }
        let nulls: usize = batch.columns().iter().map(|c| c.null_count()).sum();
        if nulls > 0 {
            return Err(format!("{nulls} null values"));
        }
        if batch.num_rows() == 0 || kind.value(0) != HEADER {
            return Err("no header row".into());
        }
        if left.value(0) != STATE_FORMAT {
            return Err(format!(
                "state format {} but this aidlink reads format {STATE_FORMAT}",
                left.value(0)
            ));
        }
        if key.value(0) != digest {
            return Err("made under another model or other matching settings".into());
        }
        let (w, tw) = (width.max(1), tf_width.max(1));
        if right.value(0) as usize != width
            || mask.value(0) as usize != rules
            || levels.value_length() as usize != w
            || tf.value_length() as usize != 4 * tw
        {
            return Err("made for other comparisons or blocking rules".into());
        }
        let mut out = Previous {
            fingerprints: Vec::new(),
            pairs: Vec::new(),
            masks: Vec::new(),
            levels: Vec::new(),
            tf: Vec::new(),
            decided: Vec::new(),
            capped: vec![Vec::new(); rules],
            row_keys: aidlink_block::incremental::RowKeys {
                slots: rules,
                ..Default::default()
            },
        };
        let tag_data = tags.value_data();
        let tw4 = 4 * rules.max(1);
        let (lv, tv) = (levels.value_data(), tf.value_data());
        for row in 1..batch.num_rows() {
            match kind.value(row) {
                RECORD => {
                    let f = key.value(row);
                    if out.fingerprints.last().is_some_and(|&l| l >= f) {
                        return Err(format!("record fingerprints not ascending at row {row}"));
                    }
                    out.fingerprints.push(f);
                    let rk = &mut out.row_keys;
                    rk.any.push(mask.value(row));
                    rk.multi.push(right.value(row));
                    rk.failing.push(decided.value(row) != 0);
                    for r in 0..rules {
                        let at = row * tw4 + 4 * r;
                        let b = [
                            tag_data[at],
                            tag_data[at + 1],
                            tag_data[at + 2],
                            tag_data[at + 3],
                        ];
                        rk.tags.push(u32::from_le_bytes(b));
                    }
                }
                PAIR => {
                    out.pairs.push((left.value(row), right.value(row)));
                    out.masks.push(mask.value(row));
                    out.levels.extend_from_slice(&lv[row * w..row * w + width]);
                    for s in 0..tf_width {
                        let at = row * 4 * tw + 4 * s;
                        let b = [tv[at], tv[at + 1], tv[at + 2], tv[at + 3]];
                        out.tf.push(f32::from_le_bytes(b));
                    }
                    let d = decided.value(row);
                    if rule_of(d).is_none() && d != 0 {
                        return Err(format!("unknown deterministic rule {d} at row {row}"));
                    }
                    out.decided.push(d);
                }
                CAPPED => {
                    let r = left.value(row) as usize;
                    let Some(keys) = out.capped.get_mut(r) else {
                        return Err(format!("capped block of rule {r} at row {row}"));
                    };
                    keys.push(key.value(row));
                }
                k => return Err(format!("unknown kind {k} at row {row}")),
            }
        }
        let records = out.fingerprints.len() as u32;
        if let Some(q) = out
            .pairs
            .iter()
            .position(|&(a, b)| a >= records || b >= records || a == b)
        {
            return Err(format!("pair {q} names a record the state does not have"));
        }
        for keys in &mut out.capped {
            keys.sort_unstable();
            keys.dedup();
        }
        Ok(out)
    }
}

/// Code of a deterministic rule in the state.
pub fn rule_code(rule: Option<crate::prob::Rule>) -> u8 {
    use crate::prob::Rule;
    match rule {
        None => 0,
        Some(Rule::ForceSameIdAndName) => 1,
        Some(Rule::ForbidDifferentValidIds) => 2,
        Some(Rule::ForbidSameIdOtherPerson) => 3,
    }
}

/// The deterministic rule of a state code (an unknown code reads as none;
/// [`Previous::read`] callers check codes first).
pub fn rule_of(code: u8) -> Option<crate::prob::Rule> {
    use crate::prob::Rule;
    match code {
        1 => Some(Rule::ForceSameIdAndName),
        2 => Some(Rule::ForbidDifferentValidIds),
        3 => Some(Rule::ForbidSameIdOtherPerson),
        _ => None,
    }
}
