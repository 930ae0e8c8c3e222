//! Applies the tier policy to a table: the analyst view of a restricted table.

use crate::coarsen::{county_prefix, year_month_bytes, year_month_of_text};
use crate::error::PrivacyError;
use crate::json::{KeyRules, transform_text};
use crate::json_pass::{Pass, Rewriter};
use crate::key::{PseudonymKey, PseudonymKind};
use crate::policy::{self, Treatment};
use aidlink_vocab::{ResidentId, mask_id_text};
use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;
use std::sync::Arc;

/// The analyst form of `table`: every column treated as [`policy`] says,
/// unknown columns dropped, column order kept. Fails when a kept text column
/// still holds a valid resident ID number, because then the policy is wrong
/// for this table and nothing should be published until it is fixed.
///
/// Call it only for tables with [`policy::has_analyst_form`]; for any other
/// table every column is unknown and the view would be empty.
pub fn analyst_view(
    table: &str,
    batch: &RecordBatch,
    key: &PseudonymKey,
) -> Result<RecordBatch, PrivacyError> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    // The rows' person numbers and their pseudonyms, once computed: a JSON
    // row names its own person again.
    let mut persons: Option<(ArrayRef, ArrayRef)> = None;
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let (treatment, out_name) = policy::treatment(table, field.name());
        let out = if treatment == Treatment::RowJson {
            let persons = persons
                .as_ref()
                .and_then(|(i, o)| Some((i.as_string_opt::<i32>()?, o.as_string_opt::<i32>()?)));
            let (out, rows) = row_json(table, batch, field, column, persons, key)?;
            scan_rows(table, field.name(), &out, &rows)?;
            Arc::new(out) as ArrayRef
        } else {
            let Some(out) = apply(table, field, column, treatment, key)? else {
                continue;
            };
            // Whatever is not replaced by a pseudonym (hex, which can hold
            // long digit runs by chance) is scanned for surviving ID numbers.
            if !matches!(treatment, Treatment::Pseudonymize(_)) {
                scan_for_ids(table, field.name(), &out)?;
            }
            if field.name() == "person_id"
                && treatment == Treatment::Pseudonymize(PseudonymKind::Person)
            {
                persons = Some((column.clone(), out.clone()));
            }
            out
        };
        fields.push(Field::new(out_name, out.data_type().clone(), true));
        columns.push(out);
    }
    let schema = Arc::new(Schema::new(fields).with_metadata(batch.schema().metadata().clone()));
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema, columns, &options).map_err(|source| {
        PrivacyError::Arrow {
            table: table.to_string(),
            error: source,
        }
    })
}

/// Applies one treatment to one column; `None` when the column is dropped.
pub(crate) fn apply(
    table: &str,
    field: &Field,
    column: &ArrayRef,
    treatment: Treatment,
    key: &PseudonymKey,
) -> Result<Option<ArrayRef>, PrivacyError> {
    let type_error = |expected| PrivacyError::ColumnType {
        table: table.to_string(),
        column: field.name().clone(),
        found: column.data_type().to_string(),
        expected,
    };
    Ok(Some(match treatment {
        Treatment::Drop => return Ok(None),
        Treatment::Keep => column.clone(),
        Treatment::Pseudonymize(kind) => map_text_into(column, &|v, out| {
            key.write_pseudonym(kind, v, out);
            true
        })
        .ok_or_else(|| type_error("Utf8 or List<Utf8>"))?,
        Treatment::MaskId => map_text(column, &|v| Some(mask_id_text(v)))
            .ok_or_else(|| type_error("Utf8 or List<Utf8>"))?,
        Treatment::AddressToCounty => map_text_into(column, &|v, out| match county_prefix(v) {
            Some(county) => {
                out.push_str(&county);
                true
            }
            None => false,
        })
        .ok_or_else(|| type_error("Utf8"))?,
        Treatment::YearMonthIfDate => map_text(column, &|v| {
            Some(year_month_of_text(v).unwrap_or_else(|| v.to_string()))
        })
        .ok_or_else(|| type_error("Utf8"))?,
        Treatment::Json(rules) => {
            map_text(column, &|v| transform_text(v, KeyRules::List(rules), key))
                .ok_or_else(|| type_error("Utf8"))?
        }
        // Needs the row's entity; handled by `row_json`. Outside a table
        // there is none, so the column is not published.
        Treatment::RowJson => return Ok(None),
        Treatment::YearMonth => match column.data_type() {
            DataType::Date32 => {
                let dates = column.as_primitive::<Date32Type>();
                let mut out = StringBuilder::with_capacity(dates.len(), dates.len() * 7);
                // Birth dates of a row group span a few thousand days: a
                // small table by day remembers each day's month, where the
                // calendar arithmetic costs several times the lookup.
                // Each slot starts with a day that belongs to the next
                // slot, so no day finds an answer it did not put there.
                let mut months: Vec<(i32, [u8; 7])> =
                    (1..=MONTH_SLOTS as i32).map(|d| (d, [0u8; 7])).collect();
                for d in dates.iter() {
                    match d {
                        Some(days) => {
                            let slot = &mut months[days.rem_euclid(MONTH_SLOTS as i32) as usize];
                            let month = if slot.0 == days {
                                slot.1
                            } else {
                                let month = year_month_bytes(days);
                                *slot = (days, month);
                                month
                            };
                            // Digits and a dash: always UTF-8.
                            out.append_value(std::str::from_utf8(&month).unwrap_or_default());
                        }
                        None => out.append_null(),
                    }
                }
                Arc::new(out.finish())
            }
            _ => {
                map_text(column, &year_month_of_text).ok_or_else(|| type_error("Date32 or Utf8"))?
            }
        },
    }))
}

