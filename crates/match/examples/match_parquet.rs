//! Times `link` step by step on a published `records.parquet` (the record
//! table of a real run, person_id dropped) and prints the statistics.
//!
//! `cargo run --release -p aidlink-match --example match_parquet -- OUT/periods/YYYY-MM/records.parquet [THREADS] [DUMP_DIR]`
//!
//! With `rules` for `DUMP_DIR`, only the blocking rules are timed, one by
//! one. With a `DUMP_DIR`, the outputs of `link` (links, state, model JSON and the
//! cluster index) are written there as uncompressed Parquet and JSON, so two
//! builds can be compared byte for byte with `cmp`.

// A development tool: a failure is a bug to see at once.
#![allow(clippy::unwrap_used)]

use aidlink_match::{MatchSettings, link};
use arrow_array::RecordBatch;
use std::time::Instant;

/// Writes `batch` as an uncompressed Parquet file (deterministic bytes).
fn write_table(path: &std::path::Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// Writes every output of `l` under `dir`.
fn dump(dir: &std::path::Path, l: &aidlink_match::Linkage) {
    std::fs::create_dir_all(dir).unwrap();
    write_table(&dir.join("links.parquet"), &l.links);
    write_table(&dir.join("match_state.parquet"), &l.state);
    std::fs::write(
        dir.join("model.json"),
        serde_json::to_vec_pretty(&l.model).unwrap(),
    )
    .unwrap();
    let cluster: Vec<u8> = l.cluster.iter().flat_map(|c| c.to_le_bytes()).collect();
    std::fs::write(dir.join("cluster.bin"), cluster).unwrap();
    std::fs::write(
        dir.join("stats.json"),
        serde_json::to_vec_pretty(&l.stats).unwrap(),
    )
    .unwrap();
}

/// User plus system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (in parentheses) come the state, then 10
    // numbers, then utime and stime in clock ticks (100 a second on Linux).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |k: usize| f.get(k).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("path to records.parquet");
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .with_batch_size(1 << 20)
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    let all = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| schema.field(i).name() != "person_id")
        .collect();
    let records = all.project(&keep).unwrap();
    eprintln!("{} records", records.num_rows());
    // Each rule alone, unless the outputs are dumped (a comparison run).
    let rules_only = args.get(3).is_some_and(|a| a == "rules");
    let rules_alone = if args.len() > 3 && !rules_only {
        Vec::new()
    } else {
        aidlink_block::BlockingRule::defaults()
    };
    for rule in rules_alone {
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let rules = [rule];
        let keys = aidlink_block::KeyColumns::new(&records, &rules).unwrap();
        let t_keys = t.elapsed();
        let c = aidlink_block::candidates(&keys, records.num_rows(), &rules, 400);
        eprintln!(
            "  block rule {:<20} {:>9} pairs in {:.2?}, cpu {:.2} s (columns {:.2?})",
            rules[0].name,
            c.pairs.len(),
            t.elapsed(),
            cpu_seconds() - cpu,
            t_keys
        );
    }
    if rules_only {
        return;
    }
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let l = link(&records, &MatchSettings::default(), None).unwrap();
    let total = t.elapsed();
    eprintln!("link cpu {:.2} s", cpu_seconds() - cpu);
    if let Some(dir) = args.get(3) {
        dump(std::path::Path::new(dir), &l);
    }
    for (step, d) in &l.timings {
        eprintln!("  {step:<12} {d:>10.2?}");
    }
    eprintln!(
        "link {total:.2?}: {} pairs scored ({:.2} M pairs/s overall), {} linked, {} clusters, {} refused, {} EM iterations",
        l.stats.pairs_scored,
        l.stats.pairs_scored as f64 / total.as_secs_f64() / 1e6,
        l.stats.pairs_linked,
        l.stats.clusters,
        l.stats.merges_refused,
        l.stats.em_iterations
    );
    for (rule, n) in &l.stats.pairs_per_rule {
        eprintln!("  rule {rule:<20} {n:>10}");
    }
}
