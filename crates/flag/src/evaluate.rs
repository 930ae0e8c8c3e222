//! Evaluating the flag rules over a period's linked records.
//!
//! The records are grouped by person with one sort of row numbers; each
//! person's records decide the person's summary row and the flags of the
//! rules in `docs/flags.md` ([`crate::person`]). Persons are evaluated in
//! parallel runs, each appending to its own columns, joined in person order
//! at the end. Only `id_conflict` looks across persons, through the shared
//! IDs found beforehand ([`crate::conflict`]).

use crate::columns::{Columns, Fields};
use crate::conflict::Conflicts;
use crate::person::{Context, Gathered, Roles, Scratch, row_facts};
use crate::tables::{FlagRow, PersonsBuilder, build, flags_batch, persons_schema};
use crate::{FlagError, FlagKind, FlagRules};
use aidlink_vocab::RecordTexts;
use aidlink_vocab::TextKey;
use aidlink_vocab::schema::{ID_BIRTH_DATE, ID_GENDER};
use aidlink_vocab::{Period, Role};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The persons and flags of a period.
#[derive(Clone, Debug)]
pub struct FlagOutput {
    /// One row per person ([`crate::persons_schema`]), sorted by person ID.
    pub persons: RecordBatch,
    /// One row per person and flag ([`crate::flags_schema`]), sorted by
    /// person ID then flag name.
    pub flags: RecordBatch,
}

/// Persons per parallel run: enough to make a task worth its columns,
/// few enough that two threads share the work evenly.
const PERSONS_PER_RUN: usize = 16 * 1024;

/// The record table columns every person's evaluation reads, gathered in
/// person order for each run of persons.
const GATHERED: &[&str] = &[
    "id_number",
    ID_BIRTH_DATE,
    ID_GENDER,
    "name",
    "gender",
    "birth_date",
    "county",
    "school",
    "aid_type",
    "aid_amount",
];

/// Evaluates the flag rules.
///
/// `records` is the period's record table (`record_schema`), `person_ids`
/// the person of each record (same order), `roles` the configured roles of
/// every source named in `records`.
pub fn evaluate(
    records: &RecordBatch,
    person_ids: &[String],
    roles: &BTreeMap<String, Vec<Role>>,
    rules: &FlagRules,
    period: Period,
) -> Result<FlagOutput, FlagError> {
    let ids = RecordTexts::Strings(person_ids);
    evaluate_in_runs(records, ids, roles, rules, period, PERSONS_PER_RUN)
}

/// [`evaluate`] with the person IDs as one Arrow string array (the
/// registry's `assign_array` gives them so): the same tables, without a
/// `String` per record. A null person ID reads as the empty ID.
pub fn evaluate_array(
    records: &RecordBatch,
    person_ids: &StringArray,
    roles: &BTreeMap<String, Vec<Role>>,
    rules: &FlagRules,
    period: Period,
) -> Result<FlagOutput, FlagError> {
    let ids = RecordTexts::Array(person_ids);
    evaluate_in_runs(records, ids, roles, rules, period, PERSONS_PER_RUN)
}

