//! Fellegi-Sunter scoring: u from frequencies, m by EM, term-frequency adjustment.
//!
//! * [`estimate_u`]: u probabilities from a random sample of record pairs;
//!   levels too rare to show up in the sample (an ID one digit off) are
//!   estimated from how often they occur among all candidate pairs, which
//!   blocking finds exhaustively, divided by all record pairs;
//! * [`em::run`]: m probabilities by EM on the candidate pairs' distinct
//!   comparison vectors ([`Patterns`]), no labels needed;
//! * [`FsModel`]: the trained model (JSON), its prior (the chance that two
//!   random records are one person) and weights, with term-frequency
//!   adjustment (张伟 agreeing is weak evidence, 欧阳娜娜 strong);
//! * [`score`]: total weights of many pairs, in parallel.
//!
//! It does no IO.

pub mod em;
mod model;
mod patterns;
pub mod sample;

pub use model::{ComparisonParams, FrozenTf, FsModel, LevelParams, Shares, USource, probability};
pub use patterns::Patterns;

use rayon::prelude::*;

/// Sample counts below this make a level "rare": its u comes from frequencies.
pub const MIN_SAMPLE_COUNT: u64 = 20;

/// u probabilities per comparison and level, with their source.
///
/// `sample` holds the level vectors of random pairs, `candidates` those of
/// all candidate pairs, `levels[c]` the number of levels of comparison `c`,
/// and `all_pairs` the number of record pairs of the table.
pub fn estimate_u(
    sample: &[u8],
    candidates: &[u8],
    levels: &[usize],
    all_pairs: f64,
) -> Vec<Vec<(f64, USource)>> {
    let width = levels.len();
    let count = |v: &[u8]| {
        let mut c: Vec<Vec<u64>> = levels.iter().map(|&n| vec![0; n]).collect();
        if width > 0 {
            for pair in v.chunks(width) {
                for (k, &l) in pair.iter().enumerate() {
                    if let Some(x) = c[k].get_mut(l as usize) {
                        *x += 1;
                    }
                }
            }
        }
        c
    };
    let s = count(sample);
    let b = count(candidates);
    (0..width)
        .map(|c| {
            let present: u64 = s[c].iter().skip(1).sum();
            let total: u64 = s[c].iter().sum();
            // Record pairs where this comparison has values on both sides.
            let comparable = if total > 0 {
                all_pairs * present as f64 / total as f64
            } else {
                all_pairs
            };
            let mut row: Vec<(f64, USource)> = (0..levels[c])
                .map(|l| {
                    if l == 0 {
                        (1.0, USource::None)
                    } else if s[c][l] >= MIN_SAMPLE_COUNT {
                        (s[c][l] as f64 / present as f64, USource::Sample)
                    } else {
                        (
                            (b[c][l] as f64 + 1.0) / comparable.max(1.0),
                            USource::Frequency,
                        )
                    }
                })
                .collect();
            // Sampled levels share what the rare ones leave, so the row sums to one.
            let rare: f64 = row
                .iter()
                .filter(|x| x.1 == USource::Frequency)
                .map(|x| x.0)
                .sum();
            let sampled: f64 = row
                .iter()
                .filter(|x| x.1 == USource::Sample)
                .map(|x| x.0)
                .sum();
            if sampled > 0.0 && rare < 1.0 {
                for x in row.iter_mut().filter(|x| x.1 == USource::Sample) {
                    x.0 *= (1.0 - rare) / sampled;
                }
            }
            row
        })
        .collect()
}

/// Total weight (prior plus level weights, term-frequency adjusted) of
/// every pair; `levels` has `width` codes per pair, `tf` has `tf_width`
/// values per pair, and `tf_slot[c]` is comparison `c`'s slot.
pub fn score(
    model: &FsModel,
    levels: &[u8],
    width: usize,
    tf: &[f32],
    tf_width: usize,
    tf_slot: &[Option<usize>],
) -> Vec<f64> {
    let table = model.weight_table();
    let prior = model.prior_weight();
    if width == 0 {
        return Vec::new();
    }
    levels
        .par_chunks(width)
        .enumerate()
        .map(|(p, v)| {
            let mut w = prior;
            for (c, &l) in v.iter().enumerate() {
                w += match tf_slot.get(c).copied().flatten() {
                    Some(s) if tf[p * tf_width + s] > 0.0 => {
                        model.weight(c, l, tf[p * tf_width + s])
                    }
                    _ => table[c].get(l as usize).copied().unwrap_or(0.0),
                };
            }
            w
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> FsModel {
        let lv = |name: &str, m: f64, u: f64| LevelParams {
            name: name.into(),
            m,
            u,
            u_source: USource::Sample,
        };
        FsModel {
            comparisons: vec![ComparisonParams {
                name: "name".into(),
                levels: vec![
                    lv("missing", 1.0, 1.0),
                    lv("exact", 0.9, 0.01),
                    lv("different", 0.1, 0.99),
                ],
                tf: true,
            }],
            prior: 0.5,
            tf_min: 1e-4,
            term_frequencies: FrozenTf::default(),
        }
    }

    #[test]
    fn weights_and_term_frequency() {
        let m = model();
        assert_eq!(m.prior_weight(), 0.0);
        assert!((m.weight(0, 1, 0.0) - (0.9f64 / 0.01).log2()).abs() < 1e-12);
        // A common value agreeing is weaker evidence than a rare one.
        assert!(m.weight(0, 1, 0.05) < m.weight(0, 1, 0.001));
        // Rare values are bounded by tf_min.
        assert_eq!(m.weight(0, 1, 1e-9), m.weight(0, 1, 1e-4));
        assert_eq!(m.weight(0, 0, 0.0), 0.0);
        let w = score(&m, &[1, 2, 0], 1, &[0.0, 0.0, 0.0], 1, &[Some(0)]);
        assert!(w[0] > 0.0 && w[1] < 0.0 && w[2] == 0.0);
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<FsModel>(&json).unwrap(), m);
    }

    #[test]
    fn rare_levels_take_u_from_candidate_frequencies() {
        // Level 1 never shows in the sample; among candidates it shows 9 times.
        let sample = vec![2u8; 1000];
        let mut cand = vec![2u8; 100];
        cand[..9].fill(1);
        let u = estimate_u(&sample, &cand, &[3], 1e6);
        assert_eq!(u[0][1].1, USource::Frequency);
        assert!((u[0][1].0 - 10.0 / 1e6).abs() < 1e-12);
        assert_eq!(u[0][2].1, USource::Sample);
        assert!((u[0][1].0 + u[0][2].0 - 1.0).abs() < 1e-12);
    }
}
