//! Publishing one period: stage everything, then swap it in with one rename.
//!
//! [`crate::PeriodStage`] writes the files into staging as the tables
//! arrive; [`publish`] hands it a whole [`PeriodOutput`] at once.
//!
//! Every file of the period is written into `DIR/.staging-YYYY-MM-<pid>/`
//! and synced; then the folder is renamed onto `DIR/periods/YYYY-MM`. When
//! the period already exists it is first renamed aside to `.old-…` and
//! removed after the new one is in. A crash before the swap leaves the old
//! period untouched and a staging folder the next run deletes; a crash inside
//! the swap leaves the old period whole under `.old-…`, and the next run
//! moves it back (see [`crate::recover`]).

use crate::error::{PublishError, io};
use crate::fsio::{
    HashingFile, RESTRICTED_DIR_MODE, RESTRICTED_FILE_MODE, SHARED_DIR_MODE, SHARED_FILE_MODE,
    link, make_dir, sha256_hex, sync_dir, write_file,
};
use crate::layout::{
    ANALYST, MANIFEST, OLD_PREFIX, PERIODS, REGISTRY, REPLACED, RESTRICTED, RUN, period_dir,
    registry_path,
};
use crate::manifest::{
    Alias, AnalystTierEntry, InputEntry, MANIFEST_FORMAT, Manifest, OutputEntry, Tier,
};
use crate::parquet_io::{encode_into, encode_view_into};
use crate::stage::PeriodStage;
use aidlink_privacy::{PrivacySettings, PseudonymKey, analyst_view};
use aidlink_vocab::{CivilDate, Period};
use arrow_array::RecordBatch;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Everything one period's run produced, handed to [`publish`].
#[derive(Clone, Debug)]
pub struct PeriodOutput {
    /// The period.
    pub period: Period,
    /// Tables by name: `records`, `persons`, `flags`, `rejects`, `links`,
    /// `delta`, `person_events`, `registry`, ...
    pub tables: Vec<(String, RecordBatch)>,
    /// Other files by name, e.g. `model.json` (restricted tier).
    pub files: Vec<(String, Vec<u8>)>,
    /// Every input file read.
    pub inputs: Vec<InputEntry>,
    /// Lower-case hex SHA-256 of the config file.
    pub config_sha256: String,
    /// The aidlink version.
    pub tool_version: String,
}

/// What [`publish`] did.
#[derive(Clone, Debug)]
pub struct PublishReport {
    /// The period.
    pub period: Period,
    /// `DIR/periods/YYYY-MM`.
    pub period_dir: PathBuf,
    /// Whether the analyst tier was written.
    pub analyst_tier: bool,
    /// Why it was not, when it was not (for the CLI's warning).
    pub analyst_skipped_because: Option<String>,
    /// Tables kept in the restricted tier only (no analyst form in the policy).
    pub restricted_only: Vec<String>,
    /// `table.column` of columns the privacy policy does not name, which the
    /// analyst tier dropped by default; worth a warning, so they get a rule.
    pub dropped_by_default: Vec<String>,
    /// Every file written, as in the manifest.
    pub outputs: Vec<OutputEntry>,
    /// SHA-256 of the new manifest.
    pub manifest_sha256: String,
    /// SHA-256 of the manifest replaced, when the period was republished
    /// with different content.
    pub replaces: Option<String>,
    /// Whether the period was already published with exactly this content.
    pub unchanged: bool,
    /// Wall time of each step (`restricted/records.parquet`, `analyst view
    /// records`, `manifest`, ...), in the order the steps started, for logs
    /// and benchmarks. Steps that ran in parallel overlap, so the times can
    /// add up to more than the whole.
    pub timings: Vec<(String, Duration)>,
}

/// Points where a test can make [`publish_with_failpoint`] stop as if the
/// process had died there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum FailPoint {
    /// After the first restricted table is written to staging.
    AfterFirstTable,
    /// After every file but the manifest is written.
    BeforeManifest,
    /// After staging is complete, before anything published is touched.
    BeforeSwap,
    /// After the old period is moved aside, before the new one is moved in.
    AfterOldMovedAside,
    /// After the new period is in, before the old copy is removed.
    AfterNewMovedIn,
}

pub(crate) fn failpoint(
    active: Option<FailPoint>,
    here: FailPoint,
    name: &'static str,
) -> Result<(), PublishError> {
    if active == Some(here) {
        return Err(PublishError::SimulatedCrash(name));
    }
    Ok(())
}

