//! Diffing two versions of one table into change-feed rows.

use crate::DeltaError;
use crate::table::{ChangeType, DeltaRow, build, sort_rows};
use crate::value::{cell, key_text, supported};
use aidlink_vocab::Period;
use arrow_array::{Array, ArrayRef, RecordBatch};
use serde_json::Value;
use std::collections::BTreeMap;

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
    batch: &'a RecordBatch,
    keys: BTreeMap<Vec<String>, usize>,
}

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
        let mut keys = BTreeMap::new();
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
            if let Some(_first) = keys.insert(key.clone(), row) {
                return Err(DeltaError::DuplicateKey {
                    entity: entity.to_string(),
                    side,
                    key: key.join("|"),
                });
            }
        }
        Ok(Side { batch, keys })
    }

    /// The row's value in `column`; null when the table has no such column.
    fn value(&self, column: &str, row: usize) -> Value {
        self.batch
            .column_by_name(column)
            .map_or(Value::Null, |c| cell(c.as_ref(), row))
    }
}

/// The row as a JSON object, columns in `columns` order.
fn values_json(side: &Side, columns: &[String], row: usize) -> String {
    let mut out = String::from("{");
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(c.as_str()).to_string());
        out.push(':');
        out.push_str(&side.value(c, row).to_string());
    }
    out.push('}');
    out
}

fn text_of(side: &Side, column: &str, row: usize) -> Option<String> {
    match side.value(column, row) {
        Value::Null => None,
        v => Some(key_text(&v)),
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
    let cur = Side::new(entity, "current", current, key_columns)?;
    let prev = previous
        .map(|p| Side::new(entity, "previous", p, key_columns))
        .transpose()?;

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
    let compared: Vec<&String> = columns
        .iter()
        .filter(|c| !key_columns.contains(&c.as_str()) && !options.ignore.contains(&c.as_str()))
        .collect();

    let from_period = from.map(|p| p.to_string());
    let to_period = to.to_string();
    let row_of = |side: &Side,
                  change_type: ChangeType,
                  row: usize,
                  key: &[String],
                  changed: Option<Vec<String>>| {
        DeltaRow {
            change_type,
            entity: entity.to_string(),
            person_id: text_of(side, "person_id", row),
            key: key.join("|"),
            flag: text_of(side, "flag", row),
            changed_columns: changed,
            values: Some(values_json(side, &columns, row)),
            event: None,
            other_person_id: None,
            event_detail: None,
            from_period: from_period.clone(),
            to_period: to_period.clone(),
        }
    };

    let mut rows = Vec::new();
    for (key, &c) in &cur.keys {
        let before = prev.as_ref().and_then(|p| p.keys.get(key).map(|r| (p, *r)));
        match before {
            None => rows.push(row_of(&cur, ChangeType::Insert, c, key, None)),
            Some((p, r)) => {
                let changed: Vec<String> = compared
                    .iter()
                    .filter(|col| p.value(col, r) != cur.value(col, c))
                    .map(|col| col.to_string())
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
        for (key, &r) in &p.keys {
            if !cur.keys.contains_key(key) {
                rows.push(row_of(p, ChangeType::Delete, r, key, None));
            }
        }
    }
    sort_rows(&mut rows);
    Ok(build(&rows))
}
