//! A session's summary folded from its events: the figures listings, reports and the index need
//! without reading the session again.
//!
//! The fold is pure and incremental: a [`Summary`] observes events in file order, and folding a
//! session in two pieces (what was indexed, then what was appended since) gives the same summary
//! as folding it whole. The summary serialises, so the index keeps it and continues from the
//! byte offset it reached. [`SUMMARY_VERSION`] names the fold: a change to what it computes
//! bumps it, and indexes of an older version are rebuilt.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::answers::{AnswerUsage, AnswerUsages};
use super::attempts::{self, Tried, relative_to};
use super::command::{self, Command, Purpose, without_heredoc_bodies};
use super::counters::Counters;
use super::event::{Ending, Event, EventType};
use super::file_use::FileUse;
use super::hash::fnv1a;
use super::head::EventHead;
use super::pricing::{ModelPrice, PriceTable};
use super::tools::{Agent, ToolKind};
use super::touches::Touches;
use super::usage::{Money, Tokens};
use super::view::{ToolCall, ToolResult, View};

/// The version of what [`Summary`] computes (4: retries and decisions, for `drift`; 5: the
/// calls hash, for `sample --deduplicate`; 6: a session's total usage is never long-context;
/// 7: whether the session goes on after its end, which the index's `ended_at` follows; 8: an
/// event stamped past the reader's clock counts in file order for that, [`Ending`]; 9: the
/// earliest such time, so that the index folds the session again once the clock reaches it;
/// 10: a call whose command is a list of words, Codex's older `shell`, is told from another
/// by the line it runs, not by its arguments' JSON or a `local_shell_call`'s `exec`, for
/// retries; 11: a Codex prompt from an IDE is named by the request, not the IDE's context before
/// it; 12: its counters count the errors of no call, an API error that ended a turn, apart;
/// 13: a `file_read` or `file_write` of the Python tool's proxy names its file by `uri`; 14: a
/// usage that holds a token count no response can have is unknown, no usage; 15: the index
/// keeps no duration a call cannot take; 16: the usage of an `assistant_response`, the Python
/// tool's import's, counts once per response; 17: a file tool's call that succeeded with no file event counts
/// its file, the Python tool's; 18: the responses whose usage could not be believed are
/// counted; 19: a Stop hook's feedback, a skill's instructions and a cut notice in the Python
/// tool's import are no prompts; 20: an event on a line with no time, no `timestamp`, `null` or
/// Python's `NaN`, is counted, at an unknown time; 21: a session's LLM requests are its model
/// calls, its responses standing for the requests it did not record, [`Counters::model_calls`],
/// and the files of a call no result answers are touched, [`Touches::pending`]; 22: a copy of an
/// event met before, of the same kind, identity and time, counts once, [`super::copies`], a
/// model call is its requests and the responses no request of it answers,
/// [`super::call_pairs`], and a file Cursor's `preToolUse` and `beforeReadFile` both tell of is
/// read once, [`Touches::repeats`]; 23: that read is one tool call, of its tool and kind, and
/// is one read when its `beforeReadFile` comes after the call's result,
/// [`super::read_pairs`]; 24: the same figures, the sides of those reads written small, so that
/// an index built before is built again in the form a third quicker to read; 25: its counters
/// hold the latest event time a session can have, [`Counters::believed_last`]; 26: a call
/// cancelled because a call beside it failed is no failure a later call retries; 27: an error
/// that names its request by `request_id`, as the Python tool's proxies write one, is its
/// call's, not the turn's, [`EventHead::turn_error`]; 28: an estimate is priced as the model
/// the session's events name, [`Summary::named_model`], unpriced when it has no price; 29: a response's counts written beside
/// its model with no usage object (the Python tool's SDK integrations) are its usage, a
/// response that names no request answers the request just before it, [`super::call_pairs`],
/// and a cache price the table leaves null is the input price; 30: a file deleted or moved is
/// no file written, [`FileCount::deletes`], [`FileCount::moves`]; 31: the error of an MCP
/// server the proxy could not launch is no error of a call or a turn,
/// [`EventHead::launch_failure`]; 32: a file a Codex patch deletes or moves, and one Cursor's
/// `Delete` tool deletes, is no file written, [`crate::model::tools::patch_changes`]; 33: an
/// end in another tool's `meta.json` that its events run past, or none there though they end
/// the session, is their last time, [`super::SessionMeta::end_at_events`]; 34: a retry is an
/// attempt at a goal whose last attempt failed, judged as `explain` judges it,
/// [`super::attempts`]; 35: an answer the hook recorded after the session's end leaves the
/// session ended, [`EventHead::is_late_answer`]; 37: an error of a message of an MCP proxy's
/// traffic that is none is no error of a call or a turn, [`EventHead::protocol_error`]; 38:
/// the error an MCP proxy's recorder writes for falling behind is a gap in the recording, no
/// error of a call, a turn or the protocol, [`EventHead::unrecorded`]; 39: a session's row
/// keeps of the keys of `meta.json` with no column only those a listing reads,
/// [`super::SessionMeta::extra_to_list`]; 40: the estimate of a session whose agent runs only
/// its own vendor's models and whose events name none is priced as no model, [`estimate_as`];
/// 41: the error an MCP proxy writes when it stops recording is a gap in the recording too,
/// [`EventHead::recording_stopped`]).
pub const SUMMARY_VERSION: u32 = 41;

