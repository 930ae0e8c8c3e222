//! The change feed on small tables built in code.

// Test helpers build fixed tables; a failed unwrap there is a broken test.
#![allow(clippy::unwrap_used)]

use aidlink_delta::{
    DeltaError, DiffOptions, combine, diff, diff_with, link_table, summarize, with_events,
};
use aidlink_registry::{assign, events_schema};
use aidlink_vocab::Period;
use arrow_array::{Array, ArrayRef, Float64Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

fn p(text: &str) -> Period {
    Period::parse(text).unwrap()
}

/// A small persons table: person_id, name, aid_total.
fn persons(rows: &[(&str, &str, f64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("aid_total", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// A small flags table: person_id, flag, evidence, evidence_digest.
fn flags(rows: &[(&str, &str, &str, &str)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("flag", DataType::Utf8, false),
        Field::new("evidence", DataType::Utf8, false),
        Field::new("evidence_digest", DataType::Utf8, false),
    ]));
    let col = |i: usize| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| [r.0, r.1, r.2, r.3][i]),
        ))
    };
    RecordBatch::try_new(schema, (0..4).map(col).collect()).unwrap()
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let col = batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    (0..col.len())
        .map(|i| (!col.is_null(i)).then(|| col.value(i).to_string()))
        .collect()
}

/// The rows as `change_type key` lines.
fn lines(delta: &RecordBatch) -> Vec<String> {
    let c = strings(delta, "change_type");
    let k = strings(delta, "key");
    c.iter()
        .zip(&k)
        .map(|(c, k)| format!("{} {}", c.as_deref().unwrap(), k.as_deref().unwrap()))
        .collect()
}

