//! The session index: one SQLite file, `.index.sqlite`, summarising every session, kept as a
//! cache of the NDJSON truth and refreshed whenever it is read.
//!
//! # Format
//! `PRAGMA user_version` holds [`INDEX_FORMAT`] and [`SUMMARY_VERSION`]; an index of any other
//! version is emptied and rebuilt. Tables (`idx_*`) are ours; the views over them (`sessions`,
//! `events`, `tool_calls`, `files`, `llm_responses`, `models`) are what `agent-strace sql`
//! documents. For each session the index keeps what it has folded (the byte offset and line
//! count of `events.ndjson` it reached, the [`Summary`] so far) and the identity of both files
//! (device, inode, size, modification time):
//! - `events.ndjson` grew, same inode: the new complete lines are folded from the offset;
//! - it shrank, changed inode or was rewritten in place: the session is folded again whole;
//! - `meta.json` changed: its fields are read again;
//! - the folder is gone: the session's rows are deleted.
//!
//! Event payloads are not copied: an event row holds the offset and length of its line, and
//! the `event_json` function of a connection opened by [`super::sql::SqlReader`] reads them from
//! the file.
//!
//! # Concurrency
//! WAL journal, a busy timeout, and every refresh in one `BEGIN IMMEDIATE` transaction that
//! checks again what is stale once it holds the write lock, so readers refreshing at once
//! queue rather than fail, and the second finds the work done. Hooks never open the index.
//!
//! # Safety
//! The index, its `-wal` and its `-shm` are opened only when they are regular files or absent
//! (`SQLITE_OPEN_NOFOLLOW` for the database too): a symlink or FIFO someone put there is never
//! followed or blocked on; the caller falls back to scanning.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::layout::{COUNTERS, EVENTS, INDEX, META};
use super::meta::apply;
use super::reader::parse_line;
use super::{SessionSummary, Store, StoreError};
use crate::model::pricing::{ModelPrice, PriceTable};
use crate::model::summary::{SUMMARY_VERSION, Summary, response_cost, response_usage};
use crate::model::tools::Agent;
use crate::model::view::View;
use crate::model::{Counters, EventType, Money, SessionMeta};

/// The version of the index's tables.
pub const INDEX_FORMAT: u32 = 1;

/// How long a reader waits for another to finish refreshing before giving up on the index.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the index could not be used; callers fall back to reading every session.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0} is not a regular file")]
    NotRegular(PathBuf),
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One session as the index lists it.
#[derive(Debug, Clone)]
pub struct IndexedSession {
    /// Its metadata, counters caught up. The counters' first and last timestamps are not kept.
    pub summary: SessionSummary,
    pub first_prompt: Option<String>,
    /// The agent's transcript a hook-recorded session names.
    pub transcript_path: Option<String>,
}

/// Every session, newest first, from the index or (when it cannot be used) from the files.
#[derive(Debug)]
pub struct Listing {
    pub sessions: Vec<IndexedSession>,
    /// Sessions whose metadata could not be read.
    pub unreadable: Vec<StoreError>,
    /// Why the index was not used, when it was not: one sentence for the user.
    pub warning: Option<String>,
    /// The index, when it was used, for caches of derived figures.
    pub index: Option<Index>,
}

/// An open index.
#[derive(Debug)]
pub struct Index {
    conn: Connection,
    path: PathBuf,
    /// Sessions the last refresh could not read.
    problems: Vec<StoreError>,
}

impl Store {
    /// The path of the index file.
    pub fn index_path(&self) -> PathBuf {
        self.root().join(INDEX)
    }

    /// Every session with its metadata (counters caught up) and first prompt, newest first:
    /// from the index, refreshed first; or, when the index cannot be used, from every session's
    /// files, with a warning saying why.
    pub fn sessions(&self) -> super::Result<Listing> {
        self.require()?;
        match Index::open(self).and_then(|mut index| {
            index.refresh(self)?;
            let (sessions, mut unreadable) = index.read_sessions(self)?;
            unreadable.append(&mut index.problems);
            Ok((sessions, unreadable, index))
        }) {
            Ok((sessions, unreadable, index)) => Ok(Listing {
                sessions,
                unreadable,
                warning: None,
                index: Some(index),
            }),
            Err(IndexError::Store(e)) => Err(e),
            Err(err) => {
                let (summaries, unreadable) = self.list()?;
                let sessions = summaries
                    .into_iter()
                    .map(|summary| IndexedSession {
                        first_prompt: self.first_prompt(&summary.meta.session_id),
                        transcript_path: None,
                        summary,
                    })
                    .collect();
                Ok(Listing {
                    sessions,
                    unreadable,
                    warning: Some(format!(
                        "the session index cannot be used ({err}); reading every session instead"
                    )),
                    index: None,
                })
            }
        }
    }

    /// The index, brought up to date with the files.
    pub fn fresh_index(&self) -> Result<Index, IndexError> {
        let mut index = Index::open(self)?;
        index.refresh(self)?;
        Ok(index)
    }

