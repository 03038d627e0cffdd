//! `meta.json`: read, replaced atomically, and its counters caught up with the events.
//!
//! Counters are derived from events. The session's lock file, `.counters`, caches them together
//! with the byte offset of `events.ndjson` they cover; whoever holds the lock folds the lines
//! past that offset, replaces `meta.json` atomically (temp file + rename) when a figure in it
//! changed, and rewrites the cache in place. A cache that does not parse (a crash mid-write) is
//! rebuilt from the start of the events. A hook that cannot get the lock in
//! time skips this step, and the next writer, or any reader, catches up: nothing is lost, and the
//! counters always agree with the events once read.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::files::{Folder, LINE_LIMIT, read_line};
use super::holes::SkipHoles;
use super::layout::{self, COUNTERS, EVENTS, META};
use super::lock::{HOOK_LOCK_WAIT, lock_exclusive, read_shared};
use super::reader::{parse_line, with_head};
use super::tail::tail_mark;
use super::{Result, SessionSummary, Store, StoreError};
use crate::model::meta::MetaError;
use crate::model::{Counters, Ending, EventType, SessionMeta};

#[derive(Debug, Serialize, Deserialize)]
struct CountersCache {
    /// What the counters count ([`COUNTERS_VERSION`]); a cache of another version is folded
    /// again from the start.
    #[serde(default)]
    version: u32,
    offset: u64,
    counters: Counters,
    /// Whether the events folded end the session ([`Ending`]): one resumed after its end
    /// (Claude Code's `--resume`) is not ended, whatever its first end wrote in `meta.json`.
    #[serde(default)]
    ending: Ending,
    /// The mark of the events' bytes just before `offset` ([`tail_mark`]): a cache is folded
    /// on only while they are still there, so that neither events rewritten in place nor
    /// another session's cache copied here are taken for what was folded.
    #[serde(default)]
    tail: Option<u64>,
    /// `meta.json` as the writer of this cache last wrote it ([`MetaSeen`]).
    #[serde(default)]
    meta: Option<MetaSeen>,
}

/// What a writer last wrote to `meta.json`, so that a fold that changes nothing in it need not
/// read it again (a `meta.json` can hold megabytes no writer changes): the file it wrote
/// ([`MetaStamp`]) and its figures, read with the few keys of `extra` that fit in
/// [`SEEN_EXTRA`] bytes. Worth nothing once `meta.json` is another file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MetaSeen {
    stamp: MetaStamp,
    figures: String,
}

/// The bytes of the values of keys it does not model that [`MetaSeen`] keeps: enough for
/// what a hook adds to `attribution` when it lacks it (the working folder).
const SEEN_EXTRA: usize = 4 * 1024;

/// What tells one `meta.json` from another without reading it: the file (device, inode), its
/// size and when its contents and its status last changed, to the nanosecond. Our writers
/// replace it under the session lock by the other of two files, written first; a writer that
/// rewrites it in place changes its times (one of the same size within the clock's tick, a
/// few milliseconds, is the one change this does not see).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct MetaStamp {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

/// The stamp of `meta.json` in `dir`, opened but not read; `None` when it cannot be opened.
fn meta_stamp(dir: &Folder) -> Option<MetaStamp> {
    use std::os::unix::fs::MetadataExt;
    let file = dir.read(META).ok()??;
    let status = file.metadata().ok()?;
    Some(MetaStamp {
        device: status.dev(),
        inode: status.ino(),
        size: status.size(),
        modified: (status.mtime(), status.mtime_nsec()),
        changed: (status.ctime(), status.ctime_nsec()),
    })
}

impl MetaSeen {
    /// `meta`, just written to `dir`, as [`MetaSeen`].
    fn written(dir: &Folder, mut meta: SessionMeta) -> Option<MetaSeen> {
        meta.held = Vec::new();
        let figures = SessionMeta::read(&meta.to_json(), SEEN_EXTRA, false).ok()?;
        Some(MetaSeen {
            stamp: meta_stamp(dir)?,
            figures: figures.to_json(),
        })
    }

