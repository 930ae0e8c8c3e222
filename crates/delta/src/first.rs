//! A first period's whole delta, written straight into one table.
//!
//! With no previous period every row of the persons, flags and link tables
//! is an insert, and the delta is mostly their rows' JSON `values` (about a
//! gigabyte at 1,000,000 students). Building it as the steady state does
//! (a person diff, its events, a flag diff, a link delta, then combining
//! the three) writes each part's columns and then joins them into new
//! ones. [`first_period_delta`] plans the three parts' rows first and then
//! writes each column of the combined table once, at its exact size (see
//! `crate::text::par_exact`), so the delta costs about its own size.

use crate::DeltaError;
use crate::diff::{DiffOptions, Plan};
use crate::events::{EventEffect, event_effect, event_strings};
use crate::link::{
    DIGEST_BYTES, digest_number, person_id_len, raw_digest, sources, write_person_id,
};
use crate::table::{
    CHANGE_TYPE, ENTITY, EVENT, EVENT_DETAIL, FLAG, FROM_PERIOD, KEY, OTHER_PERSON_ID, PERSON_ID,
    TO_PERIOD, VALUES, delta_schema, sort_batch,
};
use crate::text::{Out, Sink, par_exact, par_exact_with, runs};
use crate::value::{json_str_len, push_json_str};
use aidlink_registry::{
    DETAIL, EVENT as EVENT_KIND, OTHER_PERSON_ID as EVENT_OTHER, PERSON_ID as EVENT_PERSON,
    Registry,
};
use aidlink_vocab::Period;
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field};
use rayon::prelude::*;
use std::sync::Arc;

/// No event on a person row.
const NONE: usize = usize::MAX;

