//! Figures derived from a session's events: the counters that `meta.json` caches.

use super::call_pairs::{self, CallPairs};
use super::copies::Copies;
use super::event::EventType;
use super::head::EventHead;
use super::meta::{BELIEVABLE_DURATION_SECS, believed_time, placed_time};
use super::outcome::ToolOutcome;
use super::read_pairs::ReadPairs;
use serde::{Deserialize, Serialize};

/// Running totals over a stream of events. Folding the same events always gives the same
/// counters, so a cache of them can be rebuilt or caught up from any offset. A copy of an event
/// met before ([`super::copies`]) counts among the `events` (the lines stored) and in nothing
/// else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    pub events: u64,
    /// Of `events`, the copies of events met before, which count in no other figure.
    #[serde(default, skip_serializing_if = "super::usage::is_zero")]
    pub copies: u64,
    /// Tool calls, a read Cursor tells of twice once ([`ReadPairs`]).
    pub tool_calls: u64,
    /// The reads told of once so far, to tell the call that repeats one ([`ReadPairs`]).
    #[serde(default, skip_serializing_if = "ReadPairs::is_empty")]
    pub reads: ReadPairs,
    /// The event folded last is a call that repeats a read told of before: one call with it,
    /// counted once ([`ReadPairs`]). Not kept: asked right after the fold.
    #[serde(skip)]
    pub repeated_read: bool,
    /// `llm_request` events.
    pub llm_requests: u64,
    /// `llm_response` events that answer a model call (a session's total usage does not):
    /// with `llm_requests`, the session's [`Counters::model_calls`].
    #[serde(default)]
    pub llm_responses: u64,
    /// Of `llm_responses`, those a request of the session answers, one model call with it
    /// ([`CallPairs`]).
    #[serde(default)]
    pub paired_responses: u64,
    /// The requests and responses not paired yet, to pair those that come later.
    #[serde(default, skip_serializing_if = "CallPairs::is_empty")]
    pub pairs: CallPairs,
    /// Error events, as `meta.json` (and the Python tool) counts them: failed calls and
    /// refused ones alike.
    pub errors: u64,
    /// Of `errors`, the calls the user refused or stopped ([`ToolOutcome::Rejected`]): nothing
    /// went wrong in them, so what listings call errors is [`Counters::failures`].
    #[serde(default)]
    pub rejections: u64,
    /// Of `errors`, those of no call (an API error that ended a turn,
    /// [`EventHead::turn_error`]): the turn's, not a tool's.
    #[serde(default)]
    pub turn_errors: u64,
    pub total_tokens: u64,
    pub first_timestamp: Option<f64>,
    pub last_timestamp: Option<f64>,
    /// The latest time of an event a session can have ([`believed_time`]): what the session
    /// is believed to have run until when `last_timestamp` is a time none can have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_believed: Option<f64>,
    /// When the session's `session_end` was recorded, if it was.
    pub ended_at: Option<f64>,
    /// The time the last event folded was placed at ([`placed_time`]): where an end at an
    /// unknown time (a line with no `timestamp`) is placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed: Option<f64>,
    /// The events met, to tell a copy of one ([`Copies`]). Not kept in `.counters` or the
    /// index: a hook reads and writes those on every event, and a session's copies are written
    /// at once (one import), so a fold meets them within what it folds in one go.
    #[serde(skip)]
    pub met: Copies,
}

/// One side of a model call, by the keys that pair it ([`call_pairs::key`]): a request, or a
/// response that answers a model call (a session's total usage does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSide {
    /// A request, by its event id and the writer's `request_id`.
    Request { event: u64, request: u64 },
    /// A response, by the event it names (`parent_id`) and the writer's `request_id`.
    Response { parent: u64, request: u64 },
}

