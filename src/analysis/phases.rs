//! Splitting a session into phases — at each user prompt, and where a run of tests or builds
//! changes outcome — with what each phase read, ran and wrote, what it cost in tokens, what
//! failed, what the user refused, and which attempts at the same goal were retries. Shared by
//! `explain`, `cost` and `standup`.
//!
//! What failed is decided by [`crate::model::command`]: a phase fails when its last test run, build
//! or check failed (a commit its hook's checks refused counts as a failed check), never because
//! of a `grep` that found nothing or a call the user refused. Attempts at one goal (the same
//! tests, one commit after another) that fail and are tried again form a retry loop; the time
//! those failed attempts ran is the time retries wasted.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::ordered_set::OrderedSet;
use crate::model::answers::AnswerUsages;
use crate::model::attempts::relative_to;
use crate::model::attempts::{self, Tried};
use crate::model::command::{self as outcome, Command, Judgement, Purpose, Verdict};
use crate::model::copies::Copies;
use crate::model::file_use::FileUse;
use crate::model::links::Links;
use crate::model::meta::{Believed, believed_time};
use crate::model::prompt::PromptKind;
use crate::model::touches::Touches;
use crate::model::view::{LlmResponse, ToolCall, ToolResult, View};
use crate::model::{Agent, Event, RefusedBy, SessionMeta, Tokens, ToolKind, ToolOutcome};

/// One command a phase ran.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ran {
    pub command: String,
    /// An earlier attempt at the same goal failed, and this one tried again.
    pub retry: bool,
    /// It failed (an answer such as "no match" or a refused call is no failure).
    pub failed: bool,
    /// How it ended; `None` while no result was recorded.
    pub verdict: Option<Verdict>,
    /// What it was for: tests, a build, a check, a commit, or something else.
    pub purpose: Purpose,
    /// Why, in a few words (`3 failed`, `no match`, `nothing to commit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The event number (#N) of the call.
    pub event: usize,
}

/// A tool call that failed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Failure {
    /// The event number (#N) of the call (of the error, when its call was not recorded).
    pub event: usize,
    /// The phase it belongs to (its index).
    pub phase: usize,
    /// When the failing call was made, in seconds from the session's start.
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub at_s: f64,
    pub tool: String,
    /// The command, path or argument that tells what it tried.
    pub what: Option<String>,
    /// The first telling line of the error.
    pub message: String,
    /// What it was for.
    pub purpose: Purpose,
    /// Why, in a few words (`3 failed`, `exit 128`, `blocked by its hook's checks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A later attempt at the same goal followed.
    pub retried: bool,
}

/// A tool call the user (or auto mode) refused or stopped.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejection {
    pub event: usize,
    pub phase: usize,
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub at_s: f64,
    pub tool: String,
    pub what: Option<String>,
    /// Who refused it: the user, or Claude Code's auto mode, which asks no one.
    pub by: RefusedBy,
    /// Why, when the refusal says (auto mode's classifier gives its reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An error that belongs to no tool call: the turn's (an API error that ended it), or the
/// recorder's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TurnError {
    /// The event number (#N) of the error.
    pub event: usize,
    pub phase: usize,
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub at_s: f64,
    /// The first telling line of the error.
    pub message: String,
}

/// Attempts at one goal that failed and were tried again.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetryLoop {
    /// What the attempts share (`test: pytest`, `commit: git commit`, a command).
    pub goal: String,
    /// The first attempt's command or argument.
    pub what: String,
    /// The event numbers of the attempts' calls.
    pub attempts: Vec<usize>,
    /// From the first attempt's start to the last one's end, in seconds from the session's
    /// start.
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub start_s: f64,
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub end_s: f64,
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub duration_s: f64,
    /// How long the failed attempts that were tried again ran.
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub wasted_s: f64,
    /// The last attempt succeeded (or found there was nothing to do).
    pub resolved: bool,
}

/// A stretch of the session with one purpose.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub index: usize,
    pub label: String,
    /// Seconds from the session's start.
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub start_s: f64,
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub end_s: f64,
    pub events: u64,
    pub read: OrderedSet<String>,
    pub ran: Vec<Ran>,
    pub wrote: OrderedSet<String>,
    /// Files and folders deleted, and moved: no content written (`rm a`, `mv a b`).
    pub deleted: OrderedSet<String>,
    pub moved: OrderedSet<Moved>,
    /// Its last test run, build or check failed.
    pub failed: bool,
    /// Recorded usage by model.
    pub usage: BTreeMap<String, Tokens>,
    /// Of `usage`, what responses priced at long-context rates by the models that have them
    /// used (one request's context over 200,000 tokens; never a session's total).
    pub usage_long_context: BTreeMap<String, Tokens>,
    /// Tool calls made in the phase, by tool.
    pub tools: BTreeMap<String, u64>,
    /// Usage estimated from payload sizes (four characters a token), for sessions that
    /// recorded none.
    pub estimate: Tokens,
    #[serde(skip)]
    last_gate: Option<bool>,
}

impl Phase {
    fn new(index: usize, label: String, start_s: f64) -> Phase {
        Phase {
            index,
            label,
            start_s,
            end_s: start_s,
            events: 0,
            read: OrderedSet::default(),
            ran: Vec::new(),
            wrote: OrderedSet::default(),
            deleted: OrderedSet::default(),
            moved: OrderedSet::default(),
            failed: false,
            usage: BTreeMap::new(),
            usage_long_context: BTreeMap::new(),
            tools: BTreeMap::new(),
            estimate: Tokens::default(),
            last_gate: None,
        }
    }

    pub fn duration_s(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }

    /// Whether it read, wrote, deleted, moved or ran nothing yet.
    fn idle(&self) -> bool {
        self.ran.is_empty()
            && self.read.is_empty()
            && self.wrote.is_empty()
            && self.deleted.is_empty()
            && self.moved.is_empty()
    }

    /// Lists a file on the list of what was done to it.
    fn list(&mut self, path: &str, file_use: FileUse) {
        match file_use {
            FileUse::Read => self.read.insert(path.to_owned()),
            FileUse::Write => self.wrote.insert(path.to_owned()),
            FileUse::Delete => self.deleted.insert(path.to_owned()),
            FileUse::Move(to) => self.moved.insert(Moved {
                from: path.to_owned(),
                to,
            }),
        };
    }

    pub fn recorded(&self) -> Tokens {
        let mut total = Tokens::default();
        for t in self.usage.values() {
            total.add(t);
        }
        total
    }
}

/// A file moved: where from, and where to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

/// A file the session touched.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileTouch {
    pub path: String,
    pub reads: u64,
    /// Writes of its content; a deletion or a move is none.
    pub writes: u64,
    pub deletes: u64,
    pub moves: u64,
}

