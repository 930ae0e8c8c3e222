//! Tests of publishing: layout, tiers, permissions, determinism, atomicity
//! under simulated crashes, verification and the analyst-tier leak scan.

use crate::layout::{MANIFEST, OLD_PREFIX, RUN, STAGING_PREFIX};
use crate::write::{FailPoint, publish_with_failpoint};
use crate::*;
use aidlink_privacy::{PrivacySettings, PseudonymKey};
use aidlink_vocab::schema::{record_schema, rejects_schema};
use aidlink_vocab::{CivilDate, Period, ResidentId};
use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, Date32Array, RecordBatch, StringArray, UInt64Array, new_null_array};
use arrow_schema::{DataType, Field, Schema};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

mod stage;

fn key(seed: &str) -> PseudonymKey {
    PseudonymKey::from_bytes(
        format!("{seed}-0123456789abcdef0123456789abcdef").as_bytes(),
        "test",
    )
    .unwrap()
}

fn p(text: &str) -> Period {
    Period::parse(text).unwrap()
}

/// A synthetic child: ID, name, phone.
struct Child {
    id: String,
    name: &'static str,
    phone: &'static str,
}

fn children() -> Vec<Child> {
    let names = [
        "欧阳娜娜",
        "张伟",
        "阿依古丽·买买提",
        "刘洋",
        "曾小明",
        "单丽",
        "区志强",
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, name)| Child {
            id: ResidentId::from_parts(
                "440106",
                CivilDate::new(2012, 3, 1 + i as u32).unwrap(),
                101 + i as u32,
            )
            .unwrap()
            .as_str()
            .to_string(),
            name,
            phone: [
                "13800138000",
                "13912345678",
                "15011112222",
                "18633334444",
                "13755556666",
                "13677778888",
                "15899990000",
            ][i],
        })
        .collect()
}

/// A records table in the record schema plus `person_id`, one enrollment row
/// per child; `extra_row` adds one more row, to make the inputs change.
fn records(extra_row: bool) -> RecordBatch {
    let kids = children();
    let n = kids.len() + usize::from(extra_row);
    let schema = record_schema(&[]);
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.insert(2, Field::new("person_id", DataType::Utf8, false));
    let mut given: BTreeMap<&str, ArrayRef> = BTreeMap::new();
    let text = |f: &dyn Fn(usize) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values((0..n).map(f)))
    };
    let kid = |i: usize| &kids[i % kids.len()];
    given.insert("source", text(&|_| "enrollment".into()));
    given.insert(
        "source_row",
        Arc::new(UInt64Array::from_iter_values(1..=n as u64)),
    );
    given.insert(
        "person_id",
        text(&|i| aidlink_vocab::person_id(1 + (i % kids.len()) as u64)),
    );
    given.insert("id_number", text(&|i| kid(i).id.clone()));
    given.insert("name", text(&|i| kid(i).name.to_string()));
    given.insert("phone", text(&|i| kid(i).phone.to_string()));
    given.insert(
        "address",
        text(&|i| format!("广东省广州市天河区幸福路{}号", i + 1)),
    );
    given.insert(
        "school",
        text(&|i| {
            if i % 2 == 0 {
                "第一小学".into()
            } else {
                "第二小学".into()
            }
        }),
    );
    given.insert("student_no", text(&|i| format!("G{}", kid(i).id)));
    given.insert("certificate_no", text(&|i| format!("{}21", kid(i).id)));
    given.insert(
        "birth_date",
        Arc::new(Date32Array::from_iter_values((0..n).map(|i| {
            CivilDate::new(2012, 3, 1 + (i % 7) as u32)
                .unwrap()
                .to_days()
        }))),
    );
    let columns = fields
        .iter()
        .map(|f| {
            given
                .get(f.name().as_str())
                .cloned()
                .unwrap_or_else(|| new_null_array(f.data_type(), n))
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

fn flags() -> RecordBatch {
    let persons: Vec<String> = (1..=7).map(aidlink_vocab::person_id).collect();
    RecordBatch::try_from_iter([
        (
            "person_id",
            Arc::new(StringArray::from(persons)) as ArrayRef,
        ),
        (
            "flag",
            Arc::new(StringArray::from(vec!["eligible_unaided"; 7])) as ArrayRef,
        ),
        (
            "rule",
            Arc::new(StringArray::from(vec!["enrolled and eligible, no aid"; 7])) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn rejects() -> RecordBatch {
    let kids = children();
    let raw = format!("{},{},{}", kids[0].name, kids[0].id, kids[0].phone);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["enrollment"])),
        Arc::new(UInt64Array::from(vec![9])),
        Arc::new(StringArray::from(vec![raw])),
        Arc::new(StringArray::from(vec!["bad_date"])),
        Arc::new(StringArray::from(vec![format!(
            "出生日期 `2012-13-01` of {} is not a date",
            kids[0].id
        )])),
        Arc::new(StringArray::from(vec![Some("birth_date")])),
    ];
    RecordBatch::try_new(rejects_schema(), cols).unwrap()
}

fn registry() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("record_key", DataType::Utf8, false),
        Field::new("person_id", DataType::Utf8, false),
    ])
    .with_metadata(std::collections::HashMap::from([(
        "aidlink.next_person_number".to_string(),
        "8".to_string(),
    )]));
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["enrollment:1"])),
            Arc::new(StringArray::from(vec!["P00000001"])),
        ],
    )
    .unwrap()
}

