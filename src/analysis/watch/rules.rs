//! Watch rules: a condition on what a session has done so far, and what to do when it holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::glob::Glob;
use crate::model::text;

/// What a rule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Stop the agent: SIGTERM, then SIGKILL if it is still there 5 s later.
    Kill,
    /// Freeze the agent with SIGSTOP until `watch --resume` (or the watch's end) continues it.
    Pause,
    /// Say so, and let the agent go on.
    Alert,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Kill => "kill",
            Action::Pause => "pause",
            Action::Alert => "alert",
        }
    }
}

/// A figure of the session that a rule compares with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Dollars spent, priced from the recorded token usage.
    CostUsd,
    /// Minutes since the session started.
    DurationMinutes,
    /// Distinct files written or edited.
    FilesModified,
    ToolCalls,
    /// Test runs that failed in a row (a passing run starts the count again).
    ConsecutiveTestFailures,
    /// The share of finished tool calls that failed, 0 to 1, once 5 have finished.
    ErrorRate,
    /// The context the last response used, in percent of its model's window.
    ContextPct,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::CostUsd,
        Metric::DurationMinutes,
        Metric::FilesModified,
        Metric::ToolCalls,
        Metric::ConsecutiveTestFailures,
        Metric::ErrorRate,
        Metric::ContextPct,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::CostUsd => "cost_usd",
            Metric::DurationMinutes => "duration_minutes",
            Metric::FilesModified => "files_modified",
            Metric::ToolCalls => "tool_calls",
            Metric::ConsecutiveTestFailures => "consecutive_test_failures",
            Metric::ErrorRate => "error_rate",
            Metric::ContextPct => "context_pct",
        }
    }

    fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// How a figure is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "==")]
    Equal,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::AtLeast => ">=",
            Op::Above => ">",
            Op::AtMost => "<=",
            Op::Below => "<",
            Op::Equal => "==",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::AtLeast => value >= threshold,
            Op::Above => value > threshold,
            Op::AtMost => value <= threshold,
            Op::Below => value < threshold,
            Op::Equal => (value - threshold).abs() < f64::EPSILON,
        }
    }
}

/// When a rule fires.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare {
        metric: Metric,
        op: Op,
        threshold: f64,
    },
    /// A tool call reads or writes a file whose path matches.
    FilePath(Glob),
}

impl Condition {
    /// Whether the figures hold the condition (a path condition is judged per event instead).
    pub fn holds(&self, value_of: impl Fn(Metric) -> Option<f64>) -> bool {
        match self {
            Condition::Compare {
                metric,
                op,
                threshold,
            } => value_of(*metric).is_some_and(|v| op.holds(v, *threshold)),
            Condition::FilePath(_) => false,
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare {
                metric,
                op,
                threshold,
            } => write!(
                f,
                "{} {} {}",
                metric.as_str(),
                op.as_str(),
                text::real(*threshold)
            ),
            Condition::FilePath(glob) => write!(f, "file_path matches \"{}\"", glob.as_str()),
        }
    }
}

/// The condition names a rules file may use, for messages.
pub fn condition_names() -> String {
    let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
    names.push("file_path");
    names.join(", ")
}

/// Why a condition could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("unknown condition `{0}` (known: {names})", names = condition_names())]
    Unknown(String),
    #[error("`{0}` needs a threshold")]
    NoThreshold(String),
    #[error("file_path needs a glob")]
    NoGlob,
    #[error(
        "`{0}` is not a condition: write it as `cost_usd > 5` or `file_path matches \"**/.env\"`"
    )]
    Unreadable(String),
}