/// The phases of a session and what spans them.
#[derive(Debug, Clone, Serialize)]
pub struct Phases {
    /// Where the phases' offsets count from: the session's start, else its first event; not
    /// believed when the recorded start is one no session can have.
    pub started_at: Believed<f64>,
    /// From the start to the last event; unknown when the start is.
    pub duration_s: Believed<f64>,
    pub events: u64,
    pub phases: Vec<Phase>,
    pub files: Vec<FileTouch>,
    /// Attempts that tried a failed goal again.
    pub retries: u64,
    /// How long the failed attempts that were tried again ran, over all retry loops; never
    /// negative.
    #[serde(serialize_with = "crate::model::seconds::serialize")]
    pub wasted_s: f64,
    pub tool_calls: u64,
    /// Calls that failed (the tool's own verdict: refused calls are not among them), and the
    /// errors of no call (`turn_errors`).
    pub errors: u64,
    /// Of `errors`, the calls' own: the errors less the turn's.
    pub tool_errors: u64,
    /// Calls the user refused or stopped.
    pub rejections: u64,
    /// Every call that failed, in order (answers such as "no match" are not among them).
    pub failures: Vec<Failure>,
    /// Of `errors`, the calls whose error was an answer, not a failure (`grep` finding nothing,
    /// `git commit` with nothing to commit), so not among `failures`: what each answered
    /// (`nothing to commit`), by how often, in name order.
    pub errors_answered: BTreeMap<String, u64>,
    /// Of `failures`, those whose call reported no error (a test run piped through `tail`
    /// exits 0 while its output says tests failed), so not counted in `errors`.
    pub failures_without_error: u64,
    /// Every call the user or auto mode refused, in order.
    pub rejected: Vec<Rejection>,
    /// The errors of no tool call (counted in `errors`, not among `failures`), in order.
    pub turn_errors: Vec<TurnError>,
    /// The errors of MCP servers the proxy could not launch, in order: no call's and no
    /// turn's, so counted in neither `errors` nor `turn_errors`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub launch_failures: Vec<TurnError>,
    /// The errors an MCP proxy recorded of its traffic
    /// ([`crate::model::view::ToolResult::protocol_error`]), in
    /// order: no call's and no turn's, so counted in neither `errors` nor `turn_errors`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub protocol_errors: Vec<TurnError>,
    /// The errors an MCP proxy's recorder wrote for falling behind
    /// ([`crate::model::view::ToolResult::unrecorded`]), in order: gaps in the recording, no
    /// call's, no turn's and no protocol error, so counted in no error figure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recording_gaps: Vec<TurnError>,
    /// Turns an interrupt ended: the agent's record of one (Claude Code's Interrupt), or the
    /// line it writes in the user's place when the user stops it (`[Request interrupted by
    /// user]`).
    pub interrupted_turns: u64,
    /// Goals that took more than one attempt, in order of their first attempt.
    pub retry_loops: Vec<RetryLoop>,
    /// Whether any model usage was recorded (else costs are estimates).
    pub has_usage: bool,
    /// The model the session's events last named ([`View::names_model`]): what an estimate
    /// is priced as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_model: Option<String>,
    /// What an estimate is priced as when no event names a model: the session's agent's
    /// default ([`crate::model::summary::estimate_as`]).
    #[serde(skip)]
    pub estimate_default: Option<&'static str>,
    /// Responses whose recorded usage holds a count no response can have
    /// ([`crate::model::view::unbelieved_usage`]): their tokens are unknown, in no phase.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
    /// The agent's own log (a Claude Code transcript, a Codex rollout) the usage was read
    /// from, when the session recorded none itself (hooks never see it): the index, and so
    /// `list`, `dashboard` and `sql`, price such a session from its payload sizes instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_log: Option<String>,
    /// Every response's usage with its time, in the order seen: spend over time
    /// (`budget-report`'s days and billing blocks).
    #[serde(skip)]
    pub responses: Vec<TimedUsage>,
}

impl Phases {
    /// Every file the session wrote: named by a phase's writes or counted among its files.
    pub fn written_files(&self) -> std::collections::BTreeSet<&str> {
        self.phases
            .iter()
            .flat_map(|p| &p.wrote)
            .map(String::as_str)
            .chain(
                self.files
                    .iter()
                    .filter(|f| f.writes > 0)
                    .map(|f| f.path.as_str()),
            )
            .collect()
    }

    /// Every file or folder the session deleted.
    pub fn deleted_files(&self) -> std::collections::BTreeSet<&str> {
        self.phases
            .iter()
            .flat_map(|p| &p.deleted)
            .map(String::as_str)
            .collect()
    }

    /// Every move the session made, in order, each once.
    pub fn moves(&self) -> Vec<&Moved> {
        let mut seen: HashSet<&Moved> = HashSet::new();
        self.phases
            .iter()
            .flat_map(|p| &p.moved)
            .filter(|moved| seen.insert(moved))
            .collect()
    }
}

/// One response's usage and when it came.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedUsage {
    /// Seconds since the epoch.
    pub at: f64,
    pub model: String,
    pub tokens: Tokens,
    /// Priced at long-context rates, by the models that have them
    /// ([`crate::model::pricing::long_context`]).
    pub long_context: bool,
}

struct Call {
    command: Option<String>,
    /// The command, parsed once.
    parsed: Option<Command>,
    tool: String,
    /// What attempts at the same thing share.
    goal: String,
    /// What to show for it.
    what: Option<String>,
    phase: usize,
    ran_index: Option<usize>,
    timestamp: f64,
    number: usize,
    /// The call put the file it names on its phase's list of files written (`true`) or read.
    listed: Option<bool>,
}

/// One attempt at a goal whose attempts are failing.
struct Attempt {
    number: usize,
    start: f64,
    end: f64,
    /// Its entry in the failures, when it failed.
    failure: Option<usize>,
}

