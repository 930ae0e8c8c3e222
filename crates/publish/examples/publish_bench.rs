//! Times `publish` and `analyst_view` on the restricted tables of a period
//! that is already published, for profiling the publish stage.
//!
//! Usage: `publish_bench SRC_DIR PERIOD KEY_FILE OUT_DIR [views]`. It loads
//! every restricted table of `PERIOD` from `SRC_DIR`, then publishes them
//! under `OUT_DIR` (which it empties first) with the key read from
//! `KEY_FILE`; with `views` it times `analyst_view` per table instead.

use aidlink_privacy::{PrivacySettings, PseudonymKey, analyst_view, policy};
use aidlink_publish::{PeriodOutput, load_table, publish};
use std::path::Path;
use std::time::Instant;

const TABLES: &[&str] = &[
    "records",
    "persons",
    "flags",
    "rejects",
    "links",
    "delta",
    "person_events",
    "registry",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: publish_bench SRC_DIR PERIOD KEY_FILE OUT_DIR [views]".into());
    }
    let src = Path::new(&args[1]);
    let period = args[2].parse()?;
    let key_text = std::fs::read(&args[3])?;
    let key = PseudonymKey::from_bytes(key_text.trim_ascii(), "bench key")?;
    let out = Path::new(&args[4]);
    let t = Instant::now();
    let mut tables = Vec::new();
    for name in TABLES {
        if let Some(batch) = load_table(src, period, name)? {
            tables.push((name.to_string(), batch));
        }
    }
    eprintln!("loaded in {} ms", t.elapsed().as_millis());
    if args.get(5).map(String::as_str) == Some("views") {
        for (name, batch) in &tables {
            if !policy::has_analyst_form(name) {
                continue;
            }
            let t = Instant::now();
            let view = analyst_view(name, batch, &key)?;
            eprintln!(
                "view {name}: {} rows, {} ms",
                view.num_rows(),
                t.elapsed().as_millis()
            );
        }
        return Ok(());
    }
    let output = PeriodOutput {
        period,
        tables,
        files: vec![("model.json".into(), b"{}".to_vec())],
        inputs: Vec::new(),
        config_sha256: String::new(),
        tool_version: "bench".into(),
    };
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out)?;
    let t = Instant::now();
    let report = publish(out, &output, &PrivacySettings::default(), Some(&key))?;
    eprintln!(
        "publish: {} ms, manifest {}",
        t.elapsed().as_millis(),
        report.manifest_sha256
    );
    Ok(())
}
