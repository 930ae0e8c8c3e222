//! Reads departmental extracts (CSV, TSV, Excel, Parquet; UTF-8 or GB18030) into raw tables.
//!
//! Ingest is the first stage of the flow: it reads one configured source
//! file for a period and hands normalization a **raw table**
//! ([`aidlink_vocab::schema::raw_schema`]): `source_row` and one `Utf8`
//! column per mapped field, holding each cell's text exactly as the file had
//! it (an empty cell is null). Nothing is normalized here.
//!
//! What ingest guarantees:
//! * **nothing is silently dropped**: every data row is either in `raw` or in
//!   `rejects` (with its raw text, a reason code and a message), and
//!   `stats.rows_read == raw.num_rows() + stats.rows_rejected`;
//! * a file whose mapped columns are missing fails at once, with an error
//!   naming the file, the missing fields and headers, and the headers the
//!   file has ([`IngestError::MissingColumns`]);
//! * the same file gives byte-identical tables whatever the thread count.
//!
//! ```no_run
//! use aidlink_config::Config;
//! use aidlink_vocab::Period;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("aidlink.toml".as_ref())?;
//! let out = aidlink_ingest::read_source(&config, "enrollment", Period::parse("2026-11")?)?;
//! println!("{} rows, {} rejected, {}", out.stats.rows_read, out.stats.rows_rejected, out.stats.encoding);
//! # Ok(()) }
//! ```
//!
//! Formats, encodings and reject reasons are documented in `docs/ingest.md`.

mod columnar;
mod decode;
mod delimited;
mod error;
mod excel;
mod header;
mod records;
mod reject;
mod sink;
mod stats;

pub use error::{IngestError, MissingColumn};
pub use excel::number_text;
pub use reject::RejectReason;
pub use stats::{CheckReport, InputStats, count_reasons, format_name, reject_codes};

use aidlink_config::{Config, Format, SourceConfig};
use aidlink_vocab::Period;
use aidlink_vocab::schema::raw_schema;
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use header::ColumnMap;
use reject::{Reject, rejects_batch};
use sha2::{Digest, Sha256};
use sink::RowSink;
use std::path::Path;
use std::sync::Arc;

/// One source file, read.
#[derive(Clone, Debug)]
pub struct IngestOutput {
    /// Accepted rows: `source_row` and the mapped fields' text, in the order
    /// of the config's `columns` keys.
    pub raw: RecordBatch,
    /// Rejected rows (`rejects_schema()`), in file order.
    pub rejects: RecordBatch,
    /// Facts about the file.
    pub stats: InputStats,
}

/// Reads source `name` of `config` for `period`.
pub fn read_source(
    config: &Config,
    name: &str,
    period: Period,
) -> Result<IngestOutput, IngestError> {
    let source = config
        .sources
        .get(name)
        .ok_or_else(|| IngestError::UnknownSource {
            name: name.to_string(),
            available: config.sources.keys().cloned().collect(),
        })?;
    read_file(name, source, &config.source_path(source, period))
}

/// Reads sources `names` of `config` for `period`, several at once (each is
/// parallel inside too, but its file is hashed, decoded and stitched in
/// steps one thread does alone, which another source's work fills), and
/// returns their outputs in the order of `names`: each the same as
/// [`read_source`]'s. When sources fail, the error is the first failing
/// source's in that order, so it does not depend on timing.
pub fn read_sources(
    config: &Config,
    names: &[&str],
    period: Period,
) -> Result<Vec<IngestOutput>, IngestError> {
    use rayon::prelude::*;
    let results: Vec<Result<IngestOutput, IngestError>> = names
        .par_iter()
        .with_max_len(1)
        .map(|name| read_source(config, name, period))
        .collect();
    results.into_iter().collect()
}

