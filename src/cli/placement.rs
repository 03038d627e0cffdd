//! Where `import` finds Claude Code's transcripts, and which store each one goes to.
//!
//! Claude Code keeps transcripts under `<config>/projects/`, its config folder being
//! `$CLAUDE_CONFIG_DIR` or `~/.claude`; newer versions may use `~/.config/claude`. ccusage reads
//! `CLAUDE_CONFIG_DIR` as a comma-separated list of such folders (each may also be the
//! `projects` folder itself) and, without it, both defaults: so does `import`.
//!
//! `import --all` puts each transcript in the store of the project it ran in (the `cwd` its
//! lines carry), as a hook started there would, when that folder still exists; else in the
//! user-level store. A session already in some store on this machine is that store's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::Globals;
use super::globals::{real_folder, session_store};
use super::output::usage;
use super::stores;
use crate::store::Store;

/// The variable naming Claude Code's config folder.
pub(crate) const CLAUDE_CONFIG_DIR: &str = "CLAUDE_CONFIG_DIR";

/// The folders `$CLAUDE_CONFIG_DIR` names, read as ccusage reads it: a comma-separated list,
/// each entry trimmed, empty ones left out. `import` reads them all and `setup` refuses more
/// than one, so neither takes the list for one folder whose name holds a comma.
pub(crate) fn claude_config_dirs() -> Vec<PathBuf> {
    let Some(list) = std::env::var_os(CLAUDE_CONFIG_DIR) else {
        return Vec::new();
    };
    list.to_string_lossy()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// The `projects` folders to read: `--claude-dir`'s, else those `CLAUDE_CONFIG_DIR` names,
/// else `~/.config/claude/projects` and `~/.claude/projects` (those that exist). A folder
/// named by `--claude-dir` is returned as it is, for the caller to report when it is missing.
pub(crate) fn claude_projects(claude_dir: Option<&Path>) -> Result<Vec<PathBuf>> {
    if let Some(dir) = claude_dir {
        return Ok(vec![dir.join("projects")]);
    }
    let dirs = claude_config_dirs();
    if !dirs.is_empty() {
        let list = std::env::var_os(CLAUDE_CONFIG_DIR)
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let found: Vec<PathBuf> = dirs.iter().filter_map(|p| projects_in(p)).collect();
        if found.is_empty() {
            return Err(usage(format!(
                "CLAUDE_CONFIG_DIR names no folder holding Claude Code's projects ({list}): each entry is a config folder with a projects/ folder in it, or that projects/ folder"
            )));
        }
        return Ok(found);
    }
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return Err(usage(
            "cannot find ~/.claude: $HOME is not set (use --claude-dir or CLAUDE_CONFIG_DIR)",
        ));
    };
    let home = PathBuf::from(home);
    let defaults = [home.join(".config/claude"), home.join(".claude")];
    let found: Vec<PathBuf> = defaults.iter().filter_map(|d| projects_in(d)).collect();
    if found.is_empty() {
        // The one Claude Code uses unless told otherwise, for the caller to report.
        return Ok(vec![home.join(".claude/projects")]);
    }
    Ok(found)
}

/// The `projects` folder of a Claude config folder, or the folder itself when it is one.
fn projects_in(dir: &Path) -> Option<PathBuf> {
    let inside = dir.join("projects");
    if inside.is_dir() {
        return Some(inside);
    }
    (dir.file_name().is_some_and(|n| n == "projects") && dir.is_dir()).then(|| dir.to_path_buf())
}

/// Which store each transcript goes to.
pub(crate) struct Placement {
    /// `--trace-dir` or `$AGENT_TRACE_DIR`: every transcript goes there.
    forced: Option<Store>,
    /// The store of sessions imported already, anywhere on this machine.
    known: HashMap<String, Store>,
    /// Stores made for project folders, by folder.
    by_folder: HashMap<PathBuf, Store>,
}

impl Placement {
    pub(crate) fn new(globals: &Globals) -> Placement {
        let forced = globals.explicit_root().map(stores::for_writing);
        let mut known = HashMap::new();
        if forced.is_none() {
            let mut roots: Vec<PathBuf> = stores::catalogue()
                .and_then(|c| stores::catalogued(&c).ok())
                .unwrap_or_default();
            roots.extend(stores::user_store().map(|s| s.root().to_path_buf()));
            // Where older versions imported: the store of the folder the user stood in.
            roots.push(globals.store_root());
            for root in roots {
                let store = stores::for_writing(root);
                for id in store.session_ids().unwrap_or_default() {
                    known.entry(id).or_insert_with(|| store.clone());
                }
            }
        }
        Placement {
            forced,
            known,
            by_folder: HashMap::new(),
        }
    }

    /// The store the transcript of `session`, which ran in `cwd`, belongs to.
    pub(crate) fn store_for(&mut self, session: &str, cwd: Option<&str>) -> Result<Store> {
        if let Some(store) = &self.forced {
            return Ok(store.clone());
        }
        if let Some(store) = self.known.get(session) {
            return Ok(store.clone());
        }
        if let Some(cwd) = cwd.map(Path::new).filter(|c| c.is_absolute() && c.is_dir()) {
            let store = self.by_folder.entry(cwd.to_path_buf()).or_insert_with(|| {
                stores::for_writing(session_store(&real_folder(cwd.to_path_buf()), None))
            });
            return Ok(store.clone());
        }
        stores::user_store().ok_or_else(|| {
            usage("a transcript's project folder is gone and there is no user-level store for it: set HOME or AGENT_STRACE_HOME, or use --trace-dir")
        })
    }
}