/// The whole delta of a period with no previous tables to compare with:
/// the rows of
///
/// ```text
/// combine_owned(vec![
///     with_events(&diff("person", &["person_id"], None, persons, from, to)?, events, from, to)?,
///     diff("flag", &["person_id", "flag"], None, flags, from, to)?,
///     link_delta(None, registry, from, to)?,
/// ])
/// ```
///
/// with the same errors, written column by column into the combined table
/// without the three parts in between: each column is counted, allocated
/// once at its exact size and written in parallel chunks, in row order.
/// A case the direct path does not cover (an event without its person's
/// insert, two events on one person, persons not in `person_id` order,
/// two records whose digests collide) is built by the calls above instead.
pub fn first_period_delta(
    persons: &RecordBatch,
    events: &RecordBatch,
    flags: &RecordBatch,
    registry: &Registry,
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    let options = DiffOptions::default();
    let person = Plan::new("person", &["person_id"], None, persons, &options)?;
    // Each person row's event (a row of `events`), as `with_events` finds it.
    let Some(event_of) = person_events(&person, events)? else {
        return composed(persons, events, flags, registry, from, to);
    };
    let flag = Plan::new("flag", &["person_id", "flag"], None, flags, &options)?;
    let Some(links) = link_rows(registry) else {
        return composed(persons, events, flags, registry, from, to);
    };
    let (np, nf, nl) = (person.len(), flag.len(), links.rows.len());
    let n = np + nf + nl;

    // The columns that need the parts' rows come first, the one-text
    // columns last, once the plans and link rows are freed: the peak is
    // then the delta table itself. Each column is written in parallel chunks, and the columns side by
    // side too: checking a column's text is UTF-8 (as an Arrow array must
    // be) is one thread's work, which the others' writing overlaps. The
    // keys and person IDs come first: a link row's values repeat them.
    let write_key = || {
        par_exact(n, KEY, |r, out| {
            if r < np {
                person.write_key(r, out);
            } else if r < np + nf {
                flag.write_key(r - np, out);
            } else {
                links.write_key(r - np - nf, out);
            }
            true
        })
    };
    let write_person = || {
        par_exact(n, PERSON_ID, |r, out| {
            if r < np {
                person.write_person(r, out)
            } else if r < np + nf {
                flag.write_person(r - np, out)
            } else {
                links.write_person(r - np - nf, out);
                true
            }
        })
    };
    let (key, person_id) = rayon::join(write_key, write_person);
    let (key, person_id) = (key?, person_id?);
    // A link row's values are its record (the key), source and person.
    let source_len: Vec<usize> = links.names.iter().map(|s| json_str_len(s)).collect();
    let link_values = |r: usize, out: &mut Out| {
        out.push_str("{\"record\":\"");
        out.push_str(key.value(r));
        out.push_str("\",\"source\":");
        push_json_str(out, links.names[links.rows[r - np - nf].2 as usize]);
        out.push_str(",\"person_id\":\"");
        out.push_str(person_id.value(r));
        out.push_str("\"}");
    };
    // Persons and flags in table order are counted a column at a time,
    // link rows from their key and person ID lengths.
    let count_values = |rows: std::ops::Range<usize>| {
        let part = |from: usize, to: usize| (rows.start.clamp(from, to), rows.end.clamp(from, to));
        let ((ps, pe), (fs, fe), (ls, le)) = (part(0, np), part(np, np + nf), part(np + nf, n));
        let texts = |a: &StringArray| (a.value_offsets()[le] - a.value_offsets()[ls]) as usize;
        let sources: usize = (ls..le)
            .map(|r| source_len[links.rows[r - np - nf].2 as usize])
            .sum();
        let fixed = r#"{"record":"","source":,"person_id":""}"#.len() * (le - ls);
        let bytes = person.values_len(ps, pe)? + flag.values_len(fs - np, fe - np)?;
        Some((
            bytes + fixed + texts(&key) + texts(&person_id) + sources,
            rows.len(),
        ))
    };
    let write_values = || {
        par_exact_with(n, VALUES, count_values, |r, out| {
            if r < np {
                person.write_values(r, out);
            } else if r < np + nf {
                flag.write_values(r - np, out);
            } else {
                link_values(r, out);
            }
            true
        })
    };
    let kind = event_strings(events, EVENT_KIND)?;
    let other = event_strings(events, EVENT_OTHER)?;
    let detail = event_strings(events, DETAIL)?;
    let event_text = |col: &StringArray, r: usize, out: &mut Out| match event_of.get(r) {
        Some(&e) if e != NONE && !col.is_null(e) => {
            out.push_str(col.value(e));
            true
        }
        _ => false,
    };
    let write_flag = || {
        par_exact(n, FLAG, |r, out| {
            if r < np {
                person.write_flag(r, out)
            } else if r < np + nf {
                flag.write_flag(r - np, out)
            } else {
                false
            }
        })
    };
    let (values, ((flag_col, event), (other_person, event_detail))) =
        rayon::join(write_values, || {
            rayon::join(
                || {
                    rayon::join(write_flag, || {
                        par_exact(n, EVENT, |r, out| event_text(kind, r, out))
                    })
                },
                || {
                    rayon::join(
                        || par_exact(n, OTHER_PERSON_ID, |r, out| event_text(other, r, out)),
                        || par_exact(n, EVENT_DETAIL, |r, out| event_text(detail, r, out)),
                    )
                },
            )
        });
    let values = values?;
    let (flag_col, event) = (flag_col?, event?);
    let (other_person, event_detail) = (other_person?, event_detail?);
    drop((person, flag, event_of, links));

    // The item field of `delta_schema`'s `changed_columns`.
    let item = Arc::new(Field::new_list_field(DataType::Utf8, true));
    // The columns of one text per run, side by side.
    let (from_text, to_text) = (from.map(|p| p.to_string()), to.to_string());
    let ((change_type, entity), (from_period, to_period)) = rayon::join(
        || {
            rayon::join(
                || runs(&[("insert", n)], CHANGE_TYPE),
                || runs(&[("person", np), ("flag", nf), ("link", nl)], ENTITY),
            )
        },
        || {
            rayon::join(
                || match &from_text {
                    Some(p) => runs(&[(p, n)], FROM_PERIOD),
                    None => Ok(StringArray::new_null(n)),
                },
                || runs(&[(&to_text, n)], TO_PERIOD),
            )
        },
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(change_type?),
        Arc::new(entity?),
        Arc::new(person_id),
        Arc::new(key),
        Arc::new(flag_col),
        Arc::new(ListArray::new_null(item, n)),
        Arc::new(values),
        Arc::new(event),
        Arc::new(other_person),
        Arc::new(event_detail),
        Arc::new(from_period?),
        Arc::new(to_period?),
    ];
    let delta = crate::table::delta_batch(delta_schema(), columns)?;
    // All rows are inserts of one entity per part, so keys ascending
    // strictly within each part is the delta's order; otherwise (flag keys
    // that read the same as text, say) the combined table's sort decides.
    let keys = delta
        .column_by_name(KEY)
        .and_then(|k| k.as_any().downcast_ref::<StringArray>())
        .map(|k| {
            [(0, np), (np, np + nf), (np + nf, n)]
                .iter()
                .all(|&(start, end)| {
                    (start + 1..end)
                        .into_par_iter()
                        .all(|i| k.value(i - 1) < k.value(i))
                })
        });
    if keys == Some(true) {
        Ok(delta)
    } else {
        sort_batch(&delta)
    }
}

