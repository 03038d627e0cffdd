//! What each Claude Code hook event becomes in the store.
//!
//! Every hook is its own process, often many at once (parallel tool calls), so nothing here
//! keeps state in memory between events: a result finds its call through the store's pending
//! calls, a subagent finds its spawning call the same way, and counters are caught up from the
//! events themselves.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};

use super::outcome::Outcome;
use super::payload::{Answer, HookEvent, HookPayload};
use super::spawn;
use crate::capture::attribution::{Attribution, keys};
use crate::capture::guard::{Denial, Guard};
use crate::capture::sink::{Privacy, Sink};
use crate::capture::transcript::TurnEnd;
use crate::model::event::stored_arguments;
use crate::model::policy::DENIED_KEY;
use crate::model::prompt;
use crate::model::shell_files::{self, Folder};
use crate::model::tools;
use crate::model::view::{self, ToolCall};
use crate::model::{Agent, Event, EventType, SessionMeta};
use crate::store::{CallKey, ClaimedCall, HOOK_LOCK_WAIT, Owed, Step, StepLock, Store, StoreError};

/// Payload fields that say where a session lives, not what happened in it.
const PLUMBING: [&str; 1] = ["transcript_path"];

/// Fields only the recorder writes, from what it found itself: the agent's process, which
/// `watch` may pause or kill. A payload that names them (a hook call sent to a collector by
/// whoever can reach it, a notification carrying them) never has them kept.
const RECORDERS_OWN: [&str; 2] = [view::AGENT_PID, view::AGENT_STARTED];

/// The turn a prompt, call, result or answer belongs to (Codex names each turn), kept so that a
/// turn's events can be told apart and matched with the agent's own log.
const TURN_ID: &str = "turn_id";

/// How far back from the end of a session's events a turn an API error ended looks for the
/// turn's prompt; a turn that recorded more since is read as having none.
const PROMPT_LOOK_BACK: u64 = 1024 * 1024;

/// In an `assistant_response` whose answer the stop hook could not read yet: the file to read
/// it from when the session ends.
const ANSWER_PENDING: &str = "answer_pending_from";

/// Whether the policy in force denies the call a pre-tool or permission-request payload is
/// about; `None` for any other event, or a call the policy allows. Judged before anything is
/// recorded, so that a store that fails cannot let a violating call through.
pub fn judge(payload: &HookPayload, guard: &Guard) -> Option<Denial> {
    match &payload.tool {
        Some(tool) if payload.event.asks_before_a_call() => guard.judge(
            payload.agent,
            &tool.name,
            &tool.input,
            payload.cwd.as_deref(),
        ),
        _ => None,
    }
}

/// The answer to a payload the policy denied (see [`judge`]), else to let it go on.
pub fn outcome(payload: &HookPayload, denial: Option<&Denial>) -> Outcome {
    match denial {
        Some(denial) => Outcome::Deny {
            reason: denial.reason.clone(),
            event: payload.event.clone(),
        },
        None => Outcome::Allow,
    }
}

/// Records one hook payload and returns the hook's answer to the agent. Every event is stamped
/// with the time the agent gives, else the sink's clock read once. A call the policy denied
/// (`denial`, from [`judge`]) is recorded as denied and answered with the denial. The tool's
/// response is moved out of `payload` into the event that records it (see
/// [`record_attributed`]).
pub fn record(
    store: &Store,
    payload: &mut HookPayload,
    sink: &Sink,
    denial: Option<&Denial>,
) -> Result<Outcome, StoreError> {
    record_attributed(store, payload, sink, denial, None, Ran::Here)
        .map(|recorded| recorded.outcome)
}

/// Where the hook that sent a payload ran. Only a hook run on this machine has its agent's
/// process here: a session start records that process (for `watch` to pause or stop) only
/// then. The collector's own parent is no agent of a hook sent from another machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// The agent ran this hook on this machine.
    Here,
    /// A hook on another machine sent the payload (the collector's `POST /hooks`).
    Elsewhere,
}

/// An API error that ended a turn, as the recorder writes it: the error's kind (`rate_limit`,
/// `overloaded` …), the API's words, and the text the user was shown when the payload does not
/// carry it.
struct FailedTurn {
    kind: Option<String>,
    details: Option<String>,
    shown: Option<String>,
}

/// What recording a hook payload came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The hook's answer to the agent.
    pub outcome: Outcome,
    /// The session this payload ended still waits for its last answer: the agent writes it
    /// behind its hooks (Copilot), and it was not there yet. [`record_late_answer`] can look for
    /// it longer, away from the agent's path.
    pub answer_pending: bool,
    /// What went wrong beside the event, which was recorded all the same (a streamed response
    /// that could not be folded): for the log, never a reason to record the event again.
    pub trouble: Option<String>,
}

/// [`record`], with who and where (`attribution`) written into the meta of a session this
/// event starts, and where the hook ran (`ran`).
///
/// A tool's response can be a whole command's output, tens of megabytes: it is moved out of
/// `payload` into the result that records it, where a copy held it twice. A spawning tool's
/// response stays: the subagent it names is read from it after the result is made.
pub fn record_attributed(
    store: &Store,
    payload: &mut HookPayload,
    sink: &Sink,
    denial: Option<&Denial>,
    attribution: Option<&Attribution>,
    ran: Ran,
) -> Result<Recorded, StoreError> {
    let agent = payload.agent;
    let response = payload
        .tool
        .as_mut()
        .filter(|tool| !tools::is_spawn(agent, &tool.name))
        .and_then(|tool| tool.response.take());
    let payload = &*payload;
    let recorder = Recorder {
        store,
        payload,
        sink,
        now: payload.stamp(sink.now()),
        denial,
        attribution,
        ran,
        response: Cell::new(response),
        answer_pending: Cell::new(false),
        trouble: RefCell::new(None),
    };
    match &payload.event {
        HookEvent::SubagentStart => recorder.subagent_start()?,
        HookEvent::SubagentStop => recorder.subagent_stop()?,
        _ => {
            let session = recorder.target_session()?;
            recorder.in_session(&session)?;
        }
    }
    Ok(Recorded {
        outcome: outcome(payload, denial),
        answer_pending: recorder.answer_pending.get(),
        trouble: recorder.trouble.take(),
    })
}

/// Whether a hook call recorded before still owes the store a part: a subagent stop whose
/// end was written in the subagent's session and whose marker in the parent's could not be.
/// A collector that knows the call (its id is in the store) records it all the same, and the
/// recorder writes only that part.
pub fn owes_part(store: &Store, payload: &HookPayload, privacy: &Privacy) -> bool {
    payload.event == HookEvent::SubagentStop
        && payload
            .agent_id
            .as_deref()
            .and_then(|agent| privacy.subagent_session_id(agent, &payload.session_id))
            .is_some_and(|child| store.owes(&child, &Owed::stop_marker(&payload.fields)))
}

/// What became of an answer [`Recorded::answer_pending`] said missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateAnswer {
    /// Found and recorded.
    Recorded,
    /// Nothing was pending (any more): another follower or an import recorded it, or the
    /// payload's session never waited for one.
    NotPending,
    /// The session went on (resumed) before the answer was found: what the file holds now may
    /// be a later turn's, and that turn's own hooks record it.
    SessionWentOn,
    /// Not written within the wait.
    NotWritten,
}

/// How often a follower looks for the answer: it runs apart from the agent, for long.
const FOLLOWER_POLL: Duration = Duration::from_millis(200);

