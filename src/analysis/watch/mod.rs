//! `watch`'s judgement of a live session, as pure functions over its events: the figures so
//! far, which rules they break, and the post-mortem of an agent that was stopped.
//!
//! # Architecture
//! - [`rules`]: conditions and actions, and how a rules file's conditions read.
//! - [`postmortem`]: what is written beside a session whose agent a rule killed.
//! - `open_calls`: the shell calls waiting for their results, bounded.
//!
//! The caller (`cli/watch`) follows the session, hands each event to [`Watcher::observe`],
//! tells it the time and the usage it read from the transcript, and acts on what
//! [`Watcher::check`] returns. Nothing here reads a clock, a file or a process.

mod open_calls;
pub mod postmortem;
pub mod rules;

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use crate::model::command::{Purpose, gate, purpose};
use crate::model::file_use::FileUse;
use crate::model::policy::cwd::cd_into;
use crate::model::pricing::{PriceTable, long_context};
use crate::model::read_pairs::ReadPairs;
use crate::model::text::{figure, fixed};
use crate::model::view::View;
use crate::model::windows::ModelWindows;
use crate::model::{Agent, Event, EventHead, Money, Tokens, ToolKind};
use open_calls::OpenCalls;
pub use rules::{Action, Condition, Metric, Rule};

/// Error rates are judged once this many calls have finished: one failed call of one is no
/// rate.
pub const ERROR_RATE_MIN_CALLS: u64 = 5;

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The rule's name (its condition when it has none).
    pub rule: String,
    pub action: Action,
    /// What was seen, in a sentence fragment: `cost_usd is 0.52 (rule: cost_usd >= 0.5)`.
    pub reason: String,
    /// The event that broke it, for a path rule (its number, as replay shows it).
    pub event: Option<usize>,
}

/// Rules not broken so far that cannot judge `model` in full: cost rules whose cost counts it
/// at $0 for want of a price (staying under a ceiling says little), or context rules that
/// cannot measure its context, its window not known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unjudged {
    pub model: String,
    /// The rules' names, in the watch's order.
    pub rules: Vec<String>,
}

/// The figures of a session so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub tool_calls: u64,
    pub files_modified: u64,
    /// Distinct files (and folders) deleted, and moved away: as `stats` counts them, of file
    /// events and file tools' calls.
    pub files_deleted: u64,
    pub files_moved: u64,
    pub consecutive_test_failures: u64,
    pub finished_calls: u64,
    pub failed_calls: u64,
    /// Dollars, from responses recorded as events and from the transcript.
    pub cost_usd: f64,
    pub elapsed_s: f64,
    /// The last response's context, in percent of its model's window: `None` before a
    /// response, and when that model's window is not known (never a guessed one's).
    pub context_pct: Option<f64>,
}

impl Figures {
    /// A figure by name; `None` when it cannot be told yet (an error rate before
    /// [`ERROR_RATE_MIN_CALLS`] calls, a context no response reported).
    pub fn value(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::CostUsd => Some(self.cost_usd),
            Metric::DurationMinutes => Some(self.elapsed_s / 60.0),
            Metric::FilesModified => Some(self.files_modified as f64),
            Metric::FilesDeleted => Some(self.files_deleted as f64),
            Metric::FilesMoved => Some(self.files_moved as f64),
            Metric::ToolCalls => Some(self.tool_calls as f64),
            Metric::ConsecutiveTestFailures => Some(self.consecutive_test_failures as f64),
            Metric::ErrorRate => (self.finished_calls >= ERROR_RATE_MIN_CALLS)
                .then(|| self.failed_calls as f64 / self.finished_calls as f64),
            Metric::ContextPct => self.context_pct,
        }
    }
}

