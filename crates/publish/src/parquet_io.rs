//! Parquet encoding of tables: deterministic writer settings and read-back.
//!
//! The writer settings are fixed here, so the same table always gives the
//! same bytes: snappy compression, row groups of [`ROW_GROUP_ROWS`] rows
//! (several per file for DuckDB and Polars to read in parallel, few enough to
//! keep the footer small), default statistics, and key-value metadata that
//! names the table and tier but holds no time or host.

use crate::error::{PublishError, io};
use crate::fsio::{RESTRICTED_FILE_MODE, write_file};
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::path::Path;

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Encodes a table as Parquet bytes, with `metadata` as key-value pairs.
pub(crate) fn encode(
    batch: &RecordBatch,
    metadata: &[(&str, String)],
    path: &Path,
) -> Result<Vec<u8>, PublishError> {
    encode_into(batch, metadata, path, Vec::new())
}

/// Encodes a table as Parquet into `sink` (the same bytes as [`encode`]);
/// `path` names the file in errors.
pub(crate) fn encode_into<W: std::io::Write + Send>(
    batch: &RecordBatch,
    metadata: &[(&str, String)],
    path: &Path,
    sink: W,
) -> Result<W, PublishError> {
    let parquet_err = |source| PublishError::Parquet {
        path: path.to_path_buf(),
        error: source,
    };
    let kv = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(kv))
        .build();
    let mut writer =
        ArrowWriter::try_new(sink, batch.schema(), Some(props)).map_err(parquet_err)?;
    writer.write(batch).map_err(parquet_err)?;
    writer.into_inner().map_err(parquet_err)
}

/// Reads a whole Parquet file back into one table.
pub(crate) fn read(path: &Path) -> Result<RecordBatch, PublishError> {
    let parquet_err = |source| PublishError::Parquet {
        path: path.to_path_buf(),
        error: source,
    };
    let file = std::fs::File::open(path).map_err(io("cannot open", path))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let schema = builder.schema().clone();
    let rows = builder.metadata().file_metadata().num_rows().max(1) as usize;
    let reader = builder.with_batch_size(rows).build().map_err(parquet_err)?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| PublishError::Arrow {
            path: path.to_path_buf(),
            error: source,
        })?;
    // The file's own key-value pairs (period, table, tier) come back as
    // schema metadata; drop them so a table reads back as it was written.
    let mut metadata = schema.metadata().clone();
    metadata.retain(|k, _| !FILE_KEYS.contains(&k.as_str()));
    let schema = std::sync::Arc::new(schema.as_ref().clone().with_metadata(metadata));
    let batches = batches
        .into_iter()
        .map(|b| b.with_schema(schema.clone()))
        .collect::<Result<Vec<_>, _>>();
    batches
        .and_then(|b| arrow_select::concat::concat_batches(&schema, &b))
        .map_err(|source| PublishError::Arrow {
            path: path.to_path_buf(),
            error: source,
        })
}

/// Key-value metadata keys that [`encode`] callers add per file.
pub(crate) const FILE_KEYS: &[&str] = &["aidlink.period", "aidlink.table", "aidlink.tier"];

/// Writes one table to a Parquet file of its own (owner-only), outside any
/// period: `aidlink diff --write` uses it. The file is written under a
/// temporary name and renamed, so a reader never sees half of it.
pub fn write_parquet_file(path: &Path, batch: &RecordBatch) -> Result<(), PublishError> {
    let bytes = encode(batch, &[], path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    write_file(&tmp, &bytes, RESTRICTED_FILE_MODE)?;
    std::fs::rename(&tmp, path).map_err(io("cannot rename into", path))
}
