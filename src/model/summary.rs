//! A session's summary folded from its events: the figures listings, reports and the index need
//! without reading the session again.
//!
//! The fold is pure and incremental: a [`Summary`] observes events in file order, and folding a
//! session in two pieces (what was indexed, then what was appended since) gives the same summary
//! as folding it whole. The summary serialises, so the index keeps it and continues from the
//! byte offset it reached. [`SUMMARY_VERSION`] names the fold: a change to what it computes
//! bumps it, and indexes of an older version are rebuilt.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::counters::Counters;
use super::event::{Event, EventType};
use super::head::EventHead;
use super::pricing::{ModelPrice, PriceTable};
use super::tools::{Agent, ToolKind, classify};
use super::usage::{Money, Tokens};

/// The version of what [`Summary`] computes.
pub const SUMMARY_VERSION: u32 = 1;

/// Context size past which some models charge long-context rates (the same line the phase
/// analysis draws).
pub const LONG_CONTEXT: u64 = 200_000;

/// The model sessions without recorded usage are priced as (the cost analysis's default).
pub const ESTIMATE_AS: &str = "sonnet";

/// Usage of one model in a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelUsage {
    pub responses: u64,
    pub tokens: Tokens,
    /// Of `tokens`, what responses with over [`LONG_CONTEXT`] tokens of context used.
    pub long_context: Tokens,
}

/// How often a session read and wrote one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCount {
    pub reads: u64,
    pub writes: u64,
}

/// What a session did, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The counters `meta.json` shows (events, tool calls, errors, tokens, first and last time).
    pub counters: Counters,
    /// How many `user_prompt` events there were.
    pub prompts: u64,
    /// The text of the first `user_prompt`, when it has one.
    pub first_prompt: Option<String>,
    /// Recorded usage by model.
    pub models: BTreeMap<String, ModelUsage>,
    /// Tool calls by tool name.
    pub tools: BTreeMap<String, u64>,
    /// Tool calls by what the tool does ([`ToolKind::as_str`]).
    pub kinds: BTreeMap<String, u64>,
    /// Files named by `file_read` and `file_write` events.
    pub files: BTreeMap<String, FileCount>,
    /// Usage estimated from payload sizes (four characters a token), for sessions that
    /// recorded none.
    pub estimate: Tokens,
    /// The agent's transcript a hook-recorded session names in its `session_start`.
    pub transcript_path: Option<String>,
}

impl Summary {
    /// Folds one event of a session recorded for `agent`.
    pub fn observe(&mut self, agent: Agent, event: &Event) {
        self.counters.observe(&EventHead::of(event));
        match &event.event_type {
            EventType::SessionStart
                if self.transcript_path.is_none() && event.data_str("source") != Some("import") =>
            {
                self.transcript_path = event.data_str("transcript_path").map(str::to_owned);
            }
            EventType::UserPrompt => {
                if self.prompts == 0 {
                    self.first_prompt = event.data_str("prompt").map(str::to_owned);
                }
                self.prompts += 1;
            }
            EventType::ToolCall => {
                let tool = event.data_str("tool_name").unwrap_or("unknown");
                *self.tools.entry(tool.to_owned()).or_default() += 1;
                let kind = classify(agent, tool).as_str();
                *self.kinds.entry(kind.to_owned()).or_default() += 1;
            }
            EventType::LlmResponse => {
                if let Some((model, tokens)) = response_usage(event) {
                    let entry = self.models.entry(model.to_owned()).or_default();
                    entry.responses += 1;
                    entry.tokens.add(&tokens);
                    if tokens.context() > LONG_CONTEXT {
                        entry.long_context.add(&tokens);
                    }
                }
            }
            EventType::FileRead | EventType::FileWrite => {
                if let Some(path) = event.data_str("path") {
                    let entry = self.files.entry(path.to_owned()).or_default();
                    if event.event_type == EventType::FileWrite {
                        entry.writes += 1;
                    } else {
                        entry.reads += 1;
                    }
                }
            }
            _ => {}
        }
        let (input, output) = estimate(event);
        self.estimate.input += input;
        self.estimate.output += output;
    }

    /// Whether any model usage was recorded (else costs are estimates).
    pub fn has_usage(&self) -> bool {
        !self.models.is_empty()
    }

