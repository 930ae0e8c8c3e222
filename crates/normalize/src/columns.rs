//! One record column from one raw column of every source: each field kind's
//! rule applied to every kept cell, with the value mapping first and the
//! notes sunk.
//!
//! A column is built whole, for all the sources being normalized together,
//! straight into one Arrow builder sized up front: the rows of a source that
//! does not map the field are nulls, and rejected rows are skipped, so no
//! column is ever filtered or concatenated afterwards.

use crate::amount::parse_amount;
use crate::codes::normalize_code;
use crate::dates::{parse_date, parse_month};
use crate::free_text::normalize_free_text;
use crate::gender::{normalize_gender, read_gender};
use crate::ids::{embedded_date_ok, normalize_id};
use crate::names::normalize_name;
use crate::notes::{Note, NoteSet};
use crate::phone::normalize_phone;
use crate::pinyin_key::pinyin_key_into;
use crate::plan::{Builtin, FieldPlan};
use crate::subsidy::{read_subsidy_status, read_subsidy_type};
use crate::values::{Lookup, lookup};
use aidlink_vocab::ParsedId;
use arrow_array::builder::{Date32Builder, Float64Builder, StringBuilder};
use arrow_array::{Array, Date32Array, Float64Array, StringArray};
use arrow_array::{ArrayRef, new_null_array};
use arrow_schema::{ArrowError, DataType};
use arrow_select::concat::concat;
use rayon::prelude::*;
use std::fmt::Write;
use std::sync::Arc;

/// The notes raised in a column: output row and note-code index, packed as
/// `row << 16 | code` so that sorting plain integers sorts by row, then code.
#[derive(Default)]
pub struct NoteSink {
    /// Raised notes, in row order, codes unordered within a row.
    pub entries: Vec<u64>,
}

impl NoteSink {
    /// Records `notes` of `field` on output row `row`.
    #[inline]
    pub fn add(&mut self, row: usize, field: &FieldPlan, notes: NoteSet) {
        if notes.is_empty() {
            return;
        }
        for note in notes.iter() {
            self.entries
                .push((row as u64) << 16 | u64::from(field.code(note)));
        }
    }
}

/// One source's share of a field's column.
pub struct Part<'a> {
    /// The source's plan of the field.
    pub field: &'a FieldPlan,
    /// The raw column, `None` when the source does not map the field.
    pub input: Option<&'a StringArray>,
    /// Whether each raw row is kept (not rejected).
    pub keep: &'a [bool],
    /// Whether every raw row is kept, so `keep` need not be read.
    pub all_kept: bool,
    /// The output row of the source's first kept row.
    pub base: usize,
    /// How many of the source's rows are kept.
    pub kept: usize,
}

