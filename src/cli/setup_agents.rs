//! Where each coding agent keeps its hooks and what `setup --agent` writes there: the agent's
//! event names mapped to `hook` arguments, the shape of its hook file, and how `setup --detect`
//! tells which agents a user has (docs/agents.md §1–§6).

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::ValueEnum;
use serde_json::{Map, Value, json};

use crate::error::Error;

/// An agent `setup` writes hooks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SetupAgent {
    #[value(name = "claude-code")]
    ClaudeCode,
    Cursor,
    // `gemini-cli` too, as `import --agent` and `list` spell it.
    #[value(alias = "gemini-cli")]
    Gemini,
    Codex,
    Copilot,
    #[value(name = "vscode")]
    VsCode,
}

/// Every agent, in the order `--detect` reports them.
pub(crate) const ALL: [SetupAgent; 6] = [
    SetupAgent::ClaudeCode,
    SetupAgent::Cursor,
    SetupAgent::Gemini,
    SetupAgent::Codex,
    SetupAgent::Copilot,
    SetupAgent::VsCode,
];

/// How an agent's hook file holds one hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Claude Code's: `{"hooks":{Ev:[{"matcher"?, "hooks":[{"type":"command","command":…}]}]}}`
    /// (Claude Code, Codex, Gemini CLI).
    Nested,
    /// One entry per hook, `{"hooks":{ev:[{…, key: command}]}}`, the command under `key`
    /// (Cursor and VS Code: `command`; Copilot CLI: `bash`).
    Flat(&'static str),
}

/// The agent's events we hook, each with the `hook` argument its command passes: ours where
/// the event means what one of ours means, else the agent's own name, which `hook` records
/// as it is.
type Events = &'static [(&'static str, &'static str)];

const CLAUDE_EVENTS: Events = &[];

/// Codex's are Claude's names (docs/agents.md §2.2).
const CODEX_EVENTS: Events = &[
    ("SessionStart", "session-start"),
    ("SessionEnd", "session-end"),
    ("UserPromptSubmit", "user-prompt"),
    ("PreToolUse", "pre-tool"),
    ("PostToolUse", "post-tool"),
    ("PermissionRequest", "permission-request"),
    ("Stop", "stop"),
    ("SubagentStart", "subagent-start"),
    ("SubagentStop", "subagent-stop"),
    ("PreCompact", "pre-compact"),
    ("PostCompact", "post-compact"),
    ("Interrupt", "interrupt"),
];

/// Gemini CLI's own names (§3.2). BeforeModel / AfterModel carry the model's request and
/// response with their tokens; BeforeToolSelection repeats BeforeModel's request, so it is not
/// hooked.
const GEMINI_EVENTS: Events = &[
    ("SessionStart", "session-start"),
    ("SessionEnd", "session-end"),
    ("BeforeAgent", "user-prompt"),
    ("AfterAgent", "stop"),
    ("BeforeModel", "BeforeModel"),
    ("AfterModel", "AfterModel"),
    ("BeforeTool", "pre-tool"),
    ("AfterTool", "post-tool"),
    ("PreCompress", "pre-compact"),
    ("Notification", "notification"),
];

/// Copilot CLI's camelCase names, its native form (§4.2: the payload follows the case).
const COPILOT_EVENTS: Events = &[
    ("sessionStart", "session-start"),
    ("sessionEnd", "session-end"),
    ("userPromptSubmitted", "user-prompt"),
    ("preToolUse", "pre-tool"),
    ("postToolUse", "post-tool"),
    ("postToolUseFailure", "post-tool-failure"),
    ("permissionRequest", "permission-request"),
    ("agentStop", "stop"),
    ("subagentStart", "subagent-start"),
    ("subagentStop", "subagent-stop"),
    ("preCompact", "pre-compact"),
    ("notification", "notification"),
    ("errorOccurred", "errorOccurred"),
];

/// Cursor's camelCase names (§5). The generic tool events cover shell, MCP and file tools;
/// the per-kind ones (beforeShellExecution …) would record each such call twice.
const CURSOR_EVENTS: Events = &[
    ("sessionStart", "session-start"),
    ("sessionEnd", "session-end"),
    ("beforeSubmitPrompt", "user-prompt"),
    ("preToolUse", "pre-tool"),
    ("postToolUse", "post-tool"),
    ("postToolUseFailure", "post-tool-failure"),
    ("subagentStart", "subagent-start"),
    ("subagentStop", "subagent-stop"),
    ("preCompact", "pre-compact"),
    ("afterAgentResponse", "afterAgentResponse"),
    ("stop", "stop"),
];

