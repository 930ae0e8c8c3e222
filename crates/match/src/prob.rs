//! The probabilistic core: block, compare, train or reuse a Fellegi-Sunter
//! model, score, apply the deterministic rules, cluster.

use crate::links::{self, ComparisonColumn, LinkTable};
use crate::{
    ExtraField, Linkage, MODEL_FORMAT, MatchError, MatchSettings, MatchStats, Mode, Model,
};
use aidlink_block::KeyColumns;
use aidlink_cluster::Edge;
use aidlink_compare::levels::{date, id, name};
use aidlink_compare::{Comparator, Comparison, RecordView, RowIds, Spec, TermFrequencies, Vectors};
use aidlink_score::{
    ComparisonParams, FrozenTf, FsModel, LevelParams, Patterns, USource, em, sample,
};
use aidlink_vocab::FieldKind;
use aidlink_vocab::schema::record_schema;
use arrow_array::RecordBatch;
use arrow_schema::DataType;
use rayon::prelude::*;

/// The extra fields of `records` (columns beyond the canonical record
/// schema), with the kind the settings give them or one inferred from the type.
pub fn extra_fields(records: &RecordBatch, settings: &MatchSettings) -> Vec<ExtraField> {
    let canonical = record_schema(&[]);
    let schema = records.schema();
    let mut out = Vec::new();
    for f in schema.fields() {
        let n = f.name();
        if canonical.index_of(n).is_ok() {
            continue;
        }
        if let Some(base) = n.strip_suffix("_pinyin")
            && schema.index_of(base).is_ok()
        {
            continue;
        }
        let kind = match settings.fields.get(n) {
            Some(k) => *k,
            None => match f.data_type() {
                DataType::Date32 => FieldKind::Date,
                DataType::Utf8 => FieldKind::ExactCode,
                _ => continue,
            },
        };
        out.push(ExtraField {
            name: n.clone(),
            kind,
        });
    }
    out
}

/// The comparator of a run with these extra fields.
pub fn comparator(extra: &[ExtraField]) -> Comparator {
    let extra: Vec<(String, FieldKind)> = extra.iter().map(|e| (e.name.clone(), e.kind)).collect();
    Comparator::new(Comparison::standard(&extra))
}

/// Index of the comparison with `spec` in `cmp`.
fn find(cmp: &Comparator, spec: &Spec) -> Option<usize> {
    cmp.comparisons.iter().position(|c| c.spec == *spec)
}

/// How the deterministic rules decided a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Same valid ID, same name: linked whatever the score.
    ForceSameIdAndName,
    /// Different valid IDs and different birth dates: never linked.
    ForbidDifferentValidIds,
    /// Same ID, but name and birth date disagree: never linked.
    ForbidSameIdOtherPerson,
}

impl Rule {
    /// The rule's name as settings and explanations spell it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ForceSameIdAndName => "force_same_id_and_name",
            Rule::ForbidDifferentValidIds => "forbid_different_valid_ids",
            Rule::ForbidSameIdOtherPerson => "forbid_same_id_other_person",
        }
    }

    /// Whether the rule links (rather than separates).
    pub fn links(self) -> bool {
        self == Rule::ForceSameIdAndName
    }
}

/// Positions of the comparisons the deterministic rules read.
pub struct RuleInputs {
    id: Option<usize>,
    name: Option<usize>,
    birth: Option<usize>,
}

impl RuleInputs {
    /// Finds them in `cmp`.
    pub fn new(cmp: &Comparator) -> Self {
        RuleInputs {
            id: find(cmp, &Spec::Id),
            name: find(cmp, &Spec::Name),
            birth: find(cmp, &Spec::Birth),
        }
    }

