//! Whether a folder lies in a trace store or a session's folder, judged by what is on disk: a
//! file written there (a command's `--output`) could replace a session's own.

use std::path::{Path, PathBuf};

use super::catalogue::{holds_a_session, made_by_a_store};
use super::layout::{EVENTS, GITIGNORE, INDEX, META, STORE_DIR};

/// The folder that makes another one part of the store's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A store's folder.
    Store(PathBuf),
    /// A session's folder, in no folder known for a store (a copy of a session, say).
    Session(PathBuf),
}

/// The store that `dir`, or a folder above it, is, else the session folder: both by their
/// canonical paths, `None` when `dir` is not there or lies in neither. Judged from what each
/// folder holds, not from which store a command reads: a command reads one store, but a file
/// it writes may land in any (the project's, when `$AGENT_STRACE_WORKSPACE` reads a workspace
/// inside it; another that `--trace-dir` named once; a copy of one). A store is a folder named
/// `.agent-traces`, or holding the `.gitignore` a store writes when it makes its folder, or an
/// index beside a session folder; an index alone is not (reading any folder as a store writes
/// one into it, the home folder too). A session folder holds its `meta.json` and its
/// `events.ndjson`.
pub fn holder_of(dir: &Path) -> Option<Holder> {
    let real = dir.canonicalize().ok()?;
    if let Some(store) = real.ancestors().find(|folder| is_store(folder)) {
        return Some(Holder::Store(store.to_path_buf()));
    }
    real.ancestors()
        .find(|folder| folder.join(META).is_file() && folder.join(EVENTS).is_file())
        .map(|session| Holder::Session(session.to_path_buf()))
}

fn is_store(folder: &Path) -> bool {
    folder.file_name().is_some_and(|name| name == STORE_DIR)
        || made_by_a_store(&folder.join(GITIGNORE))
        || (folder.join(INDEX).is_file() && holds_a_session(folder))
}
