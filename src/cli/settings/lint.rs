//! `.agent-strace-lint.json`: per lint rule, whether it runs, its threshold and its level.

use serde::Deserialize;

use super::{SettingsFile, Syntax};

/// `.agent-strace-lint.json`: per lint rule, whether it runs, its threshold and its level.
/// Rules left out keep their defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LintSettings {
    #[serde(rename = "tool-loop")]
    pub tool_loop: Option<LintRule>,
    #[serde(rename = "reasoning-spiral")]
    pub reasoning_spiral: Option<LintRule>,
    #[serde(rename = "budget-proximity")]
    pub budget_proximity: Option<LintRule>,
    #[serde(rename = "context-saturation")]
    pub context_saturation: Option<LintRule>,
    #[serde(rename = "redundant-read")]
    pub redundant_read: Option<LintRule>,
    #[serde(rename = "error-retry-loop")]
    pub error_retry_loop: Option<LintRule>,
    #[serde(rename = "no-output")]
    pub no_output: Option<LintRule>,
    #[serde(rename = "hidden-text")]
    pub hidden_text: Option<LintRule>,
    /// A rule of the Python tool's (0.103) that this lint does not have: a file written for it
    /// is accepted and the rule's settings passed over, with a warning; a name neither tool
    /// knows stays an error.
    #[serde(rename = "post-compaction-regression")]
    pub post_compaction_regression: Option<serde::de::IgnoredAny>,
}

/// One rule's settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LintRule {
    /// `false` turns the rule off.
    pub enabled: Option<bool>,
    /// A count (calls, reads) or a share (0.9 of a budget), as the rule reads it.
    pub threshold: Option<f64>,
    pub level: Option<LintLevel>,
    /// budget-proximity: the budget ceiling in dollars, for sessions that recorded none.
    pub budget: Option<f64>,
}

/// How serious a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    #[serde(alias = "INFO")]
    Info,
    #[serde(alias = "WARN", alias = "warning", alias = "WARNING")]
    Warn,
    #[serde(alias = "ERROR")]
    Error,
}

impl SettingsFile for LintSettings {
    const NAMES: &'static [&'static str] = &[".agent-strace-lint.json"];
    const SYNTAX: Syntax = Syntax::Json;
}
