//! Compares two published periods' registries: how many record keys kept
//! their person, and where the later period's new flags come from.
//!
//! `cargo run -p aidlink-registry --example inspect -- OUT 2026-01 2026-02`

// A development tool over local files it trusts; a failed unwrap is bad input.
#![allow(clippy::unwrap_used)]

use aidlink_registry::Registry;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::Path;

fn load(path: &Path) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>()?;
    let schema = batches.first().map(|b| b.schema()).ok_or("empty file")?;
    Ok(arrow_select::concat::concat_batches(&schema, &batches)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = Path::new(&args[1]);
    let reg = |p: &str| -> Result<Registry, Box<dyn std::error::Error>> {
        let path = out.join("periods").join(p).join("registry.parquet");
        Ok(Registry::from_batch(&load(&path)?)?)
    };
    let (a, b) = (reg(&args[2])?, reg(&args[3])?);
    let before: BTreeMap<&str, u64> = a.entries().collect();
    let (mut same, mut moved, mut new) = (0, 0, 0);
    let mut examples = Vec::new();
    for (k, n) in b.entries() {
        match before.get(k) {
            Some(m) if *m == n => same += 1,
            Some(m) => {
                moved += 1;
                if examples.len() < 10 {
                    examples.push(format!("{} P{m} -> P{n}", aidlink_vocab::mask_id_text(k)));
                }
            }
            None => new += 1,
        }
    }
    let gone = before.keys().filter(|k| b.person_of(k).is_none()).count();
    println!("keys: {same} same person, {moved} moved, {new} new, {gone} gone");
    let source = |k: &str| k.split_once('|').map_or("", |(s, _)| s).to_string();
    let mut new_by_source: BTreeMap<String, usize> = BTreeMap::new();
    for (k, _) in b.entries().filter(|(k, _)| !before.contains_key(k)) {
        *new_by_source.entry(source(k)).or_default() += 1;
    }
    println!("new keys by source: {new_by_source:?}");
    let mut shown = 0;
    for (k, _) in b.entries().filter(|(k, _)| !before.contains_key(k)) {
        if shown < 8 {
            println!("  new: {}", aidlink_vocab::mask_id_text(k));
            shown += 1;
        }
    }
    for e in examples {
        println!("  moved: {e}");
    }

    // Flags of the later period that are new: what did their records belong to before?
    let flags = |p: &str| load(&out.join("periods").join(p).join("flags.parquet"));
    let pairs = |batch: &RecordBatch| -> Vec<(String, String, Vec<String>)> {
        let person = batch
            .column_by_name("person_id")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        let flag = batch
            .column_by_name("flag")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        let ev = batch
            .column_by_name("evidence")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::ListArray>()
            .unwrap();
        (0..batch.num_rows())
            .map(|i| {
                let items = ev.value(i);
                let items = items
                    .as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .unwrap();
                (
                    person.value(i).to_string(),
                    flag.value(i).to_string(),
                    (0..items.len())
                        .map(|j| items.value(j).to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let fa = pairs(&flags(&args[2])?);
    let fb = pairs(&flags(&args[3])?);
    let had: std::collections::BTreeSet<(String, String)> =
        fa.iter().map(|(p, f, _)| (p.clone(), f.clone())).collect();
    let records = load(&out.join("periods").join(&args[3]).join("records.parquet"))?;
    let keys = aidlink_registry::record_keys(&records);
    let src = records
        .column_by_name("source")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let row = records
        .column_by_name("source_row")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::UInt64Array>()
        .unwrap();
    let by_ref: BTreeMap<String, &str> = (0..records.num_rows())
        .map(|i| {
            (
                format!("{}:{}", src.value(i), row.value(i)),
                keys[i].as_str(),
            )
        })
        .collect();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut shown = 0;
    for (p, f, ev) in fb
        .iter()
        .filter(|(p, f, _)| !had.contains(&(p.clone(), f.clone())))
    {
        let prev: Vec<Option<u64>> = ev
            .iter()
            .map(|r| by_ref.get(r).and_then(|k| a.person_of(k)))
            .collect();
        let prev_flagged = prev
            .iter()
            .flatten()
            .any(|n| had.contains(&(aidlink_vocab::person_id(*n), f.clone())));
        let reason = if prev.iter().all(|x| x.is_none()) {
            "records new"
        } else if prev_flagged {
            "records' previous person had the flag"
        } else {
            "records known, previous person unflagged"
        };
        *reasons.entry(format!("{f}: {reason}")).or_default() += 1;
        if shown < 5 && prev_flagged {
            println!("  {p} {f} {ev:?} before {prev:?}");
            shown += 1;
        }
    }
    for (r, n) in reasons {
        println!("{n:6} {r}");
    }

    // Which columns the later period's delta says changed, by entity.
    let delta = load(&out.join("periods").join(&args[3]).join("delta.parquet"))?;
    let entity = delta
        .column_by_name("entity")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let changed = delta
        .column_by_name("changed_columns")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::ListArray>()
        .unwrap();
    let change = delta
        .column_by_name("change_type")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let mut columns: BTreeMap<(String, String), usize> = BTreeMap::new();
    for i in (0..delta.num_rows()).filter(|i| change.value(*i) == "update_postimage") {
        let items = changed.value(i);
        let items = items
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        for j in 0..items.len() {
            *columns
                .entry((entity.value(i).to_string(), items.value(j).to_string()))
                .or_default() += 1;
        }
    }
    for ((e, c), n) in columns {
        println!("{n:6} updates of {e}.{c}");
    }
    Ok(())
}
