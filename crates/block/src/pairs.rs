//! Candidate pair generation: sort-based blocks, in parallel, deduplicated
//! across rules, with giant blocks capped.
//!
//! For a key rule every row gets its keys; `(key, row)` entries are sorted
//! and every run of equal keys is a block whose rows are paired. A block
//! larger than the cap is skipped and counted (a junk value such as a shared
//! placeholder ID would otherwise make the rule quadratic). Output order is
//! the sorted order of `(left, right)`, whatever the thread count.

use crate::id_code;
use crate::rules::{BlockingRule, KeyColumns};
use rayon::prelude::*;

/// Rows per parallel chunk when computing keys.
const CHUNK: usize = 16_384;

/// What one rule contributed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// The rule's name.
    pub name: String,
    /// Pairs the rule generated (before deduplication with other rules).
    pub pairs: u64,
    /// Blocks skipped because they exceeded the cap.
    pub blocks_capped: u64,
    /// Rows in the skipped blocks.
    pub rows_in_capped_blocks: u64,
    /// Keys of the skipped blocks, sorted (what an incremental run needs to
    /// know which blocks it must look at again).
    pub capped_keys: Vec<u64>,
}

/// The candidate pairs of a table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Row index pairs `(left, right)` with `left < right`, sorted, unique.
    pub pairs: Vec<(u32, u32)>,
    /// For each pair, a bit mask of the rules (by index) that proposed it.
    pub rules: Vec<u32>,
    /// One entry per rule, in rule order.
    pub per_rule: Vec<RuleStats>,
    /// Each row's key tags, for the next period's incremental run.
    pub row_keys: crate::incremental::RowKeys,
}

/// A row pair packed as `(smaller << 32) | larger`: its numeric order is the
/// pairs' order.
pub fn pack(a: u32, b: u32) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

/// Pairs the members of each run of equal keys in `entries` (sorted by key
/// then member), skipping runs longer than `cap`.
pub(crate) fn pairs_of_blocks(
    entries: &[(u64, u32)],
    cap: usize,
    stats: &mut RuleStats,
) -> Vec<u64> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let mut j = i + 1;
        while j < entries.len() && entries[j].0 == entries[i].0 {
            j += 1;
        }
        if j - i > 1 {
            if j - i > cap {
                stats.blocks_capped += 1;
                stats.rows_in_capped_blocks += (j - i) as u64;
                stats.capped_keys.push(entries[i].0);
            } else {
                starts.push((i, j));
            }
        }
        i = j;
    }
    starts
        .par_iter()
        .flat_map_iter(|&(s, e)| {
            let block = &entries[s..e];
            (0..block.len()).flat_map(move |x| {
                ((x + 1)..block.len()).map(move |y| pack(block[x].1, block[y].1))
            })
        })
        .collect()
}

pub(crate) fn sort_dedup(mut v: Vec<u64>) -> Vec<u64> {
    v.par_sort_unstable();
    v.dedup();
    v
}

fn key_rule_pairs(
    cols: &KeyColumns<'_>,
    rule: &BlockingRule,
    rows: usize,
    cap: usize,
    stats: &mut RuleStats,
    (row_keys, r): (&mut crate::incremental::RowKeys, usize),
) -> Vec<u64> {
    // Each row's keys are noted in its row keys while they are at hand, in
    // parallel over chunks of rows (noting them from the sorted entries
    // would be a serial pass jumping across the whole table).
    let slots = row_keys.slots;
    let mut entries: Vec<(u64, u32)> = row_keys
        .any
        .par_chunks_mut(CHUNK)
        .zip(row_keys.multi.par_chunks_mut(CHUNK))
        .zip(row_keys.tags.par_chunks_mut(CHUNK * slots))
        .enumerate()
        .flat_map_iter(|(c, ((any, multi), tags))| {
            let mut out = Vec::new();
            let mut keys = Vec::new();
            for (k, i) in (c * CHUNK..((c + 1) * CHUNK).min(rows)).enumerate() {
                keys.clear();
                cols.keys(&rule.parts, i, &mut keys);
                keys.sort_unstable();
                keys.dedup();
                crate::incremental::note_sorted(
                    (
                        &mut any[k],
                        &mut multi[k],
                        &mut tags[k * slots..(k + 1) * slots],
                    ),
                    r,
                    &keys,
                );
                out.extend(keys.iter().map(|&k| (k, i as u32)));
            }
            out.into_iter()
        })
        .collect();
    entries.par_sort_unstable();
    sort_dedup(pairs_of_blocks(&entries, cap, stats))
}

