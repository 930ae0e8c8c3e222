//! The IDs read once for the whole match stage
//! (`aidlink_block::id_code::RowIdCodes`) give what reading them at each
//! use gives: the same candidate pairs, the same view, the same own IDs.

#![allow(clippy::unwrap_used)]

mod common;

use aidlink_block::id_code::RowIdCodes;
use aidlink_block::{BlockingRule, KeyColumns, candidates, candidates_with_ids};
use aidlink_compare::{Comparator, Comparison, RowIds, TermFrequencies};
use common::city::City;

#[test]
fn ids_read_once_give_the_same_pairs_view_and_own_ids() {
    // Noise makes typing errors in IDs, so the ID-typo rule has pairs.
    let city = City::generate(3000, 11, 1.0);
    let records = common::batch(&city.rows);
    let n = records.num_rows();
    let rules = BlockingRule::defaults();
    let keys = KeyColumns::new(&records, &rules).unwrap();
    let ids = RowIdCodes::new(&keys, n);
    let plain = candidates(&keys, n, &rules, 400);
    let shared = candidates_with_ids(&keys, n, &rules, 400, Some(&ids));
    assert_eq!(plain, shared);
    assert!(
        plain
            .per_rule
            .iter()
            .any(|r| r.name == "id_one_edit" && r.pairs > 0)
    );

    let cmp = Comparator::new(Comparison::standard(&[]));
    let households = keys.households().to_vec();
    let a = cmp
        .view_with_households(&records, households.clone(), TermFrequencies::Count)
        .unwrap();
    let b = cmp
        .view_with_parts(&records, households, ids.clone(), TermFrequencies::Count)
        .unwrap();
    assert_eq!(a.ids, b.ids);
    assert_eq!(a.facts, b.facts);
    assert_eq!(a.row_ids.own_id, b.row_ids.own_id);
    assert_eq!(a.row_ids.own_id, RowIds::new(&records).unwrap().own_id);
    assert!(a.row_ids.own_id.iter().any(|&c| c != u64::MAX));
    assert_eq!(
        cmp.compare_pairs(&a, &plain.pairs),
        cmp.compare_pairs(&b, &plain.pairs)
    );
}
