//! Times the flag stage on a real run's published tables and checks what it
//! builds against the published `persons.parquet` and `flags.parquet`.
//!
//! The tables are read READ-ONLY from `DIR/periods/{P1,P2}/restricted/`
//! (default DIR `/tmp/bench/out-1m`, periods 2026-01 and 2026-02) and the
//! config from `CONFIG` (default `/tmp/bench/city-1m/aidlink.toml`). Month
//! 2's `records.parquet` loses its `person_id` column, which becomes the
//! person IDs given to `evaluate`, as in `aidlink run`; month 1's
//! `flags.parquet` is the previous flags table given to `stabilize`.
//!
//! ```text
//! cargo build --release -p aidlink-flag --example flag_bench
//! RAYON_NUM_THREADS=2 target/release/examples/flag_bench --check
//! target/release/examples/flag_bench --out DIR --config CONFIG --from P1 --to P2 --repeat 3
//! target/release/examples/flag_bench --from none --to 2026-01 --check
//! ```
//!
//! `--from none` makes `--to` a first period: `stabilize` gets no previous
//! flags. The person IDs and record keys are given as Arrow string arrays
//! (`evaluate_array`, `stabilize_array`); `--strings` gives them as one
//! `String` per record (`evaluate`, `stabilize`) instead.
//!
//! `stabilize` needs each record's key (`aidlink_registry::record_keys`,
//! which this crate does not depend on). The example builds the same keys
//! by the same rule from the record's fields; `--check` shows they are the
//! same when the published `evidence_digest` column is reproduced.

// A benchmark on fixed files: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aidlink_benchkit::{cpu_seconds, read_parquet, status_kib};
use aidlink_config::Config;
use aidlink_flag::{FlagRules, evaluate, evaluate_array, stabilize, stabilize_array};
use aidlink_vocab::{CivilDate, Period, Role};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

fn text<'a>(batch: &'a RecordBatch, name: &str) -> &'a StringArray {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
}

fn value(col: Option<&StringArray>, row: usize) -> Option<&str> {
    let col = col?;
    if col.is_null(row) {
        return None;
    }
    let v = col.value(row).trim();
    (!v.is_empty()).then_some(v)
}

/// The record key of each row before duplicates get their suffix, built
/// from the same fields in the same order as `aidlink_registry::record_keys`.
fn base_keys(records: &RecordBatch) -> Vec<String> {
    let col = |name: &str| {
        records
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
    };
    let (source, student_no, certificate_no, household_no, id_number, name, gender) = (
        col("source"),
        col("student_no"),
        col("certificate_no"),
        col("household_no"),
        col("id_number"),
        col("name"),
        col("gender"),
    );
    let birth = records
        .column_by_name("birth_date")
        .and_then(|c| c.as_any().downcast_ref::<Date32Array>());
    (0..records.num_rows())
        .map(|row| {
            let src = value(source, row).unwrap_or("");
            let id = value(id_number, row);
            let nm = value(name, row);
            let rest = if let Some(s) = value(student_no, row) {
                format!("sno:{s}")
            } else if let Some(c) = value(certificate_no, row) {
                format!("cert:{c}")
            } else if let Some(h) = value(household_no, row) {
                match (id, nm) {
                    (Some(id), _) => format!("hh:{h}/id:{id}"),
                    (None, Some(nm)) => format!("hh:{h}/name:{nm}"),
                    (None, None) => format!("hh:{h}"),
                }
            } else if let Some(id) = id {
                format!("id:{id}")
            } else if let Some(nm) = nm {
                let b = birth
                    .filter(|b| !b.is_null(row))
                    .map(|b| CivilDate::from_days(b.value(row)).to_string());
                match (b, value(gender, row)) {
                    (None, None) => format!("name:{nm}"),
                    (b, g) => format!("nbg:{nm}/{}/{}", b.unwrap_or_default(), g.unwrap_or("")),
                }
            } else {
                "none".to_string()
            };
            format!("{src}|{rest}")
        })
        .collect()
}

