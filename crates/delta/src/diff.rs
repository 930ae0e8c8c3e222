//! Diffing two versions of one table into change-feed rows.

use crate::DeltaError;
use crate::table::{ChangeType, DeltaRow, build, sort_batch};
use crate::value::{cell, key_text, same, supported, write_cell};
use aidlink_vocab::Period;
use arrow_array::{Array, ArrayRef, RecordBatch};
use serde_json::Value;
use std::collections::HashMap;

/// The flags table's evidence column (`source:row` references).
pub const EVIDENCE: &str = "evidence";
/// The flags table's stable stand-in for its evidence (see `aidlink_flag::add_evidence_digest`).
pub const EVIDENCE_DIGEST: &str = "evidence_digest";

/// Choices of a diff beyond the tables themselves.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions<'a> {
    /// Columns reported in `values` but not compared: text that changes
    /// without the row changing, such as flag evidence as `source:row`
    /// (rows move in a department's file from month to month). Compare a
    /// stable stand-in instead, such as the flags table's `evidence_digest`.
    pub ignore: &'a [&'a str],
}

/// One side of a diff: a table, its key index and its columns by name.
struct Side<'a> {
    /// The table's array of each of the diff's columns, `None` when absent.
    arrays: Vec<Option<&'a ArrayRef>>,
    /// Row of each key; the key's values joined by a unit separator, which
    /// no key value contains in practice and which keeps `("a|b", "c")`
    /// apart from `("a", "b|c")`.
    keys: HashMap<String, usize>,
    /// Keys in row order, as identified (see `keys`).
    ids: Vec<String>,
    /// Keys in row order, as shown (values joined by `|`).
    shown: Vec<String>,
}

const KEY_SEPARATOR: char = '\u{1f}';

fn present(batch: &RecordBatch) -> String {
    let names: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    names.join(", ")
}

impl<'a> Side<'a> {
    fn new(
        entity: &str,
        side: &'static str,
        batch: &'a RecordBatch,
        key_columns: &[&str],
        columns: &[String],
    ) -> Result<Side<'a>, DeltaError> {
        for field in batch.schema_ref().fields() {
            if !supported(field.data_type()) {
                return Err(DeltaError::UnsupportedType {
                    entity: entity.to_string(),
                    column: field.name().clone(),
                    data_type: field.data_type().clone(),
                });
            }
        }
        let key_arrays: Vec<&ArrayRef> = key_columns
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .ok_or_else(|| DeltaError::MissingKeyColumn {
                        entity: entity.to_string(),
                        side,
                        column: c.to_string(),
                        present: present(batch),
                    })
            })
            .collect::<Result<_, _>>()?;
        let mut keys = HashMap::with_capacity(batch.num_rows());
        let mut shown = Vec::with_capacity(batch.num_rows());
        let mut ids = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let mut key = Vec::with_capacity(key_arrays.len());
            for (col, array) in key_columns.iter().zip(&key_arrays) {
                if array.is_null(row) {
                    return Err(DeltaError::NullKey {
                        entity: entity.to_string(),
                        side,
                        column: col.to_string(),
                        row,
                    });
                }
                key.push(key_text(&cell(array.as_ref(), row)));
            }
            let identity = key.join(&KEY_SEPARATOR.to_string());
            if keys.insert(identity.clone(), row).is_some() {
                return Err(DeltaError::DuplicateKey {
                    entity: entity.to_string(),
                    side,
                    key: key.join("|"),
                });
            }
            shown.push(key.join("|"));
            ids.push(identity);
        }
        let arrays = columns.iter().map(|c| batch.column_by_name(c)).collect();
        Ok(Side {
            arrays,
            keys,
            ids,
            shown,
        })
    }

    /// The row's value in the diff's column `col`; null when the table has
    /// no such column.
    fn value(&self, col: usize, row: usize) -> Value {
        self.arrays[col].map_or(Value::Null, |a| cell(a.as_ref(), row))
    }
}

