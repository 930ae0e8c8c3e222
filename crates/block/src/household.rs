//! Which household a record belongs to, directly or through its guardian.
//!
//! A household register row carries its household number; a subsidy member
//! row carries the head's ID, and an enrollment row the guardian's ID. When
//! the table also holds the head's (or guardian's) own row with a household
//! number, the member row belongs to that household too. So a child without
//! an ID in the subsidy list still meets its household register row: same
//! household, same name. Numbers are hashed; 0 means none.

use crate::columns::{self, ColumnError};
use crate::rules::hash_str;
use arrow_array::RecordBatch;
use rayon::prelude::*;

/// Up to three household keys per row: its own household number, the
/// household of the row whose ID is its head's ID, and the household of the
/// row whose ID is its guardian's ID (hashes; 0 for none).
pub fn household_keys(batch: &RecordBatch) -> Result<Vec<[u64; 3]>, ColumnError> {
    let rows = batch.num_rows();
    let hh = columns::opt_utf8(batch, "household_no")?;
    let id = columns::opt_utf8(batch, "id_number")?;
    let head = columns::opt_utf8(batch, "head_id")?;
    let guardian = columns::opt_utf8(batch, "guardian_id")?;
    // The household of each ID, from rows that have both; the first row (in
    // row order) wins when an ID sits in two households.
    let mut of_id: Vec<(u64, u32, u64)> = (0..rows)
        .into_par_iter()
        .filter_map(|i| {
            let (Some(v), Some(h)) = (columns::text(id, i), columns::text(hh, i)) else {
                return None;
            };
            Some((hash_str(v), i as u32, hash_str(h)))
        })
        .collect();
    of_id.par_sort_unstable();
    of_id.dedup_by_key(|x| x.0);
    let lookup = |v: Option<&str>| -> u64 {
        let Some(v) = v else { return 0 };
        let k = hash_str(v);
        match of_id.binary_search_by(|x| x.0.cmp(&k)) {
            Ok(p) => of_id[p].2,
            Err(_) => 0,
        }
    };
    Ok((0..rows)
        .into_par_iter()
        .map(|i| {
            let own = columns::text(hh, i).map_or(0, hash_str);
            let mut out = [
                own,
                lookup(columns::text(head, i)),
                lookup(columns::text(guardian, i)),
            ];
            // A head's own row finds its own household through its ID: keep one copy.
            if out[1] == out[0] {
                out[1] = 0;
            }
            if out[2] == out[0] || out[2] == out[1] {
                out[2] = 0;
            }
            out
        })
        .collect())
}