/// A cell as text, for ordering records that share a base key (nulls as
/// the empty text), as the registry writes it.
fn cell_text(col: &ArrayRef, row: usize) -> String {
    if col.is_null(row) {
        return String::new();
    }
    let any = col.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        a.value(row).to_string()
    } else if let Some(a) = any.downcast_ref::<Date32Array>() {
        CivilDate::from_days(a.value(row)).to_string()
    } else if let Some(a) = any.downcast_ref::<Float64Array>() {
        format!("{:?}", a.value(row))
    } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
        a.value(row).to_string()
    } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
        a.value(row).to_string()
    } else {
        String::new()
    }
}

/// The record keys: the base key, and for records sharing one, ordered by
/// the text of all their fields but `source_row` and `notes`, then by
/// `source_row`, the suffixes `#2`, `#3`, ... after the first.
fn record_keys(records: &RecordBatch) -> Vec<String> {
    let mut keys = base_keys(records);
    let mut count: HashMap<&str, u32> = HashMap::new();
    keys.iter()
        .for_each(|k| *count.entry(k.as_str()).or_insert(0) += 1);
    let mut repeated: Vec<usize> = (0..keys.len())
        .filter(|r| count[keys[*r].as_str()] > 1)
        .collect();
    drop(count);
    repeated.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
    let groups: Vec<Vec<usize>> = repeated
        .chunk_by(|a, b| keys[*a] == keys[*b])
        .map(<[usize]>::to_vec)
        .collect();
    let content: Vec<&ArrayRef> = records
        .schema_ref()
        .fields()
        .iter()
        .zip(records.columns())
        .filter(|(f, _)| f.name() != "source_row" && f.name() != "notes")
        .map(|(_, c)| c)
        .collect();
    let source_row = records
        .column_by_name("source_row")
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .unwrap();
    for group in groups {
        let mut signed: Vec<(Vec<String>, u64, usize)> = group
            .into_iter()
            .map(|row| {
                let texts = content.iter().map(|c| cell_text(c, row)).collect();
                (texts, source_row.value(row), row)
            })
            .collect();
        signed.sort();
        for (rank, (_, _, row)) in signed.iter().enumerate().skip(1) {
            keys[*row] = format!("{}#{}", keys[*row], rank + 1);
        }
    }
    keys
}

/// Compares two tables column by column; says which columns differ.
fn compare(what: &str, built: &RecordBatch, published: &RecordBatch) -> bool {
    let mut same = built.num_rows() == published.num_rows();
    if !same {
        println!(
            "{what}: {} rows built, {} published",
            built.num_rows(),
            published.num_rows()
        );
    }
    for (field, col) in built.schema().fields().iter().zip(built.columns()) {
        match published.column_by_name(field.name()) {
            None => {
                println!("{what}: column {} not published", field.name());
                same = false;
            }
            Some(p) => {
                if p.data_type() != col.data_type() || p.to_data() != col.to_data() {
                    let rows = (0..built.num_rows().min(published.num_rows()))
                        .filter(|i| p.slice(*i, 1).to_data() != col.slice(*i, 1).to_data())
                        .count();
                    println!("{what}: column {} differs in {rows} rows", field.name());
                    same = false;
                }
            }
        }
    }
    if built.num_columns() != published.num_columns() {
        println!(
            "{what}: {} columns built, {} published",
            built.num_columns(),
            published.num_columns()
        );
        same = false;
    }
    println!("{what}: {}", if same { "identical" } else { "DIFFERENT" });
    same
}

