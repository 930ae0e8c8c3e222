//! Builds the record table of one or more sources, column by column.
//!
//! First each source's rows are scanned for the reject rule (a usable name
//! or a usable ID), in parallel blocks of rows; the `id_number` parses are
//! kept for its column and the derived ones. Then every record field is one
//! task that runs its rule over the kept rows of all sources into one
//! builder sized up front, the tasks shared by the threads heaviest first.
//! Rejected rows are never written, so nothing is filtered, and the columns
//! are whole, so nothing is concatenated: every byte of the record table is
//! written once. The output does not depend on the number of threads: each
//! column is built in row order by one task, and the notes are sorted.

use crate::columns::{
    NoteSink, Part, amount_column, code_column, date_column, gender_column, id_column,
    month_column, name_column, name_usable, own_id_column, phone_column, read_id, text_column,
};
use crate::ids::embedded_birth_date;
use crate::notes::NoteSet;
use crate::plan::Plan;
use crate::rejects::{NO_IDENTITY, id_problem, name_problem, no_identity_message, raw_text};
use aidlink_vocab::schema::rejects_schema;
use aidlink_vocab::{CivilDate, FieldKind, ParsedId};
use arrow_array::builder::{BooleanBuilder, Date32Builder, StringBuilder, UInt64Builder};
use arrow_array::{
    Array, ArrayRef, Date32Array, RecordBatch, StringArray, UInt64Array, new_null_array,
};
use arrow_schema::ArrowError;
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one source contributed.
pub struct SourceOut {
    /// Accepted rows.
    pub rows: usize,
    /// Rejected rows, in input order.
    pub rejects: RecordBatch,
    /// Count of each note code (by index into [`Plan::codes`]) on accepted rows.
    pub note_counts: Vec<u64>,
    /// Accepted rows whose `id_number` fails its check.
    pub id_check_failed: u64,
    /// Accepted rows with a usable `id_number`.
    pub id_present: u64,
}

/// One source's reject-rule scan.
struct Scan {
    /// Each raw row's `id_number` parse and notes (empty when not mapped).
    ids: Vec<(Option<ParsedId>, NoteSet)>,
    /// Whether each raw row is kept.
    keep: Vec<bool>,
    kept: usize,
}

/// The output of one field.
enum FieldOut {
    /// No source maps the field.
    Absent,
    /// A normalized column.
    Plain(ArrayRef),
    /// A name column and its pinyin key column.
    Name(ArrayRef, ArrayRef),
}

/// The string column `c` of `raw`, when `c` is given and is one.
fn text_input(raw: &RecordBatch, c: Option<usize>) -> Option<&StringArray> {
    c.and_then(|c| raw.column(c).as_any().downcast_ref::<StringArray>())
}