/// Builds [`Phases`] from a session's events, in order, in one pass.
pub struct PhaseBuilder {
    /// Whose tools the session's calls name.
    agent: Agent,
    origin: Option<f64>,
    /// False when the session's recorded start is one no session can have: offsets then count
    /// from the first event, and the start and duration are unknown.
    start_believed: bool,
    /// The session's end is known ([`SessionMeta::end_known`]): else so is not its duration.
    end_known: bool,
    last: f64,
    events: u64,
    phases: Vec<Phase>,
    calls: HashMap<String, Call>,
    /// Goals whose last attempt failed, with their attempts so far.
    failing: HashMap<String, (String, Vec<Attempt>)>,
    retry_loops: Vec<RetryLoop>,
    failures: Vec<Failure>,
    rejected: Vec<Rejection>,
    turn_errors: Vec<TurnError>,
    launch_failures: Vec<TurnError>,
    protocol_errors: Vec<TurnError>,
    recording_gaps: Vec<TurnError>,
    interrupted_turns: u64,
    rejections: u64,
    retries: u64,
    files: BTreeMap<String, FileTouch>,
    file_order: Vec<String>,
    /// Which call each result answers (the Python tool's import links none by `parent_id`).
    links: Links,
    /// The files the session touched, from its file events and file tools' calls.
    touches: Touches,
    last_test_outcome: Option<bool>,
    tool_calls: u64,
    errors: u64,
    errors_answered: BTreeMap<String, u64>,
    failures_without_error: u64,
    has_usage: bool,
    named_model: Option<String>,
    unbelieved_usage: u64,
    number: usize,
    /// The session's working directory, to show paths below it relative to it.
    cwd: Option<String>,
    /// Test or build commands running now.
    open_tests: usize,
    /// Usage recorded while a test or build ran: a phase split off at that command's start
    /// takes what came after it.
    recent_usage: Vec<(f64, String, Tokens, bool)>,
    responses: Vec<TimedUsage>,
    /// The responses whose usage answers carried, to count each once.
    answers: AnswerUsages,
    /// The events met, to tell a copy of one ([`crate::model::copies`]).
    met: Copies,
}

/// How many characters of a prompt name its phase.
const LABEL_CHARS: usize = 60;

impl PhaseBuilder {
    /// A builder for the session `meta` describes. Offsets count from its start, or from its
    /// first event when it recorded none or one no session can have; for such a start the
    /// phases' start and duration are unknown, not the time since the year 2128.
    pub fn of(meta: &SessionMeta) -> PhaseBuilder {
        let mut builder =
            PhaseBuilder::new(Agent::from_name(&meta.agent_name), meta.believed_start());
        builder.start_believed = meta.unbelievable().believes("started_at");
        builder.end_known = meta.end_known();
        builder
    }

    pub fn new(agent: Agent, started_at: Option<f64>) -> PhaseBuilder {
        PhaseBuilder {
            agent,
            origin: started_at.filter(|s| *s > 0.0),
            start_believed: true,
            end_known: true,
            last: 0.0,
            events: 0,
            phases: Vec::new(),
            calls: HashMap::new(),
            failing: HashMap::new(),
            retry_loops: Vec::new(),
            failures: Vec::new(),
            rejected: Vec::new(),
            turn_errors: Vec::new(),
            launch_failures: Vec::new(),
            protocol_errors: Vec::new(),
            recording_gaps: Vec::new(),
            interrupted_turns: 0,
            rejections: 0,
            retries: 0,
            files: BTreeMap::new(),
            file_order: Vec::new(),
            links: Links::default(),
            touches: Touches::default(),
            last_test_outcome: None,
            tool_calls: 0,
            errors: 0,
            errors_answered: BTreeMap::new(),
            failures_without_error: 0,
            has_usage: false,
            named_model: None,
            unbelieved_usage: 0,
            number: 0,
            cwd: None,
            open_tests: 0,
            recent_usage: Vec::new(),
            responses: Vec::new(),
            answers: AnswerUsages::default(),
            met: Copies::default(),
        }
    }

    fn current(&mut self, at: f64) -> &mut Phase {
        if self.phases.is_empty() {
            self.phases
                .push(Phase::new(1, "start".to_owned(), 0.0_f64.min(at)));
        }
        self.phases.last_mut().expect("pushed above")
    }

    fn start_phase(&mut self, label: String, at: f64) -> usize {
        let index = self.phases.len() + 1;
        self.phases.push(Phase::new(index, label, at));
        self.last_test_outcome = None;
        index - 1
    }

    pub fn observe(&mut self, event: &Event) {
        // A copy of an event met before (a transcript that repeats its history) is a line of
        // the session, numbered as replay numbers it, and adds to nothing else.
        if self.met.is_copy(&crate::model::EventHead::of(event)) {
            self.number += 1;
            self.events += 1;
            return;
        }
        let parent = self.links.parent(event).map(std::borrow::Cow::into_owned);
        // The files a call touched with no file event of its own (the Python tool's hooks and
        // import write none) are its phase's, as a file event's are (the arm below).
        for (path, file_use) in self.touches.observe_owed(event, self.agent) {
            self.owed(&path, file_use);
        }
        self.number += 1;
        self.events += 1;
        // An event stamped at a time no session can have (`1e308`) is placed at the latest
        // time reached: a phase ran 5124095576030431 hours.
        let at = match believed_time(event.timestamp) {
            Some(t) => t - *self.origin.get_or_insert(t),
            None => self.last,
        };
        self.last = self.last.max(at);
        // When it came, for spend over time: where it is placed, for one at an unknown time
        // (its `1e308` was a response's time for budget-report's days and the page's spend).
        let when =
            believed_time(event.timestamp).unwrap_or_else(|| self.origin.unwrap_or_default() + at);
        if crate::model::view::unbelieved_usage(event) {
            self.unbelieved_usage += 1;
        }
        let view = View::of(event, self.agent);
        if let Some(model) = view.names_model()
            && self.named_model.as_deref() != Some(model)
        {
            self.named_model = Some(model.to_owned());
        }
        match view {
            View::SessionStart(start) if self.cwd.is_none() => {
                self.cwd = start.cwd.map(|c| c.trim_end_matches('/').to_owned());
            }
            // Lines Claude Code writes as the user (command output, task notifications,
            // interruptions, IDE context) continue the phase rather than start one.
            View::Prompt(prompt) if prompt.prompt().kind == PromptKind::Interrupted => {
                self.interrupted_turns += 1;
            }
            View::Interrupt(_) => self.interrupted_turns += 1,
            View::Prompt(prompt) if !prompt.prompt().by_person() => {}
            View::Prompt(prompt) => {
                let label = crate::model::text::one_line(&prompt.prompt().text, LABEL_CHARS);
                // A session's first prompt names the phase that opened it rather than making
                // an empty one.
                if self.phases.len() == 1
                    && self.phases[0].idle()
                    && self.phases[0].label == "start"
                {
                    self.phases[0].label = label;
                } else {
                    self.start_phase(label, at);
                }
            }
            // A call that repeats a read is that read's call, counted once (`read_pairs`): the
            // call its result answers is the one that names its id.
            View::ToolCall(call) if self.touches.repeats(&event.event_id) => {
                if call.tool_use_id.is_some_and(|id| !id.is_empty())
                    && let Some(first) = self.touches.repeated(&event.event_id)
                    && let Some(open) = self.calls.remove(first)
                {
                    self.calls.insert(event.event_id.clone(), open);
                }
            }
            View::ToolCall(call) => self.call(event, &call, at),
            View::ToolResult(result) => self.result(parent.as_deref(), &result, at),
            View::LlmResponse(
                ref response @ LlmResponse {
                    model,
                    usage: Some(tokens),
                    ..
                },
            ) => {
                let long = response.long_context();
                self.response_usage(when, at, model, tokens, (long, true));
            }
            // The Python tool's import records a response's usage on its answer.
            View::Answer(_) => {
                if let Some(answer) = self.answers.of_event(event) {
                    let how = (answer.long_context, answer.first);
                    self.response_usage(when, at, answer.model, answer.tokens, how);
                }
            }
            View::FileTouch(touch) => {
                if let Some(path) = touch.path {
                    let path = self.relative(path);
                    self.touch(&path, &touch.file_use);
                    // A file tool's call named it already; a shell's line (`cat a`, `rm b`)
                    // or a patch names it only here.
                    let file_use = self.relative_use(touch.file_use);
                    self.current(at).list(&path, file_use);
                }
            }
            _ => {}
        }
        self.estimate(event, at);
        let phase = self.current(at);
        phase.events += 1;
        phase.end_s = phase.end_s.max(at);
    }

