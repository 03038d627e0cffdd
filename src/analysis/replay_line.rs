//! What one replay line says about an event, as data: replay, the coming `watch`, the HTML
//! replay and the MCP server all compute it here and only differ in how they show it.

use serde::Serialize;

use crate::model::view::{LlmResponse, View};
use crate::model::{Agent, Event, EventType};

/// What kind of line it is: picks the icon and colour a renderer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    SessionStart,
    SessionEnd,
    Prompt,
    Answer,
    ToolCall,
    ToolResult,
    Error,
    /// A call the user refused or stopped: no failure.
    Rejected,
    FileRead,
    FileWrite,
    LlmRequest,
    LlmResponse,
    Decision,
    Subagent,
    Other,
}

/// How the detail reads, so a renderer can shorten it sensibly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailKind {
    /// Words a person or the model wrote: shown quoted, markdown stripped.
    Quote,
    /// A path, whose end says more than its start.
    Path,
    /// Anything else on one line.
    Text,
    /// Secondary information, shown muted.
    Muted,
    /// An error message.
    Error,
}

/// One event, as a replay line shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayLine {
    /// The event's number in its session, from 1.
    pub number: usize,
    /// Seconds from the session's start.
    pub offset_s: f64,
    pub kind: LineKind,
    /// The event type as written in the store.
    pub event_type: String,
    pub tool: Option<String>,
    /// For a decision, what happened (the hook event, the MCP method …).
    pub name: Option<String>,
    /// The line answers an earlier request (an MCP response).
    pub answered: bool,
    pub duration_ms: Option<f64>,
    /// The meaningful argument, the result's gist, the text, or the usage, in full.
    pub detail: Option<String>,
    pub detail_kind: DetailKind,
}

/// The line for `event`, the `number`th of a session of `agent` that began at `origin`.
pub fn replay_line(event: &Event, agent: Agent, number: usize, origin: f64) -> ReplayLine {
    let mut line = ReplayLine {
        number,
        offset_s: event.timestamp - origin,
        kind: LineKind::Other,
        event_type: event.event_type.as_str().to_owned(),
        tool: None,
        name: None,
        answered: false,
        duration_ms: None,
        detail: None,
        detail_kind: DetailKind::Text,
    };
    let owned = |s: Option<&str>| s.map(str::to_owned);
    match View::of(event, agent) {
        View::SessionStart(start) => {
            line.kind = LineKind::SessionStart;
            line.detail = owned(start.source);
            line.detail_kind = DetailKind::Muted;
        }
        View::SessionEnd { reason } => {
            line.kind = LineKind::SessionEnd;
            line.detail = owned(reason);
            line.detail_kind = DetailKind::Muted;
        }
        View::Prompt(text) | View::Answer(text) => {
            line.kind = if event.event_type == EventType::UserPrompt {
                LineKind::Prompt
            } else {
                LineKind::Answer
            };
            line.detail = Some(text.text.to_owned());
            line.detail_kind = DetailKind::Quote;
        }
        View::ToolCall(call) => {
            line.kind = LineKind::ToolCall;
            line.tool = Some(call.tool.to_owned());
            line.detail = call.gist();
            if call.gist_is_path() {
                line.detail_kind = DetailKind::Path;
            }
        }
        View::ToolResult(result) => {
            line.tool = owned(result.tool);
            line.duration_ms = result.duration_ms;
            if let (true, Some(why)) = (result.rejected(), &result.error) {
                line.kind = LineKind::Rejected;
                line.detail = Some(why.to_string());
                line.detail_kind = DetailKind::Muted;
            } else if let Some(error) = &result.error {
                line.kind = LineKind::Error;
                line.detail = Some(error.to_string());
                line.detail_kind = DetailKind::Error;
            } else {
                line.kind = LineKind::ToolResult;
                line.detail = result.gist();
                line.detail_kind = DetailKind::Muted;
            }
        }
        View::FileTouch(touch) => {
            line.kind = if touch.write {
                LineKind::FileWrite
            } else {
                LineKind::FileRead
            };
            line.detail = owned(touch.path);
            line.detail_kind = DetailKind::Path;
        }
        View::LlmRequest { model } => {
            line.kind = LineKind::LlmRequest;
            line.detail = owned(model);
        }
        View::LlmResponse(response) => {
            line.kind = LineKind::LlmResponse;
            line.duration_ms = response.duration_ms.filter(|ms| *ms > 0.0);
            line.detail = usage_text(&response);
        }
        View::Decision(decision) => {
            line.kind = LineKind::Decision;
            line.name = Some(decision.name.into_owned());
            line.answered = decision.answer;
            if decision.answer {
                line.duration_ms = decision.duration_ms;
            }
            line.detail = owned(decision.detail);
        }
        View::Subagent(sub) => {
            line.kind = LineKind::Subagent;
            line.detail = owned(sub.child_session.or(sub.agent_type));
        }
        View::Other => {}
    }
    line.detail = line.detail.filter(|d| !d.is_empty());
    line
}

