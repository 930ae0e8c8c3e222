//! One record column from one raw column: each field kind's rule applied to
//! every cell of a chunk, with the value mapping first and the notes sunk.

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
use rustc_hash::FxHashMap;
use std::fmt::Write;

/// The notes raised in one chunk: row in chunk and note-code index, packed
/// as `row << 16 | code` so that sorting plain integers sorts by row, then code.
#[derive(Default)]
pub struct NoteSink {
    /// Raised notes, unordered until [`NoteSink::sorted`].
    entries: Vec<u64>,
}

impl NoteSink {
    /// Records `notes` of `field` on `row`.
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

    /// The entries sorted by row, then code, without duplicates.
    pub fn sorted(mut self) -> Vec<(u32, u16)> {
        self.entries.sort_unstable();
        self.entries.dedup();
        self.entries
            .into_iter()
            .map(|e| ((e >> 16) as u32, (e & 0xFFFF) as u16))
            .collect()
    }
}

/// A cell's text, `None` when null.
#[inline]
fn cell(input: &StringArray, row: usize) -> Option<&str> {
    input.is_valid(row).then(|| input.value(row))
}

/// Looks a cell up in the field's mapping; notes `unmapped` for fields that
/// have no built-in reading to fall back on.
#[inline]
fn mapped<'a>(field: &'a FieldPlan, text: &'a str, notes: &mut NoteSet) -> Lookup<'a> {
    let l = lookup(field.values.as_ref(), text);
    notes.add_if(
        matches!(l, Lookup::Unmapped(_)) && field.builtin == Builtin::None,
        Note::Unmapped,
    );
    l
}

/// Bytes of text in `input`. Not `value_data().len()`: a chunk is a slice,
/// and its value buffer is the whole column's.
fn text_bytes(input: &StringArray) -> usize {
    let offsets = input.value_offsets();
    match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => usize::try_from(last - first).unwrap_or(0),
        _ => 0,
    }
}

fn string_builder(input: &StringArray) -> StringBuilder {
    StringBuilder::with_capacity(input.len(), text_bytes(input))
}

/// Resident IDs. Also returns each row's parse, for the derived columns and
/// the reject rule. `own_id` adds the embedded-date check of `id_number`.
pub fn id_column(
    field: &FieldPlan,
    input: &StringArray,
    sink: &mut NoteSink,
    own_id: bool,
) -> (StringArray, Vec<Option<ParsedId>>) {
    let mut out = StringBuilder::with_capacity(input.len(), input.len() * 18);
    let mut parsed = Vec::with_capacity(input.len());
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            parsed.push(None);
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let text = mapped(field, text, &mut notes).text();
        let o = normalize_id(text);
        notes.extend(o.notes);
        match o.parsed {
            Some(p) => {
                out.append_value(p.id.as_str());
                notes.add_if(own_id && !embedded_date_ok(&p.id), Note::DateInvalid);
            }
            None => out.append_null(),
        }
        parsed.push(o.parsed);
        sink.add(row, field, notes);
    }
    (out.finish(), parsed)
}

/// What the name rule made of one distinct cell text.
pub struct NameEntry {
    value: Option<String>,
    pinyin: String,
    notes: NoteSet,
}

/// Name results by cell text, shared by every name field of a chunk: a
/// household's head and guardian names repeat on every member's row.
pub type NameCache<'a> = FxHashMap<&'a str, NameEntry>;

/// Names and their pinyin keys.
pub fn name_column<'a>(
    field: &'a FieldPlan,
    input: &'a StringArray,
    sink: &mut NoteSink,
    cache: &mut NameCache<'a>,
) -> (StringArray, StringArray) {
    let mut out = string_builder(input);
    let mut keys = StringBuilder::with_capacity(input.len(), text_bytes(input) * 2);
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            keys.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let text = mapped(field, text, &mut notes).text();
        let entry = cache.entry(text).or_insert_with(|| {
            let o = normalize_name(text);
            let mut pinyin = String::new();
            if let Some(v) = &o.value {
                pinyin_key_into(v, &mut pinyin);
            }
            NameEntry {
                value: o.value,
                pinyin,
                notes: o.notes,
            }
        });
        notes.extend(entry.notes);
        match &entry.value {
            Some(v) => {
                out.append_value(v);
                if entry.pinyin.is_empty() {
                    keys.append_null();
                } else {
                    keys.append_value(&entry.pinyin);
                }
            }
            None => {
                out.append_null();
                keys.append_null();
            }
        }
        sink.add(row, field, notes);
    }
    (out.finish(), keys.finish())
}

/// Dates, as Arrow `Date32`.
pub fn date_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> Date32Array {
    let mut out = Date32Builder::with_capacity(input.len());
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let o = parse_date(mapped(field, text, &mut notes).text());
        notes.extend(o.notes);
        out.append_option(o.value.map(|d| d.to_days()));
        sink.add(row, field, notes);
    }
    out.finish()
}

/// Months, as `YYYY-MM` text.
pub fn month_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> StringArray {
    let mut out = StringBuilder::with_capacity(input.len(), input.len() * 7);
    let mut buf = String::with_capacity(8);
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let o = parse_month(mapped(field, text, &mut notes).text());
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
        sink.add(row, field, notes);
    }
    out.finish()
}

/// Genders, as `M`/`F`. A mapped value is read with the built-in reading
/// too, so a mapping may target `男` as well as `M`.
pub fn gender_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> StringArray {
    let mut out = StringBuilder::with_capacity(input.len(), input.len());
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let text = mapped(field, text, &mut notes).text();
        let value = match read_gender(text) {
            Some(g) => Some(g),
            None => {
                let o = normalize_gender(text);
                notes.extend(o.notes);
                o.value
            }
        };
        out.append_option(value.map(|g| g.code()));
        sink.add(row, field, notes);
    }
    out.finish()
}

/// Phone numbers, digits only.
pub fn phone_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> StringArray {
    let mut out = string_builder(input);
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let o = normalize_phone(mapped(field, text, &mut notes).text());
        notes.extend(o.notes);
        out.append_option(o.value);
        sink.add(row, field, notes);
    }
    out.finish()
}

/// Amounts in yuan.
pub fn amount_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> Float64Array {
    let mut out = Float64Builder::with_capacity(input.len());
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let o = parse_amount(mapped(field, text, &mut notes).text());
        notes.extend(o.notes);
        out.append_option(o.value);
        sink.add(row, field, notes);
    }
    out.finish()
}

/// Free text, with the built-in subsidy readings for the subsidy fields.
pub fn text_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> StringArray {
    let read: Option<fn(&str) -> Option<&'static str>> = match field.builtin {
        Builtin::SubsidyType => Some(read_subsidy_type),
        Builtin::SubsidyStatus => Some(read_subsidy_status),
        Builtin::None | Builtin::Gender => None,
    };
    let mut out = string_builder(input);
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let l = mapped(field, text, &mut notes);
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
        sink.add(row, field, notes);
    }
    out.finish()
}

/// Exact codes.
pub fn code_column(field: &FieldPlan, input: &StringArray, sink: &mut NoteSink) -> StringArray {
    let mut out = string_builder(input);
    for row in 0..input.len() {
        let Some(text) = cell(input, row) else {
            out.append_null();
            continue;
        };
        let mut notes = NoteSet::EMPTY;
        let o = normalize_code(mapped(field, text, &mut notes).text());
        notes.extend(o.notes);
        out.append_option(o.value);
        sink.add(row, field, notes);
    }
    out.finish()
}
