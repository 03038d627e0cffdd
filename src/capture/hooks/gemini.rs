//! Gemini CLI's hook payloads as Gemini CLI sends them on stdin, read into the normal form, and
//! its way of being told a denial.
//!
//! Snake_case throughout (docs/agents.md §3.2, observed on 0.61.0): `session_id`,
//! `transcript_path`, `cwd`, `hook_event_name`, an ISO 8601 `timestamp`, then the event's own
//! fields. Gemini's events become the normal form's: `BeforeAgent` (`prompt`) a prompt,
//! `AfterAgent` (`prompt_response`) the answer, `BeforeTool`/`AfterTool` (`tool_name`,
//! `tool_input`, `tool_response {llmContent, returnDisplay, error}`) a call and its result or
//! failure, `BeforeModel`/`AfterModel` (`llm_request`, `llm_response`) a model request and the
//! chunks of its streamed response. `PreCompress`, `BeforeToolSelection` and any event Gemini
//! adds later keep their own names. Unknown fields are kept.
//!
//! Gemini sends no tool-call id: a result finds its call by tool name and input (the store's
//! pending calls), the way Gemini itself runs them.
//!
//! Every `BeforeModel`, `BeforeToolSelection` and `AfterModel` payload repeats the whole text of
//! the conversation in `llm_request.messages`; recording it each time would make the store grow
//! with the square of the conversation, so `llm_request` is kept as its `model`, `config` and
//! the number of its messages.

use crate::model::prompt::SENT_PROMPT;
use serde_json::{Map, Value};

use super::payload::{Answer, Fields, HookEvent, HookPayload, LastResponse, PayloadError};
use crate::capture::import::agent_log::{LoggedTokens, count, fresh_input, usage_value};
use crate::capture::import::gemini_chat::ReportedCounts;
use crate::capture::shell_exit;
use crate::model::{Agent, Tokens};

/// How Gemini CLI's shell tells the model the user stopped a command (`… before it could
/// start.`, `… before it could complete. Below is the output before it was cancelled:`).
const CANCELLED_BY_USER: &str = "Command was cancelled by user before it could ";

/// Gemini's events that no other agent sends: a payload naming one of them is Gemini's.
pub(super) const OWN_EVENTS: [&str; 8] = [
    "BeforeAgent",
    "AfterAgent",
    "BeforeModel",
    "AfterModel",
    "BeforeToolSelection",
    "BeforeTool",
    "AfterTool",
    "PreCompress",
];

/// The fields Gemini CLI documents (less the ones taken out as the session's plumbing); any
/// other field (`mcp_context`, `original_request_name`, those of events to come) is recorded
/// as unknown, beside what the event records.
const KNOWN: &[&str] = &[
    "cwd",
    "transcript_path",
    "source",
    "reason",
    "prompt",
    "prompt_response",
    "stop_hook_active",
    "tool_name",
    "tool_input",
    "tool_response",
    "trigger",
    "notification_type",
    "message",
    "details",
    // What this reader makes of `llm_request` and `llm_response`, under the store's names.
    "model",
    "messages",
    "config",
    "text",
    "usage",
    "reported_usage",
    "finish_reason",
];

/// Whether a payload names one of Gemini CLI's own events.
pub(super) fn is_gemini(fields: &Map<String, Value>) -> bool {
    fields
        .get("hook_event_name")
        .and_then(Value::as_str)
        .is_some_and(|name| OWN_EVENTS.contains(&name))
}

/// The normal form's event for one of Gemini's event names (ours and Claude's are read too:
/// a copied `hook pre-tool` command may run under Gemini).
fn event_named(name: &str) -> Option<HookEvent> {
    Some(match name {
        "BeforeAgent" => HookEvent::UserPromptSubmit,
        "AfterAgent" => HookEvent::Stop,
        "BeforeModel" => HookEvent::ModelRequest,
        "AfterModel" => HookEvent::ModelResponse,
        "BeforeTool" => HookEvent::PreToolUse,
        "AfterTool" => HookEvent::PostToolUse,
        _ => return HookEvent::from_arg(name),
    })
}

