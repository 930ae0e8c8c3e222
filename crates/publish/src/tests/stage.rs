//! Tests of the staged publishing API: the same period whatever the order
//! of the tables, background failures reported, nothing left behind by a
//! stage that fails or is dropped, and no deadlock on a one-thread pool.

use super::{flags, key, output, p, settings, snapshot};
use crate::layout::STAGING_PREFIX;
use crate::*;
use aidlink_privacy::PrivacySettings;
use aidlink_vocab::{CivilDate, ResidentId};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use std::path::Path;
use std::sync::Arc;

/// A persons table with a school but no county, so the aggregates take
/// the county from `records` and the school from here.
fn persons() -> RecordBatch {
    let ids: Vec<String> = (1..=7).map(aidlink_vocab::person_id).collect();
    let schools: Vec<&str> = (0..7)
        .map(|i| {
            if i % 3 == 0 {
                "第三小学"
            } else {
                "第一小学"
            }
        })
        .collect();
    RecordBatch::try_from_iter([
        ("person_id", Arc::new(StringArray::from(ids)) as ArrayRef),
        ("school", Arc::new(StringArray::from(schools)) as ArrayRef),
    ])
    .unwrap()
}

/// The test period with a persons table too.
fn full_output() -> PeriodOutput {
    let mut o = output("2026-11", false);
    o.tables.insert(1, ("persons".into(), persons()));
    o
}

/// Names of staging folders left in `out`.
fn staging_folders(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(STAGING_PREFIX))
        .collect()
}

/// Hands `o`'s tables and files to a stage in the order given by `order`
/// (indices into the tables), the files first.
fn publish_staged(
    out: &Path,
    o: &PeriodOutput,
    order: &[usize],
    k: &aidlink_privacy::PseudonymKey,
) -> PublishReport {
    let mut stage = PeriodStage::begin(out, o.period, &settings(), Some(k)).unwrap();
    for (name, bytes) in &o.files {
        stage.file(name, bytes.clone()).unwrap();
    }
    for &i in order {
        let (name, batch) = &o.tables[i];
        stage.table(name, batch.clone()).unwrap();
    }
    stage
        .finish(
            o.inputs.clone(),
            o.config_sha256.clone(),
            o.tool_version.clone(),
        )
        .unwrap()
}

#[test]
fn a_stage_fed_in_another_order_publishes_the_same_bytes_as_publish() {
    let o = full_output();
    let k = key("a");
    let whole = tempfile::tempdir().unwrap();
    let by_publish = publish(whole.path(), &o, &settings(), Some(&k)).unwrap();
    let reference = snapshot(whole.path());
    // The aggregates took the county from records and the school from
    // persons: both are in the period, so the comparison covers them.
    // The aggregates are those of the whole tables, although the stage
    // kept only a few columns of persons and records for them.
    let expected =
        aidlink_privacy::analyst_aggregates(&o.tables, settings().min_cell_count).unwrap();
    assert_eq!(expected.len(), 3);
    for (name, batch) in expected {
        let path = by_publish
            .period_dir
            .join(format!("analyst/{name}.parquet"));
        assert_eq!(crate::parquet_io::read(&path).unwrap(), batch, "{name}");
    }

    let n = o.tables.len();
    let reversed: Vec<usize> = (0..n).rev().collect();
    // Records before persons and persons before records both keep what
    // the aggregates need.
    let records_last: Vec<usize> = (1..n).chain([0]).collect();
    for order in [reversed, records_last] {
        let staged = tempfile::tempdir().unwrap();
        let report = publish_staged(staged.path(), &o, &order, &k);
        assert_eq!(
            snapshot(staged.path()),
            reference,
            "order {order:?}: files differ"
        );
        assert_eq!(report.manifest_sha256, by_publish.manifest_sha256);
        assert_eq!(report.outputs, by_publish.outputs);
        assert!(staging_folders(staged.path()).is_empty());
    }
}

#[test]
fn a_stage_on_a_one_thread_pool_finishes_with_the_same_bytes() {
    let o = full_output();
    let k = key("a");
    let many = tempfile::tempdir().unwrap();
    publish(many.path(), &o, &settings(), Some(&k)).unwrap();
    // The caller runs on the pool's only thread, which must run the queued
    // jobs itself while it waits.
    let one = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let order: Vec<usize> = (0..o.tables.len()).collect();
    pool.install(|| publish_staged(one.path(), &o, &order, &k));
    assert_eq!(snapshot(one.path()), snapshot(many.path()));
}

/// A persons table whose free text holds an ID number: its analyst view
/// fails the leak scan, in the background.
fn leaking_persons() -> RecordBatch {
    let id = ResidentId::from_parts("110105", CivilDate::new(2012, 3, 5).unwrap(), 123).unwrap();
    let mut columns = persons().columns().to_vec();
    let notes: Vec<String> = (0..7)
        .map(|i| format!("note {i} {}", id.as_str()))
        .collect();
    columns.push(Arc::new(StringArray::from(notes)));
    let mut fields: Vec<_> = persons().schema().fields().iter().cloned().collect();
    fields.push(Arc::new(arrow_schema::Field::new(
        "rule",
        arrow_schema::DataType::Utf8,
        false,
    )));
    RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap()
}

