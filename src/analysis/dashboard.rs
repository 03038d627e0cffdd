//! `dashboard`: many sessions at a glance, from their index summaries: totals, the same figures
//! per day (or per few days) for sparklines and charts, the most used tools, the newest
//! sessions, and for `--trend` the rates, costs, durations and eval pass rates per day with the
//! dashboard's dated notes.
//!
//! A session and its subagents count as one session, on the day it started: its figures are the
//! sum of theirs, as `list` counts a session's cost. A subagent whose parent is not in the store
//! counts as a session of its own. Its calls, errors (refused calls are none) and tokens are
//! counted from its events (the index's fold of them), as the tool table's calls are, so that
//! no total contradicts the table under it; `list` shows `meta.json`'s, the same unless that
//! file was damaged or forged. Its cost is at the built-in prices, as `list` gives it.
//!
//! Days are the caller's local days, given as a function from an instant to its date so that
//! the analysis reads no clock and no environment, and each day is cut by the zone's rules for
//! it (a fixed offset, today's, put the days before a clock change an hour off).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::SessionMeta;
use crate::model::event::CLOCK_SKEW_SECS;
use crate::model::meta::{Believed, Unbelievable, believed_time};
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::model::summary::Summary;
use crate::model::usage::Money;

/// At most this many buckets: a sparkline a terminal row holds. Longer periods put several
/// days in a bucket.
pub const MAX_BUCKETS: usize = 60;
/// Tools the top-tools table names.
pub const TOP_TOOLS: usize = 10;
/// Sessions the recent-sessions table lists.
pub const RECENT: usize = 20;

/// Which sessions a dashboard covers and how it cuts time.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// Sessions that started at or after this instant; `None`: from the first.
    pub since: Option<f64>,
    /// Only the newest N sessions (after `since`).
    pub last: Option<usize>,
    /// Now: the last bucket holds this day.
    pub now: f64,
    /// The local date an instant falls on, which days are cut by.
    pub day: fn(f64) -> NaiveDate,
}

/// One session as the dashboard counts it: itself and its subagents.
#[derive(Debug, Clone, Serialize)]
pub struct SessionFigures {
    pub session_id: String,
    /// A start, count or duration no session can have (a damaged or forged `meta.json`, its
    /// own or a subagent's) is not believed: `null` in JSON, `?` in text, and left out of the
    /// totals, the days and the charts.
    pub started_at: Believed<f64>,
    pub agent_name: String,
    pub first_prompt: Option<String>,
    pub tool_calls: Believed<u64>,
    /// Calls that failed (refused calls are no errors), as `list` counts them, and the errors of
    /// no call (`turn_errors`).
    pub errors: Believed<u64>,
    /// Of `errors`, the calls' own.
    pub tool_errors: Believed<u64>,
    /// Of `errors`, those of no call (an API error that ended a turn): the service's, no call's.
    pub turn_errors: u64,
    pub retries: u64,
    pub tokens: Believed<u64>,
    pub cost_usd: f64,
    /// The same, exact: sums of these carry no float noise.
    #[serde(skip)]
    pub cost: Money,
    /// Some of the cost is estimated from payload sizes.
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: the cost counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Responses whose usage holds a count no response can have: the cost and tokens leave
    /// them out.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub cost_unbelieved_usage: u64,
    /// From start to end when the session ended, else from its first event to its last.
    pub duration_s: Believed<f64>,
    /// What of its metadata, and its subagents', no session can hold: for the warning.
    #[serde(skip)]
    pub unbelievable: Unbelievable,
    /// Subagent sessions counted in.
    pub subagents: u64,
    /// With several projects' stores read (`--all-projects`), the project whose store holds the
    /// session; set by the caller, which knows the stores.
    #[serde(flatten)]
    pub project: Option<ProjectOf>,
}

impl SessionFigures {
    /// Whether the cost cannot be taken at its word: it counts a model without a price at $0,
    /// or leaves out responses of unknown usage; a view marks it `?`, as `list` marks it.
    pub fn cost_marked(&self) -> bool {
        !self.cost_unpriced_models.is_empty() || self.cost_unbelieved_usage > 0
    }
}

