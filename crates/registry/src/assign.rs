//! Mapping this period's clusters onto last period's persons.
//!
//! The rule, in full in `docs/deltas.md`: every (cluster, previous person)
//! pair is weighed by how many of the cluster's records belonged to that
//! person; pairs are taken heaviest first (ties: smaller person number, then
//! the cluster with the smaller record key) and a pair is kept when neither
//! its cluster nor its person is taken yet. A cluster that keeps no pair gets
//! a fresh number. Nothing depends on cluster indices or row order, only on
//! record keys, so the same inputs give the same persons on every run.

use crate::table::{Registry, build_batch, events_schema};
use aidlink_vocab::person_id;
use aidlink_vocab::sort_by_text;
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What happened to a person between two periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A person whose records were all unknown last period.
    New,
    /// A previous person whose records now belong to another person; the
    /// event's `person_id` is the survivor, `other_person_id` the merged one.
    Merge,
    /// A person made of records that belonged to a previous person who kept
    /// its number elsewhere; `person_id` is the new person, `other_person_id`
    /// the person it split from.
    Split,
    /// A previous person with no record this period.
    Retire,
    /// A retired person whose records are back (kept while absent, see
    /// [`AssignOptions::keep_absent_periods`]).
    Return,
}

impl EventKind {
    /// The name used in the events table.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Merge => "merge",
            EventKind::Split => "split",
            EventKind::Retire => "retire",
            EventKind::Return => "return",
        }
    }
}

/// The persons of a period.
#[derive(Clone, Debug)]
pub struct Assignment {
    /// One person ID per record, in record order (`P00000042`).
    pub person_ids: Vec<String>,
    /// The registry to keep for the next period.
    pub registry: Registry,
    /// The period's person events, a table of [`events_schema`], sorted by
    /// person ID, event and other person ID.
    pub events: RecordBatch,
}

struct Event {
    kind: EventKind,
    person: u64,
    other: Option<u64>,
    detail: String,
}

/// Choices of [`assign_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssignOptions {
    /// Periods in a row a record key may be absent and still bring its
    /// record back to its person (a child missing from one month's roster).
    pub keep_absent_periods: u32,
}

impl Default for AssignOptions {
    fn default() -> Self {
        AssignOptions {
            keep_absent_periods: 12,
        }
    }
}

/// Assigns person numbers to this period's clusters, keeping absent keys
/// for [`AssignOptions::default`]'s 12 periods; see [`assign_with`].
pub fn assign(previous: Option<&Registry>, keys: &[String], cluster: &[u32]) -> Assignment {
    assign_with(previous, keys, cluster, &AssignOptions::default())
}