#[test]
fn a_background_failure_is_reported_by_the_next_call_and_nothing_is_published() {
    let out = tempfile::tempdir().unwrap();
    let k = key("a");
    let mut stage = PeriodStage::begin(out.path(), p("2026-11"), &settings(), Some(&k)).unwrap();
    let leaking = leaking_persons();
    let id = leaking
        .column_by_name("rule")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .map(|c| c.value(0).rsplit(' ').next().unwrap().to_string())
        .unwrap();
    stage.table("persons", leaking).unwrap();
    stage.wait_for_jobs();
    let err = stage.table("flags", flags()).unwrap_err();
    assert!(
        matches!(&err, PublishError::Privacy { table, .. } if table == "persons"),
        "{err}"
    );
    // The message names the value masked, never whole.
    assert!(!err.to_string().contains(&id), "{err}");
    // The stage takes no more work, and finishing it publishes nothing.
    let again = stage.file("model.json", b"{}".to_vec()).unwrap_err();
    assert!(matches!(again, PublishError::StageFailed { .. }), "{again}");
    let last = stage
        .finish(Vec::new(), String::new(), "0.1.0".into())
        .unwrap_err();
    assert!(matches!(last, PublishError::StageFailed { .. }), "{last}");
    assert!(staging_folders(out.path()).is_empty());
    assert!(!period_dir(out.path(), p("2026-11")).exists());
}

#[test]
fn a_background_failure_is_reported_by_finish() {
    let out = tempfile::tempdir().unwrap();
    let k = key("a");
    let mut stage = PeriodStage::begin(out.path(), p("2026-11"), &settings(), Some(&k)).unwrap();
    stage.table("flags", flags()).unwrap();
    // Whether or not its job has run yet, finish is the next call.
    stage.table("persons", leaking_persons()).unwrap();
    let err = stage
        .finish(Vec::new(), String::new(), "0.1.0".into())
        .unwrap_err();
    assert!(matches!(err, PublishError::Privacy { .. }), "{err}");
    assert!(staging_folders(out.path()).is_empty());
    assert!(!period_dir(out.path(), p("2026-11")).exists());
}

#[test]
fn a_dropped_stage_leaves_no_staging_folder_and_the_previous_period_whole() {
    let out = tempfile::tempdir().unwrap();
    let k = key("a");
    publish(out.path(), &output("2026-11", false), &settings(), Some(&k)).unwrap();
    let before = snapshot(out.path());
    {
        let o = output("2026-11", true);
        let mut stage = PeriodStage::begin(out.path(), o.period, &settings(), Some(&k)).unwrap();
        for (name, batch) in &o.tables {
            stage.table(name, batch.clone()).unwrap();
        }
        assert_eq!(staging_folders(out.path()).len(), 1);
        // The pipeline fails here; the stage goes out of scope.
    }
    assert!(staging_folders(out.path()).is_empty());
    assert_eq!(snapshot(out.path()), before);
    // The lock the stage took is released: the next run gets it.
    drop(lock(out.path()).unwrap());
}

#[test]
fn names_and_the_key_policy_are_checked_by_the_call_that_sees_them() {
    let out = tempfile::tempdir().unwrap();
    let strict = PrivacySettings {
        require_key: true,
        ..settings()
    };
    let err = PeriodStage::begin(out.path(), p("2026-11"), &strict, None).unwrap_err();
    assert!(matches!(err, PublishError::NoKey), "{err}");
    assert!(staging_folders(out.path()).is_empty());

    let o = output("2026-11", false);
    let mut stage = PeriodStage::begin(out.path(), o.period, &settings(), None).unwrap();
    stage.table("flags", flags()).unwrap();
    let err = stage.table("flags", flags()).unwrap_err();
    assert!(matches!(err, PublishError::DuplicateName { .. }), "{err}");
    let err = stage.table("../escape", flags()).unwrap_err();
    assert!(matches!(err, PublishError::BadName { .. }), "{err}");
    let err = stage.table("flags_by_county", flags()).unwrap_err();
    assert!(matches!(err, PublishError::DuplicateName { .. }), "{err}");
    let err = stage.file("flags.parquet", b"x".to_vec()).unwrap_err();
    assert!(matches!(err, PublishError::DuplicateName { .. }), "{err}");
    // A refused name refuses only itself: the stage still publishes.
    let mut inputs = o.inputs.clone();
    inputs[0].rows_read += 5;
    let mut stage_inputs = inputs.clone();
    stage_inputs[0].rows_read -= 5;
    let err = {
        let mut other = PeriodStage::begin(out.path(), p("2026-12"), &settings(), None).unwrap();
        other.table("flags", flags()).unwrap();
        other
            .finish(inputs, o.config_sha256.clone(), o.tool_version.clone())
            .unwrap_err()
    };
    assert!(matches!(err, PublishError::RowAccounting { .. }), "{err}");
    let report = stage
        .finish(
            stage_inputs,
            o.config_sha256.clone(),
            o.tool_version.clone(),
        )
        .unwrap();
    assert!(report.period_dir.join("restricted/flags.parquet").is_file());
    assert!(!period_dir(out.path(), p("2026-12")).exists());
    assert!(staging_folders(out.path()).is_empty());
}
