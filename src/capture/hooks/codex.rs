//! Codex CLI's hook payloads as Codex sends them on stdin, read into the normal form, and its
//! denial, in exactly the fields Codex's output schemas allow.
//!
//! Codex (0.124+, observed on 0.171.0) sends Claude-style events with snake_case fields:
//! `session_id`, `turn_id` (every event but SessionStart and SessionEnd), `transcript_path` (its
//! rollout, `…/sessions/YYYY/MM/DD/rollout-….jsonl`, or null), `cwd`, `hook_event_name`, `model`
//! and `permission_mode`, then the event's own fields (`tool_name`, `tool_input`, `tool_use_id`,
//! `tool_response`, `prompt`, `source`, `trigger`, `stop_hook_active`, `last_assistant_message`,
//! `agent_id`, `agent_type`, `agent_transcript_path`, `reason`). Shell calls reach hooks as
//! `Bash` `{command}` and patches as `apply_patch` `{command: <patch>}`, whatever the model
//! called; `tool_response` is the command's output as a string. Sources: the input schemas
//! embedded in the 0.171.0 binary and the payloads it sent (docs/agents.md section 2,
//! `docs/agents/recorded/codex-0.171.0-hooks.jsonl`). Codex's rollout is never read here: the
//! answer is in the Stop payload. Fields and events we do not know are kept.

use serde_json::{Map, Value};

use super::payload::{Answer, Fields, HookEvent, HookPayload, PayloadError};
use crate::model::Agent;

/// The fields Codex 0.171.0's input schemas name (less the ones taken out as the session's
/// plumbing); any other field is recorded as unknown.
const KNOWN: &[&str] = &[
    "cwd",
    "transcript_path",
    "turn_id",
    "model",
    "permission_mode",
    "source",
    "prompt",
    "tool_name",
    "tool_input",
    "tool_use_id",
    "tool_response",
    "trigger",
    "stop_hook_active",
    "last_assistant_message",
    "agent_id",
    "agent_type",
    "agent_transcript_path",
    "reason",
];

/// Whether a payload is Codex's when nothing else says so: a `turn_id` (no other agent sends
/// one), or a `transcript_path` that is a Codex rollout (SessionStart and SessionEnd have no
/// turn).
pub(super) fn is_codex(fields: &Map<String, Value>) -> bool {
    fields.contains_key("turn_id")
        || fields
            .get("transcript_path")
            .and_then(Value::as_str)
            .is_some_and(is_rollout_path)
}

/// `…/sessions/YYYY/MM/DD/rollout-…`, with either separator.
fn is_rollout_path(path: &str) -> bool {
    let path = path.as_bytes();
    let shape = b"/sessions/dddd/dd/dd/rollout-";
    path.windows(shape.len()).any(|window| {
        window.iter().zip(shape).all(|(&c, &s)| match s {
            b'd' => c.is_ascii_digit(),
            b'/' => c == b'/' || c == b'\\',
            s => c == s,
        })
    })
}

/// Reads a Codex payload. `arg` is the `hook <event>` argument; `hook_event_name` wins.
pub(super) fn read(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    let mut f = Fields(fields);
    let event = f.take_event("hook_event_name", arg)?;
    let session_id = f.take_session("session_id")?;
    let tool = f.tool(&event)?;
    let agent_id = f.agent_id()?;
    let cwd = f.optional("cwd")?;
    // Checked for type only: the rollout is Codex's, never read by the hook.
    f.optional("transcript_path")?;
    let text = |key: &str| f.text(key);
    Ok(HookPayload {
        agent: Agent::Codex,
        session_id,
        cwd,
        launch: None,
        at: None,
        agent_type: text("agent_type"),
        prompt: f.0.get("prompt").cloned(),
        source: text("source"),
        // Stop and SubagentStop carry the answer (null when the turn ended without one).
        answer: text("last_assistant_message").map(Answer::Text),
        agent_id,
        tool,
        unknown: f.unknown(KNOWN),
        last_response: None,
        fields: f.0,
        event,
    })
}

