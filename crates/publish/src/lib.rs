//! Publishing for aidlink: the only crate that writes output files.
//!
//! [`publish`] writes one period's tables as Parquet into two tiers
//! (`restricted/` with real identifiers, owner-only; `analyst/` pseudonymized
//! by [`aidlink_privacy`], group-readable), with a deterministic
//! `manifest.json` that lists every input and output with its SHA-256, and a
//! `run.json` that holds the only non-deterministic facts (when it ran). A
//! period is staged in a temporary folder and published by one rename, so a
//! crash at any point leaves the previous state whole; rerunning with the
//! same inputs gives byte-identical files and manifest. [`PeriodStage`] is
//! the same in steps: the pipeline hands over each table as soon as it is
//! final, its files are encoded in the background while later stages
//! compute, and the table is freed once written; `publish` is a stage given
//! every table at once. [`lock`] keeps two
//! runs off the same folder, [`verify`] re-hashes everything against the
//! manifests, and [`load_table`] reads a published table back for the next
//! period. The folder layout is in [`layout`] and `docs/schema.md`.

mod error;
mod fsio;
pub mod layout;
mod lock;
pub mod manifest;
mod parquet_io;
mod read;
mod recover;
mod stage;
mod verify;
mod write;

pub use error::PublishError;
pub use fsio::{
    RESTRICTED_DIR_MODE, RESTRICTED_FILE_MODE, SHARED_DIR_MODE, SHARED_FILE_MODE, sha256_hex,
};
pub use layout::{period_dir, published_periods, registry_path};
pub use lock::{LOCK_FILE, OutputLock, lock, lock_with_timeout};
pub use manifest::{InputEntry, Manifest, OutputEntry, Tier};
pub use parquet_io::{ROW_GROUP_ROWS, parquet_writer_properties, write_parquet_file};
pub use read::{latest_period_before, load_file, load_table};
pub use stage::PeriodStage;
pub use verify::{PeriodCheck, Problem, VerifyReport, verify};
pub use write::{PeriodOutput, PublishReport, publish};

#[cfg(test)]
mod tests;
