//! Batch-level tests of `normalize_source`: the record and rejects tables a
//! messy synthetic extract produces, the accounting invariant, and
//! independence from the number of threads.

// Test helpers build fixed synthetic data; a failure there is a test bug.
#![allow(clippy::unwrap_used)]

use aidlink_config::Config;
use aidlink_normalize::{CHUNK_ROWS, Normalized, normalize_source};
use aidlink_vocab::schema::{raw_schema, record_schema, rejects_schema};
use aidlink_vocab::{CivilDate, ResidentId};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use std::path::Path;
use std::sync::Arc;

const CONFIG: &str = r#"
[fields]
passport = "exact_code"

[sources.school]
path = "school.csv"
roles = ["enrollment", "aid"]

[sources.school.columns]
name = "姓名"
id_number = "身份证号"
gender = "性别"
birth_date = "出生日期"
guardian_name = "监护人"
phone = "电话"
aid_amount = "金额"
passport = "护照"

[sources.school.values.gender]
"1" = "M"
"2" = "F"

[sources.subsidy]
path = "subsidy.csv"
roles = ["eligibility"]

[sources.subsidy.columns]
name = "成员姓名"
id_number = "成员身份证号"
subsidy_type = "救助类型"
subsidy_status = "保障状态"
start_month = "起始年月"

[sources.subsidy.values.subsidy_type]
"城市低保" = "dibao"
"#;

fn config() -> Config {
    Config::from_text(Path::new("/tmp/aidlink.toml"), CONFIG.to_string()).unwrap()
}

/// A synthetic ID with a valid check character.
fn id(area: &str, y: i32, m: u32, d: u32, seq: u32) -> String {
    ResidentId::from_parts(area, CivilDate::new(y, m, d).unwrap(), seq)
        .unwrap()
        .as_str()
        .to_string()
}

/// Builds a raw table from (field, cells) columns; rows are numbered from 1.
fn raw(columns: &[(&str, Vec<Option<&str>>)]) -> RecordBatch {
    let n = columns[0].1.len();
    let schema = raw_schema(columns.iter().map(|(f, _)| *f));
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(1..=n as u64))];
    for (_, cells) in columns {
        arrays.push(Arc::new(StringArray::from(cells.clone())));
    }
    RecordBatch::try_new(schema, arrays).unwrap()
}

fn text(batch: &RecordBatch, col: &str) -> Vec<Option<String>> {
    batch
        .column_by_name(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn bools(batch: &RecordBatch, col: &str) -> Vec<Option<bool>> {
    batch
        .column_by_name(col)
        .unwrap()
        .as_boolean()
        .iter()
        .collect()
}

fn school_extract() -> (RecordBatch, Vec<String>) {
    let ids = vec![
        id("440106", 2012, 3, 5, 123),
        id("440106", 2013, 7, 1, 244),
        id("110105", 2011, 1, 9, 31),
        id("440106", 1975, 3, 5, 123),
    ];
    // Row 2: the same ID typed with full-width digits.
    let fullwidth: String = ids[1]
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c))
        .collect();
    let mut bad_check = ids[2].clone().into_bytes();
    bad_check[17] = if bad_check[17] == b'0' { b'1' } else { b'0' };
    let bad_check = String::from_utf8(bad_check).unwrap();
    // Row 4: an old 15-digit number (the century is always 19).
    let id15 = format!("{}{}", &ids[3][..6], &ids[3][8..17]);
    let cells: Vec<String> = vec![ids[0].clone(), fullwidth, bad_check, id15];
    let c = |i: usize| Some(cells[i].as_str());
    let batch = raw(&[
        (
            "name",
            vec![
                Some("张伟"),
                Some("劉娜"),
                Some("阿依古丽•买买提"),
                Some(" 欧阳 娜娜"),
                None,
                Some("不详"),
                Some("曾小贤"),
            ],
        ),
        (
            "id_number",
            vec![c(0), c(1), c(2), c(3), Some("4.40106E+17"), None, None],
        ),
        (
            "gender",
            vec![
                Some("1"),
                Some("2"),
                Some("女"),
                Some("9"),
                Some("1"),
                None,
                Some("M"),
            ],
        ),
        (
            "birth_date",
            vec![
                Some("2012-03-05"),
                Some("2013/7/1"),
                Some("2011年1月9日"),
                Some("20120306"),
                Some("2013-02-30"),
                None,
                Some("40973"),
            ],
        ),
        (
            "guardian_name",
            vec![Some("张建国"), None, None, None, None, None, Some("张建国")],
        ),
        (
            "phone",
            vec![
                Some("+86 138 1234 5678"),
                Some("010-12345678"),
                None,
                Some("12"),
                None,
                None,
                None,
            ],
        ),
        (
            "aid_amount",
            vec![
                Some("¥1,000"),
                None,
                Some("500元"),
                None,
                Some("x"),
                None,
                None,
            ],
        ),
        (
            "passport",
            vec![Some(" e123 "), None, None, None, None, None, None],
        ),
    ]);
    (batch, ids)
}

