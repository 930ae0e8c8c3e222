//! Blocking again after a few records changed, without regenerating the
//! pairs of blocks nothing touched.
//!
//! A block (a key of a rule) is *affected* when a changed or new record
//! holds its key, or when it was capped by the block-size limit last time
//! (it may have shrunk below the cap). Every other block has exactly last
//! time's members, all unchanged, and was not capped, so its pairs are last
//! time's pairs. [`affected_blocks`] finds, per key rule, the members of the
//! affected blocks only (one pass computing every row's keys and keeping
//! those of affected blocks; no sort of the whole table) and pairs them.
//! The ID-typo rule has no cap and is regenerated whole, which is cheap:
//! only rows whose ID fails its check, or neighbours one, take part.
//!
//! An unchanged pair keeps a rule unless a block of that rule it shares
//! became capped; [`shares_uncapped_key`] decides that for the few pairs
//! with a record in a capped block. Unchanged records' keys are not
//! computed at all unless the high 32 bits of their key (kept in the state,
//! [`RowKeys`]) match an affected block's.

use crate::id_code;
use crate::pairs::{CodeSet, RuleStats, pairs_of_blocks, sort_dedup};
use crate::rules::{BlockingRule, KeyColumns, KeyPart};
use rayon::prelude::*;

/// Rows per parallel chunk when computing keys.
const CHUNK: usize = 16_384;

/// What each row's blocking keys look like, kept in the match state so that
/// the next period finds the unchanged members of an affected block without
/// computing every row's keys: per rule, whether the row has keys, whether
/// it has more than one, and the high 32 bits of its key when it has one;
/// and whether one of its IDs fails its check (for the ID-typo rule).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowKeys {
    /// Rules (slots per row).
    pub slots: usize,
    /// Per row and rule, the high 32 bits of the row's single key.
    pub tags: Vec<u32>,
    /// Per row, a bit per rule under which it has keys.
    pub any: Vec<u32>,
    /// Per row, a bit per rule under which it has more than one key.
    pub multi: Vec<u32>,
    /// Per row, whether one of its IDs fails its check.
    pub failing: Vec<bool>,
}

impl RowKeys {
    /// No keys yet for `rows` rows and `rules` rules.
    pub fn new(rows: usize, rules: usize) -> Self {
        RowKeys {
            slots: rules,
            tags: vec![0; rows * rules],
            any: vec![0; rows],
            multi: vec![0; rows],
            failing: vec![false; rows],
        }
    }

    /// Notes that row `i` has key `key` under rule `r` (each distinct key once).
    pub fn note(&mut self, i: usize, r: usize, key: u64) {
        let bit = 1u32 << r.min(31);
        if self.any[i] & bit == 0 {
            self.any[i] |= bit;
            self.tags[i * self.slots + r] = tag(key);
        } else {
            self.multi[i] |= bit;
        }
    }

    /// Computes row `i`'s entry afresh (for a new or changed row).
    pub fn compute(&mut self, cols: &KeyColumns<'_>, rules: &[BlockingRule], i: usize) {
        self.any[i] = 0;
        self.multi[i] = 0;
        let mut keys = Vec::new();
        for (r, rule) in rules.iter().enumerate() {
            self.tags[i * self.slots + r] = 0;
            if rule.is_id_one_edit() {
                let (ids, n) = cols.ids(i);
                self.failing[i] = ids[..n]
                    .iter()
                    .flatten()
                    .filter_map(|v| id_code::digits(v))
                    .any(|d| !id_code::check_ok(&d));
                continue;
            }
            keys.clear();
            cols.keys(&rule.parts, i, &mut keys);
            keys.sort_unstable();
            keys.dedup();
            for &k in &keys {
                self.note(i, r, k);
            }
        }
    }

    /// Whether row `i` may hold a key of `set` under rule `r` (its single
    /// key's tag is in `tags`, or it has several keys).
    fn may_hold(&self, i: usize, r: usize, tags: &CodeSet) -> bool {
        let bit = 1u32 << r.min(31);
        self.multi[i] & bit != 0
            || (self.any[i] & bit != 0 && tags.contains(u64::from(self.tags[i * self.slots + r])))
    }
}

/// Notes row keys `keys` (sorted, distinct) of one row under rule `r` in
/// that row's `any`, `multi` and per-rule `tags` entries, as
/// [`RowKeys::note`] does key after key.
pub(crate) fn note_sorted(
    (any, multi, tags): (&mut u32, &mut u32, &mut [u32]),
    r: usize,
    keys: &[u64],
) {
    let bit = 1u32 << r.min(31);
    for &key in keys {
        if *any & bit == 0 {
            *any |= bit;
            tags[r] = tag(key);
        } else {
            *multi |= bit;
        }
    }
}

