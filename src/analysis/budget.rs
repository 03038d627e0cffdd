//! Spend across sessions over a period, against the period before it: in total, by session,
//! day, model, project and tool, and by 5-hour billing block.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::cost::CostReport;
use super::phases::Phases;
use crate::model::pricing::PriceTable;
use crate::model::{Money, SessionMeta};

/// What one session spent, as the report needs it: small enough to cache in the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub cost: Money,
    pub estimated: bool,
    /// Each phase's cost shared among its tool calls, summed by tool.
    pub by_tool: BTreeMap<String, Money>,
    /// By model, as the session's cost report names them.
    pub by_model: BTreeMap<String, Money>,
    /// By the minute it was spent in (minutes since the epoch): each response's cost, or for
    /// an estimate each phase's at the phase's start. Minutes, not responses, keep the cached
    /// figure small; days and billing blocks start on whole minutes.
    pub by_minute: BTreeMap<i64, Money>,
    /// Models whose usage has no known price, counted at $0 (the cost report's `unpriced`).
    #[serde(default)]
    pub unpriced: Vec<String>,
    /// The minutes of responses by those models: the days and billing blocks they fall in
    /// count them at $0.
    #[serde(default)]
    pub unpriced_minutes: BTreeSet<i64>,
    /// The tools sharing the cost of a phase with usage by those models.
    #[serde(default)]
    pub unpriced_tools: BTreeSet<String>,
    /// Priced from its agent's own log (a hook-recorded session records no usage): `list`,
    /// `dashboard` and `sql` show an estimate from payload sizes for it instead.
    #[serde(default)]
    pub from_log: bool,
    /// Responses whose usage holds a count no response can have: unknown, not in `cost`
    /// ([`CostReport::unbelieved_usage`]).
    #[serde(default)]
    pub unbelieved_usage: u64,
}

