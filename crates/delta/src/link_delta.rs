//! The `link` entity's delta straight from two registries.
//!
//! Diffing two link tables means digesting and sorting every record key of
//! both periods (3.4 million of each at 1,000,000 students), then comparing
//! them all, to find the few thousand records that moved. Both registries
//! are already in record-key order, so one merge of their keys finds the
//! records that appeared, disappeared or changed person, and only those are
//! digested and sorted. A first period digests every key once and writes
//! the delta's rows directly, without a link table in between.

use crate::DeltaError;
use crate::link::{
    DIGEST_BYTES, digest_number, person_id_len, raw_digest, sources, write_person_id,
};
use crate::table::{ChangeType, delta_schema};
use crate::text::{par_sized, par_text};
use crate::value::push_json_str;
use aidlink_registry::Registry;
use aidlink_vocab::Period;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::sync::Arc;

/// One row of a link delta: the record's digest (as a number), the change,
/// the record key, its source (an index into the sources' names) and the
/// person number of the image.
struct LinkChange<'a> {
    digest: u128,
    change_type: ChangeType,
    key: &'a str,
    source: u32,
    person: u64,
}

/// The link delta from `previous` to `current`: the rows of
/// `diff("link", &[RECORD], previous.map(link_table), &link_table(current), from, to)`,
/// computed from the registries' record keys without building or comparing
/// the link tables.
///
/// A record of both periods whose person is unchanged gives no row, so only
/// the keys that appeared, disappeared or moved are digested. Two records
/// whose keys share a digest (80 bits: at 3.4 million records a chance of
/// about one in 10^11) are rows `diff` would match with each other or
/// refuse as a duplicate key; when two changed records share a digest,
/// the link tables are built and diffed instead, so the rows are `diff`'s.
pub fn link_delta(
    previous: Option<&Registry>,
    current: &Registry,
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    let (mut changes, names) = changed_records(previous, current);
    changes.par_sort_unstable_by(|a, b| {
        a.digest
            .cmp(&b.digest)
            .then(a.change_type.rank().cmp(&b.change_type.rank()))
    });
    // An update's two images share a digest; any other repeat is a collision.
    let collision = changes.par_windows(2).any(|w| {
        w[0].digest == w[1].digest
            && !(w[0].change_type == ChangeType::UpdatePreimage
                && w[1].change_type == ChangeType::UpdatePostimage
                && w[0].key == w[1].key)
    });
    if collision {
        let prev_links = previous.map(crate::link_table);
        return crate::diff(
            "link",
            &[crate::RECORD],
            prev_links.as_ref(),
            &crate::link_table(current),
            from,
            to,
        );
    }
    build(&changes, &names, from, to)
}

/// The records that appeared, disappeared or changed person, unsorted, with
/// their digests.
fn changed_records<'a>(
    previous: Option<&'a Registry>,
    current: &'a Registry,
) -> (Vec<LinkChange<'a>>, Vec<&'a str>) {
    let cur: Vec<(&str, u64)> = current.present_entries().collect();
    let Some(previous) = previous else {
        let (names, source) = sources(cur.iter().map(|e| e.0));
        let changes = cur
            .par_iter()
            .zip(source.par_iter())
            .map(|(&(key, person), &source)| LinkChange {
                digest: digest_number(raw_digest(key)),
                change_type: ChangeType::Insert,
                key,
                source,
                person,
            })
            .collect();
        return (changes, names);
    };
    let prev: Vec<(&str, u64)> = previous.present_entries().collect();
    // One merge of two key-ordered lists; the registries keep their keys in
    // order, and a check confirms it so a registry that does not cannot
    // produce a wrong delta (its keys are then sorted here).
    let sorted = |v: &mut Vec<(&'a str, u64)>| {
        if !v.par_windows(2).all(|w| w[0].0 < w[1].0) {
            v.par_sort_unstable();
            v.dedup_by(|b, a| a.0 == b.0);
        }
    };
    let (mut cur, mut prev) = (cur, prev);
    sorted(&mut cur);
    sorted(&mut prev);
    let mut found: Vec<(ChangeType, &str, u64)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < cur.len() || j < prev.len() {
        let order = match (cur.get(i), prev.get(j)) {
            (Some(c), Some(p)) => c.0.cmp(p.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                found.push((ChangeType::Insert, cur[i].0, cur[i].1));
                i += 1;
            }
            Ordering::Greater => {
                found.push((ChangeType::Delete, prev[j].0, prev[j].1));
                j += 1;
            }
            Ordering::Equal => {
                if cur[i].1 != prev[j].1 {
                    found.push((ChangeType::UpdatePreimage, prev[j].0, prev[j].1));
                    found.push((ChangeType::UpdatePostimage, cur[i].0, cur[i].1));
                }
                i += 1;
                j += 1;
            }
        }
    }
    let (names, source) = sources(found.iter().map(|f| f.1));
    let changes = found
        .into_par_iter()
        .zip(source.into_par_iter())
        .map(|((change_type, key, person), source)| LinkChange {
            digest: digest_number(raw_digest(key)),
            change_type,
            key,
            source,
            person,
        })
        .collect();
    (changes, names)
}