/// The project a session's store belongs to: its folder (`None` for the user-level store), the
/// workspace of a workspace's store, and how a listing shows them. In JSON, `project` (the
/// folder or `null`) with `workspace` beside it for a workspace's store, as `list` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectOf {
    pub path: Option<String>,
    pub workspace: Option<String>,
    pub label: String,
}

impl Serialize for ProjectOf {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("project", &self.path)?;
        if let Some(workspace) = &self.workspace {
            map.serialize_entry("workspace", workspace)?;
        }
        map.end()
    }
}

/// The figures of one bucket of days.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Bucket {
    /// Its first day, `YYYY-MM-DD`.
    pub start: String,
    pub days: u32,
    pub sessions: u64,
    pub tool_calls: u64,
    pub errors: u64,
    /// Of `errors`, the calls' own.
    pub tool_errors: u64,
    /// Of `errors`, those of no call (an API error that ended a turn).
    pub turn_errors: u64,
    pub retries: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    /// Models whose usage has no known price, in name order: the cost counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Failed calls per call (an API error that ended a turn is no call's); 0 without calls.
    pub error_rate: f64,
    /// Retried calls per call; 0 without calls.
    pub retry_rate: f64,
    /// The median session's duration; `None` without sessions.
    pub median_duration_s: Option<f64>,
}

/// Everything the period holds, summed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub sessions: u64,
    pub subagent_sessions: u64,
    pub tool_calls: u64,
    pub errors: u64,
    /// Of `errors`, the calls' own.
    pub tool_errors: u64,
    /// Of `errors`, those of no call (an API error that ended a turn).
    pub turn_errors: u64,
    pub retries: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: the cost counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Responses whose usage holds a count no response can have: the cost and tokens leave
    /// them out.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub cost_unbelieved_usage: u64,
    /// Sessions (with their subagents) holding a count no session can have (a forged index),
    /// which the totals named in `unbelieved_counts` (`tool_calls`, `errors`, `tokens`) and
    /// the days leave out: a total that leaves a figure out says so.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_sessions: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unbelieved_counts: Vec<&'static str>,
}

impl Totals {
    /// Whether the total cost cannot be taken at its word ([`SessionFigures::cost_marked`]).
    pub fn cost_marked(&self) -> bool {
        !self.cost_unpriced_models.is_empty() || self.cost_unbelieved_usage > 0
    }
}

/// A tool and how much it was used.
#[derive(Debug, Clone, Serialize)]
pub struct ToolUse {
    pub tool: String,
    pub calls: u64,
    /// Of all tool calls in the period.
    pub share: f64,
}

/// The dashboard: totals, buckets, top tools and the newest sessions.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// The first day's start and the instant the period ends (now).
    pub from: Option<String>,
    pub to: Option<String>,
    pub since: Option<f64>,
    /// Days in each bucket (the last may hold fewer).
    pub bucket_days: u32,
    pub totals: Totals,
    pub buckets: Vec<Bucket>,
    pub top_tools: Vec<ToolUse>,
    /// Tool names besides the top ones.
    pub other_tools: u64,
    /// The newest sessions, newest first (at most [`RECENT`]).
    pub recent: Vec<SessionFigures>,
}

/// One judge's (an eval scorer's, or the overall verdict's) pass rate per bucket.
#[derive(Debug, Clone, Serialize)]
pub struct JudgeSeries {
    pub judge: String,
    /// Sessions judged in the whole period, and how many passed.
    pub judged: u64,
    pub passed: u64,
    /// Per bucket: the share that passed, `None` when no session of the bucket was judged.
    pub pass_rate: Vec<Option<f64>>,
}

/// A dated note shown on the trend's charts.
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub date: String,
    pub note: String,
    /// The bucket the date falls in.
    pub bucket: usize,
}

/// What `--trend` adds: pass rates per judge and the dated notes.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub judges: Vec<JudgeSeries>,
    pub markers: Vec<Marker>,
}

/// One session's eval outcome, for the trend: overall and per scorer.
#[derive(Debug, Clone)]
pub struct Judged {
    pub session_id: String,
    pub passed: bool,
    pub scorers: Vec<(String, bool)>,
}

