//! The head of an event: the few fields that counting and statistics need, borrowed from the
//! line, so a scan of a long session allocates almost nothing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::event::{Event, EventType};
use super::outcome::{ToolOutcome, is_rejection};
use super::prompt;
use super::usage::{ApiUsage, Tokens, believed_tokens};

/// The parts of an event that summaries use. Everything else in the line is skipped unparsed.
#[derive(Debug, Clone, Deserialize)]
pub struct EventHead<'a> {
    #[serde(borrow)]
    pub event_type: Cow<'a, str>,
    pub timestamp: f64,
    #[serde(borrow, default)]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub parent_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    #[serde(borrow, default)]
    pub data: DataHead<'a>,
}

/// The parts of an event's data that summaries use.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DataHead<'a> {
    #[serde(borrow, default)]
    pub tool_name: Option<Cow<'a, str>>,
    /// The file a `file_read` or `file_write` names.
    #[serde(borrow, default)]
    pub path: Option<Cow<'a, str>>,
    /// The MCP resource a `file_read` or `file_write` of the Python tool's proxy names.
    #[serde(borrow, default)]
    pub uri: Option<Cow<'a, str>>,
    #[serde(default)]
    pub usage: Option<ApiUsage>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    #[serde(default)]
    pub tokens: Option<u64>,
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// What an error event says, as far as telling a refusal from a failure goes.
    #[serde(default)]
    pub error: Said,
    /// The message of an error that has no `error` key (the proxies' spelling).
    #[serde(default)]
    pub message: Said,
    /// The hook's flag for a call the user stopped.
    #[serde(default)]
    pub is_interrupt: Said,
    /// The call a result or error answers, as the agent named it.
    #[serde(default)]
    pub tool_use_id: Said,
    /// The conversation of a transcript an imported line belongs to (the Python tool's
    /// import: `main`, or a subagent's sidechain).
    #[serde(borrow, default)]
    pub context_stream: Option<Cow<'a, str>>,
    /// What a `user_prompt` says, as far as telling a person's prompt from what the agent put
    /// in the user's turn goes.
    #[serde(default)]
    pub prompt: PromptSaid,
    /// The Python tool's mark on the summary of a compaction it imported as a prompt.
    #[serde(default)]
    pub is_compaction_summary: Flag,
}

/// What a prompt's text is, read without keeping it: whether a person wrote it ([`Prompt::by_person`]:
/// typed words or a command, not an interruption, a notice, a command's output or a compaction's
/// summary). Text that is no string is no one's prompt, as [`crate::model::view::View`] reads it.
///
/// [`Prompt::by_person`]: super::prompt::Prompt::by_person
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PromptSaid {
    pub by_person: bool,
}

impl PromptSaid {
    fn of(value: Option<&serde_json::Value>) -> PromptSaid {
        PromptSaid {
            by_person: value
                .and_then(serde_json::Value::as_str)
                .is_some_and(|text| prompt::read(text).by_person()),
        }
    }
}

