//! A session as an OpenTelemetry trace (OTLP): the session is the trace and its root span,
//! each tool call a span lasting until its result, a failed call a span with ERROR status and
//! an `exception` event, prompts and answers events on the root span, and each subagent's
//! session a subtree under the call that spawned it. Two vocabularies: agent-strace's own
//! (`otlp`) and the GenAI semantic conventions (`otlp-genai`, see [`super::genai`]).
//!
//! Trace and span ids are derived from the session and event ids, so exporting a session twice
//! gives the same ids (a backend sees the same trace, not a copy); and from the vocabulary, so
//! the two exports of one session are two traces (sent to one backend, one overwrote the
//! other's spans). The request is built from
//! `opentelemetry-proto`'s generated messages and encoded with prost, or as the proto3 JSON
//! mapping (OTLP/JSON) through their serde derives.

use std::collections::HashMap;
use std::io::{self, Write};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event as SpanEvent, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

use super::Exported;
use super::genai;
use crate::model::answers::answered_responses;
use crate::model::meta::{Unbelievable, placed_time};
use crate::model::view::{LlmResponse, View, cut_marker, size_in_all, unbelieved_usage};
use crate::model::{Agent, Event, ToolOutcome};

/// Which names the trace uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// agent-strace's own span names and `agent_strace.*` attributes.
    Plain,
    /// The OpenTelemetry GenAI semantic conventions (`invoke_agent`, `execute_tool`, `chat`).
    GenAi,
}

/// How to build the trace.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// The resource's `service.name`.
    pub service_name: String,
    /// Put prompts, answers, tool arguments and results into the trace.
    pub content: bool,
}

/// The instrumentation scope's name.
pub const SCOPE: &str = "agent-strace";
/// Text attributes longer than this many bytes are cut (at a character boundary), so one
/// huge tool result cannot make a request a backend refuses.
pub const TEXT_LIMIT: usize = 16 * 1024;

/// The trace of `session` (and its subagents) as one export request.
pub fn request(session: &Exported, options: &Options) -> ExportTraceServiceRequest {
    let trace = trace_id(options.mode, &session.meta.session_id);
    let mut spans = Vec::new();
    // Each session's spans, then its subagents' under the spans that spawned them, in the
    // order a recursion would go; with a stack of its own, as a chain of thousands of
    // subagents would overflow the thread's.
    let mut todo = vec![(session, Vec::new())];
    while let Some((session, parent)) = todo.pop() {
        let subagents = session_spans(session, &trace, parent, options, &mut spans);
        todo.extend(subagents.into_iter().rev());
    }
    let schema_url = match options.mode {
        Mode::GenAi => genai::SCHEMA_URL.to_owned(),
        Mode::Plain => String::new(),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", string(&options.service_name)),
                    kv("service.version", string(env!("CARGO_PKG_VERSION"))),
                ],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: SCOPE.to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..InstrumentationScope::default()
                }),
                spans,
                schema_url: schema_url.clone(),
            }],
            schema_url,
        }],
    }
}

/// The request as OTLP/HTTP's protobuf body.
pub fn to_protobuf(request: &ExportTraceServiceRequest) -> Vec<u8> {
    request.encode_to_vec()
}

/// Writes the request as OTLP/JSON (the proto3 JSON mapping: ids as hex, 64-bit numbers as
/// strings, enums as numbers), pretty, with a newline.
pub fn write_json(out: &mut dyn Write, request: &ExportTraceServiceRequest) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, request).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// The request as one line of OTLP/JSON, as a body to send.
pub fn to_json(request: &ExportTraceServiceRequest) -> Vec<u8> {
    serde_json::to_vec(request).unwrap_or_default()
}

impl Mode {
    /// What the ids of the mode's traces are derived from beside the session and event ids:
    /// the two vocabularies' spans are different spans, and gave the same ids. The GenAI
    /// trace keeps the ids it always had (Langfuse's scores name its traces by them).
    fn id_domain(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Mode::GenAi => (b"agent-strace trace", b"agent-strace span"),
            Mode::Plain => (b"agent-strace otlp trace", b"agent-strace otlp span"),
        }
    }
}