/// Reads source `name`'s file at an already resolved `path`.
pub fn read_file(
    name: &str,
    source: &SourceConfig,
    path: &Path,
) -> Result<IngestOutput, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let format = match (source.format, sniff_binary_format(path).map_err(io)?) {
        // A workbook or Parquet file saved under a text extension is read
        // as what it is, when the config leaves the format to us.
        (Format::Auto, Some(actual)) => actual,
        _ => resolve_format(source.format, path)?,
    };
    let (table, sha256, bytes, encoding, delimiter) = match format {
        Format::Parquet => {
            let (sha256, bytes) = hash_file(path).map_err(io)?;
            let t = columnar::read_parquet(path, source)?;
            let n = t.rows.len() as u64;
            let table = assemble(path, name, &t.map, t.rows, t.columns, t.rejects, n, 0)?;
            (table, sha256, bytes, "binary", None)
        }
        Format::Xlsx | Format::Xls => {
            let data = std::fs::read(path).map_err(io)?;
            let (sha256, bytes) = (delimited::sha256_hex(&data), data.len() as u64);
            let table = excel::read_workbook(path, name, source, data)?;
            (table, sha256, bytes, "binary", None)
        }
        Format::Csv | Format::Tsv | Format::Auto => {
            let t = delimited::read_path(path, source, format)?;
            let bytes = t.bytes;
            let mut table = assemble(
                path,
                name,
                &t.map,
                t.rows,
                t.columns,
                t.rejects,
                t.rows_read,
                t.blank_lines,
            )?;
            table.preamble = t.preamble;
            (
                table,
                t.sha256,
                bytes,
                t.encoding,
                Some(char::from(t.delimiter)),
            )
        }
    };
    Ok(IngestOutput {
        stats: InputStats {
            source: name.to_string(),
            path: path.to_path_buf(),
            sha256,
            bytes,
            format,
            encoding: encoding.to_string(),
            rows_read: table.rows_read,
            rows_rejected: table.rejects.num_rows() as u64,
            delimiter,
            blank_lines: table.blank_lines,
            preamble_rows: table.preamble,
        },
        raw: table.raw,
        rejects: table.rejects,
    })
}

/// Reads a source and summarizes it for `aidlink check`: the file's facts and
/// its rejected rows by reason. Use [`CheckReport::from_output`] instead when
/// the raw table is needed too (for the check-digit share, say).
pub fn check_source(
    config: &Config,
    name: &str,
    period: Period,
) -> Result<CheckReport, IngestError> {
    read_source(config, name, period).map(|out| CheckReport::from_output(&out))
}

/// The format a source is read as: the configured one, or the extension's.
pub fn resolve_format(format: Format, path: &Path) -> Result<Format, IngestError> {
    if format != Format::Auto {
        return Ok(format);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "csv" | "txt" => Ok(Format::Csv),
        "tsv" | "tab" => Ok(Format::Tsv),
        "xlsx" | "xlsm" => Ok(Format::Xlsx),
        "xls" => Ok(Format::Xls),
        "parquet" | "pq" => Ok(Format::Parquet),
        _ => Err(IngestError::UnknownFormat {
            path: path.to_path_buf(),
            extension,
        }),
    }
}

/// The format a file's first bytes prove: a ZIP container (`.xlsx`), an OLE
/// compound document (`.xls`) or Parquet; `None` for anything else (text).
fn sniff_binary_format(path: &Path) -> std::io::Result<Option<Format>> {
    use std::io::Read;
    let mut magic = [0u8; 8];
    let mut file = std::fs::File::open(path)?;
    let mut n = 0;
    while n < magic.len() {
        match file.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let magic = &magic[..n];
    Ok(if magic.starts_with(b"PK\x03\x04") {
        Some(Format::Xlsx)
    } else if magic.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        Some(Format::Xls)
    } else if magic.starts_with(b"PAR1") {
        Some(Format::Parquet)
    } else {
        None
    })
}

/// SHA-256 and size of a file, streamed (for formats read from the file itself).
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), bytes))
}

/// A reader's result as Arrow tables.
pub(crate) struct RawTable {
    raw: RecordBatch,
    rejects: RecordBatch,
    rows_read: u64,
    blank_lines: u64,
    /// Rows above the header skipped as a title or notes.
    preamble: u64,
}

/// Builds the tables from a sink that collected a whole file.
pub(crate) fn build_raw(
    path: &Path,
    name: &str,
    map: &ColumnMap,
    sink: RowSink<'_>,
    rows_read: u64,
    blank_lines: u64,
) -> Result<RawTable, IngestError> {
    let (columns, rows, rejects) = sink.finish();
    assemble(
        path,
        name,
        map,
        UInt64Array::from(rows),
        columns,
        rejects,
        rows_read,
        blank_lines,
    )
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    path: &Path,
    name: &str,
    map: &ColumnMap,
    rows: UInt64Array,
    columns: Vec<ArrayRef>,
    rejects: Vec<Reject>,
    rows_read: u64,
    blank_lines: u64,
) -> Result<RawTable, IngestError> {
    let arrow = |source| IngestError::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let schema = raw_schema(map.fields.iter().map(String::as_str));
    let mut all: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 1);
    all.push(Arc::new(rows));
    all.extend(columns);
    let raw = RecordBatch::try_new(schema, all).map_err(arrow)?;
    let rejects = rejects_batch(name, &rejects).map_err(arrow)?;
    Ok(RawTable {
        raw,
        rejects,
        rows_read,
        blank_lines,
        preamble: 0,
    })
}
