//! The index file: opening it safely, its tables and views at this version, and the SQL
//! function that reads an event's line back from `events.ndjson`.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{BUSY_TIMEOUT, INDEX_FORMAT, Index, IndexError};
use crate::model::summary::SUMMARY_VERSION;
use crate::model::tools::Agent;
use crate::model::view::View;
use crate::store::layout::{EVENTS, INDEX};
use crate::store::reader::parse_line;
use crate::store::{Store, StoreError};

/// Refuses anything but a regular file (or nothing) at `path`, without following links.
pub(super) fn check_regular(path: &Path) -> Result<(), IndexError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(IndexError::NotRegular(path.to_path_buf())),
        _ => Ok(()),
    }
}

pub(in crate::store) const SCHEMA: &str = r"
CREATE TABLE idx_sessions (
    sid INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    has_counters INTEGER NOT NULL,
    meta_error TEXT,
    started_at REAL, ended_at REAL, agent_name TEXT, command TEXT,
    tool_calls INTEGER, llm_requests INTEGER, errors INTEGER, rejections INTEGER,
    -- of errors, those of no call (an API error that ended a turn)
    turn_errors INTEGER,
    total_tokens INTEGER, total_duration_ms REAL, parent_session_id TEXT, parent_event_id TEXT, depth INTEGER,
    meta_extra TEXT, derived INTEGER,
    first_prompt TEXT, transcript_path TEXT, events INTEGER,
    input_tokens INTEGER, output_tokens INTEGER, cache_write_tokens INTEGER,
    cache_read_tokens INTEGER, cost_pico INTEGER, estimated INTEGER, model TEXT,
    -- the models with usage and no known price, which cost_pico counts at $0: one a line
    unpriced TEXT,
    -- responses whose usage holds a count no response can have, which cost_pico leaves out
    unbelieved_usage INTEGER,
    -- 1 when the parent is the one the session's id names (meta.json missing or unusable, the
    -- events naming none): looked for again whenever sessions come or go
    named_parent INTEGER,
    -- from start to end, when both are times a session can have (`believed_duration_secs`,
    -- the rule `list` goes by): NULL for an end before the start, as `list` shows `?`
    duration_s REAL,
    -- the end, when it is one a session can have (`believed_end`): NULL where `list` gives
    -- none, ended_at keeping what meta.json holds for the listings read from here
    believed_end REAL
);
CREATE TABLE idx_state (
    session_id TEXT PRIMARY KEY,
    sid INTEGER NOT NULL,
    -- device, inode, size, modification and change time (ns) of events.ndjson, then of what
    -- `watch` names: ten little-endian 64-bit numbers (-1 five times for a file not there);
    -- then the latest time the fold believed and the earliest it read ahead of the clock,
    -- two little-endian 64-bit floats (the fold is redone once the clock disagrees)
    state BLOB NOT NULL,
    -- besides events.ndjson: 1 meta.json, 2 the session's folder
    watch INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE idx_folds (
    sid INTEGER PRIMARY KEY,
    folded_offset INTEGER NOT NULL,
    folded_lines INTEGER NOT NULL,
    fold TEXT NOT NULL,
    -- the hash of the bytes just before folded_offset (store/tail.rs): growth past them is
    -- folded on top only while they are still there
    folded_tail INTEGER,
    -- the agent whose tool names the fold read (model/tools.rs `Agent::name`): a meta.json
    -- that names another agent has the session folded again whole
    agent TEXT NOT NULL
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
    -- which response an answer's usage is of (the Python tool's import writes it on each line
    -- of a streamed response): its later lines update the row of its first
    response INTEGER,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;
CREATE TABLE idx_files (
    sid INTEGER NOT NULL, path TEXT NOT NULL, reads INTEGER NOT NULL, writes INTEGER NOT NULL,
    deletes INTEGER NOT NULL, moves INTEGER NOT NULL,
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

-- `start` and `at` are the second a time falls in, as a clock shows it (its floor, which SQLite
-- builds without `floor()`): `datetime()` rounds to the millisecond, and an event at
-- 09:59:59.9998 read 10:00:00, in a period `--since 10:00` leaves it out of.
CREATE VIEW sessions AS SELECT
    session_id, datetime(cast(started_at AS integer) - (started_at < cast(started_at AS integer)), 'unixepoch') AS start, started_at,
    believed_end AS ended_at, round(duration_s, 3) AS duration_s, agent_name AS agent, command,
    first_prompt, model, events, tool_calls, max(errors - rejections, 0) AS errors,
    max(errors - rejections - ifnull(turn_errors, 0), 0) AS tool_errors, rejections,
    llm_requests, total_tokens,
    input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
    cost_pico / 1e12 AS cost_usd, estimated,
    replace(unpriced, char(10), ', ') AS unpriced_models, unbelieved_usage,
    parent_session_id, parent_event_id, depth, transcript_path
  FROM idx_sessions WHERE meta_error IS NULL OR events > 0;
CREATE VIEW events AS SELECT
    s.session_id, e.seq, e.event_id, e.type, e.time, datetime(cast(e.time AS integer) - (e.time < cast(e.time AS integer)), 'unixepoch') AS at,
    e.tool, e.kind, e.parent_id, e.duration_ms,
    event_json(s.session_id, e.offset, e.length, 'data') AS data,
    event_json(s.session_id, e.offset, e.length, 'arguments') AS arguments,
    event_json(s.session_id, e.offset, e.length, 'result') AS result
  FROM idx_events e JOIN idx_sessions s USING (sid);
CREATE VIEW tool_calls AS SELECT
    s.session_id, c.seq, c.event_id AS call_id, c.time, datetime(cast(c.time AS integer) - (c.time < cast(c.time AS integer)), 'unixepoch') AS at,
    c.tool, c.kind,
    event_json(s.session_id, c.offset, c.length, 'arguments') AS arguments,
    c.outcome,
    CASE c.outcome WHEN 'error' THEN 1 WHEN 'tool_result' THEN 0 WHEN 'rejected' THEN 0 END
      AS failed,
    CASE c.outcome WHEN 'rejected' THEN 1 WHEN 'error' THEN 0 WHEN 'tool_result' THEN 0 END
      AS rejected,
    c.duration_ms,
    event_json(s.session_id, c.r_offset, c.r_length, 'result') AS result
  FROM idx_calls c JOIN idx_sessions s USING (sid);
CREATE VIEW files AS SELECT s.session_id, f.path, f.reads, f.writes, f.deletes, f.moves
  FROM idx_files f JOIN idx_sessions s USING (sid);
CREATE VIEW llm_responses AS SELECT
    s.session_id, r.seq, r.event_id, r.time, datetime(cast(r.time AS integer) - (r.time < cast(r.time AS integer)), 'unixepoch') AS at, r.model,
    r.input_tokens, r.output_tokens, r.cache_write_tokens, r.cache_read_tokens,
    r.input_tokens + r.output_tokens + r.cache_write_tokens + r.cache_read_tokens
      AS total_tokens,
    r.cost_pico / 1e12 AS cost_usd
  FROM idx_responses r JOIN idx_sessions s USING (sid);
CREATE VIEW models AS SELECT s.session_id, m.model, m.responses, m.input_tokens,
    m.output_tokens, m.cache_write_tokens, m.cache_read_tokens, m.cost_pico / 1e12 AS cost_usd
  FROM idx_models m JOIN idx_sessions s USING (sid);
";

pub(super) fn user_version() -> i64 {
    i64::from(INDEX_FORMAT) << 16 | i64::from(SUMMARY_VERSION)
}

impl Index {
    /// Opens (creating when needed) the store's index, with its tables at this version.
    pub fn open(store: &Store) -> Result<Index, IndexError> {
        // SQLite's NOFOLLOW refuses a link anywhere in the path, ancestors included: the index
        // is opened by the store's real path, once the store itself is known to be no link
        // someone else planted (a store linked by its owner is fine, see `store::files`).
        store.root_folder()?;
        let root = std::fs::canonicalize(store.root())
            .map_err(|e| IndexError::Store(StoreError::io(store.root(), e)))?;
        let path = root.join(INDEX);
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
        let conn = match Connection::open_with_flags(&path, flags) {
            Ok(conn) => conn,
            Err(source) if may_not_write(&source) => {
                return Index::open_unwritable(store, &path).ok_or_else(|| sql(source));
            }
            Err(source) => return Err(sql(source)),
        };
        distrust_schema(&conn).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        register_functions(&conn, store.root()).map_err(sql)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let mut index = Index {
            conn,
            path: path.clone(),
            problems: Vec::new(),
            uri: None,
            read_only: false,
            file: None,
            damaged: std::cell::Cell::new(false),
        };
        if let Err(source) = index.prepare() {
            if may_not_write(&source) {
                drop(index);
                return Index::open_unwritable(store, &path)
                    .ok_or(IndexError::Sqlite { path, source });
            }
            return Err(IndexError::Sqlite { path, source });
        }
        if !index.holds_only_ours().map_err(sql)? {
            return Err(IndexError::Foreign(path));
        }
        index.file = std::fs::symlink_metadata(&path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        Ok(index)
    }

    /// The index of a store this reader may not write (another user's, or on a read-only
    /// mount), opened to be read as it is: SQLite cannot open it otherwise, as a reader of an
    /// index in write-ahead mode needs to make its shared-memory file beside it. Used only
    /// while no write-ahead log is there (no writer has it open, since each closes it
    /// checkpointed), and only if it is an index of this version holding only our objects;
    /// whatever is stale in it cannot be refreshed, so the refresh fails and the caller
    /// falls back to the files as before. `None` when it cannot be used so.
    fn open_unwritable(store: &Store, path: &Path) -> Option<Index> {
        let mut wal = path.to_path_buf().into_os_string();
        wal.push("-wal");
        if std::fs::symlink_metadata(&wal).is_ok() {
            return None;
        }
        let uri = format!("{}?immutable=1", file_uri(path));
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags).ok()?;
        distrust_schema(&conn).ok()?;
        register_functions(&conn, store.root()).ok()?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .ok()?;
        let index = Index {
            conn,
            path: path.to_path_buf(),
            problems: Vec::new(),
            uri: Some(uri),
            read_only: true,
            file: None,
            damaged: std::cell::Cell::new(false),
        };
        (version == user_version() && index.holds_only_ours().ok()?).then_some(index)
    }

    /// Opens the store's index and runs `read` on it. An index that is not a usable database
    /// of ours (not SQLite, damaged, a table missing, an object it should not hold) is only a
    /// cache gone bad: it is deleted and built again, once.
    pub(super) fn open_and<T>(
        store: &Store,
        mut read: impl FnMut(&mut Index) -> Result<T, IndexError>,
    ) -> Result<(Index, T), IndexError> {
        let mut attempt = || {
            let mut index = Index::open(store)?;
            let value = read(&mut index)?;
            Ok::<_, IndexError>((index, value))
        };
        match attempt() {
            // An index that cannot be deleted (a read-only store) is reported as it is, so
            // that the caller falls back.
            Err(err) if err.is_damage() => match discard(&store.index_path()) {
                Ok(()) => attempt(),
                Err(_) => Err(err),
            },
            result => result,
        }
    }

    /// Whether the file holds exactly the tables, views and indexes of [`SCHEMA`], each as
    /// we create it: a view or trigger someone planted in an index of the right version must
    /// never run.
    fn holds_only_ours(&self) -> rusqlite::Result<bool> {
        static OURS: std::sync::OnceLock<Result<Vec<SchemaObject>, String>> =
            std::sync::OnceLock::new();
        let ours = OURS.get_or_init(|| {
            let memory = Connection::open_in_memory().map_err(|e| e.to_string())?;
            memory.execute_batch(SCHEMA).map_err(|e| e.to_string())?;
            schema_objects(&memory).map_err(|e| e.to_string())
        });
        let ours = ours
            .as_ref()
            .map_err(|e| rusqlite::Error::InvalidParameterName(e.clone()))?;
        Ok(schema_objects(&self.conn)? == *ours)
    }

    /// An index of the store built in memory and brought up to date, for when its file cannot
    /// be used (a read-only store, a full disk): every session is folded, so it costs what
    /// rebuilding the file costs, on every run.
    pub fn in_memory(store: &Store) -> Result<Index, IndexError> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        store.root_folder()?;
        // Named and shared, so that `sql` can open it again read-only and attach it.
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let uri = format!(
            "file:agent-strace-index-{}-{n}?mode=memory&cache=shared",
            std::process::id()
        );
        let path = std::path::PathBuf::from(":memory:");
        let sql = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags).map_err(sql)?;
        distrust_schema(&conn).map_err(sql)?;
        register_functions(&conn, store.root()).map_err(sql)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.execute_batch(SCHEMA).map_err(sql)?;
        let mut index = Index {
            conn,
            path: path.clone(),
            problems: Vec::new(),
            uri: Some(uri),
            read_only: false,
            file: None,
            damaged: std::cell::Cell::new(false),
        };
        index.refresh(store)?;
        Ok(index)
    }

    /// The index's file (`:memory:` for one built in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The URI to open this index again by, when its path will not do: one built in memory
    /// (see [`Index::in_memory`]) or one opened read-only (see [`Index::open_unwritable`]).
    pub(in crate::store) fn reopen_uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// Sessions the last refresh could not read or index, each left out of the index.
    pub fn problems(&self) -> &[StoreError] {
        &self.problems
    }

    /// What SQLite's `source` means for this index. A file found damaged is set aside once
    /// closed (see [`Index::set_aside`]): damage may show only when a query reaches the page
    /// that holds it, long after the file was opened and brought up to date, and a damaged
    /// index kept would fail every read after.
    pub(super) fn sql_error(&self, source: rusqlite::Error) -> IndexError {
        sqlite_error(&self.path, self.file, &self.damaged, source)
    }

    /// Closes the index, found damaged (by this reader's queries or another connection's on
    /// the same file, such as `sql`'s), and deletes its file, so that the next read builds it
    /// again. Whether the damaged file is gone from its path (deleted, or already replaced by
    /// another reader that rebuilt it); an index in memory, one this reader may only read, or
    /// one it could not delete is left as it is.
    pub fn set_aside(self) -> bool {
        self.damaged.set(true);
        let file = self.file;
        let path = self.path.clone();
        drop(self);
        file.is_some_and(|file| !same_file(&path, file))
    }

    /// WAL mode and tables of this version, made once by whichever process gets there first.
    pub(super) fn prepare(&mut self) -> rusqlite::Result<()> {
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
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        // No memory mapping: a warm read touches a few thousand pages spread over the file, and
        // each fault maps its neighbours too (64 KiB), so mapping cost more page faults, more
        // resident memory and a longer unmap than the `pread` of each page.
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
}

/// Whether SQLite's `source` says this reader may not write the index: it refused to write
/// (another user's file, in a folder the reader may not write), or could not open what writing
/// needs (on a read-only mount the write-ahead log cannot be made, and SQLite says it cannot
/// open the database rather than that it is read-only).
fn may_not_write(source: &rusqlite::Error) -> bool {
    matches!(
        source.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
    )
}

/// [`Index::sql_error`], for a caller that holds the index's connection in a transaction.
pub(super) fn sqlite_error(
    path: &Path,
    file: Option<(u64, u64)>,
    damaged: &std::cell::Cell<bool>,
    source: rusqlite::Error,
) -> IndexError {
    let path = path.to_path_buf();
    if super::is_damage(&source) && file.is_some() {
        damaged.set(true);
        return IndexError::Damaged { path, source };
    }
    IndexError::Sqlite { path, source }
}

impl Drop for Index {
    /// Deletes a file found damaged (see [`Index::sql_error`]), once its connection is closed:
    /// SQLite, closing the last connection to a file, deletes its `-wal` and `-shm` by name,
    /// which by then could be a new index's.
    fn drop(&mut self) {
        let Some(file) = self.file.filter(|_| self.damaged.get()) else {
            return;
        };
        let Ok(memory) = Connection::open_in_memory() else {
            return;
        };
        drop(std::mem::replace(&mut self.conn, memory));
        if same_file(&self.path, file) {
            let _ = discard(&self.path);
        }
    }
}

/// Whether the file at `path` (not followed) is still the one of device and inode `file`.
fn same_file(path: &Path, file: (u64, u64)) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == file)
}

