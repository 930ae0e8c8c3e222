//! `aidlink evaluate`: measures a published period against the generator's truth.
//!
//! ```text
//! aidlink synth --students 20000 --out city
//! aidlink run --config city/aidlink.toml --period 2026-01 --out city/out
//! aidlink evaluate --out city/out --period 2026-01 --truth city/truth
//! ```
//!
//! Prints pairwise precision, recall and F1 of the published clustering and
//! of exact-ID linking on the same records, and each flag's precision and
//! recall. Only synthetic data has a truth; this is a development tool.

use crate::exit::{Exit, ExitContext, Failure, fail};
use aidlink_vocab::Period;
use arrow_array::{Array, RecordBatch, StringArray, UInt64Array};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

/// Measure linkage and flags of a published period against synthetic truth.
#[derive(Args)]
pub struct EvaluateArgs {
    /// The output folder of `aidlink run`.
    #[arg(long)]
    pub out: PathBuf,
    /// The period to evaluate.
    #[arg(long)]
    pub period: Period,
    /// The generator's truth folder (holds YYYY-MM/rows.csv and flags.csv).
    #[arg(long)]
    pub truth: PathBuf,
    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Pairwise scores of a clustering against the truth.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct PairScores {
    /// Share of predicted same-person pairs that are true.
    pub precision: f64,
    /// Share of true same-person pairs that are predicted.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Predicted pairs.
    pub predicted_pairs: u64,
    /// True pairs.
    pub true_pairs: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise precision/recall/F1 of `predicted` against `truth`, one label per record.
pub fn pair_scores<A: Ord + Clone, B: Ord + Clone>(predicted: &[A], truth: &[B]) -> PairScores {
    let mut joint: BTreeMap<(A, B), u64> = BTreeMap::new();
    let mut pred: BTreeMap<A, u64> = BTreeMap::new();
    let mut real: BTreeMap<B, u64> = BTreeMap::new();
    for (p, t) in predicted.iter().zip(truth) {
        *joint.entry((p.clone(), t.clone())).or_default() += 1;
        *pred.entry(p.clone()).or_default() += 1;
        *real.entry(t.clone()).or_default() += 1;
    }
    let tp: u64 = joint.values().map(|&n| pairs(n)).sum();
    let pp: u64 = pred.values().map(|&n| pairs(n)).sum();
    let tpairs: u64 = real.values().map(|&n| pairs(n)).sum();
    let precision = if pp == 0 { 1.0 } else { tp as f64 / pp as f64 };
    let recall = if tpairs == 0 {
        1.0
    } else {
        tp as f64 / tpairs as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    PairScores {
        precision,
        recall,
        f1,
        predicted_pairs: pp,
        true_pairs: tpairs,
    }
}

/// Precision and recall of one flag.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FlagScores {
    /// Flags raised.
    pub predicted: usize,
    /// Flags in the truth.
    pub truth: usize,
    /// Raised flags that are true.
    pub correct: usize,
    /// correct / predicted.
    pub precision: f64,
    /// correct / truth.
    pub recall: f64,
}

fn string_col<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a StringArray, Failure> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| {
            fail(
                Exit::Input,
                format!("published table lacks string column `{name}`"),
            )
        })
}

