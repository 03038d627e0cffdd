//! Spend across sessions over a period, against the period before it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cost::CostReport;
use super::phases::Phases;
use crate::model::{Money, SessionMeta};

/// What one session spent, as the report needs it: small enough to cache in the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub cost: Money,
    pub estimated: bool,
    /// Each phase's cost shared among its tool calls, summed by tool.
    pub by_tool: BTreeMap<String, Money>,
}

impl Spend {
    /// A session's spend from its phases and their costs.
    pub fn of(phases: &Phases, report: &CostReport) -> Spend {
        let mut by_tool: BTreeMap<String, Money> = BTreeMap::new();
        for (phase, cost) in phases.phases.iter().zip(&report.phases) {
            let phase_cost = Money::from_usd(cost.cost_usd);
            let calls: u64 = phase.tools.values().sum();
            if calls == 0 {
                *by_tool.entry("(no tool)".to_owned()).or_default() += phase_cost;
                continue;
            }
            for (tool, n) in &phase.tools {
                *by_tool.entry(tool.clone()).or_default() +=
                    Money(phase_cost.0 * u128::from(*n) / u128::from(calls));
            }
        }
        Spend {
            cost: Money::from_usd(report.cost_usd),
            estimated: report.estimated,
            by_tool,
        }
    }
}

/// One session's cost, with its subagents', as the report needs it.
pub struct CostedSession {
    pub meta: SessionMeta,
    pub label: String,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct TopSession {
    pub session_id: String,
    pub cost_usd: f64,
    pub label: String,
    pub started_at: f64,
    pub estimated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolSpend {
    pub tool: String,
    pub cost_usd: f64,
    pub share: f64,
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
    pub sessions: usize,
    pub prior_sessions: usize,
    pub average_usd: f64,
    /// Sessions whose cost is estimated (no recorded usage).
    pub estimated_sessions: usize,
    pub top: Vec<TopSession>,
    /// Each phase's cost shared among its tool calls: an estimate.
    pub by_tool: Vec<ToolSpend>,
    pub watchdog: Watchdog,
}

/// How many sessions the top list shows.
const TOP: usize = 5;

pub fn compute(
    since: f64,
    until: f64,
    current: &[CostedSession],
    prior: &[CostedSession],
) -> BudgetReport {
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
    let mut by_tool: Vec<ToolSpend> = by_tool
        .into_iter()
        .map(|(tool, m)| ToolSpend {
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
        sessions: current.len(),
        prior_sessions: prior.len(),
        average_usd: if current.is_empty() {
            0.0
        } else {
            total.usd() / current.len() as f64
        },
        estimated_sessions: current.iter().filter(|s| s.estimated()).count(),
        top: top
            .into_iter()
            .take(TOP)
            .map(|s| TopSession {
                session_id: s.meta.session_id.clone(),
                cost_usd: s.cost().usd(),
                label: s.label.clone(),
                started_at: s.meta.started_at,
                estimated: s.estimated(),
            })
            .collect(),
        by_tool,
        watchdog: Watchdog {
            recorded: false,
            sessions_stopped: 0,
            saved_usd: 0.0,
        },
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

    fn event(kind: EventType, at: f64, data: Value) -> Event {
        let mut e = Event::new(kind, T0 + at, format!("e{at}"), "s".into());
        e.data = data;
        e
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
            parts: vec![Spend::of(&phases, &report)],
        }
    }

    #[test]
    fn totals_average_and_change_are_exact() {
        let current = [
            session("a", Some(3), &["Bash"]),
            session("b", Some(1), &["Bash"]),
        ];
        let prior = [session("c", Some(2), &["Bash"])];
        let r = compute(0.0, 1.0, &current, &prior);
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
        let r = compute(0.0, 1.0, &[session("a", Some(1), &[])], &[]);
        assert_eq!(r.change_pct, None);
        // A prior period that recorded usage of nothing is no spend either.
        let r = compute(
            0.0,
            1.0,
            &[session("a", Some(1), &[])],
            &[session("z", Some(0), &[])],
        );
        assert_eq!(r.change_pct, None);
        let empty = compute(0.0, 1.0, &[], &[]);
        assert!(empty.average_usd.abs() < f64::EPSILON);
        assert!(empty.top.is_empty() && empty.by_tool.is_empty());
        // Spending nothing now against something before is a 100% drop.
        let drop = compute(0.0, 1.0, &[], &[session("z", Some(1), &[])]);
        assert!((drop.change_pct.unwrap() + 100.0).abs() < 1e-12);
    }

    #[test]
    fn top_is_the_five_most_expensive_ties_by_id() {
        let current: Vec<CostedSession> =
            [("f", 1), ("e", 2), ("d", 2), ("c", 3), ("b", 4), ("a", 5)]
                .iter()
                .map(|(id, d)| session(id, Some(*d), &[]))
                .collect();
        let r = compute(0.0, 1.0, &current, &[]);
        let ids: Vec<&str> = r.top.iter().map(|t| t.session_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_phase_cost_is_shared_among_its_tool_calls() {
        // $3 over three calls: Bash twice, Read once; a session without calls is "(no tool)".
        let r = compute(
            0.0,
            1.0,
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
        let odd = compute(0.0, 1.0, &[session("a", Some(1), &["A", "B", "C"])], &[]);
        for t in &odd.by_tool {
            assert_eq!(Money::from_usd(t.cost_usd), Money(333_333_333_333));
        }
    }

    #[test]
    fn sessions_without_usage_are_counted_as_estimates() {
        let r = compute(
            0.0,
            1.0,
            &[session("a", None, &["Bash"]), session("b", Some(1), &[])],
            &[],
        );
        assert_eq!(r.estimated_sessions, 1);
        assert!(r.top.iter().any(|t| t.session_id == "a" && t.estimated));
    }
}