    /// All recorded tokens, every model together.
    pub fn tokens(&self) -> Tokens {
        let mut all = Tokens::default();
        for usage in self.models.values() {
            all.add(&usage.tokens);
        }
        all
    }

    /// What the session cost at `table`'s prices: recorded usage at each model's price
    /// (long-context responses at long-context rates), or, without any, the estimate priced
    /// as [`ESTIMATE_AS`]. Models without a price count for nothing.
    pub fn cost(&self, table: &PriceTable) -> Money {
        if !self.has_usage() {
            return table
                .find(ESTIMATE_AS)
                .map_or(Money(0), |p| p.cost(&self.estimate, false));
        }
        self.models
            .iter()
            .filter_map(|(model, usage)| Some(usage.cost(table.find(model)?)))
            .sum()
    }

    /// The model with the most tokens.
    pub fn main_model(&self) -> Option<&str> {
        self.models
            .iter()
            .max_by_key(|(name, u)| (u.tokens.total(), std::cmp::Reverse(*name)))
            .map(|(name, _)| name.as_str())
    }

    /// How many tool calls were of `kind`.
    pub fn calls_of(&self, kind: ToolKind) -> u64 {
        self.kinds.get(kind.as_str()).copied().unwrap_or(0)
    }
}

impl ModelUsage {
    /// What this usage costs at `price`.
    pub fn cost(&self, price: &ModelPrice) -> Money {
        if price.threshold_tokens.is_some() && !self.long_context.is_zero() {
            let mut normal = self.tokens;
            normal.subtract(&self.long_context);
            return price.cost(&normal, false) + price.cost(&self.long_context, true);
        }
        price.cost(&self.tokens, false)
    }
}

/// The model and usage an `llm_response` records, when it records usage.
pub fn response_usage(event: &Event) -> Option<(&str, Tokens)> {
    let usage = event.data.get("usage").filter(|u| u.is_object())?;
    Some((
        event.data_str("model").unwrap_or("unknown"),
        Tokens::from_usage(usage),
    ))
}

/// What one response with `tokens` of `model` cost, as [`Summary::cost`] counts it.
pub fn response_cost(price: &ModelPrice, tokens: &Tokens) -> Money {
    let long = price.threshold_tokens.is_some() && tokens.context() > LONG_CONTEXT;
    price.cost(tokens, long)
}

