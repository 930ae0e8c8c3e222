//! Reads a CSV or TSV file: stream it in blocks, find the header, parse chunks in parallel.
//!
//! The file is read in blocks of [`BLOCK_BYTES`] (a constant), hashed with
//! SHA-256 as it is read. A UTF-8 block is parsed in place; a GB18030 block is
//! decoded up to its last newline first (see [`crate::decode`]). The header is
//! the first record that has every mapped column (titles above it are
//! skipped). Each block's complete records are cut into chunks of
//! [`CHUNK_BYTES`] that rayon parses in parallel, each into its own Arrow
//! builders, while the next block is read; the incomplete last record is
//! carried into the next block. Chunk outputs are stitched in file order,
//! renumbering rows, and appended block by block to one builder per column, so
//! the output is the same whatever the number of threads and whatever the
//! block size. Raw text held at once is about two blocks plus the longest
//! record; the columns are the rest of the memory.

use crate::decode::{Decoded, PIECE_BYTES, Plan, append_decoded, detect_stream, transcode_into};
use crate::error::IngestError;
use crate::header::{ColumnMap, map_columns};
use crate::records::{Ending, Record, sniff_delimiter, split_complete};
use crate::reject::{Reject, RejectReason};
use crate::sink::{Cells, RowSink};
use aidlink_config::{Format, SourceConfig};
use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, UInt64Array};
use arrow_schema::ArrowError;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Records above the header that may be skipped as a title or notes.
pub const PREAMBLE_ROWS: usize = 10;

/// Bytes of text per parallel parse chunk.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Bytes of the file read at a time. Fixed, like the chunk size, so that
/// memory does not depend on the file; large enough that a block holds many
/// chunks for the threads to share.
pub const BLOCK_BYTES: usize = 16 << 20;

/// A text file read into columns.
pub struct TextTable {
    /// The mapped fields and where they are.
    pub map: ColumnMap,
    /// `source_row` of each accepted row.
    pub rows: UInt64Array,
    /// One column per mapped field.
    pub columns: Vec<ArrayRef>,
    /// Rejected rows, in file order.
    pub rejects: Vec<Reject>,
    /// Data rows read.
    pub rows_read: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// The encoding label.
    pub encoding: &'static str,
    /// The delimiter used.
    pub delimiter: u8,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Bytes in the file.
    pub bytes: u64,
    /// Records above the header skipped as a title or notes.
    pub preamble: u64,
}

/// What one chunk parsed into.
struct ChunkOut {
    columns: Vec<ArrayRef>,
    /// Chunk-local 1-based row numbers of accepted rows.
    rows: Vec<u64>,
    rejects: Vec<Reject>,
    /// Chunk-local 1-based line of each reject.
    reject_lines: Vec<u64>,
    records: u64,
    blank: u64,
    newlines: u64,
}

/// Reads the delimited text file at `path` as `source` says.
pub fn read_path(
    path: &Path,
    source: &SourceConfig,
    format: Format,
) -> Result<TextTable, IngestError> {
    read_delimited_with_block(
        path,
        source,
        format,
        || std::fs::File::open(path),
        std::fs::metadata(path).ok().map(|m| m.len()),
        BLOCK_BYTES,
        CHUNK_BYTES,
    )
}

/// The text being parsed: UTF-8 bytes read in place, or decoded text.
#[derive(Clone, Copy)]
enum Body<'t> {
    Bytes(&'t [u8]),
    Str(&'t str),
}

impl<'t> Body<'t> {
    fn bytes(self) -> &'t [u8] {
        match self {
            Body::Bytes(b) => b,
            Body::Str(s) => s.as_bytes(),
        }
    }

    fn record(self) -> Record<'t> {
        match self {
            Body::Bytes(b) => Record::over_bytes(b),
            Body::Str(s) => Record::new(s),
        }
    }
}

/// The text read and not yet parsed, owned.
enum Text {
    /// UTF-8 (to be checked record by record), straight from the file.
    Bytes(Vec<u8>),
    /// Decoded from another encoding.
    Str(String),
}

impl Text {
    fn body(&self) -> Body<'_> {
        match self {
            Text::Bytes(b) => Body::Bytes(b),
            Text::Str(s) => Body::Str(s),
        }
    }
}

/// The file being read: block by block, hashed as it goes.
struct Source<R> {
    reader: R,
    hasher: Sha256,
    /// Bytes read so far.
    bytes: u64,
    /// Whether the end of the file has been reached.
    eof: bool,
    /// Bytes of BOM still to drop from the text.
    skip: usize,
    /// The decoder's buffers, reused from block to block.
    pool: Vec<Decoded>,
}

