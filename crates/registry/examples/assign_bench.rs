//! Times the person-ID stage on two published periods and checks that it
//! gives the published outputs again.
//!
//! The later period's clusters are rebuilt from its published `person_id`
//! column (one cluster per person, numbered by first appearance), so the
//! stage sees what the pipeline gave it. Each step is timed on its own:
//! `record_keys` of the later records (without their `person_id`),
//! `Registry::from_batch` of the earlier registry, `assign` and `to_batch`.
//! The registry, person IDs and events are then compared with the later
//! period's `registry`, `records` and `person_events` tables.
//!
//! `cargo run --release -p aidlink-registry --example assign_bench -- OUT 2026-01 2026-02`
//! (OUT a published output folder, read only; a fourth argument `--no-check`
//! skips the comparison).

// A development tool over local files it trusts; a failed unwrap is bad input.
#![allow(clippy::unwrap_used)]

use aidlink_registry::{Registry, assign, record_keys};
use arrow_array::{Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

fn load(path: &Path) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(1 << 16)
        .build()?;
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>()?;
    let schema = batches.first().map(|b| b.schema()).ok_or("empty file")?;
    Ok(arrow_select::concat::concat_batches(&schema, &batches)?)
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> &'a StringArray {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
}

/// Whether two batches hold the same columns (names, types, values); schema
/// metadata is left out, since a Parquet round trip may add some.
fn same_columns(a: &RecordBatch, b: &RecordBatch) -> bool {
    let names = |x: &RecordBatch| -> Vec<String> {
        x.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    names(a) == names(b)
        && a.num_rows() == b.num_rows()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| x.to_data() == y.to_data())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = Path::new(&args[1]);
    let check = args.get(4).is_none_or(|a| a != "--no-check");
    let table = |period: &str, name: &str| {
        out.join("periods")
            .join(period)
            .join("restricted")
            .join(format!("{name}.parquet"))
    };
    let t = Instant::now();
    let prev_batch = load(&table(&args[2], "registry"))?;
    let published = load(&table(&args[3], "records"))?;
    eprintln!(
        "loaded {} registry rows, {} records in {:.2} s",
        prev_batch.num_rows(),
        published.num_rows(),
        t.elapsed().as_secs_f64()
    );
    let person_col = published.schema().index_of("person_id")?;
    let published_ids = strings(&published, "person_id").clone();
    let mut records = published.clone();
    records.remove_column(person_col);
    drop(published);
    let mut dense: HashMap<&str, u32> = HashMap::new();
    let cluster: Vec<u32> = (0..published_ids.len())
        .map(|r| {
            let next = dense.len() as u32;
            *dense.entry(published_ids.value(r)).or_insert(next)
        })
        .collect();
    eprintln!("{} clusters", dense.len());
    drop(dense);

    let mut total = 0.0;
    let mut step = |name: &str, t: Instant| {
        let s = t.elapsed().as_secs_f64();
        total += s;
        println!("{name:<22} {s:>7.3} s");
    };
    let t = Instant::now();
    let keys = record_keys(&records);
    step("record_keys", t);
    let t = Instant::now();
    let prev = Registry::from_batch(&prev_batch)?;
    step("Registry::from_batch", t);
    drop(prev_batch);
    let t = Instant::now();
    let assignment = assign(Some(&prev), &keys, &cluster);
    step("assign", t);
    let t = Instant::now();
    let registry = assignment.registry.to_batch();
    step("to_batch", t);
    println!("{:<22} {total:>7.3} s", "total");

    if check {
        let want = load(&table(&args[3], "registry"))?;
        println!("registry identical:    {}", same_columns(&registry, &want));
        let ids_same = assignment.person_ids.len() == published_ids.len()
            && assignment
                .person_ids
                .iter()
                .enumerate()
                .all(|(r, id)| published_ids.value(r) == id);
        println!("person_ids identical:  {ids_same}");
        let events = load(&table(&args[3], "person_events"))?;
        let events_same = same_columns(&assignment.events, &events);
        println!("events identical:      {events_same}");
    }
    Ok(())
}
