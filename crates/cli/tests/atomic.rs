//! Runs an auditor can trust: a killed run leaves the previous state whole,
//! the next run succeeds, reruns are identical, and verify catches tampering.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::process::Command;

fn published(out: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    published_files(&out.join("periods"))
}

#[test]
fn a_run_killed_at_any_point_leaves_the_previous_state_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 600, 2, 21);
    let config = city.join("aidlink.toml");
    let out = tmp.path().join("out");
    let args = |period: &str| {
        vec![
            "run".to_string(),
            "--config".into(),
            config.to_str().unwrap().into(),
            "--period".into(),
            period.into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let a: Vec<String> = args("2026-01");
    aidlink_ok(&a.iter().map(String::as_str).collect::<Vec<_>>(), 0);
    let before = published(&out);
    assert!(!before.is_empty());
    copy_dir(&out, &tmp.path().join("probe-base"));

    // Time one complete second-month run on a copy of the output folder, to
    // spread the kill points over reading, matching and publishing.
    let probe = tmp.path().join("probe");
    copy_dir(&out, &probe);
    let probe_args: Vec<String> = args("2026-02")
        .into_iter()
        .map(|a| {
            if a == out.to_str().unwrap() {
                probe.to_str().unwrap().to_string()
            } else {
                a
            }
        })
        .collect();
    // The shorter of two probes: a first run can be slowed by a cold disk
    // cache or a busy machine, which would put every kill point after the
    // real runs have finished.
    let mut full = std::time::Duration::MAX;
    for _ in 0..2 {
        std::fs::remove_dir_all(&probe).unwrap();
        copy_dir(&out, &probe);
        let started = std::time::Instant::now();
        aidlink_ok(
            &probe_args.iter().map(String::as_str).collect::<Vec<_>>(),
            0,
        );
        full = full.min(started.elapsed());
    }

    // Kill the second month's run at points across its whole length.
    // Whatever the point, the published state is exactly the first month's.
    let second = args("2026-02");
    let mut killed = 0;
    for fraction in [0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9, 0.97] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aidlink"))
            .args(&second)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let finished = child.try_wait().unwrap().is_some();
        if finished {
            // The run won the race: the period is published; undo it for the
            // next kill point by restoring the first month's state.
            let _ = child.wait();
            std::fs::remove_dir_all(&out).unwrap();
            copy_dir(&tmp.path().join("probe-base"), &out);
            continue;
        }
        let _ = child.kill();
        let _ = child.wait();
        let now = published(&out);
        if now.iter().any(|(name, _)| name.starts_with("2026-02/")) {
            // Killed after the swap, before the process exited: the second
            // month is in, and must be whole, with the first kept as it was.
            assert_first_month_kept(&before, &now);
            aidlink_ok(&["verify", "--out", out.to_str().unwrap()], 0);
            std::fs::remove_dir_all(&out).unwrap();
            copy_dir(&tmp.path().join("probe-base"), &out);
            continue;
        }
        killed += 1;
        assert_eq!(
            now,
            before,
            "a run killed at {:.0}% of its length changed the published state",
            fraction * 100.0
        );
    }
    assert!(
        killed >= 3,
        "at least a few runs were killed mid-way ({killed})"
    );
    // The next run succeeds and publishes the second month next to the first.
    aidlink_ok(&second.iter().map(String::as_str).collect::<Vec<_>>(), 0);
    let after = published(&out);
    assert_first_month_kept(&before, &after);
    aidlink_ok(&["verify", "--out", out.to_str().unwrap()], 0);
}

/// Every file of the first month's state is in `after`, unchanged, and the
/// second month added files.
fn assert_first_month_kept(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) {
    for (name, bytes) in before {
        let same = after
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b == bytes);
        assert_eq!(
            same,
            Some(true),
            "{name} of the first month is kept as it was"
        );
    }
    assert!(after.len() > before.len(), "second month published");
}

#[test]
fn verify_catches_a_changed_file_and_a_rerun_is_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 300, 1, 22);
    let config = city.join("aidlink.toml");
    let out = tmp.path().join("out");
    let run = [
        "run",
        "--config",
        config.to_str().unwrap(),
        "--period",
        "2026-01",
        "--out",
        out.to_str().unwrap(),
    ];
    aidlink_ok(&run, 0);
    let first = published(&out);
    aidlink_ok(&run, 0);
    assert_eq!(
        published(&out),
        first,
        "rerun with the same inputs is byte-identical"
    );
    aidlink_ok(&["verify", "--out", out.to_str().unwrap()], 0);

    let flags = out.join("periods/2026-01/restricted/flags.parquet");
    let mut bytes = std::fs::read(&flags).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&flags, bytes).unwrap();
    let o = aidlink_ok(&["verify", "--out", out.to_str().unwrap()], 5);
    assert!(String::from_utf8_lossy(&o.stdout).contains("flags.parquet"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
