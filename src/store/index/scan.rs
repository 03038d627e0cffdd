//! Looking at every session folder's files on every read, with every core: the store's folder
//! listed on one thread, and its events files shared out in batches among whichever threads
//! are free, while the caller reads the index.

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{Mode, OFlags};

use super::stale::{FileState, Known, KnownSessions, OnDisk, is_stale_now};
use crate::store::layout::{EVENTS, META};
use crate::store::{Store, StoreError};

/// Every session folder as found, or why the store's folder could not be looked at.
pub(super) type Scanned = Result<Vec<OnDisk>, StoreError>;

/// Every session folder with the state of its events file and of its meta where that matters,
/// and whether the index has them as they are ([`OnDisk`]), beside what the index knows and
/// what `then` read from the index meanwhile.
///
/// Looking at ten thousand files is most of what a warm read costs, and most of it needs
/// nothing from the index, so it starts first: one thread lists the store's folder and looks
/// at events files ([`EventsFiles`]). This one reads what the index knows (`known`), starts a
/// thread that looks at the meta files the index watches and finds each folder's place in the
/// index ([`Watched`]), then calls `then`; each thread, its own work done, helps with the
/// events files. An indexed session whose folder is gone is found by its name missing from
/// the listing; a new one by its name missing from the index.
pub(super) fn look_while_reading<T, E>(
    store: &Store,
    known: impl FnOnce() -> Result<KnownSessions, E>,
    then: impl FnOnce(&KnownSessions) -> T,
) -> Result<(KnownSessions, Scanned, T), E> {
    let root = store.root();
    let dir = match open_folder(root) {
        Ok(dir) => dir,
        Err(e) => {
            let known = known()?;
            let read = then(&known);
            return Ok((known, Err(e), read));
        }
    };
    let files = EventsFiles::new(&dir, root);
    let (known, read, watched, looked) = std::thread::scope(|outer| {
        let lister = outer.spawn(|| {
            files.list(root);
            files.help()
        });
        // On an error, the scope waits for the lister, which then looks at every file alone:
        // slower, but nothing is left running.
        let known = known()?;
        let (read, watched, theirs, mine) = std::thread::scope(|inner| {
            let watcher = inner.spawn(|| {
                let dir = files.own_folder();
                let watched = Watched::look(&dir, &known, &files);
                (watched, files.help_from(&dir))
            });
            let read = then(&known);
            let mine = files.help();
            let (watched, theirs) = join(watcher.join());
            (read, watched, theirs, mine)
        });
        let listed = join(lister.join());
        Ok((known, read, watched, [listed, theirs, mine]))
    })?;
    let on_disk = files
        .into_found(looked)
        .map(|events| combine(&dir, &known, events, &watched));
    Ok((known, on_disk, read))
}

/// A thread's result, its panic carried on to this thread.
fn join<T>(result: std::thread::Result<T>) -> T {
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The store's folder, opened for looking at its sessions' files relative to it.
fn open_folder(root: &Path) -> Result<OwnedFd, StoreError> {
    rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| StoreError::io(root, e.into()))
}

/// The names in the store's folder that can be sessions, in no order.
fn folder_names(root: &Path) -> Result<Vec<String>, StoreError> {
    let entries = std::fs::read_dir(root).map_err(|e| StoreError::io(root, e))?;
    Ok(entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|id| !id.starts_with('.') && crate::store::is_valid_session_id(id))
        .collect())
}

/// Events files looked at a batch at a time, so that a thread that finishes its own work early
/// takes more of them.
const BATCH: usize = 64;

/// The store's folder names, and how many of their events files threads have taken to look at.
struct EventsFiles<'a> {
    dir: &'a OwnedFd,
    root: &'a Path,
    names: OnceLock<Result<Vec<String>, StoreError>>,
    next: AtomicUsize,
}

/// A thread's descriptor of the store's folder (see [`EventsFiles::own_folder`]).
enum Folder<'a> {
    Own(OwnedFd),
    Shared(&'a OwnedFd),
}

impl std::ops::Deref for Folder<'_> {
    type Target = OwnedFd;

    fn deref(&self) -> &OwnedFd {
        match self {
            Folder::Own(fd) => fd,
            Folder::Shared(fd) => fd,
        }
    }
}

/// Events files looked at by one thread: each one's place among the names, and its state.
type Looked = Vec<(usize, Option<FileState>)>;

impl<'a> EventsFiles<'a> {
    fn new(dir: &'a OwnedFd, root: &'a Path) -> Self {
        EventsFiles {
            dir,
            root,
            names: OnceLock::new(),
            next: AtomicUsize::new(0),
        }
    }

