//! Benchmark driver for ingest, run by `benches/ingest.sh`.
//!
//! ```text
//! ingest_bench gen  --rows N --out FILE [--gb18030] [--seed S]
//!     writes a synthetic enrollment extract (the demo config's 14 columns;
//!     UTF-8 with BOM, or GB18030) with N rows, quoted cells included
//! ingest_bench read FILE [--repeat K]
//!     ingests FILE as the demo config's enrollment source, K times, and
//!     prints rows, bytes, seconds and rows per second of the fastest run,
//!     and the raw table's Arrow memory (`table_mib`, buffer capacity
//!     included: the part never written is not resident)
//! ingest_bench source --config FILE --period YYYY-MM --source NAME [--repeat K]
//!     ingests one source of a config (say, the generator's output)
//! ```
//!
//! Generation and reading are separate processes so that `/usr/bin/time -v`
//! on `read` measures ingest's peak memory alone. The data is synthetic: IDs
//! are made with valid check characters from a counter, names from a short
//! made-up list.

use aidlink_config::{Config, SourceConfig};
use aidlink_ingest::{IngestOutput, read_file, read_source};
use aidlink_vocab::{CivilDate, Period, ResidentId};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const HEADER: &str = "姓名,性别,出生日期,身份证号,学籍号,学校名称,年级,班级,监护人姓名,监护人身份证号,家庭住址,联系电话,资助项目,资助金额";

const CONFIG: &str = r#"[sources.enrollment]
path = "enrollment.csv"
format = "csv"
encoding = "auto"
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
"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen") => generate(&args[1..]),
        Some("read") => read(&args[1..]),
        Some("source") => source(&args[1..]),
        _ => Err("usage: ingest_bench gen|read|source ... (see the file's doc)".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ingest_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `--flag`, if given.
fn option<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number(args: &[String], flag: &str, default: u64) -> Result<u64, String> {
    option(args, flag).map_or(Ok(default), |v| {
        v.parse().map_err(|e| format!("{flag} {v}: {e}"))
    })
}

/// A small deterministic generator (SplitMix64), enough to vary the rows.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn generate(args: &[String]) -> Result<(), String> {
    let rows = number(args, "--rows", 1_000_000)?;
    let seed = number(args, "--seed", 7)?;
    let out = option(args, "--out").ok_or("gen needs --out FILE")?;
    let gb = args.iter().any(|a| a == "--gb18030");
    let surnames = [
        "张",
        "王",
        "李",
        "刘",
        "陈",
        "欧阳",
        "曾",
        "单",
        "司马",
        "阿依古丽·",
    ];
    let given = [
        "伟",
        "娜娜",
        "子涵",
        "浩然",
        "一诺",
        "梓萱",
        "买买提",
        "欣怡",
        "宇轩",
        "思远",
    ];
    let schools = [
        "第一小学",
        "实验中学",
        "城关镇中心小学",
        "第二中学",
        "育才小学",
    ];
    let aid = ["", "", "", "国家助学金", "营养餐补助", "免学费"];
    let mut rng = Mix(seed);
    let mut text = String::with_capacity(rows as usize * 230);
    text.push_str(HEADER);
    text.push_str("\r\n");
    for i in 0..rows {
        let birth = CivilDate::new(
            2008 + (rng.next() % 12) as i32,
            1 + (rng.next() % 12) as u32,
            1 + (rng.next() % 28) as u32,
        )
        .ok_or("bad date")?;
        let id = ResidentId::from_parts("440106", birth, (i % 999) as u32 + 1).ok_or("bad id")?;
        let guardian_birth = CivilDate::new(
            1975 + (rng.next() % 15) as i32,
            1 + (i % 12) as u32,
            1 + (i % 28) as u32,
        )
        .ok_or("bad date")?;
        let guardian =
            ResidentId::from_parts("440106", guardian_birth, (rng.next() % 999) as u32 + 1)
                .ok_or("bad id")?;
        let aid_type = rng.pick(&aid);
        let amount = if aid_type.is_empty() {
            String::new()
        } else {
            format!("{}", 500 + rng.next() % 1500)
        };
        // One address in eight has a comma and needs quoting, as real exports do.
        let address = if i % 8 == 0 {
            format!(
                "\"广州市天河区幸福路{}号,{}单元\"",
                rng.next() % 300,
                rng.next() % 9
            )
        } else {
            format!("广州市天河区幸福路{}号", rng.next() % 300)
        };
        use std::fmt::Write as _;
        let _ = write!(
            text,
            "{}{},{},{},{},G{},{},{}年级,{}班,{}{},{},{},1{:010},{},{}\r\n",
            rng.pick(&surnames),
            rng.pick(&given),
            if id.sequence() % 2 == 1 { "男" } else { "女" },
            birth,
            id.as_str(),
            id.as_str(),
            rng.pick(&schools),
            1 + rng.next() % 9,
            1 + rng.next() % 12,
            rng.pick(&surnames),
            rng.pick(&given),
            guardian.as_str(),
            address,
            rng.next() % 10_000_000_000,
            aid_type,
            amount,
        );
    }
    let mut file = std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?;
    let bytes = if gb {
        encoding_rs::GB18030.encode(&text).0.into_owned()
    } else {
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(text.as_bytes());
        b
    };
    file.write_all(&bytes).map_err(|e| format!("{out}: {e}"))?;
    println!("wrote {rows} rows, {} bytes, to {out}", bytes.len());
    Ok(())
}

fn read(args: &[String]) -> Result<(), String> {
    let file = args.first().ok_or("read needs FILE")?;
    let repeat = number(args, "--repeat", 1)?;
    let config = Config::from_text(Path::new("bench.toml"), CONFIG.to_string())
        .map_err(|e| e.to_string())?;
    let source: &SourceConfig = &config.sources["enrollment"];
    let path = PathBuf::from(file);
    time(repeat, || {
        read_file("enrollment", source, &path).map_err(|e| e.to_string())
    })
}

fn source(args: &[String]) -> Result<(), String> {
    let config = option(args, "--config").ok_or("source needs --config FILE")?;
    let period = Period::parse(option(args, "--period").ok_or("source needs --period YYYY-MM")?)
        .map_err(|e| e.to_string())?;
    let name = option(args, "--source").ok_or("source needs --source NAME")?;
    let repeat = number(args, "--repeat", 1)?;
    let config = Config::load(Path::new(config)).map_err(|e| e.to_string())?;
    time(repeat, || {
        read_source(&config, name, period).map_err(|e| e.to_string())
    })
}

/// Runs `f` `repeat` times and reports the fastest run.
fn time(repeat: u64, f: impl Fn() -> Result<IngestOutput, String>) -> Result<(), String> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        // The previous run's tables are dropped first, so peak RSS is one run's.
        drop(last.take());
        let start = Instant::now();
        let out = f()?;
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    let out = last.ok_or("no run")?;
    let s = &out.stats;
    let threads = rayon::current_num_threads();
    println!(
        "source={} format={} encoding={} rows_read={} rejected={} bytes={} table_mib={:.0} threads={threads}",
        s.source,
        s.format_name(),
        s.encoding,
        s.rows_read,
        s.rows_rejected,
        s.bytes,
        out.raw.get_array_memory_size() as f64 / (1 << 20) as f64
    );
    println!(
        "seconds={best:.3} rows_per_s={:.0} rows_per_s_per_thread={:.0} mb_per_s={:.1}",
        s.rows_read as f64 / best,
        s.rows_read as f64 / best / threads as f64,
        s.bytes as f64 / best / 1e6
    );
    Ok(())
}
