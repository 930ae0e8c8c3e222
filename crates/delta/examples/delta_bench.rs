//! Times each delta call of the pipeline on a real run's published tables,
//! and checks the delta it builds against the published `delta.parquet`.
//!
//! The tables are read READ-ONLY from `DIR/periods/{P1,P2}/restricted/`
//! (default DIR `/tmp/bench/out-1m`, periods 2026-01 and 2026-02): month 1
//! is diffed with no previous period, month 2 against month 1.
//!
//! `--path today` makes the pipeline's calls as `aidlink run` makes them
//! today (`diff` of persons, `with_events`, `diff` of flags, `link_table`
//! of both registries and their `diff`, `combine`); `--path new` (the
//! default) replaces the link tables and their diff by `link_delta` and
//! `combine` by `combine_owned`; `--path links` runs both link paths and
//! asserts that they give the same rows; `--path first` builds month 1 with
//! the one call `first_period_delta` (month 2 as `new`).
//!
//! ```text
//! cargo build --release -p aidlink-delta --example delta_bench
//! /usr/bin/time -f "%e s %M KB" target/release/examples/delta_bench --month 1
//! target/release/examples/delta_bench --month 2 --path today --check
//! ```
//!
//! `--check` also reads the published delta and compares it column by
//! column with the one built (reading it costs memory, so measure peaks
//! without it). Each call's line has its wall and CPU time, its peak RSS
//! above the RSS before it, and the RSS after it; the "delta peak" is the
//! highest RSS of all calls above the RSS with the tables loaded. Peaks are
//! read from `/proc/self/status` after resetting them through
//! `/proc/self/clear_refs`. `--repeat N` first runs the calls N-1 times more,
//! for a profiler to see them more than the loading.

// A benchmark on fixed files: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aidlink_benchkit::{cpu_seconds, read_parquet, status_kib};
use aidlink_delta::{
    RECORD, combine, combine_owned, diff, first_period_delta, link_delta, link_table, with_events,
};
use aidlink_registry::Registry;
use aidlink_vocab::Period;
use arrow_array::{Array, RecordBatch};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Whether two tables hold the same columns' data (nullability aside).
fn same_batch(a: &RecordBatch, b: &RecordBatch) -> bool {
    a.num_columns() == b.num_columns()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| x.to_data() == y.to_data())
}

/// The published tables of one period.
struct Tables {
    persons: RecordBatch,
    flags: RecordBatch,
    registry: Registry,
    events: RecordBatch,
}

fn load(dir: &Path) -> Tables {
    Tables {
        persons: read_parquet(&dir.join("persons.parquet")).unwrap(),
        flags: read_parquet(&dir.join("flags.parquet")).unwrap(),
        registry: Registry::from_batch(&read_parquet(&dir.join("registry.parquet")).unwrap())
            .unwrap(),
        events: read_parquet(&dir.join("person_events.parquet")).unwrap(),
    }
}

/// Resets the peak RSS to the current RSS (Linux 4.0 and later).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The highest peak RSS seen at the end of a [`timed`] call, in KB.
static PEAK: AtomicU64 = AtomicU64::new(0);