/// Scans one source for the reject rule, in parallel blocks of rows.
fn scan(plan: &Plan, raw: &RecordBatch) -> Scan {
    let n = raw.num_rows();
    let id_field = &plan.fields[plan.id_number];
    let name_field = &plan.fields[plan.name];
    let ids_in = text_input(raw, id_field.input);
    let names_in = text_input(raw, name_field.input);
    let rows: Vec<((Option<ParsedId>, NoteSet), bool)> = (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .map(|row| {
            let id = match ids_in.filter(|a| a.is_valid(row)) {
                Some(a) => read_id(id_field, a.value(row), true),
                None => (None, NoteSet::EMPTY),
            };
            let keep = id.0.is_some()
                || names_in
                    .filter(|a| a.is_valid(row))
                    .is_some_and(|a| name_usable(name_field, a.value(row)));
            (id, keep)
        })
        .collect();
    let (mut ids, keep): (Vec<_>, Vec<bool>) = rows.into_iter().unzip();
    if ids_in.is_none() {
        ids = Vec::new();
    }
    let kept = keep.iter().filter(|k| **k).count();
    Scan { ids, keep, kept }
}

/// Normalizes `sources` (each a plan and its raw table; every plan made from
/// one config, so they share the record schema and note codes) into one
/// record table, the sources' accepted rows one after another in order.
pub fn build(
    sources: &[(Plan, &RecordBatch)],
) -> Result<(RecordBatch, Vec<SourceOut>), ArrowError> {
    let Some((first, _)) = sources.first() else {
        return Err(ArrowError::InvalidArgumentError(
            "no source to normalize".into(),
        ));
    };
    let scans: Vec<Scan> = sources
        .par_iter()
        .with_max_len(1)
        .map(|(plan, raw)| scan(plan, raw))
        .collect();
    let mut bases = Vec::with_capacity(sources.len());
    let mut total = 0;
    for s in &scans {
        bases.push(total);
        total += s.kept;
    }
    let parts_of = |f: usize| -> Vec<Part<'_>> {
        sources
            .iter()
            .zip(&scans)
            .zip(&bases)
            .map(|(((plan, raw), scan), &base)| Part {
                field: &plan.fields[f],
                input: text_input(raw, plan.fields[f].input),
                keep: &scan.keep,
                all_kept: scan.kept == scan.keep.len(),
                base,
                kept: scan.kept,
            })
            .collect()
    };

    // The fields, heaviest first (names run two rules, free text and dates
    // scan their text), pulled by each thread in turn from a shared counter,
    // so that a heavy field never starts last.
    let fields = &first.fields;
    let weight = |f: usize| -> usize {
        let bytes: usize = parts_of(f)
            .iter()
            .filter_map(|p| p.input)
            .map(|a| a.len() + a.value_data().len())
            .sum();
        let per = match fields[f].spec.kind {
            FieldKind::ChineseName => 8,
            FieldKind::FreeText | FieldKind::Date => 2,
            _ => 1,
        };
        bytes * per
    };
    let mut order: Vec<(usize, usize)> = (0..fields.len()).map(|f| (weight(f), f)).collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    let next = AtomicUsize::new(0);
    let id_scans: Vec<&[(Option<ParsedId>, NoteSet)]> =
        scans.iter().map(|s| s.ids.as_slice()).collect();
    #[allow(clippy::type_complexity)]
    let done: Vec<Vec<(usize, Result<FieldOut, ArrowError>, Vec<u64>)>> = (0
        ..rayon::current_num_threads())
        .into_par_iter()
        .with_max_len(1)
        .map(|_| {
            let mut mine = Vec::new();
            while let Some(&(_, f)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                let parts = parts_of(f);
                let mut sink = NoteSink::default();
                let out = if parts.iter().all(|p| p.input.is_none()) {
                    Ok(FieldOut::Absent)
                } else {
                    field_column(first, f, &parts, &id_scans, &mut sink)
                };
                mine.push((f, out, sink.entries));
            }
            mine
        })
        .collect();
    let mut outs: Vec<Option<FieldOut>> = (0..fields.len()).map(|_| None).collect();
    let mut notes = Vec::new();
    for (f, out, entries) in done.into_iter().flatten() {
        outs[f] = Some(out?);
        notes.push(entries);
    }
    let outs: Vec<FieldOut> = outs
        .into_iter()
        .map(|o| o.unwrap_or(FieldOut::Absent))
        .collect();

    // The columns that need every field's output, side by side.
    let (derived, ((notes, notes_col), (source_rows, source_col))) = rayon::join(
        || derived_columns(first, &scans, &outs, total),
        || {
            rayon::join(
                || {
                    let mut all: Vec<u64> = notes.concat();
                    all.par_sort_unstable();
                    all.dedup();
                    let column = notes_column(first, &all, total);
                    (all, column)
                },
                || {
                    let source = StringArray::from_iter_values(
                        sources.iter().zip(&scans).flat_map(|((plan, _), scan)| {
                            std::iter::repeat_n(plan.source.as_str(), scan.kept)
                        }),
                    );
                    (source_row_column(sources, &scans, total), source)
                },
            )
        },
    );
    let derived = derived?;

    let schema = first.schema.clone();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    columns.push(Arc::new(source_col));
    columns.push(Arc::new(source_rows));
    let mut derived = Some(derived);
    for (i, out) in outs.iter().enumerate() {
        let at = columns.len();
        match out {
            FieldOut::Absent => {
                columns.push(new_null_array(schema.field(at).data_type(), total));
                if fields[i].spec.kind == FieldKind::ChineseName {
                    columns.push(new_null_array(schema.field(at + 1).data_type(), total));
                }
            }
            FieldOut::Plain(a) => columns.push(a.clone()),
            FieldOut::Name(a, k) => {
                columns.push(a.clone());
                columns.push(k.clone());
            }
        }
        if i == first.id_number
            && let Some(d) = derived.take()
        {
            columns.extend(d);
        }
    }
    columns.push(Arc::new(notes_col));
    let records = RecordBatch::try_new_with_options(
        schema,
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(total)),
    )?;

    // Per source: its notes (the entries are sorted by output row, and each
    // source's rows are one run of them), ID counts and rejects.
    let mut outcomes = Vec::with_capacity(sources.len());
    let mut at = 0;
    for (((plan, raw), scan), &base) in sources.iter().zip(&scans).zip(&bases) {
        let mut note_counts = vec![0u64; plan.codes.len()];
        let end = base + scan.kept;
        while let Some(&e) = notes.get(at) {
            if (e >> 16) as usize >= end {
                break;
            }
            note_counts[(e & 0xFFFF) as usize] += 1;
            at += 1;
        }
        let (mut id_present, mut id_check_failed) = (0, 0);
        for ((parsed, _), kept) in scan.ids.iter().zip(&scan.keep) {
            if let (Some(parsed), true) = (parsed, kept) {
                id_present += 1;
                id_check_failed += u64::from(!parsed.check_ok);
            }
        }
        let rejected = scan.keep.len() - scan.kept;
        outcomes.push(SourceOut {
            rows: scan.kept,
            rejects: rejects_batch(plan, raw, &scan.keep, rejected)?,
            note_counts,
            id_check_failed,
            id_present,
        });
    }
    Ok((records, outcomes))
}

