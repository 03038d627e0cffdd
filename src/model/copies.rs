//! Copies of an event a session holds more than once, so that each is counted once.
//!
//! A transcript that repeats a stretch of its history (a resumed or forked conversation) is
//! imported by the Python tool line for line: its store then holds the same call, result,
//! request, response or prompt twice, each with a new event id but the agent's id of it and
//! its time unchanged. Our import counts such a stretch once (`capture::transcript::repeats`);
//! this is the same rule for what a store holds, whoever wrote it. An event is a copy when one
//! met before has the same kind, the same time and the same identity: the agent's id of the
//! call it is or answers (`tool_use_id`, else `request_id`), the id of the message a model
//! request or response is of (`message_id`, else `request_id`), or a prompt's words. An id
//! alone is not enough: a server reuses its JSON-RPC ids, and a new call may take the id of an
//! old one, but never at the very same time. Events of no identity, or of no time, are never
//! copies.
//!
//! Folds skip a copy's figures; `replay`, `inspect` and `export` show every line as stored.
//! The identities are kept as hashes, the latest [`KEPT`] of them, in memory only: a fold kept
//! on disk (`.counters`, read and written by every hook, and the index) does not carry them, so
//! its size and a hook's cost do not grow with the session. A fold caught up from an offset
//! therefore meets only the copies within what it folds in one go; a store's copies come from
//! an import that writes a whole session at once, which a fold reads in one go.

use std::collections::{HashSet, VecDeque};

use super::event::EventType;
use super::hash::fnv1a;
use super::head::EventHead;

/// How many identities are remembered: a copy of an event further back than this many events
/// with an identity is counted again.
pub const KEPT: usize = 2048;

/// The identities of the events met so far (the latest [`KEPT`]), oldest first.
#[derive(Debug, Clone, Default)]
pub struct Copies {
    order: VecDeque<u64>,
    met: HashSet<u64>,
}

/// What tells a copy is no figure of a fold: two folds of the same figures are equal whatever
/// each has met (one read back from `.counters` has met nothing).
impl PartialEq for Copies {
    fn eq(&self, _: &Copies) -> bool {
        true
    }
}

impl Copies {
    /// Whether `event` is a copy of an event met before; notes it when it is not.
    pub fn is_copy(&mut self, event: &EventHead<'_>) -> bool {
        identity(event).is_some_and(|key| !self.note(key))
    }

    /// Notes `key`; false when it was met before.
    fn note(&mut self, key: u64) -> bool {
        if !self.met.insert(key) {
            return false;
        }
        if self.order.len() == KEPT
            && let Some(oldest) = self.order.pop_front()
        {
            self.met.remove(&oldest);
        }
        self.order.push_back(key);
        true
    }
}

/// What tells `event` from another of its kind at its time, hashed with both; `None` when
/// nothing does.
fn identity(event: &EventHead<'_>) -> Option<u64> {
    if !event.timestamp.is_finite() {
        return None;
    }
    let d = &event.data;
    let id = match event.kind() {
        EventType::ToolCall | EventType::ToolResult | EventType::Error => {
            d.tool_use_id.hash.or(d.request_id.hash)
        }
        EventType::LlmRequest | EventType::LlmResponse => d.message_id.hash.or(d.request_id.hash),
        EventType::UserPrompt => d.prompt.hash,
        _ => None,
    }?;
    let mut bytes = event.event_type.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(&id.to_le_bytes());
    bytes.extend_from_slice(&event.timestamp.to_bits().to_le_bytes());
    Some(fnv1a(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;
    use serde_json::{Value, json};

    fn copy(copies: &mut Copies, kind: EventType, ts: f64, data: Value) -> bool {
        let event = Event::new(kind, ts, "e".into(), "s".into()).with_data(data);
        copies.is_copy(&EventHead::of(&event))
    }

    #[test]
    fn a_copy_has_the_kind_the_identity_and_the_time_of_one_met_before() {
        let mut seen = Copies::default();
        let call = json!({"tool_name": "Bash", "request_id": "toolu_1"});
        assert!(!copy(&mut seen, EventType::ToolCall, 1.5, call.clone()));
        assert!(copy(&mut seen, EventType::ToolCall, 1.5, call.clone()));
        // The same id at another time is another call (a JSON-RPC id a server reuses).
        assert!(!copy(&mut seen, EventType::ToolCall, 9.0, call));
        let rpc = json!({"tool_name": "search", "request_id": 7});
        assert!(!copy(&mut seen, EventType::ToolCall, 2.0, rpc.clone()));
        assert!(!copy(&mut seen, EventType::ToolCall, 3.0, rpc.clone()));
        assert!(copy(&mut seen, EventType::ToolCall, 3.0, rpc));
        // A result of the call is no copy of it.
        let result = json!({"tool_use_id": "toolu_1"});
        assert!(!copy(&mut seen, EventType::ToolResult, 1.5, result.clone()));
        assert!(copy(&mut seen, EventType::ToolResult, 1.5, result));
        let response = json!({"message_id": "msg_1", "usage": {"output_tokens": 3}});
        assert!(!copy(
            &mut seen,
            EventType::LlmRequest,
            4.0,
            response.clone()
        ));
        assert!(!copy(
            &mut seen,
            EventType::LlmResponse,
            4.0,
            response.clone()
        ));
        assert!(copy(&mut seen, EventType::LlmResponse, 4.0, response));
        let prompt = json!({"prompt": "go on"});
        assert!(!copy(&mut seen, EventType::UserPrompt, 5.0, prompt.clone()));
        assert!(copy(&mut seen, EventType::UserPrompt, 5.0, prompt.clone()));
        // The same words typed again later are a new prompt.
        assert!(!copy(&mut seen, EventType::UserPrompt, 6.0, prompt));
        // No identity, or no time: never a copy.
        for _ in 0..2 {
            assert!(!copy(
                &mut seen,
                EventType::ToolCall,
                7.0,
                json!({"tool_name": "Bash"})
            ));
            assert!(!copy(&mut seen, EventType::SessionEnd, 7.0, json!({})));
            let untimed = json!({"tool_name": "Bash", "tool_use_id": "toolu_2"});
            assert!(!copy(&mut seen, EventType::ToolCall, f64::NAN, untimed));
        }
    }

    #[test]
    fn the_latest_identities_are_kept() {
        let mut seen = Copies::default();
        let call = |i: usize| json!({"tool_use_id": format!("toolu_{i}")});
        for i in 0..=KEPT {
            assert!(!copy(&mut seen, EventType::ToolCall, 1.0, call(i)));
        }
        assert!(copy(&mut seen, EventType::ToolCall, 1.0, call(KEPT)));
        // The oldest was let go.
        assert!(!copy(&mut seen, EventType::ToolCall, 1.0, call(0)));
    }
}
