//! Aggregate tables for analysts (flags by school, by county, by kind) and
//! the suppression of their small cells.
//!
//! A count of one or two flagged children in a school is as good as a name
//! to a teacher, so any cell counting fewer than `k` persons is published as
//! null with `suppressed = true`. Where a flag's total is published too, a
//! single suppressed cell could be recovered by subtraction, so the smallest
//! other cell of the same flag is suppressed with it (complementary
//! suppression).

use crate::error::PrivacyError;
use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Analyst table: flagged persons by school and flag.
pub const AGG_FLAGS_BY_SCHOOL: &str = "flags_by_school";
/// Analyst table: flagged persons by county and flag.
pub const AGG_FLAGS_BY_COUNTY: &str = "flags_by_county";
/// Analyst table: flagged persons by flag.
pub const AGG_FLAGS_BY_KIND: &str = "flags_by_kind";
/// Count column of the aggregate tables.
pub const PERSONS: &str = "persons";
/// Column telling that a cell's count was suppressed.
pub const SUPPRESSED: &str = "suppressed";

/// Replaces every count below `k` in `count_column` (a `UInt64` column) by
/// null and sets a `suppressed` column (added, or replaced when present).
/// Zero counts stay: an empty cell says nothing about anyone.
pub fn suppress_small_cells(
    batch: &RecordBatch,
    count_column: &str,
    k: u64,
) -> Result<RecordBatch, PrivacyError> {
    let counts = u64_column(batch, "aggregate", count_column)?;
    // A cell already suppressed (its count now null) stays suppressed.
    let before = batch
        .column_by_name(SUPPRESSED)
        .and_then(|c| c.as_boolean_opt());
    let hide: Vec<bool> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.is_some_and(|c| c > 0 && c < k) || before.is_some_and(|b| b.is_valid(i) && b.value(i))
        })
        .collect();
    with_suppression(batch, count_column, &hide)
}

/// Distinct flagged persons per value of `group_column` and flag.
///
/// `flags` needs `person_id` and `flag`; `membership` needs `person_id` and
/// `group_column` (Utf8), one row per (person, value), e.g. the records
/// table for `school`. A person with several values counts once under each;
/// a person with none counts under null. Rows are sorted by group (nulls
/// last) then flag. Cells below `k` are suppressed, with complementary
/// suppression within each flag.
pub fn flag_counts_by(
    flags: &RecordBatch,
    membership: &RecordBatch,
    group_column: &str,
    k: u64,
) -> Result<RecordBatch, PrivacyError> {
    let flagged = flagged_persons(flags)?;
    let persons = text_column(membership, "membership", "person_id")?;
    let groups = text_column(membership, "membership", group_column)?;
    let any_flag: BTreeSet<&str> = flagged.values().flatten().copied().collect();
    let mut member_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (p, g) in persons.iter().zip(groups.iter()) {
        if let (Some(p), Some(g)) = (p, g)
            && any_flag.contains(p)
        {
            member_of.entry(p).or_default().insert(g);
        }
    }
    // (group, flag) -> persons; `None` sorts first in Rust, so the group key
    // is (is_null, value) to put the unknown group last.
    let mut cells: BTreeMap<((bool, &str), &str), u64> = BTreeMap::new();
    for (flag, people) in &flagged {
        for p in people {
            match member_of.get(p) {
                Some(gs) => {
                    for g in gs {
                        *cells.entry(((false, g), flag)).or_default() += 1;
                    }
                }
                None => *cells.entry(((true, ""), flag)).or_default() += 1,
            }
        }
    }
    let group_values: StringArray = cells
        .keys()
        .map(|((null, g), _)| (!null).then_some(*g))
        .collect();
    let flag_values: StringArray = cells.keys().map(|(_, f)| Some(*f)).collect();
    let counts: UInt64Array = cells.values().map(|c| Some(*c)).collect();
    let hide = complementary(
        &cells.iter().map(|((_, f), c)| (*f, *c)).collect::<Vec<_>>(),
        k,
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new(group_column, DataType::Utf8, true),
        Field::new("flag", DataType::Utf8, false),
        Field::new(PERSONS, DataType::UInt64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(group_values),
            Arc::new(flag_values),
            Arc::new(counts),
        ],
    )
    .map_err(|source| PrivacyError::Arrow {
        table: format!("flags_by_{group_column}"),
        error: source,
    })?;
    with_suppression(&batch, PERSONS, &hide)
}

/// The dimensions the aggregates count flagged persons by, each a column
/// of `persons` or else of `records`.
pub const AGGREGATE_DIMENSIONS: &[&str] = &["school", "county"];

/// The person column the aggregates join flags to `persons` or `records` by.
pub const AGGREGATE_PERSON_COLUMN: &str = "person_id";

