//! `aidlink synth`: writes a synthetic city's extracts, with ground truth.
//!
//! ```text
//! aidlink synth --students 20000 --seed 7 --months 2 --out city
//! aidlink run --config city/aidlink.toml --period 2026-01 --out city/out
//! ```

use crate::exit::{Exit, ExitContext, Failure, fail};
use aidlink_vocab::Period;
use clap::Args;
use std::path::PathBuf;

/// Generate a synthetic city's departmental extracts and the truth behind them.
#[derive(Args)]
pub struct SynthArgs {
    /// Number of enrolled students in the city.
    #[arg(long, default_value_t = 2000)]
    pub students: u64,
    /// Random seed; the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of consecutive monthly periods.
    #[arg(long, default_value_t = 1)]
    pub months: u32,
    /// First period.
    #[arg(long, default_value = "2026-01")]
    pub start: Period,
    /// Output folder (extracts/, truth/, aidlink.toml).
    #[arg(long)]
    pub out: PathBuf,
    /// JSON file overriding corruption rates, e.g. {"enrollment": {"id_scientific": 0.02}}
    /// (names and defaults in docs/synth.md).
    #[arg(long)]
    pub rates: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn main(args: SynthArgs) -> Result<Exit, Failure> {
    let rates = match &args.rates {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                fail(
                    Exit::Usage,
                    format!("cannot read rates file {}: {e}", path.display()),
                )
            })?;
            serde_json::from_str(&text)
                .map_err(|e| fail(Exit::Usage, format!("rates file {}: {e}", path.display())))?
        }
        None => aidlink_synth::CorruptionRates::default(),
    };
    let summary = aidlink_synth::generate(&aidlink_synth::SynthOptions {
        students: args.students,
        seed: args.seed,
        months: args.months,
        start: args.start,
        out: args.out.clone(),
        rates,
    })
    .exit(Exit::Output)?;
    for ((period, source), rows) in &summary.rows {
        println!("{period}  {source:<12} {rows:>10} rows");
    }
    println!(
        "{} persons; config: {}",
        summary.persons,
        args.out.join("aidlink.toml").display()
    );
    Ok(Exit::Ok)
}
