//! Cursor's hook payloads read into the normal form, and how Cursor is told a denial.
//!
//! Cursor was not run here (a desktop app, no registry package): this follows its documented
//! payloads (docs/agents.md §5). Every event carries `conversation_id` (the session),
//! `generation_id`, `model`, `hook_event_name` (camelCase), `cursor_version`, `workspace_roots`
//! and `transcript_path`; `session_id` only on sessionStart/sessionEnd, equal to the
//! conversation. What each event becomes:
//! - `preToolUse` / `postToolUse` / `postToolUseFailure`: the tool call and its result, linked
//!   by `tool_use_id`; `tool_output` is JSON text, parsed.
//! - `beforeShellExecution` / `afterShellExecution`: a `Shell` call `{command}` and its
//!   `output`, linked by the command.
//! - `beforeMCPExecution` / `afterMCPExecution`: a call of `MCP:<tool>` and its `result_json`
//!   (JSON text, parsed), linked by the tool and its input.
//! - `beforeReadFile`: a `Read` call `{file_path}` (judged by the policy; the file's `content`
//!   is not recorded, only its size); Cursor sends no result for it.
//! - `afterFileEdit`: the result of an `Edit` of `file_path` (its `edits`), so a file write.
//! - `beforeSubmitPrompt`: the prompt; `afterAgentResponse`: the answer (`text`); `stop`,
//!   `afterAgentThought`, `preCompact` and any later event: kept whole as decision points.
//!
//! The specific events overlap the generic tool events (a shell command fires both
//! `preToolUse` and `beforeShellExecution`), so [`SETUP_EVENTS`] lists the set that records
//! each call once.
//!
//! Cursor also runs the hooks of Claude Code's settings files ("third-party hooks"), with its
//! own payload as far as real captures show; a Claude-shaped one (a version that sends it) is
//! read by Claude Code's reader and recorded as Cursor's.

use serde_json::{Map, Value};

use super::payload::{Answer, Fields, HookEvent, HookPayload, PayloadError};
use crate::model::policy::check::absolute;
use crate::model::shell_files::{Folder, of_tool_call};
use crate::model::view::ToolCall;
use crate::model::{Agent, deep_json};

/// The events `setup --agent cursor` should configure: together they record every tool call,
/// prompt and answer once (the shell, MCP, read and edit events would repeat the tool events).
pub const SETUP_EVENTS: [&str; 11] = [
    "sessionStart",
    "sessionEnd",
    "beforeSubmitPrompt",
    "preToolUse",
    "postToolUse",
    "postToolUseFailure",
    "subagentStart",
    "subagentStop",
    "preCompact",
    "stop",
    "afterAgentResponse",
];

/// The fields Cursor documents (beyond the session's plumbing); others are kept as unknown.
const KNOWN: &[&str] = &[
    "generation_id",
    "model",
    "cursor_version",
    "workspace_roots",
    "transcript_path",
    "cwd",
    "tool_name",
    "tool_input",
    "tool_use_id",
    "tool_output",
    "tool_response",
    "error",
    "error_message",
    "failure_type",
    "duration",
    "duration_ms",
    "command",
    "output",
    "url",
    "result_json",
    "file_path",
    "content_bytes",
    "edits",
    "prompt",
    "attachments",
    "composer_mode",
    "is_background_agent",
    "status",
    "loop_count",
    "text",
    "reason",
    "source",
    "subagent_id",
    "subagent_type",
    "agent_id",
    "agent_type",
    "trigger",
];

/// Whether a payload is Cursor's own (not Claude-shaped): it names the conversation, or its
/// event in camelCase.
pub(super) fn is_native(fields: &Map<String, Value>) -> bool {
    fields.contains_key("conversation_id")
        || fields
            .get("hook_event_name")
            .and_then(Value::as_str)
            .and_then(|name| name.chars().next())
            .is_some_and(char::is_lowercase)
}

