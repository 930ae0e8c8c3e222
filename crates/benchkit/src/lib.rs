//! What the benchmark examples of the stage crates share (a dev-dependency
//! only; nothing in the pipeline uses it): reading a whole published Parquet
//! table, and the process's CPU time and memory from `/proc`, which on a
//! shared machine say more than wall time.

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

/// An error of reading a table, with the file it happened on.
pub type Error = Box<dyn std::error::Error>;

/// Reads a whole Parquet file as one batch, with the schema it was written with.
pub fn read_parquet(path: &Path) -> Result<RecordBatch, Error> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| at(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| at(&e))?;
    let schema = builder.schema().clone();
    let rows = builder.metadata().file_metadata().num_rows().max(1) as usize;
    let batches = builder
        .with_batch_size(rows)
        .build()
        .map_err(|e| at(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at(&e))?;
    Ok(arrow_select::concat::concat_batches(&schema, &batches).map_err(|e| at(&e))?)
}

/// CPU seconds (user and system, every thread) the process has used so far,
/// from `/proc/self/stat` at the usual 100 ticks a second; 0 without `/proc`.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses): utime is
    // the 12th and stime the 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// A memory line of `/proc/self/status` in KiB (`VmHWM` is the peak resident
/// size so far, `VmRSS` the current one); 0 without `/proc`.
pub fn status_kib(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_and_memory_is_read() {
        let before = cpu_seconds();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_seconds() >= before);
        if Path::new("/proc/self/status").exists() {
            assert!(status_kib("VmHWM") > 0);
            assert!(status_kib("VmHWM") >= status_kib("VmRSS") / 2);
        }
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let err = read_parquet(Path::new("/nonexistent/x.parquet")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.parquet"), "{err}");
    }
}
