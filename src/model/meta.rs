//! A session's `meta.json`: who ran it, when, and the counters derived from its events.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::event::CLOCK_SKEW_SECS;
use super::members::{Members, NotMembers};
use super::meta_cut::{Cut, Held, LeftOut, WithHeld};

/// Session metadata.
///
/// Written with only the keys the Python agent-strace knows (it rejects a `meta.json` with any
/// other key), and like it, leaving out empty and zero values. Keys we do not model are kept in
/// `extra` and written back unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionMeta {
    pub session_id: String,
    pub started_at: f64,
    pub ended_at: Option<f64>,
    pub agent_name: String,
    pub command: String,
    pub tool_calls: u64,
    /// Model calls, a request and its response once ([`super::Counters::model_calls`]), as our
    /// writers count them; the Python tool's proxy counts its requests, the same.
    pub llm_requests: u64,
    pub errors: u64,
    pub total_tokens: u64,
    pub total_duration_ms: f64,
    pub parent_session_id: Option<String>,
    pub parent_event_id: Option<String>,
    pub depth: u64,
    pub extra: Map<String, Value>,
    /// What was left out of `extra` when it was read ([`SessionMeta::from_json_to_read`]):
    /// nothing for the whole of a `meta.json`.
    pub left_out: LeftOut,
    /// The values left out of `extra` by a writer's reading ([`SessionMeta::from_json_to_write`]),
    /// written back as they were.
    pub held: Vec<Held>,
}

/// The one free-form object of `meta.json` the Python tool keeps: its loader refuses unknown
/// keys at the top, but reads `attribution` as a plain object and takes from it only the keys
/// it knows. Facts about a session that have no key of their own live here.
pub(super) const ATTRIBUTION: &str = "attribution";
/// The key of the session's title in `attribution`.
pub const TITLE: &str = "title";
/// The key in `attribution` that says which times the session's log gave: [`START_ONLY`] for
/// a log that gives none but the session's start (an older Codex rollout, a Claude Code
/// transcript whose lines give one time or none), every event of it placed there, so that its
/// end, and how long it took, are not known.
pub const TIMES: &str = "times";
/// [`TIMES`] of a log that gives no time but the session's start.
pub const START_ONLY: &str = "start only";

/// The counts of `meta.json` that can be written as no count (`-5`), kept in `extra` so.
const COUNTS: [&str; 4] = ["tool_calls", "errors", "llm_requests", "total_tokens"];

/// The keys [`SessionMeta`] has a field for, read whatever their size.
const MODELLED: [&str; 13] = [
    "session_id",
    "started_at",
    "ended_at",
    "agent_name",
    "command",
    "tool_calls",
    "llm_requests",
    "errors",
    "total_tokens",
    "total_duration_ms",
    "parent_session_id",
    "parent_event_id",
    "depth",
];

/// The most bytes of JSON of the keys [`SessionMeta`] does not model that a view keeps
/// ([`SessionMeta::from_json_to_read`]): a few hundred times what a session's attribution
/// holds, and few enough values that reading them costs a view nothing it would notice.
pub const EXTRA_TO_READ: usize = 256 * 1024;

/// The value of `key`, a key [`SessionMeta`] does not model, when its JSON (`raw`) fits in
/// what is left to read by `cut`; of an `attribution` that does not, its own keys that fit.
/// What does not fit is left out by `cut`.
fn kept(key: &str, raw: &RawValue, cut: &mut Cut) -> Result<Option<Value>, MetaError> {
    if cut.takes(raw) {
        return Ok(Some(serde_json::from_str(raw.get())?));
    }
    // Its depth was looked at with the whole text's.
    let members = (key == ATTRIBUTION)
        .then(|| serde_json::from_str(raw.get()).ok())
        .flatten();
    let Some(Members(members)) = members else {
        cut.leave_out(key, false, raw);
        return Ok(None);
    };
    let mut attribution = Map::new();
    for (key, raw) in members {
        if cut.takes(raw) {
            attribution.insert(key, serde_json::from_str(raw.get())?);
        } else {
            cut.leave_out(&key, true, raw);
            attribution.shift_remove(&key);
        }
    }
    Ok(Some(Value::Object(attribution)))
}

/// Why a `meta.json` could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("field `{0}` has the wrong type")]
    WrongType(&'static str),
}

impl SessionMeta {
    pub fn new(session_id: impl Into<String>, started_at: f64) -> Self {
        SessionMeta {
            session_id: session_id.into(),
            started_at,
            ..SessionMeta::default()
        }
    }

    /// The whole of a `meta.json`, every key it does not model kept in `extra`: for a writer,
    /// which writes `extra` back.
    pub fn from_json(text: &str) -> Result<Self, MetaError> {
        Self::read(text, usize::MAX, false)
    }

