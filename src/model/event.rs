//! One recorded event: the unit of `events.ndjson`, lossless in both directions.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::meta::BELIEVABLE_TIMES;

/// What kind of thing an event records.
///
/// The known kinds are the ones the Python agent-strace knows too, so that every event we write
/// reads there; a kind we do not know is kept verbatim in [`EventType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    SessionStart,
    SessionEnd,
    UserPrompt,
    AssistantResponse,
    ToolCall,
    ToolResult,
    LlmRequest,
    LlmResponse,
    FileRead,
    FileWrite,
    Decision,
    Error,
    SubagentStart,
    SubagentStop,
    Other(String),
}

impl EventType {
    /// The kind of a file touch: `file_write` for a write, else `file_read`.
    pub fn file_touch(write: bool) -> EventType {
        if write {
            EventType::FileWrite
        } else {
            EventType::FileRead
        }
    }

    /// Every known kind, in the order the documentation lists them.
    pub const KNOWN: [EventType; 14] = [
        EventType::SessionStart,
        EventType::SessionEnd,
        EventType::UserPrompt,
        EventType::AssistantResponse,
        EventType::ToolCall,
        EventType::ToolResult,
        EventType::LlmRequest,
        EventType::LlmResponse,
        EventType::FileRead,
        EventType::FileWrite,
        EventType::Decision,
        EventType::Error,
        EventType::SubagentStart,
        EventType::SubagentStop,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            EventType::SessionStart => "session_start",
            EventType::SessionEnd => "session_end",
            EventType::UserPrompt => "user_prompt",
            EventType::AssistantResponse => "assistant_response",
            EventType::ToolCall => "tool_call",
            EventType::ToolResult => "tool_result",
            EventType::LlmRequest => "llm_request",
            EventType::LlmResponse => "llm_response",
            EventType::FileRead => "file_read",
            EventType::FileWrite => "file_write",
            EventType::Decision => "decision",
            EventType::Error => "error",
            EventType::SubagentStart => "subagent_start",
            EventType::SubagentStop => "subagent_stop",
            EventType::Other(name) => name,
        }
    }

    pub fn parse(name: &str) -> EventType {
        match name {
            "session_start" => EventType::SessionStart,
            "session_end" => EventType::SessionEnd,
            "user_prompt" => EventType::UserPrompt,
            "assistant_response" => EventType::AssistantResponse,
            "tool_call" => EventType::ToolCall,
            "tool_result" => EventType::ToolResult,
            "llm_request" => EventType::LlmRequest,
            "llm_response" => EventType::LlmResponse,
            "file_read" => EventType::FileRead,
            "file_write" => EventType::FileWrite,
            "decision" => EventType::Decision,
            "error" => EventType::Error,
            "subagent_start" => EventType::SubagentStart,
            "subagent_stop" => EventType::SubagentStop,
            other => EventType::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One event. Fields we do not model (the Python tool's `prev_hash`, `redacted`, `tenant_id`,
/// or anything a later version adds) are kept in `extra` and written back unchanged.
///
/// Two events are equal when every field is, their numbers compared as [`same_number`] does:
/// an event at an unknown time (NaN) equals itself, so `Eq` holds.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: EventType,
    /// Seconds since the Unix epoch; NaN when the line gives no number for it (no
    /// `timestamp`, `null`, a string, or the `NaN` Python's json module writes): an event at an
    /// unknown time, placed by the events around it ([`super::meta::placed_time`]).
    pub timestamp: f64,
    /// The `timestamp` as the line wrote it when it is no number (`null`, `"soon"`), or an
    /// integer no float holds (past 2^53: `9007199254740993`), written back so; `None` when
    /// the line had none, or had a number `timestamp` holds.
    pub timestamp_written: Option<Value>,
    pub event_id: String,
    pub session_id: String,
    pub parent_id: Option<String>,
    pub duration_ms: Option<f64>,
    /// Usually an object; kept as any JSON value so that odd input is never lost.
    pub data: Value,
    pub extra: Map<String, Value>,
}

impl Event {
    pub fn new(
        event_type: EventType,
        timestamp: f64,
        event_id: String,
        session_id: String,
    ) -> Self {
        Event {
            event_type,
            timestamp,
            event_id,
            session_id,
            parent_id: None,
            duration_ms: None,
            data: Value::Object(Map::new()),
            extra: Map::new(),
            timestamp_written: None,
        }
    }

    /// Whether the line gave no number for the event's time ([`Event::timestamp`] is NaN).
    pub fn time_unknown(&self) -> bool {
        self.timestamp.is_nan()
    }

    /// The event with `data` as its data.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        // Every field named, so that a field added later is compared too.
        let Event {
            event_type,
            timestamp,
            timestamp_written,
            event_id,
            session_id,
            parent_id,
            duration_ms,
            data,
            extra,
        } = self;
        *event_type == other.event_type
            && same_number(*timestamp, other.timestamp)
            && *timestamp_written == other.timestamp_written
            && *event_id == other.event_id
            && *session_id == other.session_id
            && *parent_id == other.parent_id
            && match (duration_ms, other.duration_ms) {
                (Some(a), Some(b)) => same_number(*a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
            && *data == other.data
            && *extra == other.extra
    }
}

impl Eq for Event {}

/// Whether `time`, read from `n`, is the very number `n` writes: a float, or an integer the
/// float holds exactly (any up to 2^53).
fn holds_exactly(n: &serde_json::Number, time: f64) -> bool {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "an i128 holds every integer an i64 or u64 does; a float past it saturates, and is no such integer"
    )]
    let whole = time as i128;
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => whole == i128::from(i),
        (None, Some(u)) => whole == i128::from(u),
        (None, None) => true,
    }
}