/// Publishes a period under `out_dir`, atomically (see the module doc).
///
/// Restricted tables go to `restricted/` (owner-only) with a link of the
/// same name at the period root; with a key, the tables the privacy policy
/// has an analyst form for go to `analyst/` pseudonymized, with the aggregate
/// tables. Without a key the analyst tier is not written and the report says
/// so, unless `[privacy] require_key` makes that an error. The registry is
/// also reachable as `DIR/registry/YYYY-MM.parquet`.
///
/// If the caller does not hold the folder's lock ([`crate::lock`]), publish
/// takes it for its own duration. This is a [`PeriodStage`] given every
/// table at once; the files and manifest are the same.
pub fn publish(
    out_dir: &Path,
    output: &PeriodOutput,
    privacy: &PrivacySettings,
    key: Option<&PseudonymKey>,
) -> Result<PublishReport, PublishError> {
    publish_with_failpoint(out_dir, output, privacy, key, None)
}

pub(crate) fn publish_with_failpoint(
    out_dir: &Path,
    output: &PeriodOutput,
    privacy: &PrivacySettings,
    key: Option<&PseudonymKey>,
    fail: Option<FailPoint>,
) -> Result<PublishReport, PublishError> {
    let mut stage = PeriodStage::begin_with_failpoint(out_dir, output.period, privacy, key, fail)?;
    for (name, batch) in &output.tables {
        stage.table(name, batch.clone())?;
    }
    for (name, bytes) in &output.files {
        stage.file(name, bytes.clone())?;
    }
    stage.finish(
        output.inputs.clone(),
        output.config_sha256.clone(),
        output.tool_version.clone(),
    )
}

/// File names at the period root and in `analyst/` that aidlink writes
/// itself; a table or file of these names would overwrite them.
pub(crate) const RESERVED: &[&str] = &[
    MANIFEST,
    RUN,
    RESTRICTED,
    ANALYST,
    REPLACED,
    "flags_by_kind.parquet",
    "flags_by_school.parquet",
    "flags_by_county.parquet",
];

/// A stage whose files are all written, ready for its manifest and swap.
pub(crate) struct Sealed<'a> {
    pub(crate) out_dir: &'a Path,
    pub(crate) staging: &'a Path,
    pub(crate) period: Period,
    /// The pseudonym key's fingerprint, when there is a key.
    pub(crate) key_id: Option<String>,
    pub(crate) min_cell_count: u64,
    /// Table names, in the order they were handed over.
    pub(crate) tables: &'a [String],
    /// Entries of the non-table restricted files.
    pub(crate) files: Vec<OutputEntry>,
    /// Entries of the table files of both tiers.
    pub(crate) outputs: Vec<OutputEntry>,
    pub(crate) timings: Vec<(String, Duration)>,
    pub(crate) restricted_only: Vec<String>,
    pub(crate) dropped_by_default: Vec<String>,
    pub(crate) inputs: Vec<InputEntry>,
    pub(crate) config_sha256: String,
    pub(crate) tool_version: String,
    pub(crate) fail: Option<FailPoint>,
}