/// The trace id of a session's export in `mode`: 16 bytes derived from both, never all zero.
pub fn trace_id(mode: Mode, session_id: &str) -> [u8; 16] {
    let hash = fnv1a128(&[mode.id_domain().0, session_id.as_bytes()]);
    let hash = if hash == 0 { 1 } else { hash };
    hash.to_be_bytes()
}

/// The span id of `key` (an event id, or [`ROOT`]) in a session's export in `mode`: 8 bytes
/// derived from the three, never all zero.
pub fn span_id(mode: Mode, session_id: &str, key: &str) -> [u8; 8] {
    let hash = fnv1a128(&[mode.id_domain().1, session_id.as_bytes(), key.as_bytes()]);
    let folded = (hash >> 64) as u64 ^ hash as u64;
    let folded = if folded == 0 { 1 } else { folded };
    folded.to_be_bytes()
}

/// The key of a session's root span (event ids never hold a NUL).
pub const ROOT: &str = "\0session";

/// The attribute every span names its session by: the general conventions' `session.id`
/// (Development status), which collectors and backends group spans by.
pub const SESSION_ID: &str = "session.id";

/// The attribute the root span of an ended session says its end by (seconds since the epoch,
/// as `meta.json` holds it), which `agent-strace server` reads back.
pub const SESSION_ENDED_AT: &str = "agent_strace.session.ended_at";

/// FNV-1a over the parts (each followed by a NUL, so that parts cannot run into each other),
/// then a final mix so that ids that differ in one character differ in every byte.
fn fnv1a128(parts: &[&[u8]]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for part in parts {
        for &b in part.iter().chain(&[0u8]) {
            hash ^= u128::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    // The finaliser of MurmurHash3's 64-bit variant on each half, mixed across.
    let mix = |mut k: u64| {
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    };
    let high = mix((hash >> 64) as u64);
    let low = mix(hash as u64 ^ high);
    (u128::from(high) << 64) | u128::from(low)
}

/// Seconds since the epoch as nanoseconds (0 for a time before the epoch or no time),
/// rounded to the microsecond: an f64 of seconds holds no finer time, and rounding there keeps
/// 1.5 s from reading as 1.499999 s. The trace export and the metrics give times so alike.
pub(super) fn nanos(timestamp: f64) -> u64 {
    if timestamp.is_finite() && timestamp > 0.0 {
        ((timestamp * 1e6).round() as u64).saturating_mul(1000)
    } else {
        0
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_owned())),
    }
}

fn int(n: u64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(
            i64::try_from(n).unwrap_or(i64::MAX),
        )),
    }
}

fn double(n: f64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::DoubleValue(n)),
    }
}

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..KeyValue::default()
    }
}

/// `text` cut to [`TEXT_LIMIT`] bytes at a character boundary, marked when cut as capture
/// marks it, with the text's size in all ([`cut_marker`], [`size_in_all`]): `[cut: 30000
/// bytes]` read as 30,000 bytes cut off where 16 KiB were kept.
fn limited(text: &str) -> String {
    if text.len() <= TEXT_LIMIT {
        return text.to_owned();
    }
    let mut end = TEXT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}", &text[..end], cut_marker(size_in_all(text)))
}

/// The attribute names of one mode.
struct Names {
    tool_name: &'static str,
    tool_call_id: &'static str,
    arguments: &'static str,
    result: &'static str,
}

const PLAIN: Names = Names {
    tool_name: "agent_strace.tool.name",
    tool_call_id: "agent_strace.tool.use_id",
    arguments: "agent_strace.tool.arguments",
    result: "agent_strace.tool.result",
};

const GENAI: Names = Names {
    tool_name: genai::TOOL_NAME,
    tool_call_id: genai::TOOL_CALL_ID,
    arguments: genai::TOOL_CALL_ARGUMENTS,
    result: genai::TOOL_CALL_RESULT,
};