    /// Adds the usage of a response recorded at `timestamp` (`at` into the session), priced at
    /// long-context rates or not; `first` is false for what a later line of a response met
    /// before adds (see [`AnswerUsages`]).
    fn response_usage(
        &mut self,
        timestamp: f64,
        at: f64,
        model: Option<&str>,
        tokens: Tokens,
        (long, first): (bool, bool),
    ) {
        self.has_usage = true;
        let model = model.unwrap_or("unknown").to_owned();
        let index = self.phases.len().max(1) - 1;
        self.current(at);
        add_usage(&mut self.phases[index], &model, &tokens, long, 1);
        match self.responses.last_mut() {
            Some(last) if !first && last.model == model => last.tokens.add(&tokens),
            _ => self.responses.push(TimedUsage {
                at: timestamp,
                model: model.clone(),
                tokens,
                long_context: long,
            }),
        }
        if self.open_tests > 0 {
            self.recent_usage.push((at, model, tokens, long));
        }
    }

    /// Adds one response's usage read from elsewhere (the transcript of a session recorded by
    /// hooks) to the phase it falls in; it counts as no event of the session.
    pub fn usage_at(&mut self, timestamp: f64, model: &str, tokens: &Tokens) {
        let origin = *self.origin.get_or_insert(timestamp);
        let at = timestamp - origin;
        self.has_usage = true;
        let long = crate::model::pricing::long_context(tokens, true);
        let index = self.phases.len().max(1) - 1;
        self.current(at);
        add_usage(&mut self.phases[index], model, tokens, long, 1);
        self.responses.push(TimedUsage {
            at: timestamp,
            model: model.to_owned(),
            tokens: *tokens,
            long_context: long,
        });
    }

    /// Four characters a token: what the agent read is input, what it wrote is output.
    fn estimate(&mut self, event: &Event, at: f64) {
        let (input, output) = View::of(event, self.agent).payload_sizes();
        let phase = self.current(at);
        phase.estimate.input += (input as u64).div_ceil(4);
        phase.estimate.output += (output as u64).div_ceil(4);
    }

    /// A path below the session's working directory, relative to it.
    pub fn relative(&self, path: &str) -> String {
        relative_to(self.cwd.as_deref(), path)
    }

    /// Counts a file a call touched with no file event of its own, and lists it in the phase
    /// the call is in (the latest: the event that releases it comes after the call's result).
    fn owed(&mut self, path: &str, file_use: FileUse) {
        let path = self.relative(path);
        self.touch(&path, &file_use);
        let file_use = self.relative_use(file_use);
        if let Some(phase) = self.phases.last_mut() {
            phase.list(&path, file_use);
        }
    }

    /// A move's destination below the session's working directory, relative to it, as the
    /// file's own path is.
    fn relative_use(&self, file_use: FileUse) -> FileUse {
        match file_use {
            FileUse::Move(to) => FileUse::Move(self.relative(&to)),
            other => other,
        }
    }

    fn touch(&mut self, path: &str, file_use: &FileUse) {
        let entry = self.files.entry(path.to_owned()).or_insert_with(|| {
            self.file_order.push(path.to_owned());
            FileTouch {
                path: path.to_owned(),
                ..FileTouch::default()
            }
        });
        let count = match file_use {
            FileUse::Read => &mut entry.reads,
            FileUse::Write => &mut entry.writes,
            FileUse::Delete => &mut entry.deletes,
            FileUse::Move(_) => &mut entry.moves,
        };
        *count += 1;
    }

    fn call(&mut self, event: &Event, call: &ToolCall<'_>, at: f64) {
        self.tool_calls += 1;
        let tool = if call.tool.is_empty() {
            "unknown".to_owned()
        } else {
            call.tool.to_owned()
        };
        let command = call.command_line().map(std::borrow::Cow::into_owned);
        let parsed = command.as_deref().map(Command::parse);
        let path = call.path().map(|p| self.relative(p));
        let goal = attempts::goal(&tool, call, parsed.as_ref(), path.as_deref());
        let what = command
            .clone()
            .or_else(|| path.clone())
            .or_else(|| call.gist());
        let number = self.number;
        let phase_index = self.phases.len().max(1) - 1;
        let phase = self.current(at);
        *phase.tools.entry(tool.clone()).or_default() += 1;
        let list = match call.kind {
            ToolKind::ReadFile => Some(&mut phase.read),
            ToolKind::WriteFile => Some(&mut phase.wrote),
            _ => None,
        };
        // Whether this call put its file on the phase's list (a failed one takes it off).
        let new = list
            .zip(path.clone())
            .is_some_and(|(list, p)| list.insert(p));
        let listed = new.then_some(call.kind == ToolKind::WriteFile);
        let purpose = parsed.as_ref().map_or(Purpose::Other, |c| c.purpose);
        if matches!(purpose, Purpose::Test | Purpose::Build) {
            self.open_tests += 1;
        }
        let phase = self.phases.last_mut().expect("made by current() above");
        let ran_index = command.as_ref().map(|c| {
            phase.ran.push(Ran {
                command: c.clone(),
                retry: false,
                failed: false,
                verdict: None,
                purpose,
                note: None,
                event: number,
            });
            phase.ran.len() - 1
        });
        let id = event.event_id.clone();
        self.calls.insert(
            id,
            Call {
                command,
                parsed,
                tool,
                goal,
                what,
                phase: phase_index,
                ran_index,
                timestamp: at,
                number,
                listed,
            },
        );
    }

