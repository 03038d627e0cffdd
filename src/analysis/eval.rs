//! `eval`: one session scored against scorers (no errors, a cost, a time and a call budget,
//! files kept in scope, a pattern in the agent's answers), each a score from 0 to 1 with the
//! mark it must reach and its weight; the weighted score against pass and warn marks; two
//! sessions' scores side by side.
//!
//! Scores follow the Python tool's `eval`, so that one `.agent-evals.yaml` gives both tools
//! the same verdicts: a limit that is kept scores 1, one that is overrun scores the limit over
//! what was measured (twice the budget scores 0.5); `files_scoped` scores the share of file
//! operations inside the allowed paths. Two facts are read more truly than there: an error is
//! a tool call that failed (a call the user refused is no error, as `list` counts them), and
//! paths are compared relative to the session's working folder, so that an allowed `src/`
//! matches `/home/me/project/src/main.rs` (and never `/src/` elsewhere), a path's `..` taken
//! away first, and a shell command's reads and writes count as a file tool's do.

use serde::Serialize;

use super::compare::{Weighed, WorkOutcome};
use super::ordered_set::OrderedSet;
use crate::model::text::{count, fixed, given};
use crate::model::tools::Agent;
use crate::model::usage::{dollars, dollars_given};
use crate::model::user_regex::UserRegex;
use crate::model::view::{FileTouch, View};
use crate::model::{Counters, Event, EventHead, glob::Glob};

/// The scorers and marks a session is scored with.
#[derive(Debug, Clone)]
pub struct EvalConfig {
    pub scorers: Vec<ScorerConfig>,
    /// The weighted score at or above which a session passes.
    pub pass: f64,
    /// The weighted score below which a session fails; between the two it is a warning.
    pub warn: f64,
    /// The settings file that names no scorer, when the default one (`no_errors`) is scored
    /// in their place.
    pub default_scorer: Option<String>,
}

/// One scorer: what it checks, the score it must reach, and its weight in the overall score.
#[derive(Debug, Clone)]
pub struct ScorerConfig {
    pub check: Check,
    pub threshold: f64,
    pub weight: f64,
}

/// What a scorer checks.
#[derive(Debug, Clone)]
pub enum Check {
    /// No tool call failed.
    NoErrors,
    /// The session cost at most this many dollars (with its subagents, as `cost` counts);
    /// `default_limit` when the file gave none and the Python tool's default is used.
    CostUnder { max_usd: f64, default_limit: bool },
    /// Every file read or written is inside one of these paths: a folder or prefix
    /// (`src/`), or a glob (`src/**/*.rs`), within the session's working folder when relative,
    /// from the root when absolute. None allows no file, as `audit` reads an empty allow list.
    FilesScoped { allowed: Vec<String> },
    /// The session took at most this long; `default_limit` as for `CostUnder`.
    DurationUnder {
        max_seconds: f64,
        default_limit: bool,
    },
    /// The agent made at most this many tool calls.
    ToolCallsUnder { max_calls: u64 },
    /// The pattern matches the text of an event of this type (`assistant_response`: the
    /// agent's answers), as Python's `re.search` finds it.
    Regex {
        pattern: UserRegex,
        event_type: String,
    },
    /// A scorer type of the Python tool this build does not run ([`PYTHON_ONLY`]): it fails,
    /// saying so. Any other type is refused with the settings file.
    Unknown { kind: String },
    /// A gate of the `evals` section of the Python tool's files, which this build does not
    /// run: it fails, saying so, so that a gate written is never passed by being skipped.
    PythonGate { name: String },
}

/// The scorer types of the Python tool (agent-strace 0.103.0) that this build does not run: a
/// file that names one is the Python tool's and is accepted, the scorer counted as failed.
pub const PYTHON_ONLY: &[&str] = &["llm_judge"];

/// The scorer types this build knows.
pub const KNOWN: &[&str] = &[
    "no_errors",
    "cost_under",
    "files_scoped",
    "duration_under",
    "tool_calls_under",
    "regex",
];