/// What one session's spans share: who the agent is and which model it used.
struct Agentish {
    session_id: String,
    agent: Agent,
    agent_name: String,
    model: Option<String>,
}

impl Agentish {
    fn of(session: &Exported) -> Agentish {
        let agent = session.agent();
        let model = session
            .events
            .iter()
            .find_map(|e| match View::of(e, agent) {
                View::SessionStart(start) => start.model.map(str::to_owned),
                View::LlmRequest { model } => model.map(str::to_owned),
                View::LlmResponse(r) => r.model.map(str::to_owned),
                _ => None,
            });
        let agent_name = if session.meta.agent_name.is_empty() {
            agent.name().to_owned()
        } else {
            session.meta.agent_name.clone()
        };
        Agentish {
            session_id: session.meta.session_id.clone(),
            agent,
            agent_name,
            model,
        }
    }

    /// The GenAI attributes every span of the session carries.
    fn genai_attributes(&self) -> Vec<KeyValue> {
        let mut out = vec![
            kv(genai::AGENT_ID, string(&self.session_id)),
            kv(genai::AGENT_NAME, string(&self.agent_name)),
            kv(genai::CONVERSATION_ID, string(&self.session_id)),
        ];
        if let Some(provider) = genai::provider(self.agent) {
            out.push(kv(genai::PROVIDER_NAME, string(provider)));
        }
        if let Some(model) = &self.model {
            out.push(kv(genai::REQUEST_MODEL, string(model)));
        }
        out
    }
}

/// The sessions of `session` (it and its subagents, parents first) whose recorded start or end
/// is one no session can have, with those fields: their spans are timed by their events
/// instead, which the caller says.
pub fn untimed(session: &Exported) -> Vec<(&str, Unbelievable)> {
    let mut out = Vec::new();
    // A stack of its own, in the order a recursion would go: a chain of thousands of
    // subagents would overflow the thread's.
    let mut todo = vec![session];
    while let Some(session) = todo.pop() {
        let doubts = session
            .meta
            .unbelievable()
            .only(&["started_at", "ended_at"]);
        if !doubts.is_empty() {
            out.push((session.meta.session_id.as_str(), doubts));
        }
        todo.extend(session.subagents.iter().rev());
    }
    out
}

/// What a warning about [`untimed`] sessions says is done with their times.
pub const UNTIMED: &str = "its spans are timed by its events";

