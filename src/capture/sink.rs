//! The one way captured events reach the store: ids, time, privacy and writing, for hooks, both
//! MCP proxies and transcript import alike.
//!
//! Every capture path builds its events with [`Sink::event`] (a fresh id), whole and uncut, and
//! hands them to [`Sink::emit`], which in this order:
//! 1. scrubs the data with the one [`Privacy`] the command line resolved, structured values as
//!    structures (a secret under a key, a `{"name", "value"}` pair) before anything is turned
//!    into text or cut;
//! 2. lets the capture path derive text from the scrubbed data ([`Sink::emit_derived`]: the
//!    preview of a structured tool response, the text of an error object), so no text is ever
//!    made from what was not scrubbed;
//! 3. adds the keys the Python tool reads the event by where ours name them otherwise
//!    ([`python_keys`]: an error's `message`, a response's `total_tokens`, a decision's
//!    `choice`), from that data;
//! 4. cuts the event to the size limits ([`super::limit`]: per field and for the whole event);
//! 5. writes it through the store: a hook appends the events of one hook event in one write
//!    ([`Sink::emit_all`], [`Store::append_all`]: all of them land or none does), a proxy
//!    through a kept-open [`Appender`], an import into a [`SessionWriter`] that appears whole.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use regex::Regex;
use serde_json::{Map, Value};

use crate::model::{Event, EventType, SessionMeta, python_keys};
use crate::store::{Appender, SessionWriter, Store, StoreError};

/// What is kept off disk. Resolved once by the command line (flags and `AGENT_STRACE_REDACT`)
/// and handed down as a value.
#[derive(Debug, Clone, Default)]
pub struct Privacy {
    /// Replace secrets (keys, tokens, passwords) with `[REDACTED]`.
    pub redact: bool,
    /// Replace personal data (emails, phones, cards, SSNs, ARNs) with placeholders.
    pub mask: bool,
    /// The user's own patterns, whose matches become `[REDACTED]`.
    pub patterns: Vec<Regex>,
}

impl Privacy {
    /// Whether anything is scrubbed at all.
    pub fn is_off(&self) -> bool {
        !self.redact && !self.mask && self.patterns.is_empty()
    }

    /// Scrubs every string in a JSON value, in place.
    pub fn apply(&self, value: &mut Value) {
        if self.redact {
            crate::redact::redact_value(value);
        }
        if self.mask || !self.patterns.is_empty() {
            crate::mask::mask_value(value, self.mask, &self.patterns);
        }
    }

    /// Scrubs the fields a record holds beside what is modelled (an event's or a meta's
    /// `extra`), their names too: whoever sends the record (a collector's client) names them,
    /// and a name that is itself a key is scrubbed as an object's key is.
    pub fn apply_fields(&self, fields: &mut Map<String, Value>) {
        if self.redact {
            crate::redact::redact_fields(fields);
        }
        if self.mask || !self.patterns.is_empty() {
            crate::mask::mask_fields(fields, self.mask, &self.patterns);
        }
    }

    /// What a session's `meta.json` says of it (its agent, its command, the session and event
    /// it is a subagent of, and the title, branch or folder in `attribution`), scrubbed as its
    /// events are: whoever sends a session's meta (a collector's client, an OTLP exporter's
    /// `service.name`) can put a key in any of them. Its ids are scrubbed as an event's are
    /// ([`Privacy::apply_id`]), so that a parent event's scrubbed id is still the one named.
    pub fn apply_meta(&self, meta: &mut SessionMeta) {
        if self.is_off() {
            return;
        }
        if let Cow::Owned(command) = self.apply_str(&meta.command) {
            meta.command = command;
        }
        if let Cow::Owned(agent) = self.apply_str(&meta.agent_name) {
            meta.agent_name = agent;
        }
        // A session's id names its folder, so it is replaced only when it holds a secret
        // ([`Privacy::session_id`]), and its parent's by the same rule, so that the link still
        // names the parent's folder: made `redacted-…` because a --mask pattern matched it, it
        // named no session, and the parent's audit and tree lost the child. A parent id that no
        // session can have is replaced as an event's id is.
        if let Cow::Owned(id) = self.session_id(&meta.session_id) {
            meta.session_id = id;
        }
        if let Some(parent) = meta.parent_session_id.as_deref() {
            let scrubbed = if crate::store::is_valid_session_id(parent) {
                self.session_id(parent)
            } else {
                Cow::Owned(crate::model::hash::stand_in_id(parent))
            };
            if let Cow::Owned(id) = scrubbed {
                meta.parent_session_id = Some(id);
            }
        }
        // The parent event's id is made as the event's own id is made
        // (`Sink::scrub_envelope`), so the link holds.
        if let Some(scrubbed) = meta
            .parent_event_id
            .as_deref()
            .and_then(|id| self.apply_id(id))
        {
            meta.parent_event_id = Some(scrubbed);
        }
        self.apply_fields(&mut meta.extra);
    }