/// The delta table of sorted link changes, as `diff` writes it.
fn build(
    changes: &[LinkChange],
    names: &[&str],
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    let n = changes.len();
    let hex_of = |c: &LinkChange, slot: &mut [u8]| {
        // Hex of ten bytes fills a slot of twenty.
        let _ = hex::encode_to_slice(&c.digest.to_be_bytes()[..DIGEST_BYTES], slot);
    };
    let too_long = |column: &'static str| DeltaError::BadTable {
        table: "delta",
        column,
        problem: "would hold more text than a column can (2 GiB)".to_string(),
    };
    let key = par_sized(n, |_| 2 * DIGEST_BYTES, |i, slot| hex_of(&changes[i], slot))
        .ok_or_else(|| too_long(crate::table::KEY))?;
    let person = par_sized(
        n,
        |i| person_id_len(changes[i].person),
        |i, slot| write_person_id(slot, changes[i].person),
    )
    .ok_or_else(|| too_long(crate::table::PERSON_ID))?;
    // The link table's columns in order: record, source, person_id.
    let values = par_text(n, crate::table::VALUES, |i, out| {
        let c = &changes[i];
        out.push_str("{\"record\":\"");
        let mut hex = [0u8; 2 * DIGEST_BYTES];
        hex_of(c, &mut hex);
        out.push_str(std::str::from_utf8(&hex).unwrap_or(""));
        out.push_str("\",\"source\":");
        push_json_str(out, names[c.source as usize]);
        out.push_str(",\"person_id\":\"");
        let mut id = [0u8; 24];
        let len = person_id_len(c.person);
        write_person_id(&mut id[..len], c.person);
        out.push_str(std::str::from_utf8(&id[..len]).unwrap_or(""));
        out.push_str("\"}");
        true
    })?;
    let updates = changes
        .iter()
        .filter(|c| c.change_type == ChangeType::UpdatePreimage)
        .count();
    let mut changed = ListBuilder::with_capacity(
        StringBuilder::with_capacity(2 * updates, 2 * updates * crate::PERSON_ID.len()),
        n,
    );
    for c in changes {
        match c.change_type {
            // Same key, same source: only the person can differ.
            ChangeType::UpdatePreimage | ChangeType::UpdatePostimage => {
                changed.values().append_value(crate::PERSON_ID);
                changed.append(true);
            }
            ChangeType::Insert | ChangeType::Delete => changed.append(false),
        }
    }
    let constant = |v: &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, n)))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            changes.iter().map(|c| c.change_type.name()),
        )),
        constant("link"),
        Arc::new(person),
        Arc::new(key),
        Arc::new(StringArray::new_null(n)),
        Arc::new(changed.finish()),
        Arc::new(values),
        Arc::new(StringArray::new_null(n)),
        Arc::new(StringArray::new_null(n)),
        Arc::new(StringArray::new_null(n)),
        match from {
            Some(p) => constant(&p.to_string()),
            None => Arc::new(StringArray::new_null(n)),
        },
        constant(&to.to_string()),
    ];
    crate::table::delta_batch(delta_schema(), columns)
}