/// [`evaluate`] with `per_run` persons per parallel run.
fn evaluate_in_runs(
    records: &RecordBatch,
    person_ids: RecordTexts,
    roles: &BTreeMap<String, Vec<Role>>,
    rules: &FlagRules,
    period: Period,
    per_run: usize,
) -> Result<FlagOutput, FlagError> {
    rules.validate()?;
    let cols = Columns::new(records)?;
    let n = records.num_rows();
    if person_ids.len() != n {
        return Err(FlagError::LengthMismatch {
            records: n,
            person_ids: person_ids.len(),
        });
    }
    // The map's keys are in name order, so a source's index also orders
    // sources by name.
    let source_names: Vec<&str> = roles.keys().map(String::as_str).collect();
    let source_roles: Vec<Roles> = roles
        .values()
        .map(|rs| Roles {
            enrollment: rs.contains(&Role::Enrollment),
            aid: rs.contains(&Role::Aid),
            eligibility: rs.contains(&Role::Eligibility),
        })
        .collect();
    let sources = row_sources(&cols, &source_names).map_err(|row| FlagError::UnknownSource {
        source_name: cols.source.value(row).to_string(),
        row: cols.source_row.value(row),
        known: source_names.join(", "),
    })?;
    let rule_texts = FlagKind::ALL.map(|k| k.rule(rules));
    let Grouping {
        order,
        starts,
        person_of,
    } = group_by_person(person_ids).map_err(|persons| FlagError::TooManyPersons { persons })?;
    let conflicts = Conflicts::find(&cols, person_ids, &person_of);
    drop(person_of);
    let ctx = Context {
        cols: &cols,
        source_names: &source_names,
        source_roles: &source_roles,
        sources: &sources,
        rules,
        rule_texts: &rule_texts,
        period,
        conflicts: &conflicts,
    };

    let persons = starts.len().saturating_sub(1);
    let facts: Vec<u32> = (0..n)
        .into_par_iter()
        .map(|r| {
            row_facts(
                &cols,
                source_roles[sources[r] as usize],
                rules,
                &conflicts,
                r,
            )
        })
        .collect();
    let rule_columns: Vec<usize> = GATHERED
        .iter()
        .filter_map(|name| records.schema_ref().index_of(name).ok())
        .collect();
    // Only columns of the table itself: a failure is a bug in this crate.
    #[allow(clippy::expect_used)]
    let rule_table = records
        .project(&rule_columns)
        .expect("projects existing columns");
    // Persons are independent of each other; rayon's ordered collect keeps
    // the runs in person order whatever the thread count.
    let per_run = per_run.max(1);
    let runs = persons.div_ceil(per_run).max(1);
    let parts: Vec<(Vec<ArrayRef>, Vec<FlagRow>)> = (0..runs)
        .into_par_iter()
        .map(|run| {
            let first = run * per_run;
            let last = (first + per_run).min(persons);
            let mut out = PersonsBuilder::with_capacity(last.saturating_sub(first));
            let mut flags = Vec::new();
            if first >= last {
                return (out.finish(), flags);
            }
            let base = starts[first];
            let rows = &order[base..starts[last]];
            let gathered = gather(&rule_table, rows);
            let g = Gathered {
                // The gathered table has the record table's own columns, so
                // it has their types.
                #[allow(clippy::expect_used)]
                cols: Fields::new(&gathered).expect("gathered from a checked table"),
                sources: rows.iter().map(|r| sources[*r]).collect(),
                source_row: rows.iter().map(|r| cols.source_row.value(*r)).collect(),
                facts: rows.iter().map(|r| facts[*r]).collect(),
                rows,
            };
            let mut scratch = Scratch::default();
            for p in first..last {
                let person = person_ids.get(order[starts[p]]);
                let local = starts[p] - base..starts[p + 1] - base;
                ctx.person(&g, person, local, &mut scratch, &mut out, &mut flags);
            }
            (out.finish(), flags)
        })
        .collect();
    drop(order);
    let (columns, flags): (Vec<Vec<ArrayRef>>, Vec<Vec<FlagRow>>) = parts.into_iter().unzip();
    let persons_table = build(persons_schema(), concat_columns(columns));
    let flags: Vec<FlagRow> = flags.into_iter().flatten().collect();
    Ok(FlagOutput {
        persons: persons_table,
        flags: flags_batch(&flags),
    })
}

/// The rows `rows` of `table`, in that order.
fn gather(table: &RecordBatch, rows: &[usize]) -> RecordBatch {
    let indices = UInt64Array::from_iter_values(rows.iter().map(|r| *r as u64));
    // Indices are rows of the table
    // and columns keep their types: a failure is a bug in this crate.
    #[allow(clippy::expect_used)]
    let columns: Vec<ArrayRef> = table
        .columns()
        .iter()
        .map(|c| arrow_select::take::take(c.as_ref(), &indices, None).expect("rows of the table"))
        .collect();
    build(table.schema(), columns)
}

/// Each row's source as an index into `names` (sorted), or the first row,
/// in table order, whose source is not among them.
fn row_sources(cols: &Columns, names: &[&str]) -> Result<Vec<u32>, usize> {
    const UNKNOWN: u32 = u32::MAX;
    let n = cols.source.len();
    // Rows come in long runs of one source: the previous row's name is
    // compared first, and searched for only when it differs.
    let sources: Vec<u32> = (0..n)
        .into_par_iter()
        .with_min_len(64 * 1024)
        .map_init(
            || None::<(&str, u32)>,
            |last, row| {
                let name = cols.source.value(row);
                match last {
                    Some((l, i)) if *l == name => *i,
                    _ => {
                        let i = names.binary_search(&name).map_or(UNKNOWN, |i| i as u32);
                        *last = Some((name, i));
                        i
                    }
                }
            },
        )
        .collect();
    match sources.iter().position(|s| *s == UNKNOWN) {
        Some(row) => Err(row),
        None => Ok(sources),
    }
}