/// The row as a JSON object, columns in the diff's column order;
/// `names` are the columns' names already written as JSON strings.
fn values_json(side: &Side, names: &[String], row: usize) -> String {
    let mut out = String::from("{");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push(':');
        match side.arrays[i] {
            Some(a) => write_cell(&mut out, a.as_ref(), row),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

fn text_of(side: &Side, col: Option<usize>, row: usize) -> Option<String> {
    match col.map(|c| side.value(c, row)) {
        None | Some(Value::Null) => None,
        Some(v) => Some(key_text(&v)),
    }
}

/// The change feed from `previous` to `current` for one entity, with the
/// default [`DiffOptions`]; see [`diff_with`].
pub fn diff(
    entity: &str,
    key_columns: &[&str],
    previous: Option<&RecordBatch>,
    current: &RecordBatch,
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    diff_with(
        entity,
        key_columns,
        previous,
        current,
        from,
        to,
        &DiffOptions::default(),
    )
}

/// The change feed from `previous` to `current` for one entity.
///
/// Rows are matched on `key_columns`. A key only in `current` is an
/// `insert`, only in `previous` a `delete`; a key in both whose other
/// columns differ (ignoring [`DiffOptions::ignore`]) gives an
/// `update_preimage` and an `update_postimage` row naming the changed columns.
/// With no `previous` (a first period) every row is an insert. A column only
/// one table has reads as null in the other. `person_id` and `flag` columns,
/// when the table has them, fill the delta's columns of the same names.
///
/// Columns whose field metadata in `current` has
/// `aidlink_flag::NOT_COMPARED` = `"true"` (the persons table's `age`, flag
/// `evidence` once `evidence_digest` is added) are shown but not compared;
/// so is `evidence` whenever both tables have an `evidence_digest` column
/// (metadata a storage round trip may have lost): the digest says whether
/// the records behind a flag changed, while `source:row` texts change
/// whenever rows move in a file.
pub fn diff_with(
    entity: &str,
    key_columns: &[&str],
    previous: Option<&RecordBatch>,
    current: &RecordBatch,
    from: Option<Period>,
    to: Period,
    options: &DiffOptions,
) -> Result<RecordBatch, DeltaError> {
    if key_columns.is_empty() {
        return Err(DeltaError::NoKeyColumns {
            entity: entity.to_string(),
        });
    }
    // Columns in the current table's order, then any only the previous has.
    let mut columns: Vec<String> = current
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if let Some(p) = previous {
        for f in p.schema_ref().fields() {
            if !columns.contains(f.name()) {
                columns.push(f.name().clone());
            }
        }
    }
    let cur = Side::new(entity, "current", current, key_columns, &columns)?;
    let prev = previous
        .map(|p| Side::new(entity, "previous", p, key_columns, &columns))
        .transpose()?;
    // Flag evidence as `source:row` moves with the rows of a file; when both
    // tables carry its stable stand-in, the stand-in is compared instead.
    let has_digest = |b: &RecordBatch| b.column_by_name(EVIDENCE_DIGEST).is_some();
    let evidence_stands_in = has_digest(current) && previous.is_none_or(has_digest);
    // Columns the current table marks as shown but not compared.
    let marked: Vec<&str> = current
        .schema_ref()
        .fields()
        .iter()
        .filter(|f| {
            f.metadata()
                .get(aidlink_flag::NOT_COMPARED)
                .is_some_and(|v| v == "true")
        })
        .map(|f| f.name().as_str())
        .collect();
    let compared: Vec<usize> = (0..columns.len())
        .filter(|i| {
            let c = columns[*i].as_str();
            let skipped =
                key_columns.contains(&c) || options.ignore.contains(&c) || marked.contains(&c);
            let stood_in = evidence_stands_in && c == EVIDENCE;
            !(skipped || stood_in)
        })
        .collect();
    let names: Vec<String> = columns
        .iter()
        .map(|c| Value::from(c.as_str()).to_string())
        .collect();
    let person_col = columns.iter().position(|c| c == "person_id");
    let flag_col = columns.iter().position(|c| c == "flag");

    let from_period = from.map(|p| p.to_string());
    let to_period = to.to_string();
    let row_of = |side: &Side,
                  change_type: ChangeType,
                  row: usize,
                  key: &str,
                  changed: Option<Vec<String>>| {
        DeltaRow {
            change_type,
            entity: entity.to_string(),
            person_id: text_of(side, person_col, row),
            key: key.to_string(),
            flag: text_of(side, flag_col, row),
            changed_columns: changed,
            values: Some(values_json(side, &names, row)),
            event: None,
            other_person_id: None,
            event_detail: None,
            from_period: from_period.clone(),
            to_period: to_period.clone(),
        }
    };

    // Unchanged when both sides lack the column or hold the same value.
    let differs = |p: &Side, r: usize, c: usize, col: usize| match (p.arrays[col], cur.arrays[col])
    {
        (None, None) => false,
        (Some(a), Some(b)) => !same(a.as_ref(), r, b.as_ref(), c),
        (Some(a), None) => !a.is_null(r),
        (None, Some(b)) => !b.is_null(c),
    };
    let mut rows = Vec::new();
    for (c, key) in cur.shown.iter().enumerate() {
        let before = prev
            .as_ref()
            .and_then(|p| p.keys.get(&cur.ids[c]).map(|r| (p, *r)));
        match before {
            None => rows.push(row_of(&cur, ChangeType::Insert, c, key, None)),
            Some((p, r)) => {
                let changed: Vec<String> = compared
                    .iter()
                    .filter(|col| differs(p, r, c, **col))
                    .map(|col| columns[*col].clone())
                    .collect();
                if !changed.is_empty() {
                    rows.push(row_of(
                        p,
                        ChangeType::UpdatePreimage,
                        r,
                        key,
                        Some(changed.clone()),
                    ));
                    rows.push(row_of(
                        &cur,
                        ChangeType::UpdatePostimage,
                        c,
                        key,
                        Some(changed),
                    ));
                }
            }
        }
    }
    if let Some(p) = &prev {
        for (r, key) in p.shown.iter().enumerate() {
            if !cur.keys.contains_key(&p.ids[r]) {
                rows.push(row_of(p, ChangeType::Delete, r, key, None));
            }
        }
    }
    sort_batch(&build(&rows))
}
