//! `.agent-strace/anonymize.yaml`: the user's own replacements for `export --anonymize`.

use serde::Deserialize;

use super::{SettingsFile, Syntax};

/// `.agent-strace/anonymize.yaml`:
///
/// ```yaml
/// replace:
///   - literal: Acme Corp          # this text, exactly
///     with: "[COMPANY]"
///   - regex: 'PROJ-(\d+)'         # a pattern; `with` may name its groups
///     with: TICKET-$1
///     name: ticket                # what --dry-run calls it [default: the text or pattern]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnonymizeSettings {
    pub replace: Vec<ReplaceRule>,
}

/// One replacement: exactly one of `literal` and `regex`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRule {
    pub literal: Option<String>,
    pub regex: Option<String>,
    /// What replaces it [default: `[REDACTED]`].
    #[serde(default)]
    pub with: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl SettingsFile for AnonymizeSettings {
    const NAMES: &'static [&'static str] = &[".agent-strace/anonymize.yaml"];
    const SYNTAX: Syntax = Syntax::Yaml;
}
