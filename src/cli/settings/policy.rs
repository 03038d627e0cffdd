//! `.agent-scope.json`: what an agent may read, write, run and reach.

use serde::Deserialize;

use super::values::{Commands, Hosts, RuleGlobs};
use super::{SettingsFile, Syntax};

/// `.agent-scope.json`: what an agent may read, write, run and reach.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub files: FilesPolicy,
    pub commands: CommandRules,
    pub network: NetworkPolicy,
    /// Tool names (globs) allowed or denied: `mcp__github__delete_*` (ours, not the Python
    /// tool's).
    pub tools: GlobRules,
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
    pub allow: RuleGlobs,
    pub deny: RuleGlobs,
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
    /// Hosts denied even when `deny_all` is off (ours, not the Python tool's).
    pub deny: Hosts,
}

impl SettingsFile for Policy {
    const NAMES: &'static [&'static str] = &[".agent-scope.json"];
    const SYNTAX: Syntax = Syntax::Json;
}

impl Policy {
    /// The policy as the model's data, to compile and judge calls with.
    pub fn to_model(&self) -> crate::model::policy::PolicyFile {
        use crate::model::policy::{FilesFile, Lists, NetworkFile, PolicyFile};
        let lists = |allow: &[String], deny: &[String]| Lists {
            allow: allow.to_vec(),
            deny: deny.to_vec(),
        };
        PolicyFile {
            files: FilesFile {
                read: lists(&self.files.read.allow.0, &self.files.read.deny.0),
                write: lists(&self.files.write.allow.0, &self.files.write.deny.0),
            },
            commands: lists(&self.commands.allow.0, &self.commands.deny.0),
            network: NetworkFile {
                deny_all: self.network.deny_all,
                allow: self.network.allow.0.clone(),
                deny: self.network.deny.0.clone(),
            },
            tools: lists(&self.tools.allow.0, &self.tools.deny.0),
        }
    }
}
