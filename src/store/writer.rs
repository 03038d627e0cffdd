//! Writing a whole session at once (imports): built in a hidden folder, then moved into place
//! with one rename, so a session is either wholly there or not at all, and importing the same
//! session twice never mixes two copies.
//!
//! A session an import wrote before is brought up to date the same way: the new folder starts
//! with a copy of its events up to a [`Mark`] the import took (before the events that close the
//! session), takes the new events, and is swapped in for the stored folder with one
//! `renameat2(RENAME_EXCHANGE)`, so readers see the old session or the new one, never neither.
//! A session written anew in place of a stored one (a transcript that was rewritten, another
//! agent's log that grew) is swapped in the same way. Of writers continued from, or written in
//! place of, the same stored session at once, the first to finish is swapped in; the others
//! find the session taken ([`StoreError::SessionExists`]) and leave it. So does a writer whose
//! stored session was appended to since it was read (hooks sharing its id): the swap looks at
//! it under the folder's lock, which every append holds shared, so no event is lost with it;
//! a hook that waited for the lock in vain and wrote anyway has its event written again under
//! the name once, by the writer or by itself ([`super::moved`]).
//!
//! The hidden folder (`.writing-<session>-<pid>-<n>`) is removed when its writer is dropped
//! unfinished (an error on the way). A writer that is killed cannot remove it, so the writer
//! holds a lock on its events file while it lives; [`Store::sweep_unfinished`] removes the
//! folders whose lock anyone can take, which no live writer holds, once it has written under
//! the name the late lines of a session one of them swapped away ([`super::moved`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::files::{Folder, LINE_LIMIT, read_line};
use super::layout::{self, COUNTERS, EVENTS, IMPORT, META};
use super::{Result, Store, StoreError};
use crate::model::{Counters, Ending, Event, EventHead, SessionMeta};

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
    /// Whether the events written end the session; unknown for a writer continued from a mark
    /// taken before marks held it.
    ending: Option<Ending>,
    /// When the writer started: events stamped well past it count in file order for the end.
    now: f64,
    bytes: u64,
    /// The line being written, kept between events.
    line: Vec<u8>,
    /// Moved into place: the hidden folder is gone, nothing to clean up.
    done: bool,
    /// Takes the place of the stored session of its id, if there is one, when finished.
    replace: bool,
    /// The importer's record of what it read, written as [`IMPORT`] when finished.
    import_record: Option<Vec<u8>>,
    /// For a writer continued from a mark, the stored folder it copied the events from; for one
    /// written in place of a stored session, that session's folder when it started. It must
    /// still be the session's when this one is swapped in (see [`SessionWriter::finish`]).
    replaces: Option<Folder>,
    /// The length of that folder's events file when this writer's copy of it was taken (see
    /// [`SessionWriter::expect_stored_events`]); `None` when it had none.
    replaces_events: Option<u64>,
}

/// The first line of an import's record, and the length of the session's events file then.
#[derive(Debug, Clone)]
pub struct RecordHead {
    pub line: Vec<u8>,
    pub events_len: Option<u64>,
}

/// How far a writer had come: the bytes of events written and their counters. A writer
/// continued from a mark ([`Store::resume_session`]) holds exactly those events, then its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub bytes: u64,
    pub counters: Counters,
    /// `None` in a mark an earlier version kept.
    #[serde(default)]
    pub ending: Option<Ending>,
    /// What `counters` count ([`super::meta::COUNTERS_VERSION`]; 0 in a mark kept before
    /// marks held it): a writer continued from a mark of another version has its counters
    /// folded again by the next reader.
    #[serde(default)]
    pub counters_version: u32,
}

