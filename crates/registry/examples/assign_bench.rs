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
//! (or `OUT none 2026-01` for a first period)
//! (OUT a published output folder, read only). `--repeat N` runs the steps N
//! times and reports each step's fastest run; `--no-check` skips the
//! comparison. The steps use the Arrow forms (`record_key_array`,
//! `assign_array`); `--strings` times the `String` forms (`record_keys`,
//! `assign`) instead.

// A development tool over local files it trusts; a failed unwrap is bad input.
#![allow(clippy::unwrap_used)]

use aidlink_benchkit::{cpu_seconds, read_parquet, status_kib};
use aidlink_registry::{Registry, assign, assign_array, record_key_array, record_keys};
use arrow_array::{Array, RecordBatch, StringArray};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

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
    let check = !args.iter().any(|a| a == "--no-check");
    let strings_api = args.iter().any(|a| a == "--strings");
    let repeat: usize = match args.iter().position(|a| a == "--repeat") {
        Some(i) => args.get(i + 1).ok_or("--repeat N")?.parse()?,
        None => 1,
    };
    let table = |period: &str, name: &str| {
        out.join("periods")
            .join(period)
            .join("restricted")
            .join(format!("{name}.parquet"))
    };
    let t = Instant::now();
    // `none` as the earlier period: the later one is a first period.
    let first = args[2] == "none";
    let prev_batch = if first {
        Registry::new().to_batch()
    } else {
        read_parquet(&table(&args[2], "registry"))?
    };
    let published = read_parquet(&table(&args[3], "records"))?;
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

    let loaded_peak = status_kib("VmHWM") as f64 / 1024.0;
    // Each step runs `repeat` times; the fastest run of each is reported,
    // the least disturbed by whatever else the machine is doing.
    let names = ["record_keys", "Registry::from_batch", "assign", "to_batch"];
    let mut best = [(f64::MAX, f64::MAX); 4];
    let mut keep = |i: usize, (t, cpu): (Instant, f64)| {
        let (s, c) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        best[i] = (best[i].0.min(s), best[i].1.min(c));
    };
    let start = || (Instant::now(), cpu_seconds());
    let mut last = None;
    for _ in 0..repeat {
        drop(last.take());
        // Either form gives the person IDs as an array, to be compared.
        let (ids, registry, events) = if strings_api {
            let t = start();
            let keys = record_keys(&records);
            keep(0, t);
            let t = start();
            let prev = Registry::from_batch(&prev_batch)?;
            keep(1, t);
            let t = start();
            let assignment = assign((!first).then_some(&prev), &keys, &cluster);
            keep(2, t);
            drop((keys, prev));
            let t = start();
            let registry = assignment.registry.to_batch();
            keep(3, t);
            let ids = StringArray::from_iter_values(&assignment.person_ids);
            (ids, registry, assignment.events)
        } else {
            let t = start();
            let keys = record_key_array(&records);
            keep(0, t);
            let t = start();
            let prev = Registry::from_batch(&prev_batch)?;
            keep(1, t);
            let t = start();
            let assignment = assign_array((!first).then_some(&prev), &keys, &cluster);
            keep(2, t);
            drop((keys, prev));
            let t = start();
            let registry = assignment.registry.to_batch();
            keep(3, t);
            (assignment.person_ids, registry, assignment.events)
        };
        last = Some((ids, registry, events));
    }
    drop(prev_batch);
    let (mut total, mut total_cpu) = (0.0, 0.0);
    for (name, (s, c)) in names.iter().zip(best) {
        total += s;
        total_cpu += c;
        println!("{name:<22} {s:>7.3} s wall {c:>7.2} s cpu");
    }
    println!("{:<22} {total:>7.3} s wall {total_cpu:>7.2} s cpu", "total");
    println!(
        "peak RSS {:.0} MiB after loading, {:.0} MiB after the steps",
        loaded_peak,
        status_kib("VmHWM") as f64 / 1024.0
    );
    let (ids, registry, events) = last.ok_or("no run")?;

    if check {
        let want = read_parquet(&table(&args[3], "registry"))?;
        println!("registry identical:    {}", same_columns(&registry, &want));
        let ids_same = ids.null_count() == 0 && ids.to_data() == published_ids.to_data();
        println!("person_ids identical:  {ids_same}");
        let want_events = read_parquet(&table(&args[3], "person_events"))?;
        let events_same = same_columns(&events, &want_events);
        println!("events identical:      {events_same}");
    }
    Ok(())
}