    /// A `meta.json` for a writer: as [`SessionMeta::from_json_to_read`] reads it, the values
    /// it leaves out [`held`](SessionMeta::held) as their text, which [`SessionMeta::to_json`]
    /// writes back as they were.
    pub fn from_json_to_write(text: &str) -> Result<Self, MetaError> {
        Self::read(text, EXTRA_TO_READ, true)
    }

    /// A `meta.json` as a view reads it: of the keys it does not model, `extra` keeps those
    /// whose values fit in [`EXTRA_TO_READ`] bytes of JSON together, `attribution` first (when
    /// it is larger, its own keys that fit). A `meta.json` under the 16 MiB a store reads can
    /// hold millions of values that no view shows: read whole, three million short strings
    /// took 350 MB and seconds for every command reading the session.
    pub fn from_json_to_read(text: &str) -> Result<Self, MetaError> {
        Self::read(text, EXTRA_TO_READ, false)
    }

    /// `text` read with at most `budget` bytes of the values of keys it does not model, as
    /// [`SessionMeta::from_json_to_read`] keeps them; those left out are held when `hold`.
    pub fn read(text: &str, budget: usize, hold: bool) -> Result<Self, MetaError> {
        let Members(members) = Members::of(text).map_err(|e| match e {
            NotMembers::Json(e) => MetaError::Json(e),
            NotMembers::NotAnObject => MetaError::NotAnObject,
        })?;
        // `attribution` takes from the budget first: it holds what views show of a session
        // beside its figures. The keys stay in the order written.
        let is_attribution = |i: &usize| members[*i].0 == ATTRIBUTION;
        let order = (0..members.len())
            .filter(is_attribution)
            .chain((0..members.len()).filter(|i| !is_attribution(i)));
        let mut values = vec![None; members.len()];
        let mut cut = Cut::new(budget, hold);
        for i in order {
            let (key, raw) = &members[i];
            values[i] = if MODELLED.contains(&key.as_str()) {
                Some(serde_json::from_str(raw.get())?)
            } else {
                kept(key, raw, &mut cut)?
            };
        }
        let mut map = Map::new();
        for ((key, _), value) in members.into_iter().zip(values) {
            // As a later value of a key replaces an earlier one when the whole is read.
            match value {
                Some(value) => map.insert(key, value),
                None => map.shift_remove(&key),
            };
        }
        let mut meta = SessionMeta {
            session_id: take_string(&mut map, "session_id")?.unwrap_or_default(),
            started_at: take_f64(&mut map, "started_at")?.unwrap_or_default(),
            ended_at: take_f64(&mut map, "ended_at")?,
            agent_name: take_string(&mut map, "agent_name")?.unwrap_or_default(),
            command: take_string(&mut map, "command")?.unwrap_or_default(),
            tool_calls: take_u64(&mut map, "tool_calls")?,
            llm_requests: take_u64(&mut map, "llm_requests")?,
            errors: take_u64(&mut map, "errors")?,
            total_tokens: take_u64(&mut map, "total_tokens")?,
            total_duration_ms: take_f64(&mut map, "total_duration_ms")?.unwrap_or_default(),
            parent_session_id: take_string(&mut map, "parent_session_id")?
                .filter(|s| !s.is_empty()),
            parent_event_id: take_string(&mut map, "parent_event_id")?.filter(|s| !s.is_empty()),
            depth: take_u64(&mut map, "depth")?,
            extra: Map::new(),
            left_out: cut.left_out,
            held: cut.held.unwrap_or_default(),
        };
        meta.extra = map;
        Ok(meta)
    }

