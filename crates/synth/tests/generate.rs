//! End-to-end checks of the generator's files against its own truth files.
//!
//! One small city (3,000 students, four months) is generated once into
//! Cargo's per-target temp folder and shared by the tests that read it; the
//! determinism test makes its own two cities.

// Helpers shared by the tests unwrap like the tests themselves do.
#![allow(clippy::unwrap_used)]

use aidlink_synth::{CorruptionRates, DEMO_CONFIG, SynthOptions, SynthSummary, generate};
use aidlink_vocab::{Period, ResidentId};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SOURCES: [(&str, &str); 4] = [
    ("enrollment", "enrollment.csv"),
    ("subsidy", "subsidy.csv"),
    ("household", "household.tsv"),
    ("disability", "disability.csv"),
];

fn options(students: u64, months: u32, out: PathBuf) -> SynthOptions {
    SynthOptions {
        students,
        seed: 20_260_901,
        months,
        start: Period::parse("2026-06").unwrap(),
        out,
        rates: CorruptionRates::default(),
    }
}

fn city() -> &'static (PathBuf, SynthSummary) {
    static CITY: OnceLock<(PathBuf, SynthSummary)> = OnceLock::new();
    CITY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synth-city-3000");
        let _ = std::fs::remove_dir_all(&dir);
        let summary = generate(&options(3000, 4, dir.clone())).unwrap();
        (dir, summary)
    })
}

/// Decodes a file the way its department wrote it, failing on any invalid byte.
fn decode(source: &str, bytes: &[u8]) -> String {
    match source {
        "enrollment" => {
            assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "enrollment has a BOM");
            String::from_utf8(bytes[3..].to_vec()).unwrap()
        }
        "disability" => {
            assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "disability has no BOM");
            String::from_utf8(bytes.to_vec()).unwrap()
        }
        _ => {
            assert!(
                std::str::from_utf8(bytes).is_err(),
                "{source} is GB18030, not UTF-8"
            );
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            assert!(!had_errors, "{source} decodes as GB18030");
            text.into_owned()
        }
    }
}

/// Header and records of one extract, as named maps.
fn read_extract(
    dir: &Path,
    period: &str,
    source: &str,
    file: &str,
) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(dir.join("extracts").join(period).join(file)).unwrap();
    let text = decode(source, &bytes);
    let delimiter = if file.ends_with(".tsv") { b'\t' } else { b',' };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn truth_rows(dir: &Path, period: &str) -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(dir.join("truth").join(period).join("rows.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("source,source_row,true_person"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string())
        })
        .collect()
}

fn truth_flags(dir: &Path, period: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(dir.join("truth").join(period).join("flags.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (p, f) = l.split_once(',').unwrap();
            (p.to_string(), f.to_string())
        })
        .collect()
}

fn all_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn same_options_give_byte_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = generate(&options(400, 3, a.path().to_path_buf())).unwrap();
    let sb = generate(&options(400, 3, b.path().to_path_buf())).unwrap();
    assert_eq!(sa, sb);
    let (fa, fb) = (all_files(a.path()), all_files(b.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    assert!(fa.len() >= 3 * 6 + 3, "{} files", fa.len());
    for (k, v) in &fa {
        assert!(v == &fb[k], "{} differs", k.display());
    }
    // One thread or many, the bytes are the same.
    let one = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| generate(&options(400, 3, one.path().to_path_buf())))
        .unwrap();
    assert!(
        all_files(one.path()) == fa,
        "a single thread writes the same files"
    );
    // A different seed gives a different city.
    let c = tempfile::tempdir().unwrap();
    generate(&SynthOptions {
        seed: 1,
        ..options(400, 3, c.path().to_path_buf())
    })
    .unwrap();
    let fc = all_files(c.path());
    let key = Path::new("extracts/2026-06/enrollment.csv");
    assert_ne!(fa[key], fc[key]);
}

#[test]
fn config_is_written_verbatim_and_headers_follow_it() {
    let (dir, _) = city();
    assert_eq!(
        std::fs::read_to_string(dir.join("aidlink.toml")).unwrap(),
        DEMO_CONFIG
    );
    let config = aidlink_config::Config::load(&dir.join("aidlink.toml")).unwrap();
    for (source, file) in SOURCES {
        let (header, _) = read_extract(dir, "2026-06", source, file);
        let mapped: BTreeSet<&String> = config.sources[source].columns.values().collect();
        assert_eq!(header.iter().collect::<BTreeSet<_>>(), mapped, "{source}");
        let path = config.source_path(&config.sources[source], Period::parse("2026-06").unwrap());
        assert!(path.exists(), "{}", path.display());
    }
}

