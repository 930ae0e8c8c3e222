//! Parquet encoding of tables: deterministic writer settings and read-back.
//!
//! The writer settings are fixed here, so the same table always gives the
//! same bytes: snappy compression, row groups of [`ROW_GROUP_ROWS`] rows
//! (several per file for DuckDB and Polars to read in parallel, few enough to
//! keep the footer small), pages cut by size only, min/max statistics per
//! row group where they can prune (numbers, dates, sorted text), dictionary
//! encoding only on columns whose values repeat, and key-value metadata that
//! names the table and tier but holds no time or host (see the "Parquet
//! files" section of `docs/schema.md`).
//!
//! A table is encoded row group by row group, the columns of a few row
//! groups at a time in parallel (rayon), and the finished column chunks are
//! appended in order; each chunk's bytes depend only on its values, so the
//! file is the same whatever the thread count. A row group's rows can be
//! transformed just before they are encoded (the analyst view), so the
//! transformed table never exists whole in memory.

use crate::error::{PublishError, io};
use crate::fsio::{RESTRICTED_FILE_MODE, write_file};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::Path;

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows sampled (evenly spaced) to decide which columns get a dictionary.
const SAMPLE_ROWS: usize = 8192;

/// A column gets a dictionary when at most this share of its sampled
/// non-null values are distinct. Dictionary-encoding a column of nearly
/// unique values (ID numbers, person numbers, names, pseudonyms) costs a
/// hash-table insert per value and then falls back to plain encoding anyway;
/// on repeating values (school, county, levels, codes) it makes the file
/// smaller and lets DuckDB and Polars filter on codes.
const DICTIONARY_MAX_DISTINCT_SHARE: f64 = 0.5;

/// The same share for fixed-width numbers and dates, which a dictionary
/// helps less: plain values of a few bytes that rise through the table
/// (record indices, ranks) compress well, while dictionary indices of a
/// column with tens of thousands of values per row group do not. At a 1M
/// run, `match_state.left` and `right` (42% distinct in the sample) took
/// four times the CPU with a dictionary and came out 30% larger.
const DICTIONARY_MAX_DISTINCT_SHARE_NUMBERS: f64 = 0.25;

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
    encode_view_into(batch, &|rows, _| Ok(rows.clone()), metadata, path, sink)
}

/// A transformation of a table's rows that works on any slice of them:
/// `view(rows, first_row)` gets rows `first_row..` of the table.
pub(crate) type RowView<'a> =
    dyn Fn(&RecordBatch, usize) -> Result<RecordBatch, PublishError> + Sync + 'a;

/// Encodes `view` of `batch` into `sink`, one row group at a time: each row
/// group's rows are sliced out (no copy), transformed and encoded, so only a
/// few row groups' views are in memory at once. The view must give every
/// slice the same schema.
pub(crate) fn encode_view_into<W: std::io::Write + Send>(
    batch: &RecordBatch,
    view: &RowView<'_>,
    metadata: &[(&str, String)],
    path: &Path,
    sink: W,
) -> Result<W, PublishError> {
    encode_groups(batch, view, metadata, path, sink, ROW_GROUP_ROWS)
}

