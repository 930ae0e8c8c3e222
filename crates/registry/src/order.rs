//! A period's record keys in text order, without a previous registry to
//! place them in (the first period).
//!
//! Record keys are long and alike: every key of a source starts with the
//! source's name and `|`, and most of a source's keys go on alike for a
//! while (`enrollment|sno:G4401...`). Sorting them by their first bytes
//! leaves huge ties. So rows are first split by the text up to the first
//! `|` (keys of one source arrive in long runs of rows, so this costs a
//! byte search per row), and each group is sorted by the 23 bytes after the
//! prefix its keys all share, packed into three integers kept next to the
//! row; only rows still tied there are sorted again by the next 23 bytes.
//!
//! Groups in the order of their prefixes are in text order: a prefix ends
//! at its text's first `|` (or is the whole text), so of two different
//! prefixes either one is a whole text that the other's texts extend, or
//! they differ at a byte within both, which decides their texts too.

use aidlink_vocab::RecordTexts;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Rows per rayon task when looking for runs of one prefix.
const PER_TASK: usize = 1 << 16;

/// More runs of one prefix than this, and rows are sorted as one group:
/// keys that are not record keys, or rows in no order by source.
const MAX_RUNS: usize = 4096;

/// Rows `0..keys.len()` in the order of their keys' texts, rows of equal
/// keys in row order.
pub(crate) fn text_order(keys: RecordTexts) -> Vec<u32> {
    let n = keys.len();
    let runs = prefix_runs(keys);
    let Some(runs) = runs.filter(|r| r.len() <= MAX_RUNS) else {
        return sort_group((0..n as u32).collect(), keys, 0);
    };
    // Each prefix's runs, in row order, prefixes in text order.
    let mut groups: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (start, end, prefix) in runs {
        groups.entry(prefix).or_default().push((start, end));
    }
    let mut order = Vec::with_capacity(n);
    for (prefix, runs) in groups {
        let rows: Vec<u32> = runs
            .iter()
            .flat_map(|(start, end)| *start as u32..*end as u32)
            .collect();
        order.extend(sort_group(rows, keys, prefix.len()));
    }
    order
}

/// The text of a key up to and including its first `|`, or all of it.
fn prefix(key: &str) -> &str {
    match key.find('|') {
        Some(at) => &key[..=at],
        None => key,
    }
}

/// Rows `start..end` whose keys have one prefix: `(start, end, prefix)`.
type Run<'a> = (usize, usize, &'a str);

/// Runs of rows with one prefix, in row order; `None` past [`MAX_RUNS`].
fn prefix_runs(keys: RecordTexts<'_>) -> Option<Vec<Run<'_>>> {
    let n = keys.len();
    let tasks = n.div_ceil(PER_TASK);
    let parts: Vec<Option<Vec<Run>>> = (0..tasks)
        .into_par_iter()
        .map(|t| {
            let mut runs: Vec<Run> = Vec::new();
            for row in t * PER_TASK..((t + 1) * PER_TASK).min(n) {
                let key = keys.get(row);
                // The previous row's prefix is checked first: it is
                // nearly always the same.
                match runs.last_mut() {
                    Some(run) if prefix(key) == run.2 => run.1 = row + 1,
                    _ => {
                        if runs.len() == MAX_RUNS {
                            return None;
                        }
                        runs.push((row, row + 1, prefix(key)));
                    }
                }
            }
            Some(runs)
        })
        .collect();
    let mut runs: Vec<Run> = Vec::new();
    for part in parts {
        for run in part? {
            match runs.last_mut() {
                Some(last) if last.2 == run.2 => last.1 = run.1,
                _ => runs.push(run),
            }
        }
    }
    Some(runs)
}

/// Bytes of a key an [`Item`] holds.
const HELD: usize = 23;

/// 23 bytes of a key from some offset, with the length left from there
/// (capped at 24) in the last byte, as three big-endian words, so that the
/// words order as the bytes do; then the row. 23 bytes cover what tells
/// most record keys apart after their shared prefix (a household number
/// and its member's ID up to the birth date), so few rows are sorted again.
type Item = ([u64; 3], u32);

/// The item of `row`, whose key is `key`, from byte `offset` on.
fn item(key: &str, offset: usize, row: u32) -> Item {
    let bytes = key.as_bytes().get(offset..).unwrap_or_default();
    let mut buf = [0u8; HELD + 1];
    let k = bytes.len().min(HELD);
    buf[..k].copy_from_slice(&bytes[..k]);
    buf[HELD] = bytes.len().min(HELD + 1) as u8;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[8 * i..8 * i + 8]);
        u64::from_be_bytes(w)
    };
    ([word(0), word(1), word(2)], row)
}

