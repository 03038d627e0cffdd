//! The settings files users of the Python tool already have, found and read in one way:
//! `.agent-scope.json` (policy), `.agent-strace-lint.json` (lint rules), `.agent-evals.yaml`
//! (eval scorers) and `.agent-strace.yaml` (retention).
//!
//! # Where a file is found
//!
//! As the store is (`Globals::store_root`): a path the command was given (its own flag, such
//! as a policy file named on the command line) wins and must exist; else the nearest ancestor
//! of the current directory that holds the file's name; else there is none and the command
//! uses its defaults. `.agent-strace.yaml` may also be spelled `.agent-strace.yml`, as the
//! Python tool accepts; in one folder the `.yaml` wins.
//!
//! # Unknown keys
//!
//! Every struct here denies unknown keys: a misspelt key (`dney`, `treshold`, `retension`)
//! would otherwise leave a policy or a limit silently at its default, which for a policy means
//! allowing what the user meant to deny. The Python tool reads exactly these keys (checked
//! against agent-strace 0.103.0), so a file it accepts and uses is accepted here. One value
//! that names things of the Python tool we may not have yet, an eval scorer's `type`, is kept
//! as written for the eval command to judge.
//!
//! # Errors
//!
//! A file that cannot be read, or that does not fit, is one [`SettingsError`], displayed as
//! `<file>:<line>: `<key>`: <what was expected>`, e.g. ``.agent-scope.json:12:
//! `files.write.allow`: expected a list of globs``. Only `cli` reads settings; commands hand
//! the values down. No command reads them yet (audit, lint, eval and retention will); the
//! module is public so that `tests/settings.rs` checks discovery and errors as those commands
//! will meet them.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// How a settings file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

/// A kind of settings file: its names and syntax.
pub trait SettingsFile: DeserializeOwned {
    /// The file names looked for in each folder, the first preferred.
    const NAMES: &'static [&'static str];
    const SYNTAX: Syntax;
}

/// A settings file that was found and read.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    pub path: PathBuf,
    pub settings: T,
}

/// Why a settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A file named explicitly is not there.
    #[error("{file}: no such settings file")]
    Missing { file: String },
    #[error("{file}: cannot read it: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON or YAML, or a key holds what it cannot.
    #[error("{file}:{line}: {}{message}", key_prefix(key))]
    Invalid {
        file: String,
        /// 1-based; 0 when the parser could not say.
        line: usize,
        /// The dotted path to the key (`files.write.allow`, `scorers[1].type`); empty when
        /// the file as a whole is wrong.
        key: String,
        message: String,
    },
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() || key == "." {
        String::new()
    } else {
        format!("`{key}`: ")
    }
}

/// Finds and reads a settings file of kind `T`: `explicit` if given, else the nearest of
/// `T::NAMES` in `start` or above it. `Ok(None)` when there is none.
pub fn load<T: SettingsFile>(
    start: &Path,
    explicit: Option<&Path>,
) -> Result<Option<Loaded<T>>, SettingsError> {
    let path = match explicit {
        Some(path) => {
            let path = start.join(path);
            if !path.is_file() {
                return Err(SettingsError::Missing {
                    file: shown(start, &path),
                });
            }
            path
        }
        None => match find(start, T::NAMES) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let file = shown(start, &path);
    let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::Read {
        file: file.clone(),
        source,
    })?;
    let settings = parse::<T>(&file, &text)?;
    Ok(Some(Loaded { path, settings }))
}

/// The nearest file named one of `names` in `start` or an ancestor.
pub fn find(start: &Path, names: &[&str]) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        names
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// `path` as a user would name it from `start`: relative when it is inside, else in full.
fn shown(start: &Path, path: &Path) -> String {
    path.strip_prefix(start)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Reads the text of a settings file named `file` (for messages).
pub fn parse<T: SettingsFile>(file: &str, text: &str) -> Result<T, SettingsError> {
    let invalid = |line: usize, key: String, message: String| SettingsError::Invalid {
        file: file.to_owned(),
        line,
        key,
        message,
    };
    match T::SYNTAX {
        Syntax::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let key = e.path().to_string();
                let inner = e.into_inner();
                // A syntax error belongs to no key.
                let key = if inner.is_data() { key } else { String::new() };
                invalid(inner.line(), key, json_message(&inner))
            })?;
            de.end()
                .map_err(|e| invalid(e.line(), String::new(), json_message(&e)))?;
            Ok(value)
        }
        Syntax::Yaml => {
            // An empty file (or one of comments only) is an empty mapping, as for the Python
            // tool.
            if text.lines().all(|l| {
                let l = l.trim();
                l.is_empty() || l.starts_with('#')
            }) {
                return parse_yaml::<T>("{}")
                    .map_err(|(line, key, message)| invalid(line, key, message));
            }
            parse_yaml::<T>(text).map_err(|(line, key, message)| invalid(line, key, message))
        }
    }
}

