//! End to end: synth a small city, run it, check the outputs against truth.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::{BTreeMap, HashMap};

#[test]
fn run_publishes_every_table_and_row_accounting_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 1500, 1, 11);
    let out = tmp.path().join("out");
    let config = city.join("aidlink.toml");
    let stdout = run_period(&config, "2026-01", &out).stdout;
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(stdout.contains("persons resolved"), "{stdout}");

    let period = out.join("periods/2026-01");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(period.join("manifest.json")).unwrap()).unwrap();
    let inputs = manifest["inputs"].as_array().expect("inputs array");
    assert_eq!(inputs.len(), 4);
    let records = read_parquet(&find_table(&period, "records"));
    let rejects = read_parquet(&find_table(&period, "rejects"));
    let mut accepted_by_source: BTreeMap<String, u64> = BTreeMap::new();
    for s in strings(&records, "source").into_iter().flatten() {
        *accepted_by_source.entry(s).or_default() += 1;
    }
    let mut rejected_by_source: BTreeMap<String, u64> = BTreeMap::new();
    for s in strings(&rejects, "source").into_iter().flatten() {
        *rejected_by_source.entry(s).or_default() += 1;
    }
    for input in inputs {
        let source = input["source"].as_str().unwrap();
        let read = input["rows_read"].as_u64().unwrap();
        let acc = input["rows_accepted"].as_u64().unwrap();
        let rej = input["rows_rejected"].as_u64().unwrap();
        assert_eq!(read, acc + rej, "{source}: read = accepted + rejected");
        assert_eq!(
            acc,
            accepted_by_source.get(source).copied().unwrap_or(0),
            "{source} accepted rows"
        );
        assert_eq!(
            rej,
            rejected_by_source.get(source).copied().unwrap_or(0),
            "{source} rejected rows"
        );
        assert_eq!(input["sha256"].as_str().unwrap().len(), 64);
        // Truth lists every data row of the file.
        let truth_rows = std::fs::read_to_string(city.join("truth/2026-01/rows.csv")).unwrap();
        let in_truth = truth_rows
            .lines()
            .skip(1)
            .filter(|l| l.starts_with(&format!("{source},")))
            .count() as u64;
        assert_eq!(
            read, in_truth,
            "{source}: rows read = rows the generator wrote"
        );
    }
    for table in ["persons", "flags", "links", "delta"] {
        assert!(find_table(&period, table).exists(), "{table} published");
    }
}

#[test]
fn exact_id_linking_finds_what_the_truth_says_it_should() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 1500, 1, 12);
    // Force exact-ID mode: every record pair sharing a normalized ID is one person.
    let config = city.join("exact.toml");
    let text = std::fs::read_to_string(city.join("aidlink.toml")).unwrap()
        + "\n[matching]\nmode = \"exact_id\"\n";
    std::fs::write(&config, text).unwrap();
    let out = tmp.path().join("out");
    run_period(&config, "2026-01", &out);
    let records = read_parquet(&find_table(&out.join("periods/2026-01"), "records"));
    let truth = truth_of(&city, "2026-01");
    let sources = strings(&records, "source");
    let rows = records
        .column_by_name("source_row")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::UInt64Array>()
        .unwrap()
        .clone();
    let ids = strings(&records, "id_number");
    let persons = strings(&records, "person_id");
    // Records with the same normalized ID share a person; records of one
    // person all carry the same person_id.
    let mut person_of_id: HashMap<String, String> = HashMap::new();
    for i in 0..records.num_rows() {
        if let Some(id) = &ids[i] {
            let p = persons[i].clone().unwrap();
            let prev = person_of_id.entry(id.clone()).or_insert_with(|| p.clone());
            assert_eq!(prev, &p, "records sharing an ID must share a person");
        }
    }
    // Exact-ID linking must be precise on the generator's data, apart from
    // the planted ID conflicts (a guardian's ID typed in a child's row).
    let mut true_pairs_linked = 0u64;
    let mut false_pairs_linked = 0u64;
    let mut by_person: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..records.num_rows() {
        let t = truth[&(sources[i].clone().unwrap(), rows.value(i))].clone();
        by_person
            .entry(persons[i].clone().unwrap())
            .or_default()
            .push(t);
    }
    for members in by_person.values() {
        for a in 0..members.len() {
            for b in a + 1..members.len() {
                if members[a] == members[b] {
                    true_pairs_linked += 1;
                } else {
                    false_pairs_linked += 1;
                }
            }
        }
    }
    assert!(
        true_pairs_linked > 1000,
        "exact ID links many true pairs: {true_pairs_linked}"
    );
    let precision = true_pairs_linked as f64 / (true_pairs_linked + false_pairs_linked) as f64;
    assert!(precision > 0.97, "exact-ID precision {precision}");
}

#[test]
fn reruns_are_byte_identical_whatever_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 800, 1, 13);
    let config = city.join("aidlink.toml");
    let mut trees = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("out-{threads}"));
        aidlink_ok(
            &[
                "--threads",
                threads,
                "run",
                "--config",
                config.to_str().unwrap(),
                "--period",
                "2026-01",
                "--out",
                out.to_str().unwrap(),
            ],
            0,
        );
        trees.push(published_files(&out.join("periods/2026-01")));
    }
    assert_eq!(trees[0].len(), trees[1].len());
    for (a, b) in trees[0].iter().zip(&trees[1]) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1, "{} differs between 1 and 2 threads", a.0);
    }
}

