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

/// One row of the persons table. Texts borrow from the record table and
/// the person IDs: a city has millions of persons, and owned copies of every
/// name and school would be made only to be copied again into the columns.
#[derive(Clone, Debug, Default)]
pub(crate) struct PersonRow<'a> {
    pub person_id: &'a str,
    pub record_count: u64,
    pub sources: Vec<&'a str>,
    pub name: Option<&'a str>,
    pub id_number: Option<&'a str>,
    pub id_valid: bool,
    pub birth_date: Option<i32>,
    pub gender: Option<&'a str>,
    pub age: Option<i32>,
    pub county: Option<&'a str>,
    pub schools: Vec<&'a str>,
    pub enrolled: bool,
    pub eligible: bool,
    pub eligibility_basis: Vec<&'a str>,
    pub aided: bool,
    pub aid_types: Vec<&'a str>,
    pub aid_total: f64,
    pub flags: Vec<&'static str>,
}

/// One row of the flags table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FlagRow<'a> {
    pub person_id: &'a str,
    pub flag: &'static str,
    pub rule: &'a str,
    pub since: String,
    pub evidence: Vec<String>,
    pub details: String,
}

fn list<'r, S: AsRef<str> + 'r>(n: usize, rows: impl Iterator<Item = &'r [S]>) -> ArrayRef {
    let mut b = ListBuilder::with_capacity(StringBuilder::new(), n);
    for values in rows {
        for v in values {
            b.values().append_value(v.as_ref());
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

pub(crate) fn persons_batch<'a>(rows: &[PersonRow<'a>]) -> RecordBatch {
    let n = rows.len();
    let text = |f: &dyn for<'r> Fn(&'r PersonRow<'a>) -> Option<&'r str>| -> ArrayRef {
        let bytes = rows.iter().map(|r| f(r).map_or(0, str::len)).sum();
        let mut b = StringBuilder::with_capacity(n, bytes);
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let flag = |f: &dyn Fn(&PersonRow) -> bool| -> ArrayRef {
        let mut b = BooleanBuilder::with_capacity(n);
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let mut count = UInt64Builder::with_capacity(n);
    let mut birth = Date32Builder::with_capacity(n);
    let mut age = Int32Builder::with_capacity(n);
    let mut total = Float64Builder::with_capacity(n);
    for r in rows {
        count.append_value(r.record_count);
        birth.append_option(r.birth_date);
        age.append_option(r.age);
        total.append_value(r.aid_total);
    }
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.person_id)),
        Arc::new(count.finish()),
        list(n, rows.iter().map(|r| r.sources.as_slice())),
        text(&|r| r.name),
        text(&|r| r.id_number),
        flag(&|r| r.id_valid),
        Arc::new(birth.finish()),
        text(&|r| r.gender),
        Arc::new(age.finish()),
        text(&|r| r.county),
        list(n, rows.iter().map(|r| r.schools.as_slice())),
        flag(&|r| r.enrolled),
        flag(&|r| r.eligible),
        list(n, rows.iter().map(|r| r.eligibility_basis.as_slice())),
        flag(&|r| r.aided),
        list(n, rows.iter().map(|r| r.aid_types.as_slice())),
        Arc::new(total.finish()),
        list(n, rows.iter().map(|r| r.flags.as_slice())),
    ];
    build(persons_schema(), columns)
}

pub(crate) fn flags_batch<'a>(rows: &[FlagRow<'a>]) -> RecordBatch {
    let text = |f: &dyn for<'r> Fn(&'r FlagRow<'a>) -> &'r str| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.person_id),
        text(&|r| r.flag),
        text(&|r| r.rule),
        text(&|r| &r.since),
        list(rows.len(), rows.iter().map(|r| r.evidence.as_slice())),
        text(&|r| &r.details),
    ];
    build(flags_schema(), columns)
}