    /// The id that takes the place of `id` when it holds what is scrubbed (`redacted-` and 16
    /// hex digits, made from it: the same id each time, so that what names it still does);
    /// `None` when it may be written as it is.
    pub fn apply_id(&self, id: &str) -> Option<String> {
        match self.apply_str(id) {
            Cow::Borrowed(_) => None,
            Cow::Owned(_) => Some(crate::model::hash::stand_in_id(id)),
        }
    }

    /// The id a session taken from outside (a hook's payload, a collector's client, a
    /// transcript, telemetry) is stored under: the folder it names, every event's
    /// `session_id` and what the collector serves back. One that holds a secret redaction
    /// would take out is replaced by one made from it ([`crate::model::hash::stand_in_id`]:
    /// `redacted-` and 16 hex digits, the same each time, so that every event of the session
    /// lands in one folder and a child's link to it still names it); any other, and every id
    /// with redaction off, is kept as it is. Personal data and the user's patterns leave it
    /// alone: it names a folder, and a child's link must still name it.
    pub fn session_id<'a>(&self, id: &'a str) -> Cow<'a, str> {
        if self.redact && crate::redact::redact_str(id) != id {
            Cow::Owned(crate::model::hash::stand_in_id(id))
        } else {
            Cow::Borrowed(id)
        }
    }

    /// The session id of subagent `agent` of session `parent` ([`crate::store::subagent_session_id`]),
    /// both ids first taken as [`Privacy::session_id`] takes them: the agent's id is part of the
    /// folder's name.
    pub fn subagent_session_id(&self, agent: &str, parent: &str) -> Option<String> {
        crate::store::subagent_session_id(&self.session_id(agent), &self.session_id(parent))
    }

    /// One string as it may be written (a command line or a URL can carry a key).
    pub fn apply_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if self.redact
            && let Cow::Owned(scrubbed) = crate::redact::redact_str(&out)
        {
            out = Cow::Owned(scrubbed);
        }
        if (self.mask || !self.patterns.is_empty())
            && let Cow::Owned(masked) = crate::mask::mask_str_with(&out, self.mask, &self.patterns)
        {
            out = Cow::Owned(masked);
        }
        out
    }
}

/// Where a sink writes one session's events.
pub trait Target {
    fn put(&mut self, event: &Event) -> Result<(), StoreError>;

    /// Writes events of one session together: where the target can, all of them or none.
    fn put_all(&mut self, events: &[Event]) -> Result<(), StoreError> {
        events.iter().try_for_each(|event| self.put(event))
    }
}

/// Events appended whole to their session's file, those of one hook event in one write
/// (hooks: many processes at once).
impl Target for &Store {
    fn put(&mut self, event: &Event) -> Result<(), StoreError> {
        self.append(event)
    }

    fn put_all(&mut self, events: &[Event]) -> Result<(), StoreError> {
        self.append_all(events)
    }
}

/// Batched appends on a kept-open file (the proxies).
impl Target for Appender {
    fn put(&mut self, event: &Event) -> Result<(), StoreError> {
        self.append(event)
    }
}

/// A session that appears whole when finished (import).
impl Target for SessionWriter {
    fn put(&mut self, event: &Event) -> Result<(), StoreError> {
        self.append(event)
    }
}

/// Builds, scrubs and writes events. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Sink {
    privacy: Privacy,
    clock: fn() -> f64,
    new_id: fn() -> String,
    /// The id the next event takes instead of a fresh one ([`Sink::with_first_id`]).
    first_id: Option<Arc<Mutex<Option<String>>>>,
}

impl Sink {
    /// A sink with the system clock and random event ids.
    pub fn new(privacy: Privacy) -> Sink {
        Sink {
            privacy,
            clock: system_time,
            new_id: new_event_id,
            first_id: None,
        }
    }

    /// The same sink whose next new event takes `id`: the one event a client named (a hook
    /// call's id), so that the call is known by it in the store's file.
    #[must_use]
    pub fn with_first_id(mut self, id: String) -> Sink {
        self.first_id = Some(Arc::new(Mutex::new(Some(id))));
        self
    }

