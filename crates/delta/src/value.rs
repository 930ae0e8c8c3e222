//! Rendering table cells as JSON values, for the change feed's `values`.
//!
//! A delta carries rows of several tables with different schemas in one
//! table, so each row's values are kept as one JSON object; this module turns
//! the Arrow types our tables use into JSON, in a form DuckDB and Polars read
//! back easily (dates as `YYYY-MM-DD` text, lists as arrays).

use crate::text::Sink;
use aidlink_vocab::CivilDate;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use serde_json::{Number, Value};
use std::fmt::Write;

/// Whether [`cell`] can render values of `data_type`.
pub(crate) fn supported(data_type: &DataType) -> bool {
    match data_type {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32 => true,
        DataType::List(f) | DataType::LargeList(f) => supported(f.data_type()),
        _ => false,
    }
}

fn float(v: f64) -> Value {
    // JSON has no NaN or infinity; they read as null.
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn list(items: ArrayRef) -> Value {
    Value::Array((0..items.len()).map(|i| cell(items.as_ref(), i)).collect())
}

/// The value of one cell; null for nulls and for types [`supported`] rejects
/// (callers check types first).
pub(crate) fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    macro_rules! prim {
        ($t:ty) => {
            array
                .as_primitive_opt::<$t>()
                .map(|a| Value::from(a.value(row)))
        };
    }
    let v = match array.data_type() {
        DataType::Boolean => array.as_boolean_opt().map(|a| Value::Bool(a.value(row))),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => array
            .as_primitive_opt::<Float32Type>()
            .map(|a| float(f64::from(a.value(row)))),
        DataType::Float64 => array
            .as_primitive_opt::<Float64Type>()
            .map(|a| float(a.value(row))),
        DataType::Utf8 => array
            .as_string_opt::<i32>()
            .map(|a| Value::from(a.value(row))),
        DataType::LargeUtf8 => array
            .as_string_opt::<i64>()
            .map(|a| Value::from(a.value(row))),
        DataType::Utf8View => array
            .as_string_view_opt()
            .map(|a| Value::from(a.value(row))),
        DataType::Date32 => array
            .as_primitive_opt::<arrow_array::types::Date32Type>()
            .map(|a| Value::from(CivilDate::from_days(a.value(row)).to_string())),
        DataType::List(_) => array.as_list_opt::<i32>().map(|a| list(a.value(row))),
        DataType::LargeList(_) => array.as_list_opt::<i64>().map(|a| list(a.value(row))),
        _ => None,
    };
    v.unwrap_or(Value::Null)
}

/// A key cell as plain text: strings as they are, other values as JSON.
pub(crate) fn key_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether two cells hold the same value, without building JSON for the
/// types our tables use (the diff compares millions of cells).
pub(crate) fn same(a: &dyn Array, ra: usize, b: &dyn Array, rb: usize) -> bool {
    match (a.is_null(ra), b.is_null(rb)) {
        (true, true) => return true,
        (true, false) | (false, true) => return false,
        (false, false) => {}
    }
    if a.data_type() != b.data_type() {
        return cell(a, ra) == cell(b, rb);
    }
    macro_rules! prim {
        ($t:ty) => {
            match (a.as_primitive_opt::<$t>(), b.as_primitive_opt::<$t>()) {
                (Some(x), Some(y)) => Some(x.value(ra) == y.value(rb)),
                _ => None,
            }
        };
    }
    let fast = match a.data_type() {
        DataType::Utf8 => match (a.as_string_opt::<i32>(), b.as_string_opt::<i32>()) {
            (Some(x), Some(y)) => Some(x.value(ra) == y.value(rb)),
            _ => None,
        },
        DataType::Boolean => match (a.as_boolean_opt(), b.as_boolean_opt()) {
            (Some(x), Some(y)) => Some(x.value(ra) == y.value(rb)),
            _ => None,
        },
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Date32 => prim!(arrow_array::types::Date32Type),
        // Floats compare as their JSON renders them, so NaN equals NaN
        // (both null) and the delta never reports a change it cannot show.
        DataType::Float64 => match (
            a.as_primitive_opt::<Float64Type>(),
            b.as_primitive_opt::<Float64Type>(),
        ) {
            (Some(x), Some(y)) => Some(float(x.value(ra)) == float(y.value(rb))),
            _ => None,
        },
        DataType::List(_) => match (a.as_list_opt::<i32>(), b.as_list_opt::<i32>()) {
            (Some(x), Some(y)) => {
                let (xo, yo) = (x.value_offsets(), y.value_offsets());
                let (xs, xe) = (xo[ra] as usize, xo[ra + 1] as usize);
                let (ys, ye) = (yo[rb] as usize, yo[rb + 1] as usize);
                let (xv, yv) = (x.values(), y.values());
                Some(
                    xe - xs == ye - ys
                        && (0..xe - xs).all(|i| same(xv.as_ref(), xs + i, yv.as_ref(), ys + i)),
                )
            }
            _ => None,
        },
        _ => None,
    };
    fast.unwrap_or_else(|| cell(a, ra) == cell(b, rb))
}

