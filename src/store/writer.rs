//! Writing a whole session at once (imports): built in a hidden folder, then moved into place
//! with one rename, so a session is either wholly there or not at all, and importing the same
//! session twice never mixes two copies.
//!
//! The hidden folder (`.writing-<session>-<pid>-<n>`) is removed when its writer is dropped
//! unfinished (an error on the way). A writer that is killed cannot remove it, so the writer
//! holds a lock on its events file while it lives; [`Store::sweep_unfinished`] removes the
//! folders whose lock anyone can take, which no live writer holds.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::files::Folder;
use super::layout::{self, COUNTERS, EVENTS, META};
use super::{Result, Store, StoreError};
use crate::model::{Counters, Event, EventHead, SessionMeta};

/// Writers started by this process, to give each its own folder.
static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A session being written. Nothing is visible in the store until [`SessionWriter::finish`].
pub struct SessionWriter {
    meta: SessionMeta,
    /// The store's folder and the hidden folder inside it the session is written in.
    root: Folder,
    folder: Folder,
    temp_name: String,
    temp: PathBuf,
    events: BufWriter<File>,
    counters: Counters,
    bytes: u64,
    /// The line being written, kept between events.
    line: Vec<u8>,
    /// Moved into place: the hidden folder is gone, nothing to clean up.
    done: bool,
}

/// The prefix of the hidden folders sessions are written in.
const WRITING: &str = ".writing-";

/// A writer locks its folder's events file within microseconds of making the folder; a sweep
/// leaves younger folders alone, so it never takes the lock in between.
const SWEEP_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(1);

impl Store {
    /// Starts writing a new session. Fails with [`StoreError::SessionExists`] when the store
    /// already holds it.
    pub fn write_session(&self, meta: SessionMeta) -> Result<SessionWriter> {
        if !layout::is_valid_session_id(&meta.session_id) {
            return Err(StoreError::InvalidSessionId(meta.session_id.clone()));
        }
        let root = self.made_root()?;
        let target = root.path().join(&meta.session_id);
        // Anything under the session's name (a link included) is the session.
        if root
            .size_of(&meta.session_id)
            .map_err(|e| StoreError::io(&target, e))?
            .is_some()
        {
            return Err(StoreError::SessionExists(meta.session_id.clone()));
        }
        // Unique to this writer: an import writes several sessions at once, and two files may
        // hold the same session.
        let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp_name = format!("{WRITING}{}-{}-{n}", meta.session_id, std::process::id());
        let temp = root.path().join(&temp_name);
        // A folder left by a process that had our id; never followed if it is a link.
        let _ = std::fs::remove_dir_all(&temp);
        if !root.make_child(&temp_name)? {
            return Err(StoreError::io(
                &temp,
                std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            ));
        }
        let folder = root.child(&temp_name)?;
        let file = folder.create_new(EVENTS)?.ok_or_else(|| {
            StoreError::io(
                &temp.join(EVENTS),
                std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            )
        })?;
        // Held while this writer lives (the kernel releases it when the process dies), so a
        // sweep can tell a live writer's folder from a killed one's. A file system without
        // locks only means such folders are never swept.
        let _ = file.try_lock();
        Ok(SessionWriter {
            meta,
            root,
            folder,
            temp_name,
            temp,
            events: BufWriter::with_capacity(256 * 1024, file),
            counters: Counters::default(),
            bytes: 0,
            line: Vec::with_capacity(4096),
            done: false,
        })
    }
}

impl SessionWriter {
    pub fn session_id(&self) -> &str {
        &self.meta.session_id
    }

    pub fn meta_mut(&mut self) -> &mut SessionMeta {
        &mut self.meta
    }

    pub fn append(&mut self, event: &Event) -> Result<()> {
        // One buffer for every line of the session: an import writes hundreds of thousands.
        let line = &mut self.line;
        line.clear();
        serde_json::to_writer(&mut *line, event).map_err(|e| StoreError::Corrupt {
            path: self.temp.join(EVENTS),
            message: format!("event does not serialise: {e}"),
        })?;
        line.push(b'\n');
        self.events
            .write_all(line)
            .map_err(|e| StoreError::io(&self.temp.join(EVENTS), e))?;
        self.bytes += line.len() as u64;
        self.counters.observe(&EventHead::of(event));
        Ok(())
    }