    /// The text of a session's first `user_prompt`, read from its events.
    fn first_prompt(&self, session_id: &str) -> Option<String> {
        let mut events = self.events(session_id).ok()?;
        events
            .find_map(|e| match View::of(&e, Agent::Unknown) {
                View::Prompt(prompt) => {
                    Some(prompt.raw.and_then(|v| v.as_str()).map(str::to_owned))
                }
                _ => None,
            })
            .flatten()
    }
}

/// Refuses anything but a regular file (or nothing) at `path`, without following links.
fn check_regular(path: &Path) -> Result<(), IndexError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(IndexError::NotRegular(path.to_path_buf())),
        _ => Ok(()),
    }
}

/// The identity of a file: whether it changed since it was indexed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct FileState {
    dev: i64,
    ino: i64,
    size: i64,
    mtime_ns: i64,
}

impl FileState {
    fn of(path: &Path) -> Option<FileState> {
        let m = std::fs::metadata(path).ok()?;
        m.is_file().then(|| FileState {
            dev: m.dev().cast_signed(),
            ino: m.ino().cast_signed(),
            size: m.size().cast_signed(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        })
    }

    fn key(state: Option<FileState>) -> [i64; 4] {
        state.map_or([-1; 4], |s| [s.dev, s.ino, s.size, s.mtime_ns])
    }
}

/// A session folder as found on disk.
struct OnDisk {
    id: String,
    events: Option<FileState>,
    /// Looked at only when it matters (`None` until then).
    #[expect(clippy::option_option, reason = "not looked at, absent, or its state")]
    meta: Option<Option<FileState>>,
    stale: bool,
}

/// What the index holds about a session's files.
struct Known {
    sid: i64,
    events: [i64; 4],
    meta: [i64; 4],
    has_counters: bool,
    /// Its meta was missing or unreadable when indexed.
    meta_unsure: bool,
}

const SCHEMA: &str = r"
CREATE TABLE idx_sessions (
    sid INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    ev_dev INTEGER, ev_ino INTEGER, ev_size INTEGER, ev_mtime INTEGER,
    meta_dev INTEGER, meta_ino INTEGER, meta_size INTEGER, meta_mtime INTEGER,
    has_counters INTEGER NOT NULL,
    meta_error TEXT,
    started_at REAL, ended_at REAL, agent_name TEXT, command TEXT,
    tool_calls INTEGER, llm_requests INTEGER, errors INTEGER, total_tokens INTEGER,
    total_duration_ms REAL, parent_session_id TEXT, parent_event_id TEXT, depth INTEGER,
    meta_extra TEXT, derived INTEGER,
    first_prompt TEXT, transcript_path TEXT, events INTEGER,
    input_tokens INTEGER, output_tokens INTEGER, cache_write_tokens INTEGER,
    cache_read_tokens INTEGER, cost_pico INTEGER, estimated INTEGER, model TEXT
);
CREATE TABLE idx_folds (
    sid INTEGER PRIMARY KEY,
    folded_offset INTEGER NOT NULL,
    folded_lines INTEGER NOT NULL,
    fold TEXT NOT NULL
);
CREATE TABLE idx_events (
    sid INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    event_id TEXT,
    type TEXT NOT NULL,
    time REAL,
    tool TEXT,
    kind TEXT,
    parent_id TEXT,
    duration_ms REAL,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;
CREATE TABLE idx_calls (
    sid INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    event_id TEXT,
    time REAL,
    tool TEXT,
    kind TEXT,
    outcome TEXT,
    duration_ms REAL,
    r_offset INTEGER,
    r_length INTEGER,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;
CREATE TABLE idx_responses (
    sid INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT,
    time REAL,
    model TEXT,
    input_tokens INTEGER, output_tokens INTEGER, cache_write_tokens INTEGER,
    cache_read_tokens INTEGER, cost_pico INTEGER,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;
CREATE TABLE idx_files (
    sid INTEGER NOT NULL, path TEXT NOT NULL, reads INTEGER NOT NULL, writes INTEGER NOT NULL,
    PRIMARY KEY (sid, path)
) WITHOUT ROWID;
CREATE TABLE idx_models (
    sid INTEGER NOT NULL, model TEXT NOT NULL, responses INTEGER NOT NULL,
    input_tokens INTEGER, output_tokens INTEGER, cache_write_tokens INTEGER,
    cache_read_tokens INTEGER, cost_pico INTEGER,
    PRIMARY KEY (sid, model)
) WITHOUT ROWID;
CREATE TABLE idx_derived (
    sid INTEGER NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (sid, name)
) WITHOUT ROWID;

CREATE VIEW sessions AS SELECT
    session_id, datetime(started_at, 'unixepoch') AS start, started_at,
    ended_at, round(ended_at - started_at, 3) AS duration_s, agent_name AS agent, command,
    first_prompt, model, events, tool_calls, errors, llm_requests, total_tokens,
    input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
    cost_pico / 1e12 AS cost_usd, estimated, parent_session_id, parent_event_id, depth
  FROM idx_sessions WHERE meta_error IS NULL;
CREATE VIEW events AS SELECT
    s.session_id, e.seq, e.event_id, e.type, e.time, datetime(e.time, 'unixepoch') AS at,
    e.tool, e.kind, e.parent_id, e.duration_ms,
    event_json(s.session_id, e.offset, e.length, 'data') AS data,
    event_json(s.session_id, e.offset, e.length, 'arguments') AS arguments,
    event_json(s.session_id, e.offset, e.length, 'result') AS result
  FROM idx_events e JOIN idx_sessions s USING (sid);
CREATE VIEW tool_calls AS SELECT
    s.session_id, c.seq, c.event_id AS call_id, c.time, datetime(c.time, 'unixepoch') AS at,
    c.tool, c.kind,
    event_json(s.session_id, c.offset, c.length, 'arguments') AS arguments,
    c.outcome, CASE c.outcome WHEN 'error' THEN 1 WHEN 'tool_result' THEN 0 END AS failed,
    c.duration_ms,
    event_json(s.session_id, c.r_offset, c.r_length, 'result') AS result
  FROM idx_calls c JOIN idx_sessions s USING (sid);
CREATE VIEW files AS SELECT s.session_id, f.path, f.reads, f.writes
  FROM idx_files f JOIN idx_sessions s USING (sid);
CREATE VIEW llm_responses AS SELECT
    s.session_id, r.seq, r.event_id, r.time, datetime(r.time, 'unixepoch') AS at, r.model,
    r.input_tokens, r.output_tokens, r.cache_write_tokens, r.cache_read_tokens,
    r.input_tokens + r.output_tokens + r.cache_write_tokens + r.cache_read_tokens
      AS total_tokens,
    r.cost_pico / 1e12 AS cost_usd
  FROM idx_responses r JOIN idx_sessions s USING (sid);
CREATE VIEW models AS SELECT s.session_id, m.model, m.responses, m.input_tokens,
    m.output_tokens, m.cache_write_tokens, m.cache_read_tokens, m.cost_pico / 1e12 AS cost_usd
  FROM idx_models m JOIN idx_sessions s USING (sid);
";

fn user_version() -> i64 {
    i64::from(INDEX_FORMAT) << 16 | i64::from(SUMMARY_VERSION)
}

impl Index {
    /// Opens (creating when needed) the store's index, with its tables at this version.
    pub fn open(store: &Store) -> Result<Index, IndexError> {
        let path = store.index_path();
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            check_regular(Path::new(&name))?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let sql = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(&path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        register_functions(&conn, store.root()).map_err(sql)?;
        let mut index = Index {
            conn,
            path: path.clone(),
            problems: Vec::new(),
        };
        if let Err(source) = index.prepare() {
            return Err(IndexError::Sqlite { path, source });
        }
        Ok(index)
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn sql_error(&self, source: rusqlite::Error) -> IndexError {
        IndexError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// WAL mode and tables of this version, made once by whichever process gets there first.
    fn prepare(&mut self) -> rusqlite::Result<()> {
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Switching needs a moment alone with the file; another opener may hold it.
            let mut tries = 0;
            loop {
                match self
                    .conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                {
                    Ok(_) => break,
                    Err(e) if is_busy(&e) && tries < 300 => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Reading through a mapping saves a system call per page.
        self.conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version == user_version() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version != user_version() {
            // Another version's tables, or none: it is a cache, so start again.
            let objects: Vec<(String, String)> = tx
                .prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (kind, name) in objects {
                let kind = if kind == "view" { "VIEW" } else { "TABLE" };
                tx.execute_batch(&format!("DROP {kind} IF EXISTS \"{name}\""))?;
            }
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", user_version())?;
        }
        tx.commit()
    }

    /// Brings the index up to date with the store's files.
    pub fn refresh(&mut self, store: &Store) -> Result<RefreshReport, IndexError> {
        let known = self.known().map_err(|e| self.sql_error(e))?;
        let mut on_disk = scan_folders(store, &known)?;
        if on_disk.iter().all(|d| !d.stale) && gone(&on_disk, &known).is_empty() {
            return Ok(RefreshReport::default());
        }
        let path = self.path.clone();
        let sql = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        // Another reader may have refreshed while this one waited for the lock.
        let known = known_in(&tx).map_err(sql)?;
        for disk in &mut on_disk {
            let k = known.get(&disk.id);
            disk.stale = is_stale(store, disk, k);
        }
        self.problems.clear();
        let mut report = RefreshReport::default();
        for sid in gone(&on_disk, &known) {
            delete_rows(&tx, sid, true).map_err(sql)?;
            report.deleted += 1;
        }
        let mut prices = Prices::default();
        for disk in on_disk.iter().filter(|d| d.stale) {
            let savepoint = tx.savepoint().map_err(sql)?;
            match refresh_session(&savepoint, store, disk, known.get(&disk.id), &mut prices) {
                Ok(how) => {
                    savepoint.commit().map_err(sql)?;
                    match how {
                        Refreshed::Whole => report.folded += 1,
                        Refreshed::Tail => report.appended += 1,
                        Refreshed::Meta => report.meta += 1,
                        Refreshed::Gone => report.deleted += 1,
                    }
                }
                Err(RefreshError::Sql(e)) => return Err(sql(e)),
                // A session that cannot be read now is left as it was (its savepoint rolled
                // back), to be tried again by the next reader.
                Err(RefreshError::Store(e)) => {
                    drop(savepoint);
                    report.unreadable += 1;
                    self.problems.push(e);
                }
            }
        }
        tx.commit().map_err(sql)?;
        Ok(report)
    }

    fn known(&self) -> rusqlite::Result<HashMap<String, Known>> {
        known_in(&self.conn)
    }

    /// Every indexed session, newest first, and the sessions whose metadata is unreadable.
    fn read_sessions(
        &self,
        store: &Store,
    ) -> Result<(Vec<IndexedSession>, Vec<StoreError>), IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT session_id, meta_error, started_at, ended_at, agent_name, command,
                    tool_calls, llm_requests, errors, total_tokens, total_duration_ms,
                    parent_session_id, parent_event_id, depth, meta_extra, derived, first_prompt,
                    events, ended_at, transcript_path
                 FROM idx_sessions",
            )
            .map_err(|e| self.sql_error(e))?;
        let mut sessions = Vec::new();
        let mut unreadable = Vec::new();
        let mut rows = stmt.query([]).map_err(|e| self.sql_error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sql_error(e))? {
            let get = || -> rusqlite::Result<Result<IndexedSession, StoreError>> {
                let id: String = row.get(0)?;
                if let Some(message) = row.get::<_, Option<String>>(1)? {
                    return Ok(Err(StoreError::Corrupt {
                        path: store.session_dir(&id).join(META),
                        message,
                    }));
                }
                let extra = row
                    .get::<_, Option<String>>(14)?
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                let meta = SessionMeta {
                    session_id: id,
                    started_at: row.get(2)?,
                    ended_at: row.get(3)?,
                    agent_name: row.get(4)?,
                    command: row.get(5)?,
                    tool_calls: row.get::<_, u64>(6)?,
                    llm_requests: row.get::<_, u64>(7)?,
                    errors: row.get::<_, u64>(8)?,
                    total_tokens: row.get::<_, u64>(9)?,
                    total_duration_ms: row.get(10)?,
                    parent_session_id: row.get(11)?,
                    parent_event_id: row.get(12)?,
                    depth: row.get::<_, u64>(13)?,
                    extra,
                };
                let counters = row.get::<_, bool>(15)?.then(|| Counters {
                    events: row.get::<_, u64>(17).unwrap_or(0),
                    tool_calls: meta.tool_calls,
                    llm_requests: meta.llm_requests,
                    errors: meta.errors,
                    total_tokens: meta.total_tokens,
                    first_timestamp: None,
                    last_timestamp: None,
                    ended_at: row.get(18).unwrap_or(None),
                });
                Ok(Ok(IndexedSession {
                    summary: SessionSummary { meta, counters },
                    first_prompt: row.get(16)?,
                    transcript_path: row.get(19)?,
                }))
            };
            match get().map_err(|e| self.sql_error(e))? {
                Ok(s) => sessions.push(s),
                Err(e) => unreadable.push(e),
            }
        }
        sessions.sort_by(|a, b| {
            let (a, b) = (&a.summary.meta, &b.summary.meta);
            b.started_at
                .total_cmp(&a.started_at)
                .then_with(|| b.session_id.cmp(&a.session_id))
        });
        Ok((sessions, unreadable))
    }

    /// Every cached figure called `name`, by session id, with the key it was computed for.
    /// A session's cached figures are dropped whenever its files change.
    pub fn derived(&self, name: &str) -> Result<Derived, IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.session_id, d.key, d.value FROM idx_derived d
                 JOIN idx_sessions s USING (sid) WHERE d.name = ?1",
            )
            .map_err(|e| self.sql_error(e))?;
        stmt.query_map([name], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .and_then(Iterator::collect)
            .map(Derived)
            .map_err(|e| self.sql_error(e))
    }

    /// Caches figures computed from sessions (by a layer above the store), as
    /// `(session id, key, value)`.
    pub fn put_derived(
        &mut self,
        name: &str,
        entries: &[(String, String, String)],
    ) -> Result<(), IndexError> {
        if entries.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let sql = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR REPLACE INTO idx_derived (sid, name, key, value)
                     SELECT sid, ?2, ?3, ?4 FROM idx_sessions WHERE session_id = ?1",
                )
                .map_err(sql)?;
            for (id, key, value) in entries {
                stmt.execute(params![id, name, key, value]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Sessions folded from the start.
    pub folded: u64,
    /// Sessions whose new lines were folded.
    pub appended: u64,
    /// Sessions whose metadata alone was read again.
    pub meta: u64,
    pub deleted: u64,
    pub unreadable: u64,
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Every session folder, with the state of its events file (and of its meta when it
/// matters), and whether the index has it as it is. Looking at ten thousand files is most of
/// what a warm read costs, so it is shared among threads.
fn scan_folders(store: &Store, known: &HashMap<String, Known>) -> Result<Vec<OnDisk>, StoreError> {
    let root = store.root();
    let entries = std::fs::read_dir(root).map_err(|e| StoreError::io(root, e))?;
    let ids: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|id| !id.starts_with('.') && super::is_valid_session_id(id))
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
const PARALLEL_FOLDERS: usize = 512;

/// Whether a folder's files are not the ones indexed. The events file is always looked at;
/// `meta.json` only where it can change alone: in sessions of other tools, whose counters it
/// holds, and where it was missing or unreadable. Our writers replace it only together with an
/// append (see `meta.rs`), which changes the events file.
fn is_stale(store: &Store, disk: &mut OnDisk, known: Option<&Known>) -> bool {
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

fn known_in(conn: &Connection) -> rusqlite::Result<HashMap<String, Known>> {
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
fn gone(on_disk: &[OnDisk], known: &HashMap<String, Known>) -> Vec<i64> {
    let present: HashSet<&str> = on_disk.iter().map(|d| d.id.as_str()).collect();
    known
        .iter()
        .filter(|(id, _)| !present.contains(id.as_str()))
        .map(|(_, k)| k.sid)
        .collect()
}

fn delete_rows(tx: &Connection, sid: i64, session_too: bool) -> rusqlite::Result<()> {
    for table in [
        "idx_events",
        "idx_calls",
        "idx_responses",
        "idx_files",
        "idx_models",
        "idx_derived",
    ] {
        tx.execute(&format!("DELETE FROM {table} WHERE sid = ?1"), [sid])?;
    }
    if session_too {
        tx.execute("DELETE FROM idx_folds WHERE sid = ?1", [sid])?;
        tx.execute("DELETE FROM idx_sessions WHERE sid = ?1", [sid])?;
    }
    Ok(())
}

enum Refreshed {
    Whole,
    Tail,
    Meta,
    Gone,
}

enum RefreshError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for RefreshError {
    fn from(e: rusqlite::Error) -> Self {
        RefreshError::Sql(e)
    }
}

/// Prices by model name, looked up once per refresh.
#[derive(Default)]
struct Prices(HashMap<String, Option<ModelPrice>>);

impl Prices {
    fn get(&mut self, model: &str) -> Option<&ModelPrice> {
        self.0
            .entry(model.to_owned())
            .or_insert_with(|| PriceTable::builtin().find(model).cloned())
            .as_ref()
    }
}

/// Folds what is new in one session into the index.
fn refresh_session(
    tx: &Connection,
    store: &Store,
    disk: &OnDisk,
    known: Option<&Known>,
    prices: &mut Prices,
) -> Result<Refreshed, RefreshError> {
    let dir = store.session_dir(&disk.id);
    let meta_state = disk.meta.unwrap_or_else(|| FileState::of(&dir.join(META)));
    if disk.events.is_none() && meta_state.is_none() {
        // The folder is there but the session's files are not (any more).
        if let Some(k) = known {
            delete_rows(tx, k.sid, true)?;
        }
        return Ok(Refreshed::Gone);
    }
    let has_counters = dir.join(COUNTERS).exists();
    let meta = store.read_meta(&disk.id);
    let agent = meta
        .as_ref()
        .map_or(Agent::Unknown, |m| Agent::from_name(&m.agent_name));
    // What was folded before, when the events file is the same one, only longer.
    let previous = match known {
        Some(k) => {
            let row: Option<(i64, i64, String)> = tx
                .query_row(
                    "SELECT folded_offset, folded_lines, fold FROM idx_folds WHERE sid = ?1",
                    [k.sid],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let now = FileState::key(disk.events);
            let same_file = k.events[0] == now[0] && k.events[1] == now[1] && k.events[1] != -1;
            let unchanged = k.events == now;
            row.and_then(|(offset, lines, fold)| {
                let grew = same_file && now[2] >= offset && now[2] > k.events[2];
                let fold = serde_json::from_str::<Summary>(&fold).ok()?;
                (unchanged || grew).then_some((k.sid, offset, lines, fold, unchanged))
            })
        }
        None => None,
    };
    let (sid, offset, lines, mut fold, how) =
        if let Some((sid, offset, lines, fold, same)) = previous {
            let how = if same {
                Refreshed::Meta
            } else {
                Refreshed::Tail
            };
            (sid, offset, lines, fold, how)
        } else {
            let sid = if let Some(k) = known {
                delete_rows(tx, k.sid, false)?;
                k.sid
            } else {
                tx.execute(
                    "INSERT INTO idx_sessions (session_id, has_counters) VALUES (?1, 0)",
                    [&disk.id],
                )?;
                tx.last_insert_rowid()
            };
            (sid, 0, 0, Summary::default(), Refreshed::Whole)
        };
    let (offset, lines) = if matches!(how, Refreshed::Meta) {
        (offset, lines)
    } else {
        let mut folding = Folding {
            tx,
            sid,
            agent,
            fold: &mut fold,
            prices,
        };
        folding.fold_from(&dir.join(EVENTS), offset, lines)?
    };
    tx.execute(
        "INSERT OR REPLACE INTO idx_folds (sid, folded_offset, folded_lines, fold)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            sid,
            offset,
            lines,
            serde_json::to_string(&fold).unwrap_or_else(|_| "{}".to_owned())
        ],
    )?;
    let states = (disk.events, meta_state);
    write_session(tx, sid, &disk.id, states, has_counters, &fold, meta, prices)?;
    Ok(how)
}

/// One session's new lines being folded into its summary and rows.
struct Folding<'a> {
    tx: &'a Connection,
    sid: i64,
    agent: Agent,
    fold: &'a mut Summary,
    prices: &'a mut Prices,
}

/// A tool call waiting for its result before its row is written.
struct OpenCall {
    seq: i64,
    offset: i64,
    length: i64,
    event_id: String,
    time: f64,
    tool: Option<String>,
    kind: Option<&'static str>,
}

/// What a result says about its call: its type, duration, and where its line is.
type Outcome<'a> = (&'a str, Option<f64>, i64, i64);

impl Folding<'_> {
    /// Folds the complete lines of `path` from `offset` on, adding their rows; returns the
    /// offset and line count reached.
    fn fold_from(
        &mut self,
        path: &Path,
        offset: i64,
        lines: i64,
    ) -> Result<(i64, i64), RefreshError> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((offset, lines)),
            Err(e) => return Err(RefreshError::Store(StoreError::io(path, e))),
        };
        let io = |e| RefreshError::Store(StoreError::io(path, e));
        file.seek(SeekFrom::Start(offset as u64)).map_err(io)?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut insert = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO idx_events (sid, seq, offset, length, event_id, type, time,
                 tool, kind, parent_id, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut respond = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO idx_responses (sid, seq, event_id, time, model, input_tokens,
                 output_tokens, cache_write_tokens, cache_read_tokens, cost_pico)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        // Calls of this pass wait here for their results; most come a few lines later.
        let mut open: HashMap<String, OpenCall> = HashMap::new();
        let mut buf = Vec::with_capacity(4096);
        let mut position = offset;
        let mut lines = lines;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(io)?;
            // An unfinished last line is left for the next refresh.
            if n == 0 || buf.last() != Some(&b'\n') {
                break;
            }
            let start = position;
            let length = i64::try_from(n).unwrap_or(i64::MAX);
            position += length;
            lines += 1;
            let text = buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            // Lines that do not parse are skipped, as every reader skips them.
            let Ok(event) = parse_line(text) else {
                continue;
            };
            self.fold.observe(self.agent, &event);
            let seq = i64::try_from(self.fold.counters.events).unwrap_or(i64::MAX);
            let (tool, kind) = match View::of(&event, self.agent) {
                View::ToolCall(call) => (
                    Some(call.tool).filter(|t| !t.is_empty()),
                    Some(call.kind.as_str()),
                ),
                View::ToolResult(result) => (result.tool, None),
                View::FileTouch(touch) => (touch.tool, None),
                _ => (None, None),
            };
            insert.execute(params![
                self.sid,
                seq,
                start,
                length,
                event.event_id,
                event.event_type.as_str(),
                event.timestamp,
                tool,
                kind,
                event.parent_id,
                event.duration_ms,
            ])?;
            match event.event_type {
                EventType::ToolCall => {
                    let call = OpenCall {
                        seq,
                        offset: start,
                        length,
                        event_id: event.event_id.clone(),
                        time: event.timestamp,
                        tool: tool.map(str::to_owned),
                        kind,
                    };
                    // A second call with the same id (it happens) is written as it is.
                    if let Some(earlier) = open.insert(event.event_id.clone(), call) {
                        self.write_call(&earlier, None)?;
                    }
                }
                EventType::ToolResult | EventType::Error => {
                    if let Some(parent) = &event.parent_id {
                        let outcome = (event.event_type.as_str(), event.duration_ms, start, length);
                        match open.remove(parent) {
                            Some(call) => self.write_call(&call, Some(outcome))?,
                            None => self.answer_earlier_call(parent, outcome)?,
                        }
                    }
                }
                EventType::LlmResponse => {
                    if let Some((model, tokens)) = response_usage(&event) {
                        let cost = self
                            .prices
                            .get(model)
                            .map(|p| pico(response_cost(p, &tokens)));
                        respond.execute(params![
                            self.sid,
                            seq,
                            event.event_id,
                            event.timestamp,
                            model,
                            tokens.input,
                            tokens.output,
                            tokens.cache_creation,
                            tokens.cache_read,
                            cost,
                        ])?;
                    }
                }
                _ => {}
            }
        }
        for call in open.values() {
            self.write_call(call, None)?;
        }
        Ok((position, lines))
    }

    fn write_call(&self, call: &OpenCall, outcome: Option<Outcome<'_>>) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO idx_calls (sid, seq, offset, length, event_id, time, tool,
                 kind, outcome, duration_ms, r_offset, r_length)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        stmt.execute(params![
            self.sid,
            call.seq,
            call.offset,
            call.length,
            call.event_id,
            call.time,
            call.tool,
            call.kind,
            outcome.map(|o| o.0),
            outcome.and_then(|o| o.1),
            outcome.map(|o| o.2),
            outcome.map(|o| o.3),
        ])?;
        Ok(())
    }

    /// A result whose call was indexed by an earlier refresh: the first such call still
    /// unanswered gets it.
    fn answer_earlier_call(
        &self,
        parent: &str,
        (kind, duration, offset, length): Outcome<'_>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "UPDATE idx_calls SET outcome = ?3, duration_ms = ?4, r_offset = ?5, r_length = ?6
             WHERE sid = ?1 AND seq = (SELECT seq FROM idx_calls
                 WHERE sid = ?1 AND event_id = ?2 AND outcome IS NULL ORDER BY seq LIMIT 1)",
        )?;
        stmt.execute(params![self.sid, parent, kind, duration, offset, length])?;
        Ok(())
    }
}

fn pico(m: Money) -> i64 {
    i64::try_from(m.0).unwrap_or(i64::MAX)
}

/// Writes a session's row (and its files and models) from its fold and metadata.
#[expect(clippy::too_many_arguments, reason = "one call site, all of it state")]
fn write_session(
    tx: &Connection,
    sid: i64,
    id: &str,
    (events, meta_state): (Option<FileState>, Option<FileState>),
    has_counters: bool,
    fold: &Summary,
    meta: super::Result<SessionMeta>,
    prices: &mut Prices,
) -> Result<(), RefreshError> {
    // As `Store::summary` reads a session: meta.json, with counters derived from the events
    // when the session is ours (or has no meta to trust).
    let (meta, meta_error) = match meta {
        Ok(meta) => (meta, None),
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            (SessionMeta::new(id, 0.0), None)
        }
        Err(StoreError::Io { source, .. }) => (SessionMeta::default(), Some(source.to_string())),
        Err(StoreError::Corrupt { message, .. }) => (SessionMeta::default(), Some(message)),
        Err(e) => (SessionMeta::default(), Some(e.to_string())),
    };
    let mut meta = meta;
    let derived = has_counters || meta.started_at == 0.0;
    if derived {
        if meta.started_at == 0.0 {
            meta.started_at = fold.counters.first_timestamp.unwrap_or_default();
        }
        apply(&mut meta, &fold.counters);
    }
    let tokens = fold.tokens();
    let extra =
        (!meta.extra.is_empty()).then(|| serde_json::to_string(&meta.extra).unwrap_or_default());
    let ev = FileState::key(events);
    let mt = FileState::key(meta_state);
    tx.execute(
        "UPDATE idx_sessions SET
            ev_dev = ?2, ev_ino = ?3, ev_size = ?4, ev_mtime = ?5,
            meta_dev = ?6, meta_ino = ?7, meta_size = ?8, meta_mtime = ?9,
            has_counters = ?10, meta_error = ?11, started_at = ?12, ended_at = ?13,
            agent_name = ?14, command = ?15, tool_calls = ?16, llm_requests = ?17, errors = ?18,
            total_tokens = ?19, total_duration_ms = ?20, parent_session_id = ?21,
            parent_event_id = ?22, depth = ?23, meta_extra = ?24, derived = ?25,
            first_prompt = ?26, transcript_path = ?27, events = ?28, input_tokens = ?29,
            output_tokens = ?30, cache_write_tokens = ?31, cache_read_tokens = ?32,
            cost_pico = ?33, estimated = ?34, model = ?35
         WHERE sid = ?1",
        params![
            sid,
            ev[0],
            ev[1],
            ev[2],
            ev[3],
            mt[0],
            mt[1],
            mt[2],
            mt[3],
            has_counters,
            meta_error,
            meta.started_at,
            meta.ended_at,
            meta.agent_name,
            meta.command,
            meta.tool_calls,
            meta.llm_requests,
            meta.errors,
            meta.total_tokens,
            meta.total_duration_ms,
            meta.parent_session_id,
            meta.parent_event_id,
            meta.depth,
            extra,
            derived,
            fold.first_prompt,
            fold.transcript_path,
            fold.counters.events,
            tokens.input,
            tokens.output,
            tokens.cache_creation,
            tokens.cache_read,
            pico(fold.cost(PriceTable::builtin())),
            !fold.has_usage(),
            fold.main_model(),
        ],
    )?;
    for table in ["idx_files", "idx_models", "idx_derived"] {
        tx.execute(&format!("DELETE FROM {table} WHERE sid = ?1"), [sid])?;
    }
    let mut files = tx.prepare_cached(
        "INSERT INTO idx_files (sid, path, reads, writes) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (path, count) in &fold.files {
        files.execute(params![sid, path, count.reads, count.writes])?;
    }
    let mut models = tx.prepare_cached(
        "INSERT INTO idx_models (sid, model, responses, input_tokens, output_tokens,
             cache_write_tokens, cache_read_tokens, cost_pico)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (model, usage) in &fold.models {
        let cost = prices.get(model).map(|p| pico(usage.cost(p)));
        let t = usage.tokens;
        models.execute(params![
            sid,
            model,
            usage.responses,
            t.input,
            t.output,
            t.cache_creation,
            t.cache_read,
            cost,
        ])?;
    }
    Ok(())
}

/// Registers `event_json(session_id, offset, length, part)`: the `data` of the event whose line
/// starts at `offset`, or its `arguments` or `result` (a tool result's `result`, else its
/// `tool_response`, else an error's `error`), as JSON text; NULL when the line is gone.
pub(super) fn register_functions(conn: &Connection, root: &Path) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    use std::cell::RefCell;
    let root = root.to_path_buf();
    // One open file at a time: rows of one session come together.
    let open: RefCell<Option<(String, File)>> = RefCell::new(None);
    conn.create_scalar_function("event_json", 4, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let (Ok(id), Ok(offset), Ok(length), Ok(part)) = (
            ctx.get::<String>(0),
            ctx.get::<i64>(1),
            ctx.get::<i64>(2),
            ctx.get::<String>(3),
        ) else {
            return Ok(None);
        };
        if !super::is_valid_session_id(&id) || !(0..=1 << 30).contains(&length) {
            return Ok(None);
        }
        let mut open = open.borrow_mut();
        if open.as_ref().is_none_or(|(open_id, _)| *open_id != id) {
            *open = File::open(root.join(&id).join(EVENTS))
                .ok()
                .map(|f| (id.clone(), f));
        }
        let Some((_, file)) = open.as_ref() else {
            return Ok(None);
        };
        let mut buf = vec![0u8; length as usize];
        if std::os::unix::fs::FileExt::read_exact_at(file, &mut buf, offset as u64).is_err() {
            return Ok(None);
        }
        let Ok(event) = parse_line(buf.trim_ascii()) else {
            return Ok(None);
        };
        let value = match (part.as_str(), View::of(&event, Agent::Unknown)) {
            ("data", _) => Some(event.data.to_string()),
            ("arguments", View::ToolCall(call)) => Some(call.arguments.to_string()),
            ("result", View::ToolResult(result)) => match (result.output, result.error) {
                (Some(output), _) => Some(output.to_string()),
                (None, Some(error)) => Some(serde_json::Value::from(error.as_ref()).to_string()),
                (None, None) => None,
            },
            _ => None,
        };
        Ok(value)
    })
}

/// Figures a layer above the store computed from sessions and cached in the index, by session
/// id, each with the key it was computed for.
#[derive(Debug, Default)]
pub struct Derived(HashMap<String, (String, String)>);

impl Derived {
    /// The figures cached for `id`, when they were computed for `key` and still decode.
    pub fn get<T: serde::de::DeserializeOwned>(&self, id: &str, key: &str) -> Option<T> {
        self.0
            .get(id)
            .filter(|(k, _)| k == key)
            .and_then(|(_, v)| serde_json::from_str(v).ok())
    }
}

/// An ordered map of numbers, for tests.
#[cfg(test)]
type Counts = std::collections::BTreeMap<String, i64>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventType};