/// VS Code's Local harness (§6): eight PascalCase events.
const VSCODE_EVENTS: Events = &[
    ("SessionStart", "session-start"),
    ("UserPromptSubmit", "user-prompt"),
    ("PreToolUse", "pre-tool"),
    ("PostToolUse", "post-tool"),
    ("PreCompact", "pre-compact"),
    ("SubagentStart", "subagent-start"),
    ("SubagentStop", "subagent-stop"),
    ("Stop", "stop"),
];

impl SetupAgent {
    /// The name `hook --agent` takes and `setup --agent` is given.
    pub(crate) fn arg(self) -> &'static str {
        match self {
            SetupAgent::ClaudeCode => "claude-code",
            SetupAgent::Cursor => "cursor",
            SetupAgent::Gemini => "gemini",
            SetupAgent::Codex => "codex",
            SetupAgent::Copilot => "copilot",
            SetupAgent::VsCode => "vscode",
        }
    }

    /// The agent's name for people.
    pub(crate) fn title(self) -> &'static str {
        match self {
            SetupAgent::ClaudeCode => "Claude Code",
            SetupAgent::Cursor => "Cursor",
            SetupAgent::Gemini => "Gemini CLI",
            SetupAgent::Codex => "Codex",
            SetupAgent::Copilot => "Copilot CLI",
            SetupAgent::VsCode => "VS Code",
        }
    }

    pub(crate) fn shape(self) -> Shape {
        match self {
            SetupAgent::ClaudeCode | SetupAgent::Gemini | SetupAgent::Codex => Shape::Nested,
            SetupAgent::Cursor | SetupAgent::VsCode => Shape::Flat("command"),
            SetupAgent::Copilot => Shape::Flat("bash"),
        }
    }

    /// Whether the file starts with `"version": 1` (Cursor's and Copilot's formats).
    pub(crate) fn versioned(self) -> bool {
        matches!(self, SetupAgent::Cursor | SetupAgent::Copilot)
    }

    fn events(self) -> Events {
        match self {
            SetupAgent::ClaudeCode => CLAUDE_EVENTS,
            SetupAgent::Cursor => CURSOR_EVENTS,
            SetupAgent::Gemini => GEMINI_EVENTS,
            SetupAgent::Codex => CODEX_EVENTS,
            SetupAgent::Copilot => COPILOT_EVENTS,
            SetupAgent::VsCode => VSCODE_EVENTS,
        }
    }

    /// The events whose hooks take a tool matcher (an empty or `*` one matches every tool).
    fn matcher(self, event: &str) -> Option<&'static str> {
        match self {
            SetupAgent::Codex => {
                matches!(event, "PreToolUse" | "PostToolUse" | "PermissionRequest").then_some("*")
            }
            SetupAgent::Gemini => matches!(event, "BeforeTool" | "AfterTool").then_some("*"),
            _ => None,
        }
    }

    /// The agent's hooks, `{event: [hook]}`, running `bin` with `flags` (each with a leading
    /// space). Claude Code's are built by `setup` itself (its block is the one it always wrote).
    pub(crate) fn hooks(self, bin: &str, flags: &str) -> Map<String, Value> {
        self.events()
            .iter()
            .map(|(event, arg)| {
                // VS Code's files are the ones Copilot CLI reads too (.github/hooks,
                // ~/.copilot/hooks): a declared agent would be wrong half the time there, so
                // VS Code's hooks leave the payload and environment to tell (docs/agents.md §8).
                let command = match self {
                    SetupAgent::VsCode => format!("{bin} hook{flags} {arg}"),
                    _ => format!("{bin} hook --agent {}{flags} {arg}", self.arg()),
                };
                let hook = match self.shape() {
                    Shape::Nested => {
                        let mut entry = json!({ "type": "command", "command": command });
                        match self {
                            // Named, so that `/hooks disable agent-strace` finds them.
                            SetupAgent::Gemini => entry["name"] = "agent-strace".into(),
                            // Codex caps a SessionEnd hook at 3 s and warns on every run
                            // about a longer one; Interrupt's is capped so too (§2.1).
                            SetupAgent::Codex if matches!(*event, "SessionEnd" | "Interrupt") => {
                                entry["timeout"] = 3.into();
                            }
                            _ => {}
                        }
                        let mut group = Map::new();
                        if let Some(matcher) = self.matcher(event) {
                            group.insert("matcher".into(), matcher.into());
                        }
                        group.insert("hooks".into(), json!([entry]));
                        Value::Object(group)
                    }
                    Shape::Flat("bash") => json!({ "type": "command", "bash": command }),
                    Shape::Flat(_) if self == SetupAgent::VsCode => {
                        json!({ "type": "command", "command": command })
                    }
                    Shape::Flat(key) => json!({ key: command }),
                };
                ((*event).to_owned(), Value::Array(vec![hook]))
            })
            .collect()
    }

    /// The hook file `setup` writes: the project's by default, the user's with `global`.
    /// Claude Code's is `setup`'s own (`settings_path`). With no $HOME to find the user's, the
    /// error is one of usage: nothing was read or written, and how it is called is what to
    /// change.
    pub(crate) fn path(self, global: bool, env: &Env) -> Result<PathBuf> {
        let home = || -> Result<PathBuf> {
            match &env.home {
                Some(home) => Ok(home.clone()),
                None => Err(Error::usage(format!(
                    "--global needs $HOME to find the {} hooks of this user",
                    self.title()
                ))
                .with_hint("set HOME, or name the file with --settings FILE")
                .into()),
            }
        };
        Ok(match (self, global) {
            (SetupAgent::ClaudeCode, false) => PathBuf::from(".claude/settings.json"),
            (SetupAgent::ClaudeCode, true) => match env.claude_config_dirs.as_slice() {
                [] => home()?.join(".claude/settings.json"),
                [dir] => dir.join("settings.json"),
                several => {
                    return Err(Error::usage(format!(
                        "{} names {} folders ({}): Claude Code reads its settings from one",
                        super::placement::CLAUDE_CONFIG_DIR,
                        several.len(),
                        several
                            .iter()
                            .map(|d| d.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .with_hint(
                        "set it to the folder whose settings.json to write, or name the file with --settings FILE",
                    )
                    .into());
                }
            },
            (SetupAgent::Cursor, false) => PathBuf::from(".cursor/hooks.json"),
            (SetupAgent::Cursor, true) => home()?.join(".cursor/hooks.json"),
            (SetupAgent::Gemini, false) => PathBuf::from(".gemini/settings.json"),
            (SetupAgent::Gemini, true) => match &env.gemini_home {
                Some(dir) => dir.join(".gemini/settings.json"),
                None => home()?.join(".gemini/settings.json"),
            },
            (SetupAgent::Codex, false) => PathBuf::from(".codex/hooks.json"),
            (SetupAgent::Codex, true) => match &env.codex_home {
                Some(dir) => dir.join("hooks.json"),
                None => home()?.join(".codex/hooks.json"),
            },
            (SetupAgent::Copilot, false) => PathBuf::from(".github/hooks/agent-strace.json"),
            (SetupAgent::Copilot, true) => {
                copilot_home(env, &home()?).join("hooks/agent-strace.json")
            }
            (SetupAgent::VsCode, false) => PathBuf::from(".github/hooks/agent-strace-vscode.json"),
            (SetupAgent::VsCode, true) => {
                copilot_home(env, &home()?).join("hooks/agent-strace-vscode.json")
            }
        })
    }

    /// What the user must know for the hooks to run, and to record each event once.
    pub(crate) fn notes(self, global: bool) -> Vec<&'static str> {
        let mut notes = Vec::new();
        match self {
            SetupAgent::Cursor => notes.push(
                "Cursor also runs Claude Code's hooks when \"Include third-party Plugins, Skills, and other configs\" is on in its settings; agent-strace then records each Cursor event once, from these hooks.",
            ),
            SetupAgent::Gemini if !global => notes.push(
                "Gemini CLI runs a project's hooks only in a trusted folder, and asks once before it runs them (again after any change to them): trust this folder, or use --global for ~/.gemini/settings.json.",
            ),
            SetupAgent::Codex => {
                notes.push(
                    "Codex runs a hook only once you trust it: open /hooks in Codex and trust the agent-strace hooks (again after any change to them, such as --no-redact).",
                );
                if !global {
                    notes.push("Codex reads a project's .codex/ only when the project is trusted.");
                }
            }
            SetupAgent::Copilot if !global => notes.push(
                "Copilot CLI runs a repository's hooks only in a trusted folder (its trust prompt, or --trust-folder).",
            ),
            SetupAgent::VsCode => notes.push(
                "VS Code also runs the hooks in Claude Code's settings files, and Copilot CLI the ones in .github/hooks: to record each VS Code event once, add to VS Code's settings \"chat.hookFilesLocations\": {\".github/hooks\": true, \".claude/settings.json\": false, \".claude/settings.local.json\": false, \"~/.claude/settings.json\": false}.",
            ),
            // Claude Code reads its hooks wherever they are; the others need no step in the
            // user's own files.
            SetupAgent::ClaudeCode | SetupAgent::Gemini | SetupAgent::Copilot => {}
        }
        notes
    }
}

fn copilot_home(env: &Env, home: &Path) -> PathBuf {
    env.copilot_home
        .clone()
        .unwrap_or_else(|| home.join(".copilot"))
}

/// What `setup` reads from the environment to find the agents' files: each variable that
/// moves an agent's folder, and PATH.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub home: Option<PathBuf>,
    /// `$CLAUDE_CONFIG_DIR`'s folders, a comma-separated list as `import` reads it.
    pub claude_config_dirs: Vec<PathBuf>,
    pub codex_home: Option<PathBuf>,
    pub copilot_home: Option<PathBuf>,
    pub gemini_home: Option<PathBuf>,
    pub path: Vec<PathBuf>,
}

