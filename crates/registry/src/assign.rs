//! Mapping this period's clusters onto last period's persons.
//!
//! The rule, in full in `docs/deltas.md`: every (cluster, previous person)
//! pair is weighed by how many of the cluster's records belonged to that
//! person; pairs are taken heaviest first (ties: smaller person number, then
//! the cluster with the smaller record key) and a pair is kept when neither
//! its cluster nor its person is taken yet. A cluster that keeps no pair gets
//! a fresh number. Nothing depends on cluster indices or row order, only on
//! record keys, so the same inputs give the same persons on every run.
//!
//! A month holds millions of records, so texts are compared as little as
//! possible: each key gets a place among the previous registry's keys by
//! hash (`place`), and from there on rows, clusters and persons are integer
//! indices in flat arrays, grouped by counting rather than by maps.

use crate::place::{self, NONE, Placed, entry_of_place};
use crate::table::{Registry, build_batch, events_schema, person_id_array, write_person_id};
use crate::text_array::{build_fixed, build_texts, from_parts, text_offset};
use aidlink_vocab::RecordTexts;
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array};
use rayon::prelude::*;
use std::cmp::Reverse;
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
///
/// [`assign`] gives the person IDs as a `Vec<String>`, [`assign_array`] as
/// one Arrow string array (`Assignment<StringArray>`), the column the
/// records table publishes, without a heap block per record.
#[derive(Clone, Debug)]
pub struct Assignment<Ids = Vec<String>> {
    /// One person ID per record, in record order (`P00000042`).
    pub person_ids: Ids,
    /// The registry to keep for the next period.
    pub registry: Registry,
    /// The period's person events, a table of [`events_schema`], sorted by
    /// person ID, event and other person ID.
    pub events: RecordBatch,
}

/// An event; its detail text is written only into the events table.
struct Event {
    kind: EventKind,
    person: u64,
    other: Option<u64>,
    /// The records the event is about: the new or returning person's, or
    /// the part of the other person that merged or split.
    records: usize,
    /// The records the previous person had last period.
    total: usize,
}