/// The records grouped by person.
#[derive(Debug, PartialEq)]
struct Grouping {
    /// The rows in person order; rows of one person in table order.
    order: Vec<usize>,
    /// Where each person's rows start in `order`, one more than there are
    /// persons (the last is the number of rows).
    starts: Vec<usize>,
    /// Each row's person as a number that tells persons apart: the number
    /// in the person ID, or an index into `starts`.
    person_of: Vec<u32>,
}

/// Groups rows by person. Fails when there are 2^32 persons or more.
fn group_by_person(person_ids: RecordTexts) -> Result<Grouping, usize> {
    let n = person_ids.len();
    let (order, mut starts, numbers): (Vec<usize>, Vec<usize>, Option<Vec<u32>>) =
        match numbered(person_ids) {
            // Person IDs of one width and prefix, digits after it, order as
            // their numbers do: a sort of plain integers, number and row
            // packed into one.
            Some(numbers) => {
                let (order, starts) = match count_by_number(&numbers) {
                    Some(grouped) => grouped,
                    None => sort_by_number(&numbers),
                };
                (order, starts, Some(numbers))
            }
            None => {
                let mut keys: Vec<(TextKey, usize)> = (0..n)
                    .into_par_iter()
                    .map(|row| (TextKey::new(person_ids.get(row)), row))
                    .collect();
                keys.par_sort_unstable_by(|a, b| {
                    a.0.cmp_with(b.0, || person_ids.get(a.1), || person_ids.get(b.1))
                        .then(a.1.cmp(&b.1))
                });
                let starts = (0..keys.len())
                    .into_par_iter()
                    .filter(|i| {
                        let (a, b) = (keys[i.saturating_sub(1)], keys[*i]);
                        *i == 0
                            || a.0 != b.0
                            || (!a.0.exact() && person_ids.get(a.1) != person_ids.get(b.1))
                    })
                    .collect();
                let order = keys.into_par_iter().map(|(_, row)| row).collect();
                (order, starts, None)
            }
        };
    if starts.len() > u32::MAX as usize {
        return Err(starts.len());
    }
    starts.push(n);
    // The numbers in the IDs tell persons apart as well as indexes do.
    let person_of = numbers.unwrap_or_else(|| {
        let mut person_of = vec![0u32; n];
        for p in 0..starts.len() - 1 {
            for r in &order[starts[p]..starts[p + 1]] {
                person_of[*r] = p as u32;
            }
        }
        person_of
    });
    Ok(Grouping {
        order,
        starts,
        person_of,
    })
}

/// The number in each person ID when every ID is one prefix (without
/// digits) followed by the same count of digits, at most nine (so the
/// number fits 32 bits), and there are fewer than 2^32 rows; else `None`.
fn numbered(person_ids: RecordTexts) -> Option<Vec<u32>> {
    let first = (!person_ids.is_empty())
        .then(|| person_ids.get(0))?
        .as_bytes();
    let prefix = first.iter().take_while(|b| !b.is_ascii_digit()).count();
    let width = first.len() - prefix;
    if !(1..=9).contains(&width) || u32::try_from(person_ids.len()).is_err() {
        return None;
    }
    let prefix = &first[..prefix];
    (0..person_ids.len())
        .into_par_iter()
        .map(|row| {
            let b = person_ids.get(row).as_bytes();
            if b.len() != prefix.len() + width || !b.starts_with(prefix) {
                return None;
            }
            b[prefix.len()..].iter().try_fold(0u32, |n, d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })
        })
        .collect()
}