    /// The figures seen, while `meta.json` in `dir` is still the file they were seen in.
    fn still(&self, dir: &Folder) -> Option<SessionMeta> {
        (meta_stamp(dir) == Some(self.stamp))
            .then(|| SessionMeta::read(&self.figures, SEEN_EXTRA, false).ok())
            .flatten()
    }
}

impl Default for CountersCache {
    fn default() -> Self {
        CountersCache {
            version: COUNTERS_VERSION,
            offset: 0,
            counters: Counters::default(),
            ending: Ending::default(),
            tail: None,
            meta: None,
        }
    }
}

impl CountersCache {
    /// Folds the events from the cache's offset on; from the start when the clock no longer
    /// believes the times it believed as they were folded (an end stamped ahead of the clock
    /// that has come, [`Ending::holds_at`]), or when the events file is not the one folded
    /// (shorter than the offset, or its bytes before it not those folded). Returns whether it
    /// folded from the start so.
    fn catch_up(&mut self, dir: &Folder) -> Result<bool> {
        let now = super::system_time();
        let restart = !self.ending.holds_at(now);
        if restart {
            *self = CountersCache::default();
        }
        let from = (self.offset, self.tail);
        match fold_from(dir, from, &mut self.counters, &mut self.ending, now)? {
            Folded::To(offset, tail) => {
                (self.offset, self.tail) = (offset, tail);
                Ok(restart)
            }
            Folded::Other => {
                *self = CountersCache::default();
                let folded = fold_from(dir, (0, None), &mut self.counters, &mut self.ending, now)?;
                (self.offset, self.tail) = match folded {
                    Folded::To(offset, tail) => (offset, tail),
                    Folded::Other => (0, None),
                };
                Ok(true)
            }
        }
    }
}

/// The session lock, `.counters`, taken within `wait`; `None` when it is no file that can be
/// locked (a FIFO, a folder or a link in its place, a file this user may not open): it is then
/// no cache either, and the caller goes on without both, folding every event. A hook could
/// not update `meta.json` at all while `.counters` was broken (every event was still written,
/// and `meta.json` stopped at its last figures). Without the lock two writers may each write
/// the meta they folded; a slower one's, older, is made good by the next. A lock that stays
/// busy, or a shortage that may pass (descriptors), is still an error.
fn counters_lock(dir: &Folder, wait: Duration) -> Result<Option<super::lock::LockGuard>> {
    match lock_exclusive(dir, COUNTERS, wait) {
        Ok(guard) => Ok(Some(guard)),
        Err(e) if e.is_temporary() => Err(e),
        Err(_) => Ok(None),
    }
}

/// The version of [`Counters`] a `.counters` cache holds: 1 since they count rejections apart
/// (caches without a version count them among errors only), 2 since they hold the session's
/// [`Ending`], 3 since that holds the earliest time it read ahead of the clock, 4 since it
/// holds the mark of the bytes it folded last, 5 since they count the errors of no call apart,
/// 6 since they count the events of a line with no time (no `timestamp`, `null`, `NaN`), 7
/// since they count the responses that answer a model call, for its model calls, 8 since they
/// count a copy of an event met before once ([`crate::model::copies`]), and pair each response
/// with the request it answers ([`crate::model::call_pairs`]), 9 since they count a read
/// Cursor tells of twice as one call, and hold the reads told of once
/// ([`crate::model::read_pairs`]), 10 since they hold the latest time a session can have
/// ([`Counters::believed_last`]), 11 since an error that names its request by `request_id` (the
/// Python tool's proxies) is its call's, not the turn's, 12 since a response that names no
/// request answers the request just before it (the Python tool's SDK integrations).
pub(super) const COUNTERS_VERSION: u32 = 12;

/// A `meta.json` is a few hundred bytes; one larger than this is not a session's metadata.
const META_LIMIT: u64 = 16 * 1024 * 1024;

