//! Rendering table cells as JSON values, for the change feed's `values`.
//!
//! A delta carries rows of several tables with different schemas in one
//! table, so each row's values are kept as one JSON object; this module turns
//! the Arrow types our tables use into JSON, in a form DuckDB and Polars read
//! back easily (dates as `YYYY-MM-DD` text, lists as arrays).

use aidlink_vocab::CivilDate;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use serde_json::{Number, Value};

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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{Date32Array, Float64Array, StringArray};

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
}