impl Event {
    /// The human-readable account of the event.
    fn write_detail(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        let (k, total) = (self.records, self.total);
        match self.kind {
            EventKind::New => write!(out, "{k} record{} not seen before", plural(k)),
            EventKind::Retire => {
                write!(
                    out,
                    "none of its {total} record{} this period",
                    plural(total)
                )
            }
            EventKind::Return => write!(out, "back with {k} record{} after an absence", plural(k)),
            EventKind::Split => write!(
                out,
                "{k} of its {total} record{} moved to the new person",
                plural(total)
            ),
            EventKind::Merge => write!(
                out,
                "{k} of its {total} record{} joined this person",
                plural(total)
            ),
        }
    }
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

/// [`assign`] of keys in one Arrow string array ([`crate::record_key_array`]),
/// giving the person IDs as one too: the same persons, registry and events,
/// without a `String` per record on either side.
pub fn assign_array(
    previous: Option<&Registry>,
    keys: &StringArray,
    cluster: &[u32],
) -> Assignment<StringArray> {
    assign_array_with(previous, keys, cluster, &AssignOptions::default())
}

/// [`assign_with`] of keys in one Arrow string array, giving the person IDs
/// as one too (see [`assign_array`]). A null key reads as the empty key.
///
/// # Panics
///
/// As [`assign_with`].
pub fn assign_array_with(
    previous: Option<&Registry>,
    keys: &StringArray,
    cluster: &[u32],
    options: &AssignOptions,
) -> Assignment<StringArray> {
    let a = assign_numbers(previous, RecordTexts::Array(keys), cluster, options);
    Assignment {
        person_ids: person_id_array(&a.person_ids),
        registry: a.registry,
        events: a.events,
    }
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
/// cause: both are computed from the same record table; and past 2^31
/// records or registry keys, or 2 GiB of key text, far beyond a city's
/// monthly extracts.
pub fn assign_with(
    previous: Option<&Registry>,
    keys: &[String],
    cluster: &[u32],
    options: &AssignOptions,
) -> Assignment {
    let a = assign_numbers(previous, RecordTexts::Strings(keys), cluster, options);
    let person_ids = a
        .person_ids
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|p| {
            let mut buf = [0u8; 28];
            write_person_id(p, &mut buf).to_string()
        })
        .collect();
    Assignment {
        person_ids,
        registry: a.registry,
        events: a.events,
    }
}

/// The rule of [`assign_with`], giving each record's person number.
fn assign_numbers(
    previous: Option<&Registry>,
    keys: RecordTexts,
    cluster: &[u32],
    options: &AssignOptions,
) -> Assignment<Vec<u64>> {
    assert_eq!(
        keys.len(),
        cluster.len(),
        "one cluster index per record key"
    );
    let empty = Registry::new();
    let previous = previous.unwrap_or(&empty);
    let n = keys.len();
    assert!(n < 1 << 31, "fewer than 2^31 records per period");
    // With no previous keys (the first period) every cluster is new: one
    // sort of the keys decides everything, unless keys repeat.
    if previous.is_empty()
        && let Some(first) = crate::first::first_period(keys, cluster, previous.next_number())
    {
        return first;
    }

    // Each row's place in key order and its previous entry, found by hash
    // (see `place`); everything after compares places, not texts.
    let Placed {
        by_key,
        matched,
        repeated,
    } = place::place(&previous.keys, keys);

    // Previous persons by dense index, in person number order.
    let persons = Persons::of(previous);

    // Clusters, ordered by their smallest record key (then their sorted key
    // list, which only matters when a caller passes repeated keys), each
    // with its rows in key order.
    // Each row's cluster ordinal, in key order.
    let (ord_seq, count): (Vec<u32>, usize) = if repeated {
        let (dense, count) = dense_clusters(cluster);
        let ordinal = order_by_key_lists(&dense, count, &by_key);
        let seq = by_key
            .par_iter()
            .map(|(_, r)| ordinal[dense[*r as usize] as usize])
            .collect();
        (seq, count)
    } else {
        // Keys are unique, so clusters differ at their smallest key: the
        // order in which a walk in key order meets them. Cluster indices
        // index a table directly when they are not much more than the rows.
        let hi = cluster.par_iter().copied().max().unwrap_or(0) as usize;
        let dense = (hi >= 4 * n + 1024).then(|| dense_clusters(cluster).0);
        let span = dense.as_ref().map_or(hi + 1, |_| n);
        let mut ordinal = vec![NONE; span];
        let mut next = 0u32;
        let seq = by_key
            .iter()
            .map(|(_, r)| {
                let r = *r as usize;
                let c = dense.as_ref().map_or(cluster[r], |d| d[r]);
                let o = &mut ordinal[c as usize];
                if *o == NONE {
                    *o = next;
                    next += 1;
                }
                *o
            })
            .collect();
        (seq, next as usize)
    };
    // Each cluster's rows and their previous entries, in key order; the
    // entry is read off the place, not looked up per row.
    let (starts, rows) = group(
        count,
        ord_seq
            .iter()
            .zip(&by_key)
            .map(|(o, (p, r))| (*o, (*r, entry_of_place(*p)))),
    );
    let cluster_rows = |c: usize| &rows[starts[c] as usize..starts[c + 1] as usize];

    // Overlaps: how many records of each cluster each previous person had,
    // as `(cluster, person, records)` in cluster then person order; most
    // clusters have one record and one person, so no map per cluster.
    let person_of_row = |(_, e): &(u32, u32)| match *e {
        NONE => None,
        e => Some(persons.of_entry[e as usize]),
    };
    let blocks = (count / 4096).clamp(1, 1024);
    let overlap: Vec<(u32, u32, u32)> = (0..blocks)
        .into_par_iter()
        .flat_map_iter(|b| {
            let (from, to) = (b * count / blocks, (b + 1) * count / blocks);
            let mut out = Vec::with_capacity(to - from);
            let mut ps = Vec::new();
            for c in from..to {
                ps.clear();
                ps.extend(cluster_rows(c).iter().filter_map(person_of_row));
                ps.sort_unstable();
                for run in ps.chunk_by(|a, b| a == b) {
                    out.push((c as u32, run[0], run.len() as u32));
                }
            }
            out
        })
        .collect();
    // Heaviest pairs first, then smaller person number, then earlier cluster.
    let mut pairs: Vec<u128> = overlap
        .par_iter()
        .map(|(c, p, k)| (u128::from(u32::MAX - k) << 64) | (u128::from(*p) << 32) | u128::from(*c))
        .collect();
    pairs.par_sort_unstable();
    let mut number: Vec<Option<u64>> = vec![None; count];
    let mut holder: Vec<u32> = vec![NONE; persons.count];
    for pair in pairs {
        let (p, c) = ((pair >> 32) as u32 as usize, pair as u32 as usize);
        if number[c].is_none() && holder[p] == NONE {
            number[c] = Some(persons.number(p));
            holder[p] = c as u32;
        }
    }

    // Fresh numbers, in cluster order (smallest record key first).
    let mut has_overlap = vec![false; count];
    for (c, _, _) in &overlap {
        has_overlap[*c as usize] = true;
    }
    let mut next_number = previous.next_number();
    let mut events = Vec::new();
    let numbers: Vec<u64> = number
        .iter()
        .enumerate()
        .map(|(c, assigned)| match assigned {
            Some(n) => *n,
            None => {
                let n = next_number;
                next_number += 1;
                if !has_overlap[c] {
                    let size = cluster_rows(c).len();
                    events.push(Event {
                        kind: EventKind::New,
                        person: n,
                        other: None,
                        records: size,
                        total: 0,
                    });
                }
                n
            }
        })
        .collect();
    drop(has_overlap);
    drop(number);

    // Merges, splits and retirements, from the previous persons' side:
    // each previous person's parts, `(this period's person, records)` in
    // this period's number order.
    let (part_starts, mut parts) = group(
        persons.count,
        overlap
            .iter()
            .map(|(c, p, k)| (*p, (numbers[*c as usize], *k))),
    );
    drop(overlap);
    let mut merged_into: Vec<Option<u64>> = vec![None; persons.count];
    let fresh = previous.next_number();
    for p in 0..persons.count {
        let pn = persons.number(p);
        let total = persons.sizes[p] as usize;
        let parts = &mut parts[part_starts[p] as usize..part_starts[p + 1] as usize];
        parts.sort_unstable();
        if parts.is_empty() {
            // A person of the last period with no record now retires; one
            // known only by kept keys retired before.
            if total > 0 {
                events.push(Event {
                    kind: EventKind::Retire,
                    person: pn,
                    other: None,
                    records: 0,
                    total,
                });
            }
            continue;
        }
        if holder[p] != NONE {
            if total == 0 {
                let size = cluster_rows(holder[p] as usize).len();
                events.push(Event {
                    kind: EventKind::Return,
                    person: pn,
                    other: None,
                    records: size,
                    total,
                });
            }
            // Records that moved to another previous person are link
            // changes, not splits; only a part that became a new person is.
            for (q, k) in parts.iter().filter(|(q, _)| *q >= fresh) {
                events.push(Event {
                    kind: EventKind::Split,
                    person: *q,
                    other: Some(pn),
                    records: *k as usize,
                    total,
                });
            }
        } else {
            // The survivor is the person that received most of its records.
            let Some((survivor, k)) = parts.iter().max_by_key(|(q, k)| (*k, Reverse(*q))) else {
                continue;
            };
            merged_into[p] = Some(*survivor);
            events.push(Event {
                kind: EventKind::Merge,
                person: *survivor,
                other: Some(pn),
                records: *k as usize,
                total,
            });
        }
    }
    drop(parts);
    drop(part_starts);
    drop(holder);
    events.sort_by_key(|e| (e.person, e.kind, e.other));

    // Person numbers in key order, and in row order.
    let num_seq: Vec<u64> = ord_seq.par_iter().map(|o| numbers[*o as usize]).collect();
    drop(ord_seq);
    drop(rows);
    drop(starts);
    drop(numbers);
    let mut person_numbers = vec![0u64; n];
    for ((_, r), number) in by_key.iter().zip(&num_seq) {
        person_numbers[*r as usize] = *number;
    }

    // The new registry: this period's keys in key order (a repeated key
    // keeps the smallest person number, so the registry stays a function
    // of the inputs), and kept absent keys, which follow their person into
    // a merge, merged in by place.
    let mut runs: Vec<(u64, u32, u64)> = Vec::new();
    let present: Box<dyn Iterator<Item = (u64, u32, u64)> + '_> = if repeated {
        let mut at = 0;
        runs = by_key
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| {
                let smallest = num_seq[at..at + run.len()].iter().min();
                at += run.len();
                (run[0].0, run[0].1, smallest.copied().unwrap_or(0))
            })
            .collect();
        Box::new(runs.iter().copied())
    } else {
        Box::new(by_key.iter().zip(&num_seq).map(|((p, r), n)| (*p, *r, *n)))
    };
    let prev_absent = previous.absent.values();
    let prev_numbers = previous.numbers.values();
    let kept: Vec<(u64, u32, u64, u32)> = (0..previous.len())
        .filter(|i| !matched[*i])
        .filter_map(|i| {
            let periods = prev_absent[i] + 1;
            let p = persons.of_entry[i] as usize;
            (periods <= options.keep_absent_periods).then(|| {
                let n = merged_into[p].unwrap_or(prev_numbers[i]);
                (place::entry_place(i), i as u32, n, periods)
            })
        })
        .collect();
    drop(matched);
    let total = kept.len() + if repeated { runs.len() } else { by_key.len() };
    // Where each key's text comes from: a previous entry, or (tagged
    // [`NEW_ROW`]) a row whose key the previous registry lacks.
    let mut sources: Vec<u32> = Vec::with_capacity(total);
    let mut new_numbers = Vec::with_capacity(total);
    let mut new_absent = Vec::with_capacity(total);
    let (mut a, mut b) = (present.peekable(), kept.iter().peekable());
    loop {
        // Present and kept keys are never the same key.
        let take_present = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.0 < y.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_present {
            if let Some((p, r, n)) = a.next() {
                sources.push(match entry_of_place(p) {
                    NONE => NEW_ROW | r,
                    e => e,
                });
                new_numbers.push(n);
                new_absent.push(0);
            }
        } else if let Some((_, i, n, periods)) = b.next() {
            sources.push(*i);
            new_numbers.push(*n);
            new_absent.push(*periods);
        }
    }
    drop(a);
    drop(kept);
    drop(by_key);
    drop(num_seq);
    let new_keys = gather_keys(&previous.keys, keys, &sources);
    drop(sources);
    let registry = Registry::from_sorted(
        new_keys,
        UInt64Array::from(new_numbers),
        UInt32Array::from(new_absent),
        next_number,
    );
    Assignment {
        person_ids: person_numbers,
        registry,
        events: events_batch(&events),
    }
}

