//! `verify`: re-hashes every published file against its period's manifest.
//!
//! Besides hashes and sizes it checks what else an auditor relies on: that
//! no file was added to a tier folder after publishing, that the root links
//! still point where the manifest says, and that restricted files are still
//! owner-only.

use crate::error::PublishError;
use crate::fsio::{hash_file, mode_of};
use crate::layout::{
    ANALYST, MANIFEST, PERIODS, REGISTRY, RESTRICTED, period_dir, published_periods, registry_path,
};
use crate::manifest::{Manifest, Tier};
use aidlink_vocab::Period;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

/// One thing wrong with a published period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The manifest cannot be read or parsed.
    BadManifest(String),
    /// A file the manifest lists is gone.
    Missing(String),
    /// A file's hash differs from the manifest's.
    HashMismatch {
        /// Path in the period folder.
        path: String,
        /// The manifest's hash.
        expected: String,
        /// The file's hash now.
        found: String,
    },
    /// A file in a tier folder that the manifest does not list.
    Unlisted(String),
    /// A root link that is missing or points elsewhere.
    BadAlias(String),
    /// A restricted file readable by group or others.
    TooOpen {
        /// Path in the period folder.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadManifest(m) => write!(f, "manifest.json: {m}"),
            Problem::Missing(p) => write!(f, "{p}: missing"),
            Problem::HashMismatch {
                path,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{path}: sha256 {found} differs from the manifest's {expected}"
                )
            }
            Problem::Unlisted(p) => write!(f, "{p}: not in the manifest"),
            Problem::BadAlias(p) => write!(
                f,
                "{p}: link missing or not pointing where the manifest says"
            ),
            Problem::TooOpen { path, mode } => write!(
                f,
                "{path}: restricted file has mode {mode:04o}, expected 0600"
            ),
        }
    }
}

/// The result of checking one period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodCheck {
    /// The period.
    pub period: Period,
    /// Files whose hash was checked.
    pub files_checked: usize,
    /// What is wrong; empty when all is well.
    pub problems: Vec<Problem>,
}

/// The result of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// One entry per published period, in period order.
    pub periods: Vec<PeriodCheck>,
}

impl VerifyReport {
    /// Whether every file of every period matches its manifest.
    pub fn is_ok(&self) -> bool {
        self.periods.iter().all(|p| p.problems.is_empty())
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut files = 0;
        let mut problems = 0;
        for p in &self.periods {
            files += p.files_checked;
            problems += p.problems.len();
            if p.problems.is_empty() {
                writeln!(f, "{}: {} files ok", p.period, p.files_checked)?;
            } else {
                writeln!(f, "{}: {} problems", p.period, p.problems.len())?;
                for problem in &p.problems {
                    writeln!(f, "  {problem}")?;
                }
            }
        }
        let verdict = if problems == 0 {
            "ok".to_string()
        } else {
            format!("{problems} problems")
        };
        writeln!(
            f,
            "verified {} periods, {files} files: {verdict}",
            self.periods.len()
        )
    }
}

/// Re-hashes every published file of every period under `out_dir`.
pub fn verify(out_dir: &Path) -> Result<VerifyReport, PublishError> {
    let periods = published_periods(out_dir).map_err(|source| PublishError::Io {
        action: "cannot list",
        path: out_dir.join(crate::layout::PERIODS),
        error: source,
    })?;
    let mut out = Vec::new();
    for period in periods {
        out.push(check_period(out_dir, period)?);
    }
    Ok(VerifyReport { periods: out })
}

fn check_period(out_dir: &Path, period: Period) -> Result<PeriodCheck, PublishError> {
    let dir = &period_dir(out_dir, period);
    let mut check = PeriodCheck {
        period,
        files_checked: 0,
        problems: Vec::new(),
    };
    let manifest = match std::fs::read(dir.join(MANIFEST))
        .map_err(|e| e.to_string())
        .and_then(|b| Manifest::from_bytes(&b))
    {
        Ok(m) => m,
        Err(message) => {
            check.problems.push(Problem::BadManifest(message));
            return Ok(check);
        }
    };
    for entry in &manifest.outputs {
        let path = dir.join(&entry.path);
        // A listed file must be a regular file, not a link to elsewhere.
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                if entry.tier == Tier::Restricted
                    && let Some(mode) = mode_of(&meta)
                    && mode & 0o077 != 0
                {
                    check.problems.push(Problem::TooOpen {
                        path: entry.path.clone(),
                        mode,
                    });
                }
            }
            _ => {
                check.problems.push(Problem::Missing(entry.path.clone()));
                continue;
            }
        }
        let (sha256, _) = hash_file(&path)?;
        check.files_checked += 1;
        if sha256 != entry.sha256 {
            check.problems.push(Problem::HashMismatch {
                path: entry.path.clone(),
                expected: entry.sha256.clone(),
                found: sha256,
            });
        }
    }
    if let Some(sha) = &manifest.replaces
        && !manifest
            .outputs
            .iter()
            .any(|o| o.tier == Tier::History && &o.sha256 == sha)
    {
        check.problems.push(Problem::BadManifest(format!(
            "replaces {sha}, which is not kept under replaced/"
        )));
    }
    if manifest
        .output(&format!("{RESTRICTED}/registry.parquet"))
        .is_some()
    {
        let link = registry_path(out_dir, period);
        let want = format!("../{PERIODS}/{period}/{RESTRICTED}/registry.parquet");
        if !std::fs::read_link(&link).is_ok_and(|t| t == Path::new(&want)) {
            check.problems.push(Problem::BadAlias(format!(
                "{REGISTRY}/{period}.parquet (in the output folder)"
            )));
        }
    }
    for alias in &manifest.aliases {
        let ok =
            std::fs::read_link(dir.join(&alias.path)).is_ok_and(|t| t == Path::new(&alias.target));
        if !ok {
            check.problems.push(Problem::BadAlias(alias.path.clone()));
        }
    }
    let listed: BTreeSet<&str> = manifest.outputs.iter().map(|o| o.path.as_str()).collect();
    for tier in [RESTRICTED, ANALYST] {
        let Ok(entries) = std::fs::read_dir(dir.join(tier)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let rel = format!("{tier}/{name}");
            if !listed.contains(rel.as_str()) {
                check.problems.push(Problem::Unlisted(rel));
            }
        }
    }
    Ok(check)
}
