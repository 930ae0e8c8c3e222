//! Normalizes one chunk of a raw table into its records and rejects.
//!
//! Chunks are independent, so they run in parallel; each builds its own
//! Arrow arrays, and the caller concatenates them in chunk order, which keeps
//! the output identical whatever the number of threads.

use crate::columns::{
    NameCache, NoteSink, amount_column, code_column, date_column, gender_column, id_column,
    month_column, name_column, phone_column, text_column,
};
use crate::ids::embedded_birth_date;
use crate::plan::Plan;
use crate::rejects::{NO_IDENTITY, id_problem, name_problem, no_identity_message, raw_text};
use aidlink_vocab::schema::rejects_schema;
use aidlink_vocab::{CivilDate, FieldKind, ParsedId};
use arrow_array::builder::{BooleanBuilder, Date32Builder, StringBuilder, UInt64Builder};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::ArrowError;
use arrow_select::filter::FilterBuilder;
use std::sync::Arc;

/// Number of columns derived from `id_number`.
const DERIVED_COLUMNS: usize = 6;

/// What one chunk produced.
pub struct ChunkOut {
    /// Number of accepted rows.
    pub rows: usize,
    /// The accepted rows' columns in record-schema order, `None` for the
    /// columns that are all null or constant.
    pub columns: Vec<Option<ArrayRef>>,
    /// Rejected rows, in input order.
    pub rejects: RecordBatch,
    /// Count of each note code (by index into [`Plan::codes`]) on accepted rows.
    pub note_counts: Vec<u64>,
    /// Accepted rows whose `id_number` fails its check.
    pub id_check_failed: u64,
    /// Accepted rows with a usable `id_number`.
    pub id_present: u64,
}

/// The output of one field, before the columns are laid out.
enum FieldOut {
    /// The source does not map the field.
    Absent,
    /// A normalized column.
    Plain(ArrayRef),
    /// A name column and its pinyin key column.
    Name(ArrayRef, ArrayRef),
}