/// Whether two of an event's numbers are the same, as written: by [`f64::total_cmp`], so NaN
/// (a time the line gave no number for, a duration made of one) is the same as NaN, and `0.0`
/// is not `-0.0`. With `==` an event at an unknown time was not equal to itself.
fn same_number(a: f64, b: f64) -> bool {
    a.total_cmp(&b).is_eq()
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("event_type", &self.event_type)?;
        // An event at an unknown time is written as it was read: its `timestamp` as the line
        // wrote it, or none (the Python tool reads an event without one, not a `null`). So is an
        // integer no float holds, while the time is still the one read from it.
        if !self.timestamp.is_nan() {
            match &self.timestamp_written {
                Some(Value::Number(written))
                    if written
                        .as_f64()
                        .is_some_and(|t| same_number(t, self.timestamp)) =>
                {
                    map.serialize_entry("timestamp", written)?;
                }
                _ => map.serialize_entry("timestamp", &self.timestamp)?,
            }
        } else if let Some(written) = &self.timestamp_written {
            map.serialize_entry("timestamp", written)?;
        }
        map.serialize_entry("event_id", &self.event_id)?;
        map.serialize_entry("session_id", &self.session_id)?;
        if let Some(parent) = &self.parent_id {
            map.serialize_entry("parent_id", parent)?;
        }
        if let Some(duration) = self.duration_ms {
            map.serialize_entry("duration_ms", &duration)?;
        }
        map.serialize_entry("data", &self.data)?;
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Event, A::Error> {
        let mut event_type = None;
        let mut timestamp = f64::NAN;
        let mut timestamp_written = None;
        let mut event_id = None;
        let mut session_id = None;
        let mut parent_id = None;
        let mut duration_ms = None;
        let mut data = None;
        let mut extra = Map::new();
        while let Some(key) = access.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "event_type" => {
                    let name: std::borrow::Cow<'de, str> = access.next_value()?;
                    event_type = Some(EventType::parse(&name));
                }
                // A time that is no number (none, `null`, `"soon"`; Python's `NaN`, read as
                // `null`) is unknown, and the event kept: it failed the line, and the call on
                // it was lost from every view.
                "timestamp" => match access.next_value::<Value>()? {
                    Value::Number(n) => {
                        timestamp = n.as_f64().unwrap_or(f64::NAN);
                        // An integer past 2^53 is read as the float nearest it: kept as written,
                        // so that the line is written back as it was (`export`, `inspect`).
                        timestamp_written =
                            (!holds_exactly(&n, timestamp)).then_some(Value::Number(n));
                    }
                    other => {
                        timestamp = f64::NAN;
                        timestamp_written = Some(other);
                    }
                },
                "event_id" => event_id = Some(access.next_value::<String>()?),
                "session_id" => session_id = Some(access.next_value::<String>()?),
                // Writers differ in how they say "no parent": absent, null or "".
                "parent_id" => {
                    parent_id = access
                        .next_value::<Option<String>>()?
                        .filter(|p| !p.is_empty());
                }
                // A duration that is not a number (`"NaN"`, `"5s"`) is none, and kept as
                // written: it failed the line, and every reader skipped the event.
                "duration_ms" => match access.next_value::<Value>()? {
                    Value::Null => {}
                    Value::Number(n) => duration_ms = n.as_f64(),
                    other => {
                        extra.insert(key.into_owned(), other);
                    }
                },
                "data" => data = Some(access.next_value::<Value>()?),
                _ => {
                    let value = access.next_value::<Value>()?;
                    extra.insert(key.into_owned(), value);
                }
            }
        }
        Ok(Event {
            event_type: event_type.ok_or_else(|| de::Error::missing_field("event_type"))?,
            timestamp,
            event_id: event_id.unwrap_or_default(),
            session_id: session_id.unwrap_or_default(),
            parent_id,
            duration_ms,
            data: data.unwrap_or_else(|| Value::Object(Map::new())),
            extra,
            timestamp_written,
        })
    }
}

