//! What a tool does, whichever agent named it: one table per agent, read in one place.
//!
//! Analyses, replay, policies and exporters ask [`classify`] what a tool call is (reads a file,
//! writes one, runs a command …) and which argument tells the most about it, so no reader of
//! the store spells out one agent's tool names. A new agent adds its table here and nothing
//! else changes.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::file_use::FileUse;

/// The agents whose sessions the store holds, as far as tool names go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agent {
    ClaudeCode,
    /// VS Code's agent hooks: its own tool names (`read_file`, `run_in_terminal` …).
    VsCode,
    Cursor,
    GeminiCli,
    Codex,
    Copilot,
    /// A session recorded by an MCP proxy: every tool is a server's tool.
    Mcp,
    /// An agent we have no table for: Claude Code's names are tried, as the most common.
    Unknown,
}

impl Agent {
    /// The agent a session's `agent_name` names.
    pub fn from_name(name: &str) -> Agent {
        match name.to_ascii_lowercase().as_str() {
            "claude-code" | "claude_code" | "claude" => Agent::ClaudeCode,
            "vscode" | "vs-code" | "copilot-vscode" => Agent::VsCode,
            "cursor" => Agent::Cursor,
            "gemini" | "gemini-cli" => Agent::GeminiCli,
            "codex" | "codex-cli" => Agent::Codex,
            "copilot" | "copilot-cli" => Agent::Copilot,
            _ => Agent::Unknown,
        }
    }

    /// The name sessions of this agent carry in `meta.json`.
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::VsCode => "vscode",
            Agent::Cursor => "cursor",
            Agent::GeminiCli => "gemini-cli",
            Agent::Codex => "codex",
            Agent::Copilot => "copilot",
            Agent::Mcp => "mcp",
            Agent::Unknown => "unknown",
        }
    }

    fn table(self) -> &'static [ToolSpec] {
        match self {
            Agent::ClaudeCode | Agent::Unknown => CLAUDE_CODE,
            Agent::VsCode => VS_CODE,
            Agent::Codex => CODEX,
            Agent::GeminiCli => GEMINI_CLI,
            Agent::Copilot => COPILOT,
            Agent::Cursor => CURSOR,
            Agent::Mcp => &[],
        }
    }

    /// The table of another agent whose tool names this agent's payloads may carry: Cursor's
    /// preToolUse names tools like Claude Code does, and Copilot CLI's PascalCase hooks use
    /// Claude Code's names (docs/agents.md §4.4, §5).
    fn borrowed(self) -> &'static [ToolSpec] {
        match self {
            Agent::Cursor | Agent::Copilot => CLAUDE_CODE,
            _ => &[],
        }
    }
}

/// What a tool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    ReadFile,
    WriteFile,
    Shell,
    Search,
    SpawnSubagent,
    Web,
    Mcp,
    Other,
}

impl ToolKind {
    pub const ALL: [ToolKind; 8] = [
        ToolKind::ReadFile,
        ToolKind::WriteFile,
        ToolKind::Shell,
        ToolKind::Search,
        ToolKind::SpawnSubagent,
        ToolKind::Web,
        ToolKind::Mcp,
        ToolKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolKind::ReadFile => "read_file",
            ToolKind::WriteFile => "write_file",
            ToolKind::Shell => "shell",
            ToolKind::Search => "search",
            ToolKind::SpawnSubagent => "spawn_subagent",
            ToolKind::Web => "web",
            ToolKind::Mcp => "mcp",
            ToolKind::Other => "other",
        }
    }

    /// Whether the tool's telling argument is a path, whose end says more than its start.
    pub fn is_file(self) -> bool {
        matches!(self, ToolKind::ReadFile | ToolKind::WriteFile)
    }
}

/// One tool of one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub kind: ToolKind,
    /// The argument that names the file (for file tools) or the command (for shells).
    pub subject: Option<&'static str>,
    /// How the telling argument is shown on one line.
    pub shape: Shape,
}

/// How a tool's telling argument reads on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// As it is.
    Plain,
    /// A path, whose end says more than its start.
    Path,
    /// `$ command`.
    Command,
    /// `pattern in path`.
    Glob,
    /// `/pattern/ in path`.
    Grep,
    /// `"description"`, else `"prompt"`.
    Spawn,
    /// `N todos`.
    Todos,
}

