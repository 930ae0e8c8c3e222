//! Table columns downcast once, for comparing and rendering millions of cells.
//!
//! A diff compares every column of every row present in both periods, and a
//! first period renders every cell as JSON. Asking each cell for its type
//! (a downcast per cell) costs as much as the comparison itself, so each
//! column is looked at once and kept as a [`Col`] of its concrete type. The
//! comparisons and texts are exactly those of [`crate::value::same`] and
//! [`crate::value::write_cell`], which remain the reference for every other
//! type (and which the tests compare against).

use crate::text::Sink;
use crate::value::{json_str_len, push_json_str, same, write_cell};
use aidlink_vocab::CivilDate;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, ListArray, StringArray,
    UInt32Array, UInt64Array,
};
use arrow_schema::DataType;
use serde_json::ser::Formatter;
use std::fmt::Write;

/// One column of a table, of its concrete type.
#[derive(Clone, Copy)]
pub(crate) enum Col<'a> {
    Utf8(&'a StringArray),
    Bool(&'a BooleanArray),
    Int32(&'a Int32Array),
    Int64(&'a Int64Array),
    UInt32(&'a UInt32Array),
    UInt64(&'a UInt64Array),
    Date32(&'a Date32Array),
    Float64(&'a Float64Array),
    /// A list of text: the list and its items.
    Utf8List(&'a ListArray, &'a StringArray),
    /// Any other type, handled cell by cell.
    Other(&'a dyn Array),
}

impl<'a> Col<'a> {
    /// The column as its concrete type.
    pub(crate) fn new(array: &'a dyn Array) -> Col<'a> {
        let typed = match array.data_type() {
            DataType::Utf8 => array.as_string_opt::<i32>().map(Col::Utf8),
            DataType::Boolean => array.as_boolean_opt().map(Col::Bool),
            DataType::Int32 => array.as_primitive_opt::<Int32Type>().map(Col::Int32),
            DataType::Int64 => array.as_primitive_opt::<Int64Type>().map(Col::Int64),
            DataType::UInt32 => array.as_primitive_opt::<UInt32Type>().map(Col::UInt32),
            DataType::UInt64 => array.as_primitive_opt::<UInt64Type>().map(Col::UInt64),
            DataType::Date32 => array.as_primitive_opt::<Date32Type>().map(Col::Date32),
            DataType::Float64 => array.as_primitive_opt::<Float64Type>().map(Col::Float64),
            DataType::List(_) => array.as_list_opt::<i32>().and_then(|l| {
                l.values()
                    .as_string_opt::<i32>()
                    .map(|items| Col::Utf8List(l, items))
            }),
            _ => None,
        };
        typed.unwrap_or(Col::Other(array))
    }

    fn array(&self) -> &'a dyn Array {
        match *self {
            Col::Utf8(a) => a,
            Col::Bool(a) => a,
            Col::Int32(a) => a,
            Col::Int64(a) => a,
            Col::UInt32(a) => a,
            Col::UInt64(a) => a,
            Col::Date32(a) => a,
            Col::Float64(a) => a,
            Col::Utf8List(a, _) => a,
            Col::Other(a) => a,
        }
    }

    pub(crate) fn is_null(&self, row: usize) -> bool {
        self.array().is_null(row)
    }

    /// Appends the JSON of one cell, as [`write_cell`] writes it. The null
    /// check is made on the concrete array (no call through `dyn Array`):
    /// a first period renders some forty million cells. While the sink is
    /// only counting, cells whose length is known without rendering them
    /// are skipped by their length.
    #[inline]
    pub(crate) fn write<S: Sink>(&self, out: &mut S, row: usize) {
        let counting = out.counting();
        match *self {
            Col::Utf8(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_json_str(out, a.value(row)),
            },
            Col::Bool(a) => out.push_str(match (a.is_null(row), a.value(row)) {
                (true, _) => "null",
                (false, true) => "true",
                (false, false) => "false",
            }),
            Col::Int32(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_i64(out, i64::from(a.value(row))),
            },
            Col::Int64(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_i64(out, a.value(row)),
            },
            Col::UInt32(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_u64(out, u64::from(a.value(row))),
            },
            Col::UInt64(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_u64(out, a.value(row)),
            },
            Col::Date32(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_date(out, a.value(row)),
            },
            Col::Float64(a) => match a.is_null(row) {
                true => out.push_str("null"),
                false => push_float(out, a.value(row)),
            },
            Col::Utf8List(l, items) => {
                if l.is_null(row) {
                    out.push_str("null");
                    return;
                }
                let offsets = l.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                if counting {
                    // Brackets, and a comma between items.
                    let mut len = 2 + (end - start).saturating_sub(1);
                    for i in start..end {
                        len += match items.is_null(i) {
                            true => 4,
                            false => json_str_len(items.value(i)),
                        };
                    }
                    out.skip(len);
                    return;
                }
                out.push_ascii(b'[');
                for i in start..end {
                    if i > start {
                        out.push_ascii(b',');
                    }
                    if items.is_null(i) {
                        out.push_str("null");
                    } else {
                        push_json_str(out, items.value(i));
                    }
                }
                out.push_ascii(b']');
            }
            Col::Other(a) => {
                // Types our tables do not use: rendered by the reference.
                let mut text = String::new();
                write_cell(&mut text, a, row);
                out.push_str(&text);
            }
        }
    }
}

impl Col<'_> {
    /// The bytes [`Col::write`] writes for rows `start..end` together, a
    /// column at a time: text is counted over the rows' bytes at once
    /// rather than a string at a time. `None` for a type counted row by row.
    pub(crate) fn json_len_range(&self, start: usize, end: usize) -> Option<usize> {
        let rows = end - start;
        let nulls_in = |a: &dyn Array| {
            a.logical_nulls()
                .map_or(0, |n| n.slice(start, rows).null_count())
        };
        let each = |f: &dyn Fn(usize) -> usize| (start..end).map(f).sum::<usize>();
        let len = match *self {
            Col::Utf8(a) => match nulls_in(a) {
                0 => {
                    let o = a.value_offsets();
                    let bytes = &a.value_data()[o[start] as usize..o[end] as usize];
                    bytes.len() + 2 * rows + escapes(bytes)
                }
                _ => each(&|r| match a.is_null(r) {
                    true => 4,
                    false => json_str_len(a.value(r)),
                }),
            },
            Col::Bool(a) => each(&|r| match (a.is_null(r), a.value(r)) {
                (false, false) => 5,
                _ => 4,
            }),
            Col::Int32(a) => each(&|r| match a.is_null(r) {
                true => 4,
                false => i64_len(i64::from(a.value(r))),
            }),
            Col::Int64(a) => each(&|r| match a.is_null(r) {
                true => 4,
                false => i64_len(a.value(r)),
            }),
            Col::UInt32(a) => each(&|r| match a.is_null(r) {
                true => 4,
                false => u64_len(u64::from(a.value(r))),
            }),
            Col::UInt64(a) => each(&|r| match a.is_null(r) {
                true => 4,
                false => u64_len(a.value(r)),
            }),
            Col::Date32(a) => {
                let mut len = 0;
                for r in start..end {
                    len += match (a.is_null(r), FOUR_DIGIT_YEARS.contains(&a.value(r))) {
                        (true, _) => 4,
                        (false, true) => 12,
                        (false, false) => return None,
                    };
                }
                len
            }
            Col::Float64(a) => {
                let mut out = crate::text::Out::counting();
                for r in start..end {
                    match a.is_null(r) {
                        true => out.push_str("null"),
                        false => push_float(&mut out, a.value(r)),
                    }
                }
                out.counted()
            }
            Col::Utf8List(l, items) => {
                if nulls_in(l) > 0 {
                    return None;
                }
                let o = l.value_offsets();
                let (first, last) = (o[start] as usize, o[end] as usize);
                let item_nulls = items
                    .logical_nulls()
                    .map_or(0, |n| n.slice(first, last - first).null_count());
                if item_nulls > 0 {
                    return None;
                }
                let io = items.value_offsets();
                let bytes = &items.value_data()[io[first] as usize..io[last] as usize];
                let filled = (start..end).filter(|&r| o[r + 1] > o[r]).count();
                let count = last - first;
                // Brackets per row, quotes per item, commas between items.
                2 * rows + bytes.len() + 2 * count + escapes(bytes) + (count - filled)
            }
            Col::Other(_) => return None,
        };
        Some(len)
    }
}

/// The bytes escaping adds to texts whose bytes are `bytes` (escapes never
/// span two texts, so texts laid end to end count as each alone).
fn escapes(bytes: &[u8]) -> usize {
    let special = bytes.iter().fold(0usize, |n, &b| {
        n + usize::from(b < 0x20 || b == b'"' || b == b'\\')
    });
    if special == 0 {
        return 0;
    }
    bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            b if b < 0x20 => 5,
            _ => 0,
        })
        .sum()
}

/// Digits of `v`.
fn u64_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Digits of `v`, and its sign.
fn i64_len(v: i64) -> usize {
    usize::from(v < 0) + u64_len(v.unsigned_abs())
}

/// Whether two cells hold the same value, as [`same`] decides.
pub(crate) fn same_cell(a: &Col, ra: usize, b: &Col, rb: usize) -> bool {
    match (a.is_null(ra), b.is_null(rb)) {
        (true, true) => return true,
        (true, false) | (false, true) => return false,
        (false, false) => {}
    }
    match (*a, *b) {
        (Col::Utf8(x), Col::Utf8(y)) => x.value(ra) == y.value(rb),
        (Col::Bool(x), Col::Bool(y)) => x.value(ra) == y.value(rb),
        (Col::Int32(x), Col::Int32(y)) => x.value(ra) == y.value(rb),
        (Col::Int64(x), Col::Int64(y)) => x.value(ra) == y.value(rb),
        (Col::UInt64(x), Col::UInt64(y)) => x.value(ra) == y.value(rb),
        (Col::Date32(x), Col::Date32(y)) => x.value(ra) == y.value(rb),
        (Col::Float64(x), Col::Float64(y)) => same_float(x.value(ra), y.value(rb)),
        (Col::Utf8List(x, xi), Col::Utf8List(y, yi)) if x.data_type() == y.data_type() => {
            same_texts(x, xi, ra, y, yi, rb)
        }
        _ => same(a.array(), ra, b.array(), rb),
    }
}

/// Marks, for each pair `(a row, b row)` of `pairs`, bit `bit` of its mask
/// when the two cells differ ([`same_cell`] false). Column by column, with
/// the types resolved once per column rather than per cell, since a diff
/// compares every column of millions of rows.
pub(crate) fn mark_differing(
    a: &Col,
    b: &Col,
    pairs: &[(usize, usize)],
    masks: &mut [u64],
    bit: u32,
) {
    let flag = 1u64 << bit;
    fn run(
        pairs: &[(usize, usize)],
        masks: &mut [u64],
        flag: u64,
        differs: impl Fn(usize, usize) -> bool,
    ) {
        for (&(ra, rb), m) in pairs.iter().zip(masks.iter_mut()) {
            if differs(ra, rb) {
                *m |= flag;
            }
        }
    }
    // Nulls first: a null and a value differ, two nulls are the same.
    macro_rules! typed {
        ($x:expr, $y:expr, $eq:expr) => {{
            let (x, y) = ($x, $y);
            if x.null_count() == 0 && y.null_count() == 0 {
                run(pairs, masks, flag, |ra, rb| !$eq(x, ra, y, rb))
            } else {
                run(pairs, masks, flag, |ra, rb| {
                    match (x.is_null(ra), y.is_null(rb)) {
                        (true, true) => false,
                        (false, false) => !$eq(x, ra, y, rb),
                        _ => true,
                    }
                })
            }
        }};
    }
    match (*a, *b) {
        (Col::Utf8(x), Col::Utf8(y)) => {
            typed!(x, y, |x: &StringArray, ra, y: &StringArray, rb| x.value(ra)
                == y.value(rb))
        }
        (Col::Bool(x), Col::Bool(y)) => {
            typed!(x, y, |x: &BooleanArray, ra, y: &BooleanArray, rb| x
                .value(ra)
                == y.value(rb))
        }
        (Col::Int32(x), Col::Int32(y)) => {
            typed!(x, y, |x: &Int32Array, ra, y: &Int32Array, rb| x.value(ra)
                == y.value(rb))
        }
        (Col::UInt64(x), Col::UInt64(y)) => {
            typed!(x, y, |x: &UInt64Array, ra, y: &UInt64Array, rb| x.value(ra)
                == y.value(rb))
        }
        (Col::Date32(x), Col::Date32(y)) => {
            typed!(x, y, |x: &Date32Array, ra, y: &Date32Array, rb| x.value(ra)
                == y.value(rb))
        }
        (Col::Float64(x), Col::Float64(y)) => {
            typed!(x, y, |x: &Float64Array, ra, y: &Float64Array, rb| {
                same_float(x.value(ra), y.value(rb))
            })
        }
        (Col::Utf8List(x, xi), Col::Utf8List(y, yi)) if x.data_type() == y.data_type() => {
            typed!(x, y, |x: &ListArray, ra, y: &ListArray, rb| same_texts(
                x, xi, ra, y, yi, rb
            ))
        }
        _ => run(pairs, masks, flag, |ra, rb| !same_cell(a, ra, b, rb)),
    }
}

/// Floats compare as their JSON renders them, so NaN equals NaN (both
/// null) and the delta never reports a change it cannot show.
fn same_float(u: f64, v: f64) -> bool {
    match (u.is_finite(), v.is_finite()) {
        (true, true) => u == v,
        (false, false) => true,
        _ => false,
    }
}

/// Whether two lists of text (not null) hold the same items.
fn same_texts(
    x: &ListArray,
    xi: &StringArray,
    ra: usize,
    y: &ListArray,
    yi: &StringArray,
    rb: usize,
) -> bool {
    let (xo, yo) = (x.value_offsets(), y.value_offsets());
    let (xs, xe) = (xo[ra] as usize, xo[ra + 1] as usize);
    let (ys, ye) = (yo[rb] as usize, yo[rb + 1] as usize);
    xe - xs == ye - ys
        && (0..xe - xs).all(|i| match (xi.is_null(xs + i), yi.is_null(ys + i)) {
            (false, false) => xi.value(xs + i) == yi.value(ys + i),
            (nx, ny) => nx && ny,
        })
}

/// Appends an unsigned integer's decimal text.
#[inline]
fn push_u64<S: Sink>(out: &mut S, mut v: u64) {
    if out.counting() {
        out.skip(u64_len(v));
        return;
    }
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.push_ascii_bytes(&buf[at..]);
}

/// Appends a signed integer's decimal text.
#[inline]
fn push_i64<S: Sink>(out: &mut S, v: i64) {
    if v < 0 {
        out.push_ascii(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Day numbers of 0000-01-01 and 9999-12-31: dates between them are
/// written as `"YYYY-MM-DD"`, twelve bytes with the quotes.
const FOUR_DIGIT_YEARS: std::ops::RangeInclusive<i32> = -719_528..=2_932_896;

/// Appends a date as a JSON string, `"YYYY-MM-DD"` as `CivilDate` shows it.
#[inline]
fn push_date<S: Sink>(out: &mut S, days: i32) {
    let four_digits = FOUR_DIGIT_YEARS.contains(&days);
    if four_digits && out.counting() {
        out.skip(12);
        return;
    }
    let d = CivilDate::from_days(days);
    match u32::try_from(d.year) {
        Ok(year) if four_digits && year <= 9999 => {
            let digit = |v: u32| b'0' + (v % 10) as u8;
            out.push_ascii_bytes(&[
                b'"',
                digit(year / 1000),
                digit(year / 100),
                digit(year / 10),
                digit(year),
                b'-',
                digit(d.month / 10),
                digit(d.month),
                b'-',
                digit(d.day / 10),
                digit(d.day),
                b'"',
            ]);
        }
        // Years outside 0..=9999 as `CivilDate`'s own text shows them; a
        // date's text is digits and dashes, nothing to escape.
        _ => {
            let mut text = String::with_capacity(16);
            let _ = write!(text, "\"{d}\"");
            out.push_str(&text);
        }
    }
}

/// Appends a float as serde_json writes it: its shortest text, or `null`
/// for NaN and infinities (JSON has neither).
pub(crate) fn push_float<S: Sink>(out: &mut S, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    // The shortest text of a finite f64 is at most 24 bytes.
    let mut buf = [0u8; 40];
    let mut cursor: &mut [u8] = &mut buf;
    let written = serde_json::ser::CompactFormatter
        .write_f64(&mut cursor, v)
        .ok()
        .map(|()| 40 - cursor.len());
    match written {
        // The formatter writes digits, a sign, a point and an exponent.
        Some(n) => out.push_ascii_bytes(&buf[..n]),
        None => out.push_str(&serde_json::Value::from(v).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::cell;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{ArrayRef, Float32Array, Int8Array};
    use std::sync::Arc;

    fn columns() -> Vec<ArrayRef> {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("a\"");
        b.values().append_null();
        b.append(true);
        b.append(false);
        b.values().append_value("é\n");
        b.append(true);
        b.append(true);
        vec![
            Arc::new(StringArray::from(vec![
                Some("a\"b\\c\n\u{1}\u{8}é"),
                None,
                Some("x"),
                Some("x"),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
            ])),
            Arc::new(Int32Array::from(vec![
                Some(-7),
                Some(i32::MAX),
                None,
                Some(-7),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(-7),
                Some(i64::MIN),
                None,
                Some(0),
            ])),
            Arc::new(UInt32Array::from(vec![
                Some(0),
                Some(u32::MAX),
                None,
                Some(0),
            ])),
            Arc::new(UInt64Array::from(vec![
                Some(0),
                Some(u64::MAX),
                None,
                Some(1),
            ])),
            Arc::new(Date32Array::from(vec![
                Some(0),
                Some(-800_000),
                None,
                Some(3_000_000),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(1e21),
                Some(0.1),
                Some(f64::NAN),
                Some(f64::INFINITY),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(500.0),
                Some(-0.0),
                None,
                Some(1e-7),
            ])),
            Arc::new(Float32Array::from(vec![
                Some(1.5),
                None,
                Some(0.1),
                Some(2.0),
            ])),
            Arc::new(Int8Array::from(vec![Some(1), None, Some(-1), Some(1)])),
            Arc::new(b.finish()),
        ]
    }

    #[test]
    fn typed_columns_render_as_the_reference_does() {
        for array in columns() {
            let col = Col::new(array.as_ref());
            for row in 0..array.len() {
                let mut typed = String::new();
                col.write(&mut typed, row);
                let mut reference = String::new();
                write_cell(&mut reference, array.as_ref(), row);
                assert_eq!(typed, reference, "{} row {row}", array.data_type());
                assert_eq!(typed, cell(array.as_ref(), row).to_string());
            }
        }
    }

    #[test]
    fn four_digit_years_are_the_days_of_years_0_to_9999() {
        let day = |year, month, day| CivilDate { year, month, day }.to_days();
        assert_eq!(*FOUR_DIGIT_YEARS.start(), day(0, 1, 1));
        assert_eq!(*FOUR_DIGIT_YEARS.end(), day(9999, 12, 31));
        // Both ends and one day beyond each render as the reference does.
        let ends = [
            FOUR_DIGIT_YEARS.start() - 1,
            *FOUR_DIGIT_YEARS.start(),
            *FOUR_DIGIT_YEARS.end(),
            FOUR_DIGIT_YEARS.end() + 1,
        ];
        let dates = Date32Array::from(ends.to_vec());
        for row in 0..ends.len() {
            let (mut typed, mut reference) = (String::new(), String::new());
            Col::new(&dates).write(&mut typed, row);
            write_cell(&mut reference, &dates, row);
            assert_eq!(typed, reference);
        }
    }

    #[test]
    fn counted_lengths_are_the_lengths_written() {
        for array in columns() {
            let col = Col::new(array.as_ref());
            for row in 0..array.len() {
                let mut text = String::new();
                col.write(&mut text, row);
                let mut out = crate::text::Out::counting();
                col.write(&mut out, row);
                assert_eq!(out.len(), text.len(), "{} row {row}", array.data_type());
            }
        }
    }

    #[test]
    fn lengths_of_row_ranges_are_the_lengths_written() {
        for array in columns() {
            let col = Col::new(array.as_ref());
            for start in 0..array.len() {
                for end in start..=array.len() {
                    let mut text = String::new();
                    (start..end).for_each(|row| col.write(&mut text, row));
                    if let Some(len) = col.json_len_range(start, end) {
                        assert_eq!(len, text.len(), "{} rows {start}..{end}", array.data_type());
                    }
                }
            }
        }
    }

    #[test]
    fn columns_marked_as_differing_are_the_cells_that_differ() {
        let all = columns();
        for a in &all {
            for b in &all {
                let (ca, cb) = (Col::new(a.as_ref()), Col::new(b.as_ref()));
                let pairs: Vec<(usize, usize)> = (0..a.len())
                    .flat_map(|ra| (0..b.len()).map(move |rb| (ra, rb)))
                    .collect();
                let mut masks = vec![0u64; pairs.len()];
                mark_differing(&ca, &cb, &pairs, &mut masks, 3);
                for (&(ra, rb), m) in pairs.iter().zip(&masks) {
                    assert_eq!(*m == 8, !same(a.as_ref(), ra, b.as_ref(), rb));
                }
            }
        }
    }

    #[test]
    fn typed_columns_compare_as_the_reference_does() {
        let all = columns();
        for a in &all {
            for b in &all {
                let (ca, cb) = (Col::new(a.as_ref()), Col::new(b.as_ref()));
                for ra in 0..a.len() {
                    for rb in 0..b.len() {
                        assert_eq!(
                            same_cell(&ca, ra, &cb, rb),
                            same(a.as_ref(), ra, b.as_ref(), rb),
                            "{} row {ra} against {} row {rb}",
                            a.data_type(),
                            b.data_type()
                        );
                    }
                }
            }
        }
    }
}
