//! Throughput of `normalize_source` on synthetic enrollment rows, and of
//! ingest plus normalize on a whole city's extracts.
//!
//! Usage: `cargo run --release -p aidlink-normalize --example bench -- [ROWS]`
//! (default 1,000,000). Rows are made in code from a fixed seed, with the
//! mess real extracts have (traditional characters, full-width and 15-digit
//! IDs, mixed date formats, phone separators), and the enrollment source of
//! `configs/demo.toml`'s shape. Prints rows per second over the best of
//! three runs, the thread count rayon used, and rows per CPU second (which a
//! busy shared machine distorts less than wall time).
//!
//! `bench city --config FILE --period YYYY-MM [--repeat K] [--digest FILE]`
//! reads and normalizes every source of a config one after another, as
//! `aidlink run` does, and concatenates the record and reject parts the way
//! the pipeline does. It prints each source's milliseconds, the total wall
//! and CPU time of the best run and the peak resident memory; `--digest`
//! writes a SHA-256 of every column of every output (raw, records, rejects,
//! the concatenated tables) and every stat and count, one per line, so that
//! `diff` of the files of two builds proves their outputs identical.
//! `--combined` reads every source first and normalizes them together with
//! `normalize_sources` (no concatenation of records); its digest has no
//! per-source `records` lines, and every other line equals the default's.
//! `--concurrent` (with `--combined`) reads the sources at once with
//! `aidlink_ingest::read_sources`.

use aidlink_benchkit::cpu_seconds;
use aidlink_config::Config;
use aidlink_normalize::normalize_source;
use aidlink_vocab::schema::raw_schema;
use aidlink_vocab::{CivilDate, ResidentId};
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CONFIG: &str = r#"
[sources.enrollment]
path = "enrollment.csv"
roles = ["enrollment", "aid"]

[sources.enrollment.columns]
name = "姓名"
gender = "性别"
birth_date = "出生日期"
id_number = "身份证号"
student_no = "学籍号"
school = "学校名称"
grade = "年级"
class = "班级"
guardian_name = "监护人姓名"
guardian_id = "监护人身份证号"
address = "家庭住址"
phone = "联系电话"
aid_type = "资助项目"
aid_amount = "资助金额"

[sources.enrollment.values.gender]
"男" = "M"
"女" = "F"
"#;

/// A small deterministic generator (SplitMix64), so the bench needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "劉", "陈", "杨", "黄", "赵", "吴", "周", "曾", "欧阳", "单", "朴", "章",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "國",
    "華", "超",
];
const AREAS: &[&str] = &["440106", "440104", "440111", "440113", "440105"];

fn id_for(rng: &mut Rng, year: i32) -> (ResidentId, CivilDate) {
    let d = CivilDate::from_days(
        CivilDate::new(year, 1, 1).map_or(0, |d| d.to_days()) + rng.below(365) as i32,
    );
    let id = ResidentId::from_parts(rng.pick(AREAS), d, rng.below(1000) as u32)
        .unwrap_or_else(|| unreachable!());
    (id, d)
}

fn messy_id(rng: &mut Rng, id: &ResidentId) -> String {
    let s = id.as_str();
    match rng.below(100) {
        0 => s
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
            .collect(),
        1 => format!("{} {}", &s[..6], &s[6..]),
        2 => {
            format!(
                "{}{}",
                &s[..16],
                (b'0' + (s.as_bytes()[16] - b'0' + 1) % 10) as char
            ) + &s[17..]
        }
        3 => s.to_lowercase(),
        _ => s.to_string(),
    }
}

