//! `.agent-evals.yaml`: the eval scorers, their thresholds and weights.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::{Location, Spanned};

use super::values::Globs;
use super::{SettingsFile, Syntax};

/// `.agent-evals.yaml`: the scorers a session is scored with, the pass and warn marks, and
/// the gates of `eval ci`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSettings {
    pub scorers: Vec<Scorer>,
    pub thresholds: Thresholds,
    pub evals: Vec<EvalGate>,
}

/// One scorer: its `type` and the parameters scorers of that type read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scorer {
    /// `no_errors`, `cost_under`, `files_scoped`, `duration_under`, `tool_calls_under`,
    /// `regex`, … (kept as written; the eval command says which it knows).
    #[serde(rename = "type")]
    pub kind: String,
    /// The score at or above which the scorer passes; 1 unless given.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// The scorer's part in the weighted score; its threshold unless given, as the Python
    /// tool weighs scorers.
    #[serde(default)]
    pub weight: Option<f64>,
    #[serde(default)]
    pub max_dollars: Option<f64>,
    #[serde(default)]
    pub max_seconds: Option<f64>,
    #[serde(default)]
    pub allowed_paths: Option<Globs>,
    /// `tool_calls_under`: the most tool calls the session may make.
    #[serde(default)]
    pub max_calls: Option<u64>,
    #[serde(default)]
    pub pattern: Option<String>,
    /// `regex`: the type of the events the pattern is looked for in (`assistant_response`
    /// unless given, as for the Python tool).
    #[serde(default)]
    pub event_type: Option<String>,
    /// Read by no scorer type (the Python tool reads them on its `evals` gates), and taken
    /// here as this build took them before: a file that names them on a scorer still loads.
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub context_window_tokens: Option<u64>,
    /// For a scorer that asks a model: the question, the endpoint, its key and the model.
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
}

/// The keys each scorer type reads besides `type`, `threshold` and `weight`: the Python
/// tool's types as it reads them, and this build's `tool_calls_under`. A key of another type is
/// a slip the Python tool would pass over, judging with a default instead.
pub const SCORER_KEYS: &[(&str, &[&str])] = &[
    ("no_errors", &[]),
    ("cost_under", &["max_dollars"]),
    ("duration_under", &["max_seconds"]),
    ("tool_calls_under", &["max_calls"]),
    ("files_scoped", &["allowed_paths"]),
    ("regex", &["pattern", "event_type"]),
    ("llm_judge", &["prompt", "base_url", "api_key", "model"]),
];

impl Scorer {
    /// The keys of [`SCORER_KEYS`] this scorer was given, in that table's order.
    pub fn keys_given(&self) -> Vec<&'static str> {
        [
            ("max_dollars", self.max_dollars.is_some()),
            ("max_seconds", self.max_seconds.is_some()),
            ("max_calls", self.max_calls.is_some()),
            ("allowed_paths", self.allowed_paths.is_some()),
            ("pattern", self.pattern.is_some()),
            ("event_type", self.event_type.is_some()),
            ("prompt", self.prompt.is_some()),
            ("base_url", self.base_url.is_some()),
            ("api_key", self.api_key.is_some()),
            ("model", self.model.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, given)| given.then_some(key))
        .collect()
    }
}

/// The overall score that passes, and the one below which a session fails outright.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub pass: f64,
    pub warn: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            pass: 0.85,
            warn: 0.70,
        }
    }
}

/// One gate of `eval ci`: a named check on one scorer's result.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalGate {
    pub name: String,
    pub scorer: String,
    #[serde(default)]
    pub fail_on: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
    /// What the scorer must give, as written (a number, a word, a list).
    #[serde(default)]
    pub expected: Option<serde_json::Value>,
    /// The window the Python tool's `context_fill_ratio` gate measures against.
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub context_window_tokens: Option<u64>,
}

impl SettingsFile for EvalSettings {
    const NAMES: &'static [&'static str] = &[".agent-evals.yaml", ".agent-evals.yml"];
    const SYNTAX: Syntax = Syntax::Yaml;
}

/// Where the values of an `.agent-evals.yaml` were written, for the errors of values that
/// parse but cannot be used (a threshold of 2), in flow style (`thresholds: {pass: 2}`) as in
/// block style. A line not known is none, never 0.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EvalLines {
    scorers: Option<Spanned<Option<Vec<Spanned<KeyLines>>>>>,
    thresholds: Option<Spanned<Option<KeyLines>>>,
}

/// The keys of an object, each with where its value is.
type KeyLines = HashMap<String, Spanned<IgnoredAny>>;

impl EvalLines {
    /// The lines of `text`, a file read as [`EvalSettings`] already; none known when it does
    /// not read so.
    pub fn read(text: &str) -> EvalLines {
        let text = super::without_bom(text);
        let mut options = serde_saphyr::Options::default();
        // A value is skipped, whatever it is: `.nan` too, which a number key reads and then
        // refuses with its line.
        options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
        serde_saphyr::from_str_with_options(text, options).unwrap_or_default()
    }

    /// The line of the list of scorers.
    pub fn scorers(&self) -> Option<usize> {
        line(self.scorers.as_ref()?.referenced)
    }

    /// The line of the value of `key` of the `i`-th scorer, else of the scorer.
    pub fn scorer_key(&self, i: usize, key: &str) -> Option<usize> {
        let scorer = self.scorers.as_ref()?.value.as_ref()?.get(i)?;
        scorer
            .value
            .get(key)
            .and_then(|value| line(value.referenced))
            .or_else(|| line(scorer.referenced))
    }

    /// The line of the value of `key` (`pass`, `warn`) of the thresholds.
    pub fn threshold(&self, key: &str) -> Option<usize> {
        let thresholds = self.thresholds.as_ref()?;
        thresholds
            .value
            .as_ref()
            .and_then(|keys| keys.get(key))
            .and_then(|value| line(value.referenced))
            .or_else(|| line(thresholds.referenced))
    }
}

/// A location's line, 1-based; none for an unknown location (line 0).
fn line(at: Location) -> Option<usize> {
    usize::try_from(at.line()).ok().filter(|&n| n > 0)
}
