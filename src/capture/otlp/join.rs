//! Telemetry into the store: Claude Code's model requests and tool timings joined into the
//! session its hooks record (same session id; the prompt by `prompt.id`, the tool call by its
//! `tool_use_id`), and other senders' spans and log records kept as generic events.
//!
//! Exactly once: OTLP exporters retry, and Claude Code tells of one model request twice (its
//! `llm_request` span and its `api_request` log event), so every written event carries a key
//! (the API's request id, the tool_use_id, the span id) and a key the session holds already is
//! not written again. A transcript imported into the same session keeps its responses'
//! `request_id` too, so its usage is never counted on top of the telemetry's.
//!
//! What is written:
//! - `llm_response` (one per model request): `usage` in the API's names, so `cost`, `stats`
//!   and the index read exact tokens through [`crate::model::view::LlmResponse`]; `model`,
//!   `request_id`, `ttft_ms`, `stop_reason`, `prompt_id`, `source: "otel"`; the request's
//!   `duration_ms`; its parent is the prompt's `user_prompt`.
//! - `llm_request` (one per `claude_code.llm_request` span): the request's timing (`ttft_ms`,
//!   `attempt`, `success`), whichever signal brought the usage first.
//! - `decision` of kind `tool_timing` (one per tool call): the call's whole and run durations;
//!   its parent is the hook's `tool_call` of that `tool_use_id`.
//! - `decision` of kind `otel_span` / `otel_log` for other senders, in the session their
//!   `session.id` names, else in one session per trace (`otel-<trace id>`); a model call's span
//!   with GenAI usage (`gen_ai.usage.*`, [`genai`]) becomes an `llm_response`, and a tool's
//!   (`execute_tool`, or a call's span of our own plain export, [`tool_span`]) a `tool_call`
//!   and, once it returned, its `tool_result` or `error` (one the user refused marked so,
//!   `is_interrupt`, whatever its words). A log record with neither a session nor a trace is
//!   refused (OTLP's partial success says how many).
//! - `llm_response` of each response our own plain export tells as an event of a span
//!   ([`plain`]).
//! - `session_end` of a session whose span says when it ended (agent-strace's own export of an
//!   ended session, [`SESSION_ENDED_AT`]), after the session's other events of the request.
//!
//! A session the telemetry opens is named by the agent its spans name (`gen_ai.agent.name`, or
//! our plain export's `agent_strace.agent`), else by the sender's `service.name`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::decode::Rejected;
use super::genai;
use super::plain::{self, Response};
use super::telemetry::{Generic, LlmCall, Record, Signal, ToolTiming};
use super::tool_span::{self, ToolSpan};
use crate::capture::sink::Sink;
use crate::model::meta::BELIEVABLE_TIMES;
use crate::model::view::View;
use crate::model::{Agent, Event, EventType, SessionMeta};
use crate::store::{Store, StoreError, is_valid_session_id};

/// What `source` says on every event written from telemetry.
pub const SOURCE: &str = "otel";
/// The `kind` of a tool call's timing.
pub const KIND_TOOL_TIMING: &str = "tool_timing";
/// The `kind` of another sender's span.
pub const KIND_SPAN: &str = "otel_span";
/// The `kind` of another sender's log record.
pub const KIND_LOG: &str = "otel_log";
/// The attribute by which agent-strace's own export names a subagent's parent session, on the
/// subagent's root span.
const PARENT_SESSION: &str = "agent_strace.parent_session.id";
/// The attribute by which agent-strace's own export says when a session ended (seconds since
/// the epoch, as `meta.json` holds it), on the session's root span: a span's end says when its
/// run stopped, not whether the session did (a running session's span ends at its last event).
const SESSION_ENDED_AT: &str = "agent_strace.session.ended_at";