fn output(period: &str, extra_row: bool) -> PeriodOutput {
    let records = records(extra_row);
    let rows = records.num_rows() as u64;
    PeriodOutput {
        period: p(period),
        tables: vec![
            ("records".into(), records),
            ("flags".into(), flags()),
            ("rejects".into(), rejects()),
            ("registry".into(), registry()),
        ],
        files: vec![("model.json".into(), b"{\"m\": 0.9}\n".to_vec())],
        inputs: vec![InputEntry {
            bytes: 1234,
            path: format!("extracts/{period}/enrollment.csv"),
            rows_accepted: rows,
            rows_read: rows + 1,
            rows_rejected: 1,
            sha256: "ab".repeat(32),
            source: "enrollment".into(),
        }],
        config_sha256: "cd".repeat(32),
        tool_version: "0.1.0".into(),
    }
}

fn settings() -> PrivacySettings {
    PrivacySettings::default()
}

/// Every file under `dir` (recursively, links not followed) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.is_symlink() {
                out.insert(
                    rel,
                    std::fs::read_link(e.path())
                        .unwrap()
                        .display()
                        .to_string()
                        .into_bytes(),
                );
            } else if !rel.ends_with(RUN) && rel != LOCK_FILE {
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn publishes_both_tiers_with_links_manifest_and_permissions() {
    let out = tempfile::tempdir().unwrap();
    let report = publish(
        out.path(),
        &output("2026-11", false),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    let dir = period_dir(out.path(), p("2026-11"));
    assert_eq!(report.period_dir, dir);
    assert!(report.analyst_tier);
    assert_eq!(report.restricted_only, vec!["registry".to_string()]);
    assert!(
        report.dropped_by_default.is_empty(),
        "{:?}",
        report.dropped_by_default
    );
    for f in ["records", "flags", "rejects", "registry"] {
        assert!(dir.join(format!("restricted/{f}.parquet")).is_file(), "{f}");
        // The first release's paths still work, through links.
        assert!(dir.join(format!("{f}.parquet")).is_file(), "{f}");
    }
    assert!(dir.join("model.json").is_file());
    for f in [
        "records",
        "flags",
        "rejects",
        "flags_by_kind",
        "flags_by_school",
    ] {
        assert!(dir.join(format!("analyst/{f}.parquet")).is_file(), "{f}");
    }
    assert!(!dir.join("analyst/registry.parquet").exists());
    assert!(registry_path(out.path(), p("2026-11")).is_file());
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.join("restricted")), 0o700);
        assert_eq!(mode(&dir.join("restricted/records.parquet")), 0o600);
        assert_eq!(mode(&dir.join("analyst")), 0o750);
        assert_eq!(mode(&dir.join("analyst/records.parquet")), 0o640);
        assert_eq!(mode(&dir), 0o750);
    }
    let manifest = Manifest::from_bytes(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!(manifest.period, "2026-11");
    assert_eq!(manifest.inputs[0].rows_read, 8);
    assert_eq!(
        manifest.analyst_tier.key_id.as_deref(),
        Some(key("a").key_id())
    );
    let rec = manifest.output("restricted/records.parquet").unwrap();
    assert_eq!(rec.rows, Some(7));
    assert_eq!(
        rec.sha256,
        sha256_hex(&std::fs::read(dir.join("restricted/records.parquet")).unwrap())
    );
    assert!(dir.join(RUN).is_file());
    assert!(verify(out.path()).unwrap().is_ok());
    // Nothing left of the staging.
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.') && e.file_name() != LOCK_FILE)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn tables_round_trip_with_schema_metadata() {
    let out = tempfile::tempdir().unwrap();
    let o = output("2026-11", false);
    publish(out.path(), &o, &settings(), None).unwrap();
    let back = load_table(out.path(), p("2026-11"), "registry")
        .unwrap()
        .unwrap();
    assert_eq!(back, registry());
    assert_eq!(
        back.schema()
            .metadata()
            .get("aidlink.next_person_number")
            .map(String::as_str),
        Some("8")
    );
    let recs = load_table(out.path(), p("2026-11"), "records")
        .unwrap()
        .unwrap();
    assert_eq!(recs, o.tables[0].1);
    assert!(
        load_table(out.path(), p("2026-11"), "links")
            .unwrap()
            .is_none()
    );
    assert!(
        load_table(out.path(), p("2026-10"), "records")
            .unwrap()
            .is_none()
    );
}