/// Whether a shell tool runs its lines in Bash wherever the agent runs, Git Bash on Windows:
/// Claude Code's `Bash` (its `PowerShell` tool runs PowerShell's) and Copilot CLI's `bash`
/// (its `powershell` runs PowerShell's). Other agents' shells on Windows run PowerShell.
pub fn runs_bash(agent: Agent, tool: &str) -> bool {
    matches!(
        (agent, tool),
        (Agent::ClaudeCode, "Bash") | (Agent::Copilot, "bash" | "Bash")
    )
}

/// Whether a shell tool runs its lines in PowerShell wherever the agent runs, `pwsh` on Linux
/// and macOS: Claude Code's `PowerShell`, Copilot CLI's `powershell` (`PowerShell` in its
/// Claude-format hooks, as its `bash` is `Bash` there).
pub fn runs_powershell(agent: Agent, tool: &str) -> bool {
    matches!(
        (agent, tool),
        (Agent::ClaudeCode, "PowerShell") | (Agent::Copilot, "powershell" | "PowerShell")
    )
}

/// Whether a file tool deletes the file it names, not writes it: Cursor's `Delete` (its
/// preToolUse's name, docs/agents.md §5). The other agents' tables hold no such tool: they
/// delete and move through their shells, Codex through its patch too ([`patch_changes`]).
pub fn deletes_its_file(agent: Agent, tool: &str) -> bool {
    matches!((agent, tool), (Agent::Cursor, "Delete"))
}

/// Whether an agent's shell tool runs each command in a shell of its own, from the session's
/// folder (Codex: each in the `workdir` its call names; Gemini CLI: `bash -c` in the project's
/// folder or the `dir_path` its call names; Copilot CLI: "sync sessions are discarded after the
/// command completes", its `bash` tool says in 1.0.34 to 1.0.56, each made in the session's
/// working folder, which its hooks name), so that a `cd` lasts for its line only; a hook's
/// `cwd` is then where the line started. Claude Code's `Bash` keeps the folder a `cd` left it
/// in for the next call, and its hooks name that one.
pub fn shell_starts_afresh(agent: Agent) -> bool {
    matches!(agent, Agent::Codex | Agent::GeminiCli | Agent::Copilot)
}

/// Whether a path is the output file of a shell command an agent runs in the background, which
/// the command goes on writing: Claude Code's `<tmp>/claude-<uid>/<project>/tasks/<id>.output`
/// (`<tmp>/claude/…` on macOS), as the corpus's sessions read it. Reading it again is polling a
/// command that is still running, never a redundant read.
pub fn is_background_output(path: &str) -> bool {
    let mut folders = path.rsplit('/');
    let (Some(name), Some(tasks), Some(_project), Some(top)) = (
        folders.next(),
        folders.next(),
        folders.next(),
        folders.next(),
    ) else {
        return false;
    };
    let claude_tmp = top == "claude"
        || top
            .strip_prefix("claude-")
            .is_some_and(|uid| !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit()));
    name.len() > ".output".len() && name.ends_with(".output") && tasks == "tasks" && claude_tmp
}

/// The folder a shell call names for its line to start in, as its agent takes it from the
/// session's folder: Gemini CLI's `run_shell_command` `dir_path` (`directory` before 0.9),
/// read in its `shell.ts`, which spawns `bash -c` there. Codex's `workdir` is not here: its
/// hooks are not sent it, and `import` of a rollout records the folder it names on the call.
pub fn shell_start_folder(agent: Agent, arguments: &Value) -> Option<&str> {
    if agent != Agent::GeminiCli {
        return None;
    }
    ["dir_path", "directory"]
        .iter()
        .find_map(|key| arguments.get(*key).and_then(Value::as_str))
        .map(str::trim)
        .filter(|dir| !dir.is_empty())
}

const fn spec(
    name: &'static str,
    kind: ToolKind,
    subject: Option<&'static str>,
    shape: Shape,
) -> ToolSpec {
    ToolSpec {
        name,
        kind,
        subject,
        shape,
    }
}

