//! One event whole, as data (`replay --show N`): a command with all of its output, an edit
//! as a unified diff, a write's content, anything else as pretty JSON.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::replay_line::{Numbered, ReplayLine, replay_line};
use crate::model::view::{ToolCall, ToolResult, View};
use crate::model::{Agent, Event, EventType};

/// One event, whole.
#[derive(Debug, Clone, Serialize)]
pub struct EventDetail {
    /// The event's line, as the story shows it.
    pub line: ReplayLine,
    pub sections: Vec<Section>,
}

/// A titled part of an event: the command, its output, a diff, the data.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    #[serde(flatten)]
    pub body: Body,
}

/// What a section holds.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "body", rename_all = "snake_case")]
pub enum Body {
    Text { text: String },
    Diff { lines: Vec<DiffLine> },
}

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: DiffTag,
    pub text: String,
}

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffTag {
    /// `--- path` / `+++ path`.
    File,
    /// `@@ … @@`.
    Hunk,
    Context,
    Removed,
    Added,
}

/// Lines of context around each change, as `diff -u` shows.
const CONTEXT: usize = 3;

/// The event numbered `number` (its place in the file, from 1) among a session's `events`,
/// whole; `None` when there is no such event.
pub fn show(events: &[Numbered], number: usize, agent: Agent, origin: f64) -> Option<EventDetail> {
    let item = events.iter().find(|n| n.number == number)?;
    let event = &item.event;
    let line = replay_line(event, agent, number, origin);
    let mut sections = Vec::new();
    match View::of(event, agent) {
        View::ToolCall(call) => {
            describe_call(&call, &mut sections);
            if let Some(result) = answer_to(events, event, agent) {
                describe_result(&result, &call, &mut sections);
            }
        }
        View::ToolResult(result) => {
            let call = event.parent_id.as_deref().and_then(|parent| {
                events
                    .iter()
                    .find(|n| n.event.event_id == parent)
                    .and_then(|n| ToolCall::from_event(&n.event, agent))
            });
            match call {
                Some(call) => {
                    describe_call(&call, &mut sections);
                    describe_result(&result, &call, &mut sections);
                }
                None => output(&result, &mut sections),
            }
        }
        View::Prompt(text) => {
            let prompt = text.prompt();
            if prompt.text != text.text {
                sections.push(text_section("as recorded", text.text));
            }
            sections.insert(0, text_section("prompt", &prompt.text));
        }
        View::Answer(text) => sections.push(text_section("answer", text.text)),
        View::Thinking(text) => sections.push(text_section("thinking", text.text)),
        View::Compaction(compaction) => {
            if let Some(summary) = compaction.summary {
                sections.push(text_section("summary", summary));
            }
        }
        _ => {}
    }
    if sections.is_empty() {
        sections.push(text_section("data", &pretty(&event.data)));
    }
    Some(EventDetail { line, sections })
}

/// The result or failure that answers `call`.
fn answer_to<'e>(events: &'e [Numbered], call: &Event, agent: Agent) -> Option<ToolResult<'e>> {
    events
        .iter()
        .filter(|n| matches!(n.event.event_type, EventType::ToolResult | EventType::Error))
        .find(|n| n.event.parent_id.as_deref() == Some(call.event_id.as_str()))
        .and_then(|n| match View::of(&n.event, agent) {
            View::ToolResult(result) => Some(result),
            _ => None,
        })
}

fn describe_call(call: &ToolCall<'_>, sections: &mut Vec<Section>) {
    if let Some(command) = call.command_line() {
        sections.push(text_section("command", &command));
        return;
    }
    let path = call.path().unwrap_or(call.tool);
    let edits = call.edits();
    if !edits.is_empty() {
        let mut lines = file_lines(path);
        for edit in edits {
            lines.extend(fragment_diff(edit.old, edit.new));
        }
        sections.push(Section {
            title: format!("{} {path}", call.tool),
            body: Body::Diff { lines },
        });
        return;
    }
    if let Some(content) = call.content() {
        sections.push(text_section(&format!("{} {path}", call.tool), content));
        return;
    }
    if !call.arguments.is_null() {
        sections.push(text_section("arguments", &pretty(call.arguments)));
    }
}

fn describe_result(result: &ToolResult<'_>, call: &ToolCall<'_>, sections: &mut Vec<Section>) {
    // An edit tool that reported its patch shows it with the file's own line numbers, in
    // place of the diff of the replaced text.
    let patch = result.patch();
    if !patch.is_empty() {
        let path = call.path().unwrap_or(call.tool);
        let mut lines = file_lines(path);
        for hunk in patch {
            lines.push(DiffLine {
                tag: DiffTag::Hunk,
                text: format!(
                    "@@ -{},{} +{},{} @@",
                    hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines
                ),
            });
            for text in hunk.lines {
                let tag = match text.chars().next() {
                    Some('-') => DiffTag::Removed,
                    Some('+') => DiffTag::Added,
                    _ => DiffTag::Context,
                };
                let text = text.get(1..).unwrap_or_default().to_owned();
                lines.push(DiffLine { tag, text });
            }
        }
        if let Some(section) = sections
            .iter_mut()
            .find(|s| matches!(s.body, Body::Diff { .. }))
        {
            section.body = Body::Diff { lines };
        } else {
            sections.push(Section {
                title: format!("{} {path}", call.tool),
                body: Body::Diff { lines },
            });
        }
        if result.error.is_none() {
            return;
        }
    }
    output(result, sections);
}

