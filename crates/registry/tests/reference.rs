//! `assign` against a plain reading of the documented rule.
//!
//! The crate's `assign` works on hashed places, dense indices and flat
//! arrays to be fast at millions of records. This test states the rule of
//! `docs/deltas.md` again the slow, obvious way (maps keyed by text and
//! person number) and checks that both give the same person IDs, registry
//! and events, period after period, on random small cities: repeated keys,
//! sparse and huge cluster indices, huge person numbers, absences, merges,
//! splits and returns.

// A test: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use aidlink_registry::{
    AssignOptions, Assignment, Registry, assign_array_with, assign_with, registry_schema,
};
use arrow_array::{Array, RecordBatch, StringArray, UInt32Array, UInt64Array};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// An event as `(kind, person number, other person number, detail)`.
type Event = (&'static str, u64, Option<u64>, String);

/// What the rule gives: person numbers per row, registry entries
/// `(key, person, absent periods)` in key order, next number, events.
#[derive(Debug, PartialEq)]
struct Outcome {
    persons: Vec<u64>,
    entries: Vec<(String, u64, u32)>,
    next_number: u64,
    events: Vec<Event>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn kind_order(kind: &str) -> u8 {
    match kind {
        "new" => 0,
        "merge" => 1,
        "split" => 2,
        "retire" => 3,
        _ => 4,
    }
}

/// The rule, read plainly.
fn reference(prev: &Registry, keys: &[String], cluster: &[u32], keep: u32) -> Outcome {
    let n = keys.len();
    let ranks: BTreeMap<&str, usize> = keys
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect();
    let rank = |r: usize| ranks[keys[r].as_str()];
    // Clusters by index, rows by (rank, row); then ordered by rank lists.
    let mut by_index: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (r, c) in cluster.iter().enumerate() {
        by_index.entry(*c).or_default().push(r);
    }
    let mut clusters: Vec<Vec<usize>> = by_index
        .into_values()
        .map(|mut rows| {
            rows.sort_by_key(|r| (rank(*r), *r));
            rows
        })
        .collect();
    // A stable sort: clusters with the same rank list stay in index order.
    clusters.sort_by_cached_key(|rows| rows.iter().map(|r| rank(*r)).collect::<Vec<_>>());
    let overlap: Vec<BTreeMap<u64, usize>> = clusters
        .iter()
        .map(|rows| {
            let mut m = BTreeMap::new();
            for r in rows {
                if let Some(p) = prev.person_of(&keys[*r]) {
                    *m.entry(p).or_insert(0) += 1;
                }
            }
            m
        })
        .collect();
    let mut pairs: Vec<(Reverse<usize>, u64, usize)> = Vec::new();
    for (c, m) in overlap.iter().enumerate() {
        for (p, k) in m {
            pairs.push((Reverse(*k), *p, c));
        }
    }
    pairs.sort();
    let mut number: Vec<Option<u64>> = vec![None; clusters.len()];
    let mut holder: BTreeMap<u64, usize> = BTreeMap::new();
    for (_, p, c) in pairs {
        if number[c].is_none() && !holder.contains_key(&p) {
            number[c] = Some(p);
            holder.insert(p, c);
        }
    }
    let mut next = prev.next_number();
    let mut events: Vec<Event> = Vec::new();
    let numbers: Vec<u64> = (0..clusters.len())
        .map(|c| {
            number[c].unwrap_or_else(|| {
                let p = next;
                next += 1;
                if overlap[c].is_empty() {
                    let size = clusters[c].len();
                    let detail = format!("{size} record{} not seen before", plural(size));
                    events.push(("new", p, None, detail));
                }
                p
            })
        })
        .collect();
    let mut sizes: BTreeMap<u64, usize> = BTreeMap::new();
    for (_, p) in prev.present_entries() {
        *sizes.entry(p).or_insert(0) += 1;
    }
    let mut received: BTreeMap<u64, Vec<(u64, usize)>> = BTreeMap::new();
    for (c, m) in overlap.iter().enumerate() {
        for (p, k) in m {
            received.entry(*p).or_default().push((numbers[c], *k));
        }
    }
    let everyone: BTreeSet<u64> = sizes.keys().chain(received.keys()).copied().collect();
    let mut merged_into: BTreeMap<u64, u64> = BTreeMap::new();
    for p in everyone {
        let total = sizes.get(&p).copied().unwrap_or(0);
        let Some(parts) = received.get_mut(&p) else {
            let detail = format!("none of its {total} record{} this period", plural(total));
            events.push(("retire", p, None, detail));
            continue;
        };
        parts.sort();
        if let Some(c) = holder.get(&p) {
            if total == 0 {
                let size = clusters[*c].len();
                let detail = format!("back with {size} record{} after an absence", plural(size));
                events.push(("return", p, None, detail));
            }
            for (q, k) in parts.iter().filter(|(q, _)| *q >= prev.next_number()) {
                let detail = format!(
                    "{k} of its {total} record{} moved to the new person",
                    plural(total)
                );
                events.push(("split", *q, Some(p), detail));
            }
        } else {
            let (survivor, k) = *parts.iter().max_by_key(|(q, k)| (*k, Reverse(*q))).unwrap();
            merged_into.insert(p, survivor);
            let detail = format!(
                "{k} of its {total} record{} joined this person",
                plural(total)
            );
            events.push(("merge", survivor, Some(p), detail));
        }
    }
    events.sort_by_key(|e| (e.1, kind_order(e.0), e.2));
    let mut persons = vec![0; n];
    for (c, rows) in clusters.iter().enumerate() {
        for r in rows {
            persons[*r] = numbers[c];
        }
    }
    let mut entries: BTreeMap<String, (u64, u32)> = BTreeMap::new();
    for (r, k) in keys.iter().enumerate() {
        let e = entries.entry(k.clone()).or_insert((persons[r], 0));
        e.0 = e.0.min(persons[r]);
    }
    for (k, p) in prev.entries() {
        let periods = prev.absent_periods(k).unwrap() + 1;
        if !entries.contains_key(k) && periods <= keep {
            let p = merged_into.get(&p).copied().unwrap_or(p);
            entries.insert(k.to_string(), (p, periods));
        }
    }
    Outcome {
        persons,
        entries: entries.into_iter().map(|(k, (p, a))| (k, p, a)).collect(),
        next_number: next,
        events,
    }
}

/// What `assign` gave, in the reference's terms.
fn outcome(a: &Assignment) -> Outcome {
    let number = |id: &str| id[1..].parse::<u64>().unwrap();
    let col = |i: usize| {
        a.events
            .column(i)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .clone()
    };
    let (kind, person, other, detail) = (col(0), col(1), col(2), col(3));
    let events = (0..a.events.num_rows())
        .map(|r| {
            let k = ["new", "merge", "split", "retire", "return"]
                .into_iter()
                .find(|k| *k == kind.value(r))
                .unwrap();
            let o = (!other.is_null(r)).then(|| number(other.value(r)));
            (k, number(person.value(r)), o, detail.value(r).to_string())
        })
        .collect();
    Outcome {
        persons: a.person_ids.iter().map(|id| number(id)).collect(),
        entries: a
            .registry
            .entries()
            .map(|(k, p)| (k.to_string(), p, a.registry.absent_periods(k).unwrap()))
            .collect(),
        next_number: a.registry.next_number(),
        events,
    }
}

/// Checks that [`assign_array_with`] gives what `assign_with` gave.
fn same_as_array(
    got: &Assignment,
    prev: &Registry,
    keys: &[String],
    cluster: &[u32],
    options: &AssignOptions,
) {
    let array = StringArray::from_iter_values(keys);
    let a = assign_array_with(Some(prev), &array, cluster, options);
    assert_eq!(a.person_ids.null_count(), 0);
    let ids: Vec<&str> = a.person_ids.iter().map(Option::unwrap).collect();
    assert_eq!(ids, got.person_ids);
    assert_eq!(a.registry, got.registry);
    assert_eq!(a.registry.to_batch(), got.registry.to_batch());
    assert_eq!(a.events, got.events);
}

/// A small deterministic random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % n
    }
}

