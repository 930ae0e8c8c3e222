//! Privacy: nothing identifying leaks into the analyst tier, logs or manifest,
//! and pseudonyms are stable across months and keyed.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// The first identifier of `ids` found anywhere inside `text`. Identifiers
/// are runs of ASCII letters and digits, so only such runs of at least the
/// shortest identifier's length are searched, at every offset and length.
fn find_leak<'a>(
    text: &str,
    ids: &'a BTreeSet<String>,
    lengths: &BTreeSet<usize>,
) -> Option<&'a String> {
    let shortest = lengths.iter().next().copied().unwrap_or(1);
    for run in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if run.len() < shortest {
            continue;
        }
        for start in 0..run.len() {
            for &len in lengths {
                if let Some(hit) = run.get(start..start + len).and_then(|w| ids.get(w)) {
                    return Some(hit);
                }
            }
        }
    }
    None
}

/// Raw identifiers of the inputs, taken from the restricted records table.
fn identifiers(period_dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let records = read_parquet(&period_dir.join("restricted/records.parquet"));
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for col in [
        "id_number",
        "guardian_id",
        "head_id",
        "phone",
        "certificate_no",
        "student_no",
    ] {
        if records.column_by_name(col).is_some() {
            // Substring scan for long numbers: a full ID or phone anywhere is a leak.
            ids.extend(
                strings(&records, col)
                    .into_iter()
                    .flatten()
                    .filter(|v| v.len() >= 11),
            );
        }
    }
    for col in ["name", "guardian_name", "head_name"] {
        names.extend(
            strings(&records, col)
                .into_iter()
                .flatten()
                .filter(|v| v.chars().count() >= 2),
        );
    }
    (ids, names)
}

#[test]
fn demo_analyst_tier_logs_and_manifest_carry_no_raw_identifiers() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    let o = aidlink_ok(
        &[
            "-vv",
            "demo",
            "--out",
            demo.to_str().unwrap(),
            "--students",
            "600",
        ],
        0,
    );
    let logs = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    let out = demo.join("out");
    for period in ["2026-01", "2026-02"] {
        let dir = out.join("periods").join(period);
        let (ids, names) = identifiers(&dir);
        assert!(
            ids.len() > 500 && names.len() > 300,
            "the scan has something to look for"
        );
        let lengths: BTreeSet<usize> = ids.iter().map(String::len).collect();
        let mut scanned = 0;
        for entry in std::fs::read_dir(dir.join("analyst")).expect("analyst tier written") {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("parquet") {
                continue;
            }
            let batch = read_parquet(&path);
            for value in all_strings(&batch) {
                scanned += 1;
                assert!(
                    !names.contains(&value),
                    "{}: a raw name leaked",
                    path.display()
                );
                assert!(
                    find_leak(&value, &ids, &lengths).is_none(),
                    "{}: a raw ID, phone or code leaked",
                    path.display()
                );
            }
        }
        assert!(scanned > 1000, "analyst tables have content: {scanned}");
        let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        assert!(
            find_leak(&manifest, &ids, &lengths).is_none(),
            "manifest leaks an identifier"
        );
        assert!(
            find_leak(&logs, &ids, &lengths).is_none(),
            "a log line leaks an identifier"
        );
        for name in &names {
            assert!(
                !manifest.contains(&format!("\"{name}\"")),
                "manifest leaks a name"
            );
        }
    }
}

#[test]
fn the_leak_scan_finds_identifiers_inside_longer_text() {
    let ids: BTreeSet<String> =
        ["44010620120305123X".to_string(), "13800138000".to_string()].into();
    let lengths: BTreeSet<usize> = ids.iter().map(String::len).collect();
    assert!(find_leak("{\"student_no\":\"G44010620120305123X\"}", &ids, &lengths).is_some());
    assert!(find_leak("tel 13800138000.", &ids, &lengths).is_some());
    assert!(find_leak("440106********123X 1380013800", &ids, &lengths).is_none());
}
