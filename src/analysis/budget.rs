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