/// A registry read from a table with the given persons (possibly huge
/// numbers), all present.
fn registry_of(rows: &[(String, u64)], next: u64) -> Registry {
    let mut rows = rows.to_vec();
    rows.sort();
    let n = rows.len();
    let ids: Vec<String> = rows
        .iter()
        .map(|(_, p)| aidlink_vocab::person_id(*p))
        .collect();
    let batch = RecordBatch::try_new(
        registry_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0))),
            Arc::new(StringArray::from(ids)),
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(UInt32Array::from(vec![0; n])),
            Arc::new(UInt64Array::from(vec![next; n])),
        ],
    )
    .unwrap();
    Registry::from_batch(&batch).unwrap()
}

#[test]
fn assign_follows_the_rule_period_after_period() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for city in 0..300 {
        let universe = 2 + rng.below(40);
        let repeats = city % 5 == 0;
        let keep = rng.below(3) as u32;
        let options = AssignOptions {
            keep_absent_periods: keep,
        };
        // Some cities start from a registry with huge person numbers.
        let mut prev = if city % 7 == 0 {
            let mut rows: Vec<(String, u64)> = Vec::new();
            for k in 0..universe {
                if rng.below(2) == 0 {
                    rows.push((format!("k{k}"), 1_000_000_000_000 + rng.below(5) * 977));
                }
            }
            registry_of(&rows, 2_000_000_000_000)
        } else {
            Registry::new()
        };
        for period in 0..4 {
            let mut keys: Vec<String> = (0..universe)
                .filter(|_| rng.below(4) != 0)
                .map(|k| format!("k{k}"))
                .collect();
            if repeats && !keys.is_empty() {
                for _ in 0..1 + rng.below(3) {
                    let k = keys[rng.below(keys.len() as u64) as usize].clone();
                    keys.push(k);
                }
            }
            // Shuffle rows: nothing may depend on their order.
            for i in (1..keys.len()).rev() {
                keys.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let spread = if city % 3 == 0 {
                1 << 30
            } else {
                1 + keys.len() as u64 / 2
            };
            let cluster: Vec<u32> = keys.iter().map(|_| rng.below(spread) as u32).collect();
            let want = reference(&prev, &keys, &cluster, keep);
            let got = assign_with(Some(&prev), &keys, &cluster, &options);
            assert_eq!(outcome(&got), want, "city {city} period {period}");
            same_as_array(&got, &prev, &keys, &cluster, &options);
            prev = got.registry;
        }
    }
}

