//! GitHub Copilot CLI's hook payloads, in both of its shapes, read into the normal form; and
//! how Copilot is told a denial.
//!
//! The case of the event name a hook is configured under decides the payload (docs/agents.md
//! §4.2, observed on 1.0.102, `docs/agents/recorded/copilot-1.0.102-hooks.tsv`):
//! - camelCase events (`preToolUse`, `userPromptSubmitted`, `agentStop` …): camelCase fields
//!   `sessionId`, `timestamp` (epoch **milliseconds**, a number), `cwd`, `toolName` (Copilot's
//!   own tool name: `bash`, `view` …), `toolArgs`, `toolResult {resultType, textResultForLlm}`.
//!   The payload does not name its event (only `permissionRequest` says `hookName`), so the
//!   `hook <event>` argument does.
//! - PascalCase events (`PreToolUse` …): Claude Code's snake_case fields with an ISO 8601
//!   `timestamp`, Claude's tool names (`Bash`) and `tool_result {result_type,
//!   text_result_for_llm}` in place of `tool_response`. Copilot also runs the hooks of the
//!   project's `.claude/settings.json` with this shape.
//!
//! Neither shape has a tool-call id: a result finds its call by tool name and arguments
//! (`CallKey::by_content`). No payload carries the answer; `agentStop` names Copilot's own
//! `events.jsonl`, whose last `assistant.message` is it.

use std::io;
use std::ops::ControlFlow;
use std::path::Path;

use serde_json::{Map, Value};

use super::payload::{
    Answer, Fields, HookEvent, HookPayload, PayloadError, agent_time, iso_agent_time,
};
use crate::capture::shell_exit;
use crate::model::Agent;
use crate::model::outcome::{Ended, failure_in_words};

/// Copilot's camelCase event names, as written in its hooks files and passed as `hook <event>`.
const CAMEL_EVENTS: [(&str, HookEvent); 12] = [
    ("sessionStart", HookEvent::SessionStart),
    ("sessionEnd", HookEvent::SessionEnd),
    ("userPromptSubmitted", HookEvent::UserPromptSubmit),
    ("preToolUse", HookEvent::PreToolUse),
    ("postToolUse", HookEvent::PostToolUse),
    ("postToolUseFailure", HookEvent::PostToolUseFailure),
    ("permissionRequest", HookEvent::PermissionRequest),
    ("agentStop", HookEvent::Stop),
    ("subagentStart", HookEvent::SubagentStart),
    ("subagentStop", HookEvent::SubagentStop),
    ("preCompact", HookEvent::PreCompact),
    ("notification", HookEvent::Notification),
];

/// The camelCase fields Copilot documents or was seen sending, with the store's (snake_case)
/// name each is recorded under. Fields not listed are kept as sent, as unknown.
const CAMEL_FIELDS: &[(&str, &str)] = &[
    ("cwd", "cwd"),
    ("source", "source"),
    ("initialPrompt", "initial_prompt"),
    ("prompt", "prompt"),
    ("toolName", "tool_name"),
    ("toolArgs", "tool_input"),
    ("toolInput", "tool_input"),
    ("toolResult", "tool_result"),
    ("transcriptPath", "transcript_path"),
    ("stopReason", "stop_reason"),
    ("stop_hook_active", "stop_hook_active"),
    ("reason", "reason"),
    ("permissionSuggestions", "permission_suggestions"),
    ("error", "error"),
];

/// The camelCase names a field that Copilot CLI's payloads are read under `name` has.
pub(super) fn camel_names(name: &str) -> impl Iterator<Item = &'static str> + '_ {
    CAMEL_FIELDS
        .iter()
        .filter(move |(from, to)| *to == name && *from != name)
        .map(|(from, _)| *from)
}

/// The snake_case fields of the PascalCase shape beyond Claude Code's.
const PASCAL_EXTRA: &[&str] = &["initial_prompt", "stop_reason", "tool_result"];

/// Whether a payload is Copilot's camelCase one: `sessionId` without VS Code's `hookEventName`
/// (VS Code always names its event; Copilot's camelCase payloads never do).
pub(super) fn is_camel(fields: &Map<String, Value>) -> bool {
    !fields.contains_key("session_id")
        && fields.contains_key("sessionId")
        && !fields.contains_key("hookEventName")
}

/// Copilot's events with no kind of their own in the normal form, kept whole by name.
const OTHER_EVENTS: [&str; 2] = ["errorOccurred", "preMcpToolCall"];