    /// A result (or error) of the call `parent` names, if any.
    fn result(&mut self, parent: Option<&str>, result: &ToolResult<'_>, at: f64) {
        // A server that never started, a message of the MCP traffic that is none, and messages
        // the proxy's recorder fell behind on, answer no call and ended no turn.
        let apart = if result.launch_failure {
            Some(&mut self.launch_failures)
        } else if result.unrecorded.is_some() {
            Some(&mut self.recording_gaps)
        } else if result.protocol_error && result.failed() {
            Some(&mut self.protocol_errors)
        } else {
            None
        };
        if let Some(apart) = apart {
            apart.push(TurnError {
                event: self.number,
                phase: self.phases.len().max(1),
                at_s: at,
                message: telling_line(result.error.as_deref().unwrap_or_default()),
            });
            return;
        }
        match result.outcome {
            ToolOutcome::Failed => self.errors += 1,
            ToolOutcome::Rejected => self.rejections += 1,
            ToolOutcome::Ok => {}
        }
        let call = parent.and_then(|p| self.calls.remove(p));
        let refusal = result.refusal.as_ref();
        let (by, reason) = (
            refusal.map_or(RefusedBy::User, |r| r.by),
            refusal.and_then(|r| r.reason).map(str::to_owned),
        );
        let Some(call) = call else {
            // A result whose call was not recorded: still listed when it failed or was refused.
            let tool = result.tool.unwrap_or("unknown").to_owned();
            let phase = self.phases.len().max(1);
            match result.outcome {
                // An error of no call at all (an API error that ended the turn) is no tool's.
                ToolOutcome::Failed if result.of_no_call => self.turn_errors.push(TurnError {
                    event: self.number,
                    phase,
                    at_s: at,
                    message: telling_line(result.error.as_deref().unwrap_or_default()),
                }),
                ToolOutcome::Failed => self.failures.push(Failure {
                    event: self.number,
                    phase,
                    at_s: at,
                    tool,
                    what: None,
                    message: telling_line(result.error.as_deref().unwrap_or_default()),
                    purpose: Purpose::Other,
                    note: None,
                    retried: false,
                }),
                ToolOutcome::Rejected => self.rejected.push(Rejection {
                    event: self.number,
                    phase,
                    at_s: at,
                    tool,
                    what: None,
                    by,
                    reason,
                }),
                ToolOutcome::Ok => {}
            }
            return;
        };
        // A folder a file tool was given (Copilot's `view` lists one) is no file it read.
        let listed_folder = result.outcome == ToolOutcome::Ok
            && result.text.and_then(Value::as_str).is_some_and(|shown| {
                crate::model::tools::lists_a_folder(self.agent, &call.tool, shown)
            });
        if listed_folder
            && let (Some(path), Some(phase)) = (&call.what, self.phases.get_mut(call.phase))
        {
            phase.read.remove(path.as_str());
        }
        // Nor did a file tool that failed or was refused read or write its file.
        if result.outcome != ToolOutcome::Ok
            && let (Some(write), Some(path), Some(phase)) =
                (call.listed, &call.what, self.phases.get_mut(call.phase))
        {
            let list = if write {
                &mut phase.wrote
            } else {
                &mut phase.read
            };
            list.remove(path.as_str());
        }
        let mut judgement = attempts::judgement(call.parsed.as_ref(), result);
        // The user did not refuse it: the phase's line says who did, and why.
        if judgement.verdict == Verdict::Rejected && by == RefusedBy::AutoMode {
            judgement.note = Some(match &reason {
                Some(reason) => format!("by auto mode: {reason}"),
                None => "by auto mode".to_owned(),
            });
        }
        // An error the list leaves out, or a failure no error counts: told apart, so that the
        // count of errors and the list of failures can be read together.
        match (result.outcome, judgement.verdict) {
            (ToolOutcome::Failed, Verdict::Passed | Verdict::Answered) => {
                let what = judgement.note.as_deref().unwrap_or("an answer");
                *self.errors_answered.entry(what.to_owned()).or_default() += 1;
            }
            (ToolOutcome::Ok, Verdict::Failed) => self.failures_without_error += 1,
            _ => {}
        }
        let phase = self.gate(&call, &judgement);
        let tried = attempts::tried(result, judgement.verdict);
        let retry = tried.is_some() && self.failing.contains_key(&call.goal);
        if retry {
            self.retries += 1;
        }
        if let Some(ran) = self.ran_of(&call, phase) {
            ran.retry = retry;
            ran.failed = judgement.verdict == Verdict::Failed;
            ran.verdict = Some(judgement.verdict);
            ran.purpose = judgement.purpose;
            ran.note.clone_from(&judgement.note);
        }
        let failure = match judgement.verdict {
            Verdict::Failed => {
                self.failures.push(Failure {
                    event: call.number,
                    phase: phase + 1,
                    at_s: call.timestamp,
                    tool: call.tool.clone(),
                    what: call.what.clone(),
                    message: telling_line(result.error.as_deref().unwrap_or_default()),
                    purpose: judgement.purpose,
                    note: judgement.note.clone(),
                    retried: false,
                });
                Some(self.failures.len() - 1)
            }
            Verdict::Rejected => {
                self.rejected.push(Rejection {
                    event: call.number,
                    phase: phase + 1,
                    at_s: call.timestamp,
                    tool: call.tool.clone(),
                    what: call.what.clone(),
                    by,
                    reason,
                });
                // A refused call is no attempt: the goal's loop goes on without it.
                return;
            }
            Verdict::Passed | Verdict::Answered => None,
        };
        // A call cancelled beside a failed one never ran: it is listed, but no attempt.
        let Some(tried) = tried else {
            return;
        };
        let attempt = Attempt {
            number: call.number,
            start: call.timestamp,
            end: at.max(call.timestamp),
            failure,
        };
        match (tried == Tried::Failed, self.failing.remove(&call.goal)) {
            (true, Some((what, mut attempts))) => {
                if let Some(i) = attempts.last().and_then(|a| a.failure) {
                    self.failures[i].retried = true;
                }
                attempts.push(attempt);
                self.failing.insert(call.goal, (what, attempts));
            }
            (true, None) => {
                let what = call.what.clone().unwrap_or_else(|| call.tool.clone());
                self.failing.insert(call.goal, (what, vec![attempt]));
            }
            (false, Some((what, mut attempts))) => {
                if let Some(i) = attempts.last().and_then(|a| a.failure) {
                    self.failures[i].retried = true;
                }
                attempts.push(attempt);
                self.retry_loops
                    .push(retry_loop(call.goal, what, &attempts, true));
            }
            (false, None) => {}
        }
    }

    /// The command entry of a call, in the phase it ended up in (a new phase may have taken
    /// it, so it is found by its event number).
    fn ran_of(&mut self, call: &Call, phase: usize) -> Option<&mut Ran> {
        call.command.as_ref()?;
        self.phases
            .get_mut(phase)?
            .ran
            .iter_mut()
            .rev()
            .find(|r| r.event == call.number)
    }

