//! `.agent-evals.yaml`: the eval scorers, their thresholds and weights.

use serde::Deserialize;

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
}

impl SettingsFile for EvalSettings {
    const NAMES: &'static [&'static str] = &[".agent-evals.yaml", ".agent-evals.yml"];
    const SYNTAX: Syntax = Syntax::Yaml;
}