impl Spend {
    /// A session's spend from its phases and their costs at `table`'s prices.
    pub fn of(phases: &Phases, report: &CostReport, table: &PriceTable) -> Spend {
        let mut by_tool: BTreeMap<String, Money> = BTreeMap::new();
        let mut unpriced_tools = BTreeSet::new();
        for (phase, cost) in phases.phases.iter().zip(&report.phases) {
            let phase_cost = Money::from_usd(cost.cost_usd);
            let calls: u64 = phase.tools.values().sum();
            let phase_unpriced = cost.unpriced;
            if calls == 0 {
                *by_tool.entry("(no tool)".to_owned()).or_default() += phase_cost;
                if phase_unpriced {
                    unpriced_tools.insert("(no tool)".to_owned());
                }
                continue;
            }
            if phase_unpriced {
                unpriced_tools.extend(phase.tools.keys().cloned());
            }
            for (tool, n) in &phase.tools {
                *by_tool.entry(tool.clone()).or_default() +=
                    Money(phase_cost.0 * u128::from(*n) / u128::from(calls));
            }
        }
        let by_model = report
            .models
            .iter()
            .map(|m| (m.model.clone(), Money::from_usd(m.cost_usd)))
            .collect();
        let mut by_minute: BTreeMap<i64, Money> = BTreeMap::new();
        let mut unpriced_minutes = BTreeSet::new();
        if report.estimated {
            for (phase, cost) in phases.phases.iter().zip(&report.phases) {
                *by_minute
                    .entry(minute(phases.started_at.value + phase.start_s))
                    .or_default() += Money::from_usd(cost.cost_usd);
            }
        } else {
            for r in &phases.responses {
                let price = table.find(&r.model);
                if price.is_none() && !r.tokens.is_zero() {
                    unpriced_minutes.insert(minute(r.at));
                }
                let cost = price.map_or(Money(0), |p| p.cost(&r.tokens, r.long_context));
                *by_minute.entry(minute(r.at)).or_default() += cost;
            }
        }
        Spend {
            cost: Money::from_usd(report.cost_usd),
            estimated: report.estimated,
            by_tool,
            by_model,
            by_minute,
            unpriced: report.unpriced.clone(),
            unpriced_minutes,
            unpriced_tools,
            from_log: report.usage_log.is_some(),
            unbelieved_usage: report.unbelieved_usage,
        }
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_no_session(n: &usize) -> bool {
    *n == 0
}

/// The minute (since the epoch) an instant falls in.
fn minute(at: f64) -> i64 {
    (at / 60.0).floor() as i64
}

/// One session's cost, with its subagents', as the report needs it.
pub struct CostedSession {
    pub meta: SessionMeta,
    pub label: String,
    /// The project whose store holds it, when the report covers several.
    pub project: Option<String>,
    /// The session first, then each subagent session.
    pub parts: Vec<Spend>,
}

impl CostedSession {
    fn cost(&self) -> Money {
        self.parts.iter().map(|p| p.cost).sum()
    }

    fn estimated(&self) -> bool {
        self.parts.iter().any(|p| p.estimated)
    }

    /// Some response of the session or a subagent has usage that could not be believed.
    fn unbelieved(&self) -> bool {
        self.parts.iter().any(|p| p.unbelieved_usage > 0)
    }

    fn priced_from_log(&self) -> bool {
        self.parts.iter().any(|p| p.from_log)
    }

    /// The models its parts count at $0 for want of a price, in name order.
    fn unpriced(&self) -> Vec<String> {
        unpriced(std::slice::from_ref(self))
    }
}

/// The models `sessions` count at $0 for want of a price, in name order, each once.
fn unpriced(sessions: &[CostedSession]) -> Vec<String> {
    let mut models: Vec<String> = sessions
        .iter()
        .flat_map(|s| &s.parts)
        .flat_map(|p| p.unpriced.iter().cloned())
        .collect();
    models.sort_unstable();
    models.dedup();
    models
}

#[derive(Debug, Clone, Serialize)]
pub struct TopSession {
    pub session_id: String,
    pub cost_usd: f64,
    pub label: String,
    pub started_at: f64,
    pub estimated: bool,
    /// Priced (in part) from its agent's own log: `list` shows an estimate for it.
    pub from_log: bool,
    /// Models whose usage has no known price: `cost_usd` counts them at $0.
    pub unpriced_models: Vec<String>,
    /// Its responses whose usage no response can have: left out of `cost_usd`, which `list`
    /// and `cost` mark `?` for it.
    pub unbelieved_usage: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// Spend on one day (local time).
#[derive(Debug, Clone, Serialize)]
pub struct DaySpend {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub cost_usd: f64,
    /// Some of the day's usage has no known price: it is counted at $0.
    pub unpriced: bool,
    /// Spent at or after the period's end by sessions that started in it: a session counts
    /// whole in the period it started in, and its spend is on the days it was spent. A day
    /// with spend on both sides of the end has a row for each.
    pub after_period: bool,
}

/// Spend on one model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSpend {
    pub model: String,
    pub cost_usd: f64,
    pub share: f64,
    /// No price is known for the model: its usage is counted at $0.
    pub unpriced: bool,
}

/// Spend in one project's store.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectSpend {
    pub project: String,
    pub sessions: usize,
    pub cost_usd: f64,
    pub share: f64,
    /// Some of the project's usage has no known price: it is counted at $0.
    pub unpriced: bool,
}

/// One 5-hour billing block, as Claude's plans count usage: it starts at the hour (UTC) of the
/// first response after the previous block, and lasts five hours.
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    pub start: f64,
    pub end: f64,
    /// The first and last minute with spend in it.
    pub first: f64,
    pub last: f64,
    pub cost_usd: f64,
    /// The block is still open: it has not ended and its last spend is under 5 hours ago.
    pub active: bool,
    /// Some of the block's usage has no known price: it is counted at $0.
    pub unpriced: bool,
    /// Its first spend is at or after the period's end (a session of the period still
    /// spending).
    pub after_period: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolSpend {
    pub tool: String,
    pub cost_usd: f64,
    pub share: f64,
    /// Some phase the tool shares the cost of had usage with no known price, counted at $0.
    pub unpriced: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Watchdog {
    /// Whether the store holds any watchdog records to count from.
    pub recorded: bool,
    pub sessions_stopped: u64,
    pub saved_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BudgetReport {
    pub since: f64,
    pub until: f64,
    pub total_usd: f64,
    pub prior_total_usd: f64,
    /// Change against the prior period, in percent; `None` when the prior period spent nothing.
    pub change_pct: Option<f64>,
    /// Either period counts a model without a price at $0, so `change_pct` is of what was
    /// priced alone: a period spent wholly on such a model read as a confident 100% drop.
    pub change_unpriced: bool,
    /// The prior period's models without a price, counted at $0 in `prior_total_usd`.
    pub prior_unpriced_models: Vec<String>,
    pub sessions: usize,
    pub prior_sessions: usize,
    pub average_usd: f64,
    /// Sessions whose cost is estimated, in whole or in part (no usage recorded by the session
    /// or a subagent).
    pub estimated_sessions: usize,
    /// Sessions that recorded no usage, priced from their agent's own log (a Claude Code
    /// transcript): `list`, `dashboard` and `sql` show an estimate for them.
    pub from_log_sessions: usize,
    /// Sessions (with their subagents) with responses whose usage holds a count no response
    /// can have: their tokens are unknown, not in the totals.
    #[serde(skip_serializing_if = "is_no_session")]
    pub unbelieved_sessions: usize,
    /// Models of the period's sessions whose usage has no known price, in name order: the
    /// totals count them at $0.
    pub unpriced_models: Vec<String>,
    pub top: Vec<TopSession>,
    /// By day of spend, oldest first.
    pub by_day: Vec<DaySpend>,
    /// By model, most spent first.
    pub by_model: Vec<ModelSpend>,
    /// By project, most spent first; empty unless the report covers several stores.
    pub by_project: Vec<ProjectSpend>,
    /// Each phase's cost shared among its tool calls: an estimate.
    pub by_tool: Vec<ToolSpend>,
    /// The 5-hour billing blocks the period's spend falls in, oldest first.
    pub blocks: Vec<Block>,
    /// When the newest session of all started, whether in the period or not.
    pub newest_session_at: Option<f64>,
    pub watchdog: Watchdog,
}

/// How many sessions the top list shows.
const TOP: usize = 5;

/// A billing block's length.
pub const BLOCK_SECS: i64 = 5 * 3600;

/// What the report is computed from beyond the sessions.
pub struct Period<'a> {
    pub since: f64,
    pub until: f64,
    /// Now, for telling the open billing block.
    pub now: f64,
    /// The day (`YYYY-MM-DD`, in the reader's time zone) an instant falls on.
    pub day: &'a dyn Fn(f64) -> String,
    pub newest_session_at: Option<f64>,
}

pub fn compute(
    period: &Period<'_>,
    current: &[CostedSession],
    prior: &[CostedSession],
) -> BudgetReport {
    let (since, until) = (period.since, period.until);
    let total: Money = current.iter().map(CostedSession::cost).sum();
    let prior_total: Money = prior.iter().map(CostedSession::cost).sum();
    let mut top: Vec<&CostedSession> = current.iter().collect();
    top.sort_by(|a, b| {
        b.cost()
            .cmp(&a.cost())
            .then_with(|| a.meta.session_id.cmp(&b.meta.session_id))
    });
    let mut by_tool: BTreeMap<String, Money> = BTreeMap::new();
    for part in current.iter().flat_map(|s| &s.parts) {
        for (tool, cost) in &part.by_tool {
            *by_tool.entry(tool.clone()).or_default() += *cost;
        }
    }
    let mut minutes: BTreeMap<i64, Money> = BTreeMap::new();
    let mut unpriced_minutes: BTreeSet<i64> = BTreeSet::new();
    let mut unpriced_tools: BTreeSet<&str> = BTreeSet::new();
    for part in current.iter().flat_map(|s| &s.parts) {
        for (m, cost) in &part.by_minute {
            *minutes.entry(*m).or_default() += *cost;
        }
        unpriced_minutes.extend(&part.unpriced_minutes);
        unpriced_tools.extend(part.unpriced_tools.iter().map(String::as_str));
    }
    let mut by_tool: Vec<ToolSpend> = by_tool
        .into_iter()
        .map(|(tool, m)| ToolSpend {
            unpriced: unpriced_tools.contains(tool.as_str()),
            tool,
            cost_usd: m.usd(),
            share: total.share(m),
        })
        .collect();
    by_tool.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.tool.cmp(&b.tool))
    });
    BudgetReport {
        since,
        until,
        total_usd: total.usd(),
        prior_total_usd: prior_total.usd(),
        change_pct: (prior_total.0 > 0)
            .then(|| (total.usd() - prior_total.usd()) / prior_total.usd() * 100.0),
        change_unpriced: !unpriced(current).is_empty() || !unpriced(prior).is_empty(),
        prior_unpriced_models: unpriced(prior),
        sessions: current.len(),
        prior_sessions: prior.len(),
        average_usd: if current.is_empty() {
            0.0
        } else {
            total.usd() / current.len() as f64
        },
        estimated_sessions: current.iter().filter(|s| s.estimated()).count(),
        from_log_sessions: current.iter().filter(|s| s.priced_from_log()).count(),
        unbelieved_sessions: current.iter().filter(|s| s.unbelieved()).count(),
        unpriced_models: unpriced(current),
        top: top
            .into_iter()
            .take(TOP)
            .map(|s| TopSession {
                session_id: s.meta.session_id.clone(),
                cost_usd: s.cost().usd(),
                label: s.label.clone(),
                started_at: s.meta.started_at,
                estimated: s.estimated(),
                from_log: s.priced_from_log(),
                unpriced_models: s.unpriced(),
                unbelieved_usage: s
                    .parts
                    .iter()
                    .fold(0, |sum: u64, p| sum.saturating_add(p.unbelieved_usage)),
                project: s.project.clone(),
            })
            .collect(),
        by_day: by_day(&minutes, &unpriced_minutes, period.day, until),
        by_model: by_model(current, total),
        by_project: by_project(current, total),
        by_tool,
        blocks: blocks(&minutes, &unpriced_minutes, period.now)
            .into_iter()
            .map(|b| Block {
                after_period: b.first >= until,
                ..b
            })
            .collect(),
        newest_session_at: period.newest_session_at,
        watchdog: Watchdog {
            recorded: false,
            sessions_stopped: 0,
            saved_usd: 0.0,
        },
    }
}