/// [`encode_view_into`] with row groups of `group_rows` rows (tests use
/// small ones).
fn encode_groups<W: std::io::Write + Send>(
    batch: &RecordBatch,
    view: &RowView<'_>,
    metadata: &[(&str, String)],
    path: &Path,
    sink: W,
    group_rows: usize,
) -> Result<W, PublishError> {
    let group_rows = group_rows.max(1);
    let parquet_err = |source| PublishError::Parquet {
        path: path.to_path_buf(),
        error: source,
    };
    let n = batch.num_rows();
    let groups: Vec<(usize, usize)> = (0..n.div_ceil(group_rows))
        .map(|g| (g * group_rows, group_rows.min(n - g * group_rows)))
        .collect();
    // The first row group's view fixes the schema; a sample of rows from
    // the whole table decides the dictionaries. A sample whose view fails
    // decides nothing: the row group holding the failing row reports it.
    let first = view(&batch.slice(0, groups.first().map_or(0, |g| g.1)), 0)?;
    let schema = first.schema();
    let sample = sample_rows(batch)
        .and_then(|rows| view(&rows, 0).ok())
        .filter(|s| s.schema() == schema)
        .unwrap_or_else(|| first.clone());
    let props = properties_of_sample(&sample, metadata);
    let writer = ArrowWriter::try_new(sink, schema.clone(), Some(props)).map_err(parquet_err)?;
    let (mut file, factory) = writer.into_serialized_writer().map_err(parquet_err)?;

    // A few row groups per round, at least one per thread, each with its
    // columns in parallel; a round's chunks are appended in order.
    let per_round = rayon::current_num_threads().max(1) * 2;
    let mut first = Some(first);
    for (round, window) in groups.chunks(per_round).enumerate() {
        let encoded: Vec<Result<Vec<ArrowColumnChunk>, PublishError>> = window
            .par_iter()
            .enumerate()
            .map(|(i, &(offset, len))| {
                let index = round * per_round + i;
                let rows = match (index, &first) {
                    (0, Some(first)) => first.clone(),
                    _ => view(&batch.slice(offset, len), offset)?,
                };
                if rows.schema() != schema {
                    return Err(PublishError::Arrow {
                        path: path.to_path_buf(),
                        error: arrow_schema::ArrowError::SchemaError(format!(
                            "row group {index} has another schema than the first"
                        )),
                    });
                }
                let writers = factory.create_column_writers(index).map_err(parquet_err)?;
                let mut leaves = Vec::with_capacity(writers.len());
                for (field, column) in schema.fields().iter().zip(rows.columns()) {
                    leaves.extend(compute_leaves(field, column).map_err(parquet_err)?);
                }
                writers
                    .into_par_iter()
                    .zip(leaves.into_par_iter())
                    .map(|(mut writer, leaf)| {
                        writer.write(&leaf).map_err(parquet_err)?;
                        writer.close().map_err(parquet_err)
                    })
                    .collect()
            })
            .collect();
        first = None;
        for chunks in encoded {
            let mut group = file.next_row_group().map_err(parquet_err)?;
            for chunk in chunks? {
                chunk.append_to_row_group(&mut group).map_err(parquet_err)?;
            }
            group.close().map_err(parquet_err)?;
        }
    }
    file.into_inner().map_err(parquet_err)
}

/// Up to [`SAMPLE_ROWS`] evenly spaced rows of `batch` (all of a small one).
fn sample_rows(batch: &RecordBatch) -> Option<RecordBatch> {
    let n = batch.num_rows();
    if n <= SAMPLE_ROWS {
        return Some(batch.clone());
    }
    let step = n / SAMPLE_ROWS;
    let indices = UInt32Array::from_iter_values((0..SAMPLE_ROWS).map(|i| (i * step) as u32));
    arrow_select::take::take_record_batch(batch, &indices).ok()
}

/// The writer settings publish uses for `table`, with `metadata` as the
/// file's key-value pairs: evenly spaced rows of the table decide which
/// columns get a dictionary and statistics. Public so benchmarks encode
/// exactly as publish does.
pub fn parquet_writer_properties(
    table: &RecordBatch,
    metadata: &[(&str, String)],
) -> WriterProperties {
    match sample_rows(table) {
        Some(sample) => properties_of_sample(&sample, metadata),
        None => properties_of_sample(table, metadata),
    }
}

/// [`parquet_writer_properties`] decided on `sample`, rows already sampled.
fn properties_of_sample(sample: &RecordBatch, metadata: &[(&str, String)]) -> WriterProperties {
    let kv = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
        .collect();
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Row-group min/max is what DuckDB and Polars prune with; the page
        // index (per-page statistics) costs encoding time and footer bytes
        // that neither reads.
        .set_statistics_enabled(EnabledStatistics::Chunk)
        // Pages end at the size limit only (1 MiB before compression), not
        // also every 20,000 rows: the row limit serves the page index,
        // which is off, and only multiplied the pages of narrow columns
        // (seven per row group), each with its own buffers and header.
        .set_data_page_row_count_limit(usize::MAX)
        .set_dictionary_enabled(false)
        .set_key_value_metadata(Some(kv));
    // Each leaf column's path, from the same conversion the writer makes.
    if let Ok(descr) = ArrowSchemaConverter::new().convert(sample.schema_ref()) {
        for leaf in 0..descr.num_columns() {
            let Some(column) = sample.columns().get(descr.get_column_root_idx(leaf)) else {
                continue;
            };
            let path = descr.column(leaf).path().clone();
            if repeats(column.as_ref()) {
                builder = builder.set_column_dictionary_enabled(path.clone(), true);
            }
            if is_bytes(column.as_ref()) && !sorted_bytes(column.as_ref()) {
                // The min and max of unsorted text or binary (names,
                // addresses, pseudonyms, JSON, schools, change types, match
                // levels) span almost every value in every row group, so
                // they prune nothing; comparing every value to keep them
                // cost up to a seventh of the encoding time at 1M, much of
                // it on short repeating codes, whose dictionary does not
                // spare the comparisons.
                builder = builder.set_column_statistics_enabled(path, EnabledStatistics::None);
            }
        }
    }
    builder.build()
}