/// The model sessions without recorded usage are priced as when none of their events names
/// one and their agent may run it ([`estimate_as`]): the cost analysis's default.
pub const ESTIMATE_AS: &str = "sonnet";

/// What an estimate is filed under when no model prices it: the name a response that names no
/// model is counted under, which no price matches.
pub const NO_MODEL: &str = "unknown";

/// The model a session of `agent` that recorded no usage, and whose events name no model, is
/// estimated as: [`ESTIMATE_AS`], a Claude model, for an agent that may run one (Claude Code,
/// and the agents that run several vendors' models); none for an agent that runs only its own
/// vendor's (Codex CLI, OpenAI's; Gemini CLI, Google's), whose estimate then has no price: a
/// Claude model's price for an older Codex rollout was no price of anything it ran.
pub fn estimate_as(agent: Agent) -> Option<&'static str> {
    match agent {
        Agent::Codex | Agent::GeminiCli => None,
        _ => Some(ESTIMATE_AS),
    }
}

/// Usage of one model in a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelUsage {
    pub responses: u64,
    pub tokens: Tokens,
    /// Of `tokens`, what responses priced at long-context rates used
    /// ([`super::view::LlmResponse::long_context`]).
    pub long_context: Tokens,
}

/// How often a session read, wrote, deleted and moved one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCount {
    pub reads: u64,
    /// Its content written ([`FileUse::Write`]).
    pub writes: u64,
    #[serde(default)]
    pub deletes: u64,
    /// Moved elsewhere ([`FileUse::Move`]).
    #[serde(default)]
    pub moves: u64,
}

/// What a session did, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The counters `meta.json` shows (events, tool calls, errors, tokens, first and last time).
    pub counters: Counters,
    /// How many prompts a person wrote (typed words or commands; not what the agent added to
    /// the user's turn, see [`super::prompt`]).
    pub prompts: u64,
    /// The first prompt a person wrote, as they wrote it.
    pub first_prompt: Option<String>,
    /// Recorded usage by model.
    pub models: BTreeMap<String, ModelUsage>,
    /// Responses whose recorded usage holds a count no response can have
    /// ([`super::view::unbelieved_usage`]): not in `models`, their tokens unknown.
    #[serde(default)]
    pub unbelieved_usage: u64,
    /// Tool calls by tool name.
    pub tools: BTreeMap<String, u64>,
    /// Tool calls by what the tool does ([`ToolKind::as_str`]).
    pub kinds: BTreeMap<String, u64>,
    /// Files named by `file_read` and `file_write` events, and by calls that succeeded with no
    /// such event after them ([`Touches`]); the last call's, and those of calls no result has
    /// answered, are in [`Summary::files_touched`].
    pub files: BTreeMap<String, FileCount>,
    /// Usage estimated from payload sizes (four characters a token), for sessions that
    /// recorded none.
    pub estimate: Tokens,
    /// The model the session's events last named ([`View::names_model`]): what its estimate
    /// is priced as.
    #[serde(default)]
    pub named_model: Option<String>,
    /// The session's agent runs only its own vendor's models ([`estimate_as`]): with no model
    /// named, its estimate is priced as none.
    #[serde(default)]
    pub own_vendor_only: bool,
    /// The agent's transcript a hook-recorded session names in its `session_start`.
    pub transcript_path: Option<String>,
    /// Retries: attempts at a goal whose last attempt failed (the same tests after a fix, one
    /// commit its hook blocked after another), counted as `explain` counts them
    /// ([`super::attempts`]).
    #[serde(default)]
    pub retries: u64,
    /// `decision` events (choices, hook events, reasoning, compactions).
    #[serde(default)]
    pub decisions: u64,
    /// What retries are recognised by, kept so that a fold continued later still sees a retry
    /// across the two pieces.
    #[serde(default)]
    pub retry_state: RetryState,
    /// A hash of every tool call in order (tool and arguments): equal for sessions that made
    /// the same calls, so `sample --deduplicate` keeps one of them.
    #[serde(default)]
    pub calls_hash: u64,
    /// The session recorded its end, and its latest event (by time, [`Ending`]) is not an
    /// end: an agent resumed it under the same id (Claude Code's `--resume` does), so it is
    /// not over. Events recorded late, after the end in the file but earlier in time (a
    /// proxy's kept batch), do not reopen it.
    #[serde(default)]
    pub resumed_after_end: bool,
    /// Whether the events folded so far end the session, kept so that a fold continued later
    /// goes on from it.
    #[serde(default)]
    pub ending: Ending,
    /// The responses whose usage answers carried, to count each once ([`AnswerUsages`]).
    #[serde(default)]
    pub answers: AnswerUsages,
    /// The file calls waiting for their results, to count the files they touch
    /// ([`Touches`]).
    #[serde(default)]
    pub touches: Touches,
}

