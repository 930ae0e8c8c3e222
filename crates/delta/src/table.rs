//! The delta table: its schema, its rows, and their deterministic order.

use crate::DeltaError;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// Column: `insert`, `update_preimage`, `update_postimage` or `delete`.
pub const CHANGE_TYPE: &str = "change_type";
/// Column: `person`, `flag` or `link`.
pub const ENTITY: &str = "entity";
/// Column: the person the row is about.
pub const PERSON_ID: &str = "person_id";
/// Column: the row's key, its key columns' values joined by `|`.
pub const KEY: &str = "key";
/// Column: the flag name, on flag rows.
pub const FLAG: &str = "flag";
/// Column: on update rows, the columns whose values changed.
pub const CHANGED_COLUMNS: &str = "changed_columns";
/// Column: the row's values as a JSON object (the image the change type names).
pub const VALUES: &str = "values";
/// Column: the registry event behind a person row (`new`, `merge`, `split`, `retire`).
pub const EVENT: &str = "event";
/// Column: the other person of a merge or split.
pub const OTHER_PERSON_ID: &str = "other_person_id";
/// Column: the registry's account of the event.
pub const EVENT_DETAIL: &str = "event_detail";
/// Column: the earlier period, `YYYY-MM` (null for a first period).
pub const FROM_PERIOD: &str = "from_period";
/// Column: the later period, `YYYY-MM`.
pub const TO_PERIOD: &str = "to_period";

/// A kind of change, in the vocabulary of Delta Lake's change data feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeType {
    /// A row that the earlier period did not have.
    Insert,
    /// A row that the later period does not have.
    Delete,
    /// A changed row as it was.
    UpdatePreimage,
    /// A changed row as it is.
    UpdatePostimage,
}

impl ChangeType {
    /// Every change type, in row order within a key.
    pub const ALL: [ChangeType; 4] = [
        ChangeType::Delete,
        ChangeType::Insert,
        ChangeType::UpdatePreimage,
        ChangeType::UpdatePostimage,
    ];

    /// The name used in the table.
    pub fn name(self) -> &'static str {
        match self {
            ChangeType::Insert => "insert",
            ChangeType::Delete => "delete",
            ChangeType::UpdatePreimage => "update_preimage",
            ChangeType::UpdatePostimage => "update_postimage",
        }
    }

    /// Looks a change type up by its name.
    pub fn from_name(name: &str) -> Option<ChangeType> {
        ChangeType::ALL.into_iter().find(|c| c.name() == name)
    }

    fn rank(self) -> u8 {
        match self {
            ChangeType::Delete => 0,
            ChangeType::Insert => 1,
            ChangeType::UpdatePreimage => 2,
            ChangeType::UpdatePostimage => 3,
        }
    }
}

/// Schema of the delta table.
pub fn delta_schema() -> SchemaRef {
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    Arc::new(Schema::new(vec![
        Field::new(CHANGE_TYPE, DataType::Utf8, false),
        Field::new(ENTITY, DataType::Utf8, false),
        Field::new(PERSON_ID, DataType::Utf8, true),
        Field::new(KEY, DataType::Utf8, false),
        Field::new(FLAG, DataType::Utf8, true),
        Field::new(CHANGED_COLUMNS, list, true),
        Field::new(VALUES, DataType::Utf8, true),
        Field::new(EVENT, DataType::Utf8, true),
        Field::new(OTHER_PERSON_ID, DataType::Utf8, true),
        Field::new(EVENT_DETAIL, DataType::Utf8, true),
        Field::new(FROM_PERIOD, DataType::Utf8, true),
        Field::new(TO_PERIOD, DataType::Utf8, false),
    ]))
}

/// One row of the delta table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeltaRow {
    pub change_type: ChangeType,
    pub entity: String,
    pub person_id: Option<String>,
    pub key: String,
    pub flag: Option<String>,
    pub changed_columns: Option<Vec<String>>,
    pub values: Option<String>,
    pub event: Option<String>,
    pub other_person_id: Option<String>,
    pub event_detail: Option<String>,
    pub from_period: Option<String>,
    pub to_period: String,
}

/// Entities in table order; others follow by name.
fn entity_rank(entity: &str) -> (u8, &str) {
    match entity {
        "person" => (0, ""),
        "flag" => (1, ""),
        "link" => (2, ""),
        other => (3, other),
    }
}

/// Sorts rows by entity, key, change type, then every other column, which
/// is a total order, so equal inputs give equal tables.
pub(crate) fn sort_rows(rows: &mut [DeltaRow]) {
    rows.sort_by(|a, b| {
        entity_rank(&a.entity)
            .cmp(&entity_rank(&b.entity))
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.change_type.rank().cmp(&b.change_type.rank()))
            .then_with(|| a.from_period.cmp(&b.from_period))
            .then_with(|| a.to_period.cmp(&b.to_period))
            .then_with(|| a.event.cmp(&b.event))
            .then_with(|| a.other_person_id.cmp(&b.other_person_id))
            .then_with(|| a.values.cmp(&b.values))
            .then_with(|| a.person_id.cmp(&b.person_id))
            .then_with(|| a.flag.cmp(&b.flag))
            .then_with(|| a.changed_columns.cmp(&b.changed_columns))
            .then_with(|| a.event_detail.cmp(&b.event_detail))
    });
}

