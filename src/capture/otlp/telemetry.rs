//! What an OTLP request says, read into [`Record`]s: Claude Code's model requests and tool
//! timings (its `claude_code.llm_request` / `claude_code.tool` spans and its
//! `claude_code.api_request` / `claude_code.tool_result` log events, as 2.1.197 sends them:
//! docs/otel.md), and everything else as a generic span or log record; of agent-strace's own
//! plain `otlp` export, also the model responses it tells as a span's events ([`plain`]).
//!
//! Pure: no store, no clock. Attribute values are turned into JSON once, here.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::{Map, Value};

use super::counts::{Usage, counts};
use super::plain::{self, Response};
use crate::model::Tokens;

/// `service.name` of Claude Code's resource.
pub const CLAUDE_CODE_SERVICE: &str = "claude-code";

/// Attributes by key, as JSON.
pub type Attributes = BTreeMap<String, Value>;

/// One thing a request told.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// One model request of Claude Code.
    Llm(LlmCall),
    /// One tool call's timing, from Claude Code.
    Tool(ToolTiming),
    /// Something else Claude Code sent (hook runs, decisions, the interaction span …): the
    /// hooks record what matters of it, so it is counted and left out.
    ClaudeOther,
    /// A span or log record of another sender (or of Claude Code without a session id).
    Generic(Generic),
    /// A model response agent-strace's own plain `otlp` export told as an event of a span.
    Response(Response),
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Span,
    Log,
}

/// A model request: its exact tokens, model and timing.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmCall {
    pub session_id: String,
    pub signal: Signal,
    pub prompt_id: Option<String>,
    /// The API's request id: one request, however many signals tell of it.
    pub request_id: Option<String>,
    pub model: Option<String>,
    pub usage: Usage,
    /// Time to first token (spans only).
    pub ttft_ms: Option<f64>,
    pub duration_ms: Option<f64>,
    /// Seconds since the epoch.
    pub start: f64,
    pub end: f64,
    pub success: Option<bool>,
    pub stop_reason: Option<String>,
    pub attempt: Option<i64>,
    /// Claude Code's own estimate (log events only).
    pub cost_usd: Option<f64>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
}

/// A tool call's timing.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolTiming {
    pub session_id: String,
    pub signal: Signal,
    pub prompt_id: Option<String>,
    pub tool_use_id: String,
    pub tool_name: Option<String>,
    /// The whole call, permission wait included (the `claude_code.tool` span), or the run
    /// alone (the `tool_result` log event, which has no other).
    pub duration_ms: Option<f64>,
    /// The run alone (`claude_code.tool.execution` span, or the log event's `duration_ms`).
    pub execution_ms: Option<f64>,
    pub success: Option<bool>,
    pub start: f64,
    pub end: f64,
    pub trace_id: Option<String>,
}

/// A span or log record as it came, for a sender we do not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Generic {
    pub signal: Signal,
    /// The sender's `session.id`, when it names one.
    pub session_id: Option<String>,
    pub service: Option<String>,
    pub name: String,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub start: f64,
    pub end: f64,
    /// The span's status was an error.
    pub error: Option<String>,
    pub attributes: Attributes,
    /// A log record's body.
    pub body: Option<Value>,
}

/// An attribute value as JSON: ints stay integers, bytes become hex, and a double that is not
/// finite is spelled as proto3's JSON spells it (`"NaN"`, `"Infinity"`, `"-Infinity"`), which
/// no reader takes for a count.
pub fn json_of(value: &AnyValue) -> Value {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d).map_or_else(
            || {
                let spelt = if d.is_nan() {
                    "NaN"
                } else if *d > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                Value::String(spelt.to_owned())
            },
            Value::Number,
        ),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(json_of).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(
            kv.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        kv.value.as_ref().map_or(Value::Null, json_of),
                    )
                })
                .collect::<Map<_, _>>(),
        ),
        Some(any_value::Value::BytesValue(b)) => Value::String(hex(b)),
        Some(any_value::Value::StringValueStrindex(_)) | None => Value::Null,
    }
}

pub(super) fn attributes(list: &[KeyValue]) -> Attributes {
    list.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(Value::Null, json_of),
            )
        })
        .collect()
}

