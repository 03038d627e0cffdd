//! Claude Code's hook payloads as Claude Code sends them on stdin, read into the normal form.
//!
//! Snake_case throughout: `session_id`, `hook_event_name`, `transcript_path`, `cwd`, then the
//! event's own fields (`tool_name`, `tool_input`, `tool_use_id`, `tool_response`, `prompt`,
//! `last_assistant_message` …). Source: Claude Code's hooks reference
//! (<https://docs.claude.com/en/docs/claude-code/hooks>) and the real payloads in
//! `../shared/corpus/claude-code-hooks`. A field of an unexpected type is an error we name,
//! never a panic; fields we do not know are kept.

use serde_json::{Map, Value};

use super::payload::{Answer, Fields, HookEvent, HookPayload, PayloadError};
use crate::model::Agent;

/// The fields Claude Code documents; any other field is recorded as unknown.
pub(super) const KNOWN: &[&str] = &[
    "cwd",
    "transcript_path",
    "permission_mode",
    "agent_id",
    "agent_type",
    "agent_transcript_path",
    "source",
    "model",
    "reason",
    "prompt",
    "tool_name",
    "tool_input",
    "tool_use_id",
    "tool_response",
    "error",
    "is_interrupt",
    "stop_hook_active",
    "last_assistant_message",
    "message",
    "title",
    "notification_type",
    "trigger",
    "custom_instructions",
    "permission_suggestions",
    "command_name",
    // Interrupt's (2.1.335): how the stop arrived, `terminal` or `client`.
    "via",
];

/// Reads a Claude Code payload. `arg` is the `hook <event>` argument; the payload's own
/// `hook_event_name`, when it has one, says what really happened and wins.
pub(super) fn read(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    let mut f = Fields(fields);
    let event = f.take_event("hook_event_name", arg)?;
    let session_id = f.take_session("session_id")?;
    let tool = f.tool(&event)?;
    let agent_id = f.agent_id()?;
    let cwd = f.optional("cwd")?;
    let transcript = f.optional("transcript_path")?;
    let text = |key: &str| f.text(key);
    let answer = match event {
        // A turn an API error ended (StopFailure) has no answer in its payload: its
        // `last_assistant_message` is the text of the error Claude Code showed (read in
        // 2.1.112's `cli.js` and 2.1.335's binary: the API error message's own content), which
        // the recorder keeps with the error; it reads what the model wrote from the transcript,
        // bounded to the turn.
        HookEvent::Stop => text("last_assistant_message")
            .map(Answer::Text)
            .or_else(|| transcript.clone().map(Answer::ClaudeTranscript)),
        HookEvent::SubagentStop => text("last_assistant_message")
            .map(Answer::Text)
            .or_else(|| text("agent_transcript_path").map(Answer::ClaudeTranscript)),
        _ => None,
    };
    Ok(HookPayload {
        agent: Agent::ClaudeCode,
        session_id,
        cwd,
        launch: None,
        at: None,
        agent_type: text("agent_type"),
        prompt: f.0.get("prompt").cloned(),
        source: text("source"),
        answer,
        agent_id,
        tool,
        unknown: f.unknown(KNOWN),
        last_response: None,
        fields: f.0,
        event,
    })
}

/// Claude Code's denial (VS Code reads its hooks' output the same way): JSON on stdout with
/// exit 0; `decision.behavior` for PermissionRequest (where exit 2 is ignored), else
/// `permissionDecision` under the name of the event that asked (PreToolUse,
/// PreSkillShellCommand): Claude Code refuses a `hookSpecificOutput` that names another event.
pub(super) fn deny(reason: &str, event: &HookEvent) -> super::Reply {
    let json = if *event == HookEvent::PermissionRequest {
        serde_json::json!({"hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "deny", "message": reason},
        }})
    } else {
        let asked = match event {
            HookEvent::SkillShellCommand => event.wire_name(),
            _ => "PreToolUse",
        };
        serde_json::json!({"hookSpecificOutput": {
            "hookEventName": asked,
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }})
    };
    super::Reply::json(&json)
}

