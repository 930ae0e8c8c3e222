//! Where this period's record keys fall in the previous registry's key order.
//!
//! Most of a month's record keys were in last month's registry, which is
//! sorted by key. Finding each key there by its hash (both sides hashed and
//! sorted as integers, equal hashes confirmed on the text) gives its place in
//! key order without sorting millions of long, similar texts; only the keys
//! the registry lacks are sorted as text, and each is put between the
//! registry's keys by a binary search. A place is a `u64` whose order is the
//! keys' text order, so everything after compares integers.

use aidlink_vocab::RecordTexts;
use aidlink_vocab::sort_by_text;
use arrow_array::{Array, StringArray};
use rayon::prelude::*;

/// No entry: a row whose key the previous registry lacks.
pub(crate) const NONE: u32 = u32::MAX;

/// Where each key of a period falls among the previous registry's keys.
pub(crate) struct Placed {
    /// Each row's place and the row, sorted (ties by row). Equal keys have
    /// equal places, and places order rows as their keys' texts do, among
    /// themselves and among the previous registry's keys (see
    /// [`entry_place`]).
    pub by_key: Vec<(u64, u32)>,
    /// Whether some key is on more than one row.
    pub repeated: bool,
    /// For each previous entry, whether some row has its key.
    pub matched: Vec<bool>,
}

/// The place of the previous registry's entry `i` among a period's places.
pub(crate) fn entry_place(i: usize) -> u64 {
    ((i as u64) << 32) | (1 << 31)
}

/// The previous registry's entry a place names, [`NONE`] for the place of
/// a key the registry lacks.
pub(crate) fn entry_of_place(place: u64) -> u32 {
    if place & (1 << 31) != 0 {
        (place >> 32) as u32
    } else {
        NONE
    }
}

/// A key absent from the registry that falls before its entry `before`
/// (the registry's length when after all of them), `rank`-th among such
/// keys in text order.
fn new_place(before: usize, rank: u32) -> u64 {
    ((before as u64) << 32) | u64::from(rank)
}

/// A 64-bit hash of a text: words are mixed in by multiply and rotate, and
/// the result is finished by MurmurHash3's avalanche step. Only equal hashes
/// are ever compared as texts, so the hash needs spread, not secrecy.
pub(crate) fn text_hash(text: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = text.as_bytes();
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// `(hash, index)` of each text, sorted.
pub(crate) fn hashed<'t>(n: usize, text: impl Fn(usize) -> &'t str + Sync) -> Vec<(u64, u32)> {
    let h: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|i| (text_hash(text(i)), i as u32))
        .collect();
    sort_hashes(h)
}

/// The indices of texts whose hashes are equal, in groups of two or more
/// (each in ascending order, groups in no order that matters): every group
/// of equal texts is within one of them.
///
/// Each task hashes a run of the texts into buckets by the hashes' top bits
/// (a counting sort of its own), and each bucket is then gathered from every
/// task and sorted on its own: two parallel passes, where one sort of all
/// pairs would move them through one thread's scatter.
pub(crate) fn same_hashes<'t>(n: usize, text: impl Fn(usize) -> &'t str + Sync) -> Vec<Vec<usize>> {
    const BITS: u32 = 10;
    const PER_TASK: usize = 1 << 16;
    let bucket = |h: u64| (h >> (64 - BITS)) as usize;
    // Each task's bucket starts and its `(hash, index)` pairs by bucket.
    type Bucketed = (Vec<usize>, Vec<(u64, u32)>);
    let tasks: Vec<Bucketed> = (0..n.div_ceil(PER_TASK))
        .into_par_iter()
        .map(|t| {
            let rows = t * PER_TASK..((t + 1) * PER_TASK).min(n);
            let hashes: Vec<u64> = rows.clone().map(|i| text_hash(text(i))).collect();
            let mut starts = vec![0usize; (1 << BITS) + 1];
            for h in &hashes {
                starts[bucket(*h) + 1] += 1;
            }
            for b in 0..1 << BITS {
                starts[b + 1] += starts[b];
            }
            let mut at = starts.clone();
            let mut out = vec![(0u64, 0u32); hashes.len()];
            for (h, i) in hashes.iter().zip(rows) {
                let slot = &mut at[bucket(*h)];
                out[*slot] = (*h, i as u32);
                *slot += 1;
            }
            (starts, out)
        })
        .collect();
    (0..1usize << BITS)
        .into_par_iter()
        .flat_map_iter(|b| {
            let mut items: Vec<(u64, u32)> = tasks
                .iter()
                .flat_map(|(starts, out)| &out[starts[b]..starts[b + 1]])
                .copied()
                .collect();
            items.sort_unstable();
            let groups: Vec<Vec<usize>> = items
                .chunk_by(|a, b| a.0 == b.0)
                .filter(|run| run.len() > 1)
                .map(|run| run.iter().map(|(_, i)| *i as usize).collect())
                .collect();
            groups
        })
        .collect()
}

