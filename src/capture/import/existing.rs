//! A transcript whose session the store holds already: which stored calls spawned its
//! subagents, so that a subagent imported later (after an import that failed part way) links to
//! its call as a clean import links it; and, for a session recorded by hooks, what only the
//! transcript holds.
//!
//! A session recorded by hooks is not merged with its transcript. Both carry Claude Code's
//! session id, so they are one folder; hooks append to it without a lock, one line each, maybe
//! while the session still runs, so an import could only add the transcript's events after
//! theirs, out of time order, where readers (replay, the phases of `explain` and `cost`) take
//! file order for time order. The usage is not lost meanwhile where the session's
//! `session_start` names its transcript: `cost`, `explain` and `budget-report` read it from
//! there. The import says what it left out instead, and whether that holds.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::capture::transcript::survey;
use crate::model::view::View;
use crate::model::{Agent, EventHead, Tokens};
use crate::store::{Store, StoreError};

/// What a transcript holds that its session, recorded by hooks, does not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotImported {
    /// API responses, with their usage: hooks never see them.
    pub responses: u64,
    pub tokens: Tokens,
    /// The assistant's text blocks (hooks keep the last answer of each turn).
    pub answers: u64,
    /// Thinking blocks.
    pub thinking: u64,
    /// Tool calls the session has no call of (made before the hooks were installed, say).
    pub tool_calls: u64,
    /// API errors that ended turns beyond the ones the session recorded (StopFailure, which
    /// Claude Code before 2.1.78 never sent, or turns before the hooks were installed).
    pub turn_errors: u64,
    /// The session names this transcript (its `session_start` does), so `cost`, `explain` and
    /// `budget-report` read its usage from it while the file is there.
    pub usage_read_from_transcript: bool,
}

/// How a stored session began, as its first events say.
pub(super) struct Stored {
    /// Recorded by something other than an import (hooks, or the Python tool's hooks).
    pub(super) by_hooks: bool,
    /// The transcript its hooks named.
    transcript: Option<String>,
}

/// How the stored session began: its first `session_start` says how (a session whose hooks
/// were installed late may have none: hooks, then).
pub(super) fn stored(store: &Store, session_id: &str) -> Result<Stored, StoreError> {
    let mut stored = Stored {
        by_hooks: true,
        transcript: None,
    };
    for event in store.events(session_id)?.take(20) {
        if let View::SessionStart(start) = View::of(&event, Agent::Unknown) {
            stored.by_hooks = start.source != Some("import");
            stored.transcript = start.transcript_path.map(str::to_owned);
            break;
        }
    }
    Ok(stored)
}

/// Whether the store holds `session_id`, recorded by hooks rather than imported.
pub fn recorded_by_hooks(store: &Store, session_id: &str) -> bool {
    store.has_session(session_id) && stored(store, session_id).is_ok_and(|s| s.by_hooks)
}

/// What the transcript at `path` holds that the stored session (recorded by hooks) does not.
pub(super) fn not_imported(
    store: &Store,
    session_id: &str,
    stored: &Stored,
    path: &Path,
) -> Result<NotImported, StoreError> {
    let survey = survey(path).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let calls = stored_calls(store, session_id)?;
    // The errors StopFailure recorded are the transcript's API error lines: counted once.
    let recorded = store
        .events(session_id)?
        .filter(|event| EventHead::of(event).turn_error())
        .count() as u64;
    Ok(NotImported {
        turn_errors: survey.api_errors.saturating_sub(recorded),
        responses: survey.responses,
        tokens: survey.tokens,
        answers: survey.answers,
        thinking: survey.thinking,
        tool_calls: survey
            .tool_use_ids
            .iter()
            .filter(|id| !calls.contains_key(*id))
            .count() as u64,
        usage_read_from_transcript: stored.transcript.as_deref().is_some_and(|named| {
            let same = |a: &Path, b: &Path| {
                a == b
                    || std::fs::canonicalize(a)
                        .is_ok_and(|a| std::fs::canonicalize(b).is_ok_and(|b| a == b))
            };
            same(Path::new(named), path)
        }),
    })
}

/// The stored calls that spawned the subagents of the transcript at `path`, by agent id: the
/// event id of the call in `session_id` with the tool-use id the transcript gives it.
pub(super) fn agent_calls(
    store: &Store,
    session_id: &str,
    path: &Path,
) -> Result<HashMap<String, String>, StoreError> {
    let survey = survey(path).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if survey.agents.is_empty() {
        return Ok(HashMap::new());
    }
    let calls = stored_calls(store, session_id)?;
    Ok(survey
        .agents
        .into_iter()
        .filter_map(|(agent, tool_use_id)| Some((agent, calls.get(&tool_use_id)?.clone())))
        .collect())
}

/// Every tool call of a stored session, by its tool-use id: its event id.
fn stored_calls(store: &Store, session_id: &str) -> Result<HashMap<String, String>, StoreError> {
    let mut calls = HashMap::new();
    for event in store.events(session_id)? {
        if let View::ToolCall(call) = View::of(&event, Agent::Unknown)
            && let Some(id) = call.tool_use_id
        {
            calls.insert(id.to_owned(), event.event_id.clone());
        }
    }
    Ok(calls)
}

/// The agent of the stored session `session_id` when it is not `agent`: another agent's log
/// that names the same session id was imported before.
pub fn other_agent(store: &Store, session_id: &str, agent: &str) -> Option<String> {
    let stored = store.read_meta_to_read(session_id).ok()?.agent_name;
    (!stored.is_empty() && stored != agent).then_some(stored)
}
