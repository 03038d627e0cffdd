//! Pairing subagents with the calls that spawned them, by what their payloads share, never by
//! the order they arrive in.
//!
//! A spawning call (Claude Code's Task/Agent) is opened under the store's spawn key and under
//! hints: its tool-use id, its prompt, its description, its subagent type. A subagent's first
//! hook claims the call that shares the strongest hint its payload gives: a tool-use id or a
//! prompt when the payload carries one, else the prompt its own transcript starts with (Claude
//! Code writes the spawning call's prompt as the first line of `<session>/subagents/agent-<id>
//! .jsonl`), else its type; only with nothing shared does the oldest open call win. The call's
//! result names the subagent it ran (`agentId`), which settles the link for good: a subagent
//! paired wrongly under load is linked again to its own call then.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::payload::{HookPayload, ToolUse};
use crate::capture::transcript::first_prompt;
use crate::store::CallKey;

/// The hints a spawning call is known by, strongest first.
pub(super) fn call_hints(tool: &ToolUse) -> Vec<CallKey> {
    let input = |key: &str| {
        tool.input
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut hints = Vec::new();
    if let Some(id) = &tool.id {
        hints.push(CallKey::spawn_hint("tool_use_id", id));
    }
    if let Some(prompt) = input("prompt") {
        hints.push(CallKey::spawn_hint("prompt", prompt));
    }
    if let Some(description) = input("description") {
        hints.push(CallKey::spawn_hint("description", description));
    }
    if let Some(kind) = input("subagent_type") {
        hints.push(CallKey::spawn_hint("type", kind));
    }
    hints
}

/// The hints a subagent's payload gives of the call that spawned it, strongest first.
pub(super) fn subagent_hints(payload: &HookPayload, agent_id: &str) -> Vec<CallKey> {
    let mut hints = Vec::new();
    if let Some(id) = payload.str_field("tool_use_id") {
        hints.push(CallKey::spawn_hint("tool_use_id", id));
    }
    if let Some(prompt) = payload
        .prompt
        .as_ref()
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        hints.push(CallKey::spawn_hint("prompt", prompt));
    }
    if let Some(description) = payload.str_field("description") {
        hints.push(CallKey::spawn_hint("description", description));
    }
    if let Some(prompt) = transcript_of(payload, agent_id)
        .as_deref()
        .and_then(first_prompt)
        .filter(|p| !p.is_empty())
    {
        hints.push(CallKey::spawn_hint("prompt", &prompt));
    }
    if let Some(kind) = &payload.agent_type {
        hints.push(CallKey::spawn_hint("type", kind));
    }
    hints
}

/// The subagent's own transcript: the payload names it on subagent stop; otherwise it sits
/// beside the session's transcript, in `<session>/subagents/agent-<id>.jsonl`.
fn transcript_of(payload: &HookPayload, agent_id: &str) -> Option<PathBuf> {
    if let Some(path) = payload.str_field("agent_transcript_path") {
        return Some(PathBuf::from(path));
    }
    let session = Path::new(payload.str_field("transcript_path")?);
    let folder = session.with_extension("").join("subagents");
    // Ids are written with or without their `agent-` prefix; the file name has one.
    let name = if agent_id.starts_with("agent-") {
        format!("{agent_id}.jsonl")
    } else {
        format!("agent-{agent_id}.jsonl")
    };
    if name.contains('/') {
        return None;
    }
    Some(folder.join(name))
}

/// The subagent a spawning call's result says it ran (`agentId`), if it says.
pub(super) fn agent_of_result(response: Option<&Value>) -> Option<&str> {
    response?
        .get("agentId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

/// Whether a spawning call's result says its subagent runs on in the background.
pub(super) fn launched_in_background(response: Option<&Value>) -> bool {
    response
        .and_then(|r| r.get("status"))
        .and_then(Value::as_str)
        == Some("async_launched")
}