/// Tags a key source in [`gather_keys`] as a row of this period.
const NEW_ROW: u32 = 1 << 31;

/// The key texts named by `sources`, in order: a previous entry's index, or
/// [`NEW_ROW`] and a row. Most keys were in the previous registry and come
/// in its order, so runs of consecutive entries are copied as one piece of
/// its buffer.
///
/// # Panics
///
/// When the texts exceed the 2 GiB an Arrow string array can hold.
fn gather_keys(previous: &StringArray, keys: RecordTexts, sources: &[u32]) -> StringArray {
    let prev_offsets = previous.value_offsets();
    let prev_values = previous.value_data();
    let mut offsets: Vec<i32> = Vec::with_capacity(sources.len() + 1);
    offsets.push(0);
    let bytes = sources
        .iter()
        .map(|s| match s & NEW_ROW {
            0 => (prev_offsets[*s as usize + 1] - prev_offsets[*s as usize]) as usize,
            _ => keys.get((s & !NEW_ROW) as usize).len(),
        })
        .sum();
    let mut values: Vec<u8> = Vec::with_capacity(bytes);
    let mut at = 0;
    while at < sources.len() {
        let s = sources[at];
        if s & NEW_ROW != 0 {
            values.extend_from_slice(keys.get((s & !NEW_ROW) as usize).as_bytes());
            offsets.push(text_offset(values.len()));
            at += 1;
            continue;
        }
        // A run of consecutive previous entries.
        let first = s as usize;
        let mut len = 1;
        while at + len < sources.len() && sources[at + len] as usize == first + len {
            len += 1;
        }
        let (from, to) = (prev_offsets[first], prev_offsets[first + len]);
        let shift = text_offset(values.len()) - from;
        values.extend_from_slice(&prev_values[from as usize..to as usize]);
        offsets.extend(
            prev_offsets[first + 1..=first + len]
                .iter()
                .map(|o| o + shift),
        );
        at += len;
    }
    from_parts(offsets, values)
}