    /// The same sink with another clock (tests, replayed input).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> f64) -> Sink {
        self.clock = clock;
        self
    }

    pub fn privacy(&self) -> &Privacy {
        &self.privacy
    }

    /// The clock, for a relay that stamps what crosses it.
    pub fn clock(&self) -> fn() -> f64 {
        self.clock
    }

    /// Now, in seconds since the epoch.
    pub fn now(&self) -> f64 {
        (self.clock)()
    }

    /// A fresh event id.
    pub fn new_id(&self) -> String {
        if let Some(first) = &self.first_id
            && let Some(id) = first.lock().unwrap_or_else(PoisonError::into_inner).take()
        {
            return id;
        }
        (self.new_id)()
    }

    /// A new event with a fresh id.
    pub fn event(
        &self,
        kind: EventType,
        at: f64,
        session: &str,
        data: Map<String, Value>,
    ) -> Event {
        let mut event = Event::new(kind, at, self.new_id(), session.to_owned());
        event.data = Value::Object(data);
        event
    }

    /// Scrubs an event, cuts it to the size limits and writes it.
    pub fn emit(&self, to: &mut impl Target, event: Event) -> Result<(), StoreError> {
        self.emit_derived(to, event, |_| {})
    }

    /// As [`Sink::emit`], with `derive` adding to the data what is made from it (text from a
    /// structure) once it is scrubbed and before it is cut.
    pub fn emit_derived(
        &self,
        to: &mut impl Target,
        event: Event,
        derive: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<(), StoreError> {
        to.put(&self.prepare(event, derive))
    }

    /// As [`Sink::emit_derived`] for events of one session that tell one story (a result and
    /// the file it read): `derive` is applied to each, and they are written together, all or
    /// none where the target can ([`Target::put_all`]).
    pub fn emit_all(
        &self,
        to: &mut impl Target,
        events: Vec<Event>,
        derive: impl Fn(&mut Map<String, Value>),
    ) -> Result<(), StoreError> {
        let events: Vec<Event> = events
            .into_iter()
            .map(|event| self.prepare(event, &derive))
            .collect();
        to.put_all(&events)
    }

    /// Scrubs an event (its data, its ids and type, the fields beyond the store's own),
    /// derives what is made from its data and cuts it to the size limits.
    fn prepare(&self, mut event: Event, derive: impl FnOnce(&mut Map<String, Value>)) -> Event {
        self.privacy.apply(&mut event.data);
        self.scrub_envelope(&mut event);
        if let Value::Object(data) = &mut event.data {
            derive(data);
        }
        // Made from the scrubbed and derived data, and cut with it.
        python_keys::add(&mut event);
        super::limit::flatten_deep(&mut event.extra);
        if let Value::Object(data) = &mut event.data {
            super::limit::flatten_deep(data);
            super::limit::cap_with_extra(data, &mut event.extra);
        } else {
            super::limit::cap_with_extra(&mut Map::new(), &mut event.extra);
        }
        event
    }

    /// Scrubs what an event says beside its data, as its data is: a client (a collector's)
    /// may put a key in its type, its ids or a field the store does not know. Its session's id
    /// is taken as [`Privacy::session_id`] takes it (the caller names the folder by the id
    /// scrubbed here, or by the same function). An id that holds
    /// a secret is replaced by one made from it (`redacted-` and 16 hex digits), the same each
    /// time, so that the event is still known by it when sent again and its children still
    /// name it as their parent. Run once more on an event already scrubbed, it changes nothing.
    pub fn scrub_envelope(&self, event: &mut Event) {
        if self.privacy.is_off() {
            return;
        }
        if let EventType::Other(kind) = &event.event_type
            && let Cow::Owned(scrubbed) = self.privacy.apply_str(kind)
        {
            event.event_type = EventType::Other(scrubbed);
        }
        if let Cow::Owned(id) = self.privacy.session_id(&event.session_id) {
            event.session_id = id;
        }
        if let Some(id) = self.privacy.apply_id(&event.event_id) {
            event.event_id = id;
        }
        if let Some(parent) = &event.parent_id
            && let Some(id) = self.privacy.apply_id(parent)
        {
            event.parent_id = Some(id);
        }
        self.privacy.apply_fields(&mut event.extra);
    }

    /// One string as it may be written.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.privacy.apply_str(text)
    }
}

/// Now, in seconds since the epoch, by the system's clock: the store's, which stamps what it
/// folds by the same clock.
pub use crate::store::system_time;

/// 12 hex digits (48 random bits), as the Python tool's event ids. The generator is seeded once
/// per thread from the system's randomness: an import writes hundreds of thousands of events,
/// and a system call for each would be a tenth of its time.
pub fn new_event_id() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    // SplitMix64: every state gives a distinct, well-mixed output.
    let mut z = STATE.with(|s| {
        let next = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(next);
        next
    });
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("{:012x}", z >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_twelve_hex_digits_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..100_000).map(|_| new_event_id()).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(
            ids.iter()
                .all(|id| id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }

    #[test]
    fn privacy_scrubs_secrets_then_personal_data_then_the_users_patterns() {
        let privacy = Privacy {
            redact: true,
            mask: true,
            patterns: vec![Regex::new(r"ACME-\d+").unwrap()],
        };
        let mut data = serde_json::json!({
            "command": "curl -H 'Authorization: Bearer sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789' mail bob@corp.io ACME-7"
        });
        privacy.apply(&mut data);
        let text = data["command"].as_str().unwrap();
        assert!(!text.contains("sk-ant"), "{text}");
        assert!(
            text.contains("[EMAIL]") && text.contains("[REDACTED]") && !text.contains("ACME-7")
        );
        assert_eq!(
            privacy.apply_str("bob@corp.io ACME-1"),
            "[EMAIL] [REDACTED]"
        );
        assert!(Privacy::default().is_off());
        assert_eq!(Privacy::default().apply_str("bob@corp.io"), "bob@corp.io");
    }
}
