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
    /// Distinct files (and folders) deleted, and moved away: none of them modified.
    FilesDeleted,
    FilesMoved,
    ToolCalls,
    /// Test runs that failed in a row (a passing run starts the count again).
    ConsecutiveTestFailures,
    /// The share of finished tool calls that failed, 0 to 1, once 5 have finished.
    ErrorRate,
    /// The context the last response used, in percent of its model's window.
    ContextPct,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::CostUsd,
        Metric::DurationMinutes,
        Metric::FilesModified,
        Metric::FilesDeleted,
        Metric::FilesMoved,
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
            Metric::FilesDeleted => "files_deleted",
            Metric::FilesMoved => "files_moved",
            Metric::ToolCalls => "tool_calls",
            Metric::ConsecutiveTestFailures => "consecutive_test_failures",
            Metric::ErrorRate => "error_rate",
            Metric::ContextPct => "context_pct",
        }
    }

    fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The least and greatest the figure can be (a count, a share, a percentage); a threshold
    /// outside them is a rule that fires at once or never.
    pub fn range(self) -> (f64, f64) {
        match self {
            Metric::ErrorRate => (0.0, 1.0),
            Metric::ContextPct => (0.0, 100.0),
            _ => (0.0, f64::INFINITY),
        }
    }

    /// Whether the figure is a count, which only whole numbers can equal.
    fn counts(self) -> bool {
        // Every figure named, so that a new one is decided on.
        match self {
            Metric::ToolCalls
            | Metric::FilesModified
            | Metric::FilesDeleted
            | Metric::FilesMoved
            | Metric::ConsecutiveTestFailures => true,
            Metric::CostUsd | Metric::DurationMinutes | Metric::ErrorRate | Metric::ContextPct => {
                false
            }
        }
    }

    /// [`Metric::range`] in words, for messages.
    fn range_text(self) -> &'static str {
        match self {
            Metric::CostUsd => "from 0 dollars up",
            Metric::DurationMinutes => "from 0 minutes up",
            Metric::ErrorRate => "from 0 to 1 (a share of the finished calls, not a percentage)",
            Metric::ContextPct => "from 0 to 100 (a percentage of the window)",
            _ => "from 0 up",
        }
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

    /// Whether some figure between `least` and `most` holds the comparison with `threshold`.
    fn can_hold(self, threshold: f64, (least, most): (f64, f64)) -> bool {
        match self {
            Op::AtLeast => threshold <= most,
            Op::Above => threshold < most,
            Op::AtMost => threshold >= least,
            Op::Below => threshold > least,
            Op::Equal => (least..=most).contains(&threshold),
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
    /// A glob with no name in it (`""`, `/`), which matches no path.
    #[error("{}: the rule would never fire", if .glob.trim().is_empty() { "an empty glob names no file".to_owned() } else { format!("the glob `{}` names no file", .glob) })]
    EmptyGlob {
        glob: String,
        /// The glob was written in the condition (`file_path matches ""`), not beside it.
        written: bool,
    },
    /// A threshold the figure never reaches or never stays below.
    #[error("{metric} runs {range}: a threshold of {threshold} is outside it", metric = .metric.as_str(), range = .metric.range_text())]
    OutOfRange {
        metric: Metric,
        threshold: String,
        /// The threshold was written in the condition (`error_rate > 5`), not beside it.
        written: bool,
    },
    /// A comparison no figure can hold (`error_rate > 1`).
    #[error("`{condition}` never holds: {metric} runs {range}", metric = .metric.as_str(), range = .metric.range_text())]
    NeverHolds { condition: String, metric: Metric },
    /// A count compared as equal to a fraction (`tool_calls == 2.5`).
    #[error("`{condition}` never holds: {metric} is a count, a whole number", metric = .metric.as_str())]
    NotWhole { condition: String, metric: Metric },
    /// A key beside the condition that it does not read: the rule would judge without it.
    #[error("{0}")]
    NotRead(NotRead),
    #[error(
        "`{0}` is not a condition: write it as `cost_usd > 5` or `file_path matches \"**/.env\"`"
    )]
    Unreadable(String),
}

/// A key beside a condition that the condition does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRead {
    /// A threshold beside a written comparison, which holds its own (`tool_calls > 1`): the
    /// condition as written, and its figure when it compares one, so the hint names the rule's
    /// own words.
    ThresholdOfComparison {
        written: String,
        metric: Option<Metric>,
    },
    /// A glob beside a comparison of a figure.
    GlobOfFigure,
    /// A threshold beside `file_path`.
    ThresholdOfPath,
    /// A glob beside a written `file_path matches "…"`, which holds its own.
    GlobOfWrittenPath,
}

impl fmt::Display for NotRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            NotRead::ThresholdOfComparison {
                written,
                metric: Some(metric),
            } => {
                return write!(
                    f,
                    "a written comparison holds its own threshold: this one would not be read (write `{written}` alone, or `{}` with a threshold)",
                    metric.as_str()
                );
            }
            NotRead::ThresholdOfComparison {
                written,
                metric: None,
            } => {
                return write!(
                    f,
                    "a written condition holds its own test: this threshold would not be read (write `{written}` alone)"
                );
            }
            NotRead::GlobOfFigure => "only file_path reads a glob: this one would not be read",
            NotRead::ThresholdOfPath => {
                "file_path reads a glob, not a threshold: this one would not be read"
            }
            NotRead::GlobOfWrittenPath => {
                "a written `file_path matches \"…\"` holds its own glob: this one would not be read"
            }
        };
        f.write_str(text)
    }
}

