//! Text columns written in parallel, straight into one Arrow buffer.
//!
//! A delta of a large city has millions of rows whose `values` are JSON
//! texts; building each as its own `String` and copying it into a builder
//! doubles the work and the memory. Here each rayon task writes a contiguous
//! chunk of rows into one buffer, and the chunks are appended in row order,
//! a wave of chunks at a time (so the chunks' texts never add up to a second
//! copy of the column); the column is the same whatever the thread count.
//!
//! [`par_exact`] goes further for the largest columns: each row is written
//! twice through one [`Sink`] writer, first only counted, then into its
//! place in a buffer allocated once at the column's exact size, so the
//! column never exists twice and never grows.

use crate::DeltaError;
use arrow_array::StringArray;
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use rayon::prelude::*;

/// Where texts are written: a `String`, or an [`Out`] that counts or fills
/// a column's slot. Cells are rendered by one generic writer for all of
/// them, so what is counted is what is written.
pub(crate) trait Sink {
    /// Appends a text.
    fn push_str(&mut self, s: &str);
    /// Appends one ASCII byte (callers never pass another byte).
    fn push_ascii(&mut self, b: u8);
    /// Appends bytes that are all ASCII (digits, hex), without checking
    /// them for UTF-8 one by one; a column's text is checked whole.
    fn push_ascii_bytes(&mut self, b: &[u8]);
    /// Whether only the length of what is written is wanted: a writer may
    /// then [`Sink::skip`] the bytes instead of rendering them.
    fn counting(&self) -> bool {
        false
    }
    /// Counts `n` bytes as written (only called while [`Sink::counting`]).
    fn skip(&mut self, _n: usize) {}
}

impl Sink for String {
    #[inline]
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    #[inline]
    fn push_ascii(&mut self, b: u8) {
        self.push(char::from(b));
    }
    #[inline]
    fn push_ascii_bytes(&mut self, b: &[u8]) {
        b.iter().for_each(|c| self.push(char::from(*c)));
    }
}

/// A [`Sink`] that counts bytes (no buffer) or fills a chunk's part of a
/// column buffer; a write past the buffer's end is remembered, not made.
pub(crate) struct Out<'a> {
    buf: Option<&'a mut [u8]>,
    len: usize,
    overflow: bool,
}

impl Out<'_> {
    /// An `Out` that only counts.
    pub(crate) fn counting() -> Out<'static> {
        Out {
            buf: None,
            len: 0,
            overflow: false,
        }
    }

    /// Bytes written or counted so far.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes counted so far.
    pub(crate) fn counted(&self) -> usize {
        self.len
    }

    #[inline]
    fn push_bytes(&mut self, b: &[u8]) {
        if let Some(buf) = self.buf.as_deref_mut() {
            let end = self.len + b.len();
            match buf.get_mut(self.len..end) {
                Some(dst) => dst.copy_from_slice(b),
                None => self.overflow = true,
            }
        }
        self.len += b.len();
    }
}

impl Sink for Out<'_> {
    #[inline]
    fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes());
    }
    #[inline]
    fn push_ascii(&mut self, b: u8) {
        if let Some(buf) = self.buf.as_deref_mut() {
            match buf.get_mut(self.len) {
                Some(dst) => *dst = b,
                None => self.overflow = true,
            }
        }
        self.len += 1;
    }
    #[inline]
    fn push_ascii_bytes(&mut self, b: &[u8]) {
        self.push_bytes(b);
    }
    #[inline]
    fn counting(&self) -> bool {
        self.buf.is_none()
    }
    #[inline]
    fn skip(&mut self, n: usize) {
        self.len += n;
    }
}

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
    assemble(offsets, bytes, nulls, column)
}

/// A text column of `n` rows; `write(row, out)` writes row `row`'s text to
/// `out` and says whether the row is valid (`false`: null, nothing written),
/// and must write the same text each time it is called for a row.
///
/// Each chunk of rows is first counted, in parallel; the column's buffer is
/// then allocated once at its exact size and each chunk writes its rows
/// straight into its own part of it, in parallel. Nothing is copied and no
/// buffer grows: the column costs its own size and its rows' validity.
/// `column` names the column in the error for a column over 2 GiB of text.
pub(crate) fn par_exact<F>(
    n: usize,
    column: &'static str,
    write: F,
) -> Result<StringArray, DeltaError>
where
    F: Fn(usize, &mut Out) -> bool + Sync,
{
    par_exact_with(n, column, |_| None, write)
}

