//! Times a full match with the previous period's model against an
//! incremental match with the previous period's state, on two published
//! record tables (person_id dropped), checks that both give the same
//! cluster, links table and model, and prints what was reused.
//!
//! `cargo run --release -p aidlink-match --example match_incremental -- MONTH1/records.parquet MONTH2/records.parquet [ROUNDS] [THREADS]`
//!
//! Month 1 is linked without a model (training, as a first period is); its
//! model goes through JSON and its state through a Parquet file written
//! with publish's settings (Snappy, 128 Ki-row groups), as the CLI would
//! keep them. Each round then runs the full match and the incremental one
//! (reading the state file included) on month 2; the fastest of each is
//! reported.

// A development tool: a failure is a bug to see at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aidlink_match::{MatchSettings, Model, link, link_incremental};
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::time::{Duration, Instant};

fn read(path: &str) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .with_batch_size(1 << 20)
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

fn records(path: &str) -> RecordBatch {
    let all = read(path);
    let schema = all.schema();
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| schema.field(i).name() != "person_id")
        .collect();
    all.project(&keep).unwrap()
}

fn write(path: &str, batch: &RecordBatch) {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(128 * 1024))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_dictionary_enabled(false)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn laps(timings: &[(&'static str, Duration)]) -> String {
    timings
        .iter()
        .map(|(s, d)| format!("{s} {:.0}", d.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (m1, m2) = (
        args.get(1).expect("month 1 records.parquet"),
        args.get(2).expect("month 2 records.parquet"),
    );
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let threads: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(2);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("match_incremental_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = MatchSettings::default();

    let month1 = records(m1);
    let t = Instant::now();
    let first = link(&month1, &settings, None).unwrap();
    eprintln!(
        "month 1: {} records, {} pairs, trained in {:.2?} ({})",
        month1.num_rows(),
        first.stats.pairs_scored,
        t.elapsed(),
        laps(&first.timings)
    );
    drop(month1);
    let model_path = dir.join("model.json");
    let state_path = dir.join("match_state.parquet");
    std::fs::write(
        &model_path,
        serde_json::to_vec_pretty(&first.model).unwrap(),
    )
    .unwrap();
    let t = Instant::now();
    write(state_path.to_str().unwrap(), &first.state);
    eprintln!(
        "model.json {} bytes; match_state.parquet {} bytes ({} rows, written in {:.2?})",
        std::fs::metadata(&model_path).unwrap().len(),
        std::fs::metadata(&state_path).unwrap().len(),
        first.state.num_rows(),
        t.elapsed()
    );
    drop(first);
    let model: Model =
        serde_json::from_str(&std::fs::read_to_string(&model_path).unwrap()).unwrap();

    let month2 = records(m2);
    let (mut best_full, mut best_inc) = (Duration::MAX, Duration::MAX);
    for round in 0..rounds {
        let t = Instant::now();
        let full = link(&month2, &settings, Some(&model)).unwrap();
        let d_full = t.elapsed();
        best_full = best_full.min(d_full);
        eprintln!(
            "round {round} full        {d_full:.2?} ({})",
            laps(&full.timings)
        );
        let t = Instant::now();
        let state = read(state_path.to_str().unwrap());
        let d_read = t.elapsed();
        let inc = link_incremental(&month2, &settings, &model, &state).unwrap();
        let d_inc = t.elapsed();
        drop(state);
        best_inc = best_inc.min(d_inc);
        eprintln!(
            "round {round} incremental {d_inc:.2?} (read_state_file {:.0}, {})",
            d_read.as_secs_f64() * 1000.0,
            laps(&inc.timings)
        );
        eprintln!("  {:?}", inc.reuse);
        assert!(inc.cluster == full.cluster, "clusters differ");
        assert!(inc.links == full.links, "links differ");
        assert!(inc.model == full.model, "models differ");
        assert!(
            inc.stats == full.stats,
            "statistics differ: {:?} vs {:?}",
            inc.stats,
            full.stats
        );
        if inc.state != full.state {
            let diff = (0..inc.state.num_columns())
                .filter(|&c| inc.state.column(c) != full.state.column(c))
                .map(|c| inc.state.schema().field(c).name().clone())
                .collect::<Vec<_>>();
            panic!(
                "states differ in {diff:?}, rows {} vs {}",
                inc.state.num_rows(),
                full.state.num_rows()
            );
        }
        eprintln!("  identical outputs; {:?}", inc.reuse);
    }
    eprintln!(
        "month 2: full {best_full:.2?}, incremental {best_inc:.2?} (state read included): {:.2}x faster, {:.0}% of full",
        best_full.as_secs_f64() / best_inc.as_secs_f64(),
        100.0 * best_inc.as_secs_f64() / best_full.as_secs_f64()
    );
    std::fs::remove_dir_all(&dir).ok();
}
