//! Incremental matching: link a new period reusing the previous period's
//! state, with exactly the result of a full run with the same model.
//!
//! A pair's levels, term frequencies and deterministic decision depend only
//! on its two records and the model (term frequencies are frozen in the
//! model, household keys are part of the fingerprint), so a pair of two
//! records whose fingerprints are unchanged keeps them. Which pairs are
//! candidates can change only in blocks a change affects
//! ([`aidlink_block::incremental`]): those are paired again, the rule masks
//! of unchanged pairs with a record in them are checked again, and only
//! pairs not in the previous state are compared. Scoring, decisions,
//! clustering and the links table then run on all pairs, through the same
//! code as a full run ([`crate::prob::finish`]).

use crate::prob::{self, Clock, Finish, Rule, RuleInputs};
use crate::state::{self, Previous};
use crate::{
    Linkage, MODEL_FORMAT, MatchError, MatchSettings, MatchStats, Mode, Model, ReuseStats,
};
use aidlink_block::KeyColumns;
use aidlink_block::incremental::{affected_blocks, shares_uncapped_key};
use aidlink_compare::{RowIds, Vectors};
use arrow_array::{RecordBatch, UInt32Array};
use rayon::prelude::*;

/// No row / no previous pair.
const NONE: u32 = u32::MAX;

