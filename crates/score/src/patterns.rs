//! Distinct comparison vectors with their counts: EM runs on a few
//! thousand patterns instead of millions of pairs.

use rayon::prelude::*;

/// Distinct level vectors and how many pairs have each, in sorted order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patterns {
    /// Comparisons per vector.
    pub width: usize,
    /// The distinct vectors, `width` codes each, sorted.
    pub vectors: Vec<u8>,
    /// Pairs per vector.
    pub counts: Vec<u64>,
}

impl Patterns {
    /// Counts the distinct vectors of `levels` (`width` codes per pair).
    pub fn count(levels: &[u8], width: usize) -> Patterns {
        if width == 0 || levels.is_empty() {
            return Patterns {
                width,
                ..Patterns::default()
            };
        }
        let mut out = Patterns {
            width,
            ..Patterns::default()
        };
        if width <= 16 {
            // Pack each vector into a u128, most significant code first, so
            // numeric order is the vectors' lexicographic order.
            let mut keys: Vec<u128> = levels
                .par_chunks(width)
                .map(|v| v.iter().fold(0u128, |k, &x| (k << 8) | u128::from(x)))
                .collect();
            keys.par_sort_unstable();
            let mut i = 0;
            while i < keys.len() {
                let mut j = i + 1;
                while j < keys.len() && keys[j] == keys[i] {
                    j += 1;
                }
                let k = keys[i];
                out.vectors
                    .extend((0..width).rev().map(|b| ((k >> (8 * b)) & 0xff) as u8));
                out.counts.push((j - i) as u64);
                i = j;
            }
        } else {
            let mut idx: Vec<u32> = (0..(levels.len() / width) as u32).collect();
            let row = |p: u32| &levels[p as usize * width..(p as usize + 1) * width];
            idx.par_sort_unstable_by(|&a, &b| row(a).cmp(row(b)));
            let mut i = 0;
            while i < idx.len() {
                let mut j = i + 1;
                while j < idx.len() && row(idx[j]) == row(idx[i]) {
                    j += 1;
                }
                out.vectors.extend_from_slice(row(idx[i]));
                out.counts.push((j - i) as u64);
                i = j;
            }
        }
        out
    }

    /// [`Patterns::count`], and the index of each pair's vector among the
    /// distinct ones.
    pub fn count_indexed(levels: &[u8], width: usize) -> (Patterns, Vec<u32>) {
        let p = Patterns::count(levels, width);
        if p.is_empty() {
            return (p, Vec::new());
        }
        let index = levels
            .par_chunks(width)
            .map(|v| {
                // The distinct vectors are sorted, so a binary search finds each.
                let (mut lo, mut hi) = (0usize, p.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if p.vector(mid) < v {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo as u32
            })
            .collect();
        (p, index)
    }

    /// The patterns of a subset of the pairs, given how many of the subset's
    /// pairs have each vector (`counts[p]` for vector `p`): what
    /// [`Patterns::count`] gives for the subset's levels, without sorting them.
    pub fn subset(&self, counts: &[u64]) -> Patterns {
        let mut out = Patterns {
            width: self.width,
            ..Patterns::default()
        };
        for (p, &n) in counts.iter().enumerate() {
            if n > 0 {
                out.vectors.extend_from_slice(self.vector(p));
                out.counts.push(n);
            }
        }
        out
    }

    /// Number of distinct vectors.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Vector `p`.
    pub fn vector(&self, p: usize) -> &[u8] {
        &self.vectors[p * self.width..(p + 1) * self.width]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_vectors_in_order() {
        let levels = [1, 2, 0, 1, 1, 2, 1, 2];
        let p = Patterns::count(&levels, 2);
        assert_eq!(p.vectors, vec![0, 1, 1, 2]);
        assert_eq!(p.counts, vec![1, 3]);
        let wide: Vec<u8> = (0..40).map(|i| (i % 3) as u8).collect();
        let q = Patterns::count(&[wide.clone(), wide].concat(), 20);
        assert_eq!(q.counts.iter().sum::<u64>(), 4);
    }

    #[test]
    fn indexed_counts_and_subsets_match_counting_afresh() {
        let levels = [1, 2, 0, 1, 1, 2, 1, 2, 3, 0, 0, 1];
        let (p, index) = Patterns::count_indexed(&levels, 2);
        assert_eq!(p, Patterns::count(&levels, 2));
        for (k, &x) in index.iter().enumerate() {
            assert_eq!(p.vector(x as usize), &levels[2 * k..2 * k + 2]);
        }
        // The subset of pairs 0, 2 and 4: vectors [1, 2], [1, 2], [3, 0].
        let mut counts = vec![0u64; p.len()];
        for k in [0, 2, 4] {
            counts[index[k] as usize] += 1;
        }
        let sub: Vec<u8> = [0, 2, 4]
            .iter()
            .flat_map(|&k| levels[2 * k..2 * k + 2].to_vec())
            .collect();
        assert_eq!(p.subset(&counts), Patterns::count(&sub, 2));
    }
}
