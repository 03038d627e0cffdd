//! Which call a result answers: the one its `parent_id` names, else the call the agent's own id
//! of it names.
//!
//! Our writers and the Python tool's hooks and proxy link a result (or error, or file event) to
//! its call by `parent_id`. The Python tool's `import` links none: its `tool_call` keeps the
//! agent's id of the call as `request_id`, and its `tool_result` names it as `tool_use_id`.
//! Readers that pair results with calls ask [`Links::parent`] rather than reading `parent_id`,
//! so that such a result answers its call too.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{Event, EventType};

/// Calls not answered yet, by the agent's id of them.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    open: HashMap<String, String>,
}

/// Calls waiting for a result without a `parent_id` at most: a session whose calls are
/// answered by `parent_id` keeps none of them for long, and one whose calls are never answered
/// does not grow memory without end.
const OPEN_KEPT: usize = 1024;

impl Links {
    /// The event `event` answers: its `parent_id`, else, for a result or error that names the
    /// agent's id of a call seen before and not answered yet (`tool_use_id`, or the proxy's
    /// `request_id`), that call's event id. Notes the
    /// calls it is shown, so it is shown every event in order.
    pub fn parent<'e>(&mut self, event: &'e Event) -> Option<Cow<'e, str>> {
        match event.event_type {
            EventType::ToolCall => {
                let id = agent_id(event, "tool_use_id").or_else(|| agent_id(event, "request_id"));
                if let Some(id) = id {
                    if self.open.len() >= OPEN_KEPT {
                        self.open.clear();
                    }
                    self.open.insert(id, event.event_id.clone());
                }
            }
            EventType::ToolResult | EventType::Error => {
                let id = agent_id(event, "tool_use_id").or_else(|| agent_id(event, "request_id"));
                let linked = id.and_then(|id| self.open.remove(&id));
                if let Some(parent) = event.parent_id.as_deref() {
                    return Some(Cow::Borrowed(parent));
                }
                return linked.map(Cow::Owned);
            }
            _ => {}
        }
        event.parent_id.as_deref().map(Cow::Borrowed)
    }
}

/// The agent's id of a call that `event` holds under `key`: text, or a number (a JSON-RPC id).
fn agent_id(event: &Event, key: &str) -> Option<String> {
    match event.data.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: EventType, id: &str, parent: Option<&str>, data: Value) -> Event {
        let mut e = Event::new(kind, 1.0, id.into(), "s".into()).with_data(data);
        e.parent_id = parent.map(Into::into);
        e
    }

    #[test]
    fn a_result_without_parent_answers_the_call_its_tool_use_id_names() {
        let mut links = Links::default();
        let a = event(
            EventType::ToolCall,
            "a",
            None,
            json!({"tool_name": "Read", "request_id": "toolu_1"}),
        );
        let b = event(
            EventType::ToolCall,
            "b",
            None,
            json!({"tool_name": "Bash", "request_id": "toolu_2"}),
        );
        let rb = event(
            EventType::ToolResult,
            "rb",
            None,
            json!({"tool_use_id": "toolu_2"}),
        );
        let ra = event(
            EventType::ToolResult,
            "ra",
            None,
            json!({"tool_use_id": "toolu_1"}),
        );
        let again = event(
            EventType::ToolResult,
            "r",
            None,
            json!({"tool_use_id": "toolu_1"}),
        );
        let linked = event(
            EventType::Error,
            "e",
            Some("x"),
            json!({"tool_use_id": "toolu_9"}),
        );
        assert_eq!(links.parent(&a), None);
        assert_eq!(links.parent(&b), None);
        assert_eq!(links.parent(&rb).as_deref(), Some("b"));
        assert_eq!(links.parent(&ra).as_deref(), Some("a"));
        // A call is answered once.
        assert_eq!(links.parent(&again), None);
        assert_eq!(links.parent(&linked).as_deref(), Some("x"));
    }
}