/// What the dashboard reads of a session's summary, taken as each summary is read: ten
/// thousand whole summaries held at once were a hundred megabytes, most of it the files and
/// the state a fold keeps to go on from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Glance {
    /// Events stored ([`crate::model::counters::Counters::events`]).
    pub events: u64,
    pub first_timestamp: Option<f64>,
    pub last_timestamp: Option<f64>,
    /// Of the errors, the calls the user refused, and those of no call (an API error that
    /// ended a turn).
    pub rejections: u64,
    pub turn_errors: u64,
    pub retries: u64,
    pub first_prompt: Option<String>,
    /// What the session cost at the prices it was glanced at ([`Summary::cost`]).
    pub cost: Money,
    /// No usage was recorded: the cost is estimated from payload sizes.
    pub cost_estimated: bool,
    /// Responses whose usage could not be believed, their tokens unknown.
    pub unbelieved_usage: u64,
    /// The models whose usage has no price ([`Summary::unpriced`]).
    pub unpriced: Vec<String>,
    /// Tool calls by tool name.
    pub tools: BTreeMap<String, u64>,
    /// Tool calls, error events (refused calls among them) and tokens, as the events count
    /// them: `meta.json` may say otherwise (`"tool_calls": 1` for two calls), and the totals
    /// must agree with `tools`.
    pub tool_calls: u64,
    pub errors: u64,
    pub tokens: u64,
}

impl Glance {
    /// What the dashboard reads of `summary`, its cost at `prices`.
    pub fn of(summary: Summary, prices: &PriceTable) -> Glance {
        let c = &summary.counters;
        // The tokens the index gives a session: its responses' when it recorded any.
        let tokens = summary
            .llm_figures()
            .map_or(c.total_tokens, |(_, tokens)| tokens);
        Glance {
            tool_calls: c.tool_calls,
            errors: c.errors,
            tokens,
            events: c.events,
            first_timestamp: c.first_timestamp,
            last_timestamp: c.last_timestamp,
            rejections: c.rejections,
            turn_errors: c.turn_errors,
            retries: summary.retries,
            cost: summary.cost(prices),
            cost_estimated: !summary.has_usage(),
            unbelieved_usage: summary.unbelieved_usage,
            unpriced: summary.unpriced(prices).map(str::to_owned).collect(),
            first_prompt: summary.first_prompt,
            tools: summary.tools,
        }
    }

    /// The counts no session can have: the fold that gave them was forged.
    pub fn unbelievable(&self) -> Unbelievable {
        Unbelievable::counts(&[
            ("tool_calls", self.tool_calls),
            ("errors", self.errors),
            ("total_tokens", self.tokens),
        ])
    }
}

/// The sessions the period covers (each with its subagents), newest first, and a warning for
/// each session left out of a period (`since`) because its start is one no session can have
/// ([`SessionMeta::start_in_periods`]): a start in 2128 was since any date; and one warning
/// for the sessions the period, which ends now, left out for starting later than the clock
/// allows ([`PeriodStarts`]). A session below one of `left_out` (sessions that could not be
/// read) counts in the tree above it.
pub fn select(
    sessions: &[(SessionMeta, Glance)],
    left_out: &[SessionMeta],
    period: &Period,
) -> (Vec<SessionFigures>, Vec<String>) {
    // Each session's root, as `list` heads them (cycles cut): found in one walk of each line
    // of parents, where a walk from every session took a chain of thousands cubic time.
    let roots = crate::analysis::tree::head_positions(&links_of(sessions, left_out));
    let root_of = |i: usize| roots[i];
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..sessions.len() {
        groups.entry(root_of(i)).or_default().push(i);
    }
    let mut left_out = Vec::new();
    // `--since` is a period that ends now: a session dated later than the clock allows is
    // after it.
    let mut starts = PeriodStarts::ending_now(period.now);
    let mut figures: Vec<(f64, SessionFigures)> = groups
        .into_iter()
        .filter(|(root, _)| {
            let meta = &sessions[*root].0;
            period.since.is_none_or(|since| match starts.start(meta) {
                Ok(start) => start.is_some_and(|start| start >= since),
                Err(warning) => {
                    left_out.push(warning);
                    false
                }
            })
        })
        .map(|(root, members)| {
            // A start no session can have is ordered by the events (2128 came first).
            let (meta, glance) = &sessions[root];
            let start = meta.start_to_order_by(period.now, || glance.first_timestamp);
            (start, figures_of(sessions, root, &members))
        })
        .collect();
    figures.sort_by(|(a_start, a), (b_start, b)| {
        b_start
            .total_cmp(a_start)
            .then_with(|| b.session_id.cmp(&a.session_id))
    });
    figures.truncate(period.last.unwrap_or(usize::MAX));
    left_out.extend(starts.warning());
    (figures.into_iter().map(|(_, f)| f).collect(), left_out)
}