impl Check {
    /// The scorer's type, as the settings file names it.
    pub fn name(&self) -> &str {
        match self {
            Check::NoErrors => "no_errors",
            Check::CostUnder { .. } => "cost_under",
            Check::FilesScoped { .. } => "files_scoped",
            Check::DurationUnder { .. } => "duration_under",
            Check::ToolCallsUnder { .. } => "tool_calls_under",
            Check::Regex { .. } => "regex",
            Check::Unknown { kind } => kind,
            Check::PythonGate { name } => name,
        }
    }
}

/// What a session is scored on: its events and the figures the caller worked out.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts<'a> {
    pub session_id: &'a str,
    pub agent: Agent,
    pub events: &'a [Event],
    /// What the session cost, and whether that is an estimate from payload sizes.
    pub cost_usd: f64,
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: &'a [String],
    /// From start to end when the session ended, at times a session can have; else `None`
    /// (the events' span is used).
    pub duration_secs: Option<f64>,
    /// The folder relative paths are taken from when the session names none.
    pub project_dir: Option<&'a str>,
}

/// One scorer's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreResult {
    pub scorer: String,
    pub score: f64,
    pub threshold: f64,
    pub weight: f64,
    pub passed: bool,
    pub reason: String,
    /// What was measured (dollars, seconds, calls, errors, files outside), when a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// How the weighted score compares with the marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// Every scorer weighs 0: there is no weighted score, and the scorers alone decide.
    Unweighted,
}

/// A session's scores.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub session_id: String,
    /// Every scorer passed and the weighted score, when a scorer weighs, reached the warn
    /// mark.
    pub passed: bool,
    pub pass_count: usize,
    pub fail_count: usize,
    /// The scores weighted by each scorer's weight; none when nothing weighs (verdict
    /// `unweighted`): a 0 would read as a failure.
    pub weighted_score: Option<f64>,
    pub verdict: Verdict,
    pub pass_mark: f64,
    pub warn_mark: f64,
    /// The settings file that names no scorer, when the default one was scored instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_scorer: Option<String>,
    pub results: Vec<ScoreResult>,
}

/// Scores `session` with `config`.
pub fn evaluate(session: &SessionFacts<'_>, config: &EvalConfig) -> EvalReport {
    let results: Vec<ScoreResult> = config
        .scorers
        .iter()
        .map(|scorer| score(session, scorer))
        .collect();
    let pass_count = results.iter().filter(|r| r.passed).count();
    let weighted_score = weighted(&results);
    // With no weight there is nothing to weigh against the marks: a score of 0 failed a
    // session every scorer of which passed.
    let verdict = match weighted_score {
        None => Verdict::Unweighted,
        Some(score) if score >= config.pass => Verdict::Pass,
        Some(score) if score >= config.warn => Verdict::Warn,
        Some(_) => Verdict::Fail,
    };
    EvalReport {
        session_id: session.session_id.to_owned(),
        passed: pass_count == results.len() && verdict != Verdict::Fail,
        pass_count,
        fail_count: results.len() - pass_count,
        weighted_score,
        verdict,
        pass_mark: config.pass,
        warn_mark: config.warn,
        default_scorer: config.default_scorer.clone(),
        results,
    }
}

/// The scores weighted by their weights; none when nothing weighs.
fn weighted(results: &[ScoreResult]) -> Option<f64> {
    let weighing = || results.iter().filter(|r| r.weight > 0.0);
    let total_weight: f64 = weighing().map(|r| r.weight).sum();
    if total_weight <= 0.0 {
        return None;
    }
    let mean = weighing().map(|r| r.score * r.weight).sum::<f64>() / total_weight;
    // A mean lies between its least and greatest score, which rounding can overstep: one
    // scorer's 0.8 at weight 0.8 weighed 0.7999999999999999, below a pass mark of 0.8.
    let least = weighing().map(|r| r.score).fold(f64::INFINITY, f64::min);
    let most = weighing()
        .map(|r| r.score)
        .fold(f64::NEG_INFINITY, f64::max);
    Some(mean.clamp(least, most))
}

