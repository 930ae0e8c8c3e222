//! Reading published periods back: the previous period's tables for the
//! next run (registry, persons, flags), and which period came before.

use crate::error::PublishError;
use crate::fsio::hash_file;
use crate::layout::{MANIFEST, RESTRICTED, period_dir, published_periods};
use crate::manifest::Manifest;
use crate::parquet_io::read;
use aidlink_vocab::Period;
use arrow_array::RecordBatch;
use std::path::Path;

/// Reads a published restricted table of `period`, or `None` when the period
/// or the table was never published. The file is checked against the
/// period's manifest first, so a next period is never built on a file that
/// changed after publishing.
pub fn load_table(
    out_dir: &Path,
    period: Period,
    table: &str,
) -> Result<Option<RecordBatch>, PublishError> {
    match checked_path(out_dir, period, &format!("{RESTRICTED}/{table}.parquet"))? {
        Some(path) => read(&path).map(Some),
        None => Ok(None),
    }
}

/// Reads a published restricted file of `period` that is not a table (such
/// as `model.json`), checked against the manifest like [`load_table`];
/// `None` when the period or the file was never published.
pub fn load_file(
    out_dir: &Path,
    period: Period,
    name: &str,
) -> Result<Option<Vec<u8>>, PublishError> {
    let Some(path) = checked_path(out_dir, period, &format!("{RESTRICTED}/{name}"))? else {
        return Ok(None);
    };
    std::fs::read(&path)
        .map(Some)
        .map_err(|error| PublishError::Io {
            action: "cannot read",
            path,
            error,
        })
}

/// The path of the published file `rel` (relative to the period folder)
/// after checking its hash against the period's manifest, or `None` when the
/// period or the file was never published.
fn checked_path(
    out_dir: &Path,
    period: Period,
    rel: &str,
) -> Result<Option<std::path::PathBuf>, PublishError> {
    let dir = period_dir(out_dir, period);
    let manifest_path = dir.join(MANIFEST);
    let bytes = match std::fs::read(&manifest_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PublishError::Io {
                action: "cannot read",
                path: manifest_path,
                error: source,
            });
        }
    };
    let manifest = Manifest::from_bytes(&bytes).map_err(|message| PublishError::Manifest {
        path: manifest_path.clone(),
        message,
    })?;
    let Some(entry) = manifest.output(rel) else {
        return Ok(None);
    };
    let path = dir.join(rel);
    let (sha256, _) = hash_file(&path)?;
    if sha256 != entry.sha256 {
        return Err(PublishError::Tampered {
            path,
            expected: entry.sha256.clone(),
            found: sha256,
        });
    }
    Ok(Some(path))
}

/// The latest published period strictly before `period`.
pub fn latest_period_before(
    out_dir: &Path,
    period: Period,
) -> Result<Option<Period>, PublishError> {
    let periods = published_periods(out_dir).map_err(|source| PublishError::Io {
        action: "cannot list",
        path: out_dir.join(crate::layout::PERIODS),
        error: source,
    })?;
    Ok(periods.into_iter().filter(|p| *p < period).max())
}
