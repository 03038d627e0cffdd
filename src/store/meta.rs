//! `meta.json`: read, replaced atomically, and its counters caught up with the events.
//!
//! Counters are derived from events. The session's lock file, `.counters`, caches them together
//! with the byte offset of `events.ndjson` they cover; whoever holds the lock folds the lines
//! past that offset, replaces `meta.json` atomically (temp file + rename) when a figure in it
//! changed, and rewrites the cache in place. A cache that does not parse (a crash mid-write) is
//! rebuilt from the start of the events. A hook that cannot get the lock in
//! time skips this step, and the next writer, or any reader, catches up: nothing is lost, and the
//! counters always agree with the events once read.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::layout::{COUNTERS, EVENTS, META};
use super::lock::{HOOK_LOCK_WAIT, lock_exclusive, read_shared};
use super::reader::with_head;
use super::{Result, SessionSummary, Store, StoreError};
use crate::model::{Counters, SessionMeta};

#[derive(Debug, Default, Serialize, Deserialize)]
struct CountersCache {
    offset: u64,
    counters: Counters,
}

impl Store {
    pub fn read_meta(&self, session_id: &str) -> Result<SessionMeta> {
        let path = self.session_dir(session_id).join(META);
        let text = std::fs::read_to_string(&path).map_err(|e| StoreError::io(&path, e))?;
        SessionMeta::from_json(&text).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })
    }

    /// Replaces `meta.json` atomically. Callers hold the session lock (see [`replace_meta`]).
    fn write_meta(&self, meta: &SessionMeta) -> Result<()> {
        replace_meta(
            &self.session_dir(&meta.session_id),
            meta.to_json().as_bytes(),
        )
    }

    /// Starts the counters cache of a session we created; its presence tells readers that the
    /// session's counters are ours to derive.
    pub fn init_counters(&self, session_id: &str) -> Result<()> {
        let path = self.session_dir(session_id).join(COUNTERS);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// Folds new events into the counters, waiting at most `wait` for the session lock, and
    /// rewrites `meta.json` when a figure it shows has changed.
    pub fn refresh_meta(&self, session_id: &str, wait: Duration) -> Result<()> {
        let dir = self.session_dir(session_id);
        let cache_path = dir.join(COUNTERS);
        let guard = lock_exclusive(&cache_path, wait)?;
        let cached = guard.read().ok().and_then(|bytes| parse_cache(&bytes));
        let had_cache = cached.is_some();
        let mut cache = cached.unwrap_or_default();
        let old_offset = cache.offset;
        cache.offset = fold_from(&dir.join(EVENTS), cache.offset, &mut cache.counters)?;
        // Meta is compared with the counters, not with the previous fold: a writer that could
        // not update meta (it did not exist yet) leaves the difference for the next one.
        let stale_meta = match self.read_meta(session_id) {
            Ok(meta) => {
                let mut updated = meta.clone();
                apply(&mut updated, &cache.counters);
                (updated != meta).then_some(updated)
            }
            // The session's creator has not written its meta yet (it is about to, with links
            // only it knows): leave that to it; the counters still advance.
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                None
            }
            Err(e) => return Err(e),
        };
        // Events that change no figure in meta (results, prompts) need nothing written now: the
        // next fold reads them again, which costs less than writing on every hook.
        if stale_meta.is_none() && had_cache && cache.offset - old_offset < CATCH_UP_SLACK {
            return Ok(());
        }
        if let Some(meta) = &stale_meta {
            self.write_meta(meta)?;
        }
        let json = serde_json::to_vec(&cache).unwrap_or_default();
        guard
            .replace(&json)
            .map_err(|e| StoreError::io(&cache_path, e))
    }

    /// Marks a session ended at `at` in `meta.json`, its counters caught up, for a writer that
    /// cannot append its `session_end` (the events file cannot grow: a file size limit, a full
    /// disk), so that the session does not show as running for ever. An end already recorded
    /// is kept.
    pub fn end_in_meta(&self, session_id: &str, at: f64, wait: Duration) -> Result<()> {
        let dir = self.session_dir(session_id);
        let cache_path = dir.join(COUNTERS);
        let guard = lock_exclusive(&cache_path, wait)?;
        let mut cache = guard
            .read()
            .ok()
            .and_then(|bytes| parse_cache(&bytes))
            .unwrap_or_default();
        cache.offset = fold_from(&dir.join(EVENTS), cache.offset, &mut cache.counters)?;
        let mut meta = self.read_meta(session_id)?;
        apply(&mut meta, &cache.counters);
        if meta.ended_at.is_none() {
            meta.ended_at = Some(at);
            meta.total_duration_ms = ((at - meta.started_at) * 1000.0).max(0.0);
        }
        self.write_meta(&meta)?;
        // The cache only saves work: a disk too full to rewrite it loses nothing.
        let _ = guard.replace(&serde_json::to_vec(&cache).unwrap_or_default());
        Ok(())
    }

    /// A session's metadata with counters caught up to its events, without writing anything.
    pub fn summary(&self, session_id: &str) -> Result<SessionSummary> {
        let dir = self.session_dir(session_id);
        let meta = self.read_meta(session_id);
        // The file says the session is ours; contents that do not parse (just created, or a
        // crash mid-write) mean folding from the start.
        let cache = read_shared(&dir.join(COUNTERS), HOOK_LOCK_WAIT)
            .map_err(|e| StoreError::io(&dir.join(COUNTERS), e))?
            .map(|bytes| parse_cache(&bytes).unwrap_or_default());
        let mut meta = match (meta, &cache) {
            (Ok(meta), _) => meta,
            // Events without meta (a crash between the two): derive what we can.
            (Err(StoreError::Io { source, .. }), _)
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                SessionMeta::new(session_id, 0.0)
            }
            (Err(e), _) => return Err(e),
        };
        // Without our cache the session was written by another tool, which keeps its own
        // counters in meta; with it, fold whatever the cache has not seen yet.
        let counters = if let Some(mut cache) =
            cache.or_else(|| (meta.started_at == 0.0).then(CountersCache::default))
        {
            fold_from(&dir.join(EVENTS), cache.offset, &mut cache.counters)?;
            if meta.started_at == 0.0 {
                meta.started_at = cache.counters.first_timestamp.unwrap_or_default();
            }
            apply(&mut meta, &cache.counters);
            Some(cache.counters)
        } else {
            None
        };
        Ok(SessionSummary { meta, counters })
    }
}

