//! Kills real publishing processes at several points and checks that the
//! published state is whole afterwards and that the next run succeeds.
//!
//! The test runs its own executable again as a child (`kill child DIR`) that
//! publishes two versions of a period in turn, over and over; the parent
//! watches the output folder and sends SIGKILL as soon as it sees the moment
//! it wants (staging begun, staging complete, old period moved aside, period
//! published), then checks the folder. What is asserted is never timing:
//! only that whatever moment the kill landed on, the folder holds exactly one
//! whole version.

// A test program without the harness: a failed unwrap is a failed test,
// as in any #[test].
#![allow(clippy::unwrap_used)]

use aidlink_privacy::{PrivacySettings, PseudonymKey};
use aidlink_publish::{InputEntry, PeriodOutput, load_table, lock, period_dir, publish, verify};
use aidlink_vocab::Period;
use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PERIOD: &str = "2026-11";
/// Upper bound on the child's publishes, so an orphaned child ends by itself.
const CHILD_ROUNDS: usize = 400;
/// How long the parent waits to see a kill point before giving up.
const WAIT: Duration = Duration::from_secs(120);

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes(b"kill-test-key-0123456789abcdef-0123456789", "test").unwrap()
}

/// Version `v` of the period: every table carries `v` in its `rule`/`notes`
/// text, so a mixed state (tables of two versions) is visible.
fn output(v: u64) -> PeriodOutput {
    let n = 3000usize;
    let persons: Vec<String> = (0..n).map(|i| format!("P{:08}", i as u64 + v)).collect();
    let records = RecordBatch::try_from_iter([
        (
            "source",
            Arc::new(StringArray::from(vec!["enrollment"; n])) as ArrayRef,
        ),
        (
            "source_row",
            Arc::new(UInt64Array::from_iter_values(1..=n as u64)) as ArrayRef,
        ),
        (
            "person_id",
            Arc::new(StringArray::from(persons.clone())) as ArrayRef,
        ),
        (
            "name",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("学生{i}")),
            )) as ArrayRef,
        ),
        (
            "school",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("第{}小学", i % 9)),
            )) as ArrayRef,
        ),
        (
            "notes",
            Arc::new(StringArray::from(vec![format!("version {v}"); n])) as ArrayRef,
        ),
    ])
    .unwrap();
    let flags = RecordBatch::try_from_iter([
        (
            "person_id",
            Arc::new(StringArray::from(persons[..n / 3].to_vec())) as ArrayRef,
        ),
        (
            "flag",
            Arc::new(StringArray::from(vec!["eligible_unaided"; n / 3])) as ArrayRef,
        ),
        (
            "rule",
            Arc::new(StringArray::from(vec![format!("version {v}"); n / 3])) as ArrayRef,
        ),
    ])
    .unwrap();
    PeriodOutput {
        period: Period::parse(PERIOD).unwrap(),
        tables: vec![("records".into(), records), ("flags".into(), flags)],
        files: vec![(
            "model.json".into(),
            format!("{{\"version\": {v}}}\n").into_bytes(),
        )],
        inputs: vec![InputEntry {
            bytes: 10,
            path: "extracts/enrollment.csv".into(),
            rows_accepted: n as u64,
            rows_read: n as u64,
            rows_rejected: 0,
            sha256: format!("{v:064}"),
            source: "enrollment".into(),
        }],
        config_sha256: "0".repeat(64),
        tool_version: "test".into(),
    }
}

/// The child: publish versions 2 and 1 in turn until killed (or done).
fn child(dir: &Path) {
    let key = key();
    for round in 0..CHILD_ROUNDS {
        if dir.join("stop").exists() {
            return;
        }
        let v = if round % 2 == 0 { 2 } else { 1 };
        if let Err(e) = publish(dir, &output(v), &PrivacySettings::default(), Some(&key)) {
            eprintln!("child publish failed: {e}");
            std::process::exit(3);
        }
    }
}

