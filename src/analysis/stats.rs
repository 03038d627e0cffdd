//! Per-tool call counts, durations and errors, built in one streaming pass over events.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::model::answers::AnswerUsages;
use crate::model::copies::Copies;
use crate::model::counters::ModelSide;
use crate::model::file_use::FileUse;
use crate::model::head::Change;
use crate::model::meta::{Believed, believed_duration_ms};
use crate::model::read_pairs::{ReadPairs, ReadSide};
use crate::model::tools::Agent;
use crate::model::touches::{Touch, Touches};
use crate::model::{Counters, Event, EventHead, EventType, ToolOutcome};

/// Figures for one tool.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolStats {
    pub tool: String,
    pub calls: u64,
    /// Calls that failed (refused calls are not among them).
    pub errors: u64,
    /// Calls the user refused or stopped.
    pub rejections: u64,
    /// Results that carried a duration.
    pub timed: u64,
    pub total_ms: f64,
    pub mean_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// Statistics of one session (or, rolled up, of a session tree).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub sessions: Vec<String>,
    pub events: u64,
    /// Of `events`, the copies of events met before ([`crate::model::copies`]: the Python
    /// tool's import of a transcript that repeats its history), which count in no other figure.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub copies: u64,
    /// Wall time: from start to end of a session; for several, the time any of them ran
    /// (overlapping spans counted once). `None` while none has ended; not believed (`null` in
    /// JSON) when a session's start or end is one no session can have.
    pub duration_s: Believed<Option<f64>>,
    pub tool_calls: u64,
    pub tool_results: u64,
    /// Tool calls that failed (refused calls are not among them), and the errors of no call
    /// (an API error that ended a turn).
    pub errors: u64,
    /// Of `errors`, the calls' own: the errors less those of no call, which are the turn's.
    pub tool_errors: u64,
    /// MCP servers the proxy could not launch (their command could not be run): counted in
    /// neither `errors` nor `tool_errors`, as no call or turn of the agent's failed.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub launch_failures: u64,
    /// Errors an MCP proxy recorded of a message of its traffic that is none (a line that is no
    /// JSON-RPC, the server's `-32700` answer to it): counted in neither `errors` nor
    /// `tool_errors`, as no call or turn failed.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub protocol_errors: u64,
    /// Messages an MCP proxy relayed and did not record, its recorder having fallen behind:
    /// a gap in the recording, not an error of a call, a turn or the protocol, so the errors
    /// that say so count in no error figure.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unrecorded_messages: u64,
    /// Times an MCP proxy stopped recording the traffic it went on relaying: gaps in the
    /// recording with no end, counted in no error figure.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub recording_stopped: u64,
    /// Tool calls the user refused or stopped.
    pub rejections: u64,
    /// Model calls, a request and its response once: each session's
    /// [`crate::model::Counters::model_calls`], and the responses the Python tool's import
    /// recorded on its answers.
    pub llm_requests: u64,
    /// The tokens of the responses whose usage is believed.
    pub tokens: u64,
    /// Responses whose recorded usage holds a count no response can have (negative,
    /// fractional, not a number, or counts that add up to over ten billion): their tokens are
    /// unknown, not in `tokens`.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
    /// Prompts a person wrote: typed words or a command. Not the interruptions, notices,
    /// commands' output and compaction summaries agents put in the user's turn, which some
    /// writers (the Python tool's import) record as prompts too.
    pub user_prompts: u64,
    /// Calls that read a file.
    pub reads: u64,
    /// Calls that wrote a file's content.
    pub writes: u64,
    /// Calls that deleted a file or folder (`rm a`), and that moved one (`mv a b`): no writes.
    pub deletes: u64,
    pub moves: u64,
    /// Distinct files read, written, deleted or moved.
    pub files: u64,
    /// Distinct files read.
    pub files_read: u64,
    /// Distinct files written.
    pub files_written: u64,
    /// Distinct files (and folders) deleted, and moved away.
    pub files_deleted: u64,
    pub files_moved: u64,
    pub events_by_type: BTreeMap<String, u64>,
    /// Busiest tools first.
    pub tools: Vec<ToolStats>,
    /// The agents' own logs (a Claude Code transcript) that hold the usage sessions recorded
    /// none of, as hooks never see it: `cost` prices it, while `tokens` and `llm_requests`
    /// count what the store holds, as `list` and `sql` do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usage_logs: Vec<UsageLog>,
}

