//! Times the analyst view on a real run's published tables, as publish makes
//! it: one `analyst_view` call per row group of 131,072 rows, on one thread
//! (publish runs row groups in parallel; the CPU per table is what counts).
//!
//! The tables are read READ-ONLY from `DIR` (default
//! `/tmp/bench/out-1m/periods/2026-01/restricted`). The key is a fixed test
//! key, never a real one. For each table the example prints the CPU seconds
//! of the views and a SHA-256 digest of them (schema, then every column's
//! values), so two builds can be shown to give identical views.
//!
//! ```text
//! cargo build --release -p aidlink-privacy --example privacy_bench
//! target/release/examples/privacy_bench [--dir DIR] [--tables delta,records] [--repeat N]
//! ```

// A benchmark on fixed files: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aidlink_benchkit::{cpu_seconds, read_parquet};
use aidlink_privacy::{PseudonymKey, analyst_view};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Rows per call, as publish's row groups.
const GROUP_ROWS: usize = 128 * 1024;

/// Feeds one column's values into the digest: text by text for strings
/// and lists of strings, buffer by buffer (after compacting the slice) for
/// anything else.
fn digest_column(hash: &mut Sha256, column: &dyn Array) {
    let row = |hash: &mut Sha256, valid: bool, bytes: &[u8]| {
        hash.update([u8::from(valid)]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    match column.data_type() {
        DataType::Utf8 => {
            let s = column.as_string::<i32>();
            for i in 0..s.len() {
                row(
                    hash,
                    s.is_valid(i),
                    if s.is_valid(i) {
                        s.value(i).as_bytes()
                    } else {
                        b""
                    },
                );
            }
        }
        DataType::List(item) if item.data_type() == &DataType::Utf8 => {
            let l = column.as_list::<i32>();
            for i in 0..l.len() {
                if l.is_null(i) {
                    row(hash, false, b"");
                    continue;
                }
                let items = l.value(i);
                let items = items.as_string::<i32>();
                hash.update((items.len() as u64).to_le_bytes());
                for j in 0..items.len() {
                    let valid = items.is_valid(j);
                    row(
                        hash,
                        valid,
                        if valid {
                            items.value(j).as_bytes()
                        } else {
                            b""
                        },
                    );
                }
            }
        }
        _ => {
            let compact = arrow_select::concat::concat(&[column]).unwrap();
            let data = compact.to_data();
            for b in data.buffers() {
                row(hash, true, b.as_slice());
            }
            if let Some(n) = data.nulls() {
                for i in 0..n.len() {
                    hash.update([u8::from(n.is_valid(i))]);
                }
            }
            for child in data.child_data() {
                digest_column(hash, &arrow_array::make_array(child.clone()));
            }
        }
    }
}

fn main() {
    let mut dir = PathBuf::from("/tmp/bench/out-1m/periods/2026-01/restricted");
    let mut tables: Vec<String> = [
        "delta",
        "records",
        "persons",
        "flags",
        "links",
        "person_events",
        "rejects",
    ]
    .map(String::from)
    .to_vec();
    let mut repeat = 1;
    let mut show = 0;
    let mut columns = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = PathBuf::from(args.next().unwrap()),
            "--tables" => tables = args.next().unwrap().split(',').map(String::from).collect(),
            "--repeat" => repeat = args.next().unwrap().parse().unwrap(),
            "--hmac" => {
                // The cost of one pseudonym, alone: a floor for the view.
                let n: usize = args.next().unwrap().parse().unwrap();
                let key = PseudonymKey::from_bytes(b"privacy-bench-key-0123456789abcdef", "bench")
                    .unwrap();
                let values: Vec<String> = (0..n).map(|i| format!("P{i:08}")).collect();
                let mut out = String::new();
                let start = cpu_seconds();
                let mut total = 0;
                for v in &values {
                    out.clear();
                    key.write_pseudonym(aidlink_privacy::PseudonymKind::Person, v, &mut out);
                    total += out.len();
                }
                let cpu = cpu_seconds() - start;
                println!(
                    "{n} pseudonyms: {cpu:.2} s CPU, {:.0} ns each ({total} bytes)",
                    cpu * 1e9 / n as f64
                );
                return;
            }
            "--columns" => columns = true,
            "--show" => show = args.next().unwrap().parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    let key = PseudonymKey::from_bytes(b"privacy-bench-key-0123456789abcdef", "bench").unwrap();
    let mut total = 0.0;
    for table in &tables {
        let path = dir.join(format!("{table}.parquet"));
        let batch = read_parquet(&path).unwrap();
        if show > 0 {
            let rows = batch.slice(0, show.min(batch.num_rows()));
            let view = analyst_view(table, &rows, &key).unwrap();
            println!(
                "{table} schema {:?}",
                batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| format!("{}:{}", f.name(), f.data_type()))
                    .collect::<Vec<_>>()
            );
            for (name, b) in [("in", &rows), ("out", &view)] {
                for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                    if let DataType::Utf8 = c.data_type() {
                        let s = c.as_string::<i32>();
                        for i in 0..s.len() {
                            println!(
                                "{name} {}[{i}] {:?}",
                                f.name(),
                                s.is_valid(i).then(|| s.value(i))
                            );
                        }
                    }
                }
            }
        }
        if show > 0
            && let Some(entity) = batch.column_by_name("entity")
        {
            // One example row and the count of each entity.
            let entity = entity.as_string::<i32>();
            let mut seen: std::collections::BTreeMap<Option<&str>, (usize, usize)> =
                Default::default();
            for i in 0..entity.len() {
                seen.entry(entity.is_valid(i).then(|| entity.value(i)))
                    .or_insert((0, i))
                    .0 += 1;
            }
            for (e, (count, first)) in seen {
                let rows = batch.slice(first, 1);
                let view = analyst_view(table, &rows, &key).unwrap();
                let v = |b: &RecordBatch| {
                    b.column_by_name("values")
                        .map(|c| c.as_string::<i32>().value(0).to_string())
                };
                println!(
                    "entity {e:?}: {count} rows\n  in  {:?}\n  out {:?}",
                    v(&rows),
                    v(&view)
                );
            }
        }
        if columns {
            // Each column alone (a delta's values with its entity and
            // person number, which its view reads).
            for field in batch.schema().fields() {
                let mut names = vec![field.name().as_str()];
                if field.name() == "values" {
                    names.extend(["entity", "person_id"]);
                }
                // In the table's order: the person number's pseudonyms come
                // before the values that reuse them.
                let mut indices: Vec<usize> = names
                    .iter()
                    .filter_map(|n| batch.schema().index_of(n).ok())
                    .collect();
                indices.sort_unstable();
                let Ok(one) = batch.project(&indices) else {
                    continue;
                };
                let start = cpu_seconds();
                for offset in (0..one.num_rows()).step_by(GROUP_ROWS) {
                    let rows = one.slice(offset, GROUP_ROWS.min(one.num_rows() - offset));
                    analyst_view(table, &rows, &key).unwrap();
                }
                println!(
                    "  {table}.{}: {:.2} s CPU",
                    names.join("+"),
                    cpu_seconds() - start
                );
            }
        }
        let mut best = f64::INFINITY;
        let mut digest = String::new();
        for _ in 0..repeat {
            let mut hash = Sha256::new();
            let mut cpu = 0.0;
            for offset in (0..batch.num_rows()).step_by(GROUP_ROWS) {
                let rows = batch.slice(offset, GROUP_ROWS.min(batch.num_rows() - offset));
                let start = cpu_seconds();
                let view: RecordBatch = analyst_view(table, &rows, &key).unwrap();
                cpu += cpu_seconds() - start;
                hash.update(format!("{:?}", view.schema()).as_bytes());
                for column in view.columns() {
                    digest_column(&mut hash, column.as_ref());
                }
            }
            best = best.min(cpu);
            digest = hex::encode(&hash.finalize()[..12]);
        }
        total += best;
        println!(
            "{table:>14}: {:>9} rows, {best:6.2} s CPU, view {digest}",
            batch.num_rows()
        );
    }
    println!("{:>14}: {total:6.2} s CPU", "all");
}