/// A Claude Code release, as `claude --version` prints it (`2.1.332 (Claude Code)`).
pub type Version = (u32, u32, u32);

/// The hook events Claude Code did not always take, with the first release that takes each (read
/// off the event list of each release's `cli.js` on npm). Until 2.1.x at least, Claude Code
/// checks a settings file's `hooks` against its own list and ignores the whole file, every
/// other setting with it, when one event is not on it: an older release must not be given them.
pub const LATER_EVENTS: [(&str, Version); 8] = [
    ("SubagentStart", (2, 0, 44)),
    ("PermissionRequest", (2, 0, 45)),
    ("PostToolUseFailure", (2, 0, 56)),
    ("PostCompact", (2, 1, 76)),
    // 2.1.77's `cli.js` names neither anywhere; 2.1.78's event list names StopFailure.
    ("StopFailure", (2, 1, 78)),
    // 2.1.87's names it only as the SDK's `PermissionDeniedError`; 2.1.88's event list has it.
    ("PermissionDenied", (2, 1, 88)),
    // Read off the event list in the native binary of `@anthropic-ai/claude-code-linux-x64`
    // (the releases after 2.1.12x ship no `cli.js`): 2.1.331's does not name it.
    ("PreSkillShellCommand", (2, 1, 332)),
    // The same way: 2.1.334's binary names it nowhere, 2.1.335's event list has it (the
    // wrapper package `@anthropic-ai/claude-code` stops at 2.1.332 on npm; the platform
    // packages go on).
    ("Interrupt", (2, 1, 335)),
];

/// The release `setup` writes for when no `claude --version` answers (Claude Code started from
/// elsewhere than the PATH): the events first taken after it are left out, as a release before
/// them may ignore a whole settings file that names them, and the one that is not asked may be
/// any; the events older releases took long ago are written.
pub const UNASKED_RELEASE: Version = (2, 1, 331);

/// Whether Claude Code `version` takes hooks for `event` (its name in settings.json).
#[must_use]
pub fn takes_event(version: Version, event: &str) -> bool {
    LATER_EVENTS
        .iter()
        .find(|(name, _)| *name == event)
        .is_none_or(|(_, first)| version >= *first)
}