/// Runs one call and prints its wall time, the peak RSS during the call
/// above the RSS before it, and the RSS after it.
fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    reset_peak();
    let before = status_kib("VmRSS");
    let t = Instant::now();
    let cpu = cpu_seconds();
    let out = f();
    let took = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    PEAK.fetch_max(status_kib("VmHWM"), Ordering::Relaxed);
    eprintln!(
        "  {label:<22} {took:>7.3} s wall {cpu:>6.2} s cpu   peak +{:>5} MB, then {:>5} MB",
        status_kib("VmHWM").saturating_sub(before) / 1024,
        status_kib("VmRSS") / 1024
    );
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from("/tmp/bench/out-1m");
    let mut month = 0u32;
    let mut check = false;
    let mut repeat = 1;
    let mut path = String::from("new");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = PathBuf::from(args.next().expect("--dir DIR")),
            "--month" => {
                month = args
                    .next()
                    .and_then(|m| m.parse().ok())
                    .expect("--month 1|2")
            }
            "--check" => check = true,
            "--path" => path = args.next().expect("--path new|today|links|first"),
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|m| m.parse().ok())
                    .expect("--repeat N")
            }
            other => panic!(
                "unknown argument {other}; use --dir DIR --month 1|2 --path new|today|links|first --check --repeat N"
            ),
        }
    }
    let p1 = Period::parse("2026-01").unwrap();
    let p2 = Period::parse("2026-02").unwrap();
    let restricted = |p: Period| dir.join("periods").join(p.to_string()).join("restricted");
    let months: Vec<u32> = if month == 0 { vec![1, 2] } else { vec![month] };
    for m in months {
        let (period, previous) = if m == 1 { (p1, None) } else { (p2, Some(p1)) };
        let t = Instant::now();
        let prev = previous.map(|p| load(&restricted(p)));
        let cur = load(&restricted(period));
        eprintln!(
            "month {m} ({period}): tables loaded in {:.1} s, RSS {} MB ({} persons, {} flags, {} record keys)",
            t.elapsed().as_secs_f64(),
            status_kib("VmRSS") / 1024,
            cur.persons.num_rows(),
            cur.flags.num_rows(),
            cur.registry.len(),
        );
        if std::env::var_os("DELTA_BENCH_ORDER").is_some() {
            let sorted = |b: &RecordBatch, c: &str| {
                let a = b
                    .column_by_name(c)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .unwrap();
                (1..a.len()).all(|i| a.value(i - 1) < a.value(i))
            };
            eprintln!(
                "persons sorted by person_id: {}",
                sorted(&cur.persons, "person_id")
            );
            eprintln!(
                "flags sorted by person_id: {}",
                sorted(&cur.flags, "person_id")
            );
        }
        for _ in 1..repeat {
            // Earlier rounds, for a profiler to see the calls more than the loading.
            let prev_links = prev.as_ref().map(|p| link_table(&p.registry));
            let links = link_table(&cur.registry);
            let person = diff(
                "person",
                &["person_id"],
                prev.as_ref().map(|p| &p.persons),
                &cur.persons,
                previous,
                period,
            )
            .unwrap();
            let person = with_events(&person, &cur.events, previous, period).unwrap();
            let flag = diff(
                "flag",
                &["person_id", "flag"],
                prev.as_ref().map(|p| &p.flags),
                &cur.flags,
                previous,
                period,
            )
            .unwrap();
            let link = diff(
                "link",
                &[RECORD],
                prev_links.as_ref(),
                &links,
                previous,
                period,
            )
            .unwrap();
            drop((prev_links, links));
            combine(&[person, flag, link]).unwrap();
        }
        let base = status_kib("VmRSS");
        PEAK.store(base, Ordering::Relaxed);
        let all = Instant::now();
        let cpu_all = cpu_seconds();
        let delta = if path == "first" && prev.is_none() {
            timed("first_period_delta", || {
                first_period_delta(
                    &cur.persons,
                    &cur.events,
                    &cur.flags,
                    &cur.registry,
                    previous,
                    period,
                )
                .unwrap()
            })
        } else {
            let diffed = timed("diff person", || {
                diff(
                    "person",
                    &["person_id"],
                    prev.as_ref().map(|p| &p.persons),
                    &cur.persons,
                    previous,
                    period,
                )
                .unwrap()
            });
            let person = timed("with_events", || {
                with_events(&diffed, &cur.events, previous, period).unwrap()
            });
            // The delta without events is not kept either.
            drop(diffed);
            let flag = timed("diff flag", || {
                diff(
                    "flag",
                    &["person_id", "flag"],
                    prev.as_ref().map(|p| &p.flags),
                    &cur.flags,
                    previous,
                    period,
                )
                .unwrap()
            });
            let registries = (prev.as_ref().map(|p| &p.registry), &cur.registry);
            let link = if path == "links" || path == "today" {
                let prev_links = timed("link_table previous", || registries.0.map(link_table));
                let links = timed("link_table current", || link_table(registries.1));
                let link = timed("diff link", || {
                    diff(
                        "link",
                        &[RECORD],
                        prev_links.as_ref(),
                        &links,
                        previous,
                        period,
                    )
                    .unwrap()
                });
                drop((prev_links, links));
                if path == "links" {
                    let direct = timed("link_delta", || {
                        link_delta(registries.0, registries.1, previous, period).unwrap()
                    });
                    assert!(
                        same_batch(&direct, &link),
                        "link_delta differs from the diff of the link tables"
                    );
                }
                link
            } else {
                timed("link_delta", || {
                    link_delta(registries.0, registries.1, previous, period).unwrap()
                })
            };
            let parts = [person, flag, link];
            if path == "today" {
                timed("combine", || combine(&parts).unwrap())
            } else {
                timed("combine_owned", || combine_owned(parts.into()).unwrap())
            }
        };
        eprintln!(
            "  total {:.3} s wall {:.2} s cpu; {} rows; delta peak {} MB above the loaded tables' {} MB",
            all.elapsed().as_secs_f64(),
            cpu_seconds() - cpu_all,
            delta.num_rows(),
            PEAK.load(Ordering::Relaxed).saturating_sub(base) / 1024,
            base / 1024,
        );
        if check {
            drop((prev, cur));
            let published = read_parquet(&restricted(period).join("delta.parquet")).unwrap();
            assert_eq!(published.num_rows(), delta.num_rows(), "row count");
            for (i, field) in delta.schema().fields().iter().enumerate() {
                let theirs = published
                    .column_by_name(field.name())
                    .unwrap_or_else(|| panic!("published delta lacks {}", field.name()));
                let ours = delta.column(i);
                // Compare as data, ignoring the field's nullability.
                assert!(
                    ours.to_data() == theirs.to_data(),
                    "column {} differs from the published delta",
                    field.name()
                );
                assert_eq!(ours.null_count(), theirs.null_count());
            }
            eprintln!("  identical to the published delta.parquet");
        }
    }
}
