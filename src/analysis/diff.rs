//! `diff`: two sessions compared by their phases ([`structural`]) or by what they achieved
//! ([`semantic`]).
//!
//! The structural diff aligns the two sessions' phases by label (a longest common subsequence
//! of the labels, compared without case or extra spaces), then says per phase what files,
//! commands and outcomes differ, which phases one session had and the other did not, and where
//! the two first parted. The semantic diff leaves order aside: which tools each used, and how
//! calls, errors, tokens, retries, time and money changed from A to B, with a verdict on
//! whether B's outcome improved on A's.
//!
//! Both count each session alone: its phases are its own events', so its cost is too (its
//! subagents' are left out, as they are of its tokens and calls), and the diff says so.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::compare::{Weighed, WorkOutcome};
use super::phases::{Phase, Phases};
use crate::model::command::Verdict;
use crate::model::meta::Believed;

/// What the diff needs of one session.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub session_id: &'a str,
    pub phases: &'a Phases,
    pub cost_usd: f64,
    /// The cost is estimated from payload sizes: the session recorded no usage.
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: the cost counts them at $0.
    pub cost_unpriced_models: &'a [String],
    /// How many subagent sessions the session has: its figures, cost included, count the
    /// session alone, without them.
    pub subagents: usize,
}

/// Which sessions a diff's figures count: each session alone, its subagents left out, so that
/// its tokens, calls, errors, time and cost are of the same events. `a` and `b` say how many
/// subagent sessions each has.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Subagents {
    pub counted: bool,
    pub a: usize,
    pub b: usize,
}

impl Subagents {
    /// Each session counted alone, `a` and `b` subagent sessions left out (shared with
    /// `compare`).
    pub fn left_out(a: usize, b: usize) -> Subagents {
        Subagents {
            counted: false,
            a,
            b,
        }
    }

    fn of(a: &Input<'_>, b: &Input<'_>) -> Subagents {
        Subagents::left_out(a.subagents, b.subagents)
    }
}

/// One step of the aligned phases: a phase of both sessions, or of one only.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseStep {
    /// The phase's index in A (from 1), when A had it.
    pub phase_a: Option<usize>,
    pub phase_b: Option<usize>,
    pub label: String,
    /// Anything differs: files, commands, the outcome, or the phase is one session's only.
    pub differs: bool,
    pub files_only_a: Vec<String>,
    pub files_only_b: Vec<String>,
    /// Files written in this phase by A and not by B (whether or not B read them).
    pub written_only_a: Vec<String>,
    pub written_only_b: Vec<String>,
    /// Files and folders deleted in this phase by A and not by B.
    pub deleted_only_a: Vec<String>,
    pub deleted_only_b: Vec<String>,
    pub commands_only_a: Vec<String>,
    pub commands_only_b: Vec<String>,
    /// Whether the phase failed in A (`None`: A had no such phase).
    pub failed_a: Option<bool>,
    pub failed_b: Option<bool>,
    /// Commands both ran, that ended differently.
    pub outcomes: Vec<OutcomeChange>,
    /// The first event of A in this phase that differs (a command only A ran), if any.
    pub first_event_a: Option<usize>,
    pub first_event_b: Option<usize>,
}

/// A command both sessions ran in a phase, with how it last ended in each.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutcomeChange {
    pub command: String,
    pub a: Option<Verdict>,
    pub b: Option<Verdict>,
}

/// A session's totals, for the footer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Totals {
    pub session_id: String,
    /// Unknown (`null`) when the session's start is one no session can have, as `explain`
    /// gives it.
    pub duration_s: Believed<f64>,
    pub events: u64,
    pub phases: usize,
    pub tool_calls: u64,
    pub errors: u64,
    pub retries: u64,
    pub files_read: usize,
    pub files_written: usize,
    /// Files and folders deleted, and moved: none of them written.
    pub files_deleted: usize,
    pub files_moved: usize,
    pub cost_usd: f64,
    /// `cost_usd` is estimated from payload sizes: the session recorded no usage.
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: Vec<String>,
}

/// Two sessions compared phase by phase.
#[derive(Debug, Clone, Serialize)]
pub struct StructuralDiff {
    pub session_a: String,
    pub session_b: String,
    /// Every phase of both, aligned, in order.
    pub steps: Vec<PhaseStep>,
    /// The first step that differs (its index in `steps`, from 1); `None` when the two are
    /// structurally the same.
    pub diverged_at: Option<usize>,
    pub a: Totals,
    pub b: Totals,
    pub subagents: Subagents,
}