/// Whether a session is over, from its events as they are read in file order: it is while its
/// latest event (by time; of events at one time, the last read) is its end. `events.ndjson` is
/// in the order events were written, not made: events recorded late (a proxy's kept batch
/// recorded by `send-kept --here`, an answer a follower found) come after the end in the file,
/// earlier in time, and do not reopen the session; a session resumed after its end (Claude
/// Code's `--resume`) has later events, and is open; an event at the end's very time, after it
/// in the file, reopens it (file order breaks ties, for every reader). An event at a time no
/// session can have so far ([`BELIEVABLE_TIMES`]: before 1970, after 2100; or later than the
/// reader's clock and [`CLOCK_SKEW_SECS`]) counts as the latest so far, in file order: one end
/// stamped in the year 2286, or in 2099, ended for ever a session that went on, `watch` stopped
/// watching its agent and `retention` deleted it while it was written.
///
/// The model reads no clock: each reader passes its own `now` ([`Ending::observe`]). The answer
/// of a fold kept for later (a cache, the index) holds for as long as the clock believes the
/// same events it believed ([`Ending::holds_at`]); then the events are folded again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ending {
    /// The latest time believed so far: read at a clock before it (less the skew), the event
    /// stamped with it would count in file order.
    latest: Option<f64>,
    ended: bool,
    /// The earliest time not believed only because it was past the reader's clock: read once
    /// the clock has come near it, the event stamped with it counts by its time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ahead: Option<f64>,
}

/// How far past the reader's clock an event's time is still believed. The clocks of what
/// records one session (hooks, proxies, a collector's senders) agree within seconds; a session
/// from a machine whose clock runs further ahead is read in file order, as it was written.
pub const CLOCK_SKEW_SECS: f64 = 300.0;

impl Ending {
    /// Takes the next event of the file into account, read at `now` (seconds since the epoch).
    pub fn observe(&mut self, event: &Event, now: f64) {
        let late_answer = event.event_type == EventType::AssistantResponse
            && event.data.get("late") == Some(&Value::Bool(true));
        self.observe_at(
            event.timestamp,
            event.event_type == EventType::SessionEnd,
            late_answer,
            now,
        );
    }

