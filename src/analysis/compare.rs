//! `compare` (and `diff --compare`): two sessions side by side — duration, cost, tool calls,
//! redundant reads, context resets, files modified, errors — with a verdict that the same
//! figures always give, and how far the two sessions' decisions diverged.
//!
//! The decisions are the tool calls in order, each named by its tool and what it acted on (a
//! file, a command's goal, else its arguments); the divergence is the edit distance between
//! the two sequences (insertions, deletions, substitutions), and the first place they differ is
//! where the sessions took different ways. The distance is found in time that grows with the
//! sessions' length times how far they diverge, within [`ALIGNMENT_CELLS`]: two long sessions
//! that diverge a lot get bounds (the cost of the best alignment found, and how much it is at
//! least), marked as not exact, where an exact figure took minutes.
//!
//! Each session is counted alone, as `diff` counts it: its figures are its own events', cost
//! included (its subagents' are left out), and the comparison says how many it has.

use serde::Serialize;

use super::diff::Subagents;
use super::phases::{Phases, session_folder};
use crate::model::attempts::relative_to;
use crate::model::command::{self as outcome, Verdict};
use crate::model::meta::Believed;
use crate::model::parents::heads_through;
use crate::model::view::View;
use crate::model::{Agent, Event, SessionMeta};

/// Where a session's work stood at its end: its last test run, build or check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOutcome {
    /// The last test run, build or check passed.
    Passing,
    /// It failed.
    Failing,
    /// The session ran none.
    Unknown,
}

impl WorkOutcome {
    /// The outcome of the last gating command the phases ran.
    pub fn of(phases: &Phases) -> WorkOutcome {
        // Runs are listed per phase in the order their results came; the latest call wins.
        phases
            .phases
            .iter()
            .flat_map(|p| &p.ran)
            .filter(|r| r.purpose.gates())
            .filter_map(|r| match r.verdict {
                Some(Verdict::Passed) => Some((r.event, WorkOutcome::Passing)),
                Some(Verdict::Failed) => Some((r.event, WorkOutcome::Failing)),
                _ => None,
            })
            .max_by_key(|(event, _)| *event)
            .map_or(WorkOutcome::Unknown, |(_, o)| o)
    }

    /// What the two outcomes alone decide of B against A: the first rule of every verdict
    /// between two sessions (`diff --semantic`, `compare`, `eval compare`), so that they call
    /// the same pair the same. Work that ends passing beats work that ends failing; work that
    /// ran no test, build or check is not judged against work that did, for fewer failures, a
    /// lower cost or better scores without a test say nothing of the work.
    pub fn weigh(a: WorkOutcome, b: WorkOutcome) -> Weighed {
        let ended = |o: WorkOutcome| {
            if o == WorkOutcome::Passing {
                "passed"
            } else {
                "failed"
            }
        };
        match (a, b) {
            (WorkOutcome::Failing, WorkOutcome::Passing) => Weighed::BPassed,
            (WorkOutcome::Passing, WorkOutcome::Failing) => Weighed::APassed,
            (WorkOutcome::Unknown, o @ (WorkOutcome::Passing | WorkOutcome::Failing)) => {
                Weighed::Untested(format!(
                    "A ran no tests, build or check; B's last {}: which did better is unknown",
                    ended(o)
                ))
            }
            (o @ (WorkOutcome::Passing | WorkOutcome::Failing), WorkOutcome::Unknown) => {
                Weighed::Untested(format!(
                    "B ran no tests, build or check; A's last {}: which did better is unknown",
                    ended(o)
                ))
            }
            (WorkOutcome::Unknown, WorkOutcome::Unknown) => {
                Weighed::Open("neither ran tests, build or check")
            }
            (WorkOutcome::Passing, WorkOutcome::Passing) => {
                Weighed::Open("the work ends passing in both")
            }
            (WorkOutcome::Failing, WorkOutcome::Failing) => {
                Weighed::Open("the work ends failing in both")
            }
        }
    }
}

/// What two sessions' outcomes decide of B against A ([`WorkOutcome::weigh`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weighed {
    /// B's last test run, build or check passed where A's failed: B did better.
    BPassed,
    /// A's passed where B's failed: A did better.
    APassed,
    /// Only one of them ran a test, build or check: nothing decides which did better; why.
    Untested(String),
    /// They end alike (the note says how): the command's own figures decide.
    Open(&'static str),
}

