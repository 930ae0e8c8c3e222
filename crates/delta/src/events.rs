//! Registry events (new persons, merges, splits, retirements) in the delta.
//!
//! A merge or split shows in the person table only as a person that
//! disappears or appears; the registry knows why. [`with_events`] writes the
//! why onto those rows, so an auditor reading the `delete` of a merged person
//! also reads whom it was merged into.

use crate::DeltaError;
use crate::table::{
    CHANGE_TYPE, ChangeType, DeltaRow, ENTITY, EVENT, EVENT_DETAIL, OTHER_PERSON_ID, PERSON_ID,
    build, conform, delta_schema, sort_batch, strings,
};
use aidlink_registry::{
    DETAIL, EVENT as EVENT_KIND, OTHER_PERSON_ID as EVENT_OTHER, PERSON_ID as EVENT_PERSON,
};
use aidlink_vocab::Period;
use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_select::concat::concat_batches;
use rayon::prelude::*;
use std::sync::Arc;

pub(crate) fn event_strings<'a>(
    events: &'a RecordBatch,
    column: &'static str,
) -> Result<&'a StringArray, DeltaError> {
    let col = events
        .column_by_name(column)
        .ok_or_else(|| DeltaError::BadTable {
            table: "person events",
            column,
            problem: "is missing".to_string(),
        })?;
    col.as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DeltaError::BadTable {
            table: "person events",
            column,
            problem: format!("has type {}, expected Utf8", col.data_type()),
        })
}

fn get(col: &StringArray, row: usize) -> Option<&str> {
    (!col.is_null(row)).then(|| col.value(row))
}