    /// It holds no counter (no call, request, error or token): `meta.json` leaves zeros out,
    /// and the Python tool's proxy writes its counters only when it ends, so a session it is
    /// recording (or that was killed) holds none. Readers count such a session's events.
    pub fn counts_nothing(&self) -> bool {
        self.tool_calls == 0 && self.llm_requests == 0 && self.errors == 0 && self.total_tokens == 0
    }

    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        map.insert("session_id".into(), self.session_id.clone().into());
        map.insert("started_at".into(), self.started_at.into());
        if let Some(ended) = self.ended_at {
            map.insert("ended_at".into(), ended.into());
        }
        put_str(&mut map, "agent_name", &self.agent_name);
        put_str(&mut map, "command", &self.command);
        put_u64(&mut map, "tool_calls", self.tool_calls);
        put_u64(&mut map, "llm_requests", self.llm_requests);
        put_u64(&mut map, "errors", self.errors);
        put_u64(&mut map, "total_tokens", self.total_tokens);
        if self.total_duration_ms > 0.0 {
            map.insert("total_duration_ms".into(), self.total_duration_ms.into());
        }
        put_str(
            &mut map,
            "parent_session_id",
            self.parent_session_id.as_deref().unwrap_or(""),
        );
        put_str(
            &mut map,
            "parent_event_id",
            self.parent_event_id.as_deref().unwrap_or(""),
        );
        put_u64(&mut map, "depth", self.depth);
        for (key, value) in &self.extra {
            // A count that was no count is kept as written, unless the count has been set
            // since.
            if !map.contains_key(key) {
                map.insert(key.clone(), value.clone());
            }
        }
        // Pretty, like the Python tool, since people open this file by hand.
        if self.held.is_empty() {
            return serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
        }
        let written = WithHeld {
            map: &map,
            held: &self.held,
            in_attribution: false,
        };
        serde_json::to_string_pretty(&written).unwrap_or_default()
    }

    /// A string the session's `attribution` holds: who or what started it (`working_dir`,
    /// `git_branch`, `agent_version` …, as the Python tool's hooks record them) and the
    /// session's [`title`](SessionMeta::title).
    pub fn attribution(&self, key: &str) -> Option<&str> {
        self.extra
            .get(ATTRIBUTION)?
            .get(key)?
            .as_str()
            .filter(|s| !s.is_empty())
    }

    /// Of `extra`, what a listing of sessions reads: `attribution`'s strings
    /// ([`SessionMeta::attribution`], the title among them) and the counts written as no
    /// count ([`SessionMeta::unbelievable`]).
    pub fn extra_to_list(&self) -> Map<String, Value> {
        let mut listed: Map<String, Value> = COUNTS
            .iter()
            .filter_map(|&name| Some((name.to_owned(), self.extra.get(name)?.clone())))
            .collect();
        if let Some(Value::Object(attribution)) = self.extra.get(ATTRIBUTION) {
            let strings: Map<String, Value> = attribution
                .iter()
                .filter(|(_, value)| value.is_string())
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            if !strings.is_empty() {
                listed.insert(ATTRIBUTION.to_owned(), Value::Object(strings));
            }
        }
        listed
    }

    /// Whether the session's end is known: not when its log gave no time but its start
    /// ([`TIMES`]), whatever `ended_at` says (the start, where every event was placed).
    pub fn end_known(&self) -> bool {
        self.attribution(TIMES) != Some(START_ONLY)
    }

    /// `value`, the session's duration in some form, believed when both its times are
    /// ([`Unbelievable::duration`] of `doubts`) and its end is known
    /// ([`SessionMeta::end_known`]): views show it as unknown otherwise, never as `0.00s`.
    pub fn duration_figure<T>(&self, doubts: &Unbelievable, value: T) -> Believed<T> {
        let mut figure = doubts.duration(value);
        figure.believed &= self.end_known();
        figure
    }

    /// The title the agent gave the session (Claude Code's `summary` line), when it gave one.
    pub fn title(&self) -> Option<&str> {
        self.attribution(TITLE)
    }

    /// Takes a string of the session's `attribution` away (see [`SessionMeta::attribution`]).
    pub fn remove_attribution(&mut self, key: &str) {
        if let Some(Value::Object(map)) = self.extra.get_mut(ATTRIBUTION) {
            map.remove(key);
        }
    }

    /// Sets a string of the session's `attribution` (see [`SessionMeta::attribution`]); an
    /// `attribution` that is not an object is replaced.
    pub fn set_attribution(&mut self, key: &str, value: &str) {
        let entry = self
            .extra
            .entry(ATTRIBUTION)
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(map) = entry {
            map.insert(key.to_owned(), value.into());
        }
    }

    /// The start, when it is one a session can have: what offsets within the session count
    /// from. `None` for no start (0) or one outside [`BELIEVABLE_TIMES`], where they count from
    /// the first event instead (a start in 2128 made every offset -3,203,790,240 s).
    pub fn believed_start(&self) -> Option<f64> {
        Some(self.started_at).filter(|s| *s > 0.0 && BELIEVABLE_TIMES.contains(s))
    }

    /// The time to put the session in order by (newest first) and to pick the latest by: its
    /// start, or, when that is one no session can have or one later than the reader's clock
    /// `now` by more than [`CLOCK_SKEW_SECS`], its first event's time (`first_event`, asked
    /// only then; believed on the same terms), as the exports time such a session; with
    /// neither, before every other session. A start in 2128 made the session always "the
    /// latest" and first in `list --last`, and one in 2099 did as much, and was the one
    /// `retention --max-sessions` kept.
    pub fn start_to_order_by(&self, now: f64, first_event: impl FnOnce() -> Option<f64>) -> f64 {
        let believed = |t: &f64| BELIEVABLE_TIMES.contains(t) && *t <= now + CLOCK_SKEW_SECS;
        if believed(&self.started_at) {
            self.started_at
        } else {
            first_event().filter(believed).unwrap_or(f64::NEG_INFINITY)
        }
    }

    /// Whether the start is later than the reader's clock `now` by more than
    /// [`CLOCK_SKEW_SECS`]: a time the session cannot have yet, from a clock ahead or a
    /// hand-edited `meta.json`.
    pub fn starts_ahead_of(&self, now: f64) -> bool {
        self.started_at > now + CLOCK_SKEW_SECS
    }

    /// The start to place the session in a period by (`--since`, `--until`); when it is one
    /// no session can have, the warning that the session is left out instead, since it is in
    /// no period (a start in 2128 fell in every period reaching that far, and one in the year
    /// -17678 was named the newest). Every command placing sessions in a period asks this
    /// through [`super::period::PeriodStarts`], which leaves out, too, a start after a period
    /// that ends now.
    pub fn start_in_periods(&self) -> Result<f64, String> {
        let doubts = self.unbelievable().only(&["started_at"]);
        match doubts.warning(&self.session_id, "left out") {
            Some(warning) => Err(warning),
            None => Ok(self.started_at),
        }
    }

    /// Wall time from start to end, when the session has ended.
    pub fn duration_secs(&self) -> Option<f64> {
        self.ended_at.map(|end| (end - self.started_at).max(0.0))
    }

    /// The end, when it is one a session can have ([`SessionMeta::unbelievable`]): `None`
    /// while it runs, and for an end before the start or at a time no session can have, which
    /// `list` shows as unknown.
    pub fn believed_end(&self) -> Option<f64> {
        self.ended_at
            .filter(|_| self.unbelievable().believes("ended_at"))
    }

    /// Moves the end to `last_event` when an event came more than [`SAME_MOMENT_SECS`] after
    /// it: a `meta.json` end (the Python tool's, a hook session's resumed past it, one damaged)
    /// that the events contradict, as `replay` and `explain` show them running past it. An end
    /// no event passes is kept: the session may have sat idle before it ended. An end no
    /// session can have stays as it is, which views show as unknown. A meta with no end, of a
    /// session whose events end it (`ended`, [`super::Ending::ended`]: the Python tool's hooks
    /// killed between its `session_end` and the meta written after it), ends at `last_event`.
    pub fn end_at_events(&mut self, last_event: Option<f64>, ended: bool) {
        let Some(last) = last_event else {
            return;
        };
        let believed = self.unbelievable().believes_times();
        let moved = match self.ended_at {
            Some(end) => believed && last - end > SAME_MOMENT_SECS,
            None => ended,
        };
        if moved {
            self.ended_at = Some(last);
            self.total_duration_ms = ((last - self.started_at) * 1000.0).max(0.0);
        }
    }

    /// [`SessionMeta::duration_secs`], when both times are ones a session can have: a judge
    /// of durations (`eval`'s `duration_under`) goes by the events' span instead of a forged
    /// or damaged one.
    pub fn believed_duration_secs(&self) -> Option<f64> {
        self.duration_secs()
            .filter(|_| self.unbelievable().believes_times())
    }

    /// The fields, by their `meta.json` names and with their values as it writes them, that
    /// hold what no real session can: a time outside [`BELIEVABLE_TIMES`], an end before the
    /// start or more than [`BELIEVABLE_DURATION_SECS`] after it, a count above
    /// [`BELIEVABLE_COUNT`] or tokens above [`BELIEVABLE_TOKENS`], a count that is no count
    /// (`-5`, kept in `extra`). A `meta.json` damaged, or written by someone who
    /// wants a listing to mislead, is the only way to them; views show such a field as unknown
    /// rather than as it is.
    pub fn unbelievable(&self) -> Unbelievable {
        let start = BELIEVABLE_TIMES.contains(&self.started_at);
        // An end before the start is no session's either: its duration read `0.00s`.
        let end = self.ended_at.filter(|end| {
            !BELIEVABLE_TIMES.contains(end)
                || (start && !(0.0..=BELIEVABLE_DURATION_SECS).contains(&(end - self.started_at)))
        });
        let mut fields = Vec::new();
        if !start {
            fields.push(("started_at", Value::from(self.started_at).to_string()));
        }
        if let Some(end) = end {
            fields.push(("ended_at", Value::from(end).to_string()));
        }
        for (name, n) in COUNTS.into_iter().zip([
            self.tool_calls,
            self.errors,
            self.llm_requests,
            self.total_tokens,
        ]) {
            if n > most_believed(name) {
                fields.push((name, n.to_string()));
            } else if let Some(written) = self.extra.get(name).filter(|_| n == 0) {
                // A count written as no count (`-5`), kept in `extra` (`take_u64`).
                fields.push((name, written.to_string()));
            }
        }
        Unbelievable(fields)
    }
}