/// Whether a column holds text or binary values (also as lists, or
/// dictionary-encoded in memory): the types whose statistics compare bytes.
fn is_bytes(column: &dyn Array) -> bool {
    fn bytes_type(t: &DataType) -> bool {
        match t {
            DataType::Utf8 | DataType::Binary | DataType::FixedSizeBinary(_) => true,
            DataType::Dictionary(_, values) => bytes_type(values),
            DataType::List(item) => bytes_type(item.data_type()),
            _ => false,
        }
    }
    bytes_type(column.data_type())
}

/// Whether a text or binary column's non-null values are in ascending
/// order (a key a table is sorted by, whose row-group min and max do
/// prune). Lists count as unsorted.
fn sorted_bytes(column: &dyn Array) -> bool {
    if let Some(strings) = column.as_string_opt::<i32>() {
        return ascending(strings.iter().flatten().map(str::as_bytes));
    }
    if let Some(binary) = column.as_fixed_size_binary_opt() {
        return ascending(binary.iter().flatten());
    }
    if let Some(dictionary) = column.as_any_dictionary_opt() {
        let keys = dictionary.normalized_keys();
        let values = dictionary.values();
        if let Some(strings) = values.as_string_opt::<i32>() {
            return ascending(
                keys.iter()
                    .enumerate()
                    .filter(|&(i, _)| column.is_valid(i))
                    .map(|(_, &k)| strings.value(k).as_bytes()),
            );
        }
    }
    false
}

/// Whether `values` are in ascending order and not empty.
fn ascending<'a>(mut values: impl Iterator<Item = &'a [u8]>) -> bool {
    let Some(mut previous) = values.next() else {
        return false;
    };
    for v in values {
        if v < previous {
            return false;
        }
        previous = v;
    }
    true
}

