//! Which stores a command reads or writes: the project's own `.agent-traces`, the user-level
//! home for what belongs to no project, and every store the catalogue lists
//! (`--all-projects`).
//!
//! The user-level home is `$AGENT_STRACE_HOME`, else `$XDG_DATA_HOME/agent-strace`, else
//! `~/.local/share/agent-strace`. It holds the catalogue (`stores`, see
//! [`crate::store::catalogue`]) and a store of its own, `traces/`, where `import --all` puts
//! transcripts whose project folder is gone.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::globals::STORE_DIR;
use crate::store::{Catalogue, PassedOver, Selector, Store, StoreError};

/// The user-level store's folder in the home.
const USER_STORE: &str = "traces";

/// The user-level home, when the environment names one (see the module's documentation). A
/// relative `XDG_DATA_HOME` is ignored, as the XDG specification asks.
pub(crate) fn home() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("AGENT_STRACE_HOME") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_DATA_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Some(dir.join("agent-strace"));
    }
    var("HOME").map(|h| PathBuf::from(h).join(".local/share/agent-strace"))
}

/// The catalogue of every store, in the user-level home.
pub(crate) fn catalogue() -> Option<Catalogue> {
    home().map(Catalogue::new)
}

/// The stores the catalogue lists, with a warning for each line it dropped as naming a folder
/// that is no store (said once: the catalogue no longer holds it).
pub(crate) fn catalogued(catalogue: &Catalogue) -> Result<Vec<PathBuf>, StoreError> {
    let found = catalogue.stores()?;
    for folder in &found.not_stores {
        super::output::warn(format_args!(
            "the catalogue of stores named {}, which is no store (one is named {STORE_DIR} or \
             holds sessions or the .gitignore a store writes, and is never / or below /proc, \
             /sys or /dev but /dev/shm): it is dropped from the catalogue, and --all-projects \
             no longer reads it",
            folder.display()
        ));
    }
    Ok(found.stores)
}

/// The store for what belongs to no project.
pub(crate) fn user_store() -> Option<Store> {
    home().map(|h| Store::new(h.join(USER_STORE)).with_catalogue(catalogue()))
}

/// Makes what a writer needs before it can make `store`: the user-level home, when `store` is
/// the user-level store (a store makes only its own folder).
pub(crate) fn prepare(store: &Store) -> Result<()> {
    if let Some(home) = home()
        && store.root() == home.join(USER_STORE)
    {
        Catalogue::new(home).make_home()?;
    }
    Ok(())
}

/// A store that writers may make: catalogued when they do.
pub(crate) fn for_writing(root: PathBuf) -> Store {
    Store::new(root).with_catalogue(catalogue())
}

/// `--all-projects` and `--project PATH`: which stores a command that reads across sessions
/// covers.
#[derive(Debug, Clone, Args)]
pub(crate) struct ScopeArgs {
    /// Every store on this machine: the catalogue in the user-level home lists them
    #[arg(long, conflicts_with = "project")]
    pub(crate) all_projects: bool,
    /// The store of the project at PATH (its .agent-traces, or the nearest above it)
    #[arg(long, value_name = "PATH")]
    pub(crate) project: Option<PathBuf>,
}

/// A store and the project it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub(crate) store: Store,
    /// The project folder (the store's parent); `None` for the user-level store.
    pub(crate) project: Option<PathBuf>,
    /// The workspace, for a workspace's store (`.agent-traces/workspaces/NAME` of `project`).
    pub(crate) workspace: Option<String>,
}

impl Located {
    fn new(store: Store, user: Option<&Path>) -> Located {
        let root = store.root();
        // A workspace's store belongs to the project whose store holds it.
        let (folder, workspace) = match store.placed_as_workspace() {
            Some((project_store, name)) => (project_store, Some(name.to_owned())),
            None => (root, None),
        };
        let project = if user.is_some_and(|u| same_folder(u, folder)) {
            None
        } else if folder.file_name().is_some_and(|n| n == STORE_DIR) {
            folder.parent().map(Path::to_path_buf)
        } else {
            Some(folder.to_path_buf())
        };
        Located {
            store,
            project,
            workspace,
        }
    }

