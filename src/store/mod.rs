//! The session store: the only module that knows paths, file names, locks or JSON lines.
//!
//! # Architecture
//! A store is a directory, `.agent-traces/` by default, holding one folder per session:
//!
//! ```text
//! .agent-traces/
//!   hook-errors.log          problems hooks met, one line each, bounded in size
//!   .hook-errors.said        keys of the lines the log says once (a policy's refused rule)
//!   .index.sqlite            the session index: a cache of every session's summary (and its
//!                            -wal and -shm); delete it and the next read rebuilds it
//!   .dashboard-notes.jsonl   the dashboard's dated notes (`dashboard annotate`)
//!   .spool/                  hook calls and proxies' batches kept for the collector, sent
//!                            by the next hook or `send-kept`
//!   <session-id>/
//!     meta.json              SessionMeta, replaced atomically (temp file + rename)
//!     events.ndjson          one JSON event per line, appended with one write each
//!     .counters              the session lock, holding the counters folded from events up to a
//!                            byte offset (our cache); held briefly while meta is caught up
//!     .pending/              open tool calls waiting for their result, one empty file each
//!                            (`closed.…` once the turn ended without it)
//!     .owed.<part>           a part a hook could not write, for the next hook to write
//!     .response              the parts of a model response still streaming in (Gemini CLI)
//!     .import                what an import read of its transcript, to bring it up to date
//!     watchdog-postmortem.json   why `watch` killed the session's agent (only then)
//!     watchdog-budget.json   the cost ceiling a `watch` held the session to (for `lint`)
//! ```
//!
//! - [`layout`]: names and paths.
//! - [`append`]: appending one event without tearing or gluing lines.
//! - [`moved`]: an event written without the lock into a folder moved away meanwhile, kept once.
//! - [`reader`]: streaming events, skipping (and reporting) lines that do not parse.
//! - [`follow`]: a session's events as they are appended, woken by file notifications.
//! - [`meta`]: reading and atomically replacing `meta.json`; catching counters up.
//! - [`pending`]: open tool calls, claimed by exactly one result.
//! - [`owed`]: what a hook wrote only in part, for the next hook to finish.
//! - [`streaming`]: a model response's parts, kept until its last chunk folds them.
//! - [`postmortem`]: the post-mortem `watch` writes when a rule kills a session's agent.
//! - [`ceiling`]: the cost ceiling a `watch` held a session to.
//! - [`select`]: naming a session by a unique prefix of its id.
//! - [`lock`]: brief, bounded file locks.
//! - [`errlog`]: the bounded hook error log.
//! - [`writer`]: writing a whole session at once (imports), moved into place atomically, or
//!   continued from a mark and swapped in for the stored one (a transcript that grew).
//! - [`index`]: the SQLite index of every session, refreshed from the files when read.
//! - [`sql`]: read-only SQL over the index, of one store or of several gathered.
//! - [`dashboard_notes`]: the dashboard's dated notes, appended one line at a time.
//! - [`catalogue`]: the list of every store on the machine, kept in the user-level home.
//! - [`holder`]: whether a folder lies in a store or a session's folder, by what it holds.
//!
//! The format is recorded in `adr/0001-store-format.md`.

mod annotations;
mod append;
pub mod catalogue;
mod dashboard_notes;
mod errlog;
mod files;
mod follow;
mod holder;
pub use holder::{Holder, holder_of};
mod holes;
pub(crate) use holes::SkipHoles;
pub mod index;
mod layout;
pub mod sql;
pub use layout::{
    MAX_SESSION_ID_BYTES, STORE_DIR, STORE_FORMAT, is_valid_session_id, is_valid_workspace_name,
    subagent_session_id, use_workspace, why_unusable, workspace_root,
};
mod ceiling;
mod lock;
mod meta;
mod moved;
pub use meta::Described;
mod owed;
mod pending;
mod postmortem;
mod reader;
mod retention;
mod select;
mod spool;
mod streaming;
mod tail;
mod writer;

use std::path::{Path, PathBuf};

