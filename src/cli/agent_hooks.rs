//! Whether an agent has agent-strace hooks of its own installed: the look at its config files
//! that decides if a Claude-file hook it also ran is a duplicate (docs/agents.md §8).
//!
//! Cursor, VS Code and Copilot CLI run the plain `agent-strace hook …` commands of Claude Code's
//! settings files besides their own hooks. When the agent's own config holds our command with
//! `--agent <name>` (as `setup --agent` writes it), that hook records the event and the
//! Claude-file run is dropped; without it, the Claude-file run is the only capture and is kept.
//! This is I/O on the user's settings, so it lives in `cli`, and runs only for a payload that
//! could be a duplicate (never on Claude Code's own hot path).

use std::path::{Path, PathBuf};

use crate::model::Agent;

/// Config files larger than this are not ours to read through.
const FILE_LIMIT: u64 = 1024 * 1024;

/// Whether `agent`'s own hook config, for the project at `cwd` (or the project folder its
/// environment names) or for the user, runs `agent-strace hook --agent <agent>`.
pub(crate) fn own_hooks_installed(agent: Agent, cwd: Option<&str>) -> bool {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = var("HOME");
    let marker = format!("--agent {}", agent.name());
    let marker_eq = format!("--agent={}", agent.name());
    let holds = |path: &Path| {
        // Checked on the opened file: a FIFO put there after a look would hold the hook.
        crate::store::read_regular(path, FILE_LIMIT).is_ok_and(|text| {
            text.contains("agent-strace") && (text.contains(&marker) || text.contains(&marker_eq))
        })
    };
    let any_json_in = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "json") && holds(&e.path()))
        })
    };
    let projects = projects(
        cwd,
        &[
            "CURSOR_PROJECT_DIR",
            "COPILOT_PROJECT_DIR",
            "CLAUDE_PROJECT_DIR",
        ],
    );
    match agent {
        Agent::Cursor => {
            projects
                .iter()
                .any(|p| holds(&p.join(".cursor/hooks.json")))
                || home.is_some_and(|h| holds(&h.join(".cursor/hooks.json")))
                || holds(Path::new("/etc/cursor/hooks.json"))
        }
        Agent::Copilot | Agent::VsCode => {
            let user = var("COPILOT_HOME").or_else(|| home.map(|h| h.join(".copilot")));
            projects
                .iter()
                .any(|p| any_json_in(&p.join(".github/hooks")))
                || user.is_some_and(|u| any_json_in(&u.join("hooks")))
        }
        _ => false,
    }
}

/// The folders a project's hook config may sit in: the ones the agent's environment names, then
/// `cwd` and each folder above it (the agent may work in a subfolder of the project).
fn projects(cwd: Option<&str>, vars: &[&str]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = vars
        .iter()
        .filter_map(|name| std::env::var_os(name).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
        .collect();
    if let Some(cwd) = cwd {
        dirs.extend(Path::new(cwd).ancestors().map(Path::to_path_buf));
    }
    dirs.dedup();
    dirs
}
