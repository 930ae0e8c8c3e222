//! Large Arrow string arrays written in parallel: record keys, person IDs
//! and event texts, millions of short texts each.
//!
//! Each rayon task writes a run of texts into a buffer of its own with the
//! end of each text, and the buffers are joined in run order, so the array
//! is the same whatever the thread count. Nothing is allocated per text.

use arrow_array::StringArray;
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use rayon::prelude::*;

/// Texts per rayon task: enough that a task is worth its buffers.
const PER_TASK: usize = 1 << 14;

/// The texts of `0..n` as one array; `write(i, out)` appends text `i` to
/// `out` (valid UTF-8, as the `&str` pieces it is written from are).
///
/// # Panics
///
/// When the texts exceed the 2 GiB an Arrow string array can hold.
pub(crate) fn build_texts<F>(n: usize, bytes_hint: usize, write: F) -> StringArray
where
    F: Fn(usize, &mut Vec<u8>) + Sync,
{
    let tasks = n.div_ceil(PER_TASK);
    let parts: Vec<(Vec<u8>, Vec<u32>)> = (0..tasks)
        .into_par_iter()
        .map(|t| {
            let rows = t * PER_TASK..((t + 1) * PER_TASK).min(n);
            let mut bytes = Vec::with_capacity(rows.len() * bytes_hint);
            let mut ends = Vec::with_capacity(rows.len());
            for i in rows {
                write(i, &mut bytes);
                ends.push(part_offset(bytes.len()));
            }
            (bytes, ends)
        })
        .collect();
    join(parts)
}

/// `n` texts of `width` bytes each as one array; `write(i, slot)` fills
/// text `i`'s bytes with valid UTF-8. The texts are written in place, in
/// parallel, with no part to join.
///
/// # Panics
///
/// When the texts exceed the 2 GiB an Arrow string array can hold.
pub(crate) fn build_fixed<F>(n: usize, width: usize, write: F) -> StringArray
where
    F: Fn(usize, &mut [u8]) + Sync,
{
    let total = n * width;
    let last = text_offset(total);
    let mut values = vec![0u8; total];
    if width > 0 {
        values
            .par_chunks_mut(width)
            .with_min_len(PER_TASK)
            .enumerate()
            .for_each(|(i, slot)| write(i, slot));
    }
    // Every offset is at most the last, checked above.
    let offsets: Vec<i32> = (0..n + 1)
        .into_par_iter()
        .with_min_len(PER_TASK)
        .map(|i| if width == 0 { 0 } else { (i * width) as i32 })
        .collect();
    debug_assert_eq!(offsets.last().copied(), Some(last));
    from_parts(offsets, values)
}

/// One array of the parts' texts, in order: each part is its bytes and the
/// end of each of its texts in them.
fn join(parts: Vec<(Vec<u8>, Vec<u32>)>) -> StringArray {
    let total: usize = parts.iter().map(|(b, _)| b.len()).sum();
    let count: usize = parts.iter().map(|(_, e)| e.len()).sum();
    let mut values: Vec<u8> = Vec::with_capacity(total);
    let mut offsets: Vec<i32> = Vec::with_capacity(count + 1);
    offsets.push(0);
    for (bytes, ends) in parts {
        let base = text_offset(values.len());
        values.extend_from_slice(&bytes);
        offsets.extend(ends.iter().map(|e| base + *e as i32));
    }
    // The last offset is the values' length, checked to fit above.
    text_offset(values.len());
    from_parts(offsets, values)
}

/// A string array of offsets and values written by this module: offsets
/// start at 0, never decrease, end at the values' length and fall between
/// characters, since whole `&str` texts were appended.
pub(crate) fn from_parts(offsets: Vec<i32>, values: Vec<u8>) -> StringArray {
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    StringArray::new(offsets, Buffer::from_vec(values), None)
}

/// An offset within one task's part, which holds far less than 4 GiB.
fn part_offset(len: usize) -> u32 {
    // A task writes PER_TASK texts; only texts of 256 KiB each would
    // overflow, which no record key or person ID comes near.
    #[allow(clippy::expect_used)]
    u32::try_from(len).expect("one task's texts fit 4 GiB")
}

/// A byte offset of an Arrow string array.
pub(crate) fn text_offset(len: usize) -> i32 {
    // Past 2 GiB of text no Arrow string array can hold the texts.
    #[allow(clippy::expect_used)]
    i32::try_from(len).expect("texts fit an Arrow string array (2 GiB)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn texts_keep_their_order_across_tasks() {
        let n = 3 * PER_TASK + 17;
        let array = build_texts(n, 4, |i, out| {
            out.extend_from_slice(format!("t{i}").as_bytes());
        });
        assert_eq!(array.len(), n);
        assert_eq!(array.null_count(), 0);
        for i in [0, 1, PER_TASK - 1, PER_TASK, 2 * PER_TASK + 5, n - 1] {
            assert_eq!(array.value(i), format!("t{i}"));
        }
        let empty = build_texts(0, 4, |_, _| {});
        assert_eq!(empty.len(), 0);
    }

    #[test]
    fn fixed_width_texts_are_written_in_place() {
        let n = 2 * PER_TASK + 3;
        let array = build_fixed(n, 2, |i, slot| {
            slot.copy_from_slice(&[b'a' + (i % 26) as u8, b'z' - (i % 26) as u8]);
        });
        assert_eq!(array.len(), n);
        for i in [0, 1, 25, 26, PER_TASK, n - 1] {
            let want: String = [
                (b'a' + (i % 26) as u8) as char,
                (b'z' - (i % 26) as u8) as char,
            ]
            .into_iter()
            .collect();
            assert_eq!(array.value(i), want);
        }
        let empty = build_fixed(3, 0, |_, _| {});
        assert_eq!((empty.len(), empty.value(2)), (3, ""));
    }
}