#[test]
fn without_a_key_the_analyst_tier_is_skipped_or_refused() {
    let out = tempfile::tempdir().unwrap();
    let report = publish(out.path(), &output("2026-11", false), &settings(), None).unwrap();
    assert!(!report.analyst_tier);
    assert!(
        report
            .analyst_skipped_because
            .unwrap()
            .contains("no pseudonym key")
    );
    assert!(!report.period_dir.join("analyst").exists());
    let strict = PrivacySettings {
        require_key: true,
        ..settings()
    };
    let err = publish(out.path(), &output("2026-12", false), &strict, None).unwrap_err();
    assert!(matches!(err, PublishError::NoKey), "{err}");
    assert!(!period_dir(out.path(), p("2026-12")).exists());
}

#[test]
fn rerun_with_same_inputs_is_byte_identical() {
    let out = tempfile::tempdir().unwrap();
    let o = output("2026-11", false);
    let first = publish(out.path(), &o, &settings(), Some(&key("a"))).unwrap();
    let before = snapshot(out.path());
    let second = publish(out.path(), &o, &settings(), Some(&key("a"))).unwrap();
    assert!(second.unchanged);
    assert_eq!(second.manifest_sha256, first.manifest_sha256);
    assert_eq!(second.replaces, None);
    assert_eq!(snapshot(out.path()), before);
}