impl ModelSide {
    /// The side of a model call `event` is, if it is one.
    pub fn of(event: &EventHead<'_>) -> Option<ModelSide> {
        // The id a writer gave a model request and its response alike (OpenTelemetry's): what
        // pairs the two when the response names no request; 0 for none, as [`call_pairs::key`].
        let request = event.data.request_id.hash.map_or(0, |h| h.max(1));
        match event.kind() {
            EventType::LlmRequest => Some(ModelSide::Request {
                event: call_pairs::key(event.event_id.as_deref()),
                request,
            }),
            EventType::LlmResponse if event.answers_a_model_call() => Some(ModelSide::Response {
                parent: call_pairs::key(event.parent_id.as_deref()),
                request,
            }),
            _ => None,
        }
    }
}

impl Counters {
    /// Calls that failed: error events that are not rejections.
    pub fn failures(&self) -> u64 {
        self.errors.saturating_sub(self.rejections)
    }

    /// Of [`Counters::failures`], the calls' own: the errors of no call (an API error that
    /// ended a turn) left out. A rate per call counts these: a turn's error is no call's.
    pub fn tool_failures(&self) -> u64 {
        self.failures().saturating_sub(self.turn_errors)
    }

    /// The session's model calls, a request and its response counted once: its requests and
    /// the responses no request of it answers ([`CallPairs`]). A call cut off before its
    /// response counts by its request; a response a writer recorded alone (OpenTelemetry logs,
    /// an agent's log with no request in it) stands for its request. Counting requests alone
    /// said 0 LLM requests for a session of many responses; counting the larger side said 3
    /// for a session of 3 calls of requests alone and 3 of responses alone.
    pub fn model_calls(&self) -> u64 {
        self.llm_requests
            .saturating_add(self.llm_responses.saturating_sub(self.paired_responses))
    }

    /// The latest time of the session's events that a session can have ([`believed_time`]):
    /// one stamped in milliseconds, or at a time no session can have, is left out, and the
    /// session ends at the latest of the others, wherever in the file that stands. `None` when
    /// no event has such a time.
    pub fn believed_last(&self) -> Option<f64> {
        self.latest_believed
    }

    /// From the session's first event to its last, in seconds, from times a session can have:
    /// a first event at a time no session can have is stood for by the session's `start`, a
    /// last one by [`Counters::believed_last`]. `None` when no such time is known or the span
    /// is longer than a session is believed to run ([`BELIEVABLE_DURATION_SECS`]): one event
    /// stamped in milliseconds made a session of 56,000 years. A session with no timed event
    /// has run for a time not known either.
    pub fn believed_span_secs(&self, start: f64) -> Option<f64> {
        self.first_timestamp?;
        let first = self
            .first_timestamp
            .and_then(believed_time)
            .or(believed_time(start))?;
        let span = (self.believed_last()? - first).max(0.0);
        (span <= BELIEVABLE_DURATION_SECS).then_some(span)
    }

    /// Counts one side of a model call, paired with the other when that was seen
    /// ([`CallPairs`]).
    pub fn count_model_side(&mut self, side: ModelSide) {
        let paired = match side {
            ModelSide::Request { event, request } => {
                self.llm_requests += 1;
                self.pairs.request(event, request)
            }
            ModelSide::Response { parent, request } => {
                self.llm_responses += 1;
                self.pairs.response(parent, request)
            }
        };
        if paired {
            self.paired_responses += 1;
        }
    }