/// What folding one event found besides the summary's figures, for the index's rows of calls
/// and responses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed<'e> {
    /// The call a result or error answers, as [`super::links::Links`] tells it: its `parent_id`,
    /// else the call its agent's id names (the Python tool's import links no result by
    /// `parent_id`).
    pub answers: Option<Cow<'e, str>>,
    /// The usage an `assistant_response` carries (the Python tool's import), as it counts.
    pub usage: Option<AnswerUsage<'e>>,
    /// The event is a copy of one met before ([`super::copies`]): it makes no row of a call
    /// or a response.
    pub copy: bool,
    /// The event is a call that repeats a read told of before ([`super::read_pairs`]): one
    /// call with it, which makes no row of its own.
    pub repeat: bool,
    /// The call whose row this call's takes the place of: the read it repeats, when that one
    /// names no call and is still open (Cursor's `beforeReadFile` before its `preToolUse`),
    /// so that the row is the call its result answers.
    pub replaces: Option<String>,
}

/// What retries are recognised by: the goals whose last attempt failed, and the calls waiting
/// for their results, which judge their attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryState {
    /// The session's folder, which file paths are relative to in a goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The goals (hashed) whose last attempt failed, the latest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<u64>,
    /// The calls not answered yet, the latest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open: Vec<OpenAttempt>,
}

/// A call waiting for its result: its event id, its goal (hashed), and what judging its result
/// reads of its shell command: the command's purpose, and its words (without heredoc bodies)
/// only where a failure is told from an answer by them ([`Purpose::judges_alone`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAttempt {
    pub call: String,
    pub goal: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl RetryState {
    /// A call made: an attempt at its goal, waiting for its result.
    fn called(&mut self, id: &str, tool: &str, call: &ToolCall<'_>) {
        let command = call.command_line();
        let command = command.as_deref().map(without_heredoc_bodies);
        let parsed = command
            .as_deref()
            .map(Command::parse_without_heredoc_bodies);
        let path = call.path().map(|p| relative_to(self.cwd.as_deref(), p));
        let goal = attempts::goal(tool, call, parsed.as_ref(), path.as_deref());
        if self.open.len() == CALLS_KEPT {
            self.open.remove(0);
        }
        let purpose = parsed.map(|parsed| parsed.purpose);
        self.open.push(OpenAttempt {
            call: id.to_owned(),
            goal: fnv1a(goal.as_bytes()),
            purpose,
            command: command
                .filter(|_| purpose == Some(Purpose::Other))
                .map(Cow::into_owned),
        });
    }

    /// The result of the call `id`: whether its attempt was a retry.
    fn answered(&mut self, id: &str, result: &ToolResult<'_>) -> bool {
        let Some(at) = self.open.iter().rposition(|open| open.call == id) else {
            return false;
        };
        let open = self.open.remove(at);
        let verdict = match (open.purpose, open.command.as_deref()) {
            (Some(purpose), _) if purpose.judges_alone(result.outcome) => {
                command::judge_by_purpose(purpose, result.outcome, &attempts::output_text(result))
                    .verdict
            }
            (_, command) => {
                let parsed = command.map(Command::parse_without_heredoc_bodies);
                attempts::judgement(parsed.as_ref(), result).verdict
            }
        };
        let Some(tried) = attempts::tried(result, verdict) else {
            return false;
        };
        let retry = self.failing.contains(&open.goal);
        self.failing.retain(|goal| *goal != open.goal);
        if tried == Tried::Failed {
            if self.failing.len() == FAILING_KEPT {
                self.failing.remove(0);
            }
            self.failing.push(open.goal);
        }
        retry
    }

    /// A call that repeats the read `first` made: its result answers that attempt.
    fn rekey(&mut self, first: &str, id: &str) {
        if let Some(open) = self.open.iter_mut().rfind(|open| open.call == first) {
            id.clone_into(&mut open.call);
        }
    }
}

/// Failing goals remembered: far more than a session works at at once.
const FAILING_KEPT: usize = 64;

/// Calls remembered by id for their results: more than a parallel batch holds.
const CALLS_KEPT: usize = 32;