/// Appends the JSON of one cell to `out`, as [`cell`] renders it, without
/// building a JSON tree for text and lists of text.
pub(crate) fn write_cell(out: &mut String, array: &dyn Array, row: usize) {
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    match array.data_type() {
        DataType::Utf8 => {
            if let Some(a) = array.as_string_opt::<i32>() {
                push_json_str(out, a.value(row));
                return;
            }
        }
        DataType::List(_) => {
            if let Some(a) = array.as_list_opt::<i32>() {
                let offsets = a.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                let values = a.values();
                out.push('[');
                for i in start..end {
                    if i > start {
                        out.push(',');
                    }
                    write_cell(out, values.as_ref(), i);
                }
                out.push(']');
                return;
            }
        }
        DataType::Boolean => {
            if let Some(a) = array.as_boolean_opt() {
                out.push_str(if a.value(row) { "true" } else { "false" });
                return;
            }
        }
        DataType::Date32 => {
            if let Some(a) = array.as_primitive_opt::<arrow_array::types::Date32Type>() {
                // A date's text is digits and dashes: nothing to escape.
                let _ = write!(out, "\"{}\"", CivilDate::from_days(a.value(row)));
                return;
            }
        }
        _ => {}
    }
    // Integers print as JSON does; writing into a String cannot fail.
    macro_rules! int {
        ($t:ty) => {
            if let Some(a) = array.as_primitive_opt::<$t>() {
                let _ = write!(out, "{}", a.value(row));
                return;
            }
        };
    }
    match array.data_type() {
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        _ => {}
    }
    out.push_str(&cell(array, row).to_string());
}

/// Whether byte `b` is escaped in a JSON string.
#[inline]
fn escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The length of `s` as a JSON string, as [`push_json_str`] writes it.
#[inline]
pub(crate) fn json_str_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    // Counted without an early exit, so the loop runs on whole words.
    let special = bytes
        .iter()
        .fold(0usize, |n, &b| n + usize::from(escaped(b)));
    if special == 0 {
        return bytes.len() + 2;
    }
    let extra: usize = bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            b if b < 0x20 => 5,
            _ => 0,
        })
        .sum();
    bytes.len() + 2 + extra
}

/// Appends `s` as a JSON string.
#[inline]
pub(crate) fn push_json_str<S: Sink>(out: &mut S, s: &str) {
    if out.counting() {
        out.skip(json_str_len(s));
        return;
    }
    out.push_ascii(b'"');
    if !s.bytes().fold(false, |any, b| any | escaped(b)) {
        // Most texts need no escape: one copy.
        out.push_str(s);
        out.push_ascii(b'"');
        return;
    }
    // Only ASCII bytes need escaping (no byte of a multi-byte character is
    // below 0x80), so runs of other bytes are copied whole, split at
    // character boundaries only.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        if !escaped(b) {
            continue;
        }
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push_ascii(HEX[usize::from(b >> 4)]);
            out.push_ascii(HEX[usize::from(b & 15)]);
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push_ascii(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{
        BooleanArray, Date32Array, Float64Array, Int32Array, StringArray, UInt64Array,
    };
    use std::sync::Arc;

    #[test]
    fn renders_the_types_our_tables_use() {
        let d = Date32Array::from(vec![Some(0), None]);
        assert_eq!(cell(&d, 0), Value::from("1970-01-01"));
        assert_eq!(cell(&d, 1), Value::Null);
        let f = Float64Array::from(vec![1.5, f64::NAN]);
        assert_eq!(cell(&f, 0).to_string(), "1.5");
        assert_eq!(cell(&f, 1), Value::Null);
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("a");
        b.values().append_value("b");
        b.append(true);
        let l = b.finish();
        assert_eq!(cell(&l, 0).to_string(), r#"["a","b"]"#);
        assert_eq!(key_text(&cell(&StringArray::from(vec!["P1"]), 0)), "P1");
    }

    #[test]
    fn fast_paths_agree_with_json() {
        let s = StringArray::from(vec![Some("a\"b\\c\n\u{1}\u{8}é"), None, Some("x")]);
        for row in 0..3 {
            let mut out = String::new();
            write_cell(&mut out, &s, row);
            assert_eq!(out, cell(&s, row).to_string());
        }
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("a");
        b.append(true);
        b.values().append_value("a");
        b.append(true);
        b.values().append_value("b");
        b.append(true);
        let l = b.finish();
        assert!(same(&l, 0, &l, 1));
        assert!(!same(&l, 0, &l, 2));
        assert!(same(&s, 1, &s, 1) && !same(&s, 0, &s, 1));
        let typed: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            Arc::new(Date32Array::from(vec![Some(0), Some(-800_000), None])),
            Arc::new(Int32Array::from(vec![Some(-7), Some(i32::MAX), None])),
            Arc::new(UInt64Array::from(vec![Some(0), Some(u64::MAX), None])),
            Arc::new(Float64Array::from(vec![Some(1e21), Some(0.1), None])),
        ];
        for array in &typed {
            for row in 0..3 {
                let mut out = String::new();
                write_cell(&mut out, array.as_ref(), row);
                assert_eq!(out, cell(array.as_ref(), row).to_string());
            }
        }
        let f = Float64Array::from(vec![f64::NAN, f64::NAN, 1.0]);
        assert!(same(&f, 0, &f, 1) && !same(&f, 0, &f, 2));
    }
}
