//! Hook calls kept for the collector (the store's spool) sent again: oldest first, each
//! within what is left of a hook's budget or within `send-kept`'s time per call; a call the
//! collector refuses for good, or one it surely never saw kept past its time, recorded here by
//! the one hook recorder. A hook sends its store's calls before its own, a proxy from its
//! session's start beside its relay, and `send-kept` all of them.
//!
//! Nothing here opens a connection: the command line's client sends each call
//! ([`Collector`]), as a proxy's recorder ships through [`super::remote::Shipper`].

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::hooks;
use super::remote::{HookCall, Unsent};
use super::sink::{Privacy, Sink};
use crate::model::{Event, SessionMeta};
use crate::store::{Spooled, Store, StoreError};

/// How long a call kept for the collector ([`Store::spool`]) that the collector surely never
/// saw (it was never sent, or the collector was not reached) waits before a hook records it in
/// its own store: the session's events must not stay out of sight. A call the collector may
/// hold in part (it failed, or its answer came too late) waits for it, or for `send-kept`,
/// however long: recorded here, it would be split across the two stores.
pub const SPOOL_KEEP: std::time::Duration = std::time::Duration::from_secs(600);

/// The most the spool may hold (docs/deploy.md): a collector gone for good must not fill the
/// disk. At the bound a call (or a proxy's batch) is no longer kept but recorded here.
pub const SPOOL_BOUND: crate::store::SpoolBound = crate::store::SpoolBound {
    calls: 1_000,
    bytes: 256 * 1024 * 1024,
    leftovers: SPOOL_KEEP,
};

/// How a kept call reaches the collector (`POST /hooks`): the command line's HTTP client,
/// within `budget`. `Err` says whether the collector may hold the call ([`Unsent`]).
pub trait Collector {
    /// Opens a connection to the collector within `budget`, sending nothing: an unseen call
    /// keeps its mark until the collector is known to be there ([`Resend`]). `Err` is
    /// [`Unsent::NotReached`].
    fn reach(&self, _budget: Duration) -> Result<(), Unsent> {
        Ok(())
    }
    fn send_call(&self, body: Bytes, budget: Duration) -> Result<(), Unsent>;
    /// Sends a proxy's kept batch of events (`POST /events`, one JSON line an event).
    fn send_batch(&self, events: Bytes, budget: Duration) -> Result<(), Unsent>;
}

/// Sends a store's kept calls again, oldest first: a hook within what is left of its budget,
/// `send-kept` each within a time of its own.
pub struct Resend<'a> {
    pub store: &'a Store,
    /// Records a call here (one the collector refuses for good, or kept past `keep`).
    pub sink: &'a Sink,
    /// The collector; `None`: every call is recorded here unsent (`--here`).
    pub endpoint: Option<&'a dyn Collector>,
    /// When sending stops; `None`: each call is given `per_call`.
    pub deadline: Option<Instant>,
    pub per_call: Duration,
    /// A call the collector surely never saw (never sent, or not reached) kept longer than
    /// this is recorded here unsent; `None`: every call is sent. One it may hold waits for it
    /// however long.
    pub keep: Option<Duration>,
    /// Where what happened is said (a hook's log, or stderr).
    pub note: &'a dyn Fn(&str),
}

/// What [`Resend::batch`] did.
#[derive(Debug, Default)]
pub struct Resent {
    /// Calls the collector took.
    pub sent: usize,
    /// Calls recorded here.
    pub recorded: usize,
    /// Of `sent` and of `recorded`, the proxies' batches of events.
    pub batches_sent: usize,
    pub batches_recorded: usize,
    /// Calls still kept.
    pub waiting: usize,
    /// Why the sending stopped before the end of the batch, when the collector stopped it;
    /// `None` when the batch went through or the time ran out.
    pub stopped: Option<String>,
    /// Calls the collector took that cannot be taken out of the spool (its folder
    /// read-only): sent once, they wait to be sent again.
    pub stuck: usize,
    /// Calls that could not be recorded here: taken out of the spool, and put back.
    pub unrecorded: usize,
    /// Calls set aside because this store cannot take them (a damaged or forged file: a
    /// proxy's batch with a line that is no event, an event of another session, no usable
    /// session; a hook's call that is none, as the collector's `/hooks` reads it).
    pub unreadable: usize,
    /// Of `unreadable`, the proxies' batches.
    pub batches_unreadable: usize,
    /// The batch listed as many calls as it could: more than `waiting` may wait.
    pub more: bool,
}

