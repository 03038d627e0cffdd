//! What retention needs of the store: a session's size on disk, that of the store's own files
//! beside its sessions, when a session was last written, deleting it whole (and finishing the
//! deletions a killed run left), and `retention.log`, where each deletion is logged (id and
//! time, never content) as the Python tool logs it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::files::Folder;
use super::layout::{self, EVENTS};
use super::lock::lock_folder;
use super::{Result, Store, StoreError};

/// The deletion log's name in the store, as the Python tool names it.
pub const RETENTION_LOG: &str = "retention.log";

/// What a session's folder is renamed to while it is deleted, before its id.
const DELETING: &str = ".deleting-";

/// How long a deletion waits for another one of the same session to let go of its folder.
const DELETING_WAIT: Duration = Duration::from_millis(50);

impl Store {
    /// The bytes a session's folder holds: its regular files and those of its subfolders;
    /// links inside it are counted as links, never followed. A session folder that is the
    /// user's own link (a session kept on another disk, which the store reads through) holds
    /// what its folder there holds.
    pub fn session_bytes(&self, session_id: &str) -> Result<u64> {
        let _ = self.session_folder(session_id)?;
        Ok(tree_bytes(&self.session_dir(session_id), 3))
    }

    /// The bytes of the store's own files beside its session folders, which no session's size
    /// counts: the index (with its `-wal` and `-shm`), the logs, the dashboard's notes, kept
    /// hook calls (`.spool`), a folder a write cut short left; links are counted as links, never
    /// followed. A folder [`Store::session_ids`] takes for a session's is left to
    /// [`Store::session_bytes`], whether or not its session can be read, a deletion cut short
    /// to [`Store::cut_short`], and the workspaces' stores to [`Store::workspaces_bytes`]: they
    /// are stores of their own.
    pub fn bytes_beside_sessions(&self) -> Result<u64> {
        let entries = std::fs::read_dir(self.root()).map_err(|e| StoreError::io(self.root(), e))?;
        let mut bytes = 0;
        for entry in entries.flatten() {
            bytes += match entry.file_type() {
                Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
                Ok(kind) if kind.is_dir() && entry.file_name() == layout::WORKSPACES => 0,
                // Counted apart ([`Store::cut_short`]).
                Ok(kind) if kind.is_dir() && deleting(&entry.file_name()).is_some() => 0,
                Ok(kind) if kind.is_dir() => {
                    let session = entry.file_name().to_str().is_some_and(|name| {
                        !name.starts_with('.')
                            && layout::is_valid_session_id(name)
                            && super::holds_session(&entry.path())
                    });
                    if session {
                        0
                    } else {
                        tree_bytes(&entry.path(), 3)
                    }
                }
                _ => 0,
            };
        }
        Ok(bytes)
    }

