//! Incremental matching gives exactly what a full match with the same model
//! gives: two synthetic months with new, changed, removed and reordered
//! records, aid-only changes, and blocks crossing the block-size cap both
//! ways; a state made under other settings is refused (and the run is still
//! right); the result is the same with 1 and 4 threads.

#![allow(clippy::unwrap_used)]

mod common;

use aidlink_match::{Linkage, MatchSettings, Model, link, link_incremental};
use common::city::{City, Rng};
use common::{Row, batch, valid_id};

fn settings() -> MatchSettings {
    MatchSettings {
        u_sample_pairs: 50_000,
        // Small enough that the city's birth-and-name blocks of twins and
        // the test's crowded blocks below reach it.
        max_block_size: 5,
        // High enough that the names of this small city are rarer than
        // the floor, as most names of a real city are.
        tf_min: 0.005,
        ..MatchSettings::default()
    }
}

/// `count` records sharing birth date and name (one block of `birth_name`),
/// with distinct IDs; `tag` keeps blocks of different calls apart.
fn crowd(tag: u32, count: u32, first_row: u64) -> Vec<Row> {
    let name = ["王芳", "李娜"][tag as usize % 2];
    let pinyin = ["wang fang", "li na"][tag as usize % 2];
    (0..count)
        .map(|k| {
            Row::new("enrollment", first_row + u64::from(k))
                .id(&valid_id("440106", 2013, 4, 9 + tag, 2 * k + 1))
                .set("name", name)
                .set("name_pinyin", pinyin)
                .set("birth_date", &format!("2013-04-{:02}", 9 + tag))
                .set("gender", "1")
        })
        .collect()
}

/// Month 1 and month 2 of a city: month 2 drops some rows, changes some
/// (phone, name, birth date), changes aid only in others, adds a new
/// family's rows, and lists everything in another order. Crowd 0 has 6
/// members in month 1 (capped) and 5 in month 2 (not capped); crowd 1 has
/// 5 then 6.
fn two_months() -> (Vec<Row>, Vec<Row>) {
    let city = City::generate(250, 21, 1.5);
    let mut m1 = city.rows.clone();
    m1.extend(crowd(0, 6, 10_000));
    m1.extend(crowd(1, 5, 10_100));
    let mut r = Rng::new(5);
    let mut m2: Vec<Row> = Vec::new();
    for row in &m1 {
        let crowd_row = row.values["source_row"].parse::<u64>().unwrap() >= 10_000;
        if !crowd_row && r.chance(0.04) {
            continue;
        }
        let mut row = row.clone();
        if !crowd_row && r.chance(0.12) {
            // Household facts are copied from another record, so that a
            // change makes or breaks an agreement rather than only a
            // difference.
            let other = &m1[r.below(m1.len())].values;
            let copy = |col: &str| other.get(col).cloned().unwrap_or_default();
            match r.below(7) {
                0 => row = row.set("phone", &copy("phone")),
                1 => row = row.set("address", &copy("address")),
                2 => row = row.set("guardian_name_pinyin", &copy("guardian_name_pinyin")),
                3 => {
                    let name = row.values.get("name").cloned().unwrap_or_default();
                    row = row.set("name", &format!("{name}明"));
                }
                4 => row = row.set("birth_date", "2011-02-03"),
                5 => row = row.set("gender", if copy("gender") == "1" { "2" } else { "1" }),
                _ => row = row.set("school", "第二中学"),
            }
        }
        m2.push(row);
    }
    // Crowd 0 loses a member, crowd 1 gains one.
    m2.retain(|row| row.values["source_row"] != "10000");
    m2.extend(crowd(1, 6, 10_100).into_iter().skip(5));
    // A new family: rows from another city, renumbered.
    for (k, row) in City::generate(20, 77, 1.0).rows.into_iter().enumerate() {
        let mut row = row;
        row.values
            .insert("source_row".into(), (20_000 + k as u64).to_string());
        m2.push(row);
    }
    // Another order.
    for k in (1..m2.len()).rev() {
        m2.swap(k, r.below(k + 1));
    }
    (m1, m2)
}

