//! Diffing two versions of one table into change-feed rows.

use crate::DeltaError;
use crate::column::{Col, mark_differing, same_cell};
use crate::table::{ChangeType, delta_schema};
use crate::text::{Sink, par_exact, par_exact_with, par_text, runs};
use crate::value::{cell, key_text, supported};
use aidlink_vocab::Period;
use aidlink_vocab::TextKey;
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StringArray};
use rayon::prelude::*;
use serde_json::Value;
use std::cmp::Ordering;
use std::sync::Arc;

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

/// One key column of a side, as the text rows are matched and shown by.
enum KeyPart<'a> {
    /// A text column, read in place.
    Text(&'a StringArray),
    /// Any other column, rendered once (`key_text` of each cell).
    Rendered(Vec<String>),
}

impl KeyPart<'_> {
    fn get(&self, row: usize) -> &str {
        match self {
            KeyPart::Text(a) => a.value(row),
            KeyPart::Rendered(v) => &v[row],
        }
    }
}

/// One side of a diff: a table, its key columns and its columns by name.
struct Side<'a> {
    /// The table's array of each of the diff's columns, `None` when absent.
    arrays: Vec<Option<&'a ArrayRef>>,
    /// The same columns of their concrete types.
    cols: Vec<Option<Col<'a>>>,
    /// The key columns' values. Two rows have the same key when all their
    /// key values are equal, so `("a|b", "c")` and `("a", "b|c")` differ.
    key: Vec<KeyPart<'a>>,
    /// Rows in key order (key values compared in turn).
    sorted: Vec<usize>,
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

/// Compares the key of row `ra` of `a` with the key of row `rb` of `b`.
fn key_cmp(a: &Side, ra: usize, b: &Side, rb: usize) -> Ordering {
    for (pa, pb) in a.key.iter().zip(&b.key) {
        let o = pa.get(ra).cmp(pb.get(rb));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Compares two rows' keys as shown (values joined by `|`), the delta's order.
fn shown_cmp(a: &Side, ra: usize, b: &Side, rb: usize) -> Ordering {
    if a.key.len() == 1 {
        return a.key[0].get(ra).cmp(b.key[0].get(rb));
    }
    shown_bytes(a, ra).cmp(shown_bytes(b, rb))
}

fn shown_bytes<'s>(side: &'s Side, row: usize) -> impl Iterator<Item = u8> + 's {
    side.key.iter().enumerate().flat_map(move |(i, p)| {
        (i > 0)
            .then_some(b'|')
            .into_iter()
            .chain(p.get(row).bytes())
    })
}

/// Appends the key as shown: its values joined by `|`.
fn write_shown<S: Sink>(out: &mut S, side: &Side, row: usize) {
    for (i, p) in side.key.iter().enumerate() {
        if i > 0 {
            out.push_ascii(b'|');
        }
        out.push_str(p.get(row));
    }
}