#[test]
fn every_row_has_a_truth_row_and_counts_agree() {
    let (dir, summary) = city();
    assert_eq!(summary.periods.len(), 4);
    for period in &summary.periods {
        let p = period.to_string();
        let truth = truth_rows(dir, &p);
        let order: Vec<usize> = truth
            .iter()
            .map(|t| SOURCES.iter().position(|s| s.0 == t.0).unwrap())
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] <= w[1]),
            "rows.csv lists sources in order"
        );
        for (source, file) in SOURCES {
            let (_, rows) = read_extract(dir, &p, source, file);
            let mine: Vec<&(String, u64, String)> =
                truth.iter().filter(|t| t.0 == source).collect();
            assert_eq!(mine.len(), rows.len(), "{p} {source}");
            assert_eq!(
                summary.rows[&(*period, source.to_string())],
                rows.len() as u64
            );
            for (i, t) in mine.iter().enumerate() {
                assert_eq!(t.1, i as u64 + 1, "{p} {source} rows are numbered 1..n");
                assert!(t.2.starts_with('T') && t.2.len() == 9);
            }
            assert!(!rows.is_empty(), "{p} {source}");
        }
        // About 3.3 rows per student across the four extracts.
        let per_student = truth.len() as f64 / 3000.0;
        assert!((2.8..3.9).contains(&per_student), "{per_student}");
    }
}

#[test]
fn the_first_period_has_exactly_the_students_asked_for() {
    let (dir, _) = city();
    let (header, rows) = read_extract(dir, "2026-06", "enrollment", "enrollment.csv");
    let name = header.iter().position(|h| h == "姓名").unwrap();
    let truth = truth_rows(dir, "2026-06");
    let students: BTreeSet<&String> = truth
        .iter()
        .filter(|t| t.0 == "enrollment")
        .zip(&rows)
        .filter(|(_, r)| !r[name].is_empty())
        .map(|(t, _)| &t.2)
        .collect();
    assert_eq!(students.len(), 3000);
}

#[test]
fn every_flag_kind_occurs_and_changes_go_both_ways() {
    let (dir, summary) = city();
    let mut kinds = BTreeSet::new();
    for p in &summary.periods {
        kinds.extend(truth_flags(dir, &p.to_string()).into_iter().map(|(_, f)| f));
    }
    let expected: BTreeSet<String> = aidlink_synth::Flag::ALL
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    assert_eq!(kinds, expected);
    let changes = std::fs::read_to_string(dir.join("truth/changes.csv")).unwrap();
    let mut lines = changes.lines();
    assert_eq!(lines.next(), Some("period,true_person,flag,change"));
    let rest: Vec<&str> = lines.collect();
    assert!(
        rest.iter().any(|l| l.ends_with(",appears")) && rest.iter().any(|l| l.ends_with(",clears"))
    );
    assert!(
        rest.iter().all(|l| !l.starts_with("2026-06,")),
        "the first period has no changes"
    );
    // Changes are exactly the differences of consecutive flag files.
    for w in summary.periods.windows(2) {
        let (before, after) = (
            truth_flags(dir, &w[0].to_string()),
            truth_flags(dir, &w[1].to_string()),
        );
        let tag = format!("{},", w[1]);
        let listed: BTreeSet<String> = rest
            .iter()
            .filter(|l| l.starts_with(&tag))
            .map(|l| l.to_string())
            .collect();
        let mut expect = BTreeSet::new();
        for (p, f) in after.difference(&before) {
            expect.insert(format!("{},{p},{f},appears", w[1]));
        }
        for (p, f) in before.difference(&after) {
            expect.insert(format!("{},{p},{f},clears", w[1]));
        }
        assert_eq!(listed, expect);
    }
}