fn main() {
    let mut out = PathBuf::from("/tmp/bench/out-1m");
    let mut config = PathBuf::from("/tmp/bench/city-1m/aidlink.toml");
    let mut from: Option<Period> = Some("2026-01".parse().unwrap());
    let mut to: Period = "2026-02".parse().unwrap();
    let mut repeat = 1usize;
    let mut check = false;
    let mut strings_api = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().unwrap().into(),
            "--config" => config = args.next().unwrap().into(),
            "--from" => {
                from = match args.next().unwrap().as_str() {
                    "none" => None,
                    p => Some(p.parse().unwrap()),
                }
            }
            "--strings" => strings_api = true,
            "--to" => to = args.next().unwrap().parse().unwrap(),
            "--repeat" => repeat = args.next().unwrap().parse().unwrap(),
            "--check" => check = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = |p: Period| out.join("periods").join(p.to_string()).join("restricted");
    let config = Config::load(&config).unwrap();
    let rules = FlagRules::from_config(&config).unwrap();
    let roles: BTreeMap<String, Vec<Role>> = config
        .sources
        .iter()
        .map(|(name, s)| (name.clone(), s.roles.clone()))
        .collect();

    let t = Instant::now();
    let published = read_parquet(&dir(to).join("records.parquet")).unwrap();
    let id_array = text(&published, "person_id").clone();
    let person_ids: Vec<String> = if strings_api {
        id_array
            .iter()
            .map(|p| p.unwrap_or("").to_string())
            .collect()
    } else {
        Vec::new()
    };
    let keep: Vec<usize> = published
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name() != "person_id")
        .map(|(i, _)| i)
        .collect();
    let records = published.project(&keep).unwrap();
    drop(published);
    let previous = from.map(|p| read_parquet(&dir(p).join("flags.parquet")).unwrap());
    let mut keys = record_keys(&records);
    let key_array = StringArray::from_iter_values(&keys);
    if !strings_api {
        keys = Vec::new();
    }
    println!(
        "loaded {} records, {} previous flags in {:.2} s ({} form)",
        records.num_rows(),
        previous.as_ref().map_or(0, RecordBatch::num_rows),
        t.elapsed().as_secs_f64(),
        if strings_api { "String" } else { "array" }
    );

    let threads = rayon::current_num_threads();
    let mut result = None;
    for round in 0..repeat {
        // Peak memory of the round above what is loaded, through Linux's
        // reset of the peak to the current RSS.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = status_kib("VmRSS") / 1024;
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let flagged = if strings_api {
            evaluate(&records, &person_ids, &roles, &rules, to).unwrap()
        } else {
            evaluate_array(&records, &id_array, &roles, &rules, to).unwrap()
        };
        let evaluate_s = t.elapsed().as_secs_f64();
        let evaluate_cpu = cpu_seconds() - cpu;
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let flags = if strings_api {
            stabilize(&flagged.flags, previous.as_ref(), &records, &keys).unwrap()
        } else {
            stabilize_array(&flagged.flags, previous.as_ref(), &records, &key_array).unwrap()
        };
        let stabilize_s = t.elapsed().as_secs_f64();
        let stabilize_cpu = cpu_seconds() - cpu;
        let peak = status_kib("VmHWM") / 1024;
        println!(
            "round {round}: threads {threads} evaluate {evaluate_s:.3} s (cpu {evaluate_cpu:.2} s) \
             stabilize {stabilize_s:.3} s (cpu {stabilize_cpu:.2} s) total {:.3} s; \
             peak {} MB above the {before} MB loaded ({} persons, {} flags)",
            evaluate_s + stabilize_s,
            peak.saturating_sub(before),
            flagged.persons.num_rows(),
            flags.num_rows()
        );
        result = Some((flagged.persons, flags));
    }
    if check && let Some((persons, flags)) = result {
        let ok_p = compare(
            "persons",
            &persons,
            &read_parquet(&dir(to).join("persons.parquet")).unwrap(),
        );
        let ok_f = compare(
            "flags",
            &flags,
            &read_parquet(&dir(to).join("flags.parquet")).unwrap(),
        );
        if !(ok_p && ok_f) {
            std::process::exit(1);
        }
    }
}
