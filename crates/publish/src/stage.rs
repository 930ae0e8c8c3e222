//! Staged publishing: a period's tables handed over one at a time, as soon
//! as each is final, and encoded in the background while the caller
//! computes the next ones.
//!
//! [`PeriodStage::begin`] makes the staging folder; [`PeriodStage::table`]
//! queues a table's restricted file (and, with a key, its analyst view) on
//! the rayon pool, and the table is freed once its files are written;
//! [`PeriodStage::file`] writes a small non-table file at once;
//! [`PeriodStage::finish`] waits for the queue, writes the aggregates, the
//! manifest and `run.json`, and swaps the period in (see [`crate::write`]).
//!
//! Every file's bytes depend only on its own table, and the manifest lists
//! its entries sorted by path, so the period published is the same whatever
//! the order or timing of the calls. A step that fails in the background is
//! reported by the next call (or by `finish`), and the stage then refuses
//! further work. A stage that fails, or is dropped unfinished (the pipeline
//! failing half way), waits for its queued jobs and removes its staging
//! folder; a crash leaves a staging folder the next run's recovery deletes
//! ([`crate::recover`]).

use crate::error::PublishError;
use crate::fsio::{
    RESTRICTED_DIR_MODE, RESTRICTED_FILE_MODE, SHARED_DIR_MODE, make_dir, sha256_hex, write_file,
};
use crate::layout::{ANALYST, RESTRICTED, STAGING_PREFIX, valid_name};
use crate::lock::OutputLock;
use crate::manifest::{InputEntry, OutputEntry, Tier};
use crate::write::{FailPoint, PublishReport, RESERVED, Sealed, seal, write_table};
use aidlink_privacy::{
    AGGREGATE_DIMENSIONS, AGGREGATE_PERSON_COLUMN, PrivacySettings, PseudonymKey,
    analyst_aggregates, policy,
};
use aidlink_vocab::Period;
use arrow_array::RecordBatch;
use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One period being published: tables are handed over as they become final
/// and written in the background; [`PeriodStage::finish`] publishes them all
/// at once (see the module doc).
///
/// ```no_run
/// # fn demo(out: &std::path::Path, records: arrow_array::RecordBatch)
/// #     -> Result<(), aidlink_publish::PublishError> {
/// use aidlink_privacy::PrivacySettings;
/// use aidlink_publish::PeriodStage;
/// let period = aidlink_vocab::Period::parse("2026-01").expect("a period");
/// let mut stage = PeriodStage::begin(out, period, &PrivacySettings::default(), None)?;
/// stage.table("records", records)?; // encoded while the caller goes on
/// stage.file("model.json", b"{}".to_vec())?;
/// let report = stage.finish(Vec::new(), "0".repeat(64), "0.1.0".into())?;
/// # let _ = report; Ok(()) }
/// ```
pub struct PeriodStage {
    out_dir: PathBuf,
    staging: PathBuf,
    period: Period,
    min_cell_count: u64,
    key: Option<Arc<PseudonymKey>>,
    fail: Option<FailPoint>,
    /// File names taken in the period root, the reserved ones included.
    taken: BTreeSet<String>,
    /// Table names in the order they were handed over.
    tables: Vec<String>,
    /// Entries of the non-table files, already written.
    files: Vec<OutputEntry>,
    restricted_only: Vec<String>,
    dropped_by_default: Vec<String>,
    aggregate_inputs: AggregateInputs,
    queue: Arc<Queue>,
    /// Jobs queued so far; a job's number is its place in this count.
    queued: usize,
    status: Status,
    /// The folder's lock when the stage took it itself; released only after
    /// [`Drop`] has waited for the jobs and cleaned up.
    _lock: Option<OutputLock>,
}

/// Where a stage stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Taking tables.
    Open,
    /// A step failed: the staging folder goes when the stage does.
    Failed,
    /// A simulated crash (tests): the staging folder stays, as after a crash.
    Crashed,
    /// Published.
    Finished,
}