/// A `values` column of JSON rows, each treated by the policy of the table
/// its row's `entity` names; rows of an unknown entity become null. Also
/// the rows (in order) the ID scan must look at: every row whose text holds
/// enough digits copied from the input to hold an ID; the others hold
/// nothing the scan could find.
fn row_json(
    table: &str,
    batch: &RecordBatch,
    field: &Field,
    column: &ArrayRef,
    persons: Option<(&StringArray, &StringArray)>,
    key: &PseudonymKey,
) -> Result<(StringArray, Vec<usize>), PrivacyError> {
    let type_error = |column: &str, found: &DataType| PrivacyError::ColumnType {
        table: table.to_string(),
        column: column.to_string(),
        found: found.to_string(),
        expected: "Utf8",
    };
    let values = column
        .as_string_opt::<i32>()
        .ok_or_else(|| type_error(field.name(), column.data_type()))?;
    let entity = batch
        .column_by_name("entity")
        .ok_or_else(|| PrivacyError::MissingColumn {
            table: table.to_string(),
            column: "entity".into(),
            available: batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let entities = entity
        .as_string_opt::<i32>()
        .ok_or_else(|| type_error("entity", entity.data_type()))?;
    let n = values.len();
    // A row group is rewritten in one piece (publish runs row groups in
    // parallel); a whole large table in chunks that run in parallel and are
    // put back in order, so the output does not depend on the thread count.
    let rewrite = |rows: std::ops::Range<usize>| {
        let first = rows.start;
        let bytes = values.value_offsets()[rows.end] - values.value_offsets()[rows.start];
        // The analyst form is about as long as the row (pseudonyms are
        // longer than what they replace, dropped keys shorter).
        let mut builder =
            StringBuilder::with_capacity(rows.len(), bytes.max(0) as usize + rows.len() * 32);
        let mut scan = Vec::new();
        let mut pass = Rewriter::new(key);
        let mut row = String::new();
        for i in rows {
            if values.is_null(i) || entities.is_null(i) {
                builder.append_null();
                continue;
            }
            let Some(table) = policy::entity_table(entities.value(i)) else {
                builder.append_null();
                continue;
            };
            let text = values.value(i);
            let person = persons.and_then(|(numbers, pseudonyms)| {
                (numbers.is_valid(i) && pseudonyms.is_valid(i))
                    .then(|| (numbers.value(i), pseudonyms.value(i)))
            });
            row.clear();
            match pass.rewrite(text, KeyRules::Table(table), person, &mut row) {
                Pass::Written { scan: needed } => {
                    builder.append_value(&row);
                    if needed {
                        scan.push(i - first);
                    }
                }
                Pass::Declined => {
                    match transform_text(text, KeyRules::Table(table), key) {
                        Some(t) => builder.append_value(&t),
                        None => builder.append_null(),
                    }
                    scan.push(i - first);
                }
            }
        }
        (builder.finish(), scan)
    };
    if n <= PARALLEL_MIN_ROWS {
        return Ok(rewrite(0..n));
    }
    let parts: Vec<(StringArray, Vec<usize>)> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|c| rewrite(c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n)))
        .collect();
    let scan = parts
        .iter()
        .enumerate()
        .flat_map(|(c, (_, rows))| rows.iter().map(move |r| c * CHUNK_ROWS + r))
        .collect();
    let arrays: Vec<&dyn Array> = parts.iter().map(|(p, _)| p as &dyn Array).collect();
    let out = arrow_select::concat::concat(&arrays).map_err(|source| PrivacyError::Arrow {
        table: table.to_string(),
        error: source,
    })?;
    Ok((out.as_string::<i32>().clone(), scan))
}