/// Runs the subcommand.
pub fn main(args: EvaluateArgs) -> Result<Exit, Failure> {
    let records = aidlink_publish::load_table(&args.out, args.period, "records")
        .exit(Exit::Input)?
        .ok_or_else(|| {
            fail(
                Exit::Input,
                format!(
                    "no published records for {} in {}",
                    args.period,
                    args.out.display()
                ),
            )
        })?;
    let flags = aidlink_publish::load_table(&args.out, args.period, "flags")
        .exit(Exit::Input)?
        .ok_or_else(|| fail(Exit::Input, "no published flags table"))?;
    let truth_dir = args.truth.join(args.period.to_string());

    // Truth: (source, row) -> true person.
    let mut truth_of: HashMap<(String, u64), String> = HashMap::new();
    let rows_path = truth_dir.join("rows.csv");
    let mut rdr = csv::Reader::from_path(&rows_path).exit(Exit::Input)?;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.exit(Exit::Input)?;
        let row: u64 = rec.get(1).unwrap_or("").parse().map_err(|_| {
            fail(
                Exit::Input,
                format!(
                    "{}: row {}: source_row is not a number",
                    rows_path.display(),
                    i + 1
                ),
            )
        })?;
        truth_of.insert(
            (rec.get(0).unwrap_or("").to_string(), row),
            rec.get(2).unwrap_or("").to_string(),
        );
    }

    let source = string_col(&records, "source")?;
    let person = string_col(&records, "person_id")?;
    let id_number = string_col(&records, "id_number")?;
    let source_row = records
        .column_by_name("source_row")
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .ok_or_else(|| fail(Exit::Input, "published records lack source_row"))?;
    let mut predicted = Vec::with_capacity(records.num_rows());
    let mut exact = Vec::with_capacity(records.num_rows());
    let mut truth = Vec::with_capacity(records.num_rows());
    for i in 0..records.num_rows() {
        let key = (source.value(i).to_string(), source_row.value(i));
        let t = truth_of
            .get(&key)
            .ok_or_else(|| fail(Exit::Input, format!("truth has no row {}:{}", key.0, key.1)))?;
        truth.push(t.clone());
        predicted.push(person.value(i).to_string());
        // Exact-ID baseline: records with the same normalized ID are one
        // person; a record without an ID stands alone.
        exact.push(if id_number.is_valid(i) {
            format!("id:{}", id_number.value(i))
        } else {
            format!("row:{}:{}", key.0, key.1)
        });
    }
    let linked = pair_scores(&predicted, &truth);
    let baseline = pair_scores(&exact, &truth);

    // Flags: map each predicted person to the true person most of its records belong to.
    let mut votes: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for (p, t) in predicted.iter().zip(&truth) {
        *votes
            .entry(p.as_str())
            .or_default()
            .entry(t.as_str())
            .or_default() += 1;
    }
    let majority: BTreeMap<&str, &str> = votes
        .iter()
        .map(|(p, ts)| {
            let best = ts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(t, _)| *t)
                .unwrap_or("");
            (*p, best)
        })
        .collect();
    let flag_person = string_col(&flags, "person_id")?;
    let flag_kind = string_col(&flags, "flag")?;
    let mut got: BTreeSet<(String, String)> = BTreeSet::new();
    for i in 0..flags.num_rows() {
        let t = majority.get(flag_person.value(i)).copied().unwrap_or("?");
        got.insert((flag_kind.value(i).to_string(), t.to_string()));
    }
    let mut want: BTreeSet<(String, String)> = BTreeSet::new();
    let flags_path = truth_dir.join("flags.csv");
    let mut rdr = csv::Reader::from_path(&flags_path).exit(Exit::Input)?;
    for rec in rdr.records() {
        let rec = rec.exit(Exit::Input)?;
        want.insert((
            rec.get(1).unwrap_or("").to_string(),
            rec.get(0).unwrap_or("").to_string(),
        ));
    }
    let kinds: BTreeSet<&String> = got.iter().chain(&want).map(|(k, _)| k).collect();
    let mut flag_scores = BTreeMap::new();
    for kind in kinds {
        let g: BTreeSet<_> = got.iter().filter(|(k, _)| k == kind).collect();
        let w: BTreeSet<_> = want.iter().filter(|(k, _)| k == kind).collect();
        let correct = g.intersection(&w).count();
        flag_scores.insert(
            kind.clone(),
            FlagScores {
                predicted: g.len(),
                truth: w.len(),
                correct,
                precision: if g.is_empty() {
                    1.0
                } else {
                    correct as f64 / g.len() as f64
                },
                recall: if w.is_empty() {
                    1.0
                } else {
                    correct as f64 / w.len() as f64
                },
            },
        );
    }

    if args.json {
        let v = serde_json::json!({
            "period": args.period.to_string(),
            "records": records.num_rows(),
            "linked": linked,
            "exact_id": baseline,
            "flags": flag_scores,
        });
        println!("{v}");
    } else {
        println!("period {}  records {}", args.period, records.num_rows());
        println!(
            "  {:<10} {:>9} {:>9} {:>9} {:>12} {:>12}",
            "linkage", "precision", "recall", "F1", "pred pairs", "true pairs"
        );
        for (name, s) in [("aidlink", linked), ("exact ID", baseline)] {
            println!(
                "  {:<10} {:>9.4} {:>9.4} {:>9.4} {:>12} {:>12}",
                name, s.precision, s.recall, s.f1, s.predicted_pairs, s.true_pairs
            );
        }
        println!(
            "  {:<20} {:>9} {:>9} {:>8} {:>8} {:>8}",
            "flag", "precision", "recall", "raised", "true", "correct"
        );
        for (kind, s) in &flag_scores {
            println!(
                "  {:<20} {:>9.4} {:>9.4} {:>8} {:>8} {:>8}",
                kind, s.precision, s.recall, s.predicted, s.truth, s.correct
            );
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_scores_count_pairs_within_clusters() {
        // Truth: {a,b,c} {d}; predicted: {a,b} {c,d}.
        let s = pair_scores(&[1, 1, 2, 2], &["x", "x", "x", "y"]);
        assert_eq!((s.predicted_pairs, s.true_pairs), (2, 3));
        assert!((s.precision - 0.5).abs() < 1e-12);
        assert!((s.recall - 1.0 / 3.0).abs() < 1e-12);
    }
}