impl Env {
    pub(crate) fn read() -> Env {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(|v| std::path::absolute(&v).unwrap_or_else(|_| PathBuf::from(v)))
        };
        Env {
            home: var("HOME"),
            claude_config_dirs: super::placement::claude_config_dirs()
                .into_iter()
                .map(|d| std::path::absolute(&d).unwrap_or(d))
                .collect(),
            codex_home: var("CODEX_HOME"),
            copilot_home: var("COPILOT_HOME"),
            gemini_home: var("GEMINI_CLI_HOME"),
            path: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
        }
    }

    /// The folder on PATH holding an executable `name`, if any.
    fn on_path(&self, name: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        self.path.iter().find_map(|dir| {
            let file = dir.join(name);
            std::fs::metadata(&file)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .then_some(file)
        })
    }
}

/// An agent found on this machine, with what gave it away.
#[derive(Debug)]
pub(crate) struct Found {
    pub agent: SetupAgent,
    pub evidence: Vec<String>,
}

/// The agents this user has, for this project (`cwd`): their folders in the home and the
/// project, and their programs on PATH.
pub(crate) fn detect(env: &Env, cwd: &Path) -> Vec<Found> {
    let home = env.home.clone();
    ALL.into_iter()
        .filter_map(|agent| {
            let mut dirs: Vec<PathBuf> = Vec::new();
            let user = |rel: &str| home.as_ref().map(|h| h.join(rel));
            let programs: &[&str] = match agent {
                SetupAgent::ClaudeCode => {
                    if env.claude_config_dirs.is_empty() {
                        dirs.extend(user(".claude"));
                    } else {
                        dirs.extend(env.claude_config_dirs.iter().cloned());
                    }
                    dirs.push(cwd.join(".claude"));
                    &["claude"]
                }
                SetupAgent::Cursor => {
                    dirs.extend(user(".cursor"));
                    dirs.push(cwd.join(".cursor"));
                    &["cursor", "cursor-agent"]
                }
                SetupAgent::Gemini => {
                    dirs.extend(
                        env.gemini_home
                            .as_ref()
                            .map(|h| h.join(".gemini"))
                            .or_else(|| user(".gemini")),
                    );
                    dirs.push(cwd.join(".gemini"));
                    &["gemini"]
                }
                SetupAgent::Codex => {
                    dirs.extend(env.codex_home.clone().or_else(|| user(".codex")));
                    dirs.push(cwd.join(".codex"));
                    &["codex"]
                }
                SetupAgent::Copilot => {
                    dirs.extend(env.copilot_home.clone().or_else(|| user(".copilot")));
                    &["copilot"]
                }
                SetupAgent::VsCode => {
                    dirs.extend(user(".vscode"));
                    dirs.extend(user(".config/Code"));
                    dirs.push(cwd.join(".vscode"));
                    &["code"]
                }
            };
            let mut evidence: Vec<String> = dirs
                .iter()
                .filter(|d| d.is_dir())
                .map(|d| shown(d, home.as_deref(), cwd))
                .collect();
            evidence.extend(
                programs
                    .iter()
                    .filter_map(|p| env.on_path(p))
                    .map(|p| format!("{} on PATH", shown(&p, home.as_deref(), cwd))),
            );
            (!evidence.is_empty()).then_some(Found { agent, evidence })
        })
        .collect()
}

