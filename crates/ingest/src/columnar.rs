//! Reads a Parquet file's mapped columns as text.
//!
//! Only the mapped columns are decoded (a projection), batch by batch.
//! String columns are taken as they are; numbers, booleans, dates and
//! timestamps are written as text the way the text formats would carry them
//! (whole floats without `.0`, dates `YYYY-MM-DD`), so that normalization
//! sees the same text whichever format a department chose. Empty strings are
//! null, as in the text formats. A Parquet file has no structural rejects:
//! every row is a data row.

use crate::error::IngestError;
use crate::excel::number_text;
use crate::header::{ColumnMap, map_columns};
use crate::reject::Reject;
use aidlink_config::SourceConfig;
use aidlink_vocab::CivilDate;
use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, UInt64Array};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// A Parquet file's mapped columns as text.
pub struct ParquetTable {
    /// The mapped fields and where they are.
    pub map: ColumnMap,
    /// `source_row` of each row.
    pub rows: UInt64Array,
    /// One text column per mapped field.
    pub columns: Vec<ArrayRef>,
    /// Always empty: kept for symmetry with the other readers.
    pub rejects: Vec<Reject>,
}

/// Reads the mapped columns of the Parquet file at `path`.
pub fn read_parquet(path: &Path, source: &SourceConfig) -> Result<ParquetTable, IngestError> {
    let pq = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let schema = builder.schema().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let map = map_columns(path, source, &names)?;
    // Decode each needed column once, even when two fields map to it.
    let mut needed: Vec<usize> = map.index.clone();
    needed.sort_unstable();
    needed.dedup();
    for &i in &needed {
        let field = schema.field(i);
        if !supported(field.data_type()) {
            return Err(IngestError::UnsupportedColumnType {
                path: path.to_path_buf(),
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
            });
        }
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), needed.iter().copied());
    let reader = builder.with_projection(mask).build().map_err(pq)?;
    let mut builders: Vec<StringBuilder> = map.index.iter().map(|_| StringBuilder::new()).collect();
    let mut n = 0u64;
    for batch in reader {
        let batch = batch.map_err(|source| IngestError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        for (builder, &file_col) in builders.iter_mut().zip(&map.index) {
            let k = needed.binary_search(&file_col).unwrap_or_default();
            append_text(builder, batch.column(k).as_ref());
        }
        n += batch.num_rows() as u64;
    }
    Ok(ParquetTable {
        map,
        rows: UInt64Array::from_iter_values(1..=n),
        columns: builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect(),
        rejects: Vec::new(),
    })
}

/// Whether [`append_text`] can turn a column of this type into text.
fn supported(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
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
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
    )
}

/// Appends a column's values as text; null and empty become null.
fn append_text(out: &mut StringBuilder, col: &dyn Array) {
    fn strings<'a>(out: &mut StringBuilder, values: impl Iterator<Item = Option<&'a str>>) {
        for v in values {
            out.append_option(v.filter(|s| !s.is_empty()));
        }
    }
    fn shown<T: std::fmt::Display>(
        out: &mut StringBuilder,
        values: impl Iterator<Item = Option<T>>,
    ) {
        for v in values {
            match v {
                Some(v) => out.append_value(v.to_string()),
                None => out.append_null(),
            }
        }
    }
    match col.data_type() {
        DataType::Utf8 => strings(out, col.as_string::<i32>().iter()),
        DataType::LargeUtf8 => strings(out, col.as_string::<i64>().iter()),
        DataType::Utf8View => strings(out, col.as_string_view().iter()),
        DataType::Boolean => shown(out, col.as_boolean().iter()),
        DataType::Int8 => shown(out, col.as_primitive::<Int8Type>().iter()),
        DataType::Int16 => shown(out, col.as_primitive::<Int16Type>().iter()),
        DataType::Int32 => shown(out, col.as_primitive::<Int32Type>().iter()),
        DataType::Int64 => shown(out, col.as_primitive::<Int64Type>().iter()),
        DataType::UInt8 => shown(out, col.as_primitive::<UInt8Type>().iter()),
        DataType::UInt16 => shown(out, col.as_primitive::<UInt16Type>().iter()),
        DataType::UInt32 => shown(out, col.as_primitive::<UInt32Type>().iter()),
        DataType::UInt64 => shown(out, col.as_primitive::<UInt64Type>().iter()),
        DataType::Float32 => shown(
            out,
            col.as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(|f| number_text(f64::from(f)))),
        ),
        DataType::Float64 => shown(
            out,
            col.as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.map(number_text)),
        ),
        DataType::Date32 => shown(
            out,
            col.as_primitive::<Date32Type>()
                .iter()
                .map(|v| v.map(CivilDate::from_days)),
        ),
        DataType::Date64 => shown(
            out,
            col.as_primitive::<Date64Type>()
                .iter()
                .map(|v| v.map(|ms| CivilDate::from_days(ms.div_euclid(86_400_000) as i32))),
        ),
        DataType::Timestamp(TimeUnit::Second, _) => {
            timestamps(out, col.as_primitive::<TimestampSecondType>(), 1)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            timestamps(out, col.as_primitive::<TimestampMillisecondType>(), 1_000)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => timestamps(
            out,
            col.as_primitive::<TimestampMicrosecondType>(),
            1_000_000,
        ),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => timestamps(
            out,
            col.as_primitive::<TimestampNanosecondType>(),
            1_000_000_000,
        ),
        // `supported` rejected every other type before reading.
        _ => {
            for _ in 0..col.len() {
                out.append_null();
            }
        }
    }
}

/// Appends timestamps counted in `1/per_second` seconds as ISO text.
fn timestamps<T: ArrowPrimitiveType<Native = i64>>(
    out: &mut StringBuilder,
    col: &PrimitiveArray<T>,
    per_second: i64,
) {
    for v in col.iter() {
        match v {
            Some(t) => out.append_value(timestamp_text(t.div_euclid(per_second))),
            None => out.append_null(),
        }
    }
}

/// Seconds since the Unix epoch as `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` when not midnight.
fn timestamp_text(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let date = CivilDate::from_days(days as i32);
    if rest == 0 {
        date.to_string()
    } else {
        format!(
            "{date}T{:02}:{:02}:{:02}",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_iso() {
        assert_eq!(timestamp_text(0), "1970-01-01");
        assert_eq!(timestamp_text(1_330_948_800 + 3661), "2012-03-05T13:01:01");
    }
}
