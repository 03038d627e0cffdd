//! Policies: what an agent may read, write, run and reach, as data, and the one function that
//! judges a tool call against them. Pure: the caller reads the file and says where the project
//! is; `audit`, `policy test`, the pre-tool hook and the MCP proxies all judge through
//! [`check::check`].
//!
//! # Architecture
//! - [`Policy`]: `.agent-scope.json` compiled for matching; [`PolicyFile`] is the file's data
//!   (read by `cli::settings`, which refuses unknown keys naming file, line and key).
//! - [`shell`]: a command line split into simple commands, with their files and hosts.
//! - [`cwd`]: the folders each command of a line runs in, as its `cd`s move them.
//! - [`git`]: the paths git prints, writes back from a revision, archives or searches.
//! - `git_settings`: the settings a git line gives (`-c remote.origin.mirror=true`,
//!   `GIT_CONFIG_PARAMETERS`) that force as an option does, for a deny of the option to meet.
//! - `git_autocorrect`: the subcommand git runs for a word it does not know when
//!   `help.autocorrect` is on (`psuh` for `push`).
//! - `top`: the folders a path git takes from its repository's top (`HEAD:secrets/k`) may
//!   be in.
//! - [`windows`]: a line run on Windows: `cmd /c` and `powershell -Command` read into, cmd's and
//!   PowerShell's file commands read as Unix's.
//! - [`powershell`]: PowerShell's script blocks, .NET calls and assignments, which hide its
//!   commands from the shell reader.
//! - [`options`]: the spellings of a command's options that mean the same (`git push -f` and
//!   `--force`), or do as much (`--force-with-lease`), for a deny to meet each.
//! - `patch`: what `patch` writes: the files its diff names, read as `git apply`'s is.
//! - [`pwsh_names`]: how PowerShell names a command and a parameter: in any case, by an alias,
//!   by a parameter's start.
//! - [`wildcard`]: command rules with wildcards (`curl *`, `git push*`), and the rules no command
//!   can meet, refused.
//! - [`sensitive`]: files flagged with no policy at all.
//! - [`check`]: one tool call judged: allowed, no policy, or a violation naming its rule.
//! - [`reason`]: what a denied call is told: the rule, the file, what to do instead.
//! - [`generate`]: a policy that covers what sessions did, paths collapsed into globs.
//!
//! # The file
//! ```json
//! {
//!   "files": {
//!     "read":  { "allow": ["src/**", "tests/**"], "deny": [".env"] },
//!     "write": { "allow": ["src/**"], "deny": [".github/**"] }
//!   },
//!   "commands": { "allow": ["cargo test", "git status"], "deny": ["curl", "rm -rf"] },
//!   "network":  { "deny_all": true, "allow": ["crates.io"], "deny": [] },
//!   "tools":    { "allow": [], "deny": ["mcp__github__delete_*"] }
//! }
//! ```
//! Every section and list may be left out. A list of `allow` patterns is closed: what it
//! does not match is a violation. Without one, what no `deny` matches has "no policy".

pub mod check;
pub mod cwd;
pub mod generate;
pub mod git;
mod git_autocorrect;
mod git_settings;
pub mod options;
mod patch;
pub mod powershell;
pub mod pwsh_names;
pub mod reason;
pub mod sensitive;
pub mod shell;
mod top;
pub mod wildcard;
pub mod windows;

use serde::Serialize;

use crate::model::glob::Glob;

/// The key a `tool_call` event carries when a policy denied it before it ran (the hook or the
/// proxy wrote it): an object with `rule`, `pattern` and `reason`.
pub const DENIED_KEY: &str = "policy_denied";

/// Whether a policy denied this `tool_call` when the agent made it (it never ran).
pub fn was_denied(event: &crate::model::Event) -> bool {
    event.data.get(DENIED_KEY).is_some_and(|v| !v.is_null())
}

/// The rule and pattern a policy's denial recorded on `event` names ([`DENIED_KEY`]).
pub fn recorded_denial(event: &crate::model::Event) -> Option<(&str, &str)> {
    let denial = event.data.get(DENIED_KEY)?;
    Some((
        denial.get("rule")?.as_str()?,
        denial.get("pattern")?.as_str()?,
    ))
}

