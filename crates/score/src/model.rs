//! The Fellegi-Sunter model: per comparison level an m and a u
//! probability, a prior, and term-frequency adjustment. Serialized as JSON.

use serde::{Deserialize, Serialize};

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

/// Term frequencies kept in a model: `(hash of the value, share of records)`,
/// sorted by hash. Values are hashed (`aidlink_block::hash_str`), not
/// written out, and only values more frequent than the model's `tf_min`
/// (shared by dozens of records) are listed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FrozenTf {
    /// Names (exact agreement).
    pub name: Vec<(u64, f32)>,
    /// Name pinyin (homophone agreement).
    pub name_pinyin: Vec<(u64, f32)>,
}

impl FrozenTf {
    /// The entries of `table` (sorted by hash) above `floor`.
    pub fn above(table: &[(u64, f32)], floor: f64) -> Vec<(u64, f32)> {
        table
            .iter()
            .copied()
            .filter(|&(_, f)| f64::from(f) > floor)
            .collect()
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