fn score(session: &SessionFacts<'_>, scorer: &ScorerConfig) -> ScoreResult {
    let (score, reason, value) = match &scorer.check {
        Check::NoErrors => no_errors(session),
        Check::CostUnder {
            max_usd,
            default_limit,
        } => {
            let estimated = if session.cost_estimated {
                " (estimated from payload sizes)"
            } else {
                ""
            };
            let (mut score, mut reason) = under(session.cost_usd, *max_usd, dollars, dollars_given);
            // A cost that counts some usage at $0 for want of a price is marked, and the models
            // named. Under the limit it proves nothing, and fails: a gate that passed on it
            // would pass every session of a model newer than this build's prices.
            let unpriced = session.cost_unpriced_models;
            if !unpriced.is_empty() {
                let spent = dollars(session.cost_usd);
                let cannot_tell = if score >= 1.0 {
                    score = 0.0;
                    ": the cost cannot be checked"
                } else {
                    ""
                };
                reason = format!(
                    "{} ({} counted at $0: no known price{cannot_tell})",
                    reason.replacen(&spent, &format!("{spent}?"), 1),
                    unpriced.join(", ")
                );
            }
            (
                score,
                format!(
                    "{reason}{estimated}{}",
                    defaulted(*default_limit, "max_dollars")
                ),
                Some(session.cost_usd),
            )
        }
        Check::FilesScoped { allowed } => files_scoped(session, allowed),
        Check::DurationUnder {
            max_seconds,
            default_limit,
        } => match duration(session) {
            Some(secs) => {
                let (score, reason) = under(
                    secs,
                    *max_seconds,
                    |v| format!("{}s", fixed(v, 1)),
                    |v| format!("{}s", given(v, 1)),
                );
                let reason = format!("{reason}{}", defaulted(*default_limit, "max_seconds"));
                (score, reason, Some(secs))
            }
            // No time to judge: a session that never ended and holds no event is no quick one.
            None => (
                0.0,
                "no duration: the session has not ended and holds no event".to_owned(),
                None,
            ),
        },
        Check::ToolCallsUnder { max_calls } => {
            // Counted as `stats` and `list` count them (a read Cursor tells of twice is one
            // call, a copy of an event none).
            let mut counters = Counters::default();
            for event in session.events {
                counters.observe(&EventHead::of(event));
            }
            let calls = counters.tool_calls as f64;
            let (score, reason) = under(calls, *max_calls as f64, call_count, call_count);
            (score, reason, Some(calls))
        }
        Check::Regex {
            pattern,
            event_type,
        } => regex(session, pattern, event_type),
        Check::Unknown { kind } => (
            0.0,
            format!(
                "`{kind}` is a scorer of the Python tool that this build does not run; it knows {}",
                KNOWN.join(", ")
            ),
            None,
        ),
        Check::PythonGate { .. } => (
            0.0,
            "a gate of the Python tool's `evals` section, which this build does not run: \
             its scorers are the checks"
                .to_owned(),
            None,
        ),
    };
    ScoreResult {
        scorer: scorer.check.name().to_owned(),
        score,
        threshold: scorer.threshold,
        weight: scorer.weight,
        passed: score >= scorer.threshold,
        reason,
        value,
    }
}

/// What a reason adds when its limit is the default: the file did not give `key`.
fn defaulted(default_limit: bool, key: &str) -> String {
    if default_limit {
        format!(" (the default limit: {key} not set)")
    } else {
        String::new()
    }
}

/// A count of calls as a sentence says it.
fn call_count(calls: f64) -> String {
    count(calls as u64, "call")
}

/// A limit kept scores 1; overrun, the limit over what was measured. `show` says what was
/// measured, `given` the limit with every digit it was given (cut to `show`'s, a limit of
/// 120.04 s read `120.0s > 120.0s limit`).
fn under(
    actual: f64,
    limit: f64,
    show: impl Fn(f64) -> String,
    given: impl Fn(f64) -> String,
) -> (f64, String) {
    let (show, limit_shown) = (&show, given(limit));
    if actual <= limit {
        (1.0, format!("{} ≤ {limit_shown}", show(actual)))
    } else {
        let score = if actual > 0.0 {
            (limit / actual).clamp(0.0, 1.0)
        } else {
            1.0
        };
        (score, format!("{} > {limit_shown} limit", show(actual)))
    }
}

