//! Month after month: a period after the first keeps the previous model and
//! compares only what changed, and gives exactly what `--full` gives.

#![allow(clippy::unwrap_used)]

mod common;

use common::{aidlink_ok, published_files, run_period, synth};
use std::path::Path;

/// Runs `period` of `config` into `out` with extra `run` flags; returns stdout.
fn run_with(config: &Path, period: &str, out: &Path, flags: &[&str]) -> String {
    let mut args = vec![
        "run",
        "--config",
        config.to_str().unwrap(),
        "--period",
        period,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    String::from_utf8(aidlink_ok(&args, 0).stdout).unwrap()
}

/// The number after `word` in `text` ("... 12 pairs compared" -> 12 for "pairs compared").
fn count_before(text: &str, word: &str) -> u64 {
    let at = text
        .find(word)
        .unwrap_or_else(|| panic!("no `{word}` in:\n{text}"));
    text[..at]
        .split_whitespace()
        .last()
        .and_then(|n| n.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("no count before `{word}` in:\n{text}"))
}

fn assert_same_period(a: &Path, b: &Path, period: &str) {
    let (fa, fb) = (
        published_files(&a.join("periods").join(period)),
        published_files(&b.join("periods").join(period)),
    );
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb));
    assert!(
        fa.iter().any(|(n, _)| n.ends_with("match_state.parquet")),
        "no match state published: {:?}",
        names(&fa)
    );
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(
            x == y,
            "{period}: {name} differs between incremental and --full"
        );
    }
}

#[test]
fn incremental_months_equal_full_rematches() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 1200, 3, 21);
    let config = city.join("aidlink.toml");
    let (inc, full) = (tmp.path().join("inc"), tmp.path().join("full"));

    let first = run_with(&config, "2026-01", &inc, &[]);
    assert!(first.contains("model: trained on this period"), "{first}");
    assert!(first.contains("matching: full"), "{first}");
    run_period(&config, "2026-01", &full);
    assert_same_period(&inc, &full, "2026-01");

    for period in ["2026-02", "2026-03"] {
        let i = run_with(&config, period, &inc, &[]);
        let f = run_with(&config, period, &full, &["--full"]);
        assert!(i.contains("model: kept from"), "{i}");
        assert!(i.contains("matching: incremental"), "{i}");
        assert!(f.contains("matching: full"), "{f}");
        let (reused, compared) = (
            count_before(&i, "reused)"),
            count_before(&i, "pairs compared"),
        );
        let all = count_before(&f, "pairs compared");
        // Most of a month's pairs are between records that did not change.
        assert!(
            reused > compared,
            "{period}: reused {reused}, compared {compared}"
        );
        assert_eq!(
            reused + compared,
            all,
            "{period}: incremental and full pair counts"
        );
        assert_same_period(&inc, &full, period);
    }
}

#[test]
fn retrain_trains_a_new_model_and_matches_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let city = synth(tmp.path(), 600, 2, 22);
    let config = city.join("aidlink.toml");
    let out = tmp.path().join("out");
    run_period(&config, "2026-01", &out);
    let second = run_with(&config, "2026-02", &out, &["--retrain"]);
    assert!(second.contains("model: trained on this period"), "{second}");
    assert!(second.contains("matching: full"), "{second}");
    // A rerun of the same period with the previous model is incremental again.
    let rerun = run_with(&config, "2026-02", &out, &[]);
    assert!(rerun.contains("matching: incremental"), "{rerun}");
}