/// Sorts `(hash, index)` pairs. Hashes are spread evenly, so one pass puts
/// them in buckets by their top bits, and each bucket, small enough for the
/// cache, is sorted on its own, the buckets in parallel: cheaper than a
/// comparison sort of millions of pairs.
fn sort_hashes(mut items: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    const BITS: u32 = 12;
    let n = items.len();
    if n < 1 << 16 {
        items.sort_unstable();
        return items;
    }
    let bucket = |h: u64| (h >> (64 - BITS)) as usize;
    let mut starts = vec![0usize; (1 << BITS) + 1];
    for (h, _) in &items {
        starts[bucket(*h) + 1] += 1;
    }
    for b in 0..1 << BITS {
        starts[b + 1] += starts[b];
    }
    let mut at = starts.clone();
    let mut out = vec![(0u64, 0u32); n];
    for item in &items {
        let slot = &mut at[bucket(item.0)];
        out[*slot] = *item;
        *slot += 1;
    }
    drop(items);
    let mut buckets: Vec<&mut [(u64, u32)]> = Vec::with_capacity(1 << BITS);
    let mut rest: &mut [(u64, u32)] = &mut out;
    for b in 0..1 << BITS {
        let (head, tail) = rest.split_at_mut(starts[b + 1] - starts[b]);
        buckets.push(head);
        rest = tail;
    }
    buckets.par_iter_mut().for_each(|b| b.sort_unstable());
    out
}

/// Places `keys` among the `previous` registry keys (sorted, unique).
///
/// # Panics
///
/// When there are 2^31 keys or more on either side.
pub(crate) fn place(previous: &StringArray, keys: RecordTexts) -> Placed {
    let (n, m) = (keys.len(), previous.len());
    assert!(
        n < 1 << 31 && m < 1 << 31,
        "fewer than 2^31 record keys per period"
    );
    let key = |r: usize| keys.get(r);
    let old = |i: usize| previous.value(i);
    // With no previous keys there is nothing to find.
    let (cur, prev) = if m == 0 {
        (Vec::new(), Vec::new())
    } else {
        (hashed(n, key), hashed(m, old))
    };

    // Pieces of the hash range, joined in parallel: each piece of `cur`
    // and the part of `prev` with the same hashes. A hash found once on
    // each side is a candidate, confirmed below in row order, where the
    // period's keys are read in sequence.
    let pieces = (cur.len() / (1 << 14)).clamp(1, 256);
    let bounds: Vec<usize> = (0..=pieces).map(|p| p * cur.len() / pieces).collect();
    let pairs: Vec<(u32, u32)> = bounds
        .par_windows(2)
        .flat_map_iter(|w| {
            let part = &cur[w[0]..w[1]];
            let lo = match part.first() {
                Some(first) => prev.partition_point(|x| x.0 < first.0),
                None => 0,
            };
            let hi = match part.last() {
                Some(last) => prev.partition_point(|x| x.0 <= last.0),
                None => 0,
            };
            join(part, &prev[lo..hi.max(lo)], &key, &old)
        })
        .collect();
    drop(cur);
    drop(prev);
    let mut entry = vec![NONE; n];
    for (r, i) in &pairs {
        entry[*r as usize] = *i;
    }
    drop(pairs);
    entry
        .par_iter_mut()
        .with_min_len(1 << 12)
        .enumerate()
        .for_each(|(r, e)| {
            if *e != NONE && old(*e as usize) != key(r) {
                *e = NONE;
            }
        });
    // The row of each entry; a second row for one entry is a repeated key.
    let mut row_of = vec![NONE; m];
    let mut repeated = false;
    for (r, e) in entry.iter().enumerate() {
        if *e != NONE {
            let slot = &mut row_of[*e as usize];
            repeated |= *slot != NONE;
            *slot = r as u32;
        }
    }
    let matched: Vec<bool> = row_of.par_iter().map(|r| *r != NONE).collect();

    // Keys the registry lacks, in text order, numbered with equal keys
    // alike, each before the first registry key greater than it.
    let fresh: Vec<usize> = (0..n).filter(|r| entry[*r] == NONE).collect();
    let order = sort_by_text(fresh.len(), |i| key(fresh[i]));
    let mut rank = vec![0u32; fresh.len()];
    let mut next = 0u32;
    for (at, i) in order.iter().enumerate() {
        if at > 0 && key(fresh[order[at - 1]]) != key(fresh[*i]) {
            next += 1;
        }
        rank[*i] = next;
    }
    repeated |= fresh.len() > 1 && (next as usize) < fresh.len() - 1;
    let before: Vec<usize> = fresh
        .par_iter()
        .map(|r| partition_point(previous, key(*r)))
        .collect();
    if repeated {
        // Rows sorted by place; ties (equal keys) by row.
        let mut by_key: Vec<(u64, u32)> = entry
            .par_iter()
            .enumerate()
            .map(|(r, e)| {
                (
                    if *e == NONE {
                        0
                    } else {
                        entry_place(*e as usize)
                    },
                    r as u32,
                )
            })
            .collect();
        for (i, r) in fresh.iter().enumerate() {
            by_key[*r].0 = new_place(before[i], rank[i]);
        }
        by_key.par_sort_unstable();
        return Placed {
            by_key,
            matched,
            repeated,
        };
    }
    // Keys are unique: the registry's entries are already in key order, and
    // the keys it lacks, in text order, go in between; no sort needed.
    drop(entry);
    let mut by_key = Vec::with_capacity(n);
    let mut next_fresh = order.iter().peekable();
    for (i, r) in row_of.iter().enumerate() {
        while let Some(f) = next_fresh.next_if(|f| before[**f] <= i) {
            by_key.push((new_place(before[*f], rank[*f]), fresh[*f] as u32));
        }
        if *r != NONE {
            by_key.push((entry_place(i), *r));
        }
    }
    by_key.extend(next_fresh.map(|f| (new_place(before[*f], rank[*f]), fresh[*f] as u32)));
    Placed {
        by_key,
        matched,
        repeated,
    }
}

