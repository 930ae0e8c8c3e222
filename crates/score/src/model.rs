//! The Fellegi-Sunter model: per comparison level an m and a u
//! probability, a prior, and term-frequency adjustment. Serialized as JSON.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a u probability came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum USource {
    /// Counted in a random sample of record pairs.
    Sample,
    /// Too rare for the sample: counted among all candidate pairs (blocking
    /// finds every pair at such a level), divided by all record pairs.
    Frequency,
    /// Not estimated (the `missing` level, which carries no weight).
    None,
}

/// One level of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    /// Level name.
    pub name: String,
    /// P(level | same person), trained by EM.
    pub m: f64,
    /// P(level | different persons).
    pub u: f64,
    /// How `u` was estimated.
    pub u_source: USource,
}

/// One comparison's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    /// Comparison name.
    pub name: String,
    /// Levels by code; code 0 (`missing`) has weight 0.
    pub levels: Vec<LevelParams>,
    /// Whether agreeing levels are adjusted by the value's term frequency.
    pub tf: bool,
}

/// A trained Fellegi-Sunter model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FsModel {
    /// Comparisons, in vector order.
    pub comparisons: Vec<ComparisonParams>,
    /// Probability that two records drawn at random are the same person.
    pub prior: f64,
    /// Smallest term frequency used (rare values would weigh without bound).
    pub tf_min: f64,
    /// Term frequencies frozen when the model was trained, so a reused model
    /// weighs a pair by the two records alone, not by the counts of the table
    /// it is reused on. Only values more frequent than `tf_min` are kept:
    /// every other value weighs as `tf_min` anyway.
    #[serde(default)]
    pub term_frequencies: FrozenTf,
}

/// Shares of names and of name pinyin, `(hash, share)` sorted by hash.
pub type Shares = (Vec<(u64, f32)>, Vec<(u64, f32)>);

/// Term frequencies kept in a model: per value (hashed with
/// `aidlink_block::hash_str`, not written out) the number of records of the
/// training table holding it, and that table's size; a value's share is
/// `count as f32 / rows as f32`, exactly as counted when training. Only
/// values more frequent than the model's `tf_min` (so shared by dozens of
/// records) are listed: every other value weighs as `tf_min` anyway.
/// Written as maps from hash to count, one short line per value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FrozenTf {
    /// Records of the training table.
    pub rows: u64,
    /// Names (exact agreement).
    pub name: BTreeMap<u64, u32>,
    /// Name pinyin (homophone agreement).
    pub name_pinyin: BTreeMap<u64, u32>,
}

impl FrozenTf {
    /// The values of `counts` (over `rows` records) whose share is above `floor`.
    pub fn above(counts: &[(u64, u32)], rows: usize, floor: f64) -> BTreeMap<u64, u32> {
        let n = rows.max(1) as f32;
        counts
            .iter()
            .copied()
            .filter(|&(_, c)| f64::from(c as f32 / n) > floor)
            .collect()
    }

    /// The shares of names and of name pinyin, `(hash, share)` sorted by hash.
    pub fn shares(&self) -> Shares {
        let n = (self.rows.max(1)) as f32;
        let of = |m: &BTreeMap<u64, u32>| m.iter().map(|(&h, &c)| (h, c as f32 / n)).collect();
        (of(&self.name), of(&self.name_pinyin))
    }
}

/// Smallest probability a weight is computed from.
const FLOOR: f64 = 1e-12;

/// The match probability of a total weight (log2 odds).
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

impl FsModel {
    /// The prior as a weight: log2 of the prior odds.
    pub fn prior_weight(&self) -> f64 {
        let p = self.prior.clamp(FLOOR, 1.0 - FLOOR);
        (p / (1.0 - p)).log2()
    }

    /// The weight (log2 Bayes factor) of level `level` of comparison `c`;
    /// `tf` is the share of records holding the agreeing value (0 when none).
    pub fn weight(&self, c: usize, level: u8, tf: f32) -> f64 {
        if level == 0 {
            return 0.0;
        }
        let Some(l) = self
            .comparisons
            .get(c)
            .and_then(|cmp| cmp.levels.get(level as usize))
        else {
            return 0.0;
        };
        let u = if self.comparisons[c].tf && tf > 0.0 {
            f64::from(tf).max(self.tf_min)
        } else {
            l.u
        };
        (l.m.max(FLOOR) / u.max(FLOOR)).log2()
    }

    /// Weight table: `table[c][level]` without term-frequency adjustment.
    pub fn weight_table(&self) -> Vec<Vec<f64>> {
        (0..self.comparisons.len())
            .map(|c| {
                (0..self.comparisons[c].levels.len())
                    .map(|l| self.weight(c, l as u8, 0.0))
                    .collect()
            })
            .collect()
    }
}