fn no_errors(session: &SessionFacts<'_>) -> (f64, String, Option<f64>) {
    let (mut failed, mut refused, mut of_the_turn, mut cancelled) = (0u64, 0u64, 0u64, 0u64);
    for event in session.events {
        if let View::ToolResult(result) = View::of(event, session.agent) {
            // An API error that ended a turn is no call's: the service failed, not the work.
            if result.of_no_call {
                let turns = !result.protocol_error && result.unrecorded.is_none();
                of_the_turn += u64::from(result.failed() && turns);
                continue;
            }
            failed += u64::from(result.failed());
            refused += u64::from(result.rejected());
            cancelled += u64::from(result.cancelled_by_sibling());
        }
    }
    let mut notes = Vec::new();
    // Counted as every view counts errors, but said apart: they failed because another call
    // did, which is the one to look at.
    if cancelled > 0 {
        notes.push(format!("{cancelled} cancelled when a parallel call failed"));
    }
    match refused {
        0 => {}
        1 => notes.push("1 refused call is no error".to_owned()),
        n => notes.push(format!("{n} refused calls are no errors")),
    }
    match of_the_turn {
        0 => {}
        1 => notes.push("1 API error ended a turn".to_owned()),
        n => notes.push(format!("{n} API errors ended turns")),
    }
    let refused_note = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    let reason = match failed {
        0 => format!("no failed tool calls{refused_note}"),
        1 => format!("1 failed tool call{refused_note}"),
        n => format!("{n} failed tool calls{refused_note}"),
    };
    (
        if failed == 0 { 1.0 } else { 0.0 },
        reason,
        Some(failed as f64),
    )
}

/// From start to end, or the span of the events for a session that has not ended; `None` for
/// one that has not ended and holds no event.
fn duration(session: &SessionFacts<'_>) -> Option<f64> {
    if let Some(secs) = session.duration_secs {
        return Some(secs);
    }
    // An event at a time no session can have (`1e308`) times nothing: it made the session
    // 1e308 s long.
    let times = session
        .events
        .iter()
        .filter_map(|e| crate::model::meta::believed_time(e.timestamp));
    let first = times.clone().fold(f64::INFINITY, f64::min);
    let last = times.fold(f64::NEG_INFINITY, f64::max);
    first
        .is_finite()
        .then_some(if last > first { last - first } else { 0.0 })
}