fn output(result: &ToolResult<'_>, sections: &mut Vec<Section>) {
    let Some(text) = result.full_text() else {
        return;
    };
    let title = if result.failed() { "error" } else { "output" };
    // Output that is JSON (an MCP tool's, say) reads better indented.
    let text = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) if value.is_object() || value.is_array() => pretty(&value),
        _ => text.into_owned(),
    };
    sections.push(text_section(title, &text));
}

fn file_lines(path: &str) -> Vec<DiffLine> {
    vec![
        DiffLine {
            tag: DiffTag::File,
            text: format!("--- {path}"),
        },
        DiffLine {
            tag: DiffTag::File,
            text: format!("+++ {path}"),
        },
    ]
}

/// The unified diff of one replacement. The replaced text is a fragment of the file, so its
/// hunks carry no line numbers (`@@ … @@`): numbers counted from the fragment would point at
/// the wrong lines of the file.
fn fragment_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        lines.push(DiffLine {
            tag: DiffTag::Hunk,
            text: "@@ … @@".to_owned(),
        });
        for change in hunk.iter_changes() {
            let tag = match change.tag() {
                ChangeTag::Equal => DiffTag::Context,
                ChangeTag::Delete => DiffTag::Removed,
                ChangeTag::Insert => DiffTag::Added,
            };
            let text = change.value();
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            lines.push(DiffLine {
                tag,
                text: text.to_owned(),
            });
        }
    }
    lines
}

fn text_section(title: &str, text: &str) -> Section {
    Section {
        title: title.to_owned(),
        body: Body::Text {
            text: text.to_owned(),
        },
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn numbered(n: usize, kind: EventType, parent: Option<usize>, data: Value) -> Numbered {
        let mut event = Event::new(kind, n as f64, format!("e{n}"), "s".into()).with_data(data);
        event.parent_id = parent.map(|p| format!("e{p}"));
        Numbered { number: n, event }
    }

    fn texts(detail: &EventDetail) -> Vec<(String, String)> {
        detail
            .sections
            .iter()
            .map(|s| match &s.body {
                Body::Text { text } => (s.title.clone(), text.clone()),
                Body::Diff { lines } => (
                    s.title.clone(),
                    lines
                        .iter()
                        .map(|l| format!("{:?} {}", l.tag, l.text))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
            })
            .collect()
    }

    #[test]
    fn a_command_shows_with_all_its_output() {
        let events = vec![
            numbered(
                1,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": "cargo test"}}),
            ),
            numbered(
                2,
                EventType::ToolResult,
                Some(1),
                json!({"tool_name": "Bash", "tool_response": {"stdout": "a\nb\nc", "stderr": "warn"}}),
            ),
        ];
        let detail = show(&events, 1, Agent::ClaudeCode, 0.0).unwrap();
        assert_eq!(
            texts(&detail),
            vec![
                ("command".into(), "cargo test".into()),
                ("output".into(), "a\nb\nc\nwarn".into())
            ]
        );
        let detail = show(&events, 2, Agent::ClaudeCode, 0.0).unwrap();
        assert_eq!(texts(&detail)[0].1, "cargo test");
        assert!(show(&events, 3, Agent::ClaudeCode, 0.0).is_none());
    }

    #[test]
    fn an_edit_is_a_unified_diff() {
        let events = vec![numbered(
            1,
            EventType::ToolCall,
            None,
            json!({"tool_name": "Edit", "arguments": {"file_path": "/a.rs", "old_string": "a\nb\nc\n", "new_string": "a\nB\nc\n"}}),
        )];
        let detail = show(&events, 1, Agent::ClaudeCode, 0.0).unwrap();
        let Body::Diff { lines } = &detail.sections[0].body else {
            panic!("a diff")
        };
        let tags: Vec<(DiffTag, &str)> = lines.iter().map(|l| (l.tag, l.text.as_str())).collect();
        assert_eq!(
            tags,
            vec![
                (DiffTag::File, "--- /a.rs"),
                (DiffTag::File, "+++ /a.rs"),
                (DiffTag::Hunk, "@@ … @@"),
                (DiffTag::Context, "a"),
                (DiffTag::Removed, "b"),
                (DiffTag::Added, "B"),
                (DiffTag::Context, "c"),
            ]
        );
    }

    #[test]
    fn a_reported_patch_keeps_the_files_line_numbers() {
        let events = vec![
            numbered(
                1,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Edit", "arguments": {"file_path": "/a.rs", "old_string": "b", "new_string": "B"}}),
            ),
            numbered(
                2,
                EventType::ToolResult,
                Some(1),
                json!({"tool_name": "Edit", "tool_response": {"structuredPatch": [{"oldStart": 40, "oldLines": 1, "newStart": 40, "newLines": 1, "lines": ["-b", "+B"]}]}}),
            ),
        ];
        let detail = show(&events, 1, Agent::ClaudeCode, 0.0).unwrap();
        let (_, diff) = &texts(&detail)[0];
        assert!(
            diff.contains("Hunk @@ -40,1 +40,1 @@\nRemoved b\nAdded B"),
            "{diff}"
        );
        assert_eq!(detail.sections.len(), 1);
    }

    #[test]
    fn other_events_are_pretty_json() {
        let events = vec![numbered(
            1,
            EventType::Decision,
            None,
            json!({"method": "tools/list"}),
        )];
        let detail = show(&events, 1, Agent::Mcp, 0.0).unwrap();
        assert_eq!(texts(&detail)[0].1, "{\n  \"method\": \"tools/list\"\n}");
    }
}