impl<'de> Deserialize<'de> for PromptSaid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PromptSaid, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = PromptSaid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PromptSaid, E> {
                Ok(PromptSaid {
                    by_person: prompt::read(v).by_person(),
                })
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<PromptSaid, E> {
                Ok(PromptSaid::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<PromptSaid, E> {
                Ok(PromptSaid::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<PromptSaid, E> {
                Ok(PromptSaid::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<PromptSaid, E> {
                Ok(PromptSaid::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<PromptSaid, E> {
                Ok(PromptSaid::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PromptSaid, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PromptSaid::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PromptSaid, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(PromptSaid::default())
            }
        }
        deserializer.deserialize_any(Read)
    }
}

/// A field that counts only when it is `true`; any other value (or none) is `false`, and is no
/// reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Flag, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Flag, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Flag(false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Flag, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Flag(false))
            }
        }
        deserializer.deserialize_any(Read)
    }
}

/// What one field of an error says, read without keeping its text: a long message costs no
/// allocation, and a field of an unexpected type is no reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Said {
    /// The field is there (whatever its value).
    pub present: bool,
    /// It is text saying that the user refused or stopped the call, or `true`.
    pub refusal: bool,
    /// It is text, not empty.
    pub text: bool,
}

impl Said {
    fn of(value: Option<&serde_json::Value>) -> Said {
        Said {
            present: value.is_some(),
            refusal: match value {
                Some(serde_json::Value::String(s)) => is_rejection(s),
                Some(serde_json::Value::Bool(b)) => *b,
                _ => false,
            },
            text: value
                .and_then(serde_json::Value::as_str)
                .is_some_and(|s| !s.is_empty()),
        }
    }
}

impl<'de> Deserialize<'de> for Said {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Said, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = Said;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Said, E> {
                Ok(Said {
                    present: true,
                    refusal: is_rejection(v),
                    text: !v.is_empty(),
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Said, E> {
                Ok(Said {
                    present: true,
                    refusal: v,
                    text: false,
                })
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Said, E> {
                Ok(PRESENT)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Said, E> {
                Ok(PRESENT)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Said, E> {
                Ok(PRESENT)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Said, E> {
                Ok(PRESENT)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Said, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PRESENT)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Said, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(PRESENT)
            }
        }
        deserializer.deserialize_any(Read)
    }
}

const PRESENT: Said = Said {
    present: true,
    refusal: false,
    text: false,
};

impl EventHead<'_> {
    /// The file a `file_read` or `file_write` names: its path, else the MCP resource's URI.
    pub fn file(&self) -> Option<&str> {
        (self.data.path.as_deref().filter(|p| !p.is_empty()))
            .or_else(|| self.data.uri.as_deref().filter(|u| !u.is_empty()))
    }

    pub fn kind(&self) -> EventType {
        EventType::parse(&self.event_type)
    }

    /// A prompt a person wrote: a `user_prompt` whose text is typed words or a command, read as
    /// [`crate::model::view::View`] reads it (not an interruption, a notice, a command's output
    /// or a compaction's summary).
    pub fn person_prompt(&self) -> bool {
        self.kind() == EventType::UserPrompt
            && self.data.prompt.by_person
            && !self.data.is_compaction_summary.0
    }

    pub fn tool_name(&self) -> Option<&str> {
        self.data.tool_name.as_deref().filter(|t| !t.is_empty())
    }

    /// Tokens an `llm_response` reports, whichever way its writer spelled them.
    pub fn tokens(&self) -> u64 {
        let d = &self.data;
        // A count no response can have is unknown, and counts none (`ApiUsage`).
        if let Some(u) = d.usage {
            return u.0.map_or(0, |t| t.total());
        }
        let total = d.total_tokens.or(d.tokens).unwrap_or_else(|| {
            d.input_tokens
                .unwrap_or(0)
                .saturating_add(d.output_tokens.unwrap_or(0))
        });
        believed_tokens(total).unwrap_or(0)
    }

    /// A response's usage was recorded, but holds a count no response can have
    /// ([`ApiUsage`]): its tokens are unknown, where [`EventHead::tokens`] counts none. Read
    /// as [`crate::model::view::LlmResponse`] and [`crate::model::answers`] read it.
    pub fn unbelieved_usage(&self) -> bool {
        let d = &self.data;
        match self.kind() {
            EventType::LlmResponse | EventType::AssistantResponse
                if d.usage.is_some_and(|u| u.0.is_none()) =>
            {
                true
            }
            EventType::LlmResponse if d.usage.is_none() => {
                let total = d.total_tokens.or(d.tokens).unwrap_or_else(|| {
                    d.input_tokens
                        .unwrap_or(0)
                        .saturating_add(d.output_tokens.unwrap_or(0))
                });
                believed_tokens(total).is_none()
            }
            _ => false,
        }
    }

    /// How the call a result or error answers ended; `None` for other events. Reads the
    /// fields [`crate::model::view::ToolResult`] reads, the same way.
    pub fn outcome(&self) -> Option<ToolOutcome> {
        match self.kind() {
            EventType::ToolResult => Some(ToolOutcome::Ok),
            EventType::Error => {
                let d = &self.data;
                let said = if d.error.present { d.error } else { d.message };
                Some(if said.refusal || d.is_interrupt.refusal {
                    ToolOutcome::Rejected
                } else {
                    ToolOutcome::Failed
                })
            }
            _ => None,
        }
    }

    /// An error of no call that failed: one that names no tool and answers no call (an API
    /// error that ended the turn), the turn's and not a tool's. Reads what
    /// [`crate::model::view::ToolResult::of_no_call`] reads, the same way.
    pub fn turn_error(&self) -> bool {
        self.outcome() == Some(ToolOutcome::Failed)
            && self.tool_name().is_none()
            && self.parent_id.is_none()
            && !self.data.tool_use_id.text
    }
}

impl<'a> EventHead<'a> {
    /// The head of a full event, for code that already holds one.
    pub fn of(event: &'a Event) -> EventHead<'a> {
        let data = &event.data;
        let number = |key: &str| data.get(key).and_then(serde_json::Value::as_u64);
        let usage = data
            .get("usage")
            .filter(|u| u.is_object())
            .map(|u| ApiUsage(Tokens::read_usage(u)));
        EventHead {
            event_type: Cow::Borrowed(event.event_type.as_str()),
            timestamp: event.timestamp,
            event_id: Some(Cow::Borrowed(event.event_id.as_str())),
            parent_id: event.parent_id.as_deref().map(Cow::Borrowed),
            duration_ms: event.duration_ms,
            data: DataHead {
                tool_name: data
                    .get("tool_name")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                path: data
                    .get("path")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                uri: data
                    .get("uri")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                usage,
                total_tokens: number("total_tokens"),
                tokens: number("tokens"),
                input_tokens: number("input_tokens"),
                output_tokens: number("output_tokens"),
                error: Said::of(data.get("error")),
                message: Said::of(data.get("message")),
                is_interrupt: Said::of(data.get("is_interrupt")),
                tool_use_id: Said::of(data.get("tool_use_id")),
                context_stream: data
                    .get("context_stream")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                prompt: PromptSaid::of(data.get("prompt")),
                is_compaction_summary: Flag(
                    data.get("is_compaction_summary") == Some(&serde_json::Value::Bool(true)),
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_and_its_full_event_give_the_same_head() {
        let line = r#"{"event_type":"llm_response","timestamp":2.5,"event_id":"e","session_id":"s","parent_id":"p","duration_ms":3.0,"data":{"tool_name":"X","usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":10},"big":[1,2,{"x":"y"}]},"prev_hash":"h"}"#;
        let head: EventHead<'_> = serde_json::from_str(line).unwrap();
        let event: Event = serde_json::from_str(line).unwrap();
        let of = EventHead::of(&event);
        for h in [&head, &of] {
            assert_eq!(h.kind(), EventType::LlmResponse);
            assert_eq!(h.tokens(), 17);
            assert_eq!(h.tool_name(), Some("X"));
            assert_eq!(h.parent_id.as_deref(), Some("p"));
            assert_eq!(h.duration_ms, Some(3.0));
            assert_eq!(h.outcome(), None);
        }
    }

    #[test]
    fn a_line_and_its_full_event_agree_on_a_persons_prompt() {
        let lines = [
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"fix the \"tests\""}}"#,
                true,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"<command-name>/plugin</command-name>"}}"#,
                true,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"[Request interrupted by user]"}}"#,
                false,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"<local-command-stdout>ok</local-command-stdout>"}}"#,
                false,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"summary","is_compaction_summary":true}}"#,
                false,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"typed","is_compaction_summary":"yes"}}"#,
                true,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":{"text":"x"}}}"#,
                false,
            ),
            (
                r#"{"event_type":"tool_call","timestamp":1,"data":{"prompt":"typed"}}"#,
                false,
            ),
        ];
        for (line, person) in lines {
            let head: EventHead<'_> = serde_json::from_str(line).unwrap();
            let event: Event = serde_json::from_str(line).unwrap();
            assert_eq!(head.person_prompt(), person, "{line}");
            assert_eq!(EventHead::of(&event).person_prompt(), person, "{line}");
        }
    }

    #[test]
    fn a_line_and_its_full_event_agree_on_the_outcome() {
        let lines = [
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"Exit code 1\nboom"}}"#,
                ToolOutcome::Failed,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"The user doesn't want to proceed with this tool use.\nSTOP"}}"#,
                ToolOutcome::Rejected,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"tool call failed","is_interrupt":true}}"#,
                ToolOutcome::Rejected,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":{"code":1},"is_interrupt":"yes"}}"#,
                ToolOutcome::Failed,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"message":"User rejected tool use"}}"#,
                ToolOutcome::Rejected,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":null,"message":"User rejected tool use"}}"#,
                ToolOutcome::Failed,
            ),
            (
                r#"{"event_type":"tool_result","timestamp":1,"data":{"result":"ok"}}"#,
                ToolOutcome::Ok,
            ),
        ];
        for (line, outcome) in lines {
            let head: EventHead<'_> = serde_json::from_str(line).unwrap();
            let mut event: Event = serde_json::from_str(line).unwrap();
            event.event_id = "e".into();
            assert_eq!(head.outcome(), Some(outcome), "{line}");
            assert_eq!(EventHead::of(&event).outcome(), Some(outcome), "{line}");
            let view = crate::model::view::View::of(&event, crate::model::Agent::ClaudeCode);
            let crate::model::view::View::ToolResult(result) = view else {
                panic!("a result")
            };
            assert_eq!(result.outcome, outcome, "{line}");
        }
    }

    #[test]
    fn a_line_and_its_full_event_agree_on_an_error_of_no_call() {
        let lines = [
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"API error (overloaded)"}}"#,
                true,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_use_id":""}}"#,
                true,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_use_id":7}}"#,
                true,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_use_id":"t1"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_name":"Bash"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"parent_id":"c","data":{"error":"x"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"User rejected tool use"}}"#,
                false,
            ),
            (
                r#"{"event_type":"tool_result","timestamp":1,"data":{"result":"ok"}}"#,
                false,
            ),
        ];
        for (line, turn) in lines {
            let head: EventHead<'_> = serde_json::from_str(line).unwrap();
            let mut event: Event = serde_json::from_str(line).unwrap();
            event.event_id = "e".into();
            assert_eq!(head.turn_error(), turn, "{line}");
            assert_eq!(EventHead::of(&event).turn_error(), turn, "{line}");
            let view = crate::model::view::View::of(&event, crate::model::Agent::ClaudeCode);
            let crate::model::view::View::ToolResult(result) = view else {
                panic!("a result")
            };
            assert_eq!(result.of_no_call && result.failed(), turn, "{line}");
        }
    }
}