/// One ingest at a time in this process: the check that a key is new and the write of its event
/// must not interleave with another request's (traces and logs of one request come together).
static INGEST: Mutex<()> = Mutex::new(());

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Events written: a record may write more than one (a tool's span its `tool_call` and its
    /// result, a Claude Code request's span its `llm_request` and `llm_response`), and the
    /// `session_end` a span told is one more.
    pub written: u64,
    /// Records of which nothing was written, all in the store already (a retried request, or
    /// the second signal of one request).
    pub duplicates: u64,
    /// Claude Code's records that its hooks record better (hook runs, decisions …).
    pub ignored: u64,
    pub rejected: Rejected,
    /// Records with a time no date can hold, recorded at their receipt ([`retime`]).
    pub retimed: u64,
    /// Sessions written to, in order of first write.
    pub sessions: Vec<String>,
}

/// Writes what `records` tell into the store.
pub fn ingest(store: &Store, sink: &Sink, records: Vec<Record>) -> Result<Ingested, StoreError> {
    let _one = INGEST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = Ingested::default();
    let mut by_session: Vec<(String, Vec<Record>)> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    let now = sink.now();
    for mut record in records {
        if retime(&mut record, now) {
            out.retimed += 1;
        }
        let session = match &record {
            Record::ClaudeOther => {
                out.ignored += 1;
                continue;
            }
            Record::Llm(c) => Some(c.session_id.clone()),
            Record::Tool(t) => Some(t.session_id.clone()),
            Record::Generic(g) => generic_session(g.session_id.as_ref(), g.trace_id.as_ref()),
            Record::Response(r) => generic_session(r.session_id.as_ref(), r.trace_id.as_ref()),
        };
        let Some(id) = session.filter(|s| is_valid_session_id(s)) else {
            out.rejected.count += 1;
            if refused.len() < 3 {
                refused.push(describe(&record));
            }
            continue;
        };
        // Under the id the hooks of that session store it by.
        let id = sink.privacy().session_id(&id).into_owned();
        match by_session.iter_mut().find(|(s, _)| *s == id) {
            Some((_, list)) => list.push(record),
            None => by_session.push((id, vec![record])),
        }
    }
    if out.rejected.count > 0 {
        out.rejected.message = format!(
            "{} named no session agent-strace can store (a valid session.id, or a trace id): {}",
            crate::model::text::count(out.rejected.count as u64, "record"),
            refused.join(", ")
        );
    }
    for (session, records) in by_session {
        let mut writer = SessionWrite::open(store, sink, &session, &records)?;
        for record in records {
            match writer.record(record)? {
                0 => out.duplicates += 1,
                events => out.written += events,
            }
        }
        if writer.end()? {
            out.written += 1;
        }
        out.sessions.push(session);
    }
    Ok(out)
}

/// Sets a record's times that no date can hold (after 2100, [`BELIEVABLE_TIMES`]: a span's
/// `u64::MAX` nanoseconds is the year 2554) to `now`, its receipt, as a hook call's are;
/// whether it had one. A session was opened in 2554, shown as `?` by every reader.
fn retime(record: &mut Record, now: f64) -> bool {
    let (start, end) = match record {
        Record::Llm(c) => (&mut c.start, &mut c.end),
        Record::Tool(t) => (&mut t.start, &mut t.end),
        Record::Generic(g) => (&mut g.start, &mut g.end),
        Record::Response(r) => {
            let far = !BELIEVABLE_TIMES.contains(&r.at);
            if far {
                r.at = now;
            }
            return far;
        }
        Record::ClaudeOther => return false,
    };
    let mut retimed = false;
    for at in [&mut *start, &mut *end] {
        if !BELIEVABLE_TIMES.contains(at) {
            *at = now;
            retimed = true;
        }
    }
    // A start kept before an end made the receipt, or an end kept before a start made so.
    if retimed && *start > *end {
        *start = *end;
    }
    retimed
}

/// The session a generic record goes to: its `session.id`, else one per trace.
fn generic_session(session: Option<&String>, trace: Option<&String>) -> Option<String> {
    session
        .filter(|s| is_valid_session_id(s))
        .cloned()
        .or_else(|| trace.map(|t| format!("otel-{t}")))
}