/// How far the cache may lag behind the events before it is rewritten anyway.
const CATCH_UP_SLACK: u64 = 256 * 1024;

pub(super) fn apply(meta: &mut SessionMeta, counters: &Counters) {
    meta.tool_calls = counters.tool_calls;
    meta.llm_requests = counters.llm_requests;
    meta.errors = counters.errors;
    meta.total_tokens = counters.total_tokens;
    if let Some(ended) = counters.ended_at {
        meta.ended_at = Some(ended);
        meta.total_duration_ms = ((ended - meta.started_at) * 1000.0).max(0.0);
    }
}

fn parse_cache(bytes: &[u8]) -> Option<CountersCache> {
    serde_json::from_slice(bytes).ok()
}

/// Folds every complete line from `offset` on into `counters`; returns the new offset.
fn fold_from(path: &Path, offset: u64, counters: &mut Counters) -> Result<u64> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(offset),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let len = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
    if len <= offset {
        return Ok(len.min(offset));
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| StoreError::io(path, e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut buf = Vec::new();
    let mut position = offset;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| StoreError::io(path, e))?;
        // An unfinished last line is left for the next fold.
        if n == 0 || buf.last() != Some(&b'\n') {
            break;
        }
        position += n as u64;
        let text = buf.trim_ascii();
        if !text.is_empty() {
            // A line that does not parse counts for nothing, as readers skip it too.
            let _ = with_head(text, &mut |head| counters.observe(head));
        }
    }
    Ok(position)
}

/// Replaces `meta.json` atomically (readers see the old file or the new one, never a mix)
/// without creating a file. The new contents go into a spare file, which is renamed over
/// `meta.json`; the replaced `meta.json` is kept by a hard link and becomes the next spare.
/// Creating and freeing an inode per write, as a fresh temp file does, costs half a millisecond
/// on common disks, a quarter of a hook's budget; this costs tens of microseconds.
///
/// Only holders of the session lock call this, so the spare names are theirs alone.
fn replace_meta(dir: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let meta = dir.join(META);
    let spare = dir.join(".meta.spare");
    let old = dir.join(".meta.old");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&spare)
        .map_err(|e| StoreError::io(&spare, e))?;
    file.write_all_at(bytes, 0)
        .map_err(|e| StoreError::io(&spare, e))?;
    file.set_len(bytes.len() as u64)
        .map_err(|e| StoreError::io(&spare, e))?;
    drop(file);
    // A crash between the renames below can leave `.meta.old` behind.
    let _ = std::fs::remove_file(&old);
    let kept = std::fs::hard_link(&meta, &old).is_ok();
    std::fs::rename(&spare, &meta).map_err(|e| StoreError::io(&meta, e))?;
    if kept {
        std::fs::rename(&old, &spare).map_err(|e| StoreError::io(&spare, e))?;
    }
    Ok(())
}