    fn event(session: &str, kind: EventType, ts: f64, data: serde_json::Value) -> Event {
        let mut e = Event::new(kind, ts, format!("e{ts}"), session.to_owned());
        e.data = data;
        e
    }

    fn store_with_session(id: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        store.create_session(&SessionMeta::new(id, 1.0)).unwrap();
        store.init_counters(id).unwrap();
        store
            .append(&event(
                id,
                EventType::UserPrompt,
                1.0,
                serde_json::json!({"prompt": "hi"}),
            ))
            .unwrap();
        (dir, store)
    }

    fn counts(index: &Index, sql: &str) -> Counts {
        let mut stmt = index.conn.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn the_index_follows_appends_replacements_and_deletions() {
        let (_dir, store) = store_with_session("a");
        let mut index = Index::open(&store).unwrap();
        assert_eq!(index.refresh(&store).unwrap().folded, 1);
        assert_eq!(index.refresh(&store).unwrap(), RefreshReport::default());
        store
            .append(&event(
                "a",
                EventType::ToolCall,
                2.0,
                serde_json::json!({"tool_name": "Bash", "arguments": {"command": "ls"}}),
            ))
            .unwrap();
        assert_eq!(index.refresh(&store).unwrap().appended, 1);
        let kinds = counts(
            &index,
            "SELECT type, count(*) FROM idx_events GROUP BY type",
        );
        assert_eq!(kinds["tool_call"], 1);
        assert_eq!(kinds["user_prompt"], 1);
        // The events file replaced by a shorter one: folded again from the start.
        let path = store.session_dir("a").join(EVENTS);
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap().to_owned() + "\n";
        std::fs::write(path.with_extension("new"), first).unwrap();
        std::fs::rename(path.with_extension("new"), &path).unwrap();
        assert_eq!(index.refresh(&store).unwrap().folded, 1);
        let kinds = counts(
            &index,
            "SELECT type, count(*) FROM idx_events GROUP BY type",
        );
        assert_eq!(kinds.get("tool_call"), None);
        std::fs::remove_dir_all(store.session_dir("a")).unwrap();
        assert_eq!(index.refresh(&store).unwrap().deleted, 1);
        let left = counts(&index, "SELECT 'n', count(*) FROM idx_events");
        assert_eq!(left["n"], 0);
    }

    #[test]
    fn a_symlink_in_place_of_the_index_is_not_followed() {
        let (dir, store) = store_with_session("a");
        let target = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&target, store.index_path()).unwrap();
        assert!(matches!(
            Index::open(&store),
            Err(IndexError::NotRegular(_))
        ));
        assert!(!target.exists());
        let listing = store.sessions().unwrap();
        assert!(listing.warning.is_some());
        assert_eq!(listing.sessions.len(), 1);
    }
}