/// An agent's log holding the usage a session recorded none of.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageLog {
    pub session: String,
    pub path: String,
    /// Model responses it logs.
    pub responses: u64,
    /// Their tokens, every kind.
    pub tokens: u64,
    /// Responses it logs whose usage holds a count no response can have: unknown, left out of
    /// `responses` and `tokens`.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved: u64,
}

#[derive(Default)]
struct ToolAccumulator {
    calls: u64,
    errors: u64,
    rejections: u64,
    durations: Vec<f32>,
    total_ms: f64,
}

/// Folds events into [`Stats`]; feed it one or more sessions, then call [`StatsBuilder::finish`].
#[derive(Default)]
pub struct StatsBuilder {
    sessions: Vec<String>,
    events: u64,
    /// The events met in the current session, to tell a copy of one, and the copies met.
    met: Copies,
    copies: u64,
    /// The start and end of every session that has ended.
    spans: Vec<(f64, f64)>,
    /// Some session's start or end is one no session can have.
    unbelievable_span: bool,
    by_type: HashMap<EventType, u64>,
    tools: HashMap<String, ToolAccumulator>,
    /// Tool names of calls not answered yet, for results that do not repeat the name.
    call_tools: HashMap<String, String>,
    /// Event ids of calls not answered yet, by the agent's id of them (`tool_use_id`, else
    /// `request_id`), for results and errors that name their call only so (the Python tool's
    /// import and proxies), as [`crate::model::links::Links`] pairs them.
    call_ids: HashMap<u64, String>,
    /// Results that name no tool and whose call this builder has not seen (it may be in a part
    /// of the file another builder scanned): parent id, duration, how the call ended.
    unresolved: Vec<(String, Option<f64>, ToolOutcome)>,
    /// The same, of results that name their call by the agent's id of it alone.
    unresolved_ids: Vec<(u64, Option<f64>, ToolOutcome)>,
    rejections: u64,
    /// Errors of no call: the turn's, not a tool's.
    turn_errors: u64,
    /// Errors of a server the MCP proxy could not launch: no call's and no turn's.
    launch_failures: u64,
    /// Errors of the MCP traffic itself: no call's and no turn's.
    protocol_errors: u64,
    /// Errors an MCP proxy's recorder wrote for falling behind, and the messages they count.
    recording_gaps: u64,
    unrecorded_messages: u64,
    recording_stopped: u64,
    /// Paths read, written, deleted and moved away.
    read_paths: HashSet<String>,
    written_paths: HashSet<String>,
    deleted_paths: HashSet<String>,
    moved_paths: HashSet<String>,
    /// Deletions and moves, of file events and of calls with none ([`StatsBuilder::owed`]).
    deletes: u64,
    moves: u64,
    /// Of the `file_write` events, those that deleted or moved their file: no writes.
    removal_events: u64,
    tokens: u64,
    unbelieved_usage: u64,
    /// Prompts a person wrote ([`EventHead::person_prompt`]).
    person_prompts: u64,
    /// The usage answers carried (the Python tool's import), and the responses they started.
    answers: AnswerUsages,
    answer_responses: u64,
    /// The current session's requests and the responses that answer a model call, in file
    /// order, which make its model calls once it is over ([`StatsBuilder::end_session`]): a
    /// response is paired with its request as [`Counters`] pairs them, across the parts a long
    /// session is scanned in.
    model_sides: Vec<ModelSide>,
    /// The current session's `Read` calls that may be one read told twice, in file order,
    /// paired once it is over ([`StatsBuilder::end_session`]) as [`Counters`] pairs them.
    read_sides: Vec<ReadSide>,
    /// Of the tool calls, those that repeat a read told of before: one call with it.
    repeated_reads: u64,
    /// The current session's tool calls, and the results and errors that name the call they
    /// answer.
    calls: u64,
    answered: u64,
    /// The model calls of the sessions over.
    model_calls: u64,
    /// Reads and writes of files that calls touched with no file event of theirs
    /// ([`StatsBuilder::owed`]).
    owed_reads: u64,
    owed_writes: u64,
}