fn run(source: &str, batch: &RecordBatch) -> Normalized {
    normalize_source(&config(), source, batch).unwrap()
}

#[test]
fn every_input_row_is_a_record_or_a_reject() {
    let (batch, _) = school_extract();
    let out = run("school", &batch);
    assert_eq!(
        out.records.num_rows() + out.rejects.num_rows(),
        batch.num_rows()
    );
    assert_eq!(out.records.schema(), record_schema(&config().extra_fields));
    assert_eq!(out.rejects.schema(), rejects_schema());
}

#[test]
fn rows_without_name_or_id_are_rejected_with_their_raw_text() {
    let (batch, _) = school_extract();
    let out = run("school", &batch);
    // Row 5 (no name, ID destroyed) and row 6 (placeholder name, no ID).
    let rows: Vec<u64> = out
        .rejects
        .column(1)
        .as_primitive::<arrow_array::types::UInt64Type>()
        .values()
        .to_vec();
    assert_eq!(rows, vec![5, 6]);
    assert_eq!(
        text(&out.rejects, "reason"),
        vec![Some("no_identity".into()), Some("no_identity".into())]
    );
    let messages = text(&out.rejects, "message");
    let m5 = messages[0].as_deref().unwrap();
    assert!(
        m5.contains("row 5") && m5.contains("school") && m5.contains("scientific notation"),
        "{m5}"
    );
    assert!(messages[1].as_deref().unwrap().contains("placeholder"));
    let raw5 = text(&out.rejects, "raw")[0].clone().unwrap();
    assert_eq!(
        raw5,
        "姓名=|身份证号=4.40106E+17|性别=1|出生日期=2013-02-30|监护人=|电话=|金额=x|护照="
    );
    // Accepted rows keep input order.
    let kept: Vec<u64> = out
        .records
        .column(1)
        .as_primitive::<arrow_array::types::UInt64Type>()
        .values()
        .to_vec();
    assert_eq!(kept, vec![1, 2, 3, 4, 7]);
}