pub(crate) fn build(rows: &[DeltaRow]) -> RecordBatch {
    let text = |f: &dyn Fn(&DeltaRow) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let mut changed = ListBuilder::new(StringBuilder::new());
    for r in rows {
        match &r.changed_columns {
            Some(cols) => {
                cols.iter().for_each(|c| changed.values().append_value(c));
                changed.append(true);
            }
            None => changed.append(false),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.change_type.name())),
        text(&|r| Some(&r.entity)),
        text(&|r| r.person_id.as_deref()),
        text(&|r| Some(&r.key)),
        text(&|r| r.flag.as_deref()),
        Arc::new(changed.finish()),
        text(&|r| r.values.as_deref()),
        text(&|r| r.event.as_deref()),
        text(&|r| r.other_person_id.as_deref()),
        text(&|r| r.event_detail.as_deref()),
        text(&|r| r.from_period.as_deref()),
        text(&|r| Some(&r.to_period)),
    ];
    // No input can reach a failure: the columns are built here for this
    // very schema, so a failure is a bug in this crate.
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(delta_schema(), columns)
        .expect("delta columns are built for the delta schema")
}

fn strings<'a>(
    batch: &'a RecordBatch,
    column: &'static str,
) -> Result<&'a StringArray, DeltaError> {
    let col = batch
        .column_by_name(column)
        .ok_or_else(|| DeltaError::BadTable {
            table: "delta",
            column,
            problem: "is missing".to_string(),
        })?;
    col.as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DeltaError::BadTable {
            table: "delta",
            column,
            problem: format!("has type {}, expected Utf8", col.data_type()),
        })
}

fn opt(col: &StringArray, row: usize) -> Option<String> {
    (!col.is_null(row)).then(|| col.value(row).to_string())
}

/// Reads a delta table back into rows (any table of [`delta_schema`]).
pub(crate) fn read(batch: &RecordBatch) -> Result<Vec<DeltaRow>, DeltaError> {
    let change = strings(batch, CHANGE_TYPE)?;
    let entity = strings(batch, ENTITY)?;
    let person = strings(batch, PERSON_ID)?;
    let key = strings(batch, KEY)?;
    let flag = strings(batch, FLAG)?;
    let values = strings(batch, VALUES)?;
    let event = strings(batch, EVENT)?;
    let other = strings(batch, OTHER_PERSON_ID)?;
    let detail = strings(batch, EVENT_DETAIL)?;
    let from = strings(batch, FROM_PERIOD)?;
    let to = strings(batch, TO_PERIOD)?;
    let changed_col = batch
        .column_by_name(CHANGED_COLUMNS)
        .ok_or(DeltaError::BadTable {
            table: "delta",
            column: CHANGED_COLUMNS,
            problem: "is missing".to_string(),
        })?;
    let changed = changed_col
        .as_list_opt::<i32>()
        .ok_or_else(|| DeltaError::BadTable {
            table: "delta",
            column: CHANGED_COLUMNS,
            problem: format!(
                "has type {}, expected a list of Utf8",
                changed_col.data_type()
            ),
        })?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let name = opt(change, row).unwrap_or_default();
        let change_type = ChangeType::from_name(&name).ok_or_else(|| DeltaError::BadValue {
            table: "delta",
            row,
            column: CHANGE_TYPE,
            value: name.clone(),
            allowed: "insert, update_preimage, update_postimage, delete",
        })?;
        let changed_columns = if changed.is_null(row) {
            None
        } else {
            let items = changed.value(row);
            let items = items
                .as_string_opt::<i32>()
                .ok_or_else(|| DeltaError::BadTable {
                    table: "delta",
                    column: CHANGED_COLUMNS,
                    problem: "has list items that are not Utf8".to_string(),
                })?;
            Some(
                (0..items.len())
                    .filter(|i| !items.is_null(*i))
                    .map(|i| items.value(i).to_string())
                    .collect(),
            )
        };
        rows.push(DeltaRow {
            change_type,
            entity: opt(entity, row).unwrap_or_default(),
            person_id: opt(person, row),
            key: opt(key, row).unwrap_or_default(),
            flag: opt(flag, row),
            changed_columns,
            values: opt(values, row),
            event: opt(event, row),
            other_person_id: opt(other, row),
            event_detail: opt(detail, row),
            from_period: opt(from, row),
            to_period: opt(to, row).unwrap_or_default(),
        });
    }
    Ok(rows)
}

/// Concatenates delta tables (for example the person, flag and link deltas
/// of one period) into one, in the deterministic row order.
pub fn combine(parts: &[RecordBatch]) -> Result<RecordBatch, DeltaError> {
    let mut rows = Vec::new();
    for part in parts {
        rows.extend(read(part)?);
    }
    sort_rows(&mut rows);
    Ok(build(&rows))
}