/// Reads a Gemini CLI payload. `arg` is the `hook <event>` argument; the payload's own
/// `hook_event_name` wins.
pub(super) fn read(arg: &str, fields: Map<String, Value>) -> Result<HookPayload, PayloadError> {
    let mut f = Fields(fields);
    let event = match f.take_optional("hook_event_name")? {
        Some(name) if !name.is_empty() => event_named(&name).unwrap_or(HookEvent::Other(name)),
        _ => event_named(arg).ok_or_else(|| PayloadError::UnknownEvent(arg.to_owned()))?,
    };
    let session_id = f.take_session("session_id")?;
    let at = f.take_iso_time("timestamp")?;
    if let Some(request) = f.0.remove("llm_request") {
        summarise_request(&mut f.0, &request, event == HookEvent::ModelRequest);
    }
    let mut event = event;
    if event == HookEvent::ModelResponse {
        match f.0.remove("llm_response") {
            Some(Value::Object(response)) => read_chunk(&mut f.0, &response),
            None | Some(Value::Null) => return Err(PayloadError::Missing("llm_response")),
            Some(_) => return Err(PayloadError::WrongType("llm_response", "object")),
        }
    }
    let mut tool = f.tool(&event)?;
    if event == HookEvent::PostToolUse
        && let Some(tool) = &mut tool
        && let Some(Value::Object(response)) = &tool.response
    {
        // `llmContent` is what the model was given (a string, or parts); `returnDisplay` is
        // the user's view of it (for edits, the whole file before and after), not kept twice.
        match response.get("error").filter(|e| !e.is_null()) {
            Some(error) => {
                tool.error = Some(
                    error
                        .get("message")
                        .filter(|m| m.is_string())
                        .unwrap_or(error)
                        .clone(),
                );
                tool.response = None;
                event = HookEvent::PostToolUseFailure;
            }
            // A shell command the user stopped with Esc ran and returned, with no error:
            // Gemini CLI's words say the user stopped it (read in 0.61.0's shell tool), and
            // the scheduler then marks the call cancelled. It is the user's stop, as the
            // chat's `cancelled` call is, never a success.
            // A command that exited non-zero is a success to Gemini CLI, its code in the
            // words only: the call failed, and changed no file as its command meant.
            None => match response.get("llmContent") {
                Some(Value::String(text))
                    if text.starts_with(CANCELLED_BY_USER)
                        || shell_exit::failed(Agent::GeminiCli, &tool.name, text) =>
                {
                    tool.error = Some(text.clone().into());
                    tool.response = None;
                    event = HookEvent::PostToolUseFailure;
                }
                content => tool.response = content.cloned(),
            },
        }
    }
    let cwd = f.optional("cwd")?;
    let last_response = f.text("transcript_path").map(LastResponse::GeminiChat);
    let text = |key: &str| f.text(key);
    let answer = match event {
        HookEvent::Stop => text("prompt_response").map(Answer::Text),
        _ => None,
    };
    let mut prompt = match event {
        HookEvent::UserPromptSubmit => f.0.get("prompt").cloned(),
        _ => None,
    };
    // What the person typed, as the chat keeps it (`displayContent`) and the import reads it;
    // what went to the model beside it, under the key the import uses.
    let sent = prompt.take_if(|p| p.as_str().is_some_and(is_init_prompt));
    if sent.is_some() {
        prompt = Some("/init".into());
    }
    let mut payload = HookPayload {
        agent: Agent::GeminiCli,
        session_id,
        cwd,
        launch: None,
        at,
        agent_type: None,
        prompt,
        source: text("source"),
        answer,
        agent_id: None,
        tool,
        unknown: f.unknown(KNOWN),
        last_response,
        fields: f.0,
        event,
    };
    if let Some(sent) = sent {
        payload.fields.insert(SENT_PROMPT.into(), sent);
    }
    Ok(payload)
}