/// Adds the spans of `session` (its root first) to `spans`, the root's parent being `parent`
/// (empty for the trace's root); returns its subagents, each with the span to put it under.
fn session_spans<'s>(
    session: &'s Exported,
    trace: &[u8; 16],
    parent: Vec<u8>,
    options: &Options,
    spans: &mut Vec<Span>,
) -> Vec<(&'s Exported, Vec<u8>)> {
    let who = Agentish::of(session);
    let sid = &session.meta.session_id;
    let root_id = span_id(options.mode, sid, ROOT).to_vec();
    let names = match options.mode {
        Mode::Plain => &PLAIN,
        Mode::GenAi => &GENAI,
    };
    let first = spans.len();
    // Times no session can have are left to the events (see `untimed`): a start in the year
    // -17678 or 2128 or an end 70 years on would time the whole trace by them.
    let started = session.meta.believed_start().unwrap_or_default();
    let ended = if session.meta.unbelievable().believes_times() {
        session.meta.ended_at.unwrap_or(started)
    } else {
        started
    };
    let mut root = Span {
        trace_id: trace.to_vec(),
        span_id: root_id.clone(),
        parent_span_id: parent,
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: nanos(started),
        end_time_unix_nano: nanos(ended),
        ..Span::default()
    };
    match options.mode {
        Mode::Plain => {
            root.name = format!("session {}", who.agent_name);
            root.attributes = vec![
                kv("agent_strace.session.id", string(sid)),
                kv("agent_strace.agent", string(&who.agent_name)),
                kv(SESSION_ID, string(sid)),
            ];
            if !session.meta.command.is_empty() {
                root.attributes.push(kv(
                    "agent_strace.command",
                    string(&limited(&session.meta.command)),
                ));
            }
            if let Some(model) = &who.model {
                root.attributes
                    .push(kv("agent_strace.model", string(model)));
            }
        }
        Mode::GenAi => {
            root.name = format!("{} {}", genai::INVOKE_AGENT, who.agent_name);
            root.attributes = vec![kv(genai::OPERATION_NAME, string(genai::INVOKE_AGENT))];
            root.attributes.extend(who.genai_attributes());
            root.attributes.push(kv(SESSION_ID, string(sid)));
        }
    }
    if let Some(parent_session) = &session.meta.parent_session_id {
        root.attributes
            .push(kv("agent_strace.parent_session.id", string(parent_session)));
    }
    // Whether and when the session ended: the root's end does not say (a running session's
    // ends at its last event), and our collector's copy of an ended session ran on.
    if session.meta.unbelievable().believes("ended_at")
        && let Some(end) = session.meta.ended_at
    {
        root.attributes.push(kv(SESSION_ENDED_AT, double(end)));
    }
    spans.push(root);
    // Spans of this session by the event id that opened them, and open calls by tool-use id.
    let mut by_event: HashMap<&str, usize> = HashMap::new();
    let mut open_by_use: HashMap<&str, usize> = HashMap::new();
    let mut usage_total = crate::model::Tokens::default();
    let mut last_time = started;
    // An event at an unknown time is timed where it stands in the file, as replay places it:
    // its `1e308` ended the session's span at u64::MAX nanoseconds, in the year 2554.
    let mut before = None;
    let events: Vec<std::borrow::Cow<'_, Event>> = session
        .events
        .iter()
        .map(|e| match placed_time(e.timestamp, &mut before) {
            Some(at) if at.total_cmp(&e.timestamp).is_eq() => std::borrow::Cow::Borrowed(e),
            at => {
                let mut placed = e.clone();
                placed.timestamp = at.unwrap_or(started);
                std::borrow::Cow::Owned(placed)
            }
        })
        .collect();
    let answered = answered_responses(&session.events);
    for (i, event) in events.iter().enumerate() {
        let event: &Event = event;
        last_time = last_time.max(event.timestamp);
        let view = View::of(event, who.agent);
        // The Python tool's import records a response's usage on its answer, a streamed
        // response's on each of its lines: its first line is the response too, after its text.
        let response = answered.get(&i).map(|r| {
            View::LlmResponse(LlmResponse {
                model: r.model,
                usage: Some(r.tokens),
                total: r.tokens.total(),
                duration_ms: None,
                session_total: false,
                unbelieved: false,
                context_window: None,
            })
        });
        // Where an event that is no span of its own is put: the span its parent opened, else
        // the session's.
        let home = event
            .parent_id
            .as_deref()
            .and_then(|p| by_event.get(p).copied())
            .unwrap_or(first);
        for view in std::iter::once(view).chain(response) {
            match view {
                View::ToolCall(call) => {
                    let parent_span = spans[home].span_id.clone();
                    let mut span = Span {
                        trace_id: trace.to_vec(),
                        span_id: span_id(options.mode, sid, &event.event_id).to_vec(),
                        parent_span_id: parent_span,
                        kind: SpanKind::Internal as i32,
                        start_time_unix_nano: nanos(event.timestamp),
                        end_time_unix_nano: nanos(event.timestamp),
                        ..Span::default()
                    };
                    let tool = if call.tool.is_empty() {
                        "unknown"
                    } else {
                        call.tool
                    };
                    match options.mode {
                        Mode::Plain => {
                            tool.clone_into(&mut span.name);
                            span.attributes
                                .push(kv("agent_strace.tool.kind", string(call.kind.as_str())));
                        }
                        Mode::GenAi => {
                            span.name = format!("{} {tool}", genai::EXECUTE_TOOL);
                            span.attributes
                                .push(kv(genai::OPERATION_NAME, string(genai::EXECUTE_TOOL)));
                            span.attributes.extend(who.genai_attributes());
                            span.attributes
                                .push(kv(genai::TOOL_TYPE, string("function")));
                        }
                    }
                    span.attributes.push(kv(names.tool_name, string(tool)));
                    span.attributes
                        .push(kv("agent_strace.event.id", string(&event.event_id)));
                    if let Some(id) = call.tool_use_id {
                        span.attributes.push(kv(names.tool_call_id, string(id)));
                    }
                    if options.content && !call.arguments.is_null() {
                        span.attributes.push(kv(
                            names.arguments,
                            string(&limited(&call.arguments.to_string())),
                        ));
                    }
                    let index = spans.len();
                    spans.push(span);
                    by_event.insert(&event.event_id, index);
                    if let Some(id) = call.tool_use_id {
                        open_by_use.insert(id, index);
                    }
                }
                View::ToolResult(result) => {
                    let call = event
                        .parent_id
                        .as_deref()
                        .and_then(|p| by_event.get(p).copied())
                        .filter(|&i| i != first)
                        .or_else(|| {
                            result
                                .tool_use_id
                                .and_then(|id| open_by_use.get(id).copied())
                        });
                    if let Some(id) = result.tool_use_id {
                        open_by_use.remove(id);
                    }
                    // Cut where it is put ([`fail`], [`exception`]): cut here too, a message
                    // was cut again, and marked with the size of its first cut.
                    let message = result.error.as_deref();
                    match call {
                        Some(i) => {
                            let span = &mut spans[i];
                            span.end_time_unix_nano =
                                nanos(event.timestamp).max(span.start_time_unix_nano);
                            span.attributes.push(kv(
                                "agent_strace.tool.outcome",
                                string(result.outcome.as_str()),
                            ));
                            if let Some(ms) = result.duration_ms {
                                span.attributes
                                    .push(kv("agent_strace.tool.duration_ms", double(ms)));
                            }
                            if result.outcome == ToolOutcome::Failed {
                                let message = message.unwrap_or_default();
                                fail(span, message, event, options);
                            } else if options.content
                                && let Some(text) = result.full_text()
                            {
                                span.attributes
                                    .push(kv(names.result, string(&limited(&text))));
                            }
                        }
                        None if result.outcome == ToolOutcome::Failed => {
                            // A failure whose call was not recorded: an exception on the session.
                            spans[first].events.push(exception(
                                event,
                                message.unwrap_or_default(),
                                options.content,
                            ));
                        }
                        None => spans[home].events.push(span_event(event, Vec::new())),
                    }
                }
                View::LlmResponse(response) => {
                    let tokens = response.usage.unwrap_or_default();
                    usage_total.add(&tokens);
                    match options.mode {
                        Mode::GenAi => {
                            let model =
                                response.model.or(who.model.as_deref()).unwrap_or("unknown");
                            let end = nanos(event.timestamp);
                            let start = response
                                .duration_ms
                                .or(event.duration_ms)
                                .map_or(end, |ms| end.saturating_sub((ms * 1e6) as u64));
                            let mut attributes =
                                vec![kv(genai::OPERATION_NAME, string(genai::CHAT))];
                            attributes.extend(
                                who.genai_attributes()
                                    .into_iter()
                                    .filter(|a| a.key != genai::REQUEST_MODEL),
                            );
                            attributes.push(kv(genai::REQUEST_MODEL, string(model)));
                            if let Some(m) = response.model {
                                attributes.push(kv(genai::RESPONSE_MODEL, string(m)));
                            }
                            attributes.extend(usage_attributes(&tokens, response.usage.is_some()));
                            attributes.push(kv("agent_strace.event.id", string(&event.event_id)));
                            spans.push(Span {
                                trace_id: trace.to_vec(),
                                span_id: span_id(options.mode, sid, &event.event_id).to_vec(),
                                parent_span_id: spans[home].span_id.clone(),
                                name: format!("{} {model}", genai::CHAT),
                                kind: SpanKind::Client as i32,
                                start_time_unix_nano: start,
                                end_time_unix_nano: end,
                                attributes,
                                ..Span::default()
                            });
                        }
                        Mode::Plain => {
                            let mut attributes = Vec::new();
                            if let Some(m) = response.model {
                                attributes.push(kv("agent_strace.model", string(m)));
                            }
                            if response.usage.is_some() {
                                attributes.push(kv("agent_strace.tokens.input", int(tokens.input)));
                                attributes
                                    .push(kv("agent_strace.tokens.output", int(tokens.output)));
                                attributes.push(kv(
                                    "agent_strace.tokens.cache_read",
                                    int(tokens.cache_read),
                                ));
                                attributes.push(kv(
                                    "agent_strace.tokens.cache_creation",
                                    int(tokens.cache_creation),
                                ));
                                // The splits the price needs (a one-hour write costs more than
                                // a five-minute one), as `otlp-genai` writes them: read back
                                // by `agent-strace server`, whose copy was priced below the
                                // session without them.
                                if tokens.cache_creation_1h > 0 {
                                    attributes.push(kv(
                                        "agent_strace.tokens.cache_creation_1h",
                                        int(tokens.cache_creation_1h),
                                    ));
                                }
                                if tokens.reasoning > 0 {
                                    attributes.push(kv(
                                        "agent_strace.tokens.reasoning",
                                        int(tokens.reasoning),
                                    ));
                                }
                            } else {
                                attributes
                                    .push(kv("agent_strace.tokens.total", int(response.total)));
                            }
                            spans[first].events.push(span_event(event, attributes));
                        }
                    }
                }
                View::Prompt(text) => {
                    spans[first]
                        .events
                        .push(text_event(event, &text, true, options));
                }
                View::Answer(text) => {
                    spans[first]
                        .events
                        .push(text_event(event, &text, false, options));
                }
                _ => spans[home].events.push(span_event(event, Vec::new())),
            }
        }
    }
    // The session lasts until its end, its last event, or its last span's end.
    let end = spans[first..]
        .iter()
        .map(|s| s.end_time_unix_nano)
        .chain([nanos(last_time), spans[first].end_time_unix_nano])
        .max()
        .unwrap_or_default();
    let start = events
        .iter()
        .map(|e| nanos(e.timestamp))
        .chain([spans[first].start_time_unix_nano])
        .filter(|&t| t > 0)
        .min()
        .unwrap_or_default();
    let root = &mut spans[first];
    root.start_time_unix_nano = start;
    root.end_time_unix_nano = end.max(start);
    if options.mode == Mode::GenAi && !usage_total.is_zero() {
        root.attributes.extend(usage_attributes(&usage_total, true));
    }
    // The usage above leaves out the responses whose usage could not be believed: say how many.
    let unbelieved = events.iter().filter(|e| unbelieved_usage(e)).count() as u64;
    if unbelieved > 0 {
        root.attributes.push(kv(
            "agent_strace.usage.unbelieved_responses",
            int(unbelieved),
        ));
    }
    // Every span names its session (the root did above), a subagent's its own: a collector or
    // backend that files spans by `session.id` (ours, Phoenix's sessions) reads it span by span,
    // and filed the tool calls and model calls that lacked it under their trace, the parent's
    // and its subagents' in one.
    for span in &mut spans[first + 1..] {
        span.attributes.push(kv(SESSION_ID, string(sid)));
    }
    // Subagents under the call that spawned them, else under the session.
    session
        .subagents
        .iter()
        .map(|sub| {
            let parent = sub
                .meta
                .parent_event_id
                .as_deref()
                .and_then(|e| by_event.get(e).copied())
                .unwrap_or(first);
            (sub, spans[parent].span_id.clone())
        })
        .collect()
}