fn synth(rows: usize) -> RecordBatch {
    let fields = [
        "name",
        "gender",
        "birth_date",
        "id_number",
        "student_no",
        "school",
        "grade",
        "class",
        "guardian_name",
        "guardian_id",
        "address",
        "phone",
        "aid_type",
        "aid_amount",
    ];
    let mut b: Vec<StringBuilder> = fields
        .iter()
        .map(|_| StringBuilder::with_capacity(rows, rows * 12))
        .collect();
    let mut rng = Rng(20_261_101);
    for _ in 0..rows {
        let surname = rng.pick(SURNAMES);
        let (g1, two) = (rng.pick(GIVEN), rng.below(2) == 0);
        let g2 = if two { rng.pick(GIVEN) } else { "" };
        let name = format!("{surname}{g1}{g2}");
        let child_year = 2008 + rng.below(10) as i32;
        let (id, born) = id_for(&mut rng, child_year);
        let guardian_year = 1975 + rng.below(15) as i32;
        let (gid, _) = id_for(&mut rng, guardian_year);
        let birth = match rng.below(4) {
            0 => born.to_string(),
            1 => format!("{}/{}/{}", born.year, born.month, born.day),
            2 => format!("{}年{}月{}日", born.year, born.month, born.day),
            _ => format!("{:04}{:02}{:02}", born.year, born.month, born.day),
        };
        let cells: [Option<String>; 14] = [
            Some(name),
            Some(
                if id.gender().code() == "M" {
                    "男"
                } else {
                    "女"
                }
                .to_string(),
            ),
            Some(birth),
            (rng.below(50) != 0).then(|| messy_id(&mut rng, &id)),
            Some(format!("G{}", id.as_str())),
            Some(format!("第{}小学", rng.below(200))),
            Some(format!("{}年级", rng.below(6) + 1)),
            Some(format!("{}班", rng.below(8) + 1)),
            Some(format!("{}{}{}", surname, rng.pick(GIVEN), rng.pick(GIVEN))),
            Some(gid.as_str().to_string()),
            Some(format!(
                "广州市天河区某某路{}号 {}室",
                rng.below(999),
                rng.below(99)
            )),
            Some(format!(
                "138-{:04}-{:04}",
                rng.below(10_000),
                rng.below(10_000)
            )),
            (rng.below(5) == 0).then(|| "国家助学金".to_string()),
            (rng.below(5) == 0).then(|| "¥1,000".to_string()),
        ];
        for (builder, cell) in b.iter_mut().zip(cells) {
            builder.append_option(cell);
        }
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(1..=rows as u64))];
    columns.extend(b.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(raw_schema(fields), columns)
        .unwrap_or_else(|e| panic!("synthetic batch: {e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("city") {
        if let Err(e) = city::run(&args[1..]) {
            eprintln!("bench city: {e}");
            std::process::exit(1);
        }
        return;
    }
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let config = Config::from_text(Path::new("bench.toml"), CONFIG.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let raw = synth(rows);
    eprintln!("made {rows} synthetic rows in {:.2?}", t.elapsed());
    let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let out = normalize_source(&config, "enrollment", &raw).unwrap_or_else(|e| panic!("{e}"));
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - cpu);
        assert_eq!(out.records.num_rows() + out.rejects.num_rows(), rows);
    }
    println!(
        "normalize: {rows} rows x 14 fields in {best:.3} s = {:.0} rows/s on {} threads; {best_cpu:.2} CPU s = {:.0} rows per CPU second",
        rows as f64 / best,
        rayon::current_num_threads(),
        rows as f64 / best_cpu,
    );
    if std::env::var_os("BENCH_FIELDS").is_some() {
        per_field(&config, &raw);
    }
}