pub use annotations::{ANNOTATIONS, Annotations};
pub use append::Appender;
pub use catalogue::Catalogue;
pub use ceiling::WATCH_BUDGET;
pub use dashboard_notes::{DASHBOARD_NOTES, DayNote, DayNotes};
pub use files::{
    EntryKind, LINE_LIMIT, LineRead, describe, describe_entry, entry_kind, folder_entries,
    json_text, open_regular, read_folder_entries, read_line, read_line_within, read_regular,
    regular_len, skip_line, skip_newlines, without_bom,
};
pub use follow::Follower;
pub use index::{Index, IndexError, IndexedSession, Listing};
pub use lock::{HOOK_LOCK_WAIT, Step, StepLock};
pub use owed::Owed;
pub use pending::{CallKey, ClaimedCall};
pub use postmortem::POSTMORTEM;
pub use reader::{BadLine, EventReader, ScanReport};
pub use retention::{Deleted, RETENTION_LOG};
pub use select::{Latest, PassedOver, Selector};
pub use spool::{Keeping, SpoolBound, SpoolCount, Spooled};
pub use streaming::PartEdit;
pub use writer::{Mark, RecordHead, SessionWriter};

use crate::model::{Counters, SessionMeta};
use files::Folder;

/// The clock's time in seconds since the epoch (0 before it), which a session's events are
/// read at: an event stamped past it counts in file order for the session's end
/// ([`crate::model::Ending`]).
pub fn system_time() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Errors a caller may want to tell apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no trace store at {0}")]
    NoStore(PathBuf),
    #[error("the trace store at {0} holds no sessions")]
    NoSessions(PathBuf),
    #[error("no session matches `{0}`")]
    UnknownSession(String),
    #[error("`{prefix}` is ambiguous: it matches {}", .candidates.join(", "))]
    AmbiguousSession {
        prefix: String,
        candidates: Vec<String>,
    },
    // Debug formatting escapes what a terminal would draw deceptively (bidi controls).
    #[error("{0:?} is not a usable session id")]
    InvalidSessionId(String),
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("session `{0}` is already in the store")]
    SessionExists(String),
    #[error("timed out waiting for the lock on {0}")]
    LockTimeout(PathBuf),
    /// A session folder that is the user's link to one kept elsewhere, which retention does
    /// not delete through.
    #[error(
        "{} is a link to {}: a session kept through a link is not deleted; delete its folder there, then the link",
        path.display(),
        target.display()
    )]
    KeptElsewhere { path: PathBuf, target: PathBuf },
    /// Something other than a regular file where the store keeps one (a link, a FIFO, a
    /// device), or other than a folder where it keeps a folder.
    #[error("{path} is {what} where the store keeps {expected}; it is left alone")]
    NotRegular {
        path: PathBuf,
        what: &'static str,
        /// What the store keeps at that path: "a plain file" or "a folder".
        expected: &'static str,
    },
    /// A folder of the store that holds a session's files under a name no session id can
    /// have (too long, drawn as something else): it is not read. Debug formatting escapes what
    /// such a name may hold that draws as nothing.
    #[error("{path:?} is not read as a session: {why}")]
    UnusableFolder { path: PathBuf, why: String },
    /// A session folder that is a symbolic link to another session folder of the same store:
    /// that session is read once, under its own name.
    #[error(
        "{path:?} is a symbolic link to {target:?}, another session folder of this store; it is \
         not read, so that session counts once, under its own name"
    )]
    LinkedSession { path: PathBuf, target: String },
    /// A store or session folder that is a symbolic link someone else owns.
    #[error("{0} is a symbolic link owned by another user; the store does not follow it")]
    UntrustedLink(PathBuf),
    /// A store's folder that another user owns: what is written there is theirs to read.
    #[error("{0} is another user's store; sessions are written only to a store of one's own")]
    ForeignStore(PathBuf),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the error may pass if tried again soon: the process or the system is out of
    /// file descriptors (`EMFILE`, `ENFILE`), or a session's lock was busy.
    pub fn is_temporary(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => source.raw_os_error().is_some_and(|n| {
                n == rustix::io::Errno::MFILE.raw_os_error()
                    || n == rustix::io::Errno::NFILE.raw_os_error()
            }),
            StoreError::LockTimeout(_) => true,
            _ => false,
        }
    }

    /// The file or folder the error is about, when it names one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            StoreError::NoStore(path)
            | StoreError::NoSessions(path)
            | StoreError::LockTimeout(path)
            | StoreError::UntrustedLink(path)
            | StoreError::ForeignStore(path)
            | StoreError::Corrupt { path, .. }
            | StoreError::Io { path, .. }
            | StoreError::NotRegular { path, .. }
            | StoreError::UnusableFolder { path, .. }
            | StoreError::LinkedSession { path, .. }
            | StoreError::KeptElsewhere { path, .. } => Some(path),
            StoreError::UnknownSession(_)
            | StoreError::AmbiguousSession { .. }
            | StoreError::InvalidSessionId(_)
            | StoreError::SessionExists(_) => None,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One session as a listing sees it: its metadata with counters caught up to the events.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub meta: SessionMeta,
    /// The counters a session's cache (or a fold of its events) holds, when [`Store::summary`]
    /// read them from its files: boxed, as they are large (their calls and reads waiting for a
    /// pair, some 900 bytes) and a listing holds every session's summary. A listing from the
    /// index has its counts in `meta` and leaves them out.
    pub counters: Option<Box<Counters>>,
    /// Why `meta.json` could not be used, when it could not: `meta` is then what the events
    /// say (see [`Store::summary`]).
    pub meta_error: Option<String>,
    /// Of `meta.errors`, the calls the user refused or stopped (0 when the events were not
    /// read: a session another tool wrote, listed without the index).
    pub rejections: u64,
    /// Of `meta.errors`, the errors of no call (an API error that ended a turn): the turn's,
    /// not a tool's (0 when the events were not read).
    pub turn_errors: u64,
}

