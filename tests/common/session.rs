//! One way for tests to write a session into a store: a builder over the library's own
//! [`Event`], [`SessionMeta`] and [`Tokens`], serialised the way the store writes them.
//!
//! ```ignore
//! SessionBuilder::new(ID)
//!     .prompt("fix the auth module")
//!     .at(1.0).tool_call("Bash", json!({"command": "pytest"}))
//!     .at(21.0).error("exit 1")
//!     .at(22.0).llm_response("claude-sonnet-4-5", Tokens { input: 10, ..Tokens::default() })
//!     .write(&env);
//! ```
//!
//! Each event is stamped at the builder's clock ([`SessionBuilder::at`], seconds after the
//! start) and numbered `e01`, `e02`, … in the order it is added. A result or an error names the
//! last tool call as its parent and carries the call's tool name. Events are written in time
//! order (a stable sort, so events added at the same time keep their order), as a recorder
//! writes them. `meta.json` is the builder's [`SessionMeta`], with each counter the test left
//! at 0 (tool calls, model calls, errors, tokens) counted from the events, as our recorders
//! write it: the store believes the counters of a session it holds no counter cache for (one
//! written by another tool), so a counter left at 0 listed a session with one Bash call as
//! `TOOLS 0`. A counter the test sets is written as it is (another tool may say anything).

use agent_strace::model::{Counters, Event, EventHead, EventType, SessionMeta, Tokens};
use serde_json::{Value, json};

use super::TestEnv;

/// The default start of a built session (2026-05-28), in Unix seconds.
pub const T0: f64 = 1_780_000_000.0;

/// A session being built; [`SessionBuilder::write`] puts it in a store.
#[derive(Debug, Clone)]
pub struct SessionBuilder {
    meta: SessionMeta,
    events: Vec<Event>,
    /// Seconds after the start at which the next event is stamped.
    clock: f64,
    /// The last tool call: its event id and tool name.
    last_call: Option<(String, String)>,
}

impl SessionBuilder {
    /// A session `id` starting at [`T0`], with no event yet.
    pub fn new(id: &str) -> SessionBuilder {
        SessionBuilder {
            meta: SessionMeta::new(id, T0),
            events: Vec::new(),
            clock: 0.0,
            last_call: None,
        }
    }

    /// Starts the session at `timestamp` (Unix seconds) instead of [`T0`].
    pub fn started(mut self, timestamp: f64) -> Self {
        self.meta.started_at = timestamp;
        self
    }

    /// Stamps the next events `offset` seconds after the start.
    pub fn at(mut self, offset: f64) -> Self {
        self.clock = offset;
        self
    }

    /// Changes `meta.json` (agent, command, counters, parent …).
    pub fn meta(mut self, change: impl FnOnce(&mut SessionMeta)) -> Self {
        change(&mut self.meta);
        self
    }

    /// Ends the session in `meta.json` `offset` seconds after the start, without an event.
    pub fn ended(mut self, offset: f64) -> Self {
        self.meta.ended_at = Some(self.meta.started_at + offset);
        self
    }

    /// Adds an event of any kind with `data`.
    pub fn event(mut self, kind: EventType, data: Value) -> Self {
        let id = format!("e{:02}", self.events.len() + 1);
        let mut event = Event::new(
            kind,
            self.meta.started_at + self.clock,
            id,
            self.meta.session_id.clone(),
        );
        event.data = data;
        self.events.push(event);
        self
    }

    /// Sets the parent of the last event.
    pub fn parent(mut self, parent_id: &str) -> Self {
        self.last_mut().parent_id = Some(parent_id.to_owned());
        self
    }

    /// Sets the `duration_ms` of the last event.
    pub fn duration_ms(mut self, ms: f64) -> Self {
        self.last_mut().duration_ms = Some(ms);
        self
    }

    /// Sets a top-level field of the last event that the model does not know (kept in `extra`,
    /// as the Python tool's `prev_hash`).
    pub fn extra(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.last_mut().extra.insert(key.to_owned(), value.into());
        self
    }

    /// The id the next event will get, to name it as a parent later.
    pub fn next_id(&self) -> String {
        format!("e{:02}", self.events.len() + 1)
    }

    pub fn session_start(self, data: Value) -> Self {
        self.event(EventType::SessionStart, data)
    }

    /// A `session_end` with `data`, which also ends the session in `meta.json`.
    pub fn session_end(mut self, data: Value) -> Self {
        self.meta.ended_at = Some(self.meta.started_at + self.clock);
        self.event(EventType::SessionEnd, data)
    }

    pub fn prompt(self, text: &str) -> Self {
        self.event(EventType::UserPrompt, json!({ "prompt": text }))
    }

    pub fn answer(self, text: &str) -> Self {
        self.event(EventType::AssistantResponse, json!({ "text": text }))
    }

    /// A call of `tool` with `arguments`; the results and errors that follow answer it.
    pub fn tool_call(mut self, tool: &str, arguments: Value) -> Self {
        let id = self.next_id();
        self.last_call = Some((id, tool.to_owned()));
        self.event(
            EventType::ToolCall,
            json!({"tool_name": tool, "arguments": arguments}),
        )
    }

    /// The last call's result, with its parent and no duration (see [`Self::duration_ms`]).
    pub fn result(self, result: Value) -> Self {
        let (call, tool) = self.call();
        self.event(
            EventType::ToolResult,
            json!({"tool_name": tool, "result": result}),
        )
        .parent(&call)
    }