/// Maps every non-null string of a `Utf8` or `List<Utf8>` column; `None`
/// for any other type.
fn map_text(column: &ArrayRef, f: &(dyn Fn(&str) -> Option<String> + Sync)) -> Option<ArrayRef> {
    map_text_into(column, &|v, out| match f(v) {
        Some(s) => {
            out.push_str(&s);
            true
        }
        None => false,
    })
}

/// Like [`map_text`], with `f` writing into a reused buffer and returning
/// whether the value is non-null; used where allocation per value matters.
fn map_text_into(
    column: &ArrayRef,
    f: &(dyn Fn(&str, &mut String) -> bool + Sync),
) -> Option<ArrayRef> {
    match column.data_type() {
        DataType::Utf8 => {
            let strings = column.as_string::<i32>();
            let n = strings.len();
            let map_rows = |rows: std::ops::Range<usize>| {
                // Room for a pseudonym per value: the common case needs no
                // growing, and a column is built in one buffer.
                let mut builder = StringBuilder::with_capacity(rows.len(), rows.len() * 36);
                let mut buf = String::new();
                // Rows of one household or one person come together, with
                // the same head, household number or address; a repeat of
                // the previous value reuses its answer (every treatment is a
                // function of the value alone).
                let mut previous: Option<(&str, bool)> = None;
                for i in rows {
                    if strings.is_null(i) {
                        builder.append_null();
                        continue;
                    }
                    let value = strings.value(i);
                    let non_null = match previous {
                        Some((seen, non_null)) if seen == value => non_null,
                        _ => {
                            buf.clear();
                            let non_null = f(value, &mut buf);
                            previous = Some((value, non_null));
                            non_null
                        }
                    };
                    if non_null {
                        builder.append_value(&buf);
                    } else {
                        builder.append_null();
                    }
                }
                builder.finish()
            };
            // Publish hands over one row group at a time and runs row
            // groups in parallel: one builder, no joining. A whole large
            // table is cut into chunks that run in parallel (HMAC per value
            // is the cost of the analyst tier) and are put back in order, so
            // the output does not depend on the thread count.
            if n <= PARALLEL_MIN_ROWS {
                return Some(Arc::new(map_rows(0..n)));
            }
            let parts: Vec<StringArray> = (0..n.div_ceil(CHUNK_ROWS))
                .into_par_iter()
                .map(|c| map_rows(c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n)))
                .collect();
            // One copy of the chunks' bytes into the column.
            let parts: Vec<&dyn Array> = parts.iter().map(|p| p as &dyn Array).collect();
            arrow_select::concat::concat(&parts).ok()
        }
        DataType::List(item) if item.data_type() == &DataType::Utf8 => {
            let list = compact_list(column.as_list::<i32>())?;
            let values = map_text_into(list.values(), f)?;
            let item = Arc::new(Field::new(item.name(), DataType::Utf8, true));
            let out = ListArray::new(item, list.offsets().clone(), values, list.nulls().cloned());
            Some(Arc::new(out))
        }
        _ => None,
    }
}

/// A list column whose items are exactly its own rows' items. A slice of a
/// list (a row group of a table) keeps the whole table's items behind it,
/// which a row group's view must not map again; such a slice is compacted
/// first (its items are few).
fn compact_list(list: &ListArray) -> Option<ListArray> {
    let offsets = list.offsets();
    let start = offsets.first();
    let end = offsets.last();
    if start == 0 && end as usize == list.values().len() {
        return Some(list.clone());
    }
    let compacted = arrow_select::concat::concat(&[list as &dyn Array]).ok()?;
    compacted.as_list_opt::<i32>().cloned()
}

/// Columns up to this many rows are mapped in one piece (see
/// [`map_text_into`]); a row group has 131,072.
const PARALLEL_MIN_ROWS: usize = 256 * 1024;

/// Days remembered by the date coarsening (about eleven years).
const MONTH_SLOTS: usize = 4096;

/// Rows per parallel chunk of a column.
const CHUNK_ROWS: usize = 16 * 1024;

/// Fails when any string of a kept text column contains a valid resident ID.
fn scan_for_ids(table: &str, column: &str, array: &ArrayRef) -> Result<(), PrivacyError> {
    let strings = match array.data_type() {
        DataType::Utf8 => {
            let strings = array.as_string::<i32>();
            if !text_may_hold_id(strings, 0..strings.len()) {
                return Ok(());
            }
            strings.clone()
        }
        DataType::List(item) if item.data_type() == &DataType::Utf8 => {
            // Rows of a list column are reported by value position; close
            // enough to find the offending column, which is what matters.
            let list = array.as_list::<i32>();
            let items =
                list.offsets().first().max(0) as usize..list.offsets().last().max(0) as usize;
            if let Some(strings) = list.values().as_string_opt::<i32>()
                && items.end <= strings.len()
                && !text_may_hold_id(strings, items)
            {
                return Ok(());
            }
            // Should compacting fail, every item behind the slice is
            // scanned: more than needed, never less.
            match compact_list(list) {
                Some(list) => list.values().as_string::<i32>().clone(),
                None => list.values().as_string::<i32>().clone(),
            }
        }
        _ => return Ok(()),
    };
    let n = strings.len();
    let found = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .find_map_first(|c| {
            (c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n)).find_map(|i| {
                (!strings.is_null(i))
                    .then(|| find_resident_id_outside_pseudonyms(strings.value(i)))
                    .flatten()
                    .map(|id| (i, id))
            })
        });
    if let Some((i, id)) = found {
        return Err(PrivacyError::IdentifierLeak {
            table: table.to_string(),
            column: column.to_string(),
            row: i + 1,
            masked: id.masked(),
        });
    }
    Ok(())
}

