//! Times the publish stage on the tables of a period that is already
//! published (the 1M-student benchmark run), read-only.
//!
//! Usage: `publish_bench SRC_DIR PERIOD OUT_DIR MODE`, where MODE is
//!
//! * `restricted`: `publish` without a key (restricted tier only);
//! * `analyst`: `publish` with a key (both tiers); the key is written to
//!   `OUT_DIR.key` (mode 0600, 48 bytes) and read back with `load_key`, as
//!   the CLI does;
//! * `columns`: each column of each table encoded on its own on one thread,
//!   with publish's settings and with the dictionary flipped, without
//!   compression and without statistics: CPU time and size of each;
//! * `stage`: as `restricted`, through a `PeriodStage` fed one table at a time;
//! * `compare`: checks that every table reads back from `OUT_DIR` (a
//!   publication of the same period, left as it is) with the same schema
//!   and values as from `SRC_DIR`;
//! * `load`: only loads the tables (what the other modes' totals include);
//! * `steps`: each table on its own, one after the other, on one thread
//!   (`ArrowWriter` with publish's settings): Parquet encoding into memory,
//!   SHA-256 of the bytes, writing and syncing the file, and the analyst
//!   view made one row group at a time.
//!
//! It loads every restricted table of `PERIOD` from `SRC_DIR` (checked
//! against that period's manifest, never written), empties `OUT_DIR` (not
//! with `keep`, to republish several periods of an output folder), and
//! prints one line per step to stderr. With `times=N` the publishing modes
//! publish N times over, loading once, for CPU times to compare on a busy
//! machine. Run it under `/usr/bin/time -v` for
//! the peak RSS, and once per mode so the peaks do not mix:
//!
//! ```sh
//! cargo build --release -p aidlink-publish --example publish_bench
//! /usr/bin/time -v target/release/examples/publish_bench \
//!     /tmp/bench/out-1m 2026-02 /tmp/me/out restricted
//! ```