/// How far apart two times of one moment may be: the Python tool's Stop hook takes the time
/// for `meta.json`'s end, then again for its `session_end` event, microseconds later. A
/// millisecond, the precision timestamps carry ([`super::seconds`]), which no view shows.
const SAME_MOMENT_SECS: f64 = 0.001;

/// The most a session can count of the count named `name` (a `meta.json` name):
/// [`BELIEVABLE_TOKENS`] of `total_tokens`, [`BELIEVABLE_COUNT`] of any other.
fn most_believed(name: &str) -> u64 {
    if name == "total_tokens" {
        BELIEVABLE_TOKENS
    } else {
        BELIEVABLE_COUNT
    }
}

/// The fields of a session's metadata that hold what no real session can (see
/// [`SessionMeta::unbelievable`]), by their `meta.json` names, with their values as it writes
/// them. Every view of a session asks it which figures to believe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unbelievable(pub Vec<(&'static str, String)>);

impl Unbelievable {
    /// Those of `counts` (by their `meta.json` names, `total_tokens` for tokens) above what a
    /// session can count ([`BELIEVABLE_TOKENS`] tokens, else [`BELIEVABLE_COUNT`]): for counts
    /// read elsewhere than `meta.json`, such as an index's fold, a cache anyone who can write
    /// the store can forge.
    pub fn counts(counts: &[(&'static str, u64)]) -> Unbelievable {
        Unbelievable(
            counts
                .iter()
                .filter(|&&(name, n)| n > most_believed(name))
                .map(|&(name, n)| (name, n.to_string()))
                .collect(),
        )
    }

    /// Whether `field` (a `meta.json` name) holds what a session can.
    pub fn believes(&self, field: &str) -> bool {
        !self.0.iter().any(|(name, _)| *name == field)
    }

    /// Whether the session's start and end, and so its duration, are believed.
    pub fn believes_times(&self) -> bool {
        self.believes("started_at") && self.believes("ended_at")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `value`, the figure of `field`, marked with whether it is believed.
    pub fn figure<T>(&self, field: &str, value: T) -> Believed<T> {
        Believed {
            value,
            believed: self.believes(field),
        }
    }

    /// The session's duration, `None` while it runs, believed when both its times are.
    pub fn duration<T>(&self, value: T) -> Believed<T> {
        Believed {
            value,
            believed: self.believes_times(),
        }
    }

    /// The warning that session `id` holds these fields, ending with what the view does with
    /// them (`shown as ?`, `given as null`, `left out`); `None` when it holds none. Times that
    /// a session can have once read as milliseconds are said to be so: a writer that stamps
    /// its events in milliseconds (JavaScript's `Date.now()`) is told why every time is `?`.
    /// The figures come from `meta.json`, or from the events when there is none to believe.
    pub fn warning(&self, id: &str, done: &str) -> Option<String> {
        // Read as milliseconds, a time after 2001 (as every agent's session is), and before
        // the end of the times believed: a forged start in 2128 is no millisecond stamp.
        let in_millis = self.0.iter().any(|(name, value)| {
            matches!(*name, "started_at" | "ended_at")
                && value
                    .parse::<f64>()
                    .is_ok_and(|t| (1e9..BELIEVABLE_TIMES.end).contains(&(t / 1000.0)))
        });
        let why = if in_millis {
            "its times may be in milliseconds since 1970, where seconds belong"
        } else {
            "its meta.json or events may be damaged or forged"
        };
        (!self.is_empty())
            .then(|| format!("session {id} holds what no session can ({self}): {why}; {done}"))
    }

    /// Of these fields, those among `fields`: the ones a view shows.
    #[must_use]
    pub fn only(mut self, fields: &[&str]) -> Unbelievable {
        self.0.retain(|(name, _)| fields.contains(name));
        self
    }

    /// Adds `other`'s fields: a figure summed over several sessions is believed only when
    /// every session's is.
    pub fn extend(&mut self, other: Unbelievable) {
        for field in other.0 {
            if !self.0.contains(&field) {
                self.0.push(field);
            }
        }
    }
}

/// The fields and their values, `started_at -620000000000.0, tool_calls 9223372036854775807`,
/// as a warning names them.
impl std::fmt::Display for Unbelievable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name} {value}")?;
        }
        Ok(())
    }
}