/// A phase's key for alignment: its label without case or extra spaces.
fn key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The most cells [`lcs`]'s table may have (64 MiB): two sessions of 4,096 phases each.
const LCS_CELLS: usize = 1 << 24;

/// The pairs `(i, j)` of a longest common subsequence of `a` and `b`. Past [`LCS_CELLS`] the
/// table is not made (it grows with the product of the lengths: two forged sessions of 50,000
/// prompts each asked for 10 GB): the common start and end are paired, and the middle too when
/// what is left of it fits.
fn lcs<T: PartialEq>(left: &[T], right: &[T]) -> Vec<(usize, usize)> {
    let (m, n) = (left.len(), right.len());
    if m.saturating_mul(n) > LCS_CELLS {
        return lcs_of_ends(left, right);
    }
    let mut table = vec![0u32; (m + 1) * (n + 1)];
    let at = |i: usize, j: usize| i * (n + 1) + j;
    for i in (0..m).rev() {
        for j in (0..n).rev() {
            table[at(i, j)] = if left[i] == right[j] {
                1 + table[at(i + 1, j + 1)]
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < m && j < n {
        if left[i] == right[j] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if table[at(i + 1, j)] >= table[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// [`lcs`] of sequences too long for its table: the common start and end paired, and the
/// middle between them aligned by [`lcs`] when it fits, else left unpaired.
fn lcs_of_ends<T: PartialEq>(left: &[T], right: &[T]) -> Vec<(usize, usize)> {
    let (m, n) = (left.len(), right.len());
    let start = left.iter().zip(right).take_while(|(x, y)| x == y).count();
    let end = left[start..]
        .iter()
        .rev()
        .zip(right[start..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (middle_left, middle_right) = (&left[start..m - end], &right[start..n - end]);
    let middle = if middle_left.len().saturating_mul(middle_right.len()) > LCS_CELLS {
        Vec::new()
    } else {
        lcs(middle_left, middle_right)
    };
    (0..start)
        .map(|i| (i, i))
        .chain(middle.into_iter().map(|(i, j)| (start + i, start + j)))
        .chain((0..end).rev().map(|k| (m - 1 - k, n - 1 - k)))
        .collect()
}

fn wrote(phase: &Phase) -> BTreeSet<&str> {
    phase.wrote.iter().map(String::as_str).collect()
}

fn deleted(phase: &Phase) -> BTreeSet<&str> {
    phase.deleted.iter().map(String::as_str).collect()
}

/// The files a phase touched: read, wrote, deleted, or moved away.
fn files(phase: &Phase) -> BTreeSet<&str> {
    let moved = phase.moved.iter().map(|m| &m.from);
    let touched = phase.read.iter().chain(&phase.wrote).chain(&phase.deleted);
    touched.chain(moved).map(String::as_str).collect()
}

/// Each command of a phase with how it last ended, and its first event.
fn commands(phase: &Phase) -> BTreeMap<&str, (Option<Verdict>, usize)> {
    let mut map: BTreeMap<&str, (Option<Verdict>, usize)> = BTreeMap::new();
    for ran in &phase.ran {
        let entry = map
            .entry(ran.command.trim())
            .or_insert((ran.verdict, ran.event));
        entry.0 = ran.verdict;
        entry.1 = entry.1.min(ran.event);
    }
    map
}

fn only(mine: &BTreeSet<&str>, theirs: &BTreeSet<&str>) -> Vec<String> {
    mine.difference(theirs).map(|s| (*s).to_owned()).collect()
}

fn step(a: Option<&Phase>, b: Option<&Phase>) -> PhaseStep {
    let empty = BTreeSet::new();
    let (fa, fb) = (
        a.map_or_else(|| empty.clone(), files),
        b.map_or(empty, files),
    );
    let (ca, cb) = (
        a.map(commands).unwrap_or_default(),
        b.map(commands).unwrap_or_default(),
    );
    let keys_a: BTreeSet<&str> = ca.keys().copied().collect();
    let keys_b: BTreeSet<&str> = cb.keys().copied().collect();
    let commands_only_a = only(&keys_a, &keys_b);
    let commands_only_b = only(&keys_b, &keys_a);
    let outcomes: Vec<OutcomeChange> = keys_a
        .intersection(&keys_b)
        .filter(|c| ca[*c].0 != cb[*c].0)
        .map(|c| OutcomeChange {
            command: (*c).to_owned(),
            a: ca[*c].0,
            b: cb[*c].0,
        })
        .collect();
    let first = |only: &[String], map: &BTreeMap<&str, (Option<Verdict>, usize)>| {
        only.iter()
            .filter_map(|c| map.get(c.as_str()))
            .map(|v| v.1)
            .min()
    };
    let first_event_a = first(&commands_only_a, &ca);
    let first_event_b = first(&commands_only_b, &cb);
    let files_only_a = only(&fa, &fb);
    let files_only_b = only(&fb, &fa);
    let (wa, wb) = (
        a.map(wrote).unwrap_or_default(),
        b.map(wrote).unwrap_or_default(),
    );
    let written_only_a = only(&wa, &wb);
    let written_only_b = only(&wb, &wa);
    let (da, db) = (
        a.map(deleted).unwrap_or_default(),
        b.map(deleted).unwrap_or_default(),
    );
    let deleted_only_a = only(&da, &db);
    let deleted_only_b = only(&db, &da);
    let (failed_a, failed_b) = (a.map(|p| p.failed), b.map(|p| p.failed));
    let differs = a.is_none()
        || b.is_none()
        || !files_only_a.is_empty()
        || !files_only_b.is_empty()
        || !written_only_a.is_empty()
        || !written_only_b.is_empty()
        || !deleted_only_a.is_empty()
        || !deleted_only_b.is_empty()
        || !commands_only_a.is_empty()
        || !commands_only_b.is_empty()
        || !outcomes.is_empty()
        || failed_a != failed_b;
    PhaseStep {
        phase_a: a.map(|p| p.index),
        phase_b: b.map(|p| p.index),
        label: a.or(b).map(|p| p.label.clone()).unwrap_or_default(),
        differs,
        files_only_a,
        files_only_b,
        written_only_a,
        written_only_b,
        deleted_only_a,
        deleted_only_b,
        commands_only_a,
        commands_only_b,
        failed_a,
        failed_b,
        outcomes,
        first_event_a,
        first_event_b,
    }
}

fn totals(input: &Input<'_>) -> Totals {
    let p = input.phases;
    Totals {
        session_id: input.session_id.to_owned(),
        duration_s: p.duration_s,
        events: p.events,
        phases: p.phases.len(),
        tool_calls: p.tool_calls,
        errors: p.errors,
        retries: p.retries,
        files_read: p.files.iter().filter(|f| f.reads > 0).count(),
        files_written: p.files.iter().filter(|f| f.writes > 0).count(),
        files_deleted: p.files.iter().filter(|f| f.deletes > 0).count(),
        files_moved: p.files.iter().filter(|f| f.moves > 0).count(),
        cost_usd: input.cost_usd,
        cost_estimated: input.cost_estimated,
        cost_unpriced_models: input.cost_unpriced_models.to_vec(),
    }
}

/// Compares the phases of `a` and `b`.
pub fn structural(a: &Input<'_>, b: &Input<'_>) -> StructuralDiff {
    let (pa, pb) = (&a.phases.phases, &b.phases.phases);
    let keys_a: Vec<String> = pa.iter().map(|p| key(&p.label)).collect();
    let keys_b: Vec<String> = pb.iter().map(|p| key(&p.label)).collect();
    let mut steps = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (x, y) in lcs(&keys_a, &keys_b)
        .into_iter()
        .chain([(pa.len(), pb.len())])
    {
        // Phases before the next aligned pair are one session's only: A's first, then B's.
        steps.extend(pa[i..x].iter().map(|p| step(Some(p), None)));
        steps.extend(pb[j..y].iter().map(|p| step(None, Some(p))));
        if x < pa.len() && y < pb.len() {
            steps.push(step(Some(&pa[x]), Some(&pb[y])));
        }
        (i, j) = (x + 1, y + 1);
    }
    let diverged_at = steps.iter().position(|s| s.differs).map(|i| i + 1);
    StructuralDiff {
        session_a: a.session_id.to_owned(),
        session_b: b.session_id.to_owned(),
        steps,
        diverged_at,
        a: totals(a),
        b: totals(b),
        subagents: Subagents::of(a, b),
    }
}

/// A figure in A, in B, and the change from A to B.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Delta<T> {
    pub a: T,
    pub b: T,
    pub delta: T,
}

fn delta_u(a: u64, b: u64) -> Delta<i64> {
    let (a, b) = (
        i64::try_from(a).unwrap_or(i64::MAX),
        i64::try_from(b).unwrap_or(i64::MAX),
    );
    Delta {
        a,
        b,
        delta: b.saturating_sub(a),
    }
}

fn delta_f(a: f64, b: f64) -> Delta<f64> {
    Delta { a, b, delta: b - a }
}

/// The change from `a` to `b`, believed when both are.
fn delta_believed(a: Believed<f64>, b: Believed<f64>) -> Delta<Believed<f64>> {
    Delta {
        a,
        b,
        delta: Believed {
            value: b.value - a.value,
            believed: a.believed && b.believed,
        },
    }
}

/// How B's outcome compares with A's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Improved,
    Regressed,
    Same,
    /// One session ran a test, build or check and the other ran none: fewer errors in a run
    /// that did not test its work do not make it better, nor more errors worse.
    Untested,
}

/// Two sessions compared by what they achieved, not by the order they did it in.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticDiff {
    pub session_a: String,
    pub session_b: String,
    /// Tools B used that A did not.
    pub tools_added: Vec<String>,
    /// Tools A used that B did not.
    pub tools_removed: Vec<String>,
    pub tool_calls: Delta<i64>,
    /// Calls that failed by the tool's own verdict, and the errors of no call, as `list` and
    /// `explain` count errors.
    pub errors: Delta<i64>,
    /// Of `errors`, those of no call: the API errors that ended a turn (`explain`'s
    /// `turn_errors`). They weigh nothing in the verdict: the service failed, not the work.
    pub turn_errors: Delta<i64>,
    /// Turns an interrupt ended (`explain`'s `interrupted_turns`).
    pub interrupted_turns: Delta<i64>,
    /// The failures `explain` lists, which the verdict weighs: the errors less those that were
    /// answers (`git commit` with nothing to commit), and the failures that reported no error
    /// (a test run piped through `tail`).
    pub failures: Delta<i64>,
    /// Of each session's errors, those that were answers, not failures: what each answered,
    /// by how often (as `explain` gives them).
    pub errors_answered_a: BTreeMap<String, u64>,
    pub errors_answered_b: BTreeMap<String, u64>,
    /// Of each session's failures, those whose call reported no error.
    pub failures_without_error_a: u64,
    pub failures_without_error_b: u64,
    /// Recorded tokens (estimated from payload sizes when a session recorded none).
    pub tokens: Delta<i64>,
    pub tokens_estimated: bool,
    pub retries: Delta<i64>,
    /// Each unknown (`null`) when its session's start is one no session can have, and the
    /// change then too.
    pub duration_s: Delta<Believed<f64>>,
    pub cost_usd: Delta<f64>,
    /// A's and B's costs are estimated from payload sizes: the session recorded no usage.
    pub cost_estimated_a: bool,
    pub cost_estimated_b: bool,
    /// Models whose usage has no known price, in name order: A's and B's costs count them at $0.
    pub cost_unpriced_models_a: Vec<String>,
    pub cost_unpriced_models_b: Vec<String>,
    pub files_written_added: Vec<String>,
    pub files_written_removed: Vec<String>,
    /// Files and folders B deleted and A did not, and the reverse.
    pub files_deleted_added: Vec<String>,
    pub files_deleted_removed: Vec<String>,
    pub outcome_a: WorkOutcome,
    pub outcome_b: WorkOutcome,
    /// Whether B did better than A.
    pub verdict: Change,
    /// Why, most telling first.
    pub reasons: Vec<String>,
    pub subagents: Subagents,
}

fn tools(phases: &Phases) -> BTreeSet<&str> {
    phases
        .phases
        .iter()
        .flat_map(|p| p.tools.keys())
        .map(String::as_str)
        .collect()
}

/// Tokens a session used: recorded, else estimated; and whether estimated.
fn tokens(phases: &Phases) -> (u64, bool) {
    if phases.has_usage {
        (
            phases.phases.iter().map(|p| p.recorded().total()).sum(),
            false,
        )
    } else {
        (phases.phases.iter().map(|p| p.estimate.total()).sum(), true)
    }
}

/// Compares what `a` and `b` achieved. B improved on A when its work ends passing where A's
/// failed; else, when both or neither ran a test, build or check, when it had fewer failures
/// (errors that were answers, such as nothing to commit, are none),
/// else when it retried less. The reverse is a regression. When only one of them tested its
/// work the verdict is [`Change::Untested`]; anything else is the same outcome.
pub fn semantic(a: &Input<'_>, b: &Input<'_>) -> SemanticDiff {
    let (pa, pb) = (a.phases, b.phases);
    let (ta, tb) = (tools(pa), tools(pb));
    let (wa, wb) = (pa.written_files(), pb.written_files());
    let (da, db) = (pa.deleted_files(), pb.deleted_files());
    let ((tok_a, est_a), (tok_b, est_b)) = (tokens(pa), tokens(pb));
    let (oa, ob) = (WorkOutcome::of(pa), WorkOutcome::of(pb));
    let mut reasons = Vec::new();
    let verdict = match WorkOutcome::weigh(oa, ob) {
        Weighed::BPassed => {
            reasons.push("its last test run, build or check passed where A's failed".to_owned());
            Change::Improved
        }
        Weighed::APassed => {
            reasons.push("its last test run, build or check failed where A's passed".to_owned());
            Change::Regressed
        }
        Weighed::Untested(why) => {
            reasons.push(why);
            Change::Untested
        }
        Weighed::Open(note) => {
            let fewer_more = |x: u64, y: u64, what: &str| match y.cmp(&x) {
                std::cmp::Ordering::Less => {
                    Some((Change::Improved, format!("fewer {what} ({x} → {y})")))
                }
                std::cmp::Ordering::Greater => {
                    Some((Change::Regressed, format!("more {what} ({x} → {y})")))
                }
                std::cmp::Ordering::Equal => None,
            };
            let (fa, fb) = (pa.failures.len() as u64, pb.failures.len() as u64);
            let change = match fewer_more(fa, fb, "failures")
                .or_else(|| fewer_more(pa.retries, pb.retries, "retries"))
            {
                Some((change, why)) => {
                    reasons.push(why);
                    change
                }
                None => Change::Same,
            };
            reasons.push(note.to_owned());
            change
        }
    };
    SemanticDiff {
        session_a: a.session_id.to_owned(),
        session_b: b.session_id.to_owned(),
        tools_added: tb.difference(&ta).map(|s| (*s).to_owned()).collect(),
        tools_removed: ta.difference(&tb).map(|s| (*s).to_owned()).collect(),
        tool_calls: delta_u(pa.tool_calls, pb.tool_calls),
        errors: delta_u(pa.errors, pb.errors),
        turn_errors: delta_u(pa.turn_errors.len() as u64, pb.turn_errors.len() as u64),
        interrupted_turns: delta_u(pa.interrupted_turns, pb.interrupted_turns),
        failures: delta_u(pa.failures.len() as u64, pb.failures.len() as u64),
        errors_answered_a: pa.errors_answered.clone(),
        errors_answered_b: pb.errors_answered.clone(),
        failures_without_error_a: pa.failures_without_error,
        failures_without_error_b: pb.failures_without_error,
        tokens: delta_u(tok_a, tok_b),
        tokens_estimated: est_a || est_b,
        retries: delta_u(pa.retries, pb.retries),
        duration_s: delta_believed(pa.duration_s, pb.duration_s),
        cost_usd: delta_f(a.cost_usd, b.cost_usd),
        cost_estimated_a: a.cost_estimated,
        cost_estimated_b: b.cost_estimated,
        cost_unpriced_models_a: a.cost_unpriced_models.to_vec(),
        cost_unpriced_models_b: b.cost_unpriced_models.to_vec(),
        files_written_added: wb.difference(&wa).map(|s| (*s).to_owned()).collect(),
        files_written_removed: wa.difference(&wb).map(|s| (*s).to_owned()).collect(),
        files_deleted_added: db.difference(&da).map(|s| (*s).to_owned()).collect(),
        files_deleted_removed: da.difference(&db).map(|s| (*s).to_owned()).collect(),
        outcome_a: oa,
        outcome_b: ob,
        verdict,
        reasons,
        subagents: Subagents::of(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_aligns_labels_in_order() {
        let a = ["x", "run tests", "y", "build"];
        let b = ["run tests", "z", "build"];
        assert_eq!(lcs(&a, &b), vec![(1, 0), (3, 2)]);
        // Too long for a table: the common start and end, and the middle that fits.
        let long: Vec<u32> = (0..5_000).collect();
        let mut other = long.clone();
        other[10] = 99_999;
        let pairs = lcs(&long, &other);
        assert_eq!(pairs.len(), 4_999);
        assert!(!pairs.contains(&(10, 10)));
        assert_eq!(pairs.last(), Some(&(4_999, 4_999)));
        assert_eq!(key("  Run   Tests "), "run tests");
    }
}
