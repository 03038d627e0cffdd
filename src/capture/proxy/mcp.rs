//! What MCP messages become in the store: tool calls and results linked by JSON-RPC id,
//! sampling as LLM requests and responses, everything else as events that keep their method.
//!
//! Recording runs apart from the relay and never reaches back into it: whatever fails here is
//! logged and the traffic goes on.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value};

use super::framing::Frame;
use crate::capture::remote::{NotTaken, Shipper};
use crate::capture::resend::SPOOL_BOUND;
use crate::capture::sink::{Sink, Target};
use crate::model::event::stored_arguments;
use crate::model::text::count;
use crate::model::{Event, EventType, SessionMeta};
use crate::store::{Appender, Store, StoreError};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    pub(super) fn as_str(self) -> &'static str {
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

/// The requests waiting for their answers. Several may wait under one key (two clients'
/// `initialize`, both id 0, before either has its MCP session; a client that reuses an id):
/// the first answer goes to the first of them, and none is forgotten for a later one.
#[derive(Default)]
struct Waiting {
    by_key: HashMap<OpenKey, VecDeque<(u64, Open)>>,
    /// How many requests wait.
    count: usize,
    /// Each request's key and number, in the order they came, to forget the oldest.
    order: VecDeque<(OpenKey, u64)>,
    next: u64,
}

impl Waiting {
    fn add(&mut self, key: OpenKey, open: Open) {
        let number = self.next;
        self.next += 1;
        self.by_key
            .entry(key.clone())
            .or_default()
            .push_back((number, open));
        self.count += 1;
        self.order.push_back((key, number));
        while self.count > MAX_OPEN {
            let Some((oldest, number)) = self.order.pop_front() else {
                break;
            };
            // Gone already when it was answered.
            if self.first(&oldest) == Some(number) {
                self.answer(&oldest);
            }
        }
        // Requests answered long ago still sit in the order: drop them when it grows. Those
        // of a key wait in the order they came, so one is still waiting when its number is
        // not below the first waiting under its key.
        if self.order.len() > 2 * MAX_OPEN {
            let by_key = &self.by_key;
            self.order.retain(|(key, number)| {
                by_key
                    .get(key)
                    .and_then(VecDeque::front)
                    .is_some_and(|(first, _)| first <= number)
            });
        }
    }

    /// The number of the first request waiting under `key`.
    fn first(&self, key: &OpenKey) -> Option<u64> {
        self.by_key.get(key)?.front().map(|(number, _)| *number)
    }

    /// The first request waiting under `key`, no longer waiting.
    fn answer(&mut self, key: &OpenKey) -> Option<Open> {
        let queue = self.by_key.get_mut(key)?;
        let (_, open) = queue.pop_front()?;
        if queue.is_empty() {
            self.by_key.remove(key);
        }
        self.count -= 1;
        Some(open)
    }
}

/// Records one proxied MCP session.
pub struct McpRecorder {
    store: Store,
    session_id: String,
    out: Out,
    sink: Sink,
    open: Waiting,
    started_at: f64,
    last_refresh: f64,
    /// Where the user is told that recording stopped (the command's stderr).
    report: fn(&str),
    /// How long the stdio relay waits for room in the queue to this recorder
    /// ([`super::queue::RECORDER_PATIENCE`]).
    patience: std::time::Duration,
}

