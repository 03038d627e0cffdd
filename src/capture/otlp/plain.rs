//! agent-strace's own plain `otlp` export read back: the agent its session's span names, and
//! the model responses it tells as events of that span (`llm_response`, with
//! `agent_strace.tokens.*`). Its tool calls' spans are read by [`super::tool_span`].
//!
//! The collector read no span's events, and no agent but the GenAI conventions' one: its copy
//! of a plain export had no tokens, no cost and the sender's service for its agent.

use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;

use super::counts::{Usage, count, counts};
use super::telemetry::{Generic, attributes, seconds};
use super::tool_span::EXPORTED_EVENT;
use crate::model::Tokens;

/// The attribute the session's span names its agent by.
const AGENT: &str = "agent_strace.agent";
/// The name of a response's event, its event type in the store.
const RESPONSE: &str = "llm_response";
const MODEL: &str = "agent_strace.model";
const INPUT: &str = "agent_strace.tokens.input";
const OUTPUT: &str = "agent_strace.tokens.output";
/// The tokens of a response whose usage the store holds only as a total.
const TOTAL: &str = "agent_strace.tokens.total";

/// One model response, as an event of a span of our export tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The session, sender and trace of the span it is an event of.
    pub session_id: Option<String>,
    pub service: Option<String>,
    pub trace_id: Option<String>,
    /// The span it is an event of.
    pub span_id: Option<String>,
    /// The store's event it was exported from: what tells it apart, sent again or not.
    pub event_id: String,
    pub at: f64,
    pub model: Option<String>,
    /// Its usage by kind; `None` when the store held only its total.
    pub usage: Option<Usage>,
    pub total: u64,
}

/// The agent the session's span names.
pub fn agent_name(g: &Generic) -> Option<&str> {
    g.attributes
        .get(AGENT)
        .and_then(Value::as_str)
        .filter(|a| !a.trim().is_empty())
}

/// The responses among the events of `span`, which was read as `g`.
pub fn responses(span: &Span, g: &Generic) -> Vec<Response> {
    span.events
        .iter()
        .filter(|e| e.name == RESPONSE)
        .filter_map(|e| {
            let attrs = attributes(&e.attributes);
            let event_id = attrs.get(EXPORTED_EVENT)?.as_str()?.to_owned();
            let known = attrs.contains_key(INPUT) || attrs.contains_key(OUTPUT);
            Some(Response {
                session_id: g.session_id.clone(),
                service: g.service.clone(),
                trace_id: g.trace_id.clone(),
                span_id: g.span_id.clone(),
                event_id,
                at: seconds(e.time_unix_nano),
                model: attrs.get(MODEL).and_then(Value::as_str).map(str::to_owned),
                usage: known.then(|| usage(&attrs)),
                total: count(&attrs, TOTAL).ok().flatten().unwrap_or(0),
            })
        })
        .collect()
}

/// A response's usage in the store's kinds: the export writes them as the store counts them
/// (input without the cache), so they are taken as they are.
fn usage(attrs: &super::telemetry::Attributes) -> Usage {
    match counts(
        attrs,
        [
            (INPUT, "input_tokens"),
            (OUTPUT, "output_tokens"),
            ("agent_strace.tokens.cache_read", "cache_read_input_tokens"),
            (
                "agent_strace.tokens.cache_creation",
                "cache_creation_input_tokens",
            ),
            (
                "agent_strace.tokens.cache_creation_1h",
                "ephemeral_1h_input_tokens",
            ),
            ("agent_strace.tokens.reasoning", "reasoning_tokens"),
        ],
    ) {
        Ok(
            [
                input,
                output,
                cache_read,
                cache_creation,
                cache_creation_1h,
                reasoning,
            ],
        ) => Usage::Counted(Tokens {
            input,
            output,
            cache_read,
            cache_creation,
            cache_creation_1h: cache_creation_1h.min(cache_creation),
            reasoning: reasoning.min(output),
        }),
        Err(sent) => Usage::Unknown(super::genai::nested(sent)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::otlp::telemetry::{self, Record};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    /// The records of a request of one span of session `s`, whose events are `events`
    /// (OTLP/JSON).
    fn read(events: &serde_json::Value) -> Vec<Record> {
        let body = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "1112131415161718",
            "name": "session claude-code", "startTimeUnixNano": "1000000000",
            "endTimeUnixNano": "9000000000", "events": events,
            "attributes": [{"key": "session.id", "value": {"stringValue": "s"}},
                           {"key": "agent_strace.agent", "value": {"stringValue": "claude-code"}}]}]}]}]});
        let request: ExportTraceServiceRequest = serde_json::from_value(body).unwrap();
        telemetry::spans(&request)
    }

    fn int(key: &str, n: u64) -> serde_json::Value {
        serde_json::json!({"key": key, "value": {"intValue": n.to_string()}})
    }

    #[test]
    fn a_response_event_of_ours_is_read_with_its_usage_and_splits_within_their_counts() {
        let id = serde_json::json!({"key": EXPORTED_EVENT, "value": {"stringValue": "e1"}});
        let records = read(&serde_json::json!([
            {"name": "llm_response", "timeUnixNano": "2500000000", "attributes": [
                id, {"key": MODEL, "value": {"stringValue": "claude-opus-4-6"}},
                int(INPUT, 3), int(OUTPUT, 13), int("agent_strace.tokens.cache_read", 11515),
                int("agent_strace.tokens.cache_creation", 100),
                int("agent_strace.tokens.cache_creation_1h", 500),
                int("agent_strace.tokens.reasoning", 20)]},
            {"name": "llm_response", "timeUnixNano": "3000000000", "attributes": [
                {"key": EXPORTED_EVENT, "value": {"stringValue": "e2"}}, int(TOTAL, 77)]},
            {"name": "llm_response", "attributes": [int(INPUT, 5)]},
            {"name": "user_prompt", "attributes": [id]},
        ]));
        let Record::Generic(root) = &records[0] else {
            panic!("{records:?}")
        };
        assert_eq!(agent_name(root), Some("claude-code"));
        let responses: Vec<&Response> = records
            .iter()
            .filter_map(|r| match r {
                Record::Response(r) => Some(r),
                _ => None,
            })
            .collect();
        // Only the responses that name the event they were exported from.
        assert_eq!(responses.len(), 2, "{records:?}");
        let Some(Usage::Counted(t)) = responses[0].usage else {
            panic!("{:?}", responses[0])
        };
        // A split larger than what it splits is held to it.
        assert_eq!(
            (
                t.input,
                t.output,
                t.cache_read,
                t.cache_creation,
                t.cache_creation_1h,
                t.reasoning
            ),
            (3, 13, 11515, 100, 100, 13)
        );
        assert!((responses[0].at - 2.5).abs() < 1e-9, "{}", responses[0].at);
        assert_eq!(responses[0].span_id.as_deref(), Some("1112131415161718"));
        assert_eq!((&responses[1].usage, responses[1].total), (&None, 77));
    }
}