/// A policy, compiled for matching.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub files_read: PathRules,
    pub files_write: PathRules,
    pub commands_allow: Vec<CommandPattern>,
    pub commands_deny: Vec<CommandPattern>,
    pub network: Network,
    pub tools_allow: Vec<Glob>,
    pub tools_deny: Vec<Glob>,
    /// The policy as written, for `policy` to print and for the MCP proxy to name.
    pub source: PolicyFile,
    /// Files flagged whatever the policy says, unless an allow pattern names them.
    sensitive: Vec<Glob>,
}

/// Allow and deny globs for one kind of file access.
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    pub allow: Vec<Glob>,
    pub deny: Vec<Glob>,
}

/// Hosts the agent may or may not reach.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub deny_all: bool,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

/// A command pattern: its words (`rm -rf`), matched on the words of each simple command, and
/// from its first wildcard on a glob over them (`git push*`, [`wildcard`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandPattern {
    pub text: String,
    pub words: Vec<String>,
    /// How many of `words` come before the first wildcard.
    literal: usize,
    /// The words from the first wildcard on, joined by spaces.
    glob: Option<String>,
}

/// The file's data, as `cli::settings` reads it and `policy` writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct PolicyFile {
    #[serde(default, skip_serializing_if = "FilesFile::is_empty")]
    pub files: FilesFile,
    #[serde(default, skip_serializing_if = "Lists::is_empty")]
    pub commands: Lists,
    #[serde(default, skip_serializing_if = "NetworkFile::is_empty")]
    pub network: NetworkFile,
    #[serde(default, skip_serializing_if = "Lists::is_empty")]
    pub tools: Lists,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct FilesFile {
    #[serde(default, skip_serializing_if = "Lists::is_empty")]
    pub read: Lists,
    #[serde(default, skip_serializing_if = "Lists::is_empty")]
    pub write: Lists,
}

impl FilesFile {
    fn is_empty(&self) -> bool {
        self.read.is_empty() && self.write.is_empty()
    }
}

/// An `allow` and a `deny` list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct Lists {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

impl Lists {
    fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub struct NetworkFile {
    #[serde(default)]
    pub deny_all: bool,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl NetworkFile {
    fn is_empty(&self) -> bool {
        !self.deny_all && self.allow.is_empty() && self.deny.is_empty()
    }
}

impl Policy {
    /// The policy a parsed file states.
    pub fn from_file(file: PolicyFile) -> Policy {
        let globs = |v: &[String]| {
            v.iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Glob::new(s))
                .collect()
        };
        let commands = |v: &[String]| {
            v.iter()
                .filter_map(|s| CommandPattern::new(s))
                .collect::<Vec<_>>()
        };
        let hosts = |v: &[String]| {
            v.iter()
                .map(|h| host_pattern(h))
                .filter(|h| !h.is_empty())
                .collect()
        };
        Policy {
            files_read: PathRules {
                allow: globs(&file.files.read.allow),
                deny: globs(&file.files.read.deny),
            },
            files_write: PathRules {
                allow: globs(&file.files.write.allow),
                deny: globs(&file.files.write.deny),
            },
            commands_allow: commands(&file.commands.allow),
            commands_deny: commands(&file.commands.deny),
            network: Network {
                deny_all: file.network.deny_all,
                allow: hosts(&file.network.allow),
                deny: hosts(&file.network.deny),
            },
            tools_allow: globs(&file.tools.allow),
            tools_deny: globs(&file.tools.deny),
            sensitive: sensitive::globs(),
            source: file,
        }
    }

    /// This policy with its file patterns in lower case, to judge the paths of a file system
    /// that takes a name in any case (Windows') in lower case too.
    #[must_use]
    pub fn with_files_in_lower_case(&self) -> Policy {
        self.with_file_patterns(str::to_lowercase)
    }

    /// This policy with each of its command patterns spelt by `spell`.
    #[must_use]
    pub fn with_command_patterns(&self, spell: impl Fn(&str) -> String) -> Policy {
        let mut file = self.source.clone();
        for list in [&mut file.commands.allow, &mut file.commands.deny] {
            for pattern in list.iter_mut() {
                *pattern = spell(pattern);
            }
        }
        Policy::from_file(file)
    }

    /// This policy with each of its file patterns spelt by `spell`.
    #[must_use]
    pub fn with_file_patterns(&self, spell: impl Fn(&str) -> String) -> Policy {
        let mut file = self.source.clone();
        for list in [
            &mut file.files.read.allow,
            &mut file.files.read.deny,
            &mut file.files.write.allow,
            &mut file.files.write.deny,
        ] {
            for pattern in list.iter_mut() {
                *pattern = spell(pattern);
            }
        }
        Policy::from_file(file)
    }

    /// No rules at all: only sensitive files are flagged.
    pub fn none() -> Policy {
        Policy::from_file(PolicyFile::default())
    }

    /// The rule a denial recorded ([`recorded_denial`]) names, when this policy still holds
    /// its pattern: a call recorded cut can be judged only so.
    pub fn still_holds(&self, rule: &str, pattern: &str) -> Option<&'static str> {
        match rule {
            "commands.deny" if self.commands_deny.iter().any(|p| p.text == pattern) => {
                Some("commands.deny")
            }
            _ => None,
        }
    }

