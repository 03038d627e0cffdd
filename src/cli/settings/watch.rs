//! `watch --rules FILE`: the rules a watch enforces, in either spelling users have — the
//! README's list (`[{"condition": "cost_usd", "threshold": 0.5, "action": "kill"}]`) or the
//! Python tool's object (`{"rules": [{"name": …, "condition": "cost_usd > 0.5", …}]}`).

use serde::Deserialize;

use serde_json::value::RawValue;

use super::{SettingsError, json_error, json_message};
use crate::analysis::watch::{Action, Condition, Rule};

/// One rule as written. A condition that names no known figure, a figure without a threshold
/// or `file_path` without a glob is an error at the rule's key, never a rule that cannot fire.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRule")]
pub struct WatchRule(pub Rule);

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

impl TryFrom<RawRule> for WatchRule {
    type Error = String;

    fn try_from(raw: RawRule) -> Result<WatchRule, String> {
        let condition = Condition::named(&raw.condition, raw.threshold, raw.glob.as_deref())
            .map_err(|e| e.to_string())?;
        Ok(WatchRule(Rule::new(
            raw.name,
            condition,
            raw.action.unwrap_or(Action::Alert),
        )))
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
        match serde_path_to_error::deserialize::<_, WatchRule>(super::Objects(&mut de)) {
            Ok(rule) => rules.push(rule.0),
            Err(e) => {
                let inner_key = e.path().to_string();
                let inner = e.into_inner();
                let mut key = format!("{prefix}[{i}]");
                let mut line = first_line + inner.line().saturating_sub(1);
                if inner_key == "." {
                    // The rule as a whole: its condition (or threshold, glob) is what is
                    // wrong, so point at the condition.
                    if let Some(at) = body.find("\"condition\"") {
                        line = first_line + body[..at].matches('\n').count();
                        key.push_str(".condition");
                    }
                } else {
                    key = format!("{key}.{inner_key}");
                }
                // A rule is JSON (it was read as one).
                return Err(invalid(line, key, json_message(&inner, true)));
            }
        }
    }
    if rules.is_empty() {
        return Err(invalid(1, String::new(), "holds no rule".to_owned()));
    }
    Ok(rules)
}
