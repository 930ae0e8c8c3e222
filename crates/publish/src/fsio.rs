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
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(path).map_err(io("cannot create", path))?;
    set_mode(path, mode)?;
    file.write_all(bytes).map_err(io("cannot write", path))?;
    file.sync_all().map_err(io("cannot sync", path))?;
    Ok(())
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