    /// The project as a listing shows it: its folder, `~` for the home, or "(no project)";
    /// a workspace's store with the workspace after it, `~/code/app [ws]`.
    pub(crate) fn label(&self) -> String {
        let project = self.project_label();
        match &self.workspace {
            Some(workspace) => format!("{project} [{workspace}]"),
            None => project,
        }
    }

    /// The project as a listing shows it, without the workspace: its folder, `~` for the
    /// home, or "(no project)".
    pub(crate) fn project_label(&self) -> String {
        self.project
            .as_deref()
            .map_or_else(|| "(no project)".to_owned(), shorten)
    }

    /// The project's folder alone (a workspace's store gives its project's, the workspace
    /// named apart), as `list`, `sql` and `dashboard` give it in JSON and columns; `None` for
    /// the user-level store.
    pub(crate) fn project_path(&self) -> Option<String> {
        self.project
            .as_deref()
            .map(|p| p.to_string_lossy().into_owned())
    }
}

/// `path` with the home folder written `~`.
fn shorten(path: &Path) -> String {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    if let Some(home) = home
        && let Ok(rest) = path.strip_prefix(&home)
    {
        if rest.as_os_str().is_empty() {
            return "~".to_owned();
        }
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// Whether two paths are the same folder (a path that does not exist is only itself).
pub(crate) fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => a == b,
    }
}

impl ScopeArgs {
    /// Whether the command reads several stores.
    pub(crate) fn many(&self) -> bool {
        self.all_projects
    }

    /// [`Self::stores`] for a command that names no session (`list`): no store here is told
    /// with the stores that hold sessions, when there are any, as the one-session commands tell
    /// it (`import --all` may have run already, into the user-level store or another
    /// project's).
    pub(crate) fn stores_unnamed(&self, globals: &Globals) -> Result<Vec<Located>> {
        self.stores(globals)
            .map_err(|err| match err.downcast::<StoreError>() {
                Ok(StoreError::NoStore(root)) => {
                    latest_elsewhere(&root.clone(), StoreError::NoStore(root))
                }
                Ok(other) => other.into(),
                Err(err) => err,
            })
    }

    /// The stores to read. One store (the flag's, else the usual one) must exist; with
    /// `--all-projects`, every catalogued store that still exists, the user-level store and the
    /// usual one when it exists, each once, and possibly none.
    pub(crate) fn stores(&self, globals: &Globals) -> Result<Vec<Located>> {
        let user = home().map(|h| h.join(USER_STORE));
        if !self.all_projects {
            let store = match &self.project {
                Some(path) => {
                    refuse_a_file(path)?;
                    Store::new(project_store(path))
                }
                None => Store::new(globals.store_root()),
            };
            store.require()?;
            // A store made before the catalogue existed joins it when it is first read.
            if let Some(catalogue) = catalogue() {
                let _ = catalogue.register(store.root(), false);
            }
            return Ok(vec![Located::new(store, user.as_deref())]);
        }
        let mut roots: Vec<PathBuf> = match catalogue() {
            Some(catalogue) => catalogued(&catalogue).unwrap_or_else(|err| {
                super::output::warn(format_args!(
                    "the catalogue of stores cannot be read ({err}); reading the stores it does not need"
                ));
                Vec::new()
            }),
            None => Vec::new(),
        };
        roots.extend(user.clone());
        let here = globals.store_root();
        if let Some(catalogue) = catalogue()
            && here.is_dir()
        {
            let _ = catalogue.register(&here, false);
        }
        roots.push(here);
        let mut seen = HashSet::new();
        let mut located = Vec::new();
        for root in roots {
            let Ok(meta) = std::fs::metadata(&root) else {
                continue;
            };
            if !meta.is_dir() || !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            let store = Store::new(root);
            match store.require() {
                Ok(()) => located.push(Located::new(store, user.as_deref())),
                Err(StoreError::NoStore(_)) => {}
                Err(err) => super::output::warn(format_args!("skipped a store: {err}")),
            }
        }
        Ok(located)
    }
}

