//! Reads a CSV or TSV file: decode, find the header, parse chunks in parallel.
//!
//! A UTF-8 file is parsed in place, other encodings are decoded once (see
//! [`crate::decode`]); the SHA-256 of the bytes is computed alongside. The header is the
//! first record that has every mapped column (titles above it are skipped); the rest is cut at record boundaries into chunks
//! of [`CHUNK_BYTES`] (a fixed size, so the cut does not depend on the thread
//! count) that rayon parses in parallel, each into its own Arrow builders.
//! Chunks are then stitched in file order, renumbering rows, so the output is
//! the same whatever the number of threads. Memory stays at the decoded text
//! plus the columns: the text is dropped before the columns are concatenated.

use crate::decode::{Plan, detect, join, transcode};
use crate::error::IngestError;
use crate::header::{ColumnMap, map_columns};
use crate::records::{Ending, Record, sniff_delimiter, split_records};
use crate::reject::{Reject, RejectReason};
use crate::sink::{Cells, RowSink};
use aidlink_config::{Format, SourceConfig};
use arrow_array::{ArrayRef, StringArray, UInt64Array};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Records above the header that may be skipped as a title or notes.
pub const PREAMBLE_ROWS: usize = 10;

/// Bytes of text per parallel parse chunk.
pub const CHUNK_BYTES: usize = 1 << 20;

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