/// Whether the text of `rows` of `strings` holds anywhere eight ASCII
/// digits in a row at a position divisible by eight. An ID has 17 digits
/// in a row, and any 17 bytes hold such an aligned eight; so when this is
/// `false`, no value holds an ID and the column needs no scan (most kept
/// columns: codes, schools, months, counts). About a byte's worth of work
/// per eight bytes, where the scan costs a call per value.
fn text_may_hold_id(strings: &StringArray, rows: std::ops::Range<usize>) -> bool {
    let offsets = strings.value_offsets();
    let (start, end) = (
        offsets[rows.start].max(0) as usize,
        offsets[rows.end].max(0) as usize,
    );
    let Some(bytes) = strings.value_data().get(start..end) else {
        return true;
    };
    const NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    bytes.chunks_exact(8).any(|chunk| {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // Every byte 0x30..=0x3f, and still below 0x40 after adding six
        // (no carry crosses bytes then): every byte is 0x30..=0x39.
        x & NIBBLES == THREES && x.wrapping_add(SIXES) & NIBBLES == THREES
    })
}

/// [`scan_for_ids`] of a text column, looking only at `rows` (ascending):
/// the same error for the same first row, when the other rows are known
/// to hold no ID.
fn scan_rows(
    table: &str,
    column: &str,
    strings: &StringArray,
    rows: &[usize],
) -> Result<(), PrivacyError> {
    for &i in rows {
        if strings.is_valid(i)
            && let Some(id) = find_resident_id_outside_pseudonyms(strings.value(i))
        {
            return Err(PrivacyError::IdentifierLeak {
                table: table.to_string(),
                column: column.to_string(),
                row: i + 1,
                masked: id.masked(),
            });
        }
    }
    Ok(())
}

/// Hex characters after a pseudonym's prefix.
const PSEUDONYM_HEX: usize = 32;

/// Whether a pseudonym (a known prefix and 32 lower-case hex characters)
/// starts at byte `i` of `b`.
fn pseudonym_at(b: &[u8], i: usize) -> bool {
    b.len() >= i + 3 + PSEUDONYM_HEX
        && b[i + 2] == b'_'
        && b[i].is_ascii_lowercase()
        && b[i + 1].is_ascii_lowercase()
        && PSEUDONYM_PREFIXES
            .iter()
            .any(|p| p.as_bytes() == &b[i..i + 3])
        && b[i + 3..i + 3 + PSEUDONYM_HEX]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// [`find_resident_id`] of `text` with its pseudonyms skipped, without
/// building the blanked copy [`without_pseudonyms`] makes: the scan runs
/// over every value of every kept column. A pseudonym starts with a
/// lower-case letter other than `x`, which cannot be part of a digit run, so
/// skipping it in place finds exactly what scanning the blanked text finds.
pub(crate) fn find_resident_id_outside_pseudonyms(text: &str) -> Option<ResidentId> {
    let b = text.as_bytes();
    // An ID has at least 17 digits; most values (codes, names, schools,
    // months) have far fewer, and counting them is much cheaper than
    // walking the text.
    if b.len() < 18 || b.iter().filter(|c| c.is_ascii_digit()).count() < 17 {
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let mut end = i + 1;
            while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'X' || b[end] == b'x') {
                end += 1;
            }
            if end - i >= 18 {
                // The run is ASCII, so it is valid UTF-8.
                let run = std::str::from_utf8(&b[i..end]).unwrap_or_default();
                if let Some(id) = find_resident_id(run) {
                    return Some(id);
                }
            }
            i = end;
        } else if c == b'_' && i >= 2 && pseudonym_at(b, i - 2) {
            // The prefix's two letters were passed over (no digit run
            // takes a letter but x, which no prefix has); skip the hex.
            i += 1 + PSEUDONYM_HEX;
        } else {
            i += 1;
        }
    }
    None
}