fn files_scoped(session: &SessionFacts<'_>, allowed: &[String]) -> (f64, String, Option<f64>) {
    let cwd = session
        .events
        .iter()
        .find_map(|e| match View::of(e, session.agent) {
            View::SessionStart(start) => start.cwd,
            _ => None,
        })
        .or(session.project_dir);
    // Without a slash at its end (`/proj/`), which would keep every path from its top.
    let cwd = cwd.and_then(|cwd| {
        cwd.starts_with('/')
            .then(|| lexical(cwd.trim_end_matches('/')).0)
    });
    let scopes: Vec<Scope> = allowed.iter().map(|a| Scope::new(a)).collect();
    // A file event that a tool call made is counted once, with its call: when the call names
    // the path. A shell command's reads and writes are counted as they are.
    // By session and id: a subagent's events are scored with its parent's.
    let calls_with_a_path: std::collections::HashSet<(&str, &str)> = session
        .events
        .iter()
        .filter(
            |e| matches!(View::of(e, session.agent), View::ToolCall(call) if call.path().is_some()),
        )
        .map(|e| (e.session_id.as_str(), e.event_id.as_str()))
        .collect();
    let (mut total, mut outside_ops) = (0usize, 0usize);
    let mut outside: OrderedSet<&str> = OrderedSet::default();
    for event in session.events {
        let path = match View::of(event, session.agent) {
            View::ToolCall(call) => call.path(),
            View::FileTouch(FileTouch { path, .. })
                if event.parent_id.as_deref().is_none_or(|call| {
                    !calls_with_a_path.contains(&(event.session_id.as_str(), call))
                }) =>
            {
                path
            }
            _ => None,
        };
        let Some(path) = path else { continue };
        total += 1;
        let place = Located::new(path, cwd.as_deref());
        if !scopes.iter().any(|s| s.contains(&place)) {
            // Each operation outside counts, as the Python tool counts them.
            outside_ops += 1;
            outside.insert(path);
        }
    }
    if outside.is_empty() {
        let reason = match total {
            0 => "no file operations".to_owned(),
            1 => "the one file operation within the allowed paths".to_owned(),
            _ => format!(
                "all {} within the allowed paths",
                count(total as u64, "file operation")
            ),
        };
        return (1.0, reason, Some(0.0));
    }
    // The share inside, as one division: `1 - outside / total` rounds twice, and 93 of 100
    // scored 0.9299999999999999, failing a threshold of 0.93 it reached.
    let score = (total - outside_ops) as f64 / total as f64;
    let more = if outside.len() > 3 {
        format!(" and {} more", outside.len() - 3)
    } else {
        String::new()
    };
    // No path allowed, every file is outside: a scorer that passed every session would gate
    // nothing.
    let none_allowed = if allowed.is_empty() {
        "no allowed paths set: "
    } else {
        ""
    };
    let reason = format!(
        "{none_allowed}{} of {} outside the allowed paths: {}{more}",
        crate::model::text::thousands(outside_ops as u64),
        count(total as u64, "file operation"),
        outside
            .iter()
            .take(3)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    );
    (score, reason, Some(outside_ops as f64))
}

/// Where a file operation's path lies, in the two forms scopes are written in.
struct Located {
    /// From the session's folder, `/` first (`/src/main.rs`), so that a relative scope matches
    /// from the project's top; `None` outside the folder.
    from_top: Option<String>,
    /// From the root; `None` when the path is relative and the session names no folder.
    absolute: Option<String>,
}

impl Located {
    /// `path` placed against `cwd` (absolute, with no `.` or `..`), its own `.` and `..` taken
    /// away as the system would: `src/../../etc/passwd` is outside the folder.
    fn new(path: &str, cwd: Option<&str>) -> Located {
        let absolute = if path.starts_with('/') {
            Some(lexical(path).0)
        } else {
            cwd.map(|cwd| lexical(&format!("{cwd}/{path}")).0)
        };
        let from_top = match (&absolute, cwd) {
            (Some(absolute), Some("/")) => Some(absolute.clone()),
            (Some(absolute), Some(cwd)) => match absolute.strip_prefix(cwd) {
                Some("") => Some("/".to_owned()),
                Some(rest) if rest.starts_with('/') => Some(rest.to_owned()),
                _ => None,
            },
            // No folder to place it against: a relative path is from the top, when it stays
            // below it.
            (None, _) => match lexical(&format!("/{path}")) {
                (from_top, false) => Some(from_top),
                (_, true) => None,
            },
            (Some(_), None) => None,
        };
        Located { from_top, absolute }
    }
}

/// `path` (taken from the root) with its `.` and `..` taken away and its slashes single, and
/// whether a `..` went above the root; a slash at its end is kept (`src/` is a folder's prefix).
fn lexical(path: &str) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut above = false;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => above |= parts.pop().is_none(),
            part => parts.push(part),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if path.ends_with('/') && !parts.is_empty() {
        out.push('/');
    }
    (out, above)
}

/// One allowed path: a folder or a file and what lies under it, whole names only (`sr` allows
/// no `src/…`, where the Python tool's prefix did), or a glob; from the session's folder when
/// relative (`src/`, `./`), else from the root (`/opt/shared/`).
struct Scope {
    from_top: bool,
    pattern: Pattern,
}

enum Pattern {
    Prefix(String),
    Glob(Glob),
    /// A relative path that goes above the session's folder (`../x/`): none is from its top.
    Nothing,
}

