//! The head of an event: the few fields that counting and statistics need, borrowed from the
//! line, so a scan of a long session allocates almost nothing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::event::{Event, EventType};
use super::hash::fnv1a;
use super::outcome::{ToolOutcome, is_rejection};

/// The key of the flag the MCP proxy sets on the error of a server whose command could not be
/// run ([`EventHead::launch_failure`]).
pub const LAUNCH_FAILURE: &str = "launch_failure";
/// The key of the count an MCP proxy's recorder writes on the error that says it fell behind
/// and relayed messages it did not record ([`EventHead::unrecorded`]).
pub const UNRECORDED_MESSAGES: &str = "unrecorded_messages";
/// The key of the flag an MCP proxy sets on the error that says it records nothing more of
/// the traffic it still relays ([`EventHead::recording_stopped`]).
pub const RECORDING_STOPPED: &str = "recording_stopped";
use super::prompt;
use super::usage::{ApiUsage, Tokens, believed_tokens};

/// The parts of an event that summaries use. Everything else in the line is skipped unparsed.
#[derive(Debug, Clone, Deserialize)]
pub struct EventHead<'a> {
    #[serde(borrow)]
    pub event_type: Cow<'a, str>,
    pub timestamp: f64,
    #[serde(borrow, default)]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub parent_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    #[serde(borrow, default)]
    pub data: DataHead<'a>,
}

/// The parts of an event's data that summaries use.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DataHead<'a> {
    #[serde(borrow, default)]
    pub tool_name: Option<Cow<'a, str>>,
    /// The file a `file_read` or `file_write` names.
    #[serde(borrow, default)]
    pub path: Option<Cow<'a, str>>,
    /// The MCP resource a `file_read` or `file_write` of the Python tool's proxy names.
    #[serde(borrow, default)]
    pub uri: Option<Cow<'a, str>>,
    /// A `file_write` that deleted or moved its file rather than write it.
    #[serde(default)]
    pub change: Change,
    #[serde(default)]
    pub usage: Option<ApiUsage>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    #[serde(default)]
    pub tokens: Option<u64>,
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// What an error event says, as far as telling a refusal from a failure goes.
    #[serde(default)]
    pub error: Said,
    /// The message of an error that has no `error` key (the proxies' spelling).
    #[serde(default)]
    pub message: Said,
    /// The hook's flag for a call the user stopped.
    #[serde(default)]
    pub is_interrupt: Said,
    /// The call a result or error answers (or a call is), as the agent named it.
    #[serde(default)]
    pub tool_use_id: Id,
    /// The agent's id of a call (the Python tool's import, a proxy's JSON-RPC id) or of a model
    /// request.
    #[serde(default)]
    pub request_id: Id,
    /// The id of the model's message a request or response is of.
    #[serde(default)]
    pub message_id: Id,
    /// The conversation of a transcript an imported line belongs to (the Python tool's
    /// import: `main`, or a subagent's sidechain).
    #[serde(borrow, default)]
    pub context_stream: Option<Cow<'a, str>>,
    /// What a `user_prompt` says, as far as telling a person's prompt from what the agent put
    /// in the user's turn goes.
    #[serde(default)]
    pub prompt: PromptSaid,
    /// The Python tool's mark on the summary of a compaction it imported as a prompt.
    #[serde(default)]
    pub is_compaction_summary: Flag,
    /// The proxy's mark on the error of a server whose command could not be run
    /// ([`LAUNCH_FAILURE`]).
    #[serde(default)]
    pub launch_failure: Flag,
    /// The side an MCP proxy's message came from (`client_to_server`, `server_to_client`):
    /// what the proxy recorded of the traffic it carries ([`EventHead::protocol_error`]).
    #[serde(default)]
    pub direction: Said,
    /// How many messages an MCP proxy relayed and did not record, its recorder having fallen
    /// behind ([`UNRECORDED_MESSAGES`]).
    #[serde(default)]
    pub unrecorded_messages: Count,
    /// The proxy's mark on the error that says it stopped recording ([`RECORDING_STOPPED`]).
    #[serde(default)]
    pub recording_stopped: Flag,
    /// The hook's mark on an answer it recorded after the session's end ([`EventHead::is_late_answer`]).
    #[serde(default)]
    pub late: Flag,
    /// An `llm_response` whose `scope` is `session`: the usage of a whole session (older
    /// Copilot CLI), no model call of its own ([`crate::model::view::LlmResponse::session_total`]).
    #[serde(default, rename = "scope", deserialize_with = "session_scope")]
    pub session_total: bool,
    /// Of a call's arguments, the file a file tool names (`file_path`), as far as telling one
    /// read of it from another goes ([`super::read_pairs`]).
    #[serde(default)]
    pub arguments: ArgumentsHead,
}