    /// The deterministic rule that decides a pair of rows `i`, `j` (of the
    /// table `ids` describes) with level vector `v`, if any.
    pub fn decide(
        &self,
        s: &MatchSettings,
        ids: &RowIds<'_>,
        i: usize,
        j: usize,
        v: &[u8],
    ) -> Option<Rule> {
        let (Some(ci), Some(cn)) = (self.id, self.name) else {
            return None;
        };
        let birth = self.birth.map_or(date::MISSING, |c| v[c]);
        let (idl, nl) = (v[ci], v[cn]);
        let both_valid = ids.id_valid(i) && ids.id_valid(j);
        if s.forbid_same_id_other_person
            && (idl == id::EXACT || idl == id::EXACT_CONTRADICTED)
            && nl == name::DIFFERENT
            && (birth == date::DIFFERENT || birth == date::MISSING)
        {
            return Some(Rule::ForbidSameIdOtherPerson);
        }
        if s.force_same_id_and_name && idl == id::EXACT && nl == name::EXACT && both_valid {
            return Some(Rule::ForceSameIdAndName);
        }
        if s.forbid_different_valid_ids
            && both_valid
            && ids.own_id[i] != ids.own_id[j]
            && idl == id::DIFFERENT
            && birth == date::DIFFERENT
        {
            return Some(Rule::ForbidDifferentValidIds);
        }
        None
    }
}

fn level_counts(cmp: &Comparator) -> Vec<usize> {
    cmp.comparisons.iter().map(|c| c.levels.len()).collect()
}

/// Smallest m a level keeps: no level is impossible for a true match (a
/// typing error can make anything happen), so no single comparison can veto
/// a pair by more than about 13 bits.
const M_FLOOR: f64 = 1e-4;

/// Rules with fewer candidate pairs get no EM session of their own.
const MIN_SESSION_PAIRS: usize = 1000;

/// Which comparisons a blocking rule conditions on (its pairs agree on them
/// by construction, so its EM session must not estimate their m).
fn blocked_comparisons(cmp: &Comparator, rule: &aidlink_block::BlockingRule) -> Vec<bool> {
    use aidlink_block::KeyPart;
    cmp.comparisons
        .iter()
        .map(|c| {
            rule.parts.iter().any(|p| match (p, &c.spec) {
                (KeyPart::IdCodes | KeyPart::IdOneEdit, Spec::Id) => true,
                (KeyPart::Birth, Spec::Birth) => true,
                (KeyPart::Surname | KeyPart::GivenPinyin | KeyPart::NamePinyin, Spec::Name) => true,
                (KeyPart::Guardian | KeyPart::Household, Spec::Household) => true,
                (KeyPart::Column(col), Spec::Household) => {
                    col == "household_no" || col.ends_with("_id")
                }
                (KeyPart::Column(col), Spec::StudentNo) => col == "student_no",
                (KeyPart::Column(col), Spec::Field { column, .. }) => col == column,
                _ => false,
            })
        })
        .collect()
}

/// Pairs per parallel chunk when counting each rule's patterns.
const COUNT_CHUNK: usize = 1 << 16;

/// For each of `rules` rules, how many of its pairs (those whose mask has
/// its bit) have each of `patterns` patterns, `pattern_of[p]` being pair
/// `p`'s.
fn rule_pattern_counts(
    pattern_of: &[u32],
    masks: &[u32],
    rules: usize,
    patterns: usize,
) -> Vec<Vec<u64>> {
    let bits: Vec<u32> = (0..rules).map(|b| 1u32 << b.min(31)).collect();
    let add = |mut a: Vec<Vec<u64>>, b: Vec<Vec<u64>>| {
        for (x, y) in a.iter_mut().zip(b) {
            for (s, t) in x.iter_mut().zip(y) {
                *s += t;
            }
        }
        a
    };
    pattern_of
        .par_chunks(COUNT_CHUNK)
        .zip(masks.par_chunks(COUNT_CHUNK))
        .map(|(pats, ms)| {
            let mut c = vec![vec![0u64; patterns]; rules];
            for (&p, &mask) in pats.iter().zip(ms) {
                for (counts, &bit) in c.iter_mut().zip(&bits) {
                    if mask & bit != 0 {
                        counts[p as usize] += 1;
                    }
                }
            }
            c
        })
        .reduce(|| vec![vec![0u64; patterns]; rules], add)
}

