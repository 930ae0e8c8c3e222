//! `aidlink verify`: re-hashes every published file against its manifest.
//!
//! ```text
//! aidlink verify --out /data/aidlink
//! ```
//!
//! Exits 0 when every file matches, 5 when any file is missing or changed.

use crate::exit::{Exit, ExitContext, Failure};
use clap::Args;
use std::path::PathBuf;

/// Check every published file against the sha256 in its period's manifest.
#[derive(Args)]
pub struct VerifyArgs {
    /// The output folder of `aidlink run`.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the subcommand.
pub fn main(args: VerifyArgs) -> Result<Exit, Failure> {
    let report = aidlink_publish::verify(&args.out).exit(Exit::Input)?;
    print!("{report}");
    Ok(if report.is_ok() {
        Exit::Ok
    } else {
        Exit::Verify
    })
}
