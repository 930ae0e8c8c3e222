//! Accuracy of the probabilistic core on a small synthetic city, against
//! exact-ID linking, and its determinism across thread counts.

mod common;

use aidlink_match::{MatchSettings, Mode, link};
use common::batch;
use common::city::{City, pairwise};

fn probabilistic() -> MatchSettings {
    MatchSettings {
        mode: Mode::Probabilistic,
        ..MatchSettings::default()
    }
}

#[test]
fn beats_exact_id_and_keeps_a_floor_on_a_small_city() {
    let city = City::generate(1500, 11, 1.0);
    let records = batch(&city.rows);
    let exact = link(
        &records,
        &MatchSettings {
            mode: Mode::ExactId,
            ..MatchSettings::default()
        },
        None,
    )
    .unwrap();
    let prob = link(
        &records,
        &MatchSettings {
            u_sample_pairs: 300_000,
            ..probabilistic()
        },
        None,
    )
    .unwrap();
    let (ep, er, ef) = pairwise(&exact.cluster, &city.truth);
    let (pp, pr, pf) = pairwise(&prob.cluster, &city.truth);
    eprintln!(
        "rows {} exact P {ep:.4} R {er:.4} F1 {ef:.4}; probabilistic P {pp:.4} R {pr:.4} F1 {pf:.4}",
        city.rows.len()
    );
    eprintln!("{:?}", prob.stats);
    assert!(pf > ef, "probabilistic F1 {pf} not above exact-ID F1 {ef}");
    assert!(
        pp >= 0.995 && pr >= 0.97 && pf >= 0.985,
        "P {pp} R {pr} F1 {pf}"
    );
}

#[test]
fn same_result_with_one_and_four_threads() {
    let city = City::generate(300, 3, 2.0);
    let records = batch(&city.rows);
    let settings = MatchSettings {
        u_sample_pairs: 50_000,
        ..probabilistic()
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| link(&records, &settings, None).unwrap())
    };
    let (a, b) = (run(1), run(4));
    assert_eq!(a.cluster, b.cluster);
    assert_eq!(a.links, b.links);
    assert_eq!(a.model, b.model);
    assert_eq!(a.stats, b.stats);
    assert!(a.stats.pairs_linked > 0);
}

#[test]
fn a_saved_model_reproduces_the_run_and_explains_pairs() {
    let city = City::generate(300, 4, 1.0);
    let records = batch(&city.rows);
    let settings = MatchSettings {
        u_sample_pairs: 50_000,
        ..probabilistic()
    };
    let first = link(&records, &settings, None).unwrap();
    let json = serde_json::to_string_pretty(&first.model).unwrap();
    let model: aidlink_match::Model = serde_json::from_str(&json).unwrap();
    let again = link(&records, &settings, Some(&model)).unwrap();
    assert_eq!(first.cluster, again.cluster);
    assert_eq!(again.stats.em_iterations, 0);
    // Explain the first linked pair: the waterfall's total is the links table's weight.
    let linked = again.links.column_by_name("linked").unwrap();
    let linked = arrow_array::cast::AsArray::as_boolean(linked.as_ref());
    let p = (0..linked.len()).find(|&p| linked.value(p)).unwrap();
    let idx = |c: &str| {
        let a = again.links.column_by_name(c).unwrap();
        arrow_array::cast::AsArray::as_primitive::<arrow_array::types::UInt32Type>(a.as_ref())
            .value(p) as usize
    };
    let weight = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float64Type>(
        again.links.column_by_name("match_weight").unwrap().as_ref(),
    )
    .value(p);
    let e =
        aidlink_match::explain(&records, idx("left_index"), idx("right_index"), &model).unwrap();
    assert!(e.linked);
    assert!(
        (e.total.unwrap() - weight).abs() < 1e-9,
        "{} vs {weight}",
        e.total.unwrap()
    );
    let text = e.to_string();
    for c in ["prior", "id", "name", "birth", "household", "total weight"] {
        assert!(text.contains(c), "{text}");
    }
}

#[test]
fn a_guardians_id_in_a_childs_row_does_not_merge_child_and_guardian() {
    use common::{Row, valid_id};
    let child = valid_id("440106", 2013, 4, 9, 124);
    let guardian = valid_id("440106", 1984, 2, 17, 331);
    let rows = vec![
        // The enrollment clerk typed the guardian's ID in the child's row.
        Row::new("enrollment", 1)
            .id(&guardian)
            .set("name", "黄子轩")
            .set("name_pinyin", "huang zi xuan")
            .set("birth_date", "2013-04-09")
            .set("gender", "F"),
        Row::new("household", 1)
            .id(&child)
            .set("name", "黄子轩")
            .set("name_pinyin", "huang zi xuan")
            .set("birth_date", "2013-04-09")
            .set("gender", "F")
            .set("household_no", "H1"),
        Row::new("household", 2)
            .id(&guardian)
            .set("name", "黄伟")
            .set("name_pinyin", "huang wei")
            .set("birth_date", "1984-02-17")
            .set("gender", "M")
            .set("household_no", "H1"),
    ];
    let records = batch(&rows);
    let l = link(&records, &probabilistic(), None).unwrap();
    assert_ne!(
        l.cluster[0], l.cluster[2],
        "child's row merged with the guardian"
    );
    assert_ne!(l.cluster[1], l.cluster[2]);
    let e = aidlink_match::explain(&records, 0, 2, &l.model).unwrap();
    assert!(!e.linked, "{e}");
}
