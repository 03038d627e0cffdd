//! Writing a whole session at once (imports): built in a hidden folder, then moved into place
//! with one rename, so a session is either wholly there or not at all, and importing the same
//! session twice never mixes two copies.

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
}

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
        let temp_name = format!(".writing-{}-{}-{n}", meta.session_id, std::process::id());
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
            let _ = std::fs::remove_dir_all(&self.temp);
            return Err(if target.exists() {
                StoreError::SessionExists(self.meta.session_id.clone())
            } else {
                StoreError::io(&target, e)
            });
        }
        Ok(self.meta.clone())
    }

    /// Drops what was written.
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}