/// serde_json's message without its "at line L column C" tail (the line is given apart).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    expected(text)
}

fn parse_yaml<T: DeserializeOwned>(text: &str) -> Result<T, (usize, String, String)> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // The key of a value that does not fit, kept here: an error returned from inside is
    // passed on as it is, where a value returned early would be taken for a second document.
    let mut key = String::new();
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            key = e.path().to_string();
            e.into_inner()
        })
    })
    .map_err(|e| (yaml_line(&e), key, yaml_message(&e)))
}

fn yaml_line(e: &serde_saphyr::Error) -> usize {
    e.location()
        .map_or(0, |l| usize::try_from(l.line()).unwrap_or(0))
}

/// serde-saphyr's message on one line, without the location it appends (given apart).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    let first = first
        .rfind(" at line ")
        .map_or(first, |at| &first[..at])
        .trim_end_matches(['.', ':']);
    expected(first)
}

/// serde's "invalid type: X, expected Y" said the way a user reads it: "expected Y, found X".
fn expected(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, wanted)) = rest.split_once(", expected ")
    {
        return format!("expected {wanted}, found {found}");
    }
    message.to_owned()
}

// --- Values with a name a user understands -------------------------------------------------

/// Defines a list of strings that says what its strings are when the file holds something
/// else ("expected a list of globs").
macro_rules! string_list {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name(pub Vec<String>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ListVisitor;
                impl<'de> Visitor<'de> for ListVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        let mut items = Vec::new();
                        while let Some(item) = seq.next_element::<String>()? {
                            items.push(item);
                        }
                        Ok($name(items))
                    }
                }
                // `any`, not `seq`: a YAML reader asked for a list reports a scalar in its own
                // words; asked for anything, it hands the scalar to the visitor, which says
                // what was expected.
                deserializer.deserialize_any(ListVisitor)
            }
        }
    };
}

string_list!(
    /// Path globs; `**` crosses folders.
    Globs,
    "a list of globs"
);
string_list!(
    /// Commands, each matching a command line that starts with it.
    Commands,
    "a list of commands"
);
string_list!(
    /// Host names.
    Hosts,
    "a list of hosts"
);

// --- .agent-scope.json ----------------------------------------------------------------------

/// `.agent-scope.json`: what an agent may read, write, run and reach.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub files: FilesPolicy,
    pub commands: CommandRules,
    pub network: NetworkPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesPolicy {
    pub read: GlobRules,
    pub write: GlobRules,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GlobRules {
    pub allow: Globs,
    pub deny: Globs,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommandRules {
    pub allow: Commands,
    pub deny: Commands,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkPolicy {
    /// Deny every host not in `allow`.
    pub deny_all: bool,
    pub allow: Hosts,
}

impl SettingsFile for Policy {
    const NAMES: &'static [&'static str] = &[".agent-scope.json"];
    const SYNTAX: Syntax = Syntax::Json;
}

// --- .agent-strace-lint.json ----------------------------------------------------------------

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

// --- .agent-evals.yaml ----------------------------------------------------------------------

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
    /// `no_errors`, `cost_under`, `files_scoped`, `duration_under`, `regex`, … (kept as
    /// written; the eval command says which it knows).
    #[serde(rename = "type")]
    pub kind: String,
    /// The score at or above which the scorer passes (the Python tool also reads `weight`).
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub weight: Option<f64>,
    #[serde(default)]
    pub max_dollars: Option<f64>,
    #[serde(default)]
    pub max_seconds: Option<f64>,
    #[serde(default)]
    pub allowed_paths: Option<Globs>,
    #[serde(default)]
    pub pattern: Option<String>,
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

// --- .agent-strace.yaml ---------------------------------------------------------------------

/// `.agent-strace.yaml`: the retention limits, under `retention:` or (as the Python tool also
/// accepts) at the top level; under `retention:` wins.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StraceSettings {
    retention: Option<Retention>,
    max_age_days: Option<f64>,
    max_sessions: Option<u64>,
    max_size_mb: Option<f64>,
    on_delete: Option<OnDelete>,
    log_path: Option<PathBuf>,
}

impl StraceSettings {
    /// The retention limits, wherever the file put them.
    pub fn retention(&self) -> Retention {
        self.retention.clone().unwrap_or_else(|| Retention {
            max_age_days: self.max_age_days,
            max_sessions: self.max_sessions,
            max_size_mb: self.max_size_mb,
            on_delete: self.on_delete.unwrap_or_default(),
            log_path: self.log_path.clone(),
        })
    }
}

/// Limits past which the oldest sessions are deleted, applied age, then count, then size.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub max_age_days: Option<f64>,
    pub max_sessions: Option<u64>,
    pub max_size_mb: Option<f64>,
    pub on_delete: OnDelete,
    /// Where deletions are logged [default: `retention.log` in the store].
    pub log_path: Option<PathBuf>,
}