    /// Records what a test run, build or check said about the work, starting a phase where
    /// a run of tests or builds changes outcome. Returns the index of the phase the call ends
    /// up in.
    fn gate(&mut self, call: &Call, judgement: &Judgement) -> usize {
        let Some(passed) = judgement.gate() else {
            if call
                .parsed
                .as_ref()
                .is_some_and(|c| matches!(c.purpose, Purpose::Test | Purpose::Build))
            {
                self.open_tests = self.open_tests.saturating_sub(1);
            }
            return call.phase;
        };
        if !matches!(judgement.purpose, Purpose::Test | Purpose::Build) {
            if let Some(phase) = self.phases.get_mut(call.phase) {
                phase.last_gate = Some(passed);
            }
            return call.phase;
        }
        self.open_tests = self.open_tests.saturating_sub(1);
        let changed = self.last_test_outcome != Some(passed);
        let in_current = call.phase + 1 == self.phases.len();
        let mut index = call.phase;
        if changed && in_current {
            let label = if judgement.purpose == Purpose::Build {
                "build"
            } else {
                "run tests"
            }
            .to_owned();
            // The phase begins at the command whose outcome changed: move it there.
            let moved = call.ran_index.and_then(|i| {
                let phase = &mut self.phases[call.phase];
                (i < phase.ran.len()).then(|| phase.ran.remove(i))
            });
            let previous_empty = {
                let p = &self.phases[call.phase];
                p.idle() && p.label == "start"
            };
            index = if previous_empty {
                self.phases[call.phase].label = label;
                call.phase
            } else {
                self.phases[call.phase].events = self.phases[call.phase].events.saturating_sub(1);
                self.phases[call.phase].end_s = self.phases[call.phase]
                    .end_s
                    .min(call.timestamp)
                    .max(self.phases[call.phase].start_s);
                let i = self.start_phase(label, call.timestamp);
                self.phases[i].events += 1;
                // Responses since the command started belong to the new phase.
                for (at, model, tokens, long) in &self.recent_usage {
                    if *at >= call.timestamp {
                        let (before, after) = self.phases.split_at_mut(i);
                        add_usage(&mut before[call.phase], model, tokens, *long, -1);
                        add_usage(&mut after[0], model, tokens, *long, 1);
                    }
                }
                i
            };
            if let Some(ran) = moved {
                self.phases[index].ran.push(ran);
            }
        }
        if let Some(phase) = self.phases.get_mut(index) {
            phase.last_gate = Some(passed);
        }
        self.last_test_outcome = Some(passed);
        if self.open_tests == 0 {
            self.recent_usage.clear();
        }
        index
    }

    pub fn finish(mut self) -> Phases {
        for (path, file_use) in self.touches.owed().to_vec() {
            self.owed(&path, file_use);
        }
        // The files of the calls no result answered count too (`model::touches`), in the
        // order of the calls, each in its call's phase (a file tool's call listed it there).
        let mut pending: Vec<(usize, Option<usize>, String, FileUse)> = self
            .touches
            .pending()
            .map(|(id, (path, file_use))| {
                let call = self.calls.get(id);
                let number = call.map_or(usize::MAX, |c| c.number);
                (
                    number,
                    call.map(|c| c.phase),
                    path.clone(),
                    file_use.clone(),
                )
            })
            .collect();
        pending.sort();
        for (_, phase, path, file_use) in pending {
            let path = self.relative(&path);
            self.touch(&path, &file_use);
            let phase = phase.unwrap_or(self.phases.len().max(1) - 1);
            let file_use = self.relative_use(file_use);
            if let Some(phase) = self.phases.get_mut(phase) {
                phase.list(&path, file_use);
            }
        }
        for phase in &mut self.phases {
            phase.failed = phase.last_gate == Some(false);
        }
        // Goals still failing at the end: a loop when they were tried more than once.
        for (goal, (what, attempts)) in std::mem::take(&mut self.failing) {
            if attempts.len() > 1 {
                self.retry_loops
                    .push(retry_loop(goal, what, &attempts, false));
            }
        }
        self.retry_loops.sort_by(|a, b| {
            a.start_s
                .total_cmp(&b.start_s)
                .then(a.attempts.cmp(&b.attempts))
        });
        self.failures.sort_by_key(|f| f.event);
        self.rejected.sort_by_key(|r| r.event);
        // A phase lasts until the next one starts.
        let starts: Vec<f64> = self.phases.iter().map(|p| p.start_s).collect();
        for (i, phase) in self.phases.iter_mut().enumerate() {
            phase.end_s = starts
                .get(i + 1)
                .copied()
                .unwrap_or(self.last)
                .max(phase.start_s);
        }
        // Summed from zero: an empty sum of floats is -0.0, which would print as "-0%".
        let wasted_s = self
            .retry_loops
            .iter()
            .fold(0.0, |total, l| total + l.wasted_s);
        let files = self
            .file_order
            .iter()
            .filter_map(|p| self.files.get(p).cloned())
            .collect();
        Phases {
            started_at: Believed {
                value: self.origin.unwrap_or_default(),
                believed: self.start_believed,
            },
            duration_s: Believed {
                value: crate::model::seconds::to_millis(self.last),
                believed: self.start_believed && self.end_known,
            },
            events: self.events,
            phases: self.phases,
            files,
            retries: self.retries,
            wasted_s,
            tool_calls: self.tool_calls,
            errors: self.errors,
            tool_errors: self.errors.saturating_sub(self.turn_errors.len() as u64),
            rejections: self.rejections,
            failures: self.failures,
            errors_answered: self.errors_answered,
            failures_without_error: self.failures_without_error,
            rejected: self.rejected,
            turn_errors: self.turn_errors,
            launch_failures: self.launch_failures,
            protocol_errors: self.protocol_errors,
            recording_gaps: self.recording_gaps,
            interrupted_turns: self.interrupted_turns,
            retry_loops: self.retry_loops,
            has_usage: self.has_usage,
            named_model: self.named_model,
            estimate_default: crate::model::summary::estimate_as(self.agent),
            unbelieved_usage: self.unbelieved_usage,
            usage_log: None,
            responses: self.responses,
        }
    }
}

/// A retry loop from its attempts, all failed but perhaps the last.
fn retry_loop(goal: String, what: String, attempts: &[Attempt], resolved: bool) -> RetryLoop {
    let start_s = attempts.first().map_or(0.0, |a| a.start);
    let end_s = attempts.iter().fold(start_s, |end, a| end.max(a.end));
    // The time the attempts that failed and had to be tried again ran; the work between
    // them (fixing what failed) is not counted.
    let wasted_s = attempts[..attempts.len().saturating_sub(1)]
        .iter()
        .fold(0.0, |total, a| total + (a.end - a.start).max(0.0));
    RetryLoop {
        goal,
        what,
        attempts: attempts.iter().map(|a| a.number).collect(),
        start_s,
        end_s,
        duration_s: end_s - start_s,
        wasted_s,
        resolved,
    }
}