/// How the prompt Gemini CLI's `/init` sends in the person's place begins (the same in the
/// corpus's chat and in 0.61.0's `packages/core/src/commands/init.ts`). `BeforeAgent` is
/// given that prompt, never `/init`, so a session recorded by hooks would begin with a page of
/// instructions nobody typed, where its imported chat begins with `/init`.
const INIT_OPENING: &str = "You are an AI agent that brings the power of Gemini directly into \
     the terminal. Your task is to analyze the current directory and generate a comprehensive \
     GEMINI.md file";

fn is_init_prompt(prompt: &str) -> bool {
    prompt.trim_start().starts_with(INIT_OPENING)
}

/// Keeps of a model request what says which call it was: the model, the generation config and
/// (on `BeforeModel`, where the request is recorded) how many messages it sent.
fn summarise_request(fields: &mut Map<String, Value>, request: &Value, counted: bool) {
    if let Some(model) = request.get("model").filter(|m| m.is_string()) {
        fields.insert("model".into(), model.clone());
    }
    if counted {
        if let Some(config) = request.get("config").filter(|c| c.is_object()) {
            fields.insert("config".into(), config.clone());
        }
        if let Some(messages) = request.get("messages").and_then(Value::as_array) {
            fields.insert("messages".into(), messages.len().into());
        }
    }
}

/// One streamed chunk of a response, under the store's names: its `text` (the chunk's own,
/// not the response's so far), the response's `usage` so far (Gemini repeats the cumulative
/// counts on every chunk), `reported_usage` as sent and, on the last chunk, `finish_reason`.
fn read_chunk(fields: &mut Map<String, Value>, response: &Map<String, Value>) {
    let candidate = response
        .get("candidates")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    let text = match response.get("text").and_then(Value::as_str) {
        Some(text) => text.to_owned(),
        None => candidate
            .and_then(|c| c.pointer("/content/parts"))
            .and_then(Value::as_array)
            .map(|parts| parts.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
    };
    fields.insert("text".into(), text.into());
    if let Some(reason) = candidate
        .and_then(|c| c.get("finishReason"))
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        fields.insert("finish_reason".into(), reason.into());
    }
    if let Some(usage) = response.get("usageMetadata").filter(|u| u.is_object()) {
        let usage_in_store = match tokens(usage) {
            Ok(tokens) => usage_value(&tokens),
            Err(no_count) => no_count.usage(),
        };
        fields.insert("usage".into(), usage_in_store);
        fields.insert("reported_usage".into(), usage.clone());
    }
}

/// Gemini's `usageMetadata` in the store's convention (docs/agents.md §9.5): cached input is
/// inside `promptTokenCount` and comes out of it; thoughts are billed as output; tool-use prompt
/// tokens are input. Gemini CLI 0.61.0's hooks pass on only the prompt, candidates and total
/// counts (its translator drops the others): the thoughts are then what the total holds beyond
/// prompt and candidates, so that the total is Gemini's; the cached part of the prompt cannot be
/// told here and is counted as fresh input, until the response's event is made exact from
/// Gemini's chat ([`exact_usage`]). A count that is no count a response can have (negative,
/// fractional, a string), or a cached part larger than the prompt, makes them unknown, as an
/// import of Gemini's chat makes them.
fn tokens(usage: &Value) -> LoggedTokens {
    let prompt = count(usage, "promptTokenCount", "input_tokens")?;
    let candidates = count(usage, "candidatesTokenCount", "output_tokens")?;
    let cached = count(usage, "cachedContentTokenCount", "cache_read_input_tokens")?;
    let tool = count(usage, "toolUsePromptTokenCount", "input_tokens")?;
    // Thoughts not given (or `null`) are what the total holds beyond the other counts.
    let thoughts = match usage.get("thoughtsTokenCount") {
        Some(given) if !given.is_null() => count(usage, "thoughtsTokenCount", "output_tokens")?,
        _ => count(usage, "totalTokenCount", "output_tokens")?
            .saturating_sub(prompt.saturating_add(candidates).saturating_add(tool)),
    };
    // Saturating: believed counts that add up past the prompt must not wrap.
    Ok(Tokens {
        input: fresh_input(prompt, cached)?.saturating_add(tool),
        output: candidates.saturating_add(thoughts),
        cache_creation: 0,
        cache_creation_1h: 0,
        cache_read: cached,
        reasoning: thoughts,
    })
}