/// A membership test for a sorted set of codes: a bit filter first (most
/// rows of a table are not in the set, and a bit test stays in cache), then
/// a binary search to confirm.
pub(crate) struct CodeSet {
    sorted: Vec<u64>,
    bits: Vec<u64>,
    shift: u32,
}

impl CodeSet {
    /// The set of `sorted` (sorted, deduplicated).
    pub(crate) fn new(sorted: Vec<u64>) -> Self {
        // About 32 bits per member: a non-member passes the bit test (and
        // costs a binary search) about once in 32 tests.
        let want = (sorted.len() * 32).max(1 << 16).next_power_of_two();
        let shift = 64 - want.trailing_zeros();
        let mut bits = vec![0u64; want / 64];
        for &c in &sorted {
            let b = Self::slot(c, shift);
            bits[b / 64] |= 1 << (b % 64);
        }
        CodeSet {
            sorted,
            bits,
            shift,
        }
    }

    fn slot(c: u64, shift: u32) -> usize {
        (c.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize
    }

    /// Whether `c` is in the set.
    pub(crate) fn contains(&self, c: u64) -> bool {
        self.position(c).is_some()
    }

    /// The rank of `c` among the members, when it is one.
    pub(crate) fn position(&self, c: u64) -> Option<usize> {
        let b = Self::slot(c, self.shift);
        if self.bits[b / 64] & (1 << (b % 64)) == 0 {
            return None;
        }
        self.sorted.binary_search(&c).ok()
    }

    /// Members.
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The member of rank `k` (below [`CodeSet::len`]).
    pub(crate) fn get(&self, k: usize) -> u64 {
        self.sorted[k]
    }
}

/// The IDs of every row as digits, through `f(digits, row)`, in parallel chunks.
pub(crate) fn row_codes<T: Send>(
    cols: &KeyColumns<'_>,
    rows: usize,
    f: impl Fn(&[u8; id_code::ID_LEN], u32, &mut Vec<T>) + Sync,
) -> Vec<T> {
    (0..rows.div_ceil(CHUNK))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut out = Vec::new();
            for i in c * CHUNK..((c + 1) * CHUNK).min(rows) {
                let (ids, n) = cols.ids(i);
                for v in ids[..n].iter().flatten() {
                    if let Some(d) = id_code::digits(v) {
                        f(&d, i as u32, &mut out);
                    }
                }
            }
            out.into_iter()
        })
        .collect()
}

