//! Repairs what a crashed run left behind; runs under the lock.
//!
//! A crash can leave three things: a staging folder (the run had not
//! published yet: the previous period is untouched, the folder is deleted),
//! an `.old-` folder next to a published period (the swap finished: the old
//! copy is deleted), or an `.old-` folder whose period is missing (the crash
//! came between moving the old period aside and moving the new one in: the
//! old one is moved back, so the previous state is whole again). A period
//! published just before a crash may also lack its registry link, which is
//! created.

use crate::error::{PublishError, io};
use crate::fsio::sync_dir;
use crate::layout::{OLD_PREFIX, PERIODS, STAGING_PREFIX, period_of_name};
use std::path::Path;

/// Removes stale staging folders and finishes or undoes interrupted swaps.
pub(crate) fn recover(out_dir: &Path) -> Result<(), PublishError> {
    let entries = std::fs::read_dir(out_dir).map_err(io("cannot list", out_dir))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    for name in names {
        let path = out_dir.join(&name);
        if name.starts_with(STAGING_PREFIX) {
            std::fs::remove_dir_all(&path)
                .map_err(io("cannot remove stale staging folder", &path))?;
        } else if let Some(rest) = name.strip_prefix(OLD_PREFIX) {
            // `.old-YYYY-MM-<pid>`: the period is the first seven characters.
            let Some(period) = rest.get(..7).and_then(period_of_name) else {
                continue;
            };
            let target = out_dir.join(PERIODS).join(period.to_string());
            if target.exists() {
                std::fs::remove_dir_all(&path)
                    .map_err(io("cannot remove replaced period", &path))?;
            } else {
                std::fs::rename(&path, &target)
                    .map_err(io("cannot restore interrupted period", &path))?;
                sync_dir(&out_dir.join(PERIODS))?;
            }
        }
    }
    // A crash between a swap and the registry link leaves the link missing.
    let periods = crate::layout::published_periods(out_dir).map_err(io("cannot list", out_dir))?;
    for period in periods {
        let registry =
            crate::layout::period_dir(out_dir, period).join("restricted/registry.parquet");
        if registry.is_file() {
            crate::write::ensure_registry_link(out_dir, period)?;
        }
    }
    Ok(())
}