/// [`par_exact`] with a faster count: `count(rows)` gives the bytes and
/// valid rows of a range of rows when it can tell them without writing
/// them (a column at a time, say), `None` to have them counted row by row.
pub(crate) fn par_exact_with<C, F>(
    n: usize,
    column: &'static str,
    count: C,
    write: F,
) -> Result<StringArray, DeltaError>
where
    C: Fn(std::ops::Range<usize>) -> Option<(usize, usize)> + Sync,
    F: Fn(usize, &mut Out) -> bool + Sync,
{
    let too_long = |total: usize| DeltaError::BadTable {
        table: "delta",
        column,
        problem: format!("would hold {total} bytes of text, more than a column can (2 GiB)"),
    };
    let chunks = n.div_ceil(CHUNK);
    let rows = |c: usize| c * CHUNK..((c + 1) * CHUNK).min(n);
    // Each chunk's bytes and valid rows; nothing is stored per row yet.
    let counts: Vec<(usize, usize)> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            count(rows(c)).unwrap_or_else(|| {
                let mut out = Out::counting();
                let valid = rows(c).filter(|&row| write(row, &mut out)).count();
                (out.len, valid)
            })
        })
        .collect();
    let mut bases = Vec::with_capacity(chunks);
    let (mut total, mut valid_rows) = (0usize, 0usize);
    for (bytes, valid) in &counts {
        bases.push(total);
        total += bytes;
        valid_rows += valid;
    }
    if i32::try_from(total).is_err() {
        return Err(too_long(total));
    }
    if valid_rows == 0 {
        // All null (a first period's `other_person_id`): nothing to write.
        return Ok(StringArray::new_null(n));
    }
    let mut bytes = vec![0u8; total];
    let mut offsets = vec![0i32; n + 1];
    let mut valid = vec![true; n];
    let mut slices: Vec<&mut [u8]> = Vec::with_capacity(chunks);
    let mut rest: &mut [u8] = &mut bytes;
    for (size, _) in &counts {
        let (head, tail) = rest.split_at_mut(*size);
        slices.push(head);
        rest = tail;
    }
    // Each chunk writes its rows into its part of the buffer, with their
    // ends and validity.
    let same = slices
        .into_par_iter()
        .zip(offsets[1..].par_chunks_mut(CHUNK))
        .zip(valid.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, ((slice, ends), ok))| {
            let size = slice.len();
            let mut out = Out {
                buf: Some(slice),
                len: 0,
                overflow: false,
            };
            for ((row, end), ok) in rows(c).zip(ends).zip(ok.iter_mut()) {
                *ok = write(row, &mut out);
                // The total fits in an i32 (checked above), so every end does.
                *end = (bases[c] + out.len.min(size)) as i32;
            }
            !out.overflow && out.len == size && ok_count(ok) == counts[c].1
        })
        .collect::<Vec<bool>>();
    if same.contains(&false) {
        return Err(DeltaError::BadTable {
            table: "delta",
            column,
            problem: "rows wrote other texts the second time they were written".to_string(),
        });
    }
    let nulls = (valid_rows < n).then(|| NullBuffer::from(valid));
    assemble(offsets, bytes, nulls, column)
}

/// Valid rows among `ok`.
fn ok_count(ok: &[bool]) -> usize {
    ok.iter().filter(|v| **v).count()
}

/// A text column made of runs of one text each (`(text, rows)`), in order,
/// built at its exact size: the change type, entity and period columns.
pub(crate) fn runs(
    parts: &[(&str, usize)],
    column: &'static str,
) -> Result<StringArray, DeltaError> {
    let n: usize = parts.iter().map(|p| p.1).sum();
    let total: usize = parts.iter().map(|(t, k)| t.len() * k).sum();
    if i32::try_from(total).is_err() {
        return Err(DeltaError::BadTable {
            table: "delta",
            column,
            problem: format!("would hold {total} bytes of text, more than a column can (2 GiB)"),
        });
    }
    let mut bytes = Vec::with_capacity(total);
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i32);
    for (text, rows) in parts {
        for _ in 0..*rows {
            bytes.extend_from_slice(text.as_bytes());
            // The total fits in an i32 (checked above), so every end does.
            offsets.push(bytes.len() as i32);
        }
    }
    assemble(offsets, bytes, None, column)
}

/// A delta text column from its offsets, bytes and nulls. Callers write
/// offsets that grow monotonically over whole UTF-8 texts, so this cannot
/// fail; if it does, the error names the column.
fn assemble(
    offsets: Vec<i32>,
    bytes: Vec<u8>,
    nulls: Option<NullBuffer>,
    column: &'static str,
) -> Result<StringArray, DeltaError> {
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
