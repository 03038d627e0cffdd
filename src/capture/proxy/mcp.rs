//! What MCP messages become in the store: tool calls and results linked by JSON-RPC id,
//! sampling as LLM requests and responses, everything else as events that keep their method.
//!
//! Recording runs apart from the relay and never reaches back into it: whatever fails here is
//! logged and the traffic goes on.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value};

use super::framing::Frame;
use crate::capture::limit::limit;
use crate::capture::sink::Sink;
use crate::model::{EventType, SessionMeta};
use crate::store::{Appender, Store, StoreError};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client_to_server",
            Direction::ServerToClient => "server_to_client",
        }
    }
}

/// A request waiting for its answer: the MCP session it belongs to (0 when the transport carries
/// one), which side sent it, and its JSON-RPC id.
type OpenKey = (u32, Direction, String);

struct Open {
    event_id: String,
    timestamp: f64,
    method: String,
    tool: Option<String>,
}

/// Records one proxied MCP session.
pub struct McpRecorder {
    store: Store,
    session_id: String,
    appender: Appender,
    sink: Sink,
    open: HashMap<OpenKey, Open>,
    /// Requests in the order they came, to forget the oldest unanswered ones.
    open_order: VecDeque<OpenKey>,
    started_at: f64,
    last_refresh: f64,
    /// Where the user is told that recording stopped (the command's stderr).
    report: fn(&str),
}

/// How often (seconds) meta is caught up while the session runs.
const REFRESH_EVERY: f64 = 1.0;
/// Requests waiting for an answer that are remembered; past this the oldest are forgotten (a
/// server may drop requests, and memory must stay flat).
const MAX_OPEN: usize = 10_000;

impl McpRecorder {
    /// Creates the session (`command` is what `list` shows) and records its start; `about` joins
    /// the start event's data.
    pub fn start(
        store: &Store,
        session_id: &str,
        name: &str,
        command: &str,
        about: Map<String, Value>,
        now: f64,
        sink: Sink,
    ) -> Result<McpRecorder, StoreError> {
        let mut meta = SessionMeta::new(session_id, now);
        name.clone_into(&mut meta.agent_name);
        command.clone_into(&mut meta.command);
        store.create_session(&meta)?;
        store.init_counters(session_id)?;
        let appender = store.appender(session_id)?;
        let mut recorder = McpRecorder {
            store: store.clone(),
            session_id: session_id.to_owned(),
            appender,
            sink,
            open: HashMap::new(),
            open_order: VecDeque::new(),
            started_at: now,
            last_refresh: now,
            report: |_| {},
        };
        let mut data = Map::new();
        data.insert("source".into(), "mcp-proxy".into());
        data.insert("server".into(), name.into());
        data.extend(about);
        recorder.write(EventType::SessionStart, now, data, None)?;
        Ok(recorder)
    }

