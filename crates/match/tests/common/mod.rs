//! Record tables built in code for the match tests: a row builder with the
//! record schema's columns, and valid resident IDs made from their parts.

#![allow(dead_code, clippy::unwrap_used)]

pub mod city;

use aidlink_vocab::schema::{self, record_schema};
use aidlink_vocab::{CivilDate, ResidentId};
use arrow_array::{ArrayRef, BooleanArray, Date32Array, RecordBatch, StringArray, UInt64Array};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One record: column name -> value; dates as `YYYY-MM-DD`.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub values: BTreeMap<String, String>,
}

impl Row {
    pub fn new(source: &str, row: u64) -> Row {
        let mut r = Row::default();
        r.values.insert(schema::SOURCE.into(), source.into());
        r.values.insert(schema::SOURCE_ROW.into(), row.to_string());
        r
    }

    pub fn set(mut self, col: &str, v: &str) -> Row {
        self.values.insert(col.into(), v.into());
        self
    }

    /// Sets the ID and the columns normalize derives from it.
    pub fn id(mut self, id: &str) -> Row {
        self.values.insert("id_number".into(), id.into());
        if let Ok(p) = ResidentId::parse(id) {
            self.values
                .insert(schema::ID_CHECK_OK.into(), p.check_ok.to_string());
            self.values
                .insert(schema::ID_AREA.into(), p.id.area_code().into());
            if let Some(b) = p.id.birth_date() {
                self.values
                    .insert(schema::ID_BIRTH_DATE.into(), b.to_string());
            }
            self.values
                .insert(schema::ID_GENDER.into(), p.id.gender().code().into());
        }
        self
    }
}

fn parse_date(s: &str) -> Option<i32> {
    let mut it = s.split('-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    CivilDate::new(y, m, d).map(CivilDate::to_days)
}

/// Builds a record table (no extra fields) from rows; derived agreement
/// columns are filled the way normalize fills them.
pub fn batch(rows: &[Row]) -> RecordBatch {
    batch_with(rows, &[])
}

/// Builds a record table with extra fields.
pub fn batch_with(rows: &[Row], extra: &[schema::FieldSpec]) -> RecordBatch {
    let schema = record_schema(extra);
    let mut rows = rows.to_vec();
    for r in &mut rows {
        let v = &mut r.values;
        if let (Some(a), Some(b)) = (
            v.get("birth_date").cloned(),
            v.get(schema::ID_BIRTH_DATE).cloned(),
        ) {
            v.insert(
                schema::BIRTH_MATCHES_ID.into(),
                (parse_date(&a) == parse_date(&b)).to_string(),
            );
        }
        if let (Some(a), Some(b)) = (v.get("gender").cloned(), v.get(schema::ID_GENDER).cloned()) {
            v.insert(schema::GENDER_MATCHES_ID.into(), (a == b).to_string());
        }
    }
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| {
            let get = |r: &Row| r.values.get(f.name()).cloned();
            let a: ArrayRef = match f.data_type() {
                arrow_schema::DataType::UInt64 => Arc::new(UInt64Array::from_iter_values(
                    rows.iter().map(|r| get(r).unwrap().parse::<u64>().unwrap()),
                )),
                arrow_schema::DataType::Date32 => Arc::new(Date32Array::from(
                    rows.iter()
                        .map(|r| get(r).and_then(|s| parse_date(&s)))
                        .collect::<Vec<_>>(),
                )),
                arrow_schema::DataType::Boolean => Arc::new(BooleanArray::from(
                    rows.iter()
                        .map(|r| get(r).map(|s| s == "true"))
                        .collect::<Vec<_>>(),
                )),
                arrow_schema::DataType::Float64 => Arc::new(arrow_array::Float64Array::from(
                    rows.iter()
                        .map(|r| get(r).and_then(|s| s.parse().ok()))
                        .collect::<Vec<Option<f64>>>(),
                )),
                _ => Arc::new(StringArray::from(rows.iter().map(get).collect::<Vec<_>>())),
            };
            a
        })
        .collect();
    RecordBatch::try_new(schema, cols).unwrap()
}

/// A valid ID from area, birth date and sequence.
pub fn valid_id(area: &str, y: i32, m: u32, d: u32, seq: u32) -> String {
    ResidentId::from_parts(area, CivilDate::new(y, m, d).unwrap(), seq)
        .unwrap()
        .as_str()
        .to_string()
}