/// `text` with every pseudonym (`ps_` and 32 hex characters, and the other
/// kinds' prefixes) blanked out; the reference the in-place scan
/// [`find_resident_id_outside_pseudonyms`] is tested against. A pseudonym's hex holds a run of 18 decimal
/// digits that passes the ID check about once in a hundred thousand; inside
/// a JSON column those would otherwise stop a run for nothing.
#[cfg(test)]
fn without_pseudonyms(text: &str) -> std::borrow::Cow<'_, str> {
    const HEX: usize = 32;
    let b = text.as_bytes();
    let is_start = |i: usize| {
        b.len() >= i + 3 + HEX
            && b[i].is_ascii_lowercase()
            && b[i + 1].is_ascii_lowercase()
            && b[i + 2] == b'_'
            && b[i + 3..i + 3 + HEX]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            && PSEUDONYM_PREFIXES.contains(&&text[i..i + 3])
    };
    if !(0..b.len().saturating_sub(2)).any(|i| b[i + 2] == b'_' && is_start(i)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if is_start(i) {
            out.extend(std::iter::repeat_n(b' ', 3 + HEX));
            i += 3 + HEX;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII, so the text stays UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// Prefixes of every pseudonym kind.
const PSEUDONYM_PREFIXES: &[&str] = &["ps_", "id_", "nm_", "sn_", "ct_", "hh_", "ph_"];

/// The first valid resident ID number (check character and birth date both
/// valid) found anywhere in `text`, also inside longer digit runs such as a
/// certificate number (the ID plus two digits).
pub fn find_resident_id(text: &str) -> Option<ResidentId> {
    let b = text.as_bytes();
    let mut start = 0;
    while start < b.len() {
        if !b[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'X' || b[end] == b'x') {
            end += 1;
        }
        for w in start..(end.saturating_sub(17)) {
            let window = &b[w..w + 18];
            if window[..17].iter().all(u8::is_ascii_digit) {
                // The window is ASCII, so it is valid UTF-8.
                let text = std::str::from_utf8(window).unwrap_or_default();
                if let Ok(parsed) = ResidentId::parse(text)
                    && parsed.check_ok
                    && parsed.id.birth_date().is_some()
                {
                    return Some(parsed.id);
                }
            }
        }
        start = end.max(start + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::PseudonymKind;
    use aidlink_vocab::CivilDate;
    use arrow_array::{Date32Array, UInt64Array};

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes(b"test-key-0123456789abcdef-0123456789", "test").unwrap()
    }

    fn valid_id() -> String {
        ResidentId::from_parts("110105", CivilDate::new(2012, 3, 5).unwrap(), 123)
            .unwrap()
            .as_str()
            .to_string()
    }

    fn sample() -> RecordBatch {
        let id = valid_id();
        let schema = Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, false),
            Field::new("source_row", DataType::UInt64, false),
            Field::new("person_id", DataType::Utf8, true),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("name_pinyin", DataType::Utf8, true),
            Field::new("birth_date", DataType::Date32, true),
            Field::new("phone", DataType::Utf8, true),
            Field::new("address", DataType::Utf8, true),
            Field::new("school", DataType::Utf8, true),
            Field::new("mystery", DataType::Utf8, true),
        ]));
        let day = CivilDate::new(2012, 3, 5).unwrap().to_days();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["enrollment", "enrollment"])),
                Arc::new(UInt64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("P00000001"), None])),
                Arc::new(StringArray::from(vec![Some(id.as_str()), None])),
                Arc::new(StringArray::from(vec![Some("张伟"), Some("李娜")])),
                Arc::new(StringArray::from(vec![Some("zhang wei"), Some("li na")])),
                Arc::new(Date32Array::from(vec![Some(day), None])),
                Arc::new(StringArray::from(vec![Some("13800138000"), None])),
                Arc::new(StringArray::from(vec![
                    Some("北京市朝阳区建国路8号"),
                    Some("幸福路"),
                ])),
                Arc::new(StringArray::from(vec![Some("第一小学"), Some("第二小学")])),
                Arc::new(StringArray::from(vec![Some("secret"), Some("secret")])),
            ],
        )
        .unwrap()
    }

    fn column_names(b: &RecordBatch) -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    #[test]
    fn analyst_view_applies_the_policy() {
        let k = key();
        let view = analyst_view("records", &sample(), &k).unwrap();
        assert_eq!(
            column_names(&view),
            [
                "source",
                "source_row",
                "person_id",
                "id_number",
                "name",
                "birth_month",
                "address_county",
                "school"
            ]
        );
        let text = |c: &str, i: usize| {
            let a = view.column_by_name(c).unwrap().as_string::<i32>();
            a.is_valid(i).then(|| a.value(i).to_string())
        };
        assert_eq!(
            text("person_id", 0),
            Some(k.pseudonym(PseudonymKind::Person, "P00000001"))
        );
        assert_eq!(text("person_id", 1), None);
        assert_eq!(
            text("id_number", 0),
            Some(k.pseudonym(PseudonymKind::ResidentId, &valid_id()))
        );
        assert_eq!(
            text("name", 1),
            Some(k.pseudonym(PseudonymKind::Name, "李娜"))
        );
        assert_eq!(text("birth_month", 0).as_deref(), Some("2012-03"));
        assert_eq!(text("address_county", 0).as_deref(), Some("北京市朝阳区"));
        assert_eq!(text("address_county", 1), None);
        assert_eq!(view.num_rows(), 2);
    }

    #[test]
    fn delta_values_are_treated_by_their_entitys_table() {
        let k = key();
        let id = valid_id();
        let person =
            format!(r#"{{"person_id":"P00000001","id_number":"{id}","name":"张伟","age":9}}"#);
        let flag = r#"{"person_id":"P00000001","flag":"multi_enrollment","details":"{\"schools\":[\"A\",\"B\"]}"}"#.to_string();
        let schema = Arc::new(Schema::new(vec![
            Field::new("entity", DataType::Utf8, false),
            Field::new("person_id", DataType::Utf8, true),
            Field::new("key", DataType::Utf8, false),
            Field::new("values", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["person", "flag", "mystery"])),
                Arc::new(StringArray::from(vec![
                    "P00000001",
                    "P00000001",
                    "P00000001",
                ])),
                Arc::new(StringArray::from(vec![
                    "P00000001",
                    "P00000001|multi_enrollment",
                    "x",
                ])),
                Arc::new(StringArray::from(vec![person, flag, "{}".to_string()])),
            ],
        )
        .unwrap();
        let view = analyst_view("delta", &batch, &k).unwrap();
        assert_eq!(column_names(&view), ["entity", "person_id", "values"]);
        let values = view.column_by_name("values").unwrap().as_string::<i32>();
        assert!(
            !values.value(0).contains(&id)
                && !values.value(0).contains("张伟")
                && !values.value(0).contains("P0000")
        );
        assert!(values.value(0).contains("\"age\":9"), "{}", values.value(0));
        assert!(
            values.value(1).contains("multi_enrollment") && values.value(1).contains("schools"),
            "{}",
            values.value(1)
        );
        assert!(values.is_null(2));
    }

    #[test]
    fn a_kept_column_holding_an_id_stops_the_view() {
        let schema = Arc::new(Schema::new(vec![Field::new("notes", DataType::Utf8, true)]));
        let notes = format!("copied {} by hand", valid_id());
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec![notes]))]).unwrap();
        let err = analyst_view("records", &batch, &key()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PrivacyError::IdentifierLeak { .. }), "{msg}");
        assert!(
            !msg.contains(&valid_id()),
            "the error must not print the ID: {msg}"
        );
    }

    #[test]
    fn list_columns_are_pseudonymized_element_wise() {
        let k = key();
        let mut builder =
            arrow_array::builder::ListBuilder::new(arrow_array::builder::StringBuilder::new());
        builder.values().append_value("P00000001");
        builder.values().append_value("P00000002");
        builder.append(true);
        builder.append(false);
        let list: ArrayRef = Arc::new(builder.finish());
        let field = Field::new("merged_person_id", list.data_type().clone(), true);
        let out = apply(
            "delta",
            &field,
            &list,
            Treatment::Pseudonymize(PseudonymKind::Person),
            &k,
        )
        .unwrap()
        .unwrap();
        let out = out.as_list::<i32>();
        assert!(out.is_null(1));
        let first = out.value(0);
        let first = first.as_string::<i32>();
        assert_eq!(
            first.value(1),
            k.pseudonym(PseudonymKind::Person, "P00000002")
        );
    }

    #[test]
    fn columns_longer_than_a_chunk_keep_their_order() {
        let k = key();
        let n = 2 * CHUNK_ROWS + 17;
        let values: Vec<Option<String>> = (0..n)
            .map(|i| (i % 7 != 0).then(|| format!("P{i:08}")))
            .collect();
        let column: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let field = Field::new("person_id", DataType::Utf8, true);
        let out = apply(
            "records",
            &field,
            &column,
            Treatment::Pseudonymize(PseudonymKind::Person),
            &k,
        )
        .unwrap()
        .unwrap();
        let out = out.as_string::<i32>();
        for (i, v) in values.iter().enumerate() {
            let want = v.as_ref().map(|v| k.pseudonym(PseudonymKind::Person, v));
            assert_eq!(
                out.is_valid(i).then(|| out.value(i).to_string()),
                want,
                "row {i}"
            );
        }
    }

    /// Publish makes the view one row group at a time: the view of a slice
    /// must be the slice of the view, also for list columns (whose slices
    /// keep the whole table's items behind them) and repeated values.
    #[test]
    fn the_view_of_a_slice_is_the_slice_of_the_view() {
        use arrow_array::builder::ListBuilder;
        let n = 50;
        let mut lists = ListBuilder::new(StringBuilder::new());
        for i in 0..n {
            for j in 0..(i % 3) {
                lists
                    .values()
                    .append_value(format!("第{}小学", (i + j) % 7));
            }
            lists.append(i % 9 != 4);
        }
        let day = CivilDate::new(2012, 3, 5).unwrap().to_days();
        let batch = RecordBatch::try_from_iter([
            (
                "person_id",
                Arc::new(StringArray::from_iter(
                    (0..n).map(|i| (i % 6 != 1).then(|| format!("P{:08}", i / 2))),
                )) as ArrayRef,
            ),
            (
                "address",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("广东省广州市天河区体育西路{}号", i / 3)),
                )) as ArrayRef,
            ),
            (
                "birth_date",
                Arc::new(Date32Array::from_iter_values((0..n).map(|i| day + i / 4))) as ArrayRef,
            ),
            ("schools", Arc::new(lists.finish()) as ArrayRef),
        ])
        .unwrap();
        let k = key();
        let whole = analyst_view("persons", &batch, &k).unwrap();
        assert_eq!(whole.num_columns(), 4);
        for (offset, len) in [(0, 50), (0, 7), (7, 13), (20, 30), (49, 1), (10, 0)] {
            let part = analyst_view("persons", &batch.slice(offset, len), &k).unwrap();
            assert_eq!(part, whole.slice(offset, len), "rows {offset}+{len}");
        }
    }

    #[test]
    fn masking_and_type_errors() {
        let k = key();
        let ids: ArrayRef = Arc::new(StringArray::from(vec![valid_id()]));
        let field = Field::new("id_number", DataType::Utf8, true);
        let out = apply("records", &field, &ids, Treatment::MaskId, &k)
            .unwrap()
            .unwrap();
        assert_eq!(
            out.as_string::<i32>().value(0),
            format!("110105********{}", &valid_id()[14..])
        );
        let numbers: ArrayRef = Arc::new(UInt64Array::from(vec![1]));
        let field = Field::new("name", DataType::UInt64, true);
        let err = apply(
            "records",
            &field,
            &numbers,
            Treatment::Pseudonymize(PseudonymKind::Name),
            &k,
        )
        .unwrap_err();
        assert!(err.to_string().contains("expects Utf8"), "{err}");
    }

    /// A 100,000-student demo stopped on a delta row whose JSON held a
    /// person pseudonym with an ID-shaped run of digits in its hex.
    #[test]
    fn regression_pseudonym_hex_in_json_is_not_an_id() {
        let id = valid_id();
        let fake = format!("ps_ab{id}cdef01234567");
        assert_eq!(fake.len(), 35);
        assert!(
            find_resident_id(&fake).is_some(),
            "the fixture must look like an ID to the raw scan"
        );
        let json = format!(r#"{{"other_persons":["{fake}"],"age":9}}"#);
        assert!(find_resident_id(&without_pseudonyms(&json)).is_none());
        assert!(find_resident_id_outside_pseudonyms(&json).is_none());
        // A real ID next to a pseudonym is still found.
        let both = format!("{fake} {id}");
        assert!(find_resident_id(&without_pseudonyms(&both)).is_some());
        assert!(find_resident_id_outside_pseudonyms(&both).is_some());
        // The in-place scan agrees with the blanked copy around the edges:
        // an ID glued to a pseudonym, IDs inside longer runs, a prefix
        // without its hex, an X check character.
        let x_id = (0..1000)
            .filter_map(|s| {
                ResidentId::from_parts(
                    "110105",
                    aidlink_vocab::CivilDate::new(2011, 7, 9).unwrap(),
                    s,
                )
            })
            .map(|i| i.as_str().to_string())
            .find(|s| s.ends_with('X'))
            .unwrap();
        for text in [
            format!("{fake}{id}"),
            format!("{id}{fake}"),
            format!("12{id}34"),
            format!("ps_{id}"),
            format!("hh_0123{id}"),
            format!("{}{id}", &fake[..20]),
            format!("a{x_id}b"),
            format!("{fake}{fake}"),
            String::from("ps_"),
            String::new(),
        ] {
            assert_eq!(
                find_resident_id_outside_pseudonyms(&text).map(|i| i.as_str().to_string()),
                find_resident_id(&without_pseudonyms(&text)).map(|i| i.as_str().to_string()),
                "{text}"
            );
        }
        let schema = Arc::new(Schema::new(vec![Field::new(
            "evidence",
            DataType::Utf8,
            true,
        )]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec![json]))]).unwrap();
        assert!(analyst_view("flags", &batch, &key()).is_ok());
    }

    /// The column-wide shortcut never skips a column the scan would stop:
    /// any value holding an ID holds an aligned run of eight digits, where
    /// ever the value starts in the column's bytes.
    #[test]
    fn columns_without_eight_aligned_digits_hold_no_id() {
        let id = valid_id();
        for pad in 0..9 {
            let values = vec!["第一小学".to_string(), format!("{}{id}", "x".repeat(pad))];
            let strings = StringArray::from(values);
            assert!(text_may_hold_id(&strings, 0..2), "{pad}");
            // The ID's row alone, and in a slice.
            assert!(text_may_hold_id(&strings, 1..2), "{pad}");
            assert!(text_may_hold_id(&strings.slice(1, 1), 0..1), "{pad}");
        }
        // Bytes of neighbouring values count together (more scans, never
        // fewer): "a1234567" "2012-03b" "110105ps" "_x" has no digit word.
        let short = StringArray::from(vec!["a1234567", "2012-03", "b110105", "ps_x"]);
        assert!(!text_may_hold_id(&short, 0..4));
        let joined = StringArray::from(vec!["1234", "5678"]);
        assert!(text_may_hold_id(&joined, 0..2));
        let schema = Arc::new(Schema::new(vec![Field::new("notes", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(vec![
                "1234567".to_string(),
                format!("a{id}"),
            ]))],
        )
        .unwrap();
        assert!(analyst_view("records", &batch, &key()).is_err());
        assert!(analyst_view("records", &batch.slice(0, 1), &key()).is_ok());
        assert!(analyst_view("records", &batch.slice(1, 1), &key()).is_err());
    }

    /// A delta longer than one piece is rewritten in parallel chunks: the
    /// same rows as row-group-sized views, and a leak reported at its row.
    #[test]
    fn long_delta_values_keep_their_order_and_leak_rows() {
        let n = PARALLEL_MIN_ROWS + 5;
        let batch = |leak: Option<usize>| {
            let values: Vec<String> = (0..n)
                .map(|i| match leak {
                    Some(at) if at == i => {
                        format!(r#"{{"source":"{}","person_id":"P1"}}"#, valid_id())
                    }
                    _ => format!(r#"{{"source":"s{}","person_id":"P{:08}"}}"#, i % 3, i % 5),
                })
                .collect();
            RecordBatch::try_from_iter([
                (
                    "entity",
                    Arc::new(StringArray::from(vec!["link"; n])) as ArrayRef,
                ),
                ("values", Arc::new(StringArray::from(values)) as ArrayRef),
            ])
            .unwrap()
        };
        let k = key();
        let whole = analyst_view("delta", &batch(None), &k).unwrap();
        let half = n / 2;
        let first = analyst_view("delta", &batch(None).slice(0, half), &k).unwrap();
        let second = analyst_view("delta", &batch(None).slice(half, n - half), &k).unwrap();
        assert_eq!(whole.slice(0, half), first);
        assert_eq!(whole.slice(half, n - half), second);
        let err = analyst_view("delta", &batch(Some(n - 2)), &k).unwrap_err();
        match err {
            PrivacyError::IdentifierLeak { row, column, .. } => {
                assert_eq!((row, column.as_str()), (n - 1, "values"));
            }
            other => panic!("{other}"),
        }
    }

    /// The table of months by day answers every day as the calendar does,
    /// also days sharing a slot and days far from today.
    #[test]
    fn dates_share_month_slots_correctly() {
        let days: Vec<i32> = [
            0,
            1,
            4095,
            4096,
            4097,
            -1,
            -4096,
            -1_000_000,
            1_000_000,
            15000,
            15000 + 4096,
        ]
        .into_iter()
        .chain((0..3000).map(|i| 14000 + i * 7))
        .collect();
        let column: ArrayRef = Arc::new(Date32Array::from(days.clone()));
        let field = Field::new("birth_date", DataType::Date32, true);
        let out = apply("records", &field, &column, Treatment::YearMonth, &key())
            .unwrap()
            .unwrap();
        let out = out.as_string::<i32>();
        for (i, d) in days.iter().enumerate() {
            assert_eq!(out.value(i), crate::coarsen::year_month(*d), "{d}");
        }
    }

    #[test]
    fn finds_ids_inside_text_and_certificate_numbers() {
        let id = valid_id();
        assert_eq!(
            find_resident_id(&format!("证号{id}21")).map(|i| i.as_str().to_string()),
            Some(id.clone())
        );
        assert!(find_resident_id("ps_0123456789abcdef").is_none());
        // One digit off: check fails, so not a leak of a valid ID.
        let mut bad = id.into_bytes();
        bad[10] = if bad[10] == b'9' { b'8' } else { bad[10] + 1 };
        assert!(find_resident_id(std::str::from_utf8(&bad).unwrap()).is_none());
    }
}
