//! VS Code's agent hooks (Preview) as VS Code sends them on stdin, read into the normal form.
//!
//! VS Code runs the hooks it finds in `~/.claude/settings.json` (and `.claude/settings.json`,
//! `.github/hooks/*.json`) with Claude Code's event names, but its payloads differ: the common
//! fields are camelCase (`sessionId`, `hookEventName`) beside an ISO 8601 `timestamp`, `cwd`
//! and `transcript_path`; the event fields are snake_case (`tool_name`, `tool_input`,
//! `tool_use_id`, `tool_response`, `prompt`, `source`, `stop_hook_active`, `agent_id`,
//! `agent_type`, `trigger`). Tool names are VS Code's own (`read_file`, `create_file`,
//! `replace_string_in_file`, `run_in_terminal` …) with camelCase arguments (`filePath`). The
//! transcript is VS Code's, "not a stable hook API", so the answer is never read from it.
//!
//! Source: "Agent hooks in Visual Studio Code (Preview)",
//! <https://code.visualstudio.com/docs/agent-customization/hooks> (microsoft/vscode-docs,
//! `docs/agent-customization/hooks.md`, approved 2026-06-03; the first version, for VS Code
//! Insiders 1.110, was `docs/copilot/customization/hooks.md` of 2026-02-09), read 2026-11-29.

use serde_json::{Map, Value};

use super::payload::{Fields, HookPayload, PayloadError};
use crate::model::Agent;

/// The fields VS Code documents (less the ones taken out as the session's plumbing); any other
/// field is recorded as unknown.
const KNOWN: &[&str] = &[
    "cwd",
    "transcript_path",
    "tool_name",
    "tool_input",
    "tool_use_id",
    "tool_response",
    "prompt",
    "source",
    "stop_hook_active",
    "agent_id",
    "agent_type",
    "trigger",
];

/// Whether a payload is VS Code's: camelCase common fields and no snake_case session id.
/// (Copilot CLI's camelCase payloads have `sessionId` too, but never `hookEventName`;
/// `read_payload` tells them apart first.)
pub(super) fn is_vscode(fields: &Map<String, Value>) -> bool {
    !fields.contains_key("session_id")
        && (fields.contains_key("sessionId") || fields.contains_key("hookEventName"))
}

/// Reads a VS Code payload. `arg` is the `hook <event>` argument; `hookEventName` wins.
pub(super) fn read(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    let mut f = Fields(fields);
    let event = f.take_event("hookEventName", arg)?;
    let session_id = f.take_session("sessionId")?;
    let at = f.take_iso_time("timestamp")?;
    let tool = f.tool(&event)?;
    let agent_id = f.agent_id()?;
    let cwd = f.optional("cwd")?;
    let text = |key: &str| f.text(key);
    Ok(HookPayload {
        agent: Agent::VsCode,
        session_id,
        cwd,
        launch: None,
        at,
        agent_type: text("agent_type"),
        prompt: f.0.get("prompt").cloned(),
        source: text("source"),
        answer: None,
        agent_id,
        tool,
        unknown: f.unknown(KNOWN),
        last_response: None,
        fields: f.0,
        event,
    })
}

#[cfg(test)]
mod tests {
    use crate::capture::hooks::{HookEvent, HookPayload, PayloadError, Signals};

    /// A payload read with no signal besides itself, as a plain Claude-file hook gets it.
    fn read_payload(arg: &str, stdin: &[u8]) -> Result<HookPayload, PayloadError> {
        crate::capture::hooks::read_payload(arg, stdin, &Signals::default())
    }
    use crate::model::Agent;

    #[test]
    fn a_documented_pre_tool_payload_reads_as_vscode() {
        let p = read_payload(
            "pre-tool",
            br#"{"timestamp":"2026-02-09T10:30:00.000Z","cwd":"/w","sessionId":"session-identifier",
                "hookEventName":"PreToolUse","transcript_path":"/t.json",
                "tool_name":"editFiles","tool_input":{"files":["src/main.ts"]},"tool_use_id":"tool-123"}"#,
        )
        .unwrap();
        assert_eq!(p.agent, Agent::VsCode);
        assert_eq!(p.event, HookEvent::PreToolUse);
        assert_eq!(p.session_id, "session-identifier");
        assert_eq!(p.cwd.as_deref(), Some("/w"));
        assert_eq!(p.at, Some(1_770_633_000.0));
        let tool = p.tool.unwrap();
        assert_eq!(tool.name, "editFiles");
        assert_eq!(tool.id.as_deref(), Some("tool-123"));
        assert!(p.unknown.is_empty());
        assert!(!p.fields.contains_key("sessionId") && !p.fields.contains_key("timestamp"));
    }

    /// The payload comes before the environment a VS Code started from a Copilot CLI terminal
    /// inherits, and before Copilot's own hook files (which VS Code runs too).
    #[test]
    fn a_vscode_payload_is_vscode_with_copilot_cli_in_the_environment() {
        let stdin =
            br#"{"sessionId":"s","hookEventName":"Stop","timestamp":"2026-02-09T10:30:00Z"}"#;
        for declared in [None, Some(Agent::Copilot)] {
            let signals = Signals {
                declared,
                copilot: true,
                ..Signals::default()
            };
            let p = crate::capture::hooks::read_payload("stop", stdin, &signals).unwrap();
            assert_eq!(p.agent, Agent::VsCode, "{declared:?}");
            assert_eq!(p.session_id, "s");
        }
    }

    #[test]
    fn unknown_fields_and_events_are_kept_and_bad_ones_named() {
        let p = read_payload(
            "x",
            br#"{"sessionId":"s","hookEventName":"PostCompactSoon","extra":{"a":1},"timestamp":"yesterday"}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::Other("PostCompactSoon".into()));
        assert_eq!(p.unknown, ["extra", "timestamp"]);
        assert_eq!(
            read_payload("stop", br#"{"hookEventName":"Stop"}"#).unwrap_err(),
            PayloadError::Missing("sessionId")
        );
        assert_eq!(
            read_payload(
                "stop",
                br#"{"sessionId":"s","hookEventName":"Stop","timestamp":5}"#
            )
            .unwrap_err(),
            PayloadError::WrongType("timestamp", "string")
        );
    }
}