/// Whether a column's non-null values repeat enough for a dictionary (see
/// [`DICTIONARY_MAX_DISTINCT_SHARE`] and
/// [`DICTIONARY_MAX_DISTINCT_SHARE_NUMBERS`]); list columns are judged by their
/// items, dictionary arrays always keep theirs. Booleans and other types
/// never get one.
fn repeats(column: &dyn Array) -> bool {
    let data = column.to_data();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut values = 0usize;
    match column.data_type() {
        DataType::Utf8 => {
            let strings = column.as_string::<i32>();
            for v in strings.iter().flatten() {
                seen.insert(v.as_bytes());
                values += 1;
            }
        }
        // Already dictionary-encoded in memory: the stage that built it
        // knows its values repeat (sources, levels, rules).
        DataType::Dictionary(_, _) => return true,
        DataType::List(_) => {
            let list = column.as_list::<i32>();
            let offsets = list.offsets();
            let (start, end) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            return repeats(list.values().slice(start, end - start).as_ref());
        }
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32
        | DataType::Date64 => {
            let Some(width) = column.data_type().primitive_width() else {
                return false;
            };
            let Some(buffer) = data.buffers().first() else {
                return false;
            };
            let bytes = buffer.as_slice();
            for i in (0..column.len()).filter(|&i| column.is_valid(i)) {
                let at = (data.offset() + i) * width;
                if let Some(v) = bytes.get(at..at + width) {
                    seen.insert(v);
                    values += 1;
                }
            }
            return seen.len() as f64 <= values as f64 * DICTIONARY_MAX_DISTINCT_SHARE_NUMBERS;
        }
        _ => return false,
    }
    seen.len() as f64 <= values as f64 * DICTIONARY_MAX_DISTINCT_SHARE
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

#[cfg(test)]
mod tests {
    use super::*;
    use aidlink_privacy::{PseudonymKey, analyst_view};
    use aidlink_vocab::{CivilDate, ResidentId};
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{ArrayRef, Date32Array, StringArray, UInt64Array};
    use std::sync::Arc;

    /// A persons-like table of `n` rows with text, list, date and number
    /// columns, nulls, repeats and unique values.
    fn table(n: usize) -> RecordBatch {
        let mut schools = ListBuilder::new(StringBuilder::new());
        for i in 0..n {
            if i % 7 == 3 {
                schools.append_null();
                continue;
            }
            for s in 0..(i % 3) {
                schools
                    .values()
                    .append_value(format!("第{}小学", (i + s) % 5));
            }
            schools.append(true);
        }
        let day = CivilDate::new(2014, 2, 3).unwrap().to_days();
        RecordBatch::try_from_iter([
            (
                "person_id",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("P{i:08}")),
                )) as ArrayRef,
            ),
            (
                "name",
                Arc::new(StringArray::from_iter(
                    (0..n).map(|i| (i % 11 != 0).then(|| format!("学生{}", i % 40))),
                )) as ArrayRef,
            ),
            ("schools", Arc::new(schools.finish()) as ArrayRef),
            (
                "birth_date",
                Arc::new(Date32Array::from_iter(
                    (0..n).map(|i| (i % 5 != 0).then_some(day + (i % 100) as i32)),
                )) as ArrayRef,
            ),
            (
                "record_count",
                Arc::new(UInt64Array::from_iter_values((0..n).map(|i| i as u64 % 4))) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes(b"parquet-io-test-key-0123456789abcdef", "test").unwrap()
    }

    fn encode_in_pool(threads: usize, batch: &RecordBatch, group_rows: usize) -> Vec<u8> {
        let k = key();
        let view = |rows: &RecordBatch, first_row: usize| {
            analyst_view("persons", rows, &k).map_err(|e| PublishError::Privacy {
                table: "persons".into(),
                error: e.offset_rows(first_row),
            })
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            encode_groups(
                batch,
                &view,
                &[("aidlink.table", "persons".into())],
                Path::new("t.parquet"),
                Vec::new(),
                group_rows,
            )
            .unwrap()
        })
    }

    /// The view made row group by row group, read back, is the view of the
    /// whole table, and the bytes do not depend on the thread count.
    #[test]
    fn views_by_row_group_are_the_whole_view_and_thread_independent() {
        let batch = table(1000);
        let one = encode_in_pool(1, &batch, 64);
        let four = encode_in_pool(4, &batch, 64);
        assert_eq!(one, four, "bytes depend on the thread count");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        std::fs::write(&path, &one).unwrap();
        let back = read(&path).unwrap();
        let whole = analyst_view("persons", &batch, &key()).unwrap();
        assert_eq!(back.num_rows(), 1000);
        assert_eq!(back.columns(), whole.columns());
        let meta = parquet::file::reader::FileReader::metadata(
            &parquet::file::serialized_reader::SerializedFileReader::new(
                std::fs::File::open(&path).unwrap(),
            )
            .unwrap(),
        )
        .clone();
        assert_eq!(meta.num_row_groups(), 1000usize.div_ceil(64));
    }

    /// A restricted table round-trips through several row groups, and the
    /// dictionary goes to repeating columns only.
    #[test]
    fn tables_round_trip_across_row_groups_with_dictionaries_where_values_repeat() {
        let batch = table(700);
        let identity = |rows: &RecordBatch, _: usize| Ok(rows.clone());
        let bytes = encode_groups(&batch, &identity, &[], Path::new("t"), Vec::new(), 100).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap(), batch);
        let props = parquet_writer_properties(&batch, &[]);
        let dictionary = |p: &[&str]| {
            props.dictionary_enabled(&parquet::schema::types::ColumnPath::new(
                p.iter().map(|s| s.to_string()).collect(),
            ))
        };
        assert!(!dictionary(&["person_id"]));
        assert!(dictionary(&["name"]));
        assert!(dictionary(&["schools", "list", "item"]));
        assert!(dictionary(&["birth_date"]));
        assert!(dictionary(&["record_count"]));
        // A column dictionary-encoded in memory keeps its dictionary.
        let codes: arrow_array::DictionaryArray<arrow_array::types::UInt16Type> =
            ["S0", "S1", "S2"].into_iter().cycle().take(500).collect();
        let coded = RecordBatch::try_from_iter([("rules", Arc::new(codes) as ArrayRef)]).unwrap();
        let props = parquet_writer_properties(&coded, &[]);
        assert!(
            props.dictionary_enabled(&parquet::schema::types::ColumnPath::new(vec![
                "rules".into()
            ]))
        );
    }

    /// Min/max statistics are kept where they can prune (numbers, dates,
    /// sorted text) and dropped on unsorted text, lists and binary, also
    /// when the values repeat; numbers get a dictionary only when few of
    /// their values are distinct.
    #[test]
    fn statistics_only_where_they_prune_and_dictionaries_for_few_numbers() {
        use parquet::schema::types::ColumnPath;
        let batch = table(700);
        let props = parquet_writer_properties(&batch, &[]);
        let stats = |p: &[&str]| {
            props.statistics_enabled(&ColumnPath::new(p.iter().map(|s| s.to_string()).collect()))
        };
        assert_eq!(stats(&["person_id"]), EnabledStatistics::Chunk);
        assert_eq!(stats(&["name"]), EnabledStatistics::None);
        assert_eq!(stats(&["schools", "list", "item"]), EnabledStatistics::None);
        assert_eq!(stats(&["birth_date"]), EnabledStatistics::Chunk);
        assert_eq!(stats(&["record_count"]), EnabledStatistics::Chunk);

        let n = 1000u32;
        let codes: arrow_array::DictionaryArray<arrow_array::types::UInt16Type> =
            (0..n).map(|i| ["b", "a", "c"][i as usize % 3]).collect();
        let sorted_codes: arrow_array::DictionaryArray<arrow_array::types::UInt16Type> = (0..n)
            .map(|i| ["a", "b", "c"][(i * 3 / n) as usize])
            .collect();
        let tags = arrow_array::FixedSizeBinaryArray::try_from_iter(
            (0..n).map(|i| (i.wrapping_mul(2_654_435_761)).to_le_bytes()),
        )
        .unwrap();
        let batch = RecordBatch::try_from_iter([
            ("codes", Arc::new(codes) as ArrayRef),
            ("sorted_codes", Arc::new(sorted_codes) as ArrayRef),
            ("tags", Arc::new(tags) as ArrayRef),
            // 40% distinct: plain; 10% distinct: a dictionary.
            (
                "left",
                Arc::new(arrow_array::UInt32Array::from_iter_values(
                    (0..n).map(|i| i * 2 / 5),
                )) as ArrayRef,
            ),
            (
                "rank",
                Arc::new(arrow_array::UInt32Array::from_iter_values(
                    (0..n).map(|i| i % 100),
                )) as ArrayRef,
            ),
        ])
        .unwrap();
        let props = parquet_writer_properties(&batch, &[]);
        let column = |name: &str| ColumnPath::new(vec![name.to_string()]);
        assert_eq!(
            props.statistics_enabled(&column("codes")),
            EnabledStatistics::None
        );
        assert_eq!(
            props.statistics_enabled(&column("sorted_codes")),
            EnabledStatistics::Chunk
        );
        assert_eq!(
            props.statistics_enabled(&column("tags")),
            EnabledStatistics::None
        );
        assert!(!props.dictionary_enabled(&column("left")));
        assert!(props.dictionary_enabled(&column("rank")));
        // Whatever the settings, the table reads back as it was.
        let identity = |rows: &RecordBatch, _: usize| Ok(rows.clone());
        let bytes = encode_groups(&batch, &identity, &[], Path::new("t"), Vec::new(), 300).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap(), batch);
    }

    /// A leak found in a later row group names its row in the whole table.
    #[test]
    fn a_leak_in_a_later_row_group_names_its_row_in_the_table() {
        let id = ResidentId::from_parts("110105", CivilDate::new(2012, 3, 5).unwrap(), 123)
            .unwrap()
            .as_str()
            .to_string();
        let n = 300;
        let mut batch = table(n);
        let notes: ArrayRef = Arc::new(StringArray::from_iter(
            (0..n).map(|i| (i == 250).then(|| format!("see {id}"))),
        ));
        let mut columns = batch.columns().to_vec();
        columns.push(notes);
        let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
        fields.push(Arc::new(arrow_schema::Field::new(
            "rule",
            DataType::Utf8,
            true,
        )));
        batch = RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap();
        let k = key();
        let view = |rows: &RecordBatch, first_row: usize| {
            analyst_view("persons", rows, &k).map_err(|e| PublishError::Privacy {
                table: "persons".into(),
                error: e.offset_rows(first_row),
            })
        };
        let err = encode_groups(&batch, &view, &[], Path::new("t"), Vec::new(), 64).unwrap_err();
        assert!(err.to_string().contains("row 251"), "{err}");
    }
}