/// Columns of `persons` and `records` the analyst aggregates read: the
/// person and the dimensions counted by, as the privacy crate declares them
/// (see [`aidlink_privacy::analyst_aggregates`], which takes each dimension
/// from `persons` when it has the column, else from `records`).
fn membership_columns() -> Vec<&'static str> {
    std::iter::once(AGGREGATE_PERSON_COLUMN)
        .chain(AGGREGATE_DIMENSIONS.iter().copied())
        .collect()
}

/// Cheap clones of what the analyst aggregates need, kept until `finish`:
/// the flags table, and only the [`membership_columns`] of `persons` and of
/// `records` (the latter only for dimensions `persons` lacks), so the rest of
/// each table is freed as soon as it is written.
#[derive(Default)]
struct AggregateInputs {
    flags: Option<RecordBatch>,
    persons: Option<RecordBatch>,
    records: Option<RecordBatch>,
}

impl AggregateInputs {
    /// Keeps what the aggregates read of table `name`.
    fn keep(&mut self, name: &str, batch: &RecordBatch) -> Result<(), PublishError> {
        match name {
            "flags" => self.flags = Some(batch.clone()),
            "persons" => {
                self.persons = Some(membership(name, batch, &membership_columns())?);
                // What persons has, records is no longer needed for.
                if let Some(records) = self.records.take() {
                    self.records = self.records_fallback(&records)?;
                }
            }
            "records" => self.records = self.records_fallback(batch)?,
            _ => {}
        }
        Ok(())
    }

    /// The columns of `records` the aggregates would take from it, given
    /// the persons table kept so far: `None` when persons covers them all.
    fn records_fallback(&self, records: &RecordBatch) -> Result<Option<RecordBatch>, PublishError> {
        let covers = |column: &str| {
            self.persons.as_ref().is_some_and(|p| {
                p.schema().index_of(column).is_ok()
                    && p.schema().index_of(AGGREGATE_PERSON_COLUMN).is_ok()
            })
        };
        let needed: Vec<&str> = membership_columns()
            .into_iter()
            .filter(|&c| c == AGGREGATE_PERSON_COLUMN || !covers(c))
            .collect();
        if needed.len() == 1 {
            return Ok(None);
        }
        membership("records", records, &needed).map(Some)
    }

    /// The tables to build the aggregates from, as `analyst_aggregates`
    /// takes them.
    fn into_tables(self) -> Vec<(String, RecordBatch)> {
        [
            ("flags", self.flags),
            ("persons", self.persons),
            ("records", self.records),
        ]
        .into_iter()
        .filter_map(|(name, batch)| batch.map(|b| (name.to_string(), b)))
        .collect()
    }
}

/// The columns of `batch` among `columns`, in the table's own order: a
/// projection shares the columns' buffers, it copies nothing.
fn membership(
    table: &str,
    batch: &RecordBatch,
    columns: &[&str],
) -> Result<RecordBatch, PublishError> {
    let schema = batch.schema();
    let indices: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| columns.contains(&schema.field(i).name().as_str()))
        .collect();
    batch
        .project(&indices)
        .map_err(|error| PublishError::Arrow {
            path: PathBuf::from(format!("{table}.parquet")),
            error,
        })
}

/// What one background job gave.
enum Outcome {
    /// Its files' steps and entries, and how long it took.
    Done(Vec<(String, OutputEntry)>, Duration),
    /// Its error.
    Failed(PublishError),
    /// The panic it raised, raised again in the caller (as a parallel
    /// iterator would).
    Panicked(Box<dyn Any + Send>),
}

/// The background jobs of a stage: how many still run, and what the
/// finished ones gave, by job number.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    running: usize,
    outcomes: BTreeMap<usize, Outcome>,
}

