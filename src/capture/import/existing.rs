//! A transcript whose session the store holds already: which stored calls spawned its
//! subagents, so that a subagent imported later (after an import that failed part way) links to
//! its call as a clean import links it; and, for a session recorded by hooks, what only the
//! transcript holds.
//!
//! A session recorded by hooks is not merged with its transcript. Both carry Claude Code's
//! session id, so they are one folder; hooks append to it without a lock, one line each, maybe
//! while the session still runs, so an import could only add the transcript's events after
//! theirs, out of time order, where readers (replay, the phases of `explain` and `cost`) take
//! file order for time order. Nothing of the usage is lost meanwhile: `cost`, `explain` and
//! `budget-report` read a hook session's usage from the transcript it names. The import says
//! what it left out instead.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::capture::transcript::content::blocks;
use crate::capture::transcript::parse_time;
use crate::capture::transcript::responses::{Counted, Current, Line, Response, Step};
use crate::capture::transcript::wire::{Entry, TaskResult};
use crate::model::view::View;
use crate::model::{Agent, Tokens};
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
    /// The session names this transcript (its `session_start` does), so `cost`, `explain` and
    /// `budget-report` read its usage from it while the file is there.
    pub usage_read_from_transcript: bool,
}

/// A transcript's main conversation, read without importing it.
#[derive(Debug, Default)]
struct Survey {
    responses: u64,
    tokens: Tokens,
    answers: u64,
    thinking: u64,
    tool_use_ids: Vec<String>,
    /// The subagent each spawning call ran, by agent id: the call's tool-use id.
    agents: HashMap<String, String>,
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
    Ok(NotImported {
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

fn count(survey: &mut Survey, response: &Response<()>) {
    if response.first_time {
        survey.responses += 1;
        survey.tokens.add(&response.tokens());
    }
}

/// Reads the main conversation of a transcript: its responses (counted as an import counts
/// them), answers, thinking, tool calls, and which call ran which subagent.
fn survey(path: &Path) -> std::io::Result<Survey> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut survey = Survey::default();
    let mut counted = Counted::default();
    let mut current: Current<()> = Current::default();
    let mut seen_calls = HashSet::new();
    let (mut buf, mut spare) = (Vec::new(), Vec::new());
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let Ok(entry) = Entry::decode(buf.trim_ascii(), &mut spare) else {
            continue;
        };
        let Some(message) = &entry.message else {
            continue;
        };
        if entry.is_sidechain == Some(true) {
            continue;
        }
        let content = message
            .content
            .and_then(|c| blocks(c).ok())
            .unwrap_or_default();
        match entry.kind.as_deref() {
            Some("assistant") => {
                let line = Line {
                    message_id: message.id.as_deref(),
                    request_id: entry.request_id.as_deref(),
                    model: message.model.as_deref(),
                    usage: message.usage,
                    at: entry
                        .timestamp
                        .as_deref()
                        .and_then(parse_time)
                        .unwrap_or_default(),
                };
                if let Step::Started { ended: Some(done) } = current.line(&mut counted, &line) {
                    count(&mut survey, &done);
                }
                for block in &content {
                    match block.kind.as_deref() {
                        Some("text")
                            if block.text.as_deref().is_some_and(|t| !t.trim().is_empty()) =>
                        {
                            survey.answers += 1;
                        }
                        Some("thinking" | "redacted_thinking") => survey.thinking += 1,
                        Some("tool_use") => {
                            if let Some(id) = &block.id
                                && seen_calls.insert(id.to_string())
                            {
                                survey.tool_use_ids.push(id.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some("user") => {
                let agent = entry
                    .tool_use_result
                    .and_then(|r| serde_json::from_str::<TaskResult<'_>>(r.get()).ok())
                    .and_then(|r| r.agent_id.map(std::borrow::Cow::into_owned));
                let call = content
                    .iter()
                    .find(|b| b.kind.as_deref() == Some("tool_result"))
                    .and_then(|b| b.tool_use_id.as_deref());
                if let (Some(agent), Some(call)) = (agent, call) {
                    survey.agents.insert(agent, call.to_owned());
                }
            }
            _ => {}
        }
    }
    if let Some(done) = current.end() {
        count(&mut survey, &done);
    }
    Ok(survey)
}