/// Four characters a token: what the agent read is input, what it wrote is output.
fn estimate(event: &Event) -> (u64, u64) {
    let size = |v: Option<&Value>| {
        v.map_or(0, |v| {
            v.as_str().map_or_else(|| v.to_string().len(), str::len)
        }) as u64
    };
    let data = &event.data;
    let (input, output) = match event.event_type {
        EventType::UserPrompt => (size(data.get("prompt")), 0),
        EventType::ToolResult => (
            size(data.get("result").or_else(|| data.get("tool_response"))),
            0,
        ),
        EventType::Error => (size(data.get("error")), 0),
        EventType::ToolCall => (0, size(data.get("arguments"))),
        EventType::AssistantResponse => (0, size(data.get("text"))),
        _ => (0, 0),
    };
    (input.div_ceil(4), output.div_ceil(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: EventType, ts: f64, data: Value) -> Event {
        let mut e = Event::new(kind, ts, format!("e{ts}"), "s".into());
        e.data = data;
        e
    }

    fn session() -> Vec<Event> {
        vec![
            event(
                EventType::SessionStart,
                1.0,
                json!({"source": "startup", "transcript_path": "/t.jsonl"}),
            ),
            event(EventType::UserPrompt, 2.0, json!({"prompt": "fix the bug"})),
            event(
                EventType::ToolCall,
                3.0,
                json!({"tool_name": "Read", "arguments": {"file_path": "/a.rs"}}),
            ),
            event(EventType::FileRead, 3.5, json!({"path": "/a.rs"})),
            event(
                EventType::ToolCall,
                4.0,
                json!({"tool_name": "Edit", "arguments": {"file_path": "/a.rs"}}),
            ),
            event(EventType::FileWrite, 4.5, json!({"path": "/a.rs"})),
            event(
                EventType::ToolCall,
                5.0,
                json!({"tool_name": "Bash", "arguments": {"command": "cargo test"}}),
            ),
            event(EventType::Error, 6.0, json!({"error": "1 test failed"})),
            event(EventType::UserPrompt, 7.0, json!({"prompt": "again"})),
            event(
                EventType::LlmResponse,
                8.0,
                json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 100, "output_tokens": 50,
                    "cache_read_input_tokens": 1000}}),
            ),
            event(
                EventType::LlmResponse,
                9.0,
                json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 250_000, "output_tokens": 10}}),
            ),
            event(EventType::SessionEnd, 10.0, json!({})),
        ]
    }

    fn fold(events: &[Event]) -> Summary {
        let mut s = Summary::default();
        for e in events {
            s.observe(Agent::ClaudeCode, e);
        }
        s
    }

    #[test]
    fn a_session_folds_into_its_figures() {
        let s = fold(&session());
        assert_eq!(s.first_prompt.as_deref(), Some("fix the bug"));
        assert_eq!(s.transcript_path.as_deref(), Some("/t.jsonl"));
        assert_eq!(
            (s.counters.events, s.counters.tool_calls, s.counters.errors),
            (12, 3, 1)
        );
        assert_eq!(s.counters.ended_at, Some(10.0));
        assert_eq!(s.calls_of(ToolKind::ReadFile), 1);
        assert_eq!(s.calls_of(ToolKind::WriteFile), 1);
        assert_eq!(s.calls_of(ToolKind::Shell), 1);
        assert_eq!(s.tools["Bash"], 1);
        assert_eq!(
            s.files["/a.rs"],
            FileCount {
                reads: 1,
                writes: 1
            }
        );
        let usage = s.models["claude-sonnet-4-5"];
        assert_eq!(usage.responses, 2);
        assert_eq!(usage.tokens.input, 250_100);
        assert_eq!(usage.long_context.input, 250_000);
        assert_eq!(s.main_model(), Some("claude-sonnet-4-5"));
    }

    #[test]
    fn cost_prices_long_context_responses_at_their_rates_and_adds_up_per_response() {
        let table = PriceTable::builtin();
        let s = fold(&session());
        let price = table.find("claude-sonnet-4-5").unwrap();
        let per_response: Money = session()
            .iter()
            .filter_map(response_usage)
            .map(|(_, t)| response_cost(price, &t))
            .sum();
        assert_eq!(s.cost(table), per_response);
        // The long response is dearer than at normal rates.
        let flat = price.cost(&s.tokens(), false);
        assert!(s.cost(table) > flat, "{:?} vs {flat:?}", s.cost(table));
    }

    #[test]
    fn without_usage_the_cost_is_estimated_from_payload_sizes() {
        let events: Vec<Event> = session()
            .into_iter()
            .filter(|e| e.event_type != EventType::LlmResponse)
            .collect();
        let s = fold(&events);
        assert!(!s.has_usage());
        // "fix the bug" (11 chars) + "again" (5) → 3 + 2 input tokens; arguments as JSON.
        assert_eq!(s.estimate.input, 3 + 2 + 4);
        assert!(s.estimate.output > 0);
        let sonnet = PriceTable::builtin().find(ESTIMATE_AS).unwrap();
        assert_eq!(
            s.cost(PriceTable::builtin()),
            sonnet.cost(&s.estimate, false)
        );
    }

    #[test]
    fn folding_in_pieces_through_json_equals_folding_whole() {
        let events = session();
        let whole = fold(&events);
        for cut in 0..=events.len() {
            let first = fold(&events[..cut]);
            let mut resumed: Summary =
                serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
            for e in &events[cut..] {
                resumed.observe(Agent::ClaudeCode, e);
            }
            assert_eq!(resumed, whole, "cut at {cut}");
        }
    }

    #[test]
    fn the_constants_match_the_analyses() {
        assert_eq!(LONG_CONTEXT, crate::analysis::phases::LONG_CONTEXT);
        assert_eq!(ESTIMATE_AS, crate::analysis::cost::DEFAULT_MODEL);
    }

    #[test]
    fn mcp_sessions_count_every_tool_as_mcp() {
        let mut s = Summary::default();
        s.observe(
            Agent::Mcp,
            &event(EventType::ToolCall, 1.0, json!({"tool_name": "read_file"})),
        );
        assert_eq!(s.calls_of(ToolKind::Mcp), 1);
    }
}
