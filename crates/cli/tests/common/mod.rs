//! Shared helpers of the integration tests: run the binary, read outputs.

#![allow(dead_code)]

use arrow_array::{Array, ListArray, RecordBatch, StringArray};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `aidlink` with arguments and returns its output.
pub fn aidlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aidlink"))
        .args(args)
        .env_remove("AIDLINK_LOG")
        .output()
        .expect("the aidlink binary runs")
}

/// Runs `aidlink` and asserts it exits with `code`.
pub fn aidlink_ok(args: &[&str], code: i32) -> Output {
    let out = aidlink(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "aidlink {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs one period of `config` into `out` and asserts it exits 0.
pub fn run_period(config: &Path, period: &str, out: &Path) -> Output {
    let (config, out) = (
        config.to_str().expect("utf-8 path"),
        out.to_str().expect("utf-8 path"),
    );
    aidlink_ok(
        &["run", "--config", config, "--period", period, "--out", out],
        0,
    )
}

/// Generates a synthetic city and returns its folder.
pub fn synth(dir: &Path, students: u64, months: u32, seed: u64) -> PathBuf {
    let city = dir.join("city");
    aidlink_ok(
        &[
            "synth",
            "--students",
            &students.to_string(),
            "--months",
            &months.to_string(),
            "--seed",
            &seed.to_string(),
            "--start",
            "2026-01",
            "--out",
            city.to_str().expect("utf-8 temp path"),
        ],
        0,
    );
    city
}

/// Reads a whole Parquet file into one batch.
pub fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet header");
    let schema = builder.schema().clone();
    let reader = builder.build().expect("parquet reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("parquet batch")).collect();
    arrow_select::concat::concat_batches(&schema, &batches).expect("concat")
}

/// Every string value in a batch (inside lists too), for leak scans.
pub fn all_strings(batch: &RecordBatch) -> Vec<String> {
    let mut out = Vec::new();
    for col in batch.columns() {
        collect_strings(col.as_ref(), &mut out);
    }
    out
}

fn collect_strings(array: &dyn Array, out: &mut Vec<String>) {
    if let Some(s) = array.as_any().downcast_ref::<StringArray>() {
        out.extend(s.iter().flatten().map(str::to_string));
    } else if let Some(l) = array.as_any().downcast_ref::<ListArray>() {
        collect_strings(l.values().as_ref(), out);
    }
}

/// The string values of one column.
pub fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let col = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let s = col
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap_or_else(|| panic!("{column} is not Utf8"));
    s.iter().map(|v| v.map(str::to_string)).collect()
}

/// Every published file under `dir` except `run.json` (the one file that
/// holds a timestamp), sorted, as (relative path, bytes).
pub fn published_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .filter(|(name, _)| !name.ends_with("run.json"))
        .collect()
}

/// Every file under a folder, sorted, as (relative path, bytes).
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .to_string();
                out.push((rel, std::fs::read(&p).expect("read file")));
            }
        }
    }
    out.sort();
    out
}