impl Condition {
    /// A condition given by name with its threshold or glob beside it, as in
    /// `{"condition": "cost_usd", "threshold": 0.5}`: it fires when the figure reaches the
    /// threshold.
    pub fn named(
        name: &str,
        threshold: Option<f64>,
        glob: Option<&str>,
    ) -> Result<Condition, ConditionError> {
        let name = name.trim();
        if name.contains(|c: char| c.is_whitespace() || "<>=".contains(c)) {
            return name.parse();
        }
        if name == "file_path" {
            return glob
                .map(|g| Condition::FilePath(Glob::new(g)))
                .ok_or(ConditionError::NoGlob);
        }
        let metric = Metric::parse(name).ok_or_else(|| ConditionError::Unknown(name.to_owned()))?;
        let threshold = threshold.ok_or_else(|| ConditionError::NoThreshold(name.to_owned()))?;
        Ok(Condition::Compare {
            metric,
            op: Op::AtLeast,
            threshold,
        })
    }
}

/// A condition written whole, as the Python tool's rules files do: `files_modified > 20`,
/// `cost_usd >= 5.00`, `file_path matches "/etc/**"`.
impl FromStr for Condition {
    type Err = ConditionError;

    fn from_str(text: &str) -> Result<Condition, ConditionError> {
        let text = text.trim();
        let unreadable = || ConditionError::Unreadable(text.to_owned());
        if let Some(rest) = text.strip_prefix("file_path") {
            let glob = rest
                .trim_start()
                .strip_prefix("matches")
                .map(str::trim)
                .and_then(|g| {
                    g.strip_prefix('"')
                        .and_then(|g| g.strip_suffix('"'))
                        .or_else(|| g.strip_prefix('\'').and_then(|g| g.strip_suffix('\'')))
                })
                .ok_or_else(unreadable)?;
            return Ok(Condition::FilePath(Glob::new(glob)));
        }
        let at = text
            .find(|c: char| "<>=".contains(c))
            .ok_or_else(unreadable)?;
        let name = text[..at].trim();
        let rest = &text[at..];
        let (op, number) = [
            (">=", Op::AtLeast),
            ("<=", Op::AtMost),
            ("==", Op::Equal),
            (">", Op::Above),
            ("<", Op::Below),
        ]
        .into_iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|n| (op, n.trim())))
        .ok_or_else(unreadable)?;
        let metric = Metric::parse(name).ok_or_else(|| ConditionError::Unknown(name.to_owned()))?;
        let threshold: f64 = number
            .trim_start_matches('$')
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(unreadable)?;
        Ok(Condition::Compare {
            metric,
            op,
            threshold,
        })
    }
}

/// A rule: a condition and its action, fired once.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// What messages call it: its name in the rules file, else its condition.
    pub name: String,
    pub condition: Condition,
    pub action: Action,
}

impl Rule {
    pub fn new(name: Option<String>, condition: Condition, action: Action) -> Rule {
        Rule {
            name: name.unwrap_or_else(|| condition.to_string()),
            condition,
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_both_spellings() {
        assert_eq!(
            Condition::named("cost_usd", Some(0.5), None).unwrap(),
            Condition::Compare {
                metric: Metric::CostUsd,
                op: Op::AtLeast,
                threshold: 0.5
            }
        );
        assert_eq!(
            "files_modified > 20".parse::<Condition>().unwrap(),
            Condition::Compare {
                metric: Metric::FilesModified,
                op: Op::Above,
                threshold: 20.0
            }
        );
        assert_eq!(
            "file_path matches \"/etc/**\""
                .parse::<Condition>()
                .unwrap(),
            Condition::FilePath(Glob::new("/etc/**"))
        );
        assert_eq!(
            Condition::named("cost_usd >= $5", None, None)
                .unwrap()
                .to_string(),
            "cost_usd >= 5"
        );
    }

    #[test]
    fn unknown_and_incomplete_conditions_are_refused() {
        assert_eq!(
            Condition::named("cost_dollars", Some(1.0), None),
            Err(ConditionError::Unknown("cost_dollars".into()))
        );
        assert_eq!(
            Condition::named("tool_calls", None, None),
            Err(ConditionError::NoThreshold("tool_calls".into()))
        );
        assert_eq!(
            Condition::named("file_path", None, None),
            Err(ConditionError::NoGlob)
        );
        assert!("cost_usd > lots".parse::<Condition>().is_err());
        assert!("speed > 5".parse::<Condition>().is_err());
    }
}