/// Re-derives the enrollment-only flags from the files and the truth rows,
/// independently of the generator's code.
#[test]
fn enrollment_flags_agree_with_the_enrollment_files() {
    let (dir, summary) = city();
    for period in &summary.periods {
        let p = period.to_string();
        let (header, rows) = read_extract(dir, &p, "enrollment", "enrollment.csv");
        let col = |h: &str| header.iter().position(|x| x == h).unwrap();
        let (name, id, school, aid, amount) = (
            col("姓名"),
            col("身份证号"),
            col("学校名称"),
            col("资助项目"),
            col("资助金额"),
        );
        let truth = truth_rows(dir, &p);
        let mut aided: BTreeMap<&String, usize> = BTreeMap::new();
        let mut schools: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
        for (t, r) in truth.iter().filter(|t| t.0 == "enrollment").zip(&rows) {
            if r[name].is_empty() && r[id].is_empty() {
                continue; // a broken copy
            }
            let paid = !r[aid].is_empty() || (!r[amount].is_empty() && r[amount] != "0");
            *aided.entry(&t.2).or_default() += usize::from(paid);
            schools.entry(&t.2).or_default().insert(&r[school]);
        }
        let flags = truth_flags(dir, &p);
        let has = |person: &String, f: &str| flags.contains(&(person.clone(), f.to_string()));
        for (person, n) in &aided {
            assert_eq!(*n >= 2, has(person, "duplicate_aid"), "{p} {person}");
            assert_eq!(
                schools[person].len() >= 2,
                has(person, "multi_enrollment"),
                "{p} {person}"
            );
        }
        for (person, f) in &flags {
            if f == "duplicate_aid" || f == "multi_enrollment" || f == "eligible_unaided" {
                assert!(
                    aided.contains_key(person),
                    "{p} {person} {f} but not enrolled"
                );
            }
            if f == "out_of_school_risk" {
                assert!(!aided.contains_key(person), "{p} {person} {f} but enrolled");
            }
            if f == "eligible_unaided" {
                assert_eq!(aided[person], 0, "{p} {person} {f} but aided");
            }
        }
    }
}

/// Every valid ID typed in some row names one true person, unless the
/// truth says the ID is in conflict; and every such conflict is flagged.
#[test]
fn valid_ids_name_one_person_except_flagged_conflicts() {
    let (dir, summary) = city();
    let config = aidlink_config::Config::load(&dir.join("aidlink.toml")).unwrap();
    for period in &summary.periods {
        let p = period.to_string();
        let truth = truth_rows(dir, &p);
        let flags = truth_flags(dir, &p);
        let mut owners: BTreeMap<ResidentId, BTreeSet<&String>> = BTreeMap::new();
        for (source, file) in SOURCES {
            let (header, rows) = read_extract(dir, &p, source, file);
            let id_col = &config.sources[source].columns["id_number"];
            let id = header.iter().position(|h| h == id_col).unwrap();
            for (t, r) in truth.iter().filter(|t| t.0 == source).zip(&rows) {
                if let Ok(parsed) = ResidentId::parse(&r[id])
                    && parsed.check_ok
                {
                    owners.entry(parsed.id).or_default().insert(&t.2);
                }
            }
        }
        let mut conflicts = 0;
        for people in owners.values() {
            if people.len() >= 2 {
                conflicts += 1;
                for person in people {
                    assert!(
                        flags.contains(&(person.to_string(), "id_conflict".into())),
                        "{p} {person}"
                    );
                }
            }
        }
        let flagged = flags.iter().filter(|(_, f)| f == "id_conflict").count();
        assert!(
            conflicts > 0 && flagged >= 2 * conflicts,
            "{p}: {conflicts} conflicts, {flagged} flagged"
        );
    }
}

#[test]
fn params_record_rates_and_true_pair_levels() {
    let (dir, _) = city();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth/params.json")).unwrap())
            .unwrap();
    assert_eq!(
        v["rates"]["enrollment"]["id_scientific"],
        CorruptionRates::default().enrollment.id_scientific
    );
    let exact = v["true_match_pairs"]["id_number"]["exact"]["share"]
        .as_f64()
        .unwrap();
    assert!((0.85..1.0).contains(&exact), "{exact}");
    let sci = v["rows_by_source"]["enrollment"]["id_number"]["scientific"]["count"]
        .as_u64()
        .unwrap();
    assert!(sci > 0);
    assert_eq!(
        v["rows_by_source"]["household"]["id_number"]["scientific"]["count"],
        0
    );
}

#[test]
fn clean_rates_give_clean_files() {
    let d = tempfile::tempdir().unwrap();
    let s = generate(&SynthOptions {
        rates: CorruptionRates::clean(),
        ..options(300, 1, d.path().to_path_buf())
    })
    .unwrap();
    let p = s.periods[0].to_string();
    let (header, rows) = read_extract(d.path(), &p, "enrollment", "enrollment.csv");
    let id = header.iter().position(|h| h == "身份证号").unwrap();
    for r in &rows {
        assert!(r[id].is_empty() || ResidentId::parse(&r[id]).unwrap().check_ok);
        assert!(!r[id].contains(' ') && !r[id].contains('E'));
    }
    let flags = truth_flags(d.path(), &p);
    assert!(
        flags
            .iter()
            .all(|(_, f)| f != "id_mismatch" && f != "id_conflict")
    );
}

