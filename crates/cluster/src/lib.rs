//! Clusters scored pairs into persons, deterministically.
//!
//! Linked pairs are merged strongest first (by weight, then by row indices,
//! a total order), with a union-find. The chain problem (A~B and B~C linked,
//! A and C clearly different people) is handled by a constraint checked at
//! every merge: each record may carry a *trusted ID* (a check-valid ID that
//! its own birth date and gender do not contradict), and a merge that would
//! put two different trusted IDs into one person is refused. Because merges
//! go strongest first, the weaker link of a chain is the one refused. The
//! result depends only on the edges, never on thread count or input order of
//! equal edges, and clusters are numbered by first appearance in row order.
//!
//! ```
//! use aidlink_cluster::{Edge, cluster};
//! let edges = [Edge { left: 0, right: 1, weight: 9.0 }, Edge { left: 1, right: 2, weight: 3.0 }];
//! // Rows 0 and 2 carry different trusted IDs: the weaker link 1~2 is refused.
//! let c = cluster(4, &edges, &[Some(7), None, Some(8), None]);
//! assert_eq!(c.cluster, vec![0, 0, 1, 2]);
//! assert_eq!(c.refused, 1);
//! ```
//!
//! It does no IO.

use rayon::prelude::*;
use std::cmp::Ordering;

/// A linked pair of rows with its match weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// Row index of one record.
    pub left: u32,
    /// Row index of the other record.
    pub right: u32,
    /// Match weight (higher is stronger); decides merge order.
    pub weight: f64,
}

/// Persons found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clustering {
    /// Dense cluster index per row, numbered by first appearance in row order.
    pub cluster: Vec<u32>,
    /// Number of clusters.
    pub clusters: u32,
    /// Edges that merged two clusters.
    pub merges: u64,
    /// Edges refused because they would join two different trusted IDs.
    pub refused: u64,
}

/// A disjoint-set forest over rows, with path halving and union by size.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = self.parent[x as usize];
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns the new representative, or
    /// `None` when they were already one set.
    pub fn union(&mut self, a: u32, b: u32) -> Option<u32> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return None;
        }
        // The larger set keeps its root; ties go to the smaller index so the
        // forest shape, though never observable, is deterministic too.
        let (big, small) = match self.size[ra as usize].cmp(&self.size[rb as usize]) {
            Ordering::Greater => (ra, rb),
            Ordering::Less => (rb, ra),
            Ordering::Equal => (ra.min(rb), ra.max(rb)),
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        Some(big)
    }

    /// Dense set index per element, numbered by first appearance.
    pub fn dense(&mut self) -> (Vec<u32>, u32) {
        let n = self.parent.len();
        // Roots are found in parallel without compressing paths (reading
        // the forest only); numbering them by first appearance is one
        // sequential pass.
        let parent = &self.parent;
        let roots: Vec<u32> = (0..n as u32)
            .into_par_iter()
            .map(|mut x| {
                while parent[x as usize] != x {
                    x = parent[x as usize];
                }
                x
            })
            .collect();
        let mut index = vec![u32::MAX; n];
        let mut out = Vec::with_capacity(n);
        let mut next = 0u32;
        for &r in &roots {
            let r = r as usize;
            if index[r] == u32::MAX {
                index[r] = next;
                next += 1;
            }
            out.push(index[r]);
        }
        (out, next)
    }
}

/// Clusters `n` rows by `edges` (all of which are links), refusing merges
/// that would join two different values of `trusted_id` (one per row; `None`
/// for a row without a trusted ID).
pub fn cluster(n: usize, edges: &[Edge], trusted_id: &[Option<u64>]) -> Clustering {
    // The order is total (no two edges have the same rows), so an unstable
    // parallel sort gives one result whatever the thread count.
    let mut order: Vec<Edge> = edges.to_vec();
    order.par_sort_unstable_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then(x.left.cmp(&y.left))
            .then(x.right.cmp(&y.right))
    });
    let mut uf = UnionFind::new(n);
    let mut id: Vec<Option<u64>> = (0..n)
        .into_par_iter()
        .map(|i| trusted_id.get(i).copied().flatten())
        .collect();
    let (mut merges, mut refused) = (0u64, 0u64);
    for e in &order {
        let (ra, rb) = (uf.find(e.left), uf.find(e.right));
        if ra == rb {
            continue;
        }
        let (ia, ib) = (id[ra as usize], id[rb as usize]);
        if let (Some(a), Some(b)) = (ia, ib)
            && a != b
        {
            refused += 1;
            continue;
        }
        if let Some(root) = uf.union(ra, rb) {
            id[root as usize] = ia.or(ib);
            merges += 1;
        }
    }
    let (cluster, clusters) = uf.dense();
    Clustering {
        cluster,
        clusters,
        merges,
        refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(left: u32, right: u32, weight: f64) -> Edge {
        Edge {
            left,
            right,
            weight,
        }
    }

    #[test]
    fn numbers_clusters_by_first_appearance() {
        let c = cluster(5, &[e(3, 4, 1.0), e(1, 4, 2.0)], &[None; 5]);
        assert_eq!(c.cluster, vec![0, 1, 2, 1, 1]);
        assert_eq!(c.clusters, 3);
        assert_eq!(c.merges, 2);
    }

    #[test]
    fn chain_cuts_the_weakest_link_between_two_trusted_ids() {
        // A(0, id 1) ~ B(1) strong, B ~ C(2, id 2) weak: A and B stay, C apart.
        let ids = [Some(1), None, Some(2)];
        let c = cluster(3, &[e(1, 2, 5.0), e(0, 1, 20.0)], &ids);
        assert_eq!(c.cluster, vec![0, 0, 1]);
        assert_eq!(c.refused, 1);
        // The same chain with the weights the other way round keeps B with C.
        let c = cluster(3, &[e(1, 2, 20.0), e(0, 1, 5.0)], &ids);
        assert_eq!(c.cluster, vec![0, 1, 1]);
    }

    #[test]
    fn same_trusted_id_merges_and_order_of_input_does_not_matter() {
        let ids = [Some(1), Some(1), None, Some(1)];
        let edges = [e(0, 1, 3.0), e(1, 2, 3.0), e(2, 3, 3.0)];
        let mut rev = edges;
        rev.reverse();
        let a = cluster(4, &edges, &ids);
        assert_eq!(a, cluster(4, &rev, &ids));
        assert_eq!(a.cluster, vec![0, 0, 0, 0]);
        assert_eq!(a.refused, 0);
    }
}