/// The first period's delta by the steady state's calls, for the cases the
/// direct path leaves to them.
fn composed(
    persons: &RecordBatch,
    events: &RecordBatch,
    flags: &RecordBatch,
    registry: &Registry,
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    let person = crate::with_events(
        &crate::diff("person", &["person_id"], None, persons, from, to)?,
        events,
        from,
        to,
    )?;
    let flag = crate::diff("flag", &["person_id", "flag"], None, flags, from, to)?;
    let link = crate::link_delta(None, registry, from, to)?;
    crate::combine_owned(vec![person, flag, link])
}

/// The event (a row of `events`) that `with_events` writes onto each
/// person row; `None` when an event would not land on a row of its own
/// person's insert (it then makes a row of its own), or when the rows are
/// not in `person_id` order. Errors are `with_events`' for the same table.
fn person_events(person: &Plan, events: &RecordBatch) -> Result<Option<Vec<usize>>, DeltaError> {
    let kind = event_strings(events, EVENT_KIND)?;
    let subject = event_strings(events, EVENT_PERSON)?;
    // `with_events` reads these two as well, and fails when they are missing.
    event_strings(events, EVENT_OTHER)?;
    event_strings(events, DETAIL)?;
    let texts = person.person_texts();
    let ordered = texts
        .as_ref()
        .is_some_and(|t| t.par_windows(2).all(|w| w[0] < w[1]));
    let mut event_of = vec![NONE; person.len()];
    let mut covered = ordered;
    // Events come sorted by person, so the row after the last one found is
    // tried before a binary search.
    let mut hint = 0;
    for row in 0..events.num_rows() {
        let name = if kind.is_null(row) {
            ""
        } else {
            kind.value(row)
        };
        let p = (!subject.is_null(row)).then(|| subject.value(row));
        let insert = matches!(event_effect(name, row)?, EventEffect::Arrives);
        if !covered {
            // Keep checking the events' names, for `with_events`' errors.
            continue;
        }
        // A first period has no deletes for a merge or retirement to land on.
        let Some((p, texts)) = p.zip(texts.as_ref()).filter(|_| insert) else {
            covered = false;
            continue;
        };
        let at = if texts.get(hint) == Some(&p) {
            Some(hint)
        } else {
            texts.binary_search(&p).ok()
        };
        match at {
            Some(i) if event_of[i] == NONE => {
                event_of[i] = row;
                hint = i + 1;
            }
            _ => covered = false,
        }
    }
    Ok(covered.then_some(event_of))
}

/// A first period's link rows: each present record's digest, person number
/// and source, in digest order.
struct LinkRows<'a> {
    rows: Vec<(u128, u64, u32)>,
    names: Vec<&'a str>,
}

/// The registry's link rows, or `None` when two digests are equal (which
/// `link_delta` leaves to a diff of link tables).
fn link_rows(registry: &Registry) -> Option<LinkRows<'_>> {
    let entries: Vec<(&str, u64)> = registry.present_entries().collect();
    let (names, source) = sources(entries.iter().map(|e| e.0));
    let mut rows: Vec<(u128, u64, u32)> = entries
        .par_iter()
        .zip(source.par_iter())
        .map(|(&(key, person), &s)| (digest_number(raw_digest(key)), person, s))
        .collect();
    drop((entries, source));
    rows.par_sort_unstable_by_key(|r| r.0);
    if rows.par_windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(LinkRows { rows, names })
}

impl LinkRows<'_> {
    fn write_key<S: Sink>(&self, i: usize, out: &mut S) {
        if out.counting() {
            out.skip(2 * DIGEST_BYTES);
            return;
        }
        let mut hex = [0u8; 2 * DIGEST_BYTES];
        // Hex of ten bytes fills twenty.
        let _ = hex::encode_to_slice(&self.rows[i].0.to_be_bytes()[..DIGEST_BYTES], &mut hex);
        out.push_ascii_bytes(&hex);
    }

    fn write_person<S: Sink>(&self, i: usize, out: &mut S) {
        let len = person_id_len(self.rows[i].1);
        if out.counting() {
            out.skip(len);
            return;
        }
        let mut id = [0u8; 24];
        write_person_id(&mut id[..len], self.rows[i].1);
        out.push_ascii_bytes(&id[..len]);
    }
}