impl StatsBuilder {
    pub fn new() -> Self {
        StatsBuilder::default()
    }

    /// Starts a session; `span` is its start and end, once it has ended, and whether they are
    /// believed.
    pub fn session(&mut self, id: &str, span: Believed<Option<(f64, f64)>>) {
        self.end_session();
        self.sessions.push(id.to_owned());
        self.unbelievable_span |= !span.believed;
        if let Some((start, end)) = span.value.filter(|(s, e)| s.is_finite() && e.is_finite()) {
            self.spans.push((start, end.max(start)));
        }
        self.resolve();
        self.call_tools.clear();
        self.call_ids.clear();
        self.answers = AnswerUsages::default();
        self.met = Copies::default();
    }

    /// Counts the model calls of the session folded so far, as [`Counters`] counts them.
    fn end_session(&mut self) {
        let mut calls = Counters::default();
        for side in std::mem::take(&mut self.model_sides) {
            calls.count_model_side(side);
        }
        self.model_calls += calls.model_calls();
        let mut reads = ReadPairs::default();
        let repeats = std::mem::take(&mut self.read_sides)
            .into_iter()
            .filter(|side| reads.repeats(*side))
            .count() as u64;
        if repeats > 0 {
            self.repeated_reads += repeats;
            let read = self.tool("Read");
            read.calls = read.calls.saturating_sub(repeats);
        }
        self.calls = 0;
        self.answered = 0;
    }

    /// Whether the current session made more tool calls than results answered: then some call
    /// may have no result, and its files count too ([`unanswered_files`]).
    pub fn may_leave_calls_open(&self) -> bool {
        self.calls > self.answered
    }

    /// Folds in a builder that scanned a later part of the same session. A copy in its part
    /// of an event in this one is not told (a session holding copies is scanned in one part).
    pub fn merge(&mut self, other: StatsBuilder) {
        self.events += other.events;
        self.copies += other.copies;
        self.model_sides.extend(other.model_sides);
        self.read_sides.extend(other.read_sides);
        self.repeated_reads += other.repeated_reads;
        self.calls += other.calls;
        self.answered += other.answered;
        self.model_calls += other.model_calls;
        for (kind, n) in other.by_type {
            *self.by_type.entry(kind).or_default() += n;
        }
        for (name, acc) in other.tools {
            let mine = self.tool(&name);
            mine.calls += acc.calls;
            mine.errors += acc.errors;
            mine.rejections += acc.rejections;
            mine.total_ms += acc.total_ms;
            mine.durations.extend(acc.durations);
        }
        self.call_tools.extend(other.call_tools);
        self.call_ids.extend(other.call_ids);
        self.unresolved.extend(other.unresolved);
        self.unresolved_ids.extend(other.unresolved_ids);
        self.rejections += other.rejections;
        self.turn_errors += other.turn_errors;
        self.launch_failures += other.launch_failures;
        self.protocol_errors += other.protocol_errors;
        self.recording_gaps += other.recording_gaps;
        self.unrecorded_messages += other.unrecorded_messages;
        self.recording_stopped += other.recording_stopped;
        self.read_paths.extend(other.read_paths);
        self.written_paths.extend(other.written_paths);
        self.deleted_paths.extend(other.deleted_paths);
        self.moved_paths.extend(other.moved_paths);
        self.deletes += other.deletes;
        self.moves += other.moves;
        self.removal_events += other.removal_events;
        self.owed_reads += other.owed_reads;
        self.owed_writes += other.owed_writes;
        self.tokens = self.tokens.saturating_add(other.tokens);
        self.unbelieved_usage += other.unbelieved_usage;
        self.person_prompts += other.person_prompts;
        let (over, responses) = self.answers.merge(other.answers);
        self.tokens = self.tokens.saturating_sub(over.total());
        self.answer_responses =
            (self.answer_responses + other.answer_responses).saturating_sub(responses);
    }