/// Assigns person numbers to this period's clusters.
///
/// `keys` are the records' keys ([`crate::record_keys`]), `cluster` the
/// matcher's cluster index of each record; `previous` is last period's
/// registry (`None` for the first period).
///
/// # Panics
///
/// When `keys` and `cluster` differ in length, which only a caller's bug can
/// cause: both are computed from the same record table.
pub fn assign_with(
    previous: Option<&Registry>,
    keys: &[String],
    cluster: &[u32],
    options: &AssignOptions,
) -> Assignment {
    assert_eq!(
        keys.len(),
        cluster.len(),
        "one cluster index per record key"
    );
    let empty = Registry::new();
    let previous = previous.unwrap_or(&empty);

    let n = keys.len();
    // Rows in key order, once: the sort compares packed key prefixes kept
    // next to the rows; everything after compares key ranks (equal keys,
    // equal rank), which order rows as their keys do.
    let by_key: Vec<usize> = sort_by_text(n, |r| keys[r].as_str());
    let mut rank = vec![0u32; n];
    let mut next_rank = 0u32;
    for (i, r) in by_key.iter().enumerate() {
        if i > 0 && keys[by_key[i - 1]] != keys[*r] {
            next_rank += 1;
        }
        rank[*r] = next_rank;
    }
    // Each row's person in the previous registry: a merge of two key-ordered
    // lists instead of a hash lookup of every key.
    let mut prev_of: Vec<Option<u64>> = vec![None; n];
    let mut prev_entries = previous.entries().peekable();
    for r in &by_key {
        let k = keys[*r].as_str();
        while prev_entries.next_if(|(pk, _)| *pk < k).is_some() {}
        if let Some((pk, p)) = prev_entries.peek()
            && *pk == k
        {
            prev_of[*r] = Some(*p);
        }
    }

    // Clusters, ordered by their smallest record key (then their sorted key
    // list, which only matters when a caller passes repeated keys).
    let mut by_cluster: Vec<usize> = (0..n).collect();
    by_cluster.par_sort_unstable_by_key(|r| (cluster[*r], rank[*r], *r));
    let mut clusters: Vec<&[usize]> = by_cluster
        .chunk_by(|a, b| cluster[*a] == cluster[*b])
        .collect();
    clusters.par_sort_by(|a, b| {
        let ka = a.iter().map(|r| rank[*r]);
        let kb = b.iter().map(|r| rank[*r]);
        ka.cmp(kb)
    });

    // Overlaps: how many records of each cluster each previous person had.
    // A hash index: millions of lookups into the registry's sorted map
    // would each pay a dozen comparisons of long, similar keys.
    // Each cluster's previous persons and counts, by person number; most
    // clusters have one record and one person, so no map per cluster.
    let overlap: Vec<Vec<(u64, usize)>> = clusters
        .par_iter()
        .map(|rows| {
            let mut ps: Vec<u64> = rows.iter().filter_map(|row| prev_of[*row]).collect();
            ps.sort_unstable();
            let mut counted: Vec<(u64, usize)> = Vec::new();
            for p in ps {
                match counted.last_mut() {
                    Some((q, n)) if *q == p => *n += 1,
                    _ => counted.push((p, 1)),
                }
            }
            counted
        })
        .collect();
    drop(prev_of);
    let mut pairs: Vec<(Reverse<usize>, u64, usize)> = overlap
        .iter()
        .enumerate()
        .flat_map(|(c, ps)| ps.iter().map(move |(p, n)| (Reverse(*n), *p, c)))
        .collect();
    pairs.par_sort_unstable();
    let mut number: Vec<Option<u64>> = vec![None; clusters.len()];
    let mut holder: HashMap<u64, usize> = HashMap::with_capacity(pairs.len());
    for (_, p, c) in pairs {
        if number[c].is_none() && !holder.contains_key(&p) {
            number[c] = Some(p);
            holder.insert(p, c);
        }
    }

    // Fresh numbers, in cluster order (smallest record key first).
    let mut next_number = previous.next_number();
    let mut events = Vec::new();
    let mut numbers = Vec::with_capacity(clusters.len());
    for (c, assigned) in number.iter().enumerate() {
        let n = match assigned {
            Some(n) => *n,
            None => {
                let n = next_number;
                next_number += 1;
                let size = clusters[c].len();
                if overlap[c].is_empty() {
                    events.push(Event {
                        kind: EventKind::New,
                        person: n,
                        other: None,
                        detail: format!("{size} record{} not seen before", plural(size)),
                    });
                }
                n
            }
        };
        numbers.push(n);
    }

    // Merges, splits and retirements, from the previous persons' side.
    let sizes = previous.sizes();
    // (previous person, this period's person, records), sorted: each
    // previous person's parts are one run, in this period's number order.
    let mut received: Vec<(u64, u64, usize)> = overlap
        .iter()
        .enumerate()
        .flat_map(|(c, ps)| ps.iter().map(move |(p, k)| (*p, c, *k)))
        .map(|(p, c, k)| (p, numbers[c], k))
        .collect();
    received.par_sort_unstable();
    let runs: Vec<&[(u64, u64, usize)]> = received.chunk_by(|a, b| a.0 == b.0).collect();
    // Persons of the last period, and retired persons whose kept keys came back.
    let mut previous_persons: Vec<u64> = sizes
        .keys()
        .copied()
        .chain(runs.iter().map(|run| run[0].0))
        .collect();
    previous_persons.par_sort_unstable();
    previous_persons.dedup();
    let mut merged_into: HashMap<u64, u64> = HashMap::new();
    // Both lists are in person order: a cursor finds each person's parts.
    let mut next_run = runs.iter().peekable();
    for p in previous_persons {
        let total = sizes.get(&p).copied().unwrap_or(0);
        while next_run.next_if(|run| run[0].0 < p).is_some() {}
        let Some(parts) = next_run.next_if(|run| run[0].0 == p) else {
            events.push(Event {
                kind: EventKind::Retire,
                person: p,
                other: None,
                detail: format!("none of its {total} record{} this period", plural(total)),
            });
            continue;
        };
        if let Some(c) = holder.get(&p) {
            if total == 0 {
                let size = clusters[*c].len();
                events.push(Event {
                    kind: EventKind::Return,
                    person: p,
                    other: None,
                    detail: format!("back with {size} record{} after an absence", plural(size)),
                });
            }
            // Records that moved to another previous person are link
            // changes, not splits; only a part that became a new person is.
            let fresh = previous.next_number();
            for (_, q, k) in parts.iter().filter(|(_, q, _)| *q >= fresh) {
                events.push(Event {
                    kind: EventKind::Split,
                    person: *q,
                    other: Some(p),
                    detail: format!(
                        "{k} of its {total} record{} moved to the new person",
                        plural(total)
                    ),
                });
            }
        } else {
            // The survivor is the person that received most of its records.
            let Some((_, survivor, k)) = parts.iter().max_by_key(|(_, q, k)| (*k, Reverse(*q)))
            else {
                continue;
            };
            merged_into.insert(p, *survivor);
            events.push(Event {
                kind: EventKind::Merge,
                person: *survivor,
                other: Some(p),
                detail: format!(
                    "{k} of its {total} record{} joined this person",
                    plural(total)
                ),
            });
        }
    }
    events.sort_by_key(|e| (e.person, e.kind, e.other));

    let mut person_numbers = vec![0u64; n];
    for (c, rows) in clusters.iter().enumerate() {
        for row in rows.iter() {
            person_numbers[*row] = numbers[c];
        }
    }
    // Entries in key order; a repeated key keeps the smallest person
    // number, so the registry stays a function of the inputs.
    let mut entries: Vec<(&str, u64)> = Vec::with_capacity(n);
    for run in by_key.chunk_by(|a, b| rank[*a] == rank[*b]) {
        let smallest = run.iter().map(|r| person_numbers[*r]).min();
        if let Some(p) = smallest {
            entries.push((keys[run[0]].as_str(), p));
        }
    }
    drop(by_key);
    // Keys absent this period stay a while, following their person into a
    // merge. Both lists are in key order, so one walk finds the absent keys.
    let present_count = entries.len();
    let mut absent = BTreeMap::new();
    let mut at = 0;
    for (k, n) in previous.entries() {
        while at < present_count && entries[at].0 < k {
            at += 1;
        }
        let is_present = at < present_count && entries[at].0 == k;
        // The absent map is small; the key is known to be in the registry.
        let periods = previous.absent.get(k).copied().unwrap_or(0) + 1;
        if !is_present && periods <= options.keep_absent_periods {
            entries.push((k, merged_into.get(&n).copied().unwrap_or(n)));
            absent.insert(k.to_string(), periods);
        }
    }
    // Present and kept keys are both in key order and never the same key.
    let kept = entries.split_off(present_count);
    let mut merged = Vec::with_capacity(entries.len() + kept.len());
    let (mut a, mut b) = (entries.into_iter().peekable(), kept.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.0 < y.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        merged.extend(if take_a { a.next() } else { b.next() });
    }
    let persons: BTreeMap<String, u64> = merged
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    Assignment {
        person_ids: person_numbers.into_par_iter().map(person_id).collect(),
        registry: Registry {
            persons,
            absent,
            next_number,
        },
        events: events_batch(&events),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn events_batch(events: &[Event]) -> RecordBatch {
    let kind = StringArray::from_iter_values(events.iter().map(|e| e.kind.name()));
    let person = StringArray::from_iter_values(events.iter().map(|e| person_id(e.person)));
    let other = StringArray::from_iter(events.iter().map(|e| e.other.map(person_id)));
    let detail = StringArray::from_iter_values(events.iter().map(|e| e.detail.as_str()));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind),
        Arc::new(person),
        Arc::new(other),
        Arc::new(detail),
    ];
    build_batch(events_schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// The events as `kind person other` lines.
    fn events(a: &Assignment) -> Vec<String> {
        let col = |i: usize| {
            a.events
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone()
        };
        let (k, p, o) = (col(0), col(1), col(2));
        (0..a.events.num_rows())
            .map(|r| {
                let other = if o.is_null(r) { "-" } else { o.value(r) };
                format!("{} {} {}", k.value(r), p.value(r), other)
            })
            .collect()
    }

    fn first_period() -> Assignment {
        // Two persons: {a, b} and {c}.
        assign(None, &keys(&["a", "b", "c"]), &[7, 7, 3])
    }

    #[test]
    fn first_period_numbers_clusters_by_smallest_key() {
        let a = first_period();
        assert_eq!(a.person_ids, ["P00000001", "P00000001", "P00000002"]);
        assert_eq!(a.registry.next_number(), 3);
        assert_eq!(events(&a), ["new P00000001 -", "new P00000002 -"]);
    }

    #[test]
    fn clusters_inherit_whatever_their_indices_and_row_order() {
        let prev = first_period().registry;
        // Same persons, rows reordered, cluster indices relabelled, one new record.
        let a = assign(Some(&prev), &keys(&["c", "d", "b", "a"]), &[0, 5, 1, 1]);
        assert_eq!(
            a.person_ids,
            ["P00000002", "P00000003", "P00000001", "P00000001"]
        );
        assert_eq!(events(&a), ["new P00000003 -"]);
        assert_eq!(a.registry.next_number(), 4);
    }

    #[test]
    fn merge_keeps_the_larger_overlap_and_records_the_other() {
        let prev = first_period().registry;
        let a = assign(Some(&prev), &keys(&["a", "b", "c"]), &[0, 0, 0]);
        assert_eq!(a.person_ids, vec!["P00000001"; 3]);
        assert_eq!(events(&a), ["merge P00000001 P00000002"]);
        // Numbers are never reused after a merge.
        assert_eq!(a.registry.next_number(), 3);
    }

    #[test]
    fn tie_goes_to_the_smaller_person_number() {
        // {a} and {b} each one record; merged they tie 1:1.
        let prev = assign(None, &keys(&["a", "b"]), &[0, 1]).registry;
        let a = assign(Some(&prev), &keys(&["b", "a"]), &[4, 4]);
        assert_eq!(a.person_ids, vec!["P00000001"; 2]);
        assert_eq!(events(&a), ["merge P00000001 P00000002"]);
    }

    #[test]
    fn split_gives_the_largest_part_the_number() {
        let prev = assign(None, &keys(&["a", "b", "c"]), &[0, 0, 0]).registry;
        let a = assign(Some(&prev), &keys(&["a", "b", "c"]), &[1, 2, 2]);
        assert_eq!(a.person_ids, ["P00000002", "P00000001", "P00000001"]);
        assert_eq!(events(&a), ["split P00000002 P00000001"]);
    }

    #[test]
    fn a_cluster_falls_back_to_its_next_best_person() {
        // P1 = {a, b, c}, P2 = {d}; now {a, b} and {c, d}: {c, d} ties P1 and
        // P2 but P1 goes to the larger part, so {c, d} keeps P2.
        let prev = assign(None, &keys(&["a", "b", "c", "d"]), &[0, 0, 0, 1]).registry;
        let a = assign(Some(&prev), &keys(&["a", "b", "c", "d"]), &[0, 0, 1, 1]);
        assert_eq!(
            a.person_ids,
            ["P00000001", "P00000001", "P00000002", "P00000002"]
        );
        assert!(events(&a).is_empty());
    }

    #[test]
    fn persons_without_records_retire() {
        let prev = first_period().registry;
        let a = assign(Some(&prev), &keys(&["a"]), &[0]);
        assert_eq!(a.person_ids, ["P00000001"]);
        assert_eq!(events(&a), ["retire P00000002 -"]);
        assert_eq!(a.registry.present_entries().count(), 1);
        assert_eq!(a.registry.absent_periods("c"), Some(1));
    }

    #[test]
    fn a_record_back_after_an_absence_returns_to_its_person() {
        let first = first_period().registry;
        let gone = assign(Some(&first), &keys(&["a", "b"]), &[0, 0]).registry;
        let back = assign(Some(&gone), &keys(&["a", "b", "c"]), &[0, 0, 1]);
        assert_eq!(back.person_ids, ["P00000001", "P00000001", "P00000002"]);
        assert_eq!(events(&back), ["return P00000002 -"]);
        assert_eq!(back.registry.absent_periods("c"), Some(0));
        // With no absence allowed, the record comes back as someone new.
        let strict = AssignOptions {
            keep_absent_periods: 0,
        };
        let gone = assign_with(Some(&first), &keys(&["a", "b"]), &[0, 0], &strict).registry;
        let back = assign_with(Some(&gone), &keys(&["a", "b", "c"]), &[0, 0, 1], &strict);
        assert_eq!(back.person_ids[2], "P00000003");
        assert_eq!(events(&back), ["new P00000003 -"]);
    }

    #[test]
    fn absent_keys_follow_their_person_into_a_merge() {
        // P1 = {a}, P2 = {b, c}; c is absent while b joins P1; c then
        // returns alone and belongs to P1.
        let first = assign(None, &keys(&["a", "b", "c"]), &[0, 1, 1]).registry;
        let merged = assign(Some(&first), &keys(&["a", "b"]), &[0, 0]);
        assert_eq!(events(&merged), ["merge P00000001 P00000002"]);
        assert_eq!(merged.registry.person_of("c"), Some(1));
        let back = assign(Some(&merged.registry), &keys(&["a", "b", "c"]), &[0, 0, 0]);
        assert_eq!(back.person_ids, vec!["P00000001"; 3]);
        assert!(events(&back).is_empty());
    }

    #[test]
    fn survives_a_batch_round_trip_between_periods() {
        let prev = Registry::from_batch(&first_period().registry.to_batch()).unwrap();
        let a = assign(Some(&prev), &keys(&["a", "b", "c"]), &[1, 1, 2]);
        assert_eq!(a.person_ids, ["P00000001", "P00000001", "P00000002"]);
    }
}