/// Follows a session's events and says when a rule breaks.
#[derive(Debug)]
pub struct Watcher {
    agent: Agent,
    started_at: f64,
    /// How long the session lasted, once it has ended: its time stops there.
    lasted: Option<f64>,
    rules: Vec<Rule>,
    fired: Vec<bool>,
    figures: Figures,
    modified: HashSet<String>,
    /// The files deleted and moved away, by file events and file tools' calls as `modified`.
    /// The files of a shell line with no file event of its own (the Python tool's hooks) are
    /// not parsed out of it, here as for `modified`: a watch of a session of long commands
    /// took half as long again.
    deleted: HashSet<String>,
    moved: HashSet<String>,
    /// What a shell call was for, of open calls, to judge their results: a command's text was
    /// kept until its result came, and a session of calls with no result (each a megabyte of
    /// heredoc) held all of them.
    commands: OpenCalls,
    /// What the last shell call was for, for a result that names no call.
    last_command: Option<Purpose>,
    /// Cost of responses recorded as events; the transcript's is kept apart, replaced whole.
    event_cost: Money,
    transcript_cost: Money,
    /// Models with usage and no known price, which the costs count at $0: of the events, and
    /// of the transcript (replaced whole).
    event_unpriced: BTreeSet<String>,
    transcript_unpriced: BTreeSet<String>,
    /// Responses whose usage holds a count no response can have (its tokens unknown, counted
    /// nowhere): of the events, and of the transcript (replaced whole).
    event_unbelieved: u64,
    transcript_unbelieved: u64,
    /// Whether [`Watcher::unbelieved_news`] has told of them.
    unbelieved_told: bool,
    /// Unpriced models already reported by [`Watcher::unjudged`].
    unjudged_told: BTreeSet<String>,
    /// The folder the session started in (its `session_start`'s `cwd`), where a relative path
    /// of a call that names no folder of its own lies.
    cwd: Option<String>,
    /// Rules broken by events seen but not yet reported: path rules, and figure rules judged
    /// after each event (a count that came and went within one read of the file broke its rule
    /// all the same).
    broken: Vec<Violation>,
    events: usize,
    /// The reads told of once so far, to count a read Cursor tells of twice as one call
    /// ([`ReadPairs`]).
    reads: ReadPairs,
    /// Each model's window so far: a long window one response proved stays for the next ones.
    windows: ModelWindows<'static>,
    /// The window every context is measured against, when one was given.
    given_window: Option<u64>,
    /// Models whose window is not known, whose context is none: and those already reported
    /// by [`Watcher::unmeasured`].
    unwindowed: BTreeSet<String>,
    unwindowed_told: BTreeSet<String>,
}

impl Watcher {
    /// A watcher for a session of `agent` that started at `started_at` (seconds since the
    /// epoch).
    pub fn new(agent: Agent, started_at: f64, rules: Vec<Rule>) -> Watcher {
        Watcher {
            agent,
            started_at,
            lasted: None,
            fired: vec![false; rules.len()],
            rules,
            figures: Figures::default(),
            modified: HashSet::new(),
            deleted: HashSet::new(),
            moved: HashSet::new(),
            commands: OpenCalls::new(),
            last_command: None,
            event_cost: Money::default(),
            transcript_cost: Money::default(),
            event_unpriced: BTreeSet::new(),
            transcript_unpriced: BTreeSet::new(),
            unjudged_told: BTreeSet::new(),
            event_unbelieved: 0,
            transcript_unbelieved: 0,
            unbelieved_told: false,
            cwd: None,
            broken: Vec::new(),
            events: 0,
            reads: ReadPairs::default(),
            windows: ModelWindows::default(),
            given_window: None,
            unwindowed: BTreeSet::new(),
            unwindowed_told: BTreeSet::new(),
        }
    }

    /// Measures every response's context against `window` tokens, in place of the one the
    /// agent recorded or the model's.
    #[must_use]
    pub fn with_context_window(mut self, window: Option<u64>) -> Watcher {
        self.given_window = window;
        self
    }

    /// The session has ended, `lasted` seconds after its start (its end less its start, as
    /// `list` and `stats` give it): a watch started long after the end measured the time to
    /// the watch's now, and broke a limit of an hour on a session of seconds.
    pub fn ended_after(&mut self, lasted: f64) {
        self.lasted = Some(lasted);
    }

    pub fn figures(&self) -> &Figures {
        &self.figures
    }