/// The release `claude --version` printed: its first word, `major.minor.patch`.
#[must_use]
pub fn parse_version(printed: &str) -> Option<Version> {
    let word = printed.split_whitespace().next()?;
    let mut parts = word.split('.').map(|p| p.parse::<u32>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_release_takes_the_events_it_knew() {
        assert_eq!(parse_version("2.0.50 (Claude Code)\n"), Some((2, 0, 50)));
        assert_eq!(parse_version("2.1.332"), Some((2, 1, 332)));
        assert_eq!(parse_version("claude 2"), None);
        assert_eq!(parse_version("2.1.0-beta.1 (Claude Code)"), None);
        assert!(!takes_event((2, 0, 43), "SubagentStart"));
        assert!(takes_event((2, 0, 44), "SubagentStart"));
        assert!(!takes_event((2, 1, 75), "PostCompact"));
        assert!(takes_event((2, 1, 76), "PostCompact"));
        assert!(takes_event((1, 0, 128), "PreToolUse"));
        assert!(!takes_event((2, 1, 77), "StopFailure"));
        assert!(takes_event((2, 1, 78), "StopFailure"));
        assert!(!takes_event((2, 1, 87), "PermissionDenied"));
        assert!(takes_event((2, 1, 88), "PermissionDenied"));
        assert!(!takes_event((2, 1, 331), "PreSkillShellCommand"));
        assert!(takes_event((2, 1, 332), "PreSkillShellCommand"));
        assert!(!takes_event((2, 1, 334), "Interrupt"));
        assert!(takes_event((2, 1, 335), "Interrupt"));
    }

    use super::*;
    use crate::capture::hooks::{HookPayload, PayloadError, Signals};

    /// A payload read with no signal besides itself, as a plain Claude-file hook gets it.
    fn read_payload(arg: &str, stdin: &[u8]) -> Result<HookPayload, PayloadError> {
        crate::capture::hooks::read_payload(arg, stdin, &Signals::default())
    }

    /// A result's response is held once, by its tool (a whole command's output was held twice,
    /// and copied a third time to be recorded); an event recorded from its fields keeps it.
    #[test]
    fn a_results_response_is_moved_to_its_tool_and_a_decisions_is_kept() {
        let body = |event: &str| {
            format!(
                r#"{{"session_id":"s1","hook_event_name":"{event}","tool_name":"Bash","tool_input":{{"command":"ls"}},"tool_response":{{"stdout":"a"}},"after":1}}"#
            )
        };
        let response = serde_json::json!({"stdout": "a"});
        for event in ["PostToolUse", "PostToolUseFailure"] {
            let p = read_payload("x", body(event).as_bytes()).unwrap();
            assert_eq!(
                p.tool.unwrap().response.as_ref(),
                Some(&response),
                "{event}"
            );
            // Left in its place, so that the fields keep their order.
            assert_eq!(p.fields.get("tool_response"), Some(&Value::Null), "{event}");
            let after = p.fields.keys().position(|k| k == "after");
            assert_eq!(
                after,
                p.fields
                    .keys()
                    .position(|k| k == "tool_response")
                    .map(|i| i + 1)
            );
        }
        let p = read_payload("x", body("PermissionRequest").as_bytes()).unwrap();
        assert_eq!(p.tool.unwrap().response.as_ref(), Some(&response));
        assert_eq!(p.fields.get("tool_response"), Some(&response));
    }

    #[test]
    fn the_payload_names_the_event() {
        let p = read_payload(
            "pre-tool",
            br#"{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::PreToolUse);
        assert_eq!(p.agent, Agent::ClaudeCode);
        let tool = p.tool.unwrap();
        assert_eq!(
            (tool.name.as_str(), &tool.input),
            ("Bash", &serde_json::json!({"command": "ls"}))
        );
        let p = read_payload("stop", br#"{"session_id":"s1"}"#).unwrap();
        assert_eq!(p.event, HookEvent::Stop);
        let p = read_payload(
            "x",
            br#"{"session_id":"s1","hook_event_name":"Future","new":1}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::Other("Future".into()));
        assert_eq!(p.unknown, ["new"]);
    }

    #[test]
    fn the_answer_comes_from_the_payload_else_the_transcript() {
        let p = read_payload(
            "stop",
            br#"{"session_id":"s","transcript_path":"/t.jsonl","last_assistant_message":"done"}"#,
        )
        .unwrap();
        assert_eq!(p.answer, Some(Answer::Text("done".into())));
        let p = read_payload(
            "stop",
            br#"{"session_id":"s","transcript_path":"/t.jsonl"}"#,
        )
        .unwrap();
        assert_eq!(p.answer, Some(Answer::ClaudeTranscript("/t.jsonl".into())));
    }

    #[test]
    fn bad_payloads_are_named() {
        let err = |arg: &str, body: &[u8]| read_payload(arg, body).unwrap_err();
        assert_eq!(err("stop", b"  "), PayloadError::Empty);
        assert_eq!(err("stop", b"[1]"), PayloadError::NotAnObject);
        assert_eq!(
            err("stop", br#"{"session_id":5}"#),
            PayloadError::WrongType("session_id", "string")
        );
        assert_eq!(
            err(
                "pre-tool",
                br#"{"session_id":"s","hook_event_name":"PreToolUse"}"#
            ),
            PayloadError::Missing("tool_name")
        );
        assert!(matches!(
            err("stop", br#"{"session_id":"../x"}"#),
            PayloadError::BadSessionId(_)
        ));
        assert!(matches!(
            err("bogus", br#"{"session_id":"s"}"#),
            PayloadError::UnknownEvent(_)
        ));
    }
}