impl ConditionError {
    /// The key of a rules file's rule that is wrong: `condition`, `threshold` or `glob`.
    pub fn key(&self) -> &'static str {
        match self {
            ConditionError::EmptyGlob { written: false, .. }
            | ConditionError::NotRead(NotRead::GlobOfFigure | NotRead::GlobOfWrittenPath) => "glob",
            ConditionError::NotRead(
                NotRead::ThresholdOfComparison { .. } | NotRead::ThresholdOfPath,
            )
            | ConditionError::OutOfRange { written: false, .. } => "threshold",
            ConditionError::OutOfRange { written: true, .. }
            | ConditionError::EmptyGlob { written: true, .. }
            | ConditionError::Unknown(_)
            | ConditionError::NoThreshold(_)
            | ConditionError::NoGlob
            | ConditionError::NeverHolds { .. }
            | ConditionError::NotWhole { .. }
            | ConditionError::Unreadable(_) => "condition",
        }
    }
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
            let condition: Condition = name.parse()?;
            return match (&condition, threshold, glob) {
                (_, Some(_), _) => Err(ConditionError::NotRead(NotRead::ThresholdOfComparison {
                    written: name.to_owned(),
                    metric: match condition {
                        Condition::Compare { metric, .. } => Some(metric),
                        Condition::FilePath(_) => None,
                    },
                })),
                (Condition::Compare { .. }, None, Some(_)) => {
                    Err(ConditionError::NotRead(NotRead::GlobOfFigure))
                }
                (Condition::FilePath(_), None, Some(_)) => {
                    Err(ConditionError::NotRead(NotRead::GlobOfWrittenPath))
                }
                _ => Ok(condition),
            };
        }
        if name == "file_path" {
            if threshold.is_some() {
                return Err(ConditionError::NotRead(NotRead::ThresholdOfPath));
            }
            return path_condition(glob.ok_or(ConditionError::NoGlob)?, false);
        }
        let metric = Metric::parse(name).ok_or_else(|| ConditionError::Unknown(name.to_owned()))?;
        let threshold = threshold.ok_or_else(|| ConditionError::NoThreshold(name.to_owned()))?;
        if glob.is_some() {
            return Err(ConditionError::NotRead(NotRead::GlobOfFigure));
        }
        compare(metric, Op::AtLeast, threshold, false)
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
            return path_condition(glob, true);
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
        compare(metric, op, threshold, true)
    }
}

/// `file_path` matching `glob`, unless the glob names no file (an empty one matches nothing).
/// `written`: the glob is the condition's own (`file_path matches "…"`).
fn path_condition(glob: &str, written: bool) -> Result<Condition, ConditionError> {
    let compiled = Glob::new(glob);
    if compiled.is_empty() {
        return Err(ConditionError::EmptyGlob {
            glob: glob.to_owned(),
            written,
        });
    }
    Ok(Condition::FilePath(compiled))
}

/// `metric op threshold`, unless the threshold lies outside what the figure can be (an error
/// rate of 5, a cost of $-1), or no figure can hold the comparison (`error_rate > 1`, a count
/// equal to a fraction): such a rule fires at once or never, and a watch of it would enforce
/// nothing.
/// `written`: the threshold is the condition's own (`error_rate > 5`).
fn compare(
    metric: Metric,
    op: Op,
    threshold: f64,
    written: bool,
) -> Result<Condition, ConditionError> {
    let (least, most) = metric.range();
    if !(least..=most).contains(&threshold) {
        return Err(ConditionError::OutOfRange {
            metric,
            threshold: text::real(threshold),
            written,
        });
    }
    let condition = Condition::Compare {
        metric,
        op,
        threshold,
    };
    if !op.can_hold(threshold, (least, most)) {
        return Err(ConditionError::NeverHolds {
            condition: condition.to_string(),
            metric,
        });
    }
    if op == Op::Equal && metric.counts() && threshold.fract() != 0.0 {
        return Err(ConditionError::NotWhole {
            condition: condition.to_string(),
            metric,
        });
    }
    Ok(condition)
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

    #[test]
    fn rules_that_could_never_fire_are_refused_at_their_key() {
        for (name, threshold, glob, key) in [
            ("file_path", None, Some(""), "glob"),
            ("file_path", None, Some("  "), "glob"),
            ("file_path matches \"\"", None, None, "condition"),
            ("error_rate", Some(5.0), None, "threshold"),
            ("error_rate", Some(-0.1), None, "threshold"),
            ("error_rate > 1", None, None, "condition"),
            ("context_pct", Some(1000.0), None, "threshold"),
            ("context_pct > 100", None, None, "condition"),
            ("cost_usd", Some(-1.0), None, "threshold"),
            ("duration_minutes < 0", None, None, "condition"),
            ("tool_calls == -1", None, None, "condition"),
            ("tool_calls == 2.5", None, None, "condition"),
            ("files_modified == 0.5", None, None, "condition"),
            ("consecutive_test_failures == 1.5", None, None, "condition"),
            ("tool_calls > 1", Some(5.0), None, "threshold"),
            ("tool_calls", Some(5.0), Some("*.env"), "glob"),
            ("file_path", Some(5.0), Some("*.env"), "threshold"),
            ("file_path matches \"*.env\"", None, Some("*.pem"), "glob"),
        ] {
            let refused = Condition::named(name, threshold, glob).unwrap_err();
            assert_eq!(
                refused.key(),
                key,
                "{name} {threshold:?} {glob:?}: {refused}"
            );
        }
        for (name, threshold) in [
            ("error_rate", Some(1.0)),
            ("error_rate", Some(0.0)),
            ("error_rate <= 0", None),
            ("context_pct == 100", None),
            ("cost_usd", Some(0.0)),
            ("tool_calls > 0", None),
            ("tool_calls == 2", None),
            ("tool_calls > 2.5", None),
            ("error_rate == 0.5", None),
        ] {
            assert!(Condition::named(name, threshold, None).is_ok(), "{name}");
        }
    }
}