#[test]
fn first_period_is_all_inserts() {
    let cur = persons(&[("P00000002", "李四", 0.0), ("P00000001", "张三", 500.0)]);
    let d = diff("person", &["person_id"], None, &cur, None, p("2026-10")).unwrap();
    assert_eq!(lines(&d), ["insert P00000001", "insert P00000002"]);
    assert_eq!(strings(&d, "from_period"), [None, None]);
    assert_eq!(strings(&d, "to_period")[0].as_deref(), Some("2026-10"));
    assert_eq!(
        strings(&d, "values")[0].as_deref(),
        Some(r#"{"person_id":"P00000001","name":"张三","aid_total":500.0}"#)
    );
}

#[test]
fn updates_come_as_pre_and_postimage_naming_the_changed_columns() {
    let prev = persons(&[
        ("P00000001", "张三", 500.0),
        ("P00000002", "李四", 0.0),
        ("P00000003", "王五", 0.0),
    ]);
    let cur = persons(&[
        ("P00000004", "赵六", 0.0),
        ("P00000002", "李四", 0.0),
        ("P00000001", "张三", 1000.0),
    ]);
    let d = diff(
        "person",
        &["person_id"],
        Some(&prev),
        &cur,
        Some(p("2026-10")),
        p("2026-11"),
    )
    .unwrap();
    assert_eq!(
        lines(&d),
        [
            "update_preimage P00000001",
            "update_postimage P00000001",
            "delete P00000003",
            "insert P00000004"
        ]
    );
    let changed = d
        .column_by_name("changed_columns")
        .unwrap()
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    let first = changed.value(0);
    let first = first.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!((first.len(), first.value(0)), (1, "aid_total"));
    assert!(changed.is_null(2), "a delete names no changed columns");
    let values = strings(&d, "values");
    assert!(values[0].as_deref().unwrap().contains("500.0"));
    assert!(values[1].as_deref().unwrap().contains("1000.0"));
    assert_eq!(strings(&d, "person_id")[2].as_deref(), Some("P00000003"));
}

#[test]
fn unchanged_tables_give_an_empty_delta_whatever_the_row_order() {
    let a = persons(&[("P00000001", "张三", 1.0), ("P00000002", "李四", 2.0)]);
    let b = persons(&[("P00000002", "李四", 2.0), ("P00000001", "张三", 1.0)]);
    let d = diff(
        "person",
        &["person_id"],
        Some(&a),
        &b,
        Some(p("2026-10")),
        p("2026-11"),
    )
    .unwrap();
    assert_eq!(d.num_rows(), 0);
}

#[test]
fn ignored_columns_do_not_make_changes_but_their_stand_in_does() {
    let prev = flags(&[
        ("P00000001", "duplicate_aid", "enrollment:3", "aaa"),
        ("P00000002", "id_conflict", "household:1", "bbb"),
    ]);
    // P1's evidence moved rows but the same records back it; P2's records changed.
    let cur = flags(&[
        ("P00000001", "duplicate_aid", "enrollment:9", "aaa"),
        ("P00000002", "id_conflict", "household:1", "ccc"),
    ]);
    let options = DiffOptions {
        ignore: &["evidence"],
    };
    let d = diff_with(
        "flag",
        &["person_id", "flag"],
        Some(&prev),
        &cur,
        Some(p("2026-10")),
        p("2026-11"),
        &options,
    )
    .unwrap();
    assert_eq!(
        lines(&d),
        [
            "update_preimage P00000002|id_conflict",
            "update_postimage P00000002|id_conflict"
        ]
    );
    assert_eq!(strings(&d, "flag")[0].as_deref(), Some("id_conflict"));
    // The digest column alone is enough: evidence then is not compared.
    let (from, to) = (Some(p("2026-10")), p("2026-11"));
    let plain = diff("flag", &["person_id", "flag"], Some(&prev), &cur, from, to).unwrap();
    assert_eq!(lines(&plain), lines(&d));
    // Without a digest, moved evidence is a change.
    let no_digest = |b: &RecordBatch| b.project(&[0, 1, 2]).unwrap();
    let bare = diff(
        "flag",
        &["person_id", "flag"],
        Some(&no_digest(&prev)),
        &no_digest(&cur),
        from,
        to,
    )
    .unwrap();
    assert_eq!(bare.num_rows(), 2);
    assert_eq!(
        strings(&bare, "key")[0].as_deref(),
        Some("P00000001|duplicate_aid")
    );
}

#[test]
fn errors_name_the_entity_and_the_key() {
    let dup = persons(&[("P00000001", "张三", 1.0), ("P00000001", "張三", 1.0)]);
    let err = diff("person", &["person_id"], None, &dup, None, p("2026-10")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "person: the current table has two rows with key `P00000001`"
    );
    let ok = persons(&[("P00000001", "张三", 1.0)]);
    let err = diff("person", &["pid"], None, &ok, None, p("2026-10")).unwrap_err();
    assert!(
        matches!(
            err,
            DeltaError::MissingKeyColumn {
                side: "current",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        diff("person", &[], None, &ok, None, p("2026-10")),
        Err(DeltaError::NoKeyColumns { .. })
    ));
}

#[test]
fn links_follow_records_between_persons() {
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = assign(
        None,
        &keys(&["enrollment|sno:A", "subsidy|hh:1/id:A", "enrollment|sno:B"]),
        &[0, 1, 2],
    );
    // The subsidy record is now linked to the first student, and B left.
    let second = assign(
        Some(&first.registry),
        &keys(&["enrollment|sno:A", "subsidy|hh:1/id:A"]),
        &[0, 0],
    );
    let d = diff(
        "link",
        &["record"],
        Some(&link_table(&first.registry)),
        &link_table(&second.registry),
        Some(p("2026-10")),
        p("2026-11"),
    )
    .unwrap();
    let changes: Vec<String> = strings(&d, "change_type")
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(changes.iter().filter(|c| *c == "delete").count(), 1);
    assert_eq!(
        changes.iter().filter(|c| *c == "update_postimage").count(),
        1
    );
    // No natural key leaks into the delta.
    for v in strings(&d, "values").into_iter().chain(strings(&d, "key")) {
        assert!(!v.unwrap().contains("sno:"));
    }
}

#[test]
fn registry_events_explain_person_rows() {
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Two persons merge; a third splits into two.
    let first = assign(None, &keys(&["a", "b", "c", "d"]), &[0, 1, 2, 2]);
    let second = assign(
        Some(&first.registry),
        &keys(&["a", "b", "c", "d"]),
        &[0, 0, 2, 3],
    );
    let before = persons(&[
        ("P00000001", "甲", 0.0),
        ("P00000002", "甲", 0.0),
        ("P00000003", "乙", 0.0),
    ]);
    let after = persons(&[
        ("P00000001", "甲", 0.0),
        ("P00000003", "乙", 0.0),
        ("P00000004", "乙", 0.0),
    ]);
    let (from, to) = (Some(p("2026-10")), p("2026-11"));
    let d = diff("person", &["person_id"], Some(&before), &after, from, to).unwrap();
    let d = with_events(&d, &second.events, from, to).unwrap();
    assert_eq!(lines(&d), ["delete P00000002", "insert P00000004"]);
    assert_eq!(
        strings(&d, "event"),
        [Some("merge".into()), Some("split".into())]
    );
    assert_eq!(
        strings(&d, "other_person_id"),
        [Some("P00000001".into()), Some("P00000003".into())]
    );

    // An event without its person row still shows, as a row of its own.
    let empty = diff("person", &["person_id"], Some(&after), &after, from, to).unwrap();
    let d = with_events(&empty, &second.events, from, to).unwrap();
    assert_eq!(d.num_rows(), 2);
    assert_eq!(strings(&d, "values"), [None, None]);
}

#[test]
fn bad_events_are_named() {
    let schema = events_schema();
    let col = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    let events = RecordBatch::try_new(
        schema,
        vec![col("explode"), col("P00000001"), col("P00000002"), col("x")],
    )
    .unwrap();
    let d = diff(
        "person",
        &["person_id"],
        None,
        &persons(&[]),
        None,
        p("2026-10"),
    )
    .unwrap();
    let err = with_events(&d, &events, None, p("2026-10")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "person events table row 0: `event` is `explode`, expected one of new, merge, split, retire, return"
    );
}

fn period_delta() -> RecordBatch {
    let (from, to) = (Some(p("2026-10")), p("2026-11"));
    let people = diff(
        "person",
        &["person_id"],
        Some(&persons(&[
            ("P00000001", "张三", 1.0),
            ("P00000009", "赵", 0.0),
        ])),
        &persons(&[("P00000001", "张三", 2.0), ("P00000002", "李四", 0.0)]),
        from,
        to,
    )
    .unwrap();
    let fl = diff(
        "flag",
        &["person_id", "flag"],
        Some(&flags(&[("P00000001", "duplicate_aid", "e:1", "x")])),
        &flags(&[
            ("P00000002", "eligible_unaided", "e:2", "y"),
            ("P00000001", "exit_review", "e:1", "z"),
        ]),
        from,
        to,
    )
    .unwrap();
    combine(&[fl, people]).unwrap()
}

#[test]
fn combine_orders_entities_then_keys() {
    assert_eq!(
        lines(&period_delta()),
        [
            "update_preimage P00000001",
            "update_postimage P00000001",
            "insert P00000002",
            "delete P00000009",
            "delete P00000001|duplicate_aid",
            "insert P00000001|exit_review",
            "insert P00000002|eligible_unaided",
        ]
    );
}

#[test]
fn summary_counts_and_prints() {
    let s = summarize(&period_delta()).unwrap();
    assert_eq!(s.rows, 7);
    assert_eq!(s.entities["person"].updated, 1);
    assert_eq!(s.flags["duplicate_aid"].cleared, 1);
    let expected = "\
Changes from 2026-10 to 2026-11: 7 rows
  entity   inserted    deleted    updated
  person          1          1          1
  flag            2          1          0
  link            0          0          0
  flag               appeared    cleared    changed
  duplicate_aid             0          1          0
  eligible_unaided          1          0          0
  exit_review               1          0          0
";
    assert_eq!(s.to_string(), expected);
    let empty = summarize(&combine(&[]).unwrap()).unwrap();
    assert_eq!(empty.to_string(), "No changes from (nothing) to ?\n");
}

#[test]
fn columns_marked_not_compared_are_shown_but_make_no_change() {
    let table = |age: i32, name: &str| {
        let schema = Arc::new(Schema::new(vec![
            Field::new("person_id", DataType::Utf8, false),
            Field::new("name", DataType::Utf8, true),
            aidlink_flag::not_compared(Field::new("age", DataType::Int32, true)),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["P00000001"])),
            Arc::new(StringArray::from(vec![name])),
            Arc::new(arrow_array::Int32Array::from(vec![age])),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    };
    let (from, to) = (Some(p("2026-10")), p("2026-11"));
    let birthday = diff(
        "person",
        &["person_id"],
        Some(&table(9, "张三")),
        &table(10, "张三"),
        from,
        to,
    )
    .unwrap();
    assert_eq!(birthday.num_rows(), 0);
    let renamed = diff(
        "person",
        &["person_id"],
        Some(&table(9, "张三")),
        &table(10, "张珊"),
        from,
        to,
    )
    .unwrap();
    assert_eq!(
        lines(&renamed),
        ["update_preimage P00000001", "update_postimage P00000001"]
    );
    assert!(
        strings(&renamed, "values")[1]
            .as_deref()
            .unwrap()
            .contains(r#""age":10"#)
    );
}

/// The link delta of two registries, both ways: from the registries, and
/// as the diff of their link tables.
fn link_deltas(
    previous: Option<&aidlink_registry::Registry>,
    current: &aidlink_registry::Registry,
) -> (RecordBatch, RecordBatch) {
    let (from, to) = (previous.map(|_| p("2026-10")), p("2026-11"));
    let direct = aidlink_delta::link_delta(previous, current, from, to).unwrap();
    let prev_links = previous.map(link_table);
    let diffed = diff(
        "link",
        &["record"],
        prev_links.as_ref(),
        &link_table(current),
        from,
        to,
    )
    .unwrap();
    (direct, diffed)
}

#[test]
fn link_delta_gives_the_rows_of_the_link_tables_diff() {
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = assign(
        None,
        &keys(&[
            "enrollment|sno:A",
            "subsidy|hh:1/id:A",
            "enrollment|sno:B",
            "household|id:C",
            "disability|cert:\"D\"",
            "enrollment|sno:E",
        ]),
        &[0, 1, 2, 3, 4, 4],
    );
    // A's subsidy record joins A, B leaves (kept while absent), E splits
    // from D, F is new.
    let second = assign(
        Some(&first.registry),
        &keys(&[
            "enrollment|sno:A",
            "subsidy|hh:1/id:A",
            "household|id:C",
            "disability|cert:\"D\"",
            "enrollment|sno:E",
            "enrollment|sno:F",
        ]),
        &[0, 0, 1, 2, 3, 4],
    );
    // B comes back, C leaves.
    let third = assign(
        Some(&second.registry),
        &keys(&[
            "enrollment|sno:A",
            "subsidy|hh:1/id:A",
            "enrollment|sno:B",
            "disability|cert:\"D\"",
            "enrollment|sno:E",
            "enrollment|sno:F",
        ]),
        &[0, 0, 1, 2, 3, 4],
    );
    for (previous, current) in [
        (None, &first.registry),
        (Some(&first.registry), &second.registry),
        (Some(&second.registry), &third.registry),
        (Some(&first.registry), &third.registry),
        (Some(&third.registry), &third.registry),
    ] {
        let (direct, diffed) = link_deltas(previous, current);
        assert!(diffed.num_rows() > 0 || previous.is_some());
        assert_eq!(direct, diffed);
    }
    let (direct, _) = link_deltas(Some(&first.registry), &third.registry);
    let changes = strings(&direct, "change_type");
    for change in ["delete", "update_preimage", "update_postimage", "insert"] {
        assert!(
            changes.iter().any(|c| c.as_deref() == Some(change)),
            "the test covers {change}"
        );
    }
}

#[test]
fn combine_owned_gives_the_rows_of_combine() {
    let (from, to) = (Some(p("2026-10")), p("2026-11"));
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = assign(None, &keys(&["a", "b", "c", "d"]), &[0, 1, 2, 2]);
    let second = assign(
        Some(&first.registry),
        &keys(&["a", "b", "c", "d"]),
        &[0, 0, 2, 3],
    );
    let same = persons(&[("P00000001", "甲", 0.0)]);
    // Events without person rows: rows with null values, first among the parts.
    let events_only = with_events(
        &diff("person", &["person_id"], Some(&same), &same, from, to).unwrap(),
        &second.events,
        from,
        to,
    )
    .unwrap();
    let people = diff(
        "person",
        &["person_id"],
        Some(&persons(&[("P00000003", "丙", 1.0)])),
        &persons(&[("P00000003", "丙", 2.0), ("P00000002", "乙", 0.0)]),
        from,
        to,
    )
    .unwrap();
    let links =
        aidlink_delta::link_delta(Some(&first.registry), &second.registry, from, to).unwrap();
    let flag = diff(
        "flag",
        &["person_id", "flag"],
        None,
        &flags(&[("P00000002", "exit_review", "e:1", "z")]),
        None,
        to,
    )
    .unwrap();
    let parts = vec![events_only, links, people, flag];
    let expected = combine(&parts).unwrap();
    assert!(expected.column_by_name("values").unwrap().null_count() > 0);
    // Parts still held elsewhere (copied) and parts handed over (the first
    // part's texts appended to in place) give the same table.
    assert_eq!(
        aidlink_delta::combine_owned(parts.clone()).unwrap(),
        expected
    );
    assert_eq!(aidlink_delta::combine_owned(parts).unwrap(), expected);
    assert_eq!(
        aidlink_delta::combine_owned(Vec::new()).unwrap(),
        combine(&[]).unwrap()
    );
}

/// A first period's delta by the calls `first_period_delta` replaces.
fn first_by_parts(
    persons: &RecordBatch,
    events: &RecordBatch,
    flags: &RecordBatch,
    registry: &aidlink_registry::Registry,
    from: Option<Period>,
    to: Period,
) -> Result<RecordBatch, DeltaError> {
    let person = with_events(
        &diff("person", &["person_id"], None, persons, from, to)?,
        events,
        from,
        to,
    )?;
    let flag = diff("flag", &["person_id", "flag"], None, flags, from, to)?;
    let link = aidlink_delta::link_delta(None, registry, from, to)?;
    aidlink_delta::combine_owned(vec![person, flag, link])
}

/// Asserts that `first_period_delta` gives the table, or the error, of the
/// calls it replaces, and returns the table.
fn same_first(
    persons: &RecordBatch,
    events: &RecordBatch,
    flags: &RecordBatch,
    registry: &aidlink_registry::Registry,
    from: Option<Period>,
) -> Option<RecordBatch> {
    let to = p("2026-11");
    let direct = aidlink_delta::first_period_delta(persons, events, flags, registry, from, to);
    let parts = first_by_parts(persons, events, flags, registry, from, to);
    match (direct, parts) {
        (Ok(d), Ok(e)) => {
            assert_eq!(d, e);
            Some(d)
        }
        (Err(d), Err(e)) => {
            assert_eq!(d.to_string(), e.to_string());
            None
        }
        (d, e) => panic!("first_period_delta gave {d:?}, the parts {e:?}"),
    }
}

/// A persons table with every type a persons table uses, rows out of
/// order, and texts JSON must escape.
fn rich_persons(ids: &[&str]) -> RecordBatch {
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{BooleanArray, Date32Array, Int32Array, UInt64Array};
    let n = ids.len();
    let mut sources = ListBuilder::new(StringBuilder::new());
    for i in 0..n {
        for s in 0..i % 3 {
            sources
                .values()
                .append_option((s != 1).then_some("enroll\"ment"));
        }
        sources.append(i % 4 != 3);
    }
    let names = ["张三", "a\"b\\c\n\u{1}", "", "李\t四"];
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("record_count", DataType::UInt64, false),
        Field::new(
            "sources",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            true,
        ),
        Field::new("name", DataType::Utf8, true),
        Field::new("id_valid", DataType::Boolean, true),
        Field::new("birth_date", DataType::Date32, true),
        Field::new("age", DataType::Int32, true),
        Field::new("aid_total", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(ids)),
        Arc::new(UInt64Array::from_iter_values(
            (0..n as u64).map(|i| i * 1_000_003),
        )),
        Arc::new(sources.finish()),
        Arc::new(StringArray::from_iter(
            (0..n).map(|i| (i % 5 != 4).then_some(names[i % 4])),
        )),
        Arc::new(BooleanArray::from_iter(
            (0..n).map(|i| (i % 3 != 2).then_some(i % 2 == 0)),
        )),
        Arc::new(Date32Array::from_iter((0..n as i32).map(|i| {
            (i % 4 != 1).then_some([0, -800_000, 3_000_000, 19_000][i as usize % 4] + i)
        }))),
        Arc::new(Int32Array::from_iter(
            (0..n as i32).map(|i| (i % 3 != 0).then_some(-i)),
        )),
        Arc::new(Float64Array::from_iter((0..n).map(|i| {
            (i % 6 != 5).then_some([0.0, 1e21, f64::NAN, 0.1, -500.5][i % 5])
        }))),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// An events table of (event, person, other person, detail) rows.
fn events_of(rows: &[(&str, &str, Option<&str>)]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| format!("{} of {}", r.0, r.1)),
        )),
    ];
    RecordBatch::try_new(events_schema(), columns).unwrap()
}

#[test]
fn first_period_delta_gives_the_rows_of_the_calls_it_replaces() {
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = assign(
        None,
        &keys(&[
            "enrollment|sno:A",
            "subsidy|hh:1/id:A",
            "enrollment|sno:B",
            "household|id:C",
            "disability|cert:\"D\"",
            "enrollment|sno:E",
        ]),
        &[0, 0, 1, 2, 3, 3],
    );
    let ids = ["P00000003", "P00000001", "P00000004", "P00000002"];
    let people = rich_persons(&ids);
    let flagged = flags(&[
        ("P00000002", "exit_review", "e:1", "z"),
        ("P00000001", "id_conflict", "e:\"2\"", "y"),
        ("P00000002", "eligible_unaided", "e:3", "x"),
    ]);
    // Persons in key order are counted a column at a time, others a row
    // at a time.
    let in_order = rich_persons(&["P00000001", "P00000002", "P00000003", "P00000004"]);
    for (people, from) in [
        (&people, None),
        (&people, Some(p("2026-10"))),
        (&in_order, None),
    ] {
        let d = same_first(people, &first.events, &flagged, &first.registry, from).unwrap();
        assert_eq!(d.num_rows(), 4 + 3 + 6);
        assert_eq!(
            strings(&d, "event").iter().flatten().count(),
            4,
            "every person has its event"
        );
    }

    // Cases the direct path leaves to the calls it replaces: a merge with
    // no delete to land on, two events on one person, an event of a person
    // with no row, persons whose IDs are not text, flag keys that read the
    // same as text.
    let new = |p| ("new", p, None);
    for events in [
        events_of(&[new("P00000001"), ("merge", "P00000002", Some("P00000001"))]),
        events_of(&[new("P00000001"), ("split", "P00000001", Some("P00000002"))]),
        events_of(&[new("P00000009"), ("return", "P00000003", None)]),
        events_of(&[("retire", "P00000004", None)]),
        events_of(&[]),
    ] {
        same_first(&people, &events, &flagged, &first.registry, None).unwrap();
    }
    let numbered = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "person_id",
            DataType::Int64,
            false,
        )])),
        vec![Arc::new(arrow_array::Int64Array::from(vec![3, 1, 2]))],
    )
    .unwrap();
    same_first(&numbered, &events_of(&[]), &flagged, &first.registry, None).unwrap();
    let piped = flags(&[
        ("P1|a", "b", "e:1", "z"),
        ("P1", "a|b", "e:2", "y"),
        ("P1", "a", "e:3", "x"),
    ]);
    same_first(&people, &first.events, &piped, &first.registry, None).unwrap();

    // Empty tables, and the errors of the calls replaced.
    let none = assign(None, &[], &[]);
    let d = same_first(
        &persons(&[]),
        &events_of(&[]),
        &flags(&[]),
        &none.registry,
        None,
    );
    assert_eq!(d.unwrap().num_rows(), 0);
    let twice = rich_persons(&["P00000001", "P00000001"]);
    assert!(same_first(&twice, &first.events, &flagged, &first.registry, None).is_none());
    let bad = events_of(&[new("P00000001"), ("explode", "P00000002", None)]);
    assert!(same_first(&people, &bad, &flagged, &first.registry, None).is_none());
    let dup_flags = flags(&[("P1", "a", "e:1", "z"), ("P1", "a", "e:2", "y")]);
    assert!(same_first(&people, &first.events, &dup_flags, &first.registry, None).is_none());
}
