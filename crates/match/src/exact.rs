//! The baseline: records with the same normalized ID number are one person.

use crate::links::{self, LinkTable};
use crate::{Linkage, MatchError, MatchSettings, MatchStats, Mode, Model};
use aidlink_block::{BlockingRule, KeyColumns, RuleStats};
use aidlink_cluster::Edge;
use arrow_array::RecordBatch;

/// Links `records` by exact equality of `id_number` (unbounded blocks: an ID
/// shared by many rows is still one person in this mode).
pub fn link(records: &RecordBatch, settings: &MatchSettings) -> Result<Linkage, MatchError> {
    let rules = vec![BlockingRule::new("same_id", &["id_number"])];
    let cols = KeyColumns::new(records, &rules)?;
    let n = records.num_rows();
    // Every ID group is fully paired for the links table, but clustering a
    // group needs only a chain, so a shared junk ID cannot blow up memory:
    // groups beyond the block cap are chained instead of fully paired.
    let cand = aidlink_block::candidates(&cols, n, &rules, settings.max_block_size.max(2));
    let mut pairs = cand.pairs;
    let mut masks = cand.rules;
    let mut per_rule: Vec<RuleStats> = cand.per_rule;
    if per_rule.first().is_some_and(|s| s.blocks_capped > 0) {
        let chained = chain_large_groups(records, settings.max_block_size)?;
        pairs.extend(chained);
        pairs.sort_unstable();
        pairs.dedup();
        masks = vec![1; pairs.len()];
        if let Some(s) = per_rule.first_mut() {
            s.pairs = pairs.len() as u64;
        }
    }
    let edges: Vec<Edge> = pairs
        .iter()
        .map(|&(left, right)| Edge {
            left,
            right,
            weight: 1.0,
        })
        .collect();
    let clustering = aidlink_cluster::cluster(n, &edges, &[]);
    let rule_names: Vec<String> = rules.iter().map(|r| r.name.clone()).collect();
    let links = links::build(
        records,
        LinkTable {
            pairs: &pairs,
            rule_masks: &masks,
            rule_names: &rule_names,
            comparisons: Vec::new(),
            match_weight: None,
            probability: vec![1.0; pairs.len()],
            linked: vec![true; pairs.len()],
        },
    )?;
    let stats = MatchStats {
        mode: Mode::ExactId,
        records: n as u64,
        pairs_per_rule: per_rule.iter().map(|s| (s.name.clone(), s.pairs)).collect(),
        blocks_capped: per_rule.iter().map(|s| s.blocks_capped).sum(),
        pairs_scored: pairs.len() as u64,
        pairs_linked: pairs.len() as u64,
        clusters: u64::from(clustering.clusters),
        merges_refused: 0,
        em_iterations: 0,
    };
    Ok(Linkage {
        cluster: clustering.cluster,
        links,
        model: Model::exact(settings),
        stats,
        state: crate::state::empty(crate::prob::state_digest(&Model::exact(settings), settings))?,
        reuse: crate::ReuseStats {
            incremental: false,
            fallback: None,
            records_changed: records.num_rows() as u64,
            records_removed: 0,
            pairs_reused: 0,
            pairs_compared: 0,
        },
        timings: Vec::new(),
    })
}

/// Chains the rows of ID groups larger than `cap`: row k links to row k+1.
fn chain_large_groups(records: &RecordBatch, cap: usize) -> Result<Vec<(u32, u32)>, MatchError> {
    let id = aidlink_block::columns::opt_utf8(records, "id_number")?;
    let mut rows: Vec<(&str, u32)> = (0..records.num_rows())
        .filter_map(|i| aidlink_block::columns::text(id, i).map(|v| (v, i as u32)))
        .collect();
    rows.sort_unstable();
    let mut out = Vec::new();
    let mut s = 0;
    while s < rows.len() {
        let mut e = s + 1;
        while e < rows.len() && rows[e].0 == rows[s].0 {
            e += 1;
        }
        if e - s > cap {
            out.extend(rows[s..e].windows(2).map(|w| (w[0].1, w[1].1)));
        }
        s = e;
    }
    Ok(out)
}
