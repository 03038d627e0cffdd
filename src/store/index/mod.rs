//! The session index: one SQLite file, `.index.sqlite`, summarising every session, kept as a
//! cache of the NDJSON truth and refreshed whenever it is read.
//!
//! # Format
//! `PRAGMA user_version` holds [`INDEX_FORMAT`] and [`SUMMARY_VERSION`]; an index of any other
//! version is emptied and rebuilt. Tables (`idx_*`) are ours; the views over them (`sessions`,
//! `events`, `tool_calls`, `files`, `llm_responses`, `models`) are what `agent-strace sql`
//! documents. For each session the index keeps what it has folded (the byte offset and line
//! count of `events.ndjson` it reached, the [`Summary`] so far) and, in a narrow table of its
//! own (`idx_state`, read whole on every refresh), the identity of both files (device, inode,
//! size, modification time):
//! - `events.ndjson` grew, same inode: the new complete lines are folded from the offset;
//! - it shrank, changed inode or was rewritten in place (its change time differs while its
//!   size does not, or the bytes it had just before the offset are not there any more): the
//!   session is folded again whole;
//! - `meta.json` changed: its fields are read again;
//! - the folder (or both files) is gone: the session's rows are deleted;
//! - rows of a session `idx_state` does not name (written by something else): deleted
//!   ([`stale::KnownSessions::strays`]).
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
//! followed.
//!
//! # Layout
//! [`schema`] opens the file and holds its tables and views; [`stale`] looks at every session
//! folder and says which ones changed; [`refresh`] brings the index up to date with them, and
//! [`fold`] folds one session's new lines into its rows; [`rows`] reads what commands list, and
//! [`folds`] the folded summaries aggregates read.

mod fold;
mod folds;
mod refresh;
mod rows;
mod scan;
mod schema;
mod stale;

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::Connection;

use super::layout::INDEX;
use super::{SessionSummary, Store, StoreError};
use crate::model::Money;
use crate::model::pricing::PriceTable;
use crate::model::summary::Summary;
use crate::model::tools::Agent;

pub use rows::Derived;
pub(super) use schema::{
    GATHERED_SHIFT, SCHEMA, distrust_schema, file_uri, register_functions,
    register_gathered_functions,
};

/// The version of the index's tables (12: `idx_folds` keeps the mark of the bytes folded
/// last; 13: `idx_sessions` counts the errors of no call apart, the view's `tool_errors`; 14:
/// a `cost_pico` past `i64::MAX` is a real number, not capped there; 15: `idx_sessions` counts
/// the responses whose usage could not be believed, the view's `unbelieved_usage`; 16: the
/// requests and tokens of a session whose answers carried usage are its events', not its
/// `meta.json`'s; 17: `idx_responses` holds the responses whose usage answers carried, and
/// `idx_calls` the results linked by the agent's id of their call, both the Python tool's
/// import's; 18: the views' `start` and `at` are the second a time falls in, not the one
/// nearest it; 19: `idx_folds` names the agent whose tool names the fold read, so that a
/// session whose `meta.json` names another is folded again, and `idx_sessions.named_parent`
/// marks a parent taken from the session's id, looked for again as sessions come and go; 20:
/// `idx_sessions.duration_s` holds the duration `list` believes, so the view's `duration_s` is
/// NULL where `list` shows `?`; 21: `idx_sessions.believed_end` holds the end `list` believes, so
/// the view's `ended_at` is NULL where `list` gives none).
pub const INDEX_FORMAT: u32 = 21;