/// Trains a model on the candidate pairs of `records`.
fn train(
    cmp: &Comparator,
    view: &RecordView<'_>,
    (cand, masks, rules): (&Vectors, &[u32], &[aidlink_block::BlockingRule]),
    settings: &MatchSettings,
    stats: &mut MatchStats,
    clock: &mut Clock,
) -> FsModel {
    let n = view.rows;
    let all_pairs = n as f64 * (n as f64 - 1.0) / 2.0;
    let random = sample::random_pairs(n, settings.u_sample_pairs, settings.seed);
    let rv = cmp.compare_pairs_gated(view, &random, false);
    let counts = level_counts(cmp);
    let u = aidlink_score::estimate_u(&rv.levels, &cand.levels, &counts, all_pairs.max(1.0));
    clock.lap("train_u");
    let (patterns, pattern_of) = Patterns::count_indexed(&cand.levels, cand.width);
    // EM starts from "matches mostly agree" and the random-pair u; it
    // learns u among candidate pairs separately, because candidates agree
    // on their blocking keys far more often than random pairs do.
    let m0: Vec<Vec<f64>> = counts
        .iter()
        .map(|&k| {
            (0..k)
                .map(|l| match l {
                    0 => 1.0,
                    1 => 0.8,
                    _ => 0.2 / (k.saturating_sub(2).max(1)) as f64,
                })
                .collect()
        })
        .collect();
    let u0: Vec<Vec<f64>> = u.iter().map(|r| r.iter().map(|x| x.0).collect()).collect();
    let r = em::run(
        &patterns,
        m0,
        u0,
        0.3,
        settings.em_max_iterations,
        settings.em_tolerance,
    );
    stats.em_iterations = r.iterations;
    // One EM over all candidates mixes in pairs that agree on their blocking
    // key by construction (same birth date and given name, different
    // people), which inflates the m of whatever that key is. So, as Splink
    // does by hand, each rule's pairs get their own EM session, which
    // estimates m only for the comparisons the rule did not block on; the
    // m of a comparison is the match-weighted mean over those sessions.
    let mut m = r.m.clone();
    let mut acc: Vec<Vec<f64>> = counts.iter().map(|&k| vec![0.0; k]).collect();
    let mut mass = vec![0.0f64; counts.len()];
    // Each rule's patterns are counted from the pairs' pattern indices (one
    // parallel pass for all rules, integer counts, so the order of adding
    // does not matter), and the sessions run in parallel; their results
    // are added up below in rule order, as one after the other would.
    let per_rule = rule_pattern_counts(&pattern_of, masks, rules.len(), patterns.len());
    let sessions: Vec<Option<(usize, em::EmResult)>> = per_rule
        .par_iter()
        .map(|counts| {
            let pairs: u64 = counts.iter().sum();
            if (pairs as usize) < MIN_SESSION_PAIRS {
                return None;
            }
            let session = em::run(
                &patterns.subset(counts),
                r.m.clone(),
                r.u.clone(),
                r.lambda,
                settings.em_max_iterations,
                settings.em_tolerance,
            );
            Some((pairs as usize, session))
        })
        .collect();
    for (rule, session) in rules.iter().zip(sessions) {
        let Some((pairs, session)) = session else {
            continue;
        };
        let blocked = blocked_comparisons(cmp, rule);
        stats.em_iterations += session.iterations;
        let w = session.lambda * pairs as f64;
        for c in 0..counts.len() {
            if !blocked[c] {
                mass[c] += w;
                for (a, sm) in acc[c].iter_mut().zip(&session.m[c]) {
                    *a += w * sm;
                }
            }
        }
    }
    for c in 0..counts.len() {
        if mass[c] > 0.0 {
            for l in 1..counts[c] {
                m[c][l] = acc[c][l] / mass[c];
            }
        }
    }
    clock.lap("train_em");
    let matches = r.lambda * cand.len() as f64;
    let prior = if all_pairs > 0.0 {
        (matches / all_pairs).clamp(1e-12, 0.5)
    } else {
        0.5
    };
    FsModel {
        comparisons: cmp
            .comparisons
            .iter()
            .enumerate()
            .map(|(c, comp)| ComparisonParams {
                name: comp.name.clone(),
                tf: comp.tf,
                levels: comp
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(l, name)| LevelParams {
                        name: name.clone(),
                        m: if l == 0 { 1.0 } else { m[c][l].max(M_FLOOR) },
                        u: u[c][l].0,
                        u_source: if l == 0 { USource::None } else { u[c][l].1 },
                    })
                    .collect(),
            })
            .collect(),
        prior,
        tf_min: settings.tf_min,
        term_frequencies: FrozenTf {
            rows: n as u64,
            name: FrozenTf::above(&view.name_tf_counts, n, settings.tf_min),
            name_pinyin: FrozenTf::above(&view.pinyin_tf_counts, n, settings.tf_min),
        },
    }
}