/// What a comparison needs of one session, read once by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub meta: &'a SessionMeta,
    pub events: &'a [Event],
    pub phases: &'a Phases,
    /// What it cost alone (as `cost --no-subagents` gives it), as its other figures count it.
    pub cost_usd: f64,
    /// The cost is estimated from payload sizes: no usage was recorded.
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: the cost counts them at $0.
    pub cost_unpriced_models: &'a [String],
    /// Its responses whose usage no response can have: left out of the cost.
    pub unbelieved_usage: u64,
    /// How many subagent sessions it has, left out of its figures.
    pub subagents: usize,
}

impl Input<'_> {
    fn agent(&self) -> Agent {
        Agent::from_name(&self.meta.agent_name)
    }
}

/// One session's figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    pub session_id: String,
    pub agent: String,
    pub command: String,
    /// Unknown (`null`) when it is one no session can have.
    pub started_at: Believed<f64>,
    /// From the start to the last event; unknown (`null`) when the start is one no session can
    /// have, as `explain` gives it.
    pub duration_s: Believed<f64>,
    pub cost_usd: f64,
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Its responses whose usage no response can have: left out of `cost_usd`, which the table
    /// marks `?` for it, as `list` and `cost` do.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
    pub tool_calls: u64,
    /// Reads of a file (the same part of it) read before and not written since.
    pub redundant_reads: u64,
    /// LLM requests that came more than [`RESET_GAP_S`] after the one before.
    pub context_resets: u64,
    /// Files written or edited.
    pub files_modified: u64,
    /// Files and folders deleted, and moved: none of them written.
    pub files_deleted: u64,
    pub files_moved: u64,
    /// Calls that failed (refused ones are not errors), and the errors of no call
    /// (`turn_errors`), as `explain` counts errors.
    pub errors: u64,
    /// Of `errors`, the calls' own.
    pub tool_errors: u64,
    /// Of `errors`, those of no call (an API error that ended a turn). They weigh nothing in the
    /// verdict (nor among `failures`): the service failed, not the work.
    pub turn_errors: u64,
    /// The failures `explain` lists, which the verdict weighs: the errors less those that were
    /// answers (`git commit` with nothing to commit), and runs that failed with no error.
    pub failures: u64,
    /// Attempts that tried a failed goal again.
    pub retries: u64,
    pub outcome: WorkOutcome,
}

/// A pause between LLM requests longer than this starts the context afresh (caches expire).
pub const RESET_GAP_S: f64 = 120.0;

/// Which session of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    A,
    B,
}

/// Which session did better, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CompareVerdict {
    /// `None` when neither did better.
    pub better: Option<Side>,
    /// What made it better, each percentage B's change in percent of A's figure: `32% cheaper
    /// than A`, `B took 50% longer than A`, `2 fewer failures`, …
    pub reasons: Vec<String>,
}

/// One decision: a tool call, named by its tool and what it acted on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Decision {
    /// The call's event number.
    pub event: usize,
    pub decision: String,
}

/// Where the two sessions' decisions first differ.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Divergence {
    /// How many decisions they share before it.
    pub after: usize,
    /// A's decision there (`None` when A made no more).
    pub a: Option<Decision>,
    pub b: Option<Decision>,
}

/// Two sessions side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: Figures,
    pub b: Figures,
    pub verdict: CompareVerdict,
    /// The edit distance between the two sessions' decisions; when not
    /// `decision_divergence_exact`, the cost of the best alignment found (at most this).
    pub decision_divergence: usize,
    /// Whether `decision_divergence` is exact: false for sessions too long and too different
    /// to align exactly within bounded work.
    pub decision_divergence_exact: bool,
    /// What the edit distance is at least (`decision_divergence` when exact).
    pub decision_divergence_at_least: usize,
    /// Where the decisions first differ; `None` when they are the same.
    pub diverged_at: Option<Divergence>,
    /// Which sessions the figures count: each alone, its subagents left out.
    pub subagents: Subagents,
}