fn shown(side: &Side, row: usize) -> String {
    let mut out = String::new();
    write_shown(&mut out, side, row);
    out
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
        let n = batch.num_rows();
        // The first null key cell in row order (then column order).
        let first_null: Option<(usize, usize)> = key_arrays
            .iter()
            .enumerate()
            .filter(|(_, a)| a.null_count() > 0)
            .filter_map(|(c, a)| (0..n).find(|r| a.is_null(*r)).map(|r| (r, c)))
            .min();
        let key: Vec<KeyPart<'a>> = key_arrays
            .iter()
            .map(|a: &&'a ArrayRef| -> KeyPart<'a> {
                let a: &'a ArrayRef = a;
                match a.as_any().downcast_ref::<StringArray>() {
                    Some(s) => KeyPart::Text(s),
                    None => KeyPart::Rendered(
                        (0..n)
                            .into_par_iter()
                            .map(|r| key_text(&cell(a.as_ref(), r)))
                            .collect(),
                    ),
                }
            })
            .collect();
        let arrays: Vec<Option<&'a ArrayRef>> =
            columns.iter().map(|c| batch.column_by_name(c)).collect();
        let cols = arrays
            .iter()
            .map(|a| a.map(|a| Col::new(a.as_ref())))
            .collect();
        let mut this = Side {
            arrays,
            cols,
            key,
            sorted: Vec::new(),
        };
        // Published tables are written in key order: when the keys already
        // ascend strictly, that order is the sort's and no key repeats.
        let ascending = (1..n)
            .into_par_iter()
            .all(|r| key_cmp(&this, r - 1, &this, r) == Ordering::Less);
        if ascending && first_null.is_none() {
            this.sorted = (0..n).collect();
            return Ok(this);
        }
        // The sort compares the first key value's packed prefix, kept next
        // to the row, before it reads any text.
        let mut packed: Vec<(TextKey, usize)> = (0..n)
            .into_par_iter()
            .map(|r| (TextKey::new(this.key[0].get(r)), r))
            .collect();
        packed.par_sort_unstable_by(|a, b| {
            a.0.cmp_with(b.0, || this.key[0].get(a.1), || this.key[0].get(b.1))
                .then_with(|| key_cmp(&this, a.1, &this, b.1))
                .then(a.1.cmp(&b.1))
        });
        let sorted: Vec<usize> = packed.into_iter().map(|(_, r)| r).collect();
        // The first row, in row order, whose key an earlier row already has:
        // in a run of equal keys (rows ascending) that is the run's second.
        let first_dup = sorted
            .windows(2)
            .filter(|w| key_cmp(&this, w[0], &this, w[1]) == Ordering::Equal)
            .map(|w| w[1])
            .min();
        match (first_null, first_dup) {
            (Some((row, c)), dup) if dup.is_none_or(|d| row <= d) => {
                return Err(DeltaError::NullKey {
                    entity: entity.to_string(),
                    side,
                    column: key_columns[c].to_string(),
                    row,
                });
            }
            (_, Some(row)) => {
                return Err(DeltaError::DuplicateKey {
                    entity: entity.to_string(),
                    side,
                    key: shown(&this, row),
                });
            }
            _ => {}
        }
        this.sorted = sorted;
        Ok(this)
    }
}

/// Appends the row as a JSON object, columns in the diff's column order;
/// `prefixes` are the columns' names already written as JSON strings, with
/// the comma before each but the first and the colon after each.
fn write_values<S: Sink>(out: &mut S, side: &Side, prefixes: &[String], row: usize) {
    out.push_ascii(b'{');
    for (i, prefix) in prefixes.iter().enumerate() {
        out.push_str(prefix);
        match &side.cols[i] {
            Some(c) => c.write(out, row),
            None => out.push_str("null"),
        }
    }
    out.push_ascii(b'}');
}

/// Appends the text of column `col` (`person_id`, `flag`) and says whether
/// there is one: null when the side lacks the column or the cell is null.
fn write_text_of<S: Sink>(out: &mut S, side: &Side, col: Option<usize>, row: usize) -> bool {
    let Some(a) = col.and_then(|c| side.arrays[c]) else {
        return false;
    };
    if a.is_null(row) {
        return false;
    }
    match col.and_then(|c| side.cols[c]) {
        Some(Col::Utf8(s)) => out.push_str(s.value(row)),
        _ => match cell(a.as_ref(), row) {
            Value::Null => return false,
            v => out.push_str(&key_text(&v)),
        },
    }
    true
}

/// One row of a diff's output: which change, of which side's row (16
/// bytes: a first period plans millions).
#[derive(Clone, Copy)]
struct Change {
    change_type: ChangeType,
    /// Whether `row` is a row of the current table (else of the previous).
    current: bool,
    /// Index into the diff's lists of changed columns, for updates
    /// ([`NOT_UPDATED`] for other rows).
    changed: u32,
    row: usize,
}

/// [`Change::changed`] of a row that is not an update.
const NOT_UPDATED: u32 = u32::MAX;

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

/// A diff's rows in the delta's order, before any column is written: the
/// two sides, which row of which side each delta row shows, and the lists
/// of changed columns. [`diff_with`] writes its columns; a first period's
/// whole delta (`crate::first`) writes them into the combined table's.
pub(crate) struct Plan<'a> {
    /// The diff's columns: the current table's, then any only the previous has.
    columns: Vec<String>,
    /// The columns' JSON names, as [`write_values`] takes them.
    prefixes: Vec<String>,
    cur: Side<'a>,
    prev: Option<Side<'a>>,
    /// The delta's rows, in its order.
    changes: Vec<Change>,
    /// The changed columns of each update, as indices into `columns`.
    changed_lists: Vec<Vec<usize>>,
    person_col: Option<usize>,
    flag_col: Option<usize>,
    /// Whether row `i` of the delta is row `i` of the current table, for
    /// every row (a first period's table already in key order).
    identity: bool,
}

