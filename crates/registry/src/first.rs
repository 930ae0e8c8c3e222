//! The first period: no previous registry, so every cluster is a new person.
//!
//! The assignment rule then says little: clusters are numbered in the order
//! of their smallest record key, each is a `new` event, and the registry is
//! the keys in key order. That takes one sort of the keys
//! ([`crate::order::text_order`]) and a walk in key order; the tables are
//! then written in parallel. The result is what the general rule in
//! [`crate::assign`] gives (`tests/reference.rs` checks both against a plain
//! reading of the rule).
//!
//! Rows are visited in key order, which is no order in memory, so the walk
//! reads each row's cluster once, gathered in key order beforehand, and
//! writes each row's number once.

use crate::assign::{Assignment, dense_clusters, new_events_batch};
use crate::order::text_order;
use crate::place::NONE;
use crate::table::Registry;
use crate::text_array::build_texts;
use aidlink_vocab::RecordTexts;
use arrow_array::{Array, StringArray, UInt32Array, UInt64Array};
use rayon::prelude::*;

/// Persons for a period without previous record keys, numbered from
/// `next_number`: each record's person number, the registry and the
/// events. `None` when some key is on more than one row, which only the
/// general rule handles.
pub(crate) fn first_period(
    keys: RecordTexts,
    cluster: &[u32],
    next_number: u64,
) -> Option<Assignment<Vec<u64>>> {
    let n = keys.len();
    let order = text_order(keys);
    // The registry's keys: every key, in key order. Equal keys are next to
    // each other there, and compared in memory order.
    let sorted_keys = gather(keys, &order);
    let repeated = (1..n)
        .into_par_iter()
        .with_min_len(1 << 12)
        .any(|i| sorted_keys.value(i - 1) == sorted_keys.value(i));
    if repeated {
        return None;
    }

    // Clusters in the order a walk in key order meets them, which is the
    // order of their smallest keys; cluster indices index a table directly
    // when they are not much more than the rows.
    let hi = cluster.par_iter().copied().max().unwrap_or(0) as usize;
    let dense = (hi >= 4 * n + 1024).then(|| dense_clusters(cluster).0);
    let cluster = dense.as_deref().unwrap_or(cluster);
    let span = dense.as_ref().map_or(hi + 1, |_| n);
    let by_key: Vec<u32> = order.par_iter().map(|r| cluster[*r as usize]).collect();
    drop(dense);
    let mut ordinal = vec![NONE; span];
    let mut sizes: Vec<u32> = Vec::new();
    let key_ordinal: Vec<u32> = by_key
        .iter()
        .map(|c| {
            let o = &mut ordinal[*c as usize];
            if *o == NONE {
                *o = sizes.len() as u32;
                sizes.push(0);
            }
            sizes[*o as usize] += 1;
            *o
        })
        .collect();
    drop((ordinal, by_key));
    let mut row_ordinal = vec![0u32; n];
    for (r, o) in order.iter().zip(&key_ordinal) {
        row_ordinal[*r as usize] = *o;
    }
    drop(order);
    let number = |o: &u32| next_number + u64::from(*o);
    let numbers: Vec<u64> = row_ordinal.par_iter().map(number).collect();
    drop(row_ordinal);
    let key_numbers: Vec<u64> = key_ordinal.par_iter().map(number).collect();
    drop(key_ordinal);
    let registry = Registry::from_sorted(
        sorted_keys,
        UInt64Array::from(key_numbers),
        UInt32Array::from(vec![0u32; n]),
        next_number + sizes.len() as u64,
    );
    let events = new_events_batch(next_number, &sizes);
    Some(Assignment {
        person_ids: numbers,
        registry,
        events,
    })
}

/// The keys of `order`'s rows, in that order, as one array.
fn gather(keys: RecordTexts, order: &[u32]) -> StringArray {
    let RecordTexts::Array(array) = keys else {
        return build_texts(order.len(), 40, |i, out| {
            out.extend_from_slice(keys.get(order[i] as usize).as_bytes());
        });
    };
    // Rows in key order are scattered over memory: where each key's text
    // lies is read first, in one pass whose reads do not wait on each
    // other, and the texts are copied after. A null reads as empty.
    let (offsets, values) = (array.value_offsets(), array.value_data());
    let spans: Vec<(u32, u32)> = order
        .par_iter()
        .with_min_len(1 << 12)
        .map(|r| {
            let r = *r as usize;
            match array.is_null(r) {
                true => (0, 0),
                false => (offsets[r] as u32, offsets[r + 1] as u32),
            }
        })
        .collect();
    build_texts(order.len(), 40, |i, out| {
        let (from, to) = spans[i];
        out.extend_from_slice(&values[from as usize..to as usize]);
    })
}