/// Links, syncs, writes the manifest and `run.json`, and swaps the staged
/// period in.
pub(crate) fn seal(staged: Sealed<'_>) -> Result<PublishReport, PublishError> {
    let Sealed {
        out_dir,
        staging,
        period,
        key_id,
        min_cell_count,
        tables,
        files,
        mut outputs,
        mut timings,
        restricted_only,
        dropped_by_default,
        mut inputs,
        config_sha256,
        tool_version,
        fail,
    } = staged;
    let analyst_written = key_id.is_some();

    // A root link of the same name for every restricted file.
    let mut aliases = Vec::new();
    for name in tables {
        aliases.push(alias(staging, &format!("{name}.parquet"))?);
    }
    for entry in files {
        aliases.push(alias(staging, &entry.table)?);
        outputs.push(entry);
    }
    // Each file was synced as it was closed; the folders' entries once.
    let t = Instant::now();
    sync_dir(&staging.join(RESTRICTED))?;
    let skipped_because = if analyst_written {
        sync_dir(&staging.join(ANALYST))?;
        None
    } else {
        Some("no pseudonym key configured ([privacy] key_file or key_env)".to_string())
    };

    // Earlier manifests of this period, carried forward.
    let target = period_dir(out_dir, period);
    let previous = read_previous(&target)?;
    let mut history = previous
        .as_ref()
        .map(|p| p.history.clone())
        .unwrap_or_default();
    failpoint(fail, FailPoint::BeforeManifest, "before manifest")?;

    aliases.sort_by(|a, b| a.path.cmp(&b.path));
    inputs.sort_by(|a, b| (&a.source, &a.path).cmp(&(&b.source, &b.path)));
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    let mut manifest = Manifest {
        aliases,
        analyst_tier: AnalystTierEntry {
            key_id,
            min_cell_count,
            skipped_because: skipped_because.clone(),
            written: analyst_written,
        },
        config_sha256,
        format: MANIFEST_FORMAT,
        inputs,
        outputs: Vec::new(),
        period: period.to_string(),
        replaces: None,
        tool_version,
    };
    // Decide whether this replaces the published manifest: compare the
    // content without history and `replaces`, which a rerun inherits.
    let (replaces, unchanged) = match &previous {
        Some(prev) => {
            let mut new_core = manifest.clone();
            new_core.outputs = outputs.clone();
            let mut old_core = prev.manifest.clone();
            old_core.outputs.retain(|o| o.tier != Tier::History);
            old_core.replaces = None;
            if old_core == new_core {
                (prev.manifest.replaces.clone(), true)
            } else {
                history.push((prev.sha256.clone(), prev.bytes.clone()));
                (Some(prev.sha256.clone()), false)
            }
        }
        None => (None, false),
    };
    if !history.is_empty() {
        make_dir(&staging.join(REPLACED), SHARED_DIR_MODE)?;
    }
    for (sha, bytes) in &history {
        let rel = format!("{REPLACED}/{sha}.json");
        write_file(&staging.join(&rel), bytes, SHARED_FILE_MODE)?;
        outputs.push(OutputEntry {
            bytes: bytes.len() as u64,
            path: rel,
            rows: None,
            sha256: sha.clone(),
            table: MANIFEST.into(),
            tier: Tier::History,
        });
    }
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.outputs = outputs.clone();
    manifest.replaces = replaces.clone();
    let manifest_bytes = manifest.to_bytes();
    let manifest_sha256 = sha256_hex(&manifest_bytes);
    write_file(&staging.join(MANIFEST), &manifest_bytes, SHARED_FILE_MODE)?;
    write_file(
        &staging.join(RUN),
        &run_record(period, &manifest.tool_version, &manifest_sha256),
        SHARED_FILE_MODE,
    )?;
    sync_dir(staging)?;
    timings.push(("manifest".to_string(), t.elapsed()));
    failpoint(fail, FailPoint::BeforeSwap, "before swap")?;

    let t = Instant::now();
    swap(out_dir, staging, &target, period, fail)?;
    // The registry link names a path, not a file, so a later republish of
    // the period is seen through it without touching it.
    if tables.iter().any(|n| n == "registry") {
        ensure_registry_link(out_dir, period)?;
    }
    timings.push(("swap".to_string(), t.elapsed()));

    Ok(PublishReport {
        period,
        period_dir: target,
        analyst_tier: analyst_written,
        analyst_skipped_because: skipped_because,
        restricted_only,
        dropped_by_default,
        outputs,
        manifest_sha256,
        replaces,
        unchanged,
        timings,
    })
}

/// Encodes and writes one table into `restricted/` or, with a key, its
/// analyst view into `analyst/`; returns its manifest entry.
pub(crate) fn write_table(
    staging: &Path,
    table: &str,
    batch: &RecordBatch,
    key: Option<&PseudonymKey>,
    period: Period,
    tier: Tier,
) -> Result<OutputEntry, PublishError> {
    let (tier_dir, tier_name, mode) = match tier {
        Tier::Restricted => (RESTRICTED, "restricted", RESTRICTED_FILE_MODE),
        Tier::Analyst | Tier::History => (ANALYST, "analyst", SHARED_FILE_MODE),
    };
    let rel = format!("{tier_dir}/{table}.parquet");
    let path = staging.join(&rel);
    let meta = [
        ("aidlink.period", period.to_string()),
        ("aidlink.table", table.to_string()),
        ("aidlink.tier", tier_name.to_string()),
    ];
    // Encoded straight into the file and hashed on the way, rather than
    // built in memory, written, and hashed again.
    let sink = HashingFile::create(&path, mode)?;
    let file = match key {
        None => encode_into(batch, &meta, &path, sink)?,
        Some(key) => {
            let view = |rows: &RecordBatch, first_row: usize| {
                analyst_view(table, rows, key).map_err(|source| PublishError::Privacy {
                    table: table.to_string(),
                    error: source.offset_rows(first_row),
                })
            };
            encode_view_into(batch, &view, &meta, &path, sink)?
        }
    };
    let (sha256, bytes) = file.finish(&path)?;
    Ok(OutputEntry {
        bytes,
        path: rel,
        rows: Some(batch.num_rows() as u64),
        sha256,
        table: table.to_string(),
        tier,
    })
}

