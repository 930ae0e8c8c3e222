//! File creation with exact permissions, durable writes and folder syncs.
//!
//! Restricted outputs are created owner-only (files 0600, folders 0700),
//! analyst outputs group-readable (0640, 0750). The mode is set explicitly
//! after creation, so neither a loose nor a tight umask changes it.

use crate::error::{PublishError, io};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Permission bits of restricted files.
pub const RESTRICTED_FILE_MODE: u32 = 0o600;
/// Permission bits of restricted folders.
pub const RESTRICTED_DIR_MODE: u32 = 0o700;
/// Permission bits of analyst-tier files, the manifest and run.json.
pub const SHARED_FILE_MODE: u32 = 0o640;
/// Permission bits of analyst-tier folders and the period folder.
pub const SHARED_DIR_MODE: u32 = 0o750;

/// Writes `bytes` to a new file with `mode` and flushes it to disk.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PublishError> {
    let mut file = create_file(path, mode)?;
    file.write_all(bytes).map_err(io("cannot write", path))?;
    file.sync_all().map_err(io("cannot sync", path))?;
    Ok(())
}

/// Creates (or truncates) a file with exactly `mode`.
fn create_file(path: &Path, mode: u32) -> Result<File, PublishError> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let file = options.open(path).map_err(io("cannot create", path))?;
    set_mode(path, mode)?;
    Ok(file)
}

/// A new file that hashes and counts what is written to it, so a table can
/// be encoded straight to disk (no copy of the whole file in memory) and its
/// manifest entry made without reading it back.
pub(crate) struct HashingFile {
    file: std::io::BufWriter<File>,
    hasher: sha2::Sha256,
    bytes: u64,
}

impl HashingFile {
    /// Creates the file with `mode`.
    pub(crate) fn create(path: &Path, mode: u32) -> Result<Self, PublishError> {
        use sha2::Digest;
        Ok(HashingFile {
            file: std::io::BufWriter::with_capacity(1 << 20, create_file(path, mode)?),
            hasher: sha2::Sha256::new(),
            bytes: 0,
        })
    }

    /// Flushes the file to disk; returns the lower-case hex SHA-256 and the
    /// length of what was written.
    pub(crate) fn finish(self, path: &Path) -> Result<(String, u64), PublishError> {
        use sha2::Digest;
        let file = self
            .file
            .into_inner()
            .map_err(|e| io("cannot write", path)(e.into_error()))?;
        file.sync_all().map_err(io("cannot sync", path))?;
        Ok((hex::encode(self.hasher.finalize()), self.bytes))
    }
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Creates a folder (and missing parents) and sets its mode.
pub(crate) fn make_dir(path: &Path, mode: u32) -> Result<(), PublishError> {
    std::fs::create_dir_all(path).map_err(io("cannot create folder", path))?;
    set_mode(path, mode)
}

/// Sets the permission bits of a file or folder (no-op off Unix).
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), PublishError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(io("cannot set permissions of", path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The permission bits of a file or folder (`None` off Unix).
pub(crate) fn mode_of(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Flushes a folder's entries (new names, renames) to disk.
pub(crate) fn sync_dir(path: &Path) -> Result<(), PublishError> {
    #[cfg(unix)]
    {
        File::open(path)
            .and_then(|d| d.sync_all())
            .map_err(io("cannot sync folder", path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates a relative symbolic link `link -> target` (a copy off Unix).
pub(crate) fn link(target: &str, link: &Path) -> Result<(), PublishError> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link).map_err(io("cannot create link", link))
    }
    #[cfg(not(unix))]
    {
        let from = link.parent().unwrap_or(Path::new(".")).join(target);
        std::fs::copy(&from, link)
            .map(|_| ())
            .map_err(io("cannot copy", link))
    }
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 and length of a file's contents, read in chunks.
pub(crate) fn hash_file(path: &Path) -> Result<(String, u64), PublishError> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = File::open(path).map_err(io("cannot open", path))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io("cannot read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}