/// What happens when a session is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDelete {
    /// A line (session id, time) in the retention log.
    #[default]
    Log,
    /// Nothing is written.
    Silent,
}

impl SettingsFile for StraceSettings {
    const NAMES: &'static [&'static str] = &[".agent-strace.yaml", ".agent-strace.yml"];
    const SYNTAX: Syntax = Syntax::Yaml;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error<T: SettingsFile + fmt::Debug>(file: &str, text: &str) -> String {
        parse::<T>(file, text).unwrap_err().to_string()
    }

    #[test]
    fn a_policy_reads_every_key_the_python_tool_writes() {
        let text = r#"{
  "files": {
    "read": { "allow": ["src/**", "tests/**"], "deny": [".env"] },
    "write": { "allow": ["src/**"], "deny": [".github/**"] }
  },
  "commands": { "allow": ["pytest", "uv run"], "deny": ["curl", "rm -rf"] },
  "network": { "deny_all": true, "allow": ["localhost"] }
}"#;
        let p: Policy = parse(".agent-scope.json", text).unwrap();
        assert_eq!(p.files.read.allow.0, ["src/**", "tests/**"]);
        assert_eq!(p.files.write.deny.0, [".github/**"]);
        assert_eq!(p.commands.deny.0, ["curl", "rm -rf"]);
        assert!(p.network.deny_all);
        assert_eq!(p.network.allow.0, ["localhost"]);
        // Every part may be left out.
        assert_eq!(parse::<Policy>("p", "{}").unwrap(), Policy::default());
        let only: Policy = parse("p", r#"{"files": {"read": {"deny": [".env"]}}}"#).unwrap();
        assert!(only.files.read.allow.0.is_empty() && !only.network.deny_all);
    }

    #[test]
    fn a_policy_error_names_file_line_and_key() {
        let text = "{\n  \"files\": {\n    \"write\": { \"allow\": \"src/**\" }\n  }\n}";
        assert_eq!(
            error::<Policy>(".agent-scope.json", text),
            ".agent-scope.json:3: `files.write.allow`: expected a list of globs, found string \"src/**\""
        );
        let text = "{\"commands\": {\"deny\": [\"curl\", 3]}}";
        let e = error::<Policy>(".agent-scope.json", text);
        assert!(
            e.starts_with(".agent-scope.json:1: `commands.deny[1]`: expected a string"),
            "{e}"
        );
        let text = "{\"network\": {\"deny_all\": \"yes\"}}";
        let e = error::<Policy>(".agent-scope.json", text);
        assert!(
            e.starts_with(".agent-scope.json:1: `network.deny_all`: expected a boolean"),
            "{e}"
        );
    }

    #[test]
    fn a_misspelt_policy_key_is_an_error_not_a_silent_allow() {
        let text = "{\n  \"files\": {\n    \"read\": { \"dney\": [\".env\"] }\n  }\n}";
        let e = error::<Policy>(".agent-scope.json", text);
        assert!(
            e.starts_with(".agent-scope.json:3: `files.read.dney`: unknown field `dney`, expected `allow` or `deny`"),
            "{e}"
        );
        let e = error::<Policy>("p", r#"{"network": {}, "netwrok": {}}"#);
        assert!(e.contains("`netwrok`: unknown field `netwrok`"), "{e}");
    }

    #[test]
    fn broken_json_names_its_line_without_a_key() {
        let e = error::<Policy>(".agent-scope.json", "{\n  \"files\": {,\n}");
        assert!(e.starts_with(".agent-scope.json:2: "), "{e}");
        assert!(!e.contains('`'), "no key for a syntax error: {e}");
        let e = error::<Policy>(".agent-scope.json", "{} {}");
        assert!(
            e.starts_with(".agent-scope.json:1: trailing characters"),
            "{e}"
        );
        let e = error::<Policy>(".agent-scope.json", "\"allow all\"");
        assert!(e.contains("expected struct Policy"), "{e}");
    }

    #[test]
    fn lint_rules_take_enabled_threshold_and_level() {
        let text = r#"{
  "tool-loop": { "threshold": 7 },
  "reasoning-spiral": { "enabled": false },
  "budget-proximity": { "threshold": 0.95, "level": "WARN" },
  "redundant-read": { "level": "info" }
}"#;
        let l: LintSettings = parse(".agent-strace-lint.json", text).unwrap();
        assert_eq!(l.tool_loop.unwrap().threshold, Some(7.0));
        assert_eq!(l.reasoning_spiral.unwrap().enabled, Some(false));
        assert_eq!(l.budget_proximity.unwrap().level, Some(LintLevel::Warn));
        assert_eq!(l.redundant_read.unwrap().level, Some(LintLevel::Info));
        assert!(l.no_output.is_none());
    }

    #[test]
    fn lint_errors_name_the_rule_and_its_key() {
        let text = "{\n  \"tool-loop\": { \"treshold\": 7 }\n}";
        let e = error::<LintSettings>(".agent-strace-lint.json", text);
        assert!(
            e.starts_with(
                ".agent-strace-lint.json:2: `tool-loop.treshold`: unknown field `treshold`"
            ),
            "{e}"
        );
        let e = error::<LintSettings>("l", "{\"tool-lop\": {}}");
        assert!(
            e.contains("`tool-lop`: unknown field `tool-lop`, expected one of `tool-loop`"),
            "{e}"
        );
        let e = error::<LintSettings>("l", "{\"no-output\": {\"level\": \"loud\"}}");
        assert!(
            e.contains("`no-output.level`: unknown variant `loud`"),
            "{e}"
        );
        let e = error::<LintSettings>("l", "{\"no-output\": {\"threshold\": \"5\"}}");
        assert!(
            e.contains("`no-output.threshold`: expected f64, found string \"5\""),
            "{e}"
        );
    }

    #[test]
    fn evals_read_scorers_thresholds_and_gates() {
        let text = "\
scorers:
  - type: no_errors
    threshold: 1.0
  - type: cost_under
    max_dollars: 0.10
    threshold: 1.0
  - type: files_scoped
    allowed_paths: [\"src/\", \"tests/\"]
    threshold: 0.90
  - type: some_future_scorer
thresholds:
  pass: 0.85
  warn: 0.70
evals:
  - name: no errors
    scorer: no_errors
    fail_on: below_threshold
    threshold: 1
";
        let e: EvalSettings = parse(".agent-evals.yaml", text).unwrap();
        assert_eq!(e.scorers.len(), 4);
        assert_eq!(e.scorers[1].kind, "cost_under");
        assert_eq!(e.scorers[1].max_dollars, Some(0.10));
        assert_eq!(
            e.scorers[2].allowed_paths.as_ref().unwrap().0,
            ["src/", "tests/"]
        );
        assert_eq!(e.scorers[3].kind, "some_future_scorer");
        assert!((e.thresholds.pass - 0.85).abs() < f64::EPSILON);
        assert_eq!(e.evals[0].scorer, "no_errors");
        // Defaults: no scorers, the Python tool's marks.
        let empty: EvalSettings = parse(".agent-evals.yaml", "# nothing yet\n").unwrap();
        assert!(empty.scorers.is_empty());
        assert_eq!(empty.thresholds, Thresholds::default());
    }

    #[test]
    fn eval_errors_name_the_line_and_the_scorer() {
        let text = "scorers:\n  - type: cost_under\n    max_dollars: lots\n";
        let e = error::<EvalSettings>(".agent-evals.yaml", text);
        assert!(
            e.starts_with(".agent-evals.yaml:3: `scorers[0].max_dollars`: "),
            "{e}"
        );
        let text = "scorers:\n  - type: no_errors\n  - type: regex\n    patern: x\n";
        let e = error::<EvalSettings>(".agent-evals.yaml", text);
        assert!(
            e.starts_with(".agent-evals.yaml:4: `scorers[1].patern`: unknown field `patern`"),
            "{e}"
        );
        let text = "scorers:\n  - threshold: 1\n";
        let e = error::<EvalSettings>(".agent-evals.yaml", text);
        assert!(e.contains("missing field `type`"), "{e}");
        let text = "scorers:\n  - type: files_scoped\n    allowed_paths: src/\n";
        let e = error::<EvalSettings>(".agent-evals.yaml", text);
        assert!(
            e.starts_with(
                ".agent-evals.yaml:3: `scorers[0].allowed_paths`: expected a list of globs"
            ),
            "{e}"
        );
    }

    #[test]
    fn broken_yaml_names_its_line() {
        let e = error::<EvalSettings>(".agent-evals.yaml", "scorers:\n  - type: [unclosed\n");
        assert!(e.starts_with(".agent-evals.yaml:"), "{e}");
        assert!(
            !e.starts_with(".agent-evals.yaml:0:"),
            "a line is known: {e}"
        );
    }

    #[test]
    fn retention_is_read_nested_or_at_the_top() {
        let nested = "retention:\n  max_age_days: 30\n  max_sessions: 1000\n  max_size_mb: 500\n  on_delete: log\n";
        let r = parse::<StraceSettings>(".agent-strace.yaml", nested)
            .unwrap()
            .retention();
        assert_eq!(r.max_age_days, Some(30.0));
        assert_eq!(r.max_sessions, Some(1000));
        assert_eq!(r.max_size_mb, Some(500.0));
        assert_eq!(r.on_delete, OnDelete::Log);
        let flat = "max_sessions: 10\non_delete: silent\n";
        let r = parse::<StraceSettings>(".agent-strace.yaml", flat)
            .unwrap()
            .retention();
        assert_eq!((r.max_sessions, r.on_delete), (Some(10), OnDelete::Silent));
        let none = parse::<StraceSettings>(".agent-strace.yaml", "")
            .unwrap()
            .retention();
        assert_eq!(none, Retention::default());
    }

    #[test]
    fn retention_errors_name_the_key() {
        let e = error::<StraceSettings>(".agent-strace.yaml", "retension:\n  max_sessions: 5\n");
        assert!(
            e.starts_with(".agent-strace.yaml:1: `retension`: unknown field `retension`"),
            "{e}"
        );
        let e = error::<StraceSettings>(".agent-strace.yaml", "retention:\n  max_sessions: -3\n");
        assert!(
            e.starts_with(".agent-strace.yaml:2: `retention.max_sessions`: "),
            "{e}"
        );
        let e = error::<StraceSettings>(".agent-strace.yaml", "retention:\n  on_delete: shout\n");
        assert!(
            e.contains("`retention.on_delete`: unknown variant `shout`"),
            "{e}"
        );
    }

    #[test]
    fn the_nearest_file_wins_and_an_explicit_one_must_exist() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a").join("b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(load::<Policy>(&deep, None).unwrap(), None);
        std::fs::write(
            root.path().join(".agent-scope.json"),
            r#"{"network": {"deny_all": true}}"#,
        )
        .unwrap();
        let found = load::<Policy>(&deep, None).unwrap().unwrap();
        assert_eq!(found.path, root.path().join(".agent-scope.json"));
        assert!(found.settings.network.deny_all);
        std::fs::write(root.path().join("a").join(".agent-scope.json"), "{}").unwrap();
        let nearer = load::<Policy>(&deep, None).unwrap().unwrap();
        assert_eq!(nearer.path, root.path().join("a").join(".agent-scope.json"));
        assert!(!nearer.settings.network.deny_all);
        let missing = load::<Policy>(&deep, Some(Path::new("strict.json"))).unwrap_err();
        assert_eq!(missing.to_string(), "strict.json: no such settings file");
        std::fs::write(deep.join("strict.json"), "{\"files\": 1}").unwrap();
        let e = load::<Policy>(&deep, Some(Path::new("strict.json"))).unwrap_err();
        assert!(e.to_string().starts_with("strict.json:1: `files`: "), "{e}");
    }

    #[test]
    fn yaml_prefers_the_yaml_spelling_in_one_folder() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(".agent-strace.yml"), "max_sessions: 1\n").unwrap();
        let yml = load::<StraceSettings>(root.path(), None).unwrap().unwrap();
        assert_eq!(yml.settings.retention().max_sessions, Some(1));
        std::fs::write(root.path().join(".agent-strace.yaml"), "max_sessions: 2\n").unwrap();
        let yaml = load::<StraceSettings>(root.path(), None).unwrap().unwrap();
        assert_eq!(yaml.settings.retention().max_sessions, Some(2));
    }
}
