//! Text columns written in parallel, straight into one Arrow buffer.
//!
//! A delta of a large city has millions of rows whose `values` are JSON
//! texts; building each as its own `String` and copying it into a builder
//! doubles the work and the memory. Here each rayon task writes a contiguous
//! chunk of rows into one buffer, and the chunks are appended in row order,
//! a wave of chunks at a time (so the chunks' texts never add up to a second
//! copy of the column); the column is the same whatever the thread count.

use crate::DeltaError;
use arrow_array::StringArray;
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use rayon::prelude::*;

/// Rows per task: large enough to amortise a task, small enough to balance.
const CHUNK: usize = 1 << 13;

/// Tasks written before their texts are appended to the column: the column
/// grows a wave at a time, so at most one wave of chunk texts exists next to
/// it (a first period's `values` is about a gigabyte of JSON).
const WAVE: usize = 32;

/// A text column of `n` rows; `write(row, out)` appends row `row`'s text to
/// `out` and says whether the row is valid (`false`: null, nothing written).
/// `column` names the column in the error for a column over 2 GiB of text.
pub(crate) fn par_text<F>(
    n: usize,
    column: &'static str,
    write: F,
) -> Result<StringArray, DeltaError>
where
    F: Fn(usize, &mut String) -> bool + Sync,
{
    let too_long = |total: usize| DeltaError::BadTable {
        table: "delta",
        column,
        problem: format!("would hold {total} bytes of text, more than a column can (2 GiB)"),
    };
    let chunks = n.div_ceil(CHUNK);
    // Each wave's buffers are reused by the next one.
    let mut parts: Vec<(String, Vec<usize>, Vec<bool>)> = (0..WAVE.min(chunks))
        .map(|_| {
            (
                String::new(),
                Vec::with_capacity(CHUNK),
                Vec::with_capacity(CHUNK),
            )
        })
        .collect();
    let mut bytes: Vec<u8> = Vec::new();
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    offsets.push(0);
    let mut valid: Vec<bool> = Vec::with_capacity(n);
    for wave in (0..chunks).step_by(WAVE) {
        let count = WAVE.min(chunks - wave);
        parts[..count]
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, (text, ends, ok))| {
                let c = wave + i;
                let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                text.clear();
                ends.clear();
                ok.clear();
                for row in start..end {
                    ok.push(write(row, text));
                    ends.push(text.len());
                }
            });
        for (text, ends, ok) in &parts[..count] {
            let base = bytes.len();
            let total = base + text.len();
            if i32::try_from(total).is_err() {
                return Err(too_long(total));
            }
            if bytes.capacity() < total {
                // Reserve for all rows at the bytes per row seen so far, and
                // a twentieth more: fewer reallocations of a large column.
                let rows = (offsets.len() - 1 + ends.len()).max(1);
                let estimate = total / rows * n + total / rows * n / 20;
                bytes.reserve(estimate.max(total) - base);
            }
            bytes.extend_from_slice(text.as_bytes());
            valid.extend_from_slice(ok);
            // The total fits in an i32 (checked above), so every offset does.
            offsets.extend(ends.iter().map(|e| (base + e) as i32));
        }
    }
    drop(parts);
    bytes.shrink_to_fit();
    let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
    // Offsets grow monotonically over whole UTF-8 texts, so this cannot fail.
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(bytes),
        nulls,
    )
    .map_err(|e| DeltaError::BadTable {
        table: "delta",
        column,
        problem: format!("cannot be assembled: {e}"),
    })
}

/// A text column of `n` rows whose lengths are known before their texts:
/// `len(row)` is row `row`'s length in bytes, `fill(row, slot)` writes it
/// into a slot of exactly that length. The rows are written in parallel
/// straight into the column's one buffer (no chunk texts to join). `None`
/// when the texts would not fit one column (2 GiB) or a slot is left
/// holding something other than UTF-8.
pub(crate) fn par_sized<L, F>(n: usize, len: L, fill: F) -> Option<StringArray>
where
    L: Fn(usize) -> usize + Sync,
    F: Fn(usize, &mut [u8]) + Sync,
{
    let lens: Vec<usize> = (0..n).into_par_iter().map(&len).collect();
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    let mut total = 0usize;
    offsets.push(0);
    for l in &lens {
        total += l;
        offsets.push(i32::try_from(total).ok()?);
    }
    let mut bytes = vec![0u8; total];
    // Cut the buffer into one slice per chunk of rows, then each chunk's
    // slice into its rows' slots, in parallel.
    let mut slices: Vec<(usize, &mut [u8])> = Vec::with_capacity(n.div_ceil(CHUNK));
    let mut rest: &mut [u8] = &mut bytes;
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let size = (offsets[end] - offsets[start]) as usize;
        let (head, tail) = rest.split_at_mut(size);
        slices.push((start, head));
        rest = tail;
    }
    slices.into_par_iter().for_each(|(start, mut slice)| {
        for (row, l) in lens.iter().enumerate().skip(start).take(CHUNK) {
            let (slot, tail) = slice.split_at_mut(*l);
            fill(row, slot);
            slice = tail;
        }
    });
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(bytes),
        None,
    )
    .ok()
}