impl Queue {
    /// The state; a job never panics while holding the lock (its work runs
    /// outside it), so a poisoned lock still holds a consistent state.
    fn state(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until no job runs. On a thread of a rayon pool it runs other
    /// work of the pool meanwhile, so waiting on a pool's only thread cannot
    /// deadlock.
    fn wait(&self) {
        let mut state = self.state();
        while state.running > 0 {
            if rayon::current_thread_index().is_some() {
                drop(state);
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    let state = self.state();
                    if state.running > 0 {
                        let _ = self
                            .changed
                            .wait_timeout(state, Duration::from_millis(1))
                            .unwrap_or_else(PoisonError::into_inner);
                    }
                }
                state = self.state();
            } else {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

impl PeriodStage {
    /// Begins publishing `period` under `out_dir`: checks the key policy
    /// (`[privacy] require_key`), takes the folder's lock unless this
    /// process holds it already (the CLI takes it before it reads the
    /// previous period), which also repairs what a crashed run left, and
    /// makes the staging folder.
    pub fn begin(
        out_dir: &Path,
        period: Period,
        privacy: &PrivacySettings,
        key: Option<&PseudonymKey>,
    ) -> Result<PeriodStage, PublishError> {
        Self::begin_with_failpoint(out_dir, period, privacy, key, None)
    }

    pub(crate) fn begin_with_failpoint(
        out_dir: &Path,
        period: Period,
        privacy: &PrivacySettings,
        key: Option<&PseudonymKey>,
        fail: Option<FailPoint>,
    ) -> Result<PeriodStage, PublishError> {
        if key.is_none() && privacy.require_key {
            return Err(PublishError::NoKey);
        }
        let lock = if crate::lock::held_here(out_dir) {
            None
        } else {
            Some(crate::lock::lock(out_dir)?)
        };
        let staging = out_dir.join(format!("{STAGING_PREFIX}{period}-{}", std::process::id()));
        // From here on, dropping the stage removes the staging folder.
        let stage = PeriodStage {
            out_dir: out_dir.to_path_buf(),
            staging,
            period,
            min_cell_count: privacy.min_cell_count,
            key: key.map(|k| Arc::new(k.clone())),
            fail,
            taken: RESERVED.iter().map(|r| r.to_string()).collect(),
            tables: Vec::new(),
            files: Vec::new(),
            restricted_only: Vec::new(),
            dropped_by_default: Vec::new(),
            aggregate_inputs: AggregateInputs::default(),
            queue: Arc::default(),
            queued: 0,
            status: Status::Open,
            _lock: lock,
        };
        // A staging folder of this very process can only be left from an
        // earlier failed attempt; start clean.
        if stage.staging.exists() {
            std::fs::remove_dir_all(&stage.staging).map_err(crate::error::io(
                "cannot remove stale staging folder",
                &stage.staging,
            ))?;
        }
        make_dir(&stage.staging, SHARED_DIR_MODE)?;
        make_dir(&stage.staging.join(RESTRICTED), RESTRICTED_DIR_MODE)?;
        if stage.key.is_some() {
            make_dir(&stage.staging.join(ANALYST), SHARED_DIR_MODE)?;
        }
        Ok(stage)
    }

    /// Waits for the jobs queued so far (tests make a background failure
    /// certain to have happened before the next call).
    #[cfg(test)]
    pub(crate) fn wait_for_jobs(&self) {
        self.queue.wait();
    }

    /// The period being published.
    pub fn period(&self) -> Period {
        self.period
    }

    /// Takes a final table: queues its restricted file and, with a key and
    /// an analyst form in the privacy policy, its analyst view, on the rayon
    /// pool. The batch is freed once they are written; only the flags and
    /// the few columns of `persons` and `records` the analyst aggregates
    /// read are kept until [`PeriodStage::finish`].
    ///
    /// Fails on a name that is not allowed or taken already, or with the
    /// error of a background job that failed since the last call.
    pub fn table(&mut self, name: &str, batch: RecordBatch) -> Result<(), PublishError> {
        self.check_open()?;
        self.take_name(name, format!("{name}.parquet"))?;
        if self.key.is_some()
            && let Err(e) = self.aggregate_inputs.keep(name, &batch)
        {
            // The name is taken but the table will never be written: the
            // stage must not publish without it.
            self.status = Status::Failed;
            return Err(e);
        }
        self.tables.push(name.to_string());
        let analyst = match &self.key {
            Some(key) if policy::has_analyst_form(name) => Some(Arc::clone(key)),
            Some(_) => {
                self.restricted_only.push(name.to_string());
                None
            }
            None => None,
        };
        if analyst.is_some() {
            for column in policy::undecided_columns(name, &batch.schema()) {
                self.dropped_by_default.push(format!("{name}.{column}"));
            }
        }
        let (staging, period) = (self.staging.clone(), self.period);
        let table = name.to_string();
        let restricted = batch.clone();
        self.queue_job(move || {
            let entry = write_table(
                &staging,
                &table,
                &restricted,
                None,
                period,
                Tier::Restricted,
            )?;
            Ok(vec![(entry.path.clone(), entry)])
        });
        if let Some(key) = analyst {
            let (staging, table) = (self.staging.clone(), name.to_string());
            self.queue_job(move || {
                let entry =
                    write_table(&staging, &table, &batch, Some(&key), period, Tier::Analyst)?;
                Ok(vec![(entry.path.clone(), entry)])
            });
        }
        Ok(())
    }

    /// Writes a non-table file of the restricted tier (`model.json`) at
    /// once; it gets a link of the same name at the period root.
    pub fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), PublishError> {
        self.check_open()?;
        self.take_name(name, name.to_string())?;
        let rel = format!("{RESTRICTED}/{name}");
        let written = write_file(&self.staging.join(&rel), &bytes, RESTRICTED_FILE_MODE);
        if let Err(e) = written {
            self.status = Status::Failed;
            return Err(e);
        }
        self.files.push(OutputEntry {
            bytes: bytes.len() as u64,
            path: rel,
            rows: None,
            sha256: sha256_hex(&bytes),
            table: name.to_string(),
            tier: Tier::Restricted,
        });
        Ok(())
    }

    /// Waits for the background jobs, writes the analyst aggregates (with
    /// a key), the manifest and `run.json`, and swaps the period in. Fails
    /// when an input's rows do not add up, with the first failed job's
    /// error (in the order they were queued), or when publishing fails; the
    /// staging folder is then removed.
    pub fn finish(
        mut self,
        inputs: Vec<InputEntry>,
        config_sha256: String,
        tool_version: String,
    ) -> Result<PublishReport, PublishError> {
        let result = self.finish_inner(inputs, config_sha256, tool_version);
        self.status = match &result {
            Ok(_) => Status::Finished,
            Err(PublishError::SimulatedCrash(_)) => Status::Crashed,
            Err(_) => Status::Failed,
        };
        result
    }

    fn finish_inner(
        &mut self,
        inputs: Vec<InputEntry>,
        config_sha256: String,
        tool_version: String,
    ) -> Result<PublishReport, PublishError> {
        self.check_open()?;
        check_inputs(&inputs)?;
        if self.key.is_some() {
            let tables = std::mem::take(&mut self.aggregate_inputs).into_tables();
            let (staging, period, k) = (self.staging.clone(), self.period, self.min_cell_count);
            self.queue_job(move || {
                let aggregates =
                    analyst_aggregates(&tables, k).map_err(|source| PublishError::Privacy {
                        table: "aggregates".into(),
                        error: source,
                    })?;
                drop(tables);
                // Aggregates count persons; they are built from the real
                // person numbers and hold none, so they need no view.
                aggregates
                    .iter()
                    .map(|(name, batch)| {
                        let entry =
                            write_table(&staging, name, batch, None, period, Tier::Analyst)?;
                        Ok((format!("aggregates {}", entry.path), entry))
                    })
                    .collect()
            });
        }
        self.queue.wait();
        let outcomes = std::mem::take(&mut self.queue.state().outcomes);
        let mut outputs = Vec::new();
        let mut timings = Vec::new();
        for outcome in outcomes.into_values() {
            match outcome {
                Outcome::Done(entries, took) => {
                    for (step, entry) in entries {
                        timings.push((step, took));
                        outputs.push(entry);
                    }
                }
                Outcome::Failed(e) => return Err(e),
                Outcome::Panicked(payload) => std::panic::resume_unwind(payload),
            }
        }
        seal(Sealed {
            out_dir: &self.out_dir,
            staging: &self.staging,
            period: self.period,
            key_id: self.key.as_ref().map(|k| k.key_id().to_string()),
            min_cell_count: self.min_cell_count,
            tables: &self.tables,
            files: std::mem::take(&mut self.files),
            outputs,
            timings,
            restricted_only: std::mem::take(&mut self.restricted_only),
            dropped_by_default: std::mem::take(&mut self.dropped_by_default),
            inputs,
            config_sha256,
            tool_version,
            fail: self.fail,
        })
    }

    /// Refuses work once a step failed, and reports the first background
    /// job that failed since the last call.
    fn check_open(&mut self) -> Result<(), PublishError> {
        if self.status != Status::Open {
            return Err(PublishError::StageFailed {
                period: self.period.to_string(),
            });
        }
        let failed = {
            let mut state = self.queue.state();
            let first = state
                .outcomes
                .iter()
                .find(|(_, o)| !matches!(o, Outcome::Done(..)))
                .map(|(&n, _)| n);
            first.and_then(|n| state.outcomes.remove(&n))
        };
        match failed {
            None | Some(Outcome::Done(..)) => Ok(()),
            Some(Outcome::Failed(e)) => {
                self.status = match e {
                    PublishError::SimulatedCrash(_) => Status::Crashed,
                    _ => Status::Failed,
                };
                Err(e)
            }
            Some(Outcome::Panicked(payload)) => {
                self.status = Status::Failed;
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// Claims the file name `stem` at the period root for output `name`.
    fn take_name(&mut self, name: &str, stem: String) -> Result<(), PublishError> {
        if !valid_name(name) {
            return Err(PublishError::BadName {
                name: name.to_string(),
            });
        }
        if !self.taken.insert(stem) {
            return Err(PublishError::DuplicateName {
                name: name.to_string(),
            });
        }
        Ok(())
    }

    /// Runs `work` on the rayon pool as the next job; its outcome is kept
    /// under its number.
    fn queue_job<F>(&mut self, work: F)
    where
        F: FnOnce() -> Result<Vec<(String, OutputEntry)>, PublishError> + Send + 'static,
    {
        let number = self.queued;
        self.queued += 1;
        // A test stops after the first table's restricted file, as if the
        // process died with one table written and the others on their way.
        let crash = number == 0 && self.fail == Some(FailPoint::AfterFirstTable);
        let queue = Arc::clone(&self.queue);
        queue.state().running += 1;
        rayon::spawn(move || {
            let t = Instant::now();
            let outcome = match std::panic::catch_unwind(AssertUnwindSafe(work)) {
                Ok(Ok(_)) if crash => {
                    Outcome::Failed(PublishError::SimulatedCrash("after first table"))
                }
                Ok(Ok(entries)) => Outcome::Done(entries, t.elapsed()),
                Ok(Err(e)) => Outcome::Failed(e),
                Err(payload) => Outcome::Panicked(payload),
            };
            let mut state = queue.state();
            state.outcomes.insert(number, outcome);
            state.running -= 1;
            drop(state);
            queue.changed.notify_all();
        });
    }
}

impl Drop for PeriodStage {
    /// Waits for the jobs still running (they write into the staging
    /// folder), then removes the folder unless the period was published or
    /// a simulated crash must leave it as a crash would.
    fn drop(&mut self) {
        self.queue.wait();
        if matches!(self.status, Status::Open | Status::Failed) {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

impl std::fmt::Debug for PeriodStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeriodStage")
            .field("period", &self.period)
            .field("staging", &self.staging)
            .field("tables", &self.tables)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Checks that every input's rows add up.
fn check_inputs(inputs: &[InputEntry]) -> Result<(), PublishError> {
    for input in inputs {
        if input.rows_accepted + input.rows_rejected != input.rows_read {
            return Err(PublishError::RowAccounting {
                source_name: input.source.clone(),
                read: input.rows_read,
                accepted: input.rows_accepted,
                rejected: input.rows_rejected,
            });
        }
    }
    Ok(())
}