/// The line of an error that tells the most: the first that names an error or a failure,
/// else the first that says anything (never the `Exit code N` line). A hook's message with its
/// line breaks escaped (`\n` as two characters) is read as lines too.
fn telling_line(error: &str) -> String {
    const TELLING: [&str; 9] = [
        "error",
        "fail",
        "fatal",
        "exception",
        "panic",
        "denied",
        "not found",
        "no such",
        "cannot",
    ];
    let text = error
        .trim()
        .trim_start_matches("<tool_use_error>")
        .trim_end_matches("</tool_use_error>")
        .replace("\\n", "\n");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && outcome::exit_code(l).is_none())
        .collect();
    let at = lines
        .iter()
        .position(|l| {
            let lower = l.to_lowercase();
            TELLING.iter().any(|w| lower.contains(w))
        })
        .unwrap_or(0);
    let Some(line) = lines.get(at) else {
        return String::new();
    };
    // "Pre-commit validation failed:" says more with the line it introduces.
    let line = match lines.get(at + 1) {
        Some(next) if line.ends_with(':') => format!("{line} {next}"),
        _ => (*line).to_owned(),
    };
    crate::model::text::one_line(&line, 200)
}

/// Adds (`sign` 1) or takes away (`sign` -1) one response's usage in a phase; `long` when it
/// is priced at long-context rates.
fn add_usage(phase: &mut Phase, model: &str, tokens: &Tokens, long: bool, sign: i8) {
    let mut maps = vec![&mut phase.usage];
    if long {
        maps.push(&mut phase.usage_long_context);
    }
    for map in maps {
        let entry = map.entry(model.to_owned()).or_default();
        if sign > 0 {
            entry.add(tokens);
        } else {
            entry.subtract(tokens);
        }
    }
}

/// Whether a shell command runs tests or a build, the runs whose outcome marks progress.
pub fn is_test_or_build(command: &str) -> bool {
    matches!(outcome::purpose(command), Purpose::Test | Purpose::Build)
}

/// A session's phases under its id: what `explain --format json` prints and the MCP tool
/// `get_session_summary` returns.
#[derive(Debug, Serialize)]
pub struct Explained {
    pub session_id: String,
    /// Whether the session has not ended (no end, or events after the one it has): its
    /// duration is then how long it has run so far.
    pub running: bool,
    #[serde(flatten)]
    pub phases: Phases,
}