fn figures_of(
    sessions: &[(SessionMeta, Glance)],
    root: usize,
    members: &[usize],
) -> SessionFigures {
    let (meta, glance) = &sessions[root];
    // Of `meta.json`, only the times count here: the counts are the events'.
    let own = meta.unbelievable().only(&["started_at", "ended_at"]);
    let mut f = SessionFigures {
        session_id: meta.session_id.clone(),
        started_at: own.figure("started_at", meta.started_at),
        agent_name: meta.agent_name.clone(),
        first_prompt: glance.first_prompt.clone(),
        tool_calls: Believed::default(),
        errors: Believed::default(),
        tool_errors: Believed::default(),
        turn_errors: 0,
        retries: 0,
        tokens: Believed::default(),
        cost_usd: 0.0,
        cost: Money(0),
        cost_estimated: false,
        cost_unpriced_models: Vec::new(),
        cost_unbelieved_usage: 0,
        duration_s: duration(meta, glance, &own),
        subagents: members.len() as u64 - 1,
        project: None,
        unbelievable: own,
    };
    let mut cost = Money(0);
    for &i in members {
        let (_, glance) = &sessions[i];
        let doubts = glance.unbelievable();
        let add = |sum: &mut Believed<u64>, field: &str, n: u64| {
            sum.believed &= doubts.believes(field);
            sum.value = sum.value.saturating_add(n);
        };
        add(&mut f.tool_calls, "tool_calls", glance.tool_calls);
        let failures = glance.errors.saturating_sub(glance.rejections);
        add(&mut f.errors, "errors", failures);
        // The API errors that ended turns are no call's: apart, and out of the error rate.
        let turn_errors = glance.turn_errors.min(failures);
        add(&mut f.tool_errors, "errors", failures - turn_errors);
        f.turn_errors += turn_errors;
        add(&mut f.tokens, "total_tokens", glance.tokens);
        f.unbelievable.extend(doubts);
        f.retries = f.retries.saturating_add(glance.retries);
        cost += glance.cost;
        f.cost_estimated |= glance.cost_estimated;
        f.cost_unbelieved_usage = f
            .cost_unbelieved_usage
            .saturating_add(glance.unbelieved_usage);
        f.cost_unpriced_models
            .extend(glance.unpriced.iter().cloned());
    }
    f.cost_unpriced_models.sort_unstable();
    f.cost_unpriced_models.dedup();
    f.cost_usd = cost.usd();
    f.cost = cost;
    f
}

/// From start to end, or the span of the events of a session that has not ended; believed
/// unless it comes from times no session can have.
fn duration(meta: &SessionMeta, glance: &Glance, doubts: &Unbelievable) -> Believed<f64> {
    if let Some(d) = meta.duration_secs() {
        return meta.duration_figure(doubts, d);
    }
    // From its start (else its first event) to its last event, when both are times a session
    // can have: an event stamped `1e308` gave a running session 1e308 s, believed, and an end
    // stamped before the start stretched it back to that end.
    let first = meta
        .believed_start()
        .or(glance.first_timestamp.and_then(believed_time));
    match (first, glance.last_timestamp.map(believed_time)) {
        (Some(first), Some(Some(last))) => Believed {
            value: (last - first).max(0.0),
            believed: true,
        },
        // No event yet: it has run for no time seen.
        (_, None) => Believed {
            value: 0.0,
            believed: true,
        },
        _ => Believed {
            value: 0.0,
            believed: false,
        },
    }
}

