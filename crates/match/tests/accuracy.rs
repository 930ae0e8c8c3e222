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
    let prob = link(&records, &probabilistic(), None).unwrap();
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
