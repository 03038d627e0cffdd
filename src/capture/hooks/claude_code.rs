//! Claude Code hook payloads as Claude Code sends them on stdin, checked before any use.
//!
//! Payloads are decoded into a JSON value first and then picked apart field by field, so a
//! field of an unexpected type is an error we name, never a panic, and fields we do not know
//! are kept.

use serde_json::{Map, Value};

/// The hook events Claude Code sends, plus any it may add later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    SessionStart,
    SessionEnd,
    UserPromptSubmit,
    PreToolUse,
    PostToolUse,
    PostToolUseFailure,
    Stop,
    SubagentStart,
    SubagentStop,
    Notification,
    PreCompact,
    PostCompact,
    PermissionRequest,
    Other(String),
}

/// The `hook <event>` argument for each event, in the order `--help` lists them.
pub const HOOK_ARGS: [(&str, HookEvent); 13] = [
    ("session-start", HookEvent::SessionStart),
    ("session-end", HookEvent::SessionEnd),
    ("user-prompt", HookEvent::UserPromptSubmit),
    ("pre-tool", HookEvent::PreToolUse),
    ("post-tool", HookEvent::PostToolUse),
    ("post-tool-failure", HookEvent::PostToolUseFailure),
    ("stop", HookEvent::Stop),
    ("subagent-start", HookEvent::SubagentStart),
    ("subagent-stop", HookEvent::SubagentStop),
    ("notification", HookEvent::Notification),
    ("pre-compact", HookEvent::PreCompact),
    ("post-compact", HookEvent::PostCompact),
    ("permission-request", HookEvent::PermissionRequest),
];

impl HookEvent {
    /// The event's name in payloads and in settings.json.
    pub fn wire_name(&self) -> &str {
        match self {
            HookEvent::SessionStart => "SessionStart",
            HookEvent::SessionEnd => "SessionEnd",
            HookEvent::UserPromptSubmit => "UserPromptSubmit",
            HookEvent::PreToolUse => "PreToolUse",
            HookEvent::PostToolUse => "PostToolUse",
            HookEvent::PostToolUseFailure => "PostToolUseFailure",
            HookEvent::Stop => "Stop",
            HookEvent::SubagentStart => "SubagentStart",
            HookEvent::SubagentStop => "SubagentStop",
            HookEvent::Notification => "Notification",
            HookEvent::PreCompact => "PreCompact",
            HookEvent::PostCompact => "PostCompact",
            HookEvent::PermissionRequest => "PermissionRequest",
            HookEvent::Other(name) => name,
        }
    }

    pub fn from_wire_name(name: &str) -> HookEvent {
        HOOK_ARGS
            .iter()
            .find(|(_, event)| event.wire_name() == name)
            .map_or_else(
                || HookEvent::Other(name.to_owned()),
                |(_, event)| event.clone(),
            )
    }

    /// From a `hook <event>` argument; `None` for an argument that names no known event.
    pub fn from_arg(arg: &str) -> Option<HookEvent> {
        HOOK_ARGS
            .iter()
            .find(|(name, _)| *name == arg)
            .map(|(_, event)| event.clone())
            .or_else(|| {
                let known = HookEvent::from_wire_name(arg);
                (!matches!(known, HookEvent::Other(_))).then_some(known)
            })
    }
}

/// A checked payload.
#[derive(Debug, Clone)]
pub struct HookPayload {
    pub event: HookEvent,
    pub session_id: String,
    pub cwd: Option<String>,
    pub transcript_path: Option<String>,
    /// Set on payloads fired inside a subagent (newer Claude Code).
    pub agent_id: Option<String>,
    /// The whole payload as received.
    pub fields: Map<String, Value>,
}

/// Why a payload was not recorded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("stdin was empty")]
    Empty,
    #[error("stdin is not JSON: {0}")]
    NotJson(String),
    #[error("the payload is not a JSON object")]
    NotAnObject,
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    #[error("field `{0}` is not a {1}")]
    WrongType(&'static str, &'static str),
    #[error("session id `{0}` cannot name a session folder")]
    BadSessionId(String),
    #[error("unknown hook event `{0}` and the payload names none")]
    UnknownEvent(String),
}