    /// Lists the store's folder: the names the other threads wait for.
    fn list(&self, root: &Path) {
        /// Leaves the names set however listing ends, a panic included, so that no thread
        /// waits for them for ever.
        struct Unblock<'b>(&'b OnceLock<Result<Vec<String>, StoreError>>, &'b Path);
        impl Drop for Unblock<'_> {
            fn drop(&mut self) {
                let _ = self
                    .0
                    .set(Err(StoreError::io(self.1, io::Error::other("not listed"))));
            }
        }
        let _unblock = Unblock(&self.names, root);
        let _ = self.names.set(folder_names(root));
    }

    /// The names, once listed.
    fn names(&self) -> &[String] {
        self.names.wait().as_deref().unwrap_or_default()
    }

    /// The store's folder opened again for one thread, or the shared descriptor if it cannot
    /// be. Each thread looks relative to a descriptor of its own: every look takes a reference
    /// on the descriptor's open file, and threads sharing one would pass its count from core
    /// to core ten thousand times.
    fn own_folder(&self) -> Folder<'a> {
        open_folder(self.root).map_or(Folder::Shared(self.dir), Folder::Own)
    }

    /// Looks at events files, a batch at a time, until every one is taken, relative to a
    /// descriptor of this thread's own.
    fn help(&self) -> Looked {
        self.help_from(&self.own_folder())
    }

    /// [`EventsFiles::help`], relative to `dir`, this thread's descriptor.
    fn help_from(&self, dir: &OwnedFd) -> Looked {
        let names = self.names();
        let mut path = String::new();
        let mut looked = Vec::new();
        loop {
            let start = self.next.fetch_add(BATCH, Ordering::Relaxed);
            let Some(batch) = names.get(start..names.len().min(start + BATCH)) else {
                return looked;
            };
            if batch.is_empty() {
                return looked;
            }
            for (i, id) in (start..).zip(batch) {
                looked.push((i, FileState::at(dir, &mut path, id, EVENTS)));
            }
        }
    }

    /// Each name with the state of its events file, from what every thread looked at.
    fn into_found(
        self,
        looked: impl IntoIterator<Item = Looked>,
    ) -> Result<Vec<(String, Option<FileState>)>, StoreError> {
        let names = self.names.into_inner().unwrap_or_else(|| Ok(Vec::new()))?;
        let mut states = vec![None; names.len()];
        for (i, state) in looked.into_iter().flatten() {
            if let Some(slot) = states.get_mut(i) {
                *slot = state;
            }
        }
        Ok(names.into_iter().zip(states).collect())
    }
}

/// What the index knows, set beside the folders on a thread of its own while the index is
/// read: the state of the meta file of every indexed session whose meta can change alone (see
/// [`Known::watch_meta`]), by position in the index (`None` for the others), and each listed
/// folder's position in the index, by its place among the names.
struct Watched {
    #[expect(clippy::option_option, reason = "not looked at, absent, or its state")]
    metas: Vec<Option<Option<FileState>>>,
    positions: Vec<Option<usize>>,
}

impl Watched {
    fn look(dir: &OwnedFd, known: &KnownSessions, files: &EventsFiles<'_>) -> Self {
        let mut path = String::new();
        let metas = known
            .0
            .iter()
            .map(|k| {
                k.watch_meta
                    .then(|| FileState::at(dir, &mut path, &k.id, META))
            })
            .collect();
        // Ten thousand lookups: hashing an id costs less than a binary search's compares.
        let by_id: HashMap<&str, usize> = known
            .0
            .iter()
            .enumerate()
            .map(|(i, k)| (k.id.as_str(), i))
            .collect();
        let positions = files
            .names()
            .iter()
            .map(|id| by_id.get(id.as_str()).copied())
            .collect();
        Watched { metas, positions }
    }
}

/// The folders as found (`events`: each name with its events file) beside what the index
/// knows: every folder, and every indexed session whose folder is gone, each with whether it
/// is stale. A meta file not looked at yet is looked at here when it matters (a folder without
/// an events file).
fn combine(
    dir: &OwnedFd,
    known: &KnownSessions,
    events: Vec<(String, Option<FileState>)>,
    watched: &Watched,
) -> Vec<OnDisk> {
    let mut path = String::new();
    let mut listed = vec![false; known.0.len()];
    let mut on_disk = Vec::with_capacity(events.len());
    for ((id, events), position) in events.into_iter().zip(&watched.positions) {
        let k = position.and_then(|i| {
            *listed.get_mut(i)? = true;
            known.0.get(i)
        });
        let meta = match (k, position) {
            (Some(k), Some(i)) if k.watch_meta => watched.metas.get(*i).copied().flatten(),
            _ => None,
        };
        on_disk.push(disk(dir, &mut path, id, events, meta, k));
    }
    for (k, _) in known.0.iter().zip(listed).filter(|(_, listed)| !listed) {
        on_disk.push(disk(dir, &mut path, k.id.clone(), None, None, Some(k)));
    }
    on_disk
}

/// One session's files as found, its meta looked at now if it matters and was not, and
/// whether the index has them so.
#[expect(clippy::option_option, reason = "not looked at, absent, or its state")]
fn disk(
    dir: &OwnedFd,
    path: &mut String,
    id: String,
    events: Option<FileState>,
    meta: Option<Option<FileState>>,
    known: Option<&Known>,
) -> OnDisk {
    let mut disk = OnDisk {
        events,
        meta,
        id,
        stale: false,
    };
    let watch_meta = match known {
        None => disk.events.is_none(),
        Some(k) => k.watch_meta || disk.events.is_none(),
    };
    if watch_meta && disk.meta.is_none() {
        disk.meta = Some(FileState::at(dir, path, &disk.id, META));
    }
    disk.stale = is_stale_now(&disk, known);
    disk
}