    /// How many rules the policy holds (each pattern and `deny_all` count one).
    pub fn rule_count(&self) -> usize {
        self.files_read.allow.len()
            + self.files_read.deny.len()
            + self.files_write.allow.len()
            + self.files_write.deny.len()
            + self.commands_allow.len()
            + self.commands_deny.len()
            + self.network.allow.len()
            + self.network.deny.len()
            + usize::from(self.network.deny_all)
            + self.tools_allow.len()
            + self.tools_deny.len()
    }
}

impl CommandPattern {
    fn new(text: &str) -> Option<CommandPattern> {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let (literal, glob) = wildcard::split(&words);
        let literal = literal.len();
        (!words.is_empty()).then(|| CommandPattern {
            text: text.trim().to_owned(),
            words,
            literal,
            glob,
        })
    }

    /// The words before the first wildcard, met as a rule without one is, and the glob the
    /// words from there on make (`None`: there is no wildcard).
    pub fn parts(&self) -> (&[String], Option<&str>) {
        (&self.words[..self.literal], self.glob.as_deref())
    }
}

/// A host as a policy names it: `https://api.github.com/x` and `API.github.com:443` are both
/// `api.github.com`; `*.github.com` is `github.com` (which covers its subdomains anyway).
fn host_pattern(text: &str) -> String {
    let text = text.trim();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    let text = text.split('/').next().unwrap_or(text);
    let text = text.trim_start_matches("*.").trim_start_matches('.');
    let host = match text.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => text,
    };
    shell::normal_host(host)
}

/// A policy from a file's JSON text (tests only: files are read by `cli::settings`).
#[cfg(test)]
pub(crate) fn parse_for_test(text: &str) -> Policy {
    Policy::from_file(serde_json::from_str(text).expect("policy JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_example_compiles() {
        let p = parse_for_test(
            r#"{
              "files": {
                "read": { "allow": ["src/**", "tests/**"], "deny": [".env"] },
                "write": { "allow": ["src/**"], "deny": [".github/**"] }
              },
              "commands": { "allow": ["pytest", "uv run", "cat"], "deny": ["curl", "wget", "rm -rf"] },
              "network": { "deny_all": true, "allow": ["localhost"] }
            }"#,
        );
        assert_eq!(p.files_read.allow.len(), 2);
        assert_eq!(p.commands_deny[2].words, ["rm", "-rf"]);
        assert!(p.network.deny_all);
        assert_eq!(p.rule_count(), 13);
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            host_pattern("https://API.github.com:443/x"),
            "api.github.com"
        );
        assert_eq!(host_pattern("*.example.com"), "example.com");
        assert_eq!(host_pattern("Example.com."), "example.com");
    }
}