impl Store {
    /// A session's `meta.json`, for a caller that may write it back: what no view reads of it
    /// is held as its text ([`SessionMeta::from_json_to_write`]).
    pub fn read_meta(&self, session_id: &str) -> Result<SessionMeta> {
        read_meta_in(&self.session_folder(session_id)?, session_id)
    }

    /// A session's `meta.json` as views read it ([`SessionMeta::from_json_to_read`]): of the
    /// keys it does not model, only as many as a view can use. Never to be written back.
    pub fn read_meta_to_read(&self, session_id: &str) -> Result<SessionMeta> {
        read_meta_to_read_in(&self.session_folder(session_id)?, session_id)
    }

    /// Replaces `meta.json` atomically. Callers hold the session lock (see [`replace_meta`]).
    fn write_meta(dir: &Folder, meta: &SessionMeta) -> Result<()> {
        replace_meta(dir, meta.to_json().as_bytes())
    }

    /// Whether our writers keep session `session_id` (its counters cache, `.counters`, is
    /// there): they record a file event for each file a call touched for certain, where another
    /// tool's (the Python tool's hooks and import) record none.
    pub fn keeps_counters(&self, session_id: &str) -> bool {
        std::fs::symlink_metadata(self.session_dir(session_id).join(COUNTERS)).is_ok()
    }

    /// Starts the counters cache of a session we created; its presence tells readers that the
    /// session's counters are ours to derive.
    pub fn init_counters(&self, session_id: &str) -> Result<()> {
        self.session_folder(session_id)?
            .create_new(COUNTERS)
            .map(drop)
    }

    /// Folds new events into the counters, waiting at most `wait` for the session lock, and
    /// rewrites `meta.json` when a figure it shows has changed.
    pub fn refresh_meta(&self, session_id: &str, wait: Duration) -> Result<()> {
        self.refresh_meta_with(session_id, wait, |_| {})
    }

    /// [`Store::refresh_meta`], with `fill` adding to `meta.json` what the writer knows of the
    /// session and it lacks (a hook's working folder, when the hook saw no start). `meta.json`
    /// is read only when the figures last written to it (kept in the cache, [`MetaSeen`]) are
    /// not known or would change, first as views read it, and whole only to be written.
    pub fn refresh_meta_with(
        &self,
        session_id: &str,
        wait: Duration,
        fill: impl Fn(&mut SessionMeta),
    ) -> Result<()> {
        let dir = self.session_folder(session_id)?;
        let guard = counters_lock(&dir, wait)?;
        let cached = guard
            .as_ref()
            .and_then(|guard| guard.read().ok())
            .and_then(|bytes| parse_cache(&bytes));
        let had_cache = cached.is_some();
        let mut cache = cached.unwrap_or_default();
        let old_offset = cache.offset;
        let refolded = cache.catch_up(&dir)?;
        let refill = |meta: &SessionMeta| {
            let mut updated = meta.clone();
            fill(&mut updated);
            apply(&mut updated, &cache.counters);
            (updated != *meta).then_some(updated)
        };
        // Meta is compared with the counters, not with the previous fold: a writer that could
        // not update meta (it did not exist yet) leaves the difference for the next one.
        let seen = cache.meta.as_ref().and_then(|seen| seen.still(&dir));
        if seen.is_none() {
            cache.meta = None;
        }
        let stale_meta = match seen {
            Some(seen) if refill(&seen).is_none() => None,
            Some(_) => refill(&read_meta_in(&dir, session_id)?),
            None => match read_meta_in(&dir, session_id) {
                Ok(meta) => refill(&meta),
                // The session's creator has not written its meta yet (it is about to, with
                // links only it knows): leave that to it; the counters still advance.
                Err(StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    None
                }
                Err(e) => return Err(e),
            },
        };
        // Events that change no figure in meta (results, prompts) need nothing written now: the
        // next fold reads them again, which costs less than writing on every hook.
        if stale_meta.is_none()
            && had_cache
            && !refolded
            && cache.offset - old_offset < CATCH_UP_SLACK
        {
            return Ok(());
        }
        if let Some(meta) = stale_meta {
            Self::write_meta(&dir, &meta)?;
            cache.meta = MetaSeen::written(&dir, meta);
        }
        let Some(guard) = guard else {
            return Ok(());
        };
        let json = serde_json::to_vec(&cache).unwrap_or_default();
        guard
            .replace(&json)
            .map_err(|e| StoreError::io(&dir.path().join(COUNTERS), e))
    }

