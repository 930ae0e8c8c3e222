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
    let mut entries: Vec<(u64, u32)> = (0..rows.div_ceil(CHUNK))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut out = Vec::new();
            let mut keys = Vec::new();
            for i in c * CHUNK..((c + 1) * CHUNK).min(rows) {
                keys.clear();
                cols.keys(&rule.parts, i, &mut keys);
                keys.sort_unstable();
                keys.dedup();
                out.extend(keys.iter().map(|&k| (k, i as u32)));
            }
            out.into_iter()
        })
        .collect();
    entries.par_sort_unstable();
    for &(k, i) in &entries {
        row_keys.note(i as usize, r, k);
    }
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
        let b = Self::slot(c, self.shift);
        self.bits[b / 64] & (1 << (b % 64)) != 0 && self.sorted.binary_search(&c).is_ok()
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
) -> Vec<u64> {
    // Every pair of this rule has an ID whose check fails (two check-valid
    // IDs are never one typing error apart), so only the rows whose ID
    // fails or is a neighbour of one that fails take part: a few thousand
    // at a million students, found by two passes without sorting every ID.
    let failing: Vec<(u64, u32)> = row_codes(cols, rows, |d, i, out| {
        if !id_code::check_ok(d) {
            out.push((id_code::code(d), i));
        }
    });
    for &(_, i) in &failing {
        failing_rows[i as usize] = true;
    }
    let mut failed: Vec<u64> = failing.iter().map(|x| x.0).collect();
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
    let mut by_id: Vec<(u64, u32)> = row_codes(cols, rows, |d, i, out| {
        let c = id_code::code(d);
        if wanted.contains(c) {
            out.push((c, i));
        }
    });
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
    // neighbours (about 190 codes), and one sorted merge with the distinct
    // IDs finds the ones that exist.
    let mut neighbours: Vec<(u64, u32)> = distinct
        .par_iter()
        .enumerate()
        .filter(|&(_, &c)| !id_code::check_ok(&id_code::decode(c)))
        .flat_map_iter(|(d, &c)| {
            id_code::neighbours(c)
                .into_iter()
                .map(move |n| (n, d as u32))
        })
        .collect();
    neighbours.par_sort_unstable();
    let mut id_pairs = Vec::new();
    let mut k = 0;
    for &(code, from) in &neighbours {
        while k < distinct.len() && distinct[k] < code {
            k += 1;
        }
        if k < distinct.len() && distinct[k] == code {
            let (a, b) = (from.min(k as u32), from.max(k as u32));
            id_pairs.push((u64::from(a) << 32) | u64::from(b));
        }
    }
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

/// Generates the candidate pairs of `rows` records under `rules`; blocks
/// with more than `cap` records are skipped.
pub fn candidates(
    cols: &KeyColumns<'_>,
    rows: usize,
    rules: &[BlockingRule],
    cap: usize,
) -> Candidates {
    let mut per_rule = Vec::with_capacity(rules.len());
    let mut all: Vec<(u64, u32)> = Vec::new();
    let mut row_keys = crate::incremental::RowKeys::new(rows, rules.len());
    for (r, rule) in rules.iter().enumerate() {
        let mut stats = RuleStats {
            name: rule.name.clone(),
            ..RuleStats::default()
        };
        let pairs = if rule.is_id_one_edit() {
            one_edit_pairs(cols, rows, &mut row_keys.failing)
        } else {
            key_rule_pairs(cols, rule, rows, cap, &mut stats, (&mut row_keys, r))
        };
        stats.pairs = pairs.len() as u64;
        let bit = 1u32 << r.min(31);
        all.extend(pairs.into_iter().map(|p| (p, bit)));
        per_rule.push(stats);
    }
    all.par_sort_unstable();
    let mut pairs = Vec::with_capacity(all.len());
    let mut masks: Vec<u32> = Vec::with_capacity(all.len());
    let mut last = None;
    for (p, bit) in all {
        if last == Some(p) {
            if let Some(m) = masks.last_mut() {
                *m |= bit;
            }
        } else {
            pairs.push(((p >> 32) as u32, (p & 0xffff_ffff) as u32));
            masks.push(bit);
            last = Some(p);
        }
    }
    Candidates {
        pairs,
        rules: masks,
        per_rule,
        row_keys,
    }
}