#[test]
fn rerun_with_changed_inputs_replaces_and_records_it() {
    let out = tempfile::tempdir().unwrap();
    let first = publish(
        out.path(),
        &output("2026-11", false),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    let second = publish(
        out.path(),
        &output("2026-11", true),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    assert!(!second.unchanged);
    assert_eq!(
        second.replaces.as_deref(),
        Some(first.manifest_sha256.as_str())
    );
    let dir = period_dir(out.path(), p("2026-11"));
    let manifest = Manifest::from_bytes(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!(
        manifest.replaces.as_deref(),
        Some(first.manifest_sha256.as_str())
    );
    // The replaced manifest is kept, byte for byte, and hashes to its name.
    let kept = std::fs::read(dir.join(format!("replaced/{}.json", first.manifest_sha256))).unwrap();
    assert_eq!(sha256_hex(&kept), first.manifest_sha256);
    // Rerunning the new inputs again changes nothing, history included.
    let before = snapshot(out.path());
    let third = publish(
        out.path(),
        &output("2026-11", true),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    assert!(third.unchanged);
    assert_eq!(snapshot(out.path()), before);
    assert!(verify(out.path()).unwrap().is_ok());
}

#[test]
fn a_crash_at_any_point_leaves_the_previous_state_whole() {
    let points = [
        FailPoint::AfterFirstTable,
        FailPoint::BeforeManifest,
        FailPoint::BeforeSwap,
        FailPoint::AfterOldMovedAside,
        FailPoint::AfterNewMovedIn,
    ];
    for point in points {
        let out = tempfile::tempdir().unwrap();
        let k = key("a");
        publish(out.path(), &output("2026-11", false), &settings(), Some(&k)).unwrap();
        let v1 = snapshot(out.path());
        let err = publish_with_failpoint(
            out.path(),
            &output("2026-11", true),
            &settings(),
            Some(&k),
            Some(point),
        )
        .unwrap_err();
        assert!(
            matches!(err, PublishError::SimulatedCrash(_)),
            "{point:?}: {err}"
        );
        // The next run takes the lock, which repairs what the crash left.
        drop(lock(out.path()).unwrap());
        let after = snapshot(out.path());
        if point == FailPoint::AfterNewMovedIn {
            // The new period was already in: it is what is published now.
            assert_ne!(after, v1, "{point:?}");
        } else {
            assert_eq!(after, v1, "{point:?}: previous state not whole");
        }
        assert!(verify(out.path()).unwrap().is_ok(), "{point:?}");
        // And the following run succeeds.
        let report = publish(out.path(), &output("2026-11", true), &settings(), Some(&k)).unwrap();
        assert!(verify(out.path()).unwrap().is_ok(), "{point:?}");
        assert_eq!(
            load_table(out.path(), p("2026-11"), "records")
                .unwrap()
                .unwrap()
                .num_rows(),
            8
        );
        let names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with(STAGING_PREFIX) || n.starts_with(OLD_PREFIX)),
            "{point:?}: {names:?}"
        );
        assert!(report.period_dir.is_dir());
    }
}

#[test]
fn a_crash_during_the_first_publish_leaves_nothing() {
    let out = tempfile::tempdir().unwrap();
    let err = publish_with_failpoint(
        out.path(),
        &output("2026-11", false),
        &settings(),
        None,
        Some(FailPoint::BeforeSwap),
    )
    .unwrap_err();
    assert!(matches!(err, PublishError::SimulatedCrash(_)));
    assert_eq!(
        latest_period_before(out.path(), p("2027-01")).unwrap(),
        None
    );
    publish(out.path(), &output("2026-11", false), &settings(), None).unwrap();
    assert_eq!(
        latest_period_before(out.path(), p("2027-01")).unwrap(),
        Some(p("2026-11"))
    );
}

#[test]
fn a_second_run_on_the_same_folder_fails_clearly() {
    let out = tempfile::tempdir().unwrap();
    // Another run's lock, taken through a separate handle of the lock file.
    let other = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.path().join(LOCK_FILE))
        .unwrap();
    other.try_lock().unwrap();
    let err = publish(out.path(), &output("2026-11", false), &settings(), None).unwrap_err();
    assert!(matches!(err, PublishError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("in use by another aidlink run"));
    drop(other);
    publish(out.path(), &output("2026-11", false), &settings(), None).unwrap();
}

#[test]
fn verify_finds_changed_added_and_opened_files() {
    let out = tempfile::tempdir().unwrap();
    publish(
        out.path(),
        &output("2026-11", false),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    let dir = period_dir(out.path(), p("2026-11"));
    std::fs::write(dir.join("analyst/flags.parquet"), b"not what was published").unwrap();
    std::fs::write(dir.join("analyst/extra.csv"), b"x").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("restricted/records.parquet"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let report = verify(out.path()).unwrap();
    assert!(!report.is_ok());
    let problems = &report.periods[0].problems;
    assert!(problems.iter().any(
        |p| matches!(p, Problem::HashMismatch { path, .. } if path == "analyst/flags.parquet")
    ));
    assert!(problems.contains(&Problem::Unlisted("analyst/extra.csv".into())));
    #[cfg(unix)]
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::TooOpen { .. }))
    );
    std::fs::remove_file(registry_path(out.path(), p("2026-11"))).unwrap();
    let report = verify(out.path()).unwrap();
    assert!(
        report.periods[0]
            .problems
            .iter()
            .any(|p| matches!(p, Problem::BadAlias(a) if a.starts_with("registry/")))
    );
    // The next run's recovery puts the link back.
    drop(lock(out.path()).unwrap());
    assert!(registry_path(out.path(), p("2026-11")).is_file());
    let text = report.to_string();
    assert!(text.contains("problems"), "{text}");
    // A table changed after publishing is never loaded for the next period.
    std::fs::write(dir.join("restricted/flags.parquet"), b"tampered").unwrap();
    assert!(matches!(
        load_table(out.path(), p("2026-11"), "flags"),
        Err(PublishError::Tampered { .. })
    ));
}

#[test]
fn latest_period_before_skips_later_and_unpublished_folders() {
    let out = tempfile::tempdir().unwrap();
    for period in ["2026-09", "2026-11", "2027-01"] {
        publish(out.path(), &output(period, false), &settings(), None).unwrap();
    }
    std::fs::create_dir_all(out.path().join("periods/2026-12")).unwrap();
    assert_eq!(
        latest_period_before(out.path(), p("2026-12")).unwrap(),
        Some(p("2026-11"))
    );
    assert_eq!(
        latest_period_before(out.path(), p("2026-11")).unwrap(),
        Some(p("2026-09"))
    );
    assert_eq!(
        latest_period_before(out.path(), p("2026-09")).unwrap(),
        None
    );
}

#[test]
fn bad_names_and_broken_row_accounting_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let mut o = output("2026-11", false);
    o.tables.push(("../escape".into(), flags()));
    assert!(matches!(
        publish(out.path(), &o, &settings(), None),
        Err(PublishError::BadName { .. })
    ));
    let mut o = output("2026-11", false);
    o.files.push(("manifest.json".into(), b"{}".to_vec()));
    assert!(matches!(
        publish(out.path(), &o, &settings(), None),
        Err(PublishError::DuplicateName { .. })
    ));
    let mut o = output("2026-11", false);
    o.tables.push(("flags_by_school".into(), flags()));
    assert!(matches!(
        publish(out.path(), &o, &settings(), None),
        Err(PublishError::DuplicateName { .. })
    ));
    let mut o = output("2026-11", false);
    o.inputs[0].rows_read += 5;
    assert!(matches!(
        publish(out.path(), &o, &settings(), None),
        Err(PublishError::RowAccounting { .. })
    ));
}

