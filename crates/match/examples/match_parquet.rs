//! Times `link` step by step on a published `records.parquet` (the record
//! table of a real run, person_id dropped) and prints the statistics.
//!
//! `cargo run --release -p aidlink-match --example match_parquet -- OUT/periods/YYYY-MM/records.parquet [THREADS]`

// A development tool: a failure is a bug to see at once.
#![allow(clippy::unwrap_used)]

use aidlink_match::{MatchSettings, link};
use arrow_array::RecordBatch;
use std::time::Instant;

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
    for rule in aidlink_block::BlockingRule::defaults() {
        let t = Instant::now();
        let rules = [rule];
        let keys = aidlink_block::KeyColumns::new(&records, &rules).unwrap();
        let t_keys = t.elapsed();
        let c = aidlink_block::candidates(&keys, records.num_rows(), &rules, 400);
        eprintln!(
            "  block rule {:<20} {:>9} pairs in {:.2?} (columns {:.2?})",
            rules[0].name,
            c.pairs.len(),
            t.elapsed(),
            t_keys
        );
    }
    let t = Instant::now();
    let l = link(&records, &MatchSettings::default(), None).unwrap();
    let total = t.elapsed();
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
