//! Times each delta call of the pipeline on a real run's published tables,
//! and checks the delta it builds against the published `delta.parquet`.
//!
//! The tables are read READ-ONLY from `DIR/periods/{P1,P2}/restricted/`
//! (default DIR `/tmp/bench/out-1m`, periods 2026-01 and 2026-02): month 1
//! is diffed with no previous period, month 2 against month 1, exactly as
//! `aidlink run` calls the crate (`link_table`, `diff` of persons,
//! `with_events`, `diff` of flags and links, `combine`).
//!
//! ```text
//! cargo build --release -p aidlink-delta --example delta_bench
//! /usr/bin/time -f "%e s %M KB" target/release/examples/delta_bench --month 1
//! target/release/examples/delta_bench --month 2 --check
//! ```
//!
//! `--check` also reads the published delta and compares it column by
//! column with the one built (reading it costs memory, so measure peaks
//! without it). Each call's line has its peak RSS above the RSS before it;
//! the "delta peak" is the highest RSS of all calls above the RSS with the
//! tables loaded. Peaks are read from `/proc/self/status` after resetting
//! them through `/proc/self/clear_refs`.

// A benchmark on fixed files: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aidlink_delta::{RECORD, combine, diff, link_delta, link_table, with_events};
use aidlink_registry::Registry;
use aidlink_vocab::Period;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Reads a whole Parquet file as one batch, with the schema it was written with.
fn read(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let rows = builder.metadata().file_metadata().num_rows().max(1) as usize;
    let batches: Vec<RecordBatch> = builder
        .with_batch_size(rows)
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

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
        persons: read(&dir.join("persons.parquet")),
        flags: read(&dir.join("flags.parquet")),
        registry: Registry::from_batch(&read(&dir.join("registry.parquet"))).unwrap(),
        events: read(&dir.join("person_events.parquet")),
    }
}

/// A line of `/proc/self/status` in KB (`VmHWM`, `VmRSS`).
fn status_kb(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user and system) the process has used, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the
    // 12th and stime the 13th of them, in clock ticks of 1/100 s.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// Resets the peak RSS to the current RSS (Linux 4.0 and later).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The highest peak RSS seen at the end of a [`timed`] call, in KB.
static PEAK: AtomicU64 = AtomicU64::new(0);

/// Each [`timed`] call's label, wall and CPU seconds.
static TIMES: Mutex<Vec<(String, f64, f64)>> = Mutex::new(Vec::new());

/// Wall and CPU seconds of the timed calls whose label `keep` accepts.
fn sum_times(keep: impl Fn(&str) -> bool) -> (f64, f64) {
    let times = TIMES.lock().map(|t| t.clone()).unwrap_or_default();
    times
        .iter()
        .filter(|t| keep(&t.0))
        .fold((0.0, 0.0), |(w, c), t| (w + t.1, c + t.2))
}

/// Runs one call and prints its wall time, the peak RSS during the call
/// above the RSS before it, and the RSS after it.
fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    reset_peak();
    let before = status_kb("VmRSS");
    let t = Instant::now();
    let cpu = cpu_seconds();
    let out = f();
    let took = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    PEAK.fetch_max(status_kb("VmHWM"), Ordering::Relaxed);
    if let Ok(mut t) = TIMES.lock() {
        t.push((label.to_string(), took, cpu));
    }
    eprintln!(
        "  {label:<22} {took:>7.3} s wall {cpu:>6.2} s cpu   peak +{:>5} MB, then {:>5} MB",
        status_kb("VmHWM").saturating_sub(before) / 1024,
        status_kb("VmRSS") / 1024
    );
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from("/tmp/bench/out-1m");
    let mut month = 0u32;
    let mut check = false;
    let mut repeat = 1;
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
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|m| m.parse().ok())
                    .expect("--repeat N")
            }
            other => panic!("unknown argument {other}; use --dir DIR --month 1|2 --check"),
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
            status_kb("VmRSS") / 1024,
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
        let base = status_kb("VmRSS");
        PEAK.store(base, Ordering::Relaxed);
        let all = Instant::now();
        let cpu_all = cpu_seconds();
        let delta = {
            let prev_links = timed("link_table previous", || {
                prev.as_ref().map(|p| link_table(&p.registry))
            });
            let links = timed("link_table current", || link_table(&cur.registry));
            let person = timed("diff person", || {
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
                with_events(&person, &cur.events, previous, period).unwrap()
            });
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
            let direct = timed("link_delta", || {
                link_delta(
                    prev.as_ref().map(|p| &p.registry),
                    &cur.registry,
                    previous,
                    period,
                )
                .unwrap()
            });
            assert!(
                same_batch(&direct, &link),
                "link_delta differs from the diff of the link tables"
            );
            drop(direct);
            let parts = [person, flag, link];
            timed("combine", || combine(&parts).unwrap())
        };
        // The pipeline's calls today, and with link_delta instead of two
        // link tables and their diff.
        let today = sum_times(|l| l != "link_delta");
        let direct = sum_times(|l| !l.starts_with("link_table") && l != "diff link");
        eprintln!(
            "  {:<22} {:>7.3} s wall {:>6.2} s cpu   (pipeline's calls: link_table, diff link)",
            "total", today.0, today.1
        );
        eprintln!(
            "  {:<22} {:>7.3} s wall {:>6.2} s cpu   (link_delta instead)",
            "total", direct.0, direct.1
        );
        eprintln!(
            "  {} rows; delta peak {} MB above the loaded tables' {} MB; all calls {:.3} s wall {:.2} s cpu",
            delta.num_rows(),
            PEAK.load(Ordering::Relaxed).saturating_sub(base) / 1024,
            base / 1024,
            all.elapsed().as_secs_f64(),
            cpu_seconds() - cpu_all,
        );
        if let Ok(mut t) = TIMES.lock() {
            t.clear();
        }
        if check {
            drop((prev, cur));
            let published = read(&restricted(period).join("delta.parquet"));
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