/// The analyst aggregate tables built from a period's tables: flags by kind,
/// by school and by county. Each dimension is taken from `persons` when it
/// has the column, else from `records`; a dimension neither has is skipped.
/// Without a `flags` table there are no aggregates.
pub fn analyst_aggregates(
    tables: &[(String, RecordBatch)],
    k: u64,
) -> Result<Vec<(String, RecordBatch)>, PrivacyError> {
    let find = |name: &str| tables.iter().find(|(n, _)| n == name).map(|(_, b)| b);
    let Some(flags) = find("flags") else {
        return Ok(Vec::new());
    };
    let mut out = vec![(AGG_FLAGS_BY_KIND.to_string(), flags_by_kind(flags, k)?)];
    for (name, column) in [AGG_FLAGS_BY_SCHOOL, AGG_FLAGS_BY_COUNTY]
        .into_iter()
        .zip(AGGREGATE_DIMENSIONS.iter().copied())
    {
        let membership = ["persons", "records"]
            .into_iter()
            .filter_map(find)
            .find(|b| {
                b.schema().index_of(column).is_ok()
                    && b.schema().index_of(AGGREGATE_PERSON_COLUMN).is_ok()
            });
        if let Some(m) = membership {
            out.push((name.to_string(), flag_counts_by(flags, m, column, k)?));
        }
    }
    Ok(out)
}

/// Distinct flagged persons per flag, small counts suppressed.
fn flags_by_kind(flags: &RecordBatch, k: u64) -> Result<RecordBatch, PrivacyError> {
    let flagged = flagged_persons(flags)?;
    let names: StringArray = flagged.keys().map(|f| Some(*f)).collect();
    let counts: UInt64Array = flagged.values().map(|s| Some(s.len() as u64)).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("flag", DataType::Utf8, false),
        Field::new(PERSONS, DataType::UInt64, true),
    ]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(names), Arc::new(counts)]).map_err(
        |source| PrivacyError::Arrow {
            table: AGG_FLAGS_BY_KIND.to_string(),
            error: source,
        },
    )?;
    suppress_small_cells(&batch, PERSONS, k)
}

/// Flag -> distinct person IDs carrying it.
fn flagged_persons(flags: &RecordBatch) -> Result<BTreeMap<&str, BTreeSet<&str>>, PrivacyError> {
    let persons = text_column(flags, "flags", "person_id")?;
    let kinds = text_column(flags, "flags", "flag")?;
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (p, f) in persons.iter().zip(kinds.iter()) {
        if let (Some(p), Some(f)) = (p, f) {
            out.entry(f).or_default().insert(p);
        }
    }
    Ok(out)
}

/// Which cells to hide: those below `k`, plus, in every flag with exactly
/// one hidden cell and at least one other, the smallest other cell (ties
/// broken by position, which is the sorted group order).
fn complementary(cells: &[(&str, u64)], k: u64) -> Vec<bool> {
    let mut hide: Vec<bool> = cells.iter().map(|(_, c)| *c > 0 && *c < k).collect();
    let flags: BTreeSet<&str> = cells.iter().map(|(f, _)| *f).collect();
    for flag in flags {
        let idx: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].0 == flag).collect();
        let hidden = idx.iter().filter(|&&i| hide[i]).count();
        if hidden == 1
            && let Some(&j) = idx
                .iter()
                .filter(|&&i| !hide[i])
                .min_by_key(|&&i| (cells[i].1, i))
        {
            hide[j] = true;
        }
    }
    hide
}

/// `batch` with `count_column` nulled where `hide` and a `suppressed` column.
fn with_suppression(
    batch: &RecordBatch,
    count_column: &str,
    hide: &[bool],
) -> Result<RecordBatch, PrivacyError> {
    let counts = u64_column(batch, "aggregate", count_column)?;
    let kept: UInt64Array = counts
        .iter()
        .zip(hide)
        .map(|(c, h)| if *h { None } else { c })
        .collect();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if f.name() == SUPPRESSED {
            continue;
        }
        if f.name() == count_column {
            fields.push(Field::new(count_column, DataType::UInt64, true));
            columns.push(Arc::new(kept.clone()));
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
        }
    }
    fields.push(Field::new(SUPPRESSED, DataType::Boolean, false));
    columns.push(Arc::new(BooleanArray::from(hide.to_vec())));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|source| {
        PrivacyError::Arrow {
            table: "aggregate".to_string(),
            error: source,
        }
    })
}

fn missing(batch: &RecordBatch, table: &str, column: &str) -> PrivacyError {
    PrivacyError::MissingColumn {
        table: table.to_string(),
        column: column.to_string(),
        available: batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn u64_column<'a>(
    batch: &'a RecordBatch,
    table: &str,
    column: &str,
) -> Result<&'a UInt64Array, PrivacyError> {
    let c = batch
        .column_by_name(column)
        .ok_or_else(|| missing(batch, table, column))?;
    c.as_primitive_opt::<UInt64Type>()
        .ok_or_else(|| PrivacyError::ColumnType {
            table: table.to_string(),
            column: column.to_string(),
            found: c.data_type().to_string(),
            expected: "UInt64",
        })
}

