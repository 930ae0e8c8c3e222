//! `aidlink diff`: what changed between two published periods.
//!
//! ```text
//! aidlink diff --out /data/aidlink --from 2026-10 --to 2026-11
//! aidlink diff --out /data/aidlink --from 2026-06 --to 2026-11 --write changes.parquet
//! ```
//!
//! Any two periods, not only consecutive ones; the rows have the schema of
//! `delta.parquet` (docs/deltas.md).

use crate::exit::{Exit, ExitContext, Failure, fail};
use aidlink_vocab::Period;
use arrow_array::RecordBatch;
use clap::Args;
use std::path::PathBuf;

/// Summarize (and optionally write) the changes between two periods.
#[derive(Args)]
pub struct DiffArgs {
    /// The output folder of `aidlink run`.
    #[arg(long)]
    pub out: PathBuf,
    /// The earlier period.
    #[arg(long)]
    pub from: Period,
    /// The later period.
    #[arg(long)]
    pub to: Period,
    /// Also write the change rows to this Parquet file.
    #[arg(long)]
    pub write: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn main(args: DiffArgs) -> Result<Exit, Failure> {
    let load = |period: Period, table: &str| {
        aidlink_publish::load_table(&args.out, period, table)
            .exit(Exit::Input)?
            .ok_or_else(|| {
                fail(
                    Exit::Input,
                    format!(
                        "period {period} has no published {table} table in {}",
                        args.out.display()
                    ),
                )
            })
    };
    let mut parts = Vec::new();
    for (entity, table, keys) in [
        ("person", "persons", &["person_id"][..]),
        ("flag", "flags", &["person_id", "flag"][..]),
    ] {
        let before = load(args.from, table)?;
        let after = load(args.to, table)?;
        parts.push(
            aidlink_delta::diff(
                entity,
                keys,
                Some(&before),
                &after,
                Some(args.from),
                args.to,
            )
            .exit(Exit::Internal)?,
        );
    }
    // Links: which person each record belongs to, from each period's registry.
    let links = |period: Period| -> Result<RecordBatch, Failure> {
        let registry =
            aidlink_registry::Registry::from_batch(&load(period, "registry")?).exit(Exit::Input)?;
        Ok(aidlink_delta::link_table(&registry))
    };
    let (before, after) = (links(args.from)?, links(args.to)?);
    parts.push(
        aidlink_delta::diff(
            "link",
            &[aidlink_delta::RECORD],
            Some(&before),
            &after,
            Some(args.from),
            args.to,
        )
        .exit(Exit::Internal)?,
    );
    let delta = aidlink_delta::combine(&parts).exit(Exit::Internal)?;
    print!("{}", aidlink_delta::summarize(&delta).exit(Exit::Internal)?);
    if let Some(path) = &args.write {
        aidlink_publish::write_parquet_file(path, &delta).exit(Exit::Output)?;
        println!("wrote {} rows to {}", delta.num_rows(), path.display());
    }
    Ok(Exit::Ok)
}