    /// The models with usage and no known price so far, in name order: `cost_usd` counts them
    /// at $0, so a cost rule may fire late or not at all.
    pub fn unpriced_models(&self) -> Vec<&str> {
        self.event_unpriced
            .union(&self.transcript_unpriced)
            .map(String::as_str)
            .collect()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Takes in the next event of the session (events are numbered from 1 in file order).
    pub fn observe(&mut self, event: &Event) {
        self.events += 1;
        let number = self.events;
        // The path touched, and the folder it was named in.
        let mut touched: Option<(String, Option<String>)> = None;
        match View::of(event, self.agent) {
            View::SessionStart(start) => {
                if let Some(cwd) = start.cwd {
                    self.cwd = Some(cwd.to_owned());
                }
            }
            View::ToolCall(call) => {
                // A call that repeats a read is that read's call: one (`read_pairs`).
                if !self.reads.observe(&EventHead::of(event)) {
                    self.figures.tool_calls += 1;
                }
                if let Some(command) = call.command_line() {
                    let purpose = purpose(&command);
                    if let Some(id) = call.tool_use_id {
                        self.commands.open(id, purpose);
                    }
                    self.last_command = Some(purpose);
                }
                if let Some(path) = call.path() {
                    if let Some(file_use) = call.file_use() {
                        self.count_use(path, &file_use);
                    }
                    touched = Some((path.to_owned(), call.cwd.map(str::to_owned)));
                }
            }
            View::FileTouch(touch) => {
                if let Some(path) = touch.path {
                    self.count_use(path, &touch.file_use);
                    touched = Some((path.to_owned(), None));
                }
            }
            View::ToolResult(result) => {
                // A refused call did not fail, and an error of no call (an API error that ended
                // the turn) is no call's: neither weighs in the error rate.
                if result.rejected() || result.of_no_call {
                    return;
                }
                self.figures.finished_calls += 1;
                if result.failed() {
                    self.figures.failed_calls += 1;
                }
                if result.kind == ToolKind::Shell {
                    let purpose = result
                        .tool_use_id
                        .and_then(|id| self.commands.close(id))
                        .or(self.last_command);
                    if purpose == Some(Purpose::Test) {
                        let output = result.full_text().unwrap_or_default();
                        match gate(Purpose::Test, result.outcome, &output) {
                            Some(false) => self.figures.consecutive_test_failures += 1,
                            Some(true) => self.figures.consecutive_test_failures = 0,
                            None => {}
                        }
                    }
                }
            }
            View::LlmResponse(response) => {
                if response.unbelieved {
                    self.event_unbelieved += 1;
                }
                if let Some(tokens) = response.usage {
                    let model = response.model.unwrap_or_default();
                    self.event_cost += price(model, &tokens, response.long_context());
                    if let Some(name) = unpriced(model, &tokens) {
                        self.event_unpriced.insert(name);
                    }
                    if let Some(window) = response.context_window {
                        self.windows.record(model, window);
                    }
                    if !response.session_total {
                        self.context(model, &tokens);
                    }
                }
            }
            _ => {}
        }
        self.figures.files_modified = self.modified.len() as u64;
        self.figures.files_deleted = self.deleted.len() as u64;
        self.figures.files_moved = self.moved.len() as u64;
        self.figures.cost_usd = (self.event_cost + self.transcript_cost).usd();
        if let Some((path, folder)) = touched {
            self.match_path(&path, folder.as_deref(), number);
        }
        self.judge(false);
    }

    /// Counts `path` among the files modified, deleted or moved away, as `file_use` says: a
    /// file deleted or moved is not modified, as `standup` and `stats` count.
    fn count_use(&mut self, path: &str, file_use: &FileUse) {
        let files = match file_use {
            FileUse::Read => return,
            FileUse::Write => &mut self.modified,
            FileUse::Delete => &mut self.deleted,
            FileUse::Move(_) => &mut self.moved,
        };
        if !files.contains(path) {
            files.insert(path.to_owned());
        }
    }

    /// The usage of every response the transcript holds so far (hooks never see responses):
    /// replaces what an earlier call said. Each says whether it is the session's own (`true`)
    /// or a subagent's, whose spend is the session's but whose context is not.
    pub fn transcript_usage<'a>(
        &mut self,
        responses: impl IntoIterator<Item = (&'a str, Tokens, bool)>,
    ) {
        let mut cost = Money::default();
        let mut last = None;
        self.transcript_unpriced.clear();
        for (model, tokens, own) in responses {
            // One transcript entry is one response.
            cost += price(model, &tokens, long_context(&tokens, true));
            if let Some(name) = unpriced(model, &tokens) {
                self.transcript_unpriced.insert(name);
            }
            if !own {
                continue;
            }
            // Every response the transcript holds tells its model's window, not the last alone;
            // a window proved stays proved, however often a response is told again.
            self.windows.observe(model, tokens.context());
            last = Some((model, tokens));
        }
        self.transcript_cost = cost;
        if let Some((model, tokens)) = last {
            self.context(model, &tokens);
        }
        self.figures.cost_usd = (self.event_cost + self.transcript_cost).usd();
    }

    /// How many of the transcript's responses so far hold usage no response can have (replaces
    /// what an earlier call said, as [`Watcher::transcript_usage`] does).
    pub fn transcript_unbelieved(&mut self, responses: u64) {
        self.transcript_unbelieved = responses;
    }

    /// The responses so far whose usage no response can have, the first time there are any,
    /// and never again: their tokens are unknown, so the cost and context rules judge without
    /// them, which is said once, not at each such response.
    pub fn unbelieved_news(&mut self) -> Option<u64> {
        let n = self.event_unbelieved + self.transcript_unbelieved;
        (n > 0 && !std::mem::replace(&mut self.unbelieved_told, true)).then_some(n)
    }

    fn context(&mut self, model: &str, tokens: &Tokens) {
        self.windows.observe(model, tokens.context());
        let window = self.given_window.or_else(|| self.windows.measure(model));
        if window.is_none() {
            self.unwindowed.insert(if model.is_empty() {
                "(a response that names no model)".to_owned()
            } else {
                model.to_owned()
            });
        }
        self.figures.context_pct =
            window.map(|window| crate::model::windows::percent_of(tokens.context(), window));
    }

    /// Fires the path rules `path` breaks, named in `folder` (the session's when `None`).
    fn match_path(&mut self, path: &str, folder: Option<&str>, number: usize) {
        // The hook records the path as the agent wrote it: `.` and `..` are taken by name (the
        // file system is never asked), so `/tmp/../etc/passwd` is `/etc/passwd` to `/etc/**`,
        // as to a policy. A relative path is placed in its folder for an absolute pattern only:
        // a relative pattern matches from any folder of the path as written.
        let written = cd_into("", path);
        let placed = folder
            .or(self.cwd.as_deref())
            .filter(|dir| dir.starts_with('/'))
            .map(|dir| cd_into(dir, path));
        for (i, rule) in self.rules.iter().enumerate() {
            let Condition::FilePath(glob) = &rule.condition else {
                continue;
            };
            if self.fired[i] {
                continue;
            }
            let seen = if glob.absolute() && !written.starts_with('/') {
                placed.as_deref()
            } else {
                Some(written.as_str())
            };
            let Some(seen) = seen.filter(|p| glob.matches_path(p)) else {
                continue;
            };
            self.fired[i] = true;
            // The path as the rule saw it too, when the agent wrote it otherwise.
            let reason = if seen == path {
                format!("event #{number} touches {path}")
            } else {
                format!("event #{number} touches {path} ({seen})")
            };
            self.broken.push(Violation {
                rule: rule.name.clone(),
                action: rule.action,
                reason,
                event: Some(number),
            });
        }
    }

    /// The rules broken since the last check, at `now` (seconds since the epoch). Each rule
    /// fires once.
    pub fn check(&mut self, now: f64) -> Vec<Violation> {
        self.figures.elapsed_s = self
            .lasted
            .unwrap_or_else(|| (now - self.started_at).max(0.0));
        self.judge(true);
        let mut broken = std::mem::take(&mut self.broken);
        // The strongest action first: a kill makes a pause moot.
        broken.sort_by_key(|v| match v.action {
            Action::Kill => 0,
            Action::Pause => 1,
            Action::Alert => 2,
        });
        broken
    }

    /// Fires the figure rules the figures hold now. `clock`: the time rule too, whose figure
    /// only [`Watcher::check`] tells (after an event it is as old as the last check).
    fn judge(&mut self, clock: bool) {
        for (i, rule) in self.rules.iter().enumerate() {
            if self.fired[i] {
                continue;
            }
            let Condition::Compare {
                metric,
                op,
                threshold,
            } = &rule.condition
            else {
                continue;
            };
            if (*metric == Metric::DurationMinutes && !clock)
                || !rule.condition.holds(|m| self.figures.value(m))
            {
                continue;
            }
            self.fired[i] = true;
            let value = self.figures.value(*metric).unwrap_or_default();
            // A cost that counts some usage at $0 for want of a price is marked, and the
            // models named: the rule judged less than was spent.
            let unpriced = self.unpriced_models();
            let (mark, left_out) = if *metric == Metric::CostUsd && !unpriced.is_empty() {
                (
                    "?",
                    format!("; {} counted at $0: no known price", unpriced.join(", ")),
                )
            } else {
                ("", String::new())
            };
            let violation = Violation {
                rule: rule.name.clone(),
                action: rule.action,
                reason: format!(
                    "{} is {}{mark} ({} {}{left_out})",
                    metric.as_str(),
                    shown_beside(*metric, value, *threshold),
                    op.as_str(),
                    limit(*metric, *threshold)
                ),
                event: None,
            };
            self.broken.push(violation);
        }
    }

    /// The models whose window is not known seen since the last call, each with the context
    /// rules whose figure their responses leave unknown: a model is named once, and only while
    /// some context rule has not fired.
    pub fn unmeasured(&mut self) -> Vec<Unjudged> {
        let rules = self.rules_unfired(Metric::ContextPct);
        let new: Vec<String> = self
            .unwindowed
            .difference(&self.unwindowed_told)
            .cloned()
            .collect();
        self.unwindowed_told.extend(new.iter().cloned());
        unjudged_by(new, &rules)
    }

    /// The names of the rules on `metric` that have not fired, in the watch's order.
    fn rules_unfired(&self, metric: Metric) -> Vec<String> {
        self.rules
            .iter()
            .zip(&self.fired)
            .filter(|(rule, fired)| {
                !**fired
                    && matches!(rule.condition, Condition::Compare { metric: m, .. } if m == metric)
            })
            .map(|(rule, _)| rule.name.clone())
            .collect()
    }

    /// The models with no known price seen since the last call, each with the cost rules it
    /// leaves unjudged: a model is named once, and only while some cost rule has not fired (a
    /// rule that fires names the models itself).
    pub fn unjudged(&mut self) -> Vec<Unjudged> {
        let rules = self.rules_unfired(Metric::CostUsd);
        let new: Vec<String> = self
            .event_unpriced
            .union(&self.transcript_unpriced)
            .filter(|m| !self.unjudged_told.contains(*m))
            .cloned()
            .collect();
        self.unjudged_told.extend(new.iter().cloned());
        unjudged_by(new, &rules)
    }
}

/// Each model of `new` with the `rules` it leaves unjudged; none once every such rule fired.
fn unjudged_by(new: Vec<String>, rules: &[String]) -> Vec<Unjudged> {
    if rules.is_empty() {
        return Vec::new();
    }
    new.into_iter()
        .map(|model| Unjudged {
            model,
            rules: rules.to_vec(),
        })
        .collect()
}

/// What one response's usage cost; `long` when it is priced at long-context rates.
fn price(model: &str, tokens: &Tokens, long: bool) -> Money {
    PriceTable::builtin()
        .find(model)
        .map_or_else(Money::default, |p| p.cost(tokens, long))
}

/// The name of `model` when its usage (some) has no known price and is counted at $0.
fn unpriced(model: &str, tokens: &Tokens) -> Option<String> {
    if tokens.is_zero() || PriceTable::builtin().find(model).is_some() {
        return None;
    }
    Some(if model.is_empty() {
        "(a response that names no model)".to_owned()
    } else {
        model.to_owned()
    })
}

/// A rule's threshold as a person reads it: a ceiling in dollars with the digits it was given.
fn limit(metric: Metric, threshold: f64) -> String {
    match metric {
        Metric::CostUsd => crate::model::usage::dollars_given(threshold),
        // As the rule gave it: rounded, a limit of 57.6% read `58% (>= 58%)`.
        Metric::ContextPct => format!("{}%", figure(threshold)),
        Metric::ErrorRate => format!("{}%", figure(threshold * 100.0)),
        _ => shown(metric, threshold),
    }
}

/// A figure as a person reads it beside the threshold it is judged against: a context of
/// 57.4% read `context_pct is 57% (> 57%)`.
fn shown_beside(metric: Metric, value: f64, threshold: f64) -> String {
    match metric {
        Metric::ContextPct => format!("{}%", crate::model::text::fixed_beside(value, 0, threshold)),
        _ => shown(metric, value),
    }
}

/// A figure as a person reads it.
fn shown(metric: Metric, value: f64) -> String {
    match metric {
        Metric::CostUsd => crate::model::usage::dollars(value),
        // A limit under a minute (`--timeout 30s`) in seconds: 0.5 min reads as a fraction.
        // To the tenth: `--timeout 1.5` read `2 s`.
        Metric::DurationMinutes if value < 1.0 => {
            format!("{} s", figure((value * 600.0).round() / 10.0))
        }
        Metric::DurationMinutes => format!("{} min", fixed(value, 1)),
        Metric::ToolCalls
        | Metric::FilesModified
        | Metric::FilesDeleted
        | Metric::FilesMoved
        | Metric::ConsecutiveTestFailures => figure(value.round()),
        Metric::ErrorRate => format!("{}%", figure((value * 100.0).round())),
        Metric::ContextPct => format!("{}%", figure(value.round())),
    }
}

#[cfg(test)]
mod tests;
