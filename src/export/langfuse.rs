//! `export --backend langfuse`: sessions as Langfuse traces through its OpenTelemetry endpoint,
//! and eval scores through its public API, as the bodies the CLI sends.
//!
//! # Traces
//!
//! The session's OTLP trace in the GenAI conventions ([`super::otlp`]) goes to
//! `/api/public/otel/v1/traces` with the attributes Langfuse's OTel ingestion reads
//! (`packages/shared/src/server/otel/attributes.ts` and `OtelIngestionProcessor.ts` in
//! langfuse/langfuse, read 2026-11-30) set on top: every span gets its observation type
//! (`langfuse.observation.type`: `agent` for a session's `invoke_agent` span, `tool` for
//! `execute_tool`, `generation` for a `chat` span); a generation gets its model
//! (`langfuse.observation.model.name`), its usage in the keys Langfuse's Anthropic prices use
//! (`langfuse.observation.usage_details`: `input` without cache, `output`,
//! `cache_read_input_tokens`, `cache_creation_input_tokens`) and what it cost at our prices
//! (`langfuse.observation.cost_details`: `input`, `output`, `total` in dollars), read from the
//! recorded event itself (the span names it in `agent_strace.event.id`), so one-hour cache
//! writes are priced as such. Every span names the Langfuse session (`session.id`: the id of
//! the session exported, on its subagents' spans too, so that they and later exports group
//! together) and the root span the trace (`langfuse.trace.name`: the session's title, else the
//! agent's name). Langfuse takes usage
//! only from the `chat` spans: it skips the aggregate `gen_ai.usage.*` of `invoke_agent`
//! spans, so nothing is counted twice.
//!
//! # Scores
//!
//! OTLP carries no scores. Each eval judge's score of a session becomes a numeric score on the
//! session's trace (its `traceId` is the OTLP trace id in hex, as Langfuse keeps it), with a
//! stable id (`agent-strace-<session>-<judge>`) so that a second export updates the scores
//! rather than adding to them. They are sent in one batch to `/api/public/ingestion` as
//! `score-create` events; that endpoint answers 207 with an error per failed item, which
//! [`IngestionResponse::failures`] reads. Where it is gone (Langfuse v4, and Langfuse Cloud
//! after 2026-11-16, answer 404 or 405) each score is posted to `/api/public/scores`
//! ([`create_score_body`]) instead. The bodies follow `fern/apis/server/definition` of the
//! same repository (`ScoreBody`, `ScoreEvent`, `BaseEvent`, `CreateScoreRequest`,
//! `IngestionResponse`).

use std::collections::HashMap;
use std::fmt::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Exported;
use super::genai;
use super::metrics::JudgeScore;
use crate::model::Tokens;
use crate::model::answers::answered_responses;
use crate::model::pricing::PriceTable;
use crate::model::view::View;

/// Where Langfuse Cloud answers (its EU region).
pub const DEFAULT_HOST: &str = "https://cloud.langfuse.com";
/// Langfuse's OTLP/HTTP traces endpoint, under the host.
pub const OTEL_TRACES_PATH: &str = "/api/public/otel/v1/traces";
/// The batch ingestion endpoint.
pub const INGESTION_PATH: &str = "/api/public/ingestion";
/// The endpoint that creates one score.
pub const SCORES_PATH: &str = "/api/public/scores";
/// Langfuse refuses ingestion batches over 3.5 MB; ours stay under 3 MB.
pub const BATCH_LIMIT: usize = 3_000_000;

pub const OBSERVATION_TYPE: &str = "langfuse.observation.type";
pub const OBSERVATION_MODEL: &str = "langfuse.observation.model.name";
pub const USAGE_DETAILS: &str = "langfuse.observation.usage_details";
pub const COST_DETAILS: &str = "langfuse.observation.cost_details";
pub const TRACE_NAME: &str = "langfuse.trace.name";
pub const SESSION_ID: &str = "session.id";
/// The attribute our GenAI spans name their event by.
const EVENT_ID: &str = "agent_strace.event.id";

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

fn set(attributes: &mut Vec<KeyValue>, key: &str, value: String) {
    attributes.retain(|a| a.key != key);
    attributes.push(KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..KeyValue::default()
    });
}

