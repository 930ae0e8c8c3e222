//! Text columns written in parallel, straight into one Arrow buffer.
//!
//! A delta of a large city has millions of rows whose `values` are JSON
//! texts; building each as its own `String` and copying it into a builder
//! doubles the work and the memory. Here each rayon task writes a contiguous
//! chunk of rows into one buffer, and the chunks are joined in row order, so
//! the column is the same whatever the thread count.

use crate::DeltaError;
use arrow_array::StringArray;
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use rayon::prelude::*;

/// Rows per task: large enough to amortise a task, small enough to balance.
const CHUNK: usize = 1 << 14;

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
    let parts: Vec<(String, Vec<usize>, Vec<bool>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let mut text = String::new();
            let mut ends = Vec::with_capacity(end - start);
            let mut valid = Vec::with_capacity(end - start);
            for row in start..end {
                valid.push(write(row, &mut text));
                ends.push(text.len());
            }
            (text, ends, valid)
        })
        .collect();
    let total: usize = parts.iter().map(|p| p.0.len()).sum();
    if i32::try_from(total).is_err() {
        return Err(DeltaError::BadTable {
            table: "delta",
            column,
            problem: format!("would hold {total} bytes of text, more than a column can (2 GiB)"),
        });
    }
    let any_null = parts.iter().any(|p| p.2.iter().any(|v| !v));
    let mut bytes = Vec::with_capacity(total);
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    offsets.push(0);
    let mut valid_all = Vec::with_capacity(if any_null { n } else { 0 });
    for (text, ends, valid) in parts {
        let base = bytes.len();
        bytes.extend_from_slice(text.as_bytes());
        // The total fits in an i32 (checked above), so every offset does.
        offsets.extend(ends.into_iter().map(|e| (base + e) as i32));
        if any_null {
            valid_all.extend(valid);
        }
    }
    let nulls = any_null.then(|| NullBuffer::from(valid_all));
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