/// Refuses a `--project` that names a file: the nearest store above a file is the store of the
/// folder it is in, so `--project notes.txt` read the store here as if no path had been given
/// (and `/abs/notes.txt` failed on `notes.txt/.agent-traces`, "Not a directory"). A file named
/// as the store's folder is left to the store, which says what it is.
fn refuse_a_file(path: &Path) -> Result<()> {
    let is_file = std::fs::metadata(path).is_ok_and(|m| !m.is_dir());
    if is_file && path.file_name().is_none_or(|n| n != STORE_DIR) {
        return Err(super::output::usage(format!(
            "--project {}: not a folder; name the project's folder (or its {STORE_DIR})",
            crate::render::escape::escape(&path.display().to_string())
        )));
    }
    Ok(())
}

/// The store of the project at `path`: `path` itself when it is a store folder, else the
/// nearest `.agent-traces` at or above it, else `path/.agent-traces` (which a reader then
/// reports missing).
pub(crate) fn project_store(path: &Path) -> PathBuf {
    if path.file_name().is_some_and(|n| n == STORE_DIR) {
        return path.to_path_buf();
    }
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    super::globals::nearest_store(&path).unwrap_or_else(|| path.join(STORE_DIR))
}

/// The session `selector` names in `store`, as [`Store::select`] finds it; when the id is not
/// there (or there is no store here at all), the error names the other stores on this machine
/// that hold it and the `--trace-dir` that reads each. `import --all` puts a transcript in the
/// store of the folder it ran in, or in the user-level store: without this, an id that `list
/// --all-projects` shows would only be "not found" from anywhere else.
pub(crate) fn select_in(store: &Store, selector: &Selector) -> Result<String> {
    let found = match selector {
        Selector::Latest => store
            .latest_readable()
            .and_then(|latest| latest.into_pick(store.root()))
            .map(|(id, passed_over)| {
                warn_passed_over(&id, &passed_over);
                id
            }),
        Selector::Prefix(_) => store.select(selector),
    };
    let err = match found {
        Ok(id) => return Ok(id),
        Err(err) => err,
    };
    if workspace_missing(&err) {
        return Err(err.into());
    }
    let prefix = match (selector, &err) {
        (Selector::Prefix(prefix), StoreError::NoStore(_) | StoreError::UnknownSession(_)) => {
            prefix
        }
        (Selector::Latest, StoreError::NoStore(_) | StoreError::NoSessions(_)) => {
            return Err(latest_elsewhere(store.root(), err));
        }
        _ => return Err(err.into()),
    };
    let holders = elsewhere(store.root(), selector);
    let hint = match holders.as_slice() {
        [] => return Err(err.into()),
        [(root, id)] => format!(
            "session {id} is in the store {}: add `--trace-dir {}` to read it",
            root.display(),
            quoted(root)
        ),
        _ => format!(
            "`{prefix}` names sessions in other stores ({}): add `--trace-dir DIR` to read one",
            holders
                .iter()
                .map(|(root, _)| root.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let kind = crate::error::ErrorKind::of_store(&err);
    Err(crate::error::Error::new(kind, err.to_string())
        .with_hint(hint)
        .into())
}

/// Warns once of each session newer than `pick`, the latest that can be read, that was passed
/// over as it cannot be (before, the latest was picked by its `meta.json` alone, and a command
/// given no session failed on one whose events could not be read). One that cannot be dated
/// (neither its `meta.json` nor its events can be read) is said to be so: it was left out
/// without a word, though it may be the newest.
fn warn_passed_over(pick: &str, passed_over: &[PassedOver]) {
    for passed in passed_over {
        let (id, error) = (&passed.id, &passed.error);
        if passed.dated {
            super::output::warn(format_args!(
                "passed over session {id}, newer than {pick}, the latest session that can be \
                 read: {error}"
            ));
        } else {
            super::output::warn(format_args!(
                "passed over session {id}, which cannot be dated and may be newer than {pick} \
                 (its folder changed after that started), the latest session that can be \
                 read: {error}"
            ));
        }
    }
}

/// That `store` is there, for a command that names no session and reads the one store: when it
/// is not, the error names the stores on this machine that hold sessions, as
/// [`ScopeArgs::stores_unnamed`] does for `list`.
pub(crate) fn require_unnamed(store: &Store) -> Result<()> {
    match store.require() {
        Err(StoreError::NoStore(root)) => {
            Err(latest_elsewhere(&root.clone(), StoreError::NoStore(root)))
        }
        other => Ok(other?),
    }
}

/// The error of `store`, which is there but holds no session, for a command that needs some:
/// it names the stores on this machine that do, as [`require_unnamed`] does for no store.
pub(crate) fn no_sessions(store: &Store) -> anyhow::Error {
    let root = store.root().to_path_buf();
    latest_elsewhere(&root.clone(), StoreError::NoSessions(root))
}

/// The error of a store that holds no session (or is not there) when no session was named:
/// the stores on this machine that do hold sessions, named with the `--trace-dir` that reads
/// each, rather than the ways to make a store (`import --all` may have run already, putting the
/// sessions in the user-level store or another project's).
fn latest_elsewhere(here: &Path, err: StoreError) -> anyhow::Error {
    /// Stores named in the hint; `list --all-projects` shows every one.
    const SHOWN: usize = 3;
    if workspace_missing(&err) {
        return err.into();
    }
    let holders = elsewhere(here, &Selector::Latest);
    let hint = match holders.as_slice() {
        [] => return err.into(),
        [(root, _)] => format!(
            "sessions are recorded in the store {}: add `--trace-dir {}` to read them",
            root.display(),
            quoted(root)
        ),
        _ => {
            let mut named: Vec<String> = holders
                .iter()
                .take(SHOWN)
                .map(|(root, _)| root.display().to_string())
                .collect();
            if holders.len() > SHOWN {
                named.push(format!("{} more", holders.len() - SHOWN));
            }
            format!(
                "sessions are recorded in other stores ({}): add `--trace-dir DIR` to read one, or see them all with `agent-strace list --all-projects`",
                named.join(", ")
            )
        }
    };
    let kind = crate::error::ErrorKind::of_store(&err);
    crate::error::Error::new(kind, err.to_string())
        .with_hint(hint)
        .into()
}

/// Whether `err` is no store while `$AGENT_STRACE_WORKSPACE` names a workspace: the store
/// missing is the workspace's, and the one hint that helps is to unset the variable, which
/// [`super::output::finish`] gives. A `--trace-dir` naming another store reads that store's
/// workspace too, so the stores that hold sessions are no hint.
fn workspace_missing(err: &StoreError) -> bool {
    matches!(err, StoreError::NoStore(_)) && matches!(super::globals::workspace(), Ok(Some(_)))
}

/// `path` as a word of a command to paste into a shell: quoted when it holds a space, `$` or
/// anything else a shell would read (a folder named `My Project`, or `$(…)`).
fn quoted(path: &Path) -> String {
    super::setup::shell_word(&path.to_string_lossy())
}

fn is_no_store(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<StoreError>(),
        Some(StoreError::NoStore(_))
    )
}

/// The stores on this machine other than `here` (the catalogued ones and the user-level one)
/// in which `selector` names a session, each with that session's id.
fn elsewhere(here: &Path, selector: &Selector) -> Vec<(PathBuf, String)> {
    let mut roots = catalogue()
        .and_then(|c| catalogued(&c).ok())
        .unwrap_or_default();
    roots.extend(home().map(|h| h.join(USER_STORE)));
    let mut seen = HashSet::new();
    if let Ok(meta) = std::fs::metadata(here) {
        seen.insert((meta.dev(), meta.ino()));
    }
    let mut found = Vec::new();
    for root in roots {
        let Ok(meta) = std::fs::metadata(&root) else {
            continue;
        };
        if !meta.is_dir() || !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        if let Ok(id) = Store::new(root.clone()).select(selector) {
            found.push((root, id));
        }
    }
    found
}

/// The one session `selector` names in the stores `scope` covers: with several stores, the
/// latest of all (each store's latest heads a tree), or the one session whose id starts
/// with the prefix in any of them.
pub(crate) fn select(
    scope: &ScopeArgs,
    selector: &Selector,
    globals: &Globals,
) -> Result<(Store, String)> {
    if !scope.many() {
        // `select_in` says when the store is missing, and where else the session is.
        let store = match scope.stores(globals) {
            Ok(stores) => stores.into_iter().next().map(|l| l.store),
            Err(err) if is_no_store(&err) => None,
            Err(err) => return Err(err),
        };
        let store = store.unwrap_or_else(|| match &scope.project {
            Some(path) => Store::new(project_store(path)),
            None => Store::new(globals.store_root()),
        });
        let id = select_in(&store, selector)?;
        return Ok((store, id));
    }
    let stores = scope.stores(globals)?;
    let Selector::Prefix(prefix) = selector else {
        return latest_of_all(stores.into_iter().map(|l| l.store));
    };
    let mut found: Vec<(Store, String)> = Vec::new();
    for located in stores {
        match located.store.select(selector) {
            Ok(id) => found.push((located.store, id)),
            Err(StoreError::NoSessions(_) | StoreError::UnknownSession(_)) => {}
            Err(err) => return Err(err.into()),
        }
    }
    // An exact id wins, as in one store.
    if let Some(i) = found.iter().position(|(_, id)| id == prefix) {
        return Ok(found.swap_remove(i));
    }
    match found.len() {
        0 => Err(StoreError::UnknownSession(prefix.clone()).into()),
        1 => Ok(found.remove(0)),
        _ => Err(StoreError::AmbiguousSession {
            prefix: prefix.clone(),
            candidates: found
                .iter()
                .map(|(s, id)| format!("{id} ({})", s.root().display()))
                .collect(),
        }
        .into()),
    }
}

/// The latest session of all `stores` that can be read (each store's latest heads a tree of
/// its own, see [`Store::latest_readable`]), having warned of each newer one passed over as it
/// cannot be; when none can, the error of the newest.
fn latest_of_all(stores: impl Iterator<Item = Store>) -> Result<(Store, String)> {
    let mut picks: Vec<(Store, String, f64)> = Vec::new();
    let mut passed_over: Vec<PassedOver> = Vec::new();
    for store in stores {
        let latest = match store.latest_readable() {
            Ok(latest) => latest,
            Err(StoreError::NoSessions(_)) => continue,
            Err(err) => return Err(err.into()),
        };
        passed_over.extend(latest.passed_over);
        if let Some((id, start)) = latest.pick {
            picks.push((store, id, start));
        }
    }
    let newest = picks
        .into_iter()
        .max_by(|(_, a, a_start), (_, b, b_start)| {
            a_start.total_cmp(b_start).then_with(|| a.cmp(b))
        });
    passed_over.sort_by(|a, b| b.start.total_cmp(&a.start).then_with(|| b.id.cmp(&a.id)));
    match newest {
        Some((store, id, start)) => {
            passed_over.retain(|p| {
                p.start
                    .total_cmp(&start)
                    .then_with(|| p.id.cmp(&id))
                    .is_gt()
            });
            warn_passed_over(&id, &passed_over);
            Ok((store, id))
        }
        None if !passed_over.is_empty() => Err(passed_over.swap_remove(0).error.into()),
        None => Err(crate::error::Error::usage("no session is recorded in any store on this machine")
            .with_hint(
                "`agent-strace setup --write` records a project's sessions, `agent-strace import --all` imports those Claude Code kept",
            )
            .into()),
    }
}

/// Warns, in one line, when `store` lets every user of the machine in (see
/// [`Store::open_to_others`]), with the one command that makes it private. Only commands a user
/// runs to look after a store say it (`setup`, `retention`): a hook never does, and agent-strace
/// never changes the mode of a folder it did not make.
pub(crate) fn warn_if_open_to_others(store: &Store) {
    if let Some(mode) = store.open_to_others() {
        let root = store.root().display().to_string();
        super::output::warn(format_args!(
            "the store {root} can be read by every user of this machine (mode {mode:04o}), and its sessions hold prompts, files and tool output; `chmod 700 {}` makes it yours alone (docs/security.md)",
            super::setup::shell_word(&root)
        ));
    }
}