/// Lower-case hex of an id; `None` for an empty (absent) one.
fn id(bytes: &[u8]) -> Option<String> {
    (!bytes.is_empty() && bytes.iter().any(|b| *b != 0)).then(|| hex(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(super) fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

/// A string attribute, however it was sent.
fn text(attrs: &Attributes, key: &str) -> Option<String> {
    match attrs.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number attribute: Claude Code sends counts as ints over JSON and protobuf, and as strings
/// in some log events.
fn number(attrs: &Attributes, key: &str) -> Option<f64> {
    match attrs.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite() && *n >= 0.0)
}

fn flag(attrs: &Attributes, key: &str) -> Option<bool> {
    match attrs.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Claude Code's four token counts (`input_tokens`, `output_tokens`, `cache_read_tokens`,
/// `cache_creation_tokens`), read as every sender's are ([`counts`]).
fn usage(attrs: &Attributes) -> Usage {
    match counts(
        attrs,
        [
            ("input_tokens", "input_tokens"),
            ("output_tokens", "output_tokens"),
            ("cache_creation_tokens", "cache_creation_input_tokens"),
            ("cache_read_tokens", "cache_read_input_tokens"),
        ],
    ) {
        Ok([input, output, cache_creation, cache_read]) => Usage::Counted(Tokens {
            input,
            output,
            cache_creation,
            cache_read,
            ..Tokens::default()
        }),
        Err(sent) => Usage::Unknown(sent),
    }
}

/// Claude Code's session id of a record: the `session.id` attribute, else the resource's.
fn session_of(attrs: &Attributes, resource: &Attributes) -> Option<String> {
    text(attrs, "session.id").or_else(|| text(resource, "session.id"))
}

/// A resource's attributes, its `service.name`, and whether that is Claude Code.
fn resource_of(resource: Option<&Resource>) -> (Attributes, Option<String>, bool) {
    let resource = resource
        .map(|r| attributes(&r.attributes))
        .unwrap_or_default();
    let service = text(&resource, "service.name");
    let claude = service.as_deref() == Some(CLAUDE_CODE_SERVICE);
    (resource, service, claude)
}

/// Every span of a traces request, read.
pub fn spans(request: &ExportTraceServiceRequest) -> Vec<Record> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let (resource, service, claude) = resource_of(rs.resource.as_ref());
        // The run of each tool call (a child span of `claude_code.tool`), by its tool_use_id.
        let mut execution: BTreeMap<String, (f64, Option<bool>)> = BTreeMap::new();
        if claude {
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                if span.name == "claude_code.tool.execution" {
                    let attrs = attributes(&span.attributes);
                    if let Some(use_id) = text(&attrs, "tool_use_id") {
                        let took = span
                            .end_time_unix_nano
                            .saturating_sub(span.start_time_unix_nano);
                        execution.insert(use_id, (took as f64 / 1e6, flag(&attrs, "success")));
                    }
                }
            }
        }
        for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
            let attrs = attributes(&span.attributes);
            let start = seconds(span.start_time_unix_nano);
            let end = seconds(span.end_time_unix_nano).max(start);
            let took = (end - start) * 1000.0;
            let session = claude.then(|| session_of(&attrs, &resource)).flatten();
            let record = match (session, span.name.as_str()) {
                (Some(session_id), "claude_code.llm_request") => Record::Llm(LlmCall {
                    session_id,
                    signal: Signal::Span,
                    prompt_id: text(&attrs, "prompt.id"),
                    request_id: text(&attrs, "request_id")
                        .or_else(|| text(&attrs, "gen_ai.response.id")),
                    model: text(&attrs, "model").or_else(|| text(&attrs, "gen_ai.request.model")),
                    usage: usage(&attrs),
                    ttft_ms: number(&attrs, "ttft_ms"),
                    duration_ms: Some(took),
                    start,
                    end,
                    success: flag(&attrs, "success"),
                    stop_reason: text(&attrs, "stop_reason"),
                    attempt: number(&attrs, "attempt").map(|n| n as i64),
                    cost_usd: None,
                    trace_id: id(&span.trace_id),
                    span_id: id(&span.span_id),
                }),
                (Some(session_id), "claude_code.tool") => match text(&attrs, "tool_use_id")
                    .or_else(|| text(&attrs, "gen_ai.tool.call.id"))
                {
                    Some(tool_use_id) => {
                        let run = execution.get(&tool_use_id);
                        Record::Tool(ToolTiming {
                            session_id,
                            signal: Signal::Span,
                            prompt_id: text(&attrs, "prompt.id"),
                            tool_name: text(&attrs, "tool_name"),
                            duration_ms: Some(took),
                            execution_ms: run.map(|r| r.0),
                            success: run.and_then(|r| r.1).or_else(|| flag(&attrs, "success")),
                            tool_use_id,
                            start,
                            end,
                            trace_id: id(&span.trace_id),
                        })
                    }
                    None => Record::ClaudeOther,
                },
                (Some(_), _) => Record::ClaudeOther,
                (None, _) => Record::Generic(Generic {
                    signal: Signal::Span,
                    session_id: session_of(&attrs, &resource),
                    service: service.clone(),
                    name: span.name.clone(),
                    trace_id: id(&span.trace_id),
                    span_id: id(&span.span_id),
                    parent_span_id: id(&span.parent_span_id),
                    start,
                    end,
                    // STATUS_CODE_ERROR is 2.
                    error: span
                        .status
                        .as_ref()
                        .filter(|s| s.code == 2)
                        .map(|s| s.message.clone()),
                    attributes: attrs,
                    body: None,
                }),
            };
            let responses = match &record {
                Record::Generic(g) => plain::responses(span, g),
                _ => Vec::new(),
            };
            out.push(record);
            out.extend(responses.into_iter().map(Record::Response));
        }
    }
    out
}