/// The longest a swap waits for the appends under way to the session it replaces (each one
/// write), before it leaves the session as it is.
const SWAP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The length of the events file of the session folder `folder`; `None` when it has none.
fn events_len(folder: &Folder) -> Result<Option<u64>> {
    folder
        .size_of(EVENTS)
        .map_err(|e| StoreError::io(&folder.path().join(EVENTS), e))
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
        start_writer(root, meta, false)
    }

    /// Starts writing a session anew that takes the place of the stored one of its id (if any)
    /// when finished, unless another writer's took that one's place first, or its events grew
    /// past `checked`: the length the caller found them when it decided to replace them (`None`:
    /// their length now). A hook's event appended after that look keeps the stored session.
    pub fn replace_session(
        &self,
        meta: SessionMeta,
        checked: Option<u64>,
    ) -> Result<SessionWriter> {
        if !layout::is_valid_session_id(&meta.session_id) {
            return Err(StoreError::InvalidSessionId(meta.session_id.clone()));
        }
        let root = self.made_root()?;
        // None there (or a link in its place, never followed): put in place as a new one.
        let stored = root.child(&meta.session_id).ok();
        let mut writer = start_writer(root, meta, true)?;
        writer.replaces_events = match (&stored, checked) {
            (Some(_), Some(len)) => Some(len),
            (Some(stored), None) => events_len(stored)?,
            (None, _) => None,
        };
        writer.replaces = stored;
        Ok(writer)
    }

    /// Continues the stored session `meta` names from `mark`: the writer starts with a copy of
    /// its events up to the mark and takes the stored session's place when finished. Fails
    /// with [`StoreError::Corrupt`] when the stored events do not reach the mark, or the mark
    /// does not end a line.
    pub fn resume_session(&self, meta: SessionMeta, mark: &Mark) -> Result<SessionWriter> {
        let stored = self.session_folder(&meta.session_id)?;
        let stored_events = events_len(&stored)?;
        let events = stored.read(EVENTS)?;
        let root = self.made_root()?;
        let mut writer = start_writer(root, meta, true)?;
        let path = writer.temp.join(EVENTS);
        let short = || StoreError::Corrupt {
            path: stored.path().join(EVENTS),
            message: format!(
                "the events end before byte {}, where an import left off",
                mark.bytes
            ),
        };
        let Some(mut events) = events else {
            return Err(short());
        };
        if mark.bytes > 0 {
            use std::io::{Read, Seek, SeekFrom};
            // The mark ends a line: the byte before it is a newline.
            let mut last = [0u8];
            events
                .seek(SeekFrom::Start(mark.bytes - 1))
                .and_then(|_| events.read_exact(&mut last))
                .map_err(|_| short())?;
            if last[0] != b'\n' {
                return Err(short());
            }
            events
                .seek(SeekFrom::Start(0))
                .map_err(|e| StoreError::io(stored.path(), e))?;
            // Straight from file to file (copy_file_range on Linux): no event is parsed.
            let copied = std::io::copy(&mut events.take(mark.bytes), writer.events.get_mut())
                .map_err(|e| StoreError::io(&path, e))?;
            if copied != mark.bytes {
                return Err(short());
            }
        }
        writer.bytes = mark.bytes;
        writer.replaces = Some(stored);
        writer.replaces_events = stored_events;
        writer.counters = mark.counters.clone();
        // Counters of another version (a mark taken before model calls were paired) cannot be
        // continued: without the ending, readers fold the whole session again.
        writer.ending = mark
            .ending
            .filter(|_| mark.counters_version == super::meta::COUNTERS_VERSION);
        Ok(writer)
    }

    /// The first line of the record an import kept in the session's folder, with the length
    /// of the session's events file; `None` when there is no such session or record (not
    /// imported, or imported by a version that kept none). One look at the session's folder:
    /// `import --all` asks this of every transcript it finds.
    pub fn import_record_head(&self, session_id: &str) -> Result<Option<RecordHead>> {
        let folder = match self.session_folder(session_id) {
            Ok(folder) => folder,
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let Some(file) = folder.read(IMPORT)? else {
            return Ok(None);
        };
        let mut reader = std::io::BufReader::new(file);
        let mut line = Vec::new();
        let path = folder.path().join(IMPORT);
        let read =
            read_line(&mut reader, &mut line, 64 * 1024).map_err(|e| StoreError::io(&path, e))?;
        if read.consumed == 0 {
            return Ok(None);
        }
        let events_len = folder
            .size_of(EVENTS)
            .map_err(|e| StoreError::io(&folder.path().join(EVENTS), e))?;
        Ok(Some(RecordHead { line, events_len }))
    }

    /// The whole record an import kept in the session's folder.
    pub fn import_record(&self, session_id: &str) -> Result<Option<Vec<u8>>> {
        use std::io::Read;
        let Some(file) = self.session_folder(session_id)?.read(IMPORT)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(LINE_LIMIT as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&self.session_dir(session_id).join(IMPORT), e))?;
        Ok(Some(bytes))
    }
}