/// Claude Code's tools.
#[rustfmt::skip]
const CLAUDE_CODE: &[ToolSpec] = &[
    spec("Read",         ToolKind::ReadFile,      Some("file_path"),     Shape::Path),
    spec("NotebookRead", ToolKind::ReadFile,      Some("notebook_path"), Shape::Path),
    spec("Write",        ToolKind::WriteFile,     Some("file_path"),     Shape::Path),
    spec("Edit",         ToolKind::WriteFile,     Some("file_path"),     Shape::Path),
    spec("MultiEdit",    ToolKind::WriteFile,     Some("file_path"),     Shape::Path),
    spec("NotebookEdit", ToolKind::WriteFile,     Some("notebook_path"), Shape::Path),
    spec("Bash",         ToolKind::Shell,         Some("command"),       Shape::Command),
    // On Windows, and a skill's `!` command there (PreSkillShellCommand, docs/agents.md §1.1).
    spec("PowerShell",   ToolKind::Shell,         Some("command"),       Shape::Command),
    spec("BashOutput",   ToolKind::Shell,         Some("command"),       Shape::Command),
    spec("Glob",         ToolKind::Search,        Some("pattern"),       Shape::Glob),
    spec("Grep",         ToolKind::Search,        Some("pattern"),       Shape::Grep),
    spec("LS",           ToolKind::Search,        Some("path"),          Shape::Path),
    spec("WebFetch",     ToolKind::Web,           Some("url"),           Shape::Plain),
    spec("WebSearch",    ToolKind::Web,           Some("query"),         Shape::Plain),
    spec("Task",         ToolKind::SpawnSubagent, None,                  Shape::Spawn),
    spec("Agent",        ToolKind::SpawnSubagent, None,                  Shape::Spawn),
    spec("TodoWrite",    ToolKind::Other,         None,                  Shape::Todos),
];

/// VS Code's agent tools, with camelCase arguments. Source: microsoft/vscode-copilot-chat,
/// `src/extension/tools/common/toolNames.ts` (`ToolName`), read 2026-11-29; the hooks page
/// (<https://code.visualstudio.com/docs/agent-customization/hooks>) names `create_file` and
/// `replace_string_in_file` and their `filePath` argument.
#[rustfmt::skip]
const VS_CODE: &[ToolSpec] = &[
    spec("read_file",                    ToolKind::ReadFile,      Some("filePath"), Shape::Path),
    spec("create_file",                  ToolKind::WriteFile,     Some("filePath"), Shape::Path),
    spec("replace_string_in_file",       ToolKind::WriteFile,     Some("filePath"), Shape::Path),
    spec("multi_replace_string_in_file", ToolKind::WriteFile,     None,             Shape::Plain),
    spec("insert_edit_into_file",        ToolKind::WriteFile,     Some("filePath"), Shape::Path),
    spec("edit_notebook_file",           ToolKind::WriteFile,     Some("filePath"), Shape::Path),
    spec("apply_patch",                  ToolKind::WriteFile,     None,             Shape::Plain),
    spec("run_in_terminal",              ToolKind::Shell,         Some("command"),  Shape::Command),
    spec("get_terminal_output",          ToolKind::Shell,         None,             Shape::Plain),
    spec("file_search",                  ToolKind::Search,        Some("query"),    Shape::Glob),
    spec("grep_search",                  ToolKind::Search,        Some("query"),    Shape::Plain),
    spec("semantic_search",              ToolKind::Search,        Some("query"),    Shape::Plain),
    spec("list_dir",                     ToolKind::Search,        Some("path"),     Shape::Path),
    spec("fetch_webpage",                ToolKind::Web,           None,             Shape::Plain),
    spec("runSubagent",                  ToolKind::SpawnSubagent, None,             Shape::Spawn),
    spec("manage_todo_list",             ToolKind::Other,         None,             Shape::Plain),
];

/// Codex CLI's tools, in its rollouts and its hooks (docs/agents.md section 2.4: 0.171.0
/// observed, the 0.39 corpus and openai/codex). `apply_patch` names its files inside the patch
/// (`*** Add File: p` …), so it has no subject; the importer reads them out of it.
#[rustfmt::skip]
const CODEX: &[ToolSpec] = &[
    spec("exec_command",       ToolKind::Shell,         Some("cmd"),     Shape::Command),
    spec("shell_command",      ToolKind::Shell,         Some("command"), Shape::Command),
    spec("shell",              ToolKind::Shell,         Some("command"), Shape::Command),
    spec("Bash",               ToolKind::Shell,         Some("command"), Shape::Command),
    spec("write_stdin",        ToolKind::Shell,         None,            Shape::Plain),
    spec("apply_patch",        ToolKind::WriteFile,     None,            Shape::Plain),
    spec("view_image",         ToolKind::ReadFile,      Some("path"),    Shape::Path),
    spec("web_search",         ToolKind::Web,           Some("query"),   Shape::Plain),
    spec("update_plan",        ToolKind::Other,         None,            Shape::Todos),
    spec("list_mcp_resources", ToolKind::Mcp,           None,            Shape::Plain),
    spec("list_mcp_resource_templates", ToolKind::Mcp,  None,            Shape::Plain),
    spec("read_mcp_resource",  ToolKind::Mcp,           None,            Shape::Plain),
    spec("spawn_agent",        ToolKind::SpawnSubagent, None,            Shape::Spawn),
    spec("send_input",         ToolKind::Other,         None,            Shape::Plain),
    spec("wait",               ToolKind::Other,         None,            Shape::Plain),
    spec("close_agent",        ToolKind::Other,         None,            Shape::Plain),
    spec("request_user_input", ToolKind::Other,         None,            Shape::Plain),
];