#[test]
fn fields_are_normalized_and_noted() {
    let (batch, ids) = school_extract();
    let out = run("school", &batch);
    let r = &out.records;
    assert_eq!(
        text(r, "name"),
        vec![
            Some("张伟".into()),
            Some("刘娜".into()),
            Some("阿依古丽买买提".into()),
            Some("欧阳娜娜".into()),
            Some("曾小贤".into())
        ]
    );
    assert_eq!(
        text(r, "name_pinyin"),
        vec![
            Some("zhang wei".into()),
            Some("liu na".into()),
            Some("a yi gu li mai mai ti".into()),
            Some("ou yang na na".into()),
            Some("zeng xiao xian".into())
        ]
    );
    let id_col = text(r, "id_number");
    assert_eq!(id_col[0].as_deref(), Some(ids[0].as_str()));
    assert_eq!(id_col[1].as_deref(), Some(ids[1].as_str()));
    // The 15-digit form converts to its 18-digit number.
    assert_eq!(id_col[3].as_deref(), Some(ids[3].as_str()));
    assert_eq!(id_col[4], None);
    assert_eq!(
        bools(r, "id_check_ok"),
        vec![Some(true), Some(true), Some(false), Some(true), None]
    );
    assert_eq!(
        text(r, "gender"),
        vec![
            Some("M".into()),
            Some("F".into()),
            Some("F".into()),
            None,
            Some("M".into())
        ]
    );
    assert_eq!(text(r, "id_gender")[0].as_deref(), Some("M"));
    assert_eq!(text(r, "id_area")[2].as_deref(), Some("110105"));
    let birth: Vec<Option<i32>> = r
        .column_by_name("birth_date")
        .unwrap()
        .as_primitive::<Date32Type>()
        .iter()
        .collect();
    let day = |y, m, d| Some(CivilDate::new(y, m, d).unwrap().to_days());
    assert_eq!(
        birth,
        vec![
            day(2012, 3, 5),
            day(2013, 7, 1),
            day(2011, 1, 9),
            day(2012, 3, 6),
            day(2012, 3, 5)
        ]
    );
    let id_birth: Vec<Option<i32>> = r
        .column_by_name("id_birth_date")
        .unwrap()
        .as_primitive::<Date32Type>()
        .iter()
        .collect();
    assert_eq!(
        id_birth[..4],
        [
            day(2012, 3, 5),
            day(2013, 7, 1),
            day(2011, 1, 9),
            day(1975, 3, 5)
        ]
    );
    // Row 4's recorded birth date contradicts its ID; row 3 is female by record,
    // male by ID (sequence 031 is odd); the last row has no ID.
    assert_eq!(
        bools(r, "birth_matches_id"),
        vec![Some(true), Some(true), Some(true), Some(false), None]
    );
    assert_eq!(
        bools(r, "gender_matches_id"),
        vec![Some(true), Some(true), Some(false), None, None]
    );
    assert_eq!(
        text(r, "phone")[..2],
        [Some("13812345678".into()), Some("01012345678".into())]
    );
    let amounts: Vec<Option<f64>> = r
        .column_by_name("aid_amount")
        .unwrap()
        .as_primitive::<Float64Type>()
        .iter()
        .collect();
    assert_eq!(amounts, vec![Some(1000.0), None, Some(500.0), None, None]);
    assert_eq!(text(r, "passport")[0].as_deref(), Some("E123"));
    assert_eq!(
        text(r, "guardian_name_pinyin")[0].as_deref(),
        Some("zhang jian guo")
    );
    // A field the source does not map is an all-null column.
    assert_eq!(
        r.column_by_name("school").unwrap().null_count(),
        r.num_rows()
    );
    assert_eq!(
        text(r, "notes"),
        vec![
            Some("passport_case;passport_spaces;phone_country_code;phone_spaces".into()),
            Some("id_fullwidth;name_traditional;phone_separators".into()),
            Some("id_check_failed;name_dot".into()),
            Some("gender_invalid;id_15_to_18;name_spaces;phone_invalid".into()),
            Some("birth_date_excel_serial".into()),
        ]
    );
    assert_eq!(out.id_present, 4);
    assert_eq!(out.id_check_failed, 1);
    assert_eq!(out.note_counts.get("name_traditional"), Some(&1));
    assert_eq!(out.note_counts.get("id_check_failed"), Some(&1));
    // Notes of rejected rows are not counted.
    assert_eq!(out.note_counts.get("id_scientific_notation"), None);
}

#[test]
fn passport_notes_name_the_extra_field() {
    let (batch, _) = school_extract();
    let out = run("school", &batch);
    assert_eq!(out.note_counts.get("passport_case"), Some(&1));
    assert_eq!(out.note_counts.get("passport_spaces"), Some(&1));
}