/// The view's term frequencies: counted when training, or the shares
/// ([`FrozenTf::shares`]) of the model given.
pub fn tf_source(shares: Option<&aidlink_score::Shares>) -> TermFrequencies<'_> {
    match shares {
        Some((name, pinyin)) => TermFrequencies::Frozen { name, pinyin },
        None => TermFrequencies::Count,
    }
}

/// The household keys of every row: those blocking computed, or computed
/// now when no rule needed them (the comparisons and the fingerprints
/// always do).
pub fn households(
    records: &RecordBatch,
    keys: &mut KeyColumns<'_>,
) -> Result<Vec<[u64; 3]>, MatchError> {
    let h = keys.take_households();
    if h.len() == records.num_rows() {
        Ok(h)
    } else {
        Ok(aidlink_block::household::household_keys(records)?)
    }
}

/// Digest of everything a state depends on besides the records: the model
/// (parameters, frozen term frequencies, threshold, comparisons), the
/// blocking rules and cap, the deterministic rule switches of the settings,
/// and the state and fingerprint layouts.
pub fn state_digest(model: &Model, settings: &MatchSettings) -> u64 {
    let rules: Vec<String> = settings
        .blocking_rules()
        .iter()
        .map(|r| format!("{}={:?}", r.name, r.parts))
        .collect();
    let text = format!(
        "state {} fingerprint {} cap {} rules {} switches {} {} {} model {}",
        crate::state::STATE_FORMAT,
        crate::fingerprint::FINGERPRINT_VERSION,
        settings.max_block_size,
        rules.join(";"),
        settings.force_same_id_and_name,
        settings.forbid_different_valid_ids,
        settings.forbid_same_id_other_person,
        serde_json::to_string(model).unwrap_or_default(),
    );
    crate::fingerprint::digest(&text)
}

/// Checks that a saved model has the comparisons this run makes.
pub fn check_model(fs: &FsModel, cmp: &Comparator) -> Result<(), MatchError> {
    let want: Vec<(&str, usize)> = cmp
        .comparisons
        .iter()
        .map(|c| (c.name.as_str(), c.levels.len()))
        .collect();
    let have: Vec<(&str, usize)> = fs
        .comparisons
        .iter()
        .map(|c| (c.name.as_str(), c.levels.len()))
        .collect();
    if want != have {
        return Err(MatchError::ModelMismatch(format!(
            "model compares {have:?}, this table needs {want:?}"
        )));
    }
    Ok(())
}