fn assert_same(a: &Linkage, b: &Linkage) {
    assert_eq!(a.cluster, b.cluster);
    assert_eq!(a.links, b.links);
    assert_eq!(a.model, b.model);
    assert_eq!(a.stats, b.stats);
    assert_eq!(a.state, b.state);
}

#[test]
fn incremental_month_two_equals_a_full_match_with_the_same_model() {
    let (m1, m2) = two_months();
    let s = settings();
    let first = link(&batch(&m1), &s, None).unwrap();
    assert!(first.stats.blocks_capped > 0, "{:?}", first.stats);
    let month2 = batch(&m2);
    let full = link(&month2, &s, Some(&first.model)).unwrap();
    let inc = link_incremental(&month2, &s, &first.model, &first.state).unwrap();
    eprintln!("full {:?}\nincremental {:?}", full.stats, inc.reuse);
    assert_same(&inc, &full);
    let r = &inc.reuse;
    assert!(r.incremental && r.fallback.is_none(), "{r:?}");
    assert!(r.records_changed > 20 && r.records_removed > 10, "{r:?}");
    assert!(r.pairs_reused > r.pairs_compared, "{r:?}");
    assert!(r.pairs_compared > 0, "{r:?}");
    assert_eq!(r.pairs_reused + r.pairs_compared, full.stats.pairs_scored);
    // The month after, from the incremental run's own state.
    let mut m3 = m2.clone();
    m3.truncate(m2.len() - 7);
    let month3 = batch(&m3);
    let inc3 = link_incremental(&month3, &s, &inc.model, &inc.state).unwrap();
    assert_same(&inc3, &link(&month3, &s, Some(&inc.model)).unwrap());
    assert!(inc3.reuse.pairs_compared < inc.reuse.pairs_compared);
}

#[test]
fn a_reused_model_scores_the_training_table_as_training_did() {
    // Term frequencies come from the model when it is given, so reusing it
    // on the table it was trained on gives the same links, weights and all.
    let (m1, _) = two_months();
    let records = batch(&m1);
    let s = settings();
    let first = link(&records, &s, None).unwrap();
    let json = serde_json::to_string(&first.model).unwrap();
    let model: Model = serde_json::from_str(&json).unwrap();
    assert_eq!(model, first.model);
    assert!(!model.fs.as_ref().unwrap().term_frequencies.name.is_empty());
    let again = link(&records, &s, Some(&model)).unwrap();
    assert_eq!(again.links, first.links);
    assert_eq!(again.cluster, first.cluster);
    assert_eq!(again.state, first.state);
}

#[test]
fn a_state_from_other_settings_or_unreadable_falls_back_to_a_full_match() {
    let (m1, m2) = two_months();
    let s = settings();
    let first = link(&batch(&m1), &s, None).unwrap();
    let month2 = batch(&m2);
    let full = link(&month2, &s, Some(&first.model)).unwrap();
    // A state made with another block-size cap.
    let other = MatchSettings {
        max_block_size: 50,
        ..settings()
    };
    let foreign = link(&batch(&m1), &other, Some(&first.model)).unwrap();
    let inc = link_incremental(&month2, &s, &first.model, &foreign.state).unwrap();
    assert!(inc.reuse.fallback.is_some(), "{:?}", inc.reuse);
    assert_eq!(inc.reuse.pairs_reused, 0);
    assert_same(&inc, &full);
    // A state made under another model.
    let retrained = link(&month2, &s, None).unwrap();
    let inc = link_incremental(&month2, &s, &first.model, &retrained.state).unwrap();
    assert!(inc.reuse.fallback.is_some());
    assert_same(&inc, &full);
    // Not a state at all.
    let inc = link_incremental(&month2, &s, &first.model, &full.links).unwrap();
    let reason = inc.reuse.fallback.clone().unwrap();
    assert!(reason.contains("kind"), "{reason}");
    assert_same(&inc, &full);
}

#[test]
fn incremental_is_the_same_with_one_and_four_threads() {
    let (m1, m2) = two_months();
    let s = settings();
    let first = link(&batch(&m1), &s, None).unwrap();
    let month2 = batch(&m2);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| link_incremental(&month2, &s, &first.model, &first.state).unwrap())
    };
    let (a, b) = (run(1), run(4));
    assert_same(&a, &b);
    assert_eq!(a.reuse, b.reuse);
}