/// Keys and clusters of a city large enough that every parallel path runs
/// (hash buckets, join pieces, parallel gathers), with some keys in a
/// previous registry and some not.
fn large_period(rng: &mut Rng, universe: u64, rows: usize) -> (Vec<String>, Vec<u32>) {
    let mut keys: Vec<String> = (0..universe)
        .filter(|_| rng.below(10) != 0)
        .map(|k| format!("household|hh:H{:07}/id:{k:012}", k / 3))
        .take(rows)
        .collect();
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i as u64 + 1) as usize);
    }
    // Mostly one or two records per cluster, some larger.
    let cluster = keys
        .iter()
        .map(|_| rng.below(keys.len() as u64 * 2 / 3 + 1) as u32)
        .collect();
    (keys, cluster)
}

#[test]
fn large_periods_follow_the_rule_on_any_number_of_threads() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let options = AssignOptions::default();
    let (keys1, cluster1) = large_period(&mut rng, 90_000, 80_000);
    let (keys2, cluster2) = large_period(&mut rng, 90_000, 80_000);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let first = assign_with(None, &keys1, &cluster1, &options);
            let second = assign_with(Some(&first.registry), &keys2, &cluster2, &options);
            (first, second)
        })
    };
    let (first, second) = run(1);
    let options = AssignOptions::default();
    same_as_array(&first, &Registry::new(), &keys1, &cluster1, &options);
    same_as_array(&second, &first.registry, &keys2, &cluster2, &options);
    assert_eq!(
        outcome(&first),
        reference(&Registry::new(), &keys1, &cluster1, 12)
    );
    assert_eq!(
        outcome(&second),
        reference(&first.registry, &keys2, &cluster2, 12)
    );
    let (first4, second4) = run(4);
    assert_eq!(first4.person_ids, first.person_ids);
    assert_eq!(second4.person_ids, second.person_ids);
    assert_eq!(second4.registry, second.registry);
    assert_eq!(second4.registry.to_batch(), second.registry.to_batch());
    assert_eq!(second4.events, second.events);
}
