//! Times the publish stage on the tables of a period that is already
//! published (the 1M-student benchmark run), read-only.
//!
//! Usage: `publish_bench SRC_DIR PERIOD OUT_DIR MODE`, where MODE is
//!
//! * `restricted`: `publish` without a key (restricted tier only);
//! * `analyst`: `publish` with a key (both tiers); the key is written to
//!   `OUT_DIR.key` (mode 0600, 48 bytes) and read back with `load_key`, as
//!   the CLI does;
//! * `load`: only loads the tables (what the other modes' totals include);
//! * `steps`: each table on its own, one after the other, on one thread
//!   (`ArrowWriter` with publish's settings): Parquet encoding into memory,
//!   SHA-256 of the bytes, writing and syncing the file, and the analyst
//!   view made one row group at a time.
//!
//! It loads every restricted table of `PERIOD` from `SRC_DIR` (checked
//! against that period's manifest, never written), empties `OUT_DIR` (not
//! with `keep`, to republish several periods of an output folder), and
//! prints one line per step to stderr. Run it under `/usr/bin/time -v` for
//! the peak RSS, and once per mode so the peaks do not mix:
//!
//! ```sh
//! cargo build --release -p aidlink-publish --example publish_bench
//! /usr/bin/time -v target/release/examples/publish_bench \
//!     /tmp/bench/out-1m 2026-02 /tmp/me/out restricted
//! ```

use aidlink_privacy::{PrivacySettings, analyst_view, load_key, policy};
use aidlink_publish::{
    PeriodOutput, ROW_GROUP_ROWS, load_table, parquet_writer_properties, publish, sha256_hex,
};
use parquet::arrow::ArrowWriter;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The tables the CLI publishes, in its order.
const TABLES: &[&str] = &[
    "records",
    "persons",
    "flags",
    "rejects",
    "links",
    "delta",
    "person_events",
    "registry",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (src, period, out, mode, keep) = match args.as_slice() {
        [_, src, period, out, mode] => (src, period, out, mode, false),
        [_, src, period, out, mode, keep] if keep == "keep" => (src, period, out, mode, true),
        _ => {
            return Err(
                "usage: publish_bench SRC_DIR PERIOD OUT_DIR restricted|analyst|steps|load [keep]"
                    .into(),
            );
        }
    };
    let src = Path::new(src);
    let period = period.parse()?;
    let out = Path::new(out);

    let t = Instant::now();
    let mut tables = Vec::new();
    for name in TABLES {
        if let Some(batch) = load_table(src, period, name)? {
            tables.push((name.to_string(), batch));
        }
    }
    let rows: usize = tables.iter().map(|(_, b)| b.num_rows()).sum();
    eprintln!(
        "loaded {} tables, {rows} rows, in {} ms",
        tables.len(),
        t.elapsed().as_millis()
    );

    if !keep {
        let _ = std::fs::remove_dir_all(out);
    }
    std::fs::create_dir_all(out)?;
    let key_file = PathBuf::from(format!("{}.key", out.display()));
    write_key(&key_file)?;
    let settings = PrivacySettings {
        key_file: Some(key_file),
        ..PrivacySettings::default()
    };
    let key = load_key(&settings, Path::new("/"))?.ok_or("the key file was not loaded")?;

    match mode.as_str() {
        "steps" => {
            for (name, batch) in &tables {
                steps(out, name, batch, &key)?;
            }
        }
        "restricted" | "analyst" => {
            let output = PeriodOutput {
                period,
                tables,
                files: vec![("model.json".into(), b"{}".to_vec())],
                inputs: Vec::new(),
                config_sha256: String::new(),
                tool_version: "bench".into(),
            };
            let key = (mode == "analyst").then_some(&key);
            let cpu = cpu_ms();
            let t = Instant::now();
            let report = publish(out, &output, &PrivacySettings::default(), key)?;
            let total = t.elapsed();
            let cpu = cpu_ms() - cpu;
            for (step, took) in &report.timings {
                eprintln!("  {step:<40} {:>7.0} ms", took.as_secs_f64() * 1e3);
            }
            let bytes: u64 = report.outputs.iter().map(|o| o.bytes).sum();
            eprintln!(
                "publish {mode}: {:.0} ms wall, {cpu} ms cpu, {} files, {:.1} MB, manifest {}",
                total.as_secs_f64() * 1e3,
                report.outputs.len(),
                bytes as f64 / 1e6,
                report.manifest_sha256
            );
        }
        "load" => {}
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}

/// Times one table's steps separately, one after the other.
fn steps(
    out: &Path,
    name: &str,
    batch: &arrow_array::RecordBatch,
    key: &aidlink_privacy::PseudonymKey,
) -> Result<(), Box<dyn std::error::Error>> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let props = parquet_writer_properties(batch, &[]);
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))?;
    writer.write(batch)?;
    let bytes = writer.into_inner()?;
    let encode = ms(t);
    let t = Instant::now();
    let sha = sha256_hex(&bytes);
    let hash = ms(t);
    let t = Instant::now();
    let path = out.join(format!("{name}.parquet"));
    let mut file = std::fs::File::create(&path)?;
    file.write_all(&bytes)?;
    let write = ms(t);
    let t = Instant::now();
    file.sync_all()?;
    let sync = ms(t);
    let view = if policy::has_analyst_form(name) {
        // One row group at a time, as publish makes it.
        let t = Instant::now();
        let n = batch.num_rows();
        for offset in (0..n).step_by(ROW_GROUP_ROWS) {
            let rows = batch.slice(offset, ROW_GROUP_ROWS.min(n - offset));
            drop(analyst_view(name, &rows, key)?);
        }
        let took = ms(t);
        format!("{took:>6.0}")
    } else {
        "     -".to_string()
    };
    eprintln!(
        "{name:<14} {:>8} rows {:>7.1} MB  encode {encode:>6.0}  sha256 {hash:>5.0}  write {write:>5.0}  fsync {sync:>5.0}  view {view} ms  ({})",
        batch.num_rows(),
        bytes.len() as f64 / 1e6,
        &sha[..12]
    );
    Ok(())
}

/// CPU time (user and system) of this process so far, in milliseconds, from
/// `/proc/self/stat` (0 where there is none): on a shared machine the wall
/// time depends on the neighbours, the CPU time much less.
fn cpu_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The fields after the command name (which may hold spaces) in `(...)`;
    // utime and stime are the 14th and 15th fields, in clock ticks (100/s).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10
}

/// Writes a synthetic key file readable by its owner only.
fn write_key(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(b"publish-bench-key-0123456789abcdef0123456789abcd")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
