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
    // Join the head and guardian IDs to that list by sorting the queries
    // too: sequential merges instead of a cache-missing search per row.
    let mut queries: Vec<(u64, u32, u8)> = (0..rows)
        .into_par_iter()
        .flat_map_iter(|i| {
            let h = columns::text(head, i).map(|v| (hash_str(v), i as u32, 1u8));
            let g = columns::text(guardian, i).map(|v| (hash_str(v), i as u32, 2u8));
            h.into_iter().chain(g)
        })
        .collect();
    queries.par_sort_unstable();
    let mut out: Vec<[u64; 3]> = (0..rows)
        .into_par_iter()
        .map(|i| [columns::text(hh, i).map_or(0, hash_str), 0, 0])
        .collect();
    let mut k = 0;
    for &(key, row, slot) in &queries {
        while k < of_id.len() && of_id[k].0 < key {
            k += 1;
        }
        if k < of_id.len() && of_id[k].0 == key {
            out[row as usize][slot as usize] = of_id[k].2;
        }
    }
    out.par_iter_mut().for_each(|o| {
        // A head's own row finds its own household through its ID: keep one copy.
        if o[1] == o[0] {
            o[1] = 0;
        }
        if o[2] == o[0] || o[2] == o[1] {
            o[2] = 0;
        }
    });
    Ok(out)
}