pub(crate) fn one_edit_pairs(
    cols: &KeyColumns<'_>,
    rows: usize,
    failing_rows: &mut [bool],
    ids: Option<&id_code::RowIdCodes>,
) -> Vec<u64> {
    // Every pair of this rule has an ID whose check fails (two check-valid
    // IDs are never one typing error apart), so only the rows whose ID
    // fails or is a neighbour of one that fails take part: a few thousand
    // at a million students. Every row's IDs are read and coded once, in
    // row order; the later passes filter those codes, not the texts.
    let from_ids = |ids: &id_code::RowIdCodes| -> Vec<(u64, u32, bool)> {
        ids.packed
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, slots)| {
                slots
                    .iter()
                    .filter(|&&p| p != id_code::NO_ID)
                    .map(move |&p| {
                        let d = id_code::unpack(p);
                        (id_code::code(&d), i as u32, id_code::check_ok(&d))
                    })
            })
            .collect()
    };
    let codes: Vec<(u64, u32, bool)> = match ids {
        Some(ids) if ids.packed.len() == rows => from_ids(ids),
        _ => row_codes(cols, rows, |d, i, out| {
            out.push((id_code::code(d), i, id_code::check_ok(d)));
        }),
    };
    let mut failed: Vec<u64> = Vec::new();
    for &(c, i, ok) in &codes {
        if !ok {
            failing_rows[i as usize] = true;
            failed.push(c);
        }
    }
    failed.par_sort_unstable();
    failed.dedup();
    let mut wanted: Vec<u64> = failed
        .par_iter()
        .flat_map_iter(|&c| id_code::neighbours(c).into_iter().chain(std::iter::once(c)))
        .collect();
    wanted.par_sort_unstable();
    wanted.dedup();
    let wanted = CodeSet::new(wanted);
    // Distinct IDs first: neighbours are listed once per ID, not per record.
    let mut by_id: Vec<(u64, u32)> = codes
        .par_iter()
        .filter(|x| wanted.contains(x.0))
        .map(|x| (x.0, x.1))
        .collect();
    drop(codes);
    drop(wanted);
    by_id.par_sort_unstable();
    by_id.dedup();
    let mut distinct: Vec<u64> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    for (k, &(code, _)) in by_id.iter().enumerate() {
        if distinct.last() != Some(&code) {
            distinct.push(code);
            offsets.push(k);
        }
    }
    offsets.push(by_id.len());
    // Two check-valid IDs are never one substitution or one adjacent
    // transposition apart (GB 11643's weights see to that), so every such
    // pair has an ID whose check fails. Each of those few IDs lists its
    // neighbours (about 190 codes), and each neighbour is looked up among
    // the distinct IDs (a set small enough to stay in cache).
    let present = CodeSet::new(distinct);
    let id_pairs: Vec<u64> = (0..present.len())
        .into_par_iter()
        .filter(|&d| !id_code::check_ok(&id_code::decode(present.get(d))))
        .flat_map_iter(|d| {
            let present = &present;
            id_code::neighbours(present.get(d))
                .into_iter()
                .filter_map(move |n| present.position(n))
                .map(move |k| {
                    let (a, b) = ((d as u32).min(k as u32), (d as u32).max(k as u32));
                    (u64::from(a) << 32) | u64::from(b)
                })
        })
        .collect();
    let id_pairs = sort_dedup(id_pairs);
    let out: Vec<u64> = id_pairs
        .par_iter()
        .flat_map_iter(|&p| {
            let (a, b) = ((p >> 32) as usize, (p & 0xffff_ffff) as usize);
            let left = &by_id[offsets[a]..offsets[a + 1]];
            let right = &by_id[offsets[b]..offsets[b + 1]];
            left.iter().flat_map(move |&(_, x)| {
                right
                    .iter()
                    .filter(move |&&(_, y)| x != y)
                    .map(move |&(_, y)| pack(x, y))
            })
        })
        .collect();
    sort_dedup(out)
}

/// Distinct pairs and, for each, the mask of the rules that proposed it.
type Merged = (Vec<(u32, u32)>, Vec<u32>);

/// Parts the rules' pair lists are cut into to be merged in parallel.
const MERGE_PARTS: usize = 64;

/// Merges the rules' pair lists (each sorted and unique, list `r` from rule
/// `r`) into the sorted distinct pairs with the mask of the rules that
/// proposed each. The pair range is cut at quantiles of the longest list
/// and each part is merged on its own: the same result as sorting all
/// lists together, without sorting what is already sorted.
fn merge_rule_pairs(lists: &[Vec<u64>]) -> Merged {
    let longest = lists
        .iter()
        .map(Vec::as_slice)
        .max_by_key(|l| l.len())
        .unwrap_or(&[]);
    let mut bounds: Vec<u64> = (1..MERGE_PARTS)
        .filter_map(|k| longest.get(k * longest.len() / MERGE_PARTS).copied())
        .collect();
    bounds.dedup();
    let parts: Vec<Merged> = (0..=bounds.len())
        .into_par_iter()
        .map(|k| {
            let lo = if k == 0 { None } else { Some(bounds[k - 1]) };
            let hi = bounds.get(k).copied();
            let slices: Vec<&[u64]> = lists
                .iter()
                .map(|l| {
                    let s = lo.map_or(0, |lo| l.partition_point(|&p| p < lo));
                    let e = hi.map_or(l.len(), |hi| l.partition_point(|&p| p < hi));
                    &l[s..e]
                })
                .collect();
            merge_sorted(&slices)
        })
        .collect();
    let total = parts.iter().map(|p| p.0.len()).sum();
    let mut pairs = Vec::with_capacity(total);
    let mut masks = Vec::with_capacity(total);
    for (p, m) in parts {
        pairs.extend_from_slice(&p);
        masks.extend_from_slice(&m);
    }
    (pairs, masks)
}

