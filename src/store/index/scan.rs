//! Looking at every session folder's files on every read, with every core: the files of the
//! sessions the index knows shared out in batches among whichever threads are free, the
//! store's folder listed meanwhile for sessions it does not know yet, while the caller reads
//! the index.

use std::collections::HashSet;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{Mode, OFlags};

use super::stale::{FileState, Known, KnownSessions, OnDisk, Watch, is_stale_now, watched};
use crate::store::files::links_within;
use crate::store::layout::EVENTS;
use crate::store::{Store, StoreError};
use crate::threads::spawn_scoped;

/// The session folders whose files are not as indexed (new, changed or gone), in the order of
/// their names, with the names in the store's folder that are no usable session id; or why the
/// store's folder could not be looked at.
pub(super) type Scanned = Result<(Vec<OnDisk>, Vec<OsString>), StoreError>;

/// The session folders whose files are not as the index has them ([`OnDisk`], each with the
/// state of its events file and of its meta where that matters), beside what the index knows
/// and what `then` read from the index meanwhile.
///
/// Looking at ten thousand files is most of what a warm read costs. Once the index says which
/// sessions it knows (`known`), their files are looked at a batch at a time ([`Indexed`]) by
/// this thread, after `then`, and by helpers. The store's folder is listed on a thread of its
/// own from the start: that thread then looks for names the index does not know (new
/// sessions) and helps with the rest. An indexed session whose folder is gone is found by its
/// files missing.
pub(super) fn look_while_reading<T, E>(
    store: &Store,
    known: impl FnOnce() -> Result<KnownSessions, E>,
    then: impl FnOnce(&KnownSessions) -> T,
) -> Result<(KnownSessions, Scanned, T), E> {
    let root = store.root();
    // One clock for every session, against which each indexed fold's end is checked.
    let now = crate::store::system_time();
    let dir = match open_folder(root) {
        Ok(dir) => dir,
        Err(e) => {
            let known = known()?;
            let read = then(&known);
            return Ok((known, Err(e), read));
        }
    };
    std::thread::scope(|outer| {
        let lister = spawn_scoped(outer, || folder_names(root));
        // On an error, the scope waits for the lister before returning it.
        let known = known()?;
        let indexed = Indexed::new(&known, now);
        let (read, new, changed) = std::thread::scope(|inner| {
            let helpers: Vec<_> = (1..helpers())
                .map(|_| spawn_scoped(inner, || indexed.help(&own_folder(root, &dir))))
                .collect();
            let finder = spawn_scoped(inner, || {
                let dir = own_folder(root, &dir);
                let new = join(lister.join()).map(|names| {
                    let new = new_sessions(&dir, &known, names.ids, &names.linked);
                    (new, names.refused)
                });
                (new, indexed.help(&dir))
            });
            let read = then(&known);
            let mut changed = indexed.help(&own_folder(root, &dir));
            for helper in helpers {
                changed.extend(join(helper.join()));
            }
            let (new, found) = join(finder.join());
            changed.extend(found);
            (read, new, changed)
        });
        let changed = new.map(|(new, refused)| {
            let mut changed: Vec<OnDisk> = changed.into_iter().chain(new).collect();
            changed.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            // A linked session the index knows may be found stale by its files too.
            changed.dedup_by(|a, b| a.id == b.id);
            (changed, refused)
        });
        Ok((known, changed, read))
    })
}

/// How many threads look at the indexed sessions' files besides the one that lists the
/// store's folder: one per core, at most four (ten thousand sessions take a few milliseconds
/// of each).
fn helpers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
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

/// The store's folder opened again for one thread, or the shared descriptor if it cannot be.
/// Each thread looks relative to a descriptor of its own: every look takes a reference on the
/// descriptor's open file, and threads sharing one would pass its count from core to core ten
/// thousand times.
fn own_folder<'a>(root: &Path, shared: &'a OwnedFd) -> Folder<'a> {
    open_folder(root).map_or(Folder::Shared(shared), Folder::Own)
}

/// A thread's descriptor of the store's folder (see [`own_folder`]).
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