/// The GenAI usage attributes of `tokens` (only the output count when only a total is known).
fn usage_attributes(tokens: &crate::model::Tokens, known: bool) -> Vec<KeyValue> {
    if !known {
        return Vec::new();
    }
    let mut out = vec![
        kv(genai::USAGE_INPUT_TOKENS, int(genai::input_tokens(tokens))),
        kv(genai::USAGE_OUTPUT_TOKENS, int(tokens.output)),
        kv(genai::USAGE_CACHE_READ, int(tokens.cache_read)),
        kv(genai::USAGE_CACHE_CREATION, int(tokens.cache_creation)),
    ];
    if tokens.cache_creation_1h > 0 {
        out.push(kv(
            genai::USAGE_CACHE_CREATION_1H,
            int(tokens.cache_creation_1h),
        ));
    }
    if tokens.reasoning > 0 {
        out.push(kv(genai::USAGE_REASONING, int(tokens.reasoning)));
    }
    out
}

/// Marks `span` as failed with `message`: ERROR status and an `exception` event, as the
/// OpenTelemetry conventions for recording errors say.
fn fail(span: &mut Span, message: &str, event: &Event, options: &Options) {
    span.status = Some(Status {
        message: first_line(message),
        code: StatusCode::Error as i32,
    });
    if options.mode == Mode::GenAi {
        span.attributes
            .push(kv(genai::ERROR_TYPE, string(genai::ERROR_OTHER)));
    }
    span.events.push(exception(event, message, options.content));
}