/// Compares session `a` with session `b`.
pub fn compare(a: &Input<'_>, b: &Input<'_>) -> Comparison {
    let fa = figures(a);
    let fb = figures(b);
    let da = decisions(a.events, a.agent());
    let db = decisions(b.events, b.agent());
    let keys_a: Vec<&str> = da.iter().map(|d| d.decision.as_str()).collect();
    let keys_b: Vec<&str> = db.iter().map(|d| d.decision.as_str()).collect();
    let shared = keys_a
        .iter()
        .zip(&keys_b)
        .take_while(|(x, y)| x == y)
        .count();
    let diverged_at = (keys_a != keys_b).then(|| Divergence {
        after: shared,
        a: da.get(shared).cloned(),
        b: db.get(shared).cloned(),
    });
    let distance = edit_distance(&keys_a, &keys_b, ALIGNMENT_CELLS);
    Comparison {
        verdict: verdict(&fa, &fb),
        decision_divergence: distance.at_most,
        decision_divergence_exact: distance.is_exact(),
        decision_divergence_at_least: distance.at_least,
        diverged_at,
        a: fa,
        b: fb,
        subagents: Subagents::left_out(a.subagents, b.subagents),
    }
}

/// One session's figures.
pub fn figures(input: &Input<'_>) -> Figures {
    let agent = input.agent();
    let phases = input.phases;
    let modified = phases.written_files();
    Figures {
        session_id: input.meta.session_id.clone(),
        agent: input.meta.agent_name.clone(),
        command: input.meta.command.clone(),
        started_at: input
            .meta
            .unbelievable()
            .figure("started_at", input.meta.started_at),
        duration_s: phases.duration_s,
        cost_usd: input.cost_usd,
        cost_estimated: input.cost_estimated,
        cost_unpriced_models: input.cost_unpriced_models.to_vec(),
        unbelieved_usage: input.unbelieved_usage,
        tool_calls: phases.tool_calls,
        redundant_reads: super::rereads::of(input.events, agent)
            .iter()
            .map(|r| r.repeats as u64)
            .sum(),
        context_resets: context_resets(input.events),
        files_modified: modified.len() as u64,
        files_deleted: phases.deleted_files().len() as u64,
        files_moved: phases.moves().len() as u64,
        errors: phases.errors,
        tool_errors: phases.tool_errors,
        turn_errors: phases.turn_errors.len() as u64,
        failures: phases.failures.len() as u64,
        retries: phases.retries,
        outcome: WorkOutcome::of(phases),
    }
}

/// Model calls more than [`RESET_GAP_S`] after the previous one. A model call is counted as
/// [`crate::model::Counters::model_calls`] counts it (`model::call_pairs`): a request, or a
/// response no request answers, at the time of the first of its sides recorded. Taking the
/// requests, or the responses when there were none, missed the calls recorded by the other
/// side alone, and the gaps they close.
fn context_resets(events: &[Event]) -> u64 {
    let mut calls = crate::model::Counters::default();
    let mut times: Vec<f64> = Vec::new();
    for event in events {
        let before = calls.model_calls();
        calls.observe(&crate::model::EventHead::of(event));
        // One at a time no session can have is at no time: no gap before or after it.
        if calls.model_calls() > before
            && let Some(at) = crate::model::meta::believed_time(event.timestamp)
        {
            times.push(at);
        }
    }
    times.sort_by(f64::total_cmp);
    times
        .windows(2)
        .filter(|w| w[1] - w[0] > RESET_GAP_S)
        .count() as u64
}

/// The session's decisions: each tool call, by its tool and what it acted on.
pub fn decisions(events: &[Event], agent: Agent) -> Vec<Decision> {
    // Paths below the session's folder are named relative to it, so that two runs of one task
    // in different folders make the same decisions.
    let cwd = session_folder(events, agent);
    let relative = |path: &str| relative_to(cwd.as_deref(), path);
    events
        .iter()
        .enumerate()
        .filter_map(|(i, event)| {
            let View::ToolCall(call) = View::of(event, agent) else {
                return None;
            };
            let subject = if let Some(command) = call.command_line() {
                outcome::goal(&command)
            } else if let Some(path) = call.path() {
                relative(path)
            } else {
                call.gist().unwrap_or_default()
            };
            let decision = if subject.is_empty() {
                call.tool.to_owned()
            } else {
                format!("{} {subject}", call.tool)
            };
            Some(Decision {
                event: i + 1,
                decision,
            })
        })
        .collect()
}

/// An edit distance, exact or within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distance {
    /// The cost of the best alignment found: the distance, or more.
    pub at_most: usize,
    /// What the distance is at least; `at_most` when it is exact.
    pub at_least: usize,
}