/// A register row reads the same from one month to the next (typos too),
/// unless the department re-entered it, as in a database snapshot.
#[test]
fn typing_persists_from_month_to_month() {
    let (dir, summary) = city();
    let (a, b) = (
        summary.periods[0].to_string(),
        summary.periods[1].to_string(),
    );
    let by_person = |p: &str| -> BTreeMap<String, Vec<String>> {
        let truth = truth_rows(dir, p);
        let (_, rows) = read_extract(dir, p, "household", "household.tsv");
        truth
            .iter()
            .filter(|t| t.0 == "household")
            .zip(rows)
            .map(|(t, r)| (t.2.clone(), r))
            .collect()
    };
    let (before, after) = (by_person(&a), by_person(&b));
    let common: Vec<&String> = before.keys().filter(|k| after.contains_key(*k)).collect();
    let same = common.iter().filter(|k| before[**k] == after[**k]).count();
    let share = same as f64 / common.len() as f64;
    // About 3% of rows are re-entered each month; most of those come out clean both times.
    assert!(share > 0.95 && share < 1.0, "{share}");
}

/// Reads the birth-date styles the generator writes (`2012-03-05`,
/// `2012/3/5`, `20120305`, `2012年3月5日`, `2012.3.5`, `2012-3-5`).
fn read_date(text: &str) -> Option<(u32, u32, u32)> {
    let groups: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let n = |g: &str| g.parse::<u32>().ok();
    match groups.as_slice() {
        [g] if g.len() == 8 => Some((n(&g[..4])?, n(&g[4..6])?, n(&g[6..])?)),
        [y, m, d] if y.len() == 4 => Some((n(y)?, n(m)?, n(d)?)),
        _ => None,
    }
}

#[test]
fn subsidy_member_rows_state_birth_dates_with_some_mess() {
    // A child without an ID number who is in no school roster appears only
    // as a member of a subsidy case: the roster's birth date is the only age
    // any extract gives them.
    let (dir, summary) = city();
    let config = aidlink_config::Config::load(&dir.join("aidlink.toml")).unwrap();
    let columns = &config.sources["subsidy"].columns;
    let (mut agree, mut wrong, mut blank, mut iso, mut other) = (0, 0, 0, 0, 0);
    let (mut no_id_rows, mut no_id_dated) = (0, 0);
    for period in &summary.periods {
        let p = period.to_string();
        let (header, rows) = read_extract(dir, &p, "subsidy", "subsidy.csv");
        let col = |field: &str| header.iter().position(|h| *h == columns[field]).unwrap();
        let (name, id, birth) = (col("name"), col("id_number"), col("birth_date"));
        for r in rows.iter().filter(|r| !r[name].is_empty()) {
            let text = r[birth].as_str();
            if text.is_empty() {
                blank += 1;
            } else if text.len() == 10 && text.as_bytes()[4] == b'-' {
                iso += 1;
            } else {
                other += 1;
            }
            let date = if text.is_empty() {
                None
            } else {
                Some(read_date(text).unwrap_or_else(|| panic!("{p}: unreadable date {text}")))
            };
            if r[id].is_empty() {
                no_id_rows += 1;
                no_id_dated += u64::from(date.is_some());
            }
            if let (Some(date), Ok(parsed)) = (date, ResidentId::parse(&r[id]))
                && parsed.check_ok
                && let Some(b) = parsed.id.birth_date()
            {
                if (b.year as u32, b.month, b.day) == date {
                    agree += 1;
                } else {
                    wrong += 1;
                }
            }
        }
    }
    let all = (blank + iso + other) as f64;
    assert!(all > 500.0, "{all} subsidy rows");
    let share = |n: i32| f64::from(n) / all;
    assert!(
        (0.005..0.08).contains(&share(blank)),
        "blank {blank} of {all}"
    );
    assert!(
        (0.1..0.4).contains(&share(other)),
        "other styles {other} of {all}"
    );
    assert!(iso > other, "the usual style is 2014-03-05");
    assert!(
        agree > 0 && f64::from(wrong) < 0.03 * f64::from(agree + wrong),
        "{wrong} wrong dates beside {agree} agreeing with the ID"
    );
    assert!(
        no_id_rows > 0 && no_id_dated as f64 >= 0.9 * no_id_rows as f64,
        "{no_id_dated} of {no_id_rows} rows without ID state a birth date"
    );
}