/// Every log record of a logs request, read.
pub fn logs(request: &ExportLogsServiceRequest) -> Vec<Record> {
    let mut out = Vec::new();
    for rl in &request.resource_logs {
        let (resource, service, claude) = resource_of(rl.resource.as_ref());
        for log in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
            let attrs = attributes(&log.attributes);
            let at = seconds(if log.time_unix_nano > 0 {
                log.time_unix_nano
            } else {
                log.observed_time_unix_nano
            });
            let body = log.body.as_ref().map(json_of);
            // Claude Code names the event in `event.name` (and the body `claude_code.<name>`).
            let name = text(&attrs, "event.name")
                .or_else(|| (!log.event_name.is_empty()).then(|| log.event_name.clone()))
                .or_else(|| body.as_ref().and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            let session = claude.then(|| session_of(&attrs, &resource)).flatten();
            let duration = number(&attrs, "duration_ms");
            let record = match (session, name.as_str()) {
                (Some(session_id), "api_request") => Record::Llm(LlmCall {
                    session_id,
                    signal: Signal::Log,
                    prompt_id: text(&attrs, "prompt.id"),
                    request_id: text(&attrs, "request_id"),
                    model: text(&attrs, "model"),
                    usage: usage(&attrs),
                    ttft_ms: number(&attrs, "ttft_ms"),
                    duration_ms: duration,
                    start: at - duration.unwrap_or(0.0) / 1000.0,
                    end: at,
                    success: Some(true),
                    stop_reason: text(&attrs, "stop_reason"),
                    attempt: None,
                    cost_usd: number(&attrs, "cost_usd"),
                    trace_id: id(&log.trace_id),
                    span_id: id(&log.span_id),
                }),
                (Some(session_id), "tool_result") => match text(&attrs, "tool_use_id") {
                    Some(tool_use_id) => Record::Tool(ToolTiming {
                        session_id,
                        signal: Signal::Log,
                        prompt_id: text(&attrs, "prompt.id"),
                        tool_name: text(&attrs, "tool_name"),
                        duration_ms: duration,
                        execution_ms: duration,
                        success: flag(&attrs, "success"),
                        tool_use_id,
                        start: at - duration.unwrap_or(0.0) / 1000.0,
                        end: at,
                        trace_id: id(&log.trace_id),
                    }),
                    None => Record::ClaudeOther,
                },
                (Some(_), _) => Record::ClaudeOther,
                (None, _) => Record::Generic(Generic {
                    signal: Signal::Log,
                    session_id: session_of(&attrs, &resource),
                    service: service.clone(),
                    name: if name.is_empty() {
                        "log".to_owned()
                    } else {
                        name
                    },
                    trace_id: id(&log.trace_id),
                    span_id: id(&log.span_id),
                    parent_span_id: None,
                    start: at,
                    end: at,
                    // SEVERITY_NUMBER_ERROR starts at 17.
                    error: (log.severity_number >= 17).then(|| log.severity_text.clone()),
                    attributes: attrs,
                    body,
                }),
            };
            out.push(record);
        }
    }
    out
}

#[cfg(test)]
impl Generic {
    /// A span named `name` with `attributes` (a JSON object), of no session, ids or time: what
    /// the readers of one span's attributes are tried on.
    pub fn test_span(name: &str, attributes: Value) -> Generic {
        let Value::Object(map) = attributes else {
            panic!("attributes are an object")
        };
        Generic {
            signal: Signal::Span,
            session_id: None,
            service: None,
            name: name.to_owned(),
            trace_id: None,
            span_id: None,
            parent_span_id: None,
            start: 0.0,
            end: 0.0,
            error: None,
            attributes: map.into_iter().collect(),
            body: None,
        }
    }
}