/// The event a `hook <event>` argument names: Copilot's camelCase name, or ours.
pub(super) fn event_of_arg(arg: &str) -> Option<HookEvent> {
    CAMEL_EVENTS
        .iter()
        .find(|(name, _)| *name == arg)
        .map(|(_, event)| event.clone())
        .or_else(|| HookEvent::from_arg(arg))
        .or_else(|| {
            OTHER_EVENTS
                .contains(&arg)
                .then(|| HookEvent::Other(arg.to_owned()))
        })
}

/// Reads a Copilot CLI payload of either shape.
pub(super) fn read(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    if is_camel(&fields) {
        read_camel(arg, fields)
    } else {
        read_pascal(arg, fields)
    }
}

fn read_camel(arg: &str, mut fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    let event = match fields.remove("hookName") {
        Some(Value::String(name)) if !name.is_empty() => {
            event_of_arg(&name).unwrap_or(HookEvent::Other(name))
        }
        None | Some(Value::Null) => {
            event_of_arg(arg).ok_or_else(|| PayloadError::UnknownEvent(arg.to_owned()))?
        }
        Some(_) => return Err(PayloadError::WrongType("hookName", "string")),
    };
    let at = take_time(&mut fields, "timestamp")?;
    // Renamed to the store's names, so that the shared reading of the normal form applies.
    let mut renamed = Map::new();
    let mut unknown = Vec::new();
    for (key, value) in fields {
        if key == "sessionId" {
            renamed.insert("session_id".into(), value);
        } else if let Some((_, to)) = CAMEL_FIELDS.iter().find(|(from, _)| *from == key) {
            renamed.insert((*to).to_owned(), value);
        } else {
            unknown.push(key.clone());
            renamed.insert(key, value);
        }
    }
    let mut f = Fields(renamed);
    let session_id = f.take_session("session_id")?;
    finish(f, event, session_id, at, unknown)
}

fn read_pascal(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    let mut f = Fields(fields);
    let at = take_time(&mut f.0, "timestamp")?;
    let event = f.take_event("hook_event_name", arg).or_else(|e| match e {
        PayloadError::UnknownEvent(_) => {
            event_of_arg(arg).ok_or_else(|| PayloadError::UnknownEvent(arg.to_owned()))
        }
        e => Err(e),
    })?;
    let session_id = f.take_session("session_id")?;
    let mut known: Vec<&str> = super::claude_code::KNOWN.to_vec();
    known.extend_from_slice(PASCAL_EXTRA);
    let unknown = f.unknown(&known);
    finish(f, event, session_id, at, unknown)
}

/// The normal form, once the fields carry the store's names.
fn finish(
    mut f: Fields,
    event: HookEvent,
    session_id: String,
    at: Option<f64>,
    unknown: Vec<String>,
) -> Result<HookPayload, PayloadError> {
    // The tool's arguments come as an object or (some versions) as its JSON text, which
    // `Fields::tool` reads for every agent.
    let mut tool = f.tool(&event)?;
    let mut event = event;
    let mut refused = false;
    if let Some(tool) = tool.as_mut()
        && let Some(result) = f.0.get("tool_result")
    {
        let (mut ended, text) = tool_result(result);
        // A command that exited non-zero is a `success` to Copilot, its code in the words only:
        // the call failed, and changed no file as its command meant.
        if ended == Ended::Done
            && text
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|words| shell_exit::failed(Agent::Copilot, &tool.name, words))
        {
            ended = Ended::FailedWhateverItSays;
        }
        if ended != Ended::Done && event == HookEvent::PostToolUse {
            event = HookEvent::PostToolUseFailure;
        }
        refused = ended == Ended::Refused;
        if event == HookEvent::PostToolUseFailure {
            // Copilot says a refusal by its result's type, not by words: a failure is one
            // whatever its words say.
            tool.error = tool.error.take().or(text).map(|error| match error {
                Value::String(words) if !refused => Value::String(failure_in_words(words)),
                other => other,
            });
        } else {
            tool.response = text.or_else(|| Some(result.clone()));
        }
    }
    if refused {
        // Copilot's words for a refusal are its own and vary; the store's flag for a call the
        // user refused or stopped says it whatever they are.
        f.0.insert("is_interrupt".into(), true.into());
    }
    let agent_id = f.agent_id()?;
    let cwd = f.optional("cwd")?;
    let answer = match event {
        HookEvent::Stop | HookEvent::SubagentStop => {
            f.text("transcript_path").map(Answer::CopilotEvents)
        }
        _ => None,
    };
    let text = |key: &str| f.text(key);
    Ok(HookPayload {
        agent: Agent::Copilot,
        session_id,
        cwd,
        launch: None,
        at,
        agent_type: text("agent_type"),
        prompt: f.0.get("prompt").cloned(),
        source: text("source"),
        answer,
        agent_id,
        tool,
        unknown,
        last_response: None,
        fields: f.0,
        event,
    })
}