fn describe(record: &Record) -> String {
    match record {
        Record::Llm(c) => format!("model request of session {:?}", c.session_id),
        Record::Tool(t) => format!("tool timing of session {:?}", t.session_id),
        Record::Generic(g) => format!("{:?}", g.name),
        Record::Response(r) => format!("model response {:?}", r.event_id),
        Record::ClaudeOther => "a Claude Code record".to_owned(),
    }
}

/// One session being written: what it holds already, by key.
struct SessionWrite<'a> {
    store: &'a Store,
    sink: &'a Sink,
    session: &'a str,
    /// Request ids with an `llm_response`, and with an `llm_request`.
    responses: HashSet<String>,
    requests: HashSet<String>,
    /// tool_use_ids with a timing.
    timed: HashSet<String>,
    /// Keys of generic records written.
    generic: HashSet<String>,
    /// The event written of each span (by span id), for the spans under it to name as parent.
    spans: HashMap<String, String>,
    /// The hook's `tool_call` event of each tool_use_id.
    calls: HashMap<String, String>,
    /// The `user_prompt` event of each prompt id.
    prompts: HashMap<String, String>,
    /// The prompt id of each trace (Claude Code's log events carry both; its spans only the
    /// trace).
    trace_prompts: HashMap<String, String>,
    /// The times of the `session_end` events the session holds.
    ends: HashSet<u64>,
    /// The end the records of this ingest told ([`SESSION_ENDED_AT`]), written after them.
    end: Option<f64>,
}