fn first_line(message: &str) -> String {
    let line = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    limited(line.trim())
}

/// An `exception` event (the conventions' name) for a failure `event` records: its message's
/// first line, or all of it with `content` (an error can quote a file or a command's output).
fn exception(event: &Event, message: &str, content: bool) -> SpanEvent {
    let message = if content {
        limited(message)
    } else {
        first_line(message)
    };
    SpanEvent {
        time_unix_nano: nanos(event.timestamp),
        name: "exception".to_owned(),
        attributes: vec![
            kv("exception.type", string("ToolError")),
            kv("exception.message", string(&message)),
            kv("agent_strace.event.id", string(&event.event_id)),
        ],
        dropped_attributes_count: 0,
    }
}

/// A prompt's (`prompt`) or an answer's event: its length, and its text with `content`, under
/// the conventions' message attribute in `otlp-genai` ([`genai::message`]).
fn text_event(
    event: &Event,
    text: &crate::model::view::Text<'_>,
    prompt: bool,
    options: &Options,
) -> SpanEvent {
    let mut attributes = vec![kv("agent_strace.text.length", int(text.size() as u64))];
    if options.content {
        let text = limited(text.text);
        attributes.push(match options.mode {
            Mode::Plain => kv("agent_strace.text", string(&text)),
            Mode::GenAi => genai::message(prompt, &text),
        });
    }
    span_event(event, attributes)
}