    /// Attributes the results that named no tool to their calls, where those are known now.
    fn resolve(&mut self) {
        for (key, duration, outcome) in std::mem::take(&mut self.unresolved_ids) {
            if let Some(parent) = self.call_ids.remove(&key) {
                self.unresolved.push((parent, duration, outcome));
            }
        }
        for (parent, duration, outcome) in std::mem::take(&mut self.unresolved) {
            if let Some(tool) = self.call_tools.get(&parent).cloned() {
                self.record_result(&tool, duration, outcome);
            }
        }
    }

    fn record_result(&mut self, tool: &str, duration: Option<f64>, outcome: ToolOutcome) {
        let entry = self.tool(tool);
        match outcome {
            ToolOutcome::Failed => entry.errors += 1,
            ToolOutcome::Rejected => entry.rejections += 1,
            ToolOutcome::Ok => {}
        }
        if let Some(ms) = believed_duration_ms(duration) {
            entry.durations.push(ms as f32);
            entry.total_ms += ms;
        }
    }

    pub fn observe(&mut self, event: &EventHead<'_>) {
        self.events += 1;
        // A copy of an event met before counts only as an event.
        if self.met.is_copy(event) {
            self.copies += 1;
            return;
        }
        let kind = event.kind();
        if event.unbelieved_usage() {
            self.unbelieved_usage += 1;
        }
        if event.person_prompt() {
            self.person_prompts += 1;
        }
        match kind {
            EventType::ToolCall => {
                let tool = event.tool_name().unwrap_or("unknown");
                self.tool(tool).calls += 1;
                self.calls += 1;
                self.read_sides.extend(ReadSide::of(event));
                if let Some(id) = &event.event_id {
                    let tool = tool.to_owned();
                    self.call_tools.insert(id.to_string(), tool);
                    if let Some(key) = agent_id(event) {
                        // A session whose results never name their call by this id does not
                        // grow the map without end.
                        if self.call_ids.len() >= OPEN_KEPT {
                            self.call_ids.clear();
                        }
                        self.call_ids.insert(key, id.to_string());
                    }
                }
            }
            EventType::Error if event.launch_failure() => self.launch_failures += 1,
            EventType::Error if event.protocol_error() => self.protocol_errors += 1,
            EventType::Error if let Some(n) = event.unrecorded() => {
                self.recording_gaps += 1;
                self.unrecorded_messages = self.unrecorded_messages.saturating_add(n);
                self.recording_stopped += u64::from(event.recording_stopped());
            }
            EventType::ToolResult | EventType::Error => {
                let outcome = event.outcome().unwrap_or(ToolOutcome::Ok);
                if outcome == ToolOutcome::Rejected {
                    self.rejections += 1;
                }
                if event.turn_error() {
                    self.turn_errors += 1;
                }
                // The call it answers: its `parent_id`, else the call the agent's id of it names.
                let key = agent_id(event);
                let by_id = key.and_then(|k| self.call_ids.remove(&k));
                // What names no call answers none (Cursor's afterFileEdit stands alone).
                if event.parent_id.is_some() || event.data.tool_use_id.text || by_id.is_some() {
                    self.answered += 1;
                }
                let parent = event.parent_id.as_deref().map(str::to_owned).or(by_id);
                // A call is answered once: forgetting it here keeps the map to open calls, so
                // memory stays flat however long the session is.
                let call_tool = parent.as_ref().and_then(|p| self.call_tools.remove(p));
                let tool = event.tool_name().map(str::to_owned).or(call_tool);
                match (tool, parent, key) {
                    (Some(tool), _, _) => self.record_result(&tool, event.duration_ms, outcome),
                    (None, Some(parent), _) => {
                        self.unresolved.push((parent, event.duration_ms, outcome));
                    }
                    (None, None, Some(key)) => {
                        self.unresolved_ids.push((key, event.duration_ms, outcome));
                    }
                    // An error with no tool and no call (an agent-level failure) counts only
                    // as an error.
                    (None, None, None) => {}
                }
            }
            EventType::LlmRequest => self.model_sides.extend(ModelSide::of(event)),
            EventType::LlmResponse => {
                self.tokens = self.tokens.saturating_add(event.tokens());
                self.model_sides.extend(ModelSide::of(event));
            }
            // The Python tool's import records a response's usage on its answer.
            EventType::AssistantResponse => {
                if let Some(answer) = self.answers.of_head(event) {
                    self.tokens = self.tokens.saturating_add(answer.tokens.total());
                    self.answer_responses += u64::from(answer.first);
                }
            }
            EventType::FileRead | EventType::FileWrite => {
                let paths = match (&kind, event.data.change) {
                    (EventType::FileRead, _) => &mut self.read_paths,
                    (_, Change::Write) => &mut self.written_paths,
                    (_, Change::Delete) => {
                        self.deletes += 1;
                        self.removal_events += 1;
                        &mut self.deleted_paths
                    }
                    (_, Change::Move) => {
                        self.moves += 1;
                        self.removal_events += 1;
                        &mut self.moved_paths
                    }
                };
                if let Some(path) = event.file()
                    && !paths.contains(path)
                {
                    paths.insert(path.to_owned());
                }
            }
            _ => {}
        }
        *self.by_type.entry(kind).or_default() += 1;
    }