/// The exact usage of a finished response whose `data` (its last chunk's fields) holds the
/// counts the hooks passed on (`reported_usage`), in the store's convention: Gemini CLI
/// 0.61.0's hooks drop the cached part of the prompt (see [`tokens`]), but its chat holds
/// every count of the same response ([`HookPayload::last_response`]). `None` when the hooks'
/// counts are whole already, or the chat's last response is not this one.
pub(super) fn exact_usage(payload: &HookPayload, data: &Map<String, Value>) -> Option<Value> {
    let reported = data.get("reported_usage")?;
    if payload.agent != Agent::GeminiCli || reported.get("cachedContentTokenCount").is_some() {
        return None;
    }
    // Counts that are none a response can have leave its usage unknown.
    let counts = ReportedCounts {
        prompt: count(reported, "promptTokenCount", "input_tokens").ok()?,
        candidates: count(reported, "candidatesTokenCount", "output_tokens").ok()?,
        total: count(reported, "totalTokenCount", "output_tokens").ok()?,
    };
    let last = payload.last_response.as_ref()?.read()?;
    (last.reported == counts).then(|| usage_value(&last.tokens))
}

/// Gemini CLI's denial (docs/agents.md §3.3, observed on 0.61.0): the JSON object alone on
/// stdout, exit 0. Gemini reads stderr when stdout is empty and shows it to the user, and takes
/// any exit of 2 or more with output as a block, so nothing else is printed.
pub(super) fn deny(reason: &str) -> super::Reply {
    let json = serde_json::json!({"decision": "deny", "reason": reason});
    super::Reply::json(&json)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::capture::hooks::Signals;

    fn read_payload(stdin: &Value, signals: &Signals) -> Result<HookPayload, PayloadError> {
        crate::capture::hooks::read_payload("x", stdin.to_string().as_bytes(), signals)
    }

    fn payload(event: &str, extra: Value) -> Value {
        let mut p = json!({"session_id": "g1", "hook_event_name": event,
            "timestamp": "2026-11-30T05:36:48.409Z", "cwd": "/w", "transcript_path": "/t.jsonl"});
        let Value::Object(extra) = extra else {
            unreachable!("payload fields are an object")
        };
        for (k, v) in extra {
            p[k] = v;
        }
        p
    }

    #[test]
    fn gemini_is_told_by_its_events_its_environment_or_the_command_line() {
        let none = Signals::default();
        let p = read_payload(&payload("BeforeAgent", json!({"prompt": "hi"})), &none).unwrap();
        assert_eq!(p.agent, Agent::GeminiCli);
        assert_eq!(p.event, HookEvent::UserPromptSubmit);
        assert_eq!(p.prompt, Some(json!("hi")));
        assert_eq!(p.at, Some(1_796_017_008.409));
        // SessionStart is Claude's name too: only a signal says Gemini.
        let start = payload("SessionStart", json!({"source": "startup"}));
        assert_eq!(
            read_payload(&start, &none).unwrap().agent,
            Agent::ClaudeCode
        );
        let env = Signals {
            gemini: true,
            ..Signals::default()
        };
        assert_eq!(read_payload(&start, &env).unwrap().agent, Agent::GeminiCli);
        let declared = Signals {
            declared: Some(Agent::GeminiCli),
            ..Signals::default()
        };
        assert_eq!(
            read_payload(&start, &declared).unwrap().agent,
            Agent::GeminiCli
        );
    }

    #[test]
    fn tool_results_and_failures_come_from_tool_response() {
        let none = Signals::default();
        let ok = read_payload(
            &payload(
                "AfterTool",
                json!({"tool_name": "read_file", "tool_input": {"file_path": "README.md"},
                    "tool_response": {"llmContent": "hello\n", "returnDisplay": ""},
                    "mcp_context": null}),
            ),
            &none,
        )
        .unwrap();
        assert_eq!(ok.event, HookEvent::PostToolUse);
        let tool = ok.tool.unwrap();
        assert_eq!(tool.response, Some(json!("hello\n")));
        assert_eq!(tool.id, None);
        assert_eq!(ok.unknown, ["mcp_context"]);
        let failed = read_payload(
            &payload(
                "AfterTool",
                json!({"tool_name": "run_shell_command", "tool_input": {"command": "x"},
                    "tool_response": {"llmContent": "", "error": {"message": "boom", "type": "x"}}}),
            ),
            &none,
        )
        .unwrap();
        assert_eq!(failed.event, HookEvent::PostToolUseFailure);
        assert_eq!(failed.tool.unwrap().error, Some(json!("boom")));
    }

    #[test]
    fn a_chunk_reads_into_text_usage_and_finish() {
        let p = read_payload(
            &payload(
                "AfterModel",
                json!({"llm_request": {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "a long history"}]},
                    "llm_response": {"text": "", "candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP", "index": 0}],
                        "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 9, "totalTokenCount": 63}}}),
            ),
            &Signals::default(),
        )
        .unwrap();
        assert_eq!(p.event, HookEvent::ModelResponse);
        assert_eq!(p.fields["model"], "gemini-2.5-flash");
        assert_eq!(p.fields["finish_reason"], "STOP");
        assert_eq!(p.fields["text"], "");
        assert!(!p.fields.contains_key("llm_request") && !p.fields.contains_key("messages"));
        let usage = Tokens::from_usage(&p.fields["usage"]);
        assert_eq!((usage.input, usage.output, usage.reasoning), (50, 13, 4));
        assert_eq!(usage.total(), 63);
    }

    #[test]
    fn tokens_follow_the_stores_convention() {
        let t = tokens(&json!({"promptTokenCount": 50, "candidatesTokenCount": 9,
            "cachedContentTokenCount": 20, "thoughtsTokenCount": 4, "totalTokenCount": 63}));
        let t = t.unwrap();
        assert_eq!(
            (t.input, t.cache_read, t.output, t.reasoning, t.total()),
            (30, 20, 13, 4, 63)
        );
        assert_eq!(tokens(&json!({})), Ok(Tokens::default()));
        let null_thoughts = json!({"promptTokenCount": 50, "candidatesTokenCount": 9,
            "thoughtsTokenCount": null, "totalTokenCount": 63});
        assert_eq!(tokens(&null_thoughts).unwrap().reasoning, 4);
        for bad in [json!("x"), json!(-1), json!(0.5)] {
            let no_count = tokens(&json!({"promptTokenCount": bad})).unwrap_err();
            assert_eq!((no_count.counts, no_count.written), ("input_tokens", bad));
        }
        // A cached part past the prompt is no part of it: the usage is unknown, not all cached.
        let past = tokens(&json!({"promptTokenCount": 100, "candidatesTokenCount": 10,
            "cachedContentTokenCount": 5000, "totalTokenCount": 110}));
        assert_eq!(past.unwrap_err().counts, "input_tokens");
    }

    #[test]
    fn bad_chunks_are_named() {
        let none = Signals::default();
        assert_eq!(
            read_payload(&payload("AfterModel", json!({})), &none).unwrap_err(),
            PayloadError::Missing("llm_response")
        );
        assert_eq!(
            read_payload(&payload("AfterModel", json!({"llm_response": 5})), &none).unwrap_err(),
            PayloadError::WrongType("llm_response", "object")
        );
        assert_eq!(
            read_payload(&payload("BeforeTool", json!({})), &none).unwrap_err(),
            PayloadError::Missing("tool_name")
        );
    }
}
