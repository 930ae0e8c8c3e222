//! Valid ID numbers carried by records of more than one person.
//!
//! This is the only rule that looks across persons. Rows with a valid ID are
//! sorted by the ID (packed into an integer when it is an 18-character
//! number, as nearly all valid IDs are) and equal IDs of two or more persons
//! become a [`Shared`] group. Each person then finds the groups of its own
//! rows through a bitmap of the rows in any group and a sorted row index.

use crate::columns::{Columns, bool_at, str_at};
use aidlink_vocab::RecordTexts;
use aidlink_vocab::mask_id_text;
use rayon::prelude::*;

/// One valid ID number carried by records of two or more persons.
pub(crate) struct Shared<'a> {
    /// The ID, masked.
    pub masked_id: String,
    /// Every row carrying it, ascending.
    pub rows: Vec<usize>,
    /// The persons of those rows, sorted and distinct.
    pub persons: Vec<&'a str>,
}

/// The shared IDs of a record table, and which rows carry one.
pub(crate) struct Conflicts<'a> {
    pub groups: Vec<Shared<'a>>,
    /// One bit per row: whether the row carries a shared ID.
    bits: Vec<u64>,
    /// (row, group) for each row carrying a shared ID, sorted by row.
    group_of: Vec<(usize, usize)>,
}

/// An 18-character ID of digits and a final digit or `X` as one integer
/// (base 11, so distinct IDs get distinct numbers), `None` for other texts.
fn packed(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.len() != 18 {
        return None;
    }
    let mut code = 0u64;
    for (i, c) in b.iter().enumerate() {
        let digit = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'X' if i == 17 => 10,
            _ => return None,
        };
        code = code * 11 + digit;
    }
    Some(code)
}

impl<'a> Conflicts<'a> {
    /// `person_of` is each row's person as a number (any numbering that
    /// tells persons apart).
    pub fn find(
        cols: &Columns<'a>,
        person_ids: RecordTexts<'a>,
        person_of: &[u32],
    ) -> Conflicts<'a> {
        let n = person_ids.len();
        let valid = |row: usize| {
            (bool_at(cols.id_check_ok, row) == Some(true))
                .then(|| str_at(cols.id_number, row))
                .flatten()
        };
        // Most valid IDs pack into an integer; the rest are sorted as text.
        type Split<'t> = (Vec<(u64, usize)>, Vec<(&'t str, usize)>);
        let (mut packed_rows, mut text_rows): Split = (0..n)
            .into_par_iter()
            .filter_map(|row| valid(row).map(|id| (id, row)))
            .partition_map(|(id, row)| match packed(id) {
                Some(code) => rayon::iter::Either::Left((code, row)),
                None => rayon::iter::Either::Right((id, row)),
            });
        packed_rows.par_sort_unstable();
        text_rows.par_sort_unstable();
        // Runs of one packed ID longer than one row, as (start, end).
        let packed_groups: Vec<(usize, usize)> = {
            let starts: Vec<usize> = (0..packed_rows.len())
                .into_par_iter()
                .filter(|i| *i == 0 || packed_rows[i - 1].0 != packed_rows[*i].0)
                .collect();
            let ends = starts.iter().skip(1).copied().chain([packed_rows.len()]);
            starts
                .iter()
                .copied()
                .zip(ends)
                .filter(|(s, e)| e - s > 1)
                .collect()
        };
        // Most IDs are carried by one person's records, so the person
        // numbers decide before any person ID text is read.
        let shared = |rows: &[usize]| {
            let first = person_of[rows[0]];
            if rows.iter().all(|r| person_of[*r] == first) {
                return None;
            }
            let mut persons: Vec<&str> = rows.iter().map(|r| person_ids.get(*r)).collect();
            persons.sort_unstable();
            persons.dedup();
            let id = valid(rows[0]).unwrap_or_default();
            Some(Shared {
                masked_id: mask_id_text(id),
                rows: rows.to_vec(),
                persons,
            })
        };
        let packed_rows: Vec<usize> = packed_rows.into_par_iter().map(|(_, r)| r).collect();
        let mut groups: Vec<Shared> = packed_groups
            .into_par_iter()
            .filter_map(|(start, end)| shared(&packed_rows[start..end]))
            .collect();
        for g in text_rows
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() > 1)
        {
            let rows: Vec<usize> = g.iter().map(|(_, r)| *r).collect();
            groups.extend(shared(&rows));
        }
        let mut bits = vec![0u64; n.div_ceil(64)];
        let mut group_of = Vec::new();
        for (g, shared) in groups.iter().enumerate() {
            for r in &shared.rows {
                bits[r / 64] |= 1 << (r % 64);
                group_of.push((*r, g));
            }
        }
        group_of.sort_unstable();
        Conflicts {
            groups,
            bits,
            group_of,
        }
    }

    /// Whether `row` carries an ID another person's records also carry.
    pub fn row_shared(&self, row: usize) -> bool {
        self.bits[row / 64] & (1 << (row % 64)) != 0
    }

    /// The group of a row for which [`Conflicts::row_shared`] holds.
    pub fn group_of(&self, row: usize) -> Option<&Shared<'a>> {
        let at = self.group_of.binary_search_by(|(r, _)| r.cmp(&row)).ok()?;
        self.groups.get(self.group_of[at].1)
    }
}

#[cfg(test)]
mod tests {
    use super::packed;

    #[test]
    fn packing_is_one_to_one_on_id_numbers() {
        let a = packed("11010520120305123X");
        let b = packed("110105201203051230");
        let c = packed("110105201203051231");
        assert!(a.is_some() && b.is_some() && c.is_some());
        assert_ne!(a, b);
        assert_ne!(b, c);
        // The largest ID packs below 11^18, which fits 64 bits.
        assert!(packed("99999999999999999X").is_some_and(|c| c < 11u64.pow(18)));
        assert_eq!(packed("1101052012030512x0"), None);
        assert_eq!(packed("11010520120305123x"), None);
        assert_eq!(packed("110105120305123"), None);
    }
}