impl Distance {
    fn exact(n: usize) -> Distance {
        Distance {
            at_most: n,
            at_least: n,
        }
    }

    pub fn is_exact(self) -> bool {
        self.at_most == self.at_least
    }
}

/// How many cells of the alignment table `compare` fills at most (three times that at worst,
/// about a second in a debug build, a tenth of it in a release build). Sessions of 2,000 calls
/// each are always aligned exactly, two of 5,000 that differ in up to 800 places, two of 50,000
/// that differ in up to 80; the whole table of two sessions of 50,000 calls, 2.5 billion cells,
/// took over 30 s.
pub const ALIGNMENT_CELLS: u64 = 4_000_000;

/// The edit distance (Levenshtein, over whole items) between two sequences, filling at most
/// about `max_cells` cells (three times that in the worst case); bounds when that is not
/// enough. The common start and end are set aside first: sessions that share most of their
/// way cost little.
///
/// Ukkonen's band: an alignment that strays `p` diagonals outside those between the table's
/// corners makes at least `gap + 2p` insertions and deletions (`gap`: the difference in
/// length). So the best alignment within a band of `p` diagonals either side, when it costs at
/// most `gap + 2p + 1`, is the best of all; else the distance is at least `gap + 2p + 2`. The
/// band is doubled until the figure is exact or the next band would fill more than
/// `max_cells`; the widest band that fits then gives the bounds. Time: (n + m) · d.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T], max_cells: u64) -> Distance {
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[start..], &b[start..]);
    let end = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - end], &b[..b.len() - end]);
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return Distance::exact(long.len());
    }
    let gap = long.len() - short.len();
    let rows = short.len() as u64 + 1;
    let cells = |spread: usize| rows * (gap + 2 * spread + 1) as u64;
    // Both start differently (the common start is set aside): one edit at least.
    let mut bounds = Distance {
        at_most: long.len(),
        at_least: gap.max(1),
    };
    let mut spread = 1;
    let mut tried: Option<usize> = None;
    let mut last = false;
    loop {
        if cells(spread) > max_cells {
            // The widest band that fits, once, for the best bounds the work allows.
            let fits = usize::try_from((max_cells / rows).saturating_sub(gap as u64 + 1) / 2)
                .unwrap_or(usize::MAX);
            if last || cells(fits) > max_cells || tried.is_some_and(|t| fits <= t) {
                return bounds;
            }
            spread = fits;
            last = true;
        }
        tried = Some(spread);
        let found = banded(short, long, spread);
        bounds.at_most = bounds.at_most.min(found);
        // A band as wide as the shorter sequence holds every alignment.
        if spread >= short.len() || found <= gap + 2 * spread + 1 {
            return Distance::exact(found);
        }
        bounds.at_least = bounds.at_least.max(gap + 2 * spread + 2);
        if last {
            return bounds;
        }
        spread *= 2;
    }
}

/// The cost of the best alignment of `short` with `long` that keeps to the diagonals from
/// `-spread` to `long.len() - short.len() + spread` (diagonal k holds the cells j - i = k).
fn banded<T: PartialEq>(short: &[T], long: &[T], spread: usize) -> usize {
    const FAR: usize = usize::MAX / 2;
    let (n, m) = (short.len(), long.len());
    let width = m - n + 2 * spread + 1;
    // Cell t of row i is column j = i + t - spread.
    let column = |i: usize, t: usize| (i + t).checked_sub(spread).filter(|j| *j <= m);
    let mut above: Vec<usize> = (0..width).map(|t| column(0, t).unwrap_or(FAR)).collect();
    let mut row = vec![FAR; width];
    for (i, x) in short.iter().enumerate().map(|(i, x)| (i + 1, x)) {
        for t in 0..width {
            row[t] = match column(i, t) {
                None => FAR,
                Some(0) => i,
                Some(j) => {
                    let diagonal = above[t] + usize::from(*x != long[j - 1]);
                    let up = above.get(t + 1).map_or(FAR, |v| v + 1);
                    let left = if t > 0 { row[t - 1] + 1 } else { FAR };
                    diagonal.min(up).min(left).min(FAR)
                }
            };
        }
        std::mem::swap(&mut above, &mut row);
    }
    above[m - n + spread]
}

/// The least change the verdict weighs, in percent of A's figure ([`change_pct`]): a change
/// under it is no change, and the table says so beside the verdict.
pub const TELLING_PCT: f64 = 1.0;