    /// The bytes the workspaces' stores in this one hold (`workspaces/`, which the Python tool
    /// makes): stores of their own, whose sessions this store's retention neither counts nor
    /// deletes. A link in the folder's place is not followed.
    pub fn workspaces_bytes(&self) -> u64 {
        let folder = self.root().join(layout::WORKSPACES);
        if std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
            // A workspace, its sessions, their files and their subfolders.
            tree_bytes(&folder, 5)
        } else {
            0
        }
    }

    /// When the session's events were last written (seconds since the epoch), if they were.
    pub fn events_written_at(&self, session_id: &str) -> Option<f64> {
        events_written_at(&self.session_dir(session_id).join(EVENTS))
    }

    /// Deletes a session's folder and everything in it. The folder is first renamed out of
    /// the way in one step, so no reader sees half a session and a hook that writes to it
    /// afterwards starts a new folder instead of writing into one being deleted. A link planted
    /// in its place is removed, never followed.
    ///
    /// `written_at` is when the caller saw the session's events last written
    /// ([`Store::events_written_at`]), when it chose to delete it for being idle: events
    /// written since (a hook of the session resumed between the choice and the rename) are
    /// never deleted with it; the folder is put back and [`Deleted::KeptWritten`] returned.
    /// Every append holds the folder's lock shared, and the deletion holds it exclusive; a hook
    /// that waited for it in vain and wrote anyway, after that look, wrote an event of a session
    /// begun anew, which is written again under the name (see [`super::moved`]).
    pub fn delete_session_unless_written(
        &self,
        session_id: &str,
        written_at: Option<f64>,
    ) -> Result<Deleted> {
        let root = self.root_folder()?;
        let folder = self.session_folder(session_id)?;
        let dir = self.session_dir(session_id);
        // The user's link to a session kept on another disk: moving the link aside and
        // removing it would leave every file there and free nothing, so it is refused whole
        // (nothing marked, nothing logged), for the user to delete where it leads.
        if let Ok(target) = std::fs::read_link(&dir) {
            return Err(StoreError::KeptElsewhere { path: dir, target });
        }
        let busy = || StoreError::LockTimeout(self.session_dir(session_id));
        let _deleting = lock_folder(&folder, DELETING_WAIT).ok_or_else(busy)?;
        if !self
            .session_folder(session_id)
            .is_ok_and(|now| now.is_same(&folder))
        {
            return Err(busy());
        }
        let cut = folder
            .size_of(EVENTS)
            .map_err(|e| StoreError::io(&self.session_dir(session_id).join(EVENTS), e))?
            .unwrap_or(0);
        // A mark that cannot be made (a full disk) leaves the folder as one moved by anyone
        // else: no seal, and a hook that wrote to it without the lock writes again itself.
        let marked = super::moved::mark_cut(&folder, cut).is_ok();
        let aside = match self.move_aside(&root, session_id) {
            Ok(aside) => aside,
            Err(e) => {
                if marked {
                    super::moved::unmark_cut(&folder, cut);
                }
                return Err(e);
            }
        };
        let path = self.root().join(&aside);
        if written_at.is_some() && events_written_at(&path.join(EVENTS)) != written_at {
            // The mark stays: a hook that found the folder aside may look for it still.
            return match root.rename(&aside, session_id) {
                Ok(()) => Ok(Deleted::KeptWritten),
                Err(e) => Err(StoreError::io(&path, e)),
            };
        }
        if marked {
            self.write_late_lines(session_id, &folder, cut)?;
        }
        // std's remove_dir_all removes links as links (it does not follow them).
        std::fs::remove_dir_all(&path).map_err(|e| StoreError::io(&path, e))?;
        Ok(Deleted::Gone)
    }

    /// [`Store::delete_session_unless_written`], whenever the session was written.
    pub fn delete_session(&self, session_id: &str) -> Result<()> {
        self.delete_session_unless_written(session_id, None)
            .map(drop)
    }

    /// Renames a session's folder out of the way for deleting; returns its new name. The
    /// caller holds the folder's lock until it is gone, by which [`Store::finish_cut_short`]
    /// tells a deletion still running from one killed.
    fn move_aside(&self, root: &Folder, session_id: &str) -> Result<String> {
        let aside = format!("{DELETING}{session_id}");
        let renamed = match root.rename(session_id, &aside) {
            // A deletion before this one was cut short (its process killed) and left its folder
            // aside: that folder is removed first (links in it as links), since the rename
            // cannot replace a folder that is not empty, and every deletion of the session
            // failed. Anything else there (a file, a link) no deletion left, nor a folder a
            // deletion still running holds: it stays, and this deletion fails.
            Err(e)
                if e.kind() != std::io::ErrorKind::NotFound
                    && self.remove_left_aside(root, session_id)? =>
            {
                root.rename(session_id, &aside)
            }
            other => other,
        };
        renamed.map_err(|e| StoreError::io(&self.session_dir(session_id), e))?;
        Ok(aside)
    }

    /// The sessions whose deletion was cut short (the process killed between renaming the
    /// folder aside and removing it all), and the bytes their folders still hold: no listing
    /// shows them, and the next [`Store::finish_cut_short`] removes them.
    pub fn cut_short(&self) -> Result<Vec<(String, u64)>> {
        let root = self.root_folder()?;
        Ok(cut_short_ids(&root)?
            .into_iter()
            .map(|id| {
                let bytes = tree_bytes(&root.path().join(format!("{DELETING}{id}")), 3);
                (id, bytes)
            })
            .collect())
    }

    /// Removes the folders of the deletions cut short ([`Store::cut_short`]), as
    /// [`Store::sweep_unfinished`] removes those of imports killed; one a deletion still running
    /// holds (its lock) is left to it. Returns the id of each session whose folder it removed,
    /// or failed to.
    pub fn finish_cut_short(&self) -> Result<Vec<(String, Result<()>)>> {
        let root = self.root_folder()?;
        let mut finished = Vec::new();
        // By their ids alone: their sizes, a walk of every file, are only `status`'s to show.
        for id in cut_short_ids(&root)? {
            match self.remove_left_aside(&root, &id) {
                Ok(false) => {}
                removed => finished.push((id, removed.map(drop))),
            }
        }
        Ok(finished)
    }

    /// Appends one line to the store's `retention.log`.
    pub fn log_retention(&self, line: &str) -> Result<()> {
        let root = self.root_folder()?;
        let mut text = line.replace(['\n', '\r'], " ");
        text.push('\n');
        let mut file = root.append(RETENTION_LOG)?;
        file.write_all(text.as_bytes())
            .map_err(|e| StoreError::io(&self.root().join(RETENTION_LOG), e))
    }
}