/// The answer of a Copilot session in its `events.jsonl` at `path`, as soon as it is written,
/// looked for at most `wait`: what a follower on the hook's machine sends to a collector.
/// A path to something that is not a regular file is given up at once, as never written.
pub fn copilot_answer_when_written(path: &Path, wait: Duration) -> Option<String> {
    let how = super::copilot::AnswerWait {
        wait,
        every: FOLLOWER_POLL,
        for_the_file: true,
    };
    super::copilot::answer_when_written(path, how)
        .ok()
        .flatten()
}

/// How long a follower waits for another of the same session to record the answer. It runs
/// apart from the agent and holds nothing up, and the dozen followers and session ends of one
/// session that find the answer at once take their turns one by one: on a loaded machine
/// that can take longer than the 2 s this was, and a follower then logged a lock timeout
/// though the answer was being recorded.
const FOLLOWER_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Records the answer [`Recorded::answer_pending`] said missing, as soon as it is written, looking for
/// it at most `wait`. Started after the agent's session has ended, so the wait holds nothing
/// up; an answer is recorded only while the session has not gone on since.
pub fn record_late_answer(
    store: &Store,
    payload: &HookPayload,
    sink: &Sink,
    wait: Duration,
) -> Result<LateAnswer, StoreError> {
    let session = payload.session_id.as_str();
    let Some((stop, path)) = pending_answer(store, payload, session) else {
        return Ok(LateAnswer::NotPending);
    };
    let text = copilot_answer_when_written(Path::new(&path), wait);
    record_found_answer(store, payload, sink, &stop, text)
}

/// Records `text`, the answer [`Recorded::answer_pending`] said missing, found since by a
/// follower on the hook's machine and sent to this collector (which reads no file a client
/// names), as [`record_late_answer`] records what it finds.
pub fn record_sent_late_answer(
    store: &Store,
    payload: &HookPayload,
    sink: &Sink,
    text: String,
) -> Result<LateAnswer, StoreError> {
    let session = payload.session_id.as_str();
    let Some((stop, _)) = pending_answer(store, payload, session) else {
        return Ok(LateAnswer::NotPending);
    };
    record_found_answer(store, payload, sink, &stop, Some(text))
}

/// Records `text` (`None`: not found) as the answer of the turn `stop` ended, while it is
/// still due.
fn record_found_answer(
    store: &Store,
    payload: &HookPayload,
    sink: &Sink,
    stop: &str,
    text: Option<String>,
) -> Result<LateAnswer, StoreError> {
    let session = payload.session_id.as_str();
    // Followers of one session (one per session end) and the session ends themselves may find
    // the answer at the same moment: one at a time checks that it is still due, and records it.
    let _one_at_a_time = lock_or_go_on(store, session, Step::LateAnswer, FOLLOWER_LOCK_WAIT)?;
    if let Some(not_due) = not_due(store, payload, session, stop) {
        return Ok(not_due);
    }
    let Some(text) = text else {
        return Ok(LateAnswer::NotWritten);
    };
    let recorder = Recorder {
        store,
        payload,
        sink,
        now: sink.now(),
        denial: None,
        attribution: None,
        // A late answer is no session start: no process is recorded either way.
        ran: Ran::Elsewhere,
        response: Cell::new(None),
        answer_pending: Cell::new(false),
        trouble: RefCell::new(None),
    };
    let late = recorder.late(session, stop.to_owned(), text);
    recorder.write(session, late)?;
    Ok(LateAnswer::Recorded)
}

/// Why the answer of the turn `stop` ended is no longer to be recorded late, if it is not:
/// it was recorded since, or the session went on.
fn not_due(store: &Store, payload: &HookPayload, session: &str, stop: &str) -> Option<LateAnswer> {
    if pending_answer(store, payload, session).is_none_or(|(pending, _)| pending != stop) {
        return Some(LateAnswer::NotPending);
    }
    (!only_ends_after(store, session, stop)).then_some(LateAnswer::SessionWentOn)
}

/// Takes `step`'s lock on `session`. A lock that stays busy for `wait` is an error; a lock
/// that cannot be had at all (its file is a link or a folder someone put there) is gone
/// without: the lock only orders the step's takers, and the step must still be taken.
pub(super) fn lock_or_go_on(
    store: &Store,
    session: &str,
    step: Step,
    wait: Duration,
) -> Result<Option<StepLock>, StoreError> {
    match store.lock_step(session, step, wait) {
        Ok(lock) => Ok(Some(lock)),
        Err(busy @ StoreError::LockTimeout(_)) => Err(busy),
        Err(_) => Ok(None),
    }
}

/// Whether nothing but the session's end came after the event `stop`: else the session went
/// on (resumed), or the answer was recorded since, by another follower or an import.
fn only_ends_after(store: &Store, session: &str, stop: &str) -> bool {
    let Ok(events) = store.events(session) else {
        return false;
    };
    let mut after = events.skip_while(|e| e.event_id != stop).skip(1);
    after.all(|e| e.event_type == EventType::SessionEnd)
}

/// Whether recording `payload` can leave its session's last answer due
/// ([`Recorded::answer_pending`]): a Copilot session's end, and nothing else. A collector's
/// answer saying so about any other call is not believed (each would start a follower).
pub fn may_leave_answer_pending(payload: &HookPayload) -> bool {
    payload.agent == Agent::Copilot && payload.event == HookEvent::SessionEnd
}

/// The last answer of `session` that a stop hook recorded as still to be written, with the
/// file to read it from: its event's id and that path. `None` for agents that hand over
/// their answer, and once the answer has been recorded late.
fn pending_answer(store: &Store, payload: &HookPayload, session: &str) -> Option<(String, String)> {
    if payload.agent != Agent::Copilot {
        return None;
    }
    let mut stop: Option<(String, String)> = None;
    for event in store.events(session).ok()? {
        if event.event_type != EventType::AssistantResponse {
            continue;
        }
        let answers_stop = stop
            .as_ref()
            .is_some_and(|(id, _)| event.parent_id.as_deref() == Some(id.as_str()));
        if answers_stop {
            stop = None;
            continue;
        }
        stop = event
            .data
            .get(ANSWER_PENDING)
            .and_then(Value::as_str)
            .map(|path| (event.event_id.clone(), path.to_owned()));
    }
    stop
}

pub(super) struct Recorder<'a> {
    pub(super) store: &'a Store,
    pub(super) payload: &'a HookPayload,
    pub(super) sink: &'a Sink,
    /// The time of the hook, in seconds since the epoch.
    pub(super) now: f64,
    /// The policy denies this call: it is recorded as denied and never runs.
    pub(super) denial: Option<&'a Denial>,
    /// Who and where, for the meta of the session a session start makes.
    attribution: Option<&'a Attribution>,
    /// Where the hook ran: a session start records the agent's process only when here.
    ran: Ran,
    /// The tool's response, moved out of the payload for its result to take
    /// ([`record_attributed`]); `None` when it is still in the payload, or none was sent.
    response: Cell<Option<Value>>,
    /// Set when the session's last answer was looked for at its end and not found yet.
    answer_pending: Cell<bool>,
    /// What went wrong beside the event (see [`Recorded::trouble`]).
    trouble: RefCell<Option<String>>,
}