/// The days the buckets cover: from `since`'s day (or the oldest session's) to today, and
/// how many days each bucket holds.
fn days(selected: &[SessionFigures], period: &Period) -> Option<(NaiveDate, NaiveDate, u32)> {
    let known = || selected.iter().filter_map(|s| s.started_at.known());
    known().next()?;
    // A start later than the clock allows is in the last day, and stretches no window: one in
    // 2099 made `--since 7d` a dashboard to 2099-01-01, a column every 439 days.
    let starts = || known().filter(|t| *t <= period.now + CLOCK_SKEW_SECS);
    let oldest = starts().reduce(f64::min).unwrap_or(period.now);
    let newest = starts().reduce(f64::max).unwrap_or(period.now);
    let first = (period.day)(period.since.unwrap_or(oldest));
    let last = (period.day)(period.now.max(newest));
    let span = u32::try_from((last - first).num_days() + 1)
        .unwrap_or(1)
        .max(1);
    let width = span.div_ceil(MAX_BUCKETS as u32).max(1);
    Some((first, last, width))
}

/// The dashboard of the sessions `select` picked from `sessions` and `left_out`.
pub fn dashboard(
    selected: &[SessionFigures],
    sessions: &[(SessionMeta, Glance)],
    left_out: &[SessionMeta],
    period: &Period,
) -> Dashboard {
    let Some((first, last, width)) = days(selected, period) else {
        return Dashboard {
            from: None,
            to: None,
            since: period.since,
            bucket_days: 1,
            totals: Totals::default(),
            buckets: Vec::new(),
            top_tools: Vec::new(),
            other_tools: 0,
            recent: Vec::new(),
        };
    };
    let count = ((last - first).num_days() as usize) / width as usize + 1;
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| {
            let start = first + chrono::Days::new(i as u64 * u64::from(width));
            let end = (start + chrono::Days::new(u64::from(width) - 1)).min(last);
            Bucket {
                start: start.format("%Y-%m-%d").to_string(),
                days: u32::try_from((end - start).num_days() + 1).unwrap_or(1),
                ..Bucket::default()
            }
        })
        .collect();
    let mut durations: Vec<Vec<f64>> = vec![Vec::new(); count];
    let mut costs = vec![Money(0); count];
    let mut totals = Totals::default();
    let mut cost = Money(0);
    // What no session can have counts nowhere; a session whose start is such is in no day.
    let known = |n: Believed<u64>| n.known().unwrap_or(0);
    for s in selected {
        if let Some(start) = s.started_at.known() {
            let i = bucket_of(start, first, width, period.day).min(count - 1);
            let b = &mut buckets[i];
            b.sessions += 1;
            b.tool_calls += known(s.tool_calls);
            b.errors += known(s.errors);
            b.tool_errors += known(s.tool_errors);
            b.turn_errors += s.turn_errors;
            b.retries = b.retries.saturating_add(s.retries);
            b.tokens = b.tokens.saturating_add(known(s.tokens));
            costs[i] += s.cost;
            b.cost_unpriced_models
                .extend(s.cost_unpriced_models.iter().cloned());
            durations[i].extend(s.duration_s.known());
        }
        totals.sessions += 1;
        totals.subagent_sessions += s.subagents;
        let unbelieved = [
            ("tool_calls", s.tool_calls.believed),
            ("errors", s.errors.believed && s.tool_errors.believed),
            ("tokens", s.tokens.believed),
        ];
        if unbelieved.iter().any(|(_, believed)| !believed) {
            totals.unbelieved_sessions += 1;
        }
        for (name, believed) in unbelieved {
            if !believed && !totals.unbelieved_counts.contains(&name) {
                totals.unbelieved_counts.push(name);
            }
        }
        totals.tool_calls += known(s.tool_calls);
        totals.errors += known(s.errors);
        totals.tool_errors += known(s.tool_errors);
        totals.turn_errors += s.turn_errors;
        totals.retries = totals.retries.saturating_add(s.retries);
        totals.tokens = totals.tokens.saturating_add(known(s.tokens));
        cost += s.cost;
        totals.cost_estimated |= s.cost_estimated;
        totals.cost_unbelieved_usage = totals
            .cost_unbelieved_usage
            .saturating_add(s.cost_unbelieved_usage);
        totals
            .cost_unpriced_models
            .extend(s.cost_unpriced_models.iter().cloned());
    }
    totals.cost_usd = cost.usd();
    let order = ["tool_calls", "errors", "tokens"];
    totals
        .unbelieved_counts
        .sort_by_key(|name| order.iter().position(|o| o == name));
    totals.cost_unpriced_models.sort_unstable();
    totals.cost_unpriced_models.dedup();
    for ((b, mut d), c) in buckets.iter_mut().zip(durations).zip(costs) {
        b.cost_usd = c.usd();
        b.cost_unpriced_models.sort_unstable();
        b.cost_unpriced_models.dedup();
        b.error_rate = rate(b.tool_errors, b.tool_calls);
        b.retry_rate = rate(b.retries, b.tool_calls);
        b.median_duration_s = median(&mut d);
    }
    let (top_tools, other_tools) = top_tools(selected, sessions, left_out, totals.tool_calls);
    Dashboard {
        from: Some(first.format("%Y-%m-%d").to_string()),
        to: Some(last.format("%Y-%m-%d").to_string()),
        since: period.since,
        bucket_days: width,
        totals,
        buckets,
        top_tools,
        other_tools,
        recent: selected.iter().take(RECENT).cloned().collect(),
    }
}