impl<R: Read> Source<R> {
    /// Appends up to `n` more bytes of the file to `dst`, less any BOM.
    fn read(&mut self, dst: &mut Vec<u8>, n: usize) -> std::io::Result<()> {
        let start = dst.len();
        // Room for one block up front; a larger read (the header's doubling
        // reads) grows the buffer only as far as the file goes.
        dst.reserve(n.min(BLOCK_BYTES));
        let got = (&mut self.reader).take(n as u64).read_to_end(dst)?;
        self.hasher.update(&dst[start..]);
        self.bytes += got as u64;
        // `take` stops early only at the end of the file.
        if got < n {
            self.eof = true;
        }
        let k = self.skip.min(got);
        if k > 0 {
            dst.drain(start..start + k);
            self.skip -= k;
        }
        Ok(())
    }

    /// Reads up to `n` more bytes into the text, decoding what can be.
    fn fill(
        &mut self,
        plan: Plan,
        text: &mut Text,
        raw: &mut Vec<u8>,
        bad: &mut Vec<usize>,
        n: usize,
    ) -> std::io::Result<()> {
        match text {
            Text::Bytes(b) => self.read(b, n),
            Text::Str(s) => {
                self.read(raw, n)?;
                decode_ready(plan, raw, self.eof, s, bad, &mut self.pool);
                Ok(())
            }
        }
    }
}

/// Decodes the raw bytes that can be decoded apart from what follows: up to
/// the last newline in GB18030 (a `\n` byte is never inside a character
/// there), everything at the end of the file; UTF-16 has no such byte and is
/// decoded at the end, whole. `pool` holds the decoder's reused buffers.
fn decode_ready(
    plan: Plan,
    raw: &mut Vec<u8>,
    eof: bool,
    text: &mut String,
    bad: &mut Vec<usize>,
    pool: &mut Vec<Decoded>,
) {
    let Plan::Transcode { encoding, .. } = plan else {
        return;
    };
    let cut = if eof {
        raw.len()
    } else if encoding == encoding_rs::GB18030 {
        memchr::memrchr(b'\n', raw).map_or(0, |i| i + 1)
    } else {
        0
    };
    if cut == 0 {
        return;
    }
    let pieces = transcode_into(&raw[..cut], encoding, PIECE_BYTES, pool);
    append_decoded(text, bad, &pool[..pieces]);
    raw.drain(..cut);
}

/// Where the header is and what was skipped above it.
struct Header {
    delimiter: u8,
    map: ColumnMap,
    /// Where the data starts in the text.
    body_start: usize,
    blank_lines: u64,
    preamble: u64,
}

