//! Expectation maximisation of m (and blocked-pair u) probabilities
//! without labels, on distinct comparison vectors.
//!
//! Among candidate pairs each pair is a match with probability `lambda`;
//! given its class, its comparison levels are independent with
//! probabilities `m` (matches) or `u` (non-matches). The `missing` level
//! (code 0) says nothing and is left out of both. EM alternates the
//! posterior match probability of every pattern and the weighted level
//! frequencies, until no probability moves by more than the tolerance.

use crate::patterns::Patterns;

/// Parameters per comparison and level (`params[c][level]`; index 0 unused).
pub type LevelTable = Vec<Vec<f64>>;

/// Result of EM.
#[derive(Clone, Debug, PartialEq)]
pub struct EmResult {
    /// m probabilities.
    pub m: LevelTable,
    /// u probabilities among the candidate pairs.
    pub u: LevelTable,
    /// Share of candidate pairs that are matches.
    pub lambda: f64,
    /// Iterations run.
    pub iterations: u32,
    /// Whether the tolerance was reached.
    pub converged: bool,
}

/// Smallest probability EM lets a level have, so no level becomes impossible.
const MIN_P: f64 = 1e-7;

fn normalize(row: &mut [f64]) {
    for x in row.iter_mut().skip(1) {
        *x = x.max(MIN_P);
    }
    let s: f64 = row.iter().skip(1).sum();
    if s > 0.0 {
        for x in row.iter_mut().skip(1) {
            *x /= s;
        }
    }
    if let Some(x) = row.first_mut() {
        *x = 1.0;
    }
}

/// Runs EM from `m`, `u`, `lambda` on `patterns` (`levels[c]` levels per comparison).
pub fn run(
    patterns: &Patterns,
    mut m: LevelTable,
    mut u: LevelTable,
    mut lambda: f64,
    max_iter: u32,
    tol: f64,
) -> EmResult {
    let width = patterns.width;
    for row in m.iter_mut().chain(u.iter_mut()) {
        normalize(row);
    }
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        let mut m_acc: LevelTable = m.iter().map(|r| vec![0.0; r.len()]).collect();
        let mut u_acc: LevelTable = u.iter().map(|r| vec![0.0; r.len()]).collect();
        let (mut match_mass, mut total) = (0.0, 0.0);
        for p in 0..patterns.len() {
            let v = patterns.vector(p);
            let n = patterns.counts[p] as f64;
            // Log-space products keep long vectors from underflowing.
            let (mut lm, mut lu) = (lambda.max(MIN_P).ln(), (1.0 - lambda).max(MIN_P).ln());
            for c in 0..width {
                let l = v[c] as usize;
                if l == 0 || l >= m[c].len() {
                    continue;
                }
                lm += m[c][l].ln();
                lu += u[c][l].ln();
            }
            let w = 1.0 / (1.0 + (lu - lm).exp());
            match_mass += n * w;
            total += n;
            for c in 0..width {
                let l = v[c] as usize;
                if l == 0 || l >= m[c].len() {
                    continue;
                }
                m_acc[c][l] += n * w;
                u_acc[c][l] += n * (1.0 - w);
            }
        }
        for row in m_acc.iter_mut().chain(u_acc.iter_mut()) {
            normalize(row);
        }
        let new_lambda = if total > 0.0 {
            match_mass / total
        } else {
            lambda
        };
        let delta = m
            .iter()
            .flatten()
            .zip(m_acc.iter().flatten())
            .chain(u.iter().flatten().zip(u_acc.iter().flatten()))
            .map(|(a, b)| (a - b).abs())
            .fold((new_lambda - lambda).abs(), f64::max);
        m = m_acc;
        u = u_acc;
        lambda = new_lambda;
        if delta < tol {
            converged = true;
            break;
        }
    }
    EmResult {
        m,
        u,
        lambda,
        iterations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic generator for the test's synthetic pairs.
    fn splitmix(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn draw(p: &[f64], r: f64) -> u8 {
        let mut acc = 0.0;
        for (l, &x) in p.iter().enumerate().skip(1) {
            acc += x;
            if r < acc {
                return l as u8;
            }
        }
        (p.len() - 1) as u8
    }

    #[test]
    fn recovers_known_m_and_u_from_synthetic_vectors() {
        // Three comparisons shaped like id, name and birth; index 0 unused.
        let m_true = [
            vec![1.0, 0.90, 0.06, 0.04],
            vec![1.0, 0.85, 0.10, 0.05],
            vec![1.0, 0.92, 0.05, 0.03],
        ];
        let u_true = [
            vec![1.0, 0.02, 0.03, 0.95],
            vec![1.0, 0.05, 0.10, 0.85],
            vec![1.0, 0.30, 0.10, 0.60],
        ];
        let lambda_true = 0.3;
        let mut state = 7u64;
        let n = 200_000;
        let mut levels = Vec::with_capacity(n * 3);
        for _ in 0..n {
            let is_match = splitmix(&mut state) < lambda_true;
            for c in 0..3 {
                let p = if is_match { &m_true[c] } else { &u_true[c] };
                // 5% of values are missing, in both classes alike.
                let l = if splitmix(&mut state) < 0.05 {
                    0
                } else {
                    draw(p, splitmix(&mut state))
                };
                levels.push(l);
            }
        }
        let patterns = Patterns::count(&levels, 3);
        let flat = |x: f64| vec![vec![1.0, x, 0.2, 0.2]; 3];
        let r = run(&patterns, flat(0.6), flat(0.2), 0.5, 500, 1e-9);
        assert!(
            r.converged,
            "did not converge in {} iterations",
            r.iterations
        );
        assert!((r.lambda - lambda_true).abs() < 0.01, "lambda {}", r.lambda);
        for c in 0..3 {
            for l in 1..4 {
                assert!(
                    (r.m[c][l] - m_true[c][l]).abs() < 0.015,
                    "m[{c}][{l}] = {} vs {}",
                    r.m[c][l],
                    m_true[c][l]
                );
                assert!(
                    (r.u[c][l] - u_true[c][l]).abs() < 0.015,
                    "u[{c}][{l}] = {} vs {}",
                    r.u[c][l],
                    u_true[c][l]
                );
            }
        }
    }
}