/// The parts of a call's arguments that counting needs: the hash of the `file_path` they name
/// (text, not empty). Arguments of any other shape (none, a string, a list) name no file, and
/// are no reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArgumentsHead {
    /// The hash of the file path ([`fnv1a`]); `None` when they name none.
    pub file_path: Option<u64>,
}

impl ArgumentsHead {
    /// The arguments `value` of a full event, read as a line's are.
    fn of(value: Option<&serde_json::Value>) -> ArgumentsHead {
        ArgumentsHead {
            file_path: value
                .and_then(|v| v.get("file_path"))
                .map(|path| Id::of(Some(path)))
                .filter(|id| id.text)
                .and_then(|id| id.hash),
        }
    }
}

/// The visitor of [`ArgumentsHead`]: it takes any value, and reads only an object's
/// `file_path`.
struct ArgumentsValue;

impl<'de> Visitor<'de> for ArgumentsValue {
    type Value = ArgumentsHead;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<ArgumentsHead, E> {
        Ok(ArgumentsHead::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ArgumentsHead, E> {
        Ok(ArgumentsHead::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ArgumentsHead, E> {
        Ok(ArgumentsHead::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ArgumentsHead, E> {
        Ok(ArgumentsHead::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ArgumentsHead, E> {
        Ok(ArgumentsHead::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<ArgumentsHead, E> {
        Ok(ArgumentsHead::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ArgumentsHead, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ArgumentsHead::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ArgumentsHead, A::Error> {
        let mut head = ArgumentsHead::default();
        while let Some(key) = map.next_key::<KeyIs>()? {
            if key.0 {
                let id = map.next_value::<Id>()?;
                // The last `file_path` wins, as a full event's map keeps it.
                head.file_path = id.hash.filter(|_| id.text);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(head)
    }
}

impl<'de> Deserialize<'de> for ArgumentsHead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ArgumentsHead, D::Error> {
        deserializer.deserialize_any(ArgumentsValue)
    }
}

/// A key of the arguments: whether it is `file_path`, told without keeping it.
struct KeyIs(bool);

impl<'de> Deserialize<'de> for KeyIs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyIs, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyIs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyIs, E> {
                Ok(KeyIs(v == "file_path"))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Whether a `scope` says `session`; any other value is no reason to fail the line.
fn session_scope<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(serde_json::Value::deserialize(deserializer)?.as_str() == Some("session"))
}

/// A field read from whatever JSON value it holds, without keeping it: text, `true` or
/// `false` and (for an id) an integer may say something, any other value (a fraction, null, an
/// array, an object) only that the field is there; none is a reason to fail the line.
/// [`ReadAny::of`] reads a value of a full event the same way, so that a line and its full
/// event agree.
trait ReadAny: Default {
    fn text(text: &str) -> Self;
    fn flag(flag: bool) -> Self;
    /// A number with no fraction, given as JSON writes it; by default, as any other value.
    fn integer(_written: impl fmt::Display) -> Self {
        Self::other()
    }
    /// A fraction, null, an array or an object (and an integer, unless [`ReadAny::integer`]
    /// says otherwise).
    fn other() -> Self;

    /// The field `value` of a full event, read as a line's is.
    fn of(value: Option<&serde_json::Value>) -> Self {
        match value {
            None => Self::default(),
            Some(serde_json::Value::String(text)) => Self::text(text),
            Some(serde_json::Value::Bool(flag)) => Self::flag(*flag),
            Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => Self::integer(n),
            Some(_) => Self::other(),
        }
    }
}

/// The one visitor of every [`ReadAny`] field: it takes any value, and skips what it holds.
struct AnyValue<T>(std::marker::PhantomData<T>);

impl<'de, T: ReadAny> Visitor<'de> for AnyValue<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::text(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::flag(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::integer(v))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::other())
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::other())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::other())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(T::other())
    }
}

/// Deserializes a [`ReadAny`] field through [`AnyValue`].
fn read_any<'de, D: Deserializer<'de>, T: ReadAny>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(AnyValue(std::marker::PhantomData))
}

/// An id an event names something by (a call, a request, a message), kept as a hash of its
/// text: a string, or an integer as JSON writes it (a JSON-RPC id). Any other value names
/// nothing, and is no reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Id {
    /// It is text, not empty (as [`Said::text`]).
    pub text: bool,
    /// The hash of what names it ([`fnv1a`]); `None` when nothing does.
    pub hash: Option<u64>,
}

impl Id {
    /// The id a field `value` of a full event holds, read as a line's is.
    pub fn of_value(value: Option<&serde_json::Value>) -> Id {
        <Id as ReadAny>::of(value)
    }
}

impl ReadAny for Id {
    fn text(text: &str) -> Id {
        Id {
            text: !text.is_empty(),
            hash: (!text.is_empty()).then(|| fnv1a(text.as_bytes())),
        }
    }
    fn flag(_: bool) -> Id {
        Id::default()
    }
    fn integer(written: impl fmt::Display) -> Id {
        Id {
            text: false,
            hash: Some(fnv1a(written.to_string().as_bytes())),
        }
    }
    fn other() -> Id {
        Id::default()
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Id, D::Error> {
        read_any(deserializer)
    }
}

/// What a prompt's text is, read without keeping it: whether a person wrote it ([`Prompt::by_person`]:
/// typed words or a command, not an interruption, a notice, a command's output or a compaction's
/// summary). Text that is no string is no one's prompt, as [`crate::model::view::View`] reads it.
///
/// [`Prompt::by_person`]: super::prompt::Prompt::by_person
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PromptSaid {
    pub by_person: bool,
    /// The hash of the text ([`fnv1a`]), which tells a copy of the prompt
    /// ([`super::copies`]); `None` for no text.
    pub hash: Option<u64>,
}

impl ReadAny for PromptSaid {
    fn text(text: &str) -> PromptSaid {
        PromptSaid {
            by_person: prompt::read(text).by_person(),
            hash: (!text.is_empty()).then(|| fnv1a(text.as_bytes())),
        }
    }
    fn flag(_: bool) -> PromptSaid {
        PromptSaid::default()
    }
    fn other() -> PromptSaid {
        PromptSaid::default()
    }
}

impl<'de> Deserialize<'de> for PromptSaid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PromptSaid, D::Error> {
        read_any(deserializer)
    }
}

/// What a `file_write`'s `change` says was done to its file
/// ([`crate::model::file_use::FileUse`]): written, unless it names a deletion or a move. Any
/// other value is a write, and no reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Change {
    #[default]
    Write,
    Delete,
    Move,
}

impl ReadAny for Change {
    fn text(text: &str) -> Change {
        match text {
            "delete" => Change::Delete,
            "move" => Change::Move,
            _ => Change::Write,
        }
    }
    fn flag(_: bool) -> Change {
        Change::Write
    }
    fn other() -> Change {
        Change::Write
    }
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Change, D::Error> {
        read_any(deserializer)
    }
}

/// A field that counts only when it is `true`; any other value (or none) is `false`, and is no
/// reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl ReadAny for Flag {
    fn text(_: &str) -> Flag {
        Flag(false)
    }
    fn flag(flag: bool) -> Flag {
        Flag(flag)
    }
    fn other() -> Flag {
        Flag(false)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Flag, D::Error> {
        read_any(deserializer)
    }
}

/// A field that counts something: an integer of no sign as JSON writes it; any other value (or
/// none) is no count, and no reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count(pub Option<u64>);

impl ReadAny for Count {
    fn text(_: &str) -> Count {
        Count(None)
    }
    fn flag(_: bool) -> Count {
        Count(None)
    }
    fn integer(written: impl fmt::Display) -> Count {
        Count(written.to_string().parse().ok())
    }
    fn other() -> Count {
        Count(None)
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Count, D::Error> {
        read_any(deserializer)
    }
}

/// What one field of an error says, read without keeping its text: a long message costs no
/// allocation, and a field of an unexpected type is no reason to fail the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Said {
    /// The field is there (whatever its value).
    pub present: bool,
    /// It is text saying that the user refused or stopped the call, or `true`.
    pub refusal: bool,
    /// It is text, not empty.
    pub text: bool,
}

impl ReadAny for Said {
    fn text(text: &str) -> Said {
        Said {
            present: true,
            refusal: is_rejection(text),
            text: !text.is_empty(),
        }
    }
    fn flag(flag: bool) -> Said {
        Said {
            present: true,
            refusal: flag,
            text: false,
        }
    }
    fn other() -> Said {
        Said {
            present: true,
            refusal: false,
            text: false,
        }
    }
}

impl<'de> Deserialize<'de> for Said {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Said, D::Error> {
        read_any(deserializer)
    }
}

impl EventHead<'_> {
    /// The file a `file_read` or `file_write` names: its path, else the MCP resource's URI.
    pub fn file(&self) -> Option<&str> {
        (self.data.path.as_deref().filter(|p| !p.is_empty()))
            .or_else(|| self.data.uri.as_deref().filter(|u| !u.is_empty()))
    }

    pub fn kind(&self) -> EventType {
        EventType::parse(&self.event_type)
    }

    /// An answer the hook recorded after the session's end, which leaves the session ended
    /// ([`super::Ending::observe_at`]).
    pub fn is_late_answer(&self) -> bool {
        self.kind() == EventType::AssistantResponse && self.data.late.0
    }

    /// A prompt a person wrote: a `user_prompt` whose text is typed words or a command, read as
    /// [`crate::model::view::View`] reads it (not an interruption, a notice, a command's output
    /// or a compaction's summary).
    pub fn person_prompt(&self) -> bool {
        self.kind() == EventType::UserPrompt
            && self.data.prompt.by_person
            && !self.data.is_compaction_summary.0
    }

    pub fn tool_name(&self) -> Option<&str> {
        self.data.tool_name.as_deref().filter(|t| !t.is_empty())
    }

    /// Tokens an `llm_response` reports, whichever way its writer spelled them.
    pub fn tokens(&self) -> u64 {
        let d = &self.data;
        // A count no response can have is unknown, and counts none (`ApiUsage`).
        if let Some(u) = d.usage {
            return u.0.map_or(0, |t| t.total());
        }
        let total = d.total_tokens.or(d.tokens).unwrap_or_else(|| {
            d.input_tokens
                .unwrap_or(0)
                .saturating_add(d.output_tokens.unwrap_or(0))
        });
        believed_tokens(total).unwrap_or(0)
    }

    /// A response's usage was recorded, but holds a count no response can have
    /// ([`ApiUsage`]): its tokens are unknown, where [`EventHead::tokens`] counts none. Read
    /// as [`crate::model::view::LlmResponse`] and [`crate::model::answers`] read it.
    pub fn unbelieved_usage(&self) -> bool {
        let d = &self.data;
        match self.kind() {
            EventType::LlmResponse | EventType::AssistantResponse
                if d.usage.is_some_and(|u| u.0.is_none()) =>
            {
                true
            }
            EventType::LlmResponse if d.usage.is_none() => {
                let total = d.total_tokens.or(d.tokens).unwrap_or_else(|| {
                    d.input_tokens
                        .unwrap_or(0)
                        .saturating_add(d.output_tokens.unwrap_or(0))
                });
                believed_tokens(total).is_none()
            }
            _ => false,
        }
    }

    /// An `llm_response` that answers one model call: not a session's total usage.
    pub fn answers_a_model_call(&self) -> bool {
        self.kind() == EventType::LlmResponse && !self.data.session_total
    }

    /// How the call a result or error answers ended; `None` for other events. Reads the
    /// fields [`crate::model::view::ToolResult`] reads, the same way.
    pub fn outcome(&self) -> Option<ToolOutcome> {
        match self.kind() {
            EventType::ToolResult => Some(ToolOutcome::Ok),
            EventType::Error => {
                let d = &self.data;
                let said = if d.error.present { d.error } else { d.message };
                Some(if said.refusal || d.is_interrupt.refusal {
                    ToolOutcome::Rejected
                } else {
                    ToolOutcome::Failed
                })
            }
            _ => None,
        }
    }

    /// The error the MCP proxy records when the server's command could not be run: the
    /// server never started, so it is no error of a tool call and no turn of the agent's.
    pub fn launch_failure(&self) -> bool {
        self.kind() == EventType::Error && self.data.launch_failure.0
    }

    /// An error of no call that failed (an API error that ended the turn), the turn's and not
    /// a tool's; not a [`EventHead::protocol_error`] nor an [`EventHead::unrecorded`].
    pub fn turn_error(&self) -> bool {
        self.failed_of_no_call() && !self.data.direction.text && self.unrecorded().is_none()
    }

    /// How many messages an MCP proxy relayed and did not record, when this is the error its
    /// recorder writes for falling behind (`the recorder fell behind: …`), or 0 when it is the
    /// error that says the proxy stopped recording ([`EventHead::recording_stopped`]), as what
    /// it relayed after went uncounted. A gap in our own recording: no call's, no turn's and
    /// no error of the protocol, counted in no error figure.
    pub fn unrecorded(&self) -> Option<u64> {
        let stopped = self.data.recording_stopped.0.then_some(0);
        self.data
            .unrecorded_messages
            .0
            .or(stopped)
            .filter(|_| self.failed_of_no_call())
    }

    /// The error an MCP proxy writes when it records nothing more of the traffic it relays (no
    /// thread for its recorder or its relay, its events that could not be written): an
    /// [`EventHead::unrecorded`] gap with no end.
    pub fn recording_stopped(&self) -> bool {
        self.data.recording_stopped.0 && self.unrecorded().is_some()
    }

    /// An error of no call that an MCP proxy recorded of the traffic it carries: a line the
    /// client or the server sent that is no JSON-RPC message, or the server's answer to one
    /// (`{"id": null, "error": {"code": -32700, …}}`). A protocol error, no call's and no
    /// turn's (an MCP session has no turns): counted in neither `errors` nor `turn_errors`.
    pub fn protocol_error(&self) -> bool {
        self.failed_of_no_call() && self.data.direction.text && self.unrecorded().is_none()
    }

    /// An error of no call that failed: one that names no tool and answers no call. An error
    /// that names its request by `request_id` answers a call: the Python tool's proxies name
    /// the call a JSON-RPC error answers only so, with no `parent_id`. Reads what
    /// [`crate::model::view::ToolResult::of_no_call`] reads, the same way.
    fn failed_of_no_call(&self) -> bool {
        self.outcome() == Some(ToolOutcome::Failed)
            && !self.launch_failure()
            && self.tool_name().is_none()
            && self.parent_id.is_none()
            && !self.data.tool_use_id.text
            && self.data.request_id.hash.is_none()
    }
}

impl<'a> EventHead<'a> {
    /// The head of a full event, for code that already holds one.
    pub fn of(event: &'a Event) -> EventHead<'a> {
        let data = &event.data;
        let number = |key: &str| data.get(key).and_then(serde_json::Value::as_u64);
        let usage = data
            .get("usage")
            .filter(|u| u.is_object())
            .map(|u| ApiUsage(Tokens::read_usage(u)));
        EventHead {
            event_type: Cow::Borrowed(event.event_type.as_str()),
            timestamp: event.timestamp,
            event_id: Some(Cow::Borrowed(event.event_id.as_str())),
            parent_id: event.parent_id.as_deref().map(Cow::Borrowed),
            duration_ms: event.duration_ms,
            data: DataHead {
                tool_name: data
                    .get("tool_name")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                path: data
                    .get("path")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                uri: data
                    .get("uri")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                change: Change::of(data.get("change")),
                usage,
                total_tokens: number("total_tokens"),
                tokens: number("tokens"),
                input_tokens: number("input_tokens"),
                output_tokens: number("output_tokens"),
                error: Said::of(data.get("error")),
                message: Said::of(data.get("message")),
                is_interrupt: Said::of(data.get("is_interrupt")),
                tool_use_id: Id::of(data.get("tool_use_id")),
                request_id: Id::of(data.get("request_id")),
                message_id: Id::of(data.get("message_id")),
                context_stream: data
                    .get("context_stream")
                    .and_then(serde_json::Value::as_str)
                    .map(Cow::Borrowed),
                prompt: PromptSaid::of(data.get("prompt")),
                is_compaction_summary: Flag::of(data.get("is_compaction_summary")),
                launch_failure: Flag::of(data.get(LAUNCH_FAILURE)),
                direction: Said::of(data.get("direction")),
                unrecorded_messages: Count::of(data.get(UNRECORDED_MESSAGES)),
                recording_stopped: Flag::of(data.get(RECORDING_STOPPED)),
                late: Flag::of(data.get("late")),
                session_total: data.get("scope").and_then(serde_json::Value::as_str)
                    == Some("session"),
                arguments: ArgumentsHead::of(data.get("arguments")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_and_its_full_event_give_the_same_head() {
        let line = r#"{"event_type":"llm_response","timestamp":2.5,"event_id":"e","session_id":"s","parent_id":"p","duration_ms":3.0,"data":{"tool_name":"X","usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":10},"big":[1,2,{"x":"y"}]},"prev_hash":"h"}"#;
        let head: EventHead<'_> = serde_json::from_str(line).unwrap();
        let event: Event = serde_json::from_str(line).unwrap();
        let of = EventHead::of(&event);
        for h in [&head, &of] {
            assert_eq!(h.kind(), EventType::LlmResponse);
            assert_eq!(h.tokens(), 17);
            assert_eq!(h.tool_name(), Some("X"));
            assert_eq!(h.parent_id.as_deref(), Some("p"));
            assert_eq!(h.duration_ms, Some(3.0));
            assert_eq!(h.outcome(), None);
        }
    }

    #[test]
    fn a_field_of_any_value_reads_the_same_from_a_line_and_its_full_event() {
        let fields = |h: &EventHead<'_>| {
            let d = &h.data;
            let saids = (d.error, d.message, d.is_interrupt, d.tool_use_id);
            let marks = (d.is_compaction_summary, d.launch_failure);
            (saids, d.prompt, marks, d.unrecorded_messages)
        };
        let keys = [
            "error",
            "message",
            "is_interrupt",
            "tool_use_id",
            "prompt",
            "is_compaction_summary",
            LAUNCH_FAILURE,
            UNRECORDED_MESSAGES,
        ];
        let values = [
            r#""User rejected tool use""#,
            r#""fix the tests""#,
            r#""""#,
            "true",
            "false",
            "7",
            "-7",
            "1.5",
            "null",
            "[1,[2,\"x\"]]",
            r#"{"a":{"b":true}}"#,
        ];
        for value in values {
            let data: Vec<String> = keys.iter().map(|k| format!("\"{k}\":{value}")).collect();
            let line = format!(
                r#"{{"event_type":"error","timestamp":1,"data":{{{}}}}}"#,
                data.join(",")
            );
            let head: EventHead<'_> = serde_json::from_str(&line).unwrap();
            let event: Event = serde_json::from_str(&line).unwrap();
            assert_eq!(fields(&head), fields(&EventHead::of(&event)), "{line}");
        }
        let line = r#"{"event_type":"error","timestamp":1,"data":{}}"#;
        let head: EventHead<'_> = serde_json::from_str(line).unwrap();
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(fields(&head), fields(&EventHead::of(&event)));
        assert_eq!(fields(&head), Default::default());
    }

    #[test]
    fn an_id_is_text_or_an_integer_as_written_and_nothing_else() {
        let id = |value: &str| {
            let line = format!(
                r#"{{"event_type":"tool_result","timestamp":1,"data":{{"request_id":{value}}}}}"#
            );
            let head: EventHead<'_> = serde_json::from_str(&line).unwrap();
            let event: Event = serde_json::from_str(&line).unwrap();
            assert_eq!(
                head.data.request_id,
                EventHead::of(&event).data.request_id,
                "{line}"
            );
            head.data.request_id
        };
        let hash = |text: &str| Some(fnv1a(text.as_bytes()));
        let named = |text: &str| Id {
            text: true,
            hash: hash(text),
        };
        let number = |text: &str| Id {
            text: false,
            hash: hash(text),
        };
        assert_eq!(id(r#""req-1""#), named("req-1"));
        assert_eq!(id(r#""7""#), named("7"));
        assert_eq!(id("7"), number("7"));
        assert_eq!(id("-7"), number("-7"));
        assert_eq!(id("18446744073709551615"), number("18446744073709551615"));
        for nothing in [
            r#""""#,
            "7.0",
            "1.5",
            "1e3",
            "true",
            "false",
            "null",
            "[7]",
            r#"{"id":7}"#,
        ] {
            assert_eq!(id(nothing), Id::default(), "{nothing}");
        }
        let line = r#"{"event_type":"tool_result","timestamp":1,"data":{}}"#;
        let head: EventHead<'_> = serde_json::from_str(line).unwrap();
        assert_eq!(head.data.request_id, Id::default());
    }

    #[test]
    fn a_line_and_its_full_event_agree_on_a_persons_prompt() {
        let lines = [
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"fix the \"tests\""}}"#,
                true,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"<command-name>/plugin</command-name>"}}"#,
                true,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"[Request interrupted by user]"}}"#,
                false,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"<local-command-stdout>ok</local-command-stdout>"}}"#,
                false,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"summary","is_compaction_summary":true}}"#,
                false,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":"typed","is_compaction_summary":"yes"}}"#,
                true,
            ),
            (
                r#"{"event_type":"user_prompt","timestamp":1,"data":{"prompt":{"text":"x"}}}"#,
                false,
            ),
            (
                r#"{"event_type":"tool_call","timestamp":1,"data":{"prompt":"typed"}}"#,
                false,
            ),
        ];
        for (line, person) in lines {
            let head: EventHead<'_> = serde_json::from_str(line).unwrap();
            let event: Event = serde_json::from_str(line).unwrap();
            assert_eq!(head.person_prompt(), person, "{line}");
            assert_eq!(EventHead::of(&event).person_prompt(), person, "{line}");
        }
    }

    #[test]
    fn a_line_and_its_full_event_agree_on_the_outcome() {
        let lines = [
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"Exit code 1\nboom"}}"#,
                ToolOutcome::Failed,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"The user doesn't want to proceed with this tool use.\nSTOP"}}"#,
                ToolOutcome::Rejected,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"tool call failed","is_interrupt":true}}"#,
                ToolOutcome::Rejected,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":{"code":1},"is_interrupt":"yes"}}"#,
                ToolOutcome::Failed,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"message":"User rejected tool use"}}"#,
                ToolOutcome::Rejected,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":null,"message":"User rejected tool use"}}"#,
                ToolOutcome::Failed,
            ),
            (
                r#"{"event_type":"tool_result","timestamp":1,"data":{"result":"ok"}}"#,
                ToolOutcome::Ok,
            ),
        ];
        for (line, outcome) in lines {
            let head: EventHead<'_> = serde_json::from_str(line).unwrap();
            let mut event: Event = serde_json::from_str(line).unwrap();
            event.event_id = "e".into();
            assert_eq!(head.outcome(), Some(outcome), "{line}");
            assert_eq!(EventHead::of(&event).outcome(), Some(outcome), "{line}");
            let view = crate::model::view::View::of(&event, crate::model::Agent::ClaudeCode);
            let crate::model::view::View::ToolResult(result) = view else {
                panic!("a result")
            };
            assert_eq!(result.outcome, outcome, "{line}");
        }
    }

    #[test]
    fn a_line_and_its_full_event_agree_on_an_error_of_no_call() {
        let lines = [
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"API error (overloaded)"}}"#,
                true,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_use_id":""}}"#,
                true,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_use_id":7}}"#,
                true,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_use_id":"t1"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"x","tool_name":"Bash"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"parent_id":"c","data":{"error":"x"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"User rejected tool use"}}"#,
                false,
            ),
            // The Python tool's proxy names the call a JSON-RPC error answers by its id alone.
            (
                r#"{"event_type":"error","timestamp":1,"data":{"message":"boom","code":-32000,"request_id":4}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"message":"x","request_id":"r1"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"message":"x","request_id":""}}"#,
                true,
            ),
            // A server the proxy could not launch took no turn.
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"cannot run x","launch_failure":true}}"#,
                false,
            ),
            // Neither did a line of the MCP traffic that is no JSON-RPC message.
            (
                r#"{"event_type":"error","timestamp":1,"data":{"direction":"server_to_client","code":-32700,"error":"Parse error"}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"direction":"client_to_server","error":"malformed JSON-RPC message"}}"#,
                false,
            ),
            // Nor messages the recorder fell behind on, as the stdio proxy (a direction) and
            // the HTTP proxy (none) record them: a gap in the recording, no protocol error.
            (
                r#"{"event_type":"error","timestamp":1,"data":{"direction":"client_to_server","error":"the recorder fell behind: 3 messages that crossed the proxy were not recorded","unrecorded_messages":3}}"#,
                false,
            ),
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"the recorder fell behind: 1 message that crossed the proxy was not recorded","unrecorded_messages":1}}"#,
                false,
            ),
            // Nor the error that says the proxy stopped recording what it still relays.
            (
                r#"{"event_type":"error","timestamp":1,"data":{"error":"cannot start a thread for the relay: the server runs unrecorded","recording_stopped":true}}"#,
                false,
            ),
            (
                r#"{"event_type":"tool_result","timestamp":1,"data":{"result":"ok"}}"#,
                false,
            ),
        ];
        for (line, turn) in lines {
            let head: EventHead<'_> = serde_json::from_str(line).unwrap();
            let mut event: Event = serde_json::from_str(line).unwrap();
            event.event_id = "e".into();
            assert_eq!(head.turn_error(), turn, "{line}");
            assert_eq!(EventHead::of(&event).turn_error(), turn, "{line}");
            let view = crate::model::view::View::of(&event, crate::model::Agent::ClaudeCode);
            let crate::model::view::View::ToolResult(result) = view else {
                panic!("a result")
            };
            let unrecorded =
                line.contains("unrecorded_messages") || line.contains("recording_stopped");
            let protocol = line.contains("direction") && !unrecorded;
            assert_eq!(head.protocol_error(), protocol, "{line}");
            assert_eq!(result.protocol_error, protocol, "{line}");
            assert_eq!(head.unrecorded().is_some(), unrecorded, "{line}");
            assert_eq!(result.unrecorded, head.unrecorded(), "{line}");
            assert_eq!(
                result.of_no_call
                    && !result.protocol_error
                    && result.unrecorded.is_none()
                    && result.failed(),
                turn,
                "{line}"
            );
        }
    }
}
