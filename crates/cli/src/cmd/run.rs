//! `aidlink run`: one period, from the extracts to published Parquet.
//!
//! ```text
//! aidlink run --config configs/city.toml --period 2026-11 --out /data/aidlink
//! aidlink run --config city.toml --period 2026-12 --out out --model out/periods/2026-11/model.json
//! aidlink run --config city.toml --period 2026-12 --out out --full
//! ```
//!
//! A period after the first keeps the previous period's model and compares
//! only candidate pairs touching new or changed records (`--full` compares
//! all, `--retrain` trains a new model).
//!
//! Exit status: 0 ok, 1 published but rejects above `[publish] max_reject_share`,
//! 2 config error, 3 input unreadable, 4 output locked or unwritable, 70 bug.

use crate::exit::{Exit, Failure};
use crate::pipeline::{self, RunOptions};
use aidlink_vocab::Period;
use clap::Args;
use std::path::PathBuf;

/// Run one period: ingest, link, flag, publish.
#[derive(Args)]
#[command(
    after_help = "Example:\n  aidlink run --config city.toml --period 2026-11 --out /data/aidlink"
)]
pub struct RunArgs {
    /// The config file (see docs/config.md).
    #[arg(long)]
    pub config: PathBuf,
    /// The period, YYYY-MM; replaces {period} in source paths.
    #[arg(long)]
    pub period: Period,
    /// The output folder; periods are published under OUT/periods/YYYY-MM.
    #[arg(long)]
    pub out: PathBuf,
    /// Reuse a saved model (model.json) instead of training one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Wait up to this many seconds for another run on the same output
    /// folder to finish, instead of exiting with status 4 at once.
    #[arg(long, default_value_t = 0)]
    pub wait: u64,
    /// Compare every candidate pair again instead of only those touching
    /// new or changed records (same persons, slower; for audits).
    #[arg(long)]
    pub full: bool,
    /// Train a new model on this period instead of keeping the previous
    /// period's (implies --full; persons may then shift).
    #[arg(long, conflicts_with = "model")]
    pub retrain: bool,
}

/// Runs the subcommand.
pub fn main(args: RunArgs) -> Result<Exit, Failure> {
    let summary = pipeline::run(&RunOptions {
        config: args.config,
        period: args.period,
        out: args.out,
        model: args.model,
        wait: std::time::Duration::from_secs(args.wait),
        full: args.full,
        retrain: args.retrain,
    })?;
    print!("{}", crate::summary::render(&summary));
    Ok(if summary.reject_share > summary.max_reject_share {
        Exit::OkWithRejects
    } else {
        Exit::Ok
    })
}