/// The column of field `f` over `parts`, by the field's kind.
fn field_column(
    plan: &Plan,
    f: usize,
    parts: &[Part<'_>],
    id_scans: &[&[(Option<ParsedId>, NoteSet)]],
    sink: &mut NoteSink,
) -> Result<FieldOut, ArrowError> {
    let plain = |a: ArrayRef| FieldOut::Plain(a);
    Ok(match plan.fields[f].spec.kind {
        FieldKind::ResidentId if f == plan.id_number => {
            plain(Arc::new(own_id_column(parts, id_scans, sink)))
        }
        FieldKind::ResidentId => plain(Arc::new(id_column(parts, sink))),
        FieldKind::ChineseName => {
            let (names, keys) = name_column(parts, sink)?;
            FieldOut::Name(names, keys)
        }
        FieldKind::Date => plain(Arc::new(date_column(parts, sink))),
        FieldKind::Month => plain(Arc::new(month_column(parts, sink))),
        FieldKind::Gender => plain(Arc::new(gender_column(parts, sink))),
        FieldKind::Phone => plain(Arc::new(phone_column(parts, sink))),
        FieldKind::Amount => plain(Arc::new(amount_column(parts, sink))),
        FieldKind::FreeText => plain(Arc::new(text_column(parts, sink))),
        FieldKind::ExactCode => plain(Arc::new(code_column(parts, sink))),
    })
}

/// `source_row` of the kept rows.
fn source_row_column(
    sources: &[(Plan, &RecordBatch)],
    scans: &[Scan],
    total: usize,
) -> UInt64Array {
    let mut out = Vec::with_capacity(total);
    for ((plan, raw), scan) in sources.iter().zip(scans) {
        if let Some(rows) = raw
            .column(plan.source_row)
            .as_any()
            .downcast_ref::<UInt64Array>()
        {
            out.extend(
                rows.values()
                    .iter()
                    .zip(&scan.keep)
                    .filter(|(_, k)| **k)
                    .map(|(r, _)| *r),
            );
        }
    }
    UInt64Array::from(out)
}

/// The columns derived from `id_number`: check, area, birth date, gender,
/// and whether the record's own birth date and gender agree with them.
fn derived_columns(
    plan: &Plan,
    scans: &[Scan],
    outs: &[FieldOut],
    n: usize,
) -> Result<Vec<ArrayRef>, ArrowError> {
    let mut check = BooleanBuilder::with_capacity(n);
    let mut area = StringBuilder::with_capacity(n, n * 6);
    let mut birth = Date32Builder::with_capacity(n);
    let mut gender = StringBuilder::with_capacity(n, n);
    let mut birth_ok = BooleanBuilder::with_capacity(n);
    let mut gender_ok = BooleanBuilder::with_capacity(n);
    let own_birth = match &outs[plan.birth_date] {
        FieldOut::Plain(a) => a.as_any().downcast_ref::<Date32Array>(),
        _ => None,
    };
    let own_gender = match &outs[plan.gender] {
        FieldOut::Plain(a) => a.as_any().downcast_ref::<StringArray>(),
        _ => None,
    };
    let mut row = 0;
    for scan in scans {
        if scan.ids.is_empty() {
            for b in [&mut check, &mut birth_ok, &mut gender_ok] {
                b.append_nulls(scan.kept);
            }
            area.append_nulls(scan.kept);
            birth.append_nulls(scan.kept);
            gender.append_nulls(scan.kept);
            row += scan.kept;
            continue;
        }
        for ((parsed, _), _) in scan.ids.iter().zip(&scan.keep).filter(|(_, k)| **k) {
            let Some(p) = parsed else {
                check.append_null();
                area.append_null();
                birth.append_null();
                gender.append_null();
                birth_ok.append_null();
                gender_ok.append_null();
                row += 1;
                continue;
            };
            check.append_value(p.check_ok);
            area.append_value(p.id.area_code());
            let id_birth = embedded_birth_date(&p.id).map(CivilDate::to_days);
            birth.append_option(id_birth);
            let id_gender = p.id.gender().code();
            gender.append_value(id_gender);
            let recorded_birth = own_birth.filter(|a| a.is_valid(row)).map(|a| a.value(row));
            birth_ok.append_option(recorded_birth.zip(id_birth).map(|(a, b)| a == b));
            let recorded_gender = own_gender.filter(|a| a.is_valid(row)).map(|a| a.value(row));
            gender_ok.append_option(recorded_gender.map(|g| g == id_gender));
            row += 1;
        }
    }
    if row != n {
        return Err(ArrowError::ComputeError(format!(
            "derived columns have {row} rows where the table has {n}"
        )));
    }
    Ok(vec![
        Arc::new(check.finish()),
        Arc::new(area.finish()),
        Arc::new(birth.finish()),
        Arc::new(gender.finish()),
        Arc::new(birth_ok.finish()),
        Arc::new(gender_ok.finish()),
    ])
}

/// The `notes` column: each row's codes, sorted, joined by `;`. `notes` are
/// the packed entries of [`NoteSink`], sorted and without duplicates.
fn notes_column(plan: &Plan, notes: &[u64], n: usize) -> StringArray {
    let mut out = StringBuilder::with_capacity(n, notes.len() * 16);
    let mut next = notes.iter().peekable();
    let mut text = String::new();
    for row in 0..n as u64 {
        text.clear();
        while let Some(e) = next.next_if(|e| *e >> 16 == row) {
            if !text.is_empty() {
                text.push(';');
            }
            text.push_str(&plan.codes[(e & 0xFFFF) as usize]);
        }
        if text.is_empty() {
            out.append_null();
        } else {
            out.append_value(&text);
        }
    }
    out.finish()
}

/// The rejects of a source, one per row where `keep` is false.
fn rejects_batch(
    plan: &Plan,
    raw: &RecordBatch,
    keep: &[bool],
    rejected: usize,
) -> Result<RecordBatch, ArrowError> {
    let schema = rejects_schema();
    if rejected == 0 {
        return Ok(RecordBatch::new_empty(schema));
    }
    let rows = raw
        .column(plan.source_row)
        .as_any()
        .downcast_ref::<UInt64Array>()
        .ok_or_else(|| ArrowError::SchemaError("source_row is not UInt64".into()))?;
    let text_cell = |field: usize, row: usize| {
        text_input(raw, plan.fields[field].input)
            .filter(|a| a.is_valid(row))
            .map(|a| a.value(row))
    };
    let name_mapped = plan.fields[plan.name].input.is_some();
    let id_mapped = plan.fields[plan.id_number].input.is_some();
    let mut source = StringBuilder::new();
    let mut source_row = UInt64Builder::with_capacity(rejected);
    let mut raw_col = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut message = StringBuilder::new();
    let mut field = StringBuilder::new();
    for (row, _) in keep.iter().enumerate().filter(|(_, k)| !**k) {
        let r = rows.value(row);
        source.append_value(&plan.source);
        source_row.append_value(r);
        raw_col.append_value(raw_text(raw, &plan.headers, row));
        reason.append_value(NO_IDENTITY);
        let name = name_problem(text_cell(plan.name, row), name_mapped);
        let id = id_problem(text_cell(plan.id_number, row), id_mapped);
        message.append_value(no_identity_message(&plan.source, r, name, &id));
        field.append_null();
    }
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(source.finish()),
            Arc::new(source_row.finish()),
            Arc::new(raw_col.finish()),
            Arc::new(reason.finish()),
            Arc::new(message.finish()),
            Arc::new(field.finish()),
        ],
    )
}