    /// Folds `event`; false when it is a copy of an event met before, which counts only as
    /// an event (the caller skips it too).
    pub fn observe(&mut self, event: &EventHead<'_>) -> bool {
        self.events += 1;
        self.repeated_read = false;
        let copy = self.met.is_copy(event);
        if copy {
            self.copies += 1;
        } else if let Some(side) = ModelSide::of(event) {
            self.count_model_side(side);
        }
        match event.kind() {
            _ if copy => {}
            EventType::ToolCall => {
                self.repeated_read = self.reads.observe(event);
                if !self.repeated_read {
                    self.tool_calls += 1;
                }
            }
            // A server the proxy could not launch, a message of its traffic that is none, and
            // messages its recorder fell behind on, are no error of a call or a turn.
            EventType::Error
                if event.launch_failure()
                    || event.protocol_error()
                    || event.unrecorded().is_some() => {}
            EventType::Error => {
                self.errors += 1;
                if event.outcome() == Some(ToolOutcome::Rejected) {
                    self.rejections += 1;
                }
                if event.turn_error() {
                    self.turn_errors += 1;
                }
            }
            EventType::LlmResponse => {
                self.total_tokens = self.total_tokens.saturating_add(event.tokens());
            }
            _ => {}
        }
        let ts = event.timestamp;
        let placed = placed_time(ts, &mut self.placed);
        // A line with no time (NaN) has none to be first or last by; an end of it is placed
        // by the events before it, as every view places it (it was skipped as malformed, and
        // the session ran for ever).
        if event.kind() == EventType::SessionEnd {
            self.ended_at = if ts.is_nan() { placed } else { Some(ts) };
        }
        if !ts.is_nan() {
            self.first_timestamp = Some(self.first_timestamp.map_or(ts, |first| first.min(ts)));
            self.last_timestamp = Some(self.last_timestamp.map_or(ts, |last| last.max(ts)));
        }
        if let Some(ts) = believed_time(ts) {
            self.latest_believed = Some(self.latest_believed.map_or(ts, |last| last.max(ts)));
        }
        !copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;
    use serde_json::Value;

    fn event(kind: EventType, ts: f64, data: Value) -> Event {
        Event::new(kind, ts, "e".into(), "s".into()).with_data(data)
    }

    #[test]
    fn a_span_is_of_times_a_session_can_have() {
        let fold = |times: &[f64]| {
            let mut c = Counters::default();
            for t in times {
                c.observe(&EventHead::of(&event(
                    EventType::UserPrompt,
                    *t,
                    Value::Null,
                )));
            }
            c
        };
        let t = 1_770_000_000.0;
        assert_eq!(fold(&[]).believed_span_secs(t), None);
        assert_eq!(fold(&[t, t + 5.0]).believed_span_secs(t), Some(5.0));
        // Stamped in milliseconds: left out.
        assert_eq!(
            fold(&[t, t + 5.0, t * 1000.0]).believed_last(),
            Some(t + 5.0)
        );
        assert_eq!(
            fold(&[t, t + 5.0, t * 1000.0]).believed_span_secs(t),
            Some(5.0)
        );
        // The latest believed time, not the one before the last line.
        assert_eq!(
            fold(&[t, t + 100.0, t + 5.0, t * 1000.0]).believed_span_secs(t),
            Some(100.0)
        );
        // A first event before 1970 is stood for by the start.
        assert_eq!(fold(&[-1e300, t + 2.0]).believed_span_secs(t), Some(2.0));
        assert_eq!(fold(&[-1e300, t + 2.0]).believed_span_secs(-1.0), None);
        // Longer than a session runs.
        assert_eq!(fold(&[1.0, t]).believed_span_secs(1.0), None);
    }

    #[test]
    fn counts_each_kind_once() {
        let mut c = Counters::default();
        c.observe(&EventHead::of(&event(
            EventType::ToolCall,
            2.0,
            Value::Null,
        )));
        c.observe(&EventHead::of(&event(EventType::Error, 1.0, Value::Null)));
        c.observe(&EventHead::of(&event(
            EventType::Error,
            1.5,
            serde_json::json!({"error": "The user doesn't want to proceed with this tool use."}),
        )));
        c.observe(&EventHead::of(&event(
            EventType::Error,
            1.6,
            serde_json::json!({"error": "API error (overloaded)"}),
        )));
        c.observe(&EventHead::of(&event(
            EventType::LlmResponse,
            3.0,
            serde_json::json!({"usage": {"input_tokens": 3, "output_tokens": 4}}),
        )));
        c.observe(&EventHead::of(&event(
            EventType::SessionEnd,
            4.0,
            Value::Null,
        )));
        assert_eq!(
            (c.events, c.tool_calls, c.errors, c.rejections, c.failures()),
            (6, 1, 3, 1, 2)
        );
        // The error with no data names no call either: of the three, two are the turn's.
        assert_eq!(c.turn_errors, 2);
        assert_eq!(c.tool_failures(), 0);
        assert_eq!(c.total_tokens, 7);
        assert_eq!(
            (c.first_timestamp, c.last_timestamp, c.ended_at),
            (Some(1.0), Some(4.0), Some(4.0))
        );
    }
}
