//! Where things live in an output folder.
//!
//! ```text
//! DIR/
//!   .aidlink.lock                 the lock of the folder
//!   periods/YYYY-MM/              one published period (0750)
//!     manifest.json               inputs and outputs with sha256 (0640)
//!     run.json                    when it ran; the only non-deterministic file (0640)
//!     restricted/                 real identifiers (0700, files 0600)
//!       records.parquet persons.parquet flags.parquet rejects.parquet
//!       links.parquet delta.parquet person_events.parquet registry.parquet
//!       model.json
//!     analyst/                    pseudonymized (0750, files 0640)
//!       records.parquet ... flags_by_school.parquet flags_by_county.parquet flags_by_kind.parquet
//!     replaced/<sha256>.json      earlier manifests of this period
//!     records.parquet -> restricted/records.parquet   (one link per restricted file)
//!   registry/YYYY-MM.parquet -> ../periods/YYYY-MM/restricted/registry.parquet
//!   .staging-YYYY-MM-<pid>/       a run in progress (removed by the next run if it crashed)
//!   .old-YYYY-MM-<pid>/           the replaced period during the swap
//! ```

use aidlink_vocab::Period;
use std::path::{Path, PathBuf};

/// Folder of published periods.
pub const PERIODS: &str = "periods";
/// Folder of registry links.
pub const REGISTRY: &str = "registry";
/// Restricted tier folder inside a period.
pub const RESTRICTED: &str = "restricted";
/// Analyst tier folder inside a period.
pub const ANALYST: &str = "analyst";
/// Earlier manifests folder inside a period.
pub const REPLACED: &str = "replaced";
/// Manifest file name.
pub const MANIFEST: &str = "manifest.json";
/// Run record file name.
pub const RUN: &str = "run.json";
/// Prefix of staging folders.
pub(crate) const STAGING_PREFIX: &str = ".staging-";
/// Prefix of replaced period folders during a swap.
pub(crate) const OLD_PREFIX: &str = ".old-";

/// The published folder of `period`: `DIR/periods/YYYY-MM`.
pub fn period_dir(out_dir: &Path, period: Period) -> PathBuf {
    out_dir.join(PERIODS).join(period.to_string())
}

/// The registry path of `period`: `DIR/registry/YYYY-MM.parquet`.
pub fn registry_path(out_dir: &Path, period: Period) -> PathBuf {
    out_dir.join(REGISTRY).join(format!("{period}.parquet"))
}

/// Reads a folder name as a period, only in its canonical `YYYY-MM` form.
pub(crate) fn period_of_name(name: &str) -> Option<Period> {
    Period::parse(name).ok().filter(|p| p.to_string() == name)
}

/// The periods published under `out_dir` (folders with a manifest), sorted.
pub fn published_periods(out_dir: &Path) -> std::io::Result<Vec<Period>> {
    let dir = out_dir.join(PERIODS);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(p) = entry.file_name().to_str().and_then(period_of_name)
            && entry.path().join(MANIFEST).is_file()
        {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `name` may be a table or file name in the output.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
}