impl<'a> SessionWrite<'a> {
    fn open(
        store: &'a Store,
        sink: &'a Sink,
        session: &'a str,
        records: &[Record],
    ) -> Result<SessionWrite<'a>, StoreError> {
        let mut w = SessionWrite {
            store,
            sink,
            session,
            responses: HashSet::new(),
            requests: HashSet::new(),
            timed: HashSet::new(),
            generic: HashSet::new(),
            spans: HashMap::new(),
            calls: HashMap::new(),
            prompts: HashMap::new(),
            trace_prompts: HashMap::new(),
            ends: HashSet::new(),
            end: None,
        };
        if store.has_session(session) {
            let mut events = store.events(session)?;
            for event in events.by_ref() {
                w.learn(&event);
            }
        } else {
            w.create(records)?;
        }
        // Spans of a trace learn its prompt from the log events of the same request.
        for record in records {
            if let Record::Llm(LlmCall {
                trace_id: Some(t),
                prompt_id: Some(p),
                ..
            })
            | Record::Tool(ToolTiming {
                trace_id: Some(t),
                prompt_id: Some(p),
                ..
            }) = record
            {
                w.trace_prompts.insert(t.clone(), p.clone());
            }
        }
        Ok(w)
    }

    /// A session telemetry opens before (or without) its hooks: Claude Code's, or the sender's.
    fn create(&self, records: &[Record]) -> Result<(), StoreError> {
        // The agent a record names before the sender: agent-strace's own export is sent as
        // the service `agent-strace`, and its copy was that agent's, not the session's.
        let agent = records
            .iter()
            .find_map(|r| match r {
                Record::Llm(_) | Record::Tool(_) => Some(Agent::ClaudeCode.name()),
                Record::Generic(g) => genai::agent_name(g).or_else(|| plain::agent_name(g)),
                Record::Response(_) | Record::ClaudeOther => None,
            })
            .map(str::to_owned)
            .or_else(|| {
                records.iter().find_map(|r| match r {
                    Record::Generic(g) => g.service.clone(),
                    _ => None,
                })
            });
        let start = records
            .iter()
            .map(|r| match r {
                Record::Llm(c) => c.start,
                Record::Tool(t) => t.start,
                Record::Generic(g) => g.start,
                Record::Response(r) => r.at,
                Record::ClaudeOther => f64::INFINITY,
            })
            .fold(f64::INFINITY, f64::min);
        let start = if start.is_finite() {
            start
        } else {
            self.sink.now()
        };
        let mut meta = SessionMeta::new(self.session, start);
        meta.agent_name = agent.unwrap_or_else(|| "otel".to_owned());
        meta.command = format!("{} (otel)", meta.agent_name);
        self.link_to_parent(&mut meta, records);
        // The sender's `service.name` is anyone's text, and may hold a key.
        self.sink.privacy().apply_meta(&mut meta);
        self.store.create_session(&meta)?;
        // The counters cache of a session we made (hooks do the same), ignored if there.
        let _ = self.store.init_counters(self.session);
        Ok(())
    }

    /// A subagent's session, whose root span names its parent session (agent-strace's own
    /// export does, [`PARENT_SESSION`]), linked to it as its import links it: under the event
    /// of the span that spawned it (the root's parent span), one level deeper. Without it the
    /// collector's copy of an exported session held its subagents as sessions of their own.
    fn link_to_parent(&self, meta: &mut SessionMeta, records: &[Record]) {
        let Some((parent, under)) = records.iter().find_map(|r| match r {
            Record::Generic(g) => g
                .attributes
                .get(PARENT_SESSION)
                .and_then(Value::as_str)
                .filter(|p| is_valid_session_id(p) && *p != meta.session_id)
                .map(|p| (p.to_owned(), g.parent_span_id.clone())),
            _ => None,
        }) else {
            return;
        };
        // The parent as this store keeps it (the sink's privacy names its folder).
        let stored = self.sink.privacy().session_id(&parent).into_owned();
        meta.depth = self
            .store
            .read_meta_to_read(&stored)
            .map_or(1, |m| m.depth.saturating_add(1));
        meta.parent_event_id = under.and_then(|span| self.event_of_span(&stored, &span));
        meta.parent_session_id = Some(parent);
    }

    /// The event the collector wrote of span `span_id` in `session`.
    fn event_of_span(&self, session: &str, span_id: &str) -> Option<String> {
        if !self.store.has_session(session) {
            return None;
        }
        let mut events = self.store.events(session).ok()?;
        events.by_ref().find_map(|e| {
            (e.data.get("source").and_then(Value::as_str) == Some(SOURCE)
                && e.data.get("span_id").and_then(Value::as_str) == Some(span_id))
            .then(|| e.event_id.clone())
        })
    }

    /// Notes the keys an event already in the session holds.
    fn learn(&mut self, event: &Event) {
        let d = &event.data;
        let key = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
        match &event.event_type {
            EventType::LlmResponse => self.responses.extend(key("request_id")),
            EventType::LlmRequest => self.requests.extend(key("request_id")),
            EventType::UserPrompt => {
                if let Some(p) = key("prompt_id") {
                    self.prompts
                        .entry(p)
                        .or_insert_with(|| event.event_id.clone());
                }
            }
            EventType::ToolCall => {
                if let View::ToolCall(call) = View::of(event, Agent::ClaudeCode)
                    && let Some(id) = call.tool_use_id
                {
                    self.calls
                        .entry(id.to_owned())
                        .or_insert_with(|| event.event_id.clone());
                }
            }
            EventType::Decision
                if d.get("kind").and_then(Value::as_str) == Some(KIND_TOOL_TIMING) =>
            {
                self.timed.extend(key("tool_use_id"));
            }
            EventType::SessionEnd => {
                self.ends.insert(event.timestamp.to_bits());
            }
            _ => {}
        }
        // A generic record's key, whatever it was written as: a span with GenAI usage is an
        // `llm_response`, and an exporter's retry of it must not be written (and priced) again.
        self.generic.extend(key("otel_key"));
        if d.get("source").and_then(Value::as_str) == Some(SOURCE)
            && let Some(span) = key("span_id")
        {
            self.spans
                .entry(span)
                .or_insert_with(|| event.event_id.clone());
        }
        if let (Some(t), Some(p)) = (key("trace_id"), key("prompt_id")) {
            self.trace_prompts.entry(t).or_insert(p);
        }
    }

    /// Writes a record's events unless the session holds them; how many it wrote.
    fn record(&mut self, record: Record) -> Result<u64, StoreError> {
        match record {
            Record::Llm(call) => self.llm(&call),
            Record::Tool(timing) => self.tool(&timing),
            Record::Generic(g) => self.generic(g),
            Record::Response(r) => self.response(r),
            Record::ClaudeOther => Ok(0),
        }
    }

    fn write(&self, mut event: Event) -> Result<(), StoreError> {
        let mut target = self.store;
        self.session.clone_into(&mut event.session_id);
        self.sink.emit(&mut target, event)
    }

    fn prompt_of(&self, prompt: Option<&String>, trace: Option<&String>) -> Option<String> {
        prompt
            .cloned()
            .or_else(|| trace.and_then(|t| self.trace_prompts.get(t).cloned()))
    }

    fn llm(&mut self, c: &LlmCall) -> Result<u64, StoreError> {
        // A request with no id (none reached the API) is told by its span alone.
        let key = c
            .request_id
            .clone()
            .or_else(|| c.span_id.clone().map(|s| format!("span:{s}")));
        let prompt = self.prompt_of(c.prompt_id.as_ref(), c.trace_id.as_ref());
        let parent = prompt.as_ref().and_then(|p| self.prompts.get(p).cloned());
        let mut common = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                common.insert(k.to_owned(), v);
            }
        };
        put("model", c.model.clone().map(Value::from));
        put("request_id", key.clone().map(Value::from));
        put("ttft_ms", c.ttft_ms.map(Value::from));
        put("prompt_id", prompt.map(Value::from));
        put("trace_id", c.trace_id.clone().map(Value::from));
        put("span_id", c.span_id.clone().map(Value::from));
        put("source", Some(SOURCE.into()));
        let mut wrote = 0;
        if c.signal == Signal::Span && key.as_ref().is_none_or(|k| !self.requests.contains(k)) {
            let mut data = common.clone();
            data.insert("attempt".into(), c.attempt.map_or(Value::Null, Value::from));
            data.insert("success".into(), c.success.map_or(Value::Null, Value::from));
            let mut event = self
                .sink
                .event(EventType::LlmRequest, c.start, self.session, data);
            event.parent_id.clone_from(&parent);
            event.duration_ms = c.duration_ms;
            self.write(event)?;
            self.requests.extend(key.clone());
            wrote += 1;
        }
        if key.as_ref().is_none_or(|k| !self.responses.contains(k)) && !c.usage.is_zero() {
            let mut data = common;
            data.insert("usage".into(), c.usage.to_usage());
            if let Some(reason) = &c.stop_reason {
                data.insert("stop_reason".into(), reason.clone().into());
            }
            if let Some(cost) = c.cost_usd {
                data.insert("reported_cost_usd".into(), cost.into());
            }
            let mut event = self
                .sink
                .event(EventType::LlmResponse, c.end, self.session, data);
            event.parent_id = parent;
            event.duration_ms = c.duration_ms;
            self.write(event)?;
            self.responses.extend(key);
            wrote += 1;
        }
        Ok(wrote)
    }

    fn tool(&mut self, t: &ToolTiming) -> Result<u64, StoreError> {
        if self.timed.contains(&t.tool_use_id) {
            return Ok(0);
        }
        let name = match t.signal {
            Signal::Span => "claude_code.tool",
            Signal::Log => "claude_code.tool_result",
        };
        let mut data = json!({
            "kind": KIND_TOOL_TIMING,
            "choice": name,
            "tool_use_id": t.tool_use_id,
            "source": SOURCE,
        });
        let obj = data.as_object_mut().expect("an object");
        if let Some(tool) = &t.tool_name {
            obj.insert("tool_name".into(), tool.clone().into());
        }
        if let Some(run) = t.execution_ms {
            obj.insert("execution_ms".into(), run.into());
        }
        if let Some(ok) = t.success {
            obj.insert("success".into(), ok.into());
        }
        if let Some(p) = self.prompt_of(t.prompt_id.as_ref(), t.trace_id.as_ref()) {
            obj.insert("prompt_id".into(), p.into());
        }
        let Value::Object(map) = data else {
            unreachable!("built as an object")
        };
        let mut event = self
            .sink
            .event(EventType::Decision, t.start, self.session, map);
        event.parent_id = self.calls.get(&t.tool_use_id).cloned();
        event.duration_ms = t.duration_ms;
        self.write(event)?;
        self.timed.insert(t.tool_use_id.clone());
        Ok(1)
    }

    fn generic(&mut self, mut g: Generic) -> Result<u64, StoreError> {
        let key = match g.signal {
            Signal::Span => format!("span:{}", g.span_id.as_deref().unwrap_or("")),
            Signal::Log => format!(
                "log:{}:{}:{}",
                g.start,
                g.span_id.as_deref().unwrap_or(""),
                g.name
            ),
        };
        if !self.generic.insert(key.clone()) {
            return Ok(0);
        }
        if let Some(at) = g
            .attributes
            .get(SESSION_ENDED_AT)
            .and_then(Value::as_f64)
            .filter(|at| BELIEVABLE_TIMES.contains(at))
        {
            self.end = Some(self.end.map_or(at, |end| end.max(at)));
        }
        let took = (g.end - g.start) * 1000.0;
        let span = g.span_id.clone();
        // Under the event of its parent span, as the export's spans nest (a tool's or model's
        // call under its agent's run): the collector's copy lost every link.
        let parent = g
            .parent_span_id
            .as_ref()
            .and_then(|p| self.spans.get(p).cloned());
        let usage_tokens = genai::model_call_usage(&g);
        let tool = match g.signal {
            Signal::Span => tool_span::of(&g),
            Signal::Log => None,
        };
        let mut data = Map::new();
        if tool.is_some() {
            // Its arguments and result are the call's and the result's fields.
            g.attributes
                .retain(|k, _| !tool_span::READ.contains(&k.as_str()));
        } else {
            let kind = match g.signal {
                Signal::Span => KIND_SPAN,
                Signal::Log => KIND_LOG,
            };
            data.insert("kind".into(), kind.into());
            data.insert("choice".into(), g.name.clone().into());
        }
        data.insert("otel_key".into(), key.into());
        data.insert("source".into(), SOURCE.into());
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                data.insert(k.to_owned(), v.into());
            }
        };
        put("service", g.service);
        put("trace_id", g.trace_id);
        put("span_id", g.span_id);
        put("parent_span_id", g.parent_span_id);
        // A tool's failure is its result's (an `error` event), not its call's.
        if let Some(message) = g.error.filter(|_| tool.is_none()) {
            data.insert("error".into(), true.into());
            data.insert("message".into(), message.into());
        }
        if let Some(body) = g.body {
            data.insert("body".into(), body);
        }
        let model = ["gen_ai.response.model", "gen_ai.request.model"]
            .iter()
            .find_map(|k| {
                g.attributes
                    .get(*k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        data.insert(
            "attributes".into(),
            Value::Object(g.attributes.into_iter().collect()),
        );
        let kind = match (usage_tokens, &tool) {
            (Some(usage), _) => {
                data.insert("usage".into(), usage.to_usage());
                if let Some(model) = model {
                    data.insert("model".into(), model.into());
                }
                EventType::LlmResponse
            }
            (None, Some(call)) => {
                call_fields(&mut data, call);
                if let Some(arguments) = &call.arguments {
                    data.insert("arguments".into(), arguments.clone());
                }
                EventType::ToolCall
            }
            (None, None) => EventType::Decision,
        };
        let at = if kind == EventType::LlmResponse {
            g.end
        } else {
            g.start
        };
        let mut event = self.sink.event(kind, at, self.session, data);
        if g.signal == Signal::Span {
            // A call's length is its result's, as a recorded call's is.
            event.duration_ms = tool.is_none().then_some(took);
            event.parent_id = parent;
        }
        let id = event.event_id.clone();
        self.write(event)?;
        let mut wrote = 1;
        if let Some(call) = &tool
            && self.tool_returned(call, &id, g.end)?
        {
            wrote += 1;
        }
        if g.signal == Signal::Span
            && let Some(span) = span
        {
            self.spans.entry(span).or_insert(id);
        }
        Ok(wrote)
    }

    /// A model response our plain export told, under the event of the span it was an event of;
    /// keyed by the event it was exported from.
    fn response(&mut self, r: Response) -> Result<u64, StoreError> {
        let key = format!("event:{}", r.event_id);
        if !self.generic.insert(key.clone()) {
            return Ok(0);
        }
        let mut data = Map::new();
        match &r.usage {
            Some(usage) => data.insert("usage".into(), usage.to_usage()),
            None => data.insert("total_tokens".into(), r.total.into()),
        };
        if let Some(model) = r.model {
            data.insert("model".into(), model.into());
        }
        data.insert("otel_key".into(), key.into());
        data.insert("source".into(), SOURCE.into());
        if let Some(service) = r.service {
            data.insert("service".into(), service.into());
        }
        if let Some(trace) = r.trace_id {
            data.insert("trace_id".into(), trace.into());
        }
        let mut event = self
            .sink
            .event(EventType::LlmResponse, r.at, self.session, data);
        event.parent_id = r.span_id.and_then(|s| self.spans.get(&s).cloned());
        self.write(event)?;
        Ok(1)
    }

    /// The result of a tool call a span told (or its failure), under the call's event, once
    /// the call returned; whether it did.
    fn tool_returned(
        &self,
        call: &ToolSpan,
        call_event: &str,
        at: f64,
    ) -> Result<bool, StoreError> {
        let Some(ended) = &call.ended else {
            return Ok(false);
        };
        let mut data = Map::new();
        call_fields(&mut data, call);
        let kind = if let Some(message) = &ended.error {
            data.insert("error".into(), message.clone().into());
            if ended.refused {
                // The store's flag for a call the user refused, whatever its words: an export
                // without `--content` gives none, and an error of no words is a failure.
                data.insert("is_interrupt".into(), true.into());
            }
            EventType::Error
        } else {
            if let Some(result) = &ended.result {
                data.insert("result".into(), result.clone().into());
            }
            EventType::ToolResult
        };
        data.insert("source".into(), SOURCE.into());
        let mut event = self.sink.event(kind, at, self.session, data);
        event.parent_id = Some(call_event.to_owned());
        event.duration_ms = ended.duration_ms;
        self.write(event)?;
        Ok(true)
    }

    /// Writes the `session_end` the records told ([`SESSION_ENDED_AT`]), after the session's
    /// other events, unless the session holds one at that time; whether it wrote.
    fn end(&mut self) -> Result<bool, StoreError> {
        let Some(at) = self.end.take() else {
            return Ok(false);
        };
        if !self.ends.insert(at.to_bits()) {
            return Ok(false);
        }
        let mut data = Map::new();
        data.insert("source".into(), SOURCE.into());
        let event = self
            .sink
            .event(EventType::SessionEnd, at, self.session, data);
        self.write(event)?;
        Ok(true)
    }
}

/// The tool and the call's id, as a tool call's events name them.
fn call_fields(data: &mut Map<String, Value>, call: &ToolSpan) {
    if let Some(tool) = &call.tool {
        data.insert("tool_name".into(), tool.clone().into());
    }
    if let Some(id) = &call.tool_use_id {
        data.insert("tool_use_id".into(), id.clone().into());
    }
}