fn text_column<'a>(
    batch: &'a RecordBatch,
    table: &str,
    column: &str,
) -> Result<&'a StringArray, PrivacyError> {
    let c = batch
        .column_by_name(column)
        .ok_or_else(|| missing(batch, table, column))?;
    c.as_string_opt::<i32>()
        .ok_or_else(|| PrivacyError::ColumnType {
            table: table.to_string(),
            column: column.to_string(),
            found: c.data_type().to_string(),
            expected: "Utf8",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn table(cols: &[(&str, ArrayRef)]) -> RecordBatch {
        RecordBatch::try_from_iter(cols.iter().map(|(n, c)| (*n, c.clone()))).unwrap()
    }

    fn flags_fixture() -> RecordBatch {
        // Seven persons flagged eligible_unaided: six at school A, one at B.
        // Two persons flagged duplicate_aid at A.
        let mut persons = Vec::new();
        let mut kinds = Vec::new();
        for p in ["P1", "P2", "P3", "P4", "P5", "P6", "P7"] {
            persons.push(Some(p));
            kinds.push(Some("eligible_unaided"));
        }
        for p in ["P1", "P2", "P2"] {
            persons.push(Some(p));
            kinds.push(Some("duplicate_aid"));
        }
        table(&[("person_id", strings(&persons)), ("flag", strings(&kinds))])
    }

    fn records_fixture() -> RecordBatch {
        let mut persons = Vec::new();
        let mut schools = Vec::new();
        for p in ["P1", "P2", "P3", "P4", "P5", "P6"] {
            persons.push(Some(p));
            schools.push(Some("A"));
        }
        persons.push(Some("P7"));
        schools.push(Some("B"));
        // A second record of P1 at the same school must not count twice.
        persons.push(Some("P1"));
        schools.push(Some("A"));
        table(&[
            ("person_id", strings(&persons)),
            ("school", strings(&schools)),
        ])
    }

    #[test]
    fn small_cells_are_suppressed() {
        let batch = table(&[
            ("school", strings(&[Some("A"), Some("B"), Some("C")])),
            (PERSONS, Arc::new(UInt64Array::from(vec![12, 3, 0]))),
        ]);
        let out = suppress_small_cells(&batch, PERSONS, 5).unwrap();
        let counts = out
            .column_by_name(PERSONS)
            .unwrap()
            .as_primitive::<UInt64Type>();
        assert_eq!(
            counts.iter().collect::<Vec<_>>(),
            vec![Some(12), None, Some(0)]
        );
        let flags = out.column_by_name(SUPPRESSED).unwrap().as_boolean();
        assert_eq!(
            flags.iter().collect::<Vec<_>>(),
            vec![Some(false), Some(true), Some(false)]
        );
        // Suppressing twice is the same as once.
        let again = suppress_small_cells(&out, PERSONS, 5).unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn counts_by_school_with_complementary_suppression() {
        let out = flag_counts_by(&flags_fixture(), &records_fixture(), "school", 2).unwrap();
        let schools: Vec<_> = out.column(0).as_string::<i32>().iter().collect();
        let flags: Vec<_> = out.column(1).as_string::<i32>().iter().collect();
        let counts: Vec<_> = out.column(2).as_primitive::<UInt64Type>().iter().collect();
        assert_eq!(schools, vec![Some("A"), Some("A"), Some("B")]);
        assert_eq!(
            flags,
            vec![
                Some("duplicate_aid"),
                Some("eligible_unaided"),
                Some("eligible_unaided")
            ]
        );
        // B has one eligible_unaided person (< 2): hidden; A's 6 would give
        // it away against the total of 7, so it is hidden too.
        assert_eq!(counts, vec![Some(2), None, None]);
    }

    #[test]
    fn aggregates_from_period_tables() {
        let tables = vec![
            ("flags".to_string(), flags_fixture()),
            ("records".to_string(), records_fixture()),
        ];
        let out = analyst_aggregates(&tables, 5).unwrap();
        let names: Vec<_> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec![AGG_FLAGS_BY_KIND, AGG_FLAGS_BY_SCHOOL]);
        let by_kind = &out[0].1;
        let counts: Vec<_> = by_kind
            .column_by_name(PERSONS)
            .unwrap()
            .as_primitive::<UInt64Type>()
            .iter()
            .collect();
        assert_eq!(counts, vec![None, Some(7)]);
        let err = flag_counts_by(&flags_fixture(), &records_fixture(), "county", 5).unwrap_err();
        assert!(err.to_string().contains("no column county"), "{err}");
    }
}
