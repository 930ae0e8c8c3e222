//! Explanations: why two records are or are not linked, as a waterfall table.

use crate::{MatchError, Model};
use aidlink_block::columns;
use aidlink_vocab::mask_id_text;
use arrow_array::RecordBatch;
use std::fmt;

/// One comparison's row of the waterfall.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainLine {
    /// Comparison name.
    pub comparison: String,
    /// The left record's value as shown (IDs masked).
    pub left: String,
    /// The right record's value as shown.
    pub right: String,
    /// The level reached.
    pub level: String,
    /// Its weight (log2 Bayes factor); `None` when the mode has no weights.
    pub weight: Option<f64>,
}

/// The explanation of one pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The left record, as `source:row`.
    pub left: String,
    /// The right record.
    pub right: String,
    /// Prior weight (log2 prior odds); `None` without weights.
    pub prior: Option<f64>,
    /// One line per comparison.
    pub lines: Vec<ExplainLine>,
    /// Total weight.
    pub total: Option<f64>,
    /// Match probability.
    pub probability: f64,
    /// Whether the pair links (threshold or deterministic rule).
    pub linked: bool,
    /// A deterministic rule that decided the pair, if any.
    pub rule: Option<String>,
}

fn record_name(records: &RecordBatch, i: usize) -> Result<String, MatchError> {
    let s = columns::utf8(records, aidlink_vocab::schema::SOURCE)?;
    let r = columns::uint64(records, aidlink_vocab::schema::SOURCE_ROW)?;
    Ok(format!("{}:{}", s.value(i), r.value(i)))
}

/// The exact-ID explanation: one line, the ID.
pub fn exact(
    records: &RecordBatch,
    left: usize,
    right: usize,
    _model: &Model,
) -> Result<Explanation, MatchError> {
    let id = columns::opt_utf8(records, "id_number")?;
    let (a, b) = (columns::text(id, left), columns::text(id, right));
    let same = a.is_some() && a == b;
    let show = |v: Option<&str>| v.map_or_else(|| "-".to_string(), mask_id_text);
    Ok(Explanation {
        left: record_name(records, left)?,
        right: record_name(records, right)?,
        prior: None,
        lines: vec![ExplainLine {
            comparison: "id_number".into(),
            left: show(a),
            right: show(b),
            level: match (a, b) {
                (None, _) | (_, None) => "missing",
                _ if same => "exact",
                _ => "different",
            }
            .into(),
            weight: None,
        }],
        total: None,
        probability: if same { 1.0 } else { 0.0 },
        linked: same,
        rule: Some("exact_id".into()),
    })
}

/// The probabilistic explanation: every comparison's level and weight.
pub fn probabilistic(
    records: &RecordBatch,
    left: usize,
    right: usize,
    model: &Model,
) -> Result<Explanation, MatchError> {
    let fs = model.fs.as_ref().ok_or_else(|| {
        MatchError::ModelMismatch("probabilistic model without parameters (no `fs`)".into())
    })?;
    let cmp = crate::prob::comparator(&model.extra_fields);
    let shares = fs.term_frequencies.shares();
    let view = cmp.view(records, crate::prob::tf_source(Some(&shares)))?;
    let (i, j) = (left.min(right), left.max(right));
    let width = cmp.comparisons.len();
    let mut levels = vec![0u8; width];
    let mut tf = vec![0f32; cmp.tf_width()];
    cmp.compare(&view, i, j, &mut levels, &mut tf);
    let mut lines = Vec::with_capacity(width);
    let mut total = fs.prior_weight();
    for (c, comp) in cmp.comparisons.iter().enumerate() {
        let t = cmp.tf_slot(c).map_or(0.0, |s| tf[s]);
        let w = fs.weight(c, levels[c], t);
        total += w;
        let mut level = comp
            .levels
            .get(levels[c] as usize)
            .cloned()
            .unwrap_or_default();
        if t > 0.0 {
            level.push_str(&format!(" (tf {t:.5})"));
        }
        lines.push(ExplainLine {
            comparison: comp.name.clone(),
            left: cmp.display(&view, c, i),
            right: cmp.display(&view, c, j),
            level,
            weight: Some(w),
        });
    }
    let settings = crate::MatchSettings {
        force_same_id_and_name: model.force_same_id_and_name,
        forbid_different_valid_ids: model.forbid_different_valid_ids,
        forbid_same_id_other_person: model.forbid_same_id_other_person,
        ..crate::MatchSettings::default()
    };
    let rule = crate::prob::RuleInputs::new(&cmp).decide(&settings, &view.row_ids, i, j, &levels);
    let probability = aidlink_score::probability(total);
    Ok(Explanation {
        left: record_name(records, i)?,
        right: record_name(records, j)?,
        prior: Some(fs.prior_weight()),
        lines,
        total: Some(total),
        probability,
        linked: rule.map_or(probability >= model.threshold, |r| r.links()),
        rule: rule.map(|r| r.name().to_string()),
    })
}

fn weight_text(w: Option<f64>) -> String {
    w.map_or_else(|| "-".to_string(), |w| format!("{w:+.2}"))
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}  vs  {}", self.left, self.right)?;
        let wl = self
            .lines
            .iter()
            .map(|l| l.left.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let wr = self
            .lines
            .iter()
            .map(|l| l.right.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let wlev = self
            .lines
            .iter()
            .map(|l| l.level.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let pad =
            |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
        writeln!(
            f,
            "{} {} {} {} {:>8} {:>8}",
            pad("comparison", 12),
            pad("left", wl),
            pad("right", wr),
            pad("level", wlev),
            "weight",
            "running"
        )?;
        let mut running = self.prior;
        writeln!(
            f,
            "{} {} {} {} {:>8} {:>8}",
            pad("prior", 12),
            pad("", wl),
            pad("", wr),
            pad("", wlev),
            weight_text(self.prior),
            weight_text(running)
        )?;
        for l in &self.lines {
            running = match (running, l.weight) {
                (Some(r), Some(w)) => Some(r + w),
                _ => None,
            };
            let bar = l.weight.map_or(String::new(), |w| {
                let n = (w.abs().min(40.0) / 2.0).round() as usize;
                if w >= 0.0 {
                    format!(" {}", "+".repeat(n))
                } else {
                    format!(" {}", "-".repeat(n))
                }
            });
            writeln!(
                f,
                "{} {} {} {} {:>8} {:>8}{bar}",
                pad(&l.comparison, 12),
                pad(&l.left, wl),
                pad(&l.right, wr),
                pad(&l.level, wlev),
                weight_text(l.weight),
                weight_text(running)
            )?;
        }
        writeln!(
            f,
            "total weight {}  probability {:.6}",
            weight_text(self.total),
            self.probability
        )?;
        match &self.rule {
            Some(r) => write!(
                f,
                "{} (decided by rule {r})",
                if self.linked { "LINKED" } else { "NOT LINKED" }
            ),
            None => write!(f, "{}", if self.linked { "LINKED" } else { "NOT LINKED" }),
        }
    }
}
