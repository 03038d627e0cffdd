//! Where `import --discover` and `--all` find the session logs of agents other than Claude Code
//! (docs/agents.md section 9): Codex CLI rollouts under `$CODEX_HOME` (default `~/.codex`),
//! Gemini CLI chats under `~/.gemini` (`$GEMINI_CLI_HOME` replaces the home folder) and Copilot
//! CLI events under `$COPILOT_HOME` (default `~/.copilot`).

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::model::tools::Agent;
use crate::store::{EntryKind, entry_kind, folder_entries, read_folder_entries};

/// The agents whose logs `import` finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogAgent {
    ClaudeCode,
    Codex,
    // `gemini` too, as `setup --agent` spells it.
    #[value(alias = "gemini")]
    GeminiCli,
    Copilot,
}

/// A session log found in an agent's default place.
pub(crate) struct FoundLog {
    pub(crate) agent: Agent,
    pub(crate) path: PathBuf,
    /// The folder that groups it there (a date, a project).
    pub(crate) group: String,
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn home() -> Option<PathBuf> {
    env_dir("HOME")
}

/// The folders searched, for messages.
pub(crate) fn places(agent: LogAgent) -> Vec<PathBuf> {
    match agent {
        LogAgent::ClaudeCode => Vec::new(),
        LogAgent::Codex => env_dir("CODEX_HOME")
            .or_else(|| home().map(|h| h.join(".codex")))
            .into_iter()
            .collect(),
        LogAgent::GeminiCli => env_dir("GEMINI_CLI_HOME")
            .or_else(home)
            .map(|h| h.join(".gemini"))
            .into_iter()
            .collect(),
        LogAgent::Copilot => env_dir("COPILOT_HOME")
            .or_else(|| home().map(|h| h.join(".copilot")))
            .into_iter()
            .collect(),
    }
}

/// Why `agent`'s default place cannot be found, when it cannot: its own variable is unset and
/// there is no `$HOME` to find its folder in (Claude Code's is told by
/// [`super::placement::claude_projects`], in the same words). A search that does not know where
/// to look is a usage error, never a search of nothing.
pub(crate) fn unfound(agent: LogAgent) -> Option<String> {
    let (folder, variable) = match agent {
        LogAgent::ClaudeCode => return None,
        LogAgent::Codex => ("~/.codex", "CODEX_HOME"),
        LogAgent::GeminiCli => ("~/.gemini", "GEMINI_CLI_HOME"),
        LogAgent::Copilot => ("~/.copilot", "COPILOT_HOME"),
    };
    places(agent).is_empty().then(|| {
        format!(
            "cannot find {folder}: $HOME is not set (use {variable}, or name the logs to import)"
        )
    })
}

/// Every log of `agent` in its default places, in name order. Links inside an agent's folder
/// are not followed: each is added to `links`, for the caller to say (the folder itself, as
/// `$CODEX_HOME` or the home names it, is followed), and so is a FIFO, a socket or a device
/// named as a log (a Codex rollout, a Gemini CLI chat, a Copilot CLI session's events), never
/// opened.
pub(crate) fn find(agent: LogAgent, links: &mut Vec<PathBuf>) -> Vec<FoundLog> {
    let mut out = Vec::new();
    for place in places(agent) {
        match agent {
            LogAgent::ClaudeCode => {}
            LogAgent::Codex => {
                for folder in ["sessions", "archived_sessions"] {
                    let mut files = Vec::new();
                    let mut specials = Vec::new();
                    // A default place that is missing or unreadable holds nothing to import.
                    walk(
                        &place.join(folder),
                        4,
                        &|_| true,
                        &mut files,
                        links,
                        &mut specials,
                        &mut Vec::new(),
                    );
                    links.extend(specials.into_iter().filter(|p| is_rollout_name(p)));
                    out.extend(
                        files
                            .into_iter()
                            .filter(|p| is_rollout_name(p))
                            .map(|path| FoundLog {
                                agent: Agent::Codex,
                                group: path
                                    .parent()
                                    .and_then(|p| p.strip_prefix(&place).ok())
                                    .map(|p| p.display().to_string())
                                    .unwrap_or_default(),
                                path,
                            }),
                    );
                }
            }
            LogAgent::GeminiCli => {
                for project in subfolders(&place.join("tmp"), links) {
                    let slug = name_of(&project);
                    let chats = project.join("chats");
                    if !is_folder(&chats, links) {
                        continue;
                    }
                    for (path, kind) in folder_entries(&chats) {
                        let name = name_of(&path);
                        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                        let chat =
                            name.starts_with("session-") && (ext == "jsonl" || ext == "json");
                        match kind {
                            EntryKind::File if chat => out.push(FoundLog {
                                agent: Agent::GeminiCli,
                                path,
                                group: slug.clone(),
                            }),
                            EntryKind::Link => links.push(path),
                            // A FIFO named as a chat would hold the import: said, never opened.
                            EntryKind::Other if chat => links.push(path),
                            _ => {}
                        }
                    }
                }
            }
            LogAgent::Copilot => {
                for session in subfolders(&place.join("session-state"), links) {
                    let path = session.join("events.jsonl");
                    match entry_kind(&path) {
                        Some(EntryKind::File) => out.push(FoundLog {
                            agent: Agent::Copilot,
                            path,
                            group: "session-state".to_owned(),
                        }),
                        // A FIFO or a device in its place: said, never opened.
                        Some(EntryKind::Link | EntryKind::Other) => links.push(path),
                        _ => {}
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether a file is named as a Codex rollout: `rollout-*.jsonl`, or `rollout-*.json`, the
/// one document Codex CLI's TypeScript version saved.
fn is_rollout_name(path: &Path) -> bool {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("json"));
    json && name_of(path).starts_with("rollout-")
}

/// The folders directly in `dir`; links among them go to `links`.
fn subfolders(dir: &Path, links: &mut Vec<PathBuf>) -> Vec<PathBuf> {
    entries(dir, EntryKind::Folder, links)
}

/// Whether `path` is a folder; a link in its place goes to `links`.
fn is_folder(path: &Path, links: &mut Vec<PathBuf>) -> bool {
    match entry_kind(path) {
        Some(EntryKind::Folder) => true,
        Some(EntryKind::Link) => {
            links.push(path.to_path_buf());
            false
        }
        _ => false,
    }
}

fn entries(dir: &Path, wanted: EntryKind, links: &mut Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (path, kind) in folder_entries(dir) {
        if kind == wanted {
            out.push(path);
        } else if kind == EntryKind::Link {
            links.push(path);
        }
    }
    out
}

/// Files under `dir`, `depth` folders deep at most, in the folders `enter` takes; links on the
/// way go to `links`, FIFOs, sockets and devices (never opened) to `specials`, folders that
/// cannot be read (with why) to `unreadable`.
pub(crate) fn walk(
    dir: &Path,
    depth: u32,
    enter: &impl Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
    links: &mut Vec<PathBuf>,
    specials: &mut Vec<PathBuf>,
    unreadable: &mut Vec<(PathBuf, std::io::Error)>,
) {
    let entries = match read_folder_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            unreadable.push((dir.to_path_buf(), e));
            return;
        }
    };
    for (path, kind) in &entries {
        match kind {
            EntryKind::File => out.push(path.clone()),
            EntryKind::Link => links.push(path.clone()),
            EntryKind::Other => specials.push(path.clone()),
            EntryKind::Folder => {}
        }
    }
    if depth == 0 {
        return;
    }
    for (sub, _) in entries
        .iter()
        .filter(|(path, kind)| *kind == EntryKind::Folder && enter(path))
    {
        walk(sub, depth - 1, enter, out, links, specials, unreadable);
    }
}