/// The names in the store's folder that can be sessions, and apart those that cannot (the
/// store's own hidden files among them, and names that are not UTF-8 text; a listing says why
/// it skips any that holds a session), in no order.
///
/// Names that are links to another session folder of the store are also given apart (they are
/// among the first too): the index must drop what it knew of them, which their files, the
/// linked session's, unchanged, would not tell it.
fn folder_names(root: &Path) -> Result<Names, StoreError> {
    let entries = std::fs::read_dir(root).map_err(|e| StoreError::io(root, e))?;
    let mut ids = Vec::new();
    let mut refused = Vec::new();
    let mut linked = Vec::new();
    for entry in entries.flatten() {
        match entry.file_name().into_string() {
            Ok(id) if crate::store::is_valid_session_id(&id) => {
                if entry.file_type().is_ok_and(|t| t.is_symlink()) && links_within(root, &id) {
                    linked.push(id.clone());
                }
                ids.push(id);
            }
            Ok(name) => refused.push(name.into()),
            Err(name) => refused.push(name),
        }
    }
    Ok(Names {
        ids,
        refused,
        linked,
    })
}

/// The names in the store's folder ([`folder_names`]).
struct Names {
    ids: Vec<String>,
    refused: Vec<OsString>,
    linked: Vec<String>,
}

/// The listed folders the index does not know, each as found, and those it knows that are
/// links to another session folder of the store (`linked`), to be refreshed, which refuses them
/// (they were listed and counted twice). Ten thousand names are found in the index by hash: a
/// binary search's compares each reach into another of its ids. The hash is foldhash's
/// (adr/0002): std's SipHash took twice as long on these short keys.
fn new_sessions(
    dir: &OwnedFd,
    known: &KnownSessions,
    names: Vec<String>,
    linked: &[String],
) -> Vec<OnDisk> {
    let mut ids =
        HashSet::with_capacity_and_hasher(known.len(), foldhash::fast::RandomState::default());
    ids.extend(known.rows().iter().map(|k| known.id(k)));
    let mut path = String::new();
    let known_links: Vec<OnDisk> = linked
        .iter()
        .filter(|id| ids.contains(id.as_str()))
        .map(|id| OnDisk {
            id: id.clone(),
            events: FileState::at(dir, &mut path, id, EVENTS),
            watched: None,
            stale: true,
        })
        .collect();
    names
        .into_iter()
        .filter(|id| !ids.contains(id.as_str()))
        .filter_map(|id| look(dir, &mut path, &id, None, 0.0).map(|found| found.named(id)))
        .chain(known_links)
        .collect()
}

/// Indexed sessions looked at a batch at a time, so that a thread that finishes its own work
/// early takes more of them.
const BATCH: usize = 64;

/// The sessions the index knows, how many of them threads have taken to look at, and the
/// clock they are looked at by.
struct Indexed<'k> {
    known: &'k KnownSessions,
    next: AtomicUsize,
    now: f64,
}

impl<'k> Indexed<'k> {
    fn new(known: &'k KnownSessions, now: f64) -> Self {
        Indexed {
            known,
            next: AtomicUsize::new(0),
            now,
        }
    }

    /// Looks at indexed sessions' files, a batch at a time, until every one is taken, relative
    /// to `dir`, this thread's descriptor; the ones not as indexed.
    fn help(&self, dir: &OwnedFd) -> Vec<OnDisk> {
        let all = self.known.rows();
        let mut path = String::new();
        let mut changed = Vec::new();
        loop {
            let start = self.next.fetch_add(BATCH, Ordering::Relaxed);
            let Some(batch) = all.get(start..all.len().min(start + BATCH)) else {
                return changed;
            };
            if batch.is_empty() {
                return changed;
            }
            changed.extend(batch.iter().filter_map(|k| {
                let id = self.known.id(k);
                look(dir, &mut path, id, Some(k), self.now).map(|found| found.named(id.to_owned()))
            }));
        }
    }
}

/// A session's files as found, before it is named.
struct Found {
    events: Option<FileState>,
    watched: Option<(Watch, Option<FileState>)>,
}

impl Found {
    fn named(self, id: String) -> OnDisk {
        OnDisk {
            id,
            events: self.events,
            watched: self.watched,
            stale: true,
        }
    }
}

/// One session's files — its events file, and what else the index watches for it (see
/// [`watched`]) — if the index does not have them as they are, or its fold no longer holds
/// at `now` (see [`is_stale_now`]).
fn look(
    dir: &OwnedFd,
    path: &mut String,
    id: &str,
    known: Option<&Known>,
    now: f64,
) -> Option<Found> {
    let events = FileState::at(dir, path, id, EVENTS);
    let watched = watched(events, known).map(|w| (w, w.state_at(dir, path, id)));
    is_stale_now(events, watched, known, now).then_some(Found { events, watched })
}
