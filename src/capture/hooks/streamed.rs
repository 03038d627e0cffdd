//! Model calls whose response the agent's hooks see in chunks (Gemini CLI's BeforeModel and
//! AfterModel): the chunks kept in the session's response file, folded into one `llm_response`
//! by the session's next event, with the exact counts from the agent's own log.

use serde_json::{Map, Value};

use super::payload::HookEvent;
use super::record::{Recorder, lock_or_go_on};
use crate::model::{Event, EventType};
use crate::store::{Step, StoreError};

/// Model calls of agents whose hooks see the request and each chunk of the streamed response
/// (Gemini CLI's BeforeModel and AfterModel).
///
/// Readers (views, the summary and index, cost, replay, the Python tool) count one
/// `llm_response` per model response, so the chunks of one response become one event: each
/// chunk appends its text and the response's usage so far (Gemini repeats the cumulative
/// counts on every chunk) as one line to the session's open response (the store's `.response`,
/// see `store::streaming`), and the chunk that ends the response (its `finish_reason`) sets it
/// aside as finished. The session's next event, whatever it is, folds it into the one
/// `llm_response`, stamped with the last chunk's time: the chunks' text in order, the model,
/// and the last chunk's usage, never a sum, made exact from the agent's own log where the
/// hooks' counts are not (see [`super::gemini::exact_usage`]); by then the agent has written
/// it. One append per chunk, and no read of the session. A response that never ends
/// (cancelled, or the model failed) is closed with what it had by the next request, the
/// answer or the session's end, marked `incomplete`.
pub(super) fn streams(agent: crate::model::Agent) -> bool {
    agent == crate::model::Agent::GeminiCli
}

/// How long a hook waits for another hook of its session that is folding a response. Longer
/// than other hooks' waits ([`crate::store::HOOK_LOCK_WAIT`]): a fold reads up to 1 MiB of the
/// agent's chat, which on a busy machine takes more than 50 ms, and a call's hook that gave up
/// waiting wrote its call before the response that made it. The wait is the fold's, which is
/// bounded; a holder that dies lets the lock go at once.
const FOLD_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// In a line of an open response: this is the last chunk's part, and when it came.
const LAST_PART: &str = "last_at";

impl Recorder<'_> {
    /// Folds the response whose last chunk came at an earlier hook, and at a turn's answer or
    /// the session's end an open one too, under the session's response lock: hooks of the
    /// calls a response made may run at once, and each waits for the lock, so the one that
    /// folds the response has written it before any of them writes its own event.
    pub(super) fn fold_responses(&self, session: &str) -> Result<(), StoreError> {
        // Busy past the wait, or not to be had: the fold goes on without it.
        let _one_at_a_time =
            lock_or_go_on(self.store, session, Step::Responses, FOLD_WAIT).unwrap_or_default();
        self.close_finished_response(session)?;
        if matches!(self.payload.event, HookEvent::Stop | HookEvent::SessionEnd) {
            self.close_response(session)?;
        }
        Ok(())
    }

    /// A model request: recorded with its model (the payload holds no conversation; the wire
    /// module kept of the request its model, config and message count), and the session's
    /// open response restarted for it, naming it, so that its response links to it.
    pub(super) fn model_request(&self, session: &str) -> Result<(), StoreError> {
        self.close_response(session)?;
        let mut data = Map::new();
        self.copy(&mut data, &["model", "messages", "config"]);
        self.keep_unknown(&mut data);
        let event = self.event(EventType::LlmRequest, session, data);
        let head = serde_json::json!({"request": event.event_id, "at": self.now});
        self.store
            .open_response(session, format!("{head}\n").as_bytes())?;
        self.write(session, vec![event])
    }

    /// One chunk of a streamed response: one line added to the open response; the last chunk
    /// also sets the response aside as finished.
    pub(super) fn model_chunk(&self, session: &str) -> Result<(), StoreError> {
        let p = self.payload;
        let last = p.fields.get("finish_reason").is_some_and(Value::is_string);
        let text = p.str_field("text").unwrap_or_default();
        let usage = p.fields.get("usage");
        if !last && text.is_empty() && usage.is_none() {
            return Ok(());
        }
        let mut part = Map::new();
        part.insert("text".into(), text.into());
        self.copy(&mut part, &["usage", "reported_usage", "model"]);
        if last {
            self.copy(&mut part, &["finish_reason"]);
            self.keep_unknown(&mut part);
        }
        let mut part = Value::Object(part);
        // A part waits on disk for the event that folds it: scrubbed as that event will be.
        self.sink.privacy().apply(&mut part);
        if !last {
            return self
                .store
                .add_response_part(session, format!("{part}\n").as_bytes());
        }
        part[LAST_PART] = self.now.into();
        self.store
            .finish_response(session, format!("{part}\n").as_bytes())
    }

    /// Records the response whose last chunk came at an earlier hook, if there is one.
    fn close_finished_response(&self, session: &str) -> Result<(), StoreError> {
        let parts = self.store.take_finished_response(session)?;
        self.record_response(session, parts)
    }

    /// Records what an open response had, if anything, as a response that did not finish.
    fn close_response(&self, session: &str) -> Result<(), StoreError> {
        let parts = self.store.take_response(session)?;
        self.record_response(session, parts)
    }

    /// The one `llm_response` of a response file taken, if it held any part (a request that
    /// got no answer at all records nothing).
    fn record_response(&self, session: &str, parts: Option<Vec<u8>>) -> Result<(), StoreError> {
        match parts.and_then(|parts| self.response_event(session, &parts)) {
            Some(event) => self.write(session, vec![event]),
            None => Ok(()),
        }
    }

    /// The one `llm_response` of a response, from its parts (the response file's lines): at
    /// the last chunk's time when it finished, else now and marked `incomplete`; `None` when
    /// there is no part.
    fn response_event(&self, session: &str, parts: &[u8]) -> Option<Event> {
        let mut request: Option<(String, f64)> = None;
        let mut text = String::new();
        let mut chunks = 0u64;
        let mut finished_at = None;
        let mut data = Map::new();
        for line in parts.split(|b| *b == b'\n') {
            let Ok(Value::Object(mut line)) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            if let (Some(Value::String(id)), Some(at)) =
                (line.get("request"), line.get("at").and_then(Value::as_f64))
            {
                request = Some((id.clone(), at));
                continue;
            }
            chunks += 1;
            if let Some(Value::String(part)) = line.remove("text") {
                text.push_str(&part);
            }
            if let Some(at) = line.remove(LAST_PART) {
                finished_at = at.as_f64().or(Some(self.now));
            }
            // The usage is the response's so far: the last one stands.
            data.extend(line);
        }
        if chunks == 0 {
            return None;
        }
        if finished_at.is_none() {
            data.insert("incomplete".into(), true.into());
        } else if let Some(usage) = super::gemini::exact_usage(self.payload, &data) {
            data.insert("usage".into(), usage);
        }
        data.insert("text".into(), text.into());
        data.insert("chunks".into(), chunks.into());
        let at = finished_at.unwrap_or(self.now);
        let mut event = self.sink.event(EventType::LlmResponse, at, session, data);
        if let Some((id, requested)) = request {
            event.parent_id = Some(id);
            event.duration_ms = Some(((at - requested) * 1000.0).max(0.0));
        }
        Some(event)
    }
}
