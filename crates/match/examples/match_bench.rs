//! Times the match stage on a synthetic city built in code (the test
//! generator), stage by stage, and reports pairs per second and accuracy.
//!
//! `cargo run --release -p aidlink-match --example match_bench -- STUDENTS [THREADS]`

// A development tool on data it makes itself: a failure is a bug to see at once.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use aidlink_match::{MatchSettings, Mode, link};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let students: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    let t = Instant::now();
    let city = common::city::City::generate(students, 5, 1.0);
    let records = common::batch(&city.rows);
    drop(city.rows);
    eprintln!(
        "generated {} records in {:.2?}",
        records.num_rows(),
        t.elapsed()
    );

    let settings = MatchSettings {
        mode: Mode::Probabilistic,
        ..MatchSettings::default()
    };
    let rules = settings.blocking_rules();
    let t = Instant::now();
    let keys = aidlink_block::KeyColumns::new(&records, &rules).unwrap();
    let cand =
        aidlink_block::candidates(&keys, records.num_rows(), &rules, settings.max_block_size);
    let t_block = t.elapsed();
    let extra = Vec::new();
    let cmp = aidlink_compare::Comparator::new(aidlink_compare::Comparison::standard(&extra));
    let t = Instant::now();
    let view = cmp
        .view(&records, aidlink_compare::TermFrequencies::Count)
        .unwrap();
    let t_view = t.elapsed();
    let t = Instant::now();
    let v = cmp.compare_pairs(&view, &cand.pairs);
    let t_cmp = t.elapsed();
    eprintln!(
        "blocking {:.2?} ({} pairs), view {:.2?}, compare {:.2?} ({:.1} M pairs/s), {} bytes of levels",
        t_block,
        cand.pairs.len(),
        t_view,
        t_cmp,
        cand.pairs.len() as f64 / t_cmp.as_secs_f64() / 1e6,
        v.levels.len()
    );
    let random = aidlink_score::sample::random_pairs(records.num_rows(), 1_000_000, 1);
    let t = Instant::now();
    let rv = cmp.compare_pairs_gated(&view, &random, false);
    eprintln!(
        "random sample: {} pairs compared in {:.2?}",
        rv.len(),
        t.elapsed()
    );
    for s in &cand.per_rule {
        eprintln!(
            "  rule {:<20} {:>10} pairs, {} blocks capped",
            s.name, s.pairs, s.blocks_capped
        );
    }
    let t = Instant::now();
    let l = link(&records, &settings, None).unwrap();
    let t_link = t.elapsed();
    let (p, r, f) = common::city::pairwise(&l.cluster, &city.truth);
    eprintln!(
        "link (everything) {:.2?}: {} pairs scored, {} linked, {} clusters, {} refused, {} EM iterations",
        t_link,
        l.stats.pairs_scored,
        l.stats.pairs_linked,
        l.stats.clusters,
        l.stats.merges_refused,
        l.stats.em_iterations
    );
    eprintln!("pairwise precision {p:.5} recall {r:.5} F1 {f:.5}");
    let exact = link(&records, &MatchSettings::default(), None).unwrap();
    let (p, r, f) = common::city::pairwise(&exact.cluster, &city.truth);
    eprintln!("exact-ID  precision {p:.5} recall {r:.5} F1 {f:.5}");
}
