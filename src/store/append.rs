//! Appending events: one `write` per event on a file opened for appending, never a torn line.
//!
//! Writes to a file opened with `O_APPEND` land whole and in some order even with many
//! writers. A writer that died mid-line can leave the file without its final newline; the next
//! writer then starts its event on a fresh line, so the torn line stays one bad line (skipped
//! by readers) instead of swallowing the good event after it. That look at the last byte and
//! the write are made under a brief advisory lock, so that a large write still under way is
//! never taken for a torn one.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::files::Folder;
use super::layout::{self, EVENTS, GITIGNORE, META};
use super::{Result, Store, StoreError};
use crate::model::{Event, SessionMeta};

impl Store {
    /// Creates the store's directory (with a `.gitignore`, since traces hold prompts and
    /// output) if it is not there yet. Only the store's own folder is made: its parent must
    /// exist, so that a path from a payload never becomes a tree of new folders.
    pub fn ensure_root(&self) -> Result<()> {
        self.made_root().map(drop)
    }

    /// The store's folder, made first when it is not there (see [`Store::ensure_root`]).
    pub(crate) fn made_root(&self) -> Result<Folder> {
        match self.root_folder() {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            }
            other => return other,
        }
        let made = match std::fs::create_dir(&self.root) {
            Ok(()) => true,
            // Another writer made it at the same moment.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::io(
                    &self.root,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "its parent folder does not exist, and the store makes only its own folder",
                    ),
                ));
            }
            Err(e) => return Err(StoreError::io(&self.root, e)),
        };
        let root = self.root_folder()?;
        if made && let Ok(Some(file)) = root.create_new(GITIGNORE) {
            let _ = (&file)
                .write_all(b"# Traces hold prompts and tool output: keep them out of git.\n*\n");
        }
        if made && let Some(catalogue) = &self.catalogue {
            // Once per store, on its first write; a catalogue that cannot be written loses
            // only `--all-projects`' view of this store, never the write itself.
            let _ = catalogue.register(&self.root, true);
        }
        Ok(root)
    }

    /// Makes a session's folder; true when this call made it. Exactly one of many processes
    /// doing this at once gets true.
    pub fn claim_session_dir(&self, session_id: &str) -> Result<bool> {
        if !layout::is_valid_session_id(session_id) {
            return Err(StoreError::InvalidSessionId(session_id.to_owned()));
        }
        self.made_root()?.make_child(session_id)
    }

    /// Creates a session with `meta` unless it exists. Returns whether this call created it.
    /// Safe against other processes creating the same session at the same moment: exactly one
    /// of them writes `meta.json`.
    pub fn create_session(&self, meta: &SessionMeta) -> Result<bool> {
        if !layout::is_valid_session_id(&meta.session_id) {
            return Err(StoreError::InvalidSessionId(meta.session_id.clone()));
        }
        let root = self.made_root()?;
        // The folder may exist already (made by `claim_session_dir`); that is fine.
        root.make_child(&meta.session_id)?;
        let dir = root.session(&meta.session_id)?;
        let meta_path = dir.path().join(META);
        // Whatever is there (even a link someone planted) is the session's meta: it is never
        // written through.
        if dir
            .size_of(META)
            .map_err(|e| StoreError::io(&meta_path, e))?
            .is_some()
        {
            return Ok(false);
        }
        let temp = format!(".meta.{}.tmp", std::process::id());
        dir.write_new(&temp, meta.to_json().as_bytes())?;
        // A hard link never replaces an existing file: the first creator wins, the rest see
        // AlreadyExists and leave the winner's meta alone.
        let created = match dir.link(&temp, META) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => {
                let _ = dir.remove(&temp);
                return Err(StoreError::io(&meta_path, e));
            }
        };
        let _ = dir.remove(&temp);
        Ok(created)
    }

    /// Appends one event to its session's `events.ndjson`.
    pub fn append(&self, event: &Event) -> Result<()> {
        let dir = self.session_folder(&event.session_id)?;
        let path = dir.path().join(EVENTS);
        let mut line = serde_json::to_vec(event).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: format!("event does not serialise: {e}"),
        })?;
        line.push(b'\n');
        let file = dir.append(EVENTS)?;
        append_line(&file, &path, line)
    }
}