    /// The same recorder, telling the user through `report` when recording stops.
    #[must_use]
    pub fn reporting_to(mut self, report: fn(&str)) -> McpRecorder {
        self.report = report;
        self
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// When the session started.
    pub fn started_at(&self) -> f64 {
        self.started_at
    }

    fn write(
        &mut self,
        kind: EventType,
        now: f64,
        data: Map<String, Value>,
        parent: Option<&Open>,
    ) -> Result<String, StoreError> {
        let mut event = self.sink.event(kind, now, &self.session_id, data);
        let id = event.event_id.clone();
        if let Some(call) = parent {
            event.parent_id = Some(call.event_id.clone());
            event.duration_ms = Some(((now - call.timestamp) * 1000.0).max(0.0));
        }
        self.sink.emit(&mut self.appender, event)?;
        if now - self.last_refresh >= REFRESH_EVERY {
            self.last_refresh = now;
            self.appender.flush()?;
            let _ = self
                .store
                .refresh_meta(&self.session_id, crate::store::HOOK_LOCK_WAIT);
        }
        Ok(id)
    }

    /// Records one message body as it crossed a proxy that carries one MCP session.
    pub fn message(
        &mut self,
        direction: Direction,
        body: &[u8],
        now: f64,
    ) -> Result<(), StoreError> {
        self.message_on(0, direction, body, now)
    }

    /// Records one message body of the MCP session numbered `channel` (0: not known).
    pub fn message_on(
        &mut self,
        channel: u32,
        direction: Direction,
        body: &[u8],
        now: f64,
    ) -> Result<(), StoreError> {
        let head = Head {
            channel,
            direction,
            cut_from: None,
        };
        self.parsed(head, serde_json::from_slice::<Value>(body), body, now)
    }

    /// Records one message as the stdio framer found it: whole, or a cut copy of a message too
    /// large to keep, recorded with its real size (`message_original_bytes`).
    pub fn frame(
        &mut self,
        direction: Direction,
        frame: Frame<'_>,
        now: f64,
    ) -> Result<(), StoreError> {
        match frame {
            Frame::Whole(body) => self.message_on(0, direction, body, now),
            Frame::Cut { copy, head, size } => {
                let event_head = Head {
                    channel: 0,
                    direction,
                    cut_from: Some(size),
                };
                if let Some(copy) = copy {
                    return self.parsed(event_head, serde_json::from_slice(copy), head, now);
                }
                let mut data = event_head.data();
                data.insert(
                    "error".into(),
                    format!(
                        "a message of {size} bytes was relayed; it held too much to keep even \
                         a cut copy"
                    )
                    .into(),
                );
                data.insert("raw".into(), raw(head).into());
                self.write(EventType::Error, now, data, None).map(|_| ())
            }
        }
    }

    /// Records a message as it parsed; `body` is what it came as, for one that did not.
    fn parsed(
        &mut self,
        head: Head,
        message: serde_json::Result<Value>,
        body: &[u8],
        now: f64,
    ) -> Result<(), StoreError> {
        match message {
            Ok(Value::Array(batch)) => {
                for item in batch {
                    self.one(head, item, now)?;
                }
                Ok(())
            }
            Ok(value) => self.one(head, value, now),
            Err(e) => {
                let mut data = head.data();
                data.insert(
                    "error".into(),
                    format!("malformed JSON-RPC message: {e}").into(),
                );
                data.insert("raw".into(), raw(body).into());
                self.write(EventType::Error, now, data, None).map(|_| ())
            }
        }
    }

    /// Records what the transport saw that is not a message (an HTTP error, a closed session).
    pub fn note(
        &mut self,
        kind: EventType,
        data: Map<String, Value>,
        now: f64,
    ) -> Result<(), StoreError> {
        self.write(kind, now, data, None).map(|_| ())
    }

    fn one(&mut self, head: Head, msg: Value, now: f64) -> Result<(), StoreError> {
        let Head {
            channel, direction, ..
        } = head;
        let Value::Object(mut msg) = msg else {
            let mut data = head.data();
            data.insert("error".into(), "JSON-RPC message is not an object".into());
            return self.write(EventType::Error, now, data, None).map(|_| ());
        };
        let id = msg.get("id").filter(|v| !v.is_null()).map(Value::to_string);
        let method = msg.get("method").and_then(Value::as_str).map(str::to_owned);
        let mut data = head.data();
        match (method, id) {
            (Some(method), Some(id)) => {
                let params = msg.remove("params").unwrap_or(Value::Null);
                data.insert("method".into(), method.clone().into());
                data.insert("jsonrpc_id".into(), id.clone().into());
                let (kind, tool) = match method.as_str() {
                    "tools/call" => {
                        let tool = params
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown")
                            .to_owned();
                        data.insert("tool_name".into(), tool.clone().into());
                        data.insert(
                            "arguments".into(),
                            limit(params.get("arguments").cloned().unwrap_or(Value::Null)).0,
                        );
                        (EventType::ToolCall, Some(tool))
                    }
                    "sampling/createMessage" => {
                        data.insert("params".into(), limit(params).0);
                        (EventType::LlmRequest, None)
                    }
                    _ => {
                        data.insert("params".into(), limit(params).0);
                        (EventType::Decision, None)
                    }
                };
                let event_id = self.write(kind, now, data, None)?;
                let key = (channel, direction, id);
                let entry = Open {
                    event_id,
                    timestamp: now,
                    method,
                    tool,
                };
                if self.open.insert(key.clone(), entry).is_none() {
                    self.open_order.push_back(key);
                }
                while self.open.len() > MAX_OPEN {
                    let Some(oldest) = self.open_order.pop_front() else {
                        break;
                    };
                    self.open.remove(&oldest);
                }
                // Keys answered long ago still sit in the queue: drop them when it grows.
                if self.open_order.len() > 2 * MAX_OPEN {
                    let open = &self.open;
                    self.open_order.retain(|k| open.contains_key(k));
                }
            }
            (Some(method), None) => {
                data.insert("method".into(), method.into());
                data.insert("notification".into(), true.into());
                data.insert(
                    "params".into(),
                    limit(msg.remove("params").unwrap_or(Value::Null)).0,
                );
                self.write(EventType::Decision, now, data, None)?;
            }
            (None, Some(id)) => {
                let request_side = match direction {
                    Direction::ClientToServer => Direction::ServerToClient,
                    Direction::ServerToClient => Direction::ClientToServer,
                };
                let open = self.open.remove(&(channel, request_side, id.clone()));
                data.insert("jsonrpc_id".into(), id.into());
                if let Some(o) = &open {
                    data.insert("method".into(), o.method.clone().into());
                    if let Some(tool) = &o.tool {
                        data.insert("tool_name".into(), tool.clone().into());
                    }
                }
                let method = open.as_ref().map(|o| o.method.as_str()).unwrap_or_default();
                let kind = if let Some(error) = msg.remove("error") {
                    data.insert("error".into(), error_message(&error).into());
                    if let Some(code) = error.get("code") {
                        data.insert("code".into(), code.clone());
                    }
                    EventType::Error
                } else {
                    let result = msg.remove("result").unwrap_or(Value::Null);
                    match method {
                        "tools/call" => {
                            let text = result_text(&result);
                            let failed =
                                result.get("isError").and_then(Value::as_bool) == Some(true);
                            if failed {
                                data.insert("error".into(), limit(text.into()).0);
                                EventType::Error
                            } else {
                                data.insert("result".into(), limit(text.into()).0);
                                data.insert("tool_response".into(), limit(result).0);
                                EventType::ToolResult
                            }
                        }
                        "sampling/createMessage" => {
                            if let Some(model) = result.get("model") {
                                data.insert("model".into(), model.clone());
                            }
                            data.insert("result".into(), limit(result).0);
                            EventType::LlmResponse
                        }
                        _ => {
                            data.insert("response".into(), true.into());
                            data.insert("result".into(), limit(result).0);
                            EventType::Decision
                        }
                    }
                };
                self.write(kind, now, data, open.as_ref())?;
            }
            (None, None) => {
                // An error answer to a request the server could not read has a null id.
                let message = msg.get("error").map_or_else(
                    || "JSON-RPC message with neither method nor id".to_owned(),
                    error_message,
                );
                if let Some(code) = msg.get("error").and_then(|e| e.get("code")) {
                    data.insert("code".into(), code.clone());
                }
                data.insert("error".into(), message.into());
                self.write(EventType::Error, now, data, None)?;
            }
        }
        Ok(())
    }

    /// Writes the events gathered so far (the proxy calls it when no message is waiting).
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.appender.flush()
    }

