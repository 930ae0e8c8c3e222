//! Random record pairs for estimating u probabilities, drawn from a seeded
//! generator so a run is reproducible.

/// SplitMix64: small, fast and good enough to pick random pairs.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform integer below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// `count` random pairs of distinct rows among `rows` (or every pair when
/// there are fewer), each as `(smaller, larger)`, sorted.
pub fn random_pairs(rows: usize, count: usize, seed: u64) -> Vec<(u32, u32)> {
    if rows < 2 {
        return Vec::new();
    }
    let all = rows as u64 * (rows as u64 - 1) / 2;
    let mut out: Vec<(u32, u32)> = if all <= count as u64 {
        (0..rows as u32)
            .flat_map(|i| ((i + 1)..rows as u32).map(move |j| (i, j)))
            .collect()
    } else {
        let mut g = SplitMix::new(seed);
        (0..count)
            .map(|_| {
                let i = g.below(rows as u64) as u32;
                let mut j = g.below(rows as u64 - 1) as u32;
                if j >= i {
                    j += 1;
                }
                (i.min(j), i.max(j))
            })
            .collect()
    };
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_distinct_rows_and_reproducible() {
        let a = random_pairs(1000, 500, 3);
        assert_eq!(a, random_pairs(1000, 500, 3));
        assert!(a.iter().all(|&(i, j)| i < j && j < 1000));
        assert_eq!(random_pairs(4, 100, 1).len(), 6);
    }
}
