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
//! with a record in an affected block.

use crate::pairs::{CodeSet, RuleStats, pairs_of_blocks, sort_dedup};
use crate::rules::{BlockingRule, KeyColumns, KeyPart};
use rayon::prelude::*;

/// Rows per parallel chunk when computing keys.
const CHUNK: usize = 16_384;

/// What one rule gives an incremental run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleDelta {
    /// Packed row pairs ([`crate::pack`]), sorted and unique: for a key rule,
    /// the pairs of its affected blocks that are not capped now; for the
    /// ID-typo rule (`whole`), every pair of the rule.
    pub pairs: Vec<u64>,
    /// Whether `pairs` is the rule's whole pair list.
    pub whole: bool,
    /// Keys of the blocks capped now (sorted). Blocks not affected are never
    /// capped, so this is the rule's whole capped list.
    pub capped_keys: Vec<u64>,
    /// Per row, whether it holds a key of an affected block (empty for `whole`).
    pub touched: Vec<bool>,
    /// Blocks skipped by the cap now, and rows in them.
    pub stats: RuleStats,
}

/// The affected blocks of every rule: `dirty[i]` says row `i` is new or
/// changed, `capped_before[r]` lists the keys rule `r` capped last time.
pub fn affected_blocks(
    cols: &KeyColumns<'_>,
    rows: usize,
    rules: &[BlockingRule],
    cap: usize,
    dirty: &[bool],
    capped_before: &[Vec<u64>],
) -> Vec<RuleDelta> {
    rules
        .iter()
        .enumerate()
        .map(|(r, rule)| {
            let mut stats = RuleStats {
                name: rule.name.clone(),
                ..RuleStats::default()
            };
            if rule.is_id_one_edit() {
                return RuleDelta {
                    pairs: crate::pairs::one_edit_pairs(cols, rows),
                    whole: true,
                    stats,
                    ..RuleDelta::default()
                };
            }
            let mut affected: Vec<u64> = (0..rows.div_ceil(CHUNK))
                .into_par_iter()
                .flat_map_iter(|c| {
                    let mut out = Vec::new();
                    let end = ((c + 1) * CHUNK).min(rows);
                    for (i, _) in dirty[c * CHUNK..end]
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| **d)
                    {
                        cols.keys(&rule.parts, c * CHUNK + i, &mut out);
                    }
                    out.into_iter()
                })
                .collect();
            affected.extend(capped_before.get(r).into_iter().flatten());
            affected.par_sort_unstable();
            affected.dedup();
            let set = CodeSet::new(affected);
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
            let mut touched = vec![false; rows];
            for &(_, i) in &entries {
                touched[i as usize] = true;
            }
            let pairs = sort_dedup(pairs_of_blocks(&entries, cap, &mut stats));
            RuleDelta {
                pairs,
                whole: false,
                capped_keys: std::mem::take(&mut stats.capped_keys),
                touched,
                stats,
            }
        })
        .collect()
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