/// A figure from `meta.json` with whether a real session can hold it. JSON gives one that
/// cannot as `null`, and text views show it as unknown (`render::terminal::believed`), so
/// that no view prints a damaged or forged figure as if it were true.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Believed<T> {
    /// As recorded, believed or not: to sort and filter by, never to show unless `believed`.
    pub value: T,
    pub believed: bool,
}

/// Nothing yet, believed: a sum to add figures to.
impl<T: Default> Default for Believed<T> {
    fn default() -> Self {
        Believed {
            value: T::default(),
            believed: true,
        }
    }
}

impl<T> Believed<T> {
    /// The value, when it is believed.
    pub fn known(self) -> Option<T> {
        self.believed.then_some(self.value)
    }

    /// The value changed by `f`, believed as this one is.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Believed<U> {
        Believed {
            value: f(self.value),
            believed: self.believed,
        }
    }
}

impl<T: serde::Serialize> serde::Serialize for Believed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.believed {
            self.value.serialize(serializer)
        } else {
            serializer.serialize_none()
        }
    }
}

/// The times (seconds since the epoch) a session's start and end are believed in: from 1970 to
/// the start of 2100. Every time in it is drawn in the same sixteen characters
/// (`2026-01-05 09:30`).
pub const BELIEVABLE_TIMES: std::ops::Range<f64> = 0.0..4_102_444_800.0;
/// `timestamp` (seconds since the epoch), when it is one a session can have
/// ([`BELIEVABLE_TIMES`]): an event stamped `1e308` or in the year -31 million happened at no
/// time a reader can show, and is placed by the events around it.
pub fn believed_time(timestamp: f64) -> Option<f64> {
    Some(timestamp).filter(|t| BELIEVABLE_TIMES.contains(t))
}