/// Links `records` probabilistically.
pub fn link(
    records: &RecordBatch,
    settings: &MatchSettings,
    given: Option<&Model>,
) -> Result<Linkage, MatchError> {
    let mut clock = Clock::new();
    let extra = match given {
        Some(m) => m.extra_fields.clone(),
        None => extra_fields(records, settings),
    };
    let cmp = comparator(&extra);
    let given_fs = given.and_then(|m| m.fs.as_ref());
    if let Some(fs) = given_fs {
        check_model(fs, &cmp)?;
    }
    let n = records.num_rows();
    let rules = settings.blocking_rules();
    // Every row's IDs are read once (blocking's ID-typo rule, the
    // comparisons and the deterministic rules all use them), while the
    // household keys, whose join has a serial stretch, are computed.
    let mut keys = KeyColumns::without_households(records, &rules)?;
    let (household_keys, ids) = rayon::join(
        || {
            if KeyColumns::need_households(&rules) {
                aidlink_block::household::household_keys(records).map(Some)
            } else {
                Ok(None)
            }
        },
        || aidlink_block::id_code::RowIdCodes::new(&keys, n),
    );
    if let Some(h) = household_keys? {
        keys.set_households(h);
    }
    let cand =
        aidlink_block::candidates_with_ids(&keys, n, &rules, settings.max_block_size, Some(&ids));
    clock.lap("block");
    let households = households(records, &mut keys)?;
    let fingerprints = crate::fingerprint::fingerprints(records, &cmp, &rules, &households)?;
    clock.lap("fingerprint");
    let shares = given_fs.map(|fs| fs.term_frequencies.shares());
    let view = cmp.view_with_parts(records, households, ids, tf_source(shares.as_ref()))?;
    clock.lap("view");
    let mut vectors = cmp.compare_pairs(&view, &cand.pairs);
    clock.lap("compare");
    let mut stats = MatchStats {
        mode: Mode::Probabilistic,
        records: n as u64,
        pairs_per_rule: cand
            .per_rule
            .iter()
            .map(|s| (s.name.clone(), s.pairs))
            .collect(),
        blocks_capped: cand.per_rule.iter().map(|s| s.blocks_capped).sum(),
        pairs_scored: cand.pairs.len() as u64,
        pairs_linked: 0,
        clusters: 0,
        merges_refused: 0,
        em_iterations: 0,
    };
    let fs = match given_fs {
        Some(fs) => fs.clone(),
        None => train(
            &cmp,
            &view,
            (&vectors, &cand.rules, &rules),
            settings,
            &mut stats,
            &mut clock,
        ),
    };
    // A share at or below the floor weighs as the floor: write it as a
    // frozen model would see it, so the state holds what any later run
    // with this model computes for the pair.
    let floor = fs.tf_min;
    vectors.tf.par_iter_mut().for_each(|t| {
        if *t > 0.0 && f64::from(*t) <= floor {
            *t = aidlink_compare::RARE_TF;
        }
    });
    let inputs = RuleInputs::new(&cmp);
    let decided: Vec<Option<Rule>> = cand
        .pairs
        .par_iter()
        .enumerate()
        .map(|(p, &(i, j))| {
            inputs.decide(
                settings,
                &view.row_ids,
                i as usize,
                j as usize,
                vectors.pair(p),
            )
        })
        .collect();
    let capped: Vec<Vec<u64>> = cand
        .per_rule
        .iter()
        .map(|s| s.capped_keys.clone())
        .collect();
    let pairs = cand.pairs.len() as u64;
    finish(
        Finish {
            records,
            settings,
            cmp: &cmp,
            rules: &rules,
            extra,
            threshold: given.map_or(settings.threshold, |m| m.threshold),
            row_ids: &view.row_ids,
            fingerprints: &fingerprints,
            pairs: &cand.pairs,
            masks: &cand.rules,
            vectors: &vectors,
            decided: &decided,
            capped: &capped,
            row_keys: &cand.row_keys,
            reuse: crate::ReuseStats {
                incremental: false,
                fallback: None,
                records_changed: n as u64,
                records_removed: 0,
                pairs_reused: 0,
                pairs_compared: pairs,
            },
        },
        fs,
        stats,
        clock,
    )
}

/// What [`finish`] needs: the candidate pairs with their levels and
/// deterministic decisions, however they were obtained (all compared now,
/// or mostly reused from the previous period's state).
pub struct Finish<'a> {
    pub records: &'a RecordBatch,
    pub settings: &'a MatchSettings,
    pub cmp: &'a Comparator,
    pub rules: &'a [aidlink_block::BlockingRule],
    pub extra: Vec<ExtraField>,
    pub threshold: f64,
    pub row_ids: &'a RowIds<'a>,
    pub fingerprints: &'a [u64],
    pub pairs: &'a [(u32, u32)],
    pub masks: &'a [u32],
    pub vectors: &'a Vectors,
    pub decided: &'a [Option<Rule>],
    pub capped: &'a [Vec<u64>],
    pub row_keys: &'a aidlink_block::incremental::RowKeys,
    pub reuse: crate::ReuseStats,
}