/// Reads a Cursor payload: its own, or a Claude-shaped one from Claude Code's settings files.
pub(super) fn read(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    if !is_native(&fields) {
        let mut payload = super::claude_code::read(arg, fields)?;
        payload.agent = Agent::Cursor;
        return Ok(payload);
    }
    let mut f = Fields(fields);
    let name = match f.take_optional("hook_event_name")? {
        Some(name) if !name.is_empty() => name,
        _ => arg.to_owned(),
    };
    // The conversation is the session; `session_id` (start and end only) is the same id.
    let session_id = if f.0.contains_key("conversation_id") {
        f.0.remove("session_id");
        f.take_session("conversation_id")?
    } else {
        f.take_session("session_id")?
    };
    // A user's e-mail is not what a trace of the agent's work needs; it is not kept.
    f.0.remove("user_email");
    let event = shape(&name, &mut f.0)?;
    let tool = f.tool(&event)?;
    let root =
        f.0.get("workspace_roots")
            .and_then(Value::as_array)
            .and_then(|roots| roots.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
    // The workspace's first folder is where Cursor runs the agent: the folder it was started
    // in, as CLAUDE_PROJECT_DIR is for Claude Code (Cursor's own hooks are not given it). The
    // policy that judges a call is found from the root holding its paths ([`policy_folders`]).
    let launch = root.clone().filter(|root| root.starts_with('/'));
    let cwd = f.optional("cwd")?.or(root);
    let text = |key: &str| f.text(key);
    let answer = match event {
        HookEvent::Stop => text("text").map(Answer::Text),
        _ => None,
    };
    let agent_id = text("subagent_id").or(f.agent_id()?);
    Ok(HookPayload {
        agent: Agent::Cursor,
        session_id,
        cwd,
        launch,
        at: None,
        agent_type: text("subagent_type").or_else(|| text("agent_type")),
        prompt: f.0.get("prompt").cloned(),
        source: text("source").or_else(|| text("composer_mode")),
        answer,
        agent_id,
        tool,
        unknown: f.unknown(KNOWN),
        last_response: None,
        fields: f.0,
        event,
    })
}

/// The folders a policy is looked for from to judge a Cursor call: a workspace may have several
/// roots, each its own project with its own policy. Each path the call names (a file tool's, a
/// shell line's files) is judged by the policy found from the root that holds it, the deepest
/// when roots nest, or from the folder the call runs in (`cwd`) when that is inside the same
/// root, as any agent's call is judged from its folder. A path in no root, and a call that names
/// no path, are judged from `cwd` as before (the first root when the payload names no folder).
/// Where the session is stored stays the payload's `cwd`.
pub(super) fn policy_folders(payload: &HookPayload) -> Vec<String> {
    let roots: Vec<String> = (payload.fields.get("workspace_roots"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|root| root.starts_with('/'))
        .map(|root| absolute(root, None))
        .collect();
    let cwd = payload.cwd.as_deref();
    let inside = |path: &str, root: &str| {
        path == root || path.starts_with(&format!("{}/", root.trim_end_matches('/')))
    };
    let start = |path: &str| {
        let root = (roots.iter())
            .filter(|root| inside(&absolute(path, cwd), root))
            .max_by_key(|root| root.len())?;
        Some(match cwd.map(|cwd| absolute(cwd, None)) {
            Some(cwd) if inside(&cwd, root) => cwd,
            _ => root.clone(),
        })
    };
    let mut folders: Vec<String> = Vec::new();
    // A path in no root (`~/.aws/credentials`) is judged from `cwd`, as a call of one root is:
    // judged only by the roots of the call's other paths, it got past the policy of the folder
    // the call runs in.
    let mut outside_every_root = false;
    if let Some(tool) = &payload.tool {
        let call = ToolCall::new(payload.agent, &tool.name, &tool.input);
        let folder = cwd.map_or(Folder::Unknown, Folder::Start);
        for file in of_tool_call(&call, folder) {
            match start(&file.path) {
                Some(start) if !folders.contains(&start) => folders.push(start),
                Some(_) => {}
                None => outside_every_root = true,
            }
        }
    }
    if (folders.is_empty() || outside_every_root)
        && let Some(cwd) = cwd
        && !folders.iter().any(|folder| folder == cwd)
    {
        folders.push(cwd.to_owned());
    }
    folders
}

/// Turns a Cursor event into the normal form's: its event, with the tool fields
/// (`tool_name`, `tool_input`, `tool_response`, `error`) set the way the recorder reads them.
fn shape(name: &str, f: &mut Map<String, Value>) -> Result<HookEvent, PayloadError> {
    let event = match name {
        "sessionStart" => HookEvent::SessionStart,
        "sessionEnd" => HookEvent::SessionEnd,
        "beforeSubmitPrompt" => HookEvent::UserPromptSubmit,
        "subagentStart" => HookEvent::SubagentStart,
        "subagentStop" => HookEvent::SubagentStop,
        "preCompact" => HookEvent::PreCompact,
        // The answer; Cursor's `stop` carries only how the loop ended.
        "afterAgentResponse" => HookEvent::Stop,
        "preToolUse" => {
            parse_json_text(f, "tool_input");
            HookEvent::PreToolUse
        }
        "postToolUse" => {
            parse_json_text(f, "tool_input");
            if let Some(output) = f.remove("tool_output") {
                f.insert("tool_response".into(), json_text(output));
            }
            HookEvent::PostToolUse
        }
        "postToolUseFailure" => {
            parse_json_text(f, "tool_input");
            if !f.contains_key("error")
                && let Some(message) = f.get("error_message").cloned()
            {
                f.insert("error".into(), message);
            }
            HookEvent::PostToolUseFailure
        }
        "beforeShellExecution" | "afterShellExecution" => {
            let command = f.get("command").cloned().unwrap_or(Value::Null);
            if !command.is_string() {
                return Err(PayloadError::Missing("command"));
            }
            f.insert("tool_name".into(), "Shell".into());
            f.insert("tool_input".into(), object("command", command));
            if name == "beforeShellExecution" {
                HookEvent::PreToolUse
            } else {
                let output = f.get("output").cloned().unwrap_or_else(|| "".into());
                f.insert("tool_response".into(), output);
                HookEvent::PostToolUse
            }
        }
        "beforeMCPExecution" | "afterMCPExecution" => {
            let tool = match f.get("tool_name") {
                Some(Value::String(tool)) if !tool.is_empty() => tool.clone(),
                Some(Value::String(_) | Value::Null) | None => {
                    return Err(PayloadError::Missing("tool_name"));
                }
                Some(_) => return Err(PayloadError::WrongType("tool_name", "string")),
            };
            f.insert("tool_name".into(), format!("{MCP_PREFIX}{tool}").into());
            parse_json_text(f, "tool_input");
            if name == "beforeMCPExecution" {
                HookEvent::PreToolUse
            } else {
                let result = f.get("result_json").cloned().map_or(Value::Null, json_text);
                f.insert("tool_response".into(), result);
                HookEvent::PostToolUse
            }
        }
        "beforeReadFile" => {
            let path = file_path(f)?;
            // The file's text is the user's data and may be large: only its size is kept.
            if let Some(content) = f.remove("content") {
                let bytes = content.as_str().map_or(0, str::len);
                f.insert("content_bytes".into(), bytes.into());
            }
            f.insert("tool_name".into(), "Read".into());
            f.insert("tool_input".into(), object("file_path", path));
            HookEvent::PreToolUse
        }
        "afterFileEdit" => {
            let path = file_path(f)?;
            f.insert("tool_name".into(), "Edit".into());
            f.insert("tool_input".into(), object("file_path", path));
            let edits = f.get("edits").cloned().unwrap_or(Value::Null);
            f.insert("tool_response".into(), object("edits", edits));
            HookEvent::PostToolUse
        }
        other => HookEvent::Other(other.to_owned()),
    };
    Ok(event)
}

/// Cursor's MCP tools are named `MCP:<tool>` in the store, so the tool table knows them.
pub const MCP_PREFIX: &str = "MCP:";

fn file_path(f: &Map<String, Value>) -> Result<Value, PayloadError> {
    match f.get("file_path") {
        Some(Value::String(path)) if !path.is_empty() => Ok(path.clone().into()),
        Some(Value::String(_) | Value::Null) | None => Err(PayloadError::Missing("file_path")),
        Some(_) => Err(PayloadError::WrongType("file_path", "string")),
    }
}

/// Cursor sends some structures as their JSON text: read back when they are.
fn json_text(value: Value) -> Value {
    match value {
        Value::String(text) => {
            deep_json::from_slice(text.as_bytes()).unwrap_or(Value::String(text))
        }
        other => other,
    }
}

fn parse_json_text(f: &mut Map<String, Value>, key: &str) {
    if let Some(Value::String(text)) = f.get(key)
        && let Ok(parsed @ Value::Object(_)) = deep_json::from_slice::<Value>(text.as_bytes())
    {
        f.insert(key.to_owned(), parsed);
    }
}

fn object(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// Cursor's denial: `permission: deny` with a message for the user and one for the agent, exit
/// 0. Claude Code's `hookSpecificOutput` is added beside it, since Cursor reads that form from
/// the Claude-file hooks it runs; each reader takes its own fields.
pub(super) fn deny(reason: &str) -> super::Reply {
    let json = serde_json::json!({
        "permission": "deny",
        "user_message": reason,
        "agent_message": reason,
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        },
    });
    super::Reply::json(&json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::hooks::Signals;

    fn read_payload(arg: &str, stdin: &str) -> Result<HookPayload, PayloadError> {
        crate::capture::hooks::read_payload(arg, stdin.as_bytes(), &Signals::default())
    }

    #[test]
    fn cursor_events_become_calls_results_prompts_and_answers() {
        let common = r#""conversation_id":"c1","generation_id":"g1","model":"gpt-5","cursor_version":"2.1.0","workspace_roots":["/w"]"#;
        let p = read_payload(
            "x",
            &format!(r#"{{{common},"hook_event_name":"beforeShellExecution","command":"ls","cwd":"/w/sub"}}"#),
        )
        .unwrap();
        assert_eq!((p.agent, &p.event), (Agent::Cursor, &HookEvent::PreToolUse));
        assert_eq!(p.session_id, "c1");
        assert_eq!(p.cwd.as_deref(), Some("/w/sub"));
        let tool = p.tool.unwrap();
        assert_eq!(
            (tool.name.as_str(), &tool.input),
            ("Shell", &serde_json::json!({"command": "ls"}))
        );

        let p = read_payload(
            "x",
            &format!(r#"{{{common},"hook_event_name":"postToolUse","tool_name":"Read","tool_input":{{"file_path":"a"}},"tool_use_id":"t1","tool_output":"{{\"ok\":true}}"}}"#),
        )
        .unwrap();
        assert_eq!(p.cwd.as_deref(), Some("/w"));
        let tool = p.tool.unwrap();
        assert_eq!(tool.response, Some(serde_json::json!({"ok": true})));
        assert_eq!(tool.id.as_deref(), Some("t1"));

        let p = read_payload(
            "x",
            &format!(r#"{{{common},"hook_event_name":"afterAgentResponse","text":"done"}}"#),
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::Stop);
        assert_eq!(p.answer, Some(Answer::Text("done".into())));
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);
    }

    #[test]
    fn claude_shaped_payloads_with_a_cursor_signal_read_as_cursor() {
        let signals = Signals {
            cursor: true,
            ..Signals::default()
        };
        let p = crate::capture::hooks::read_payload(
            "pre-tool",
            br#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Shell","tool_input":{"command":"ls"}}"#,
            &signals,
        )
        .unwrap();
        assert_eq!(p.agent, Agent::Cursor);
        assert_eq!(p.event, HookEvent::PreToolUse);
        // Claude Code started from a Cursor terminal inherits CURSOR_VERSION; its own
        // transcript says whose payload it is.
        let p = crate::capture::hooks::read_payload(
            "pre-tool",
            br#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{},
                "transcript_path":"/home/u/.claude/projects/-w/s.jsonl"}"#,
            &signals,
        )
        .unwrap();
        assert_eq!(p.agent, Agent::ClaudeCode);
    }
}