/// The `(row, entry)` pairs of equal hashes in a piece of the sorted
/// hashes: where a hash is on one row and one entry, a candidate the caller
/// confirms; where it is on more (repeated keys or a hash collision), only
/// the pairs of equal texts.
fn join<'t>(
    cur: &[(u64, u32)],
    prev: &[(u64, u32)],
    key: &(impl Fn(usize) -> &'t str + Sync),
    old: &(impl Fn(usize) -> &'t str + Sync),
) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(cur.len());
    let (mut a, mut b) = (0, 0);
    while a < cur.len() && b < prev.len() {
        let h = cur[a].0;
        if prev[b].0 < h {
            b += 1;
            continue;
        }
        if prev[b].0 > h {
            a += 1;
            continue;
        }
        let a_end = a + cur[a..].iter().take_while(|x| x.0 == h).count();
        let b_end = b + prev[b..].iter().take_while(|x| x.0 == h).count();
        if a_end - a == 1 && b_end - b == 1 {
            out.push((cur[a].1, prev[b].1));
        } else {
            // Registry keys are unique, so a row matches at most one entry.
            for (_, r) in &cur[a..a_end] {
                let text = key(*r as usize);
                let same = prev[b..b_end]
                    .iter()
                    .find(|(_, i)| old(*i as usize) == text);
                if let Some((_, i)) = same {
                    out.push((*r, *i));
                }
            }
        }
        a = a_end;
        b = b_end;
    }
    out
}