impl<'a> Plan<'a> {
    /// Matches the rows of `previous` and `current` (see [`diff_with`]).
    pub(crate) fn new(
        entity: &str,
        key_columns: &[&str],
        previous: Option<&'a RecordBatch>,
        current: &'a RecordBatch,
        options: &DiffOptions,
    ) -> Result<Plan<'a>, DeltaError> {
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
        let mut cur = Side::new(entity, "current", current, key_columns, &columns)?;
        let mut prev = previous
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
        // Each column's name as JSON with what goes before and after it, so a
        // row's object is written one piece per column.
        let prefixes: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let sep = if i == 0 { "" } else { "," };
                format!("{sep}{}:", Value::from(c.as_str()))
            })
            .collect();
        let person_col = columns.iter().position(|c| c == "person_id");
        let flag_col = columns.iter().position(|c| c == "flag");

        // Unchanged when both sides lack the column or hold the same value.
        let differs =
            |p: &Side, r: usize, c: usize, col: usize| match (&p.cols[col], &cur.cols[col]) {
                (None, None) => false,
                (Some(a), Some(b)) => !same_cell(a, r, b, c),
                (Some(a), None) => !a.is_null(r),
                (None, Some(b)) => !b.is_null(c),
            };
        // Both sides in key order: a merge finds inserts, deletes and the rows
        // present in both, without a hash of every key.
        let mut changes: Vec<Change> = Vec::new();
        // Rows in both tables (previous row, current row), with the number of
        // inserts and deletes before them in key order.
        let mut both: Vec<(usize, usize, usize)> = Vec::new();
        let change = |change_type, current, row| Change {
            change_type,
            current,
            row,
            changed: NOT_UPDATED,
        };
        match &prev {
            None => changes.extend(
                cur.sorted
                    .iter()
                    .map(|c| change(ChangeType::Insert, true, *c)),
            ),
            Some(p) => {
                let (mut i, mut j) = (0, 0);
                while i < cur.sorted.len() || j < p.sorted.len() {
                    let (c, r) = (cur.sorted.get(i), p.sorted.get(j));
                    let order = match (c, r) {
                        (Some(c), Some(r)) => key_cmp(&cur, *c, p, *r),
                        (Some(_), None) => Ordering::Less,
                        _ => Ordering::Greater,
                    };
                    match order {
                        Ordering::Less => {
                            changes.push(change(ChangeType::Insert, true, cur.sorted[i]));
                            i += 1;
                        }
                        Ordering::Greater => {
                            changes.push(change(ChangeType::Delete, false, p.sorted[j]));
                            j += 1;
                        }
                        Ordering::Equal => {
                            both.push((p.sorted[j], cur.sorted[i], changes.len()));
                            i += 1;
                            j += 1;
                        }
                    }
                }
            }
        }
        let changed_lists: Vec<Vec<usize>> = match &prev {
            None => Vec::new(),
            Some(p) => {
                let found: Vec<(usize, usize, usize, Vec<usize>)> = if compared.len() <= 64 {
                    // A mask of differing columns per row, column by column
                    // over chunks of rows.
                    both.par_chunks(1 << 14)
                        .flat_map_iter(|chunk| {
                            let pairs: Vec<(usize, usize)> =
                                chunk.iter().map(|&(r, c, _)| (r, c)).collect();
                            let mut masks = vec![0u64; pairs.len()];
                            for (bit, &col) in compared.iter().enumerate() {
                                match (&p.cols[col], &cur.cols[col]) {
                                    (Some(a), Some(b)) => {
                                        mark_differing(a, b, &pairs, &mut masks, bit as u32)
                                    }
                                    _ => {
                                        for (m, &(r, c)) in masks.iter_mut().zip(&pairs) {
                                            if differs(p, r, c, col) {
                                                *m |= 1 << bit;
                                            }
                                        }
                                    }
                                }
                            }
                            chunk
                                .iter()
                                .zip(masks)
                                .filter(|(_, m)| *m != 0)
                                .map(|(&(r, c, before), m)| {
                                    let changed: Vec<usize> = compared
                                        .iter()
                                        .enumerate()
                                        .filter(|(bit, _)| m & (1 << bit) != 0)
                                        .map(|(_, col)| *col)
                                        .collect();
                                    (r, c, before, changed)
                                })
                                .collect::<Vec<_>>()
                        })
                        .collect()
                } else {
                    both.par_iter()
                        .filter_map(|&(r, c, before)| {
                            let changed: Vec<usize> = compared
                                .iter()
                                .copied()
                                .filter(|col| differs(p, r, c, *col))
                                .collect();
                            (!changed.is_empty()).then_some((r, c, before, changed))
                        })
                        .collect()
                };
                // The updates go between the inserts and deletes where their
                // keys are, so the rows stay in key order.
                let single = std::mem::take(&mut changes);
                changes.reserve(single.len() + 2 * found.len());
                let mut single = single.into_iter();
                let mut lists = Vec::with_capacity(found.len());
                let mut placed = 0;
                for (r, c, before, changed) in found {
                    changes.extend(single.by_ref().take(before - placed));
                    placed = before;
                    let at = u32::try_from(lists.len())
                        .ok()
                        .filter(|at| *at != NOT_UPDATED)
                        .ok_or_else(|| DeltaError::BadTable {
                            table: "delta",
                            column: crate::table::CHANGED_COLUMNS,
                            problem: format!(
                                "would list the columns of more than {NOT_UPDATED} updates"
                            ),
                        })?;
                    lists.push(changed);
                    changes.push(Change {
                        change_type: ChangeType::UpdatePreimage,
                        current: false,
                        row: r,
                        changed: at,
                    });
                    changes.push(Change {
                        change_type: ChangeType::UpdatePostimage,
                        current: true,
                        row: c,
                        changed: at,
                    });
                }
                changes.extend(single);
                lists
            }
        };
        drop(both);
        // The rows in key order were for matching; the changes hold them now.
        cur.sorted = Vec::new();
        if let Some(p) = prev.as_mut() {
            p.sorted = Vec::new();
        }

        // The delta's order (see `sort_batch`): key as shown, change type, then,
        // for keys that only read the same, the values, person and flag.
        let side_of = |ch: &Change| -> &Side {
            match (&prev, ch.current) {
                (Some(p), false) => p,
                _ => &cur,
            }
        };
        let text = |ch: &Change, col: Option<usize>| {
            let mut out = String::new();
            write_text_of(&mut out, side_of(ch), col, ch.row).then_some(out)
        };
        let order = |a: &Change, b: &Change| {
            shown_cmp(side_of(a), a.row, side_of(b), b.row)
                .then_with(|| a.change_type.rank().cmp(&b.change_type.rank()))
                .then_with(|| {
                    let values = |ch: &Change| {
                        let mut out = String::new();
                        write_values(&mut out, side_of(ch), &prefixes, ch.row);
                        out
                    };
                    values(a)
                        .cmp(&values(b))
                        .then_with(|| text(a, person_col).cmp(&text(b, person_col)))
                        .then_with(|| text(a, flag_col).cmp(&text(b, flag_col)))
                })
        };
        // The merge leaves the rows in key order, which is the delta's order
        // whenever no key's values contain `|` differently (always for one key
        // column): a linear check then spares the sort.
        let in_order = changes
            .par_windows(2)
            .all(|w| order(&w[0], &w[1]) != Ordering::Greater);
        if !in_order {
            changes.par_sort_unstable_by(order);
        }

        let identity = prev.is_none()
            && changes
                .par_iter()
                .enumerate()
                .all(|(i, ch)| ch.current && ch.row == i);
        Ok(Plan {
            columns,
            prefixes,
            cur,
            prev,
            changes,
            changed_lists,
            person_col,
            flag_col,
            identity,
        })
    }

    /// Rows of the delta.
    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether every row is an insert (always so without a previous table).
    pub(crate) fn all_inserts(&self) -> bool {
        self.prev.is_none()
    }

    fn side_of(&self, ch: &Change) -> &Side<'a> {
        match (&self.prev, ch.current) {
            (Some(p), false) => p,
            _ => &self.cur,
        }
    }

    /// Writes row `i`'s `values`.
    #[inline]
    pub(crate) fn write_values<S: Sink>(&self, i: usize, out: &mut S) {
        let ch = &self.changes[i];
        write_values(out, self.side_of(ch), &self.prefixes, ch.row);
    }

    /// The bytes [`Plan::write_values`] writes for rows `start..end`
    /// together, counted a column at a time, when those rows are the
    /// current table's rows in order; `None` to count them row by row.
    pub(crate) fn values_len(&self, start: usize, end: usize) -> Option<usize> {
        if !self.identity {
            return None;
        }
        let rows = end - start;
        // Braces and the columns' names, then the cells.
        let names: usize = self.prefixes.iter().map(String::len).sum();
        let mut len = (2 + names) * rows;
        for col in &self.cur.cols {
            len += match col {
                Some(c) => c.json_len_range(start, end)?,
                None => 4 * rows,
            };
        }
        Some(len)
    }

    /// Writes row `i`'s `key`.
    #[inline]
    pub(crate) fn write_key<S: Sink>(&self, i: usize, out: &mut S) {
        let ch = &self.changes[i];
        write_shown(out, self.side_of(ch), ch.row);
    }

    /// Writes row `i`'s `person_id`, if it has one.
    #[inline]
    pub(crate) fn write_person<S: Sink>(&self, i: usize, out: &mut S) -> bool {
        let ch = &self.changes[i];
        write_text_of(out, self.side_of(ch), self.person_col, ch.row)
    }

    /// Writes row `i`'s `flag`, if it has one.
    #[inline]
    pub(crate) fn write_flag<S: Sink>(&self, i: usize, out: &mut S) -> bool {
        let ch = &self.changes[i];
        write_text_of(out, self.side_of(ch), self.flag_col, ch.row)
    }

    /// The person IDs of the rows as borrowed text, when the table's
    /// `person_id` is a text column without nulls (else `None`).
    pub(crate) fn person_texts(&self) -> Option<Vec<&'a str>> {
        let Some(Col::Utf8(s)) = self.person_col.and_then(|c| self.cur.cols[c]) else {
            return None;
        };
        if s.null_count() > 0 || !self.all_inserts() {
            return None;
        }
        Some(self.changes.iter().map(|ch| s.value(ch.row)).collect())
    }

    /// The `changed_columns` list column.
    fn changed_column(&self) -> ListArray {
        let mut changed = ListBuilder::with_capacity(StringBuilder::new(), self.len());
        for ch in &self.changes {
            match self.changed_lists.get(ch.changed as usize) {
                Some(list) => {
                    for col in list {
                        changed.values().append_value(&self.columns[*col]);
                    }
                    changed.append(true);
                }
                None => changed.append(false),
            }
        }
        changed.finish()
    }
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
    let plan = Plan::new(entity, key_columns, previous, current, options)?;
    let n = plan.len();
    let from_period = from.map(|p| p.to_string());
    let to_period = to.to_string();
    let constant = |v: &str, column| runs(&[(v, n)], column);
    // A table's rows in order (a first period's, as published) are counted
    // a column at a time and written once in place; the few changed rows of
    // a later period are written once, a chunk at a time, and appended.
    let values = if plan.identity {
        par_exact_with(
            n,
            crate::table::VALUES,
            |rows| Some((plan.values_len(rows.start, rows.end)?, rows.len())),
            |i, out| {
                plan.write_values(i, out);
                true
            },
        )
    } else {
        par_text(n, crate::table::VALUES, |i, out| {
            plan.write_values(i, out);
            true
        })
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            plan.changes.iter().map(|c| c.change_type.name()),
        )),
        Arc::new(constant(entity, crate::table::ENTITY)?),
        Arc::new(par_exact(n, crate::table::PERSON_ID, |i, out| {
            plan.write_person(i, out)
        })?),
        Arc::new(par_exact(n, crate::table::KEY, |i, out| {
            plan.write_key(i, out);
            true
        })?),
        Arc::new(par_exact(n, crate::table::FLAG, |i, out| {
            plan.write_flag(i, out)
        })?),
        Arc::new(plan.changed_column()),
        Arc::new(values?),
        Arc::new(StringArray::new_null(n)),
        Arc::new(StringArray::new_null(n)),
        Arc::new(StringArray::new_null(n)),
        match &from_period {
            Some(p) => Arc::new(constant(p, crate::table::FROM_PERIOD)?),
            None => Arc::new(StringArray::new_null(n)),
        },
        Arc::new(constant(&to_period, crate::table::TO_PERIOD)?),
    ];
    crate::table::delta_batch(delta_schema(), columns)
}
