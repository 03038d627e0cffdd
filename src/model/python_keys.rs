//! The keys the Python agent-strace reads an event by where ours name the same thing otherwise,
//! written beside ours (never instead), so that a store we write reads alike in both tools.
//!
//! Its commands read an error's text from `message` (`stats` lists every error of ours as
//! "unknown" without it, `why` and its MCP server's errors show none) and an `llm_response`'s
//! tokens from `total_tokens` (`replay`, `timeline`, `share` and `sample` show or count no token
//! without it) and from `input_tokens` and `output_tokens` beside it (its OTLP exports; its
//! `cost --breakdown provider` reads the usage object only when neither is there, so both are
//! written or neither); and a `decision`'s name from `choice` alone (`replay` showed each hook
//! event of no kind of its own, a Notification, and each MCP method our proxies record, as a
//! bare `decision`). Our readers keep reading our own keys first (`error`, `usage`,
//! `hook_event_name` and `method`); these are plain
//! keys of `data`, which adr/0001 lets a writer add without a new store format. A file event's
//! `uri`, the third such key, is written where the event is made ([`super::shell_files`]).

use serde_json::{Map, Value};

use super::event::{Event, EventType};
use super::view::LlmResponse;

/// The most of an error's text `message` repeats, in bytes: the Python tool shows at most its
/// first 150 characters, and a long error (a failed test run's output) is not written twice.
pub const MESSAGE_LIMIT: usize = 1024;

/// What ends a `message` cut at [`MESSAGE_LIMIT`]; the whole text is in `error`.
const MESSAGE_CUT: &str = "…";

/// Adds to `event`'s data the keys the Python tool reads it by, where ours name them otherwise
/// and the writer did not: an error's `message` (its `error` text, at most [`MESSAGE_LIMIT`]
/// bytes of it); a response's `total_tokens` (the sum of its usage, as the Python tool's import
/// counts a response's tokens) and its usage's `input_tokens` and `output_tokens`; a decision's
/// `choice` (its hook event or method). Data that is no object, or already has the key, is left
/// as it is.
pub fn add(event: &mut Event) {
    let response = match event.event_type {
        EventType::LlmResponse => LlmResponse::from_event(event)
            .filter(|r| !r.unbelieved && r.total > 0)
            .map(|r| (r.total, r.usage)),
        _ => None,
    };
    let Value::Object(data) = &mut event.data else {
        return;
    };
    match event.event_type {
        EventType::Error => add_message(data),
        EventType::Decision => add_choice(data),
        EventType::LlmResponse => {
            let Some((total, usage)) = response else {
                return;
            };
            if !data.contains_key("total_tokens") {
                data.insert("total_tokens".into(), total.into());
            }
            if let Some(usage) = usage
                && !data.contains_key("input_tokens")
                && !data.contains_key("output_tokens")
            {
                data.insert("input_tokens".into(), usage.input.into());
                data.insert("output_tokens".into(), usage.output.into());
            }
        }
        _ => {}
    }
}

/// A decision's name, as our readers name it ([`super::view::View`]): the hook event, the MCP
/// method, else the HTTP request.
fn add_choice(data: &mut Map<String, Value>) {
    if data.contains_key("choice") {
        return;
    }
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let choice = match (
        text("hook_event_name").or_else(|| text("method")),
        text("http_method"),
    ) {
        (Some(name), _) => name.to_owned(),
        (None, Some(method)) => format!("{method} {}", text("path").unwrap_or_default()),
        (None, None) => return,
    };
    data.insert("choice".into(), choice.into());
}

fn add_message(data: &mut Map<String, Value>) {
    if data.contains_key("message") {
        return;
    }
    let Some(error) = data
        .get("error")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    else {
        return;
    };
    let message = if error.len() <= MESSAGE_LIMIT {
        error.to_owned()
    } else {
        let mut end = MESSAGE_LIMIT - MESSAGE_CUT.len();
        while !error.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{MESSAGE_CUT}", &error[..end])
    };
    data.insert("message".into(), message.into());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(kind: EventType, data: Value) -> Event {
        Event::new(kind, 1.0, "e".into(), "s".into()).with_data(data)
    }

    fn added(kind: EventType, data: Value) -> Value {
        let mut e = event(kind, data);
        add(&mut e);
        e.data
    }

    #[test]
    fn an_error_repeats_its_text_as_message() {
        assert_eq!(
            added(
                EventType::Error,
                json!({"tool_name": "Bash", "error": "Exit code 2"})
            ),
            json!({"tool_name": "Bash", "error": "Exit code 2", "message": "Exit code 2"})
        );
        // A message of its own (the Python tool's proxy, a collector's client) is kept.
        let own = json!({"error": "x", "message": "the server's words"});
        assert_eq!(added(EventType::Error, own.clone()), own);
        for nothing in [json!({}), json!({"error": ""}), json!({"error": true})] {
            assert_eq!(added(EventType::Error, nothing.clone()), nothing);
        }
        // Other kinds are left alone.
        let result = json!({"error": "x"});
        assert_eq!(added(EventType::ToolResult, result.clone()), result);
    }

    #[test]
    fn a_decision_is_named_as_our_readers_name_it() {
        let choice = |data: Value| added(EventType::Decision, data).get("choice").cloned();
        assert_eq!(
            choice(json!({"hook_event_name": "Notification", "message": "waiting"})),
            Some(json!("Notification"))
        );
        assert_eq!(
            choice(json!({"method": "tools/list", "jsonrpc_id": "2"})),
            Some(json!("tools/list"))
        );
        assert_eq!(
            choice(json!({"http_method": "DELETE", "path": "/mcp"})),
            Some(json!("DELETE /mcp"))
        );
        // A choice of its own (thinking, compaction, the proxy's start) is kept; no name, none.
        assert_eq!(
            choice(json!({"kind": "thinking", "choice": "thinking"})),
            Some(json!("thinking"))
        );
        assert_eq!(choice(json!({"reasoning": "hm"})), None);
    }

    #[test]
    fn a_long_error_is_repeated_in_part_ending_on_a_character() {
        let error = "é".repeat(MESSAGE_LIMIT);
        let data = added(EventType::Error, json!({ "error": error }));
        let message = data["message"].as_str().unwrap();
        assert!(message.len() <= MESSAGE_LIMIT, "{}", message.len());
        assert!(message.ends_with("é…"), "{message}");
        assert!(error.starts_with(message.trim_end_matches('…')));
        assert_eq!(data["error"], error.as_str());
    }

    #[test]
    fn a_response_gets_the_total_of_its_usage() {
        let usage = json!({"input_tokens": 3, "output_tokens": 20,
            "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000});
        assert_eq!(
            added(EventType::LlmResponse, json!({ "usage": usage })),
            json!({"usage": usage, "total_tokens": 1123, "input_tokens": 3, "output_tokens": 20})
        );
        // Counts of its own are kept; no usage, or usage no response can have, adds none.
        let own = json!({"usage": usage, "total_tokens": 7, "output_tokens": 5});
        assert_eq!(added(EventType::LlmResponse, own.clone()), own);
        // A total alone (no usage by kind) gets no split.
        assert_eq!(
            added(EventType::LlmResponse, json!({"tokens": 50})),
            json!({"tokens": 50, "total_tokens": 50})
        );
        for none in [
            json!({"model": "m"}),
            json!({"usage": {"input_tokens": -1}}),
            json!({"usage": {"input_tokens": 0, "output_tokens": 0}}),
        ] {
            assert_eq!(added(EventType::LlmResponse, none.clone()), none);
        }
        assert_eq!(added(EventType::LlmResponse, json!("text")), json!("text"));
    }
}