/// Reads a delimited text file opened by `open` (called twice: once to
/// detect the encoding, once to read), `block_bytes` at a time, parsed in
/// chunks of `chunk_bytes`. Tests use tiny blocks and chunks to hit every
/// boundary case; the output does not depend on either, nor on `len_hint`
/// (the file's length when known, to size the columns).
#[allow(clippy::too_many_arguments)]
fn read_delimited_with_block<R: Read + Send>(
    path: &Path,
    source: &SourceConfig,
    format: Format,
    open: impl Fn() -> std::io::Result<R>,
    len_hint: Option<u64>,
    block_bytes: usize,
    chunk_bytes: usize,
) -> Result<TextTable, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let block_bytes = block_bytes.max(1);
    let plan = detect_stream(open().map_err(io)?, source.encoding).map_err(io)?;
    let label = plan.label();
    let mut src = Source {
        reader: open().map_err(io)?,
        hasher: Sha256::new(),
        bytes: 0,
        eof: false,
        skip: plan.skip(),
        pool: Vec::new(),
    };
    let mut text = match plan {
        Plan::Utf8 { .. } => Text::Bytes(Vec::new()),
        Plan::Transcode { .. } => Text::Str(String::new()),
    };
    // Raw bytes not yet decoded, and where decoding failed in `text`.
    let mut raw = Vec::new();
    let mut bad: Vec<usize> = Vec::new();

    // The header is looked for in what has been read; when the answer could
    // depend on what follows, the text read is doubled and it is looked for again.
    let header = loop {
        let n = block_bytes.max(usize::try_from(src.bytes).unwrap_or(usize::MAX));
        src.fill(plan, &mut text, &mut raw, &mut bad, n)
            .map_err(io)?;
        if let Some(h) = analyze(path, source, format, text.body(), src.eof)? {
            break h;
        }
    };
    let Header {
        delimiter,
        map,
        body_start,
        blank_lines,
        preamble,
    } = header;
    let header_lines = count_newlines(&text.body().bytes()[..body_start]);
    let mut stitch = Stitch::new(map.fields.len(), header_lines, blank_lines);
    let mut sizing: Option<Sizing> = None;
    let mut start = body_start;
    let mut spare = Vec::new();
    loop {
        let at_end = src.eof;
        let body = text.body();
        let (chunks, complete) =
            split_complete(body.bytes(), start, delimiter, chunk_bytes, at_end);
        if chunks.is_empty() && !at_end {
            // No complete record yet (one longer than a block): read more.
            src.fill(plan, &mut text, &mut raw, &mut bad, block_bytes)
                .map_err(io)?;
            continue;
        }
        let sizing = sizing.get_or_insert_with(|| {
            let sizing = Sizing::sample(body, start, complete, delimiter, &map);
            // The columns' builders are sized for the whole file, when its
            // length is known, so they are not regrown and copied block by block.
            if let Some(len) = len_hint {
                let rest = len.saturating_sub(src.bytes) as f64 + (complete - start) as f64;
                stitch.reserve(&sizing, rest);
            }
            sizing
        });
        // The next block is read into the carried tail (UTF-8) or the raw
        // bytes (other encodings) while this block's chunks are parsed. The
        // buffer of the block before is reused: its memory is already mapped.
        let mut next = match &text {
            Text::Bytes(b) if !at_end => {
                let mut next = std::mem::take(&mut spare);
                next.clear();
                next.reserve(b.len() - complete + block_bytes);
                next.extend_from_slice(&b[complete..]);
                Some(next)
            }
            _ => None,
        };
        let (read, outs) = rayon::join(
            || match (at_end, next.as_mut()) {
                (true, _) => Ok(()),
                (false, Some(next)) => src.read(next, block_bytes),
                (false, None) => src.read(&mut raw, block_bytes),
            },
            || {
                chunks
                    .par_iter()
                    .map(|range| {
                        parse_chunk(body, range.clone(), delimiter, &map, &bad, label, sizing)
                    })
                    .collect::<Vec<ChunkOut>>()
            },
        );
        read.map_err(io)?;
        stitch
            .add_block(outs)
            .map_err(|source| IngestError::Arrow {
                path: path.to_path_buf(),
                source,
            })?;
        if at_end {
            break;
        }
        let passed = bad.partition_point(|&o| o < complete);
        bad.drain(..passed);
        for o in &mut bad {
            *o -= complete;
        }
        if let Some(next) = next {
            if let Text::Bytes(old) = std::mem::replace(&mut text, Text::Bytes(next)) {
                spare = old;
            }
        } else if let Text::Str(s) = &mut text {
            s.drain(..complete);
            decode_ready(plan, &mut raw, src.eof, s, &mut bad, &mut src.pool);
        }
        start = 0;
    }
    drop(text);
    let sha256 = hex::encode(src.hasher.finalize());
    Ok(stitch.finish(map, label, delimiter, sha256, src.bytes, preamble))
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// How big a chunk's columns will be, from a sample of the first records:
/// sizing the builders up front saves regrowing them and, above all, the
/// unused capacity that doubling leaves until the columns are joined.
struct Sizing {
    /// Average bytes of a record, line ending included.
    row_bytes: f64,
    /// Average bytes per row of each mapped field's text.
    column_bytes: Vec<f64>,
}

impl Sizing {
    const SAMPLE_ROWS: usize = 200;

    fn sample(body: Body<'_>, start: usize, end: usize, delimiter: u8, map: &ColumnMap) -> Sizing {
        let mut record = body.record();
        let mut column_bytes = vec![0usize; map.index.len()];
        let (mut p, mut rows) = (start, 0usize);
        while p < end && rows < Self::SAMPLE_ROWS {
            p = record.parse(p, end, delimiter);
            rows += 1;
            for (total, &i) in column_bytes.iter_mut().zip(&map.index) {
                if i < record.len() {
                    *total += record.cell(i).len();
                }
            }
        }
        let n = rows.max(1) as f64;
        Sizing {
            row_bytes: ((p - start) as f64 / n).max(1.0),
            column_bytes: column_bytes.iter().map(|&t| t as f64 / n).collect(),
        }
    }
}