/// The time an event stamped `timestamp` is placed at, events taken in file order: its own
/// when believed ([`believed_time`]), else that of the event before it (`before`, which this
/// updates), so that an event at an unknown time stands where it stands in the file; `None`
/// while no event before it had a time. Every view that puts events in time order places them
/// so: `1e308` sorted last in `replay` and ended an exported trace in the year 2554.
pub fn placed_time(timestamp: f64, before: &mut Option<f64>) -> Option<f64> {
    let at = believed_time(timestamp).or(*before);
    *before = at;
    at
}

/// The longest a session is believed to have run: 10,000 hours (over a year), the longest a
/// duration column draws in nine characters (`9999h 59m`).
pub const BELIEVABLE_DURATION_SECS: f64 = 36_000_000.0;
/// An event's `duration_ms` (a call's, a response's), when it is one a call can take: not
/// negative, not past [`BELIEVABLE_DURATION_SECS`], a number. Any other (a hostile or damaged
/// line's `-5000`, `1e308`) is no duration at all: it was shown as `0ms`, and as a call of
/// 5124095576030431 hours, and a tool's total of such a call as `0ms`.
pub fn believed_duration_ms(ms: Option<f64>) -> Option<f64> {
    ms.filter(|ms| (0.0..=BELIEVABLE_DURATION_SECS * 1000.0).contains(ms))
}

/// The most tool calls, errors or model requests a session is believed to count: a billion,
/// whose events would fill some hundred gigabytes.
pub const BELIEVABLE_COUNT: u64 = 1_000_000_000;
/// The most tokens a session is believed to have used: a trillion (millions of dollars).
pub const BELIEVABLE_TOKENS: u64 = 1_000_000_000_000;

fn put_str(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.into(), value.into());
    }
}

fn put_u64(map: &mut Map<String, Value>, key: &str, value: u64) {
    if value != 0 {
        map.insert(key.into(), value.into());
    }
}

fn take_string(
    map: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, MetaError> {
    match map.shift_remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(MetaError::WrongType(key)),
    }
}

fn take_f64(map: &mut Map<String, Value>, key: &'static str) -> Result<Option<f64>, MetaError> {
    match map.shift_remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(MetaError::WrongType(key)),
        Some(_) => Err(MetaError::WrongType(key)),
    }
}

