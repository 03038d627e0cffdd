//! `watch --rules FILE`: the rules a watch enforces, in either spelling users have — the
//! README's list (`[{"condition": "cost_usd", "threshold": 0.5, "action": "kill"}]`) or the
//! Python tool's object (`{"rules": [{"name": …, "condition": "cost_usd > 0.5", …}]}`).

use serde::Deserialize;

use serde_json::value::RawValue;

use super::{SettingsError, json_error, json_message};
use crate::analysis::watch::rules::ConditionError;
use crate::analysis::watch::{Action, Condition, Rule};

/// One rule as written. A condition that names no known figure, a figure without a threshold
/// (or one outside what the figure can be), `file_path` without a glob (or with one that names
/// no file), or a key the condition does not read, is an error at that key, never a rule that
/// cannot fire.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    condition: String,
    threshold: Option<f64>,
    glob: Option<String>,
    /// `alert` when left out, as for the Python tool.
    action: Option<Action>,
}

impl RawRule {
    fn rule(self) -> Result<Rule, ConditionError> {
        let condition = Condition::named(&self.condition, self.threshold, self.glob.as_deref())?;
        Ok(Rule::new(
            self.name,
            condition,
            self.action.unwrap_or(Action::Alert),
        ))
    }
}

/// The Python tool's spelling: `{"rules": [...]}`, each rule kept as written until it is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleObject<'a> {
    #[serde(borrow)]
    rules: Vec<&'a RawValue>,
}

/// Reads a rules file's text (`file` names it in messages). Each rule is read on its own, so
/// that an error names the line where that rule (or its bad key) is. A file with no rule is an
/// error: a watch told to enforce a file that says nothing would enforce nothing.
pub fn parse_watch_rules(file: &str, text: &str) -> Result<Vec<Rule>, SettingsError> {
    let invalid = |line: usize, key: String, message: String| SettingsError::Invalid {
        file: file.to_owned(),
        line,
        key,
        message,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let raws: Vec<&RawValue> = if text.trim_start().starts_with('[') {
        serde_path_to_error::deserialize(&mut de)
    } else {
        serde_path_to_error::deserialize::<_, RuleObject<'_>>(&mut de).map(|o| o.rules)
    }
    .map_err(|e| {
        let (line, key, message) = json_error(e, text);
        // The file as a whole is named by no key.
        let key = if key == "." { String::new() } else { key };
        invalid(line, key, message)
    })?;
    let prefix = if text.trim_start().starts_with('[') {
        ""
    } else {
        "rules"
    };
    let mut rules = Vec::new();
    for (i, raw) in raws.into_iter().enumerate() {
        let body = raw.get();
        let offset = (body.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let first_line = text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut de = serde_json::Deserializer::from_str(body);
        let raw = serde_path_to_error::deserialize::<_, RawRule>(super::Objects(&mut de)).map_err(
            |e| {
                // The rule as a whole (not an object, a key left out) is named by its index.
                let key = match e.path().to_string().as_str() {
                    "." => format!("{prefix}[{i}]"),
                    path => format!("{prefix}[{i}].{path}"),
                };
                let inner = e.into_inner();
                // A rule is JSON (it was read as one).
                invalid(
                    first_line + inner.line().saturating_sub(1),
                    key,
                    json_message(&inner, true),
                )
            },
        )?;
        let rule = raw.rule().map_err(|e| {
            // The key that is wrong, at its line; one left out at the condition's.
            let key = e.key();
            let at = body
                .find(&format!("\"{key}\""))
                .or_else(|| body.find("\"condition\""))
                .unwrap_or(0);
            let line = first_line + body[..at].matches('\n').count();
            invalid(line, format!("{prefix}[{i}].{key}"), e.to_string())
        })?;
        rules.push(rule);
    }
    if rules.is_empty() {
        return Err(invalid(1, String::new(), "holds no rule".to_owned()));
    }
    Ok(rules)
}