/// How many of the sorted `texts` are less than `text`.
fn partition_point(texts: &StringArray, text: &str) -> usize {
    let (mut lo, mut hi) = (0, texts.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if texts.value(mid) < text {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row's place, from the rows in place order.
    fn places_by_row(placed: &Placed, n: usize) -> Vec<u64> {
        let mut places = vec![0; n];
        for (p, r) in &placed.by_key {
            places[*r as usize] = *p;
        }
        let mut sorted = placed.by_key.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, placed.by_key);
        places
    }

    #[test]
    fn unique_keys_are_put_in_order_without_a_sort() {
        let previous = StringArray::from(vec!["b", "d", "f", "h"]);
        let keys: Vec<String> = ["i", "f", "a", "e", "b", "c", "g"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let placed = place(&previous, RecordTexts::Strings(&keys));
        assert!(!placed.repeated);
        let rows: Vec<u32> = placed.by_key.iter().map(|(_, r)| *r).collect();
        assert_eq!(rows, [2, 4, 5, 3, 1, 6, 0]);
        places_by_row(&placed, keys.len());
        assert_eq!(placed.matched, [true, false, true, false]);
    }

    #[test]
    fn places_order_keys_as_their_texts_among_the_registry() {
        let previous = StringArray::from(vec!["b", "d", "f"]);
        let keys: Vec<String> = ["f", "a", "d", "e", "g", "a", "c", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let placed = place(&previous, RecordTexts::Strings(&keys));
        assert!(placed.repeated);
        let places = places_by_row(&placed, keys.len());
        let none = NONE;
        let entries: Vec<u32> = places.iter().map(|p| entry_of_place(*p)).collect();
        assert_eq!(entries, [2, none, 1, none, none, none, none, none]);
        assert_eq!(placed.matched, [false, true, true]);
        // Every pair of rows, and every row against every entry, compares as
        // its texts do.
        for a in 0..keys.len() {
            for b in 0..keys.len() {
                assert_eq!(
                    places[a].cmp(&places[b]),
                    keys[a].cmp(&keys[b]),
                    "{} vs {}",
                    keys[a],
                    keys[b]
                );
            }
            for i in 0..previous.len() {
                if entries[a] as usize != i {
                    assert_eq!(
                        places[a].cmp(&entry_place(i)),
                        keys[a].as_str().cmp(previous.value(i)),
                    );
                } else {
                    assert_eq!(places[a], entry_place(i));
                }
            }
        }
    }

    #[test]
    fn an_empty_registry_places_by_text_alone() {
        let previous = StringArray::from(Vec::<&str>::new());
        let keys: Vec<String> = ["b", "a", "b"].iter().map(|s| s.to_string()).collect();
        let placed = place(&previous, RecordTexts::Strings(&keys));
        let places = places_by_row(&placed, keys.len());
        assert_eq!(places[0], places[2]);
        assert!(places[1] < places[0]);
        assert!(placed.matched.is_empty());
        assert!(placed.repeated);
    }

    #[test]
    fn equal_hashes_are_told_apart_by_their_texts() {
        // Hashes made to collide: only equal texts pair up; a hash once on
        // each side is a candidate for the caller to confirm.
        let keys = ["x", "y", "z"];
        let olds = ["y", "w", "x", "q"];
        let cur = [(5, 0), (5, 1), (7, 2)];
        let prev = [(5, 0), (5, 1), (5, 2), (7, 3)];
        let got = join(&cur, &prev, &|r| keys[r], &|i| olds[i]);
        assert_eq!(got, [(0, 2), (1, 0), (2, 3)]);
    }

    #[test]
    fn same_hashes_groups_equal_texts() {
        // Texts repeated 1, 2 or 3 times over more rows than one task holds.
        let texts: Vec<String> = (0..200_000u32)
            .map(|i| format!("k{}", if i % 7 == 0 { i / 2 } else { i }))
            .collect();
        let mut groups = same_hashes(texts.len(), |i| texts[i].as_str());
        for g in &mut groups {
            assert!(g.len() > 1 && g.is_sorted());
            // Distinct texts may share a hash; equal ones always do.
            let first = g[0];
            g.retain(|i| texts[*i] == texts[first]);
        }
        groups.retain(|g| g.len() > 1);
        groups.sort();
        let mut want: Vec<Vec<usize>> = Vec::new();
        let mut first: std::collections::HashMap<&str, usize> = Default::default();
        for (i, t) in texts.iter().enumerate() {
            match first.get(t.as_str()) {
                Some(at) => want[*at].push(i),
                None => {
                    first.insert(t, want.len());
                    want.push(vec![i]);
                }
            }
        }
        want.retain(|g| g.len() > 1);
        want.sort();
        assert_eq!(groups, want);
    }

    #[test]
    fn hash_sort_orders_pairs() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let items: Vec<(u64, u32)> = (0..100_000u32)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Some repeated hashes, as repeated keys give.
                (if i % 10 == 0 { 42 } else { x }, i)
            })
            .collect();
        let mut want = items.clone();
        want.sort_unstable();
        assert_eq!(sort_hashes(items), want);
    }

    #[test]
    fn hashes_differ_for_texts_that_differ_late() {
        let a = text_hash("household|hh:H0000001/id:110105201203051234");
        let b = text_hash("household|hh:H0000001/id:110105201203051235");
        assert_ne!(a, b);
        assert_ne!(text_hash(""), text_hash("\0"));
    }
}
