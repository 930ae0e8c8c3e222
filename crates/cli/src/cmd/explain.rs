//! `aidlink explain`: why two records were, or were not, linked.
//!
//! ```text
//! aidlink explain --out /data/aidlink --period 2026-11 enrollment:17 subsidy:342
//! ```
//!
//! Prints each comparison's level and its weight, the prior, the total and
//! the match probability, as a text waterfall. Records are named
//! `SOURCE:ROW` as in `records.parquet` (ROW is the 1-based data row).

use crate::exit::{Exit, ExitContext, Failure, fail};
use aidlink_vocab::Period;
use arrow_array::{Array, RecordBatch, StringArray, UInt64Array};
use clap::Args;
use std::path::PathBuf;

/// Explain the match score of two records of a published period.
#[derive(Args)]
pub struct ExplainArgs {
    /// The output folder of `aidlink run`.
    #[arg(long)]
    pub out: PathBuf,
    /// The period.
    #[arg(long)]
    pub period: Period,
    /// The first record, SOURCE:ROW.
    pub left: String,
    /// The second record, SOURCE:ROW.
    pub right: String,
}

fn find_row(records: &RecordBatch, reference: &str) -> Result<usize, Failure> {
    let (source, row) = reference
        .rsplit_once(':')
        .and_then(|(s, r)| Some((s, r.parse::<u64>().ok()?)))
        .ok_or_else(|| {
            fail(
                Exit::Usage,
                format!("`{reference}` is not SOURCE:ROW, e.g. enrollment:17"),
            )
        })?;
    let sources = records
        .column_by_name("source")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| fail(Exit::Input, "records table lacks `source`"))?;
    let rows = records
        .column_by_name("source_row")
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .ok_or_else(|| fail(Exit::Input, "records table lacks `source_row`"))?;
    (0..records.num_rows())
        .find(|&i| sources.is_valid(i) && sources.value(i) == source && rows.value(i) == row)
        .ok_or_else(|| fail(Exit::Usage, format!("no accepted record {reference} in this period (rejected rows are in rejects.parquet)")))
}

/// Runs the subcommand.
pub fn main(args: ExplainArgs) -> Result<Exit, Failure> {
    let published = aidlink_publish::load_table(&args.out, args.period, "records")
        .exit(Exit::Input)?
        .ok_or_else(|| {
            fail(
                Exit::Input,
                format!("no published records for {}", args.period),
            )
        })?;
    // The matcher reads the record schema; drop the person_id column publish added.
    let mut records = published.clone();
    if let Ok(i) = records.schema().index_of("person_id") {
        records.remove_column(i);
    }
    let model_path = aidlink_publish::period_dir(&args.out, args.period).join("model.json");
    let text = std::fs::read_to_string(&model_path).map_err(|e| {
        fail(
            Exit::Input,
            format!("cannot read {}: {e}", model_path.display()),
        )
    })?;
    let model: aidlink_match::Model = serde_json::from_str(&text).exit(Exit::Input)?;
    let left = find_row(&records, &args.left)?;
    let right = find_row(&records, &args.right)?;
    let explanation = aidlink_match::explain(&records, left, right, &model).exit(Exit::Internal)?;
    print!("{explanation}");
    Ok(Exit::Ok)
}