#[test]
fn a_missing_input_exits_3_and_a_bad_config_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 200, 1, 14);
    let config = city.join("aidlink.toml");
    let out = tmp.path().join("out");
    let o = aidlink_ok(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--period",
            "2030-01",
            "--out",
            out.to_str().unwrap(),
        ],
        3,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2030-01"), "names the missing file: {err}");
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[sources.a]\npath = \"x.csv\"\nroles = [\"enrollment\"\ncolumns = {}\n",
    )
    .unwrap();
    let o = aidlink_ok(
        &[
            "check",
            "--config",
            bad.to_str().unwrap(),
            "--period",
            "2026-01",
        ],
        2,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml:"), "names file and line: {err}");
    let o = aidlink_ok(
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--period",
            "2026-01",
        ],
        0,
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("enrollment") && text.contains("check digit"),
        "{text}"
    );
}

/// Finds a published table: restricted tier first, then the period root.
pub fn find_table(period: &std::path::Path, table: &str) -> std::path::PathBuf {
    let restricted = period.join("restricted").join(format!("{table}.parquet"));
    if restricted.exists() {
        restricted
    } else {
        period.join(format!("{table}.parquet"))
    }
}

fn truth_of(city: &std::path::Path, period: &str) -> HashMap<(String, u64), String> {
    let mut rdr = csv::Reader::from_path(city.join("truth").join(period).join("rows.csv")).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_string(), r[1].parse().unwrap()), r[2].to_string())
        })
        .collect()
}

#[test]
fn diff_between_any_two_periods_and_explain_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 500, 3, 15);
    let config = city.join("aidlink.toml");
    let out = tmp.path().join("out");
    for period in ["2026-01", "2026-02", "2026-03"] {
        run_period(&config, period, &out);
    }
    let written = tmp.path().join("changes.parquet");
    let o = aidlink_ok(
        &[
            "diff",
            "--out",
            out.to_str().unwrap(),
            "--from",
            "2026-01",
            "--to",
            "2026-03",
            "--write",
            written.to_str().unwrap(),
        ],
        0,
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("person") && text.contains("link"), "{text}");
    let delta = read_parquet(&written);
    assert!(delta.num_rows() > 0);
    assert!(
        strings(&delta, "from_period")
            .iter()
            .all(|p| p.as_deref() == Some("2026-01"))
    );
    assert!(
        strings(&delta, "to_period")
            .iter()
            .all(|p| p.as_deref() == Some("2026-03"))
    );

    // Explain two records the matcher put in one person.
    let records = read_parquet(&find_table(&out.join("periods/2026-03"), "records"));
    let persons = strings(&records, "person_id");
    let sources = strings(&records, "source");
    let rows = records
        .column_by_name("source_row")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::UInt64Array>()
        .unwrap()
        .clone();
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut pair = None;
    for i in 0..records.num_rows() {
        let p = persons[i].clone().unwrap();
        if let Some(&j) = first_of.get(&p) {
            if sources[i] != sources[j] {
                pair = Some((j, i));
                break;
            }
        } else {
            first_of.insert(p, i);
        }
    }
    let (a, b) = pair.expect("some person links two sources");
    let name = |i: usize| format!("{}:{}", sources[i].clone().unwrap(), rows.value(i));
    let o = aidlink_ok(
        &[
            "explain",
            "--out",
            out.to_str().unwrap(),
            "--period",
            "2026-03",
            &name(a),
            &name(b),
        ],
        0,
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.to_lowercase().contains("probability"), "{text}");
}

#[test]
fn probabilistic_linking_beats_exact_id_and_flags_match_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 3000, 1, 16);
    let config = city.join("aidlink.toml");
    let out = tmp.path().join("out");
    run_period(&config, "2026-01", &out);
    let o = aidlink_ok(
        &[
            "evaluate",
            "--out",
            out.to_str().unwrap(),
            "--period",
            "2026-01",
            "--truth",
            city.join("truth").to_str().unwrap(),
            "--json",
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f1 = v["linked"]["f1"].as_f64().unwrap();
    let precision = v["linked"]["precision"].as_f64().unwrap();
    let exact_f1 = v["exact_id"]["f1"].as_f64().unwrap();
    // Floors, well under what the matcher reaches, so a regression shows.
    assert!(
        f1 >= 0.995 && precision >= 0.995,
        "pairwise F1 {f1}, precision {precision}"
    );
    assert!(
        f1 > exact_f1,
        "probabilistic {f1} beats exact ID {exact_f1}"
    );
    let flags = v["flags"].as_object().unwrap();
    assert!(flags.len() >= 6, "most flag kinds occur: {flags:?}");
    for (flag, s) in flags {
        let (p, r) = (
            s["precision"].as_f64().unwrap(),
            s["recall"].as_f64().unwrap(),
        );
        assert!(p >= 0.9 && r >= 0.75, "{flag}: precision {p}, recall {r}");
    }
}
