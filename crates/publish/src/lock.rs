//! The output folder's lock: one run at a time per output folder.
//!
//! `DIR/.aidlink.lock` is locked with the operating system's advisory file
//! lock ([`std::fs::File::try_lock`]), which the kernel releases when the
//! holder exits, also when it crashes or is killed, so a stale lock never
//! blocks the next cron run. A second run fails at once with
//! [`PublishError::Locked`] ([`lock`]) or waits up to a timeout
//! ([`lock_with_timeout`]). Taking the lock also repairs what a crashed run
//! left behind (see [`crate::recover`]).
//!
//! The locks this process holds are remembered, so [`crate::publish`] knows
//! whether its caller already holds the lock (the CLI takes it before it
//! reads the previous period) or whether it must take it itself.

use crate::error::{PublishError, io};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the lock file in the output folder.
pub const LOCK_FILE: &str = ".aidlink.lock";

/// Output folders this process holds the lock of (canonical paths).
static HELD: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A held lock on an output folder, released when dropped.
#[derive(Debug)]
pub struct OutputLock {
    _file: File,
    dir: PathBuf,
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        if let Ok(mut held) = HELD.lock() {
            held.remove(&self.dir);
        }
    }
}

impl OutputLock {
    /// The output folder the lock is for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Takes the output folder's lock (creating the folder if needed), or fails
/// at once with [`PublishError::Locked`] when another run holds it.
pub fn lock(out_dir: &Path) -> Result<OutputLock, PublishError> {
    lock_with_timeout(out_dir, Duration::ZERO)
}

/// Takes the output folder's lock, waiting up to `timeout` for another run
/// to release it.
pub fn lock_with_timeout(out_dir: &Path, timeout: Duration) -> Result<OutputLock, PublishError> {
    std::fs::create_dir_all(out_dir).map_err(io("cannot create output folder", out_dir))?;
    let dir = std::fs::canonicalize(out_dir).map_err(io("cannot resolve", out_dir))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io("cannot open lock file", &path))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if started.elapsed() >= timeout {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(PublishError::Locked {
                        dir,
                        lock: path,
                        holder: if holder.is_empty() {
                            "unknown holder".into()
                        } else {
                            holder.to_string()
                        },
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::Error(e)) => return Err(io("cannot lock", &path)(e)),
        }
    }
    // Record the holder for the message a second run prints.
    let _ = file
        .set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| writeln!(file, "pid {}", std::process::id()));
    if let Ok(mut held) = HELD.lock() {
        held.insert(dir.clone());
    }
    let guard = OutputLock { _file: file, dir };
    crate::recover::recover(&guard.dir)?;
    Ok(guard)
}

/// Whether this process holds the lock of `out_dir`.
pub(crate) fn held_here(out_dir: &Path) -> bool {
    let Ok(dir) = std::fs::canonicalize(out_dir) else {
        return false;
    };
    HELD.lock().map(|h| h.contains(&dir)).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_clearly_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        assert!(held_here(dir.path()));
        let err = lock(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PublishError::Locked { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        assert!(!held_here(dir.path()));
        let again = lock_with_timeout(dir.path(), Duration::from_millis(10)).unwrap();
        drop(again);
    }
}
