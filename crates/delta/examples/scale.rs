//! Times the monthly-cycle stages (record keys, assign, flags, deltas) on a
//! synthetic city of N students (default 1,000,000), two months.
//!
//! `cargo run --release -p aidlink-delta --example scale -- 1000000`

use aidlink_delta::{DiffOptions, combine, diff, diff_with, link_table, summarize, with_events};
use aidlink_flag::{FlagRules, add_evidence_digest, carry_since, evaluate};
use aidlink_registry::{assign, record_keys};
use aidlink_vocab::schema::record_schema;
use aidlink_vocab::{CivilDate, Period, ResidentId, Role};
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::DataType;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// One record: source, person index, and its field values.
struct Rec {
    source: &'static str,
    person: u32,
    values: Vec<(&'static str, String)>,
}

fn city(n: u32, month: u32) -> (RecordBatch, Vec<u32>) {
    let mut recs = Vec::new();
    for i in 0..n {
        let birth = CivilDate::from_days(
            CivilDate::new(2010, 1, 1).map_or(0, |d| d.to_days()) + (i % 3000) as i32,
        );
        let id =
            ResidentId::from_parts("110105", birth, i % 999 + 1).map(|r| r.as_str().to_string());
        let id = id.unwrap_or_default();
        let common = |extra: Vec<(&'static str, String)>| {
            let mut v = vec![
                ("name", format!("学生{i}")),
                ("id_number", id.clone()),
                ("id_check_ok", "true".to_string()),
                ("id_birth_date", birth.to_string()),
                ("birth_date", birth.to_string()),
                ("birth_matches_id", "true".to_string()),
            ];
            v.extend(extra);
            v
        };
        let aided = i % 5 == 0 || (month == 2 && i % 7 == 0);
        let mut enrol = vec![
            ("student_no", format!("G{id}")),
            ("school", format!("学校{}", i % 400)),
        ];
        if aided {
            enrol.push(("aid_type", "助学金".to_string()));
            enrol.push(("aid_amount", "1000".to_string()));
        }
        recs.push(Rec {
            source: "enrollment",
            person: i,
            values: common(enrol),
        });
        recs.push(Rec {
            source: "household",
            person: i,
            values: common(vec![("household_no", format!("H{}", i / 3))]),
        });
        if i % 4 == 0 {
            let stopped = month == 2 && i % 8 == 0;
            recs.push(Rec {
                source: "subsidy",
                person: i,
                values: common(vec![
                    ("household_no", format!("C{}", i / 3)),
                    ("subsidy_type", "dibao".to_string()),
                    (
                        "subsidy_status",
                        if stopped { "stopped" } else { "active" }.to_string(),
                    ),
                    (
                        "end_month",
                        if stopped { "2026-01" } else { "" }.to_string(),
                    ),
                ]),
            });
        }
        if i % 50 == 0 {
            recs.push(Rec {
                source: "disability",
                person: i,
                values: common(vec![("certificate_no", format!("{id}41"))]),
            });
        }
    }
    // Rows move between months: reverse the order in month 2.
    if month == 2 {
        recs.reverse();
    }
    recs.sort_by_key(|r| r.source);
    let mut rows: BTreeMap<&str, u64> = BTreeMap::new();
    let schema = record_schema(&[]);
    let get = |r: &Rec, name: &str| {
        r.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let source_rows: Vec<u64> = recs
        .iter()
        .map(|r| {
            let e = rows.entry(r.source).or_insert(0);
            *e += 1;
            *e
        })
        .collect();
    let days = |v: String| {
        let p: Vec<i32> = v.split('-').filter_map(|x| x.parse().ok()).collect();
        CivilDate::new(p[0], p[1] as u32, p[2] as u32).map_or(0, |d| d.to_days())
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
                ("source_row", _) => Arc::new(UInt64Array::from(source_rows.clone())),
                (_, DataType::Date32) => Arc::new(Date32Array::from_iter(
                    recs.iter().map(|r| get(r, name).map(days)),
                )),
                (_, DataType::Float64) => Arc::new(Float64Array::from_iter(
                    recs.iter()
                        .map(|r| get(r, name).and_then(|v| v.parse::<f64>().ok())),
                )),
                (_, DataType::Boolean) => Arc::new(BooleanArray::from_iter(
                    recs.iter().map(|r| get(r, name).map(|v| v == "true")),
                )),
                _ => Arc::new(StringArray::from_iter(recs.iter().map(|r| get(r, name)))),
            }
        })
        .collect();
    let clusters = recs.iter().map(|r| r.person).collect();
    match RecordBatch::try_new(schema, columns) {
        Ok(b) => (b, clusters),
        Err(e) => panic!("synthetic table does not fit the record schema: {e}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let roles = BTreeMap::from([
        ("enrollment".to_string(), vec![Role::Enrollment, Role::Aid]),
        ("subsidy".to_string(), vec![Role::Eligibility]),
        ("household".to_string(), vec![Role::Household]),
        ("disability".to_string(), vec![Role::Eligibility]),
    ]);
    let rules = FlagRules::default();
    let mut previous: Option<(aidlink_registry::Registry, RecordBatch, RecordBatch)> = None;
    for month in 1..=2u32 {
        let period = Period {
            year: 2026,
            month: 9 + month,
        };
        let t = Instant::now();
        let (records, clusters) = city(n, month);
        eprintln!(
            "month {month}: {} records built in {:.1?}",
            records.num_rows(),
            t.elapsed()
        );

        let t = Instant::now();
        let keys = record_keys(&records);
        let t_keys = t.elapsed();
        let t = Instant::now();
        let a = assign(previous.as_ref().map(|p| &p.0), &keys, &clusters);
        let t_assign = t.elapsed();
        let t = Instant::now();
        let out = evaluate(&records, &a.person_ids, &roles, &rules, period)?;
        let t_flags = t.elapsed();
        let t = Instant::now();
        let mut flags = add_evidence_digest(&out.flags, &records, &keys)?;
        if let Some((_, _, prev_flags)) = &previous {
            flags = carry_since(prev_flags, &flags)?;
        }
        let t_digest = t.elapsed();
        let t = Instant::now();
        let from = (month > 1).then(|| period.plus_months(-1));
        let prev_links = previous.as_ref().map(|p| link_table(&p.0));
        let people = diff(
            "person",
            &["person_id"],
            previous.as_ref().map(|p| &p.1),
            &out.persons,
            from,
            period,
        )?;
        let people = with_events(&people, &a.events, from, period)?;
        let options = DiffOptions {
            ignore: &["evidence"],
        };
        let fl = diff_with(
            "flag",
            &["person_id", "flag"],
            previous.as_ref().map(|p| &p.2),
            &flags,
            from,
            period,
            &options,
        )?;
        let links = diff(
            "link",
            &["record"],
            prev_links.as_ref(),
            &link_table(&a.registry),
            from,
            period,
        )?;
        let delta = combine(&[people, fl, links])?;
        let t_delta = t.elapsed();
        eprintln!(
            "  keys {t_keys:.1?}, assign {t_assign:.1?}, flags {t_flags:.1?} ({} persons, {} flags), \
             digest+since {t_digest:.1?}, delta {t_delta:.1?} ({} rows)",
            out.persons.num_rows(),
            flags.num_rows(),
            delta.num_rows()
        );
        eprint!("{}", summarize(&delta)?);
        previous = Some((a.registry, out.persons, flags));
    }
    Ok(())
}