fn bucket_of(ts: f64, first: NaiveDate, width: u32, day: fn(f64) -> NaiveDate) -> usize {
    let days = (day(ts) - first).num_days().max(0);
    usize::try_from(days).unwrap_or(0) / width as usize
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        f64::midpoint(values[mid - 1], values[mid])
    } else {
        values[mid]
    })
}

/// Each session's id and its parent's, for [`crate::analysis::tree::head_positions`]: the
/// first above it that is not one of `left_out` ([`crate::analysis::tree::linked_through`]).
fn links_of<'a>(
    sessions: &'a [(SessionMeta, Glance)],
    left_out: &'a [SessionMeta],
) -> Vec<(&'a str, Option<&'a str>)> {
    let links: Vec<(&str, Option<&str>)> = sessions
        .iter()
        .map(|(meta, _)| (meta.session_id.as_str(), meta.parent_session_id.as_deref()))
        .collect();
    crate::analysis::tree::linked_through(&links, left_out)
}

/// The most used tools of the selected sessions and their subagents, and how many other tool
/// names there were. Shares are of `calls`, the listing's count of calls.
fn top_tools(
    selected: &[SessionFigures],
    sessions: &[(SessionMeta, Glance)],
    left_out: &[SessionMeta],
    calls: u64,
) -> (Vec<ToolUse>, u64) {
    let roots: std::collections::HashSet<&str> =
        selected.iter().map(|s| s.session_id.as_str()).collect();
    // Each session's root tells whether the session is in the period.
    let heads = crate::analysis::tree::head_positions(&links_of(sessions, left_out));
    let mut tools: HashMap<&str, u64> = HashMap::new();
    for (i, (_, glance)) in sessions.iter().enumerate() {
        if !roots.contains(sessions[heads[i]].0.session_id.as_str()) {
            continue;
        }
        for (tool, n) in &glance.tools {
            let calls = tools.entry(tool.as_str()).or_default();
            *calls = calls.saturating_add(*n);
        }
    }
    let mut ranked: Vec<(&str, u64)> = tools.into_iter().collect();
    // The calls the totals count leave out a count no session can have, but the events still
    // hold those calls: no tool has more than all of them.
    let calls = calls.max(
        ranked
            .iter()
            .fold(0, |sum: u64, (_, n)| sum.saturating_add(*n)),
    );
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let others = ranked.len().saturating_sub(TOP_TOOLS) as u64;
    let top = ranked
        .into_iter()
        .take(TOP_TOOLS)
        .map(|(tool, n)| ToolUse {
            tool: tool.to_owned(),
            calls: n,
            share: rate(n, calls),
        })
        .collect();
    (top, others)
}