/// What a deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Gone,
    /// Written to while it was being deleted: put back whole.
    KeptWritten,
}

/// When the events file at `path` was last written (seconds since the epoch), if it was.
fn events_written_at(path: &Path) -> Option<f64> {
    let modified = std::fs::symlink_metadata(path).ok()?.modified().ok()?;
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// The session id of a folder named as one being deleted is (`.deleting-<id>`).
fn deleting(name: &std::ffi::OsStr) -> Option<&str> {
    name.to_str()?.strip_prefix(DELETING)
}

/// The ids of the sessions whose deletion was cut short: the folders of `root` named as one
/// being deleted (`.deleting-<id>`), links and files so named left out.
fn cut_short_ids(root: &Folder) -> Result<Vec<String>> {
    Ok(root
        .names()?
        .iter()
        .filter_map(|name| {
            // A name no deletion gives (not a session id's) is not one.
            let id = deleting(std::ffi::OsStr::new(name))
                .filter(|id| layout::is_valid_session_id(id))?;
            root.path()
                .join(name)
                .symlink_metadata()
                .is_ok_and(|m| m.is_dir())
                .then(|| id.to_owned())
        })
        .collect())
}

impl Store {
    /// Removes the folder of `root` a deletion of the session `id` cut short left, with what
    /// is in it (links as links), once the deletion's late lines are written again under the
    /// name ([`Store::finish_move`]); `false` when it is no folder (never followed through a
    /// link), or a deletion still running holds its lock ([`Store::move_aside`]).
    fn remove_left_aside(&self, root: &Folder, id: &str) -> Result<bool> {
        let name = format!("{DELETING}{id}");
        let Ok(folder) = root.child(&name) else {
            return Ok(false);
        };
        let Some(_dead) = lock_folder(&folder, Duration::ZERO) else {
            return Ok(false);
        };
        self.finish_move(id, &folder)?;
        let path = root.path().join(&name);
        match std::fs::remove_dir_all(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(&path, e)),
            _ => Ok(true),
        }
    }
}

/// The bytes of the regular files under `dir`, `depth` folders deep at most.
fn tree_bytes(dir: &Path, depth: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            Ok(kind) if kind.is_dir() && depth > 0 => tree_bytes(&entry.path(), depth - 1),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folders a deletion cut short left are found by name, whatever they hold; a file or
    /// a link so named, and a name no session id gives, are none.
    #[test]
    fn the_folders_a_deletion_left_are_listed_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(dir.path().join(".deleting-gone/sub")).unwrap();
        std::fs::write(dir.path().join(".deleting-gone/sub/events.ndjson"), "x\n").unwrap();
        std::fs::create_dir(dir.path().join(".deleting-empty")).unwrap();
        std::fs::create_dir(dir.path().join(".deleting-.hidden")).unwrap();
        std::fs::write(dir.path().join(".deleting-file"), "").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join(".deleting-gone"),
            dir.path().join(".deleting-link"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("kept")).unwrap();
        let root = store.root_folder().unwrap();
        let mut ids = cut_short_ids(&root).unwrap();
        ids.sort();
        assert_eq!(ids, ["empty", "gone"]);
        let mut sized = store.cut_short().unwrap();
        sized.sort();
        assert_eq!(sized, [("empty".to_owned(), 0), ("gone".to_owned(), 2)]);
        let mut finished: Vec<String> = store
            .finish_cut_short()
            .unwrap()
            .into_iter()
            .map(|(id, removed)| removed.map(|()| id).unwrap())
            .collect();
        finished.sort();
        assert_eq!(finished, ["empty", "gone"]);
        assert!(cut_short_ids(&root).unwrap().is_empty());
        assert!(dir.path().join("kept").is_dir());
    }
}