#[test]
fn value_mappings_and_built_in_readings() {
    let batch = raw(&[
        (
            "name",
            vec![Some("王芳"), Some("王芳"), Some("王芳"), Some("王芳")],
        ),
        (
            "subsidy_type",
            vec![Some("城市低保"), Some("特困供养"), Some("助学金"), None],
        ),
        (
            "subsidy_status",
            vec![Some("在保"), Some("停保"), Some("暂停"), None],
        ),
        (
            "start_month",
            vec![
                Some("2026年5月"),
                Some("202605"),
                Some("2026-05-01"),
                Some("2026-13"),
            ],
        ),
    ]);
    let out = run("subsidy", &batch);
    let r = &out.records;
    assert_eq!(r.num_rows(), 4);
    assert_eq!(
        text(r, "subsidy_type"),
        vec![
            Some("dibao".into()),
            Some("tekun".into()),
            Some("助学金".into()),
            None
        ]
    );
    assert_eq!(
        text(r, "subsidy_status"),
        vec![
            Some("active".into()),
            Some("stopped".into()),
            Some("暂停".into()),
            None
        ]
    );
    assert_eq!(
        text(r, "start_month"),
        vec![
            Some("2026-05".into()),
            Some("2026-05".into()),
            Some("2026-05".into()),
            None
        ]
    );
    assert_eq!(
        text(r, "notes"),
        vec![
            None,
            None,
            Some("start_month_day_dropped;subsidy_status_unmapped;subsidy_type_unmapped".into()),
            Some("start_month_invalid".into())
        ]
    );
    // No id_number column: the derived columns are null.
    assert_eq!(r.column_by_name("id_check_ok").unwrap().null_count(), 4);
    assert_eq!(out.id_present, 0);
}

#[test]
fn structural_problems_are_typed_errors() {
    let (batch, _) = school_extract();
    let err = normalize_source(&config(), "nope", &batch)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope") && err.contains("school, subsidy"),
        "{err}"
    );
    let odd = raw(&[("nmae", vec![Some("x")])]);
    let err = normalize_source(&config(), "school", &odd)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nmae") && err.contains("id_number"), "{err}");
    let no_row =
        RecordBatch::try_from_iter([("name", Arc::new(StringArray::from(vec!["x"])) as ArrayRef)])
            .unwrap();
    let err = normalize_source(&config(), "school", &no_row)
        .unwrap_err()
        .to_string();
    assert!(err.contains("source_row"), "{err}");
}

#[test]
fn empty_input_gives_empty_tables() {
    let batch = raw(&[("name", vec![]), ("id_number", vec![])]);
    let out = run("school", &batch);
    assert_eq!(out.records.num_rows(), 0);
    assert_eq!(out.rejects.num_rows(), 0);
}

/// Several chunks of synthetic rows, some rejected, in a fixed pattern.
fn many_rows(n: usize) -> RecordBatch {
    let surnames = ["张", "劉", "曾", "欧阳", "章", "朴"];
    let names: Vec<Option<String>> = (0..n)
        .map(|i| {
            (i % 97 != 0).then(|| {
                format!(
                    "{}{}",
                    surnames[i % surnames.len()],
                    ["伟", "娜", "國強"][i % 3]
                )
            })
        })
        .collect();
    let ids: Vec<Option<String>> = (0..n)
        .map(|i| {
            (i % 89 != 0).then(|| {
                let d = CivilDate::from_days(14_000 + (i % 3000) as i32);
                ResidentId::from_parts("440106", d, (i % 1000) as u32)
                    .unwrap()
                    .as_str()
                    .to_string()
            })
        })
        .collect();
    let dates: Vec<Option<String>> = (0..n)
        .map(|i| Some(format!("2012/{}/{}", 1 + i % 12, 1 + i % 28)))
        .collect();
    raw(&[
        ("name", names.iter().map(Option::as_deref).collect()),
        ("id_number", ids.iter().map(Option::as_deref).collect()),
        ("birth_date", dates.iter().map(Option::as_deref).collect()),
    ])
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let n = CHUNK_ROWS * 2 + 1234;
    let batch = many_rows(n);
    let with_threads = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run("school", &batch))
    };
    let one = with_threads(1);
    let four = with_threads(4);
    assert_eq!(one.records, four.records);
    assert_eq!(one.rejects, four.rejects);
    assert_eq!(one.note_counts, four.note_counts);
    // Rows with neither name (every 97th) nor ID (every 89th) are rejected.
    let expected_rejects = (0..n).filter(|i| i % 97 == 0 && i % 89 == 0).count();
    assert_eq!(one.rejects.num_rows(), expected_rejects);
    assert_eq!(one.records.num_rows() + one.rejects.num_rows(), n);
    assert!(one.note_counts["name_traditional"] > 0);
}

