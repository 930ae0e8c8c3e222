//! The errors of the publish stage.
//!
//! Causes are kept in fields named `error`, not `source`, and written into
//! the message: a caller printing the chain (`{:#}` with anyhow) would
//! otherwise show every cause twice.

use std::path::PathBuf;
use thiserror::Error;

/// What can go wrong while writing or reading published output.
#[derive(Debug, Error)]
pub enum PublishError {
    /// A file or folder operation failed.
    #[error("{action} {path}: {error}")]
    Io {
        /// What was being done (`cannot write`, `cannot rename`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The IO error.
        error: std::io::Error,
    },
    /// Another run holds the output folder's lock.
    #[error(
        "output folder {dir} is in use by another aidlink run ({holder}); lock file {lock}; wait for it to finish or run again later"
    )]
    Locked {
        /// The output folder.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// What the lock file says about its holder (`pid 1234`), or `unknown holder`.
        holder: String,
    },
    /// A table or file name that cannot be a file name in the output.
    #[error(
        "output name `{name}` is not allowed: use lower-case letters, digits, `_`, `-` and `.` only (not starting with `.`)"
    )]
    BadName {
        /// The name given.
        name: String,
    },
    /// The same table or file name was given twice, or one that aidlink
    /// writes itself (`manifest.json`, `run.json`, the aggregate tables).
    #[error(
        "output name `{name}` is given twice or is reserved (manifest.json, run.json, restricted, analyst, replaced, flags_by_kind, flags_by_school, flags_by_county)"
    )]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// An input's rows do not add up.
    #[error(
        "input {source_name}: rows_read {read} != rows_accepted {accepted} + rows_rejected {rejected}"
    )]
    RowAccounting {
        /// The source.
        source_name: String,
        /// Rows read.
        read: u64,
        /// Rows accepted.
        accepted: u64,
        /// Rows rejected.
        rejected: u64,
    },
    /// `[privacy] require_key = true` but no key is configured.
    #[error(
        "no pseudonym key is configured and [privacy] require_key is true: set [privacy] key_file or key_env; the analyst tier is never written with a default key"
    )]
    NoKey,
    /// Building an analyst table failed.
    #[error("analyst tier of table {table}: {error}")]
    Privacy {
        /// The table.
        table: String,
        /// The privacy stage's error.
        error: aidlink_privacy::PrivacyError,
    },
    /// Writing or reading Parquet failed.
    #[error("parquet {path}: {error}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// Parquet's error.
        error: parquet::errors::ParquetError,
    },
    /// Reading Parquet back into Arrow failed.
    #[error("parquet {path}: {error}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// Arrow's error.
        error: arrow_schema::ArrowError,
    },
    /// A manifest cannot be read or has an unexpected shape.
    #[error("manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A published file no longer has the hash its manifest records.
    #[error(
        "{path} does not match its manifest (sha256 {found}, manifest says {expected}); run `aidlink verify`"
    )]
    Tampered {
        /// The file.
        path: PathBuf,
        /// Hash in the manifest.
        expected: String,
        /// Hash of the file now.
        found: String,
    },
    /// A staged period was used again after one of its steps failed (that
    /// error was returned by an earlier call).
    #[error(
        "publishing period {period} failed at an earlier step, reported then; this stage takes no more work and publishes nothing"
    )]
    StageFailed {
        /// The period.
        period: String,
    },
    /// A simulated crash (tests only).
    #[error("simulated crash at {0}")]
    SimulatedCrash(&'static str),
}

/// Shorthand for an IO error with its path.
pub(crate) fn io<'a>(
    action: &'static str,
    path: &'a std::path::Path,
) -> impl FnOnce(std::io::Error) -> PublishError + 'a {
    move |source| PublishError::Io {
        action,
        path: path.to_path_buf(),
        error: source,
    }
}
