//! `aidlink check`: what an operator runs first on a new month.
//!
//! ```text
//! aidlink check --config city.toml --period 2026-11
//! ```
//!
//! Validates the config (a TOML error names its line and column), opens
//! every source and prints, per source: the encoding detected, rows, rows
//! that would be rejected by reason, and the share of IDs failing the check
//! digit. Exits 2 on a config error and 3 when a source cannot be read.

use crate::exit::{Exit, ExitContext, Failure};
use aidlink_config::Config;
use aidlink_vocab::Period;
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Validate the config and every source without publishing anything.
#[derive(Args)]
pub struct CheckArgs {
    /// The config file.
    #[arg(long)]
    pub config: PathBuf,
    /// The period whose files to open (needed when paths contain {period}).
    #[arg(long)]
    pub period: Period,
}

/// Runs the subcommand.
pub fn main(args: CheckArgs) -> Result<Exit, Failure> {
    let config = Config::load(&args.config).exit(Exit::Usage)?;
    println!(
        "config {} is valid ({} sources)",
        args.config.display(),
        config.sources.len()
    );
    let mut unreadable = 0;
    for name in config.sources.keys() {
        match check_one(&config, name, args.period) {
            Ok(lines) => print!("{lines}"),
            Err(e) => {
                unreadable += 1;
                println!("{name}: cannot be read: {e:#}");
            }
        }
    }
    Ok(if unreadable > 0 {
        Exit::Input
    } else {
        Exit::Ok
    })
}

fn check_one(config: &Config, name: &str, period: Period) -> anyhow::Result<String> {
    let ingested = aidlink_ingest::read_source(config, name, period)?;
    let normalized = aidlink_normalize::normalize_source(config, name, &ingested.raw)?;
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for batch in [&ingested.rejects, &normalized.rejects] {
        if let Some(col) = batch
            .column_by_name(aidlink_vocab::schema::REASON)
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::StringArray>())
        {
            for r in col.iter().flatten() {
                *reasons.entry(r.to_string()).or_default() += 1;
            }
        }
    }
    let s = &ingested.stats;
    let rejected: u64 = reasons.values().sum();
    let mut out = format!(
        "{name}: {}\n  format {}, encoding {}, {} rows, {} would be rejected\n",
        s.path.display(),
        s.format_name(),
        s.encoding,
        s.rows_read,
        rejected
    );
    if s.blank_lines > 0 || s.preamble_rows > 0 {
        out.push_str(&format!(
            "  skipped: {} blank lines, {} title rows above the header\n",
            s.blank_lines, s.preamble_rows
        ));
    }
    for (reason, n) in &reasons {
        out.push_str(&format!("    {reason:<24} {n:>8}\n"));
    }
    if normalized.id_present > 0 {
        out.push_str(&format!(
            "  IDs failing the check digit: {} of {} ({:.2}%)\n",
            normalized.id_check_failed,
            normalized.id_present,
            100.0 * normalized.id_check_failed as f64 / normalized.id_present as f64
        ));
    }
    Ok(out)
}