/// A path as a person knows it: `~/…` in the home, relative in the project.
fn shown(path: &Path, home: Option<&Path>, cwd: &Path) -> String {
    if let Some(rel) = home.and_then(|h| path.strip_prefix(h).ok()) {
        return format!("~/{}", rel.display());
    }
    if let Ok(rel) = path.strip_prefix(cwd) {
        return rel.display().to_string();
    }
    path.display().to_string()
}

/// Codex warns at every start when one folder declares hooks both in `hooks.json` and in
/// `config.toml`: whether the `config.toml` beside `hooks_json` has a `[hooks…]` table.
pub(crate) fn codex_toml_has_hooks(hooks_json: &Path) -> bool {
    let Some(text) = codex_toml(hooks_json) else {
        return false;
    };
    // Before the first table, keys are the root's: `hooks.Stop = […]`, `hooks = { … }` and
    // `"hooks".Stop` hold hooks as a `[hooks]` table does.
    toml_lines(&text).any(|line| match line {
        TomlLine::Table(table) => {
            unquoted_hooks(table).is_some_and(|rest| rest.starts_with(['.', ']']))
        }
        TomlLine::Key { root: true, line } => {
            unquoted_hooks(line).is_some_and(|rest| rest.starts_with(['.', '=']))
        }
        TomlLine::Key { .. } => false,
    })
}