/// One synthetic row's name, ID, date-like and short cells.
type Cells = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever the cells hold, nothing panics and every row is a record
    /// or a reject.
    #[test]
    fn arbitrary_cells_are_accounted_for(
        rows in proptest::collection::vec(
            (
                proptest::option::of("\\PC{0,8}"),
                proptest::option::of("[0-9xX ４.E+-]{0,20}"),
                proptest::option::of("\\PC{0,12}"),
                proptest::option::of("\\PC{0,6}"),
            ),
            0..40,
        )
    ) {
        let col = |f: fn(&Cells) -> &Option<String>| rows.iter().map(|r| f(r).as_deref()).collect::<Vec<_>>();
        let batch = raw(&[
            ("name", col(|r| &r.0)),
            ("id_number", col(|r| &r.1)),
            ("birth_date", col(|r| &r.2)),
            ("gender", col(|r| &r.3)),
            ("phone", col(|r| &r.2)),
            ("aid_amount", col(|r| &r.3)),
        ]);
        let out = run("school", &batch);
        proptest::prop_assert_eq!(out.records.num_rows() + out.rejects.num_rows(), rows.len());
        proptest::prop_assert!(out.id_check_failed <= out.id_present);
    }
}

/// A subsidy roster: mapped and unmapped types, months, a row without
/// name or ID, and no birth date or gender column at all.
fn subsidy_extract(n: usize) -> RecordBatch {
    let names: Vec<Option<String>> = (0..n)
        .map(|i| (i % 50 != 7).then(|| format!("{}娜", ["王", "劉", "欧阳"][i % 3])))
        .collect();
    let ids: Vec<Option<String>> = (0..n)
        .map(|i| {
            (i % 40 != 7).then(|| {
                let d = CivilDate::from_days(15_000 + i as i32);
                ResidentId::from_parts("440104", d, (i % 900) as u32 + 1)
                    .unwrap()
                    .as_str()
                    .to_string()
            })
        })
        .collect();
    let types: Vec<Option<&str>> = (0..n)
        .map(|i| [Some("城市低保"), Some("特困"), None, Some("别的")][i % 4])
        .collect();
    let months: Vec<Option<String>> = (0..n)
        .map(|i| Some(format!("2025{:02}", 1 + i % 12)))
        .collect();
    raw(&[
        ("id_number", ids.iter().map(Option::as_deref).collect()),
        ("name", names.iter().map(Option::as_deref).collect()),
        ("start_month", months.iter().map(Option::as_deref).collect()),
        ("subsidy_type", types),
    ])
}

#[test]
fn several_sources_together_equal_each_alone_concatenated() {
    let (school, _) = school_extract();
    let big = many_rows(CHUNK_ROWS + 777);
    let subsidy = subsidy_extract(2_000);
    let inputs: Vec<(&str, &RecordBatch)> =
        vec![("school", &school), ("subsidy", &subsidy), ("school", &big)];
    let schema = record_schema(&config().extra_fields);
    let alone: Vec<Normalized> = inputs.iter().map(|(s, b)| run(s, b)).collect();
    let concatenated =
        arrow_select::concat::concat_batches(&schema, alone.iter().map(|n| &n.records)).unwrap();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let together = pool
            .install(|| aidlink_normalize::normalize_sources(&config(), &inputs))
            .unwrap();
        assert_eq!(together.records, concatenated, "{threads} threads");
        assert_eq!(together.sources.len(), inputs.len());
        for ((one, (name, _)), part) in alone.iter().zip(&inputs).zip(&together.sources) {
            assert_eq!(part.source, *name);
            assert_eq!(part.rows_accepted, one.records.num_rows() as u64);
            assert_eq!(part.rejects, one.rejects);
            assert_eq!(part.note_counts, one.note_counts);
            assert_eq!(
                (part.id_check_failed, part.id_present),
                (one.id_check_failed, one.id_present)
            );
        }
    }
    // Every source rejected some rows, so skipping them was exercised.
    assert!(alone.iter().all(|n| n.rejects.num_rows() > 0));
    assert!(alone[1].note_counts.contains_key("subsidy_type_unmapped"));
    let empty = aidlink_normalize::normalize_sources(&config(), &[]).unwrap();
    assert_eq!(
        (empty.records.num_rows(), empty.records.schema()),
        (0, schema)
    );
}
