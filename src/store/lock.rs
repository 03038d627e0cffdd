//! Brief, bounded locks: a hook never waits on one for more than [`HOOK_LOCK_WAIT`].

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use super::{Result, StoreError};

/// The longest a hook may wait for a lock before it goes on without it.
pub const HOOK_LOCK_WAIT: Duration = Duration::from_millis(50);

/// An exclusive lock, released when dropped (closing the file releases it).
pub(crate) struct LockGuard {
    _file: File,
}

/// Takes the exclusive lock on `path`, polling until `wait` has passed.
pub(crate) fn lock_exclusive(path: &Path, wait: Duration) -> Result<LockGuard> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_micros(100);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { _file: file }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(StoreError::io(path, e)),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(StoreError::LockTimeout(path.to_path_buf()));
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}
