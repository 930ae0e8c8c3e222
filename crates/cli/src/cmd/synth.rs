//! `aidlink synth`: writes a synthetic city's extracts, with ground truth.
//!
//! ```text
//! aidlink synth --students 20000 --seed 7 --months 2 --out city
//! aidlink run --config city/aidlink.toml --period 2026-01 --out city/out
//! ```

use crate::exit::{Exit, ExitContext, Failure};
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
}

/// Runs the subcommand.
pub fn main(args: SynthArgs) -> Result<Exit, Failure> {
    let summary = aidlink_synth::generate(&aidlink_synth::SynthOptions {
        students: args.students,
        seed: args.seed,
        months: args.months,
        start: args.start,
        out: args.out.clone(),
        rates: Default::default(),
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