fn take_u64(map: &mut Map<String, Value>, key: &'static str) -> Result<u64, MetaError> {
    // The Python tool writes counters as ints but has written floats for durations; accept both.
    // An int is read as one: through an f64, 2^63 - 1 would become 2^63.
    match map.get(key) {
        Some(Value::Number(n)) if n.is_u64() => {
            let n = n.as_u64().unwrap_or(0);
            map.shift_remove(key);
            Ok(n)
        }
        // A number that is no count (`-5`, `2.5`) stays in `extra` as it was written, and the
        // count reads 0 and unknown (`SessionMeta::unbelievable`): it read as 0, and a listing
        // said the session made no tool call.
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f < 0.0 || f.fract() != 0.0) => Ok(0),
        _ => Ok(take_f64(map, key)?.map_or(0, |n| n as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session whose log gave no time but its start lasted a time unknown, though its end
    /// reads as its start; its start is believed still.
    #[test]
    fn a_session_timed_at_its_start_only_lasts_no_known_time() {
        let mut meta = SessionMeta::new("s", 1_754_575_331.0);
        meta.ended_at = Some(meta.started_at);
        let doubts = meta.unbelievable();
        assert_eq!(meta.duration_figure(&doubts, 0.0).known(), Some(0.0));
        meta.set_attribution(TIMES, START_ONLY);
        assert!(!meta.end_known());
        assert_eq!(meta.duration_figure(&doubts, 0.0).known(), None);
        assert!(meta.unbelievable().is_empty());
        let read = SessionMeta::from_json(&meta.to_json()).unwrap();
        assert!(!read.end_known());
    }

    /// A session stamped in milliseconds (JavaScript's `Date.now()`) is told so; a forged
    /// start in 2128 or in 1900 is not taken for one.
    #[test]
    fn times_in_milliseconds_are_said_to_be_so() {
        let warning = |start: f64| {
            SessionMeta::new("s", start)
                .unbelievable()
                .warning("s", "shown as ?")
                .unwrap()
        };
        let ms = warning(1_780_000_000_000.0);
        assert!(ms.contains("(started_at 1780000000000.0)"), "{ms}");
        assert!(ms.contains("in milliseconds"), "{ms}");
        for forged in [5_000_000_000.0, -2_208_988_800.0, 1e300] {
            let forged = warning(forged);
            assert!(!forged.contains("milliseconds"), "{forged}");
            assert!(forged.contains("damaged or forged"), "{forged}");
        }
    }

    #[test]
    fn python_meta_reads_and_keeps_unknown_keys() {
        let text = r#"{"session_id":"abc","started_at":1.5,"ended_at":3.0,"agent_name":"claude-code",
            "tool_calls":2,"errors":1,"total_duration_ms":1500.0,"attribution":{"os_user":"root"}}"#;
        let meta = SessionMeta::from_json(text).unwrap();
        assert_eq!(meta.tool_calls, 2);
        assert_eq!(meta.duration_secs(), Some(1.5));
        assert_eq!(meta.extra["attribution"]["os_user"], "root");
        let again = SessionMeta::from_json(&meta.to_json()).unwrap();
        assert_eq!(again, meta);
    }

    /// An end the events run past moves to the last event, the duration with it; an end no
    /// event passes, and an end no session can have, stay as they are.
    #[test]
    fn an_end_the_events_run_past_moves_to_the_last_event() {
        let t = 1_780_000_000.0;
        let ended = |end: f64| SessionMeta {
            ended_at: Some(end),
            total_duration_ms: (end - t) * 1000.0,
            ..SessionMeta::new("s", t)
        };
        let mut past = ended(t + 10.0);
        past.end_at_events(Some(t + 400.0), true);
        assert_eq!(
            (past.ended_at, past.total_duration_ms),
            (Some(t + 400.0), 400_000.0)
        );
        assert_eq!(past.duration_secs(), Some(400.0));
        // The Python tool's end, stamped just before its session_end event.
        let mut stamped = ended(t + 10.0);
        stamped.end_at_events(Some(t + 10.000_007), true);
        assert_eq!(stamped, ended(t + 10.0));
        let mut idle = ended(t + 900.0);
        idle.end_at_events(Some(t + 400.0), true);
        assert_eq!(idle, ended(t + 900.0));
        // An end before the start is none a session can have: views show it as unknown.
        let mut before = ended(t - 10.0);
        before.end_at_events(Some(t + 400.0), true);
        assert_eq!(before, ended(t - 10.0));
        // No end in meta: the events' end, when they end the session.
        let mut running = SessionMeta::new("s", t);
        running.end_at_events(Some(t + 400.0), false);
        assert_eq!(running, SessionMeta::new("s", t));
        let mut ended_by_events = SessionMeta::new("s", t);
        ended_by_events.end_at_events(Some(t + 400.0), true);
        assert_eq!(ended_by_events.duration_secs(), Some(400.0));
    }

    #[test]
    fn zero_and_empty_fields_are_left_out() {
        let json = SessionMeta::new("s", 1.0).to_json();
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 2);
    }

    #[test]
    fn the_title_lives_in_attribution_beside_what_is_there() {
        let mut meta = SessionMeta::from_json(
            r#"{"session_id":"s","started_at":1,"attribution":{"os_user":"me"}}"#,
        )
        .unwrap();
        assert_eq!(meta.title(), None);
        meta.set_attribution(TITLE, "Fix the login bug");
        let again = SessionMeta::from_json(&meta.to_json()).unwrap();
        assert_eq!(again.title(), Some("Fix the login bug"));
        assert_eq!(again.attribution("os_user"), Some("me"));
    }

    #[test]
    fn what_no_session_can_hold_is_named() {
        let mut meta = SessionMeta::new("s", 1_767_571_200.0);
        meta.ended_at = Some(1_767_571_200.0 + 3600.0);
        meta.tool_calls = BELIEVABLE_COUNT;
        assert!(meta.unbelievable().is_empty());
        let names = |meta: &SessionMeta| -> Vec<&str> {
            meta.unbelievable()
                .0
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        meta.started_at = -620_000_000_000.0;
        meta.tool_calls = u64::MAX;
        assert_eq!(
            meta.unbelievable().0,
            [
                ("started_at", "-620000000000.0".to_owned()),
                ("tool_calls", u64::MAX.to_string())
            ]
        );
        meta.started_at = 1_767_571_200.0;
        meta.ended_at = Some(1_767_571_200.0 + BELIEVABLE_DURATION_SECS + 1.0);
        meta.total_tokens = u64::MAX;
        assert_eq!(names(&meta), ["ended_at", "tool_calls", "total_tokens"]);
        meta.ended_at = Some(1_767_571_200.0 - 1.0);
        assert_eq!(names(&meta), ["ended_at", "tool_calls", "total_tokens"]);
    }

    #[test]
    fn a_count_that_is_no_count_is_unknown_and_kept_as_written() {
        let text = r#"{"session_id":"s","started_at":1767571200.0,"tool_calls":-5,"errors":2.5,"llm_requests":3.0}"#;
        let mut meta = SessionMeta::from_json(text).unwrap();
        assert_eq!((meta.tool_calls, meta.errors, meta.llm_requests), (0, 0, 3));
        assert_eq!(
            meta.unbelievable().0,
            [
                ("tool_calls", "-5".to_owned()),
                ("errors", "2.5".to_owned())
            ]
        );
        let again: Value = serde_json::from_str(&meta.to_json()).unwrap();
        assert_eq!(
            (&again["tool_calls"], &again["errors"]),
            (&Value::from(-5), &Value::from(2.5))
        );
        // Counted since, it is believed, and written as counted.
        meta.tool_calls = 4;
        assert_eq!(meta.unbelievable().0, [("errors", "2.5".to_owned())]);
        let again: Value = serde_json::from_str(&meta.to_json()).unwrap();
        assert_eq!(again["tool_calls"], 4);
    }

    /// A view keeps of the keys of no field what fits in [`EXTRA_TO_READ`] bytes,
    /// `attribution` first and, when it is larger, its own keys that fit; a writer keeps
    /// every key, in the order written.
    #[test]
    fn a_view_keeps_what_fits_and_a_writer_keeps_everything() {
        let ancestry = vec!["p"; EXTRA_TO_READ];
        let text = serde_json::json!({
            "session_id": "s", "started_at": 1.5, "tool_calls": -5, "note": "kept",
            "big": ancestry, "attribution": {"process_ancestry": ancestry, "title": "T"},
        })
        .to_string();
        let whole = SessionMeta::from_json(&text).unwrap();
        let keys: Vec<&str> = whole.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["tool_calls", "note", "big", "attribution"]);
        assert_eq!(
            whole.extra["attribution"]["process_ancestry"],
            json_of(&ancestry)
        );
        let read = SessionMeta::from_json_to_read(&text).unwrap();
        let keys: Vec<&str> = read.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["tool_calls", "note", "attribution"]);
        assert_eq!(read.extra["attribution"], serde_json::json!({"title": "T"}));
        assert_eq!((read.started_at, read.title()), (1.5, Some("T")));
        assert_eq!(read.unbelievable().0, [("tool_calls", "-5".to_owned())]);
        // What fits is read as the whole is.
        let small = r#"{"session_id":"s","started_at":1,"b":[1],"attribution":{"a":"x"},"b":2}"#;
        assert_eq!(
            SessionMeta::from_json_to_read(small).unwrap(),
            SessionMeta::from_json(small).unwrap()
        );
        assert_eq!(SessionMeta::from_json(small).unwrap().extra["b"], 2);
    }

    /// A view counts what it left out; a writer holds it and writes it back as it was
    /// written, beside what it changed.
    #[test]
    fn a_view_counts_what_it_left_out_and_a_writer_writes_it_back_as_written() {
        let big = serde_json::to_string(&vec!["p"; EXTRA_TO_READ]).unwrap();
        let text = format!(
            r#"{{"session_id":"s","started_at":1.5,"big":{big},
                "attribution":{{"process_ancestry":{big},"title":"T"}}}}"#
        );
        let read = SessionMeta::from_json_to_read(&text).unwrap();
        // `["p","p",…]`: four bytes a name, less the last comma, and the brackets; twice.
        let bytes = 4 * EXTRA_TO_READ + 1;
        assert_eq!(big.len(), bytes);
        assert_eq!(
            read.left_out,
            LeftOut {
                keys: 2,
                bytes: 2 * bytes
            }
        );
        assert!(read.held.is_empty());
        assert!(SessionMeta::from_json(&text).unwrap().left_out.is_none());
        let change = |meta: &mut SessionMeta| {
            meta.tool_calls = 3;
            meta.set_attribution("working_dir", "/w");
        };
        let mut written = SessionMeta::from_json_to_write(&text).unwrap();
        change(&mut written);
        let again = written.to_json();
        assert_eq!(again.matches(big.as_str()).count(), 2, "written as it was");
        let mut expected = SessionMeta::from_json(&text).unwrap();
        change(&mut expected);
        assert_eq!(SessionMeta::from_json(&again).unwrap(), expected);
    }

    fn json_of(strings: &[&str]) -> Value {
        Value::from(strings.to_vec())
    }

    /// A listing keeps of `extra` the strings of `attribution` and the counts written as no
    /// count.
    #[test]
    fn a_listing_keeps_attribution_strings_and_counts_that_are_no_count() {
        let meta = SessionMeta::from_json(
            r#"{"session_id":"s","started_at":1,"errors":2.5,"other":[1,2],
                "attribution":{"title":"T","pids":[1,2],"n":3}}"#,
        )
        .unwrap();
        assert_eq!(
            Value::Object(meta.extra_to_list()),
            serde_json::json!({"errors": 2.5, "attribution": {"title": "T"}})
        );
    }

    #[test]
    fn wrong_types_are_errors() {
        assert!(SessionMeta::from_json(r#"{"session_id":5}"#).is_err());
        assert!(SessionMeta::from_json("[]").is_err());
    }
}
