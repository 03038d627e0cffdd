//! The head of an event: the few fields that counting and statistics need, borrowed from the
//! line, so a scan of a long session allocates almost nothing.

use std::borrow::Cow;

use serde::Deserialize;

use super::event::{Event, EventType};
use super::usage::{ApiUsage, Tokens};

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
}

impl EventHead<'_> {
    pub fn kind(&self) -> EventType {
        EventType::parse(&self.event_type)
    }

    pub fn tool_name(&self) -> Option<&str> {
        self.data.tool_name.as_deref().filter(|t| !t.is_empty())
    }

    /// Tokens an `llm_response` reports, whichever way its writer spelled them.
    pub fn tokens(&self) -> u64 {
        let d = &self.data;
        if let Some(u) = d.usage {
            return u.0.total();
        }
        d.total_tokens
            .or(d.tokens)
            .unwrap_or_else(|| d.input_tokens.unwrap_or(0) + d.output_tokens.unwrap_or(0))
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
            .map(|u| ApiUsage(Tokens::from_usage(u)));
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
                usage,
                total_tokens: number("total_tokens"),
                tokens: number("tokens"),
                input_tokens: number("input_tokens"),
                output_tokens: number("output_tokens"),
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
        }
    }
}