fn by_day(
    minutes: &BTreeMap<i64, Money>,
    unpriced_minutes: &BTreeSet<i64>,
    day: &dyn Fn(f64) -> String,
    until: f64,
) -> Vec<DaySpend> {
    // Every time zone's offset is a multiple of 15 minutes, so a quarter of an hour falls on
    // one day: the day is looked up once a quarter, not once a minute. A quarter the period
    // ends in is split at its end.
    let after = |m: i64| m as f64 * 60.0 >= until;
    let mut quarters: BTreeMap<(i64, bool), Money> = BTreeMap::new();
    for (m, cost) in minutes {
        *quarters.entry((m.div_euclid(15), after(*m))).or_default() += *cost;
    }
    let unpriced_quarters: BTreeSet<(i64, bool)> = unpriced_minutes
        .iter()
        .map(|m| (m.div_euclid(15), after(*m)))
        .collect();
    let mut days: BTreeMap<(String, bool), (Money, bool)> = BTreeMap::new();
    for ((q, after), cost) in quarters {
        let entry = days.entry((day(q as f64 * 900.0), after)).or_default();
        entry.0 += cost;
        entry.1 |= unpriced_quarters.contains(&(q, after));
    }
    days.into_iter()
        .map(|((day, after_period), (cost, unpriced))| DaySpend {
            day,
            cost_usd: cost.usd(),
            unpriced,
            after_period,
        })
        .collect()
}