impl Resend<'_> {
    /// Sends every kept call, batch after batch of `limit` ([`Resend::batch`]), until none
    /// waits, the collector stops the sending, or a batch takes none of the calls it listed
    /// (another process took them, or is sending them right now and moved them under another
    /// name). A call another sender put back meanwhile, under a name the batch did not list, is
    /// taken by the next. Bounded by `waiting`, the calls that waited at the start: once as
    /// many are taken, calls kept since wait for the next run, and a call that cannot be taken
    /// out of the spool once sent (its folder read-only) is not sent round and round.
    /// A call sent that cannot be taken out of the spool, or put back because it cannot be
    /// recorded here, is passed over by the next batches: it is counted once, and the calls
    /// behind it are sent.
    pub fn all(&self, limit: usize, waiting: usize) -> Resent {
        let mut total = Resent::default();
        let mut passed = HashSet::new();
        loop {
            let done = self.batch_past(limit, &mut passed);
            let taken = done.sent + done.recorded + done.unrecorded + done.unreadable;
            total.sent += done.sent;
            total.recorded += done.recorded;
            total.waiting = done.waiting;
            total.stopped = done.stopped;
            total.stuck += done.stuck;
            total.unrecorded += done.unrecorded;
            total.unreadable += done.unreadable;
            total.batches_unreadable += done.batches_unreadable;
            total.batches_sent += done.batches_sent;
            total.batches_recorded += done.batches_recorded;
            let tried = total.sent + total.recorded + total.unrecorded + total.unreadable;
            if total.stopped.is_some() || taken == 0 || tried >= waiting {
                return total;
            }
        }
    }

    /// Sends the oldest `limit` kept calls (at most) while time lasts; with `keep`, the unseen
    /// calls kept longer are recorded here, up to `limit` more of them behind the first
    /// `limit`, whatever becomes of the sending.
    pub fn batch(&self, limit: usize) -> Resent {
        self.batch_past(limit, &mut HashSet::new())
    }

    /// [`Resend::batch`], passing over the calls of `passed` (sent, and left in the spool
    /// because they cannot be taken out of it; or put back, not recorded here), to which it
    /// adds those it leaves so.
    fn batch_past(&self, limit: usize, passed: &mut HashSet<String>) -> Resent {
        let mut done = Resent::default();
        let mut unremovable = None;
        let now = micros_now(self.sink);
        let stale_before = self
            .keep
            .map(|keep| now.saturating_sub(u64::try_from(keep.as_micros()).unwrap_or(u64::MAX)));
        let kept = match self.store.spooled(limit + passed.len(), stale_before) {
            Ok(kept) => kept
                .into_iter()
                .filter(|call| !passed.contains(&call.name))
                .take(limit)
                .collect::<Vec<_>>(),
            // `.spool` is not a folder we made (a link): nothing is read through it, and it is
            // said once where it matters, by a hook that cannot keep its call there (and by
            // `list` and `send-kept`), not at every look.
            Err(StoreError::NotRegular { .. }) => return done,
            Err(e) => {
                (self.note)(&format!(
                    "cannot read the calls kept for the collector: {e}"
                ));
                return done;
            }
        };
        let listed = kept.len();
        done.waiting = listed;
        done.more = listed >= limit;
        // Once the collector fails or the time runs out, the calls it may hold wait; those
        // that may be recorded here still are.
        let mut sending = true;
        for call in kept {
            let endpoint = match self.endpoint {
                // Only a call the collector surely never saw is recorded here unsent.
                Some(endpoint)
                    if !(call.unseen && stale_before.is_some_and(|b| call.micros < b)) =>
                {
                    Some(endpoint)
                }
                Some(_) | None => None,
            };
            let left = match self.deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => self.per_call,
            };
            // Read only when there is time to send it: a collector that fails every call
            // costs a hook one kept call's reading, not a batch's.
            if endpoint.is_some() && (!sending || left.is_zero()) {
                sending = false;
                continue;
            }
            // Shared by the sends and the recording here, never copied.
            let body = match self.store.spooled_body(&call) {
                Ok(Some(body)) => Bytes::from(body),
                // Taken by another process since the listing.
                Ok(None) => {
                    done.waiting -= 1;
                    continue;
                }
                // Put in place of the call since the listing (a link, a runaway file): not
                // a call, and no reason to hold back the calls behind it.
                Err(e) => {
                    (self.note)(&format!("a kept call is passed over: {e}"));
                    done.waiting -= 1;
                    continue;
                }
            };
            if let Some(endpoint) = endpoint {
                // Reached first, with the mark still on: a sender cut while it connects (a
                // proxy's end, which waits for its sending 2 s; a hook killed at its time)
                // leaves the call one the collector never saw, as it is, where the mark came
                // off for good.
                if call.unseen
                    && let Err(not) = endpoint.reach(left)
                {
                    done.stopped = Some(not.to_string());
                    sending = false;
                    continue;
                }
                let left = match self.deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => left,
                };
                // The time went in reaching it: the call waits, unsent, as it was.
                if left.is_zero() {
                    sending = false;
                    continue;
                }
                // The mark comes off before the call is sent: a process that finds the call
                // kept past its time meanwhile (a hook, while `send-kept` waits for the
                // collector's answer) must not record it here as one the collector never saw.
                let unmarked = call.unseen
                    && match self.store.spool_seen(&call) {
                        Ok(true) => true,
                        // Taken by another process since the listing.
                        Ok(false) => {
                            done.waiting -= 1;
                            continue;
                        }
                        Err(e) => {
                            (self.note)(&format!("a kept call cannot be marked as sent: {e}"));
                            false
                        }
                    };
                // The collector surely did not take it: it may be recorded here in time again.
                let unsent = || {
                    if unmarked && let Err(e) = self.store.spool_unseen(&call) {
                        (self.note)(&format!("a kept call cannot be marked as unsent: {e}"));
                    }
                };
                let sent = if call.batch {
                    endpoint.send_batch(batch_events(&body), left)
                } else {
                    endpoint.send_call(body.clone(), left)
                };
                match sent {
                    Ok(()) => {
                        done.sent += 1;
                        done.batches_sent += usize::from(call.batch);
                        match self.store.unspool_sent(&call) {
                            Ok(_) => done.waiting -= 1,
                            // It waits, and would be sent round and round by this sender.
                            Err(e) => {
                                unremovable.get_or_insert(e);
                                passed.insert(call.name.clone());
                                done.stuck += 1;
                            }
                        }
                        continue;
                    }
                    // `send-kept` run without the hooks' token (or with another): the
                    // collector refuses the sender, not the call, which it may hold in part;
                    // recorded here, the call would be split across the two stores.
                    Err(Unsent::Refused { status, why })
                        if self.keep.is_none() && matches!(status, 401 | 403) =>
                    {
                        unsent();
                        done.stopped = Some(format!(
                            "{why} (the token is not the one the hooks sent with)"
                        ));
                        sending = false;
                        continue;
                    }
                    // No collector's route at that URL (a base URL naming another path, a
                    // proxy in front that routes elsewhere): nothing was said of the call,
                    // which the collector may hold in part from when it was sent before.
                    // Or something that is no collector answered 2xx (a web server there),
                    // having recorded nothing.
                    Err(Unsent::Refused { status, why }) if no_route(status) => {
                        unsent();
                        done.stopped = Some(no_collector_there(&why));
                        sending = false;
                        continue;
                    }
                    Err(Unsent::NoCollector(why)) => {
                        unsent();
                        done.stopped = Some(no_collector_there(&why));
                        sending = false;
                        continue;
                    }
                    // A call the collector will never take (not a call it reads).
                    Err(Unsent::Refused { status, .. }) if refused_for_good(status) => {
                        if self.unreadable(&call, &body) {
                            done.unreadable += 1;
                            done.batches_unreadable += usize::from(call.batch);
                            done.waiting -= 1;
                            continue;
                        }
                        match self.store.take_sent(&call) {
                            Ok(Some(name)) => {
                                self.record_taken(&call, &name, &body, &mut done, passed);
                            }
                            Ok(None) => done.waiting -= 1,
                            Err(e) => (self.note)(&format!(
                                "a kept call the collector refuses cannot be taken out of the spool to be recorded here: {e}"
                            )),
                        }
                        continue;
                    }
                    // It surely did not get the call this time: what it was stays.
                    Err(Unsent::NotReached(why)) => {
                        unsent();
                        done.stopped = Some(why);
                        sending = false;
                        continue;
                    }
                    // It may hold the call now, or part of it: never to be recorded here (the
                    // mark is off).
                    Err(not) => {
                        done.stopped = Some(not.to_string());
                        sending = false;
                        continue;
                    }
                }
            }
            if self.unreadable(&call, &body) {
                done.unreadable += 1;
                done.batches_unreadable += usize::from(call.batch);
                done.waiting -= 1;
                continue;
            }
            match self.store.take_kept(&call.name) {
                Ok(true) => self.record_taken(&call, &call.name, &body, &mut done, passed),
                // Taken by another process since the listing.
                Ok(false) => done.waiting -= 1,
                Err(e) => (self.note)(&format!(
                    "a kept call cannot be taken out of the spool to be recorded here: {e}"
                )),
            }
        }
        if let Some(e) = unremovable {
            (self.note)(&format!(
                "{} the collector took cannot be taken out of the spool, and will be sent again (the collector records each once): {e}",
                kept_calls(done.stuck)
            ));
        }
        if done.waiting == 0 && listed >= limit {
            done.waiting = self.store.spooled_count().map_or(0, |count| count.calls);
        }
        done
    }

    /// Whether `call` is a proxy's batch or a hook's call this store cannot take (a damaged or
    /// forged file; a call the collector's `/hooks` refuses as none): it is set aside in the
    /// spool for a person to look at, and said so in a note, where taken it would wait for
    /// ever, never recordable, sent again and refused by every sender, and the calls kept
    /// after it would wait behind it.
    fn unreadable(&self, call: &Spooled, body: &[u8]) -> bool {
        let (what, why) = if call.batch {
            ("a proxy's batch", read_batch(body).err())
        } else {
            ("a hook call", read_call(body, self.sink.privacy()).err())
        };
        let Some(why) = why else {
            return false;
        };
        let shown = self.store.spool_path().join(&call.name);
        match self.store.spool_set_aside(call) {
            Ok(Some(aside)) => (self.note)(&format!(
                "{what} kept for the collector cannot be recorded here ({why}); it is set aside as {}",
                aside.display()
            )),
            // Taken by another process since the listing.
            Ok(None) => {}
            Err(e) => (self.note)(&format!(
                "{what} kept for the collector cannot be recorded here ({why}), nor set aside, and is left as {}: {e}",
                shown.display()
            )),
        }
        true
    }

    /// Records here `call`, taken out of the spool under `name` ([`Store::take_kept`]): it is
    /// gone once recorded, and waits again when it cannot be (passed over by the next batches
    /// of this sending: `passed`).
    fn record_taken(
        &self,
        call: &Spooled,
        name: &str,
        body: &[u8],
        done: &mut Resent,
        passed: &mut HashSet<String>,
    ) {
        if self.record(call, body) {
            if let Err(e) = self.store.taken_recorded(name) {
                (self.note)(&format!(
                    "a kept call recorded here cannot be removed from the spool: {e}"
                ));
            }
            done.recorded += 1;
            done.batches_recorded += usize::from(call.batch);
            done.waiting -= 1;
            return;
        }
        done.unrecorded += 1;
        passed.insert(call.name.clone());
        passed.insert(name.to_owned());
        if let Err(e) = self.store.taken_back(name) {
            // Neither recorded nor kept: written where someone will see it, as a proxy's
            // last resort writes the events nobody took.
            (self.note)(&format!(
                "a kept call that cannot be recorded here cannot be put back in the spool either ({e}); it follows: {}",
                String::from_utf8_lossy(body)
            ));
            done.waiting -= 1;
        }
    }

    /// Records here what was kept for the collector: a hook's call, or a proxy's batch.
    /// Whether it was recorded (what went wrong is noted).
    fn record(&self, call: &Spooled, body: &[u8]) -> bool {
        if call.batch {
            self.record_batch(body)
        } else {
            self.record_call(body, call.unseen)
        }
    }

    /// Records here a proxy's batch of events kept for the collector (which may hold it in
    /// part): its session is made from the meta on its first line unless it is here already.
    /// Of a session here already, the events it holds (by id) are not written again: a batch
    /// put back after part of it was recorded (its recorder killed before it took the batch
    /// out of the spool, and the batch renamed back ten minutes later) is recorded whole, each
    /// event once. An id the batch holds twice is written once, as the collector writes it.
    fn record_batch(&self, body: &[u8]) -> bool {
        let recorded = read_batch(body).and_then(|(meta, mut events)| {
            let store = self.store;
            let held = if store.create_session(&meta).map_err(|e| e.to_string())? {
                store
                    .init_counters(&meta.session_id)
                    .map_err(|e| e.to_string())?;
                0
            } else {
                drop_held(store, &meta.session_id, &mut events)?
            } + drop_repeated(&mut events);
            store.append_all(&events).map_err(|e| e.to_string())?;
            let _ = store.refresh_meta(&meta.session_id, crate::store::HOOK_LOCK_WAIT);
            Ok((events.len(), held))
        });
        match &recorded {
            Ok((count, 0)) => (self.note)(&format!(
                "a proxy's batch of {} kept for the collector, not taken by it, is recorded here (the collector may hold it too)",
                crate::model::text::count(*count as u64, "event")
            )),
            Ok((count, held)) => (self.note)(&format!(
                "a proxy's batch kept for the collector, not taken by it, is recorded here (the collector may hold it too): {}, and {} its session here held already (or the batch twice)",
                crate::model::text::count(*count as u64, "event"),
                crate::model::text::thousands(*held as u64)
            )),
            Err(e) => (self.note)(&format!(
                "a proxy's batch kept for the collector cannot be recorded here, and waits: {e}"
            )),
        }
        recorded.is_ok()
    }

    /// Records here a call kept for the collector, with the time it was made; `unseen`: the
    /// collector surely never saw it. A call recorded here before ([`recorded_before`]) is not
    /// written again, as the collector skips a call it recorded.
    fn record_call(&self, body: &[u8], unseen: bool) -> bool {
        let recorded = read_call(body, self.sink.privacy()).and_then(|(call, mut payload)| {
            if let Some(id) = call.call_id()
                && recorded_before(self.store, &payload, self.sink.privacy(), id)?
            {
                return Ok(false);
            }
            let sink = match call.call_id() {
                Some(id) => self.sink.clone().with_first_id(id.to_owned()),
                None => self.sink.clone(),
            };
            hooks::record_attributed(
                self.store,
                &mut payload,
                &sink,
                call.denial().as_ref(),
                call.attribution().as_ref(),
                hooks::Ran::Elsewhere,
            )
            .map(|_| true)
            .map_err(|e| e.to_string())
        });
        match &recorded {
            Ok(false) => (self.note)(
                "a call kept for the collector is recorded here already (its session holds its id), and is not written again",
            ),
            Ok(true) if unseen => {
                (self.note)("a call kept for the collector, which never got it, is recorded here");
            }
            Ok(_) => (self.note)(
                "a call kept for the collector, not taken by it, is recorded here (the collector may hold it too)",
            ),
            Err(e) => (self.note)(&format!(
                "a call kept for the collector cannot be recorded here, and waits: {e}"
            )),
        }
        recorded.is_ok()
    }
}