/// Usage in the keys of Langfuse's model prices (`input` is the uncached input).
pub fn usage_details(tokens: &Tokens) -> Value {
    let mut details = serde_json::Map::new();
    details.insert("input".into(), tokens.input.into());
    details.insert("output".into(), tokens.output.into());
    if tokens.cache_read > 0 {
        details.insert("cache_read_input_tokens".into(), tokens.cache_read.into());
    }
    if tokens.cache_creation > 0 {
        details.insert(
            "cache_creation_input_tokens".into(),
            tokens.cache_creation.into(),
        );
    }
    Value::Object(details)
}

/// What one response cost at `prices`, split as Langfuse shows it (`long` when it is priced at
/// long-context rates, [`crate::model::view::LlmResponse::long_context`]); `None` for a model without a price.
pub fn cost_details(
    model: &str,
    tokens: &Tokens,
    long: bool,
    prices: &PriceTable,
) -> Option<Value> {
    let price = prices.find(model)?;
    let total = price.cost(tokens, long).usd();
    let output = price
        .cost(
            &Tokens {
                output: tokens.output,
                reasoning: tokens.reasoning,
                ..Tokens::default()
            },
            long,
        )
        .usd();
    Some(json!({"input": total - output, "output": output, "total": total}))
}

/// Sets Langfuse's attributes on the spans of `request`, the OTLP GenAI trace of `session`
/// (see the module's documentation).
pub fn decorate(request: &mut ExportTraceServiceRequest, session: &Exported, prices: &PriceTable) {
    let mut responses: HashMap<&str, (Option<&str>, Tokens, bool)> = HashMap::new();
    let mut traces: HashMap<Vec<u8>, &Exported> = HashMap::new();
    for s in session.all() {
        traces.insert(
            super::otlp::trace_id(super::otlp::Mode::GenAi, &s.meta.session_id).to_vec(),
            s,
        );
        let agent = s.agent();
        for event in &s.events {
            // A response of unknown usage (a count no response can have) gets no usage and no
            // cost: it was given 0 tokens and $0, a figure Langfuse would add up.
            if let View::LlmResponse(r) = View::of(event, agent)
                && let Some(tokens) = r.usage
            {
                responses.insert(event.event_id.as_str(), (r.model, tokens, r.long_context()));
            }
        }
        // The responses the Python tool's import recorded on answers, as the OTLP trace has them.
        for (i, r) in answered_responses(&s.events) {
            responses.insert(
                s.events[i].event_id.as_str(),
                (r.model, r.tokens, r.long_context),
            );
        }
    }
    let spans = request
        .resource_spans
        .iter_mut()
        .flat_map(|r| r.scope_spans.iter_mut())
        .flat_map(|s| s.spans.iter_mut());
    for span in spans {
        let operation = attr(&span.attributes, genai::OPERATION_NAME).map(str::to_owned);
        match operation.as_deref() {
            Some(genai::INVOKE_AGENT) => {
                set(&mut span.attributes, OBSERVATION_TYPE, "agent".into());
            }
            Some(genai::EXECUTE_TOOL) => set(&mut span.attributes, OBSERVATION_TYPE, "tool".into()),
            Some(genai::CHAT) => {
                set(&mut span.attributes, OBSERVATION_TYPE, "generation".into());
                let found = attr(&span.attributes, EVENT_ID).and_then(|id| responses.get(id));
                let model = found
                    .and_then(|(m, _, _)| *m)
                    .or_else(|| attr(&span.attributes, genai::REQUEST_MODEL))
                    .map(str::to_owned);
                if let Some(model) = &model {
                    set(&mut span.attributes, OBSERVATION_MODEL, model.clone());
                }
                if let Some((_, tokens, long)) = found {
                    set(
                        &mut span.attributes,
                        USAGE_DETAILS,
                        usage_details(tokens).to_string(),
                    );
                    if let Some(cost) = model.and_then(|m| cost_details(&m, tokens, *long, prices))
                    {
                        set(&mut span.attributes, COST_DETAILS, cost.to_string());
                    }
                }
            }
            _ => {}
        }
        // Langfuse takes `session.id` on any span as the trace's session: a subagent's span
        // naming its own session would move the whole trace into that one. Every span names
        // the session exported, in whose Langfuse session its subagents go.
        set(
            &mut span.attributes,
            SESSION_ID,
            session.meta.session_id.clone(),
        );
        if span.parent_span_id.is_empty() {
            let owner = traces.get(&span.trace_id).copied().unwrap_or(session);
            let name = owner
                .meta
                .title()
                .map_or_else(|| format!("{} session", agent_name(owner)), str::to_owned);
            set(&mut span.attributes, TRACE_NAME, name);
        }
    }
}