/// An event of the store as a span event named by its type.
fn span_event(event: &Event, mut attributes: Vec<KeyValue>) -> SpanEvent {
    attributes.push(kv("agent_strace.event.id", string(&event.event_id)));
    SpanEvent {
        time_unix_nano: nanos(event.timestamp),
        name: event.event_type.as_str().to_owned(),
        attributes,
        dropped_attributes_count: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_distinct_and_never_zero() {
        for m in [Mode::Plain, Mode::GenAi] {
            assert_eq!(trace_id(m, "abc"), trace_id(m, "abc"));
            assert_ne!(trace_id(m, "abc"), trace_id(m, "abd"));
            assert_eq!(span_id(m, "s", "e1"), span_id(m, "s", "e1"));
            assert_ne!(span_id(m, "s", "e1"), span_id(m, "s", "e2"));
            assert_ne!(span_id(m, "s", "e1"), span_id(m, "t", "e1"));
            assert_ne!(span_id(m, "s1", "e"), span_id(m, "s", "1e"));
            assert_ne!(trace_id(m, ""), [0; 16]);
            assert_ne!(span_id(m, "", ""), [0; 8]);
        }
    }

    #[test]
    fn the_two_vocabularies_give_one_session_other_ids() {
        assert_ne!(trace_id(Mode::Plain, "s"), trace_id(Mode::GenAi, "s"));
        assert_ne!(
            span_id(Mode::Plain, "s", ROOT),
            span_id(Mode::GenAi, "s", ROOT)
        );
        assert_ne!(
            span_id(Mode::Plain, "s", "e1"),
            span_id(Mode::GenAi, "s", "e1")
        );
    }
}
