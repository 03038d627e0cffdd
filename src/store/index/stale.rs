//! Which sessions changed since they were indexed: the identity of each session's files, what
//! the index knows of them, and whether the two differ.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::fs::AtFlags;

use rusqlite::Connection;

use crate::model::Clocks;
use crate::store::Store;
use crate::store::layout::META;

/// The identity of a file: whether it changed since it was indexed. The change time is in it
/// because no one can set it: a file rewritten in place to the same size, its modification
/// time set back (`touch -r`), still changed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct FileState {
    pub(super) dev: i64,
    pub(super) ino: i64,
    pub(super) size: i64,
    pub(super) mtime_ns: i64,
    pub(super) ctime_ns: i64,
}

/// A file time in nanoseconds since the epoch. Anyone can date a file past 2262 (`touch -d`),
/// where the nanoseconds no longer fit: such a time is kept as the latest one that does, which
/// is still a time no indexed state had unless it had one as far off (the change time, which
/// no one can set, tells the two apart).
fn nanos(seconds: i64, nanoseconds: i64) -> i64 {
    seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(nanoseconds)
}

impl FileState {
    /// The state of the entry at `path`, whatever it is: a link is not followed, and a link
    /// or a FIFO where a file should be is a state too, which the refresh then reports (one
    /// warning, the session skipped) instead of taking it for no file.
    pub(super) fn of(path: &Path) -> Option<FileState> {
        let m = std::fs::symlink_metadata(path).ok()?;
        Some(FileState {
            dev: m.dev().cast_signed(),
            ino: m.ino().cast_signed(),
            size: m.size().cast_signed(),
            mtime_ns: nanos(m.mtime(), m.mtime_nsec()),
            ctime_ns: nanos(m.ctime(), m.ctime_nsec()),
        })
    }

    /// The state of `name` inside the session folder `id` of the store folder `root` (of the
    /// folder itself when `name` is empty), looked at relative to the store's descriptor: a
    /// component or two of path to walk instead of the whole path, which is most of what a
    /// stat costs here. A link is not followed (the store's files are never links of ours);
    /// like anything else in a file's place, it is a state (see [`FileState::of`]).
    pub(super) fn at(root: &OwnedFd, path: &mut String, id: &str, name: &str) -> Option<FileState> {
        path.clear();
        path.push_str(id);
        if !name.is_empty() {
            path.push('/');
            path.push_str(name);
        }
        let st = rustix::fs::statat(root.as_fd(), path.as_str(), AtFlags::SYMLINK_NOFOLLOW).ok()?;
        Some(FileState {
            dev: st.st_dev.cast_signed(),
            ino: st.st_ino.cast_signed(),
            size: st.st_size,
            mtime_ns: nanos(st.st_mtime, st.st_mtime_nsec.cast_signed()),
            ctime_ns: nanos(st.st_ctime, st.st_ctime_nsec.cast_signed()),
        })
    }

    pub(super) fn key(state: Option<FileState>) -> Key {
        state.map_or([-1; KEY], |s| {
            [s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns]
        })
    }

    /// The key to keep for what `watch` watches, whose state was taken at `now_ns` (since the
    /// epoch) or later. A folder's modification time tells a later change from none only once
    /// the file system's clock has moved on from it (it ticks in milliseconds to seconds,
    /// behind the real clock); until [`SETTLE_NS`] have passed, the key is one no folder has,
    /// so that the next read looks at the session's meta again.
    pub(super) fn watched_key(watch: Watch, state: Option<FileState>, now_ns: i64) -> Key {
        let mut key = FileState::key(state);
        if watch == Watch::Folder
            && state.is_some_and(|s| now_ns.saturating_sub(s.mtime_ns) < SETTLE_NS)
        {
            key[3] = UNSETTLED;
            key[4] = UNSETTLED;
        }
        key
    }

    /// The keys of a session's two files as `idx_state` keeps them, and the clocks its fold's
    /// end holds at: ten little-endian numbers, the events file's first, then two
    /// little-endian floats.
    pub(super) fn pack(events: Key, meta: Key, clocks: Clocks) -> Vec<u8> {
        events
            .iter()
            .chain(&meta)
            .flat_map(|n| n.to_le_bytes())
            .chain(
                [clocks.latest, clocks.ahead]
                    .iter()
                    .flat_map(|f| f.to_le_bytes()),
            )
            .collect()
    }

    /// The keys and clocks [`FileState::pack`] packed; a blob of another size (an earlier
    /// version's, or not ours) is keys no file has, so the session is found stale and indexed
    /// again.
    pub(super) fn unpack(blob: Option<&[u8]>) -> (Key, Key, Clocks) {
        let mut keys = [[i64::MIN; KEY]; 2];
        let mut clocks = Clocks {
            latest: f64::NEG_INFINITY,
            ahead: f64::INFINITY,
        };
        if let Some(blob) = blob.filter(|b| b.len() == PACKED) {
            let (files, times) = blob.split_at(2 * KEY * 8);
            for (n, bytes) in keys
                .as_flattened_mut()
                .iter_mut()
                .zip(files.chunks_exact(8))
            {
                *n = bytes.try_into().map_or(i64::MIN, i64::from_le_bytes);
            }
            let float = |bytes: &[u8]| bytes.try_into().map_or(f64::NAN, f64::from_le_bytes);
            clocks.latest = float(&times[..8]);
            clocks.ahead = float(&times[8..]);
        }
        (keys[0], keys[1], clocks)
    }
}