/// Every string an analyst-tier table holds, decoded.
fn analyst_strings(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir.join("analyst")).unwrap() {
        let batch = crate::parquet_io::read(&e.unwrap().path()).unwrap();
        for col in batch.columns() {
            if let Some(s) = col.as_string_opt::<i32>() {
                out.extend(s.iter().flatten().map(str::to_string));
            }
        }
        for (k, v) in batch.schema().metadata() {
            out.push(format!("{k}={v}"));
        }
    }
    out
}

#[test]
fn no_raw_identifier_reaches_the_analyst_tier_or_the_manifest() {
    let out = tempfile::tempdir().unwrap();
    publish(
        out.path(),
        &output("2026-11", false),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    let dir = period_dir(out.path(), p("2026-11"));
    let strings = analyst_strings(&dir);
    assert!(!strings.is_empty());
    let mut raw_files: Vec<Vec<u8>> = std::fs::read_dir(dir.join("analyst"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    raw_files.push(std::fs::read(dir.join(MANIFEST)).unwrap());
    raw_files.push(std::fs::read(dir.join(RUN)).unwrap());
    for kid in children() {
        for secret in [kid.id.as_str(), kid.name, kid.phone, &kid.id[..14]] {
            assert!(
                !strings.iter().any(|s| s.contains(secret)),
                "{secret} in an analyst value"
            );
            let needle = secret.as_bytes();
            for bytes in &raw_files {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{secret} in analyst bytes"
                );
            }
        }
    }
    // The restricted tier does hold them: the scan above is not vacuous.
    let restricted = std::fs::read(dir.join("restricted/records.parquet")).unwrap();
    let records = crate::parquet_io::read(&dir.join("restricted/records.parquet")).unwrap();
    assert_eq!(
        records
            .column_by_name("id_number")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        children()[0].id
    );
    assert!(!restricted.is_empty());
}

#[test]
fn pseudonyms_are_equal_across_months_and_differ_under_another_key() {
    let person_ids = |out: &Path, period: &str| -> Vec<String> {
        let batch =
            crate::parquet_io::read(&period_dir(out, p(period)).join("analyst/records.parquet"))
                .unwrap();
        batch
            .column_by_name("id_number")
            .unwrap()
            .as_string::<i32>()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect()
    };
    let a = tempfile::tempdir().unwrap();
    publish(
        a.path(),
        &output("2026-11", false),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    publish(
        a.path(),
        &output("2026-12", false),
        &settings(),
        Some(&key("a")),
    )
    .unwrap();
    assert_eq!(
        person_ids(a.path(), "2026-11"),
        person_ids(a.path(), "2026-12")
    );
    let b = tempfile::tempdir().unwrap();
    publish(
        b.path(),
        &output("2026-11", false),
        &settings(),
        Some(&key("b")),
    )
    .unwrap();
    let (x, y) = (
        person_ids(a.path(), "2026-11"),
        person_ids(b.path(), "2026-11"),
    );
    assert!(x.iter().zip(&y).all(|(x, y)| x != y));
}