fn by_model(current: &[CostedSession], total: Money) -> Vec<ModelSpend> {
    let unpriced = unpriced(current);
    let mut models: BTreeMap<&str, Money> = BTreeMap::new();
    for part in current.iter().flat_map(|s| &s.parts) {
        for (model, cost) in &part.by_model {
            *models.entry(model).or_default() += *cost;
        }
    }
    most_spent_first(
        models.into_iter().map(|(model, cost)| {
            let spend = ModelSpend {
                model: model.to_owned(),
                cost_usd: cost.usd(),
                share: total.share(cost),
                unpriced: unpriced.iter().any(|m| m == model),
            };
            (model, spend)
        }),
        |row| row.cost_usd,
    )
}

fn by_project(current: &[CostedSession], total: Money) -> Vec<ProjectSpend> {
    let mut projects: BTreeMap<&str, (usize, Money, bool)> = BTreeMap::new();
    for s in current {
        if let Some(project) = &s.project {
            let entry = projects.entry(project).or_default();
            entry.0 += 1;
            entry.1 += s.cost();
            entry.2 |= s.parts.iter().any(|p| !p.unpriced.is_empty());
        }
    }
    most_spent_first(
        projects
            .into_iter()
            .map(|(project, (sessions, cost, unpriced))| {
                let spend = ProjectSpend {
                    project: project.to_owned(),
                    sessions,
                    cost_usd: cost.usd(),
                    share: total.share(cost),
                    unpriced,
                };
                (project, spend)
            }),
        |row| row.cost_usd,
    )
}