impl Recorder<'_> {
    pub(super) fn event(&self, kind: EventType, session: &str, data: Map<String, Value>) -> Event {
        self.sink.event(kind, self.now, session, data)
    }

    /// Scrubs and appends events, all in one write (all of them land, or none), then catches
    /// the session's meta up.
    ///
    /// Once the events are written they are recorded, whatever befalls meta (a cache of their
    /// figures, caught up by the next writer or reader): a meta that cannot be caught up is
    /// [`Recorded::trouble`], never an error, which made a hook sending to a collector record
    /// the events a second time in its own store.
    pub(super) fn write(&self, session: &str, events: Vec<Event>) -> Result<(), StoreError> {
        self.write_derived(session, events, |_| {})
    }

    /// [`Recorder::write`], with `derive` adding to each event's data what is made from it
    /// once scrubbed (see [`Sink::emit_derived`]).
    pub(super) fn write_derived(
        &self,
        session: &str,
        events: Vec<Event>,
        derive: impl Fn(&mut Map<String, Value>),
    ) -> Result<(), StoreError> {
        self.sink.emit_all(&mut { self.store }, events, derive)?;
        if let Err(e) = self.refresh(session) {
            self.add_trouble(format!(
                "recorded, but the meta of session {session} cannot be updated: {e}"
            ));
        }
        Ok(())
    }

    /// Adds `said` to what went wrong beside the event ([`Recorded::trouble`]).
    fn add_trouble(&self, said: String) {
        let mut trouble = self.trouble.borrow_mut();
        *trouble = Some(match trouble.take() {
            Some(before) => format!("{before}; {said}"),
            None => said,
        });
    }

    fn refresh(&self, session: &str) -> Result<(), StoreError> {
        let fill = |meta: &mut SessionMeta| {
            if session == self.payload.session_id {
                self.fill_working_dir(meta);
            }
        };
        match self
            .store
            .refresh_meta_with(session, crate::store::HOOK_LOCK_WAIT, fill)
        {
            // Busy: whoever holds the lock, or the next writer or reader, catches up.
            Err(StoreError::LockTimeout(_)) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Where the session works, for a session whose meta names no folder: hooks installed
    /// mid-session see no start, whose attribution names it, and `audit` judges a call that
    /// records no folder of its own from this one ([`keys::WORKING_DIR`]). The folder the agent
    /// was started in ([`HookPayload::launch`]), which a call's own `cwd` is compared with,
    /// else the payload's `cwd`; the first payload that names one sets it, scrubbed as the
    /// meta is. Two strings the hook has; the meta is read by the refresh anyway.
    fn fill_working_dir(&self, meta: &mut SessionMeta) {
        if meta.attribution(keys::WORKING_DIR).is_some() {
            return;
        }
        if let Some(folder) = (self.payload.launch.as_deref())
            .or(self.payload.cwd.as_deref())
            .filter(|f| f.starts_with('/'))
        {
            meta.set_attribution(keys::WORKING_DIR, &self.sink.privacy().apply_str(folder));
        }
    }

    /// The session a payload belongs to, created if this is the first we hear of it.
    fn target_session(&self) -> Result<String, StoreError> {
        if let Some(agent_id) = &self.payload.agent_id
            && let Some(child) = self.child_session(agent_id)?
        {
            return Ok(child);
        }
        self.ensure_session(&self.payload.session_id, |meta| {
            if let Some(attribution) = self.attribution
                && self.payload.event == HookEvent::SessionStart
            {
                attribution.apply(meta);
            }
        })?;
        Ok(self.payload.session_id.clone())
    }

    fn ensure_session(
        &self,
        id: &str,
        edit: impl FnOnce(&mut SessionMeta),
    ) -> Result<bool, StoreError> {
        if self.store.has_session(id) {
            return Ok(false);
        }
        let agent = self.payload.agent.name();
        let mut meta = SessionMeta::new(id, self.now);
        agent.clone_into(&mut meta.agent_name);
        meta.command = match &self.payload.source {
            Some(source) if self.payload.event == HookEvent::SessionStart => {
                format!("{agent} ({source})")
            }
            _ => agent.to_owned(),
        };
        edit(&mut meta);
        self.sink.privacy().apply_meta(&mut meta);
        let created = self.store.create_session(&meta)?;
        self.store.init_counters(id)?;
        Ok(created)
    }

    /// The child session of a subagent, created and linked to the call that spawned it;
    /// `None` when the subagent's id cannot name a session (its events go to the parent).
    fn child_session(&self, agent_id: &str) -> Result<Option<String>, StoreError> {
        let parent = &self.payload.session_id;
        let Some(child) = self.sink.privacy().subagent_session_id(agent_id, parent) else {
            return Ok(None);
        };
        if self.store.has_session(&child) {
            // A start its maker could not write is written by the next hook, once.
            if self.store.settle(&child, &Owed::start()).unwrap_or(false) {
                self.owed_start(&child, agent_id)?;
            }
            return Ok(Some(child));
        }
        self.ensure_session(parent, |_| {})?;
        // Hooks of one subagent can arrive together. Whoever makes the child's folder first
        // links it to a spawning call; the others go on without claiming one, so no call is
        // ever taken from another subagent.
        if !self.store.claim_session_dir(&child)? {
            return Ok(Some(child));
        }
        let spawn = match self
            .store
            .claim_spawn(parent, &spawn::subagent_hints(self.payload, agent_id))
        {
            Ok(spawn) => spawn,
            Err(e) => {
                self.store.release_session_dir(&child);
                return Err(e);
            }
        };
        let agent_type = self.payload.agent_type.as_deref();
        self.start_child(&child, agent_id, agent_type, spawn.as_ref(), true)?;
        Ok(Some(child))
    }

    /// Writes the meta and first event of a child session whose folder this hook made, linked
    /// to `call`, the spawning call (claimed by this hook when `claimed`).
    ///
    /// The folder and the call are claimed before the meta is written, so that no other hook
    /// makes this subagent or takes its call; when the meta cannot be written (a full disk)
    /// both are given back, and the subagent's next hook (or this one tried again) makes it
    /// and links it. Once the meta is written the link stands, whatever befalls the event.
    fn start_child(
        &self,
        child: &str,
        agent_id: &str,
        agent_type: Option<&str>,
        call: Option<&ClaimedCall>,
        claimed: bool,
    ) -> Result<(), StoreError> {
        let parent = &self.payload.session_id;
        let mut meta = SessionMeta::new(child, self.now);
        self.payload.agent.name().clone_into(&mut meta.agent_name);
        meta.command = format!("subagent ({})", agent_type.unwrap_or("general"));
        meta.parent_session_id = Some(parent.clone());
        meta.parent_event_id = call.map(|c| c.event_id.clone());
        meta.depth = self.store.read_meta_to_read(parent).map_or(0, |m| m.depth) + 1;
        self.sink.privacy().apply_meta(&mut meta);
        let claimed = call.filter(|_| claimed);
        if let Err(e) = self.store.create_session(&meta) {
            // What is reported is the meta's error, whether or not all could be given back.
            self.store.release_session_dir(child);
            if let Some(call) = claimed {
                let _ = self.store.reopen_call(parent, &CallKey::spawn(), call);
            }
            return Err(e);
        }
        if let Some(call) = claimed {
            self.store.forget_spawn_hints(parent, call);
        }
        let start = self.child_start(child, agent_id, agent_type);
        let written = self
            .store
            .init_counters(child)
            .and_then(|()| self.write(child, vec![start]));
        if written.is_err() {
            // The meta stands, so the subagent's next hook goes on in this session: it writes
            // the start. What is reported is the start's error, whether or not the note could
            // be left.
            let _ = self.store.owe(child, &Owed::start());
        }
        written
    }

    /// The `session_start` of a subagent's session.
    fn child_start(&self, child: &str, agent_id: &str, agent_type: Option<&str>) -> Event {
        let mut data = Map::new();
        data.insert("agent_id".into(), agent_id.into());
        if let Some(kind) = agent_type {
            data.insert("agent_type".into(), kind.into());
        }
        data.insert(
            "parent_session_id".into(),
            self.payload.session_id.clone().into(),
        );
        self.event(EventType::SessionStart, child, data)
    }

    /// Writes the start [`Recorder::start_child`] could not, taken as owed by this hook: at
    /// the time the session was made, with the subagent's type as this payload or the meta
    /// gives it. Owed again when it cannot be written.
    fn owed_start(&self, child: &str, agent_id: &str) -> Result<(), StoreError> {
        let meta = self.store.read_meta_to_read(child).ok();
        let agent_type = self.payload.agent_type.clone().or_else(|| {
            let command = &meta.as_ref()?.command;
            let kind = command.strip_prefix("subagent (")?.strip_suffix(')')?;
            Some(kind.to_owned())
        });
        let mut start = self.child_start(child, agent_id, agent_type.as_deref());
        if let Some(meta) = &meta {
            start.timestamp = meta.started_at;
        }
        let written = self.write(child, vec![start]);
        if written.is_err() {
            let _ = self.store.owe(child, &Owed::start());
        }
        written
    }

    /// A spawning call's result names the subagent it ran (`agentId`): that subagent's
    /// session is linked to this call (again, when a hook under load paired it with another),
    /// or made now for one that runs on in the background. False when the result names no
    /// subagent, or one no hook has started.
    fn subagent_of_result(
        &self,
        session: &str,
        call: &ClaimedCall,
        input: &Value,
    ) -> Result<bool, StoreError> {
        let response = self.payload.tool.as_ref().and_then(|t| t.response.as_ref());
        let Some(child) = spawn::agent_of_result(response).and_then(|agent| {
            let child = self.sink.privacy().subagent_session_id(agent, session)?;
            Some((agent, child))
        }) else {
            return Ok(false);
        };
        let (agent, child) = child;
        let exists = self.store.has_session(&child);
        if !exists && !spawn::launched_in_background(response) {
            return Ok(false);
        }
        let claimed = self.store.claim_exact(session, &CallKey::spawn(), call)?;
        if exists {
            if claimed {
                self.store.forget_spawn_hints(session, call);
            }
            return match self.store.relink_parent_event(&child, &call.event_id) {
                Ok(true) => {
                    let data = object([
                        ("choice", "linked to its spawning call".into()),
                        ("reason", "the call's result names this subagent".into()),
                        ("parent_event_id", call.event_id.clone().into()),
                    ]);
                    self.write(&child, vec![self.event(EventType::Decision, &child, data)])?;
                    Ok(true)
                }
                // Busy, or its creator has not written its meta yet: the link it makes stands.
                Ok(false) | Err(StoreError::LockTimeout(_)) => Ok(true),
                Err(StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Ok(true)
                }
                Err(e) => Err(e),
            };
        }
        match self.store.claim_session_dir(&child) {
            Ok(true) => {
                let kind = input.get("subagent_type").and_then(Value::as_str);
                self.start_child(&child, agent, kind, Some(call), claimed)?;
            }
            Ok(false) if claimed => self.store.forget_spawn_hints(session, call),
            Ok(false) => {}
            Err(e) => {
                if claimed {
                    let _ = self.store.reopen_call(session, &CallKey::spawn(), call);
                }
                return Err(e);
            }
        }
        Ok(true)
    }

    fn subagent_start(&self) -> Result<(), StoreError> {
        let child = match &self.payload.agent_id {
            Some(agent_id) => self.child_session(agent_id)?,
            None => None,
        };
        self.parent_marker(EventType::SubagentStart, child.as_deref())
    }

    fn subagent_stop(&self) -> Result<(), StoreError> {
        let child = match &self.payload.agent_id {
            Some(agent_id) => self.child_session(agent_id)?,
            None => None,
        };
        let Some(child) = child else {
            return self.parent_marker(EventType::SubagentStop, None);
        };
        // The child's end and the parent's marker are two writes. When the marker failed,
        // the end stands and a note says the marker is owed: this stop sent again (a hook
        // tried again, a call kept for a collector) writes the marker alone, once.
        let owed = Owed::stop_marker(&self.payload.fields);
        // A note that cannot be looked at is taken as none: the stop is written whole.
        if self.store.settle(&child, &owed).unwrap_or(false) {
            // A collector's call id names the first event of the stop's first try, written in
            // the child: the marker takes an id of its own.
            let _ = self.sink.new_id();
            return self.owed_stop_marker(&child, &owed);
        }
        let text = self.answer().ok().flatten();
        let mut events = Vec::new();
        if let Some(text) = text {
            events.push(self.event(
                EventType::AssistantResponse,
                &child,
                object([("text", text.into())]),
            ));
        }
        events.push(self.event(
            EventType::SessionEnd,
            &child,
            object([("reason", "subagent_stop".into())]),
        ));
        self.write(&child, events)?;
        self.owed_stop_marker(&child, &owed)
    }

    /// The parent's marker of a subagent stop whose end is written in `child`; when it cannot
    /// be written, `owed` is noted in the child for the stop's next try. What is reported is
    /// the marker's error, whether or not the note could be left.
    fn owed_stop_marker(&self, child: &str, owed: &Owed) -> Result<(), StoreError> {
        let written = self.parent_marker(EventType::SubagentStop, Some(child));
        if written.is_err() {
            let _ = self.store.owe(child, owed);
        }
        written
    }

    /// The `subagent_start` / `subagent_stop` event in the parent session.
    fn parent_marker(&self, kind: EventType, child: Option<&str>) -> Result<(), StoreError> {
        let parent = &self.payload.session_id;
        self.ensure_session(parent, |_| {})?;
        let mut data = self.payload_fields();
        if let Some(child) = child {
            data.insert("child_session_id".into(), child.into());
        }
        let mut event = self.event(kind, parent, data);
        if let Some(child) = child {
            event.parent_id = self
                .store
                .read_meta_to_read(child)
                .ok()
                .and_then(|m| m.parent_event_id);
        }
        self.write(parent, vec![event])
    }

    /// The answer of the session's last turn when its stop hook could not find it (Copilot
    /// writes it behind its hooks) and it can be read now: an `assistant_response`
    /// marked `late`, under the stop's event. None in every other case, and for every agent
    /// that hands over its answer in the payload.
    ///
    /// Followers of an earlier session end may be recording the same answer: the lock they
    /// take is held from the check until the caller has written (the lock is returned with the
    /// events); when it stays busy, the answer is left to them.
    fn late_answer(&self, session: &str) -> (Vec<Event>, Option<StepLock>) {
        let Some((stop, path)) = pending_answer(self.store, self.payload, session) else {
            return (Vec::new(), None);
        };
        let how = super::copilot::IN_A_HOOK;
        let text = match super::copilot::answer_when_written(Path::new(&path), how) {
            Ok(Some(text)) => text,
            Ok(None) => {
                self.answer_pending.set(true);
                return (Vec::new(), None);
            }
            // Never a file the answer can be written to: no follower waits for it either.
            Err(why) => {
                self.unread_answer(&why);
                return (Vec::new(), None);
            }
        };
        let Ok(lock) = lock_or_go_on(self.store, session, Step::LateAnswer, HOOK_LOCK_WAIT) else {
            self.answer_pending.set(true);
            return (Vec::new(), None);
        };
        if not_due(self.store, self.payload, session, &stop).is_some() {
            return (Vec::new(), lock);
        }
        (self.late(session, stop, text), lock)
    }

    /// `text`, the answer of the turn `stop` ended, recorded late under it.
    fn late(&self, session: &str, stop: String, text: String) -> Vec<Event> {
        let mut late = self.event(
            EventType::AssistantResponse,
            session,
            object([("text", text.into()), ("late", true.into())]),
        );
        late.parent_id = Some(stop);
        vec![late]
    }

    /// The agent's last answer, from the payload or the transcript it names; `Err` (said in
    /// the hook's log) when the file it names is not a regular file and can never hold it.
    fn answer(&self) -> Result<Option<String>, ()> {
        match self.payload.answer.as_ref().map(Answer::read_checked) {
            None => Ok(None),
            Some(Ok(text)) => Ok(text),
            Some(Err(why)) => {
                self.unread_answer(&why);
                Err(())
            }
        }
    }

    /// Says in the hook's log why the agent's answer was not read.
    fn unread_answer(&self, why: &std::io::Error) {
        *self.trouble.borrow_mut() = Some(format!("the agent's answer was not read: {why}"));
    }

    /// The fields the agent's wire module did not know, kept as sent beside what the event
    /// records, unless the event already has a field of that name.
    pub(super) fn keep_unknown(&self, data: &mut Map<String, Value>) {
        for key in &self.payload.unknown {
            if data.contains_key(key) || RECORDERS_OWN.contains(&key.as_str()) {
                continue;
            }
            if let Some(value) = self.payload.fields.get(key) {
                data.insert(key.clone(), value.clone());
            }
        }
    }

    /// Every payload field except the ones that only say where the session lives.
    fn payload_fields(&self) -> Map<String, Value> {
        let mut data = Map::new();
        for (key, value) in &self.payload.fields {
            if PLUMBING.contains(&key.as_str()) || RECORDERS_OWN.contains(&key.as_str()) {
                continue;
            }
            data.insert(key.clone(), value.clone());
        }
        data
    }

    /// The folder a call runs in, when it is not the one the agent was started in (a Bash
    /// `cd` moved it): `audit` judges the call's relative paths from there, as the policy was
    /// asked live. Two strings the hook already has are compared; nothing is read.
    fn ran_in(&self, data: &mut Map<String, Value>) {
        if let (Some(cwd), Some(launch)) = (&self.payload.cwd, &self.payload.launch)
            && cwd != launch
        {
            data.insert(view::CALL_FOLDER.into(), cwd.clone().into());
        }
    }

    pub(super) fn copy(&self, data: &mut Map<String, Value>, keys: &[&str]) {
        for key in keys {
            if let Some(value) = self.payload.fields.get(*key).filter(|v| !v.is_null()) {
                data.insert((*key).to_owned(), value.clone());
            }
        }
    }

    /// Records the payload's event in `session`, after the streamed response it follows. A
    /// response that cannot be folded (a file someone put in its place, a full disk) is
    /// [`Recorded::trouble`]: the event itself is recorded all the same.
    fn in_session(&self, session: &str) -> Result<(), StoreError> {
        if super::streamed::streams(self.payload.agent)
            && let Err(e) = self.fold_responses(session)
        {
            *self.trouble.borrow_mut() = Some(format!("a streamed response was not recorded: {e}"));
        }
        self.event_in_session(session)?;
        // The turn (or the session) is over: a call still open was interrupted, and a
        // spawning one will start no subagent; neither must be taken by a later call's result
        // or subagent. Closing them is beside the event, which is recorded. An interrupt ends
        // the turn in place of Stop (a call awaiting the user's answer gets no result).
        if matches!(
            self.payload.event,
            HookEvent::Stop | HookEvent::StopFailure | HookEvent::Interrupt | HookEvent::SessionEnd
        ) && let Err(e) = self
            .store
            .close_calls(session, self.payload.event == HookEvent::SessionEnd)
        {
            self.add_trouble(format!("the open calls were not closed: {e}"));
        }
        Ok(())
    }

    fn event_in_session(&self, session: &str) -> Result<(), StoreError> {
        let p = self.payload;
        let (kind, mut data) = match &p.event {
            HookEvent::SessionStart => {
                let mut data =
                    object([("source", p.source.as_deref().unwrap_or("startup").into())]);
                self.copy(
                    &mut data,
                    &[
                        "model",
                        "cwd",
                        "transcript_path",
                        "permission_mode",
                        "agent_type",
                    ],
                );
                // The agent's process, for `watch` to pause or stop: two small reads of /proc,
                // once a session start, and only when the hook's parent is the agent.
                if self.ran == Ran::Here
                    && let Some(agent) = crate::capture::process::AgentProcess::of_hook()
                {
                    data.insert(view::AGENT_PID.into(), agent.pid.into());
                    data.insert(view::AGENT_STARTED.into(), agent.started.into());
                }
                (EventType::SessionStart, data)
            }
            HookEvent::SessionEnd => {
                let mut data = Map::new();
                self.copy(&mut data, &["reason", "cwd"]);
                self.keep_unknown(&mut data);
                let (mut events, _one_at_a_time) = self.late_answer(session);
                events.push(self.event(EventType::SessionEnd, session, data));
                return self.write(session, events);
            }
            HookEvent::UserPromptSubmit => {
                let mut data = object([("prompt", p.prompt.clone().unwrap_or(Value::Null))]);
                self.copy(
                    &mut data,
                    &["permission_mode", TURN_ID, "model", prompt::SENT_PROMPT],
                );
                (EventType::UserPrompt, data)
            }
            HookEvent::PreToolUse => return self.tool_call(session),
            HookEvent::SkillShellCommand => return self.skill_command(session),
            HookEvent::PermissionDenied if p.tool.is_some() => return self.refused_call(session),
            HookEvent::StopFailure => return self.failed_turn(session),
            HookEvent::ModelRequest => return self.model_request(session),
            HookEvent::ModelResponse => return self.model_chunk(session),
            HookEvent::PostToolUse | HookEvent::PostToolUseFailure => {
                return self.tool_result(session);
            }
            HookEvent::Stop => {
                // The transcript's end, read once: an API error's line or the answer.
                let end = self.transcript_end();
                if let Some(error) = self.api_error_ending_turn(session, end.as_ref()) {
                    return self.failed_turn_with(session, error);
                }
                let answer = match (&p.answer, end) {
                    (Some(Answer::ClaudeTranscript(_)), Some(end)) => Ok(match end {
                        TurnEnd::Answer(text) => Some(text),
                        TurnEnd::ApiError { .. } | TurnEnd::Synthetic => None,
                    }),
                    _ => self.answer(),
                };
                let text = answer.clone().ok().flatten().unwrap_or_default();
                let mut data = object([("text", text.as_str().into())]);
                self.copy(&mut data, &["stop_hook_active", TURN_ID]);
                // An answer the agent had not written yet: where to look again at the end.
                // On a collector, the path is the hook machine's: none is kept, and the
                // follower there sends the answer. A path that is no regular file is never
                // looked at again.
                let pending_from = match (&p.answer, text.is_empty() && answer.is_ok()) {
                    (Some(Answer::CopilotEvents(path)), true) => Some(path.as_str()),
                    (Some(Answer::Elsewhere), true) => Some(""),
                    _ => None,
                };
                if let Some(path) = pending_from {
                    data.insert(ANSWER_PENDING.into(), path.into());
                }
                (EventType::AssistantResponse, data)
            }
            // Events with no kind of their own (notifications, compaction, permission requests
            // and any event an agent adds later) are kept whole as decision points, a kind
            // every reader of the store knows.
            _ => {
                let mut data = self.payload_fields();
                data.insert("hook_event_name".into(), p.event.wire_name().into());
                if let Some(denial) = self.denial {
                    data.insert(DENIED_KEY.into(), denial.record());
                }
                (EventType::Decision, data)
            }
        };
        self.keep_unknown(&mut data);
        self.write(session, vec![self.event(kind, session, data)])
    }

    /// The turn an API error ended (Claude Code's StopFailure, sent in place of Stop): an
    /// `error` of no call, which readers count as an error of the turn, not of a tool, after
    /// what the model wrote in the turn, when the transcript holds some. `last_assistant_message`
    /// is no answer: Claude Code fills it with the error message it showed (`API Error: Rate
    /// limit reached`, `Prompt is too long`), not with the model's words, so it is the error's
    /// text, kept beside it under its own name.
    fn failed_turn(&self, session: &str) -> Result<(), StoreError> {
        // `error` is the kind Claude Code gives (`rate_limit`, `overloaded`, `billing_error` …);
        // the recorded `error` is the text readers show, so the kind is kept beside it. The
        // details are the API's own words; without them, the words the user was shown.
        let shown = self.payload.str_field("last_assistant_message");
        self.failed_turn_with(
            session,
            FailedTurn {
                kind: self.payload.str_field("error").map(str::to_owned),
                details: self
                    .payload
                    .str_field("error_details")
                    .or(shown)
                    .map(str::to_owned),
                shown: None,
            },
        )
    }

    /// Records a turn an API error ended, after what the model wrote in it (see
    /// [`Self::failed_turn`]).
    fn failed_turn_with(&self, session: &str, turn: FailedTurn) -> Result<(), StoreError> {
        let said = crate::capture::transcript::turn_error_text(
            turn.kind.as_deref(),
            turn.details.as_deref(),
        );
        let mut data = object([
            ("error", said.into()),
            ("hook_event_name", self.payload.event.wire_name().into()),
        ]);
        if let Some(kind) = turn.kind {
            data.insert("error_type".into(), kind.into());
        }
        self.copy(
            &mut data,
            &[
                "error_details",
                "last_assistant_message",
                "stop_hook_active",
                TURN_ID,
            ],
        );
        if let Some(shown) = turn.shown {
            data.entry("last_assistant_message").or_insert(shown.into());
        }
        self.keep_unknown(&mut data);
        let mut events = Vec::new();
        if let Some(text) = self.text_before_error(session) {
            let mut answer = object([("text", text.into())]);
            self.copy(&mut answer, &[TURN_ID]);
            events.push(self.event(EventType::AssistantResponse, session, answer));
        }
        events.push(self.event(EventType::Error, session, data));
        self.write(session, events)
    }

    /// How the turn a Claude Code Stop closes ended, from the end of the transcript the payload
    /// names (a bounded read; `None` on a collector, where the path is the hook machine's, or
    /// when the file is no regular one or holds no assistant line).
    fn transcript_end(&self) -> Option<TurnEnd> {
        if self.ran != Ran::Here || !matches!(self.payload.agent, Agent::ClaudeCode) {
            return None;
        }
        let path = self.payload.str_field("transcript_path")?;
        crate::capture::transcript::turn_end(Path::new(path))
    }

    /// The API error that ended the turn a Stop closes, when Claude Code sent Stop for one (its
    /// versions before StopFailure, 2.1.78): the transcript's last assistant line with text is
    /// the line Claude Code wrote for the error (`isApiErrorMessage`), written in this turn and,
    /// when the payload carries `last_assistant_message`, holding that text. Such a Stop is no
    /// answer: the error's text was recorded as the model's, and the error counted nowhere.
    fn api_error_ending_turn(&self, session: &str, end: Option<&TurnEnd>) -> Option<FailedTurn> {
        let Some(TurnEnd::ApiError { text, kind, at }) = end else {
            return None;
        };
        let (text, kind, at) = (text.clone(), kind.clone(), *at);
        let shown = self.payload.str_field("last_assistant_message");
        if shown.is_some_and(|shown| text.as_deref() != Some(shown)) {
            return None;
        }
        // An error of an earlier turn, when this turn's lines are not written yet. Without the
        // text the payload shows, the line must be known to be this turn's: written after its
        // prompt was recorded, both times known.
        let since = self
            .store
            .last_time_of(session, &EventType::UserPrompt, PROMPT_LOOK_BACK)
            .ok()
            .flatten();
        match (at, since) {
            (Some(at), Some(since)) if at < since => return None,
            (Some(_), Some(_)) => {}
            _ if shown.is_none() => return None,
            _ => {}
        }
        Some(FailedTurn {
            kind,
            details: text.clone(),
            shown: text,
        })
    }

    /// What the model wrote in the turn an API error ended, before the request that failed:
    /// Stop, which records a turn's answer, never fires for it. Read from the end of the
    /// transcript the payload names, only from the lines stamped after the turn's prompt was
    /// recorded (both bounded reads); `None` on a collector, where the path is the hook
    /// machine's.
    fn text_before_error(&self, session: &str) -> Option<String> {
        if self.ran != Ran::Here {
            return None;
        }
        let path = self.payload.str_field("transcript_path")?;
        let since = self
            .store
            .last_time_of(session, &EventType::UserPrompt, PROMPT_LOOK_BACK)
            .ok()
            .flatten()?;
        crate::capture::transcript::turn_text_before_error(Path::new(path), since)
    }

    fn tool_call(&self, session: &str) -> Result<(), StoreError> {
        let Some(tool) = &self.payload.tool else {
            return Ok(());
        };
        let event_id = self.sink.new_id();
        if let Some(denial) = self.denial {
            return self.denied_call(session, tool, event_id, denial);
        }
        let mut keys = vec![match &tool.id {
            Some(id) => CallKey::by_tool_use_id(id),
            None => CallKey::by_content(&tool.name, &tool.input),
        }];
        if tools::is_spawn(self.payload.agent, &tool.name) {
            keys.push(CallKey::spawn());
            keys.extend(spawn::call_hints(tool));
        }
        let mut data = self.call_data(tool);
        self.keep_unknown(&mut data);
        let mut event = self.event(EventType::ToolCall, session, data);
        event.event_id.clone_from(&event_id);
        // Opened before the write, so that no result can miss a call that is written; closed
        // again when the call is not written, so that no result links to a call that is not
        // (the call tried again opens its own).
        let opened = keys
            .iter()
            .try_for_each(|key| self.store.open_call(session, key, &event_id, self.now));
        let written = opened.and_then(|()| self.write(session, vec![event]));
        if written.is_err() {
            let call = ClaimedCall {
                event_id,
                timestamp: self.now,
            };
            for key in &keys {
                let _ = self.store.claim_exact(session, key, &call);
            }
        }
        written
    }

    /// A call the policy denied: the attempt, marked denied, and its failure with the reason
    /// the agent was given. No call is left open: the tool never runs, so no result will come.
    pub(super) fn denied_call(
        &self,
        session: &str,
        tool: &super::payload::ToolUse,
        event_id: String,
        denial: &Denial,
    ) -> Result<(), StoreError> {
        let mut data = self.call_data(tool);
        data.insert(DENIED_KEY.into(), denial.record());
        self.keep_unknown(&mut data);
        let mut call = self.event(EventType::ToolCall, session, data);
        call.event_id = event_id;
        let mut error_data = object([
            ("tool_name", tool.name.clone().into()),
            ("error", denial.reason.clone().into()),
        ]);
        if let Some(id) = &tool.id {
            error_data.insert("tool_use_id".into(), id.clone().into());
        }
        let mut error = self.event(EventType::Error, session, error_data);
        error.parent_id = Some(call.event_id.clone());
        error.duration_ms = Some(0.0);
        self.write(session, vec![call, error])
    }

    /// What a `tool_call` records of `tool`: its name, arguments and id, the permission mode,
    /// the turn, the folder it runs in when the agent was started elsewhere, and the skill
    /// whose inline shell command it is, if it is one.
    pub(super) fn call_data(&self, tool: &super::payload::ToolUse) -> Map<String, Value> {
        let mut data = object([
            ("tool_name", tool.name.clone().into()),
            ("arguments", stored_arguments(Some(tool.input.clone()))),
        ]);
        if let Some(id) = &tool.id {
            data.insert("tool_use_id".into(), id.clone().into());
        }
        self.copy(&mut data, &["permission_mode", TURN_ID]);
        self.ran_in(&mut data);
        self.skill_of(&mut data);
        data
    }

    fn tool_result(&self, session: &str) -> Result<(), StoreError> {
        let Some(tool) = &self.payload.tool else {
            return Ok(());
        };
        let failed = self.payload.event == HookEvent::PostToolUseFailure;
        // Claimed now, so that no other result links to it; opened again below when the
        // result cannot be written.
        let claimed = self.claim_call(session, tool)?;
        let call = claimed.as_ref().map(|(_, call)| call);

        let mut data = object([("tool_name", tool.name.clone().into())]);
        if failed {
            // Readers expect the error as text; an error sent as a structure becomes its JSON
            // text once scrubbed (`texts_of_structures`).
            let error = tool
                .error
                .clone()
                .unwrap_or_else(|| "tool call failed".into());
            data.insert("error".into(), error);
            self.copy(&mut data, &["is_interrupt"]);
        } else {
            // The response is kept as JSON, as received, under `tool_response`; `result` holds
            // its text, a string as every reader of the store (the Python tool among them)
            // expects, made from the response once scrubbed (`texts_of_structures`).
            let response = self.response.take().or_else(|| tool.response.clone());
            match response.unwrap_or(Value::Null) {
                Value::String(text) => {
                    data.insert("result".into(), text.into());
                }
                Value::Null => {
                    data.insert("result".into(), "".into());
                }
                response => {
                    data.insert("result".into(), Value::Null);
                    data.insert("tool_response".into(), response);
                }
            }
        }
        if let Some(id) = &tool.id {
            data.insert("tool_use_id".into(), id.clone().into());
        }
        self.copy(&mut data, &[TURN_ID]);
        self.keep_unknown(&mut data);
        let kind = if failed {
            EventType::Error
        } else {
            EventType::ToolResult
        };
        let mut result = self.event(kind, session, data);
        if let Some(call) = call {
            result.parent_id = Some(call.event_id.clone());
            result.duration_ms = Some(((self.now - call.timestamp) * 1000.0).max(0.0));
        }
        // The result and the files it read or wrote, in one write: never the one without the
        // other. Deriving texts touches only a `result` or `error`, which file events lack.
        let mut events = vec![result];
        if !failed {
            events.extend(self.file_events(session, &tool.name, &tool.input, call));
        }
        // The subagent a spawning call ran is made before the result is written: a result
        // once written is never recorded again (a call sent to the collector again is known by
        // it), so a subagent that cannot be written must leave the call open as a result that
        // cannot be written does. Its events are made after the result's, whose id comes first.
        let subagent = match call {
            Some(call) if tools::is_spawn(self.payload.agent, &tool.name) => self
                .subagent_of_result(session, call, &tool.input)
                .and_then(|named| {
                    if named {
                        Ok(())
                    } else {
                        self.task_without_subagent_hooks(session, call, &tool.input, failed)
                    }
                }),
            _ => Ok(()),
        };
        let written =
            subagent.and_then(|()| self.write_derived(session, events, texts_of_structures));
        if let Err(e) = written {
            // The call stays open for the result's next try (a hook sent again, a kept call
            // sent to the collector again), which is then still linked and timed. What is
            // reported is the write's error, whether or not the call could be opened again.
            if let Some((key, call)) = &claimed {
                let _ = self.store.reopen_call(session, key, call);
            }
            return Err(e);
        }
        Ok(())
    }

    /// Claims the open call a result belongs to: the one with its tool-use id, else the oldest
    /// with its tool and input; with the key it was claimed under.
    pub(super) fn claim_call(
        &self,
        session: &str,
        tool: &super::payload::ToolUse,
    ) -> Result<Option<(CallKey, ClaimedCall)>, StoreError> {
        let keys = tool
            .id
            .as_deref()
            .map(CallKey::by_tool_use_id)
            .into_iter()
            .chain([CallKey::by_content(&tool.name, &tool.input)]);
        for key in keys {
            if let Some(call) = self.store.claim_call(session, &key)? {
                return Ok(Some((key, call)));
            }
        }
        Ok(None)
    }

    /// The files a file tool read or wrote: its subject argument, or for a patch (Codex's
    /// `apply_patch`, whose files are named inside it) each file the patch touches; and those
    /// a shell tool's line names for certain ([`shell_files`]: `cat a`, `rm b`, Codex's
    /// `applypatch <<'PATCH'`), its line read once.
    fn file_events(
        &self,
        session: &str,
        tool: &str,
        input: &Value,
        call: Option<&ClaimedCall>,
    ) -> Vec<Event> {
        // The payload's folder is the shell's once the call ran, unless the agent's shell starts
        // each line afresh from it.
        // Gemini CLI starts a line in the folder its call names, from the session's.
        let named = tools::shell_start_folder(self.payload.agent, input)
            .zip(self.payload.cwd.as_deref())
            .map(|(dir, cwd)| crate::model::policy::check::start_folder(dir, Some(cwd)));
        let folder = match (named.as_deref(), self.payload.cwd.as_deref()) {
            (Some(start), _) => Folder::Start(start),
            (None, Some(cwd)) if tools::shell_starts_afresh(self.payload.agent) => {
                Folder::Start(cwd)
            }
            (None, Some(cwd)) => Folder::After(cwd),
            (None, None) => Folder::Unknown,
        };
        let files =
            shell_files::of_tool_call(&ToolCall::new(self.payload.agent, tool, input), folder);
        files
            .iter()
            .map(|file| {
                let (kind, data) = file.event(tool);
                let mut event = self.event(kind, session, data);
                event.parent_id = call.map(|c| c.event_id.clone());
                event
            })
            .collect()
    }

    /// Claude Code versions without SubagentStart never name the subagent; when a spawning
    /// call's result arrives and no subagent claimed the call, its child session is made from
    /// what the call and result say.
    fn task_without_subagent_hooks(
        &self,
        parent: &str,
        call: &ClaimedCall,
        input: &Value,
        failed: bool,
    ) -> Result<(), StoreError> {
        if !self.store.claim_exact(parent, &CallKey::spawn(), call)? {
            return Ok(());
        }
        match self.task_child(parent, call, input, failed) {
            Ok(()) => {
                self.store.forget_spawn_hints(parent, call);
                Ok(())
            }
            // Given back for the result's next try, which makes the child again. What is
            // reported is the write's error, whether or not the call could be opened again.
            Err(e) => {
                let _ = self.store.reopen_call(parent, &CallKey::spawn(), call);
                Err(e)
            }
        }
    }

    /// The child session of [`Recorder::task_without_subagent_hooks`], whole or not at all:
    /// a child made here whose events cannot be written is deleted again.
    fn task_child(
        &self,
        parent: &str,
        call: &ClaimedCall,
        input: &Value,
        failed: bool,
    ) -> Result<(), StoreError> {
        let child = format!("task-{}-{parent}", call.event_id);
        let depth = self.store.read_meta_to_read(parent).map_or(0, |m| m.depth) + 1;
        let agent_type = input
            .get("subagent_type")
            .and_then(Value::as_str)
            .unwrap_or("general");
        let mut meta = SessionMeta::new(&child, call.timestamp);
        self.payload.agent.name().clone_into(&mut meta.agent_name);
        meta.command = format!("subagent ({agent_type})");
        meta.parent_session_id = Some(parent.to_owned());
        meta.parent_event_id = Some(call.event_id.clone());
        meta.depth = depth;
        self.sink.privacy().apply_meta(&mut meta);
        let mut start = self.event(
            EventType::SessionStart,
            &child,
            object([("agent_type", agent_type.into())]),
        );
        start.timestamp = call.timestamp;
        let mut events = vec![start];
        if let Some(prompt) = input.get("prompt").and_then(Value::as_str) {
            let mut event = self.event(
                EventType::UserPrompt,
                &child,
                object([("prompt", prompt.into())]),
            );
            event.timestamp = call.timestamp;
            events.push(event);
        }
        let response = self.payload.tool.as_ref().and_then(|t| t.response.as_ref());
        if let Some(text) = response_text(response) {
            events.push(self.event(
                EventType::AssistantResponse,
                &child,
                object([("text", text.into())]),
            ));
        }
        let reason = if failed { "failed" } else { "completed" };
        events.push(self.event(
            EventType::SessionEnd,
            &child,
            object([("reason", reason.into())]),
        ));
        if !self.store.create_session(&meta)? {
            return Ok(());
        }
        let written = self
            .store
            .init_counters(&child)
            .and_then(|()| self.write(&child, events));
        if written.is_err() {
            let _ = self.store.delete_session(&child);
        }
        written
    }
}

/// The text readers expect, made from structures once they are scrubbed: `result`, the preview
/// of a structured `tool_response`; `error`, the JSON text of an error sent as a structure.
pub(super) fn texts_of_structures(data: &mut Map<String, Value>) {
    if data.get("result").is_some_and(Value::is_null) {
        let text = data.get("tool_response").map(preview).unwrap_or_default();
        data.insert("result".into(), text.into());
    }
    if let Some(error) = data.get_mut("error")
        && !error.is_string()
    {
        *error = error.to_string().into();
    }
}

/// How much of a structured response its `result` text keeps.
const PREVIEW_LIMIT: usize = 4 * 1024;

/// The text of a structured response, for `result`: command output, the text blocks of MCP and
/// Task results, else the compact JSON; cut at [`PREVIEW_LIMIT`].
fn preview(response: &Value) -> String {
    let field = |key: &str| {
        response
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    // Joined only as far as the preview goes: a tool's 50 MB of output is not copied whole to
    // keep its first 4 KiB.
    if let Some(stdout) = field("stdout") {
        return match field("stderr") {
            Some(stderr) => head(&[stdout, "\n", stderr]),
            None => head(&[stdout]),
        };
    }
    if let Some(stderr) = field("stderr") {
        return head(&[stderr]);
    }
    if let Some(text) = response_text(Some(response)) {
        return head(&[&text]);
    }
    if response.is_null() {
        return String::new();
    }
    head(&[&response.to_string()])
}

/// The text of `parts` joined, cut at [`PREVIEW_LIMIT`] (on a character) and marked `…` when
/// longer.
fn head(parts: &[&str]) -> String {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    if len <= PREVIEW_LIMIT {
        return parts.concat();
    }
    let mut text = String::with_capacity(PREVIEW_LIMIT + '…'.len_utf8());
    for part in parts {
        let room = PREVIEW_LIMIT - text.len();
        if part.len() > room {
            text.push_str(&part[..crate::capture::limit::char_boundary(part, room)]);
            break;
        }
        text.push_str(part);
    }
    text.push('…');
    text
}

/// The text a Task result carries: a string, or the text blocks of its content.
fn response_text(response: Option<&Value>) -> Option<String> {
    let response = response?;
    if let Some(text) = response.as_str() {
        return Some(text.to_owned());
    }
    let blocks = response.get("content").unwrap_or(response).as_array()?;
    let text: Vec<&str> = blocks
        .iter()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    (!text.is_empty()).then(|| text.join("\n"))
}

pub(super) fn object<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn previews_are_text() {
        assert_eq!(preview(&json!({"stdout": "ok", "stderr": ""})), "ok");
        assert_eq!(preview(&json!([{"type": "text", "text": "mcp"}])), "mcp");
        assert_eq!(preview(&json!({"filePath": "/a"})), r#"{"filePath":"/a"}"#);
        let long = preview(&json!({"stdout": "x".repeat(10_000)}));
        assert!(long.len() <= PREVIEW_LIMIT + 3 && long.ends_with('…'));
    }

    /// The preview joined only as far as it goes is the whole text joined and then cut: at the
    /// limit, past it, across the seam of stdout and stderr, and inside a character.
    #[test]
    fn a_preview_is_the_joined_text_cut() {
        let joined_then_cut = |stdout: &str, stderr: &str| {
            let text = [stdout, stderr].join("\n");
            if text.len() <= PREVIEW_LIMIT {
                return text;
            }
            let cut = crate::capture::limit::char_boundary(&text, PREVIEW_LIMIT);
            format!("{}…", &text[..cut])
        };
        for (stdout, stderr) in [
            ("x".repeat(PREVIEW_LIMIT - 1), "é".to_owned()),
            ("x".repeat(PREVIEW_LIMIT - 2), "é".to_owned()),
            ("x".repeat(PREVIEW_LIMIT), "e".to_owned()),
            ("x".repeat(PREVIEW_LIMIT - 1), "ab".to_owned()),
            ("é".repeat(PREVIEW_LIMIT), "e".to_owned()),
            ("a".to_owned(), "€".repeat(PREVIEW_LIMIT)),
        ] {
            assert_eq!(
                preview(&json!({"stdout": stdout, "stderr": stderr})),
                joined_then_cut(&stdout, &stderr),
                "{} + {}",
                stdout.len(),
                stderr.len()
            );
        }
        let long = "€".repeat(PREVIEW_LIMIT);
        let cut = crate::capture::limit::char_boundary(&long, PREVIEW_LIMIT);
        assert_eq!(
            preview(&json!({"stdout": long})),
            format!("{}…", &long[..cut])
        );
    }

    #[test]
    fn task_results_yield_their_text() {
        let r = json!({"content": [{"type": "text", "text": "done"}], "totalTokens": 5});
        assert_eq!(response_text(Some(&r)).as_deref(), Some("done"));
        assert_eq!(
            response_text(Some(&json!("plain"))).as_deref(),
            Some("plain")
        );
        assert_eq!(response_text(Some(&json!({"x": 1}))), None);
    }
}