/// Starts a writer in a new hidden folder of the store's folder `root`.
fn start_writer(root: Folder, meta: SessionMeta, replace: bool) -> Result<SessionWriter> {
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
        ending: Some(Ending::default()),
        now: super::system_time(),
        bytes: 0,
        line: Vec::with_capacity(4096),
        done: false,
        replace,
        import_record: None,
        replaces: None,
        replaces_events: None,
    })
}

impl SessionWriter {
    pub fn session_id(&self) -> &str {
        &self.meta.session_id
    }

    pub fn meta_mut(&mut self) -> &mut SessionMeta {
        &mut self.meta
    }

    /// How far the writer has come, to continue from there later.
    pub fn mark(&self) -> Mark {
        Mark {
            bytes: self.bytes,
            counters: self.counters.clone(),
            ending: self.ending,
            counters_version: super::meta::COUNTERS_VERSION,
        }
    }

    /// The importer's record of what it read, kept in the session's folder (see
    /// [`Store::import_record`]).
    pub fn set_import_record(&mut self, record: Vec<u8>) {
        self.import_record = Some(record);
    }

    /// The stored session's events were `len` bytes long when the caller last looked (before
    /// this writer copied them): bytes added to them since that look, not only since the copy,
    /// keep the stored session in place (see [`SessionWriter::finish`]).
    pub fn expect_stored_events(&mut self, len: u64) {
        self.replaces_events = Some(len);
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
        if let Some(ending) = &mut self.ending {
            ending.observe(event, self.now);
        }
        Ok(())
    }

