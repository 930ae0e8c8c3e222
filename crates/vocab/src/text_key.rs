//! Sorting by text without following a pointer per comparison.
//!
//! Shared by the stages that sort millions of rows by person ID or record key
//! (registry, flag, delta). Record keys share long prefixes, so
//! [`sort_by_text`] sorts each run of equal keys again by the next 15 bytes.
//!
//! Sorting millions of rows by a text column compares each pair through the
//! text's heap pointer, a cache miss every time. A [`TextKey`] packs a text's
//! first 15 bytes and its length into one `u128` kept next to the row, so
//! most comparisons are one integer comparison; only texts that agree on
//! their first 15 bytes and are longer than that fall back to the texts.

use rayon::prelude::*;
use std::cmp::Ordering;

/// A text's first 15 bytes (zero-padded) and its length (capped at 16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextKey(u128);

impl TextKey {
    pub fn new(text: &str) -> TextKey {
        TextKey::at(text, 0)
    }

    /// The key of `text` from byte `offset` on (empty past the end).
    pub fn at(text: &str, offset: usize) -> TextKey {
        let bytes = text.as_bytes().get(offset..).unwrap_or_default();
        let mut buf = [0u8; 16];
        let n = bytes.len().min(15);
        buf[..n].copy_from_slice(&bytes[..n]);
        buf[15] = bytes.len().min(16) as u8;
        TextKey(u128::from_be_bytes(buf))
    }

    /// Whether the key holds the whole text (at most 15 bytes), so equal
    /// keys mean equal texts.
    pub fn exact(self) -> bool {
        self.0 & 0xff != 16
    }

    /// Orders two texts as `str` does, given their keys; `a` and `b` give
    /// the texts themselves, read only when the keys cannot decide.
    pub fn cmp_with<'t>(
        self,
        other: TextKey,
        a: impl FnOnce() -> &'t str,
        b: impl FnOnce() -> &'t str,
    ) -> Ordering {
        let (x, y) = (self.0, other.0);
        if x >> 8 == y >> 8 && (x & 0xff == 16 || y & 0xff == 16) {
            return a().cmp(b());
        }
        // Same 15 bytes and both texts at most 15 bytes long: the shorter
        // is a prefix of the longer (padding is zero), and equal keys mean
        // equal texts.
        x.cmp(&y)
    }
}

/// Rows `0..n` in the order of their texts (ties: smaller row first).
///
/// Record keys share long prefixes (`enrollment|sno:G110105...`), so a key
/// of the first 15 bytes leaves huge ties. Ties are sorted again by the next
/// 15 bytes, and so on: every pass compares integers kept next to the rows
/// and reads each text once, where one comparison sort would follow two
/// pointers per comparison.
pub fn sort_by_text<'t, F>(n: usize, text: F) -> Vec<usize>
where
    F: Fn(usize) -> &'t str + Sync,
{
    let mut rows: Vec<(TextKey, usize)> = (0..n)
        .into_par_iter()
        .map(|r| (TextKey::at(text(r), 0), r))
        .collect();
    sort_keys(&mut rows);
    refine(&mut rows, &text, 15);
    rows.into_iter().map(|(_, r)| r).collect()
}

fn sort_keys(rows: &mut [(TextKey, usize)]) {
    let by = |a: &(TextKey, usize), b: &(TextKey, usize)| a.0.0.cmp(&b.0.0).then(a.1.cmp(&b.1));
    if rows.len() > 1 << 14 {
        rows.par_sort_unstable_by(by);
    } else {
        rows.sort_unstable_by(by);
    }
}

/// Sorts each run of rows whose texts agree on their first `offset` bytes
/// and go on past them, by the next 15 bytes.
fn refine<'t, F>(rows: &mut [(TextKey, usize)], text: &F, offset: usize)
where
    F: Fn(usize) -> &'t str + Sync,
{
    let mut start = 0;
    while start < rows.len() {
        let key = rows[start].0;
        let end = start + rows[start..].iter().take_while(|(k, _)| *k == key).count();
        if end - start > 1 && !key.exact() {
            let run = &mut rows[start..end];
            let rekey = |(k, r): &mut (TextKey, usize)| *k = TextKey::at(text(*r), offset);
            // Most runs are a few rows: tasks would cost more than they do.
            if run.len() > 1 << 14 {
                run.par_iter_mut().for_each(rekey);
            } else {
                run.iter_mut().for_each(rekey);
            }
            sort_keys(run);
            refine(run, text, offset + 15);
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_str_does() {
        let texts = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "P00000001",
            "P00000002",
            "P000000010",
            "household|hh:H1/id:1",
            "household|hh:H1/id:2",
            "household|hh:H1",
            "é",
            "z",
        ];
        for a in texts {
            for b in texts {
                let got = TextKey::new(a).cmp_with(TextKey::new(b), || a, || b);
                assert_eq!(got, a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn sort_by_text_orders_rows_as_their_texts() {
        let long = "enrollment|sno:G1101052012030512";
        let texts: Vec<String> = [
            "b",
            "",
            "a",
            long,
            "enrollment|sno:G1101052012030511",
            long,
            "a\0",
            "enrollment|sno:G1101052012030512x",
            "enrollment|sno:G11",
            "a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let got = sort_by_text(texts.len(), |r| texts[r].as_str());
        let mut want: Vec<usize> = (0..texts.len()).collect();
        want.sort_by(|a, b| texts[*a].cmp(&texts[*b]).then(a.cmp(b)));
        assert_eq!(got, want);
    }
}