/// Gemini CLI's tools (docs/agents.md section 3.4: `packages/core/src/tools/tool-names.ts` and
/// the tools 0.61.0 offered, observed). Its MCP tools are `mcp_<server>_<tool>`.
#[rustfmt::skip]
const GEMINI_CLI: &[ToolSpec] = &[
    spec("read_file",                  ToolKind::ReadFile,      Some("file_path"), Shape::Path),
    spec("read_many_files",            ToolKind::ReadFile,      Some("include"),   Shape::Plain),
    spec("write_file",                 ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("replace",                    ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("run_shell_command",          ToolKind::Shell,         Some("command"),   Shape::Command),
    spec("list_background_processes",  ToolKind::Shell,         None,              Shape::Plain),
    spec("read_background_output",     ToolKind::Shell,         None,              Shape::Plain),
    spec("glob",                       ToolKind::Search,        Some("pattern"),   Shape::Glob),
    spec("grep_search",                ToolKind::Search,        Some("pattern"),   Shape::Grep),
    spec("search_file_content",        ToolKind::Search,        Some("pattern"),   Shape::Grep),
    spec("list_directory",             ToolKind::Search,        Some("dir_path"),  Shape::Path),
    spec("google_web_search",          ToolKind::Web,           Some("query"),     Shape::Plain),
    spec("web_fetch",                  ToolKind::Web,           Some("prompt"),    Shape::Plain),
    spec("invoke_agent",               ToolKind::SpawnSubagent, None,              Shape::Spawn),
    spec("write_todos",                ToolKind::Other,         None,              Shape::Todos),
    spec("read_mcp_resource",          ToolKind::Mcp,           None,              Shape::Plain),
    spec("list_mcp_resources",         ToolKind::Mcp,           None,              Shape::Plain),
];

/// GitHub Copilot CLI's tools (docs/agents.md section 4.4: the tools 1.0.102 offered, observed,
/// and the corpus). Its PascalCase hooks name the shell `Bash`, as Claude Code does.
#[rustfmt::skip]
const COPILOT: &[ToolSpec] = &[
    spec("bash",                 ToolKind::Shell,         Some("command"), Shape::Command),
    spec("Bash",                 ToolKind::Shell,         Some("command"), Shape::Command),
    spec("read_bash",            ToolKind::Shell,         None,            Shape::Plain),
    spec("write_bash",           ToolKind::Shell,         None,            Shape::Plain),
    spec("stop_bash",            ToolKind::Shell,         None,            Shape::Plain),
    spec("list_bash",            ToolKind::Shell,         None,            Shape::Plain),
    // Offered instead of `bash` where Copilot CLI runs PowerShell (Windows).
    spec("powershell",           ToolKind::Shell,         Some("command"), Shape::Command),
    spec("read_powershell",      ToolKind::Shell,         None,            Shape::Plain),
    spec("write_powershell",     ToolKind::Shell,         None,            Shape::Plain),
    spec("stop_powershell",      ToolKind::Shell,         None,            Shape::Plain),
    spec("list_powershell",      ToolKind::Shell,         None,            Shape::Plain),
    spec("view",                 ToolKind::ReadFile,      Some("path"),    Shape::Path),
    spec("create",               ToolKind::WriteFile,     Some("path"),    Shape::Path),
    spec("edit",                 ToolKind::WriteFile,     Some("path"),    Shape::Path),
    spec("grep",                 ToolKind::Search,        Some("pattern"), Shape::Grep),
    spec("glob",                 ToolKind::Search,        Some("pattern"), Shape::Glob),
    spec("semantic_code_search", ToolKind::Search,        Some("query"),   Shape::Plain),
    spec("web_fetch",            ToolKind::Web,           Some("url"),     Shape::Plain),
    spec("web_search",           ToolKind::Web,           Some("query"),   Shape::Plain),
    spec("task",                 ToolKind::SpawnSubagent, None,            Shape::Spawn),
    spec("update_todo",          ToolKind::Other,         None,            Shape::Plain),
];

/// Whether a file tool's successful result lists a folder, where the call was given one: then it
/// read no file. Copilot CLI's `view` takes either, and shows a file as numbered lines
/// (`1. [package]`, `40. fn main()` from a range) and a folder as the names in it; an empty
/// result tells neither, and is taken for a file. False for any other tool.
pub fn lists_a_folder(agent: Agent, tool: &str, result: &str) -> bool {
    if agent != Agent::Copilot || tool != "view" {
        return false;
    }
    let Some(first) = result.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    let digits = first
        .trim_start()
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let numbered = digits > 0 && first.trim_start()[digits..].starts_with(". ");
    !numbered
}

/// The files a patch tool's call adds, updates, deletes or moves to, in the order named.
/// Codex's `apply_patch` (and VS Code's) names no file in an argument of its own: the paths are
/// lines of the patch (`*** Add File: p`, `*** Update File: p`, `*** Delete File: p`,
/// `*** Move to: p`), which reaches hooks as `command`, rollouts as `input`. Empty for any other
/// tool.
pub fn patch_files(tool: &str, input: &Value) -> Vec<String> {
    patch_of(tool, input).map(patch_paths).unwrap_or_default()
}

/// What a patch tool's call does to each file it names ([`patch_changes`]). Empty for any
/// other tool.
pub fn patch_file_uses(tool: &str, input: &Value) -> Vec<(String, FileUse)> {
    patch_of(tool, input).map(patch_changes).unwrap_or_default()
}

/// The patch a patch tool's call applies: the input itself, or its `command`, `input` or
/// `patch`.
fn patch_of<'a>(tool: &str, input: &'a Value) -> Option<&'a str> {
    if tool != "apply_patch" {
        return None;
    }
    input.as_str().or_else(|| {
        ["command", "input", "patch"]
            .iter()
            .find_map(|key| input.get(*key).and_then(Value::as_str))
    })
}

