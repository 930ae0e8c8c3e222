//! The match stage: block, compare, score and cluster normalized records into persons.
//!
//! Input is one record table (all accepted records of all sources of a
//! period, [`aidlink_vocab::schema::record_schema`]); output is a
//! [`Linkage`]: a dense cluster (person) index per row, the links table of
//! every scored candidate pair with its evidence, the model that scored them
//! and statistics. Two modes:
//!
//! * `exact_id`: records with the same normalized ID number are one person;
//! * `probabilistic` (default): blocking ([`aidlink_block`]) proposes
//!   candidate pairs, each pair is compared field by field into levels
//!   ([`aidlink_compare`]), Fellegi-Sunter weights with u from random pairs
//!   and value frequencies and m from EM score them ([`aidlink_score`]), and
//!   linked pairs are clustered strongest first, refusing merges that would
//!   join two different trusted IDs ([`aidlink_cluster`]).
//!
//! [`link_incremental`] links a new period reusing the previous period's
//! state ([`Linkage::state`]): it compares only pairs touching new or
//! changed records or blocks a change affected, and gives exactly what
//! [`link`] gives with the same model.
//!
//! [`explain`] shows, for two rows, each comparison's level and weight as a
//! waterfall. See `docs/matching.md`. The stage does no IO.

mod error;
mod exact;
mod explain;
mod fingerprint;
mod incremental;
mod links;
mod prob;
mod settings;
mod state;

pub use error::MatchError;
pub use explain::{ExplainLine, Explanation};
pub use incremental::link_incremental;
pub use settings::{MatchSettings, Mode, RuleSetting};
pub use state::STATE_FORMAT;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the model JSON layout; a model of another version is refused.
/// Format 2 added the frozen term frequencies (`fs.term_frequencies`).
pub const MODEL_FORMAT: u32 = 2;

/// The result of linking one period's records.
#[derive(Debug)]
pub struct Linkage {
    /// Per input row, the dense cluster (person) index, numbered 0.. by first
    /// appearance in row order.
    pub cluster: Vec<u32>,
    /// The links table (see `docs/matching.md#links`).
    pub links: RecordBatch,
    /// The model that scored the pairs (trained now, or the one given).
    pub model: Model,
    /// What happened.
    pub stats: MatchStats,
    /// What the next period's [`link_incremental`] needs (publish it as
    /// `match_state.parquet`, restricted tier; schema in `docs/matching.md`).
    pub state: RecordBatch,
    /// How much of the previous period's work was reused.
    pub reuse: ReuseStats,
    /// Wall time of each step, in order, for logs (never written to outputs:
    /// it differs from run to run).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Counts of one linking run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchStats {
    /// The mode used.
    pub mode: Mode,
    /// Input rows.
    pub records: u64,
    /// Candidate pairs each blocking rule proposed (before deduplication).
    pub pairs_per_rule: BTreeMap<String, u64>,
    /// Blocks skipped by the block-size cap, over all rules.
    pub blocks_capped: u64,
    /// Distinct candidate pairs scored.
    pub pairs_scored: u64,
    /// Pairs linked (at or above the threshold, or forced).
    pub pairs_linked: u64,
    /// Persons (clusters) found.
    pub clusters: u64,
    /// Links refused by clustering because they would join two trusted IDs.
    pub merges_refused: u64,
    /// EM iterations run (0 when a saved model was used).
    pub em_iterations: u32,
}

/// How much an incremental run reused (for logs; a full run reports all
/// pairs compared).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReuseStats {
    /// Whether this was a [`link_incremental`] run.
    pub incremental: bool,
    /// Why an incremental run compared everything (the previous state is
    /// unreadable or was made under another model or settings), if it did.
    pub fallback: Option<String>,
    /// Records that are new or changed since the previous state (every
    /// record in a full run).
    pub records_changed: u64,
    /// Records of the previous state no longer present.
    pub records_removed: u64,
    /// Candidate pairs whose levels were taken from the previous state.
    pub pairs_reused: u64,
    /// Candidate pairs compared now.
    pub pairs_compared: u64,
}

/// A trained linkage model, saved as `model.json` and reusable with `--model FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Layout version ([`MODEL_FORMAT`]).
    pub format: u32,
    /// The mode the model links with.
    pub mode: Mode,
    /// Match probability threshold.
    pub threshold: f64,
    /// Extra fields compared, with their kinds.
    #[serde(default)]
    pub extra_fields: Vec<ExtraField>,
    /// The Fellegi-Sunter parameters (absent in exact-ID mode).
    #[serde(default)]
    pub fs: Option<aidlink_score::FsModel>,
    /// Deterministic rule: same valid ID and same name link.
    #[serde(default)]
    pub force_same_id_and_name: bool,
    /// Deterministic rule: different valid IDs and birth dates never link.
    #[serde(default)]
    pub forbid_different_valid_ids: bool,
    /// Deterministic rule: same ID with other name and birth date never links.
    #[serde(default)]
    pub forbid_same_id_other_person: bool,
}

/// An extra field of the config and the kind it is compared as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraField {
    /// Column name.
    pub name: String,
    /// Field kind.
    pub kind: aidlink_vocab::FieldKind,
}

impl Model {
    /// The (parameter-free) model of exact-ID linking.
    pub fn exact(settings: &MatchSettings) -> Model {
        Model {
            format: MODEL_FORMAT,
            mode: Mode::ExactId,
            threshold: settings.threshold,
            extra_fields: Vec::new(),
            fs: None,
            force_same_id_and_name: false,
            forbid_different_valid_ids: false,
            forbid_same_id_other_person: false,
        }
    }
}

/// Links the records of one period.
///
/// `model`, when given, is used as is (no training); otherwise a model is
/// trained on these records.
pub fn link(
    records: &RecordBatch,
    settings: &MatchSettings,
    model: Option<&Model>,
) -> Result<Linkage, MatchError> {
    settings.validate()?;
    let mode = model.map_or(settings.mode, |m| m.mode);
    if let Some(m) = model
        && m.format != MODEL_FORMAT
    {
        return Err(MatchError::ModelMismatch(format!(
            "model format {} but this aidlink reads format {MODEL_FORMAT}",
            m.format
        )));
    }
    match mode {
        Mode::ExactId => exact::link(records, settings),
        Mode::Probabilistic => prob::link(records, settings, model),
    }
}

/// Explains why rows `left` and `right` (indices into `records`) are or are not linked.
pub fn explain(
    records: &RecordBatch,
    left: usize,
    right: usize,
    model: &Model,
) -> Result<Explanation, MatchError> {
    for index in [left, right] {
        if index >= records.num_rows() {
            return Err(MatchError::RowOutOfRange {
                index,
                rows: records.num_rows(),
            });
        }
    }
    match model.mode {
        Mode::ExactId => explain::exact(records, left, right, model),
        Mode::Probabilistic => explain::probabilistic(records, left, right, model),
    }
}