/// Rows by name, the most spent first; equal spends by name, so the order never depends on
/// the store's.
fn most_spent_first<'a, T>(
    rows: impl Iterator<Item = (&'a str, T)>,
    cost_usd: fn(&T) -> f64,
) -> Vec<T> {
    let mut rows: Vec<(&str, T)> = rows.collect();
    rows.sort_by(|a, b| {
        cost_usd(&b.1)
            .total_cmp(&cost_usd(&a.1))
            .then_with(|| a.0.cmp(b.0))
    });
    rows.into_iter().map(|(_, row)| row).collect()
}

/// The billing blocks of spend by minute, as ccusage's `blocks` finds them: a block starts at
/// the hour (UTC) of the first spend after the previous block, and a spend five hours or more
/// after its block's start, or more than five hours after the spend before it, starts the next.
fn blocks(minutes: &BTreeMap<i64, Money>, unpriced: &BTreeSet<i64>, now: f64) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut open: Option<(i64, i64, i64, Money)> = None; // start, first, last (s), cost
    for (m, cost) in minutes {
        let at = m * 60;
        if let Some((start, first, last, sum)) = open {
            if at - start >= BLOCK_SECS || at - last > BLOCK_SECS {
                out.push(block(start, first, last, sum, now));
            } else {
                open = Some((start, first, at, sum + *cost));
                continue;
            }
        }
        open = Some((at.div_euclid(3600) * 3600, at, at, *cost));
    }
    if let Some((start, first, last, sum)) = open {
        out.push(block(start, first, last, sum, now));
    }
    for b in &mut out {
        let (first, last) = (b.first as i64 / 60, b.last as i64 / 60);
        b.unpriced = unpriced.range(first..=last).next().is_some();
    }
    out
}