    /// Counts the files that calls touched for certain with no file event of theirs (see
    /// [`owed_files`]), each a read, a write, a deletion or a move of it.
    pub fn owed(&mut self, touched: impl IntoIterator<Item = Touch>) {
        for (path, file_use) in touched {
            let (count, paths) = match file_use {
                FileUse::Read => (&mut self.owed_reads, &mut self.read_paths),
                FileUse::Write => (&mut self.owed_writes, &mut self.written_paths),
                FileUse::Delete => (&mut self.deletes, &mut self.deleted_paths),
                FileUse::Move(_) => (&mut self.moves, &mut self.moved_paths),
            };
            *count += 1;
            paths.insert(path);
        }
    }

    /// The accumulator of a tool, allocating its name only the first time it is seen.
    fn tool(&mut self, name: &str) -> &mut ToolAccumulator {
        if !self.tools.contains_key(name) {
            self.tools
                .insert(name.to_owned(), ToolAccumulator::default());
        }
        self.tools.get_mut(name).expect("inserted above")
    }

    pub fn finish(mut self) -> Stats {
        self.resolve();
        self.end_session();
        let count = |kind: EventType| self.by_type.get(&kind).copied().unwrap_or(0);
        let mut tools: Vec<ToolStats> = self
            .tools
            .into_iter()
            .map(|(tool, mut acc)| {
                acc.durations.sort_by(f32::total_cmp);
                let timed = acc.durations.len() as u64;
                ToolStats {
                    tool,
                    calls: acc.calls,
                    errors: acc.errors,
                    rejections: acc.rejections,
                    timed,
                    total_ms: micros(acc.total_ms),
                    mean_ms: (timed > 0).then(|| micros(acc.total_ms / timed as f64)),
                    p95_ms: percentile(&acc.durations, 95).map(micros),
                }
            })
            .collect();
        tools.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.tool.cmp(&b.tool)));
        let changed = [&self.written_paths, &self.deleted_paths, &self.moved_paths];
        let mut files: HashSet<&String> = self.read_paths.iter().collect();
        files.extend(changed.into_iter().flatten());
        let files = files.len() as u64;
        Stats {
            events: self.events,
            copies: self.copies,
            duration_s: Believed {
                value: (!self.spans.is_empty())
                    .then(|| crate::model::seconds::to_millis(wall_time(&mut self.spans))),
                believed: !self.unbelievable_span,
            },
            tool_calls: count(EventType::ToolCall).saturating_sub(self.repeated_reads),
            tool_results: count(EventType::ToolResult),
            errors: count(EventType::Error)
                .saturating_sub(self.launch_failures)
                .saturating_sub(self.protocol_errors)
                .saturating_sub(self.recording_gaps)
                .saturating_sub(self.rejections),
            tool_errors: count(EventType::Error)
                .saturating_sub(self.launch_failures)
                .saturating_sub(self.protocol_errors)
                .saturating_sub(self.recording_gaps)
                .saturating_sub(self.rejections)
                .saturating_sub(self.turn_errors),
            launch_failures: self.launch_failures,
            protocol_errors: self.protocol_errors,
            unrecorded_messages: self.unrecorded_messages,
            recording_stopped: self.recording_stopped,
            rejections: self.rejections,
            llm_requests: self.model_calls + self.answer_responses,
            tokens: self.tokens,
            unbelieved_usage: self.unbelieved_usage,
            user_prompts: self.person_prompts,
            reads: count(EventType::FileRead) + self.owed_reads,
            writes: count(EventType::FileWrite).saturating_sub(self.removal_events)
                + self.owed_writes,
            deletes: self.deletes,
            moves: self.moves,
            files,
            files_read: self.read_paths.len() as u64,
            files_written: self.written_paths.len() as u64,
            files_deleted: self.deleted_paths.len() as u64,
            files_moved: self.moved_paths.len() as u64,
            events_by_type: self
                .by_type
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            tools,
            sessions: self.sessions,
            usage_logs: Vec::new(),
        }
    }
}

