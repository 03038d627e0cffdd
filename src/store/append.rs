//! Appending events: one `write` per event on a file opened for appending, never a torn line.
//!
//! Writes to a file opened with `O_APPEND` land whole and in some order even with many
//! writers, so appending needs no lock. A writer that died mid-line can leave the file without
//! its final newline; the next writer then starts its event on a fresh line, so the torn line
//! stays one bad line (skipped by readers) instead of swallowing the good event after it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::layout::{self, EVENTS, GITIGNORE, META};
use super::{Result, Store, StoreError};
use crate::model::{Event, SessionMeta};

impl Store {
    /// Creates the store's directory (with a `.gitignore`, since traces hold prompts and
    /// output) if it is not there yet.
    pub fn ensure_root(&self) -> Result<()> {
        if self.root.is_dir() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.root).map_err(|e| StoreError::io(&self.root, e))?;
        let ignore = self.root.join(GITIGNORE);
        // Another writer may create it at the same moment; either copy is the same.
        let _ = std::fs::write(
            &ignore,
            "# Traces hold prompts and tool output: keep them out of git.\n*\n",
        );
        Ok(())
    }

    /// Makes a session's folder; true when this call made it. Exactly one of many processes
    /// doing this at once gets true.
    pub fn claim_session_dir(&self, session_id: &str) -> Result<bool> {
        if !layout::is_valid_session_id(session_id) {
            return Err(StoreError::InvalidSessionId(session_id.to_owned()));
        }
        self.ensure_root()?;
        let dir = self.session_dir(session_id);
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StoreError::io(&dir, e)),
        }
    }

    /// Creates a session with `meta` unless it exists. Returns whether this call created it.
    /// Safe against other processes creating the same session at the same moment: exactly one
    /// of them writes `meta.json`.
    pub fn create_session(&self, meta: &SessionMeta) -> Result<bool> {
        if !layout::is_valid_session_id(&meta.session_id) {
            return Err(StoreError::InvalidSessionId(meta.session_id.clone()));
        }
        self.ensure_root()?;
        let dir = self.session_dir(&meta.session_id);
        let meta_path = dir.join(META);
        if meta_path.is_file() {
            return Ok(false);
        }
        // The folder may exist already (made by `claim_session_dir`); that is fine.
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let temp = dir.join(format!(".meta.{}.tmp", std::process::id()));
        std::fs::write(&temp, meta.to_json()).map_err(|e| StoreError::io(&temp, e))?;
        // A hard link never replaces an existing file: the first creator wins, the rest see
        // AlreadyExists and leave the winner's meta alone.
        let created = match std::fs::hard_link(&temp, &meta_path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(StoreError::io(&meta_path, e));
            }
        };
        let _ = std::fs::remove_file(&temp);
        Ok(created)
    }

    /// Appends one event to its session's `events.ndjson`.
    pub fn append(&self, event: &Event) -> Result<()> {
        if !layout::is_valid_session_id(&event.session_id) {
            return Err(StoreError::InvalidSessionId(event.session_id.clone()));
        }
        let path = self.session_dir(&event.session_id).join(EVENTS);
        let mut line = serde_json::to_vec(event).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: format!("event does not serialise: {e}"),
        })?;
        line.push(b'\n');
        append_line(&path, line)
    }
}

fn append_line(path: &Path, line: Vec<u8>) -> Result<()> {
    // Read access too: the torn-tail check reads the last byte.
    let file = OpenOptions::new()
        .read(true)
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    let line = if ends_torn(&file).map_err(|e| StoreError::io(path, e))? {
        let mut fixed = Vec::with_capacity(line.len() + 1);
        fixed.push(b'\n');
        fixed.extend_from_slice(&line);
        fixed
    } else {
        line
    };
    (&file)
        .write_all(&line)
        .map_err(|e| StoreError::io(path, e))
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
        if !layout::is_valid_session_id(session_id) {
            return Err(StoreError::InvalidSessionId(session_id.to_owned()));
        }
        let path = self.session_dir(session_id).join(EVENTS);
        let file = OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_does_not_swallow_the_next_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, b"{\"event_type\":\"tool_call\",\"timest").unwrap();
        append_line(&path, b"{\"ok\":1}\n".to_vec()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().last(), Some("{\"ok\":1}"));
    }
}