/// Merges sorted unique lists (list `r` from rule `r`) into distinct pairs
/// and rule masks.
fn merge_sorted(slices: &[&[u64]]) -> Merged {
    let mut at = vec![0usize; slices.len()];
    let mut pairs = Vec::new();
    let mut masks = Vec::new();
    loop {
        let mut next: Option<u64> = None;
        for (s, &k) in slices.iter().zip(&at) {
            if let Some(&p) = s.get(k)
                && next.is_none_or(|n| p < n)
            {
                next = Some(p);
            }
        }
        let Some(p) = next else {
            break;
        };
        let mut mask = 0u32;
        for (r, (s, k)) in slices.iter().zip(at.iter_mut()).enumerate() {
            if s.get(*k) == Some(&p) {
                mask |= 1u32 << r.min(31);
                *k += 1;
            }
        }
        pairs.push(((p >> 32) as u32, (p & 0xffff_ffff) as u32));
        masks.push(mask);
    }
    (pairs, masks)
}

/// Generates the candidate pairs of `rows` records under `rules`; blocks
/// with more than `cap` records are skipped.
pub fn candidates(
    cols: &KeyColumns<'_>,
    rows: usize,
    rules: &[BlockingRule],
    cap: usize,
) -> Candidates {
    candidates_with_ids(cols, rows, rules, cap, None)
}

/// [`candidates`] with the rows' IDs already read ([`id_code::RowIdCodes`]
/// of the same rows), which the ID-typo rule then does not read again.
pub fn candidates_with_ids(
    cols: &KeyColumns<'_>,
    rows: usize,
    rules: &[BlockingRule],
    cap: usize,
    ids: Option<&id_code::RowIdCodes>,
) -> Candidates {
    let mut per_rule = Vec::with_capacity(rules.len());
    let mut lists: Vec<Vec<u64>> = Vec::with_capacity(rules.len());
    let mut row_keys = crate::incremental::RowKeys::new(rows, rules.len());
    for (r, rule) in rules.iter().enumerate() {
        let mut stats = RuleStats {
            name: rule.name.clone(),
            ..RuleStats::default()
        };
        let pairs = if rule.is_id_one_edit() {
            one_edit_pairs(cols, rows, &mut row_keys.failing, ids)
        } else {
            key_rule_pairs(cols, rule, rows, cap, &mut stats, (&mut row_keys, r))
        };
        stats.pairs = pairs.len() as u64;
        lists.push(pairs);
        per_rule.push(stats);
    }
    let (pairs, masks) = merge_rule_pairs(&lists);
    Candidates {
        pairs,
        rules: masks,
        per_rule,
        row_keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_rule_lists_gives_what_sorting_them_together_gives() {
        // Three overlapping lists long enough to be cut into many parts.
        let mut state = 1u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let lists: Vec<Vec<u64>> = [5000, 300, 2000]
            .iter()
            .map(|&n| {
                let v: Vec<u64> = (0..n)
                    .map(|_| pack(next() as u32 % 500, next() as u32 % 500))
                    .collect();
                sort_dedup(v)
            })
            .collect();
        let mut all: Vec<(u64, u32)> = lists
            .iter()
            .enumerate()
            .flat_map(|(r, l)| l.iter().map(move |&p| (p, 1u32 << r)))
            .collect();
        all.sort_unstable();
        let (mut pairs, mut masks) = (Vec::new(), Vec::<u32>::new());
        for (p, bit) in all {
            let pair = ((p >> 32) as u32, (p & 0xffff_ffff) as u32);
            if pairs.last() == Some(&pair) {
                *masks.last_mut().unwrap() |= bit;
            } else {
                pairs.push(pair);
                masks.push(bit);
            }
        }
        assert_eq!(merge_rule_pairs(&lists), (pairs, masks));
        assert_eq!(merge_rule_pairs(&[]), (Vec::new(), Vec::new()));
    }

    #[test]
    fn noting_a_rows_sorted_keys_is_noting_them_one_by_one() {
        let keys = [3u64 << 32, 5 << 32, 9 << 32];
        for (r, n) in [(0usize, 1usize), (1, 3), (2, 0)] {
            let mut one = crate::incremental::RowKeys::new(1, 3);
            for &k in &keys[..n] {
                one.note(0, r, k);
            }
            let mut all = crate::incremental::RowKeys::new(1, 3);
            crate::incremental::note_sorted(
                (&mut all.any[0], &mut all.multi[0], &mut all.tags[..]),
                r,
                &keys[..n],
            );
            assert_eq!(one, all);
        }
    }
}