impl Scope {
    fn new(allowed: &str) -> Scope {
        let from_top = !allowed.starts_with('/');
        let (anchored, above) = lexical(allowed);
        let pattern = if from_top && above {
            Pattern::Nothing
        } else if allowed.contains(['*', '?', '[']) {
            Pattern::Glob(Glob::new(&anchored))
        } else {
            Pattern::Prefix(anchored)
        };
        Scope { from_top, pattern }
    }

    fn contains(&self, place: &Located) -> bool {
        let path = if self.from_top {
            &place.from_top
        } else {
            &place.absolute
        };
        let Some(path) = path else { return false };
        match &self.pattern {
            Pattern::Prefix(prefix) => path.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/')
            }),
            Pattern::Glob(glob) => glob.matches_path(path),
            Pattern::Nothing => false,
        }
    }
}

fn regex(
    session: &SessionFacts<'_>,
    pattern: &UserRegex,
    event_type: &str,
) -> (f64, String, Option<f64>) {
    let mut seen = 0usize;
    for event in session.events {
        if event.event_type.as_str() != event_type {
            continue;
        }
        seen += 1;
        let found = match View::of(event, session.agent) {
            View::Answer(answer) if !answer.text.is_empty() => pattern.is_match(answer.text),
            _ => pattern.is_match(&event.data.to_string()),
        };
        match found {
            Ok(false) => {}
            Ok(true) => {
                return (
                    1.0,
                    format!(
                        "/{}/ matched an event of type {event_type}",
                        pattern.as_str()
                    ),
                    None,
                );
            }
            // Python's search would run on for as long as it takes; a pattern that cannot be
            // decided is no match found, and the reason says why.
            Err(gave_up) => {
                return (
                    0.0,
                    format!(
                        "/{}/ was not decided on an event of type {event_type}: {gave_up}",
                        pattern.as_str()
                    ),
                    None,
                );
            }
        }
    }
    (
        0.0,
        format!(
            "/{}/ matched none of {} of type {event_type}",
            pattern.as_str(),
            count(seen as u64, "event")
        ),
        None,
    )
}

/// Two sessions scored with the same scorers, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct EvalComparison {
    pub a: EvalReport,
    pub b: EvalReport,
    pub rows: Vec<ComparedScore>,
    /// B's weighted score minus A's; none when nothing weighs.
    pub weighted_delta: Option<f64>,
    /// Where each session's work stood at its end: its last test run, build or check.
    pub outcome_a: WorkOutcome,
    pub outcome_b: WorkOutcome,
    /// `improved`, `regressed`, `same` or `untested`: B against A as `diff --semantic` decides
    /// it first ([`WorkOutcome::weigh`]: work ending passing beats work ending failing, and
    /// work that ran no test, build or check is not judged against work that did), then by
    /// the weighted score, then by scorers passed.
    pub verdict: &'static str,
    /// Why, most telling first.
    pub reasons: Vec<String>,
}

/// One scorer's scores in both sessions.
#[derive(Debug, Clone, Serialize)]
pub struct ComparedScore {
    pub scorer: String,
    pub a: f64,
    pub b: f64,
    pub delta: f64,
    pub a_passed: bool,
    pub b_passed: bool,
}