/// `1 kept call`, `2 kept calls`.
fn kept_calls(n: usize) -> String {
    if n == 1 {
        "1 kept call".to_owned()
    } else {
        format!("{n} kept calls")
    }
}

/// What a kept batch sends (`POST /events`): its body after the meta on its first line.
fn batch_events(body: &Bytes) -> Bytes {
    let start = body
        .iter()
        .position(|&b| b == b'\n')
        .map_or(body.len(), |at| at + 1);
    body.slice(start..)
}

/// Takes out of `events` those session `session` holds here already (by id), as a batch
/// recorded in part before is recorded again; how many. Reads the whole session: only a
/// session that was here before the batch is read, and a batch is recorded here rarely.
fn drop_held(store: &Store, session: &str, events: &mut Vec<Event>) -> Result<usize, String> {
    // No id is no event's id: events without one are each their own.
    let mut wanted: HashSet<&str> = events
        .iter()
        .map(|e| e.event_id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    let mut held = HashSet::new();
    store
        .scan(session, |head| {
            if let Some(id) = head.event_id.as_deref()
                && let Some(id) = wanted.take(id)
            {
                held.insert(id.to_owned());
            }
        })
        .map_err(|e| e.to_string())?;
    let before = events.len();
    events.retain(|e| !held.contains(&e.event_id));
    Ok(before - events.len())
}

/// Whether the kept hook call `id` of `payload` is recorded here already: its recorder was
/// killed before it took the call out of the spool, and the call was put back. A session its
/// first event can be in holds the id, and no part of the call is owed there
/// ([`hooks::owes_part`]), as the collector judges a call sent again. Reads those sessions
/// whole, as [`drop_held`] does: a call is recorded here rarely, and a session that is not here
/// is not read.
fn recorded_before(
    store: &Store,
    payload: &hooks::HookPayload,
    privacy: &Privacy,
    id: &str,
) -> Result<bool, String> {
    for session in crate::capture::collector::ingest::call_sessions(payload, privacy) {
        let mut held = false;
        match store.scan(&session, |head| {
            held |= head.event_id.as_deref() == Some(id);
        }) {
            Ok(_) => {}
            // No session of this store can have such a name: none holds the call.
            Err(StoreError::InvalidSessionId(_)) => continue,
            Err(e) => return Err(e.to_string()),
        }
        if held {
            return Ok(!hooks::owes_part(store, payload, privacy));
        }
    }
    Ok(false)
}

/// Takes out of `events` each event whose id an event before it has; how many. The collector
/// writes such an event once, and a batch recorded here wrote it twice.
fn drop_repeated(events: &mut Vec<Event>) -> usize {
    let before = events.len();
    let mut seen = HashSet::new();
    events.retain(|e| e.event_id.is_empty() || seen.insert(e.event_id.clone()));
    before - events.len()
}

/// A kept hook call and the payload it records, read as the collector's `/hooks` reads
/// them: a call that does not read is refused there for good (400), and recorded nowhere.
fn read_call(body: &[u8], privacy: &Privacy) -> Result<(HookCall, hooks::HookPayload), String> {
    let call = crate::model::deep_json::from_slice::<HookCall>(body)
        .map_err(|e| format!("not a hook call: {e}"))?;
    let payload = call.payload(privacy).map_err(|e| e.to_string())?;
    Ok((call, payload))
}

/// A kept batch's session meta and events ([`crate::store::Store::spool_batch`]).
fn read_batch(body: &[u8]) -> Result<(SessionMeta, Vec<Event>), String> {
    let mut lines = body.split(|&b| b == b'\n');
    let meta = std::str::from_utf8(lines.next().unwrap_or_default())
        .map_err(|e| e.to_string())
        .and_then(|text| SessionMeta::from_json(text).map_err(|e| e.to_string()))?;
    if !crate::store::is_valid_session_id(&meta.session_id) {
        return Err(format!("{:?} is not a usable session id", meta.session_id));
    }
    let events = lines
        .filter(|line| !line.trim_ascii().is_empty())
        .map(|line| serde_json::from_slice::<Event>(line).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(other) = events.iter().find(|e| e.session_id != meta.session_id) {
        return Err(format!(
            "an event of session {:?} in a batch of session {:?}",
            other.session_id, meta.session_id
        ));
    }
    Ok((meta, events))
}

/// Whether a collector's answer `status` (not 2xx) says it refused the call for good, having
/// written none of it: a request it does not read (4xx, or a redirect it is not sent to). A
/// 5xx (its store failed, perhaps after part of the call was written; a proxy before it
/// failed) and 408 or 429 ("later") say the call is to be sent again.
pub fn refused_for_good(status: u16) -> bool {
    status < 500 && !matches!(status, 408 | 429)
}

/// Whether a collector's answer `status` says no route of a collector's is at the URL (404,
/// 405): the endpoint is wrong, not the call, which a kept call's earlier sending may have
/// given the collector in part; kept, never recorded here for it.
pub fn no_route(status: u16) -> bool {
    matches!(status, 404 | 405)
}

/// Why sending stopped at a URL where no collector answers.
fn no_collector_there(why: &str) -> String {
    format!(
        "{why} (no collector answers there: AGENT_STRACE_ENDPOINT is to be the collector's base \
         URL, as the hooks had it)"
    )
}

/// Now by the sink's clock, the one the events are stamped with, in microseconds since the
/// epoch: a kept call's name and age.
pub fn micros_now(sink: &Sink) -> u64 {
    (sink.now() * 1e6).max(0.0).round() as u64
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::capture::sink::Privacy;
    use crate::store::SpoolBound;

    /// How a [`Watching`] collector answers.
    type Answer = fn() -> Result<(), Unsent>;

    /// A collector that notes, as each call reaches it, which calls the spool holds marked
    /// unseen, and answers `answer`.
    struct Watching<'a> {
        store: &'a Store,
        marks: RefCell<Vec<Vec<bool>>>,
        answer: Answer,
    }

    impl Collector for Watching<'_> {
        fn send_call(&self, _: Bytes, _: Duration) -> Result<(), Unsent> {
            let marks = self.store.spooled(16, None).unwrap();
            let marks = marks.iter().map(|call| call.unseen).collect();
            self.marks.borrow_mut().push(marks);
            (self.answer)()
        }
        fn send_batch(&self, body: Bytes, budget: Duration) -> Result<(), Unsent> {
            self.send_call(body, budget)
        }
    }

    fn marks(store: &Store) -> Vec<bool> {
        let kept = store.spooled(16, None).unwrap();
        kept.iter().map(|call| call.unseen).collect()
    }

    #[test]
    fn an_unseen_call_is_sent_without_its_mark_which_comes_back_only_when_not_reached() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        let bound = SpoolBound {
            calls: 16,
            bytes: 1 << 20,
            leftovers: Duration::from_secs(600),
        };
        store.spool(1, "abc", b"{}", true, bound).kept.unwrap();
        let sink = Sink::new(Privacy::default());
        let note = |_: &str| {};
        let answers: [(Answer, Vec<bool>); 3] = [
            (|| Err(Unsent::NotReached("refused".into())), vec![true]),
            (|| Err(Unsent::NoAnswer("too late".into())), vec![false]),
            (|| Ok(()), vec![]),
        ];
        for (answer, after) in answers {
            let collector = Watching {
                store: &store,
                marks: RefCell::new(Vec::new()),
                answer,
            };
            let done = Resend {
                store: &store,
                sink: &sink,
                endpoint: Some(&collector),
                deadline: None,
                per_call: Duration::from_secs(1),
                keep: None,
                note: &note,
            }
            .batch(16);
            // While it is sent, no other process may take it for one the collector never saw.
            assert_eq!(*collector.marks.borrow(), [vec![false]]);
            assert_eq!(marks(&store), after);
            assert_eq!(
                (done.sent, done.waiting),
                (usize::from(after.is_empty()), after.len())
            );
        }
    }
}