/// Paths a Codex `apply_patch` patch adds, updates, deletes or moves to, each once, in the
/// order named: every path [`patch_changes`] names, a move's destination after its source.
pub fn patch_paths(patch: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    // A set, so that a patch of thousands of files is not compared with itself file by file.
    let mut seen: HashSet<String> = HashSet::new();
    for (path, file_use) in patch_changes(patch) {
        let to = match file_use {
            FileUse::Move(to) => Some(to),
            _ => None,
        };
        for path in std::iter::once(path).chain(to) {
            if seen.insert(path.clone()) {
                paths.push(path);
            }
        }
    }
    paths
}

/// What a Codex `apply_patch` patch does to each file it names, each use once, in the order
/// named: `*** Add File: p` and `*** Update File: p` write `p`, `*** Delete File: p` deletes
/// it, and an update followed by `*** Move to: q` moves `p` to `q` (as Codex's parser reads a
/// move: the line right after the update's). Lines are read trimmed, as Codex's own parser
/// reads them, so an indented `  *** Add File: p` names `p` too. A `*** Move to:` after no
/// update (a patch Codex refuses) is taken for a write of where it names.
pub fn patch_changes(patch: &str) -> Vec<(String, FileUse)> {
    let mut named: Vec<(String, FileUse)> = Vec::new();
    // The update the line before named, which a move line moves.
    let mut updated: Option<usize> = None;
    for line in patch.lines().map(str::trim) {
        let header = |lead: &str| {
            line.strip_prefix(lead)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
        };
        let update = updated.take();
        if let Some(path) = header("*** Add File: ") {
            named.push((path, FileUse::Write));
        } else if let Some(path) = header("*** Update File: ") {
            updated = Some(named.len());
            named.push((path, FileUse::Write));
        } else if let Some(path) = header("*** Delete File: ") {
            named.push((path, FileUse::Delete));
        } else if let Some(to) = header("*** Move to: ") {
            match update {
                Some(at) => named[at].1 = FileUse::Move(to),
                None => named.push((to, FileUse::Write)),
            }
        }
    }
    // A set, so that a patch of thousands of files is not compared with itself file by file.
    let mut seen: HashSet<(String, FileUse)> = HashSet::new();
    named.retain(|change| seen.insert(change.clone()));
    named
}