/// CPU time of each field alone next to `id_number` (which every row needs
/// to be accepted), minus `id_number` alone: where the time goes. The clock
/// ticks at 10 ms, so use a million rows or more.
fn per_field(config: &Config, raw: &RecordBatch) {
    let time = |cols: &[&str]| {
        let idx: Vec<usize> = std::iter::once("source_row")
            .chain(cols.iter().copied())
            .map(|c| raw.schema().index_of(c).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let part = raw.project(&idx).unwrap_or_else(|e| panic!("{e}"));
        (0..3)
            .map(|_| {
                let cpu = cpu_seconds();
                let _ = normalize_source(config, "enrollment", &part);
                cpu_seconds() - cpu
            })
            .fold(f64::INFINITY, f64::min)
    };
    let base = time(&["id_number"]);
    println!(
        "  id_number (with the fixed cost): {:.0} ns/row",
        base * 1e9 / raw.num_rows() as f64
    );
    for f in raw.schema().fields().iter().skip(1) {
        if f.name() == "id_number" {
            continue;
        }
        let t = time(&["id_number", f.name()]);
        println!(
            "  {:>14}: {:.0} ns/row",
            f.name(),
            (t - base) * 1e9 / raw.num_rows() as f64
        );
    }
}

mod city {
    //! The `city` mode: ingest and normalize a config's sources as the pipeline does.

    use aidlink_benchkit::{cpu_seconds, status_kib};
    use aidlink_config::Config;
    use aidlink_normalize::normalize_source;
    use aidlink_vocab::{Period, schema};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, UInt64Type};
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_schema::DataType;
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    use std::path::Path;
    use std::time::Instant;

    type Error = Box<dyn std::error::Error>;

    fn option<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    }

    /// Everything one pass over the sources produced.
    struct Pass {
        /// Per source: name, milliseconds, and the lines of its digest.
        sources: Vec<(String, u128, Vec<String>)>,
        records: RecordBatch,
        rejects: RecordBatch,
        concat_ms: u128,
        /// Seconds spent digesting, left out of the pass's times.
        digest_seconds: f64,
    }

    pub fn run(args: &[String]) -> Result<(), Error> {
        let config = Config::load(Path::new(option(args, "--config").ok_or("needs --config")?))?;
        let period = Period::parse(option(args, "--period").ok_or("needs --period")?)?;
        let repeat: usize = option(args, "--repeat").map_or(Ok(1), str::parse)?;
        let digest = option(args, "--digest");
        let combined = args.iter().any(|a| a == "--combined");
        let concurrent = args.iter().any(|a| a == "--concurrent");
        let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
        let mut last = None;
        for _ in 0..repeat.max(1) {
            drop(last.take());
            let (t, cpu) = (Instant::now(), cpu_seconds());
            let pass = if combined {
                combined_pass(&config, period, digest.is_some(), concurrent)?
            } else {
                one_pass(&config, period, digest.is_some())?
            };
            let wall = t.elapsed().as_secs_f64() - pass.digest_seconds;
            let cpu = cpu_seconds() - cpu - pass.digest_seconds;
            let per: Vec<String> = pass
                .sources
                .iter()
                .map(|(n, ms, _)| format!("{n}={ms}"))
                .collect();
            println!(
                "pass: {wall:.3} s wall, {cpu:.2} CPU s, ms: {} concat={}",
                per.join(" "),
                pass.concat_ms
            );
            best = best.min(wall);
            best_cpu = best_cpu.min(cpu);
            last = Some(pass);
        }
        let pass = last.ok_or("no run")?;
        println!(
            "best: {best:.3} s wall, {best_cpu:.2} CPU s; peak RSS {:.0} MiB; records {} rows, rejects {} rows; {} threads",
            status_kib("VmHWM") as f64 / 1024.0,
            pass.records.num_rows(),
            pass.rejects.num_rows(),
            rayon::current_num_threads()
        );
        if let Some(path) = digest {
            let mut text = String::new();
            for (name, _, lines) in &pass.sources {
                for l in lines {
                    let _ = writeln!(text, "{name} {l}");
                }
            }
            for l in digest_batch(&pass.records) {
                let _ = writeln!(text, "all records {l}");
            }
            for l in digest_batch(&pass.rejects) {
                let _ = writeln!(text, "all rejects {l}");
            }
            std::fs::write(path, text)?;
            println!("digest written to {path}");
        }
        Ok(())
    }

    fn one_pass(config: &Config, period: Period, digest: bool) -> Result<Pass, Error> {
        let mut sources = Vec::new();
        let mut record_parts = Vec::new();
        let mut reject_parts = Vec::new();
        let mut digest_seconds = 0.0;
        for name in config.sources.keys() {
            let t = Instant::now();
            let ingested = aidlink_ingest::read_source(config, name, period)?;
            let normalized = normalize_source(config, name, &ingested.raw)?;
            let ms = t.elapsed().as_millis();
            let mut lines = Vec::new();
            if digest {
                let t = Instant::now();
                lines.push(format!("stats {:?}", ingested.stats));
                lines.push(format!(
                    "counts {:?} id_check_failed={} id_present={}",
                    normalized.note_counts, normalized.id_check_failed, normalized.id_present
                ));
                for (what, batch) in [
                    ("raw", &ingested.raw),
                    ("ingest_rejects", &ingested.rejects),
                    ("records", &normalized.records),
                    ("normalize_rejects", &normalized.rejects),
                ] {
                    lines.extend(
                        digest_batch(batch)
                            .into_iter()
                            .map(|l| format!("{what} {l}")),
                    );
                }
                // The digest runs on one thread, so its wall time is its CPU time.
                digest_seconds += t.elapsed().as_secs_f64();
            }
            sources.push((name.clone(), ms, lines));
            record_parts.push(normalized.records);
            reject_parts.push(ingested.rejects);
            reject_parts.push(normalized.rejects);
        }
        let t = Instant::now();
        let records = concat_parallel(&schema::record_schema(&config.extra_fields), &record_parts)?;
        drop(record_parts);
        let rejects =
            arrow_select::concat::concat_batches(&schema::rejects_schema(), &reject_parts)?;
        Ok(Pass {
            sources,
            records,
            rejects,
            concat_ms: t.elapsed().as_millis(),
            digest_seconds,
        })
    }

    /// Every source read first, then normalized together.
    fn combined_pass(
        config: &Config,
        period: Period,
        digest: bool,
        concurrent: bool,
    ) -> Result<Pass, Error> {
        let mut ingested = Vec::new();
        let mut digest_seconds = 0.0;
        if concurrent {
            let (t, cpu) = (Instant::now(), cpu_seconds());
            let names: Vec<&str> = config.sources.keys().map(String::as_str).collect();
            let outs = aidlink_ingest::read_sources(config, &names, period)?;
            ingested.extend(names.iter().map(|n| n.to_string()).zip(outs));
            println!(
                "  read_sources {} ms, {:.2} CPU s",
                t.elapsed().as_millis(),
                cpu_seconds() - cpu
            );
        }
        for name in config.sources.keys().filter(|_| !concurrent) {
            let t = Instant::now();
            let cpu = cpu_seconds();
            ingested.push((
                name.clone(),
                aidlink_ingest::read_source(config, name, period)?,
            ));
            println!(
                "  read {name} {} ms, {:.2} CPU s",
                t.elapsed().as_millis(),
                cpu_seconds() - cpu
            );
        }
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let list: Vec<(&str, &RecordBatch)> =
            ingested.iter().map(|(n, i)| (n.as_str(), &i.raw)).collect();
        let all = aidlink_normalize::normalize_sources(config, &list)?;
        println!(
            "  normalize_sources {} ms, {:.2} CPU s",
            t.elapsed().as_millis(),
            cpu_seconds() - cpu
        );
        let mut sources = Vec::new();
        let mut reject_parts = Vec::new();
        for ((name, ing), out) in ingested.iter().zip(&all.sources) {
            let mut lines = Vec::new();
            if digest {
                let t = Instant::now();
                lines.push(format!("stats {:?}", ing.stats));
                lines.push(format!(
                    "counts {:?} id_check_failed={} id_present={}",
                    out.note_counts, out.id_check_failed, out.id_present
                ));
                for (what, batch) in [
                    ("raw", &ing.raw),
                    ("ingest_rejects", &ing.rejects),
                    ("normalize_rejects", &out.rejects),
                ] {
                    lines.extend(
                        digest_batch(batch)
                            .into_iter()
                            .map(|l| format!("{what} {l}")),
                    );
                }
                digest_seconds += t.elapsed().as_secs_f64();
            }
            sources.push((name.clone(), 0, lines));
            reject_parts.push(ing.rejects.clone());
            reject_parts.push(out.rejects.clone());
        }
        drop(ingested);
        let t = Instant::now();
        let rejects =
            arrow_select::concat::concat_batches(&schema::rejects_schema(), &reject_parts)?;
        Ok(Pass {
            sources,
            records: all.records,
            rejects,
            concat_ms: t.elapsed().as_millis(),
            digest_seconds,
        })
    }

    /// The pipeline's concatenation: one column per rayon task.
    fn concat_parallel(
        schema: &arrow_schema::SchemaRef,
        parts: &[RecordBatch],
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        use rayon::prelude::*;
        let columns: Vec<ArrayRef> = (0..schema.fields().len())
            .into_par_iter()
            .map(|c| {
                let arrays: Vec<&dyn Array> = parts.iter().map(|b| b.column(c).as_ref()).collect();
                arrow_select::concat::concat(&arrays)
            })
            .collect::<Result<_, _>>()?;
        let rows = parts.iter().map(RecordBatch::num_rows).sum();
        RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }

    /// One line per column: its name, type, null count and a SHA-256 of its
    /// values (each row's validity and value), so equal lines mean equal columns.
    fn digest_batch(batch: &RecordBatch) -> Vec<String> {
        let mut lines = vec![format!("rows={}", batch.num_rows())];
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let mut h = Sha256::new();
            let c = column.as_ref();
            for row in 0..c.len() {
                if c.is_null(row) {
                    h.update([0u8]);
                    continue;
                }
                h.update([1u8]);
                match c.data_type() {
                    DataType::Utf8 => {
                        let v = c.as_string::<i32>().value(row);
                        h.update((v.len() as u64).to_le_bytes());
                        h.update(v.as_bytes());
                    }
                    DataType::UInt64 => {
                        h.update(c.as_primitive::<UInt64Type>().value(row).to_le_bytes())
                    }
                    DataType::Date32 => {
                        h.update(c.as_primitive::<Date32Type>().value(row).to_le_bytes())
                    }
                    DataType::Float64 => {
                        h.update(c.as_primitive::<Float64Type>().value(row).to_le_bytes())
                    }
                    DataType::Boolean => h.update([u8::from(c.as_boolean().value(row))]),
                    other => panic!("no digest for {other}"),
                }
            }
            lines.push(format!(
                "{} {} nulls={} {}",
                field.name(),
                field.data_type(),
                c.null_count(),
                hex::encode(h.finalize())
            ));
        }
        lines
    }
}