fn append_line(file: &File, path: &Path, line: Vec<u8>) -> Result<()> {
    // The check and the write are one step among the writers that take this lock: a large
    // write under way shows a last byte that is not yet its newline, and a check made then
    // took the file for torn and wrote a blank line. The lock is let go when `file` closes.
    lock_briefly(file);
    // The torn-tail check reads the last byte: the file is open for reading too.
    let line = if ends_torn(file).map_err(|e| StoreError::io(path, e))? {
        let mut fixed = Vec::with_capacity(line.len() + 1);
        fixed.push(b'\n');
        fixed.extend_from_slice(&line);
        fixed
    } else {
        line
    };
    (&*file)
        .write_all(&line)
        .map_err(|e| StoreError::io(path, e))
}

/// How long an append waits for the other writers' lock before it writes without it.
const APPEND_LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Takes an advisory lock on the events file, waiting a moment at most: a writer holds it for
/// one write, and one that holds it longer (a stuck process, someone else's lock) must not
/// hold up the agent. Without it the append goes on as before, lock-free.
fn lock_briefly(file: &File) {
    use rustix::fs::{FlockOperation, flock};
    let deadline = std::time::Instant::now() + APPEND_LOCK_WAIT;
    loop {
        // Held by another writer: wait a little for it. Taken, or a file system without
        // locks (NFS without lockd, some FUSE mounts): no wait.
        if flock(file, FlockOperation::NonBlockingLockExclusive)
            != Err(rustix::io::Errno::WOULDBLOCK)
        {
            return;
        }
        if std::time::Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

/// Whether the file's last byte is not a newline (a writer died mid-line).
fn ends_torn(file: &File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

/// A session's event file kept open, for a long-running writer (a proxy). Events are gathered
/// and written whole, many lines in one write on a file opened for appending, when the writer
/// has a moment ([`Appender::flush`]) or the batch grows large.
pub struct Appender {
    path: std::path::PathBuf,
    file: File,
    pending: Vec<u8>,
}

/// The most an appender gathers before it writes.
const BATCH: usize = 64 * 1024;

impl Store {
    /// Opens a session's event file for a stream of appends.
    pub fn appender(&self, session_id: &str) -> Result<Appender> {
        let dir = self.session_folder(session_id)?;
        let path = dir.path().join(EVENTS);
        let file = dir.append(EVENTS)?;
        Ok(Appender {
            path,
            file,
            pending: Vec::with_capacity(BATCH),
        })
    }
}

impl Appender {
    pub fn append(&mut self, event: &Event) -> Result<()> {
        let start = self.pending.len();
        if let Err(e) = serde_json::to_writer(&mut self.pending, event) {
            self.pending.truncate(start);
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                message: format!("event does not serialise: {e}"),
            });
        }
        self.pending.push(b'\n');
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what has been gathered.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = (&self.file)
            .write_all(&self.pending)
            .map_err(|e| StoreError::io(&self.path, e));
        self.pending.clear();
        result
    }

    /// Writes what has been gathered and flushes the file's data to the disk (`fdatasync`), for
    /// a writer that answers for the events only once they would survive a power cut.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Through the binary the name cannot be known in time: it carries the writer's process id.
    #[test]
    fn a_link_in_place_of_the_temporary_meta_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        store.claim_session_dir("s").unwrap();
        let temp = store
            .session_dir("s")
            .join(format!(".meta.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &temp).unwrap();
        assert!(store.create_session(&SessionMeta::new("s", 1.0)).unwrap());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(store.read_meta("s").unwrap().session_id, "s");
        assert!(std::fs::symlink_metadata(&temp).is_err());
    }

    #[test]
    fn a_torn_tail_does_not_swallow_the_next_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, b"{\"event_type\":\"tool_call\",\"timest").unwrap();
        let file = Folder::open(dir.path())
            .unwrap()
            .append("events.ndjson")
            .unwrap();
        append_line(&file, &path, b"{\"ok\":1}\n".to_vec()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().last(), Some("{\"ok\":1}"));
    }

    #[test]
    fn a_lock_held_elsewhere_holds_an_append_up_a_moment_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, b"").unwrap();
        let held = std::fs::File::open(&path).unwrap();
        rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
        let file = Folder::open(dir.path())
            .unwrap()
            .append("events.ndjson")
            .unwrap();
        let started = std::time::Instant::now();
        append_line(&file, &path, b"{\"ok\":1}\n".to_vec()).unwrap();
        let took = started.elapsed();
        assert!(
            took >= APPEND_LOCK_WAIT && took < APPEND_LOCK_WAIT * 10,
            "{took:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"ok\":1}\n");
    }
}