    /// Records the end of the session and catches meta up.
    pub fn end(&mut self, exit_code: Option<i32>, now: f64) -> Result<(), StoreError> {
        let mut data = Map::new();
        data.insert("reason".into(), "closed".into());
        if let Some(code) = exit_code {
            data.insert("exit_code".into(), code.into());
        }
        self.write(EventType::SessionEnd, now, data, None)?;
        self.appender.flush()?;
        self.store
            .refresh_meta(&self.session_id, std::time::Duration::from_secs(2))
    }

    /// Ends a session whose recording stopped because its events could not be written: a
    /// `session_end` saying why, appended on its own (the batch that failed may have left half a
    /// line, which the append steps over); or, when the events file still cannot grow (a file
    /// size limit), `ended_at` in meta. Returns whether the session is now ended.
    pub fn end_stopped(&mut self, at: f64, exit_code: Option<i32>, why: &str) -> bool {
        let mut data = Map::new();
        data.insert("reason".into(), "recording stopped".into());
        data.insert("error".into(), why.into());
        if let Some(code) = exit_code {
            data.insert("exit_code".into(), code.into());
        }
        let event = self
            .sink
            .event(EventType::SessionEnd, at, &self.session_id, data);
        let wait = std::time::Duration::from_secs(2);
        if self.sink.emit(&mut &self.store, event).is_ok() {
            // Readers fold the events into meta themselves when meta cannot be written now.
            let _ = self.store.refresh_meta(&self.session_id, wait);
            return true;
        }
        self.store.end_in_meta(&self.session_id, at, wait).is_ok()
    }

    /// Tells the user something went wrong with the recording.
    pub fn report(&self, message: &str) {
        (self.report)(message);
    }

    /// Logs a recording failure where hooks log theirs.
    pub fn log(&self, message: &str) {
        let _ = self
            .store
            .log_hook_error(&format!("record {}: {message}", self.session_id));
    }
}

/// Where a message came from, and the size of the message it is a cut copy of.
#[derive(Clone, Copy)]
struct Head {
    channel: u32,
    direction: Direction,
    cut_from: Option<u64>,
}

impl Head {
    fn data(self) -> Map<String, Value> {
        let mut data = event_head(self.channel, self.direction);
        if let Some(size) = self.cut_from {
            data.insert("message_original_bytes".into(), size.into());
        }
        data
    }
}

/// The start of a message that could not be read, as text.
fn raw(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned()
}

/// The fields every proxy event starts with: which way it went and, when the proxy carries
/// several, which MCP session it belongs to.
pub fn event_head(channel: u32, direction: Direction) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("direction".into(), direction.as_str().into());
    if channel != 0 {
        data.insert("mcp_session".into(), channel.into());
    }
    data
}

/// What a JSON-RPC error object says: its message, or the whole object when it has none.
fn error_message(error: &Value) -> String {
    error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error.to_string(), str::to_owned)
}

/// The text of a tool result's content blocks, for `result`.
fn result_text(result: &Value) -> String {
    // A result cut into a string of its JSON text (a huge message's cut copy) is that text.
    if let Value::String(text) = result {
        return text.clone();
    }
    let Some(blocks) = result.get("content").and_then(Value::as_array) else {
        return result.to_string();
    };
    blocks
        .iter()
        .map(|b| match b.get("type").and_then(Value::as_str) {
            Some("text") => b
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Some(kind) => format!("[{kind}]"),
            None => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