/// Scores the pairs, decides them, clusters, and builds the links table and
/// the state: the one path every run ends with, so a full and an
/// incremental run that agree on pairs and levels agree on everything.
pub fn finish(
    f: Finish<'_>,
    fs: FsModel,
    mut stats: MatchStats,
    mut clock: Clock,
) -> Result<Linkage, MatchError> {
    let (cmp, vectors, settings) = (f.cmp, f.vectors, f.settings);
    let n = f.records.num_rows();
    let tf_slot: Vec<Option<usize>> = (0..cmp.comparisons.len()).map(|c| cmp.tf_slot(c)).collect();
    let weights = aidlink_score::score(
        &fs,
        &vectors.levels,
        vectors.width,
        &vectors.tf,
        vectors.tf_width,
        &tf_slot,
    );
    clock.lap("score");
    let probability: Vec<f64> = weights
        .par_iter()
        .map(|&w| aidlink_score::probability(w))
        .collect();
    let linked: Vec<bool> = probability
        .par_iter()
        .zip(f.decided)
        .map(|(&p, d)| match d {
            Some(r) => r.links(),
            None => p >= f.threshold,
        })
        .collect();
    let edges: Vec<Edge> = f
        .pairs
        .par_iter()
        .zip(&weights)
        .zip(&linked)
        .filter(|(_, l)| **l)
        .map(|((&(left, right), &weight), _)| Edge {
            left,
            right,
            weight,
        })
        .collect();
    let trusted: Vec<Option<u64>> = (0..n)
        .into_par_iter()
        .map(|i| f.row_ids.trusted_id(i))
        .collect();
    clock.lap("decide");
    let clustering = aidlink_cluster::cluster(n, &edges, &trusted);
    clock.lap("cluster");
    stats.pairs_linked = edges.len() as u64;
    stats.clusters = u64::from(clustering.clusters);
    stats.merges_refused = clustering.refused;

    let width = vectors.width;
    let comparisons: Vec<ComparisonColumn> = cmp
        .comparisons
        .iter()
        .enumerate()
        .map(|(c, comp)| {
            let levels: Vec<u8> = (0..vectors.len())
                .into_par_iter()
                .map(|p| vectors.levels[p * width + c])
                .collect();
            let w: Vec<f32> = (0..vectors.len())
                .into_par_iter()
                .map(|p| {
                    let tf = tf_slot[c].map_or(0.0, |s| vectors.tf[p * vectors.tf_width + s]);
                    fs.weight(c, vectors.levels[p * width + c], tf) as f32
                })
                .collect();
            ComparisonColumn {
                name: comp.name.clone(),
                level_names: comp.levels.clone(),
                levels,
                weights: w,
            }
        })
        .collect();
    let rule_names: Vec<String> = f.rules.iter().map(|r| r.name.clone()).collect();
    let model = Model {
        format: MODEL_FORMAT,
        mode: Mode::Probabilistic,
        threshold: f.threshold,
        extra_fields: f.extra,
        fs: Some(fs),
        force_same_id_and_name: settings.force_same_id_and_name,
        forbid_different_valid_ids: settings.forbid_different_valid_ids,
        forbid_same_id_other_person: settings.forbid_same_id_other_person,
    };
    let decided: Vec<u8> = f
        .decided
        .par_iter()
        .map(|&d| crate::state::rule_code(d))
        .collect();
    let digest = state_digest(&model, settings);
    // The links table and the state read the same inputs and not each
    // other: built side by side, the serial stretches of one leave the
    // other core to the other.
    let (links, state) = rayon::join(
        || {
            links::build(
                f.records,
                LinkTable {
                    pairs: f.pairs,
                    rule_masks: f.masks,
                    rule_names: &rule_names,
                    comparisons,
                    match_weight: Some(weights),
                    probability,
                    linked,
                },
            )
        },
        || {
            crate::state::build(crate::state::StateParts {
                digest,
                fingerprints: f.fingerprints,
                pairs: f.pairs,
                masks: f.masks,
                levels: &vectors.levels,
                width: vectors.width,
                tf: &vectors.tf,
                tf_width: vectors.tf_width,
                decided: &decided,
                capped: f.capped,
                row_keys: f.row_keys,
            })
        },
    );
    let (links, state) = (links?, state?);
    clock.lap("links_and_state");
    Ok(Linkage {
        cluster: clustering.cluster,
        links,
        model,
        stats,
        state,
        reuse: f.reuse,
        timings: clock.laps,
    })
}

/// Wall time per step, for logs.
pub struct Clock {
    last: std::time::Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    pub fn lap(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((step, now - self.last));
        self.last = now;
    }
}