/// Finds the delimiter and the header in the text read so far; `None` when
/// the answer could change with text not read yet (`at_end` false).
fn analyze(
    path: &Path,
    source: &SourceConfig,
    format: Format,
    body: Body<'_>,
    at_end: bool,
) -> Result<Option<Header>, IngestError> {
    let b = body.bytes();
    let delimiters: Vec<u8> = match source.delimiter {
        Some(c) if c.is_ascii() && c != '"' && c != '\n' && c != '\r' => vec![c as u8],
        Some(c) => {
            return Err(IngestError::BadDelimiter {
                path: path.to_path_buf(),
                delimiter: c,
            });
        }
        None => match delimiter_candidates(b, format, at_end) {
            Some(d) => d,
            None => return Ok(None),
        },
    };
    // The first candidate that finds the header wins; when none does, the
    // error is the one of the most likely candidate.
    let mut first_error = None;
    for &d in &delimiters {
        match find_header(path, source, body, d, at_end) {
            Scan::Found(h) => return Ok(Some(h)),
            Scan::More => return Ok(None),
            Scan::Failed(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(IngestError::NoHeader {
        path: path.to_path_buf(),
    }))
}

/// The delimiters to try, most likely first: the one sniffed from each of the
/// first lines in turn (a title line above the header may have none, or the
/// wrong one), then the remaining candidates, the format's default first.
/// `None` when fewer lines than that are complete and the file goes on.
fn delimiter_candidates(b: &[u8], format: Format, at_end: bool) -> Option<Vec<u8>> {
    let candidates: &[u8] = if format == Format::Tsv {
        b"\t,;|"
    } else {
        b",\t;|"
    };
    let mut lines = Vec::with_capacity(PREAMBLE_ROWS + 1);
    let mut p = 0;
    while lines.len() < PREAMBLE_ROWS + 1 {
        let (line, last) = match memchr::memchr(b'\n', &b[p..]) {
            Some(i) => {
                p += i + 1;
                (&b[p - i - 1..p - 1], false)
            }
            None if at_end => (&b[p..], true),
            None => return None,
        };
        if !line.iter().all(u8::is_ascii_whitespace) {
            lines.push(line);
        }
        if last {
            break;
        }
    }
    let mut order = Vec::with_capacity(candidates.len());
    for line in lines {
        if let Some(d) = sniff_delimiter(&String::from_utf8_lossy(line), candidates)
            && !order.contains(&d)
        {
            order.push(d);
        }
    }
    for &d in candidates {
        if !order.contains(&d) {
            order.push(d);
        }
    }
    Some(order)
}

/// What looking for the header found.
enum Scan {
    Found(Header),
    /// The text read so far ends before the answer.
    More,
    Failed(IngestError),
}

/// Finds the header: the first non-blank record that has every mapped
/// column, with up to [`PREAMBLE_ROWS`] records before it (titles, export
/// notes) skipped. A record is judged only when it is complete in the text
/// read so far, or when the text is the rest of the file (`at_end`).
fn find_header(
    path: &Path,
    source: &SourceConfig,
    body: Body<'_>,
    delimiter: u8,
    at_end: bool,
) -> Scan {
    let b = body.bytes();
    let mut header = body.record();
    let mut pos = 0;
    let mut blank_lines = 0u64;
    let mut preamble = 0u64;
    let mut best: Option<IngestError> = None;
    let failed = |best: Option<IngestError>| {
        Scan::Failed(best.unwrap_or(IngestError::NoHeader {
            path: path.to_path_buf(),
        }))
    };
    loop {
        if preamble as usize > PREAMBLE_ROWS {
            return failed(best);
        }
        if pos >= b.len() {
            return if at_end { failed(best) } else { Scan::More };
        }
        let next = header.parse(pos, b.len(), delimiter);
        let complete = header.ending == Ending::Complete && b[next - 1] == b'\n';
        if !complete && !at_end {
            return Scan::More;
        }
        if header.is_blank() {
            blank_lines += 1;
            pos = next;
            continue;
        }
        match map_columns(path, source, &header.cells_lossy()) {
            Ok(map) => {
                return Scan::Found(Header {
                    delimiter,
                    map,
                    body_start: next,
                    blank_lines,
                    preamble,
                });
            }
            // The header is there, but a mapped column is in it twice.
            Err(e @ IngestError::DuplicateColumn { .. }) => return Scan::Failed(e),
            Err(e) => {
                if missing_count(&e) < best.as_ref().map_or(usize::MAX, missing_count) {
                    best = Some(e);
                }
                preamble += 1;
                pos = next;
            }
        }
    }
}

/// How many mapped columns an error says are missing (any other error: all).
fn missing_count(e: &IngestError) -> usize {
    match e {
        IngestError::MissingColumns { missing, .. } => missing.len(),
        _ => usize::MAX - 1,
    }
}

/// Chunk outputs put together in file order, as they come: rows renumbered,
/// reject messages given their line, and each block's column pieces appended
/// to one builder per column. Appending block by block (instead of joining
/// every piece at the end) frees the pieces while the file is still being
/// read, so their memory is reused by the next block's instead of being held
/// beside the finished columns.
struct Stitch {
    row_base: u64,
    line_base: u64,
    blank_lines: u64,
    rows: Vec<u64>,
    rejects: Vec<Reject>,
    /// One builder per mapped field.
    columns: Vec<StringBuilder>,
}

impl Stitch {
    fn new(fields: usize, header_lines: u64, blank_lines: u64) -> Self {
        Stitch {
            row_base: 0,
            line_base: header_lines,
            blank_lines,
            rows: Vec::new(),
            rejects: Vec::new(),
            columns: (0..fields).map(|_| StringBuilder::new()).collect(),
        }
    }

    /// Gives the empty builders room for `bytes` more of text as `sizing` estimates it.
    fn reserve(&mut self, sizing: &Sizing, bytes: f64) {
        if !self.rows.is_empty() || !self.rejects.is_empty() {
            return;
        }
        let rows = (bytes / sizing.row_bytes * 1.05) as usize + 16;
        self.rows.reserve(rows);
        for (builder, per_row) in self.columns.iter_mut().zip(&sizing.column_bytes) {
            *builder =
                StringBuilder::with_capacity(rows, (per_row * rows as f64 * 1.1) as usize + 64);
        }
    }

    /// Appends one block's chunk outputs, in order.
    fn add_block(&mut self, outs: Vec<ChunkOut>) -> Result<(), ArrowError> {
        let mut pieces: Vec<Vec<ArrayRef>> = (0..self.columns.len())
            .map(|_| Vec::with_capacity(outs.len()))
            .collect();
        for mut out in outs {
            let row_base = self.row_base;
            self.rows.extend(out.rows.iter().map(|r| r + row_base));
            for (mut reject, line) in out.rejects.drain(..).zip(&out.reject_lines) {
                reject.row += row_base;
                reject.message = format!("line {}: {}", self.line_base + line, reject.message);
                self.rejects.push(reject);
            }
            self.row_base += out.records;
            self.line_base += out.newlines;
            self.blank_lines += out.blank;
            for (k, column) in out.columns.drain(..).enumerate() {
                pieces[k].push(column);
            }
        }
        // Columns are appended to in parallel; each piece is dropped once copied.
        self.columns
            .par_iter_mut()
            .zip(pieces.into_par_iter())
            .try_for_each(|(builder, parts)| {
                parts.into_iter().try_for_each(|part| {
                    let strings = part.as_string_opt::<i32>().ok_or_else(|| {
                        ArrowError::InvalidArgumentError(format!(
                            "a parsed column is {}, not Utf8",
                            part.data_type()
                        ))
                    })?;
                    builder.append_array(strings)
                })
            })
    }

    /// The finished table.
    fn finish(
        mut self,
        map: ColumnMap,
        encoding: &'static str,
        delimiter: u8,
        sha256: String,
        bytes: u64,
        preamble: u64,
    ) -> TextTable {
        let columns = self
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        TextTable {
            map,
            rows: UInt64Array::from(self.rows),
            columns,
            rejects: self.rejects,
            rows_read: self.row_base,
            blank_lines: self.blank_lines,
            encoding,
            delimiter,
            sha256,
            bytes,
            preamble,
        }
    }
}

/// Parses the records of one chunk.
fn parse_chunk(
    body: Body<'_>,
    range: Range<usize>,
    delimiter: u8,
    map: &ColumnMap,
    bad: &[usize],
    label: &str,
    sizing: &Sizing,
) -> ChunkOut {
    let b = body.bytes();
    let len = range.end - range.start;
    let rows_hint = (len as f64 / sizing.row_bytes * 1.05) as usize + 16;
    let column_bytes: Vec<usize> = sizing
        .column_bytes
        .iter()
        .map(|b| (b * rows_hint as f64 * 1.1) as usize + 64)
        .collect();
    let mut sink = RowSink::with_sizes(map, rows_hint, &column_bytes);
    let mut reject_lines = Vec::new();
    let mut record = body.record();
    let mut bad_at = bad.partition_point(|&o| o < range.start);
    let mut records = 0u64;
    let mut blank = 0u64;
    // Lines are counted lazily, only up to rejected rows, so a clean chunk
    // costs one newline count at the end and nothing per row.
    let mut line_pos = range.start;
    let mut line_no = 1u64;
    let mut p = range.start;
    while p < range.end {
        let start = p;
        p = record.parse(p, range.end, delimiter);
        if record.is_blank() {
            blank += 1;
            continue;
        }
        records += 1;
        let bad_byte = record
            .invalid_at
            .or_else(|| (bad_at < bad.len() && bad[bad_at] < p).then(|| bad[bad_at]));
        let problem = if record.ending == Ending::UnterminatedQuote {
            Some((
                RejectReason::UnterminatedQuote,
                "a quoted field is never closed; the rest of the file is this one row".to_string(),
                None,
            ))
        } else if let Some(offset) = bad_byte {
            let column = record.field_at(offset);
            let field = column
                .and_then(|c| map.index.iter().position(|&i| i == c))
                .map(|k| map.fields[k].clone());
            let place = column
                .and_then(|c| map.header.get(c))
                .map_or(String::new(), |h| format!(" in column `{h}`"));
            Some((
                RejectReason::Undecodable,
                format!(
                    "bytes that are not valid {}{place}",
                    label.trim_end_matches("-bom")
                ),
                field,
            ))
        } else {
            crate::sink::classify(map, &record).map(|(r, d)| (r, d, None))
        };
        while bad_at < bad.len() && bad[bad_at] < p {
            bad_at += 1;
        }
        match problem {
            None => sink.accept(records, &record),
            Some((reason, message, field)) => {
                line_no += count_newlines(&b[line_pos..start]);
                line_pos = start;
                reject_lines.push(line_no);
                sink.reject(records, record.raw(), reason, message, field);
            }
        }
    }
    let newlines = count_newlines(&b[range.clone()]);
    let (columns, rows, rejects) = sink.finish();
    ChunkOut {
        columns,
        rows,
        rejects,
        reject_lines,
        records,
        blank,
        newlines,
    }
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidlink_config::Config;
    use arrow_array::StringArray;
    use proptest::prelude::*;

    /// Reads in-memory `bytes` in blocks of `block` bytes and chunks of `chunk`.
    fn read_blocks(
        source: &SourceConfig,
        bytes: &[u8],
        block: usize,
        chunk: usize,
    ) -> Result<TextTable, IngestError> {
        read_delimited_with_block(
            Path::new("p.csv"),
            source,
            Format::Csv,
            || Ok(std::io::Cursor::new(bytes)),
            block.is_multiple_of(2).then_some(bytes.len() as u64),
            block,
            chunk,
        )
    }

    /// Reads in-memory `bytes` in the default blocks, with chunks of `chunk`.
    fn read_text_chunked(
        _path: &Path,
        source: &SourceConfig,
        _format: Format,
        bytes: Vec<u8>,
        chunk: usize,
    ) -> Result<TextTable, IngestError> {
        read_blocks(source, &bytes, BLOCK_BYTES, chunk)
    }

    fn source() -> SourceConfig {
        let toml = "[sources.s]\npath = \"s.csv\"\nroles = [\"enrollment\"]\ncolumns = { name = \"h0\", id_number = \"h1\", school = \"h2\" }\n";
        let config = Config::from_text(Path::new("c.toml"), toml.to_string()).unwrap();
        config.sources["s"].clone()
    }

    /// The accepted rows as the file's cells (columns back in file order: h0, h1, h2).
    fn cells(t: &TextTable) -> Vec<Vec<Option<String>>> {
        let cols: Vec<&StringArray> = t
            .columns
            .iter()
            .map(|c| c.as_any().downcast_ref().unwrap())
            .collect();
        // Mapped fields are in key order: id_number (h1), name (h0), school (h2).
        let order = [1, 0, 2];
        (0..t.rows.len())
            .map(|r| {
                order
                    .iter()
                    .map(|&k| cols[k].is_valid(r).then(|| cols[k].value(r).to_string()))
                    .collect()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn reads_what_the_csv_crate_writes(
            rows in prop::collection::vec(prop::collection::vec("[a,\"\n\r 中x;]{0,5}", 3), 0..30),
            chunk in 1usize..80,
            crlf in any::<bool>(),
        ) {
            let mut w = csv::WriterBuilder::new()
                .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            w.write_record(["h0", "h1", "h2"]).unwrap();
            for r in &rows {
                w.write_record(r).unwrap();
            }
            let bytes = w.into_inner().unwrap();
            let t = read_text_chunked(Path::new("p.csv"), &source(), Format::Csv, bytes, chunk).unwrap();
            let expected: Vec<Vec<Option<String>>> = rows
                .iter()
                .filter(|r| r.iter().any(|c| !c.is_empty()))
                .map(|r| r.iter().map(|c| (!c.is_empty()).then(|| c.clone())).collect())
                .collect();
            prop_assert_eq!(cells(&t), expected);
            prop_assert_eq!(t.rows_read, rows.len() as u64);
            prop_assert_eq!(t.rows_read, t.rows.len() as u64 + t.rejects.len() as u64);
            prop_assert!(t.rejects.iter().all(|r| r.reason == RejectReason::EmptyRow));
        }

        #[test]
        fn any_bytes_after_the_header_keep_the_accounting(
            body in prop::collection::vec(prop::sample::select(vec![b',', b'"', b'\n', b'\r', b'a', b' ', 0xFF, 0xE4, 0xB8, 0xAD, 0x81]), 0..300),
            chunk in 1usize..50,
        ) {
            let mut bytes = b"h0,h1,h2\n".to_vec();
            bytes.extend_from_slice(&body);
            let t = read_text_chunked(Path::new("p.csv"), &source(), Format::Csv, bytes, chunk).unwrap();
            prop_assert_eq!(t.rows_read, t.rows.len() as u64 + t.rejects.len() as u64);
            let numbers: Vec<u64> = t.rows.values().iter().copied().chain(t.rejects.iter().map(|r| r.row)).collect();
            let mut sorted = numbers.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (1..=t.rows_read).collect::<Vec<_>>());
        }
    }

    #[test]
    fn chunk_size_does_not_change_the_result() {
        let mut text = String::from("h0,h1,h2\n");
        for i in 0..500 {
            match i % 7 {
                0 => text.push_str(&format!("\"多行\n{i}\",{i},x\r\n")),
                1 => text.push_str("only,two\n"),
                2 => text.push('\n'),
                3 => text.push_str("h0,h1,h2\n"),
                _ => text.push_str(&format!("名{i},\"{i},{i}\",\"a\"\"b\"\n")),
            }
        }
        let whole = read_text_chunked(
            Path::new("p.csv"),
            &source(),
            Format::Csv,
            text.clone().into_bytes(),
            1 << 30,
        )
        .unwrap();
        for chunk in [1, 10, 100, 1000] {
            let t = read_text_chunked(
                Path::new("p.csv"),
                &source(),
                Format::Csv,
                text.clone().into_bytes(),
                chunk,
            )
            .unwrap();
            assert_eq!(cells(&t), cells(&whole));
            assert_eq!(t.rows, whole.rows);
            let msgs = |t: &TextTable| {
                t.rejects
                    .iter()
                    .map(|r| (r.row, r.message.clone(), r.raw.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(msgs(&t), msgs(&whole));
            assert_eq!(t.blank_lines, whole.blank_lines);
        }
        assert_eq!(whole.blank_lines, 72);
        assert_eq!(whole.rows_read, 500 - 72);
        // Data row 2 is the first ragged one; row 1 spans lines 2 and 3.
        assert_eq!(whole.rejects[0].row, 2);
        assert_eq!(
            whole.rejects[0].message,
            "line 4: 2 fields where the header has 3"
        );
    }
}

#[cfg(test)]
mod block_tests {
    //! The streamed reader gives the same table whatever the block size.

    use super::*;
    use aidlink_config::Config;

    fn source(columns: &str, extra: &str) -> SourceConfig {
        let toml = format!(
            "[sources.s]\npath = \"s.csv\"\nroles = [\"enrollment\"]\n{extra}columns = {{ {columns} }}\n"
        );
        let config = Config::from_text(Path::new("c.toml"), toml).unwrap();
        config.sources["s"].clone()
    }

    fn read(source: &SourceConfig, bytes: &[u8], block: usize, chunk: usize) -> TextTable {
        read_delimited_with_block(
            Path::new("p.csv"),
            source,
            Format::Csv,
            || Ok(std::io::Cursor::new(bytes)),
            block.is_multiple_of(2).then_some(bytes.len() as u64),
            block,
            chunk,
        )
        .unwrap()
    }

    /// Everything a table says, in a comparable form.
    #[allow(clippy::type_complexity)]
    fn facts(
        t: &TextTable,
    ) -> (
        Vec<String>,
        Vec<u64>,
        Vec<ArrayRef>,
        Vec<(u64, String, String, String, Option<String>)>,
        [u64; 4],
        (&'static str, u8, String),
    ) {
        (
            t.map.fields.clone(),
            t.rows.values().to_vec(),
            t.columns.clone(),
            t.rejects
                .iter()
                .map(|r| {
                    (
                        r.row,
                        r.raw.clone(),
                        r.reason.code().to_string(),
                        r.message.clone(),
                        r.field.clone(),
                    )
                })
                .collect(),
            [t.rows_read, t.blank_lines, t.bytes, t.preamble],
            (t.encoding, t.delimiter, t.sha256.clone()),
        )
    }

    /// A messy extract: a title and blank lines above the header, CRLF,
    /// quoted fields with newlines and doubled quotes, a record of several
    /// KB, ragged, empty and repeated-header rows, blank lines, multi-byte
    /// text everywhere and no newline at the end.
    fn messy(delim: char) -> String {
        let d = delim;
        let mut text = format!(
            "某某县2026年11月在校学生名单,,\n\n导出说明：仅供核对\r\n姓名{d}身份证号{d}学校\r\n"
        );
        for i in 0..300 {
            match i % 11 {
                0 => text.push_str(&format!(
                    "\"欧阳\n娜娜{i}\"{d}1101052012030{i:05}{d}\"第一\"\"中学\"\"\"\r\n"
                )),
                1 => text.push_str(&format!("阿依古丽·买买提{d}{i}\n")),
                2 => text.push_str("\n   \n"),
                3 => text.push_str(&format!("姓名{d}身份证号{d}学校\n")),
                4 => text.push_str(&format!("{d}{d}\n")),
                5 if i == 5 => text.push_str(&format!(
                    "\"{}\"{d}x{d}\"{}\"\n",
                    "长字段，含换行\n".repeat(300),
                    "幸福路1号".repeat(400)
                )),
                6 => text.push_str(&format!("张三{i}{d}{i}{d}5号楼\"A\"座{d}{d}\n")),
                _ => text.push_str(&format!("名{i}{d}\"{i}{d}{i}\"{d}学校{i}\r\n")),
            }
        }
        text.push_str(&format!("最后{d}一行{d}没有换行"));
        text
    }

    fn assert_same_for_blocks(source: &SourceConfig, bytes: &[u8], blocks: &[usize]) {
        let whole = read(source, bytes, BLOCK_BYTES, CHUNK_BYTES);
        assert_eq!(whole.sha256, sha256_hex(bytes));
        assert_eq!(whole.bytes, bytes.len() as u64);
        let expected = facts(&whole);
        for &block in blocks {
            for chunk in [CHUNK_BYTES, 5] {
                let t = read(source, bytes, block, chunk);
                assert!(facts(&t) == expected, "block {block}, chunk {chunk}");
            }
        }
    }

    const BLOCKS: &[usize] = &[1, 2, 3, 5, 7, 13, 64, 333, 1000, 4096];

    fn three() -> SourceConfig {
        source(
            "name = \"姓名\", id_number = \"身份证号\", school = \"学校\"",
            "",
        )
    }

    #[test]
    fn utf8_with_bom_reads_the_same_in_any_block_size() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(messy(',').as_bytes());
        // Damaged bytes in a data row: that row is rejected as undecodable.
        let at = bytes.len() / 2;
        let at = at + memchr::memchr(b'\n', &bytes[at..]).unwrap() + 1;
        bytes.splice(at..at, b"\xFF\xFE,1,2\n".iter().copied());
        let t = read(&three(), &bytes, BLOCK_BYTES, CHUNK_BYTES);
        assert_eq!(
            (t.encoding, t.delimiter, t.preamble),
            ("utf-8-bom", b',', 2)
        );
        let reasons: std::collections::BTreeSet<&str> =
            t.rejects.iter().map(|r| r.reason.code()).collect();
        assert_eq!(
            reasons.into_iter().collect::<Vec<_>>(),
            ["empty_row", "ragged_row", "repeated_header", "undecodable"]
        );
        assert!(t.blank_lines > 50);
        assert_same_for_blocks(&three(), &bytes, BLOCKS);
    }

    #[test]
    fn gb18030_reads_the_same_in_any_block_size() {
        let text = messy(',');
        let mut bytes = encoding_rs::GB18030.encode(&text).0.into_owned();
        // A lone lead byte before a newline: one undecodable row.
        let at = bytes.len() / 3;
        let at = at + memchr::memchr(b'\n', &bytes[at..]).unwrap();
        bytes.insert(at, 0x81);
        let t = read(&three(), &bytes, BLOCK_BYTES, CHUNK_BYTES);
        assert_eq!(t.encoding, "gb18030");
        assert_eq!(
            t.rejects
                .iter()
                .filter(|r| r.reason == RejectReason::Undecodable)
                .count(),
            1
        );
        assert_same_for_blocks(&three(), &bytes, BLOCKS);
    }

    #[test]
    fn a_sniffed_tsv_and_an_unclosed_quote_read_the_same_in_any_block_size() {
        let mut text = messy('\t');
        text.push_str("\n\"从这里\n到文件末尾\t都是\t一行");
        let t = read(&three(), text.as_bytes(), BLOCK_BYTES, CHUNK_BYTES);
        assert_eq!(t.delimiter, b'\t');
        assert_eq!(
            t.rejects.last().map(|r| r.reason),
            Some(RejectReason::UnterminatedQuote)
        );
        assert_same_for_blocks(&three(), text.as_bytes(), BLOCKS);
    }

    #[test]
    fn errors_are_the_same_in_any_block_size() {
        let missing = source("name = \"姓名\", id_number = \"证件号\"", "");
        let text = messy(',');
        let message = |block| {
            read_delimited_with_block(
                Path::new("p.csv"),
                &missing,
                Format::Csv,
                || Ok(std::io::Cursor::new(text.as_bytes())),
                None,
                block,
                CHUNK_BYTES,
            )
            .err()
            .map(|e| e.to_string())
        };
        let whole = message(BLOCK_BYTES);
        assert!(whole.as_deref().unwrap_or_default().contains("证件号"));
        for block in [1, 2, 7, 100] {
            assert_eq!(message(block), whole, "block {block}");
        }
    }

    #[test]
    fn a_long_ascii_start_is_judged_whole_in_any_block_size() {
        let mut text = String::from("name,id,school\n");
        while text.len() < (1 << 20) + 100 {
            text.push_str("zhang san,110105201203051234,no 1 school\n");
        }
        text.push_str("张三,1,第一中学\n");
        let bytes = encoding_rs::GB18030.encode(&text).0.into_owned();
        let s = source(
            "name = \"name\", id_number = \"id\", school = \"school\"",
            "",
        );
        let t = read(&s, &bytes, BLOCK_BYTES, CHUNK_BYTES);
        assert_eq!(t.encoding, "gb18030");
        assert_same_for_blocks(&s, &bytes, &[4096, 100_000]);
    }

    #[test]
    fn utf16_reads_the_same_in_any_block_size() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "姓名\t身份证号\t学校\n张三\t1\t第一中学\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let t = read(&three(), &bytes, BLOCK_BYTES, CHUNK_BYTES);
        assert_eq!((t.encoding, t.rows.len()), ("utf-16le", 1));
        assert_same_for_blocks(&three(), &bytes, &[1, 3, 10]);
    }
}
