//! `lint`: a session checked for known bad patterns, each finding naming its events by the
//! numbers replay shows.
//!
//! # Architecture
//! - this file: the report, its levels, and each rule's settings.
//! - [`rules`]: one function a rule, over the session's events.
//!
//! The rules and their defaults are those of the Python tool's lint table (tool-loop,
//! reasoning-spiral, budget-proximity, context-saturation, redundant-read, error-retry-loop,
//! no-output), read through the typed views so that every agent's sessions are judged alike;
//! and one of ours, hidden-text: text the agent read that a screen does not show.

pub mod rules;

use serde::Serialize;

use crate::analysis::phases::TimedUsage;
use crate::model::{Agent, Event};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    #[serde(rename = "ERROR")]
    Error,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "INFO")]
    Info,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
        }
    }
}

/// The rules, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleName {
    ToolLoop,
    ReasoningSpiral,
    BudgetProximity,
    ContextSaturation,
    RedundantRead,
    ErrorRetryLoop,
    NoOutput,
    HiddenText,
}

impl RuleName {
    pub const ALL: [RuleName; 8] = [
        RuleName::ToolLoop,
        RuleName::ReasoningSpiral,
        RuleName::BudgetProximity,
        RuleName::ContextSaturation,
        RuleName::RedundantRead,
        RuleName::ErrorRetryLoop,
        RuleName::NoOutput,
        RuleName::HiddenText,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleName::ToolLoop => "tool-loop",
            RuleName::ReasoningSpiral => "reasoning-spiral",
            RuleName::BudgetProximity => "budget-proximity",
            RuleName::ContextSaturation => "context-saturation",
            RuleName::RedundantRead => "redundant-read",
            RuleName::ErrorRetryLoop => "error-retry-loop",
            RuleName::NoOutput => "no-output",
            RuleName::HiddenText => "hidden-text",
        }
    }

    /// The rule as it runs when no settings file says otherwise.
    pub fn default_setting(self) -> RuleSetting {
        let (level, threshold) = match self {
            RuleName::ToolLoop => (Level::Warn, 5.0),
            RuleName::ReasoningSpiral | RuleName::ErrorRetryLoop => (Level::Warn, 3.0),
            RuleName::BudgetProximity => (Level::Error, 0.9),
            RuleName::ContextSaturation => (Level::Info, 0.8),
            RuleName::RedundantRead => (Level::Info, 3.0),
            RuleName::NoOutput => (Level::Warn, 0.0),
            RuleName::HiddenText => (Level::Warn, 1.0),
        };
        RuleSetting {
            enabled: true,
            level,
            threshold,
        }
    }

    /// Whether the threshold is a share (0 to 1] rather than a count (see
    /// [`RuleName::least_count`]).
    pub fn threshold_is_share(self) -> bool {
        matches!(
            self,
            RuleName::BudgetProximity | RuleName::ContextSaturation
        )
    }

    /// The least count threshold that still finds its pattern: one call is no loop, one
    /// response no spiral, one read no reread and one failure no retry; one hidden character is
    /// hidden text.
    pub fn least_count(self) -> f64 {
        if self == RuleName::HiddenText {
            1.0
        } else {
            2.0
        }
    }
}

/// How one rule runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleSetting {
    pub enabled: bool,
    pub level: Level,
    /// A count (calls, responses, reads, retries) or a share (of a budget, of a window).
    pub threshold: f64,
}

/// Every rule's setting, in [`RuleName::ALL`]'s order.
#[derive(Debug, Clone, PartialEq)]
pub struct LintConfig {
    pub rules: [RuleSetting; 8],
    /// The budget ceiling for budget-proximity when the session recorded none.
    pub budget_usd: Option<f64>,
    /// The context window context-saturation measures every response against, when given: in
    /// place of the one the agent recorded or the model's.
    pub context_window: Option<u64>,
}

impl Default for LintConfig {
    fn default() -> LintConfig {
        LintConfig {
            rules: RuleName::ALL.map(RuleName::default_setting),
            budget_usd: None,
            context_window: None,
        }
    }
}

impl LintConfig {
    pub fn setting(&self, rule: RuleName) -> &RuleSetting {
        &self.rules[rule as usize]
    }

    pub fn setting_mut(&mut self, rule: RuleName) -> &mut RuleSetting {
        &mut self.rules[rule as usize]
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
    /// The first and last event it is about, as replay numbers them (the Python tool's
    /// `line_start` and `line_end`).
    pub line_start: Option<usize>,
    pub line_end: Option<usize>,
    /// Every event it is about.
    pub events: Vec<usize>,
}

/// A session's findings, most serious first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintReport {
    pub session_id: String,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub findings: Vec<Finding>,
    /// What a rule could not judge, and why, once each: no finding, as nothing was found.
    pub notes: Vec<String>,
}

/// What a session's lint reads.
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    pub id: &'a str,
    pub agent: Agent,
    /// Its events, in file order (event N is `events[N - 1]`).
    pub events: &'a [Event],
    /// Every response's usage, in time order (recorded as events or read from the
    /// transcript).
    pub responses: &'a [TimedUsage],
    pub cost_usd: f64,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: &'a [String],
    /// A subagent's session: it answers its parent, so writing nothing is no fault.
    pub subagent: bool,
}

/// Runs every enabled rule over `session`.
pub fn lint(session: &Session<'_>, config: &LintConfig) -> LintReport {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for rule in RuleName::ALL {
        let setting = config.setting(rule);
        if !setting.enabled {
            continue;
        }
        let (found, note) = rules::run(rule, session, setting, config);
        findings.extend(found);
        notes.extend(note);
    }
    findings.sort_by_key(|f| (f.level, f.line_start));
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    LintReport {
        session_id: session.id.to_owned(),
        errors: count(Level::Error),
        warnings: count(Level::Warn),
        infos: count(Level::Info),
        findings,
        notes,
    }
}

#[cfg(test)]
mod tests;