/// Normalizes `raw` (one chunk of the source's raw table).
pub fn normalize_chunk(plan: &Plan, raw: &RecordBatch) -> Result<ChunkOut, ArrowError> {
    let n = raw.num_rows();
    let mut sink = NoteSink::default();
    let mut cache = NameCache::default();
    let mut id_parses: Option<Vec<Option<ParsedId>>> = None;
    let mut outs = Vec::with_capacity(plan.fields.len());
    for (i, field) in plan.fields.iter().enumerate() {
        let Some(input) = field
            .input
            .and_then(|c| raw.column(c).as_any().downcast_ref::<StringArray>())
        else {
            outs.push(FieldOut::Absent);
            continue;
        };
        let out = match field.spec.kind {
            FieldKind::ResidentId => {
                let own = i == plan.id_number;
                let (ids, parses) = id_column(field, input, &mut sink, own);
                if own {
                    id_parses = Some(parses);
                }
                FieldOut::Plain(Arc::new(ids))
            }
            FieldKind::ChineseName => {
                let (names, keys) = name_column(field, input, &mut sink, &mut cache);
                FieldOut::Name(Arc::new(names), Arc::new(keys))
            }
            FieldKind::Date => FieldOut::Plain(Arc::new(date_column(field, input, &mut sink))),
            FieldKind::Month => FieldOut::Plain(Arc::new(month_column(field, input, &mut sink))),
            FieldKind::Gender => FieldOut::Plain(Arc::new(gender_column(field, input, &mut sink))),
            FieldKind::Phone => FieldOut::Plain(Arc::new(phone_column(field, input, &mut sink))),
            FieldKind::Amount => FieldOut::Plain(Arc::new(amount_column(field, input, &mut sink))),
            FieldKind::FreeText => FieldOut::Plain(Arc::new(text_column(field, input, &mut sink))),
            FieldKind::ExactCode => FieldOut::Plain(Arc::new(code_column(field, input, &mut sink))),
        };
        outs.push(out);
    }

    // The reject rule: neither a usable name nor a usable ID.
    let names = match &outs[plan.name] {
        FieldOut::Name(v, _) => Some(v.clone()),
        _ => None,
    };
    let keep: Vec<bool> = (0..n)
        .map(|row| {
            names.as_ref().is_some_and(|a| a.is_valid(row))
                || id_parses.as_ref().is_some_and(|p| p[row].is_some())
        })
        .collect();

    let notes = sink.sorted();
    // Columns that are all null or constant (`source`) are left out here and
    // built once at full length by the caller: copying them chunk by chunk
    // would cost as much as computing them.
    let mut columns: Vec<Option<ArrayRef>> = Vec::with_capacity(plan.schema.fields().len());
    columns.push(None);
    columns.push(Some(raw.column(plan.source_row).clone()));
    for (i, (field, out)) in plan.fields.iter().zip(&outs).enumerate() {
        match out {
            FieldOut::Absent => {
                columns.push(None);
                if field.spec.kind == FieldKind::ChineseName {
                    columns.push(None);
                }
            }
            FieldOut::Plain(a) => columns.push(Some(a.clone())),
            FieldOut::Name(a, k) => {
                columns.push(Some(a.clone()));
                columns.push(Some(k.clone()));
            }
        }
        if i == plan.id_number {
            match &id_parses {
                Some(parses) => columns.extend(
                    derived_columns(plan, &outs, parses, n)
                        .into_iter()
                        .map(Some),
                ),
                None => columns.extend(std::iter::repeat_n(None, DERIVED_COLUMNS)),
            }
        }
    }
    columns.push(Some(Arc::new(notes_column(plan, &notes, n))));
    debug_assert_eq!(columns.len(), plan.schema.fields().len());

    let mut note_counts = vec![0u64; plan.codes.len()];
    for (row, code) in &notes {
        if keep[*row as usize] {
            note_counts[*code as usize] += 1;
        }
    }
    let (mut id_present, mut id_check_failed) = (0, 0);
    if let Some(p) = &id_parses {
        for (parsed, kept) in p.iter().zip(&keep) {
            if let (Some(parsed), true) = (parsed, kept) {
                id_present += 1;
                id_check_failed += u64::from(!parsed.check_ok);
            }
        }
    }
    let rejected = keep.iter().filter(|k| !**k).count();
    if rejected > 0 {
        let filter = FilterBuilder::new(&BooleanArray::from(keep.clone()))
            .optimize()
            .build();
        for c in columns.iter_mut().flatten() {
            *c = filter.filter(c)?;
        }
    }
    let rejects = rejects_batch(plan, raw, &keep, rejected)?;
    Ok(ChunkOut {
        rows: n - rejected,
        columns,
        rejects,
        note_counts,
        id_check_failed,
        id_present,
    })
}

/// The columns derived from `id_number`: check, area, birth date, gender,
/// and whether the record's own birth date and gender agree with them.
fn derived_columns(
    plan: &Plan,
    outs: &[FieldOut],
    parses: &[Option<ParsedId>],
    n: usize,
) -> Vec<ArrayRef> {
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
    for (row, parsed) in parses.iter().enumerate() {
        let Some(p) = parsed else {
            check.append_null();
            area.append_null();
            birth.append_null();
            gender.append_null();
            birth_ok.append_null();
            gender_ok.append_null();
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
    }
    vec![
        Arc::new(check.finish()),
        Arc::new(area.finish()),
        Arc::new(birth.finish()),
        Arc::new(gender.finish()),
        Arc::new(birth_ok.finish()),
        Arc::new(gender_ok.finish()),
    ]
}

/// The `notes` column: each row's codes, sorted, joined by `;`.
fn notes_column(plan: &Plan, notes: &[(u32, u16)], n: usize) -> StringArray {
    let mut out = StringBuilder::with_capacity(n, notes.len() * 16);
    let mut next = notes.iter().peekable();
    let mut text = String::new();
    for row in 0..n as u32 {
        text.clear();
        while let Some((r, code)) = next.next_if(|(r, _)| *r == row) {
            debug_assert_eq!(*r, row);
            if !text.is_empty() {
                text.push(';');
            }
            text.push_str(&plan.codes[*code as usize]);
        }
        if text.is_empty() {
            out.append_null();
        } else {
            out.append_value(&text);
        }
    }
    out.finish()
}

/// The rejects of a chunk, one per row where `keep` is false.
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
        plan.fields[field]
            .input
            .and_then(|c| raw.column(c).as_any().downcast_ref::<StringArray>())
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