/// The trend: each judge's pass rate per bucket of `dashboard`, and the notes dated in it.
/// `judged` holds the eval outcome of selected sessions; `notes` are `(date, text)`.
pub fn trend(
    dashboard: &Dashboard,
    selected: &[SessionFigures],
    judged: &[Judged],
    notes: &[(NaiveDate, String)],
    day: fn(f64) -> NaiveDate,
) -> Trend {
    let first = dashboard
        .from
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let count = dashboard.buckets.len();
    let width = dashboard.bucket_days.max(1);
    let started: HashMap<&str, f64> = selected
        .iter()
        .filter_map(|s| Some((s.session_id.as_str(), s.started_at.known()?)))
        .collect();
    // Judge name -> per bucket (judged, passed); the overall verdict first.
    let mut order: Vec<String> = vec!["overall".to_owned()];
    let mut tally: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for j in judged {
        let (Some(first), Some(&at)) = (first, started.get(j.session_id.as_str())) else {
            continue;
        };
        let i = bucket_of(at, first, width, day).min(count.saturating_sub(1));
        let outcomes = std::iter::once(("overall", j.passed)).chain(
            j.scorers
                .iter()
                .map(|(name, passed)| (name.as_str(), *passed)),
        );
        for (name, passed) in outcomes {
            if !order.iter().any(|o| o == name) {
                order.push(name.to_owned());
            }
            let per = tally
                .entry(name.to_owned())
                .or_insert_with(|| vec![(0, 0); count]);
            per[i].0 += 1;
            per[i].1 += u64::from(passed);
        }
    }
    let judges = order
        .into_iter()
        .filter_map(|judge| {
            let per = tally.remove(&judge)?;
            Some(JudgeSeries {
                judged: per.iter().map(|p| p.0).sum(),
                passed: per.iter().map(|p| p.1).sum(),
                pass_rate: per
                    .iter()
                    .map(|&(n, ok)| (n > 0).then(|| ok as f64 / n as f64))
                    .collect(),
                judge,
            })
        })
        .collect();
    let last = first.map(|f| f + chrono::Days::new((count as u64 * u64::from(width)).max(1)));
    // Only the notes dated within the period: the charts have nowhere to mark the others.
    let mut markers: Vec<Marker> = notes
        .iter()
        .filter_map(|(date, note)| {
            let (f, l) = (first?, last?);
            let days = usize::try_from((*date - f).num_days()).ok()?;
            (*date < l).then(|| Marker {
                date: date.format("%Y-%m-%d").to_string(),
                note: note.clone(),
                bucket: days / width as usize,
            })
        })
        .collect();
    markers.sort_by(|a, b| a.date.cmp(&b.date));
    Trend { judges, markers }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, at: f64, calls: u64, errors: u64) -> (SessionMeta, Glance) {
        let mut meta = SessionMeta::new(id, at);
        meta.ended_at = Some(at + 60.0);
        let mut summary = Summary::default();
        summary.tools.insert("Bash".into(), calls);
        summary.counters.tool_calls = calls;
        summary.counters.errors = errors;
        (meta, Glance::of(summary, PriceTable::builtin()))
    }

    const DAY: f64 = 86_400.0;
    /// 2026-01-01 00:00 UTC.
    const T: f64 = 1_767_225_600.0;

    fn period(since: Option<f64>, now: f64) -> Period {
        Period {
            since,
            last: None,
            now,
            day: |ts| {
                chrono::DateTime::from_timestamp(ts as i64, 0)
                    .unwrap()
                    .date_naive()
            },
        }
    }

    #[test]
    fn subagents_count_in_their_parent_on_its_day() {
        let mut child = session("child", T + 3.0 * DAY, 5, 1);
        child.0.parent_session_id = Some("root".into());
        let all = vec![
            session("root", T, 2, 0),
            child,
            session("other", T + DAY, 1, 1),
        ];
        let p = period(None, T + 2.0 * DAY);
        let (selected, _) = select(&all, &[], &p);
        assert_eq!(selected.len(), 2);
        let d = dashboard(&selected, &all, &[], &p);
        assert_eq!(d.totals.sessions, 2);
        assert_eq!(d.totals.subagent_sessions, 1);
        assert_eq!(d.totals.tool_calls, 8);
        assert_eq!(d.totals.errors, 2);
        assert_eq!(d.buckets.len(), 3);
        assert_eq!(d.buckets[0].tool_calls, 7);
        assert_eq!(d.buckets[1].errors, 1);
        assert_eq!(d.buckets[2].sessions, 0);
        assert_eq!(d.top_tools[0].calls, 8);
    }

    #[test]
    fn long_periods_put_several_days_in_a_bucket() {
        let all: Vec<_> = (0..120)
            .map(|i| session(&format!("s{i}"), T + f64::from(i) * DAY, 1, 0))
            .collect();
        let p = period(None, T + 119.0 * DAY);
        let (selected, _) = select(&all, &[], &p);
        let d = dashboard(&selected, &all, &[], &p);
        assert_eq!(d.bucket_days, 2);
        assert_eq!(d.buckets.len(), 60);
        assert!(d.buckets.iter().all(|b| b.sessions == 2));
    }

    #[test]
    fn last_and_since_pick_the_newest() {
        let all: Vec<_> = (0..10)
            .map(|i| session(&format!("s{i}"), T + f64::from(i) * DAY, 1, 0))
            .collect();
        let mut p = period(Some(T + 5.0 * DAY), T + 9.0 * DAY);
        assert_eq!(select(&all, &[], &p).0.len(), 5);
        p.last = Some(2);
        let (picked, _) = select(&all, &[], &p);
        assert_eq!(picked[0].session_id, "s9");
        assert_eq!(picked[1].session_id, "s8");
    }

    #[test]
    fn a_glance_keeps_what_the_dashboard_counts_of_a_summary() {
        use crate::model::summary::{FileCount, ModelUsage};
        use crate::model::usage::Tokens;
        let prices = PriceTable::builtin();
        let usage = |input: u64| ModelUsage {
            responses: 4,
            tokens: Tokens {
                input,
                output: 800,
                cache_creation: 5_000,
                cache_read: 90_000,
                ..Tokens::default()
            },
            long_context: Tokens::default(),
        };
        let mut summary = Summary::default();
        summary
            .models
            .insert("claude-sonnet-4-5".into(), usage(1_200));
        summary.models.insert("a-model-of-our-own".into(), usage(7));
        summary.tools.insert("Read".into(), 4);
        summary.files.insert(
            "/p/a.rs".into(),
            FileCount {
                reads: 2,
                writes: 1,
                ..FileCount::default()
            },
        );
        summary.first_prompt = Some("fix it".into());
        summary.retries = 2;
        summary.unbelieved_usage = 1;
        summary.counters.rejections = 1;
        summary.counters.turn_errors = 3;
        summary.counters.events = 40;
        summary.counters.tool_calls = 4;
        summary.counters.errors = 5;
        summary.counters.total_tokens = 6;
        summary.counters.first_timestamp = Some(T + 1.0);
        summary.counters.last_timestamp = Some(T + 300.0);
        let glance = Glance::of(summary.clone(), prices);
        assert_eq!(
            glance,
            Glance {
                events: 40,
                first_timestamp: Some(T + 1.0),
                last_timestamp: Some(T + 300.0),
                rejections: 1,
                turn_errors: 3,
                retries: 2,
                first_prompt: Some("fix it".into()),
                cost: summary.cost(prices),
                cost_estimated: false,
                unbelieved_usage: 1,
                unpriced: vec!["a-model-of-our-own".into()],
                tools: BTreeMap::from([("Read".into(), 4)]),
                tool_calls: 4,
                errors: 5,
                tokens: 6,
            }
        );
        assert!(glance.cost > Money(0));
        // Without usage, the cost is the estimate's.
        let mut estimated = Summary::default();
        estimated.estimate.output = 4_000;
        let glance = Glance::of(estimated.clone(), prices);
        assert!(glance.cost_estimated);
        assert_eq!(glance.cost, estimated.cost(prices));
        assert!(glance.cost > Money(0));
    }
}
