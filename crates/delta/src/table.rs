//! The delta table: its schema, its rows, and their deterministic order.

use crate::DeltaError;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use arrow_select::concat::concat;
use arrow_select::take::take_record_batch;
use rayon::prelude::*;
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

    pub(crate) fn rank(self) -> u8 {
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

fn change_rank(change_type: &str) -> u8 {
    ChangeType::from_name(change_type).map_or(4, ChangeType::rank)
}

/// A delta table's text columns, for ordering its rows.
struct SortColumns<'a> {
    entity: &'a StringArray,
    key: &'a StringArray,
    change: &'a StringArray,
    rest: Vec<&'a StringArray>,
}

fn get(col: &StringArray, row: usize) -> Option<&str> {
    (!col.is_null(row)).then(|| col.value(row))
}

/// `batch` (of [`delta_schema`]) with its rows in the delta's order: entity
/// (`person`, `flag`, `link`, then others by name), key, change type
/// (`delete`, `insert`, `update_preimage`, `update_postimage`), then the
/// periods, event, other person, values, person, flag and event detail. The
/// sort is stable, so rows equal in all of these keep their input order.
pub(crate) fn sort_batch(batch: &RecordBatch) -> Result<RecordBatch, DeltaError> {
    let cols = SortColumns {
        entity: strings(batch, ENTITY)?,
        key: strings(batch, KEY)?,
        change: strings(batch, CHANGE_TYPE)?,
        rest: [
            FROM_PERIOD,
            TO_PERIOD,
            EVENT,
            OTHER_PERSON_ID,
            VALUES,
            PERSON_ID,
            FLAG,
            EVENT_DETAIL,
        ]
        .into_iter()
        .map(|c| strings(batch, c))
        .collect::<Result<_, _>>()?,
    };
    let head = |r: usize| {
        (
            entity_rank(get(cols.entity, r).unwrap_or("")),
            get(cols.key, r),
            change_rank(get(cols.change, r).unwrap_or("")),
        )
    };
    let compare = |a: usize, b: usize| {
        head(a).cmp(&head(b)).then_with(|| {
            cols.rest
                .iter()
                .map(|c| get(c, a))
                .cmp(cols.rest.iter().map(|c| get(c, b)))
        })
    };
    // Parts of a delta usually arrive in order already; checking is linear.
    let n = batch.num_rows();
    if (1..n)
        .into_par_iter()
        .all(|i| compare(i - 1, i) != std::cmp::Ordering::Greater)
    {
        return Ok(batch.clone());
    }
    // A stable sort has one result, whatever the thread count.
    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_by(|&a, &b| compare(a, b));
    let indices = UInt64Array::from_iter_values(order.into_iter().map(|r| r as u64));
    take_record_batch(batch, &indices).map_err(|e| DeltaError::BadTable {
        table: "delta",
        column: KEY,
        problem: format!("rows cannot be reordered: {e}"),
    })
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

pub(crate) fn strings<'a>(
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

/// Checks that `batch` has the delta schema's columns and types, and gives
/// it exactly that schema (a Parquet round trip may change nullability or
/// metadata).
pub(crate) fn conform(batch: &RecordBatch) -> Result<RecordBatch, DeltaError> {
    let schema = delta_schema();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = delta_column_name(field.name());
        let col = batch
            .column_by_name(name)
            .ok_or_else(|| DeltaError::BadTable {
                table: "delta",
                column: name,
                problem: "is missing".to_string(),
            })?;
        if col.data_type() != field.data_type() {
            return Err(DeltaError::BadTable {
                table: "delta",
                column: name,
                problem: format!(
                    "has type {}, expected {}",
                    col.data_type(),
                    field.data_type()
                ),
            });
        }
        columns.push(col.clone());
    }
    delta_batch(schema, columns)
}

/// The `'static` name of a delta column.
fn delta_column_name(name: &str) -> &'static str {
    [
        CHANGE_TYPE,
        ENTITY,
        PERSON_ID,
        KEY,
        FLAG,
        CHANGED_COLUMNS,
        VALUES,
        EVENT,
        OTHER_PERSON_ID,
        EVENT_DETAIL,
        FROM_PERIOD,
        TO_PERIOD,
    ]
    .into_iter()
    .find(|c| *c == name)
    .unwrap_or(CHANGE_TYPE)
}

/// Concatenates delta tables (for example the person, flag and link deltas
/// of one period) into one, in the deterministic row order.
pub fn combine(parts: &[RecordBatch]) -> Result<RecordBatch, DeltaError> {
    let parts: Vec<RecordBatch> = parts.iter().map(conform).collect::<Result<_, _>>()?;
    let schema = delta_schema();
    let filled: Vec<&RecordBatch> = parts.iter().filter(|p| p.num_rows() > 0).collect();
    let all = match filled.as_slice() {
        // One part with rows is the table itself: nothing to copy.
        [one] => (*one).clone(),
        [] => RecordBatch::new_empty(schema),
        _ => {
            // Column by column in parallel (a first period's `values` alone
            // is about a gigabyte), in column order.
            let columns: Vec<ArrayRef> = (0..schema.fields().len())
                .into_par_iter()
                .map(|i| {
                    let pieces: Vec<&dyn Array> =
                        filled.iter().map(|p| p.column(i).as_ref()).collect();
                    concat(&pieces)
                })
                .collect::<Result<_, _>>()
                .map_err(concat_error)?;
            delta_batch(schema, columns)?
        }
    };
    sort_batch(&all)
}