/// Links `records` like [`crate::link`]`(records, settings, Some(model))`,
/// reusing `previous_state` (the [`Linkage::state`] of the previous
/// period's run): the cluster, links table and model are identical, only
/// fewer pairs are compared. A state made under another model or other
/// settings, or one that cannot be read, is not used: every pair is then
/// compared, and [`ReuseStats::fallback`] says why.
pub fn link_incremental(
    records: &RecordBatch,
    settings: &MatchSettings,
    model: &Model,
    previous_state: &RecordBatch,
) -> Result<Linkage, MatchError> {
    settings.validate()?;
    if model.format != MODEL_FORMAT {
        return Err(MatchError::ModelMismatch(format!(
            "model format {} but this aidlink reads format {MODEL_FORMAT}",
            model.format
        )));
    }
    let fall_back = |reason: String| -> Result<Linkage, MatchError> {
        let mut l = crate::link(records, settings, Some(model))?;
        l.reuse.incremental = true;
        l.reuse.fallback = Some(reason);
        Ok(l)
    };
    let Some(fs) = model
        .fs
        .as_ref()
        .filter(|_| model.mode == Mode::Probabilistic)
    else {
        return fall_back("exact-ID linking compares no pairs to reuse".into());
    };
    let mut clock = Clock::new();
    let extra = model.extra_fields.clone();
    let cmp = prob::comparator(&extra);
    prob::check_model(fs, &cmp)?;
    let rules = settings.blocking_rules();
    let threshold = model.threshold;
    let out_model = Model {
        force_same_id_and_name: settings.force_same_id_and_name,
        forbid_different_valid_ids: settings.forbid_different_valid_ids,
        forbid_same_id_other_person: settings.forbid_same_id_other_person,
        ..model.clone()
    };
    let digest = prob::state_digest(&out_model, settings);
    let (width, tf_width) = (cmp.comparisons.len(), cmp.tf_width());
    let prev = match Previous::read(previous_state, digest, width, tf_width, rules.len()) {
        Ok(p) => p,
        Err(reason) => return fall_back(format!("previous match state not used: {reason}")),
    };
    clock.lap("read_state");

    let n = records.num_rows();
    let keys = KeyColumns::new(records, &rules)?;
    let computed;
    let households: &[[u64; 3]] = if keys.households().len() == n {
        keys.households()
    } else {
        computed = aidlink_block::household::household_keys(records)?;
        &computed
    };
    let fingerprints = crate::fingerprint::fingerprints(records, &cmp, &rules, households)?;
    let row_ids = RowIds::new(records)?;
    clock.lap("fingerprint");

    // Which previous record each row is: same fingerprint, seen once now
    // (the state keeps only fingerprints seen once then).
    let mut by_fp: Vec<(u64, u32)> = fingerprints
        .iter()
        .enumerate()
        .map(|(i, &f)| (f, i as u32))
        .collect();
    by_fp.par_sort_unstable();
    let mut row_of = vec![NONE; prev.fingerprints.len()];
    let mut dirty = vec![true; n];
    let mut k = 0;
    let mut q = 0;
    while k < by_fp.len() {
        let mut e = k + 1;
        while e < by_fp.len() && by_fp[e].0 == by_fp[k].0 {
            e += 1;
        }
        if e == k + 1 {
            let f = by_fp[k].0;
            while q < prev.fingerprints.len() && prev.fingerprints[q] < f {
                q += 1;
            }
            if q < prev.fingerprints.len() && prev.fingerprints[q] == f {
                row_of[q] = by_fp[k].1;
                dirty[by_fp[k].1 as usize] = false;
            }
        }
        k = e;
    }
    drop(by_fp);
    let records_changed = dirty.iter().filter(|&&d| d).count() as u64;
    let records_removed = row_of.iter().filter(|&&r| r == NONE).count() as u64;
    clock.lap("match_records");

    // Key tags: the previous period's for unchanged rows, computed for
    // the others.
    let slots = rules.len();
    let mut row_keys = aidlink_block::incremental::RowKeys::new(n, slots);
    for (q, &row) in row_of.iter().enumerate() {
        if row != NONE {
            let (i, p) = (row as usize, &prev.row_keys);
            row_keys.any[i] = p.any[q];
            row_keys.multi[i] = p.multi[q];
            row_keys.failing[i] = p.failing[q];
            row_keys.tags[i * slots..(i + 1) * slots]
                .copy_from_slice(&p.tags[q * slots..(q + 1) * slots]);
        }
    }
    for i in (0..n).filter(|&i| dirty[i]) {
        row_keys.compute(&keys, &rules, i);
    }
    if !rules
        .iter()
        .any(aidlink_block::BlockingRule::is_id_one_edit)
    {
        // A full run notes failing IDs only for the ID-typo rule.
        row_keys.failing.iter_mut().for_each(|f| *f = false);
    }
    let deltas = affected_blocks(
        &keys,
        n,
        &rules,
        settings.max_block_size,
        &dirty,
        &prev.capped,
        &row_keys,
    );
    clock.lap("block");

    // The previous pairs of two unchanged records, with their rule masks
    // checked again where a record sits in a block capped now.
    let mut all: Vec<(u64, u32, u32)> = prev
        .pairs
        .par_iter()
        .enumerate()
        .filter_map(|(p, &(a, b))| {
            let (ra, rb) = (row_of[a as usize], row_of[b as usize]);
            if ra == NONE || rb == NONE {
                return None;
            }
            let (i, j) = (ra.min(rb), ra.max(rb));
            let mut mask = prev.masks[p];
            for (r, d) in deltas.iter().enumerate() {
                let bit = 1u32 << r.min(31);
                // Only a block capped now can take the pair away from the
                // rule; pairs a block gives are added from `d.pairs` below.
                if !d.in_capped.is_empty() && (d.in_capped[i as usize] || d.in_capped[j as usize]) {
                    let on = shares_uncapped_key(
                        &keys,
                        &rules[r].parts,
                        i as usize,
                        j as usize,
                        &d.capped_keys,
                    );
                    mask = if on { mask | bit } else { mask & !bit };
                }
            }
            Some((aidlink_block::pack(i, j), mask, p as u32))
        })
        .collect();
    for (r, d) in deltas.iter().enumerate() {
        let bit = 1u32 << r.min(31);
        all.extend(d.pairs.iter().map(|&pair| (pair, bit, NONE)));
    }
    all.par_sort_unstable();
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(all.len());
    let mut masks: Vec<u32> = Vec::with_capacity(all.len());
    let mut source: Vec<u32> = Vec::with_capacity(all.len());
    let mut s = 0;
    while s < all.len() {
        let mut e = s + 1;
        while e < all.len() && all[e].0 == all[s].0 {
            e += 1;
        }
        let mask = all[s..e].iter().fold(0, |m, x| m | x.1);
        // At most one entry of a pair comes from the previous state; the
        // generated ones have no source (NONE, the largest value).
        if mask != 0 {
            let pair = all[s].0;
            pairs.push(((pair >> 32) as u32, (pair & 0xffff_ffff) as u32));
            masks.push(mask);
            source.push(all[s..e].iter().map(|x| x.2).min().unwrap_or(NONE));
        }
        s = e;
    }
    drop(all);
    clock.lap("merge_pairs");

    // Compare the pairs the previous state does not have, on a view of
    // only the rows they touch (household keys from the whole table, term
    // frequencies from the model).
    let fresh: Vec<usize> = (0..pairs.len()).filter(|&p| source[p] == NONE).collect();
    let mut rows: Vec<u32> = fresh
        .iter()
        .flat_map(|&p| [pairs[p].0, pairs[p].1])
        .collect();
    rows.par_sort_unstable();
    rows.dedup();
    let sub = arrow_select::take::take_record_batch(records, &UInt32Array::from(rows.clone()))?;
    let sub_households: Vec<[u64; 3]> = rows.iter().map(|&r| households[r as usize]).collect();
    let shares = fs.term_frequencies.shares();
    let view = cmp.view_with_households(&sub, sub_households, prob::tf_source(Some(&shares)))?;
    let local = |r: u32| rows.binary_search(&r).unwrap_or(0) as u32;
    let sub_pairs: Vec<(u32, u32)> = fresh
        .iter()
        .map(|&p| (local(pairs[p].0), local(pairs[p].1)))
        .collect();
    let compared = cmp.compare_pairs(&view, &sub_pairs);
    clock.lap("compare");

    let inputs = RuleInputs::new(&cmp);
    let mut vectors = Vectors {
        width,
        levels: vec![0; pairs.len() * width],
        tf: vec![0.0; pairs.len() * tf_width],
        tf_width,
    };
    let mut decided: Vec<Option<Rule>> = vec![None; pairs.len()];
    let mut k = 0;
    for p in 0..pairs.len() {
        let (lv, tf) = match source[p] {
            NONE => {
                let (lv, tf) = (
                    &compared.levels[k * width..(k + 1) * width],
                    &compared.tf[k * tf_width..(k + 1) * tf_width],
                );
                k += 1;
                let (i, j) = pairs[p];
                decided[p] = inputs.decide(settings, &row_ids, i as usize, j as usize, lv);
                (lv, tf)
            }
            old => {
                let o = old as usize;
                decided[p] = state::rule_of(prev.decided[o]);
                (
                    &prev.levels[o * width..(o + 1) * width],
                    &prev.tf[o * tf_width..(o + 1) * tf_width],
                )
            }
        };
        vectors.levels[p * width..(p + 1) * width].copy_from_slice(lv);
        vectors.tf[p * tf_width..(p + 1) * tf_width].copy_from_slice(tf);
    }
    clock.lap("assemble");

    let mut pairs_per_rule = std::collections::BTreeMap::new();
    for (r, rule) in rules.iter().enumerate() {
        let bit = 1u32 << r.min(31);
        pairs_per_rule.insert(
            rule.name.clone(),
            masks.iter().filter(|&&m| m & bit != 0).count() as u64,
        );
    }
    let capped: Vec<Vec<u64>> = deltas.iter().map(|d| d.capped_keys.clone()).collect();
    let stats = MatchStats {
        mode: Mode::Probabilistic,
        records: n as u64,
        pairs_per_rule,
        blocks_capped: deltas.iter().map(|d| d.stats.blocks_capped).sum(),
        pairs_scored: pairs.len() as u64,
        pairs_linked: 0,
        clusters: 0,
        merges_refused: 0,
        em_iterations: 0,
    };
    let reuse = ReuseStats {
        incremental: true,
        fallback: None,
        records_changed,
        records_removed,
        pairs_reused: (pairs.len() - fresh.len()) as u64,
        pairs_compared: fresh.len() as u64,
    };
    prob::finish(
        Finish {
            records,
            settings,
            cmp: &cmp,
            rules: &rules,
            extra,
            threshold,
            row_ids: &row_ids,
            fingerprints: &fingerprints,
            pairs: &pairs,
            masks: &masks,
            vectors: &vectors,
            decided: &decided,
            capped: &capped,
            row_keys: &row_keys,
            reuse,
        },
        fs.clone(),
        stats,
        clock,
    )
}