use aidlink_privacy::{PrivacySettings, analyst_view, load_key, policy};
use aidlink_publish::{
    PeriodOutput, PeriodStage, ROW_GROUP_ROWS, load_table, parquet_writer_properties, publish,
    sha256_hex,
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
    "match_state",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: publish_bench SRC_DIR PERIOD OUT_DIR restricted|analyst|stage|steps|columns|compare|load [keep|times=N]";
    let (src, period, out, mode, extra) = match args.as_slice() {
        [_, src, period, out, mode] => (src, period, out, mode, None),
        [_, src, period, out, mode, extra] => (src, period, out, mode, Some(extra.as_str())),
        _ => return Err(usage.into()),
    };
    let keep = extra == Some("keep");
    let times: usize = match extra.and_then(|e| e.strip_prefix("times=")) {
        Some(n) => n.parse()?,
        None if extra.is_none() || keep => 1,
        None => return Err(usage.into()),
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

    if !keep && mode != "compare" {
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
        "restricted" | "analyst" | "stage" => {
            let output = PeriodOutput {
                period,
                tables,
                files: vec![("model.json".into(), b"{}".to_vec())],
                inputs: Vec::new(),
                config_sha256: String::new(),
                tool_version: "bench".into(),
            };
            let key = (mode == "analyst").then_some(&key);
            for round in 0..times {
                if round > 0 {
                    std::fs::remove_dir_all(out)?;
                }
                let cpu = cpu_ms();
                let user = user_ms();
                let t = Instant::now();
                let report = if mode == "stage" {
                    staged(out, &output, key)?
                } else {
                    publish(out, &output, &PrivacySettings::default(), key)?
                };
                let total = t.elapsed();
                let cpu = cpu_ms() - cpu;
                let user = user_ms() - user;
                if round == 0 {
                    for (step, took) in &report.timings {
                        eprintln!("  {step:<40} {:>7.0} ms", took.as_secs_f64() * 1e3);
                    }
                }
                let bytes: u64 = report.outputs.iter().map(|o| o.bytes).sum();
                eprintln!(
                    "publish {mode}: {:.0} ms wall, {cpu} ms cpu ({user} ms user), {} files, {:.1} MB, manifest {}",
                    total.as_secs_f64() * 1e3,
                    report.outputs.len(),
                    bytes as f64 / 1e6,
                    report.manifest_sha256
                );
            }
        }
        "columns" => {
            for (name, batch) in &tables {
                columns(name, batch)?;
            }
        }
        "compare" => {
            // OUT_DIR holds a publication of the same period (by another
            // build): every table must read back with the same values and
            // schema, whatever the writer settings did to the bytes.
            for (name, batch) in &tables {
                let other = load_table(out, period, name)?
                    .ok_or_else(|| format!("{name} is missing from {}", out.display()))?;
                if &other != batch {
                    return Err(format!("{name} differs").into());
                }
                eprintln!("{name}: same schema and values, {} rows", batch.num_rows());
            }
        }
        "load" => {}
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}

/// Publishes `output` through a [`PeriodStage`], the tables handed over one
/// by one in the pipeline's order, as the CLI does.
fn staged(
    out: &Path,
    output: &PeriodOutput,
    key: Option<&aidlink_privacy::PseudonymKey>,
) -> Result<aidlink_publish::PublishReport, Box<dyn std::error::Error>> {
    let settings = PrivacySettings::default();
    let mut stage = PeriodStage::begin(out, output.period, &settings, key)?;
    for (name, batch) in &output.tables {
        stage.table(name, batch.clone())?;
    }
    for (name, bytes) in &output.files {
        stage.file(name, bytes.clone())?;
    }
    Ok(stage.finish(
        output.inputs.clone(),
        output.config_sha256.clone(),
        output.tool_version.clone(),
    )?)
}

/// Encodes each column of a table on its own, on one thread, with
/// publish's settings and with variants of them, and prints CPU time and
/// size of each: where dictionaries, compression and statistics pay.
fn columns(name: &str, batch: &arrow_array::RecordBatch) -> Result<(), Box<dyn std::error::Error>> {
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let props = parquet_writer_properties(batch, &[]);
    let schema = batch.schema();
    for (i, field) in schema.fields().iter().enumerate() {
        let one = arrow_array::RecordBatch::try_new(
            std::sync::Arc::new(arrow_schema::Schema::new(vec![field.clone()])),
            vec![batch.column(i).clone()],
        )?;
        let path = parquet::schema::types::ColumnPath::from(field.name().as_str());
        let dict = props.dictionary_enabled(&path);
        let share = sample_distinct_share(batch.column(i).as_ref());
        let encode = |props: WriterProperties| -> Result<(f64, usize), Box<dyn std::error::Error>> {
            let cpu = cpu_ms();
            let mut writer = ArrowWriter::try_new(Vec::new(), one.schema(), Some(props))?;
            let n = one.num_rows();
            for offset in (0..n).step_by(ROW_GROUP_ROWS) {
                writer.write(&one.slice(offset, ROW_GROUP_ROWS.min(n - offset)))?;
                writer.flush()?;
            }
            let bytes = writer.into_inner()?;
            Ok(((cpu_ms() - cpu) as f64, bytes.len()))
        };
        let base = || {
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .set_statistics_enabled(props.statistics_enabled(&path))
                .set_dictionary_enabled(dict)
        };
        let (t0, b0) = encode(base().build())?;
        let (t1, b1) = encode(base().set_dictionary_enabled(!dict).build())?;
        let (t2, b2) = encode(base().set_compression(Compression::UNCOMPRESSED).build())?;
        let (t3, b3) = encode(
            base()
                .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
                .build(),
        )?;
        eprintln!(
            "{name:<13} {:<22} {:<12} share {share:.3} dict {dict:<5} {t0:>5.0} ms {:>6.1} MB | dict {:<5} {t1:>5.0} ms {:>6.1} MB | raw {t2:>5.0} ms {:>6.1} MB | nostats {t3:>5.0} ms {:>6.1} MB",
            field.name(),
            format!("{}", field.data_type())
                .chars()
                .take(12)
                .collect::<String>(),
            b0 as f64 / 1e6,
            !dict,
            b1 as f64 / 1e6,
            b2 as f64 / 1e6,
            b3 as f64 / 1e6,
        );
    }
    Ok(())
}

/// The share of distinct values among 8192 evenly spaced values of a
/// fixed-width column (NaN for other types), as publish samples them.
fn sample_distinct_share(column: &dyn arrow_array::Array) -> f64 {
    let Some(width) = column.data_type().primitive_width() else {
        return f64::NAN;
    };
    let data = column.to_data();
    let Some(buffer) = data.buffers().first() else {
        return f64::NAN;
    };
    let n = column.len();
    let step = (n / 8192).max(1);
    let mut seen = std::collections::HashSet::new();
    let mut values = 0usize;
    for i in (0..n)
        .step_by(step)
        .take(8192)
        .filter(|&i| column.is_valid(i))
    {
        let at = (data.offset() + i) * width;
        if let Some(v) = buffer.as_slice().get(at..at + width) {
            seen.insert(v);
            values += 1;
        }
    }
    seen.len() as f64 / values.max(1) as f64
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
    let (user, system) = cpu_ticks();
    (user + system) * 10
}

/// User CPU time of this process so far, in milliseconds: without the
/// kernel's share (page faults, writes, syncs), which varies most.
fn user_ms() -> u64 {
    cpu_ticks().0 * 10
}

/// User and system CPU time of this process so far, in clock ticks.
fn cpu_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0, 0);
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
    (ticks(11), ticks(12))
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