/// What `idx_state` keeps of a file's identity ([`FileState::key`]): device, inode, size,
/// modification and change times.
pub(super) type Key = [i64; KEY];
const KEY: usize = 5;

/// The length of a packed `idx_state` blob ([`FileState::pack`]).
const PACKED: usize = 2 * KEY * 8 + 16;

/// How long a watched folder's modification time is not trusted after it changed: longer than
/// the coarsest clock of a file system we may run on (FAT's two seconds).
const SETTLE_NS: i64 = 3_000_000_000;

/// A modification time no file has: the key of a folder that changed too recently.
const UNSETTLED: i64 = i64::MIN + 1;

/// A session folder as found on disk (or found gone).
pub(super) struct OnDisk {
    pub(super) id: String,
    pub(super) events: Option<FileState>,
    /// What else was looked at (see [`watched`]) and its state, or `None` when nothing was.
    pub(super) watched: Option<(Watch, Option<FileState>)>,
    pub(super) stale: bool,
}

/// What the index compares besides `events.ndjson` to know a session's `meta.json` is as
/// indexed (kept in `idx_state.watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Watch {
    /// `meta.json` itself: a session of ours (with `.counters`), whose `meta.json` changes
    /// without an append too (the collector told more of a session, a recording that could
    /// not append its end, a hand edit); one whose meta was missing or unreadable; or one
    /// with no events file.
    Meta = 1,
    /// The session's folder: another tool's session (no `.counters`), whose writer replaces
    /// `meta.json` by renaming a new file over it, which changes the folder. One component of
    /// path to look up instead of two, for the half of a migrated store that is the Python
    /// tool's; a `meta.json` rewritten in place is seen once the events change.
    Folder = 2,
}

impl Watch {
    fn from_column(n: i64) -> Watch {
        match n {
            2 => Watch::Folder,
            _ => Watch::Meta,
        }
    }

    /// The state of what this watches in the folder of session `id`, looked at relative to
    /// the store's descriptor (see [`FileState::at`]).
    pub(super) fn state_at(self, root: &OwnedFd, path: &mut String, id: &str) -> Option<FileState> {
        match self {
            Watch::Folder => FileState::at(root, path, id, ""),
            Watch::Meta => FileState::at(root, path, id, META),
        }
    }

    /// The state of what this watches in the session folder `dir`.
    pub(super) fn state_in(self, dir: &Path) -> Option<FileState> {
        match self {
            Watch::Folder => FileState::of(dir),
            Watch::Meta => FileState::of(&dir.join(META)),
        }
    }
}

/// What the index holds about a session's files: a row of `idx_state`.
pub(super) struct Known {
    /// Where its id is in [`KnownSessions`]' text of ids (see [`KnownSessions::id`]).
    id: std::ops::Range<usize>,
    pub(super) sid: i64,
    pub(super) events: Key,
    /// The state of what [`Known::watch`] names, as indexed.
    pub(super) watched: Key,
    pub(super) watch: Watch,
    /// The clocks at which the fold's end, as indexed, holds ([`Clocks::holds_at`]).
    pub(super) clocks: Clocks,
}

/// What the index knows, ordered by session id (as SQLite's `BINARY` collation and Rust's
/// `str` order agree), so that a session is found by binary search; and the connection's
/// `data_version` from before it was read, which tells whether another connection has
/// committed since (see [`KnownSessions::still_current`]).
///
/// The ids are one text, each row naming its part: ten thousand ids allocated and freed one
/// by one cost a warm read more than half a millisecond, most of it after the scan, when
/// nothing else runs.
pub(super) struct KnownSessions {
    ids: String,
    rows: Vec<Known>,
    version: i64,
    /// Whether the index holds rows of sessions it has no state for ([`holds_strays`]).
    strays: bool,
}

impl KnownSessions {
    pub(super) fn get(&self, id: &str) -> Option<&Known> {
        self.rows
            .binary_search_by(|k| self.id(k).cmp(id))
            .ok()
            .map(|i| &self.rows[i])
    }

    /// A known session's id.
    pub(super) fn id(&self, known: &Known) -> &str {
        &self.ids[known.id.clone()]
    }

    /// Every known session, in the order of their ids.
    pub(super) fn rows(&self) -> &[Known] {
        &self.rows
    }

    /// How many sessions the index has.
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the index holds rows that belong to no session it knows, which a refresh drops
    /// ([`holds_strays`]).
    pub(super) fn strays(&self) -> bool {
        self.strays
    }

