//! Bringing the index up to date: one transaction that deletes, refolds or extends each
//! stale session and rewrites its row.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::fold::{Folding, count, meta_extra, pico};
use super::scan::look_while_reading;
use super::stale::{
    FileState, Known, KnownSessions, OnDisk, SESSION_TABLES, Watch, is_stale, known_in,
};
use super::{Index, IndexError, RefreshReport};
use crate::model::SessionMeta;
use crate::model::pricing::{ModelPrice, PriceTable};
use crate::model::summary::Summary;
use crate::model::tools::Agent;
use crate::store::files::Folder;
use crate::store::layout::{COUNTERS, EVENTS};
use crate::store::meta::{apply, derived_meta};
use crate::store::tail::tail_mark;
use crate::store::{Store, StoreError};

impl Index {
    /// Brings the index up to date with the store's files.
    pub fn refresh(&mut self, store: &Store) -> Result<RefreshReport, IndexError> {
        let (known, on_disk, ()) =
            look_while_reading(store, || self.known(), |_| ()).map_err(|e| self.sql_error(e))?;
        self.bring_up_to_date(store, on_disk?.0, known)
    }

    /// Refolds, extends or deletes the sessions a scan found stale.
    pub(super) fn bring_up_to_date(
        &mut self,
        store: &Store,
        mut on_disk: Vec<OnDisk>,
        known: KnownSessions,
    ) -> Result<RefreshReport, IndexError> {
        if on_disk.iter().all(|d| !d.stale) && !known.strays() {
            return Ok(RefreshReport::default());
        }
        if self.read_only {
            return Err(IndexError::OutOfDate(self.path.clone()));
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
        // Another reader may have refreshed while this one waited for the lock; then what the
        // index knows is read again (most refreshes have the lock to themselves).
        let now = crate::store::system_time();
        let mut known = if known.still_current(&tx).map_err(sql)? {
            known
        } else {
            let known = known_in(&tx).map_err(sql)?;
            for disk in &mut on_disk {
                let k = known.get(&disk.id);
                disk.stale = is_stale(store, disk, k, now);
            }
            known
        };
        // Whether sessions came into the index or left it, which may change the parent a
        // subagent's id names (see `name_parents_again`).
        let mut came_or_went = known.strays();
        if known.strays() {
            // The sessions whose own rows were broken are indexed again, as new.
            for id in drop_strays(&tx).map_err(sql)? {
                if !on_disk.iter().any(|d| d.id == id) {
                    on_disk.push(OnDisk {
                        id,
                        events: None,
                        watched: None,
                        stale: true,
                    });
                }
            }
            known = known_in(&tx).map_err(sql)?;
            for disk in &mut on_disk {
                if known.get(&disk.id).is_none() {
                    disk.events = FileState::of(&store.session_dir(&disk.id).join(EVENTS));
                    disk.stale = is_stale(store, disk, None, now);
                }
            }
        }
        self.problems.clear();
        let mut report = RefreshReport::default();
        let mut prices = Prices::default();
        for disk in on_disk.iter().filter(|d| d.stale) {
            let savepoint = tx.savepoint().map_err(sql)?;
            match refresh_session(&savepoint, store, disk, known.get(&disk.id), &mut prices) {
                Ok(how) => {
                    savepoint.commit().map_err(sql)?;
                    // A session new to the index came, one it knew that is gone went.
                    let gone = matches!(how, Refreshed::Gone);
                    came_or_went |= gone != known.get(&disk.id).is_none();
                    match how {
                        Refreshed::Whole => report.folded += 1,
                        Refreshed::Tail => report.appended += 1,
                        Refreshed::Meta => report.meta += 1,
                        Refreshed::Gone => report.deleted += 1,
                    }
                }
                // The index itself failing (full disk, read-only, corrupt) stops the refresh:
                // the caller falls back.
                Err(RefreshError::Sql(e)) if the_index_failed(&e) => return Err(sql(e)),
                // A session that cannot be read or indexed now is left as it was (its savepoint
                // rolled back), to be tried again by the next reader; the others go on. One the
                // index knew loses its rows, as an index that never knew it has none: its old
                // figures were listed, and counted in its parent's, by `list`, `sql` and every
                // view of the index, which every command reading its files left out. Only an
                // error that may pass if tried again soon (a busy lock) leaves them.
                Err(e) => {
                    drop(savepoint);
                    let passing = matches!(&e, RefreshError::Store(e) if e.is_temporary());
                    if let Some(k) = known.get(&disk.id)
                        && !passing
                    {
                        delete_rows(&tx, k.sid, true).map_err(sql)?;
                        came_or_went = true;
                    }
                    report.unreadable += 1;
                    self.problems.push(match e {
                        RefreshError::Store(e) => e,
                        RefreshError::Sql(e) => StoreError::Corrupt {
                            path: store.session_dir(&disk.id),
                            message: format!("cannot be indexed: {e}"),
                        },
                    });
                }
            }
        }
        if came_or_went {
            name_parents_again(&tx, store).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(report)
    }

    pub(super) fn known(&self) -> rusqlite::Result<KnownSessions> {
        known_in(&self.conn)
    }
}

/// Whether an error is the index's own (it cannot be written or read), rather than one
/// session's values it could not hold.
fn the_index_failed(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{
        CannotOpen, DatabaseBusy, DatabaseCorrupt, DatabaseLocked, DiskFull,
        FileLockingProtocolFailed, NotADatabase, OutOfMemory, ReadOnly, SystemIoFailure,
    };
    matches!(
        e.sqlite_error_code(),
        Some(
            CannotOpen
                | DatabaseBusy
                | DatabaseCorrupt
                | DatabaseLocked
                | DiskFull
                | FileLockingProtocolFailed
                | NotADatabase
                | OutOfMemory
                | ReadOnly
                | SystemIoFailure
        )
    )
}

/// Gives the rows of subagents whose parent is the one their id names
/// ([`crate::store::layout::parent_named_by`]: their `meta.json` is missing or cannot be used,
/// and their events name none) the parent it names now. A row keeps what was known when it was
/// folded, until its own files change, and `sql` reads rows as they are: one folded before its
/// parent came into the store had none, and one whose parent was deleted kept it, where a scan
/// of the files says otherwise. Run when a refresh adds or deletes sessions; such rows are few.
fn name_parents_again(tx: &Connection, store: &Store) -> rusqlite::Result<()> {
    let named: Vec<(i64, String, Option<String>, Option<String>)> = tx
        .prepare_cached(
            // Ranges of ids the unique index on `session_id` finds (`LIKE` would scan every
            // row: 1 ms of a refresh on 10,000 sessions).
            "SELECT sid, session_id, parent_session_id, parent_event_id FROM idx_sessions
              WHERE (session_id >= 'agent-' AND session_id < 'agent.'
                     OR session_id >= 'task-' AND session_id < 'task.')
                AND named_parent",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (sid, id, parent, call) in named {
        let now = crate::store::layout::parent_named_by(&id, |p| store.has_session(p));
        if now != parent.as_deref().map(|p| (p, call.as_deref())) {
            let (parent, call) = now.unzip();
            tx.prepare_cached(
                "UPDATE idx_sessions SET parent_session_id = ?2, parent_event_id = ?3
                  WHERE sid = ?1",
            )?
            .execute(params![sid, parent, call.flatten()])?;
        }
    }
    Ok(())
}

/// Deletes the rows of sessions `idx_state` does not name ([`super::stale::KnownSessions::strays`]),
/// and every row of the sessions it names whose own rows (in `idx_sessions` or `idx_folds`)
/// are missing; the ids of the latter, to be indexed again. Each statement reads a table
/// whole (a quarter of a second on 10,000 sessions): run only when such rows were found.
fn drop_strays(tx: &Connection) -> rusqlite::Result<Vec<String>> {
    for table in SESSION_TABLES {
        tx.execute(
            &format!("DELETE FROM {table} WHERE sid NOT IN (SELECT sid FROM idx_state)"),
            [],
        )?;
    }
    let broken: Vec<(i64, String)> = tx
        .prepare(
            "SELECT sid, session_id FROM idx_state
              WHERE sid NOT IN (SELECT sid FROM idx_sessions)
                 OR sid NOT IN (SELECT sid FROM idx_folds)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut ids = Vec::with_capacity(broken.len());
    for (sid, id) in broken {
        delete_rows(tx, sid, true)?;
        ids.push(id);
    }
    Ok(ids)
}

/// Deletes a session's rows of what its events fold to: events, calls and responses.
const FOLDED_ROWS: [&str; 3] = [
    "DELETE FROM idx_events WHERE sid = ?1",
    "DELETE FROM idx_calls WHERE sid = ?1",
    "DELETE FROM idx_responses WHERE sid = ?1",
];

/// Deletes a session's rows of what its fold sums up, written again with each refresh.
const SUMMED_ROWS: [&str; 3] = [
    "DELETE FROM idx_files WHERE sid = ?1",
    "DELETE FROM idx_models WHERE sid = ?1",
    "DELETE FROM idx_derived WHERE sid = ?1",
];

/// Deletes a session's own rows: its state, its fold and its row in `idx_sessions`.
const SESSION_ROWS: [&str; 3] = [
    "DELETE FROM idx_state WHERE sid = ?1",
    "DELETE FROM idx_folds WHERE sid = ?1",
    "DELETE FROM idx_sessions WHERE sid = ?1",
];

/// Runs each of `deletes` for session `sid`, each statement prepared once per connection.
fn delete(tx: &Connection, deletes: &[&str], sid: i64) -> rusqlite::Result<()> {
    for sql in deletes {
        tx.prepare_cached(sql)?.execute([sid])?;
    }
    Ok(())
}

pub(super) fn delete_rows(tx: &Connection, sid: i64, session_too: bool) -> rusqlite::Result<()> {
    delete(tx, &FOLDED_ROWS, sid)?;
    delete(tx, &SUMMED_ROWS, sid)?;
    if session_too {
        delete(tx, &SESSION_ROWS, sid)?;
    }
    Ok(())
}

pub(super) enum Refreshed {
    Whole,
    Tail,
    Meta,
    Gone,
}

pub(super) enum RefreshError {
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
pub(super) struct Prices(HashMap<String, Option<ModelPrice>>);

impl Prices {
    /// The price of `model`: its name is copied only the first time, not for each of the
    /// hundred thousand responses a build of the index prices.
    pub(super) fn get(&mut self, model: &str) -> Option<&ModelPrice> {
        if !self.0.contains_key(model) {
            let price = PriceTable::builtin().find(model).cloned();
            self.0.insert(model.to_owned(), price);
        }
        self.0.get(model).and_then(Option::as_ref)
    }
}

/// Folds what is new in one session into the index.
pub(super) fn refresh_session(
    tx: &Connection,
    store: &Store,
    disk: &OnDisk,
    known: Option<&Known>,
    prices: &mut Prices,
) -> Result<Refreshed, RefreshError> {
    let dir = store.session_dir(&disk.id);
    // Both taken before meta.json is read, so that a change after they were taken is seen
    // by the next read, whichever of them the index then watches.
    let looked = |watch| match disk.watched {
        Some((w, state)) if w == watch => state,
        _ => watch.state_in(&dir),
    };
    // Only another tool's session (no `.counters`) can have its folder watched.
    let has_counters = dir.join(COUNTERS).exists();
    let states = States {
        events: disk.events,
        meta: looked(Watch::Meta),
        folder: (!has_counters).then(|| looked(Watch::Folder)).flatten(),
        now_ns: now_ns(),
    };
    if disk.events.is_none() && states.meta.is_none() {
        // A folder this user may not look inside shows no files either: it is said to be
        // unreadable, never taken for gone (it was left out of every listing without a word).
        if let Some(denied) = crate::store::closed_folder(&dir) {
            return Err(RefreshError::Store(StoreError::io(&dir, denied)));
        }
        // The folder is there but the session's files are not (any more).
        if let Some(k) = known {
            delete_rows(tx, k.sid, true)?;
        }
        return Ok(Refreshed::Gone);
    }
    let folder = store
        .session_folder(&disk.id)
        .map_err(RefreshError::Store)?;
    let meta = match store.read_meta_to_read(&disk.id) {
        // Out of file descriptors says nothing of meta.json: kept as its error, the session
        // would be listed as its events tell it (no agent, no command) by every later read
        // until its files changed. It is left as indexed, for the next reader to read again.
        Err(e) if e.is_temporary() => return Err(RefreshError::Store(e)),
        meta => meta,
    };
    let agent = meta
        .as_ref()
        .map_or(Agent::Unknown, |m| Agent::from_name(&m.agent_name));
    // What was folded before, when the events file is the same one, only longer, and the
    // clock believes the times it believed when it was folded.
    let now = states.now_ns as f64 / 1e9;
    let previous = match known {
        Some(k) => {
            // A fold read tool names as one agent's (its calls' kinds, the files they
            // touch): one of a session whose meta.json now names another agent (the meta
            // came after the events, the collector renamed the agent) is folded again whole.
            let row: Option<(i64, i64, String, Option<i64>)> = tx
                .query_row(
                    "SELECT folded_offset, folded_lines, fold, folded_tail FROM idx_folds
                     WHERE sid = ?1 AND agent = ?2",
                    params![k.sid, agent.name()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let found = FileState::key(disk.events);
            let same_file = k.events[0] == found[0] && k.events[1] == found[1] && k.events[1] != -1;
            let unchanged = k.events == found;
            row.and_then(|(offset, lines, fold, tail)| {
                // A file rewritten in place, longer, grew too: only the bytes folded last, still
                // there, tell it from an append.
                let grew = same_file
                    && found[2] >= offset
                    && found[2] > k.events[2]
                    && tail.is_some()
                    && tail == tail_at(&folder, offset);
                let fold = serde_json::from_str::<Summary>(&fold)
                    .ok()
                    .filter(|f| f.ending.holds_at(now))?;
                (unchanged || grew).then_some((k.sid, offset, lines, fold, unchanged, tail))
            })
        }
        None => None,
    };
    let (sid, offset, lines, mut fold, how, kept_tail) =
        if let Some((sid, offset, lines, fold, same, tail)) = previous {
            let how = if same {
                Refreshed::Meta
            } else {
                Refreshed::Tail
            };
            (sid, offset, lines, fold, how, tail)
        } else {
            let sid = if let Some(k) = known {
                delete_rows(tx, k.sid, false)?;
                k.sid
            } else {
                tx.prepare_cached(
                    "INSERT INTO idx_sessions (session_id, has_counters) VALUES (?1, 0)",
                )?
                .execute([&disk.id])?;
                tx.last_insert_rowid()
            };
            (sid, 0, 0, Summary::default(), Refreshed::Whole, None)
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
            now,
        };
        folding.fold_from(&folder, offset, lines)?
    };
    let tail = if matches!(how, Refreshed::Meta) {
        kept_tail
    } else {
        tail_at(&folder, offset)
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO idx_folds
             (sid, folded_offset, folded_lines, fold, folded_tail, agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        sid,
        offset,
        lines,
        serde_json::to_string(&fold).unwrap_or_else(|_| "{}".to_owned()),
        tail,
        agent.name(),
    ])?;
    // What meta would say from the events, for a session whose meta.json is missing or bad;
    // and whether its parent is then the one its id names, which depends on the sessions in
    // the store (`name_parents_again` looks again when they change), or its events'.
    let (derived, named_parent) = match &meta {
        Err(_) => {
            let mut derived = derived_meta(&folder, &disk.id, |_| false);
            let named = derived.parent_session_id.is_none();
            if named
                && let Some((parent, call)) =
                    crate::store::layout::parent_named_by(&disk.id, |p| store.has_session(p))
            {
                derived.parent_session_id = Some(parent.to_owned());
                derived.parent_event_id = call.map(str::to_owned);
            }
            (derived, named)
        }
        Ok(_) => (SessionMeta::new(&disk.id, 0.0), false),
    };
    write_session(
        tx,
        sid,
        &disk.id,
        states,
        has_counters,
        &fold,
        (meta, derived, named_parent),
        prices,
    )?;
    Ok(how)
}

/// The mark of the events file's bytes just before `offset` ([`tail_mark`]), as a column
/// holds it; `None` when they cannot be read.
fn tail_at(folder: &Folder, offset: i64) -> Option<i64> {
    let file = folder.read(EVENTS).ok()??;
    tail_mark(&file, u64::try_from(offset).ok()?).map(u64::cast_signed)
}

/// The states of a session's files and folder, taken before its metadata was read, and the
/// time before it was read.
#[derive(Clone, Copy)]
pub(super) struct States {
    events: Option<FileState>,
    meta: Option<FileState>,
    folder: Option<FileState>,
    now_ns: i64,
}

/// The time since the epoch, in nanoseconds (0 when the clock is before it).
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Writes a session's row (and its files and models) from its fold and metadata.
#[expect(clippy::too_many_arguments, reason = "one call site, all of it state")]
pub(super) fn write_session(
    tx: &Connection,
    sid: i64,
    id: &str,
    states: States,
    has_counters: bool,
    fold: &Summary,
    (meta, derived, named_parent): (crate::store::Result<SessionMeta>, SessionMeta, bool),
    prices: &mut Prices,
) -> Result<(), RefreshError> {
    // As `Store::summary` reads a session: meta.json, with counters derived from the events
    // when the session is ours (or has no meta to trust, or one holding no counter). A meta.json that cannot be used is
    // kept as `meta_error`: the session is then listed as its events describe it (when it has
    // any), with a warning.
    let readable = meta.is_ok();
    let (meta, meta_error) = match meta {
        Ok(meta) => (meta, None),
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            (derived, None)
        }
        Err(StoreError::Io { source, .. }) => (derived, Some(source.to_string())),
        Err(StoreError::Corrupt { message, .. }) => (derived, Some(message)),
        // Kept without its path, which the listing puts before it (as for the two above).
        Err(StoreError::NotRegular { what, expected, .. }) => (
            derived,
            Some(format!(
                "it is {what} where the store keeps {expected}; it is left alone"
            )),
        ),
        Err(e) => (derived, Some(e.to_string())),
    };
    let mut meta = meta;
    let derived =
        has_counters || meta_error.is_some() || meta.started_at == 0.0 || meta.counts_nothing();
    if derived {
        if meta.started_at == 0.0 {
            meta.started_at = fold.counters.first_timestamp.unwrap_or_default();
        }
        apply(&mut meta, &fold.counters);
    } else if fold.counters.copies > 0 {
        // The Python tool's import counts each line of a transcript that repeats its history:
        // its calls and errors are the events', each copy once, as `Store::summary` gives them.
        meta.tool_calls = fold.counters.tool_calls;
        meta.errors = fold.counters.errors;
    }
    // Another tool's end that its events run past, or that it never wrote though its events end
    // the session, is their last time, as `Store::summary` and `replay` read it.
    if !derived {
        meta.end_at_events(fold.counters.believed_last(), fold.ending.ended());
    }
    // The Python tool's import counts every transcript line in meta.json, a streamed response
    // several times: its requests and tokens are the events', as `stats` and `cost` count them.
    if let Some((requests, tokens)) = fold.llm_figures() {
        meta.llm_requests = requests;
        meta.total_tokens = tokens;
    }
    // Retention and `watch` take such a session for one still written, whatever its meta.json
    // recorded at its first end: the index says so too.
    if fold.resumed_after_end {
        meta.ended_at = None;
        meta.total_duration_ms = 0.0;
    }
    let tokens = fold.tokens();
    let extra = meta_extra(&meta);
    tx.prepare_cached(
        "UPDATE idx_sessions SET
            has_counters = ?2, meta_error = ?3, started_at = ?4, ended_at = ?5,
            agent_name = ?6, command = ?7, tool_calls = ?8, llm_requests = ?9, errors = ?10,
            total_tokens = ?11, total_duration_ms = ?12, parent_session_id = ?13,
            parent_event_id = ?14, depth = ?15, meta_extra = ?16, derived = ?17,
            first_prompt = ?18, transcript_path = ?19, events = ?20, input_tokens = ?21,
            output_tokens = ?22, cache_write_tokens = ?23, cache_read_tokens = ?24,
            cost_pico = ?25, estimated = ?26, model = ?27, rejections = ?28, unpriced = ?29,
            turn_errors = ?30, unbelieved_usage = ?31, named_parent = ?32,
            duration_s = ?33, believed_end = ?34
         WHERE sid = ?1",
    )?
    .execute(params![
        sid,
        has_counters,
        meta_error,
        meta.started_at,
        meta.ended_at,
        meta.agent_name,
        meta.command,
        count(meta.tool_calls),
        count(meta.llm_requests),
        count(meta.errors),
        count(meta.total_tokens),
        meta.total_duration_ms,
        meta.parent_session_id,
        meta.parent_event_id,
        count(meta.depth),
        extra,
        derived,
        fold.first_prompt,
        fold.transcript_path,
        count(fold.counters.events),
        count(tokens.input),
        count(tokens.output),
        count(tokens.cache_creation),
        count(tokens.cache_read),
        pico(fold.cost(PriceTable::builtin())),
        !fold.has_usage(),
        fold.main_model(),
        // Read from the events whoever wrote meta.json: its `errors` counts refused calls
        // too, and listings show the two apart.
        count(fold.counters.rejections),
        unpriced_models(fold),
        // Of the errors, the API errors that ended turns: listings tell them from the tools'.
        count(fold.counters.turn_errors),
        // The responses whose usage could not be believed: the cost leaves them out.
        count(fold.unbelieved_usage),
        named_parent,
        meta.believed_duration_secs(),
        meta.believed_end(),
    ])?;
    // Another tool replaces meta.json by rename (see `Watch`); ours, or one that is missing
    // or unreadable, is watched itself.
    let watch = if readable && states.events.is_some() && !has_counters {
        Watch::Folder
    } else {
        Watch::Meta
    };
    let watched = if watch == Watch::Folder {
        states.folder
    } else {
        states.meta
    };
    let state = FileState::pack(
        FileState::key(states.events),
        FileState::watched_key(watch, watched, states.now_ns),
        fold.ending.clocks(),
    );
    tx.prepare_cached(
        "INSERT OR REPLACE INTO idx_state (session_id, sid, state, watch)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, sid, state, watch as i64])?;
    delete(tx, &SUMMED_ROWS, sid)?;
    let mut files = tx.prepare_cached(
        "INSERT INTO idx_files (sid, path, reads, writes, deletes, moves)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (path, n) in &fold.files_touched() {
        let counts = [n.reads, n.writes, n.deletes, n.moves].map(count);
        files.execute(params![
            sid, path, counts[0], counts[1], counts[2], counts[3]
        ])?;
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
            count(usage.responses),
            count(t.input),
            count(t.output),
            count(t.cache_creation),
            count(t.cache_read),
            cost,
        ])?;
    }
    Ok(())
}

/// The models of `fold` whose usage has no known price, one a line; `None` when every one has.
fn unpriced_models(fold: &Summary) -> Option<String> {
    let names: Vec<&str> = fold.unpriced(PriceTable::builtin()).collect();
    (!names.is_empty()).then(|| names.join("\n"))
}