/// Output rows of all parts together.
fn total_rows(parts: &[Part<'_>]) -> usize {
    parts.iter().map(|p| p.kept).sum()
}

/// Bytes of text in the parts' raw columns: an upper bound of the text kept.
fn total_bytes(parts: &[Part<'_>]) -> usize {
    parts.iter().filter_map(|p| p.input).map(text_bytes).sum()
}

/// Bytes of text in `input`. Not `value_data().len()`: a column may be a
/// slice, and its value buffer the whole column's.
fn text_bytes(input: &StringArray) -> usize {
    let offsets = input.value_offsets();
    match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => usize::try_from(last - first).unwrap_or(0),
        _ => 0,
    }
}

/// Calls `cell` on every kept row of every part that maps the field, in
/// output order, with the output row and the cell's text (`None` when
/// null); calls `gap` with the row count of each part that does not.
#[inline]
fn each_cell<'a, B>(
    parts: &[Part<'a>],
    out: &mut B,
    gap: impl Fn(&mut B, usize),
    mut cell: impl FnMut(&mut B, &'a FieldPlan, usize, Option<&'a str>),
) {
    for part in parts {
        let Some(input) = part.input else {
            gap(out, part.kept);
            continue;
        };
        let field = part.field;
        let text = |row: usize| input.is_valid(row).then(|| input.value(row));
        if part.all_kept {
            for row in 0..input.len() {
                cell(out, field, part.base + row, text(row));
            }
        } else {
            let kept = (0..input.len()).filter(|&r| part.keep[r]);
            for (at, row) in (part.base..).zip(kept) {
                cell(out, field, at, text(row));
            }
        }
    }
}

fn string_nulls(b: &mut StringBuilder, n: usize) {
    b.append_nulls(n);
}

/// [`each_cell`] for the columns whose rule reads one cell at a time: a null
/// cell gives a null value and no notes; any other is handed to `value`,
/// which appends the cell's value to `out` and adds its notes, and the
/// notes are then recorded on the cell's output row.
#[inline]
fn each_value<'a, B>(
    parts: &[Part<'a>],
    out: &mut B,
    nulls: impl Fn(&mut B, usize),
    sink: &mut NoteSink,
    mut value: impl FnMut(&mut B, &'a FieldPlan, &'a str, &mut NoteSet),
) {
    each_cell(parts, out, &nulls, |out, field, row, text| {
        let Some(text) = text else {
            nulls(out, 1);
            return;
        };
        let mut notes = NoteSet::EMPTY;
        value(out, field, text, &mut notes);
        sink.add(row, field, notes);
    });
}

/// Looks a cell up in the field's mapping; notes `unmapped` for fields that
/// have no built-in reading to fall back on.
#[inline]
pub fn mapped<'a>(field: &'a FieldPlan, text: &'a str, notes: &mut NoteSet) -> Lookup<'a> {
    let l = lookup(field.values.as_ref(), text);
    notes.add_if(
        matches!(l, Lookup::Unmapped(_)) && field.builtin == Builtin::None,
        Note::Unmapped,
    );
    l
}

/// The ID rule on one cell: its parse and notes. `own_id` adds the
/// embedded-date check of `id_number`.
#[inline]
pub fn read_id(field: &FieldPlan, text: &str, own_id: bool) -> (Option<ParsedId>, NoteSet) {
    let mut notes = NoteSet::EMPTY;
    let text = mapped(field, text, &mut notes).text();
    let o = normalize_id(text);
    notes.extend(o.notes);
    if let Some(p) = &o.parsed {
        notes.add_if(own_id && !embedded_date_ok(&p.id), Note::DateInvalid);
    }
    (o.parsed, notes)
}

/// Resident IDs other than the record's own (guardian, household head).
pub fn id_column(parts: &[Part<'_>], sink: &mut NoteSink) -> StringArray {
    let rows = total_rows(parts);
    let mut out = StringBuilder::with_capacity(rows, rows * 18);
    each_value(
        parts,
        &mut out,
        string_nulls,
        sink,
        |out, field, text, notes| {
            let (parsed, read) = read_id(field, text, false);
            notes.extend(read);
            match parsed {
                Some(p) => out.append_value(p.id.as_str()),
                None => out.append_null(),
            }
        },
    );
    out.finish()
}

/// The record's own `id_number` column, from the parses made when deciding
/// which rows to keep: `scans[k]` holds source `k`'s parse and notes of each
/// raw row.
pub fn own_id_column(
    parts: &[Part<'_>],
    scans: &[&[(Option<ParsedId>, NoteSet)]],
    sink: &mut NoteSink,
) -> StringArray {
    let rows = total_rows(parts);
    let mut out = StringBuilder::with_capacity(rows, rows * 18);
    for (part, scan) in parts.iter().zip(scans) {
        if part.input.is_none() {
            out.append_nulls(part.kept);
            continue;
        }
        let mut at = part.base;
        for (row, (parsed, notes)) in scan.iter().enumerate() {
            if !part.all_kept && !part.keep[row] {
                continue;
            }
            match parsed {
                Some(p) => out.append_value(p.id.as_str()),
                None => out.append_null(),
            }
            sink.add(at, part.field, *notes);
            at += 1;
        }
    }
    out.finish()
}

/// Names and their pinyin keys.
///
/// The name rule and the pinyin key cost more than every other field
/// together (a few hundred nanoseconds a name), so unlike the other columns
/// this one is computed in parallel blocks of [`crate::CHUNK_ROWS`] rows,
/// whose pieces are then joined: copying the finished names costs little
/// next to computing them. Results are not cached: a cache of a city's
/// names outgrows the processor's caches, and looking a name up in it cost
/// more than the rule.
pub fn name_column(
    parts: &[Part<'_>],
    sink: &mut NoteSink,
) -> Result<(ArrayRef, ArrayRef), ArrowError> {
    // Blocks of raw rows, each with the output row of its first kept row.
    let mut blocks: Vec<(usize, std::ops::Range<usize>, usize)> = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let Some(input) = part.input else {
            blocks.push((k, 0..0, part.base));
            continue;
        };
        let mut at = part.base;
        let mut start = 0;
        while start < input.len() {
            let end = (start + crate::CHUNK_ROWS).min(input.len());
            blocks.push((k, start..end, at));
            at += if part.all_kept {
                end - start
            } else {
                part.keep[start..end].iter().filter(|k| **k).count()
            };
            start = end;
        }
    }
    let pieces: Vec<(ArrayRef, ArrayRef, Vec<u64>)> = blocks
        .par_iter()
        .with_max_len(1)
        .map(|(k, rows, base)| name_block(&parts[*k], rows.clone(), *base))
        .collect();
    let mut names: Vec<&dyn Array> = Vec::with_capacity(pieces.len());
    let mut keys: Vec<&dyn Array> = Vec::with_capacity(pieces.len());
    for (n, k, notes) in &pieces {
        names.push(n.as_ref());
        keys.push(k.as_ref());
        sink.entries.extend_from_slice(notes);
    }
    if names.is_empty() {
        return Ok((
            new_null_array(&DataType::Utf8, 0),
            new_null_array(&DataType::Utf8, 0),
        ));
    }
    Ok((concat(&names)?, concat(&keys)?))
}

/// The names and keys of raw rows `rows` of one part, the first kept one
/// at output row `base`; all nulls when the part does not map the field.
fn name_block(
    part: &Part<'_>,
    rows: std::ops::Range<usize>,
    base: usize,
) -> (ArrayRef, ArrayRef, Vec<u64>) {
    let Some(input) = part.input else {
        return (
            new_null_array(&DataType::Utf8, part.kept),
            new_null_array(&DataType::Utf8, part.kept),
            Vec::new(),
        );
    };
    let field = part.field;
    let offsets = input.value_offsets();
    let bytes = usize::try_from(offsets[rows.end] - offsets[rows.start]).unwrap_or(0);
    let mut names = StringBuilder::with_capacity(rows.len(), bytes);
    let mut keys = StringBuilder::with_capacity(rows.len(), bytes * 2);
    let mut sink = NoteSink::default();
    let mut key = String::new();
    let mut at = base;
    for row in rows {
        if !part.all_kept && !part.keep[row] {
            continue;
        }
        let out_row = at;
        at += 1;
        if input.is_null(row) {
            names.append_null();
            keys.append_null();
            continue;
        }
        let mut notes = NoteSet::EMPTY;
        let text = mapped(field, input.value(row), &mut notes).text();
        let o = normalize_name(text);
        notes.extend(o.notes);
        match &o.value {
            Some(v) => {
                names.append_value(v);
                pinyin_key_into(v, &mut key);
                if key.is_empty() {
                    keys.append_null();
                } else {
                    keys.append_value(&key);
                }
            }
            None => {
                names.append_null();
                keys.append_null();
            }
        }
        sink.add(out_row, field, notes);
    }
    (
        Arc::new(names.finish()),
        Arc::new(keys.finish()),
        sink.entries,
    )
}

/// Whether a name cell gives a usable name (the reject rule's half).
pub fn name_usable(field: &FieldPlan, text: &str) -> bool {
    let mut notes = NoteSet::EMPTY;
    normalize_name(mapped(field, text, &mut notes).text())
        .value
        .is_some()
}

/// Dates, as Arrow `Date32`.
pub fn date_column(parts: &[Part<'_>], sink: &mut NoteSink) -> Date32Array {
    let mut out = Date32Builder::with_capacity(total_rows(parts));
    each_value(
        parts,
        &mut out,
        |b, n| b.append_nulls(n),
        sink,
        |out, field, text, notes| {
            let o = parse_date(mapped(field, text, notes).text());
            notes.extend(o.notes);
            out.append_option(o.value.map(|d| d.to_days()));
        },
    );
    out.finish()
}

/// Months, as `YYYY-MM` text.
pub fn month_column(parts: &[Part<'_>], sink: &mut NoteSink) -> StringArray {
    let rows = total_rows(parts);
    let mut out = StringBuilder::with_capacity(rows, rows * 7);
    let mut buf = String::with_capacity(8);
    each_value(
        parts,
        &mut out,
        string_nulls,
        sink,
        |out, field, text, notes| {
            let o = parse_month(mapped(field, text, notes).text());
            notes.extend(o.notes);
            match o.value {
                Some(p) => {
                    buf.clear();
                    // Writing into a String cannot fail.
                    let _ = write!(buf, "{p}");
                    out.append_value(&buf);
                }
                None => out.append_null(),
            }
        },
    );
    out.finish()
}

/// Genders, as `M`/`F`. A mapped value is read with the built-in reading
/// too, so a mapping may target `男` as well as `M`.
pub fn gender_column(parts: &[Part<'_>], sink: &mut NoteSink) -> StringArray {
    let rows = total_rows(parts);
    let mut out = StringBuilder::with_capacity(rows, rows);
    each_value(
        parts,
        &mut out,
        string_nulls,
        sink,
        |out, field, text, notes| {
            let text = mapped(field, text, notes).text();
            let value = match read_gender(text) {
                Some(g) => Some(g),
                None => {
                    let o = normalize_gender(text);
                    notes.extend(o.notes);
                    o.value
                }
            };
            out.append_option(value.map(|g| g.code()));
        },
    );
    out.finish()
}

/// Phone numbers, digits only.
pub fn phone_column(parts: &[Part<'_>], sink: &mut NoteSink) -> StringArray {
    let mut out = StringBuilder::with_capacity(total_rows(parts), total_bytes(parts));
    each_value(
        parts,
        &mut out,
        string_nulls,
        sink,
        |out, field, text, notes| {
            let o = normalize_phone(mapped(field, text, notes).text());
            notes.extend(o.notes);
            out.append_option(o.value);
        },
    );
    out.finish()
}

/// Amounts in yuan.
pub fn amount_column(parts: &[Part<'_>], sink: &mut NoteSink) -> Float64Array {
    let mut out = Float64Builder::with_capacity(total_rows(parts));
    each_value(
        parts,
        &mut out,
        |b, n| b.append_nulls(n),
        sink,
        |out, field, text, notes| {
            let o = parse_amount(mapped(field, text, notes).text());
            notes.extend(o.notes);
            out.append_option(o.value);
        },
    );
    out.finish()
}

/// Free text, with the built-in subsidy readings for the subsidy fields.
pub fn text_column(parts: &[Part<'_>], sink: &mut NoteSink) -> StringArray {
    let mut out = StringBuilder::with_capacity(total_rows(parts), total_bytes(parts));
    each_value(
        parts,
        &mut out,
        string_nulls,
        sink,
        |out, field, text, notes| {
            let read: Option<fn(&str) -> Option<&'static str>> = match field.builtin {
                Builtin::SubsidyType => Some(read_subsidy_type),
                Builtin::SubsidyStatus => Some(read_subsidy_status),
                Builtin::None | Builtin::Gender => None,
            };
            let l = mapped(field, text, notes);
            let o = normalize_free_text(l.text());
            notes.extend(o.notes);
            match (read, l, o.value) {
                (_, _, None) => out.append_null(),
                // A mapped value is the configured canonical value.
                (None, _, Some(v)) | (Some(_), Lookup::Mapped(_), Some(v)) => out.append_value(v),
                (Some(read), _, Some(v)) => match read(&v) {
                    Some(code) => out.append_value(code),
                    None => {
                        notes.add(Note::Unmapped);
                        out.append_value(v);
                    }
                },
            }
        },
    );
    out.finish()
}

/// Exact codes.
pub fn code_column(parts: &[Part<'_>], sink: &mut NoteSink) -> StringArray {
    let mut out = StringBuilder::with_capacity(total_rows(parts), total_bytes(parts));
    each_value(
        parts,
        &mut out,
        string_nulls,
        sink,
        |out, field, text, notes| {
            let o = normalize_code(mapped(field, text, notes).text());
            notes.extend(o.notes);
            out.append_option(o.value);
        },
    );
    out.finish()
}