/// Cursor's tools as its preToolUse hook names them (docs/agents.md §5: the matcher names
/// `Shell`, `Read`, `Write`, `StrReplace`, `Edit`, `Delete`, `Grep`, `Glob`, `Task` in
/// published hooks.json files; unverified against a running Cursor), and `MCP:<tool>` for the
/// tools of its MCP servers (named so by our reader of before/afterMCPExecution). Names it
/// shares with Claude Code fall back to Claude Code's table.
#[rustfmt::skip]
const CURSOR: &[ToolSpec] = &[
    spec("Shell",      ToolKind::Shell,         Some("command"),   Shape::Command),
    spec("Read",       ToolKind::ReadFile,      Some("file_path"), Shape::Path),
    spec("TabRead",    ToolKind::ReadFile,      Some("file_path"), Shape::Path),
    spec("Write",      ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("StrReplace", ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("Edit",       ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("TabWrite",   ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("Delete",     ToolKind::WriteFile,     Some("file_path"), Shape::Path),
    spec("Grep",       ToolKind::Search,        Some("pattern"),   Shape::Grep),
    spec("Glob",       ToolKind::Search,        Some("pattern"),   Shape::Glob),
    spec("Task",       ToolKind::SpawnSubagent, None,              Shape::Spawn),
];

/// The spec of `tool` as `agent` names it, if the agent's table (or the one it borrows names
/// from) knows it.
pub fn spec_of(agent: Agent, tool: &str) -> Option<&'static ToolSpec> {
    agent
        .table()
        .iter()
        .chain(agent.borrowed())
        .find(|s| s.name == tool)
}

/// What `tool` does, as `agent` names it.
pub fn classify(agent: Agent, tool: &str) -> ToolKind {
    if let Some(spec) = spec_of(agent, tool) {
        return spec.kind;
    }
    // Gemini CLI names MCP tools `mcp_<server>_<tool>`, with one underscore; Cursor's are
    // `MCP:<tool>` in the store.
    if agent == Agent::Mcp
        || tool.starts_with("mcp__")
        || (agent == Agent::GeminiCli && tool.starts_with("mcp_"))
        || (agent == Agent::Cursor && tool.starts_with("MCP:"))
        // Copilot CLI's are `<server>-<tool>`; none of its own tools has a `-`.
        || (agent == Agent::Copilot && tool.contains('-'))
    {
        ToolKind::Mcp
    } else {
        ToolKind::Other
    }
}

/// The names an MCP tool of `agent` has in Claude Code's spelling, `mcp__<server>__<tool>`, so
/// that one pattern (`mcp__github__delete_*`) covers the tool whichever agent calls it. Gemini
/// CLI's `mcp_<server>_<tool>` (and `<server>__<tool>`, its name for a second server's tool of a
/// name already taken) and Copilot CLI's `<server>-<tool>` do not say where the server's name
/// ends when it holds the separator itself, so each place it could end gives one name. Empty
/// when the agent names MCP tools that way already, or the tool is none (or, as Cursor's
/// `MCP:<tool>`, does not name its server).
pub fn mcp_names(agent: Agent, tool: &str) -> Vec<String> {
    if spec_of(agent, tool).is_some() || tool.starts_with("mcp__") {
        return Vec::new();
    }
    let splits = |rest: &str, separator: &str| -> Vec<String> {
        rest.match_indices(separator)
            .map(|(at, _)| (&rest[..at], &rest[at + separator.len()..]))
            .filter(|(server, name)| !server.is_empty() && !name.is_empty())
            .map(|(server, name)| format!("mcp__{server}__{name}"))
            .collect()
    };
    match agent {
        Agent::GeminiCli => match tool.strip_prefix("mcp_") {
            Some(rest) => splits(rest, "_"),
            None => splits(tool, "__"),
        },
        Agent::Copilot => splits(tool, "-"),
        _ => Vec::new(),
    }
}

/// Whether `tool` spawns a subagent.
pub fn is_spawn(agent: Agent, tool: &str) -> bool {
    classify(agent, tool) == ToolKind::SpawnSubagent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_tools_are_classified() {
        let a = Agent::ClaudeCode;
        assert_eq!(classify(a, "Read"), ToolKind::ReadFile);
        assert_eq!(classify(a, "MultiEdit"), ToolKind::WriteFile);
        assert_eq!(classify(a, "Bash"), ToolKind::Shell);
        assert_eq!(classify(a, "Grep"), ToolKind::Search);
        assert_eq!(classify(a, "Task"), ToolKind::SpawnSubagent);
        assert_eq!(classify(a, "Agent"), ToolKind::SpawnSubagent);
        assert_eq!(classify(a, "WebFetch"), ToolKind::Web);
        assert_eq!(classify(a, "mcp__github__get_issue"), ToolKind::Mcp);
        assert_eq!(classify(a, "Frobnicate"), ToolKind::Other);
        assert_eq!(
            spec_of(a, "NotebookEdit").and_then(|s| s.subject),
            Some("notebook_path")
        );
    }

    #[test]
    fn vscode_tools_are_its_own() {
        let a = Agent::VsCode;
        assert_eq!(classify(a, "read_file"), ToolKind::ReadFile);
        assert_eq!(classify(a, "replace_string_in_file"), ToolKind::WriteFile);
        assert_eq!(classify(a, "run_in_terminal"), ToolKind::Shell);
        assert_eq!(classify(a, "runSubagent"), ToolKind::SpawnSubagent);
        assert_eq!(
            spec_of(a, "create_file").and_then(|s| s.subject),
            Some("filePath")
        );
        assert_eq!(classify(a, "Read"), ToolKind::Other);
    }

    #[test]
    fn a_background_commands_output_file_is_told() {
        for path in [
            "/tmp/claude-1000/-home-USER-projects-spotter/tasks/bd0afab.output",
            "/tmp/claude/-Users-pete-git-app/tasks/b5798f9.output",
            "/private/tmp/claude-501/-Users-pete-app/tasks/x.output",
        ] {
            assert!(is_background_output(path), "{path}");
        }
        for path in [
            "/tmp/claude-1000/app/tasks/.output",
            "/tmp/claude-x/app/tasks/a.output",
            "/work/app/tasks/a.output",
            "src/claude/app/tasks/a.rs",
            "tasks/a.output",
        ] {
            assert!(!is_background_output(path), "{path}");
        }
    }

    #[test]
    fn codex_gemini_and_copilot_tools_are_their_own() {
        assert_eq!(classify(Agent::Codex, "exec_command"), ToolKind::Shell);
        assert_eq!(classify(Agent::Codex, "apply_patch"), ToolKind::WriteFile);
        assert_eq!(classify(Agent::Codex, "mcp__db__query"), ToolKind::Mcp);
        assert_eq!(classify(Agent::GeminiCli, "read_file"), ToolKind::ReadFile);
        assert_eq!(classify(Agent::GeminiCli, "replace"), ToolKind::WriteFile);
        assert_eq!(
            classify(Agent::GeminiCli, "mcp_github_get_issue"),
            ToolKind::Mcp
        );
        assert_eq!(
            classify(Agent::Codex, "mcp_github_get_issue"),
            ToolKind::Other
        );
        assert_eq!(classify(Agent::Copilot, "view"), ToolKind::ReadFile);
        // Its result tells a folder from a file.
        assert!(lists_a_folder(
            Agent::Copilot,
            "view",
            ".github\nCargo.toml\nsrc"
        ));
        assert!(!lists_a_folder(
            Agent::Copilot,
            "view",
            "1. [package]\n2. name = \"x\""
        ));
        assert!(!lists_a_folder(Agent::Copilot, "view", "\n40. fn main() {"));
        assert!(!lists_a_folder(Agent::Copilot, "view", ""));
        assert!(!lists_a_folder(Agent::ClaudeCode, "Read", "src\nlib"));
        assert_eq!(classify(Agent::Copilot, "edit"), ToolKind::WriteFile);
        assert_eq!(classify(Agent::Copilot, "task"), ToolKind::SpawnSubagent);
        assert_eq!(
            spec_of(Agent::GeminiCli, "write_file").and_then(|s| s.subject),
            Some("file_path")
        );
    }

    #[test]
    fn a_patch_names_its_files() {
        let patch = "*** Begin Patch\n*** Add File: .env\n+X=1\n*** Update File: b.rs\n*** Move to: c.rs\n*** End Patch\n";
        let input = serde_json::json!({ "command": patch });
        assert_eq!(patch_files("apply_patch", &input), [".env", "b.rs", "c.rs"]);
        assert_eq!(
            patch_files("apply_patch", &serde_json::json!({ "input": patch })).len(),
            3
        );
        assert!(patch_files("Bash", &input).is_empty());
        let indented = "*** Begin Patch\n  *** Add File: secrets/x\n+hi\n\t*** Delete File: y\n*** End Patch\n";
        assert_eq!(patch_paths(indented), ["secrets/x", "y"]);
    }

    #[test]
    fn a_patch_deletes_and_moves_what_it_says() {
        let patch = "*** Begin Patch\n*** Delete File: old.py\n*** Update File: a.rs\n*** Move to: src/a.rs\n@@\n-x\n+y\n*** Update File: b.rs\n@@\n-x\n+y\n*** Move to: c.rs\n*** Add File: n.rs\n+n\n*** Delete File: old.py\n*** End Patch\n";
        let write = |p: &str| (p.to_owned(), FileUse::Write);
        assert_eq!(
            patch_changes(patch),
            [
                ("old.py".to_owned(), FileUse::Delete),
                ("a.rs".to_owned(), FileUse::Move("src/a.rs".into())),
                write("b.rs"),
                // A move line that follows no update's line is no move.
                write("c.rs"),
                write("n.rs"),
            ]
        );
        assert_eq!(
            patch_paths(patch),
            ["old.py", "a.rs", "src/a.rs", "b.rs", "c.rs", "n.rs"]
        );
        let input = serde_json::json!({ "input": patch });
        assert_eq!(patch_file_uses("apply_patch", &input), patch_changes(patch));
        assert!(patch_file_uses("Bash", &input).is_empty());
    }

    #[test]
    fn cursor_tools_are_its_own_then_claude_codes() {
        let a = Agent::Cursor;
        assert_eq!(classify(a, "Shell"), ToolKind::Shell);
        assert_eq!(classify(a, "StrReplace"), ToolKind::WriteFile);
        assert!(deletes_its_file(a, "Delete"));
        assert!(!deletes_its_file(a, "Write") && !deletes_its_file(Agent::ClaudeCode, "Delete"));
        assert_eq!(classify(a, "MCP:get_issue"), ToolKind::Mcp);
        assert_eq!(classify(a, "WebFetch"), ToolKind::Web);
        assert_eq!(classify(a, "Task"), ToolKind::SpawnSubagent);
        assert_eq!(classify(Agent::Copilot, "Read"), ToolKind::ReadFile);
        assert_eq!(classify(Agent::Copilot, "bash"), ToolKind::Shell);
        assert_eq!(classify(Agent::ClaudeCode, "Shell"), ToolKind::Other);
    }

    #[test]
    fn mcp_tools_have_claude_codes_names_too() {
        assert_eq!(
            mcp_names(Agent::GeminiCli, "mcp_github_delete_repo"),
            ["mcp__github__delete_repo", "mcp__github_delete__repo"]
        );
        assert_eq!(
            mcp_names(Agent::GeminiCli, "github__delete_repo"),
            ["mcp__github__delete_repo"]
        );
        assert_eq!(
            mcp_names(Agent::Copilot, "github-mcp-server-delete_repo"),
            [
                "mcp__github__mcp-server-delete_repo",
                "mcp__github-mcp__server-delete_repo",
                "mcp__github-mcp-server__delete_repo"
            ]
        );
        assert_eq!(
            classify(Agent::Copilot, "github-delete_repo"),
            ToolKind::Mcp
        );
        assert!(mcp_names(Agent::GeminiCli, "read_file").is_empty());
        assert!(mcp_names(Agent::ClaudeCode, "mcp__a__b").is_empty());
        assert!(mcp_names(Agent::Cursor, "MCP:delete_repo").is_empty());
    }

    #[test]
    fn proxy_sessions_hold_only_mcp_tools() {
        assert_eq!(classify(Agent::Mcp, "read_file"), ToolKind::Mcp);
        assert_eq!(classify(Agent::Mcp, "Read"), ToolKind::Mcp);
    }

    #[test]
    fn agent_names_round_trip() {
        for agent in [
            Agent::ClaudeCode,
            Agent::VsCode,
            Agent::Cursor,
            Agent::GeminiCli,
            Agent::Codex,
            Agent::Copilot,
        ] {
            assert_eq!(Agent::from_name(agent.name()), agent);
        }
    }
}