/// The tag of a key: its high 32 bits.
fn tag(key: u64) -> u32 {
    (key >> 32) as u32
}

/// What one rule gives an incremental run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleDelta {
    /// Packed row pairs ([`crate::pack`]), sorted and unique: for a key rule,
    /// the pairs of its affected blocks that are not capped now; for the
    /// ID-typo rule, the pairs with a new or changed row.
    pub pairs: Vec<u64>,
    /// Keys of the blocks capped now (sorted). Blocks not affected are never
    /// capped, so this is the rule's whole capped list.
    pub capped_keys: Vec<u64>,
    /// Per row, whether it holds the key of a block capped now; empty when
    /// no block is (always for the ID-typo rule, which has no cap). An
    /// unchanged pair keeps the rule's bit unless one of its rows is in a
    /// capped block: only a block that became capped can take a pair away.
    pub in_capped: Vec<bool>,
    /// Blocks skipped by the cap now, and rows in them.
    pub stats: RuleStats,
}

/// The affected blocks of every rule: `dirty[i]` says row `i` is new or
/// changed, `capped_before[r]` lists the keys rule `r` capped last time,
/// `row_keys` holds every row's key tags (the previous period's for
/// unchanged rows, computed for dirty ones).
pub fn affected_blocks(
    cols: &KeyColumns<'_>,
    rows: usize,
    rules: &[BlockingRule],
    cap: usize,
    dirty: &[bool],
    capped_before: &[Vec<u64>],
    row_keys: &RowKeys,
) -> Vec<RuleDelta> {
    let dirty_rows: Vec<usize> = (0..rows).filter(|&i| dirty[i]).collect();
    rules
        .par_iter()
        .enumerate()
        .map(|(r, rule)| {
            let mut d = RuleDelta {
                stats: RuleStats {
                    name: rule.name.clone(),
                    ..RuleStats::default()
                },
                ..RuleDelta::default()
            };
            if rule.is_id_one_edit() {
                d.pairs = one_edit_delta(cols, rows, rules, &dirty_rows, row_keys);
                return d;
            }
            // The affected keys: those of the dirty rows, and the blocks
            // capped last time.
            let mut affected: Vec<u64> = Vec::new();
            for &i in &dirty_rows {
                cols.keys(&rule.parts, i, &mut affected);
            }
            affected.extend(capped_before.get(r).into_iter().flatten());
            affected.sort_unstable();
            affected.dedup();
            let mut tags: Vec<u64> = affected.iter().map(|&k| u64::from(tag(k))).collect();
            tags.sort_unstable();
            tags.dedup();
            let (set, tags) = (CodeSet::new(affected), CodeSet::new(tags));
            // Only rows whose tag matches (or with several keys) have their
            // keys computed.
            let mut entries: Vec<(u64, u32)> = (0..rows.div_ceil(CHUNK))
                .into_par_iter()
                .flat_map_iter(|c| {
                    let mut out = Vec::new();
                    let mut keys = Vec::new();
                    for i in c * CHUNK..((c + 1) * CHUNK).min(rows) {
                        if !row_keys.may_hold(i, r, &tags) {
                            continue;
                        }
                        keys.clear();
                        cols.keys(&rule.parts, i, &mut keys);
                        keys.sort_unstable();
                        keys.dedup();
                        out.extend(
                            keys.iter()
                                .filter(|&&k| set.contains(k))
                                .map(|&k| (k, i as u32)),
                        );
                    }
                    out.into_iter()
                })
                .collect();
            entries.par_sort_unstable();
            d.pairs = sort_dedup(pairs_of_blocks(&entries, cap, &mut d.stats));
            d.capped_keys = std::mem::take(&mut d.stats.capped_keys);
            if !d.capped_keys.is_empty() {
                let mut in_capped = vec![false; rows];
                for &(k, i) in &entries {
                    if d.capped_keys.binary_search(&k).is_ok() {
                        in_capped[i as usize] = true;
                    }
                }
                d.in_capped = in_capped;
            }
            d
        })
        .collect()
}

