//! `import <folder>`: the session logs under a folder named to `import`, as the agents lay them
//! out, less those a parent's import reads itself (its subagents' logs).

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How many folders deep a named folder is searched: `~/.codex` holds its rollouts at
/// `sessions/YYYY/MM/DD/`, `~/.config` a subagent's transcript at
/// `claude/projects/<project>/<session>/subagents/`.
const DEPTH: u32 = 5;

/// What a search of a named folder found.
#[derive(Debug, Default)]
pub(crate) struct FolderLogs {
    /// The files named as logs are (`*.jsonl`, Gemini CLI's `session-*.json`), in name order.
    pub(crate) files: Vec<PathBuf>,
    /// Symbolic links met on the way that could lead to a log (named as one, or to a folder):
    /// never followed, for the caller to say.
    pub(crate) links: Vec<PathBuf>,
    /// FIFOs, sockets and devices named as logs are: never opened (a FIFO would hold the
    /// import), for the caller to say, as it says links; they were passed over without a word.
    pub(crate) specials: Vec<PathBuf>,
    /// Folders that could not be read (no permission), with why: the logs in them are not
    /// found, and the caller says so rather than import less than was named without a word.
    pub(crate) unreadable: Vec<(PathBuf, std::io::Error)>,
}

/// Hidden folders below a named folder that are searched: the agents' own (a home folder's, or
/// a copy of one). Other hidden folders (a project's `.git`, caches) hold no agent's logs.
const AGENT_FOLDERS: [&str; 5] = [".claude", ".codex", ".gemini", ".copilot", ".config"];

/// The session logs under `dir`. Links inside it are not followed (a link in an agent's folder
/// can point anywhere), nor are hidden folders searched but the agents' own.
pub(crate) fn logs_under(dir: &Path) -> FolderLogs {
    let mut found = FolderLogs::default();
    let mut files = Vec::new();
    let mut specials = Vec::new();
    let enter = |folder: &Path| {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        !name.starts_with('.') || AGENT_FOLDERS.contains(&&*name)
    };
    super::agent_logs::walk(
        dir,
        DEPTH,
        &enter,
        &mut files,
        &mut found.links,
        &mut specials,
        &mut found.unreadable,
    );
    found.specials = specials.into_iter().filter(|f| is_log_name(f)).collect();
    found.specials.sort();
    // Only a link that could have led to a log is said: one named as a log is, or one to a
    // folder the search would have entered (its target is looked at, never read). A home
    // folder's dotfiles and a config folder's links are none of these.
    found.links.retain(|link| {
        is_log_name(link) || (enter(link) && std::fs::metadata(link).is_ok_and(|m| m.is_dir()))
    });
    let named: HashSet<&Path> = files
        .iter()
        .map(PathBuf::as_path)
        .filter(|f| is_log_name(f))
        .collect();
    found.files = named
        .iter()
        .filter(|f| !read_with_parent(f, &named))
        .map(|f| f.to_path_buf())
        .collect();
    found.files.sort();
    found.links.sort();
    found
}

/// Whether a file is named as an agent writes its logs: JSON lines, or a Gemini CLI chat of the
/// older one-document form.
fn is_log_name(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("jsonl") => true,
        Some("json") => path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("session-")),
        _ => false,
    }
}

/// Whether importing another of the found logs imports this one as its subagent: a Claude Code
/// transcript in `<session>/subagents/` beside `<session>.jsonl`, or a Gemini CLI chat in
/// `chats/<session id>/` beside the parent's `session-*` chat. Imported alone it would be a
/// session of its own, not linked to the call that ran it.
fn read_with_parent(file: &Path, logs: &HashSet<&Path>) -> bool {
    let Some(folder) = file.parent() else {
        return false;
    };
    let Some(above) = folder.parent() else {
        return false;
    };
    if folder.file_name().is_some_and(|n| n == "subagents") {
        let mut transcript = OsString::from(above.as_os_str());
        transcript.push(".jsonl");
        return logs.contains(Path::new(&transcript));
    }
    above.file_name().is_some_and(|n| n == "chats")
        && logs.iter().any(|log| {
            log.parent() == Some(above)
                && log
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("session-"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subagents_are_left_to_their_parents_import() {
        let logs: HashSet<&Path> = [
            "p/s1.jsonl",
            "p/s1/subagents/agent-a.jsonl",
            "p/s2/subagents/agent-b.jsonl",
            "tmp/x/chats/session-1.json",
            "tmp/x/chats/abc/agent.jsonl",
            "tmp/y/other/abc/agent.jsonl",
        ]
        .into_iter()
        .map(Path::new)
        .collect();
        let read = |f: &str| read_with_parent(Path::new(f), &logs);
        assert!(read("p/s1/subagents/agent-a.jsonl"));
        // Its parent's transcript is not here: imported alone, as if named.
        assert!(!read("p/s2/subagents/agent-b.jsonl"));
        assert!(read("tmp/x/chats/abc/agent.jsonl"));
        assert!(!read("tmp/y/other/abc/agent.jsonl"));
        assert!(!read("p/s1.jsonl"));
    }

    #[test]
    fn logs_are_told_by_their_names() {
        assert!(is_log_name(Path::new("a/rollout-1.jsonl")));
        assert!(is_log_name(Path::new("a/X.JSONL")));
        assert!(is_log_name(Path::new("chats/session-2025-01-01.json")));
        assert!(!is_log_name(Path::new("a/settings.json")));
        assert!(!is_log_name(Path::new("a/events.ndjson")));
        assert!(!is_log_name(Path::new("a/notes.txt")));
    }
}