    /// Writes meta (with counters derived from the events written) and moves the session into
    /// place. Returns the finished metadata.
    pub fn finish(mut self) -> Result<SessionMeta> {
        let events_path = self.temp.join(EVENTS);
        self.events
            .flush()
            .map_err(|e| StoreError::io(&events_path, e))?;
        let c = self.counters;
        self.meta.tool_calls = c.tool_calls;
        self.meta.llm_requests = c.llm_requests;
        self.meta.errors = c.errors;
        self.meta.total_tokens = c.total_tokens;
        if let Some(ended) = c.ended_at {
            self.meta.ended_at = Some(ended);
            self.meta.total_duration_ms = ((ended - self.meta.started_at) * 1000.0).max(0.0);
        }
        self.folder
            .write_new(META, self.meta.to_json().as_bytes())?;
        let cache = serde_json::json!({ "offset": self.bytes, "counters": c });
        self.folder
            .write_new(COUNTERS, cache.to_string().as_bytes())?;
        let target = self.root.path().join(&self.meta.session_id);
        // rename(2) onto an existing non-empty folder fails, so a session written meanwhile by
        // someone else is never replaced (and a link in its place is replaced, not followed).
        if let Err(e) = self.root.rename(&self.temp_name, &self.meta.session_id) {
            // Dropping the writer removes the folder.
            return Err(if target.exists() {
                StoreError::SessionExists(self.meta.session_id.clone())
            } else {
                StoreError::io(&target, e)
            });
        }
        self.done = true;
        Ok(self.meta.clone())
    }

    /// Drops what was written.
    pub fn abandon(self) {
        drop(self);
    }
}

impl Drop for SessionWriter {
    /// A writer dropped unfinished (an error on the way) leaves nothing behind.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}

impl Store {
    /// Removes the hidden folders of session writers that are gone (an import killed, or one
    /// from a version that did not clean up after an error); a live writer's folder, in this
    /// process or another, is left alone. Returns how many were removed.
    pub fn sweep_unfinished(&self) -> usize {
        let Ok(root) = Folder::open(&self.root) else {
            return 0;
        };
        let Ok(names) = root.names() else {
            return 0;
        };
        let mut removed = 0;
        for name in names.iter().filter(|n| n.starts_with(WRITING)) {
            let path = root.path().join(name);
            let young = std::fs::symlink_metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age < SWEEP_MIN_AGE);
            // Never a link, nor a FIFO in place of the events file.
            let Ok(folder) = root.child(name) else {
                continue;
            };
            if young {
                continue;
            }
            let writer_gone = match folder.read(EVENTS) {
                // The lock is kept until the folder is gone.
                Ok(Some(file)) => file.try_lock().is_ok(),
                // Killed between making the folder and its events file.
                Ok(None) => true,
                Err(_) => false,
            };
            if writer_gone && std::fs::remove_dir_all(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(root: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(WRITING))
            .collect()
    }

    #[test]
    fn a_writer_dropped_unfinished_leaves_nothing_and_a_live_one_is_not_swept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let dropped = store.write_session(SessionMeta::new("a", 1.0)).unwrap();
        let live = store.write_session(SessionMeta::new("b", 1.0)).unwrap();
        assert_eq!(hidden(dir.path()).len(), 2);
        drop(dropped);
        assert_eq!(hidden(dir.path()).len(), 1);
        // Old enough to sweep, but its writer holds the lock.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let folder = dir.path().join(&hidden(dir.path())[0]);
        File::open(&folder).unwrap().set_modified(old).unwrap();
        assert_eq!(store.sweep_unfinished(), 0);
        live.finish().unwrap();
        assert!(hidden(dir.path()).is_empty());
        assert!(store.has_session("b") && !store.has_session("a"));
    }
}