/// The pairs of the ID-typo rule with a dirty row. A pair has an ID whose
/// check fails (two valid IDs are never one typing error apart). So a dirty
/// row with a failing ID meets the rows whose ID is one of its neighbours,
/// and a dirty row with a valid ID meets the rows with a failing ID it
/// neighbours: the neighbours of the table's failing IDs (a few thousand)
/// are tested against the dirty rows' valid IDs, which stay in cache.
fn one_edit_delta(
    cols: &KeyColumns<'_>,
    rows: usize,
    rules: &[BlockingRule],
    dirty_rows: &[usize],
    row_keys: &RowKeys,
) -> Vec<u64> {
    let mut dirty_ids: Vec<(u64, u32, bool)> = Vec::new();
    for &i in dirty_rows {
        let (ids, n) = cols.ids(i);
        for v in ids[..n].iter().flatten() {
            if let Some(d) = id_code::digits(v) {
                dirty_ids.push((id_code::code(&d), i as u32, id_code::check_ok(&d)));
            }
        }
    }
    dirty_ids.sort_unstable();
    let mut near: Vec<u64> = dirty_ids
        .iter()
        .filter(|x| !x.2)
        .flat_map(|x| id_code::neighbours(x.0))
        .collect();
    near.sort_unstable();
    near.dedup();
    // Rows that may hold one of those IDs: through the tags of a rule
    // keyed on the IDs alone (its key of an ID is known without the row),
    // or, without such a rule, every row.
    let same_id = rules.iter().position(|r| r.parts == [KeyPart::IdCodes]);
    let near_tags = same_id.map(|_| {
        let mut t: Vec<u64> = near
            .iter()
            .map(|&c| u64::from(tag(crate::rules::id_key(&id_code::text(c)))))
            .collect();
        t.sort_unstable();
        t.dedup();
        CodeSet::new(t)
    });
    let near = CodeSet::new(near);
    let valid = CodeSet::new({
        let mut v: Vec<u64> = dirty_ids.iter().filter(|x| x.2).map(|x| x.0).collect();
        v.dedup();
        v
    });
    // Rows whose ID neighbours a dirty failing ID, and rows whose ID fails.
    let found: Vec<(bool, u64, u32)> = (0..rows.div_ceil(CHUNK))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut out = Vec::new();
            for i in c * CHUNK..((c + 1) * CHUNK).min(rows) {
                let maybe_near = match (same_id, &near_tags) {
                    (Some(r), Some(t)) => row_keys.may_hold(i, r, t),
                    _ => true,
                };
                if !maybe_near && !row_keys.failing[i] {
                    continue;
                }
                let (ids, n) = cols.ids(i);
                for v in ids[..n].iter().flatten() {
                    if let Some(d) = id_code::digits(v) {
                        let code = id_code::code(&d);
                        if near.contains(code) {
                            out.push((true, code, i as u32));
                        }
                        if !id_code::check_ok(&d) {
                            out.push((false, code, i as u32));
                        }
                    }
                }
            }
            out.into_iter()
        })
        .collect();
    let mut partners: Vec<(u64, u32)> = found.iter().filter(|x| x.0).map(|x| (x.1, x.2)).collect();
    partners.sort_unstable();
    let failing: Vec<(u64, u32)> = found.iter().filter(|x| !x.0).map(|x| (x.1, x.2)).collect();
    let rows_of = |list: &[(u64, u32)], code: u64| -> std::ops::Range<usize> {
        let s = list.partition_point(|x| x.0 < code);
        let e = list.partition_point(|x| x.0 <= code);
        s..e
    };
    let dirty_codes: Vec<(u64, u32)> = dirty_ids.iter().map(|x| (x.0, x.1)).collect();
    let mut out: Vec<u64> = dirty_ids
        .par_iter()
        .filter(|x| !x.2)
        .flat_map_iter(|&(c, x, _)| {
            let mut v = Vec::new();
            for n in id_code::neighbours(c) {
                for &(_, y) in &partners[rows_of(&partners, n)] {
                    if x != y {
                        v.push(crate::pack(x, y));
                    }
                }
            }
            v
        })
        .collect();
    out.extend(
        failing
            .par_iter()
            .flat_map_iter(|&(f, y)| {
                let mut v = Vec::new();
                for n in id_code::neighbours(f) {
                    if valid.contains(n) {
                        for &(_, x) in &dirty_codes[rows_of(&dirty_codes, n)] {
                            if x != y {
                                v.push(crate::pack(x, y));
                            }
                        }
                    }
                }
                v
            })
            .collect::<Vec<u64>>(),
    );
    sort_dedup(out)
}

/// Whether rows `i` and `j` share a key of rule `parts` whose block is not
/// in `capped` (sorted): whether the rule proposes the pair.
pub fn shares_uncapped_key(
    cols: &KeyColumns<'_>,
    parts: &[KeyPart],
    i: usize,
    j: usize,
    capped: &[u64],
) -> bool {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    cols.keys(parts, i, &mut a);
    cols.keys(parts, j, &mut b);
    a.iter()
        .any(|k| b.contains(k) && capped.binary_search(k).is_err())
}