/// Whether a Codex `config.toml` turns hooks off, every hook with them (`[features]`
/// `hooks = false`; `codex_hooks`, the flag's deprecated name, when `hooks` is not set):
/// the key that decides and whether it turns them off, `None` when it leaves them to another
/// layer (docs/agents.md §2.1).
pub(crate) fn codex_hooks_off(text: &str) -> Option<(&'static str, bool)> {
    let mut hooks = None;
    let mut alias = None;
    let mut set = |key: &str, value: &str| match key {
        "hooks" => hooks = toml_bool(value).or(hooks),
        "codex_hooks" => alias = toml_bool(value).or(alias),
        _ => {}
    };
    let mut table = String::new();
    for line in toml_lines(text) {
        let (root, line) = match line {
            TomlLine::Table(header) => {
                table = bare_key(header.split(']').next().unwrap_or_default());
                continue;
            }
            TomlLine::Key { root, line } => (root, line),
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = bare_key(key);
        if !root {
            if table == "features" {
                set(&key, value);
            }
        } else if let Some(flag) = key.strip_prefix("features.") {
            set(flag, value);
        } else if key == "features" {
            // An inline table: `features = { hooks = false }`.
            let inner = value.trim().trim_start_matches('{');
            for pair in inner.split('}').next().unwrap_or_default().split(',') {
                if let Some((key, value)) = pair.split_once('=') {
                    set(&bare_key(key), value);
                }
            }
        }
    }
    hooks
        .map(|on| ("hooks", !on))
        .or(alias.map(|on| ("codex_hooks", !on)))
}

/// The text of the `config.toml` beside a Codex `hooks.json`, read as a settings file is: a
/// FIFO in its place is not waited on.
pub(crate) fn codex_toml(hooks_json: &Path) -> Option<String> {
    let toml = hooks_json.with_file_name("config.toml");
    super::settings_file::through_links(&toml)
        .and_then(|t| super::settings_file::read(&t))
        .ok()
        .flatten()
        .map(|existing| existing.text)
}

/// A line of a TOML text that opens a table or may hold a key.
enum TomlLine<'t> {
    /// `[name]` or `[[name]]`: the name with its closing brackets.
    Table(&'t str),
    /// Any other line, its indent taken off; `root` while no table is open.
    Key { root: bool, line: &'t str },
}

/// The lines of a TOML text that open a table or may hold a key. The lines of a multi-line
/// string (`"""…"""`, `'''…'''`: instructions that say `hooks = …`) are none of them, and a
/// line of an array (`[1, 2],`) opens no table.
fn toml_lines(text: &str) -> impl Iterator<Item = TomlLine<'_>> {
    let mut root = true;
    let mut in_string: Option<&str> = None;
    text.lines().filter_map(move |line| {
        let opened = in_string;
        for quotes in ["\"\"\"", "'''"] {
            if in_string.is_none_or(|q| q == quotes) && line.matches(quotes).count() % 2 == 1 {
                in_string = if in_string.is_some() {
                    None
                } else {
                    Some(quotes)
                };
            }
        }
        if opened.is_some() {
            return None;
        }
        let line = line.trim_start();
        if let Some(header) = table_header(line) {
            root = false;
            return Some(TomlLine::Table(header));
        }
        Some(TomlLine::Key { root, line })
    })
}

/// A TOML key as its parts name it: `"features" . hooks` is `features.hooks`.
fn bare_key(key: &str) -> String {
    key.chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect()
}

/// The boolean a TOML value is, a comment after it taken off.
fn toml_bool(value: &str) -> Option<bool> {
    match value.split('#').next().unwrap_or_default().trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The name of the table a TOML line opens (`[name]`, `[[name]]`, a comment after it), with
/// its closing brackets; `None` for any other line (an array's line, `[1, 2],`, is none).
fn table_header(line: &str) -> Option<&str> {
    let inner = line
        .strip_prefix("[[")
        .or_else(|| line.strip_prefix('['))?
        .trim_start();
    let close = inner.rfind(']')?;
    let after = inner[close + 1..].trim_start();
    (after.is_empty() || after.starts_with('#')).then_some(inner)
}

/// What follows a TOML key that begins with `hooks` (bare or quoted), spaces taken off; `None`
/// when the key is another.
fn unquoted_hooks(key: &str) -> Option<&str> {
    ["hooks", "\"hooks\"", "'hooks'"]
        .into_iter()
        .find_map(|name| key.strip_prefix(name))
        .map(str::trim_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_is_set_up_with_the_events_its_reader_records_once() {
        let mut written: Vec<&str> = CURSOR_EVENTS.iter().map(|(wire, _)| *wire).collect();
        let mut recorded = crate::capture::hooks::cursor::SETUP_EVENTS.to_vec();
        written.sort_unstable();
        recorded.sort_unstable();
        assert_eq!(written, recorded);
    }

    #[test]
    fn each_agent_hooks_its_own_events_with_its_own_name() {
        let hooks = SetupAgent::Cursor.hooks("agent-strace", " --mask");
        assert_eq!(
            hooks["preToolUse"][0]["command"],
            "agent-strace hook --agent cursor --mask pre-tool"
        );
        let hooks = SetupAgent::Copilot.hooks("agent-strace", "");
        assert_eq!(
            hooks["agentStop"][0]["bash"],
            "agent-strace hook --agent copilot stop"
        );
        let hooks = SetupAgent::Gemini.hooks("agent-strace", "");
        assert_eq!(hooks["BeforeTool"][0]["matcher"], "*");
        assert_eq!(hooks["BeforeTool"][0]["hooks"][0]["name"], "agent-strace");
        assert!(hooks["SessionStart"][0].get("matcher").is_none());
        let hooks = SetupAgent::Codex.hooks("agent-strace", "");
        assert_eq!(hooks["SessionEnd"][0]["hooks"][0]["timeout"], 3);
        assert_eq!(hooks["Interrupt"][0]["hooks"][0]["timeout"], 3);
    }

    #[test]
    fn a_codex_config_toml_with_hooks_is_seen() {
        let dir = std::env::temp_dir().join(format!("as-codex-toml-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("hooks.json");
        std::fs::write(
            dir.join("config.toml"),
            "model = \"x\"\n[features]\nhooks = true\n",
        )
        .unwrap();
        assert!(!codex_toml_has_hooks(&json));
        std::fs::write(
            dir.join("config.toml"),
            "[[hooks.PreToolUse]]\nmatcher = \"*\"\n",
        )
        .unwrap();
        assert!(codex_toml_has_hooks(&json));
        std::fs::write(dir.join("config.toml"), "[hooks]\n").unwrap();
        assert!(codex_toml_has_hooks(&json));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn codex_hooks_are_off_only_where_the_features_flag_says_so() {
        for (text, off) in [
            ("[features]\nhooks = false\n", Some(("hooks", true))),
            ("[features]\nhooks = true # on\n", Some(("hooks", false))),
            ("[ features ]\n\"hooks\" = false\n", Some(("hooks", true))),
            (
                "features.codex_hooks = false\n",
                Some(("codex_hooks", true)),
            ),
            (
                "features = { web = true, hooks = false }\n",
                Some(("hooks", true)),
            ),
            // The flag's own name stands over its deprecated one.
            (
                "[features]\ncodex_hooks = false\nhooks = true\n",
                Some(("hooks", false)),
            ),
            ("[profiles.ci]\nhooks = false\n", None),
            ("x = \"\"\"\n[features]\nhooks = false\n\"\"\"\n", None),
            ("[features]\nweb = true\n", None),
        ] {
            assert_eq!(codex_hooks_off(text), off, "{text}");
        }
    }
}