/// Whether an item's bytes hold the rest of its key (at most [`HELD`]
/// bytes), so equal bytes there mean equal keys.
fn exact(item: &Item) -> bool {
    item.0[2] & 0xff != (HELD + 1) as u64
}

/// `rows` (keys that agree on their first `offset` bytes) in key order,
/// ties in row order.
fn sort_group(rows: Vec<u32>, keys: RecordTexts, offset: usize) -> Vec<u32> {
    let Some(first) = rows.first().map(|r| keys.get(*r as usize)) else {
        return rows;
    };
    // The bytes all the group's keys share after `offset` decide nothing.
    let tail = first.as_bytes().get(offset..).unwrap_or_default();
    let shared = rows
        .par_iter()
        .with_min_len(1 << 12)
        .map(|r| {
            let b = keys
                .get(*r as usize)
                .as_bytes()
                .get(offset..)
                .unwrap_or_default();
            b.iter().zip(tail).take_while(|(x, y)| x == y).count()
        })
        .min()
        .unwrap_or(0);
    let from = offset + shared;
    let mut items: Vec<Item> = rows
        .par_iter()
        .with_min_len(1 << 12)
        .map(|r| item(keys.get(*r as usize), from, *r))
        .collect();
    drop(rows);
    sort_items(&mut items);
    refine(&mut items, keys, from + HELD);
    items.into_par_iter().map(|(_, r)| r).collect()
}

fn sort_items(items: &mut [Item]) {
    if items.len() > 1 << 14 {
        items.par_sort_unstable();
    } else {
        items.sort_unstable();
    }
}

/// Sorts each run of items tied on their bytes, whose keys go on past
/// them, by the next [`HELD`] bytes of their keys, from `offset` on.
fn refine(items: &mut [Item], keys: RecordTexts, offset: usize) {
    let mut start = 0;
    while start < items.len() {
        let words = items[start].0;
        let end = start + items[start..].iter().take_while(|i| i.0 == words).count();
        if end - start > 1 && !exact(&items[start]) {
            let run = &mut items[start..end];
            let rekey = |i: &mut Item| *i = item(keys.get(i.1 as usize), offset, i.1);
            // Most runs are a few rows: tasks would cost more than they do.
            if run.len() > 1 << 14 {
                run.par_iter_mut().for_each(rekey);
            } else {
                run.iter_mut().for_each(rekey);
            }
            sort_items(run);
            refine(run, keys, offset + HELD);
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(texts: &[String]) {
        let got = text_order(RecordTexts::Strings(texts));
        let mut want: Vec<u32> = (0..texts.len() as u32).collect();
        want.sort_by(|a, b| texts[*a as usize].cmp(&texts[*b as usize]).then(a.cmp(b)));
        assert_eq!(got, want);
    }

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn orders_as_str_does() {
        check(&strings(&[
            "b|x",
            "",
            "a",
            "a|",
            "a|",
            "ab|c",
            "a|b|c",
            "a\0",
            "|",
            "enrollment|sno:G1101052012030512",
            "enrollment|sno:G1101052012030511",
            "enrollment|sno:G1101052012030512x",
            "enrollment|sno:G11",
            "household|hh:H1/id:1",
            "household|hh:H1",
            "enrollment|sno:G1101052012030512",
            "é|",
            "a",
        ]));
    }

    #[test]
    fn long_shared_prefixes_and_many_runs() {
        // Keys alike for 40 bytes after their prefix, in runs of a few
        // sources, then the same keys interleaved past the run limit.
        let mut texts: Vec<String> = (0..70_000u32)
            .map(|i| {
                let source = ["s", "t", "s|x"][(i / 9_000) as usize % 3];
                let tail = (i * 7919) % 50_000;
                format!("{source}|{}{tail:06}", "same".repeat(10))
            })
            .collect();
        check(&texts);
        for i in (0..texts.len()).step_by(2) {
            texts[i] = format!("q{i}|{}", texts[i]);
        }
        check(&texts);
    }
}