/// Calls waiting for a result that names them by the agent's id alone, at most (as
/// [`crate::model::links::Links`] keeps them).
const OPEN_KEPT: usize = 1024;

/// The hash of the agent's id of the call an event is or answers: its `tool_use_id`, else its
/// `request_id` (a JSON-RPC id), as [`crate::model::links::Links`] reads them.
fn agent_id(event: &EventHead<'_>) -> Option<u64> {
    event.data.tool_use_id.hash.or(event.data.request_id.hash)
}

/// The files a session's calls touched that no file event of theirs names, in order
/// ([`Touches`]): those of a session another tool recorded (the Python tool's hooks and import
/// write no file event), and those of calls no result answered, counted as `explain`, `sql`
/// and `lint` count them.
pub fn owed_files(events: impl IntoIterator<Item = Event>, agent: Agent) -> Vec<Touch> {
    let mut touches = Touches::default();
    let mut owed = Vec::new();
    let mut met = Copies::default();
    for event in events {
        if met.is_copy(&EventHead::of(&event)) {
            continue;
        }
        owed.extend(touches.observe_owed(&event, agent));
    }
    owed.extend(touches.at_end());
    owed
}

/// Of [`owed_files`], those of the calls no result answered: what our recorders' file events,
/// written after a result, leave out.
pub fn unanswered_files(events: impl IntoIterator<Item = Event>, agent: Agent) -> Vec<Touch> {
    let mut touches = Touches::default();
    let mut met = Copies::default();
    for event in events {
        if !met.is_copy(&EventHead::of(&event)) {
            touches.observe_owed(&event, agent);
        }
    }
    let mut pending: Vec<Touch> = touches.pending().map(|(_, t)| t.clone()).collect();
    pending.sort();
    pending
}