/// `delta` with the registry's person events (`aidlink_registry::events_schema`)
/// written onto its person rows:
///
/// * `new` and `split` on the `insert` of the new person (`other_person_id`:
///   the person it split from);
/// * `merge` on the `delete` of the merged-away person (`other_person_id`:
///   the person it was merged into);
/// * `retire` on the `delete` of the retired person;
/// * `return` on the `insert` of a retired person whose records are back.
///
/// An event whose person row is not in `delta` (for instance when diffing
/// periods that are not consecutive) becomes a row of its own, with no
/// values, dated `from`..`to`.
pub fn with_events(
    delta: &RecordBatch,
    events: &RecordBatch,
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    let delta = conform(delta)?;
    let change = strings(&delta, CHANGE_TYPE)?;
    let entity = strings(&delta, ENTITY)?;
    let person = strings(&delta, PERSON_ID)?;
    // The event columns, borrowed from the delta and the events table: a
    // person delta has millions of rows, most without an event.
    let mut event: Vec<Option<&str>> = column_values(strings(&delta, EVENT)?);
    let mut other: Vec<Option<&str>> = column_values(strings(&delta, OTHER_PERSON_ID)?);
    let mut detail: Vec<Option<&str>> = column_values(strings(&delta, EVENT_DETAIL)?);

    // Person rows by person and change type, sorted once, so each event
    // finds its row by a binary search: a first period has millions of
    // person rows and as many `new` events, and a diff's person rows are
    // in this order already (their key is the person), which a linear
    // check finds without sorting.
    let mut index: Vec<(&str, u8, usize)> = (0..delta.num_rows())
        .filter(|&row| get(entity, row) == Some("person"))
        .filter_map(|row| {
            let c = ChangeType::from_name(get(change, row)?)?;
            Some((get(person, row)?, c.rank(), row))
        })
        .collect();
    if !index.windows(2).all(|w| w[0] <= w[1]) {
        index.par_sort_unstable();
    }
    // The first row (in row order) of a person and change type. Events
    // come sorted by person, so the entry after the last one found is
    // usually the next one wanted: it is tried before a binary search.
    let mut hint = 0;
    let mut find = |change_type: ChangeType, p: &str| -> Option<usize> {
        let wanted = (p, change_type.rank());
        let is_first = |at: usize| {
            index.get(at).is_some_and(|e| (e.0, e.1) == wanted)
                && (at == 0 || (index[at - 1].0, index[at - 1].1) != wanted)
        };
        let at = if is_first(hint) {
            hint
        } else {
            index.partition_point(|e| (e.0, e.1) < wanted)
        };
        let found = index.get(at).filter(|e| (e.0, e.1) == wanted).map(|e| e.2);
        if found.is_some() {
            hint = at + 1;
        }
        found
    };

    let kind = event_strings(events, EVENT_KIND)?;
    let subject_col = event_strings(events, EVENT_PERSON)?;
    let other_col = event_strings(events, EVENT_OTHER)?;
    let detail_col = event_strings(events, DETAIL)?;
    let mut extra = Vec::new();
    for row in 0..events.num_rows() {
        let name = get(kind, row).unwrap_or("");
        let (p, o) = (get(subject_col, row), get(other_col, row));
        // The row the event explains, and the person named on the other side.
        let (change_type, subject, related) = match event_effect(name, row)? {
            EventEffect::Arrives => (ChangeType::Insert, p, o),
            EventEffect::Merges => (ChangeType::Delete, o, p),
            EventEffect::Retires => (ChangeType::Delete, p, None),
        };
        let target = subject
            .and_then(|s| find(change_type, s))
            .filter(|i| event[*i].is_none());
        match target {
            Some(i) => {
                event[i] = Some(name);
                other[i] = related;
                detail[i] = get(detail_col, row);
            }
            None => extra.push(DeltaRow {
                change_type,
                entity: "person".to_string(),
                key: subject.unwrap_or("").to_string(),
                person_id: subject.map(str::to_string),
                flag: None,
                changed_columns: None,
                values: None,
                event: Some(name.to_string()),
                other_person_id: related.map(str::to_string),
                event_detail: get(detail_col, row).map(str::to_string),
                from_period: from.map(|p| p.to_string()),
                to_period: to.to_string(),
            }),
        }
    }

    let schema = delta_schema();
    let replaced: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(delta.columns())
        .map(|(f, c)| -> ArrayRef {
            match f.name().as_str() {
                EVENT => text_column(&event),
                OTHER_PERSON_ID => text_column(&other),
                EVENT_DETAIL => text_column(&detail),
                _ => c.clone(),
            }
        })
        .collect();
    let annotated =
        RecordBatch::try_new(schema.clone(), replaced).map_err(|e| DeltaError::BadTable {
            table: "delta",
            column: EVENT,
            problem: format!("cannot take the event columns: {e}"),
        })?;
    if extra.is_empty() {
        return sort_batch(&annotated);
    }
    let all =
        concat_batches(&schema, &[annotated, build(&extra)]).map_err(|e| DeltaError::BadTable {
            table: "delta",
            column: EVENT,
            problem: format!("cannot take the event rows: {e}"),
        })?;
    sort_batch(&all)
}

/// A text column built with its exact size reserved.
fn text_column(values: &[Option<&str>]) -> ArrayRef {
    let bytes = values.iter().flatten().map(|v| v.len()).sum();
    let mut b = StringBuilder::with_capacity(values.len(), bytes);
    values.iter().for_each(|v| b.append_option(*v));
    Arc::new(b.finish())
}

fn column_values(col: &StringArray) -> Vec<Option<&str>> {
    (0..col.len()).map(|i| get(col, i)).collect()
}

/// What a registry event does to the delta's person rows.
pub(crate) enum EventEffect {
    /// `new`, `split`, `return`: a person arrives, on an insert row.
    Arrives,
    /// `merge`: the merged-away person's delete row, naming the survivor.
    Merges,
    /// `retire`: the person's delete row.
    Retires,
}

/// Reads the event name `name` of row `row` of the person events.
pub(crate) fn event_effect(name: &str, row: usize) -> Result<EventEffect, DeltaError> {
    match name {
        "new" | "split" | "return" => Ok(EventEffect::Arrives),
        "merge" => Ok(EventEffect::Merges),
        "retire" => Ok(EventEffect::Retires),
        _ => Err(DeltaError::BadValue {
            table: "person events",
            row,
            column: EVENT_KIND,
            value: name.to_string(),
            allowed: "new, merge, split, retire, return",
        }),
    }
}