/// `model · in 3 · out 27 · cache write 17696 · cache read 88231`.
fn usage_text(response: &LlmResponse<'_>) -> Option<String> {
    let mut parts: Vec<String> = response.model.map(str::to_owned).into_iter().collect();
    match response.usage {
        Some(t) => {
            parts.push(format!("in {}", t.input));
            parts.push(format!("out {}", t.output));
            for (label, n) in [
                ("cache write", t.cache_creation),
                ("cache read", t.cache_read),
                ("reasoning", t.reasoning),
            ] {
                if n > 0 {
                    parts.push(format!("{label} {n}"));
                }
            }
        }
        None if response.total > 0 => parts.push(format!("tokens {}", response.total)),
        None => {}
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn line(kind: EventType, data: Value) -> ReplayLine {
        let mut e = Event::new(kind, 12.5, "e".into(), "s".into());
        e.data = data;
        e.duration_ms = Some(40.0);
        replay_line(&e, Agent::ClaudeCode, 3, 10.0)
    }

    #[test]
    fn calls_show_their_telling_argument() {
        let l = line(
            EventType::ToolCall,
            json!({"tool_name": "Read", "arguments": {"file_path": "/src/a.rs"}}),
        );
        assert_eq!((l.number, l.offset_s), (3, 2.5));
        assert_eq!(l.kind, LineKind::ToolCall);
        assert_eq!(l.tool.as_deref(), Some("Read"));
        assert_eq!(l.detail.as_deref(), Some("/src/a.rs"));
        assert_eq!(l.detail_kind, DetailKind::Path);
    }

    #[test]
    fn failures_are_errors_with_their_message() {
        let l = line(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "exit 1"}),
        );
        assert_eq!(l.kind, LineKind::Error);
        assert_eq!(l.detail.as_deref(), Some("exit 1"));
        assert_eq!(l.duration_ms, Some(40.0));
    }

    #[test]
    fn refused_calls_are_rejections_not_errors() {
        let l = line(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed."}),
        );
        assert_eq!(l.kind, LineKind::Rejected);
        assert_eq!(l.detail_kind, DetailKind::Muted);
        let l = line(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "tool call failed", "is_interrupt": true}),
        );
        assert_eq!(l.kind, LineKind::Rejected);
    }

    #[test]
    fn responses_show_their_usage() {
        let l = line(
            EventType::LlmResponse,
            json!({"model": "m", "usage": {"input_tokens": 3, "output_tokens": 27, "cache_read_input_tokens": 5}}),
        );
        assert_eq!(
            l.detail.as_deref(),
            Some("m · in 3 · out 27 · cache read 5")
        );
    }

    #[test]
    fn empty_text_shows_nothing() {
        let l = line(EventType::UserPrompt, json!({"prompt": ""}));
        assert_eq!(l.detail, None);
    }
}