    /// Whether `conn` (the connection these rows were read on, now in a transaction) sees the
    /// same rows: no other connection committed since they were read. SQLite changes a
    /// connection's `data_version` exactly when another connection commits, so the refresh's
    /// write transaction needs not read the ten thousand rows again to know they are the same.
    pub(super) fn still_current(&self, conn: &Connection) -> rusqlite::Result<bool> {
        Ok(data_version(conn)? == self.version)
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

/// What is looked at besides a session's events file: what the index watches for it (see
/// [`Watch`]), or `meta.json` where there is no events file (then only its meta says the
/// session is still there); nothing for a session not indexed yet, which is new anyway.
pub(super) fn watched(events: Option<FileState>, known: Option<&Known>) -> Option<Watch> {
    match (events, known.map(|k| k.watch)) {
        (None, _) => Some(Watch::Meta),
        (Some(_), watch) => watch,
    }
}

/// Whether a folder's files, as a scan found them (see [`super::scan`]; `watched` when it
/// was looked at, see [`watched`]), are not the ones indexed, or whether its fold's end no
/// longer holds at `now` (seconds since the epoch): an end stamped ahead of the clock counted
/// in file order when it was folded, and the clock has come to it (or gone back), which no
/// file shows.
pub(super) fn is_stale_now(
    events: Option<FileState>,
    watched: Option<(Watch, Option<FileState>)>,
    known: Option<&Known>,
    now: f64,
) -> bool {
    match known {
        None => events.is_some() || watched.is_some_and(|(_, state)| state.is_some()),
        Some(k) => {
            k.events != FileState::key(events)
                || watched.is_some_and(|(_, state)| k.watched != FileState::key(state))
                || !k.clocks.holds_at(now)
        }
    }
}

/// Whether a folder's files are not the ones indexed, or its fold no longer holds at `now`.
/// The events file is always looked at, and what else [`watched`] names, looked at now if the
/// scan did not.
pub(super) fn is_stale(store: &Store, disk: &mut OnDisk, known: Option<&Known>, now: f64) -> bool {
    let watch = watched(disk.events, known);
    if disk.watched.map(|(w, _)| w) != watch {
        let dir = store.session_dir(&disk.id);
        disk.watched = watch.map(|w| (w, w.state_in(&dir)));
    }
    is_stale_now(disk.events, disk.watched, known, now)
}

/// The rows of `idx_state`: a narrow table, so that reading it is cheap, its ten numbers in
/// one blob (see [`FileState::pack`]): ten thousand rows of eleven columns cost 5 ms to read.
pub(super) fn known_in(conn: &Connection) -> rusqlite::Result<KnownSessions> {
    // Read first: a commit between it and the rows makes the rows look older, never newer.
    let version = data_version(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, sid, state, watch FROM idx_state ORDER BY session_id",
    )?;
    let mut ids = String::new();
    let mut rows = Vec::new();
    let mut found = stmt.query([])?;
    while let Some(r) = found.next()? {
        let id = r.get_ref(0)?.as_str()?;
        let start = ids.len();
        ids.push_str(id);
        let (events, watched, clocks) = FileState::unpack(r.get_ref(2)?.as_blob_or_null()?);
        rows.push(Known {
            id: start..ids.len(),
            sid: r.get(1)?,
            events,
            watched,
            watch: Watch::from_column(r.get(3)?),
            clocks,
        });
    }
    drop(found);
    let strays = holds_strays(conn, &rows)?;
    let known = KnownSessions {
        ids,
        rows,
        version,
        strays,
    };
    debug_assert!(known.rows.is_sorted_by(|a, b| known.id(a) < known.id(b)));
    Ok(known)
}

/// The tables whose rows belong to a session by its `sid`, besides `idx_state`.
pub(super) const SESSION_TABLES: [&str; 8] = [
    "idx_sessions",
    "idx_folds",
    "idx_events",
    "idx_calls",
    "idx_responses",
    "idx_files",
    "idx_models",
    "idx_derived",
];

/// Whether the index holds rows of sessions `idx_state` does not name: rows written into it
/// by something else than a refresh, which only ever looks at the sessions `idx_state` names
/// (and the folders on disk), so would otherwise keep them for good. A session listed that
/// the store does not hold, or another's calls under the `sid` the next new session gets,
/// would be in every answer. Told cheaply, on every read: more rows in `idx_sessions` than
/// `idx_state` has (a count SQLite reads off the smaller index, 10 µs on 10,000 sessions), or
/// a `sid` in any table past the largest `idx_state` names (one seek each). A row under the
/// `sid` of a session known (a figure changed in place) is not told, and the view's joins
/// show none under the `sid` of no session.
fn holds_strays(conn: &Connection, rows: &[Known]) -> rusqlite::Result<bool> {
    let sessions: i64 = conn
        .prepare_cached("SELECT count(*) FROM idx_sessions")?
        .query_row([], |r| r.get(0))?;
    if usize::try_from(sessions).ok() != Some(rows.len()) {
        return Ok(true);
    }
    let last = rows.iter().map(|k| k.sid).max();
    for table in SESSION_TABLES {
        let most: Option<i64> = conn
            .prepare_cached(&format!("SELECT max(sid) FROM {table}"))?
            .query_row([], |r| r.get(0))?;
        if most > last {
            return Ok(true);
        }
    }
    Ok(false)
}