impl SessionSummary {
    /// The calls that failed: `meta.errors` without the rejections. Every listing shows this
    /// as the session's errors, and the rejections apart.
    pub fn failures(&self) -> u64 {
        self.meta.errors.saturating_sub(self.rejections)
    }

    /// Of [`SessionSummary::failures`], the calls' own: the errors of no call left out.
    pub fn tool_failures(&self) -> u64 {
        self.failures().saturating_sub(self.turn_errors)
    }

    /// The warning for a session whose `meta.json` could not be used ([`Self::meta_error`]):
    /// why, that the session is shown as its events tell it, and where in the trees. A
    /// subagent whose parent neither its events nor its id name heads a tree of its own, and
    /// the warning says so and why (before, it showed at the top level without a word).
    pub fn meta_warning(&self) -> Option<String> {
        let why = self.meta_error.as_ref()?;
        Some(match &self.meta.parent_session_id {
            Some(parent) => format!(
                "{why}; the session is shown as its events tell it, as a subagent of {parent}"
            ),
            None => format!(
                "{why}; the session is shown as its events tell it, as a session of its own: \
                 neither its events nor its id name a parent session"
            ),
        })
    }
}

/// Why this user may not look inside `folder` (its mode 000, say), when it may not: what is in
/// it cannot be told from nothing, so a session folder so is read, and said to be unreadable,
/// rather than passed over without a word.
pub(crate) fn closed_folder(folder: &Path) -> Option<std::io::Error> {
    std::fs::symlink_metadata(folder.join(layout::EVENTS))
        .err()
        .filter(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
}

/// Whether the folder at `path` is a session's. Whatever stands in a session file's place (a
/// FIFO, a link) makes a session to read, and to say it cannot be read: the index lists it so,
/// and the latest pick left it out without a word.
fn holds_session(path: &Path) -> bool {
    let there = |name| std::fs::symlink_metadata(path.join(name)).is_ok();
    there(layout::META) || there(layout::EVENTS) || closed_folder(path).is_some()
}

/// A trace store rooted at a directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// Where the store is catalogued when this handle makes its folder.
    catalogue: Option<Catalogue>,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store {
            root: root.into(),
            catalogue: None,
        }
    }

    /// The same store, catalogued in `catalogue` when this handle makes its folder.
    #[must_use]
    pub fn with_catalogue(mut self, catalogue: Option<Catalogue>) -> Self {
        self.catalogue = catalogue;
        self
    }

    /// The user who owns the session's events file (who recorded it); `None` when there is
    /// none.
    pub fn events_owner(&self, session_id: &str) -> Option<u32> {
        use std::os::unix::fs::MetadataExt;
        let path = self.session_dir(session_id).join(layout::EVENTS);
        std::fs::symlink_metadata(path).ok().map(|m| m.uid())
    }

    /// The session whose folder holds `path` (a session folder or a file in one), if any.
    pub fn session_holding(&self, path: &Path) -> Option<String> {
        match path.strip_prefix(&self.root).ok()?.components().next()? {
            std::path::Component::Normal(name) => name.to_str().map(str::to_owned),
            _ => None,
        }
    }

    /// The sessions whose folders hold the paths of `errors` ([`Store::session_holding`]),
    /// once each in id order, each with the last of its errors; an error of no session's
    /// folder is left out.
    pub fn sessions_holding<'e>(
        &self,
        errors: &'e [StoreError],
    ) -> std::collections::BTreeMap<String, &'e StoreError> {
        errors
            .iter()
            .filter_map(|e| Some((self.session_holding(e.path()?)?, e)))
            .collect()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether a folder is at `path` that another user owns (neither this user nor root): a
    /// store found there by walking up from a project (another user's `.agent-traces` in a
    /// shared folder such as `/tmp`) is theirs, not the project's.
    pub fn belongs_to_another_user(path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_dir() && !files::trusted_owner(m.uid()))
    }

    pub fn exists(&self) -> bool {
        self.root.is_dir()
    }

    /// The mode of the store's folder when it lets every user of the machine in (any of the
    /// bits for others): a store made by an earlier agent-strace or by the Python tool under
    /// umask 022 is 0755, and anyone can read the sessions in it. `None` when the store is not
    /// there or is closed to others (0700, or 2750 for a group it is shared with on purpose).
    pub fn open_to_others(&self) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&self.root).ok()?;
        let mode = meta.permissions().mode() & 0o7777;
        (meta.is_dir() && mode & 0o007 != 0).then_some(mode)
    }

    /// Fails with [`StoreError::NoStore`] when nothing is at the store's path, with
    /// [`StoreError::NotRegular`] when something other than a folder is (a FIFO, a file: it
    /// was "no trace store", as if nothing were there), and with
    /// [`StoreError::UntrustedLink`] when it is a link someone else planted.
    pub fn require(&self) -> Result<()> {
        match self.root_folder() {
            Ok(_) => Ok(()),
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NoStore(self.root.clone()))
            }
            Err(e) => Err(e),
        }
    }

    pub fn has_session(&self, session_id: &str) -> bool {
        layout::is_valid_session_id(session_id) && self.session_dir(session_id).is_dir()
    }

    pub(crate) fn session_dir(&self, session_id: &str) -> PathBuf {
        self.root.join(session_id)
    }

    /// The store's folder, held open (see [`files`] for what is refused).
    ///
    /// A workspace's store is reached through its project's: the `workspaces` folder between
    /// them is one only agent-strace and the Python tool make, so a link there is refused
    /// (sessions were written wherever a link planted in a project pointed).
    pub(crate) fn root_folder(&self) -> Result<Folder> {
        match self.workspace() {
            Some((project, name)) => Folder::open(project)?
                .child(layout::WORKSPACES)?
                .store(name),
            None => Folder::open(&self.root),
        }
    }

    /// For the store of the workspace in use (the Python tool's `<store>/workspaces/<name>`,
    /// [`workspace_root`], [`use_workspace`]), the project's store and the workspace's name;
    /// `None` for any other store.
    pub(crate) fn workspace(&self) -> Option<(&Path, &str)> {
        let in_use = layout::workspace_in_use()?;
        self.placed_as_workspace()
            .filter(|(_, name)| *name == in_use)
    }

    /// The project's store and the workspace's name when this store is where a workspace's is
    /// kept (`<store>/workspaces/<name>`, a name a workspace can have), in use or not: what a
    /// listing of many stores names it by. Only [`Store::workspace`] decides how it is written.
    pub(crate) fn placed_as_workspace(&self) -> Option<(&Path, &str)> {
        let name = self
            .root
            .file_name()?
            .to_str()
            .filter(|name| layout::is_valid_workspace_name(name))?;
        let folder = self.root.parent()?;
        let project = folder.parent()?;
        (folder.file_name() == Some(std::ffi::OsStr::new(layout::WORKSPACES))
            && !project.as_os_str().is_empty())
        .then_some((project, name))
    }

    /// A session's folder, held open.
    pub(crate) fn session_folder(&self, session_id: &str) -> Result<Folder> {
        if !layout::is_valid_session_id(session_id) {
            return Err(StoreError::InvalidSessionId(session_id.to_owned()));
        }
        self.root_folder()?.session(session_id)
    }

    /// Every session folder's id, in no particular order.
    pub fn session_ids(&self) -> Result<Vec<String>> {
        self.require()?;
        let entries = std::fs::read_dir(&self.root).map_err(|e| StoreError::io(&self.root, e))?;
        let mut ids = Vec::new();
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') || !layout::is_valid_session_id(&name) {
                continue;
            }
            // A link to another session folder of the store is that session again (it was
            // listed twice); refusing it, as reading it does, is the listing's to say.
            if entry.file_type().is_ok_and(|t| t.is_symlink())
                && files::links_within(&self.root, &name)
            {
                continue;
            }
            if holds_session(&entry.path()) {
                ids.push(name);
            }
        }
        Ok(ids)
    }

    /// The workspaces inside this store that hold sessions (the Python tool's
    /// `workspaces/<name>`, [`workspace_root`]), by name, each with its number of sessions.
    /// A folder that cannot be listed, or whose name no workspace can have, is passed over.
    pub fn workspaces(&self) -> Vec<(String, usize)> {
        let Ok(entries) = std::fs::read_dir(self.root.join(layout::WORKSPACES)) else {
            return Vec::new();
        };
        let mut found: Vec<(String, usize)> = entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                if !layout::is_valid_workspace_name(&name) {
                    return None;
                }
                let sessions = Store::new(entry.path()).session_ids().ok()?.len();
                (sessions > 0).then_some((name, sessions))
            })
            .collect();
        found.sort();
        found
    }

    /// Whether `id` names a session folder of the store, looked at without listing the
    /// store's folder (which may be closed to listing and open to entering: mode 711).
    pub(crate) fn is_session(&self, id: &str) -> bool {
        layout::is_valid_session_id(id) && holds_session(&self.session_dir(id))
    }

    /// Of the folder names `refused` (names in the store that are no usable session id), those
    /// that hold a session's files, each as an error saying why it is not read. Hidden names are
    /// the store's own (`.writing-…`) and are passed over.
    /// A name that is not UTF-8 text is no session id either (it was passed over without a
    /// word).
    pub(crate) fn unusable_folders(&self, refused: &[std::ffi::OsString]) -> Vec<StoreError> {
        refused
            .iter()
            .filter(|name| !name.as_encoded_bytes().starts_with(b"."))
            .filter_map(|name| {
                let path = self.root.join(name);
                let holds = |file| path.join(file).is_file();
                if !(holds(layout::META) || holds(layout::EVENTS)) {
                    return None;
                }
                let why = match name.to_str() {
                    Some(name) => layout::why_unusable(name)?,
                    None => "its name is not UTF-8 text".to_owned(),
                };
                Some(StoreError::UnusableFolder { path, why })
            })
            .collect()
    }

    /// Every session with its metadata, newest first. Sessions whose metadata cannot be read are
    /// returned in `unreadable` rather than failing the listing, and so are folders holding a
    /// session's files under a name no session id can have.
    pub fn list(&self) -> Result<(Vec<SessionSummary>, Vec<StoreError>)> {
        let mut sessions = Vec::new();
        let refused: Vec<std::ffi::OsString> = std::fs::read_dir(&self.root)
            .map_err(|e| StoreError::io(&self.root, e))?
            .flatten()
            .map(|entry| entry.file_name())
            .filter(|name| !name.to_str().is_some_and(layout::is_valid_session_id))
            .collect();
        let mut unreadable = self.unusable_folders(&refused);
        for id in self.session_ids()? {
            match self.summary(&id) {
                Ok(summary) => sessions.push(summary),
                Err(err) => unreadable.push(err),
            }
        }
        // A start no session can have orders the session by its events instead.
        let mut keyed: Vec<(f64, SessionSummary)> = sessions
            .into_iter()
            .map(|s| (self.start_to_order_by(&s.meta), s))
            .collect();
        keyed.sort_by(|(a_start, a), (b_start, b)| {
            b_start
                .total_cmp(a_start)
                .then_with(|| b.meta.session_id.cmp(&a.meta.session_id))
        });
        let sessions = keyed.into_iter().map(|(_, s)| s).collect();
        Ok((sessions, unreadable))
    }
}