    /// Writes meta (with counters derived from the events written) and moves the session into
    /// place. Returns the finished metadata.
    pub fn finish(mut self) -> Result<SessionMeta> {
        let events_path = self.temp.join(EVENTS);
        self.events
            .flush()
            .map_err(|e| StoreError::io(&events_path, e))?;
        let c = self.counters.clone();
        self.meta.tool_calls = c.tool_calls;
        self.meta.llm_requests = c.model_calls();
        self.meta.errors = c.errors;
        self.meta.total_tokens = c.total_tokens;
        if let Some(ended) = c.ended_at {
            self.meta.ended_at = Some(ended);
            self.meta.total_duration_ms = ((ended - self.meta.started_at) * 1000.0).max(0.0);
        }
        self.folder
            .write_new(META, self.meta.to_json().as_bytes())?;
        // Without the session's ending, readers fold the events from the start.
        let (offset, counters, ending) = match self.ending {
            Some(ending) => (self.bytes, c, ending),
            None => (0, Counters::default(), Ending::default()),
        };
        // Readers fold on from the offset only while the bytes before it are those folded.
        let tail = match self.folder.read(EVENTS)? {
            Some(events) if offset > 0 => super::tail::tail_mark(&events, offset),
            _ => None,
        };
        let cache = serde_json::json!({
            "version": super::meta::COUNTERS_VERSION,
            "offset": offset,
            "counters": counters,
            "ending": ending,
            "tail": tail,
        });
        self.folder
            .write_new(COUNTERS, cache.to_string().as_bytes())?;
        if let Some(record) = &self.import_record {
            self.folder.write_new(IMPORT, record)?;
        }
        let target = self.root.path().join(&self.meta.session_id);
        if self.replace {
            // Held until the exchange: a note added meanwhile waits, and is carried.
            // No stored folder (or a link in its place, replaced below, never followed): none.
            let _annotations = super::annotations::carry_stored_annotations(
                &self.root,
                &self.meta.session_id,
                &self.folder,
            )?;
            // A writer continued from a mark holds the stored events up to it and its own, one
            // written anew what the stored session was read against: if another writer (an
            // import of the same file run at once) swapped its session in since, that one holds
            // what this one read, and this one is dropped (one deleted meanwhile is put back
            // below). Checked under the stored folder's lock, which every swap holds, so no swap
            // comes in between. So is a session whose events grew since they were read (hooks
            // sharing its id wrote to it), and one made meanwhile where there was none: what
            // they gained is in the stored folder alone. Every append holds the folder's lock
            // shared, so none lands between this look and the swap.
            let stored = self.root.child(&self.meta.session_id).ok();
            let _appends = match &stored {
                Some(stored) => Some(
                    super::lock::lock_folder(stored, SWAP_WAIT)
                        .ok_or_else(|| StoreError::SessionExists(self.meta.session_id.clone()))?,
                ),
                None => None,
            };
            // A hook that waited for the lock in vain writes without it: what it wrote after
            // this look is written again under the name, by this writer or by the hook (see
            // [`super::moved`]).
            let cut = self.replaces_events.unwrap_or(0);
            if let Some(now) = &stored {
                let unchanged = self.replaces.as_ref().is_some_and(|read| now.is_same(read))
                    && events_len(now)? == self.replaces_events;
                if !unchanged {
                    return Err(StoreError::SessionExists(self.meta.session_id.clone()));
                }
                super::moved::mark_cut(now, cut)?;
            }
            match self.root.exchange(&self.temp_name, &self.meta.session_id) {
                Ok(()) => {
                    // The hidden folder now holds the session that was replaced.
                    self.done = true;
                    let late = match &stored {
                        Some(replaced) => Store::new(self.root.path()).write_late_lines(
                            &self.meta.session_id,
                            replaced,
                            cut,
                        ),
                        None => Ok(()),
                    };
                    // Late lines not written keep the folder, marked, for the sweep to write.
                    if late.is_ok() {
                        let _ = std::fs::remove_dir_all(&self.temp);
                    }
                    return late.map(|()| self.meta.clone());
                }
                // Gone meanwhile: moved into place below like a new one.
                Err(e) => {
                    if let Some(now) = &stored {
                        super::moved::unmark_cut(now, cut);
                    }
                    if e.kind() != std::io::ErrorKind::NotFound {
                        return Err(StoreError::io(&target, e));
                    }
                }
            }
        }
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
            if !writer_gone {
                continue;
            }
            // A folder swapped away by a writer killed before it wrote its late lines again is
            // finished first (see [`super::moved`]), under the folder's lock, which a writer
            // holds while it writes them; one not finished stays for the next sweep.
            let Some(_moved) = super::lock::lock_folder(&folder, std::time::Duration::ZERO) else {
                continue;
            };
            let finished = swapped_session(name)
                .is_none_or(|session| self.finish_move(session, &folder).is_ok());
            if finished && std::fs::remove_dir_all(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

/// The session whose writer made the hidden folder `name` (`.writing-<session>-<pid>-<n>`),
/// which holds that session's folder swapped away once the writer's copy was swapped in.
fn swapped_session(name: &str) -> Option<&str> {
    let mut parts = name.strip_prefix(WRITING)?.rsplitn(3, '-');
    let (_n, _pid) = (parts.next()?, parts.next()?);
    parts
        .next()
        .filter(|session| layout::is_valid_session_id(session))
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

    #[test]
    fn a_session_appended_to_since_it_was_read_is_not_swapped_away() {
        use crate::model::EventType;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let event = |id: &str| Event::new(EventType::UserPrompt, 1.0, id.into(), "s".into());
        let mut first = store.write_session(SessionMeta::new("s", 1.0)).unwrap();
        first.append(&event("imported")).unwrap();
        let mark = first.mark();
        first.finish().unwrap();
        let read = |store: &Store| std::fs::read_to_string(store.session_dir("s").join(EVENTS));
        // Appended to after the copy, and after a check that the caller made before it.
        for expected in [None, Some(mark.bytes)] {
            let mut resumed = store
                .resume_session(SessionMeta::new("s", 1.0), &mark)
                .unwrap();
            if let Some(len) = expected {
                resumed.expect_stored_events(len);
            } else {
                store.append(&event("hook")).unwrap();
            }
            resumed.append(&event("more")).unwrap();
            let before = read(&store).unwrap();
            assert!(matches!(
                resumed.finish(),
                Err(StoreError::SessionExists(_))
            ));
            assert_eq!(read(&store).unwrap(), before);
        }
        let mut again = store
            .replace_session(SessionMeta::new("s", 1.0), None)
            .unwrap();
        store.append(&event("hook")).unwrap();
        assert!(again.append(&event("anew")).is_ok());
        assert!(matches!(again.finish(), Err(StoreError::SessionExists(_))));
        assert_eq!(read(&store).unwrap().matches("\"hook\"").count(), 2);
    }

    #[test]
    fn a_hidden_folder_names_its_writers_session() {
        assert_eq!(swapped_session(".writing-a-b-c-12-3"), Some("a-b-c"));
        assert_eq!(swapped_session(".writing-12-3"), None);
        assert_eq!(swapped_session("a-12-3"), None);
    }
}
