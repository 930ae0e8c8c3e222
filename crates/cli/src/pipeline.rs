//! One period's run, stage after stage: ingest -> normalize -> match ->
//! registry -> flag -> delta -> publish.
//!
//! This is the only place that knows the order of the stages; each stage
//! crate knows only its own input and output tables.

use crate::exit::{Exit, ExitContext, Failure, fail};
use aidlink_config::Config;
use aidlink_vocab::{Period, Role, schema};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field as ArrowField, Schema};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tracing::info;

/// What `aidlink run` was asked to do.
pub struct RunOptions {
    /// The config file.
    pub config: PathBuf,
    /// The period to run.
    pub period: Period,
    /// The output folder.
    pub out: PathBuf,
    /// A trained model to reuse instead of training.
    pub model: Option<PathBuf>,
    /// How long to wait for another run's lock on the output folder.
    pub wait: std::time::Duration,
    /// Compare every candidate pair again instead of reusing the previous
    /// period's match state (the same persons either way).
    pub full: bool,
    /// Train a new model on this period instead of keeping the previous
    /// period's (implies a full match).
    pub retrain: bool,
}

/// How the match stage ran, for the summary.
pub struct MatchSummary {
    /// Where the model came from: `trained on this period`, `kept from YYYY-MM`,
    /// or the file given with `--model`.
    pub model: String,
    /// `full` or `incremental`.
    pub mode: &'static str,
    /// Why an incremental run compared everything, if it did.
    pub fallback: Option<String>,
    /// Records new or changed since the previous period's state.
    pub records_changed: u64,
    /// Candidate pairs whose comparisons were reused.
    pub pairs_reused: u64,
    /// Candidate pairs compared now.
    pub pairs_compared: u64,
}

/// Per-source counts, for the summary and the manifest.
pub struct SourceSummary {
    /// Config name.
    pub name: String,
    /// Detected encoding.
    pub encoding: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows accepted into the record table.
    pub rows_accepted: u64,
    /// Rows kept in the rejects table.
    pub rows_rejected: u64,
}

/// What a run did, for people and for the exit code.
pub struct RunSummary {
    /// The period run.
    pub period: Period,
    /// Per source.
    pub sources: Vec<SourceSummary>,
    /// How matching ran.
    pub matching: MatchSummary,
    /// Resolved persons.
    pub persons: usize,
    /// Flags by kind.
    pub flags: BTreeMap<String, usize>,
    /// Delta rows by change type.
    pub changes: BTreeMap<String, usize>,
    /// The published period folder.
    pub period_dir: PathBuf,
    /// Whether the analyst tier was written.
    pub analyst_tier: bool,
    /// Why the analyst tier was not written.
    pub analyst_skipped_because: Option<String>,
    /// `table.column`s the privacy policy does not name, dropped from the analyst tier.
    pub dropped_by_default: Vec<String>,
    /// Share of input rows rejected, over all sources.
    pub reject_share: f64,
    /// The configured limit on that share.
    pub max_reject_share: f64,
    /// Seconds the run took.
    pub seconds: f64,
}

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PublishSettings {
    max_reject_share: f64,
}

impl Default for PublishSettings {
    fn default() -> Self {
        PublishSettings {
            max_reject_share: 0.05,
        }
    }
}