    /// Links a subagent's session to the call that spawned it, when that is known only after
    /// the session began (the call's result names the subagent it ran). Returns whether the
    /// link changed; the caller then appends an event saying so.
    pub fn relink_parent_event(&self, session_id: &str, event_id: &str) -> Result<bool> {
        let dir = self.session_folder(session_id)?;
        let _guard = counters_lock(&dir, HOOK_LOCK_WAIT)?;
        let mut meta = read_meta_in(&dir, session_id)?;
        if meta.parent_event_id.as_deref() == Some(event_id) {
            return Ok(false);
        }
        meta.parent_event_id = Some(event_id.to_owned());
        Self::write_meta(&dir, &meta)?;
        Ok(true)
    }

    /// Changes a session's `meta.json` by `edit` under the session's lock; `edit` says
    /// whether it changed anything (nothing is written when not). For facts known only once
    /// the session exists (who started it, for `record`); the index watches `meta.json` of a
    /// session of ours, so readers see the change without an event.
    pub fn edit_meta(
        &self,
        session_id: &str,
        edit: impl FnOnce(&mut SessionMeta) -> bool,
    ) -> Result<bool> {
        let dir = self.session_folder(session_id)?;
        let _guard = counters_lock(&dir, HOOK_LOCK_WAIT)?;
        let mut meta = read_meta_in(&dir, session_id)?;
        if !edit(&mut meta) {
            return Ok(false);
        }
        Self::write_meta(&dir, &meta)?;
        Ok(true)
    }