/// Rows grouped by number (each number's rows in row order) and where each
/// number's rows start, by counting: when the numbers span not much more
/// than the rows, as the registry's do, else `None`.
fn count_by_number(numbers: &[u32]) -> Option<(Vec<usize>, Vec<usize>)> {
    let n = numbers.len();
    let (lo, hi) = numbers
        .par_iter()
        .fold(|| (u32::MAX, 0), |(lo, hi), x| (lo.min(*x), hi.max(*x)))
        .reduce(|| (u32::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    if n == 0 || (hi - lo) as usize >= 4 * n + 1024 {
        return None;
    }
    let span = (hi - lo) as usize + 1;
    let mut at = vec![0usize; span + 1];
    for x in numbers {
        at[(x - lo) as usize + 1] += 1;
    }
    for i in 0..span {
        at[i + 1] += at[i];
    }
    let starts: Vec<usize> = (0..span)
        .filter(|i| at[*i] != at[i + 1])
        .map(|i| at[i])
        .collect();
    let mut order = vec![0usize; n];
    for (row, x) in numbers.iter().enumerate() {
        let slot = &mut at[(x - lo) as usize];
        order[*slot] = row;
        *slot += 1;
    }
    Some((order, starts))
}

/// What [`count_by_number`] gives, by a sort of number and row packed
/// into one integer.
fn sort_by_number(numbers: &[u32]) -> (Vec<usize>, Vec<usize>) {
    let mut keys: Vec<u64> = numbers
        .par_iter()
        .enumerate()
        .map(|(row, number)| (u64::from(*number) << 32) | row as u64)
        .collect();
    keys.par_sort_unstable();
    let starts = (0..keys.len())
        .into_par_iter()
        .filter(|i| *i == 0 || keys[i - 1] >> 32 != keys[*i] >> 32)
        .collect();
    let order = keys
        .into_par_iter()
        .map(|k| (k & 0xffff_ffff) as usize)
        .collect();
    (order, starts)
}

/// Joins the runs' columns into one column each, in run order.
fn concat_columns(runs: Vec<Vec<ArrayRef>>) -> Vec<ArrayRef> {
    let width = runs.first().map_or(0, Vec::len);
    (0..width)
        .into_par_iter()
        .map(|c| {
            let pieces: Vec<&dyn Array> = runs.iter().map(|r| r[c].as_ref()).collect();
            if pieces.len() == 1 {
                return runs[0][c].clone();
            }
            // The pieces are built for one schema, so they always join; a
            // failure is a bug in this crate.
            #[allow(clippy::expect_used)]
            arrow_select::concat::concat(&pieces).expect("runs share their column types")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{BooleanArray, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn runs_of_any_size_give_the_same_tables() {
        // Forty persons over two sources, with schools, aid, cases and
        // shared IDs, rows interleaved across persons.
        let n = 120;
        let person_ids: Vec<String> = (0..n).map(|i| format!("P{:08}", (i * 7) % 40)).collect();
        let text = |f: &dyn Fn(usize) -> Option<String>| {
            Arc::new(StringArray::from_iter((0..n).map(f))) as ArrayRef
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, false),
            Field::new("source_row", DataType::UInt64, false),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("id_check_ok", DataType::Boolean, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("school", DataType::Utf8, true),
            Field::new("aid_type", DataType::Utf8, true),
            Field::new("subsidy_type", DataType::Utf8, true),
            Field::new("subsidy_status", DataType::Utf8, true),
        ]));
        let school_row = |i: usize| !i.is_multiple_of(3);
        let records = RecordBatch::try_new(
            schema,
            vec![
                text(&|i| Some(if school_row(i) { "school" } else { "subsidy" }.into())),
                Arc::new(UInt64Array::from_iter_values(
                    (0..n as u64).map(|i| 1 + i / 2),
                )),
                text(&|i| Some(format!("ID{}", i % 37))),
                Arc::new(BooleanArray::from_iter(
                    (0..n).map(|i| Some(!i.is_multiple_of(5))),
                )),
                text(&|i| Some(format!("name{}", i % 11))),
                text(&|i| school_row(i).then(|| format!("S{}", i % 4))),
                text(&|i| (school_row(i) && i % 4 == 1).then(|| "grant".into())),
                text(&|i| (!school_row(i)).then(|| "dibao".into())),
                text(&|i| {
                    (!school_row(i)).then(|| {
                        if i.is_multiple_of(2) {
                            "active"
                        } else {
                            "stopped"
                        }
                        .into()
                    })
                }),
            ],
        )
        .unwrap();
        let roles = BTreeMap::from([
            ("school".to_string(), vec![Role::Enrollment, Role::Aid]),
            ("subsidy".to_string(), vec![Role::Eligibility]),
        ]);
        let rules = FlagRules::default();
        let period = Period::parse("2026-01").unwrap();
        let whole = evaluate(&records, &person_ids, &roles, &rules, period).unwrap();
        assert_eq!(whole.persons.num_rows(), 40);
        assert!(whole.flags.num_rows() > 0);
        // The person IDs as an array give the same tables.
        let array = StringArray::from_iter_values(&person_ids);
        let from_array = evaluate_array(&records, &array, &roles, &rules, period).unwrap();
        assert_eq!(from_array.persons, whole.persons);
        assert_eq!(from_array.flags, whole.flags);
        for per_run in [1, 2, 7, 39] {
            let runs = evaluate_in_runs(
                &records,
                RecordTexts::Array(&array),
                &roles,
                &rules,
                period,
                per_run,
            )
            .unwrap();
            assert_eq!(runs.persons, whole.persons, "{per_run} persons per run");
            assert_eq!(runs.flags, whole.flags, "{per_run} persons per run");
        }
    }

    fn ids(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    fn numbered(ids: &[String]) -> Option<Vec<u32>> {
        super::numbered(RecordTexts::Strings(ids))
    }

    fn group_by_person(ids: &[String]) -> Result<Grouping, usize> {
        super::group_by_person(RecordTexts::Strings(ids))
    }

    #[test]
    fn counting_groups_as_sorting_does() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as u32
        };
        for (rows, spread, base) in [(1, 1, 0), (5, 3, 7), (5_000, 4_000, 1), (3_000, 90_000, 9)] {
            let numbers: Vec<u32> = (0..rows).map(|_| base + next(spread)).collect();
            let sorted = sort_by_number(&numbers);
            match count_by_number(&numbers) {
                Some(counted) => assert_eq!(counted, sorted, "{rows} rows over {spread}"),
                // Numbers spread far wider than the rows are sorted.
                None => assert!(spread as usize >= 4 * rows + 1024),
            }
        }
        assert_eq!(count_by_number(&[]), None);
    }

    #[test]
    fn numbers_only_ids_of_one_shape() {
        assert_eq!(
            numbered(&ids(&["P00000002", "P00000010", "P00000002"])),
            Some(vec![2, 10, 2])
        );
        assert_eq!(numbered(&ids(&["P1", "P10"])), None);
        assert_eq!(numbered(&ids(&["P01", "Q01"])), None);
        assert_eq!(numbered(&ids(&["P01", "P0x"])), None);
        assert_eq!(numbered(&ids(&["P0123456789"])), None);
        assert_eq!(numbered(&ids(&["P"])), None);
        assert_eq!(numbered(&ids(&["17", "05"])), Some(vec![17, 5]));
        assert_eq!(numbered(&[]), None);
    }

    #[test]
    fn both_groupings_give_the_text_order() {
        let numbered_ids = ids(&[
            "P00000010",
            "P00000002",
            "P00000010",
            "P00000001",
            "P00000002",
        ]);
        // The same persons with IDs the number path refuses, some longer
        // than a text key holds.
        for suffix in ["x", "-and-more-than-fifteen-bytes"] {
            let text_ids: Vec<String> = numbered_ids
                .iter()
                .map(|p| format!("{p}{suffix}"))
                .collect();
            assert!(numbered(&text_ids).is_none());
            let a = group_by_person(&numbered_ids).unwrap();
            let b = group_by_person(&text_ids).unwrap();
            assert_eq!((a.order, a.starts), (b.order, b.starts));
            assert_eq!(b.person_of, vec![2, 1, 2, 0, 1]);
        }
        let a = group_by_person(&numbered_ids).unwrap();
        assert_eq!(a.order, vec![3, 1, 4, 0, 2]);
        assert_eq!(a.starts, vec![0, 1, 3, 5]);
        assert_eq!(a.person_of, vec![10, 2, 10, 1, 2]);
        let empty = group_by_person(&[]).unwrap();
        assert_eq!(
            (empty.order.len(), empty.starts, empty.person_of.len()),
            (0, vec![0], 0)
        );
    }
}