/// How often (seconds) meta is caught up while the session runs.
const REFRESH_EVERY: f64 = 1.0;
/// How much of a message that is not JSON is kept, and how much of it is scrubbed first.
const RAW_KEPT: usize = 2048;
const RAW_SCRUBBED: usize = 64 * 1024;
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
        McpRecorder::begin(store, &meta, Out::Local(appender), about, now, sink)
    }

    /// As [`McpRecorder::start`], sending the session to a collector through `shipper`
    /// instead of the local store; when the collector does not take the session's meta (sent
    /// twice when it may hold it, see [`post_meta`]), the session is recorded locally from the
    /// start, and when it stops taking events later, the rest is (see [`McpRecorder::flush`]);
    /// a batch it may hold in part waits for it in the store's spool.
    #[allow(clippy::too_many_arguments)]
    pub fn start_remote(
        store: &Store,
        session_id: &str,
        name: &str,
        command: &str,
        about: Map<String, Value>,
        now: f64,
        sink: Sink,
        shipper: Box<dyn Shipper>,
    ) -> Result<McpRecorder, StoreError> {
        let mut meta = SessionMeta::new(session_id, now);
        name.clone_into(&mut meta.agent_name);
        command.clone_into(&mut meta.command);
        // The meta goes with the first batch, from the recorder's thread: posted here, a
        // collector that never answered held the server's start for its wait, twice over.
        let remote = Remote {
            shipper,
            pending: Vec::new(),
            meta: meta.clone(),
            meta_sent: false,
            unsure: 0,
            send_at: REMOTE_BATCH,
        };
        McpRecorder::begin(
            store,
            &meta,
            Out::Remote(Box::new(remote)),
            about,
            now,
            sink,
        )
    }

    fn begin(
        store: &Store,
        meta: &SessionMeta,
        out: Out,
        about: Map<String, Value>,
        now: f64,
        sink: Sink,
    ) -> Result<McpRecorder, StoreError> {
        let name = meta.agent_name.clone();
        let session_id = meta.session_id.as_str();
        let mut recorder = McpRecorder {
            store: store.clone(),
            session_id: session_id.to_owned(),
            out,
            sink,
            open: Waiting::default(),
            started_at: now,
            last_refresh: now,
            report: |_| {},
            patience: super::queue::RECORDER_PATIENCE,
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

    /// The same recorder, the stdio relay waiting for room in its queue at most `patience`.
    #[must_use]
    pub fn waited_for(mut self, patience: std::time::Duration) -> McpRecorder {
        self.patience = patience;
        self
    }

    /// How long the stdio relay waits for room in the queue to this recorder.
    pub fn patience(&self) -> std::time::Duration {
        self.patience
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
        self.sink
            .emit_derived(&mut self.out, event, texts_of_structures)?;
        if let Out::Remote(remote) = &self.out {
            if remote.pending.len() >= remote.send_at {
                self.flush()?;
            }
        } else if now - self.last_refresh >= REFRESH_EVERY {
            self.last_refresh = now;
            self.flush()?;
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
        self.parsed(head, super::json::read(body), body, now)
    }

    /// Records one message as the stdio framer found it: whole, or a cut copy of a message too
    /// large to keep, recorded with its real size (`message_original_bytes`).
    pub fn frame(
        &mut self,
        direction: Direction,
        frame: Frame<'_>,
        now: f64,
    ) -> Result<(), StoreError> {
        self.frame_on(0, direction, frame, now)
    }

    /// As [`McpRecorder::frame`], for the MCP session numbered `channel` (0: not known): the
    /// HTTP proxy's messages, gathered as the stdio framer gathers them.
    pub fn frame_on(
        &mut self,
        channel: u32,
        direction: Direction,
        frame: Frame<'_>,
        now: f64,
    ) -> Result<(), StoreError> {
        match frame {
            Frame::Whole(body) => self.message_on(channel, direction, body, now),
            Frame::Cut { copy, head, size } => {
                let event_head = Head {
                    channel,
                    direction,
                    cut_from: Some(size),
                };
                if let Some(copy) = copy {
                    // Scrubbed with the margin the copy kept past each cut, then cut to what
                    // is recorded: no part of a secret the cut halved is kept.
                    let message = super::json::read(copy).map(|mut message| {
                        super::cut::scrub_cut_texts(&mut message, &|text| self.sink.text(text));
                        message
                    });
                    return self.parsed(event_head, message, head, now);
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
                data.insert(
                    "raw".into(),
                    self.kept_raw(&String::from_utf8_lossy(head)).into(),
                );
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
                // Items that are no message (`1`, `"x"`, `{}`) are said in one event: one each
                // made a megabyte of `[1,1,…]` 500,000 events and 131 MB of store.
                let mut strays = Vec::new();
                for item in batch {
                    if is_message(&item) {
                        self.one(head, item, now)?;
                    } else {
                        strays.push(item);
                    }
                }
                if !strays.is_empty() {
                    self.strays(head, &strays, now)?;
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
                let head = String::from_utf8_lossy(&body[..body.len().min(RAW_SCRUBBED)]);
                data.insert("raw".into(), self.kept_raw(&head).into());
                self.write(EventType::Error, now, data, None).map(|_| ())
            }
        }
    }

    /// One error event for the items of a batch that are no JSON-RPC message: how many, and
    /// the first few as they came (cut).
    fn strays(&mut self, head: Head, strays: &[Value], now: f64) -> Result<(), StoreError> {
        const SHOWN: usize = 3;
        let mut data = head.data();
        data.insert(
            "error".into(),
            format!(
                "a JSON-RPC batch held {} that {} no message (not an object, or with neither \
                 method nor id)",
                crate::model::text::count(strays.len() as u64, "item"),
                if strays.len() == 1 { "is" } else { "are" }
            )
            .into(),
        );
        data.insert("items".into(), strays.len().into());
        let shown = Value::Array(strays.iter().take(SHOWN).cloned().collect()).to_string();
        let shown = &shown[..crate::capture::limit::char_boundary(&shown, RAW_SCRUBBED)];
        data.insert("raw".into(), self.kept_raw(shown).into());
        self.write(EventType::Error, now, data, None).map(|_| ())
    }

    /// What an error event keeps of text that is no message (at most [`RAW_SCRUBBED`] bytes
    /// of it): scrubbed before it is cut to [`RAW_KEPT`], so no secret is cut in half and half
    /// kept.
    fn kept_raw(&self, text: &str) -> String {
        let text = self.sink.text(text);
        text[..crate::capture::limit::char_boundary(&text, RAW_KEPT)].to_owned()
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

    /// Records that requests of the MCP session `channel` failed with no JSON-RPC answer of
    /// their own (an HTTP error status, a server out of reach): an error event, `data` saying
    /// how, answers each request `ids` names (JSON text, as requests are keyed), so that a tool
    /// call counts as failed, with its duration. With no ids (a notification, a stream), one
    /// error event.
    pub fn failed(
        &mut self,
        channel: u32,
        ids: &[String],
        mut data: Map<String, Value>,
        now: f64,
    ) -> Result<(), StoreError> {
        if let Some(body) = data.get_mut("body") {
            super::cut::scrub_cut_texts(body, &|text| self.sink.text(text));
        }
        if ids.is_empty() {
            return self.write(EventType::Error, now, data, None).map(|_| ());
        }
        for id in ids {
            let key = (channel, Direction::ClientToServer, id.clone());
            let open = self.open.answer(&key);
            let mut data = data.clone();
            data.insert("jsonrpc_id".into(), id.clone().into());
            if let Some(o) = &open {
                data.insert("method".into(), o.method.clone().into());
                if let Some(tool) = &o.tool {
                    data.insert("tool_name".into(), tool.clone().into());
                }
            }
            self.write(EventType::Error, now, data, open.as_ref())?;
        }
        Ok(())
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
                            stored_arguments(params.get("arguments").cloned()),
                        );
                        (EventType::ToolCall, Some(tool))
                    }
                    "sampling/createMessage" => {
                        data.insert("params".into(), params);
                        (EventType::LlmRequest, None)
                    }
                    _ => {
                        data.insert("params".into(), params);
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
                self.open.add(key, entry);
            }
            (Some(method), None) => {
                data.insert("method".into(), method.into());
                data.insert("notification".into(), true.into());
                data.insert("params".into(), msg.remove("params").unwrap_or(Value::Null));
                self.write(EventType::Decision, now, data, None)?;
            }
            (None, Some(id)) => {
                let request_side = match direction {
                    Direction::ClientToServer => Direction::ServerToClient,
                    Direction::ServerToClient => Direction::ClientToServer,
                };
                let open = self.open.answer(&(channel, request_side, id.clone()));
                data.insert("jsonrpc_id".into(), id.into());
                if let Some(o) = &open {
                    data.insert("method".into(), o.method.clone().into());
                    if let Some(tool) = &o.tool {
                        data.insert("tool_name".into(), tool.clone().into());
                    }
                }
                let method = open.as_ref().map(|o| o.method.as_str()).unwrap_or_default();
                let kind = if let Some(error) = msg.remove("error") {
                    if let Some(code) = error.get("code") {
                        data.insert("code".into(), code.clone());
                    }
                    data.insert("error".into(), error);
                    EventType::Error
                } else {
                    let result = msg.remove("result").unwrap_or(Value::Null);
                    match method {
                        "tools/call" => {
                            let failed =
                                result.get("isError").and_then(Value::as_bool) == Some(true);
                            if failed {
                                data.insert("error".into(), result);
                                EventType::Error
                            } else {
                                data.insert("result".into(), Value::Null);
                                data.insert("tool_response".into(), result);
                                EventType::ToolResult
                            }
                        }
                        "sampling/createMessage" => {
                            if let Some(model) = result.get("model") {
                                data.insert("model".into(), model.clone());
                            }
                            data.insert("result".into(), result);
                            EventType::LlmResponse
                        }
                        _ => {
                            data.insert("response".into(), true.into());
                            data.insert("result".into(), result);
                            EventType::Decision
                        }
                    }
                };
                self.write(kind, now, data, open.as_ref())?;
            }
            (None, None) => {
                // An error answer to a request the server could not read has a null id.
                if let Some(code) = msg.get("error").and_then(|e| e.get("code")) {
                    data.insert("code".into(), code.clone());
                }
                let error = msg
                    .remove("error")
                    .unwrap_or_else(|| "JSON-RPC message with neither method nor id".into());
                data.insert("error".into(), error);
                self.write(EventType::Error, now, data, None)?;
            }
        }
        Ok(())
    }

    /// Writes the events gathered so far (the proxy calls it when no message is waiting).
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.ship(false)
    }

    /// [`McpRecorder::flush`]; `last`: the session's last batch, which cannot wait for another.
    fn ship(&mut self, last: bool) -> Result<(), StoreError> {
        let remote = match &mut self.out {
            Out::Local(appender) => return appender.flush(),
            Out::Remote(remote) if remote.pending.is_empty() && remote.meta_sent => return Ok(()),
            Out::Remote(remote) => remote,
        };
        // The session first (or again, once it changed), then its events.
        if !remote.meta_sent {
            if let Err(not) = post_meta(remote.shipper.as_ref(), &remote.meta) {
                // The events gathered were not sent yet: all of them go to the local store.
                return self.fall_back(&NotTaken {
                    answered: not.answered,
                    ..NotTaken::unanswered(not.why, false)
                });
            }
            remote.meta_sent = true;
            if remote.pending.is_empty() {
                return Ok(());
            }
        }
        let body = ndjson(&remote.pending);
        // A batch the collector did not take may still be stored there in part (a write cut
        // short, an answer that came too late): sent once more to a collector that skips what
        // it holds (it knows events by id), the events stay in one store.
        let sent = match remote
            .shipper
            .post("/events", "application/x-ndjson", body.clone())
        {
            // What the first sending may have left at the collector stays there whatever the
            // second comes to (a collector not reached the second time may hold the first).
            Err(first) if first.may_resend => remote
                .shipper
                .post("/events", "application/x-ndjson", body)
                .map_err(|again| NotTaken {
                    stored: again.stored.max(first.stored),
                    may_hold: again.may_hold || first.may_hold,
                    ..again
                }),
            sent => sent,
        };
        match sent {
            Ok(()) => {
                remote.pending.clear();
                remote.unsure = 0;
                remote.send_at = REMOTE_BATCH;
                Ok(())
            }
            // The collector may hold the batch, or part of it, and did not say which: written
            // here it could be in both stores. It goes again with the next batch (the
            // collector skips what it holds), as a hook keeps a call answered so. Only to a
            // collector that said it skips what it holds: an older one stores the batch sent
            // again twice, so for it the session goes on in the local store from this batch,
            // as before batches were held (the batch may then be in both stores, never twice
            // in one).
            Err(not) if not.may_hold && not.may_resend && !last && remote.unsure < UNSURE_MOST => {
                remote.unsure += 1;
                remote.send_at = remote.pending.len() + REMOTE_BATCH;
                self.log(&format!(
                    "collector: {}; the batch goes again with the next",
                    not.why
                ));
                Ok(())
            }
            // The session's last batch, or the fourth in a row, that the collector may hold, or
            // one that holds such a batch sent again with the next and now not taken at all
            // (the collector not reached): it waits in the store's spool for the collector, as
            // a hook's call answered so does, and a later sender (a hook, `send-kept`) sends it
            // again.
            Err(not) if (not.may_hold || remote.unsure > 0) && not.may_resend => {
                self.keep_for_collector(&not, last)
            }
            Err(not) => self.fall_back(&not),
        }
    }

    /// Keeps the pending batch, which the collector may hold in part, in the spool
    /// ([`Store::spool_batch`]); the session goes on in the local store unless it has ended
    /// (`last`). A batch the spool does not take goes to the local store, where it may be in
    /// both.
    fn keep_for_collector(&mut self, not: &NotTaken, last: bool) -> Result<(), StoreError> {
        let Out::Remote(remote) = &mut self.out else {
            return Ok(());
        };
        let meta = serde_json::from_str::<Value>(&remote.meta.to_json()).unwrap_or_default();
        let mut body = serde_json::to_vec(&meta).unwrap_or_default();
        body.push(b'\n');
        body.extend(ndjson(&remote.pending));
        let first = remote.pending.first().map_or(0.0, |e| e.timestamp);
        let micros = (first * 1e6).max(0.0).round() as u64;
        let events = count(remote.pending.len() as u64, "event");
        let id = self.sink.new_id();
        let why = &not.why;
        if let Err(e) = self.store.spool_batch(micros, &id, &body, SPOOL_BOUND).kept {
            self.log(&format!(
                "collector: {why}; cannot keep the batch for it ({e}); recording here, where the collector may hold it too"
            ));
            return self.fall_back(not);
        }
        remote.pending.clear();
        self.report(&format!(
            "the collector may hold {events} in part ({why}); they are kept in {} until it takes them (`agent-strace send-kept` sends them now)",
            self.store.spool_path().display()
        ));
        self.log(&format!("collector: {why}; {events} kept to send again"));
        if last {
            return Ok(());
        }
        self.fall_back(&NotTaken {
            answered: not.answered,
            ..NotTaken::unanswered(why.clone(), not.may_resend)
        })
    }

    /// The collector stopped taking events: the session goes on in the local store, starting
    /// with the events it did not take (those after the first `not.stored`, which it holds).
    fn fall_back(&mut self, not: &NotTaken) -> Result<(), StoreError> {
        let why = &not.why;
        let Out::Remote(remote) = &mut self.out else {
            return Ok(());
        };
        let mut pending = std::mem::take(&mut remote.pending);
        pending.drain(..not.stored.min(pending.len()));
        let meta = remote.meta.clone();
        self.report(&format!(
            "the collector did not take events ({why}); recording in {} from now on",
            self.store.root().display()
        ));
        if not.answered {
            self.log(&format!("collector refused events ({why}); recording here"));
        } else {
            self.log(&format!("collector not reached ({why}); recording here"));
        }
        let mut written = 0;
        match self.write_here(&meta, &pending, &mut written) {
            Ok(appender) => {
                self.out = Out::Local(appender);
                let _ = self
                    .store
                    .refresh_meta(&self.session_id, crate::store::HOOK_LOCK_WAIT);
                Ok(())
            }
            Err(e) => {
                self.last_resort(&pending[written..], &e);
                Err(e)
            }
        }
    }

    /// Makes the session in the local store unless it is there, and writes `events` into it;
    /// `written` counts the events surely written, should a write fail.
    fn write_here(
        &self,
        meta: &SessionMeta,
        events: &[Event],
        written: &mut usize,
    ) -> Result<Appender, StoreError> {
        if self.store.create_session(meta)? {
            self.store.init_counters(&self.session_id)?;
        }
        let mut appender = self.store.appender(&self.session_id)?;
        for (n, event) in events.iter().enumerate() {
            appender.append(event)?;
            if !appender.has_gathered() {
                *written = n + 1;
            }
        }
        appender.flush()?;
        *written = events.len();
        Ok(appender)
    }

    /// Events the collector did not take that the local store could not take either (a full
    /// disk, a store that cannot be written): lost otherwise, they are told to the user, one
    /// JSON line each after one line saying why, as `POST /events` takes them.
    fn last_resort(&self, events: &[Event], error: &StoreError) {
        if events.is_empty() {
            return;
        }
        let lines = String::from_utf8_lossy(&ndjson(events)).into_owned();
        let line = format!(
            "{} the collector did not take (or may hold in part) could not be written here either ({error})",
            count(events.len() as u64, "event")
        );
        self.log(&line);
        self.report(&format!(
            "{line}; they follow, one JSON line each, to be sent to the collector's /events:\n{}",
            lines.trim_end()
        ));
    }

    /// Changes the session's meta by `edit` (facts known once the session exists: who started
    /// it), in the local store or at the collector.
    pub fn edit_meta(&mut self, edit: impl FnOnce(&mut SessionMeta)) {
        match &mut self.out {
            Out::Local(_) => {
                let _ = self.store.edit_meta(&self.session_id, |meta| {
                    edit(meta);
                    true
                });
            }
            // Sent with the next batch.
            Out::Remote(remote) => {
                edit(&mut remote.meta);
                remote.meta_sent = false;
            }
        }
    }

    /// Records the end of the session and catches meta up.
    pub fn end(&mut self, exit_code: Option<i32>, now: f64) -> Result<(), StoreError> {
        let mut data = Map::new();
        data.insert("reason".into(), "closed".into());
        if let Some(code) = exit_code {
            data.insert("exit_code".into(), code.into());
        }
        self.write(EventType::SessionEnd, now, data, None)?;
        self.ship(true)?;
        if matches!(self.out, Out::Remote(_)) {
            // The collector catches meta up with every batch it takes.
            return Ok(());
        }
        self.store
            .refresh_meta(&self.session_id, std::time::Duration::from_secs(2))
    }

    /// Ends a session whose recording stopped at `at` because its events could not be written
    /// (`why`): the error that says so (`stopped`), marked `recording_stopped`, a gap in the
    /// recording as a recorder with no thread writes ([`super::recording::end_with_error`]),
    /// and a `session_end` saying why, appended together on their own, both or neither. Returns
    /// whether the events file took them.
    pub fn end_stopped(
        &mut self,
        at: f64,
        exit_code: Option<i32>,
        why: &str,
        stopped: &str,
    ) -> bool {
        let mut gap = Map::new();
        gap.insert("error".into(), stopped.into());
        gap.insert(crate::model::head::RECORDING_STOPPED.into(), true.into());
        let mut data = Map::new();
        data.insert("reason".into(), "recording stopped".into());
        data.insert("error".into(), why.into());
        if let Some(code) = exit_code {
            data.insert("exit_code".into(), code.into());
        }
        let events = vec![
            self.sink.event(EventType::Error, at, &self.session_id, gap),
            self.sink
                .event(EventType::SessionEnd, at, &self.session_id, data),
        ];
        if self
            .sink
            .emit_all(&mut &self.store, events, |_| {})
            .is_err()
        {
            return false;
        }
        // Readers fold the events into meta themselves when meta cannot be written now.
        let _ = self.store.refresh_meta(&self.session_id, STOPPED_WAIT);
        true
    }

    /// Ends a stopped recording's session in meta alone (`ended_at`), while its events file
    /// cannot take its end ([`McpRecorder::end_stopped`]); whether meta took it.
    pub fn end_stopped_in_meta(&self, at: f64) -> bool {
        self.store
            .end_in_meta(&self.session_id, at, STOPPED_WAIT)
            .is_ok()
    }

    /// Tells the user something went wrong with the recording.
    pub fn report(&self, message: &str) {
        (self.report)(message);
    }

    /// Logs a recording failure where hooks log theirs, scrubbed as the events are: what it
    /// quotes (a path, the server's command line, a collector's URL) can hold a key.
    pub fn log(&self, message: &str) {
        let line = format!("record {}: {message}", self.session_id);
        let _ = self
            .store
            .log_hook_error(&self.sink.privacy().apply_str(&line));
    }
}

/// How long a stopped recording waits for its session's lock to end it.
const STOPPED_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Where a recorder writes: the session's file in the local store, or a collector.
enum Out {
    Local(Appender),
    Remote(Box<Remote>),
}

/// A session sent to a collector: the events gathered since the last batch, and the meta to
/// create the session with locally should the collector stop taking them.
struct Remote {
    shipper: Box<dyn Shipper>,
    pending: Vec<Event>,
    meta: SessionMeta,
    /// Whether the collector has `meta` as it is now.
    meta_sent: bool,
    /// Batches in a row that the collector may hold without saying so ([`NotTaken::may_hold`]):
    /// their events stay pending and go again with the next batch.
    unsure: u32,
    /// The number of pending events at which a batch is sent whatever the traffic.
    send_at: usize,
}

/// How many batches in a row the collector may leave unsure before the session goes on in the
/// local store: a collector gone for good must not hold the session's events in memory.
const UNSURE_MOST: u32 = 3;

/// Events gathered for a collector before they are sent whatever the traffic.
const REMOTE_BATCH: usize = 500;

impl Target for Out {
    fn put(&mut self, event: &Event) -> Result<(), StoreError> {
        match self {
            Out::Local(appender) => appender.append(event),
            Out::Remote(remote) => {
                remote.pending.push(event.clone());
                Ok(())
            }
        }
    }
}

/// Sends a session's meta (`POST /sessions`), once more when the collector may hold it (it got
/// the request and gave no answer in time, or a 5xx): a collector slow once then takes the
/// session, which would otherwise be recorded here while the collector lists it too, with no
/// event. A proxy sends its meta before its server starts (`start_recorder`), and never from
/// the recorder, which must keep up with the traffic: a collector that takes connections and
/// never answers costs the start two waits, not messages relayed unrecorded.
fn post_meta(shipper: &dyn Shipper, meta: &SessionMeta) -> Result<(), NotTaken> {
    let body = meta.to_json().into_bytes();
    match shipper.post("/sessions", "application/json", body.clone()) {
        Err(not) if not.may_hold => shipper.post("/sessions", "application/json", body),
        sent => sent,
    }
}

/// Events as `POST /events` takes them: one JSON line each.
fn ndjson(events: &[Event]) -> Vec<u8> {
    let mut body = Vec::new();
    for event in events {
        if serde_json::to_writer(&mut body, event).is_ok() {
            body.push(b'\n');
        }
    }
    body
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

/// The text readers expect, made from structures once they are scrubbed: `result`, the text of
/// a tool result's content blocks; `error`, what a JSON-RPC error object or a failed tool
/// result says.
fn texts_of_structures(data: &mut Map<String, Value>) {
    if data.get("result").is_some_and(Value::is_null)
        && let Some(response) = data.get("tool_response")
    {
        let text = result_text(response);
        data.insert("result".into(), text.into());
    }
    if let Some(error) = data.get_mut("error")
        && !error.is_string()
    {
        *error = error_text(error).into();
    }
}

/// What an error says: a JSON-RPC error object's message, a failed tool result's content, else
/// the whole value's JSON text.
fn error_text(error: &Value) -> String {
    if let Some(message) = error.get("message").and_then(Value::as_str) {
        return message.to_owned();
    }
    if error.get("content").is_some_and(Value::is_array) {
        return result_text(error);
    }
    error.to_string()
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

/// Whether a batch's item is a JSON-RPC message, as [`McpRecorder::one`] reads one: an object
/// with a method (a string), an id, or an error (an object: an error answer to a request the
/// server could not read has a null id).
fn is_message(item: &Value) -> bool {
    item.as_object().is_some_and(|m| {
        m.get("method").is_some_and(Value::is_string)
            || m.get("id").is_some_and(|id| !id.is_null())
            || m.get("error").is_some_and(Value::is_object)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(tool: &str) -> Open {
        Open {
            event_id: tool.to_owned(),
            timestamp: 0.0,
            method: "tools/call".to_owned(),
            tool: Some(tool.to_owned()),
        }
    }

    fn key(id: usize) -> OpenKey {
        (0, Direction::ClientToServer, id.to_string())
    }

    #[test]
    fn requests_under_one_key_are_answered_first_come_first_served() {
        let mut waiting = Waiting::default();
        waiting.add(key(1), open("x"));
        waiting.add(key(1), open("y"));
        assert_eq!(waiting.answer(&key(1)).unwrap().event_id, "x");
        assert_eq!(waiting.answer(&key(1)).unwrap().event_id, "y");
        assert!(waiting.answer(&key(1)).is_none());
        assert_eq!(waiting.count, 0);
    }

    #[test]
    fn past_the_bound_the_oldest_waiting_request_is_forgotten_never_a_newer_one() {
        let mut waiting = Waiting::default();
        // An id answered and then used again: its first place in the order is stale.
        waiting.add(key(0), open("answered"));
        waiting.answer(&key(0));
        waiting.add(key(1), open("oldest"));
        waiting.add(key(0), open("again"));
        for id in 2..=MAX_OPEN {
            waiting.add(key(id), open("other"));
        }
        assert_eq!(waiting.count, MAX_OPEN);
        assert!(waiting.first(&key(1)).is_none(), "the oldest is forgotten");
        assert_eq!(waiting.answer(&key(0)).unwrap().event_id, "again");
        for id in 0..3 * MAX_OPEN {
            waiting.add(key(MAX_OPEN + 1 + id), open("more"));
        }
        assert_eq!(waiting.count, MAX_OPEN);
        assert!(waiting.order.len() <= 2 * MAX_OPEN + 1);
    }
}