/// How a `toolResult` says the call ended, and its text for the model. The SDK's
/// `ToolResultType` is `success`, `failure`, `rejected` (by a policy or hook, before it ran),
/// `denied` (by the permission handler: the user's "no") and, later, `timeout`
/// (`github/copilot-sdk` `nodejs/src/types.ts`).
fn tool_result(result: &Value) -> (Ended, Option<Value>) {
    let field = |camel: &str, snake: &str| {
        result
            .get(camel)
            .or_else(|| result.get(snake))
            .and_then(Value::as_str)
    };
    let ended = match field("resultType", "result_type").unwrap_or("success") {
        "rejected" | "denied" => Ended::Refused,
        "failure" | "error" | "timeout" => Ended::FailedWhateverItSays,
        _ => Ended::Done,
    };
    let text = field("textResultForLlm", "text_result_for_llm").map(Value::from);
    (ended, text)
}

/// Takes Copilot's `timestamp`: epoch milliseconds (camelCase) or ISO 8601 (PascalCase). A
/// time that cannot be read, or is none an event can have ([`agent_time`]), is kept as sent,
/// and the hook's clock stamps the event.
fn take_time(fields: &mut Map<String, Value>, key: &str) -> Result<Option<f64>, PayloadError> {
    let at = match fields.remove(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => {
            let at = n.as_f64().and_then(|ms| agent_time(ms / 1000.0));
            if at.is_none() {
                fields.insert(key.to_owned(), Value::Number(n));
            }
            at
        }
        Some(Value::String(text)) => {
            let at = iso_agent_time(&text);
            if at.is_none() {
                fields.insert(key.to_owned(), Value::String(text));
            }
            at
        }
        Some(_) => return Err(PayloadError::WrongType("timestamp", "number")),
    };
    Ok(at)
}

/// Copilot writes `events.jsonl` behind its hooks: observed on 1.0.102 driven offline, the
/// agentStop hook can start before the answer's line is in the file. A stop hook that finds
/// none looks again every 25 ms, never longer than this in all. 150 ms and then 500 ms were too
/// short on a loaded machine (clean-clone CI runs recorded an empty answer); the wait only
/// happens at the end of a turn, only while the answer is missing, and ends as soon as the
/// line is there. An answer still missing then is looked for again when the session ends
/// (`Recorder`'s late answer).
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How often a hook looks again for an answer it waits for.
const ANSWER_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// How a hook waits for Copilot's answer.
#[derive(Debug, Clone, Copy)]
pub(super) struct AnswerWait {
    /// Looks for at most this long.
    pub wait: std::time::Duration,
    /// Looks again this often (reading only a file that has changed).
    pub every: std::time::Duration,
    /// A file not there yet may still come: Copilot (1.0.102, `-p`) writes `events.jsonl` only
    /// as it exits. A hook on the agent's path gives up at once; a follower waits.
    pub for_the_file: bool,
}

/// The agent's hooks: [`ANSWER_WAIT`], every [`ANSWER_POLL`], no file no answer.
pub(super) const IN_A_HOOK: AnswerWait = AnswerWait {
    wait: ANSWER_WAIT,
    every: ANSWER_POLL,
    for_the_file: false,
};

/// [`last_answer`], as `how` says to wait for it: `Ok(None)` when it was not written within the
/// wait. A path to something that is not a regular file (a FIFO, a device, a folder) is an
/// error at once: it will never hold the answer, and waiting on it would hold the agent.
pub(super) fn answer_when_written(path: &Path, how: AnswerWait) -> io::Result<Option<String>> {
    let AnswerWait {
        wait,
        every,
        for_the_file,
    } = how;
    let started = std::time::Instant::now();
    let mut read_at_len = None;
    loop {
        // The file's own length, through a link: a link's length never changes.
        let len = crate::store::regular_len(path)?;
        if len != read_at_len {
            if let Some(text) = last_answer(path) {
                return Ok(Some(text));
            }
            read_at_len = len;
        }
        if (len.is_none() && !for_the_file) || started.elapsed() >= wait {
            return Ok(None);
        }
        std::thread::sleep(every);
    }
}

/// How much of the end of `events.jsonl` the stop hook reads for the answer.
const TAIL: u64 = 1024 * 1024;

