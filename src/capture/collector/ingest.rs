//! What the collector writes: event batches (`POST /events`), session metadata (`POST
//! /sessions`) and hook events forwarded by hooks (`POST /hooks`). Everything goes through the
//! store and the capture sink, as local capture's does; a handler answers only once what it
//! accepted is written.

use std::collections::{HashMap, HashSet};

use hyper::StatusCode;
use serde_json::json;

use super::routes::{Reply, Request};
use super::{Collector, recent};
use crate::capture::hooks;
use crate::capture::limit::ID_LIMIT;
use crate::capture::remote::HookCall;
use crate::capture::sink::Privacy;
use crate::model::meta::BELIEVABLE_TIMES;
use crate::model::{Event, SessionMeta};
use crate::model::{deep_json, view};
use crate::store::{Described, HOOK_LOCK_WAIT, StoreError, is_valid_session_id};

/// How many refused lines an answer names (the count covers them all).
const REFUSALS_SHOWN: usize = 20;

/// `POST /events`: a batch of events, one JSON object a line, each in the store's format with
/// its `session_id`. A session not yet in the store is created. Answers 200 with the counts
/// when every line was taken, 202 when some were refused (named with their line numbers), as
/// the Python tool's collector does, and 500 when the store failed to write events (events
/// before the failure may be stored). A session's meta that cannot be updated once its events
/// are written is no failure of the request (see [`write_batch`]).
///
/// Sending a batch again stores none of it twice: an event whose session and `event_id` the
/// collector already stored (see [`super::recent`]) is skipped, and counted both in
/// `"accepted"` (it is in the store) and in `"duplicates"`. On a failure, `"accepted"` counts
/// the sessions written whole and, of the session that failed, its first events up to the
/// first one not stored: for a batch of one session, the first `accepted` events are stored.
pub fn events(collector: &Collector, request: &Request) -> Reply {
    // Sessions in the order of their first event; `at` finds a session's place at once, so
    // that a batch of many sessions is grouped in one pass.
    let mut batches: Vec<(String, Vec<Event>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut refused = Vec::new();
    let mut refused_count = 0usize;
    for (number, line) in request.body.split(|b| *b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match parse_event(line) {
            Ok(mut event) => {
                // Before it is looked up among those stored: an id that holds a secret is
                // stored as another, by which a batch sent again must find it.
                collector.sink.scrub_envelope(&mut event);
                if let Some(&n) = at.get(&event.session_id) {
                    batches[n].1.push(event);
                } else {
                    at.insert(event.session_id.clone(), batches.len());
                    batches.push((event.session_id.clone(), vec![event]));
                }
            }
            Err(why) => {
                refused_count += 1;
                if refused.len() < REFUSALS_SHOWN {
                    refused.push(json!({ "line": number + 1, "error": why }));
                }
            }
        }
    }
    let mut accepted = 0usize;
    let mut duplicates = 0usize;
    for (session, batch) in batches {
        let count = batch.len();
        match write_batch(collector, &session, batch) {
            Ok(taken) => {
                accepted += count;
                duplicates += taken.duplicates;
                if taken.written > 0 {
                    collector.accepted(super::Accepted::Session(session));
                }
            }
            Err(failed) => {
                let e = failed.error;
                collector.log(&format!("cannot store events of session {session:?}: {e}"));
                if failed.written > 0 {
                    collector.accepted(super::Accepted::Session(session));
                }
                return Reply::store_failed(
                    &e,
                    &json!({
                        "error": format!("the store failed: {e}"),
                        "accepted": accepted + failed.leading,
                        "duplicates": duplicates + failed.duplicates,
                    }),
                );
            }
        }
    }
    let status = if refused_count == 0 {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Reply::json(
        status,
        &json!({ "accepted": accepted, "duplicates": duplicates,
            "errors": refused_count, "refused": refused }),
    )
}

/// One line as an event, or why it is refused.
fn parse_event(line: &[u8]) -> Result<Event, String> {
    let mut event: Event = deep_json::from_slice(line).map_err(|e| format!("not an event: {e}"))?;
    if !is_valid_session_id(&event.session_id) {
        return Err(format!(
            "session id {:?} cannot name a session folder",
            event.session_id
        ));
    }
    if let Some(why) = refused_date("timestamp", event.timestamp) {
        return Err(why);
    }
    // Refused, not cut: two ids cut to the same start would be taken for one event.
    let named = [
        ("event_id", Some(event.event_id.as_str())),
        ("parent_id", event.parent_id.as_deref()),
        ("event_type", Some(event.event_type.as_str())),
    ];
    for (field, value) in named {
        if value.is_some_and(|v| v.len() > ID_LIMIT) {
            return Err(format!("{field} is longer than {ID_LIMIT} bytes"));
        }
    }
    if event.event_id.is_empty() {
        event.event_id = content_id(line);
    }
    // A process another machine's event names is no process of this one: `watch` here must
    // never signal the pid it gives.
    if let Some(data) = event.data.as_object_mut() {
        data.remove(view::AGENT_PID);
        data.remove(view::AGENT_STARTED);
    }
    Ok(event)
}

/// Why the time a client sent under `field` (seconds since the epoch) is refused: one that is
/// not finite or is negative is no time. The one rule of every route that takes a time
/// (`/events`' timestamps, `/sessions`' start and end, `/hooks`' time of the call).
fn refused_time(field: &str, at: f64) -> Option<String> {
    (!at.is_finite() || at < 0.0).then(|| format!("{field} must be a finite, non-negative number"))
}

/// Why a time a session or its event is stored at is refused: [`refused_time`]'s, and a time
/// no session's date can hold (after 2100, [`BELIEVABLE_TIMES`]): `/events` and `/sessions`
/// stored a `1e308` as a session's start, shown as `?` with a warning by every reader.
fn refused_date(field: &str, at: f64) -> Option<String> {
    refused_time(field, at).or_else(|| {
        (!BELIEVABLE_TIMES.contains(&at))
            .then(|| format!("{field} must be a time before 2100 (seconds since the epoch)"))
    })
}

/// Why the times of a session's meta are refused ([`refused_time`]): a start or an end that is
/// no time, or an end before the start.
fn refused_times(meta: &SessionMeta) -> Option<String> {
    refused_date("started_at", meta.started_at)
        .or_else(|| meta.ended_at.and_then(|end| refused_date("ended_at", end)))
        .or_else(|| {
            meta.ended_at
                .is_some_and(|end| end < meta.started_at)
                .then(|| "ended_at is before started_at".to_owned())
        })
}

/// The id of an event sent without one: made from its line, so that the same line sent again
/// (a batch retried after a timeout) gets the same id and is skipped as a duplicate, as a named
/// event is. FNV-1a, stable across collectors and their restarts (the set's own keys are drawn
/// at random), cut to 12 hex digits like every other id (48 bits, as random as a fresh one).
/// Two lines alike to the byte (same session, time and data) are one event.
fn content_id(line: &[u8]) -> String {
    format!("{:012x}", crate::model::hash::fnv1a(line) >> 16)
}

/// What became of one session's events in a batch.
struct Taken {
    /// Events written now.
    written: usize,
    /// Events skipped as already stored.
    duplicates: usize,
}

/// A session's events that could not all be written.
struct Failed {
    error: StoreError,
    /// Events written before the failure.
    written: usize,
    /// Events skipped as already stored (all of them, before and after the failure).
    duplicates: usize,
    /// The events before the first one not stored, in the batch's order.
    leading: usize,
}

/// Appends one session's events that it does not hold yet (creating the session first if
/// needed) in one write, and catches its meta up.
///
/// Once the events are written the batch is taken, whatever befalls meta: an error then made
/// the client send the batch again. The events are the truth and meta only a cache of their
/// figures, caught up by the next writer (see [`crate::store`]'s `refresh_meta`) and derived
/// from the events by readers when `meta.json` cannot be used; a meta that cannot be caught up
/// is logged.
fn write_batch(collector: &Collector, session: &str, batch: Vec<Event>) -> Result<Taken, Failed> {
    let taken = {
        // One request at a time looks up and writes a session: the same batch sent twice at
        // once is written once.
        let key = collector.recent.session(session);
        let _writing = collector.recent.lock(key);
        write_fresh(collector, session, key, batch)?
    };
    if let Err(e) = refresh(collector, session) {
        collector.log(&format!(
            "stored events of session {session:?} but cannot update its meta: {e}"
        ));
    }
    Ok(taken)
}

/// [`write_batch`]'s part under the session's lock: the look-up, the write, and what the
/// collector then knows it stored.
fn write_fresh(
    collector: &Collector,
    session: &str,
    key: recent::Session,
    batch: Vec<Event>,
) -> Result<Taken, Failed> {
    let recent = &collector.recent;
    // Each id hashed once, for the look-up and for what is remembered once written.
    let keys: Vec<u64> = batch.iter().map(|e| recent.key(key, &e.event_id)).collect();
    let fresh = if let Some(fresh) = recent.fresh(key, &keys, None) {
        fresh
    } else {
        // The first batch of the session since the collector started (or since the set
        // forgot an id its tail may hold): what its file ends with is stored too.
        let tail = tail_keys(collector, session, key, &keys).map_err(|error| Failed {
            error,
            written: 0,
            duplicates: 0,
            leading: 0,
        })?;
        recent
            .fresh(key, &keys, Some(tail))
            .unwrap_or_else(|| vec![true; batch.len()])
    };
    let duplicates = fresh.iter().filter(|f| !**f).count();
    let events: Vec<Event> = batch
        .into_iter()
        .zip(&fresh)
        .filter_map(|(event, fresh)| fresh.then_some(event))
        .collect();
    let fresh_keys = || {
        keys.iter()
            .zip(&fresh)
            .filter(|(_, f)| **f)
            .map(|(key, _)| *key)
    };
    match append(collector, session, events) {
        Ok(bytes) => {
            recent.remember(key, fresh_keys(), bytes);
            Ok(Taken {
                written: fresh_keys().count(),
                duplicates,
            })
        }
        Err((written, error)) => {
            // Their bytes are not counted: the session is read again at once.
            recent.remember(key, fresh_keys().take(written), 0);
            // A write cut short (a full disk) may have left whole lines of the next events:
            // the file's tail says which, for this answer and the next batch.
            recent.forget_session(key);
            let now = tail_keys(collector, session, key, &keys)
                .ok()
                .and_then(|tail| recent.fresh(key, &keys, Some(tail)));
            let leading = match now {
                Some(fresh) => fresh.iter().take_while(|f| !**f).count(),
                // The events before the first one this write did not write are stored.
                None => fresh
                    .iter()
                    .scan(0usize, |fresh_seen, f| {
                        *fresh_seen += usize::from(*f);
                        Some(!*f || *fresh_seen <= written)
                    })
                    .take_while(|stored| *stored)
                    .count(),
            };
            Err(Failed {
                error,
                written,
                duplicates,
                leading,
            })
        }
    }
}

/// The keys ([`recent::Recent::key`]) of the events in the tail of a session's file, and of
/// those of `batch` (keys the caller looks up) among the `batch.len()` lines before it: a
/// batch sent again was written whole at once, so with its last event in the tail, the rest
/// are there, however large its events (the tail alone held only the last ones of a batch
/// over [`recent::TAIL_BYTES`], and a collector started again stored its first ones twice).
/// Only the batch's are kept of those lines, so what the set takes stays a tail's.
fn tail_keys(
    collector: &Collector,
    session: &str,
    key: recent::Session,
    batch: &[u64],
) -> Result<Vec<u64>, StoreError> {
    let wanted: HashSet<u64> = batch.iter().copied().collect();
    let mut tail = Vec::new();
    collector.store.event_ids_back(
        session,
        recent::TAIL_BYTES,
        batch.len(),
        // A batch's lines are no larger than its body, which is at most `--max-body`: no
        // further back than twice that (the whole file was read for a batch of many small
        // events to a session of large ones).
        2 * collector.settings.max_body as u64,
        |id, in_tail| {
            let id = collector.recent.key(key, id);
            if in_tail || wanted.contains(&id) {
                tail.push(id);
            }
        },
    )?;
    Ok(tail)
}

/// Writes `events` into the session's file (made first if needed), flushed to the disk with
/// `--fsync` even when there are none: a batch sent again after a failed `fdatasync` is
/// answered only once what it sent before is on the disk. The bytes of the lines written; on
/// failure, how many of `events` were written before it.
fn append(
    collector: &Collector,
    session: &str,
    events: Vec<Event>,
) -> Result<u64, (usize, StoreError)> {
    let store = &collector.store;
    // A folder without meta (a crash before it was written, or made by hand) is given one.
    if !store.has_meta(session) {
        let started = events
            .first()
            .map_or_else(|| collector.sink.now(), |e| e.timestamp);
        let created = store
            .create_session(&SessionMeta::new(session, started))
            .map_err(|e| (0, e))?;
        if created {
            store.init_counters(session).map_err(|e| (0, e))?;
        }
    }
    let mut appender = store.appender(session).map_err(|e| (0, e))?;
    let (count, mut written) = (events.len(), 0);
    for (n, event) in events.into_iter().enumerate() {
        collector
            .sink
            .emit(&mut appender, event)
            .map_err(|e| (written, e))?;
        if !appender.has_gathered() {
            written = n + 1;
        }
    }
    appender.flush().map_err(|e| (written, e))?;
    written = count;
    if collector.settings.fsync {
        // Written, not known to be on the disk: sent again, they are skipped and synced then.
        appender.sync().map_err(|e| (written, e))?;
    }
    Ok(appender.appended())
}

/// Catches a session's meta up; a session busy elsewhere is caught up by whoever holds it or
/// the next reader.
fn refresh(collector: &Collector, session: &str) -> Result<(), StoreError> {
    match collector.store.refresh_meta(session, HOOK_LOCK_WAIT) {
        Err(StoreError::LockTimeout(_)) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `POST /sessions`: a session's metadata. A new session is created with it, and so is the
/// meta of a session folder that holds none; a known one takes what describes it (name,
/// command, end, links, attribution and other fields), never its counters, which the store
/// derives from the events. A `meta.json` that cannot be read is set aside and replaced by the
/// one sent (logged): it was answered 500 for ever, and a proxy kept the session's end in its
/// own store ([`crate::store::Store::describe_session`]). The answer says the collector skips the
/// events it already holds (`"skips_duplicates"`): a proxy, which sends its session's meta
/// first, then knows a batch of that session whose answer came too late may be sent again,
/// where it wrote that batch in its own store too.
pub fn session(collector: &Collector, request: &Request) -> Reply {
    let Ok(text) = std::str::from_utf8(&request.body) else {
        return Reply::error(StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    let mut meta = match SessionMeta::from_json(text) {
        Ok(meta) => meta,
        Err(e) => return Reply::error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if !is_valid_session_id(&meta.session_id) {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "session id {:?} cannot name a session folder",
                meta.session_id
            ),
        );
    }
    if let Some(why) = refused_times(&meta) {
        return Reply::error(StatusCode::BAD_REQUEST, &why);
    }
    // A session is no subagent of its own: one stored so hung below itself in every tree.
    if meta.parent_session_id.as_deref() == Some(meta.session_id.as_str()) {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "session {:?} names itself as its parent (parent_session_id): a session cannot \
                 be its own subagent",
                meta.session_id
            ),
        );
    }
    collector.sink.privacy().apply_meta(&mut meta);
    // The counters are the events' to say. One that is no whole number stays under its name
    // among the fields meta.json keeps as sent, where it took the place of the session's own.
    for counter in COUNTERS {
        meta.extra.remove(counter);
    }
    let store = &collector.store;
    let id = meta.session_id.clone();
    let mut fresh = meta.clone();
    fresh.tool_calls = 0;
    fresh.llm_requests = 0;
    fresh.errors = 0;
    fresh.total_tokens = 0;
    let result = store.describe_session(&fresh, |stored| describe(stored, &meta));
    match result.and_then(|described| refresh(collector, &id).map(|()| described)) {
        Ok(described) => {
            if let Described::Replaced { set_aside, why } = &described {
                collector.log(&format!(
                    "session {id:?}: its meta could not be read ({why}); set aside as {} and \
                     replaced by the one sent, its counters taken from its events",
                    set_aside.display()
                ));
            }
            Reply::json(
                StatusCode::OK,
                &json!({ "session_id": id, "status": "ok",
                    "created": matches!(described, Described::Created),
                    "skips_duplicates": true }),
            )
        }
        Err(e) => {
            collector.log(&format!("cannot store the meta of session {id:?}: {e}"));
            Reply::store_failed(&e, &json!({ "error": format!("the store failed: {e}") }))
        }
    }
}

/// The counters of `meta.json`, which `POST /sessions` never sets.
const COUNTERS: [&str; 4] = ["tool_calls", "llm_requests", "errors", "total_tokens"];

/// Copies what describes a session from `incoming` into `stored`; whether anything changed.
fn describe(stored: &mut SessionMeta, incoming: &SessionMeta) -> bool {
    let before = stored.clone();
    if !incoming.agent_name.is_empty() {
        stored.agent_name.clone_from(&incoming.agent_name);
    }
    if !incoming.command.is_empty() {
        stored.command.clone_from(&incoming.command);
    }
    if incoming.ended_at.is_some() {
        stored.ended_at = incoming.ended_at;
        stored.total_duration_ms = incoming.total_duration_ms;
    }
    if incoming.parent_session_id.is_some() {
        stored
            .parent_session_id
            .clone_from(&incoming.parent_session_id);
        stored.parent_event_id.clone_from(&incoming.parent_event_id);
        stored.depth = incoming.depth;
    }
    for (key, value) in &incoming.extra {
        if !value.is_null() {
            stored.extra.insert(key.clone(), value.clone());
        }
    }
    *stored != before
}

/// `POST /hooks`: one hook event a hook sent instead of recording it (see
/// [`crate::capture::remote`]), recorded by the same recorder as a local hook.
pub fn hook(collector: &Collector, request: &Request) -> Reply {
    let call: HookCall = match deep_json::from_slice(&request.body) {
        Ok(call) => call,
        Err(e) => return Reply::error(StatusCode::BAD_REQUEST, &format!("not a hook call: {e}")),
    };
    if let Some(why) = call.at.and_then(|at| refused_time("at", at)) {
        return Reply::error(StatusCode::BAD_REQUEST, &why);
    }
    let mut payload = match call.payload(collector.sink.privacy()) {
        Ok(payload) => payload,
        Err(e) => return Reply::error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let denial = call.denial();
    let attribution = call.attribution();
    if let Some(text) = call.late_answer.clone() {
        return late_answer(collector, &payload, text);
    }
    // A call with its id is recorded once: one request at a time looks it up and records it
    // (the session's lock, as for a batch of events), and a call sent again (its answer came
    // too late for the hook, which kept it to send again) is answered without being recorded.
    let recent = &collector.recent;
    let named = call
        .call_id()
        .map(|id| (recent.session(&payload.session_id), id));
    let _writing = named.map(|(session, _)| recent.lock(session));
    if let Some((_, id)) = named {
        match recorded_before(collector, &payload, id) {
            Ok(false) => {}
            // Recorded in part: the recorder writes the part still owed, and only that.
            Ok(true) if hooks::owes_part(&collector.store, &payload, collector.sink.privacy()) => {}
            Ok(true) => {
                return Reply::json(
                    StatusCode::OK,
                    &json!({ "session_id": payload.session_id, "status": "ok",
                        "duplicate": true, "answer_pending": false }),
                );
            }
            Err(e) => {
                return Reply::store_failed(
                    &e,
                    &json!({ "error": format!("the store failed: {e}") }),
                );
            }
        }
    }
    let sink = match named {
        Some((_, id)) => collector.sink.clone().with_first_id(id.to_owned()),
        None => collector.sink.clone(),
    };
    let recorded = hooks::record_attributed(
        &collector.store,
        &mut payload,
        &sink,
        denial.as_ref(),
        attribution.as_ref(),
        hooks::Ran::Elsewhere,
    );
    if let (Some((_, id)), Ok(_)) = (named, &recorded) {
        for name in call_sessions(&payload, collector.sink.privacy()) {
            let session = recent.session(&name);
            recent.remember(session, std::iter::once(recent.key(session, id)), 0);
        }
    }
    match recorded {
        // A session end whose last answer is still due says so: the hook's machine, where the
        // agent writes it, starts a follower that sends it.
        Ok(recorded) => {
            // The event is in the store: a 200, whatever went wrong beside it, or the hook
            // would record it again on its own machine.
            if let Some(trouble) = &recorded.trouble {
                collector.log(&format!("session {:?}: {trouble}", payload.session_id));
            }
            collector.accepted(super::Accepted::Session(payload.session_id.clone()));
            Reply::json(
                StatusCode::OK,
                &json!({ "session_id": payload.session_id, "status": "ok",
                    "answer_pending": recorded.answer_pending }),
            )
        }
        Err(e) => {
            // Part may be written (a subagent's end without its parent's marker): the files'
            // tails are read again before the call, sent again, is looked up.
            for name in call_sessions(&payload, collector.sink.privacy()) {
                recent.forget_session(recent.session(&name));
            }
            collector.log(&format!(
                "cannot record a hook of session {:?}: {e}",
                payload.session_id
            ));
            Reply::store_failed(&e, &json!({ "error": format!("the store failed: {e}") }))
        }
    }
}

/// The sessions the first event of a hook call of `payload` (the one that takes the call's id)
/// can be in: the payload's, and for a subagent's event (SubagentStart and SubagentStop among
/// them) the subagent's own session, where the recorder puts its events. `send-kept --here`
/// looks there too for a kept call recorded before.
pub(crate) fn call_sessions(payload: &hooks::HookPayload, privacy: &Privacy) -> Vec<String> {
    let child = payload
        .agent_id
        .as_deref()
        .and_then(|agent| privacy.subagent_session_id(agent, &payload.session_id));
    std::iter::once(payload.session_id.clone())
        .chain(child)
        .collect()
}

/// Whether the hook call `id` of `payload` was recorded already: known to the set, or in the
/// tail of a session its first event can be in ([`call_sessions`]).
fn recorded_before(
    collector: &Collector,
    payload: &hooks::HookPayload,
    id: &str,
) -> Result<bool, StoreError> {
    let recent = &collector.recent;
    for name in call_sessions(payload, collector.sink.privacy()) {
        let session = recent.session(&name);
        let keys = [recent.key(session, id)];
        let fresh = match recent.fresh(session, &keys, None) {
            Some(fresh) => fresh,
            None => recent
                .fresh(
                    session,
                    &keys,
                    Some(tail_keys(collector, &name, session, &keys)?),
                )
                .unwrap_or_else(|| vec![true]),
        };
        if fresh == [false] {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A follower's late answer (see [`hooks::record_sent_late_answer`]): recorded while it is due.
fn late_answer(collector: &Collector, payload: &hooks::HookPayload, text: String) -> Reply {
    match hooks::record_sent_late_answer(&collector.store, payload, &collector.sink, text) {
        Ok(result) => {
            if result == hooks::LateAnswer::Recorded {
                collector.accepted(super::Accepted::Session(payload.session_id.clone()));
            }
            Reply::json(
                StatusCode::OK,
                &json!({ "session_id": payload.session_id,
                    "late_answer": result == hooks::LateAnswer::Recorded }),
            )
        }
        Err(e) => {
            collector.log(&format!(
                "cannot record the late answer of session {:?}: {e}",
                payload.session_id
            ));
            Reply::store_failed(&e, &json!({ "error": format!("the store failed: {e}") }))
        }
    }
}