/// Moments at which the parent kills the child.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// A staging folder exists (tables being written).
    StagingBegun,
    /// A staging folder has its manifest (about to swap).
    StagingComplete,
    /// The old period is moved aside (inside the swap).
    OldMovedAside,
    /// Right after the child has published at least twice.
    AfterPublishes,
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|es| {
            es.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn seen(dir: &Path, point: KillPoint) -> bool {
    let names = entries(dir);
    match point {
        KillPoint::StagingBegun => names.iter().any(|n| n.starts_with(".staging-")),
        KillPoint::StagingComplete => names
            .iter()
            .any(|n| n.starts_with(".staging-") && dir.join(n).join("manifest.json").exists()),
        KillPoint::OldMovedAside => names.iter().any(|n| n.starts_with(".old-")),
        KillPoint::AfterPublishes => {
            std::fs::read_dir(period_dir(dir, Period::parse(PERIOD).unwrap()).join("replaced"))
                .map(|r| r.count() >= 2)
                .unwrap_or(false)
        }
    }
}

/// The version every table and file of the published period carries;
/// panics when they disagree.
fn published_version(dir: &Path) -> u64 {
    let period = Period::parse(PERIOD).unwrap();
    let records = load_table(dir, period, "records")
        .unwrap()
        .expect("records published");
    let flags = load_table(dir, period, "flags")
        .unwrap()
        .expect("flags published");
    let v_records = records
        .column_by_name("notes")
        .unwrap()
        .as_string::<i32>()
        .value(0)
        .to_string();
    let v_flags = flags
        .column_by_name("rule")
        .unwrap()
        .as_string::<i32>()
        .value(0)
        .to_string();
    assert_eq!(
        v_records, v_flags,
        "tables of two versions are published together"
    );
    let model =
        std::fs::read_to_string(period_dir(dir, period).join("restricted/model.json")).unwrap();
    let v: u64 = v_records.trim_start_matches("version ").parse().unwrap();
    assert!(
        model.contains(&format!("{v}")),
        "model.json of another version: {model}"
    );
    let analyst = period_dir(dir, period).join("analyst/records.parquet");
    assert!(analyst.is_file(), "analyst tier missing");
    v
}

fn parent() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let points = [
        KillPoint::StagingBegun,
        KillPoint::StagingComplete,
        KillPoint::OldMovedAside,
        KillPoint::AfterPublishes,
    ];
    for point in points {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir: PathBuf = tmp.path().to_path_buf();
        publish(&dir, &output(1), &PrivacySettings::default(), Some(&key()))
            .map_err(|e| e.to_string())?;

        let mut child = Command::new(&exe)
            .arg("child")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut observed = false;
        while started.elapsed() < WAIT {
            if seen(&dir, point) {
                observed = true;
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{point:?}: child ended early with {status}"));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill().map_err(|e| e.to_string())?;
        child.wait().map_err(|e| e.to_string())?;
        if !observed {
            return Err(format!("{point:?}: never observed the kill point"));
        }

        // The kernel released the dead child's lock; taking it repairs
        // what the kill left behind.
        let guard = lock(&dir).map_err(|e| format!("{point:?}: {e}"))?;
        let left: Vec<String> = entries(&dir)
            .into_iter()
            .filter(|n| n.starts_with(".staging-") || n.starts_with(".old-"))
            .collect();
        if !left.is_empty() {
            return Err(format!("{point:?}: left behind after recovery: {left:?}"));
        }
        let report = verify(&dir).map_err(|e| e.to_string())?;
        if !report.is_ok() {
            return Err(format!("{point:?}: verify after kill:\n{report}"));
        }
        let v = published_version(&dir);
        drop(guard);

        // And the next run succeeds, with the other version.
        let next = 3 - v;
        publish(
            &dir,
            &output(next),
            &PrivacySettings::default(),
            Some(&key()),
        )
        .map_err(|e| format!("{point:?}: {e}"))?;
        if published_version(&dir) != next || !verify(&dir).map_err(|e| e.to_string())?.is_ok() {
            return Err(format!(
                "{point:?}: the run after the kill did not publish cleanly"
            ));
        }
        println!("killed at {point:?}: version {v} whole, next run ok");
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child(Path::new(&args[2]));
        return;
    }
    // `cargo test -- --list` and filters: this file has one test.
    if args.iter().any(|a| a == "--list") {
        println!("kill: test");
        return;
    }
    match parent() {
        Ok(()) => println!("test kill ... ok"),
        Err(e) => {
            eprintln!("test kill ... FAILED: {e}");
            std::process::exit(1);
        }
    }
}