/// The time covered by any of `spans`: overlapping sessions (a subagent runs inside its
/// parent) count once.
fn wall_time(spans: &mut [(f64, f64)]) -> f64 {
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for &(start, end) in spans.iter() {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((s, e)) = current {
        total += e - s;
    }
    total
}

/// Rounded to the microsecond: durations are recorded in milliseconds with at most that
/// precision, and the digits past it are float noise that would depend on summation order.
fn micros(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f32], pct: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    Some(f64::from(sorted[rank - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(
        kind: EventType,
        id: &str,
        parent: Option<&str>,
        ms: Option<f64>,
        data: Value,
    ) -> Event {
        let mut e = Event::new(kind, 0.0, id.into(), "s".into());
        e.parent_id = parent.map(Into::into);
        e.duration_ms = ms;
        e.data = data;
        e
    }

    fn observe(b: &mut StatsBuilder, e: &Event) {
        b.observe(&EventHead::of(e));
    }

    /// A builder fed the start of session `s`, which ran from 0 to 10 s.
    fn one_session() -> StatsBuilder {
        let mut b = StatsBuilder::new();
        b.session(
            "s",
            Believed {
                value: Some((0.0, 10.0)),
                believed: true,
            },
        );
        b
    }

    #[test]
    fn durations_errors_and_percentiles_per_tool() {
        let mut b = one_session();
        for i in 0..20 {
            let id = format!("c{i}");
            observe(
                &mut b,
                &event(
                    EventType::ToolCall,
                    &id,
                    None,
                    None,
                    json!({"tool_name": "Bash"}),
                ),
            );
            let kind = if i == 0 {
                EventType::Error
            } else {
                EventType::ToolResult
            };
            // Results without a tool name are attributed through their call.
            observe(
                &mut b,
                &event(
                    kind,
                    &format!("r{i}"),
                    Some(&id),
                    Some(f64::from(i + 1) * 10.0),
                    json!({}),
                ),
            );
        }
        observe(
            &mut b,
            &event(
                EventType::ToolCall,
                "x",
                None,
                None,
                json!({"tool_name": "Read"}),
            ),
        );
        let stats = b.finish();
        assert_eq!(stats.tool_calls, 21);
        assert_eq!(stats.errors, 1);
        let bash = &stats.tools[0];
        assert_eq!(
            (bash.tool.as_str(), bash.calls, bash.errors, bash.timed),
            ("Bash", 20, 1, 20)
        );
        assert!((bash.total_ms - 2100.0).abs() < 1e-9);
        assert_eq!(bash.mean_ms, Some(105.0));
        assert_eq!(bash.p95_ms, Some(190.0));
        assert_eq!(stats.tools[1].p95_ms, None);
    }

    #[test]
    fn the_p95_is_rounded_as_the_total_and_mean_are() {
        // Durations are kept as f32: 218.9999 read back as 218.99986267089844, which JSON gave
        // whole where the total and mean had three decimals.
        let mut b = one_session();
        let call = event(
            EventType::ToolCall,
            "c",
            None,
            None,
            json!({"tool_name": "Bash"}),
        );
        observe(&mut b, &call);
        let result = event(
            EventType::ToolResult,
            "r",
            Some("c"),
            Some(218.9999),
            json!({}),
        );
        observe(&mut b, &result);
        let stats = b.finish();
        assert_eq!(stats.tools[0].p95_ms, Some(219.0));
        assert_eq!(stats.tools[0].mean_ms, Some(219.0));
    }

    #[test]
    fn nearest_rank() {
        assert_eq!(percentile(&[1.0], 95), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0], 50), Some(1.0));
        assert_eq!(percentile(&[], 95), None);
    }
}