/// The session's folder, as its start names it (among its first events).
pub fn session_folder(events: &[Event], agent: Agent) -> Option<String> {
    events
        .iter()
        .take(50)
        .find_map(|e| match View::of(e, agent) {
            View::SessionStart(s) => s.cwd.map(|c| c.trim_end_matches('/').to_owned()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventType;
    use serde_json::{Value, json};

    struct S {
        b: PhaseBuilder,
        n: u32,
    }

    impl S {
        fn new() -> S {
            S {
                b: PhaseBuilder::new(Agent::ClaudeCode, Some(1000.0)),
                n: 0,
            }
        }
        fn ev(&mut self, kind: EventType, at: f64, parent: Option<&str>, data: Value) -> String {
            self.n += 1;
            let id = format!("e{}", self.n);
            let mut e = Event::new(kind, 1000.0 + at, id.clone(), "s".into());
            e.parent_id = parent.map(Into::into);
            e.data = data;
            self.b.observe(&e);
            id
        }
        fn bash(&mut self, at: f64, took: f64, cmd: &str, ok: bool) {
            let id = self.ev(
                EventType::ToolCall,
                at,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": cmd}}),
            );
            let kind = if ok {
                EventType::ToolResult
            } else {
                EventType::Error
            };
            self.ev(kind, at + took, Some(&id), json!({"tool_name": "Bash"}));
        }
        /// A shell call whose result says `text`: an error when `failed`, else its output.
        fn shell(&mut self, at: f64, took: f64, cmd: &str, failed: bool, text: &str) -> String {
            let id = self.ev(
                EventType::ToolCall,
                at,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": cmd}}),
            );
            if failed {
                self.ev(
                    EventType::Error,
                    at + took,
                    Some(&id),
                    json!({"tool_name": "Bash", "error": text}),
                );
            } else {
                self.ev(
                    EventType::ToolResult,
                    at + took,
                    Some(&id),
                    json!({"tool_name": "Bash", "result": text, "tool_response": {"stdout": text, "stderr": ""}}),
                );
            }
            id
        }
        fn prompt(&mut self, at: f64, text: &str) {
            self.ev(EventType::UserPrompt, at, None, json!({"prompt": text}));
        }
        fn read(&mut self, at: f64, path: &str) {
            let id = self.ev(
                EventType::ToolCall,
                at,
                None,
                json!({"tool_name": "Read", "arguments": {"file_path": path}}),
            );
            self.ev(
                EventType::ToolResult,
                at + 0.1,
                Some(&id),
                json!({"tool_name": "Read"}),
            );
            self.ev(
                EventType::FileRead,
                at + 0.1,
                Some(&id),
                json!({"path": path}),
            );
        }
    }

    #[test]
    fn the_reference_story_splits_into_three_phases() {
        let mut s = S::new();
        s.ev(
            EventType::UserPrompt,
            0.0,
            None,
            json!({"prompt": "fix the auth module"}),
        );
        s.read(1.0, "AGENTS.md");
        s.read(2.0, "src/auth.py");
        s.bash(5.0, 20.0, "python -m pytest", false);
        s.bash(30.0, 20.0, "python -m pytest", false);
        s.bash(80.0, 40.0, "uv run pytest", true);
        s.ev(
            EventType::AssistantResponse,
            125.0,
            None,
            json!({"text": "done"}),
        );
        let p = s.b.finish();
        let labels: Vec<(&str, bool)> = p
            .phases
            .iter()
            .map(|x| (x.label.as_str(), x.failed))
            .collect();
        assert_eq!(
            labels,
            [
                ("fix the auth module", false),
                ("run tests", true),
                ("run tests", false)
            ]
        );
        let read: Vec<&String> = p.phases[0].read.iter().collect();
        assert_eq!(read, ["AGENTS.md", "src/auth.py"]);
        assert_eq!((p.phases[1].start_s, p.phases[1].end_s), (5.0, 80.0));
        assert_eq!(
            p.phases[1].ran.iter().map(|r| r.retry).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(p.phases[2].ran[0].command, "uv run pytest");
        // Both later runs try the failing tests again, however pytest was started.
        assert!(p.phases[2].ran[0].retry);
        assert_eq!(p.retries, 2);
        // The two failed runs took 20 s each.
        assert!((p.wasted_s - 40.0).abs() < 1e-9);
        assert_eq!(p.retry_loops.len(), 1);
        let l = &p.retry_loops[0];
        assert_eq!((l.goal.as_str(), l.resolved), ("test: pytest", true));
        assert_eq!(l.attempts.len(), 3);
        assert!((l.duration_s - 115.0).abs() < 1e-9);
        assert_eq!(p.failures.len(), 2);
        assert!(p.failures.iter().all(|f| f.retried && f.phase == 2));
        assert_eq!(p.files.len(), 2);
        assert!((p.duration_s.value - 125.0).abs() < 1e-9);
    }

    const REJECTED: &str = "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.";

    #[test]
    fn a_refused_call_is_a_rejection_not_a_failed_phase() {
        let mut s = S::new();
        s.prompt(0.0, "mix phx.server doesnt seem to start");
        s.shell(4.0, 1.0, "mix phx.server 2>&1 | head -80", true, REJECTED);
        s.shell(5.0, 0.5, "mix test", true, REJECTED);
        let p = s.b.finish();
        assert_eq!(p.phases.len(), 1);
        assert!(!p.phases[0].failed);
        assert_eq!((p.errors, p.rejections), (0, 2));
        assert!(p.failures.is_empty());
        assert_eq!(p.rejected.len(), 2);
        assert_eq!(p.phases[0].ran[0].verdict, Some(Verdict::Rejected));
        assert!(!p.phases[0].ran[0].failed);
        assert_eq!((p.retries, p.wasted_s.to_bits()), (0, 0.0_f64.to_bits()));
    }

    #[test]
    fn answers_are_listed_but_fail_nothing() {
        let mut s = S::new();
        s.prompt(0.0, "add multiply");
        s.shell(
            1.0,
            2.0,
            "python -m pytest tests -v",
            false,
            "3 passed in 0.1s",
        );
        s.shell(
            5.0,
            0.2,
            "git add .gitignore && git commit -m x",
            true,
            "Exit code 1\nOn branch master\nnothing to commit, working tree clean",
        );
        s.shell(6.0, 0.2, "grep -rn TODO src", true, "Exit code 1");
        s.shell(7.0, 0.2, "test -f .env && cat .env", true, "Exit code 1");
        let p = s.b.finish();
        assert!(p.phases.iter().all(|x| !x.failed), "{:?}", p.phases);
        assert!(p.failures.is_empty());
        assert_eq!(p.errors, 3);
        let notes: Vec<Option<&str>> = p
            .phases
            .iter()
            .flat_map(|x| &x.ran)
            .map(|r| r.note.as_deref())
            .collect();
        assert!(notes.contains(&Some("nothing to commit")), "{notes:?}");
        assert!(notes.contains(&Some("no match")), "{notes:?}");
        assert!(notes.contains(&Some("condition not met")), "{notes:?}");
    }

    #[test]
    fn a_failing_command_that_is_no_test_is_listed_but_fails_no_phase() {
        let mut s = S::new();
        s.prompt(0.0, "push it");
        s.shell(
            1.0,
            0.5,
            "git push 2>&1",
            true,
            "Exit code 128\nfatal: The current branch x has no upstream branch.",
        );
        let p = s.b.finish();
        assert!(!p.phases[0].failed);
        assert_eq!(p.failures.len(), 1);
        assert_eq!(
            p.failures[0].message,
            "fatal: The current branch x has no upstream branch."
        );
        assert_eq!(p.failures[0].note.as_deref(), Some("exit 128"));
        assert!(!p.failures[0].retried);
        assert!(p.retry_loops.is_empty());
    }

    #[test]
    fn a_commit_blocked_again_and_again_is_a_retry_loop() {
        let mut s = S::new();
        s.prompt(0.0, "commit the work");
        let blocked = "Pre-commit validation failed:\\n\\n[CREDO]\nChecking 88 source files";
        s.shell(
            10.0,
            30.0,
            "git add -A && git commit -m \"feat: a\"",
            true,
            blocked,
        );
        s.shell(60.0, 30.0, "mix format", false, "");
        s.shell(
            100.0,
            30.0,
            "git add -A && git commit -m \"feat: a\"",
            true,
            blocked,
        );
        s.shell(
            200.0,
            30.0,
            "git add -A && git commit --no-verify -m \"feat: a\"",
            true,
            blocked,
        );
        let p = s.b.finish();
        assert!(p.phases[0].failed);
        assert_eq!(p.retries, 2);
        assert_eq!(p.retry_loops.len(), 1);
        let l = &p.retry_loops[0];
        assert_eq!(
            (l.goal.as_str(), l.attempts.len(), l.resolved),
            ("commit: git commit", 3, false)
        );
        assert!((l.duration_s - 220.0).abs() < 1e-9);
        // Two blocked commits of 30 s each; the last attempt was not retried.
        assert!((p.wasted_s - 60.0).abs() < 1e-9);
        assert_eq!(p.failures.iter().filter(|f| f.retried).count(), 2);
    }

    #[test]
    fn a_pass_after_a_failure_clears_the_phase_and_closes_the_loop() {
        let mut s = S::new();
        s.prompt(0.0, "fix");
        s.shell(
            1.0,
            5.0,
            "mix test 2>&1 | tail -3",
            false,
            "12 tests, 2 failures",
        );
        s.shell(
            20.0,
            5.0,
            "mix test 2>&1 | tail -3",
            false,
            "12 tests, 0 failures",
        );
        let p = s.b.finish();
        let failed: Vec<bool> = p.phases.iter().map(|x| x.failed).collect();
        assert_eq!(failed, [false, true, false]);
        assert_eq!(p.failures.len(), 1);
        assert_eq!(p.failures[0].note.as_deref(), Some("2 failed"));
        assert_eq!(p.retry_loops.len(), 1);
        assert!(p.retry_loops[0].resolved);
        assert!((p.wasted_s - 5.0).abs() < 1e-9);
    }

    #[test]
    fn wasted_time_is_never_negative_zero() {
        let p = S::new().b.finish();
        assert_eq!(p.wasted_s.to_bits(), 0.0_f64.to_bits());
    }

    #[test]
    fn test_commands_are_recognised_as_words() {
        assert!(is_test_or_build("cd app && python -m pytest -q"));
        assert!(is_test_or_build("cargo test --all"));
        assert!(is_test_or_build("make"));
        assert!(!is_test_or_build("ls pytest_helpers"));
        assert!(!is_test_or_build("cat makefile.bak"));
        assert!(!is_test_or_build("git status"));
    }

    #[test]
    fn paths_below_the_working_directory_are_shown_relative_to_it() {
        assert_eq!(relative_to(Some("/p"), "/p/src/a.rs"), "src/a.rs");
        assert_eq!(relative_to(Some("/p/"), "/p/src/a.rs"), "src/a.rs");
        assert_eq!(relative_to(Some("/p"), "/pq/a.rs"), "/pq/a.rs");
        assert_eq!(relative_to(Some("/p"), "/p"), "/p");
        assert_eq!(relative_to(None, "/p/a.rs"), "/p/a.rs");
    }
}
