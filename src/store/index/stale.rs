//! Which sessions changed since they were indexed: the identity of each session's files,
//! looked at for every folder on every read.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rusqlite::Connection;

use crate::store::layout::{EVENTS, META};
use crate::store::{Store, StoreError};

/// The identity of a file: whether it changed since it was indexed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct FileState {
    pub(super) dev: i64,
    pub(super) ino: i64,
    pub(super) size: i64,
    pub(super) mtime_ns: i64,
}

impl FileState {
    pub(super) fn of(path: &Path) -> Option<FileState> {
        let m = std::fs::metadata(path).ok()?;
        m.is_file().then(|| FileState {
            dev: m.dev().cast_signed(),
            ino: m.ino().cast_signed(),
            size: m.size().cast_signed(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        })
    }

    pub(super) fn key(state: Option<FileState>) -> [i64; 4] {
        state.map_or([-1; 4], |s| [s.dev, s.ino, s.size, s.mtime_ns])
    }
}

/// A session folder as found on disk.
pub(super) struct OnDisk {
    pub(super) id: String,
    pub(super) events: Option<FileState>,
    /// Looked at only when it matters (`None` until then).
    #[expect(clippy::option_option, reason = "not looked at, absent, or its state")]
    pub(super) meta: Option<Option<FileState>>,
    pub(super) stale: bool,
}

/// What the index holds about a session's files.
pub(super) struct Known {
    pub(super) sid: i64,
    pub(super) events: [i64; 4],
    pub(super) meta: [i64; 4],
    pub(super) has_counters: bool,
    /// Its meta was missing or unreadable when indexed.
    pub(super) meta_unsure: bool,
}

/// Every session folder, with the state of its events file (and of its meta when it
/// matters), and whether the index has it as it is. Looking at ten thousand files is most of
/// what a warm read costs, so it is shared among threads.
pub(super) fn scan_folders(
    store: &Store,
    known: &HashMap<String, Known>,
) -> Result<Vec<OnDisk>, StoreError> {
    let root = store.root();
    let entries = std::fs::read_dir(root).map_err(|e| StoreError::io(root, e))?;
    let ids: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|id| !id.starts_with('.') && crate::store::is_valid_session_id(id))
        .collect();
    let look = |ids: &[String]| -> Vec<OnDisk> {
        ids.iter()
            .map(|id| {
                let mut disk = OnDisk {
                    events: FileState::of(&store.session_dir(id).join(EVENTS)),
                    meta: None,
                    id: id.clone(),
                    stale: false,
                };
                disk.stale = is_stale(store, &mut disk, known.get(id));
                disk
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4);
    if threads == 1 || ids.len() < PARALLEL_FOLDERS {
        return Ok(look(&ids));
    }
    let chunk = ids.len().div_ceil(threads);
    Ok(std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|part| scope.spawn(move || look(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    }))
}

/// Below this many folders, starting threads costs more than it saves.
pub(super) const PARALLEL_FOLDERS: usize = 512;

/// Whether a folder's files are not the ones indexed. The events file is always looked at;
/// `meta.json` only where it can change alone: in sessions of other tools, whose counters it
/// holds, and where it was missing or unreadable. Our writers replace it only together with an
/// append (see `meta.rs`), which changes the events file.
pub(super) fn is_stale(store: &Store, disk: &mut OnDisk, known: Option<&Known>) -> bool {
    let dir = store.session_dir(&disk.id);
    let meta = |disk: &mut OnDisk| {
        *disk
            .meta
            .get_or_insert_with(|| FileState::of(&dir.join(META)))
    };
    match known {
        None => disk.events.is_some() || meta(disk).is_some(),
        Some(k) => {
            k.events != FileState::key(disk.events)
                || ((!k.has_counters || k.meta_unsure) && k.meta != FileState::key(meta(disk)))
        }
    }
}

pub(super) fn known_in(conn: &Connection) -> rusqlite::Result<HashMap<String, Known>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, sid, ev_dev, ev_ino, ev_size, ev_mtime,
                meta_dev, meta_ino, meta_size, meta_mtime, has_counters,
                meta_error IS NOT NULL OR meta_ino = -1
         FROM idx_sessions",
    )?;
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Known {
                sid: r.get(1)?,
                events: [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
                meta: [r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?],
                has_counters: r.get(10)?,
                meta_unsure: r.get(11)?,
            },
        ))
    })?
    .collect()
}

/// The indexed sessions whose folders are gone.
pub(super) fn gone(on_disk: &[OnDisk], known: &HashMap<String, Known>) -> Vec<i64> {
    let present: HashSet<&str> = on_disk.iter().map(|d| d.id.as_str()).collect();
    known
        .iter()
        .filter(|(id, _)| !present.contains(id.as_str()))
        .map(|(_, k)| k.sid)
        .collect()
}