/// One row of `sqlite_schema`: type, name, table and SQL.
type SchemaObject = (String, String, String, Option<String>);

fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<SchemaObject>> {
    conn.prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY type, name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect()
}

/// Functions in the file's schema run only when SQLite knows them harmless (`event_json`
/// says it is), whatever a planted schema asks for.
pub(in crate::store) fn distrust_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "trusted_schema", false)
}

/// `path` as an SQLite `file:` URI, its `%`, `?` and `#` escaped.
pub(in crate::store) fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3F"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri
}

/// Deletes a damaged index and its journal files (links and the like are left alone: the
/// caller reports them).
fn discard(path: &Path) -> Result<(), IndexError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.to_path_buf().into_os_string();
        name.push(suffix);
        let name = Path::new(&name);
        check_regular(name)?;
        match std::fs::remove_file(name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(IndexError::Store(StoreError::io(name, e)));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// How `event_json` is registered. The views call it, so it cannot be `SQLITE_DIRECTONLY`
/// (which keeps a function out of views); it is `SQLITE_INNOCUOUS`, so that views may call it
/// with `trusted_schema` off: it reads only a line of a session's `events.ndjson` in the
/// store the query reads anyway, by a checked session id, at most 1 GiB.
const EVENT_JSON: rusqlite::functions::FunctionFlags =
    rusqlite::functions::FunctionFlags::SQLITE_UTF8
        .union(rusqlite::functions::FunctionFlags::SQLITE_INNOCUOUS);

/// How many prepared statements an index keeps: every statement a refresh runs for each
/// session (about twenty), so that none is parsed again for the next session. rusqlite keeps
/// 16 by default, and a statement run with `execute` is parsed each time: building the index
/// of 10,000 sessions parsed some 60,000 statements.
const STATEMENT_CACHE: usize = 64;

/// Registers `event_json(session_id, offset, length, part)`: the `data` of the event whose line
/// starts at `offset`, or its `arguments` or `result` (a tool result's `result`, else its
/// `tool_response`, else an error's `error`), as JSON text; NULL when the line is gone.
pub(in crate::store) fn register_functions(conn: &Connection, root: &Path) -> rusqlite::Result<()> {
    let root = root.to_path_buf();
    let open = std::cell::RefCell::new(OpenEvents::default());
    conn.create_scalar_function("event_json", 4, EVENT_JSON, move |ctx| {
        let (Ok(id), Ok(offset), Ok(length), Ok(part)) = (
            ctx.get::<String>(0),
            ctx.get::<i64>(1),
            ctx.get::<i64>(2),
            ctx.get::<String>(3),
        ) else {
            return Ok(None);
        };
        Ok(open.borrow_mut().part(0, &root, &id, offset, length, &part))
    })
}

/// Registers `event_json(sid, session_id, offset, length, part)` for an index gathered from
/// several stores: as [`register_functions`]' own, the session's store being `roots[sid >> 40]`.
pub(in crate::store) fn register_gathered_functions(
    conn: &Connection,
    roots: Vec<std::path::PathBuf>,
) -> rusqlite::Result<()> {
    let open = std::cell::RefCell::new(OpenEvents::default());
    conn.create_scalar_function("event_json", 5, EVENT_JSON, move |ctx| {
        let (Ok(sid), Ok(id), Ok(offset), Ok(length), Ok(part)) = (
            ctx.get::<i64>(0),
            ctx.get::<String>(1),
            ctx.get::<i64>(2),
            ctx.get::<i64>(3),
            ctx.get::<String>(4),
        ) else {
            return Ok(None);
        };
        let store = usize::try_from(sid >> GATHERED_SHIFT).unwrap_or(usize::MAX);
        let Some(root) = roots.get(store) else {
            return Ok(None);
        };
        Ok(open
            .borrow_mut()
            .part(store, root, &id, offset, length, &part))
    })
}

/// In an index gathered from several stores, a session's `sid` is its own store's plus the
/// store's number shifted this far: no store holds 2⁴⁰ sessions.
pub(in crate::store) const GATHERED_SHIFT: u32 = 40;

/// The events file last read: rows of one session come together, so one open file is enough.
#[derive(Default)]
struct OpenEvents {
    /// The store's number, the session's id, its file, and the file's length when last asked.
    open: Option<(usize, String, File, u64)>,
}

impl OpenEvents {
    /// The `part` of the event whose line is at `offset` in session `id` of the store at
    /// `root` (store number `store`).
    fn part(
        &mut self,
        store: usize,
        root: &Path,
        id: &str,
        offset: i64,
        length: i64,
        part: &str,
    ) -> Option<String> {
        if !crate::store::is_valid_session_id(id) || !(0..=1 << 30).contains(&length) {
            return None;
        }
        if self
            .open
            .as_ref()
            .is_none_or(|(s, open_id, _, _)| *s != store || open_id != id)
        {
            self.open = Store::new(root)
                .session_folder(id)
                .and_then(|dir| dir.read(EVENTS))
                .ok()
                .flatten()
                .map(|f| (store, id.to_owned(), f, 0));
        }
        let (_, _, file, known) = self.open.as_mut()?;
        let offset = u64::try_from(offset).ok()?;
        let end = offset.checked_add(u64::try_from(length).ok()?)?;
        // A length that the file cannot hold (one a query makes up) sets no buffer aside: the
        // file's length is asked again only past what it was, since the file only grows.
        if end > *known {
            *known = file.metadata().ok()?.len();
            if end > *known {
                return None;
            }
        }
        let mut buf = vec![0u8; usize::try_from(length).ok()?];
        std::os::unix::fs::FileExt::read_exact_at(file, &mut buf, offset).ok()?;
        let event = parse_line(buf.trim_ascii()).ok()?;
        match (part, View::of(&event, Agent::Unknown)) {
            ("data", _) => Some(event.data.to_string()),
            ("arguments", View::ToolCall(call)) => Some(call.arguments.to_string()),
            ("result", View::ToolResult(result)) => match (result.output, result.error) {
                (Some(output), _) => Some(output.to_string()),
                (None, Some(error)) => Some(serde_json::Value::from(error.as_ref()).to_string()),
                (None, None) => None,
            },
            _ => None,
        }
    }
}
