//! `.agent-scope.json`: what an agent may read, write, run and reach.

use serde::Deserialize;

use super::values::{Commands, Globs, Hosts};
use super::{SettingsFile, Syntax};

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