    /// Describes session `fresh.session_id` as a client tells of it: a session not in the
    /// store, or whose folder holds no `meta.json`, is given `fresh`; one with its meta is
    /// changed by `edit` as [`Store::edit_meta`] does. A `meta.json` that cannot be read as a
    /// session's metadata (cut short, not JSON, too large) is set aside as
    /// [`layout::META_SET_ASIDE`] (`.1`, `.2` … after it when one is there) and replaced by `fresh`, linked to the parent its events
    /// name when `fresh` names none: such a meta was never to be edited again, and readers had
    /// derived the session from its events, which are kept. The counters are the caller's to
    /// catch up ([`Store::refresh_meta`]).
    pub fn describe_session(
        &self,
        fresh: &SessionMeta,
        edit: impl FnOnce(&mut SessionMeta) -> bool,
    ) -> Result<Described> {
        let id = fresh.session_id.as_str();
        if !self.has_meta(id) && self.create_session(fresh)? {
            self.init_counters(id)?;
            return Ok(Described::Created);
        }
        let dir = self.session_folder(id)?;
        let _guard = counters_lock(&dir, HOOK_LOCK_WAIT)?;
        match read_meta_in(&dir, id) {
            Ok(mut meta) => {
                if !edit(&mut meta) {
                    return Ok(Described::Edited(false));
                }
                Self::write_meta(&dir, &meta)?;
                Ok(Described::Edited(true))
            }
            Err(StoreError::Corrupt { path, message }) => {
                let mut meta = fresh.clone();
                if meta.parent_session_id.is_none() {
                    let derived = derived_meta(&dir, id, |p| self.has_session(p));
                    meta.parent_session_id = derived.parent_session_id;
                    meta.parent_event_id = derived.parent_event_id;
                }
                // Copied aside under a name no earlier one has (one set aside before was
                // overwritten), then replaced in one step: `meta.json` is never missing, where
                // a writer of events would have made one of its own meanwhile. A copy, not a
                // link: the file `meta.json` was is written again as the next one's spare.
                let mut copy = None;
                let mut name = layout::META_SET_ASIDE.to_owned();
                for n in 1..100 {
                    if let Some(file) = dir.create_new(&name)? {
                        copy = Some(file);
                        break;
                    }
                    name = format!("{}.{n}", layout::META_SET_ASIDE);
                }
                let aside = dir.path().join(&name);
                let (Some(mut copy), Some(mut bad)) = (copy, dir.read(META)?) else {
                    return Err(StoreError::io(
                        &aside,
                        std::io::Error::other("no name is left to set the meta aside under"),
                    ));
                };
                std::io::copy(&mut bad, &mut copy).map_err(|e| StoreError::io(&aside, e))?;
                Self::write_meta(&dir, &meta)?;
                Ok(Described::Replaced {
                    set_aside: aside,
                    why: StoreError::Corrupt { path, message }.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Whether a session's folder holds something named `meta.json` (whatever it is).
    pub fn has_meta(&self, session_id: &str) -> bool {
        std::fs::symlink_metadata(self.session_dir(session_id).join(META)).is_ok()
    }

    /// Marks a session ended at `at` in `meta.json`, its counters caught up, for a writer that
    /// cannot append its `session_end` (the events file cannot grow: a file size limit, a full
    /// disk), so that the session does not show as running for ever. An end already recorded
    /// is kept.
    pub fn end_in_meta(&self, session_id: &str, at: f64, wait: Duration) -> Result<()> {
        let dir = self.session_folder(session_id)?;
        let guard = counters_lock(&dir, wait)?;
        let mut cache = guard
            .as_ref()
            .and_then(|guard| guard.read().ok())
            .and_then(|bytes| parse_cache(&bytes))
            .unwrap_or_default();
        cache.catch_up(&dir)?;
        let mut meta = read_meta_in(&dir, session_id)?;
        apply(&mut meta, &cache.counters);
        if meta.ended_at.is_none() {
            meta.ended_at = Some(at);
            meta.total_duration_ms = ((at - meta.started_at) * 1000.0).max(0.0);
        }
        Self::write_meta(&dir, &meta)?;
        // The cache only saves work: a disk too full to rewrite it loses nothing.
        let _ = guard.map(|guard| guard.replace(&serde_json::to_vec(&cache).unwrap_or_default()));
        Ok(())
    }

    /// A session's metadata with counters caught up to its events, without writing anything.
    /// A session whose `meta.json` is missing or cannot be used is described by its events
    /// (when it has any), and [`SessionSummary::meta_error`] says why.
    pub fn summary(&self, session_id: &str) -> Result<SessionSummary> {
        self.summary_with(session_id, read_meta_to_read_in)
    }

    /// [`Store::summary`] with the whole of `meta.json` ([`Store::read_meta`]), for a user who
    /// asks for the session's meta itself (`inspect`, `show`, `export`): of the keys it does
    /// not model, a view keeps only what fits in [`crate::model::meta::EXTRA_TO_READ`].
    pub fn whole_summary(&self, session_id: &str) -> Result<SessionSummary> {
        self.summary_with(session_id, read_whole_meta_in)
    }

    /// [`Store::summary`] with `meta.json` read by `read`.
    fn summary_with(
        &self,
        session_id: &str,
        read: fn(&Folder, &str) -> Result<SessionMeta>,
    ) -> Result<SessionSummary> {
        let dir = self.session_folder(session_id)?;
        let meta = read(&dir, session_id);
        // The file says the session is ours; contents that do not parse (just created, or a
        // crash mid-write) mean folding from the start. So does a cache that cannot be read
        // (a FIFO, a folder or a link planted in its place, a file this user may not read):
        // it only saves work, and the events it would save reading are there to fold.
        let cache = match read_shared(&dir, COUNTERS, HOOK_LOCK_WAIT) {
            Ok(bytes) => bytes.map(|bytes| parse_cache(&bytes).unwrap_or_default()),
            Err(_) => Some(CountersCache::default()),
        };
        let (mut meta, meta_error) = match meta {
            Ok(meta) => (meta, None),
            // Events without meta (a crash between the two): derive what we can.
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                (
                    derived_meta(&dir, session_id, |p| self.has_session(p)),
                    None,
                )
            }
            // A meta.json that cannot be used must not hide the events beside it.
            Err(e) if has_events(&dir) => (
                derived_meta(&dir, session_id, |p| self.has_session(p)),
                Some(e.to_string()),
            ),
            Err(e) => return Err(e),
        };
        // Without our cache the session was written by another tool, which keeps its own
        // counters in meta (unless it holds none yet); with it, fold whatever the cache has
        // not seen yet.
        let derive = meta_error.is_some()
            || meta.started_at == 0.0
            || (cache.is_none() && meta.counts_nothing());
        let cache = if meta_error.is_some() { None } else { cache };
        let counters =
            if let Some(mut cache) = cache.or_else(|| derive.then(CountersCache::default)) {
                cache.catch_up(&dir)?;
                if meta.started_at == 0.0 {
                    meta.started_at = cache.counters.first_timestamp.unwrap_or_default();
                }
                apply(&mut meta, &cache.counters);
                // As the index gives it: `show`, `replay` and the rest took a session resumed
                // after its end for ended, which `list` gives as running.
                if cache.counters.ended_at.is_some() && !cache.ending.ended() {
                    meta.ended_at = None;
                    meta.total_duration_ms = 0.0;
                }
                Some(cache.counters)
            } else if has_events(&dir) {
                // Another tool keeps its counters in meta.json, but whether the session went
                // on after its end is its events' to say, as the index reads them: one whose
                // end was stamped before its start, with events after it, ran in `list` and
                // `sql` and had a duration of `?` in `stats` and `replay`.
                let mut fold = CountersCache::default();
                fold.catch_up(&dir)?;
                // The Python tool's import counts each line of a transcript that repeats its
                // history: when its events hold copies, their counters are the events'.
                if fold.counters.copies > 0 {
                    meta.tool_calls = fold.counters.tool_calls;
                    meta.errors = fold.counters.errors;
                }
                if fold.counters.ended_at.is_some() && !fold.ending.ended() {
                    meta.ended_at = None;
                    meta.total_duration_ms = 0.0;
                }
                meta.end_at_events(fold.counters.believed_last(), fold.ending.ended());
                (fold.counters.copies > 0).then_some(fold.counters)
            } else {
                None
            };
        Ok(SessionSummary {
            meta,
            rejections: counters.as_ref().map_or(0, |c| c.rejections),
            turn_errors: counters.as_ref().map_or(0, |c| c.turn_errors),
            counters: counters.map(Box::new),
            meta_error,
        })
    }
}

/// What [`Store::describe_session`] did.
#[derive(Debug)]
pub enum Described {
    /// The session was given the meta told, this call first.
    Created,
    /// Its meta was edited; whether anything changed.
    Edited(bool),
    /// Its `meta.json` could not be read (`why`) and was moved to `set_aside`; the meta told
    /// took its place.
    Replaced {
        set_aside: std::path::PathBuf,
        why: String,
    },
}

/// Reads and checks `meta.json` in the folder of session `session_id` for a writer
/// ([`SessionMeta::from_json_to_write`]; see [`read_meta_with`]).
pub(super) fn read_meta_in(dir: &Folder, session_id: &str) -> Result<SessionMeta> {
    read_meta_with(dir, session_id, SessionMeta::from_json_to_write)
}

/// Reads and checks the whole of `meta.json` in the folder of session `session_id`, every
/// value read ([`SessionMeta::from_json`]; see [`read_meta_with`]).
fn read_whole_meta_in(dir: &Folder, session_id: &str) -> Result<SessionMeta> {
    read_meta_with(dir, session_id, SessionMeta::from_json)
}

/// Reads and checks `meta.json` in the folder of session `session_id` as views read it
/// ([`SessionMeta::from_json_to_read`]; see [`read_meta_with`]).
pub(super) fn read_meta_to_read_in(dir: &Folder, session_id: &str) -> Result<SessionMeta> {
    read_meta_with(dir, session_id, SessionMeta::from_json_to_read)
}

/// Reads and checks `meta.json` in the folder of session `session_id` with `parse`. The folder
/// names the session: an id the file says otherwise (a folder copied or renamed, or a forged
/// file naming another session) is replaced, so nothing that follows the id reads another
/// session's files.
fn read_meta_with(
    dir: &Folder,
    session_id: &str,
    parse: fn(&str) -> std::result::Result<SessionMeta, MetaError>,
) -> Result<SessionMeta> {
    let path = dir.path().join(META);
    let Some(file) = dir.read(META)? else {
        return Err(StoreError::io(
            &path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    };
    let mut bytes = Vec::new();
    file.take(META_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(&path, e))?;
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.clone(),
        message,
    };
    if bytes.len() as u64 > META_LIMIT {
        return Err(corrupt(format!(
            "larger than {} MiB, which no session's metadata is",
            META_LIMIT >> 20
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| corrupt(format!("not UTF-8 text ({e})")))?;
    // The `NaN` and `Infinity` Python's json module writes for a float are read as JSON
    // writers give them, as in events: such a meta is the Python tool's, not a corrupt one.
    let mut meta = parse(&text)
        .or_else(|e| {
            crate::model::json_mend::replace_non_json_numbers(text.as_bytes())
                .and_then(|fixed| String::from_utf8(fixed).ok())
                .and_then(|fixed| parse(&fixed).ok())
                .ok_or(e)
        })
        .map_err(|e| corrupt(e.to_string()))?;
    if meta.session_id != session_id {
        session_id.clone_into(&mut meta.session_id);
    }
    Ok(meta)
}

fn has_events(dir: &Folder) -> bool {
    dir.size_of(EVENTS)
        .ok()
        .flatten()
        .is_some_and(|size| size > 0)
}

/// What `meta.json` would say, as far as the events tell: the session's id, and its parent when
/// its `session_start` names one (a hook's subagent's does), or else when its id names one that
/// `is_session` says is in the store ([`layout::parent_named_by`]: a Task call's subagent and
/// an imported one name no parent in their events, but their ids do). Times and counters are
/// folded by the caller.
pub(super) fn derived_meta(
    dir: &Folder,
    session_id: &str,
    is_session: impl Fn(&str) -> bool,
) -> SessionMeta {
    let mut meta = SessionMeta::new(session_id, 0.0);
    if let Ok(Some(file)) = dir.read(EVENTS) {
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let mut buf = Vec::new();
        // The session's start is among its first lines.
        for _ in 0..START_LINES {
            match read_line(&mut reader, &mut buf, LINE_LIMIT) {
                Ok(read) if read.consumed > 0 => {}
                _ => break,
            }
            let Ok(event) = parse_line(buf.trim_ascii()) else {
                continue;
            };
            if event.event_type == EventType::SessionStart {
                meta.parent_session_id = event
                    .data
                    .get("parent_session_id")
                    .and_then(serde_json::Value::as_str)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned);
                break;
            }
        }
    }
    if meta.parent_session_id.is_none()
        && let Some((parent, call)) = layout::parent_named_by(session_id, is_session)
    {
        meta.parent_session_id = Some(parent.to_owned());
        meta.parent_event_id = call.map(str::to_owned);
    }
    meta
}

/// How many lines [`derived_meta`] looks at for the session's start.
const START_LINES: usize = 20;

/// How far the cache may lag behind the events before it is rewritten anyway.
const CATCH_UP_SLACK: u64 = 256 * 1024;

pub(super) fn apply(meta: &mut SessionMeta, counters: &Counters) {
    meta.tool_calls = counters.tool_calls;
    meta.llm_requests = counters.model_calls();
    meta.errors = counters.errors;
    meta.total_tokens = counters.total_tokens;
    if let Some(ended) = counters.ended_at {
        meta.ended_at = Some(ended);
        meta.total_duration_ms = ((ended - meta.started_at) * 1000.0).max(0.0);
    }
}

fn parse_cache(bytes: &[u8]) -> Option<CountersCache> {
    serde_json::from_slice::<CountersCache>(bytes)
        .ok()
        .filter(|c| c.version == COUNTERS_VERSION)
}

/// How far [`fold_from`] folded.
enum Folded {
    /// Up to this offset, the mark of the bytes just before it ([`tail_mark`]).
    To(u64, Option<u64>),
    /// Nothing: the events file is not the one folded (shorter than the offset to fold from,
    /// or its bytes before it not those folded).
    Other,
}

/// Folds every complete line from `offset` on into `counters` and `ending`, read at `now`.
fn fold_from(
    dir: &Folder,
    (offset, tail): (u64, Option<u64>),
    counters: &mut Counters,
    ending: &mut Ending,
    now: f64,
) -> Result<Folded> {
    let path = dir.path().join(EVENTS);
    let Some(mut file) = dir.read(EVENTS)? else {
        return Ok(Folded::To(offset, tail));
    };
    let len = file.metadata().map_err(|e| StoreError::io(&path, e))?.len();
    // Lines are folded whole, and only an unfinished last line is ever cut from the file.
    if len < offset || (offset > 0 && tail_mark(&file, offset) != tail) {
        return Ok(Folded::Other);
    }
    if len == offset {
        return Ok(Folded::To(offset, tail));
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| StoreError::io(&path, e))?;
    let mut reader = SkipHoles::buffered(file, 64 * 1024);
    let mut buf = Vec::new();
    let mut position = offset;
    loop {
        let read =
            read_line(&mut reader, &mut buf, LINE_LIMIT).map_err(|e| StoreError::io(&path, e))?;
        // An unfinished last line is left for the next fold.
        if !read.ended {
            break;
        }
        // A hole passed over is inside this line.
        position += read.consumed as u64 + reader.get_mut().take_skipped();
        let text = buf.trim_ascii();
        if !text.is_empty() {
            // A line that does not parse (or is too long to) counts for nothing, as readers
            // skip it too.
            let _ = with_head(text, &mut |head| {
                counters.observe(head);
                ending.observe_at(
                    head.timestamp,
                    head.kind() == EventType::SessionEnd,
                    head.is_late_answer(),
                    now,
                );
            });
        }
    }
    let tail = if position == offset {
        tail
    } else {
        tail_mark(reader.get_ref().file(), position)
    };
    Ok(Folded::To(position, tail))
}

/// Replaces `meta.json` atomically (readers see the old file or the new one, never a mix)
/// without creating a file. The new contents go into a spare file, which is renamed over
/// `meta.json`; the replaced `meta.json` is kept by a hard link and becomes the next spare.
/// Creating and freeing an inode per write, as a fresh temp file does, costs half a millisecond
/// on common disks, a quarter of a hook's budget; this costs tens of microseconds.
///
/// Only holders of the session lock call this, so the spare names are theirs alone.
fn replace_meta(dir: &Folder, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::FileExt;
    const SPARE: &str = ".meta.spare";
    const OLD: &str = ".meta.old";
    let path = |name: &str| dir.path().join(name);
    let file = dir.read_write(SPARE)?;
    file.write_all_at(bytes, 0)
        .map_err(|e| StoreError::io(&path(SPARE), e))?;
    file.set_len(bytes.len() as u64)
        .map_err(|e| StoreError::io(&path(SPARE), e))?;
    drop(file);
    // A crash between the renames below can leave `.meta.old` behind.
    let _ = dir.remove(OLD);
    let kept = dir.link(META, OLD).is_ok();
    dir.rename(SPARE, META)
        .map_err(|e| StoreError::io(&path(META), e))?;
    if kept {
        dir.rename(OLD, SPARE)
            .map_err(|e| StoreError::io(&path(SPARE), e))?;
    }
    Ok(())
}