/// The error of joining the parts' columns.
fn concat_error(e: arrow_schema::ArrowError) -> DeltaError {
    DeltaError::BadTable {
        table: "delta",
        column: CHANGE_TYPE,
        problem: format!("tables cannot be concatenated: {e}"),
    }
}

/// The combined delta table from its joined columns.
pub(crate) fn delta_batch(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
) -> Result<RecordBatch, DeltaError> {
    RecordBatch::try_new(schema, columns).map_err(|e| DeltaError::BadTable {
        table: "delta",
        column: CHANGE_TYPE,
        problem: format!("does not fit the delta schema: {e}"),
    })
}

/// [`combine`] for parts the caller hands over: a text column of the first
/// part (in a first period the persons' `values`, about a gigabyte of JSON)
/// is extended in place by the other parts' texts when nothing else holds
/// it, instead of being copied with them into a new column; so the
/// combined table costs about the memory of the parts rather than twice
/// it. The rows are those of [`combine`] on the same parts.
pub fn combine_owned(parts: Vec<RecordBatch>) -> Result<RecordBatch, DeltaError> {
    let schema = delta_schema();
    let mut by_column: Vec<Vec<ArrayRef>> = vec![Vec::new(); schema.fields().len()];
    for part in parts {
        // `conform` shares the part's columns; dropping the part leaves
        // them held only here.
        let (_, columns, _) = conform(&part)?.into_parts();
        drop(part);
        for (i, c) in columns.into_iter().enumerate() {
            if !c.is_empty() {
                by_column[i].push(c);
            }
        }
    }
    let columns: Vec<ArrayRef> = by_column
        .into_par_iter()
        .enumerate()
        .map(|(i, pieces)| match pieces.len() {
            0 => Ok(arrow_array::new_empty_array(schema.field(i).data_type())),
            1 => Ok(pieces
                .into_iter()
                .next()
                .unwrap_or_else(|| arrow_array::new_empty_array(schema.field(i).data_type()))),
            _ => append_text(pieces),
        })
        .collect::<Result<_, _>>()
        .map_err(concat_error)?;
    let all = delta_batch(schema, columns)?;
    sort_batch(&all)
}

/// The pieces of one column one after the other: text pieces appended to
/// the first one's own buffers when it is the only holder of them (no copy
/// of the first piece), anything else concatenated into a new array.
fn append_text(mut pieces: Vec<ArrayRef>) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let first = match pieces
        .first()
        .and_then(|p| p.as_any().downcast_ref::<StringArray>())
    {
        Some(f) if pieces.iter().all(|p| p.data_type() == &DataType::Utf8) => f.clone(),
        _ => {
            let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
            return concat(&refs);
        }
    };
    // Let go of the first piece's reference, so `first` may hold its
    // buffers alone.
    pieces.remove(0);
    let rest: Vec<&StringArray> = pieces
        .iter()
        .filter_map(|p| p.as_any().downcast_ref::<StringArray>())
        .collect();
    let len = first.len();
    let (offsets, values, nulls) = first.into_parts();
    let offsets = offsets.into_inner().into_inner();
    let (offsets, values) = match (offsets.into_vec::<i32>(), values.into_vec::<u8>()) {
        (Ok(o), Ok(v))
            if o.first() == Some(&0) && o.last().map(|l| *l as usize) == Some(v.len()) =>
        {
            (o, v)
        }
        (o, v) => {
            // Shared or sliced: rebuild the first piece and copy them all.
            let o = o.map(Buffer::from_vec).unwrap_or_else(|b| b);
            let v = v.map(Buffer::from_vec).unwrap_or_else(|b| b);
            let first = StringArray::try_new(
                OffsetBuffer::new(ScalarBuffer::new(o, 0, len + 1)),
                v,
                nulls,
            )?;
            let mut refs: Vec<&dyn Array> = vec![&first];
            refs.extend(rest.iter().map(|p| *p as &dyn Array));
            return concat(&refs);
        }
    };
    let (mut offsets, mut values) = (offsets, values);
    let extra: usize = rest
        .iter()
        .map(|p| {
            let o = p.value_offsets();
            (o[o.len() - 1] - o[0]) as usize
        })
        .sum();
    let total = values.len() + extra;
    if i32::try_from(total).is_err() {
        return Err(arrow_schema::ArrowError::InvalidArgumentError(format!(
            "{total} bytes of text are more than a column can hold (2 GiB)"
        )));
    }
    values.reserve(extra);
    offsets.reserve(rest.iter().map(|p| p.len()).sum());
    let any_null = nulls.is_some() || rest.iter().any(|p| p.null_count() > 0);
    let mut valid: Vec<bool> = Vec::new();
    if any_null {
        valid.extend((0..len).map(|i| nulls.as_ref().is_none_or(|n| n.is_valid(i))));
    }
    for p in &rest {
        let o = p.value_offsets();
        let (start, end) = (o[0] as usize, o[o.len() - 1] as usize);
        let base = values.len() as i32 - o[0];
        values.extend_from_slice(&p.value_data()[start..end]);
        offsets.extend(o[1..].iter().map(|x| x + base));
        if any_null {
            valid.extend((0..p.len()).map(|i| p.is_valid(i)));
        }
    }
    let nulls = any_null.then(|| NullBuffer::from(valid));
    let out = StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(values),
        nulls,
    )?;
    Ok(Arc::new(out))
}