    /// The last call failed with `message`.
    pub fn error(self, message: &str) -> Self {
        let (call, tool) = self.call();
        self.event(
            EventType::Error,
            json!({"tool_name": tool, "error": message}),
        )
        .parent(&call)
    }

    /// One parallel batch of `tool` calls, one a file of `files`, whose first fails with
    /// `first_error` and whose others Claude Code cancelled for it ("Sibling tool call
    /// errored"): the calls, then their errors. Returns the calls' ids with the builder.
    pub fn batch_failing_first(
        mut self,
        tool: &str,
        files: &[&str],
        first_error: &str,
    ) -> (Self, Vec<String>) {
        let mut calls = Vec::new();
        for file in files {
            calls.push(self.next_id());
            self = self.tool_call(tool, json!({ "file_path": file }));
        }
        for (i, call) in calls.iter().enumerate() {
            let message = if i == 0 {
                format!("<tool_use_error>{first_error}</tool_use_error>")
            } else {
                "<tool_use_error>Sibling tool call errored</tool_use_error>".to_owned()
            };
            self = self
                .event(
                    EventType::Error,
                    json!({"tool_name": tool, "error": message}),
                )
                .parent(call);
        }
        (self, calls)
    }

    /// An API error that ended the turn (Claude Code's StopFailure): an error of no call, the
    /// turn's and not a tool's.
    pub fn turn_error(self, message: &str) -> Self {
        self.event(
            EventType::Error,
            json!({"error": message, "error_type": "overloaded",
                   "hook_event_name": "StopFailure"}),
        )
    }

    /// A `file_read` of `path` by the last call.
    pub fn file_read(self, path: &str) -> Self {
        let (call, _) = self.call();
        self.event(EventType::FileRead, json!({ "path": path }))
            .parent(&call)
    }

    /// A `file_write` of `path` by the last call.
    pub fn file_write(self, path: &str) -> Self {
        let (call, _) = self.call();
        self.event(EventType::FileWrite, json!({ "path": path }))
            .parent(&call)
    }

    /// A model response of `model` with `tokens`, as the model API reports usage.
    pub fn llm_response(self, model: &str, tokens: Tokens) -> Self {
        self.event(
            EventType::LlmResponse,
            json!({"model": model, "usage": usage(&tokens)}),
        )
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        &self.meta.session_id
    }

    /// Writes `meta.json` and `events.ndjson` into the environment's store; returns the id.
    pub fn write(self, env: &TestEnv) -> String {
        self.write_in(&env.store())
    }

    /// Writes the session into the store at `store`; returns the id. A store made here is
    /// made as agent-strace makes one, readable by its owner alone (0700), so that commands see
    /// the store they would see in use.
    pub fn write_in(self, store: &std::path::Path) -> String {
        use std::os::unix::fs::DirBuilderExt;
        if !store.exists() {
            if let Some(above) = store.parent() {
                std::fs::create_dir_all(above).expect("store's parent folder");
            }
            match std::fs::DirBuilder::new().mode(0o700).create(store) {
                // Another session of the test made it first.
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    panic!("store folder {}: {e}", store.display())
                }
                _ => {}
            }
        }
        let dir = store.join(&self.meta.session_id);
        std::fs::create_dir_all(&dir).expect("session folder");
        std::fs::write(dir.join("meta.json"), self.counted_meta().to_json()).expect("meta.json");
        std::fs::write(dir.join("events.ndjson"), self.ndjson()).expect("events.ndjson");
        self.meta.session_id
    }

    /// The events as `events.ndjson` holds them, in time order.
    pub fn ndjson(&self) -> String {
        let mut events: Vec<&Event> = self.events.iter().collect();
        events.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
        events
            .iter()
            .map(|e| serde_json::to_string(e).expect("an event serialises") + "\n")
            .collect()
    }

    /// The builder's metadata with each counter left at 0 counted from the events.
    fn counted_meta(&self) -> SessionMeta {
        let mut counted = Counters::default();
        for event in &self.events {
            counted.observe(&EventHead::of(event));
        }
        let mut meta = self.meta.clone();
        for (counter, n) in [
            (&mut meta.tool_calls, counted.tool_calls),
            (&mut meta.llm_requests, counted.model_calls()),
            (&mut meta.errors, counted.errors),
            (&mut meta.total_tokens, counted.total_tokens),
        ] {
            if *counter == 0 {
                *counter = n;
            }
        }
        meta
    }

    fn last_mut(&mut self) -> &mut Event {
        self.events.last_mut().expect("an event to change")
    }

    /// The id and tool of the last call.
    #[track_caller]
    fn call(&self) -> (String, String) {
        self.last_call
            .clone()
            .expect("a tool call before its result")
    }
}

/// `tokens` as Anthropic's API reports usage (`input_tokens`, …, with the cache writes split
/// by duration under `cache_creation`).
pub fn usage(tokens: &Tokens) -> Value {
    json!({
        "input_tokens": tokens.input,
        "output_tokens": tokens.output,
        "cache_creation_input_tokens": tokens.cache_creation,
        "cache_read_input_tokens": tokens.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": tokens.cache_creation - tokens.cache_creation_1h,
            "ephemeral_1h_input_tokens": tokens.cache_creation_1h,
        },
    })
}
