//! The flag rules on small record tables built in code, one test per rule.

// Test helpers build fixed tables; a failed unwrap there is a broken test.
#![allow(clippy::unwrap_used)]

use aidlink_flag::{
    FlagError, FlagRules, add_evidence_digest, add_evidence_digest_array, carry_since, evaluate,
    stabilize, stabilize_array,
};
use aidlink_vocab::schema::record_schema;
use aidlink_vocab::{CivilDate, Period, ResidentId, Role};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, ListArray, RecordBatch, StringArray,
    UInt64Array,
};
use arrow_schema::DataType;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One synthetic record: its source, row, person and field values as text.
struct Rec {
    source: &'static str,
    row: u64,
    person: &'static str,
    values: Vec<(&'static str, String)>,
}

fn rec(
    source: &'static str,
    row: u64,
    person: &'static str,
    values: &[(&'static str, &str)],
) -> Rec {
    Rec {
        source,
        row,
        person,
        values: values.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

fn days(text: &str) -> i32 {
    let p: Vec<i32> = text.split('-').map(|x| x.parse().unwrap()).collect();
    CivilDate::new(p[0], p[1] as u32, p[2] as u32)
        .unwrap()
        .to_days()
}

/// A valid synthetic ID number of a child born on `birth`.
fn id(birth: &str, seq: u32) -> String {
    let d = CivilDate::from_days(days(birth));
    ResidentId::from_parts("110105", d, seq)
        .unwrap()
        .as_str()
        .to_string()
}

/// A full record table (record_schema) and the person IDs of its rows.
fn table(recs: &[Rec]) -> (RecordBatch, Vec<String>) {
    let schema = record_schema(&[]);
    let get = |r: &Rec, name: &str| {
        r.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            let name = f.name().as_str();
            match (name, f.data_type()) {
                ("source", _) => {
                    Arc::new(StringArray::from_iter_values(recs.iter().map(|r| r.source)))
                }
                ("source_row", _) => {
                    Arc::new(UInt64Array::from_iter_values(recs.iter().map(|r| r.row)))
                }
                (_, DataType::Utf8) => {
                    Arc::new(StringArray::from_iter(recs.iter().map(|r| get(r, name))))
                }
                (_, DataType::Date32) => Arc::new(Date32Array::from_iter(
                    recs.iter().map(|r| get(r, name).map(|v| days(&v))),
                )),
                (_, DataType::Float64) => Arc::new(Float64Array::from_iter(
                    recs.iter()
                        .map(|r| get(r, name).map(|v| v.parse::<f64>().unwrap())),
                )),
                (_, DataType::Boolean) => Arc::new(BooleanArray::from_iter(
                    recs.iter().map(|r| get(r, name).map(|v| v == "true")),
                )),
                (_, t) => panic!("unexpected type {t} of {name}"),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema, columns).unwrap();
    (batch, recs.iter().map(|r| r.person.to_string()).collect())
}

fn roles() -> BTreeMap<String, Vec<Role>> {
    BTreeMap::from([
        ("enrollment".to_string(), vec![Role::Enrollment, Role::Aid]),
        ("subsidy".to_string(), vec![Role::Eligibility]),
        ("household".to_string(), vec![Role::Household]),
        ("disability".to_string(), vec![Role::Eligibility]),
    ])
}

fn period() -> Period {
    Period::parse("2026-11").unwrap()
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<String> {
    let col = batch.column_by_name(name).unwrap();
    let col = col.as_any().downcast_ref::<StringArray>().unwrap();
    (0..col.len()).map(|i| col.value(i).to_string()).collect()
}

fn lists(batch: &RecordBatch, name: &str) -> Vec<Vec<String>> {
    let col = batch.column_by_name(name).unwrap();
    let col = col.as_any().downcast_ref::<ListArray>().unwrap();
    (0..col.len())
        .map(|i| {
            let v = col.value(i);
            let v = v.as_any().downcast_ref::<StringArray>().unwrap();
            (0..v.len()).map(|j| v.value(j).to_string()).collect()
        })
        .collect()
}

/// The flags raised, as `person flag` lines.
fn raised(recs: &[Rec], rules: &FlagRules) -> Vec<String> {
    let (batch, persons) = table(recs);
    let out = evaluate(&batch, &persons, &roles(), rules, period()).unwrap();
    let p = strings(&out.flags, "person_id");
    let f = strings(&out.flags, "flag");
    p.iter().zip(&f).map(|(p, f)| format!("{p} {f}")).collect()
}

fn enrolled(row: u64, person: &'static str, school: &str, aid: Option<&str>) -> Rec {
    let mut values = vec![
        ("school", school.to_string()),
        ("student_no", format!("G{row}")),
    ];
    if let Some(a) = aid {
        values.push(("aid_type", a.to_string()));
        values.push(("aid_amount", "1000".to_string()));
    }
    Rec {
        source: "enrollment",
        row,
        person,
        values,
    }
}

fn case(row: u64, person: &'static str, kind: &str, status: &str, end: Option<&str>) -> Rec {
    let mut values = vec![
        ("subsidy_type", kind.to_string()),
        ("subsidy_status", status.to_string()),
        ("household_no", "H1".to_string()),
    ];
    if let Some(e) = end {
        values.push(("end_month", e.to_string()));
    }
    Rec {
        source: "subsidy",
        row,
        person,
        values,
    }
}

#[test]
fn eligible_unaided_needs_enrollment_an_active_eligible_case_and_no_aid() {
    let rules = FlagRules::default();
    let recs = [
        enrolled(1, "P1", "一中", None),
        case(1, "P1", "dibao", "active", None),
        // Aided: not flagged.
        enrolled(2, "P2", "一中", Some("助学金")),
        case(2, "P2", "tekun", "active", None),
        // Stopped case and temporary relief do not make a child eligible.
        enrolled(3, "P3", "二中", None),
        case(3, "P3", "dibao", "stopped", Some("2026-10")),
        enrolled(4, "P4", "二中", None),
        case(4, "P4", "linshi", "active", None),
        // A disability certificate does.
        enrolled(5, "P5", "二中", None),
        rec("disability", 1, "P5", &[("certificate_no", "X1")]),
    ];
    assert_eq!(
        raised(&recs, &rules),
        ["P1 eligible_unaided", "P5 eligible_unaided"]
    );
    let no_disability = FlagRules {
        disability_eligible: false,
        ..FlagRules::default()
    };
    assert_eq!(raised(&recs, &no_disability), ["P1 eligible_unaided"]);
}

#[test]
fn eligible_unaided_carries_rule_evidence_and_details() {
    let recs = [
        enrolled(7, "P1", "一中", None),
        case(12, "P1", "dibao", "active", None),
    ];
    let (batch, persons) = table(&recs);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    assert_eq!(
        lists(&out.flags, "evidence"),
        [vec!["enrollment:7", "subsidy:12"]]
    );
    assert_eq!(strings(&out.flags, "since"), ["2026-11"]);
    assert_eq!(
        strings(&out.flags, "details"),
        [r#"{"basis":["dibao"],"schools":["一中"]}"#]
    );
    assert!(strings(&out.flags, "rule")[0].contains("dibao/tekun"));
}

#[test]
fn duplicate_aid_counts_aid_records_and_non_stacking_types() {
    let recs = [
        enrolled(1, "P1", "一中", Some("助学金")),
        enrolled(2, "P1", "一中", Some("助学金")),
        enrolled(3, "P2", "一中", Some("助学金;营养餐")),
        // A duplicate roster row without aid is not a second payment.
        enrolled(4, "P3", "一中", Some("助学金")),
        enrolled(5, "P3", "一中", None),
    ];
    assert_eq!(raised(&recs, &FlagRules::default()), ["P1 duplicate_aid"]);
    let rules = FlagRules {
        non_stacking_aid: vec![vec!["助学金".into(), "营养餐".into()]],
        ..FlagRules::default()
    };
    assert_eq!(
        raised(&recs, &rules),
        ["P1 duplicate_aid", "P2 duplicate_aid"]
    );
}

#[test]
fn exit_review_waits_the_configured_months_after_the_case_stopped() {
    let recs = [
        enrolled(1, "P1", "一中", Some("助学金")),
        case(1, "P1", "dibao", "stopped", Some("2026-07")),
        // Stopped two months ago: still within the grace period.
        enrolled(2, "P2", "一中", Some("助学金")),
        case(2, "P2", "dibao", "stopped", Some("2026-09")),
        // Still eligible through another case.
        enrolled(3, "P3", "一中", Some("助学金")),
        case(3, "P3", "dibao", "stopped", Some("2025-01")),
        case(4, "P3", "tekun", "active", None),
        // Not aided.
        enrolled(4, "P4", "一中", None),
        case(5, "P4", "dibao", "stopped", Some("2025-01")),
    ];
    let (batch, persons) = table(&recs);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    assert_eq!(strings(&out.flags, "person_id"), ["P1"]);
    assert_eq!(strings(&out.flags, "flag"), ["exit_review"]);
    assert_eq!(strings(&out.flags, "since"), ["2026-07"]);
    assert_eq!(
        lists(&out.flags, "evidence"),
        [vec!["enrollment:1", "subsidy:1"]]
    );
    let two = FlagRules {
        exit_review_months: 2,
        ..FlagRules::default()
    };
    assert_eq!(raised(&recs, &two), ["P1 exit_review", "P2 exit_review"]);
}

#[test]
fn out_of_school_risk_uses_the_id_birth_date_over_the_recorded_one() {
    let child = id("2016-05-01", 11);
    let teen = id("2010-01-01", 13);
    let recs = [
        // Ten years old by the ID, sixteen by the (wrong) recorded date.
        rec(
            "subsidy",
            1,
            "P1",
            &[
                ("subsidy_type", "dibao"),
                ("subsidy_status", "active"),
                ("id_number", &child),
                ("id_check_ok", "true"),
                ("id_birth_date", "2016-05-01"),
                ("birth_date", "2010-05-01"),
            ],
        ),
        // Sixteen: past school age.
        rec(
            "subsidy",
            2,
            "P2",
            &[
                ("subsidy_type", "dibao"),
                ("subsidy_status", "active"),
                ("id_number", &teen),
                ("id_check_ok", "true"),
                ("id_birth_date", "2010-01-01"),
            ],
        ),
        // No valid ID: the recorded birth date decides; enrolled, so no flag.
        rec(
            "subsidy",
            3,
            "P3",
            &[
                ("subsidy_type", "tekun"),
                ("subsidy_status", "active"),
                ("birth_date", "2015-01-01"),
            ],
        ),
        enrolled(1, "P3", "一中", Some("助学金")),
        rec(
            "subsidy",
            4,
            "P4",
            &[
                ("subsidy_type", "tekun"),
                ("subsidy_status", "active"),
                ("birth_date", "2015-01-01"),
            ],
        ),
    ];
    let (batch, persons) = table(&recs);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    let risk: Vec<String> = strings(&out.flags, "person_id")
        .into_iter()
        .zip(strings(&out.flags, "flag"))
        .filter(|(_, f)| f == "out_of_school_risk")
        .map(|(p, _)| p)
        .collect();
    assert_eq!(risk, ["P1", "P4"]);
    let details = strings(&out.flags, "details");
    assert!(
        details[0].contains(r#""age":10"#)
            && details[0].contains(r#""birth_date_from":"id_number""#)
    );
}

#[test]
fn multi_enrollment_needs_two_distinct_schools() {
    let recs = [
        enrolled(1, "P1", "一中", None),
        enrolled(2, "P1", "二中", None),
        enrolled(3, "P2", "一中", None),
        enrolled(4, "P2", "一中", None),
    ];
    assert_eq!(
        raised(&recs, &FlagRules::default()),
        ["P1 multi_enrollment"]
    );
}

#[test]
fn id_conflict_flags_every_person_sharing_a_valid_id_and_masks_it() {
    let shared = id("2014-02-03", 21);
    let bad = format!("{}0", &shared[..17]);
    let with_id = |source, row, person, id: &str, ok: &str| {
        rec(
            source,
            row,
            person,
            &[("id_number", id), ("id_check_ok", ok)],
        )
    };
    let recs = [
        with_id("household", 1, "P1", &shared, "true"),
        with_id("household", 2, "P2", &shared, "true"),
        with_id("household", 3, "P2", &shared, "true"),
        // An invalid ID shared by two persons is not a conflict of valid IDs.
        with_id("household", 4, "P3", &bad, "false"),
        with_id("household", 5, "P4", &bad, "false"),
    ];
    let (batch, persons) = table(&recs);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    assert_eq!(strings(&out.flags, "person_id"), ["P1", "P2"]);
    assert_eq!(
        lists(&out.flags, "evidence")[0],
        ["household:1", "household:2", "household:3"]
    );
    let details = strings(&out.flags, "details");
    assert!(
        !details[0].contains(&shared),
        "details must not carry the full ID: {}",
        details[0]
    );
    assert!(
        details[0].contains(r#""other_persons":["P2"]"#),
        "{}",
        details[0]
    );
}

#[test]
fn id_mismatch_lists_each_contradicted_field() {
    let recs = [
        rec(
            "household",
            9,
            "P1",
            &[
                ("id_check_ok", "true"),
                ("birth_matches_id", "false"),
                ("gender_matches_id", "true"),
                ("birth_date", "2012-03-05"),
                ("id_birth_date", "2012-03-06"),
            ],
        ),
        // A failed check digit says nothing reliable about the birth date.
        rec(
            "household",
            10,
            "P2",
            &[("id_check_ok", "false"), ("birth_matches_id", "false")],
        ),
    ];
    let (batch, persons) = table(&recs);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    assert_eq!(strings(&out.flags, "flag"), ["id_mismatch"]);
    assert_eq!(
        strings(&out.flags, "details"),
        [
            r#"{"mismatches":[{"field":"birth_date","id_says":"2012-03-06","record":"household:9","recorded":"2012-03-05"}]}"#
        ]
    );
}

#[test]
fn persons_table_summarizes_each_person_once() {
    let child = id("2015-06-01", 31);
    let recs = [
        rec(
            "subsidy",
            1,
            "P2",
            &[
                ("name", "刘洋"),
                ("id_number", &child),
                ("id_check_ok", "true"),
                ("id_birth_date", "2015-06-01"),
                ("id_gender", "M"),
                ("county", "东城区"),
                ("subsidy_type", "dibao"),
                ("subsidy_status", "active"),
            ],
        ),
        rec(
            "enrollment",
            4,
            "P2",
            &[("name", "刘洋"), ("school", "一中"), ("gender", "F")],
        ),
        rec(
            "enrollment",
            5,
            "P2",
            &[("name", "劉洋"), ("school", "一中"), ("aid_amount", "500")],
        ),
        rec("household", 1, "P1", &[("name", "王芳")]),
    ];
    let (batch, persons) = table(&recs);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    let p = &out.persons;
    assert_eq!(strings(p, "person_id"), ["P1", "P2"]);
    assert_eq!(strings(p, "name"), ["王芳", "刘洋"]);
    assert_eq!(lists(p, "sources")[1], ["enrollment", "subsidy"]);
    assert_eq!(lists(p, "eligibility_basis")[1], ["dibao"]);
    // The ID's gender wins over a recorded one.
    assert_eq!(strings(p, "gender")[1], "M");
    let total = p
        .column_by_name("aid_total")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(total.value(1), 500.0);
    let age = p
        .column_by_name("age")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::Int32Array>()
        .unwrap();
    assert!(age.is_null(0));
    assert_eq!(age.value(1), 11);
    assert_eq!(lists(p, "flags"), [Vec::<String>::new(), vec![]]);
}

#[test]
fn output_does_not_depend_on_record_order() {
    let make = || {
        vec![
            enrolled(1, "P1", "一中", None),
            enrolled(2, "P1", "二中", None),
            case(1, "P1", "dibao", "active", None),
            enrolled(3, "P2", "一中", Some("助学金")),
            enrolled(4, "P2", "一中", Some("助学金")),
            case(2, "P2", "dibao", "stopped", Some("2020-01")),
        ]
    };
    let forward = make();
    let mut backward = make();
    backward.reverse();
    let (a, pa) = table(&forward);
    let (b, pb) = table(&backward);
    let oa = evaluate(&a, &pa, &roles(), &FlagRules::default(), period()).unwrap();
    let ob = evaluate(&b, &pb, &roles(), &FlagRules::default(), period()).unwrap();
    assert_eq!(oa.persons, ob.persons);
    assert_eq!(oa.flags, ob.flags);
    assert_eq!(oa.flags.num_rows(), 4);
}

#[test]
fn errors_name_what_is_wrong() {
    let (batch, persons) = table(&[rec("health", 3, "P1", &[])]);
    let err = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap_err();
    assert!(matches!(err, FlagError::UnknownSource { row: 3, .. }));
    assert!(err.to_string().contains("`health`"), "{err}");
    let err = evaluate(&batch, &[], &roles(), &FlagRules::default(), period()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "0 person IDs for 1 records, expected one per record"
    );
}

#[test]
fn carry_since_keeps_the_earlier_month() {
    let recs = [
        enrolled(1, "P1", "一中", None),
        enrolled(2, "P1", "二中", None),
    ];
    let (batch, persons) = table(&recs);
    let earlier = evaluate(
        &batch,
        &persons,
        &roles(),
        &FlagRules::default(),
        Period::parse("2026-09").unwrap(),
    )
    .unwrap()
    .flags;
    let now = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period())
        .unwrap()
        .flags;
    assert_eq!(strings(&now, "since"), ["2026-11"]);
    let carried = carry_since(&earlier, &now).unwrap();
    assert_eq!(strings(&carried, "since"), ["2026-09"]);
    // Nothing else changes.
    assert_eq!(strings(&carried, "details"), strings(&now, "details"));
}

#[test]
fn evidence_digest_follows_records_not_rows() {
    let rules = FlagRules::default();
    let digest = |recs: &[Rec], keys: &[&str]| {
        let (batch, persons) = table(recs);
        let flags = evaluate(&batch, &persons, &roles(), &rules, period())
            .unwrap()
            .flags;
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let digested = add_evidence_digest(&flags, &batch, &keys).unwrap();
        // The keys as one array give the same table, and so does stabilize.
        let array = StringArray::from_iter_values(&keys);
        assert_eq!(
            add_evidence_digest_array(&flags, &batch, &array).unwrap(),
            digested
        );
        assert_eq!(
            stabilize_array(&flags, None, &batch, &array).unwrap(),
            digested
        );
        strings(&digested, "evidence_digest")
    };
    let this_month = digest(
        &[
            enrolled(1, "P1", "一中", None),
            enrolled(2, "P1", "二中", None),
        ],
        &["enrollment|sno:A", "enrollment|sno:B"],
    );
    // Next month the same two records sit on other rows of the file.
    let moved = digest(
        &[
            enrolled(8, "P1", "二中", None),
            enrolled(9, "P1", "一中", None),
        ],
        &["enrollment|sno:B", "enrollment|sno:A"],
    );
    let other = digest(
        &[
            enrolled(1, "P1", "一中", None),
            enrolled(2, "P1", "二中", None),
        ],
        &["enrollment|sno:A", "enrollment|sno:C"],
    );
    assert_eq!(this_month, moved);
    assert_ne!(this_month, other);
    assert_eq!(this_month[0].len(), 20);
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let recs: Vec<Rec> = (0..200u64)
        .flat_map(|i| {
            let person: &'static str = Box::leak(format!("P{:08}", i % 70).into_boxed_str());
            [
                enrolled(
                    i,
                    person,
                    if i % 3 == 0 { "一中" } else { "二中" },
                    (i % 4 == 0).then_some("助学金"),
                ),
                case(
                    i,
                    person,
                    "dibao",
                    if i % 5 == 0 { "stopped" } else { "active" },
                    Some("2025-01"),
                ),
            ]
        })
        .collect();
    let (batch, persons) = table(&recs);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap()
        })
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(one.persons, four.persons);
    assert_eq!(one.flags, four.flags);
    assert!(one.flags.num_rows() > 0);
}

#[test]
fn id_conflict_inside_one_person_needs_another_name_and_a_contradiction() {
    let guardian = id("1985-03-01", 31);
    let row = |row, name: &str, pinyin: &str, birth_ok: &str| {
        let mut r = rec(
            "household",
            row,
            "P1",
            &[
                ("id_number", &guardian),
                ("id_check_ok", "true"),
                ("birth_matches_id", birth_ok),
            ],
        );
        r.values.push(("name", name.to_string()));
        r.values.push(("name_pinyin", pinyin.to_string()));
        r
    };
    // The guardian's own row, and a child's row carrying the guardian's ID
    // (the matcher linked them on it): a different name, a contradicted birth date.
    let linked = [
        row(1, "王建国", "wang jian guo", "true"),
        row(2, "王小明", "wang xiao ming", "false"),
    ];
    assert_eq!(
        raised(&linked, &FlagRules::default()),
        ["P1 id_conflict", "P1 id_mismatch"]
    );
    // A mistyped birth day under the same name is only a mismatch.
    let typo = [
        row(1, "王建国", "wang jian guo", "true"),
        row(2, "王建國", "wang jian guo", "false"),
    ];
    assert_eq!(raised(&typo, &FlagRules::default()), ["P1 id_mismatch"]);
}

#[test]
fn stabilize_adds_the_digest_and_carries_since() {
    let recs = [
        enrolled(1, "P1", "一中", None),
        enrolled(2, "P1", "二中", None),
    ];
    let (batch, persons) = table(&recs);
    let keys = vec![
        "enrollment|sno:A".to_string(),
        "enrollment|sno:B".to_string(),
    ];
    let run = |p: &str| {
        evaluate(
            &batch,
            &persons,
            &roles(),
            &FlagRules::default(),
            Period::parse(p).unwrap(),
        )
        .unwrap()
        .flags
    };
    let first = stabilize(&run("2026-09"), None, &batch, &keys).unwrap();
    let second = stabilize(&run("2026-11"), Some(&first), &batch, &keys).unwrap();
    assert_eq!(strings(&second, "since"), ["2026-09"]);
    assert_eq!(
        strings(&second, "evidence_digest"),
        strings(&first, "evidence_digest")
    );
}

#[test]
fn a_person_without_aid_totals_plain_zero_not_negative_zero() {
    let (batch, persons) = table(&[
        enrolled(1, "P1", "S1", None),
        enrolled(2, "P2", "S1", Some("国家助学金")),
    ]);
    let out = evaluate(&batch, &persons, &roles(), &FlagRules::default(), period()).unwrap();
    let col = out.persons.column_by_name("aid_total").unwrap();
    let totals = col
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .unwrap();
    let ids = strings(&out.persons, "person_id");
    let p1 = ids.iter().position(|p| p == "P1").unwrap();
    assert_eq!(
        totals.value(p1).to_bits(),
        0.0f64.to_bits(),
        "P1 has no aid"
    );
    let p2 = ids.iter().position(|p| p == "P2").unwrap();
    assert_eq!(totals.value(p2), 1000.0);
}
