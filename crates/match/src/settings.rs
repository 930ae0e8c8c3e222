//! The `[matching]` settings table of the config.
//!
//! Every key has a default, so an empty `[matching]` table (or none) runs the
//! probabilistic core with the default blocking rules and comparisons.

use aidlink_vocab::FieldKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How records are linked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Fellegi-Sunter scoring of blocked pairs, then constrained clustering.
    #[default]
    Probabilistic,
    /// Records with the same normalized ID number are one person; nothing else links.
    ExactId,
}

/// A blocking rule as the config names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetting {
    /// Name shown in statistics and in the links table.
    pub name: String,
    /// Key parts: `birth`, `surname`, `name_pinyin`, `guardian`, `id_codes`,
    /// `id_one_edit`, or a column name of the record table.
    pub keys: Vec<String>,
}

/// The `[matching]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchSettings {
    /// `probabilistic` (default) or `exact_id`.
    pub mode: Mode,
    /// Match probability at or above which a pair is linked.
    pub threshold: f64,
    /// Blocking rules; the defaults when empty.
    pub blocking: Vec<RuleSetting>,
    /// Blocks with more records than this are skipped (and counted).
    pub max_block_size: usize,
    /// Comparison kind of extra fields (config `[fields]`); an extra column
    /// not named here is compared as `exact_code` (text) or `date` (dates).
    pub fields: BTreeMap<String, FieldKind>,
    /// Random pairs sampled to estimate u probabilities.
    pub u_sample_pairs: usize,
    /// Seed of that sample.
    pub seed: u64,
    /// Upper bound on EM iterations.
    pub em_max_iterations: u32,
    /// EM stops when no m probability moves by more than this.
    pub em_tolerance: f64,
    /// Smallest term frequency used for a name value (rare names would otherwise weigh unboundedly).
    pub tf_min: f64,
    /// Link pairs with the same valid ID and the same name, whatever the score.
    pub force_same_id_and_name: bool,
    /// Never link pairs with different valid IDs and different birth dates.
    pub forbid_different_valid_ids: bool,
    /// Never link pairs with the same ID whose names and birth dates both
    /// disagree (a guardian's or head's ID typed in a child's row).
    pub forbid_same_id_other_person: bool,
}

impl Default for MatchSettings {
    fn default() -> Self {
        MatchSettings {
            mode: Mode::Probabilistic,
            threshold: 0.9,
            blocking: Vec::new(),
            max_block_size: 400,
            fields: BTreeMap::new(),
            u_sample_pairs: 500_000,
            seed: 42,
            em_max_iterations: 100,
            em_tolerance: 1e-6,
            tf_min: 1e-5,
            force_same_id_and_name: true,
            forbid_different_valid_ids: true,
            forbid_same_id_other_person: true,
        }
    }
}

impl MatchSettings {
    /// The blocking rules these settings ask for.
    pub fn blocking_rules(&self) -> Vec<aidlink_block::BlockingRule> {
        if self.blocking.is_empty() {
            return aidlink_block::BlockingRule::defaults();
        }
        self.blocking
            .iter()
            .map(|r| aidlink_block::BlockingRule {
                name: r.name.clone(),
                parts: r
                    .keys
                    .iter()
                    .map(|k| aidlink_block::KeyPart::parse(k))
                    .collect(),
            })
            .collect()
    }

    /// Checks values that deserialization cannot.
    pub fn validate(&self) -> Result<(), crate::MatchError> {
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(crate::MatchError::InvalidSetting {
                key: "threshold",
                value: self.threshold.to_string(),
                allowed: "a match probability strictly between 0 and 1, such as 0.9",
            });
        }
        if self.max_block_size < 2 {
            return Err(crate::MatchError::InvalidSetting {
                key: "max_block_size",
                value: self.max_block_size.to_string(),
                allowed: "at least 2",
            });
        }
        for r in &self.blocking {
            if r.keys.is_empty() {
                return Err(crate::MatchError::InvalidSetting {
                    key: "blocking.keys",
                    value: format!("[] in rule {}", r.name),
                    allowed: "at least one key part",
                });
            }
        }
        if self.blocking.len() > 32 {
            return Err(crate::MatchError::InvalidSetting {
                key: "blocking",
                value: format!("{} rules", self.blocking.len()),
                allowed: "at most 32 rules",
            });
        }
        Ok(())
    }
}