impl Summary {
    /// Folds one event of a session recorded for `agent`, read at `now` (seconds since the
    /// epoch: an event stamped past it counts in file order for the session's end, [`Ending`]).
    /// Returns what the index writes rows of besides: see [`Observed`].
    pub fn observe<'e>(&mut self, agent: Agent, event: &'e Event, now: f64) -> Observed<'e> {
        let counted = self.counters.observe(&EventHead::of(event));
        self.own_vendor_only = estimate_as(agent).is_none();
        self.ending.observe(event, now);
        self.resumed_after_end = self.counters.ended_at.is_some() && !self.ending.ended();
        // A copy of an event met before ([`super::copies`]) adds to no figure.
        if !counted {
            return Observed {
                copy: true,
                ..Observed::default()
            };
        }
        if event.event_type == EventType::Decision {
            self.decisions += 1;
        }
        let (touched, parent) = self.touches.observe_linked(event, agent);
        for (path, file_use) in touched {
            count_touch(&mut self.files, path, &file_use);
        }
        // A call that repeats a read is that read's call, counted once (`read_pairs`).
        let repeat = self.counters.repeated_read;
        if super::view::unbelieved_usage(event) {
            self.unbelieved_usage += 1;
        }
        let mut observed = Observed {
            answers: matches!(event.event_type, EventType::ToolResult | EventType::Error)
                .then_some(parent)
                .flatten(),
            usage: None,
            copy: false,
            repeat: false,
            replaces: None,
        };
        let view = View::of(event, agent);
        if let Some(model) = view.names_model()
            && self.named_model.as_deref() != Some(model)
        {
            self.named_model = Some(model.to_owned());
        }
        if let View::SessionStart(start) = &view
            && self.retry_state.cwd.is_none()
        {
            self.retry_state.cwd = start.cwd.map(|c| c.trim_end_matches('/').to_owned());
        }
        match &view {
            View::ToolCall(call) if repeat => {
                let first = self.touches.repeated(&event.event_id);
                match first {
                    Some(first) if call.tool_use_id.is_some_and(|id| !id.is_empty()) => {
                        // Its result answers the first call's attempt.
                        self.retry_state.rekey(first, &event.event_id);
                        observed.replaces = Some(first.to_owned());
                    }
                    _ => observed.repeat = true,
                }
            }
            View::SessionStart(start)
                if self.transcript_path.is_none() && start.source != Some("import") =>
            {
                self.transcript_path = start.transcript_path.map(str::to_owned);
            }
            View::Prompt(prompt) => {
                let prompt = prompt.prompt();
                if prompt.by_person() {
                    if self.prompts == 0 {
                        self.first_prompt = Some(prompt.text.into_owned());
                    }
                    self.prompts += 1;
                }
            }
            View::ToolCall(call) => {
                let tool = if call.tool.is_empty() {
                    "unknown"
                } else {
                    call.tool
                };
                *self.tools.entry(tool.to_owned()).or_default() += 1;
                *self.kinds.entry(call.kind.as_str().to_owned()).or_default() += 1;
                let signature = fnv1a(call.signature().as_bytes());
                let mut chained = self.calls_hash.to_le_bytes().to_vec();
                chained.extend_from_slice(&signature.to_le_bytes());
                self.calls_hash = fnv1a(&chained);
                self.retry_state.called(&event.event_id, tool, call);
            }
            View::ToolResult(result) => {
                if let Some(call) = observed.answers.as_deref()
                    && self.retry_state.answered(call, result)
                {
                    self.retries += 1;
                }
            }
            // The Python tool's import records a response's usage on its answer.
            View::Answer(_) => {
                observed.usage = self.answers.of_event(event);
                if let Some(answer) = observed.usage {
                    let entry = self
                        .models
                        .entry(answer.model.unwrap_or("unknown").to_owned())
                        .or_default();
                    entry.responses += u64::from(answer.first);
                    entry.tokens.add(&answer.tokens);
                    if answer.long_context {
                        entry.long_context.add(&answer.tokens);
                    }
                }
            }
            View::LlmResponse(response) => {
                if let Some(tokens) = &response.usage {
                    let entry = self
                        .models
                        .entry(response.model.unwrap_or("unknown").to_owned())
                        .or_default();
                    entry.responses += 1;
                    entry.tokens.add(tokens);
                    if response.long_context() {
                        entry.long_context.add(tokens);
                    }
                }
            }
            _ => {}
        }
        let (input, output) = view.payload_sizes();
        self.estimate.input += (input as u64).div_ceil(4);
        self.estimate.output += (output as u64).div_ceil(4);
        observed
    }

    /// The files the session read and wrote: [`Summary::files`], those the call answered
    /// last touched, which count unless a file event of that call comes next, and those of
    /// the calls no result has answered ([`Touches::at_end`]).
    pub fn files_touched(&self) -> BTreeMap<String, FileCount> {
        let mut files = self.files.clone();
        for (path, file_use) in self.touches.at_end() {
            count_touch(&mut files, path, &file_use);
        }
        files
    }

    /// The LLM requests and tokens of a session whose answers carried usage (the Python tool's
    /// import): its model calls and responses' tokens as [`Counters`] counts them, and each
    /// response the answers carried once, with its latest line's usage, as `stats` and `cost`
    /// count them.
    /// `None` when no answer carried usage. The Python tool's `meta.json` counts every
    /// transcript line instead, a streamed response several times.
    pub fn llm_figures(&self) -> Option<(u64, u64)> {
        let responses = self.answers.responses();
        (responses > 0).then(|| {
            (
                self.counters.model_calls().saturating_add(responses),
                self.counters
                    .total_tokens
                    .saturating_add(self.answers.tokens().total()),
            )
        })
    }

    /// Whether any model usage was recorded (else costs are estimates).
    pub fn has_usage(&self) -> bool {
        !self.models.is_empty()
    }

    /// All recorded tokens, every model together.
    pub fn tokens(&self) -> Tokens {
        let mut all = Tokens::default();
        for usage in self.models.values() {
            all.add(&usage.tokens);
        }
        all
    }

    /// The model the estimate is priced as: the one the session's events name, else its
    /// agent's default ([`estimate_as`]); `None` when neither names one.
    pub fn estimate_model(&self) -> Option<&str> {
        let default = (!self.own_vendor_only).then_some(ESTIMATE_AS);
        self.named_model.as_deref().or(default)
    }

    /// What the session cost at `table`'s prices: recorded usage at each model's price
    /// (long-context responses at long-context rates), or, without any, the estimate priced
    /// as [`Summary::estimate_model`]. Models without a price count for nothing, and are
    /// [`Summary::unpriced`], as an estimate of no model is.
    pub fn cost(&self, table: &PriceTable) -> Money {
        if !self.has_usage() {
            return self
                .estimate_model()
                .and_then(|model| table.find(model))
                .map_or(Money(0), |p| p.cost(&self.estimate, false));
        }
        self.models
            .iter()
            .filter_map(|(model, usage)| Some(usage.cost(table.find(model)?)))
            .sum()
    }

    /// The models whose recorded usage has no price in `table`, in name order: [`Summary::cost`]
    /// counts them at $0, so it leaves their usage out. A model that recorded no tokens is not
    /// among them (nothing is left out), as `cost` lists its `unpriced`.
    /// Without recorded usage, the model the estimate is priced as when it has no price, and
    /// [`NO_MODEL`] when no model prices it.
    pub fn unpriced<'a>(&'a self, table: &PriceTable) -> impl Iterator<Item = &'a str> {
        let model = self.estimate_model();
        let estimate = (!self.has_usage()
            && !self.estimate.is_zero()
            && model.is_none_or(|model| table.find(model).is_none()))
        .then(|| model.unwrap_or(NO_MODEL));
        self.models
            .iter()
            .filter(|(model, usage)| !usage.tokens.is_zero() && table.find(model).is_none())
            .map(|(model, _)| model.as_str())
            .chain(estimate)
    }

    /// The model with the most tokens.
    pub fn main_model(&self) -> Option<&str> {
        self.models
            .iter()
            .max_by_key(|(name, u)| (u.tokens.total(), std::cmp::Reverse(*name)))
            .map(|(name, _)| name.as_str())
    }

    /// How many tool calls were of `kind`.
    pub fn calls_of(&self, kind: ToolKind) -> u64 {
        self.kinds.get(kind.as_str()).copied().unwrap_or(0)
    }
}

