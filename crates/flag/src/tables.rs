//! The persons and flags tables: schemas, column names and builders.

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, ListBuilder, StringBuilder,
    UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// Persons and flags column: the person ID.
pub const PERSON_ID: &str = "person_id";
/// Flags column: the flag name.
pub const FLAG: &str = "flag";
/// Flags column: the rule, with its parameters, in words.
pub const RULE: &str = "rule";
/// Flags column: the period (`YYYY-MM`) since which the condition holds.
pub const SINCE: &str = "since";
/// Flags column: the records that raised the flag, as `source:row`.
pub const EVIDENCE: &str = "evidence";
/// Flags column: the values that raised the flag, as a JSON object.
pub const DETAILS: &str = "details";

/// Field metadata key that tells the delta stage to show a column's values
/// but not to report a change in it (value `"true"`): a value that changes
/// with the calendar alone, such as an age, or a text that changes when rows
/// move in a file, such as flag evidence once a stable stand-in exists.
pub const NOT_COMPARED: &str = "aidlink.delta.not_compared";

/// `field` marked [`NOT_COMPARED`].
pub fn not_compared(mut field: Field) -> Field {
    field.metadata_mut().insert(NOT_COMPARED, "true");
    field
}

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// Schema of the persons table: one row per person, sorted by person ID.
pub fn persons_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(PERSON_ID, DataType::Utf8, false),
        Field::new("record_count", DataType::UInt64, false),
        Field::new("sources", text_list(), false),
        Field::new("name", DataType::Utf8, true),
        Field::new("id_number", DataType::Utf8, true),
        Field::new("id_valid", DataType::Boolean, false),
        Field::new("birth_date", DataType::Date32, true),
        Field::new("gender", DataType::Utf8, true),
        // Changes on every birthday without anything about the person changing.
        not_compared(Field::new("age", DataType::Int32, true)),
        Field::new("county", DataType::Utf8, true),
        Field::new("schools", text_list(), false),
        Field::new("enrolled", DataType::Boolean, false),
        Field::new("eligible", DataType::Boolean, false),
        Field::new("eligibility_basis", text_list(), false),
        Field::new("aided", DataType::Boolean, false),
        Field::new("aid_types", text_list(), false),
        Field::new("aid_total", DataType::Float64, false),
        Field::new("flags", text_list(), false),
    ]))
}

/// Schema of the flags table: one row per person and flag, sorted by both.
pub fn flags_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(PERSON_ID, DataType::Utf8, false),
        Field::new(FLAG, DataType::Utf8, false),
        Field::new(RULE, DataType::Utf8, false),
        Field::new(SINCE, DataType::Utf8, false),
        Field::new(EVIDENCE, text_list(), false),
        Field::new(DETAILS, DataType::Utf8, false),
    ]))
}

/// One row of the persons table.
#[derive(Clone, Debug, Default)]
pub(crate) struct PersonRow {
    pub person_id: String,
    pub record_count: u64,
    pub sources: Vec<String>,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub id_valid: bool,
    pub birth_date: Option<i32>,
    pub gender: Option<String>,
    pub age: Option<i32>,
    pub county: Option<String>,
    pub schools: Vec<String>,
    pub enrolled: bool,
    pub eligible: bool,
    pub eligibility_basis: Vec<String>,
    pub aided: bool,
    pub aid_types: Vec<String>,
    pub aid_total: f64,
    pub flags: Vec<String>,
}

/// One row of the flags table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FlagRow {
    pub person_id: String,
    pub flag: String,
    pub rule: String,
    pub since: String,
    pub evidence: Vec<String>,
    pub details: String,
}

fn list<'a>(rows: impl Iterator<Item = &'a [String]>) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for values in rows {
        for v in values {
            b.values().append_value(v);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// Builds a batch whose columns are made for `schema` in this crate.
pub(crate) fn build(schema: SchemaRef, columns: Vec<ArrayRef>) -> RecordBatch {
    // No input can reach a failure: every column is built above for the very
    // schema it is checked against, so a failure is a bug in this crate.
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(schema, columns).expect("columns are built for their own schema")
}

pub(crate) fn persons_batch(rows: &[PersonRow]) -> RecordBatch {
    let text = |f: &dyn Fn(&PersonRow) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let flag = |f: &dyn Fn(&PersonRow) -> bool| -> ArrayRef {
        let mut b = BooleanBuilder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let mut count = UInt64Builder::new();
    let mut birth = Date32Builder::new();
    let mut age = Int32Builder::new();
    let mut total = Float64Builder::new();
    for r in rows {
        count.append_value(r.record_count);
        birth.append_option(r.birth_date);
        age.append_option(r.age);
        total.append_value(r.aid_total);
    }
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.person_id.as_str())),
        Arc::new(count.finish()),
        list(rows.iter().map(|r| r.sources.as_slice())),
        text(&|r| r.name.as_deref()),
        text(&|r| r.id_number.as_deref()),
        flag(&|r| r.id_valid),
        Arc::new(birth.finish()),
        text(&|r| r.gender.as_deref()),
        Arc::new(age.finish()),
        text(&|r| r.county.as_deref()),
        list(rows.iter().map(|r| r.schools.as_slice())),
        flag(&|r| r.enrolled),
        flag(&|r| r.eligible),
        list(rows.iter().map(|r| r.eligibility_basis.as_slice())),
        flag(&|r| r.aided),
        list(rows.iter().map(|r| r.aid_types.as_slice())),
        Arc::new(total.finish()),
        list(rows.iter().map(|r| r.flags.as_slice())),
    ];
    build(persons_schema(), columns)
}

pub(crate) fn flags_batch(rows: &[FlagRow]) -> RecordBatch {
    let text = |f: &dyn Fn(&FlagRow) -> &str| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| &r.person_id),
        text(&|r| &r.flag),
        text(&|r| &r.rule),
        text(&|r| &r.since),
        list(rows.iter().map(|r| r.evidence.as_slice())),
        text(&|r| &r.details),
    ];
    build(flags_schema(), columns)
}