/// Runs one period end to end and publishes it.
pub fn run(opts: &RunOptions) -> Result<RunSummary, Failure> {
    let started = Instant::now();
    let config = Config::load(&opts.config).exit(Exit::Usage)?;
    let publish_settings: PublishSettings = config.section("publish").exit(Exit::Usage)?;
    let mut match_settings: aidlink_match::MatchSettings =
        config.section("matching").exit(Exit::Usage)?;
    // Extra fields declared in [fields] are compared by their declared kind
    // unless [matching.fields] says otherwise.
    for spec in &config.extra_fields {
        match_settings
            .fields
            .entry(spec.name.clone())
            .or_insert(spec.kind);
    }
    let rules = aidlink_flag::FlagRules::from_config(&config).exit(Exit::Usage)?;
    let privacy: aidlink_privacy::PrivacySettings = config.section("privacy").exit(Exit::Usage)?;
    let config_dir = opts.config.parent().unwrap_or(Path::new("."));
    let key = aidlink_privacy::load_key(&privacy, config_dir).exit(Exit::Usage)?;
    let given_model = match &opts.model {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                fail(
                    Exit::Usage,
                    format!("cannot read model {}: {e}", path.display()),
                )
            })?;
            Some(
                serde_json::from_str::<aidlink_match::Model>(&text).map_err(|e| {
                    fail(
                        Exit::Usage,
                        format!("model {} is not a saved aidlink model: {e}", path.display()),
                    )
                })?,
            )
        }
        None => None,
    };

    std::fs::create_dir_all(&opts.out).map_err(|e| {
        fail(
            Exit::Output,
            format!("cannot create output folder {}: {e}", opts.out.display()),
        )
    })?;
    let _lock = aidlink_publish::lock_with_timeout(&opts.out, opts.wait).exit(Exit::Output)?;

    // Ingest and normalize every source: the files are read side by side
    // (each one's serial steps leave a core to the others), and normalized
    // into one record table written column by column.
    let t = Instant::now();
    let names: Vec<&str> = config.sources.keys().map(String::as_str).collect();
    let ingested = aidlink_ingest::read_sources(&config, &names, opts.period).exit(Exit::Input)?;
    let raws: Vec<(&str, &RecordBatch)> = names
        .iter()
        .zip(&ingested)
        .map(|(name, i)| (*name, &i.raw))
        .collect();
    let normalized = aidlink_normalize::normalize_sources(&config, &raws).exit(Exit::Internal)?;
    drop(raws);
    let mut sources = Vec::new();
    let mut reject_parts = Vec::new();
    let mut inputs = Vec::new();
    let mut roles: BTreeMap<String, Vec<Role>> = BTreeMap::new();
    for ((ingested, normalized), (name, source)) in ingested
        .into_iter()
        .zip(normalized.sources)
        .zip(&config.sources)
    {
        let stats = &ingested.stats;
        let rows_rejected = stats.rows_rejected + normalized.rejects.num_rows() as u64;
        let rows_accepted = normalized.rows_accepted;
        if rows_accepted + rows_rejected != stats.rows_read {
            return Err(fail(
                Exit::Internal,
                format!(
                    "row accounting broke for source {name}: read {}, accepted {rows_accepted}, rejected {rows_rejected}",
                    stats.rows_read
                ),
            ));
        }
        info!(
            source = name.as_str(),
            rows = stats.rows_read,
            rejected = rows_rejected,
            encoding = stats.encoding.as_str(),
            "source read"
        );
        inputs.push(aidlink_publish::InputEntry {
            source: name.clone(),
            path: stats.path.display().to_string(),
            sha256: stats.sha256.clone(),
            bytes: stats.bytes,
            rows_read: stats.rows_read,
            rows_accepted,
            rows_rejected,
        });
        sources.push(SourceSummary {
            name: name.clone(),
            encoding: stats.encoding.clone(),
            rows_read: stats.rows_read,
            rows_accepted,
            rows_rejected,
        });
        roles.insert(name.clone(), source.roles.clone());
        reject_parts.push(ingested.rejects);
        reject_parts.push(normalized.rejects);
    }
    let records = normalized.records;
    info!(
        ms = t.elapsed().as_millis() as u64,
        rows = records.num_rows(),
        "sources read and normalized"
    );
    let rejects = arrow_select::concat::concat_batches(&schema::rejects_schema(), &reject_parts)
        .exit(Exit::Internal)?;
    drop(reject_parts);

    // Publishing is staged: each table is handed over as soon as it is
    // final, encoded in the background while the next stages compute, and
    // freed once written; `finish` swaps the whole period in at once.
    let mut stage =
        aidlink_publish::PeriodStage::begin(&opts.out, opts.period, &privacy, key.as_ref())
            .exit(Exit::Output)?;
    stage.table("rejects", rejects).exit(Exit::Output)?;

    // Match records into persons: with the previous period's model and
    // match state when there is one, so only what changed is compared.
    let t = Instant::now();
    let previous =
        aidlink_publish::latest_period_before(&opts.out, opts.period).exit(Exit::Output)?;
    let (model, model_source) = choose_model(opts, previous, given_model)?;
    let state = match (previous, &model) {
        (Some(p), Some(_)) if !opts.full && !opts.retrain => {
            aidlink_publish::load_table(&opts.out, p, MATCH_STATE).exit(Exit::Output)?
        }
        _ => None,
    };
    let linkage = match (&model, &state) {
        (Some(m), Some(s)) => aidlink_match::link_incremental(&records, &match_settings, m, s),
        _ => aidlink_match::link(&records, &match_settings, model.as_ref()),
    }
    .exit(Exit::Internal)?;
    drop(state);
    for (step, took) in &linkage.timings {
        tracing::debug!(step = *step, ms = took.as_millis() as u64, "match step");
    }
    let reuse = &linkage.reuse;
    let incremental = reuse.incremental && reuse.fallback.is_none();
    if let Some(why) = &reuse.fallback {
        tracing::warn!(
            reason = why.as_str(),
            "incremental matching compared every pair"
        );
    }
    info!(
        ms = t.elapsed().as_millis() as u64,
        pairs = linkage.stats.pairs_scored,
        linked = linkage.stats.pairs_linked,
        clusters = linkage.stats.clusters,
        incremental,
        pairs_reused = reuse.pairs_reused,
        pairs_compared = reuse.pairs_compared,
        records_changed = reuse.records_changed,
        "matched"
    );
    let model_json = serde_json::to_vec_pretty(&linkage.model).exit(Exit::Internal)?;
    stage.file("model.json", model_json).exit(Exit::Output)?;
    stage.table("links", linkage.links).exit(Exit::Output)?;
    stage.table(MATCH_STATE, linkage.state).exit(Exit::Output)?;
    let matching = MatchSummary {
        model: model_source,
        mode: if incremental { "incremental" } else { "full" },
        fallback: reuse.fallback.clone(),
        records_changed: reuse.records_changed,
        pairs_reused: reuse.pairs_reused,
        pairs_compared: reuse.pairs_compared,
    };

    // Give persons their stable numbers, inherited from the previous period.
    let prev_registry = match previous {
        Some(p) => aidlink_publish::load_table(&opts.out, p, "registry")
            .exit(Exit::Output)?
            .map(|b| aidlink_registry::Registry::from_batch(&b))
            .transpose()
            .exit(Exit::Internal)?,
        None => None,
    };
    let t = Instant::now();
    // Record keys and person IDs stay Arrow string arrays from here to the
    // published records: no String per record.
    let keys = aidlink_registry::record_key_array(&records);
    let assignment =
        aidlink_registry::assign_array(prev_registry.as_ref(), &keys, &linkage.cluster);
    drop(linkage.cluster);
    info!(ms = t.elapsed().as_millis() as u64, "person ids assigned");
    stage
        .table("registry", assignment.registry.to_batch())
        .exit(Exit::Output)?;
    // The records are final once their persons are known: hand them over
    // now, so the largest file is encoded while the flags are computed (the
    // published table shares its columns with `records`, which the flag
    // stage still reads).
    let records_out = with_person_id(&records, &assignment.person_ids).exit(Exit::Internal)?;
    stage.table("records", records_out).exit(Exit::Output)?;

    // Flag persons.
    let t = Instant::now();
    let flagged = aidlink_flag::evaluate_array(
        &records,
        &assignment.person_ids,
        &roles,
        &rules,
        opts.period,
    )
    .exit(Exit::Internal)?;

    info!(ms = t.elapsed().as_millis() as u64, "flags evaluated");
    // Changes since the previous period.
    let t = Instant::now();
    let load_prev = |table: &str| -> Result<Option<RecordBatch>, Failure> {
        match previous {
            Some(p) => aidlink_publish::load_table(&opts.out, p, table).exit(Exit::Output),
            None => Ok(None),
        }
    };
    let prev_persons = load_prev("persons")?;
    let prev_flags = load_prev("flags")?;
    // A flag keeps the period it was first raised in, and carries a digest of
    // its evidence that is stable when source rows are renumbered.
    let flags = aidlink_flag::stabilize_array(&flagged.flags, prev_flags.as_ref(), &records, &keys)
        .exit(Exit::Internal)?;
    drop((keys, records, assignment.person_ids));
    // Hand over the persons and flags too, which the delta below only reads.
    let mut flags_by_kind = BTreeMap::new();
    count_strings(&flags, "flag", &mut flags_by_kind);
    let persons = flagged.persons.num_rows();
    stage
        .table("persons", flagged.persons.clone())
        .exit(Exit::Output)?;
    stage.table("flags", flags.clone()).exit(Exit::Output)?;
    // The diff alone is dropped as soon as the events are added to it, so
    // `combine_owned` below can extend its buffers instead of copying them.
    let delta = if previous.is_none() {
        // A first period: every person, flag and link is an insert, written
        // straight into one table.
        let delta = aidlink_delta::first_period_delta(
            &flagged.persons,
            &assignment.events,
            &flags,
            &assignment.registry,
            previous,
            opts.period,
        )
        .exit(Exit::Internal)?;
        drop((flagged, flags, assignment.registry));
        stage
            .table("person_events", assignment.events)
            .exit(Exit::Output)?;
        delta
    } else {
        let person_delta = {
            let changes = aidlink_delta::diff(
                "person",
                &["person_id"],
                prev_persons.as_ref(),
                &flagged.persons,
                previous,
                opts.period,
            )
            .exit(Exit::Internal)?;
            aidlink_delta::with_events(&changes, &assignment.events, previous, opts.period)
                .exit(Exit::Internal)?
        };
        drop((prev_persons, flagged));
        stage
            .table("person_events", assignment.events)
            .exit(Exit::Output)?;
        let flag_delta = aidlink_delta::diff(
            "flag",
            &["person_id", "flag"],
            prev_flags.as_ref(),
            &flags,
            previous,
            opts.period,
        )
        .exit(Exit::Internal)?;
        drop((prev_flags, flags));
        let link_delta = aidlink_delta::link_delta(
            prev_registry.as_ref(),
            &assignment.registry,
            previous,
            opts.period,
        )
        .exit(Exit::Internal)?;
        drop((prev_registry, assignment.registry));
        aidlink_delta::combine_owned(vec![person_delta, flag_delta, link_delta])
            .exit(Exit::Internal)?
    };

    info!(ms = t.elapsed().as_millis() as u64, "changes computed");
    let mut changes = BTreeMap::new();
    count_strings(&delta, "change_type", &mut changes);
    stage.table("delta", delta).exit(Exit::Output)?;

    // What remains of publishing: wait for the tables still being written,
    // then the aggregates, the manifest and the swap.
    let t = Instant::now();
    let report = stage
        .finish(
            inputs,
            sha256_hex(config.text.as_bytes()),
            env!("CARGO_PKG_VERSION").to_string(),
        )
        .exit(Exit::Output)?;
    for (step, took) in &report.timings {
        tracing::debug!(
            step = step.as_str(),
            ms = took.as_millis() as u64,
            "publish step"
        );
    }
    info!(
        ms = t.elapsed().as_millis() as u64,
        analyst_tier = report.analyst_tier,
        "published"
    );

    let read: u64 = sources.iter().map(|s| s.rows_read).sum();
    let rejected: u64 = sources.iter().map(|s| s.rows_rejected).sum();
    Ok(RunSummary {
        period: opts.period,
        sources,
        matching,
        persons,
        flags: flags_by_kind,
        changes,
        period_dir: report.period_dir.clone(),
        analyst_tier: report.analyst_tier,
        analyst_skipped_because: report.analyst_skipped_because.clone(),
        dropped_by_default: report.dropped_by_default.clone(),
        reject_share: if read == 0 {
            0.0
        } else {
            rejected as f64 / read as f64
        },
        max_reject_share: publish_settings.max_reject_share,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The restricted table that carries the match stage's state to the next period.
const MATCH_STATE: &str = "match_state";

/// The model this run links with, and where it came from: a file given with
/// `--model`; the previous period's, so weights (and persons) stay stable
/// from month to month; or none, to train one on this period (the first
/// period, `--retrain`, or a previous period without a model).
fn choose_model(
    opts: &RunOptions,
    previous: Option<Period>,
    given: Option<aidlink_match::Model>,
) -> Result<(Option<aidlink_match::Model>, String), Failure> {
    if let Some(m) = given {
        let from = opts.model.as_deref().unwrap_or(Path::new("?"));
        return Ok((Some(m), from.display().to_string()));
    }
    let trained = || (None, "trained on this period".to_string());
    let Some(p) = previous.filter(|_| !opts.retrain) else {
        return Ok(trained());
    };
    let Some(bytes) = aidlink_publish::load_file(&opts.out, p, "model.json").exit(Exit::Output)?
    else {
        return Ok(trained());
    };
    match serde_json::from_slice::<aidlink_match::Model>(&bytes) {
        Ok(m) if m.format == aidlink_match::MODEL_FORMAT => Ok((Some(m), format!("kept from {p}"))),
        // A model saved by an older aidlink is not an error: train afresh.
        Ok(m) => {
            tracing::warn!(
                period = %p,
                format = m.format,
                "previous model has another format; training a new one"
            );
            Ok(trained())
        }
        Err(e) => Err(fail(
            Exit::Output,
            format!(
                "model.json of {p} in {} is unreadable: {e}",
                opts.out.display()
            ),
        )),
    }
}

/// Appends the `person_id` column to the record table.
fn with_person_id(
    records: &RecordBatch,
    person_ids: &StringArray,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let mut fields: Vec<ArrowField> = records
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns: Vec<ArrayRef> = records.columns().to_vec();
    // Place person_id right after source and source_row, where analysts look first.
    fields.insert(2, ArrowField::new("person_id", DataType::Utf8, false));
    columns.insert(2, Arc::new(person_ids.clone()));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Counts the values of a string column into `counts`.
fn count_strings(batch: &RecordBatch, column: &str, counts: &mut BTreeMap<String, usize>) {
    let Some(col) = batch.column_by_name(column) else {
        return;
    };
    let Some(strings) = col.as_any().downcast_ref::<StringArray>() else {
        return;
    };
    // Count borrowed values first: the delta has millions of rows and a
    // handful of distinct values.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for v in strings.iter().flatten() {
        *seen.entry(v).or_default() += 1;
    }
    for (k, n) in seen {
        *counts.entry(k.to_string()).or_default() += n;
    }
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