/// Compares two reports made with the same config, of sessions whose work ended as
/// `outcome_a` and `outcome_b`.
pub fn compare(
    a: EvalReport,
    b: EvalReport,
    outcome_a: WorkOutcome,
    outcome_b: WorkOutcome,
) -> EvalComparison {
    let rows = a
        .results
        .iter()
        .zip(&b.results)
        .map(|(ra, rb)| ComparedScore {
            scorer: ra.scorer.clone(),
            a: ra.score,
            b: rb.score,
            delta: rb.score - ra.score,
            a_passed: ra.passed,
            b_passed: rb.passed,
        })
        .collect();
    let weighted_delta = a.weighted_score.zip(b.weighted_score).map(|(a, b)| b - a);
    let mut reasons = Vec::new();
    let verdict = match WorkOutcome::weigh(outcome_a, outcome_b) {
        Weighed::BPassed => {
            reasons.push("its last test run, build or check passed where A's failed".to_owned());
            "improved"
        }
        Weighed::APassed => {
            reasons.push("its last test run, build or check failed where A's passed".to_owned());
            "regressed"
        }
        Weighed::Untested(why) => {
            reasons.push(why);
            "untested"
        }
        Weighed::Open(note) => {
            // Scores are shown to two places: a smaller change is no change.
            let delta = weighted_delta.unwrap_or_default();
            let verdict = if delta > 0.005 {
                reasons.push(format!("a higher weighted score ({delta:+.2})"));
                "improved"
            } else if delta < -0.005 {
                reasons.push(format!("a lower weighted score ({delta:+.2})"));
                "regressed"
            } else {
                match b.pass_count.cmp(&a.pass_count) {
                    std::cmp::Ordering::Greater => {
                        reasons.push(format!(
                            "more scorers passed ({} → {})",
                            a.pass_count, b.pass_count
                        ));
                        "improved"
                    }
                    std::cmp::Ordering::Less => {
                        reasons.push(format!(
                            "fewer scorers passed ({} → {})",
                            a.pass_count, b.pass_count
                        ));
                        "regressed"
                    }
                    std::cmp::Ordering::Equal => "same",
                }
            };
            reasons.push(note.to_owned());
            verdict
        }
    };
    EvalComparison {
        a,
        b,
        rows,
        weighted_delta,
        outcome_a,
        outcome_b,
        verdict,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventType;
    use serde_json::json;

    fn event(kind: EventType, ts: f64, data: serde_json::Value) -> Event {
        Event::new(kind, ts, format!("e{ts}"), "s".into()).with_data(data)
    }

    fn facts(events: &[Event]) -> SessionFacts<'_> {
        SessionFacts {
            session_id: "s",
            agent: Agent::ClaudeCode,
            events,
            cost_usd: 0.2,
            cost_estimated: false,
            cost_unpriced_models: &[],
            duration_secs: None,
            project_dir: None,
        }
    }

    fn one(check: Check, threshold: f64) -> EvalConfig {
        EvalConfig {
            scorers: vec![ScorerConfig {
                check,
                threshold,
                weight: threshold,
            }],
            pass: 0.85,
            warn: 0.7,
            default_scorer: None,
        }
    }

    #[test]
    fn overrun_limits_score_the_limit_over_the_measure() {
        let events = [
            event(EventType::SessionStart, 0.0, json!({})),
            event(EventType::SessionEnd, 300.0, json!({})),
        ];
        let r = evaluate(
            &facts(&events),
            &one(
                Check::DurationUnder {
                    max_seconds: 150.0,
                    default_limit: false,
                },
                1.0,
            ),
        );
        assert!((r.results[0].score - 0.5).abs() < 1e-9);
        assert!(!r.passed);
        let r = evaluate(
            &facts(&events),
            &one(
                Check::CostUnder {
                    max_usd: 0.1,
                    default_limit: false,
                },
                0.5,
            ),
        );
        assert!((r.results[0].score - 0.5).abs() < 1e-9);
        assert!(r.results[0].passed);
    }

    #[test]
    fn scopes_are_prefixes_or_globs_from_the_working_folder() {
        let call = |ts, path: &str| {
            event(
                EventType::ToolCall,
                ts,
                json!({"tool_name": "Read", "arguments": {"file_path": path}}),
            )
        };
        let events = [
            event(EventType::SessionStart, 0.0, json!({"cwd": "/home/me/p"})),
            call(1.0, "/home/me/p/src/main.rs"),
            call(2.0, "/home/me/p/tests/a.rs"),
            call(3.0, "/etc/passwd"),
            call(4.0, "/home/me/p/vendor/src/x.rs"),
        ];
        let check = Check::FilesScoped {
            allowed: vec!["src/".into(), "tests/**/*.rs".into()],
        };
        let r = evaluate(&facts(&events), &one(check, 0.9));
        let result = &r.results[0];
        assert!((result.score - 0.5).abs() < 1e-9, "{result:?}");
        assert!(result.reason.contains("/etc/passwd"), "{}", result.reason);
        assert!(
            result.reason.contains("vendor/src/x.rs"),
            "{}",
            result.reason
        );
    }

    /// Whether a session in `cwd` whose one call reads `path` keeps `allowed`.
    fn keeps(cwd: &str, path: &str, allowed: &[&str]) -> bool {
        let events = [
            event(EventType::SessionStart, 0.0, json!({"cwd": cwd})),
            event(
                EventType::ToolCall,
                1.0,
                json!({"tool_name": "Read", "arguments": {"file_path": path}}),
            ),
        ];
        let check = Check::FilesScoped {
            allowed: allowed.iter().map(|a| (*a).to_owned()).collect(),
        };
        evaluate(&facts(&events), &one(check, 1.0)).results[0].passed
    }

    /// Paths are placed as the system would place them: `..` taken away, a relative scope only
    /// inside the session's folder, an absolute one from the root, inside the folder or not.
    #[test]
    fn scopes_hold_paths_as_the_system_resolves_them() {
        let escape = |allowed: &[&str]| keeps("/proj", "/proj/src/../../etc/passwd", allowed);
        assert!(!escape(&["src/"]) && !escape(&["src/**"]) && !escape(&["./"]));
        assert!(escape(&["/etc/"]));
        let relative = |allowed: &[&str]| keeps("/proj", "src/../../../root/.ssh/id_rsa", allowed);
        assert!(!relative(&["src/"]) && !relative(&["./**"]));
        let outside = |allowed: &[&str]| keeps("/proj", "/etc/cron.d/evil", allowed);
        assert!(!outside(&["./"]) && !outside(&["./**"]) && !outside(&["etc/"]));
        let beside = |allowed: &[&str]| keeps("/proj", "/src/evil", allowed);
        assert!(!beside(&["src/"]));
        // A folder written with a slash at its end is the same folder.
        assert!(keeps("/proj/", "/proj/src/main.rs", &["src/"]));
        assert!(!keeps("/proj/", "/etc/passwd", &["./"]));
        let inside = |allowed: &[&str]| keeps("/proj", "/proj/src/a/../main.rs", allowed);
        assert!(inside(&["src/"]) && inside(&["/proj/"]) && inside(&["/proj/src/**"]));
        assert!(inside(&["./"]) && inside(&["."]) && !inside(&["../proj/"]));
        let relative_inside = |allowed: &[&str]| keeps("/proj", "./src/./main.rs", allowed);
        assert!(relative_inside(&["src/"]) && relative_inside(&["/proj/src/"]));
    }

    /// A shell command's reads and writes count: its file events were taken as counted with
    /// their call, and a command names no path.
    #[test]
    fn a_shell_commands_files_are_scoped() {
        let mut events = vec![
            event(EventType::SessionStart, 0.0, json!({"cwd": "/proj"})),
            event(
                EventType::ToolCall,
                1.0,
                json!({"tool_name": "Bash", "arguments": {"command": "echo x > /etc/evil"}}),
            ),
            event(EventType::FileWrite, 2.0, json!({"path": "/etc/evil"})),
            event(
                EventType::ToolCall,
                3.0,
                json!({"tool_name": "Write", "arguments": {"file_path": "/proj/src/a.rs"}}),
            ),
            event(EventType::FileWrite, 4.0, json!({"path": "/proj/src/a.rs"})),
        ];
        events[2].parent_id = Some(events[1].event_id.clone());
        events[4].parent_id = Some(events[3].event_id.clone());
        let check = Check::FilesScoped {
            allowed: vec!["src/".into()],
        };
        let r = evaluate(&facts(&events), &one(check, 1.0));
        let result = &r.results[0];
        assert!((result.score - 0.5).abs() < 1e-9, "{result:?}");
        assert!(
            result.reason.contains("1 of 2 file operations"),
            "{}",
            result.reason
        );
    }
}