fn agent_name(session: &Exported) -> &str {
    if session.meta.agent_name.is_empty() {
        "agent"
    } else {
        &session.meta.agent_name
    }
}

/// One numeric score of a session's trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub id: String,
    /// The OTLP trace id, in lowercase hex.
    pub trace_id: String,
    pub session_id: String,
    pub name: String,
    pub value: f64,
    pub comment: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The scores of one session's eval judges ([`super::metrics::judges`]): each as
/// `eval.<judge>` with its reason as the comment.
pub fn scores(session_id: &str, judges: &[JudgeScore]) -> Vec<Score> {
    let trace_id = hex(&super::otlp::trace_id(super::otlp::Mode::GenAi, session_id));
    judges
        .iter()
        .map(|j| Score {
            id: format!("agent-strace-{session_id}-{}", j.judge),
            trace_id: trace_id.clone(),
            session_id: session_id.to_owned(),
            name: format!("eval.{}", j.judge),
            value: j.score,
            comment: j.reason.clone(),
        })
        .collect()
}

/// A score as `POST /api/public/scores` takes it (`CreateScoreRequest`).
pub fn create_score_body(score: &Score) -> Value {
    json!({
        "id": score.id,
        "traceId": score.trace_id,
        "name": score.name,
        "value": score.value,
        "dataType": "NUMERIC",
        "comment": score.comment,
        "metadata": {"agent_strace_session_id": score.session_id},
    })
}

/// Ingestion batches of `score-create` events (`{"batch": [...]}`), each under
/// [`BATCH_LIMIT`] bytes; `timestamp` is the ISO 8601 time the events are made, and each
/// event's id is its score's id `@` that time: Langfuse drops an event whose id it has seen
/// (a repeated delivery), so a later export needs new event ids, while the score's own id
/// stays and updates the score.
pub fn ingestion_batches(scores: &[Score], timestamp: &str) -> Vec<Value> {
    let mut batches = Vec::new();
    let mut batch: Vec<Value> = Vec::new();
    let mut size = 0;
    for score in scores {
        let event = json!({
            "id": format!("{}@{timestamp}", score.id),
            "timestamp": timestamp,
            "type": "score-create",
            "body": create_score_body(score),
        });
        let len = event.to_string().len();
        if !batch.is_empty() && size + len > BATCH_LIMIT {
            batches.push(json!({"batch": std::mem::take(&mut batch)}));
            size = 0;
        }
        size += len + 1;
        batch.push(event);
    }
    if !batch.is_empty() {
        batches.push(json!({"batch": batch}));
    }
    batches
}

/// What the ingestion endpoint answered (`IngestionResponse`).
#[derive(Debug, Clone, Deserialize)]
pub struct IngestionResponse {
    pub successes: Vec<IngestionSuccess>,
    pub errors: Vec<IngestionError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngestionSuccess {
    pub id: String,
    pub status: u16,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngestionError {
    pub id: String,
    pub status: u16,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
}

/// One item Langfuse did not take, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub id: String,
    pub status: u16,
    pub why: String,
}

impl IngestionResponse {
    pub fn parse(body: &[u8]) -> Result<IngestionResponse, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Each failed item with its reason: the message, else the error's text.
    pub fn failures(&self) -> Vec<Failure> {
        self.errors
            .iter()
            .map(|e| {
                let why = e
                    .message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or_else(|| match &e.error {
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(Value::Null) | None => None,
                        Some(other) => Some(other.to_string()),
                    })
                    .unwrap_or_else(|| "no reason given".to_owned());
                Failure {
                    id: e.id.clone(),
                    status: e.status,
                    why,
                }
            })
            .collect()
    }
}

/// The `Authorization` header of Langfuse's API: basic auth with the public key as the user
/// and the secret key as the password.
pub fn basic_auth(public_key: &str, secret_key: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{public_key}:{secret_key}");
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4 + 6);
    out.push_str("Basic ");
    for chunk in input.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::eval::{EvalReport, ScoreResult, Verdict};

