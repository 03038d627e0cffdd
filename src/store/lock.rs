//! Brief, bounded locks: a hook never waits on one for more than [`HOOK_LOCK_WAIT`].

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::thread;
use std::time::{Duration, Instant};

use super::files::Folder;
use super::{Result, StoreError};

/// A lock file is a few hundred bytes of counters; more than this is not ours and is not read.
const LOCK_FILE_LIMIT: u64 = 1024 * 1024;

/// The longest a hook may wait for a lock before it goes on without it.
pub const HOOK_LOCK_WAIT: Duration = Duration::from_millis(50);

/// An exclusive lock (or a folder's shared one), released when dropped. The locked file's
/// contents belong to the holder: it may read and replace them.
pub(crate) struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    /// Unlocked, not only closed: a folder's lock is taken on a copy of the folder's own
    /// descriptor, and closing the copy leaves the lock held while the folder stays open.
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl LockGuard {
    pub(crate) fn read(&self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        (&self.file).seek(SeekFrom::Start(0))?;
        (&self.file).take(LOCK_FILE_LIMIT).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The locked file itself, for a holder whose file may be larger than a lock file's few
    /// counters (the catalogue of stores), which it reads in a stream and appends to.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Replaces the contents in place: one write and a truncate, no new file, since only lock
    /// holders write and readers take the lock shared.
    pub(crate) fn replace(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all_at(bytes, 0)?;
        self.file.set_len(bytes.len() as u64)
    }
}

/// A step of capture that checks a session and then writes to it, which two processes may
/// take at once: each has a lock of its own in the session's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Recording an answer that came late (Copilot's): the session end and its followers.
    LateAnswer,
    /// Folding a streamed response into its event (Gemini CLI's): hooks of calls run at once
    /// must not write their events before the response that made the calls.
    Responses,
}

/// A session's lock for one [`Step`]: processes taking the step go one after the other, so the
/// second sees what the first wrote. Released when dropped.
pub struct StepLock {
    _guard: LockGuard,
}

impl super::Store {
    /// Takes the lock of `step` for `session_id`, waiting at most `wait`.
    pub fn lock_step(&self, session_id: &str, step: Step, wait: Duration) -> Result<StepLock> {
        let folder = self.session_folder(session_id)?;
        let name = match step {
            Step::LateAnswer => super::layout::LATE_ANSWER_LOCK,
            Step::Responses => super::layout::RESPONSE_LOCK,
        };
        let guard = lock_exclusive(&folder, name, wait)?;
        Ok(StepLock { _guard: guard })
    }
}

/// Reads the lock file `name`'s contents under a shared lock, waiting at most `wait`; when the
/// lock stays busy the contents are read anyway (a reader must not block, and a caller checks
/// what it reads). `None` when the file does not exist.
pub(crate) fn read_shared(dir: &Folder, name: &str, wait: Duration) -> Result<Option<Vec<u8>>> {
    let Some(file) = dir.read(name)? else {
        return Ok(None);
    };
    let deadline = Instant::now() + wait;
    while !matches!(file.try_lock_shared(), Ok(())) && Instant::now() < deadline {
        thread::sleep(Duration::from_micros(500));
    }
    let mut bytes = Vec::new();
    (&file)
        .take(LOCK_FILE_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(&dir.path().join(name), e))?;
    Ok(Some(bytes))
}

/// Takes the exclusive lock on the folder `dir` itself, polling until `wait` has passed; `None`
/// when it stayed busy or cannot be taken. No lock file is made: the folder holds only what its
/// users put in it, which they list and count.
pub(crate) fn lock_folder(dir: &Folder, wait: Duration) -> Option<LockGuard> {
    let file = dir.as_file().ok()?;
    matches!(wait_for_lock(&file, wait), Ok(true)).then_some(LockGuard { file })
}

/// Takes the shared lock on the folder `dir` itself, polling until `wait` has passed; `None`
/// when it stayed busy or cannot be taken. Many holders share it; [`lock_folder`] waits for
/// them all, and they for it.
pub(crate) fn share_folder(dir: &Folder, wait: Duration) -> Option<LockGuard> {
    let file = dir.as_file().ok()?;
    matches!(wait_for(&file, wait, File::try_lock_shared), Ok(true)).then_some(LockGuard { file })
}

/// Takes the exclusive lock on the file `name` (made when missing), polling until `wait` has
/// passed.
pub(crate) fn lock_exclusive(dir: &Folder, name: &str, wait: Duration) -> Result<LockGuard> {
    let path = dir.path().join(name);
    let path = path.as_path();
    let file = dir.read_write(name)?;
    match wait_for_lock(&file, wait) {
        Ok(true) => Ok(LockGuard { file }),
        Ok(false) => Err(StoreError::LockTimeout(path.to_path_buf())),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

/// Takes the exclusive lock on an open `file` (released when it is closed), polling until
/// `wait` has passed; `false` when it stayed busy.
pub(crate) fn wait_for_lock(file: &File, wait: Duration) -> std::io::Result<bool> {
    wait_for(file, wait, File::try_lock)
}

/// Takes a lock on an open `file` with `take` (exclusive or shared), polling until `wait` has
/// passed; `false` when it stayed busy.
fn wait_for(
    file: &File,
    wait: Duration,
    take: fn(&File) -> std::result::Result<(), TryLockError>,
) -> std::io::Result<bool> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_micros(100);
    loop {
        match take(file) {
            Ok(()) => return Ok(true),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(e),
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}