/// B's change against A, in percent of A's figure (the baseline's): the one base of the
/// table's change column and of the verdict's percentages. The verdict measured against the
/// larger figure, so $1 against $2 read "+100%" beside "50% cheaper". `None` when A's figure
/// is not above 0: there is no base to measure from.
pub fn change_pct(a: f64, b: f64) -> Option<f64> {
    (a > 0.0).then(|| (b - a) / a * 100.0)
}

/// Whether two sessions' costs can be set against each other, by the verdict and by the
/// table's change: an estimate (from payload sizes) and a recorded cost cannot, nor a cost that
/// leaves out some usage for want of a price. Two estimates are made alike and can.
pub fn costs_comparable(a: &Figures, b: &Figures) -> bool {
    comparable_costs(
        (a.cost_estimated, &a.cost_unpriced_models),
        (b.cost_estimated, &b.cost_unpriced_models),
    )
}

/// [`costs_comparable`] of two costs given by whether each is estimated and the models each
/// counts at $0: the one rule `compare`'s change and verdict and `diff --semantic`'s `Δ cost`
/// follow.
pub fn comparable_costs(
    (estimated_a, unpriced_a): (bool, &[String]),
    (estimated_b, unpriced_b): (bool, &[String]),
) -> bool {
    estimated_a == estimated_b && unpriced_a.is_empty() && unpriced_b.is_empty()
}

/// Which session did better. Work that ends passing beats work that ends failing; work that
/// ran no test, build or check is not compared with work that did (no verdict, and the reason
/// says so: cheaper or fewer failures without a test say nothing of the work); otherwise the
/// session that is better on more of cost, duration and failures, each by a whole percent or
/// one failure at least (a tie is no verdict).
pub fn verdict(a: &Figures, b: &Figures) -> CompareVerdict {
    let passed = "its last test run, build or check passed, the other's failed";
    match WorkOutcome::weigh(a.outcome, b.outcome) {
        Weighed::Untested(why) => {
            return CompareVerdict {
                better: None,
                reasons: vec![why],
            };
        }
        Weighed::APassed => {
            return CompareVerdict {
                better: Some(Side::A),
                reasons: vec![passed.into()],
            };
        }
        Weighed::BPassed => {
            return CompareVerdict {
                better: Some(Side::B),
                reasons: vec![passed.into()],
            };
        }
        Weighed::Open(_) => {}
    }
    let mut wins_a = Vec::new();
    let mut wins_b = Vec::new();
    // Each percentage is B's change against A, in percent of A's figure as the table's change
    // column gives it, and rounded as the column rounds it: B's lower figure is "N% cheaper
    // than A", its higher one "B cost N% more than A".
    let mut weigh = |va: f64, vb: f64, less: &str, (verb, more): (&str, &str)| {
        match change_pct(va, vb) {
            Some(pct) if pct <= -TELLING_PCT => {
                wins_b.push(format!("{:.0}% {less} than A", -pct));
            }
            Some(pct) if pct >= TELLING_PCT => {
                wins_a.push(format!("B {verb} {pct:.0}% {more} than A"));
            }
            // A's figure is 0: B's higher one is no percentage of it.
            None if vb > va => wins_a.push(format!("B {verb} {more} than A")),
            Some(_) | None => {}
        }
    };
    if costs_comparable(a, b) {
        weigh(a.cost_usd, b.cost_usd, "cheaper", ("cost", "more"));
    }
    // A duration no session can have is no figure to be faster than.
    if let (Some(da), Some(db)) = (a.duration_s.known(), b.duration_s.known()) {
        weigh(da, db, "faster", ("took", "longer"));
    }
    let failures = |mine: u64, theirs: u64, wins: &mut Vec<String>| {
        if mine < theirs {
            let n = theirs - mine;
            wins.push(crate::model::text::count(n, "fewer failure"));
        }
    };
    failures(a.failures, b.failures, &mut wins_a);
    failures(b.failures, a.failures, &mut wins_b);
    match wins_a.len().cmp(&wins_b.len()) {
        std::cmp::Ordering::Greater => CompareVerdict {
            better: Some(Side::A),
            reasons: wins_a,
        },
        std::cmp::Ordering::Less => CompareVerdict {
            better: Some(Side::B),
            reasons: wins_b,
        },
        std::cmp::Ordering::Equal => CompareVerdict {
            better: None,
            reasons: Vec::new(),
        },
    }
}

