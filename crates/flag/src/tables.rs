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

/// The persons table of a run of persons, built column by column as each
/// person is evaluated: no row struct with five small vectors per person.
pub(crate) struct PersonsBuilder {
    pub person_id: StringBuilder,
    pub record_count: UInt64Builder,
    pub sources: ListBuilder<StringBuilder>,
    pub name: StringBuilder,
    pub id_number: StringBuilder,
    pub id_valid: BooleanBuilder,
    pub birth_date: Date32Builder,
    pub gender: StringBuilder,
    pub age: Int32Builder,
    pub county: StringBuilder,
    pub schools: ListBuilder<StringBuilder>,
    pub enrolled: BooleanBuilder,
    pub eligible: BooleanBuilder,
    pub eligibility_basis: ListBuilder<StringBuilder>,
    pub aided: BooleanBuilder,
    pub aid_types: ListBuilder<StringBuilder>,
    pub aid_total: Float64Builder,
    pub flags: ListBuilder<StringBuilder>,
}

impl PersonsBuilder {
    /// Builders sized for `n` persons.
    pub fn with_capacity(n: usize) -> PersonsBuilder {
        let text = || StringBuilder::with_capacity(n, n * 8);
        let list = || ListBuilder::with_capacity(StringBuilder::new(), n);
        PersonsBuilder {
            person_id: StringBuilder::with_capacity(n, n * 9),
            record_count: UInt64Builder::with_capacity(n),
            sources: list(),
            name: text(),
            id_number: StringBuilder::with_capacity(n, n * 18),
            id_valid: BooleanBuilder::with_capacity(n),
            birth_date: Date32Builder::with_capacity(n),
            gender: text(),
            age: Int32Builder::with_capacity(n),
            county: text(),
            schools: list(),
            enrolled: BooleanBuilder::with_capacity(n),
            eligible: BooleanBuilder::with_capacity(n),
            eligibility_basis: list(),
            aided: BooleanBuilder::with_capacity(n),
            aid_types: list(),
            aid_total: Float64Builder::with_capacity(n),
            flags: list(),
        }
    }

    /// The columns, in [`persons_schema`] order.
    pub fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.person_id.finish()),
            Arc::new(self.record_count.finish()),
            Arc::new(self.sources.finish()),
            Arc::new(self.name.finish()),
            Arc::new(self.id_number.finish()),
            Arc::new(self.id_valid.finish()),
            Arc::new(self.birth_date.finish()),
            Arc::new(self.gender.finish()),
            Arc::new(self.age.finish()),
            Arc::new(self.county.finish()),
            Arc::new(self.schools.finish()),
            Arc::new(self.enrolled.finish()),
            Arc::new(self.eligible.finish()),
            Arc::new(self.eligibility_basis.finish()),
            Arc::new(self.aided.finish()),
            Arc::new(self.aid_types.finish()),
            Arc::new(self.aid_total.finish()),
            Arc::new(self.flags.finish()),
        ]
    }
}

/// Appends one list of texts to a list column.
pub(crate) fn append_list<S: AsRef<str>>(b: &mut ListBuilder<StringBuilder>, values: &[S]) {
    for v in values {
        b.values().append_value(v.as_ref());
    }
    b.append(true);
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