/// How long a reader waits for another to finish refreshing before giving up on the index.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the index could not be used; callers fall back to reading every session.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0} is not a regular file")]
    NotRegular(PathBuf),
    #[error("{path}: {}", sqlite_reason(.source, .path))]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// SQLite found the file damaged while reading it, after it was opened and brought up to
    /// date: the index is deleted once it is closed (see [`Index::set_aside`]), so that the
    /// next read builds it again.
    #[error(
        "{path}: {}; it is set aside, to be built again on the next read",
        sqlite_reason(.source, .path)
    )]
    Damaged {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The index is out of date, and this reader may not write it (another user's store, a
    /// read-only mount).
    #[error("{0} is out of date, and this user may not write it")]
    OutOfDate(PathBuf),
    /// The file holds tables, views or triggers that are not the index's.
    #[error("{0} holds objects that are not the session index's")]
    Foreign(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What SQLite says went wrong, without the path it names at the end when it cannot open the
/// file (`unable to open database file: /p/.index.sqlite`), which the error names first.
fn sqlite_reason(source: &rusqlite::Error, path: &std::path::Path) -> String {
    let reason = source.to_string();
    let named = format!(": {}", path.display());
    match reason.strip_suffix(&named) {
        Some(reason) => reason.to_owned(),
        None => reason,
    }
}

impl IndexError {
    /// Whether the index file is damaged or not ours, so that building it again would help.
    pub fn is_damage(&self) -> bool {
        match self {
            IndexError::Foreign(_) | IndexError::Damaged { .. } => true,
            IndexError::Sqlite { source, .. } => is_damage(source),
            _ => false,
        }
    }
}

/// Whether SQLite failed because the file is damaged (or no database at all), wherever it
/// found out: on opening it, or only in the step of a query that read the damaged page.
pub fn is_damage(source: &rusqlite::Error) -> bool {
    matches!(
        source.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// One session as the index lists it.
#[derive(Debug, Clone)]
pub struct IndexedSession {
    /// Its metadata, its counts caught up with its events (in `meta`; the summary's counters
    /// are left out).
    pub summary: SessionSummary,
    pub first_prompt: Option<String>,
    /// The agent's transcript a hook-recorded session names.
    pub transcript_path: Option<String>,
    /// What the session's recorded usage cost at this binary's prices (the `sessions` view's
    /// `cost_usd`), and whether that is estimated from payload sizes; `None` when the index
    /// could not be used.
    pub cost: Option<(Money, bool)>,
    /// The models whose recorded usage has no price at this binary's prices, in name order:
    /// `cost` counts them at $0 ([`Summary::unpriced`]).
    pub unpriced: Vec<String>,
    /// Responses whose usage holds a count no response can have: `cost` leaves them out
    /// ([`Summary::unbelieved_usage`]).
    pub unbelieved_usage: u64,
}

/// Every session, newest first, from the index or (when it cannot be used) from the files.
#[derive(Debug)]
pub struct Listing {
    pub sessions: Vec<IndexedSession>,
    /// Sessions whose metadata could not be read.
    pub unreadable: Vec<StoreError>,
    /// The metadata of each session it could not read and does not list, when that alone can
    /// be read: no figure of theirs counts, but each links the sessions below it into its
    /// root's tree ([`crate::model::parents::linked_through`]).
    pub left_out: Vec<crate::model::SessionMeta>,
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
    /// The URI to open the index again by, when its path will not do: one built in memory
    /// rather than kept in the store, or one this reader may only read (see
    /// [`Index::open_unwritable`]).
    uri: Option<String>,
    /// Opened by a reader who may not write it (see [`Index::open_unwritable`]).
    read_only: bool,
    /// The device and inode of the file, for an index this reader may delete and build again
    /// (in the store, writable): what [`Index::set_aside`] checks is still at the path.
    file: Option<(u64, u64)>,
    /// SQLite found the file damaged after it was opened: it is deleted once closed.
    damaged: std::cell::Cell<bool>,
}

impl Store {
    /// The path of the index file.
    pub fn index_path(&self) -> PathBuf {
        self.root().join(INDEX)
    }

    /// Every session with its metadata (counters caught up) and first prompt, newest first:
    /// from the index, refreshed first; or, when the index cannot be used, from every session's
    /// files, with a warning saying why.
    pub fn sessions(&self) -> crate::store::Result<Listing> {
        self.require()?;
        match Index::open_and(self, |index| index.read_fresh_sessions(self)).map(
            |(mut index, (sessions, mut unreadable))| {
                unreadable.append(&mut index.problems);
                (sessions, unreadable, index)
            },
        ) {
            Ok((sessions, unreadable, index)) => Ok(Listing {
                left_out: self.left_out(&sessions, &unreadable),
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
                    .map(|mut summary| {
                        let fold = self.fold(&summary.meta);
                        // Resumed after its end: still written, as the index says too.
                        if fold.as_ref().is_some_and(|f| f.resumed_after_end) {
                            summary.meta.ended_at = None;
                            summary.meta.total_duration_ms = 0.0;
                        }
                        // As the index counts them (see `write_session`).
                        if let Some((requests, tokens)) =
                            fold.as_ref().and_then(Summary::llm_figures)
                        {
                            summary.meta.llm_requests = requests;
                            summary.meta.total_tokens = tokens;
                        }
                        let table = PriceTable::builtin();
                        IndexedSession {
                            first_prompt: fold.as_ref().and_then(|f| f.first_prompt.clone()),
                            transcript_path: None,
                            unpriced: fold.as_ref().map_or_else(Vec::new, |f| {
                                f.unpriced(table).map(str::to_owned).collect()
                            }),
                            unbelieved_usage: fold.as_ref().map_or(0, |f| f.unbelieved_usage),
                            cost: fold.map(|f| (f.cost(table), !f.has_usage())),
                            summary,
                        }
                    })
                    .collect::<Vec<_>>();
                Ok(Listing {
                    left_out: self.left_out(&sessions, &unreadable),
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

    /// The metadata of the sessions named by `unreadable` that `listed` does not hold, those
    /// whose `meta.json` can be read, once each in id order.
    fn left_out(
        &self,
        listed: &[IndexedSession],
        unreadable: &[StoreError],
    ) -> Vec<crate::model::SessionMeta> {
        if unreadable.is_empty() {
            return Vec::new();
        }
        let ids = self.sessions_holding(unreadable).into_keys();
        let listed: std::collections::HashSet<&str> = listed
            .iter()
            .map(|s| s.summary.meta.session_id.as_str())
            .collect();
        ids.filter(|id| !listed.contains(id.as_str()))
            .filter_map(|id| self.read_meta_to_read(&id).ok())
            .collect()
    }

    /// The index, brought up to date with the files.
    pub fn fresh_index(&self) -> Result<Index, IndexError> {
        Index::open_and(self, |index| index.refresh(self)).map(|(index, _)| index)
    }

    /// A session's events folded as the index folds them (its first prompt, its cost), for
    /// listing without the index.
    fn fold(&self, meta: &crate::model::SessionMeta) -> Option<Summary> {
        let events = self.events(&meta.session_id).ok()?;
        let agent = Agent::from_name(&meta.agent_name);
        let now = crate::store::system_time();
        let mut fold = Summary::default();
        for event in events {
            fold.observe(agent, &event, now);
        }
        Some(fold)
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

/// An ordered map of numbers, for tests.
#[cfg(test)]
type Counts = std::collections::BTreeMap<String, i64>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionMeta;
    use crate::model::{Event, EventType};
    use crate::store::layout::EVENTS;

    fn event(session: &str, kind: EventType, ts: f64, data: serde_json::Value) -> Event {
        let mut e = Event::new(kind, ts, format!("e{ts}"), session.to_owned());
        e.data = data;
        e
    }

    fn store_with_session(id: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        add_session(&store, id);
        (dir, store)
    }

    /// A session of ours (with `.counters`) holding one prompt.
    fn add_session(store: &Store, id: &str) {
        store.create_session(&SessionMeta::new(id, 1.0)).unwrap();
        store.init_counters(id).unwrap();
        append_prompt(store, id);
    }

    fn append_prompt(store: &Store, id: &str) {
        store
            .append(&event(
                id,
                EventType::UserPrompt,
                1.0,
                serde_json::json!({"prompt": "hi"}),
            ))
            .unwrap();
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

    /// The scan names exactly the sessions whose files are not as indexed: a new one, one that
    /// grew, one whose folder is gone; not the one left alone.
    #[test]
    fn a_scan_finds_new_grown_and_gone_sessions_and_nothing_else() {
        let (_dir, store) = store_with_session("same");
        for id in ["grown", "gone"] {
            add_session(&store, id);
        }
        let mut index = Index::open(&store).unwrap();
        assert_eq!(index.refresh(&store).unwrap().folded, 3);
        let scan = |index: &Index| {
            let (_, on_disk, ()) =
                scan::look_while_reading(&store, || index.known(), |_| ()).unwrap();
            let (on_disk, _) = on_disk.unwrap();
            assert!(on_disk.iter().all(|d| d.stale));
            on_disk.into_iter().map(|d| d.id).collect::<Vec<_>>()
        };
        assert_eq!(scan(&index), Vec::<String>::new());
        store.create_session(&SessionMeta::new("new", 1.0)).unwrap();
        store
            .append(&event(
                "grown",
                EventType::ToolCall,
                2.0,
                serde_json::json!({}),
            ))
            .unwrap();
        std::fs::remove_dir_all(store.session_dir("gone")).unwrap();
        assert_eq!(scan(&index), ["gone", "grown", "new"]);
    }

    /// A refresh that found a session stale, then waited while another reader brought the
    /// index up to date, must not fold the same new lines a second time.
    #[test]
    fn a_refresh_that_another_reader_overtook_reads_what_the_index_knows_again() {
        let (_dir, store) = store_with_session("a");
        let mut slow = Index::open(&store).unwrap();
        assert_eq!(slow.refresh(&store).unwrap().folded, 1);
        store
            .append(&event(
                "a",
                EventType::ToolCall,
                2.0,
                serde_json::json!({"tool_name": "Bash", "arguments": {"command": "ls"}}),
            ))
            .unwrap();
        let (known, on_disk, ()) =
            scan::look_while_reading(&store, || slow.known(), |_| ()).unwrap();
        let (on_disk, _) = on_disk.unwrap();
        assert!(on_disk.iter().any(|d| d.stale));

        let mut fast = Index::open(&store).unwrap();
        assert_eq!(fast.refresh(&store).unwrap().appended, 1);

        assert_eq!(
            slow.bring_up_to_date(&store, on_disk, known).unwrap(),
            RefreshReport::default()
        );
        let kinds = counts(&slow, "SELECT type, count(*) FROM idx_events GROUP BY type");
        assert_eq!(kinds["tool_call"], 1);
        assert_eq!(kinds["user_prompt"], 1);
    }

    /// A session of another tool (no `.counters`) holding one prompt.
    fn add_foreign_session(store: &Store, id: &str) {
        store.create_session(&SessionMeta::new(id, 1.0)).unwrap();
        append_prompt(store, id);
    }

    /// Replaces a session's meta.json as the Python tool does: a new file renamed over it.
    fn replace_meta(store: &Store, id: &str, ended_at: f64) {
        let dir = store.session_dir(id);
        let mut meta = SessionMeta::new(id, 1.0);
        meta.ended_at = Some(ended_at);
        std::fs::write(dir.join(".meta.json.new"), meta.to_json()).unwrap();
        std::fs::rename(
            dir.join(".meta.json.new"),
            dir.join(crate::store::layout::META),
        )
        .unwrap();
    }

    /// Sets a session folder's modification time, as its file system's clock may have it.
    fn set_folder_time(store: &Store, id: &str, at: std::time::SystemTime) {
        std::fs::File::open(store.session_dir(id))
            .unwrap()
            .set_modified(at)
            .unwrap();
    }

    fn ended_at(index: &Index, id: &str) -> Option<f64> {
        index
            .conn
            .query_row(
                "SELECT ended_at FROM idx_sessions WHERE session_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// A store holding one session of another tool whose folder last changed at
    /// `folder_time`, and its index, which has folded it.
    fn indexed_foreign_session(
        id: &str,
        folder_time: std::time::SystemTime,
    ) -> (tempfile::TempDir, Store, Index) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        add_foreign_session(&store, id);
        set_folder_time(&store, id, folder_time);
        let mut index = Index::open(&store).unwrap();
        assert_eq!(index.refresh(&store).unwrap().folded, 1);
        (dir, store, index)
    }

    /// Another tool's meta.json is watched through the session's folder: replacing it by
    /// rename is seen, and a settled folder left alone costs no second look.
    #[test]
    fn another_tools_meta_replaced_by_rename_is_seen_through_its_folder() {
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let (_dir, store, mut index) = indexed_foreign_session("py", hour_ago);
        assert_eq!(index.refresh(&store).unwrap(), RefreshReport::default());
        assert_eq!(ended_at(&index, "py"), None);

        replace_meta(&store, "py", 5.0);
        assert_eq!(index.refresh(&store).unwrap().meta, 1);
        assert_eq!(ended_at(&index, "py"), Some(5.0));
    }

    /// A folder that changed within the file system's clock tick looks the same before and
    /// after a second change in that tick: until it settles, its session's meta is read again
    /// on every read, and so the second change is not missed.
    #[test]
    fn a_meta_replaced_twice_in_one_tick_of_the_folders_clock_is_not_missed() {
        let tick = std::time::SystemTime::now() - std::time::Duration::from_millis(500);
        let (_dir, store, mut index) = indexed_foreign_session("py", tick);

        replace_meta(&store, "py", 7.0);
        set_folder_time(&store, "py", tick);
        assert_eq!(index.refresh(&store).unwrap().meta, 1);
        assert_eq!(ended_at(&index, "py"), Some(7.0));

        // Once the folder's time is well past, it is trusted again.
        set_folder_time(&store, "py", tick - std::time::Duration::from_secs(60));
        assert_eq!(index.refresh(&store).unwrap().meta, 1);
        assert_eq!(index.refresh(&store).unwrap(), RefreshReport::default());
    }

    /// The rule the test above is named for, which it cannot show: each change the test makes
    /// moves the folder's change time (no one can set it), so the folder looks changed whether
    /// or not its time has settled, and the test passed without the rule. A folder changed
    /// less than the settling time (3 s) before a read is kept with a key no folder has, so the
    /// next read looks at its meta again; past that, with its own.
    #[test]
    fn a_folder_changed_within_the_settling_time_is_kept_with_no_folders_key() {
        use stale::{FileState, Watch};
        let second = 1_000_000_000;
        let changed = FileState {
            dev: 1,
            ino: 2,
            size: 4096,
            mtime_ns: 100 * second,
            ctime_ns: 100 * second,
        };
        let own = FileState::key(Some(changed));
        for now in [100 * second, 102 * second, 99 * second] {
            assert_ne!(
                FileState::watched_key(Watch::Folder, Some(changed), now),
                own,
                "{now}"
            );
        }
        assert_eq!(
            FileState::watched_key(Watch::Folder, Some(changed), 103 * second),
            own
        );
        // A meta.json watched itself is another matter: its own key, however new.
        assert_eq!(
            FileState::watched_key(Watch::Meta, Some(changed), 100 * second),
            own
        );
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
