//! The Arrow schemas of the tables that move between stages.
//!
//! * the **raw table** (ingest -> normalize): `source_row` plus one `Utf8`
//!   column per mapped field, holding the text exactly as the file had it;
//! * the **record table** (normalize -> match -> flag -> publish): one row per
//!   accepted input row, typed and normalized, built by [`record_schema`];
//! * the **rejects table**: every row that was not accepted, with its reason.
//!
//! Column names are a contract with analysts (see `docs/schema.md`).

use crate::field::{Field, FieldKind};
use arrow_schema::{DataType, Field as ArrowField, Schema};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Name of the source column (the config's name for the source).
pub const SOURCE: &str = "source";
/// 1-based data row number in the source file, header excluded.
pub const SOURCE_ROW: &str = "source_row";
/// Semicolon-separated codes of the normalization rules that changed a value.
pub const NOTES: &str = "notes";
/// Whether the record's resident ID passes the GB 11643 check.
pub const ID_CHECK_OK: &str = "id_check_ok";
/// Area code embedded in the resident ID.
pub const ID_AREA: &str = "id_area";
/// Birth date embedded in the resident ID.
pub const ID_BIRTH_DATE: &str = "id_birth_date";
/// Gender embedded in the resident ID.
pub const ID_GENDER: &str = "id_gender";
/// Whether the recorded birth date agrees with the ID (null when either is missing).
pub const BIRTH_MATCHES_ID: &str = "birth_matches_id";
/// Whether the recorded gender agrees with the ID (null when either is missing).
pub const GENDER_MATCHES_ID: &str = "gender_matches_id";
/// Raw text of a rejected row.
pub const RAW: &str = "raw";
/// Machine-readable reason code of a reject.
pub const REASON: &str = "reason";
/// Human-readable message of a reject.
pub const MESSAGE: &str = "message";
/// Field a reject's reason concerns, when there is one.
pub const REJECT_FIELD: &str = "field";

/// A field as the record table carries it: a canonical field, or an extra
/// field that a config declares for a new department.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Column name.
    pub name: String,
    /// How it is normalized and compared.
    pub kind: FieldKind,
}

impl FieldSpec {
    /// Every canonical field, in schema order.
    pub fn canonical() -> Vec<FieldSpec> {
        Field::ALL
            .iter()
            .map(|f| FieldSpec {
                name: f.name().to_string(),
                kind: f.kind(),
            })
            .collect()
    }
}

/// The name of the pinyin key column of a name field (`name` -> `name_pinyin`).
pub fn pinyin_column(name_field: &str) -> String {
    format!("{name_field}_pinyin")
}

/// The Arrow type a field of `kind` has in the record table.
pub fn data_type(kind: FieldKind) -> DataType {
    match kind {
        FieldKind::Date => DataType::Date32,
        FieldKind::Amount => DataType::Float64,
        _ => DataType::Utf8,
    }
}

/// Schema of the raw table for the given mapped field names.
pub fn raw_schema<'a>(fields: impl IntoIterator<Item = &'a str>) -> Arc<Schema> {
    let mut cols = vec![ArrowField::new(SOURCE_ROW, DataType::UInt64, false)];
    cols.extend(
        fields
            .into_iter()
            .map(|f| ArrowField::new(f, DataType::Utf8, true)),
    );
    Arc::new(Schema::new(cols))
}

/// Schema of the record table: `source`, `source_row`, every field (canonical
/// first, then `extra`), the derived ID columns and `notes`. A name field is
/// followed by its pinyin key column.
pub fn record_schema(extra: &[FieldSpec]) -> Arc<Schema> {
    let mut cols = vec![
        ArrowField::new(SOURCE, DataType::Utf8, false),
        ArrowField::new(SOURCE_ROW, DataType::UInt64, false),
    ];
    for spec in FieldSpec::canonical().iter().chain(extra) {
        cols.push(ArrowField::new(&spec.name, data_type(spec.kind), true));
        if spec.kind == FieldKind::ChineseName {
            cols.push(ArrowField::new(
                pinyin_column(&spec.name),
                DataType::Utf8,
                true,
            ));
        }
        if spec.name == Field::IdNumber.name() {
            cols.push(ArrowField::new(ID_CHECK_OK, DataType::Boolean, true));
            cols.push(ArrowField::new(ID_AREA, DataType::Utf8, true));
            cols.push(ArrowField::new(ID_BIRTH_DATE, DataType::Date32, true));
            cols.push(ArrowField::new(ID_GENDER, DataType::Utf8, true));
            cols.push(ArrowField::new(BIRTH_MATCHES_ID, DataType::Boolean, true));
            cols.push(ArrowField::new(GENDER_MATCHES_ID, DataType::Boolean, true));
        }
    }
    cols.push(ArrowField::new(NOTES, DataType::Utf8, true));
    Arc::new(Schema::new(cols))
}

/// Schema of the rejects table.
pub fn rejects_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        ArrowField::new(SOURCE, DataType::Utf8, false),
        ArrowField::new(SOURCE_ROW, DataType::UInt64, false),
        ArrowField::new(RAW, DataType::Utf8, false),
        ArrowField::new(REASON, DataType::Utf8, false),
        ArrowField::new(MESSAGE, DataType::Utf8, false),
        ArrowField::new(REJECT_FIELD, DataType::Utf8, true),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_schema_has_derived_and_pinyin_columns() {
        let extra = [FieldSpec {
            name: "passport".into(),
            kind: FieldKind::ExactCode,
        }];
        let s = record_schema(&extra);
        for col in [
            SOURCE,
            SOURCE_ROW,
            "id_number",
            ID_CHECK_OK,
            "name_pinyin",
            "guardian_name_pinyin",
            "passport",
            NOTES,
        ] {
            assert!(s.index_of(col).is_ok(), "missing {col}");
        }
        assert_eq!(
            s.field_with_name("birth_date").unwrap().data_type(),
            &DataType::Date32
        );
    }
}