/// The content of the last non-empty `assistant.message` of the last turn in Copilot's
/// `events.jsonl`; `None` when the file cannot be read, or its last [`TAIL`] bytes hold none
/// after the turn's `user.message`.
fn last_answer(path: &Path) -> Option<String> {
    crate::capture::tail::search_from_end(path, TAIL, |line| {
        let kind = if line.windows(19).any(|w| w == b"\"assistant.message\"") {
            "assistant.message"
        } else if line.windows(14).any(|w| w == b"\"user.message\"") {
            "user.message"
        } else {
            return ControlFlow::Continue(());
        };
        let Ok(entry) = crate::model::deep_json::from_slice::<Value>(line) else {
            return ControlFlow::Continue(());
        };
        match entry.get("type").and_then(Value::as_str) {
            // The turn's prompt, with no answer after it yet: an older answer is not this one.
            Some("user.message") if kind == "user.message" => ControlFlow::Break(None),
            Some("assistant.message") => {
                let text = entry
                    .get("data")
                    .and_then(|d| d.get("content"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if text.is_empty() {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(Some(text.to_owned()))
                }
            }
            _ => ControlFlow::Continue(()),
        }
    })
}

/// Copilot's denial: its flat `permissionDecision` JSON with exit 0 (observed to deny under
/// both camelCase and PascalCase hooks); a permission request is answered `behavior: deny`.
pub(super) fn deny(reason: &str, permission_request: bool) -> super::Reply {
    let json = if permission_request {
        serde_json::json!({"behavior": "deny", "message": reason})
    } else {
        serde_json::json!({"permissionDecision": "deny", "permissionDecisionReason": reason})
    };
    super::Reply::json(&json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::hooks::{Signals, ToolUse};

    fn tool_of(p: &HookPayload) -> &ToolUse {
        p.tool.as_ref().expect("a tool")
    }

    fn read_payload(arg: &str, stdin: &str) -> Result<HookPayload, PayloadError> {
        crate::capture::hooks::read_payload(arg, stdin.as_bytes(), &Signals::default())
    }

    /// A FIFO never holds the answer: the wait for it ends at once with an error, however long
    /// it was to last, rather than looking until it is up (on the agent's path, at every turn's
    /// end). Told by what comes back, not by the clock: waiting an hour, only the error can
    /// come back within the minute the test gives it.
    #[test]
    fn an_answer_awaited_in_a_fifo_is_an_error_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("events.jsonl");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        for for_the_file in [false, true] {
            let (fifo, tx) = (fifo.clone(), tx.clone());
            std::thread::spawn(move || {
                let how = AnswerWait {
                    wait: std::time::Duration::from_secs(3600),
                    every: ANSWER_POLL,
                    for_the_file,
                };
                let _ = tx.send((for_the_file, answer_when_written(&fifo, how)));
            });
        }
        for _ in 0..2 {
            let (for_the_file, got) = rx
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("still waiting for an answer in a FIFO after a minute");
            let error = got.expect_err("a FIFO's answer");
            assert!(
                error.to_string().contains("FIFO"),
                "{for_the_file}: {error}"
            );
        }
    }

    #[test]
    fn recorded_camel_payloads_read_as_copilot() {
        let p = read_payload(
            "preToolUse",
            r#"{"sessionId":"5a25","timestamp":1796017193519,"cwd":"/p","toolName":"bash","toolArgs":{"command":"cat .env","description":"read env"}}"#,
        )
        .unwrap();
        assert_eq!(p.agent, Agent::Copilot);
        assert_eq!(p.event, HookEvent::PreToolUse);
        assert_eq!(p.session_id, "5a25");
        assert_eq!(p.at, Some(1_796_017_193.519));
        assert_eq!(tool_of(&p).name, "bash");
        assert_eq!(tool_of(&p).input["command"], "cat .env");
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);

        let p = read_payload(
            "postToolUse",
            r#"{"sessionId":"5a25","timestamp":1,"toolName":"bash","toolArgs":"{\"command\":\"ls\"}","toolResult":{"resultType":"failure","textResultForLlm":"boom"}}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::PostToolUseFailure);
        assert_eq!(tool_of(&p).input, serde_json::json!({"command": "ls"}));
        assert_eq!(tool_of(&p).error, Some("boom".into()));

        let p = read_payload(
            "x",
            r#"{"hookName":"permissionRequest","sessionId":"s","timestamp":1,"toolName":"bash","toolInput":{"command":"ls"}}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::PermissionRequest);
    }

    #[test]
    fn an_unknown_camel_event_is_named() {
        let p = read_payload(
            "errorOccurred",
            r#"{"sessionId":"s","timestamp":1,"error":"x"}"#,
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::Other("errorOccurred".into()));
        assert!(matches!(
            read_payload("bogus", r#"{"sessionId":"s","timestamp":1}"#),
            Err(PayloadError::UnknownEvent(_))
        ));
        assert_eq!(
            read_payload("agentStop", r#"{"sessionId":"s","timestamp":{}}"#).unwrap_err(),
            PayloadError::WrongType("timestamp", "number")
        );
    }
}