    /// [`Ending::observe`] of an event stamped `timestamp`, a session's end or not, an answer
    /// recorded late or not, for readers that fold an event's head only.
    ///
    /// An answer recorded late (`late: true`: Copilot CLI's `-p` writes its answer after its
    /// sessionEnd hook ran, and the hook's follower records it then) is the ended session's
    /// own: it neither ends the session nor reopens it.
    pub fn observe_at(&mut self, timestamp: f64, is_end: bool, late_answer: bool, now: f64) {
        if late_answer {
            return;
        }
        let believable = BELIEVABLE_TIMES.contains(&timestamp);
        let believed = Some(timestamp).filter(|at| believable && *at <= now + CLOCK_SKEW_SECS);
        if believable && believed.is_none() {
            self.ahead = Some(self.ahead.map_or(timestamp, |ahead| ahead.min(timestamp)));
        }
        if let (Some(at), Some(latest)) = (believed, self.latest)
            && at < latest
        {
            return;
        }
        self.latest = believed.or(self.latest);
        self.ended = is_end;
    }

    /// Takes the next events of the file into account, in file order, read at `now`: the one
    /// fold every reader of a session's end goes through.
    pub fn observe_all<E: std::borrow::Borrow<Event>>(
        &mut self,
        events: impl IntoIterator<Item = E>,
        now: f64,
    ) {
        for event in events {
            self.observe(event.borrow(), now);
        }
    }

    /// Whether the events observed so far end the session.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether the events observed so far, all read again at `now`, give the same answer: the
    /// clock still believes every time it believed and none it did not. A clock gone past an
    /// end stamped ahead of it, or gone back before a time it believed, asks for a new fold.
    pub fn holds_at(&self, now: f64) -> bool {
        self.clocks().holds_at(now)
    }

    /// The clocks [`Ending::holds_at`] holds at, for a reader that keeps them apart from the
    /// fold (the index looks at them on every read).
    pub fn clocks(&self) -> Clocks {
        Clocks {
            latest: self.latest.unwrap_or(f64::NEG_INFINITY),
            ahead: self.ahead.unwrap_or(f64::INFINITY),
        }
    }
}

/// The clocks at which a fold's [`Ending`] still holds: from the one that believes its latest
/// believed time to the one that would believe the earliest time it did not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clocks {
    /// The latest time believed; minus infinity when none was.
    pub latest: f64,
    /// The earliest time not believed for being ahead of the clock; infinity when none was.
    pub ahead: f64,
}

impl Clocks {
    /// Whether a fold at `now` believes the same times (the test [`Ending::observe_at`] makes).
    pub fn holds_at(&self, now: f64) -> bool {
        self.latest <= now + CLOCK_SKEW_SECS && self.ahead > now + CLOCK_SKEW_SECS
    }
}

/// Puts `value` under `key` in an object whose keys are being rewritten (masked, redacted,
/// anonymised): a key that now reads as one already there is told apart as `key #2`, `key #3`
/// …, so that no value is lost.
pub fn insert_told_apart(map: &mut Map<String, Value>, mut key: String, value: Value) {
    if map.contains_key(&key) {
        let base = key.clone();
        let mut n = 2;
        while map.contains_key(&key) {
            key = format!("{base} #{n}");
            n += 1;
        }
    }
    map.insert(key, value);
}