/// The previous registry's persons by an index that orders them as their
/// numbers do.
struct Persons {
    /// How index and number relate.
    numbering: Numbering,
    /// Indices `0..count`; some may name no person of the registry.
    count: usize,
    /// Person index of each registry entry.
    of_entry: Vec<u32>,
    /// Present record keys (absent 0) of each person index.
    sizes: Vec<u32>,
}

enum Numbering {
    /// Index `i` is person number `lo + i`.
    From(u64),
    /// Index `i` is the `i`-th smallest person number of the registry.
    Sorted(Vec<u64>),
}

impl Persons {
    fn of(registry: &Registry) -> Persons {
        let numbers = registry.numbers.values();
        let absent = registry.absent.values();
        let m = numbers.len();
        assert!(m < NONE as usize, "fewer than 2^32 registry entries");
        let (lo, hi) = numbers
            .par_iter()
            .fold(|| (u64::MAX, 0), |(lo, hi), n| (lo.min(*n), hi.max(*n)))
            .reduce(|| (u64::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        // Person numbers are handed out one by one, so they usually fill a
        // range not much longer than the registry: then the index is the
        // number's offset in it. Otherwise the numbers are sorted.
        let (numbering, count, of_entry): (Numbering, usize, Vec<u32>) =
            if m > 0 && hi - lo < 4 * m as u64 + 1024 {
                let of_entry = numbers.par_iter().map(|n| (n - lo) as u32).collect();
                (Numbering::From(lo), (hi - lo + 1) as usize, of_entry)
            } else {
                let mut unique = numbers.to_vec();
                unique.par_sort_unstable();
                unique.dedup();
                let of_entry = numbers
                    .par_iter()
                    .map(|n| unique.partition_point(|u| u < n) as u32)
                    .collect();
                let count = unique.len();
                (Numbering::Sorted(unique), count, of_entry)
            };
        let mut sizes = vec![0u32; count];
        for (p, a) in of_entry.iter().zip(absent) {
            if *a == 0 {
                sizes[*p as usize] += 1;
            }
        }
        Persons {
            numbering,
            count,
            of_entry,
            sizes,
        }
    }

    /// The person number of index `p`.
    fn number(&self, p: usize) -> u64 {
        match &self.numbering {
            Numbering::From(lo) => lo + p as u64,
            Numbering::Sorted(numbers) => numbers[p],
        }
    }
}

/// Cluster indices made dense, `0..count` in the order of their values.
pub(crate) fn dense_clusters(cluster: &[u32]) -> (Vec<u32>, usize) {
    let n = cluster.len();
    let hi = cluster.par_iter().copied().max().unwrap_or(0) as usize;
    // A table over the values when they are not much more than the rows,
    // else a sort of them.
    if hi < 4 * n + 1024 {
        let mut dense = vec![NONE; hi + 1];
        for c in cluster {
            dense[*c as usize] = 0;
        }
        let mut count = 0u32;
        for d in dense.iter_mut().filter(|d| **d == 0) {
            *d = count;
            count += 1;
        }
        let rows = cluster.par_iter().map(|c| dense[*c as usize]).collect();
        (rows, count as usize)
    } else {
        let mut unique = cluster.to_vec();
        unique.par_sort_unstable();
        unique.dedup();
        let rows = cluster
            .par_iter()
            .map(|c| unique.partition_point(|u| u < c) as u32)
            .collect();
        (rows, unique.len())
    }
}

/// Cluster ordinals by the clusters' sorted key places, compared as lists
/// (ties, identical lists, by cluster index): the general order, needed
/// only when keys repeat.
fn order_by_key_lists(dense: &[u32], count: usize, by_key: &[(u64, u32)]) -> Vec<u32> {
    let (starts, places) = group(count, by_key.iter().map(|(p, r)| (dense[*r as usize], *p)));
    let list = |c: u32| &places[starts[c as usize] as usize..starts[c as usize + 1] as usize];
    let mut order: Vec<u32> = (0..count as u32).collect();
    order.par_sort_by(|a, b| list(*a).cmp(list(*b)).then(a.cmp(b)));
    let mut ordinal = vec![0u32; count];
    for (o, c) in order.iter().enumerate() {
        ordinal[*c as usize] = o as u32;
    }
    ordinal
}

/// Items grouped by a dense group index in `0..count`, keeping their order
/// within a group: group `g` is `items[starts[g]..starts[g + 1]]`.
fn group<T: Copy + Default>(
    count: usize,
    items: impl Iterator<Item = (u32, T)> + Clone,
) -> (Vec<u32>, Vec<T>) {
    let mut starts = vec![0u32; count + 1];
    for (g, _) in items.clone() {
        starts[g as usize + 1] += 1;
    }
    for g in 0..count {
        starts[g + 1] += starts[g];
    }
    let mut at = starts.clone();
    let mut out = vec![T::default(); starts[count] as usize];
    for (g, item) in items {
        let slot = &mut at[g as usize];
        out[*slot as usize] = item;
        *slot += 1;
    }
    (starts, out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The events of a first period: `count` new persons numbered from
/// `first`, of `sizes[i]` records each; the table [`events_batch`] writes
/// for them, its texts written in parallel.
pub(crate) fn new_events_batch(first: u64, sizes: &[u32]) -> RecordBatch {
    let n = sizes.len();
    let kind = build_fixed(n, 3, |_, slot| slot.copy_from_slice(b"new"));
    let numbers: Vec<u64> = (0..n as u64).into_par_iter().map(|i| first + i).collect();
    let person = person_id_array(&numbers);
    drop(numbers);
    // The detail `Event::write_detail` writes for a new person; most
    // persons have a few records, whose texts are written once here.
    let detail_of = |k: usize| {
        let event = Event {
            kind: EventKind::New,
            person: 0,
            other: None,
            records: k,
            total: 0,
        };
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = event.write_detail(&mut text);
        text
    };
    let common: Vec<String> = (0..64).map(detail_of).collect();
    let detail = build_texts(n, 24, |i, out| {
        let k = sizes[i] as usize;
        match common.get(k) {
            Some(text) => out.extend_from_slice(text.as_bytes()),
            None => out.extend_from_slice(detail_of(k).as_bytes()),
        }
    });
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind),
        Arc::new(person),
        Arc::new(StringArray::new_null(n)),
        Arc::new(detail),
    ];
    build_batch(events_schema(), columns)
}

fn events_batch(events: &[Event]) -> RecordBatch {
    let n = events.len();
    let kind = StringArray::from_iter_values(events.iter().map(|e| e.kind.name()));
    let mut buf = [0u8; 28];
    let mut person = StringBuilder::with_capacity(n, n * 9);
    let mut other = StringBuilder::with_capacity(n, n * 9);
    let mut detail = StringBuilder::with_capacity(n, n * 24);
    for e in events {
        person.append_value(write_person_id(e.person, &mut buf));
        other.append_option(e.other.map(|o| write_person_id(o, &mut buf)));
        // Writing into a builder cannot fail.
        let _ = e.write_detail(&mut detail);
        detail.append_value("");
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind),
        Arc::new(person.finish()),
        Arc::new(other.finish()),
        Arc::new(detail.finish()),
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