/// Codex's denial: JSON on stdout with exit 0, holding only what
/// `pre-tool-use.command.output.schema.json` (`hookSpecificOutput.permissionDecision`) or
/// `permission-request.command.output.schema.json` (`hookSpecificOutput.decision.behavior`)
/// allow. Every one of those schemas is closed at every level, and an output with one field
/// too many fails the hook, which Codex takes as no decision: the call would run.
///
/// Claude Code's denial has exactly that shape, so it is Claude Code's printer that prints it;
/// `tests/agent_codex.rs` checks every denial against Codex's own schemas, so a field added
/// there for Claude Code would fail here first.
pub(super) fn deny(reason: &str, permission_request: bool) -> super::Reply {
    let event = if permission_request {
        HookEvent::PermissionRequest
    } else {
        HookEvent::PreToolUse
    };
    super::claude_code::deny(reason, &event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::hooks::Signals;

    fn read_payload(stdin: &str, signals: &Signals) -> Result<HookPayload, PayloadError> {
        crate::capture::hooks::read_payload("x", stdin.as_bytes(), signals)
    }

    const ROLLOUT: &str = "/h/.codex/sessions/2026/11/30/rollout-2026-11-30T05-39-48-01a2.jsonl";

    #[test]
    fn codex_is_told_by_turn_id_rollout_path_or_the_command_line() {
        let plain = Signals::default();
        let p = read_payload(
            r#"{"session_id":"s","turn_id":"t","hook_event_name":"Stop","last_assistant_message":"done","model":"gpt-5.5"}"#,
            &plain,
        )
        .unwrap();
        assert_eq!(p.agent, Agent::Codex);
        assert_eq!(p.answer, Some(Answer::Text("done".into())));
        assert!(p.unknown.is_empty());
        let start = format!(
            r#"{{"session_id":"s","hook_event_name":"SessionStart","transcript_path":"{ROLLOUT}","source":"startup"}}"#
        );
        assert_eq!(read_payload(&start, &plain).unwrap().agent, Agent::Codex);
        let claude = r#"{"session_id":"s","hook_event_name":"Stop","transcript_path":"/h/.claude/projects/p/s.jsonl"}"#;
        assert_eq!(
            read_payload(claude, &plain).unwrap().agent,
            Agent::ClaudeCode
        );
        let declared = Signals {
            declared: Some(Agent::Codex),
            ..Signals::default()
        };
        assert_eq!(read_payload(claude, &declared).unwrap().agent, Agent::Codex);
        // A Codex stop never reads an answer out of a transcript.
        assert_eq!(read_payload(claude, &declared).unwrap().answer, None);
    }

    #[test]
    fn rollout_paths_are_recognised_by_shape() {
        assert!(is_rollout_path(ROLLOUT));
        assert!(is_rollout_path(
            r"C:\Users\u\.codex\sessions\2026\01\02\rollout-x.jsonl"
        ));
        assert!(!is_rollout_path("/h/.codex/sessions/2026/1/30/rollout-x"));
        assert!(!is_rollout_path("/h/sessions/2026/11/30/other.jsonl"));
    }

    #[test]
    fn tool_calls_unknown_fields_and_bad_types() {
        let p = read_payload(
            r#"{"session_id":"s","turn_id":"t","hook_event_name":"PostToolUse","tool_name":"Bash",
                "tool_input":{"command":"ls"},"tool_use_id":"call_1","tool_response":"a\n","future":1}"#,
            &Signals::default(),
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::PostToolUse);
        let tool = p.tool.unwrap();
        assert_eq!(
            (tool.id.as_deref(), tool.response),
            (Some("call_1"), Some(Value::from("a\n")))
        );
        assert_eq!(p.unknown, ["future"]);
        assert_eq!(
            read_payload(
                r#"{"session_id":"s","turn_id":"t","hook_event_name":"Stop","transcript_path":5}"#,
                &Signals::default()
            )
            .unwrap_err(),
            PayloadError::WrongType("transcript_path", "string")
        );
    }
}