/// A call's arguments as a `tool_call` keeps them in `data.arguments`: always an object, since
/// the Python tool's readers take them as one (its `timeline`, `standup` and `replay` fail on
/// any other value). None or null is no argument (`{}`); any other value (text that is not a
/// JSON object, a list, a number) is kept whole under `input`, the key Codex's free-form tools
/// give theirs.
pub fn stored_arguments(arguments: Option<Value>) -> Value {
    match arguments {
        Some(object @ Value::Object(_)) => object,
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(other) => {
            let mut object = Map::new();
            object.insert("input".into(), other);
            Value::Object(object)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An integer time past 2^53 is read as the float nearest it, and written back as the line
    /// wrote it: `inspect` and `export` printed 9007199254740993 as 9007199254740992.0. A time
    /// changed since it was read is written as it is now.
    #[test]
    fn an_integer_time_no_float_holds_is_written_back_as_it_was() {
        for (stamp, read) in [
            ("9007199254740993", 9_007_199_254_740_992.0),
            ("-9007199254740993", -9_007_199_254_740_992.0),
            ("18446744073709551615", 18_446_744_073_709_551_616.0),
        ] {
            let line = format!(
                r#"{{"event_type":"tool_call","timestamp":{stamp},"event_id":"e1","session_id":"s","data":{{}}}}"#
            );
            let mut event: Event = serde_json::from_str(&line).unwrap();
            assert_eq!(event.timestamp.to_bits(), f64::to_bits(read), "{stamp}");
            assert_eq!(serde_json::to_string(&event).unwrap(), line);
            event.timestamp = 1.5;
            assert!(
                serde_json::to_string(&event)
                    .unwrap()
                    .contains(r#""timestamp":1.5,"#)
            );
        }
        // One a float holds is read and written as a float, as ever.
        let line = r#"{"event_type":"tool_call","timestamp":1780000000,"event_id":"e1","session_id":"s","data":{}}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(event.timestamp_written, None);
    }

    /// An event at an unknown time (NaN) is equal to itself and to a copy read from the same
    /// line; one at another time, or `-0.0` where the other says `0.0`, is not.
    #[test]
    fn an_event_equals_itself_whatever_its_time() {
        let unknown = r#"{"event_type":"tool_call","timestamp":null,"event_id":"e1","session_id":"s","data":{}}"#;
        let event: Event = serde_json::from_str(unknown).unwrap();
        assert!(event.time_unknown());
        let equal = |a: &Event, b: &Event| a == b;
        assert!(equal(&event, &event));
        assert_eq!(event, serde_json::from_str::<Event>(unknown).unwrap());
        let mut timed = event.clone();
        timed.timestamp = 1.5;
        timed.timestamp_written = None;
        assert_ne!(event, timed);
        assert_ne!(timed, event);
        let mut signed = timed.clone();
        signed.timestamp = -0.0;
        let mut zero = timed.clone();
        zero.timestamp = 0.0;
        assert_ne!(signed, zero);
        // A duration made of an unknown time (NaN) is equal to itself too.
        let mut timed_out = timed.clone();
        timed_out.duration_ms = Some(f64::NAN);
        assert_eq!(timed_out, timed_out.clone());
        assert_ne!(timed_out, timed);
        let events = [event.clone(), timed];
        assert!(events.contains(&event));
    }

    #[test]
    fn stored_arguments_are_always_an_object() {
        use serde_json::json;
        assert_eq!(stored_arguments(Some(json!({"a": 1}))), json!({"a": 1}));
        assert_eq!(stored_arguments(None), json!({}));
        assert_eq!(stored_arguments(Some(Value::Null)), json!({}));
        assert_eq!(stored_arguments(Some(json!("ls"))), json!({"input": "ls"}));
        assert_eq!(stored_arguments(Some(json!([1]))), json!({"input": [1]}));
    }

    #[test]
    fn unknown_fields_and_types_survive_a_round_trip() {
        let line = r#"{"event_type":"tool_call","timestamp":1.5,"event_id":"e1","session_id":"s","data":{"tool_name":"Bash"},"prev_hash":"abc","tenant_id":"t"}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(event.extra["prev_hash"], "abc");
        assert_eq!(serde_json::to_string(&event).unwrap(), line);

        let other = r#"{"event_type":"checkpoint","timestamp":2.0,"event_id":"e2","session_id":"s","data":{}}"#;
        let event: Event = serde_json::from_str(other).unwrap();
        assert_eq!(event.event_type, EventType::Other("checkpoint".into()));
        assert_eq!(serde_json::to_string(&event).unwrap(), other);
    }

    #[test]
    fn a_duration_that_is_not_a_number_is_none_and_kept() {
        let line = r#"{"event_type":"tool_result","timestamp":1.5,"event_id":"e1","session_id":"s","duration_ms":"NaN","data":{}}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(event.duration_ms, None);
        let again: Value = serde_json::to_value(&event).unwrap();
        assert_eq!(again["duration_ms"], "NaN");
    }

    #[test]
    fn a_time_that_is_no_number_is_unknown_and_written_back_as_it_was() {
        for timestamp in ["", r#""timestamp":null,"#, r#""timestamp":"soon","#] {
            let line = format!(
                r#"{{"event_type":"tool_call",{timestamp}"event_id":"e1","session_id":"s","data":{{}}}}"#
            );
            let event: Event = serde_json::from_str(&line).unwrap();
            assert!(event.time_unknown(), "{line}");
            assert_eq!(serde_json::to_string(&event).unwrap(), line);
        }
        // Placed since, it is written at its place.
        let line = r#"{"event_type":"tool_call","timestamp":null,"event_id":"e1","session_id":"s","data":{}}"#;
        let mut event: Event = serde_json::from_str(line).unwrap();
        event.timestamp = 2.5;
        let again: Value = serde_json::to_value(&event).unwrap();
        assert_eq!(again["timestamp"], 2.5);
    }

    #[test]
    fn empty_parent_is_no_parent() {
        let line = r#"{"event_type":"error","timestamp":1,"event_id":"e","session_id":"s","parent_id":"","data":{}}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(event.parent_id, None);
    }

    #[test]
    fn known_names_round_trip() {
        for kind in EventType::KNOWN {
            assert_eq!(EventType::parse(kind.as_str()), kind);
        }
    }

    /// 2026-12-01, the clock the tests read at.
    const NOW: f64 = 1_796_083_200.0;

    #[test]
    fn a_session_ends_with_its_latest_event_not_its_last_line() {
        let event = |kind: EventType, at: f64| Event::new(kind, at, "e".into(), "s".into());
        let ended = |events: &[Event]| {
            let mut ending = Ending::default();
            ending.observe_all(events, NOW);
            ending.ended()
        };
        let end = event(EventType::SessionEnd, 10.0);
        assert!(ended(&[event(EventType::ToolCall, 5.0), end.clone()]));
        // Written late: earlier than the end, after it in the file.
        assert!(ended(&[end.clone(), event(EventType::SessionStart, 1.0)]));
        // Resumed after its end.
        assert!(!ended(&[end.clone(), event(EventType::SessionStart, 11.0)]));
        assert!(!ended(&[end.clone(), event(EventType::UserPrompt, 10.0)]));
        assert!(!ended(&[event(EventType::ToolCall, 5.0)]));
        // An end at a time no session has does not outlast what follows it in the file.
        for never in [1e10, -1.0, f64::NAN, f64::INFINITY] {
            let stray = event(EventType::SessionEnd, never);
            assert!(!ended(&[
                end.clone(),
                stray.clone(),
                event(EventType::ToolCall, 12.0)
            ]));
            assert!(ended(&[event(EventType::ToolCall, 5.0), stray]));
        }
    }

    /// An answer recorded after the end (Copilot CLI's `-p`, read by the hook's follower) leaves
    /// the session ended; any other event after the end reopens it, the late answer's alike
    /// once it is no late answer.
    #[test]
    fn a_late_answer_leaves_the_session_ended() {
        let event = |kind: EventType, at: f64| Event::new(kind, at, "e".into(), "s".into());
        let ended = |events: &[Event]| {
            let mut ending = Ending::default();
            ending.observe_all(events, NOW);
            ending.ended()
        };
        let end = event(EventType::SessionEnd, NOW - 10.0);
        let mut late = event(EventType::AssistantResponse, NOW - 5.0);
        assert!(!ended(&[end.clone(), late.clone()]));
        late.data = serde_json::json!({"text": "done", "late": true});
        assert!(ended(&[end.clone(), late.clone()]));
        assert!(!ended(&[end, late, event(EventType::UserPrompt, NOW)]));
    }

    #[test]
    fn an_end_stamped_past_the_readers_clock_counts_in_file_order() {
        let event = |kind: EventType, at: f64| Event::new(kind, at, "e".into(), "s".into());
        let ended = |events: &[Event]| {
            let mut ending = Ending::default();
            ending.observe_all(events, NOW);
            ending.ended()
        };
        let year_2099 = 4_070_908_800.0;
        for ahead in [
            NOW + 365.0 * 86_400.0,
            year_2099,
            NOW + CLOCK_SKEW_SECS + 1.0,
        ] {
            let stray = event(EventType::SessionEnd, ahead);
            assert!(!ended(&[stray.clone(), event(EventType::ToolCall, NOW)]));
            assert!(ended(&[event(EventType::ToolCall, NOW), stray]));
            // A call stamped ahead does not keep a session that ends after it open.
            let call = event(EventType::ToolCall, ahead);
            assert!(ended(&[call, event(EventType::SessionEnd, NOW)]));
        }
        // Within the clocks' skew, its time counts.
        let soon = event(EventType::SessionEnd, NOW + 60.0);
        assert!(ended(&[soon, event(EventType::ToolCall, NOW)]));
        // Read later, once its time has come, it is believed.
        let mut ending = Ending::default();
        ending.observe(&event(EventType::SessionEnd, year_2099), year_2099);
        ending.observe(&event(EventType::ToolCall, NOW), year_2099);
        assert!(ending.ended());
    }

    /// A fold kept for later holds while the clock believes what it believed: not once an end
    /// it read ahead of the clock comes within the skew (read again, it ends the session), nor
    /// once the clock goes back before a time it believed.
    #[test]
    fn a_kept_fold_holds_until_the_clock_believes_other_times() {
        let event = |kind: EventType, at: f64| Event::new(kind, at, "e".into(), "s".into());
        let soon = NOW + CLOCK_SKEW_SECS + 10.0;
        let events = [
            // Never believed: no clock changes what it counts for.
            event(EventType::ToolCall, 1e12),
            event(EventType::ToolCall, NOW - 5.0),
            event(EventType::SessionEnd, soon),
            event(EventType::UserPrompt, NOW - 1.0),
            event(EventType::ToolCall, NOW - 2.0),
        ];
        let fold = |now: f64| {
            let mut ending = Ending::default();
            ending.observe_all(&events, now);
            ending
        };
        let kept = fold(NOW);
        assert!(!kept.ended());
        for later in [NOW, NOW + 9.0, NOW - CLOCK_SKEW_SECS - 1.0 + 0.5] {
            assert!(kept.holds_at(later), "{later}");
            assert_eq!(fold(later).ended(), kept.ended(), "{later}");
        }
        for later in [NOW + 10.0, NOW + 1e6, NOW - 1.0 - CLOCK_SKEW_SECS - 1.0] {
            assert!(!kept.holds_at(later), "{later}");
        }
        assert!(fold(NOW + 10.0).ended());
        assert!(fold(NOW + 10.0).holds_at(NOW + 1e6));
        // Kept through its JSON, as caches keep it.
        let json: Ending = serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
        assert_eq!(json, kept);
        // A session with nothing ahead of the clock keeps the JSON it had.
        let plain = serde_json::to_string(&fold(NOW + 10.0)).unwrap();
        assert!(!plain.contains("ahead"), "{plain}");
    }
}