impl HookPayload {
    /// Checks a payload read from stdin. `arg` is the `hook <event>` argument; the payload's own
    /// `hook_event_name`, when it has one, says what really happened and wins.
    pub fn parse(arg: &str, stdin: &[u8]) -> Result<HookPayload, PayloadError> {
        // Some editors prefix a byte-order mark; it is not part of the JSON.
        let bytes = stdin.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stdin);
        if bytes.trim_ascii().is_empty() {
            return Err(PayloadError::Empty);
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::NotJson(e.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(PayloadError::NotAnObject);
        };

        let event = match fields.get("hook_event_name") {
            Some(Value::String(name)) if !name.is_empty() => HookEvent::from_wire_name(name),
            None | Some(Value::Null) => HookEvent::from_arg(arg)
                .ok_or_else(|| PayloadError::UnknownEvent(arg.to_owned()))?,
            Some(_) => return Err(PayloadError::WrongType("hook_event_name", "string")),
        };
        let session_id = required_str(&fields, "session_id")?.to_owned();
        if !crate::store::is_valid_session_id(&session_id) {
            return Err(PayloadError::BadSessionId(session_id));
        }
        if matches!(
            event,
            HookEvent::PreToolUse | HookEvent::PostToolUse | HookEvent::PostToolUseFailure
        ) {
            required_str(&fields, "tool_name")?;
        }
        let agent_id = optional_str(&fields, "agent_id")?
            .filter(|id| crate::store::is_valid_session_id(id))
            .map(str::to_owned);
        Ok(HookPayload {
            event,
            session_id,
            cwd: optional_str(&fields, "cwd")?.map(str::to_owned),
            transcript_path: optional_str(&fields, "transcript_path")?.map(str::to_owned),
            agent_id,
            fields,
        })
    }

    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn tool_name(&self) -> &str {
        self.str_field("tool_name").unwrap_or_default()
    }

    pub fn tool_input(&self) -> Value {
        self.fields
            .get("tool_input")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }
}

fn required_str<'a>(
    fields: &'a Map<String, Value>,
    key: &'static str,
) -> Result<&'a str, PayloadError> {
    match fields.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null | Value::String(_)) => Err(PayloadError::Missing(key)),
        Some(_) => Err(PayloadError::WrongType(key, "string")),
    }
}

fn optional_str<'a>(
    fields: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, PayloadError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(PayloadError::WrongType(key, "string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_names_the_event() {
        let p = HookPayload::parse(
            "pre-tool",
            br#"{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::PreToolUse);
        let p = HookPayload::parse("stop", br#"{"session_id":"s1"}"#).unwrap();
        assert_eq!(p.event, HookEvent::Stop);
        let p =
            HookPayload::parse("x", br#"{"session_id":"s1","hook_event_name":"Future"}"#).unwrap();
        assert_eq!(p.event, HookEvent::Other("Future".into()));
    }

    #[test]
    fn bad_payloads_are_named() {
        assert_eq!(
            HookPayload::parse("stop", b"  ").unwrap_err(),
            PayloadError::Empty
        );
        assert_eq!(
            HookPayload::parse("stop", b"[1]").unwrap_err(),
            PayloadError::NotAnObject
        );
        assert_eq!(
            HookPayload::parse("stop", br#"{"session_id":5}"#).unwrap_err(),
            PayloadError::WrongType("session_id", "string")
        );
        assert_eq!(
            HookPayload::parse(
                "pre-tool",
                br#"{"session_id":"s","hook_event_name":"PreToolUse"}"#
            )
            .unwrap_err(),
            PayloadError::Missing("tool_name")
        );
        assert!(matches!(
            HookPayload::parse("stop", br#"{"session_id":"../x"}"#).unwrap_err(),
            PayloadError::BadSessionId(_)
        ));
        assert!(matches!(
            HookPayload::parse("bogus", br#"{"session_id":"s"}"#).unwrap_err(),
            PayloadError::UnknownEvent(_)
        ));
    }
}