impl ModelUsage {
    /// What this usage costs at `price`.
    pub fn cost(&self, price: &ModelPrice) -> Money {
        if price.threshold_tokens.is_some() && !self.long_context.is_zero() {
            let mut normal = self.tokens;
            normal.subtract(&self.long_context);
            return price.cost(&normal, false) + price.cost(&self.long_context, true);
        }
        price.cost(&self.tokens, false)
    }
}

/// Counts one read or write of `path`.
fn count_touch(files: &mut BTreeMap<String, FileCount>, path: String, file_use: &FileUse) {
    let entry = files.entry(path).or_default();
    let count = match file_use {
        FileUse::Read => &mut entry.reads,
        FileUse::Write => &mut entry.writes,
        FileUse::Delete => &mut entry.deletes,
        FileUse::Move(_) => &mut entry.moves,
    };
    *count += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventType;
    use crate::model::view::LlmResponse;
    use serde_json::{Value, json};

    /// The clock the folds are read at: after every event of these sessions.
    const NOW: f64 = 1_796_083_200.0;

    fn event(kind: EventType, ts: f64, data: Value) -> Event {
        Event::new(kind, ts, format!("e{ts}"), "s".into()).with_data(data)
    }

    fn session() -> Vec<Event> {
        vec![
            event(
                EventType::SessionStart,
                1.0,
                json!({"source": "startup", "transcript_path": "/t.jsonl"}),
            ),
            event(EventType::UserPrompt, 2.0, json!({"prompt": "fix the bug"})),
            event(
                EventType::ToolCall,
                3.0,
                json!({"tool_name": "Read", "arguments": {"file_path": "/a.rs"}}),
            ),
            event(EventType::FileRead, 3.5, json!({"path": "/a.rs"})),
            event(
                EventType::ToolCall,
                4.0,
                json!({"tool_name": "Edit", "arguments": {"file_path": "/a.rs"}}),
            ),
            event(EventType::FileWrite, 4.5, json!({"path": "/a.rs"})),
            event(
                EventType::ToolCall,
                5.0,
                json!({"tool_name": "Bash", "arguments": {"command": "cargo test"}}),
            ),
            event(EventType::Error, 6.0, json!({"error": "1 test failed"})),
            event(EventType::UserPrompt, 7.0, json!({"prompt": "again"})),
            event(
                EventType::LlmResponse,
                8.0,
                json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 100, "output_tokens": 50,
                    "cache_read_input_tokens": 1000}}),
            ),
            event(
                EventType::LlmResponse,
                9.0,
                json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 250_000, "output_tokens": 10}}),
            ),
            event(EventType::SessionEnd, 10.0, json!({})),
        ]
    }

    fn fold(events: &[Event]) -> Summary {
        let mut s = Summary::default();
        for e in events {
            s.observe(Agent::ClaudeCode, e, NOW);
        }
        s
    }

    #[test]
    fn a_session_with_events_after_its_end_was_resumed_until_it_ends_again() {
        let mut events = session();
        let at = |kind, ts| event(kind, ts, json!({"source": "resume"}));
        events.push(at(EventType::SessionStart, 11.0));
        let resumed = fold(&events);
        assert!(resumed.resumed_after_end);
        events.push(at(EventType::SessionEnd, 12.0));
        assert!(!fold(&events).resumed_after_end);
        // Folded in two pieces, as the index does.
        let mut pieces = fold(&events[..events.len() - 1]);
        pieces.observe(Agent::ClaudeCode, &events[events.len() - 1], NOW);
        assert_eq!(pieces, fold(&events));
    }

    /// Events recorded late (a proxy's kept batch), after the end in the file but earlier in
    /// time, do not reopen the session, as `watch` and `retention` read it too.
    #[test]
    fn events_recorded_late_after_the_end_leave_the_session_ended() {
        let mut events = session();
        events.push(event(
            EventType::ToolCall,
            5.0,
            json!({"tool_name": "Bash"}),
        ));
        assert!(!fold(&events).resumed_after_end);
        events.push(event(
            EventType::UserPrompt,
            11.0,
            json!({"prompt": "go on"}),
        ));
        assert!(fold(&events).resumed_after_end);
    }

    #[test]
    fn a_session_folds_into_its_figures() {
        let s = fold(&session());
        assert_eq!(s.first_prompt.as_deref(), Some("fix the bug"));
        assert_eq!(s.transcript_path.as_deref(), Some("/t.jsonl"));
        assert_eq!(
            (s.counters.events, s.counters.tool_calls, s.counters.errors),
            (12, 3, 1)
        );
        assert_eq!(s.counters.ended_at, Some(10.0));
        assert!(!s.resumed_after_end);
        assert_eq!(s.calls_of(ToolKind::ReadFile), 1);
        assert_eq!(s.calls_of(ToolKind::WriteFile), 1);
        assert_eq!(s.calls_of(ToolKind::Shell), 1);
        assert_eq!(s.tools["Bash"], 1);
        assert_eq!(
            s.files["/a.rs"],
            FileCount {
                reads: 1,
                writes: 1,
                ..FileCount::default()
            }
        );
        let usage = s.models["claude-sonnet-4-5"];
        assert_eq!(usage.responses, 2);
        assert_eq!(usage.tokens.input, 250_100);
        assert_eq!(usage.long_context.input, 250_000);
        assert_eq!(s.main_model(), Some("claude-sonnet-4-5"));
    }

    #[test]
    fn retries_and_decisions_are_counted_across_pieces() {
        let call = |ts, cmd: &str| {
            event(
                EventType::ToolCall,
                ts,
                json!({"tool_name": "Bash", "arguments": {"command": cmd}}),
            )
        };
        let read = |ts, path: &str, offset: u64| {
            event(
                EventType::ToolCall,
                ts,
                json!({"tool_name": "Read", "arguments": {"file_path": path, "offset": offset}}),
            )
        };
        let answer = |kind, ts, call: f64, data| {
            let mut e = event(kind, ts, data);
            e.parent_id = Some(format!("e{call}"));
            e
        };
        let failed = |ts, call| answer(EventType::Error, ts, call, json!({"error": "failed"}));
        let ok = |ts, call| answer(EventType::ToolResult, ts, call, json!({"result": "ok"}));
        let events = [
            call(1.0, "cargo test"),
            failed(2.0, 1.0),
            read(2.5, "/a.rs", 0),
            ok(2.6, 2.5),
            // A fix, then the failed tests again, however worded: a retry, failing again.
            call(3.0, "cargo test 2>&1 | tail -5"),
            failed(3.5, 3.0),
            // Again: a retry, which passes.
            call(4.0, "cargo test"),
            ok(4.5, 4.0),
            call(5.0, "cargo build"),
            ok(5.5, 5.0),
            event(EventType::Decision, 6.0, json!({"choice": "stop"})),
            // They passed since they failed: no retry.
            call(7.0, "cargo test"),
            ok(7.5, 7.0),
            // The same file read on, after a success: no retry.
            read(8.0, "/a.rs", 0),
            ok(8.5, 8.0),
            read(9.0, "/a.rs", 100),
            ok(9.5, 9.0),
        ];
        let whole = fold(&events);
        assert_eq!((whole.retries, whole.decisions), (2, 1));
        // Folded in two pieces through its JSON, as the index continues a fold.
        // The first piece ends between a call and its result.
        let first = fold(&events[..3]);
        let mut second: Summary =
            serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
        for e in &events[3..] {
            second.observe(Agent::ClaudeCode, e, NOW);
        }
        assert_eq!(second, whole);
    }

    #[test]
    fn a_waiting_call_keeps_the_words_only_of_a_command_they_judge() {
        let call = |ts, cmd: &str| {
            event(
                EventType::ToolCall,
                ts,
                json!({"tool_name": "Bash", "arguments": {"command": cmd}}),
            )
        };
        let failed = |ts, call: f64, text: &str| {
            let mut e = event(EventType::Error, ts, json!({"error": text}));
            e.parent_id = Some(format!("e{call}"));
            e
        };
        let commit = "git commit -F- <<'EOF'\nfix: a long message\nEOF";
        let events = [
            call(1.0, "grep -q TODO src/a.rs"),
            call(2.0, "pytest -x"),
            call(3.0, commit),
            call(4.0, "ls nothere"),
        ];
        let waiting = fold(&events);
        let kept: Vec<(Option<Purpose>, Option<&str>)> = waiting
            .retry_state
            .open
            .iter()
            .map(|open| (open.purpose, open.command.as_deref()))
            .collect();
        assert_eq!(
            kept,
            [
                (Some(Purpose::Other), Some("grep -q TODO src/a.rs")),
                (Some(Purpose::Test), None),
                (Some(Purpose::Commit), None),
                (Some(Purpose::Other), Some("ls nothere")),
            ]
        );
        // Each answered through the summary's JSON, as the index continues a fold: `grep`
        // finding nothing answers; failed tests, a blocked commit and a missing file fail, and
        // fail again on the next attempt at each.
        let mut answered: Summary =
            serde_json::from_str(&serde_json::to_string(&waiting).unwrap()).unwrap();
        let results = [
            failed(5.0, 1.0, "Exit code 1\n"),
            failed(6.0, 2.0, "Exit code 1\n1 failed, 3 passed"),
            failed(7.0, 3.0, "Exit code 1\npre-commit hook failed"),
            failed(8.0, 4.0, "Exit code 2\nls: cannot access 'nothere'"),
            call(9.0, "grep -q TODO src/a.rs"),
            failed(9.5, 9.0, "Exit code 1\n"),
            call(10.0, "pytest -x tests/"),
            failed(10.5, 10.0, "Exit code 1\n1 failed"),
            call(11.0, "git commit -m again"),
            failed(11.5, 11.0, "Exit code 1\npre-commit hook failed"),
            call(12.0, "ls nothere"),
            failed(12.5, 12.0, "Exit code 2\nls: cannot access 'nothere'"),
        ];
        for e in &results {
            answered.observe(Agent::ClaudeCode, e, NOW);
        }
        assert_eq!(answered.retries, 3);
        assert!(answered.retry_state.open.is_empty());
    }

    #[test]
    fn a_parallel_batch_fails_only_the_call_that_failed() {
        let read = |ts, path: &str| {
            event(
                EventType::ToolCall,
                ts,
                json!({"tool_name": "Read", "arguments": {"file_path": path}}),
            )
        };
        let error = |ts, call: f64, text: &str| {
            let mut e = event(EventType::Error, ts, json!({"error": text}));
            e.parent_id = Some(format!("e{call}"));
            e
        };
        let sibling = "<tool_use_error>Sibling tool call errored</tool_use_error>";
        // Three reads at once; the first fails, the batch's other two are cancelled.
        let batch = [
            read(1.0, "/a.rs"),
            read(2.0, "/b.rs"),
            read(3.0, "/c.rs"),
            error(4.0, 1.0, "File does not exist."),
            error(5.0, 2.0, sibling),
            error(6.0, 3.0, sibling),
        ];
        // Reading the cancelled files is trying them for the first time.
        let mut events = batch.to_vec();
        events.extend([read(7.0, "/c.rs"), read(8.0, "/b.rs")]);
        assert_eq!(fold(&events).retries, 0);
        assert!(
            fold(&batch).retry_state.open.is_empty(),
            "answered calls are let go"
        );
        // Reading the missing file again is a retry.
        events.extend([read(9.0, "/a.rs"), error(10.0, 9.0, "File does not exist.")]);
        assert_eq!(fold(&events).retries, 1);
    }

    #[test]
    fn the_first_prompt_is_the_first_a_person_wrote() {
        let events = [
            event(
                EventType::UserPrompt,
                1.0,
                json!({"prompt": "<ide_opened_file>The user opened /a.rs in the IDE.</ide_opened_file>"}),
            ),
            event(
                EventType::UserPrompt,
                2.0,
                json!({"prompt": "[Request interrupted by user]"}),
            ),
            event(
                EventType::UserPrompt,
                3.0,
                json!({"prompt": "<command-name>/review</command-name><command-args>src</command-args>"}),
            ),
            event(EventType::UserPrompt, 4.0, json!({"prompt": "thanks"})),
        ];
        let s = fold(&events);
        assert_eq!(s.first_prompt.as_deref(), Some("/review src"));
        assert_eq!(s.prompts, 2);
    }

    #[test]
    fn cost_prices_long_context_responses_at_their_rates_and_adds_up_per_response() {
        let table = PriceTable::builtin();
        let s = fold(&session());
        let price = table.find("claude-sonnet-4-5").unwrap();
        let per_response: Money = session()
            .iter()
            .filter_map(|e| {
                let r = LlmResponse::from_event(e)?;
                Some(price.cost(&r.usage?, r.long_context()))
            })
            .sum();
        assert_eq!(s.cost(table), per_response);
        // The long response is dearer than at normal rates.
        let flat = price.cost(&s.tokens(), false);
        assert!(s.cost(table) > flat, "{:?} vs {flat:?}", s.cost(table));
    }

    #[test]
    fn a_session_total_past_the_long_context_line_is_priced_at_normal_rates() {
        let total = event(
            EventType::LlmResponse,
            1.0,
            json!({"model": "claude-sonnet-4-5", "scope": "session",
                   "usage": {"input_tokens": 250_000, "output_tokens": 10}}),
        );
        let s = fold(&[total]);
        let usage = &s.models["claude-sonnet-4-5"];
        assert!(usage.long_context.is_zero());
        let table = PriceTable::builtin();
        let price = table.find("claude-sonnet-4-5").unwrap();
        assert_eq!(s.cost(table), price.cost(&usage.tokens, false));
    }

    #[test]
    fn without_usage_the_cost_is_estimated_from_payload_sizes() {
        let events: Vec<Event> = session()
            .into_iter()
            .filter(|e| e.event_type != EventType::LlmResponse)
            .collect();
        let s = fold(&events);
        assert!(!s.has_usage());
        // "fix the bug" (11 chars) + "again" (5) → 3 + 2 input tokens; arguments as JSON.
        assert_eq!(s.estimate.input, 3 + 2 + 4);
        assert!(s.estimate.output > 0);
        let sonnet = PriceTable::builtin().find(ESTIMATE_AS).unwrap();
        assert_eq!(
            s.cost(PriceTable::builtin()),
            sonnet.cost(&s.estimate, false)
        );
    }

    /// An agent that runs only its own vendor's models (Codex) gets no Claude model's price
    /// for its estimate: with no model named, it is priced as none, and said to be.
    #[test]
    fn an_estimate_is_never_priced_as_another_vendors_model() {
        let table = PriceTable::builtin();
        let mut codex = Summary::default();
        for e in session()
            .iter()
            .filter(|e| e.event_type != EventType::LlmResponse)
        {
            codex.observe(Agent::Codex, e, NOW);
        }
        assert!(!codex.has_usage() && !codex.estimate.is_zero());
        assert_eq!(codex.estimate_model(), None);
        assert_eq!(codex.cost(table), Money(0));
        assert_eq!(codex.unpriced(table).collect::<Vec<_>>(), [NO_MODEL]);
        // A model its events name prices it, as any session's.
        codex.named_model = Some("gpt-5".to_owned());
        let gpt = table.find("gpt-5").unwrap();
        assert_eq!(codex.cost(table), gpt.cost(&codex.estimate, false));
        assert_eq!(codex.unpriced(table).count(), 0);
        assert_eq!(estimate_as(Agent::ClaudeCode), Some(ESTIMATE_AS));
    }

    #[test]
    fn folding_in_pieces_through_json_equals_folding_whole() {
        let events = session();
        let whole = fold(&events);
        for cut in 0..=events.len() {
            let first = fold(&events[..cut]);
            let mut resumed: Summary =
                serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
            for e in &events[cut..] {
                resumed.observe(Agent::ClaudeCode, e, NOW);
            }
            assert_eq!(resumed, whole, "cut at {cut}");
        }
    }

    #[test]
    fn mcp_sessions_count_every_tool_as_mcp() {
        let mut s = Summary::default();
        s.observe(
            Agent::Mcp,
            &event(EventType::ToolCall, 1.0, json!({"tool_name": "read_file"})),
            NOW,
        );
        assert_eq!(s.calls_of(ToolKind::Mcp), 1);
    }
}