/// Creates the root link `name -> restricted/name` in staging.
fn alias(staging: &Path, name: &str) -> Result<Alias, PublishError> {
    let target = format!("{RESTRICTED}/{name}");
    link(&target, &staging.join(name))?;
    Ok(Alias {
        path: name.to_string(),
        target,
    })
}

/// The published manifest of a period, with its bytes and carried history.
struct Previous {
    manifest: Manifest,
    bytes: Vec<u8>,
    sha256: String,
    history: Vec<(String, Vec<u8>)>,
}

fn read_previous(target: &Path) -> Result<Option<Previous>, PublishError> {
    let path = target.join(MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("cannot read", &path)(e)),
    };
    let manifest =
        Manifest::from_bytes(&bytes).map_err(|message| PublishError::Manifest { path, message })?;
    let mut history = Vec::new();
    for entry in manifest.outputs.iter().filter(|o| o.tier == Tier::History) {
        let file = target.join(&entry.path);
        let old = std::fs::read(&file).map_err(io("cannot read", &file))?;
        history.push((entry.sha256.clone(), old));
    }
    Ok(Some(Previous {
        sha256: sha256_hex(&bytes),
        manifest,
        bytes,
        history,
    }))
}

/// Moves staging onto the period folder (see the module doc).
fn swap(
    out_dir: &Path,
    staging: &Path,
    target: &Path,
    period: Period,
    fail: Option<FailPoint>,
) -> Result<(), PublishError> {
    let periods = out_dir.join(PERIODS);
    make_dir(&periods, SHARED_DIR_MODE)?;
    if target.exists() {
        let old = out_dir.join(format!("{OLD_PREFIX}{period}-{}", std::process::id()));
        std::fs::rename(target, &old).map_err(io("cannot move aside", target))?;
        failpoint(
            fail,
            FailPoint::AfterOldMovedAside,
            "after old period moved aside",
        )?;
        std::fs::rename(staging, target).map_err(io("cannot publish", target))?;
        sync_dir(&periods)?;
        sync_dir(out_dir)?;
        failpoint(
            fail,
            FailPoint::AfterNewMovedIn,
            "after new period moved in",
        )?;
        std::fs::remove_dir_all(&old).map_err(io("cannot remove", &old))?;
    } else {
        std::fs::rename(staging, target).map_err(io("cannot publish", target))?;
        sync_dir(&periods)?;
    }
    sync_dir(out_dir)
}

/// Creates `DIR/registry/YYYY-MM.parquet` when it is missing (a crash can
/// fall between the swap and the link; the next run's recovery calls this).
pub(crate) fn ensure_registry_link(out_dir: &Path, period: Period) -> Result<(), PublishError> {
    let dir = out_dir.join(REGISTRY);
    let path = registry_path(out_dir, period);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(());
    }
    make_dir(&dir, RESTRICTED_DIR_MODE)?;
    let tmp = dir.join(format!(".{period}.parquet.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    link(
        &format!("../{PERIODS}/{period}/{RESTRICTED}/registry.parquet"),
        &tmp,
    )?;
    std::fs::rename(&tmp, &path).map_err(io("cannot create", &path))?;
    sync_dir(&dir)
}

/// The bytes of `run.json`: the time of the run (UTC) and which manifest it
/// published. It names no host and is not listed in the manifest.
fn run_record(period: Period, tool_version: &str, manifest_sha256: &str) -> Vec<u8> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = CivilDate::from_days((secs / 86_400) as i32);
    let rem = secs % 86_400;
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        day.year,
        day.month,
        day.day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    let value = serde_json::json!({
        "finished_at": stamp,
        "manifest_sha256": manifest_sha256,
        "period": period.to_string(),
        "tool_version": tool_version,
    });
    let mut out = serde_json::to_vec_pretty(&value).unwrap_or_default();
    out.push(b'\n');
    out
}