/// The last two sessions heading a tree (as `list` heads them, see [`heads_through`]) whose agent
/// name or command contains `tag` (any case), the older first, each with the place of its
/// store among `stores`; fewer when fewer match. Each store's sessions come with the start to
/// order them by ([`SessionMeta::start_to_order_by`]: a start in 2128 was always one of the
/// last two). `left_out` holds, store by store, the metadata of the sessions that could not be
/// read: a session below one is in the tree above it ([`heads_through`]).
pub fn tagged(
    stores: &[Vec<(&SessionMeta, f64)>],
    left_out: &[Vec<SessionMeta>],
    tag: &str,
    mut in_period: impl FnMut(&SessionMeta) -> bool,
) -> Vec<(usize, String)> {
    let tag = tag.to_lowercase();
    let mut matched: Vec<(usize, &SessionMeta, f64)> = Vec::new();
    for (place, sessions) in stores.iter().enumerate() {
        let metas: Vec<&SessionMeta> = sessions.iter().map(|(m, _)| *m).collect();
        let left_out = left_out.get(place).map_or(&[][..], Vec::as_slice);
        matched.extend(
            sessions
                .iter()
                .zip(heads_through(&metas, left_out))
                .filter(|(_, head)| *head)
                .map(|((m, start), _)| (place, *m, *start))
                .filter(|(_, m, _)| {
                    m.agent_name.to_lowercase().contains(&tag)
                        || m.command.to_lowercase().contains(&tag)
                })
                // After the heads are told: a parent out of the period keeps its subagents
                // out of the running.
                .filter(|(_, m, _)| in_period(m)),
        );
    }
    matched.sort_by(|(_, x, x_start), (_, y, y_start)| {
        y_start
            .total_cmp(x_start)
            .then_with(|| y.session_id.cmp(&x.session_id))
    });
    matched
        .into_iter()
        .take(2)
        .rev()
        .map(|(place, m, _)| (place, m.session_id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, as `compare` filled it before its work was bounded.
    fn full_table<T: PartialEq>(a: &[T], b: &[T]) -> usize {
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, x) in a.iter().enumerate() {
            let mut diagonal = row[0];
            row[0] = i + 1;
            for (j, y) in b.iter().enumerate() {
                let above = row[j + 1];
                row[j + 1] = if x == y {
                    diagonal
                } else {
                    1 + diagonal.min(above).min(row[j])
                };
                diagonal = above;
            }
        }
        row[b.len()]
    }

    fn exact<T: PartialEq>(a: &[T], b: &[T]) -> usize {
        let d = edit_distance(a, b, u64::MAX);
        assert!(d.is_exact(), "{d:?}");
        d.at_most
    }

    #[test]
    fn edit_distance_counts_whole_items() {
        assert_eq!(exact(&["a", "b", "c"], &["a", "b", "c"]), 0);
        assert_eq!(exact(&["a", "b", "c"], &["a", "x", "c"]), 1);
        assert_eq!(exact(&["a", "b"], &["a", "b", "c", "d"]), 2);
        assert_eq!(exact::<&str>(&[], &["a"]), 1);
        assert_eq!(
            exact(
                &["k", "i", "t", "t", "e", "n"],
                &["s", "i", "t", "t", "i", "n", "g"]
            ),
            3
        );
    }

    /// Random sequences over a few letters: the band gives the whole table's figure, and with
    /// little work allowed, bounds that hold it.
    #[test]
    fn the_banded_distance_is_the_whole_tables_or_bounds_it() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..2000 {
            let (la, lb) = (next(40) as usize, next(40) as usize);
            let letters = 2 + next(4);
            let a: Vec<u64> = (0..la).map(|_| next(letters)).collect();
            let mut b: Vec<u64> = a.clone();
            b.truncate(lb);
            for _ in 0..next(8) {
                if !b.is_empty() {
                    let at = next(b.len() as u64) as usize;
                    b[at] = next(letters);
                }
            }
            while b.len() < lb {
                b.push(next(letters));
            }
            let want = full_table(&a, &b);
            assert_eq!(exact(&a, &b), want, "case {case}: {a:?} {b:?}");
            let cells = 1 + next(200);
            let d = edit_distance(&a, &b, cells);
            assert!(
                d.at_least <= want && want <= d.at_most,
                "case {case} in {cells} cells: {d:?} for {want}: {a:?} {b:?}"
            );
        }
    }

    fn figures(cost: f64, duration: f64, failures: u64) -> Figures {
        Figures {
            session_id: String::new(),
            agent: String::new(),
            command: String::new(),
            started_at: Believed::default(),
            duration_s: Believed {
                value: duration,
                believed: true,
            },
            cost_usd: cost,
            cost_estimated: false,
            cost_unpriced_models: Vec::new(),
            unbelieved_usage: 0,
            tool_calls: 0,
            redundant_reads: 0,
            context_resets: 0,
            files_modified: 0,
            files_deleted: 0,
            files_moved: 0,
            errors: failures,
            tool_errors: failures,
            turn_errors: 0,
            failures,
            retries: 0,
            outcome: WorkOutcome::Unknown,
        }
    }

    #[test]
    fn the_verdict_counts_wins_and_failing_work_loses() {
        let v = verdict(&figures(4.23, 1080.0, 0), &figures(2.87, 720.0, 0));
        assert_eq!(v.better, Some(Side::B));
        assert_eq!(v.reasons, vec!["32% cheaper than A", "33% faster than A"]);
        // Measured against A as well when A did better: $1 against $2 is B's +100%.
        let v = verdict(&figures(1.0, 10.0, 0), &figures(2.0, 15.0, 0));
        assert_eq!(v.better, Some(Side::A));
        assert_eq!(
            v.reasons,
            vec!["B cost 100% more than A", "B took 50% longer than A"]
        );
        let v = verdict(&figures(1.0, 10.0, 0), &figures(2.0, 5.0, 0));
        assert_eq!(v.better, None);
        let mut passing = figures(9.0, 900.0, 3);
        passing.outcome = WorkOutcome::Passing;
        let mut failing = figures(1.0, 10.0, 0);
        failing.outcome = WorkOutcome::Failing;
        assert_eq!(verdict(&failing, &passing).better, Some(Side::B));
        // Cheaper, faster and without failures, but untested: no verdict over tests that passed.
        let untested = figures(0.1, 1.0, 0);
        let v = verdict(&passing, &untested);
        assert_eq!(v.better, None);
        assert!(v.reasons[0].starts_with("B ran no tests"), "{v:?}");
    }

    #[test]
    fn tagged_takes_the_last_two_sessions_heading_a_tree_older_first() {
        fn one(metas: &[SessionMeta]) -> Vec<Vec<(&SessionMeta, f64)>> {
            vec![metas.iter().map(|m| (m, m.started_at)).collect()]
        }
        let meta = |id: &str, at: f64, agent: &str, parent: Option<&str>| SessionMeta {
            agent_name: agent.to_owned(),
            parent_session_id: parent.map(str::to_owned),
            ..SessionMeta::new(id, at)
        };
        let all = [
            meta("a", 1.0, "refactor-auth", None),
            meta("b", 2.0, "claude-code", None),
            meta("c", 3.0, "Refactor-Auth v2", None),
            meta("d", 4.0, "refactor-auth", Some("c")),
            meta("e", 0.5, "refactor-auth", None),
        ];
        let ids = |found: Vec<(usize, String)>| -> Vec<String> {
            found.into_iter().map(|(_, id)| id).collect()
        };
        assert_eq!(
            ids(tagged(&one(&all), &[], "refactor-AUTH", |_| true)),
            ["a", "c"]
        );
        assert_eq!(tagged(&one(&all), &[], "nothing", |_| true).len(), 0);
        // A subagent whose parent is gone, and one of a loop, head their own trees.
        let heads = [
            meta("a", 1.0, "refactor-auth", None),
            meta("orphan", 5.0, "refactor-auth", Some("gone")),
            meta("loop-a", 6.0, "refactor-auth", Some("loop-b")),
            meta("loop-b", 0.1, "claude-code", Some("loop-a")),
        ];
        assert_eq!(
            ids(tagged(&one(&heads), &[], "refactor", |_| true)),
            ["orphan", "loop-a"]
        );
        // Across stores, each session is headed in its own store.
        let other = [meta("gone", 7.0, "refactor-auth", None)];
        let stores = [one(&heads).remove(0), one(&other).remove(0)];
        assert_eq!(
            tagged(&stores, &[], "refactor", |_| true),
            [(0, "loop-a".to_owned()), (1, "gone".to_owned())]
        );
    }
}
