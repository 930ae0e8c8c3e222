//! Registry events (new persons, merges, splits, retirements) in the delta.
//!
//! A merge or split shows in the person table only as a person that
//! disappears or appears; the registry knows why. [`with_events`] writes the
//! why onto those rows, so an auditor reading the `delete` of a merged person
//! also reads whom it was merged into.

use crate::DeltaError;
use crate::table::{ChangeType, DeltaRow, build, read, sort_rows};
use aidlink_registry::{DETAIL, EVENT, OTHER_PERSON_ID, PERSON_ID};
use aidlink_vocab::Period;
use arrow_array::{Array, RecordBatch, StringArray};
use std::collections::HashMap;

fn strings<'a>(
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

/// `delta` with the registry's person events (`aidlink_registry::events_schema`)
/// written onto its person rows:
///
/// * `new` and `split` on the `insert` of the new person (`other_person_id`:
///   the person it split from);
/// * `merge` on the `delete` of the merged-away person (`other_person_id`:
///   the person it was merged into);
/// * `retire` on the `delete` of the retired person.
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
    let mut rows = read(delta)?;
    let kind = strings(events, EVENT)?;
    let person = strings(events, PERSON_ID)?;
    let other = strings(events, OTHER_PERSON_ID)?;
    let detail = strings(events, DETAIL)?;
    // Person rows by change type and person, so each event finds its row
    // without a scan.
    let mut index: HashMap<(ChangeType, String), usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.entity == "person"
            && let Some(p) = &r.person_id
        {
            index.entry((r.change_type, p.clone())).or_insert(i);
        }
    }
    let opt =
        |col: &StringArray, row: usize| (!col.is_null(row)).then(|| col.value(row).to_string());
    for row in 0..events.num_rows() {
        let event = opt(kind, row).unwrap_or_default();
        let person = opt(person, row);
        let other = opt(other, row);
        // The row the event explains, and the person named on the other side.
        let (change_type, subject, related) = match event.as_str() {
            "new" | "split" => (ChangeType::Insert, person, other),
            "merge" => (ChangeType::Delete, other, person),
            "retire" => (ChangeType::Delete, person, None),
            _ => {
                return Err(DeltaError::BadValue {
                    table: "person events",
                    row,
                    column: EVENT,
                    value: event,
                    allowed: "new, merge, split, retire",
                });
            }
        };
        let target = subject
            .as_ref()
            .and_then(|s| index.get(&(change_type, s.clone())))
            .copied()
            .filter(|i| rows[*i].event.is_none());
        match target.map(|i| &mut rows[i]) {
            Some(r) => {
                r.event = Some(event);
                r.other_person_id = related;
                r.event_detail = opt(detail, row);
            }
            None => rows.push(DeltaRow {
                change_type,
                entity: "person".to_string(),
                key: subject.clone().unwrap_or_default(),
                person_id: subject,
                flag: None,
                changed_columns: None,
                values: None,
                event: Some(event),
                other_person_id: related,
                event_detail: opt(detail, row),
                from_period: from.map(|p| p.to_string()),
                to_period: to.to_string(),
            }),
        }
    }
    sort_rows(&mut rows);
    Ok(build(&rows))
}