    fn report() -> EvalReport {
        EvalReport {
            session_id: "s1".into(),
            passed: true,
            pass_count: 2,
            fail_count: 0,
            weighted_score: Some(0.9),
            verdict: Verdict::Pass,
            pass_mark: 0.85,
            warn_mark: 0.7,
            default_scorer: None,
            results: ["no_errors", "no_errors"]
                .iter()
                .map(|s| ScoreResult {
                    scorer: (*s).into(),
                    score: 1.0,
                    threshold: 1.0,
                    weight: 1.0,
                    passed: true,
                    reason: "fine".into(),
                    value: None,
                })
                .collect(),
        }
    }

    #[test]
    fn basic_auth_is_base64_of_the_keys() {
        assert_eq!(
            basic_auth("pk-lf-1", "sk-lf-2"),
            "Basic cGstbGYtMTpzay1sZi0y"
        );
        assert_eq!(basic_auth("a", ""), "Basic YTo=");
        assert_eq!(basic_auth("ab", ""), "Basic YWI6");
    }

    #[test]
    fn scores_are_named_per_judge_with_stable_ids() {
        let scores = scores("s1", &crate::export::metrics::judges(&report()));
        let names: Vec<&str> = scores.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["eval.no_errors", "eval.no_errors#2", "eval.overall"]
        );
        assert_eq!(scores[1].id, "agent-strace-s1-no_errors#2");
        assert_eq!(scores[2].id, "agent-strace-s1-overall");
        assert_eq!(scores[0].trace_id.len(), 32);
        assert_eq!(scores[2].comment, "pass");
        let body = create_score_body(&scores[0]);
        assert_eq!(body["traceId"], scores[0].trace_id);
        assert_eq!(body["dataType"], "NUMERIC");
    }

    #[test]
    fn batches_split_under_the_limit() {
        let many: Vec<Score> = (0..3)
            .map(|i| Score {
                id: format!("id{i}"),
                trace_id: "00".repeat(16),
                session_id: "s".into(),
                name: "eval.x".into(),
                value: 1.0,
                comment: "c".repeat(BATCH_LIMIT / 2),
            })
            .collect();
        let batches = ingestion_batches(&many, "2026-11-30T12:00:00.000Z");
        assert_eq!(batches.len(), 3);
        let one = ingestion_batches(&many[..1], "2026-11-30T12:00:00.000Z");
        assert_eq!(one[0]["batch"][0]["type"], "score-create");
        assert_eq!(one[0]["batch"][0]["id"], "id0@2026-11-30T12:00:00.000Z");
    }

    #[test]
    fn failures_carry_their_reason() {
        let body = br#"{"successes":[{"id":"a","status":201}],"errors":[{"id":"b","status":400,"message":"Invalid request data","error":[{"path":["value"]}]},{"id":"c","status":500,"error":"boom"}]}"#;
        let response = IngestionResponse::parse(body).unwrap();
        let failures = response.failures();
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].why, "Invalid request data");
        assert_eq!(failures[1].why, "boom");
        assert_eq!(response.successes[0].status, 201);
    }

    #[test]
    fn usage_and_cost_details_use_langfuse_keys() {
        let tokens = Tokens {
            input: 10,
            output: 20,
            cache_read: 1000,
            cache_creation: 100,
            ..Tokens::default()
        };
        let usage = usage_details(&tokens);
        assert_eq!(usage["input"], 10);
        assert_eq!(usage["cache_read_input_tokens"], 1000);
        let cost =
            cost_details("claude-sonnet-4-5", &tokens, false, PriceTable::builtin()).unwrap();
        let total = cost["total"].as_f64().unwrap();
        let sum = cost["input"].as_f64().unwrap() + cost["output"].as_f64().unwrap();
        assert!(total > 0.0 && (total - sum).abs() < 1e-12);
        assert!(cost_details("no-such-model-xyz", &tokens, false, PriceTable::builtin()).is_none());
    }
}