fn block(start: i64, first: i64, last: i64, cost: Money, now: f64) -> Block {
    let end = start + BLOCK_SECS;
    Block {
        unpriced: false,
        after_period: false,
        start: start as f64,
        end: end as f64,
        first: first as f64,
        last: last as f64,
        cost_usd: cost.usd(),
        active: now < end as f64 && now - (last as f64) < BLOCK_SECS as f64,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::analysis::cost::{CostOptions, compute as cost};
    use crate::analysis::phases::PhaseBuilder;
    use crate::model::pricing::PriceTable;
    use crate::model::{Event, EventType};

    const T0: f64 = 1_780_000_000.0;

    fn period() -> Period<'static> {
        Period {
            since: 0.0,
            until: 1.0,
            now: T0,
            day: &|ts| format!("{}", (ts / 86_400.0).floor()),
            newest_session_at: None,
        }
    }

    fn event(kind: EventType, at: f64, data: Value) -> Event {
        Event::new(kind, T0 + at, format!("e{at}"), "s".into()).with_data(data)
    }

    /// A session whose one phase calls `tools` and spends `dollars` of Haiku 4.5 input ($1 a
    /// million tokens), or of nothing recorded when `dollars` is `None` (an estimate).
    fn session(id: &str, dollars: Option<u64>, tools: &[&str]) -> CostedSession {
        let mut b = PhaseBuilder::new(crate::model::Agent::ClaudeCode, Some(T0));
        b.observe(&event(EventType::UserPrompt, 0.0, json!({"prompt": id})));
        for (i, tool) in tools.iter().enumerate() {
            b.observe(&event(
                EventType::ToolCall,
                1.0 + i as f64,
                json!({"tool_name": tool, "arguments": {}}),
            ));
        }
        if let Some(d) = dollars {
            b.observe(&event(
                EventType::LlmResponse,
                50.0,
                json!({"model": "claude-haiku-4-5", "usage": {"input_tokens": d * 1_000_000}}),
            ));
        }
        let phases = b.finish();
        let report = cost(id, &phases, PriceTable::builtin(), &CostOptions::default()).unwrap();
        CostedSession {
            meta: SessionMeta::new(id, T0),
            label: id.to_owned(),
            parts: vec![Spend::of(&phases, &report, PriceTable::builtin())],
            project: None,
        }
    }

    #[test]
    fn totals_average_and_change_are_exact() {
        let current = [
            session("a", Some(3), &["Bash"]),
            session("b", Some(1), &["Bash"]),
        ];
        let prior = [session("c", Some(2), &["Bash"])];
        let r = compute(&period(), &current, &prior);
        assert_eq!(Money::from_usd(r.total_usd), Money::of(4_000_000, 1.0));
        assert_eq!(
            Money::from_usd(r.prior_total_usd),
            Money::of(2_000_000, 1.0)
        );
        assert!((r.change_pct.unwrap() - 100.0).abs() < 1e-12);
        assert!((r.average_usd - 2.0).abs() < 1e-12);
        assert_eq!((r.sessions, r.prior_sessions), (2, 1));
        assert_eq!(r.estimated_sessions, 0);
    }

    #[test]
    fn no_prior_spend_means_no_change_and_no_sessions_no_average() {
        let r = compute(&period(), &[session("a", Some(1), &[])], &[]);
        assert_eq!(r.change_pct, None);
        // A prior period that recorded usage of nothing is no spend either.
        let r = compute(
            &period(),
            &[session("a", Some(1), &[])],
            &[session("z", Some(0), &[])],
        );
        assert_eq!(r.change_pct, None);
        let empty = compute(&period(), &[], &[]);
        assert!(empty.average_usd.abs() < f64::EPSILON);
        assert!(empty.top.is_empty() && empty.by_tool.is_empty());
        // Spending nothing now against something before is a 100% drop.
        let drop = compute(&period(), &[], &[session("z", Some(1), &[])]);
        assert!((drop.change_pct.unwrap() + 100.0).abs() < 1e-12);
    }

    #[test]
    fn top_is_the_five_most_expensive_ties_by_id() {
        let current: Vec<CostedSession> =
            [("f", 1), ("e", 2), ("d", 2), ("c", 3), ("b", 4), ("a", 5)]
                .iter()
                .map(|(id, d)| session(id, Some(*d), &[]))
                .collect();
        let r = compute(&period(), &current, &[]);
        let ids: Vec<&str> = r.top.iter().map(|t| t.session_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_phase_cost_is_shared_among_its_tool_calls() {
        // $3 over three calls: Bash twice, Read once; a session without calls is "(no tool)".
        let r = compute(
            &period(),
            &[
                session("a", Some(3), &["Bash", "Read", "Bash"]),
                session("b", Some(1), &[]),
            ],
            &[],
        );
        let spend: Vec<(&str, f64)> = r
            .by_tool
            .iter()
            .map(|t| (t.tool.as_str(), t.cost_usd))
            .collect();
        assert_eq!(spend, [("Bash", 2.0), ("(no tool)", 1.0), ("Read", 1.0)]);
        let shares: f64 = r.by_tool.iter().map(|t| t.share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
        // A share that does not divide evenly rounds down to the picodollar, never up.
        let odd = compute(&period(), &[session("a", Some(1), &["A", "B", "C"])], &[]);
        for t in &odd.by_tool {
            assert_eq!(Money::from_usd(t.cost_usd), Money(333_333_333_333));
        }
    }

    #[test]
    fn sessions_without_usage_are_counted_as_estimates() {
        let r = compute(
            &period(),
            &[session("a", None, &["Bash"]), session("b", Some(1), &[])],
            &[],
        );
        assert_eq!(r.estimated_sessions, 1);
        assert!(r.top.iter().any(|t| t.session_id == "a" && t.estimated));
    }

    #[test]
    fn billing_blocks_start_at_the_hour_and_last_five_hours() {
        // 2026-01-01 00:00 UTC.
        let day0 = 1_767_225_600_i64;
        let at = |h: i64, m: i64| (day0 + h * 3600 + m * 60) / 60;
        let minutes: BTreeMap<i64, Money> = [
            (at(10, 37), 1),
            (at(14, 59), 2), // the block's last minute: 10:00 + 5h is 15:00
            (at(15, 0), 4),  // starts the next, at 15:00
            (at(19, 30), 8),
            (at(23, 0), 16), // 15:00 + 5h passed: 23:00
        ]
        .into_iter()
        .map(|(m, usd)| (m, Money::of(1_000_000, f64::from(usd))))
        .collect();
        let now = (day0 + 23 * 3600 + 30 * 60) as f64;
        let b = blocks(&minutes, &BTreeSet::new(), now);
        let starts: Vec<i64> = b.iter().map(|b| (b.start as i64 - day0) / 3600).collect();
        assert_eq!(starts, [10, 15, 23]);
        let costs: Vec<f64> = b.iter().map(|b| b.cost_usd).collect();
        assert_eq!(costs, [3.0, 12.0, 16.0]);
        assert_eq!(b[0].first as i64, at(10, 37) * 60);
        assert_eq!(b[0].last as i64, at(14, 59) * 60);
        assert!((b[0].end - b[0].start - 5.0 * 3600.0).abs() < f64::EPSILON);
        assert_eq!(
            b.iter().map(|b| b.active).collect::<Vec<_>>(),
            [false, false, true]
        );
        // Spend more than five hours after the spend before it starts a block at its own hour.
        let gap: BTreeMap<i64, Money> = [(at(1, 10), 1), (at(6, 20), 1)]
            .into_iter()
            .map(|(m, usd)| (m, Money::of(1_000_000, f64::from(usd))))
            .collect();
        let b = blocks(&gap, &BTreeSet::new(), now);
        assert_eq!(b.len(), 2);
        assert_eq!((b[1].start as i64 - day0) / 3600, 6);
    }

    #[test]
    fn spend_is_broken_down_by_day_model_and_project() {
        let mut a = session("a", Some(3), &["Bash"]);
        a.project = Some("~/app".into());
        let mut b = session("b", Some(1), &[]);
        b.project = Some("~/lib".into());
        let r = compute(&period(), &[a, b], &[]);
        let models: Vec<(&str, f64)> = r
            .by_model
            .iter()
            .map(|m| (m.model.as_str(), m.cost_usd))
            .collect();
        assert_eq!(models, [("claude-haiku-4-5", 4.0)]);
        let projects: Vec<(&str, usize, f64)> = r
            .by_project
            .iter()
            .map(|p| (p.project.as_str(), p.sessions, p.cost_usd))
            .collect();
        assert_eq!(projects, [("~/app", 1, 3.0), ("~/lib", 1, 1.0)]);
        // Both responses came at T0 + 50 s: one day, all of the spend.
        let days: f64 = r.by_day.iter().map(|d| d.cost_usd).sum();
        assert_eq!(r.by_day.len(), 1);
        assert!((days - r.total_usd).abs() < 1e-9);
        assert_eq!(r.blocks.len(), 1);
        assert!((r.blocks[0].cost_usd - 4.0).abs() < 1e-9);
    }
}
