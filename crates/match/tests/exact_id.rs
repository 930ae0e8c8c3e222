//! Exact-ID linking: the baseline the probabilistic core must beat.

mod common;

use aidlink_match::{MatchSettings, Mode, link};
use arrow_array::{Array, BooleanArray, StringArray, UInt32Array};
use common::{Row, batch, valid_id};

fn settings() -> MatchSettings {
    MatchSettings {
        mode: Mode::ExactId,
        ..MatchSettings::default()
    }
}

#[test]
fn same_id_is_one_person_and_everything_else_a_singleton() {
    let a = valid_id("440106", 2012, 3, 5, 123);
    let b = valid_id("440106", 2013, 7, 1, 246);
    let rows = vec![
        Row::new("disability", 1).id(&b).set("name", "李娜"),
        Row::new("enrollment", 1).id(&a).set("name", "张伟"),
        Row::new("enrollment", 2).set("name", "王芳"),
        Row::new("household", 1).id(&a).set("name", "张伟"),
        Row::new("household", 2).id(&b).set("name", "李娜"),
        Row::new("subsidy", 1).id(&a).set("name", "章伟"),
    ];
    let l = link(&batch(&rows), &settings(), None).unwrap();
    assert_eq!(l.cluster, vec![0, 1, 2, 1, 0, 1]);
    assert_eq!(l.stats.clusters, 3);
    // Pairs: (1,3), (1,5), (3,5) share a; (0,4) shares b.
    assert_eq!(l.links.num_rows(), 4);
    assert_eq!(l.stats.pairs_scored, 4);
    let li = l
        .links
        .column_by_name("left_index")
        .unwrap()
        .as_any()
        .downcast_ref::<UInt32Array>()
        .unwrap();
    let ri = l
        .links
        .column_by_name("right_index")
        .unwrap()
        .as_any()
        .downcast_ref::<UInt32Array>()
        .unwrap();
    let got: Vec<(u32, u32)> = (0..4).map(|i| (li.value(i), ri.value(i))).collect();
    assert_eq!(got, vec![(0, 4), (1, 3), (1, 5), (3, 5)]);
    let linked = l
        .links
        .column_by_name("linked")
        .unwrap()
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap();
    assert_eq!(linked.true_count(), 4);
    let rules = l.links.column_by_name("rules").unwrap();
    let rules =
        arrow_array::cast::AsArray::as_dictionary::<arrow_array::types::UInt32Type>(rules.as_ref());
    let names = rules
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(names.value(0), "same_id");
}

#[test]
fn a_shared_junk_id_beyond_the_block_cap_is_still_one_person() {
    let junk = valid_id("110101", 2010, 1, 1, 1);
    let rows: Vec<Row> = (1..=10)
        .map(|r| Row::new("enrollment", r).id(&junk))
        .collect();
    let s = MatchSettings {
        max_block_size: 3,
        ..settings()
    };
    let l = link(&batch(&rows), &s, None).unwrap();
    assert!(l.cluster.iter().all(|&c| c == 0));
    assert_eq!(l.links.num_rows(), 9);
}

#[test]
fn explain_masks_ids_and_says_why() {
    let a = valid_id("440106", 2012, 3, 5, 123);
    let rows = vec![
        Row::new("enrollment", 1).id(&a),
        Row::new("household", 7).id(&a),
        Row::new("subsidy", 2),
    ];
    let records = batch(&rows);
    let l = link(&records, &settings(), None).unwrap();
    let e = aidlink_match::explain(&records, 0, 1, &l.model).unwrap();
    assert!(e.linked);
    let text = e.to_string();
    assert!(
        text.contains("enrollment:1") && text.contains("household:7"),
        "{text}"
    );
    assert!(!text.contains(&a), "full ID printed: {text}");
    let e = aidlink_match::explain(&records, 0, 2, &l.model).unwrap();
    assert!(!e.linked);
    assert!(aidlink_match::explain(&records, 0, 3, &l.model).is_err());
}

#[test]
fn settings_read_from_toml_with_defaults() {
    let s: MatchSettings =
        serde_json::from_str(r#"{"mode": "exact_id", "threshold": 0.95}"#).unwrap();
    assert_eq!(s.mode, Mode::ExactId);
    assert_eq!(s.max_block_size, MatchSettings::default().max_block_size);
    let bad = MatchSettings {
        threshold: 1.5,
        ..MatchSettings::default()
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("threshold")
    );
}