/// Reads a delimited text file's `bytes` as `source` says.
pub fn read_text(
    path: &Path,
    source: &SourceConfig,
    format: Format,
    bytes: Vec<u8>,
) -> Result<TextTable, IngestError> {
    read_text_chunked(path, source, format, bytes, CHUNK_BYTES)
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

/// What the parallel pass produced, before stitching.
struct Parsed {
    preamble: u64,
    map: ColumnMap,
    outs: Vec<ChunkOut>,
    blank_lines: u64,
    header_lines: u64,
    delimiter: u8,
}

/// [`read_text`] with a chosen chunk size (tests cut tiny chunks to hit every boundary case).
fn read_text_chunked(
    path: &Path,
    source: &SourceConfig,
    format: Format,
    bytes: Vec<u8>,
    chunk_bytes: usize,
) -> Result<TextTable, IngestError> {
    let plan = detect(&bytes, source.encoding);
    let label = plan.label();
    // Hashing only reads the bytes, so it runs beside parsing or decoding.
    let (sha256, parsed) = match plan {
        Plan::Utf8 { bom } => {
            let body = Body::Bytes(&bytes[if bom { 3 } else { 0 }..]);
            let (sha256, parsed) = rayon::join(
                || sha256_hex(&bytes),
                || parse_body(path, source, format, body, &[], label, chunk_bytes),
            );
            drop(bytes);
            (sha256, parsed?)
        }
        Plan::Transcode { encoding, skip, .. } => {
            let (sha256, pieces) = rayon::join(
                || sha256_hex(&bytes),
                || transcode(&bytes[skip..], encoding),
            );
            drop(bytes);
            let decoded = join(pieces);
            let parsed = parse_body(
                path,
                source,
                format,
                Body::Str(&decoded.text),
                &decoded.bad,
                label,
                chunk_bytes,
            )?;
            (sha256, parsed)
        }
    };
    stitch(path, parsed, label, sha256)
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

    fn sample(body: Body<'_>, start: usize, delimiter: u8, map: &ColumnMap) -> Sizing {
        let b = body.bytes();
        let mut record = body.record();
        let mut column_bytes = vec![0usize; map.index.len()];
        let (mut p, mut rows) = (start, 0usize);
        while p < b.len() && rows < Self::SAMPLE_ROWS {
            p = record.parse(p, b.len(), delimiter);
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

/// Finds the header and parses the body's chunks in parallel.
fn parse_body(
    path: &Path,
    source: &SourceConfig,
    format: Format,
    body: Body<'_>,
    bad: &[usize],
    label: &str,
    chunk_bytes: usize,
) -> Result<Parsed, IngestError> {
    let b = body.bytes();
    let delimiters: Vec<u8> = match source.delimiter {
        Some(c) if c.is_ascii() && c != '"' && c != '\n' && c != '\r' => vec![c as u8],
        Some(c) => {
            return Err(IngestError::BadDelimiter {
                path: path.to_path_buf(),
                delimiter: c,
            });
        }
        None => delimiter_candidates(b, format),
    };
    // The first candidate that finds the header wins; when none does, the
    // error is the one of the most likely candidate.
    let mut first_error = None;
    let mut found = None;
    for &d in &delimiters {
        match find_header(path, source, body, d) {
            Ok(h) => {
                found = Some((d, h));
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let Some((delimiter, (map, body_start, blank_lines, preamble))) = found else {
        return Err(first_error.unwrap_or(IngestError::NoHeader {
            path: path.to_path_buf(),
        }));
    };
    let header_lines = count_newlines(&b[..body_start]);

    let sizing = Sizing::sample(body, body_start, delimiter, &map);
    let chunks = split_records(b, body_start, delimiter, chunk_bytes);
    let outs: Vec<ChunkOut> = chunks
        .par_iter()
        .map(|range| parse_chunk(body, range.clone(), delimiter, &map, bad, label, &sizing))
        .collect();
    Ok(Parsed {
        map,
        outs,
        blank_lines,
        header_lines,
        preamble,
        delimiter,
    })
}

/// The delimiters to try, most likely first: the one sniffed from each of the
/// first lines in turn (a title line above the header may have none, or the
/// wrong one), then the remaining candidates, the format's default first.
fn delimiter_candidates(b: &[u8], format: Format) -> Vec<u8> {
    let candidates: &[u8] = if format == Format::Tsv {
        b"\t,;|"
    } else {
        b",\t;|"
    };
    let mut order = Vec::with_capacity(candidates.len());
    let lines = b
        .split(|c| *c == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .take(PREAMBLE_ROWS + 1);
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
    order
}

/// Finds the header: the first non-blank record that has every mapped
/// column, with up to [`PREAMBLE_ROWS`] records before it (titles, export
/// notes) skipped. Returns the column map, where the data starts, and the
/// blank lines and preamble records skipped.
fn find_header(
    path: &Path,
    source: &SourceConfig,
    body: Body<'_>,
    delimiter: u8,
) -> Result<(ColumnMap, usize, u64, u64), IngestError> {
    let b = body.bytes();
    let mut header = body.record();
    let mut pos = 0;
    let mut blank_lines = 0u64;
    let mut preamble = 0u64;
    let mut best: Option<IngestError> = None;
    loop {
        if pos >= b.len() || preamble as usize > PREAMBLE_ROWS {
            return Err(best.unwrap_or(IngestError::NoHeader {
                path: path.to_path_buf(),
            }));
        }
        let next = header.parse(pos, b.len(), delimiter);
        if header.is_blank() {
            blank_lines += 1;
            pos = next;
            continue;
        }
        match map_columns(path, source, &header.cells_lossy()) {
            Ok(map) => return Ok((map, next, blank_lines, preamble)),
            // The header is there, but a mapped column is in it twice.
            Err(e @ IngestError::DuplicateColumn { .. }) => return Err(e),
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

/// Joins chunk outputs in file order into whole columns and numbered rejects.
fn stitch(
    path: &Path,
    parsed: Parsed,
    label: &'static str,
    sha256: String,
) -> Result<TextTable, IngestError> {
    let Parsed {
        preamble,
        map,
        mut outs,
        mut blank_lines,
        header_lines,
        delimiter,
    } = parsed;
    let mut row_base = 0u64;
    let mut line_base = header_lines;
    let mut rows = Vec::with_capacity(outs.iter().map(|o| o.rows.len()).sum());
    let mut rejects = Vec::new();
    for out in &mut outs {
        rows.extend(out.rows.iter().map(|r| r + row_base));
        for (mut reject, line) in out.rejects.drain(..).zip(&out.reject_lines) {
            reject.row += row_base;
            reject.message = format!("line {}: {}", line_base + line, reject.message);
            rejects.push(reject);
        }
        row_base += out.records;
        line_base += out.newlines;
        blank_lines += out.blank;
    }
    // Columns are joined in parallel, each from its chunks' pieces, which are
    // dropped as soon as their column is joined: the columns are never all
    // held twice.
    let mut pieces: Vec<Vec<ArrayRef>> = (0..map.fields.len())
        .map(|_| Vec::with_capacity(outs.len()))
        .collect();
    for out in &mut outs {
        for (k, column) in out.columns.drain(..).enumerate() {
            pieces[k].push(column);
        }
    }
    drop(outs);
    let columns = pieces
        .into_par_iter()
        .map(|parts| match parts.len() {
            0 => Ok(Arc::new(StringArray::new_null(0)) as ArrayRef),
            1 => Ok(parts[0].clone()),
            _ => {
                let refs: Vec<&dyn arrow_array::Array> = parts.iter().map(|a| a.as_ref()).collect();
                arrow_select::concat::concat(&refs)
            }
        })
        .collect::<Result<Vec<ArrayRef>, _>>()
        .map_err(|source| IngestError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(TextTable {
        map,
        rows: UInt64Array::from(rows),
        columns,
        rejects,
        rows_read: row_base,
        blank_lines,
        encoding: label,
        delimiter,
        sha256,
        preamble,
    })
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
    use arrow_array::Array;
    use proptest::prelude::*;

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
