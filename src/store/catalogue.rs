//! The catalogue: one small file in the user-level home listing every store on the machine,
//! so that commands can read all of them (`--all-projects`).
//!
//! # Format
//! One absolute path of a store folder a line (bytes, as the file system spells it), in the
//! order the stores were made. A path holding a newline cannot be written on a line and is not
//! catalogued.
//!
//! # Writers and readers
//! A store is catalogued when it is made and whenever a session's folder is made in it (by a
//! hook, an import or a proxy: every writer makes these folders through one function), so a
//! store that was moved, or whose registration lost the race for the lock to other hooks, is
//! catalogued at its next session; a hook pays for it once a session, a read of this file.
//! Commands that read a store catalogue it too when it is not listed (a store made by an older
//! version). Entries whose folder is gone are dropped when
//! the catalogue is read.
//!
//! # What is a store
//! `--all-projects` reads (and indexes, writing `.index.sqlite` into) every store listed, so a
//! folder is listed, and read from the list, only when it is one ([`is_store_folder`]): named
//! `.agent-traces`, or holding the store's index, the `.gitignore` a store writes when it is
//! made, or a session folder with a `meta.json`; and never `/` or a folder under `/proc`,
//! `/sys` or `/dev`. A line naming any other folder (`--trace-dir /` was catalogued before this
//! rule) is dropped when the catalogue is read, and the caller is told which.
//!
//! # Locking
//! The file is its own lock: writers take it exclusively (a hook waits at most
//! [`HOOK_LOCK_WAIT`]). It is read whole, line by line (a catalogue of many thousand stores is
//! larger than any lock file, and memory stays flat): a writer adding a store appends its line
//! and never rewrites the file, and only a reader that has read every line rewrites it, in
//! place, without the lines it drops. That rewrite only ever shortens what it read, so a crash
//! between its write and its truncation leaves at worst lines read twice (counted once) and a
//! piece of an old line: a path that does not exist, dropped by the next read. Whether a store
//! is listed already is first looked up without the lock, since writers only append whole
//! lines: a hook pays for the lock only when its store is missing.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::Folder;
use super::layout::{GITIGNORE, GITIGNORE_TEXT, META, STORE_DIR};
use super::lock::{HOOK_LOCK_WAIT, lock_exclusive};
use super::{Result, StoreError};

/// The catalogue's file name in the user-level home.
pub const CATALOGUE: &str = "stores";

/// How long a command (not a hook) waits for another process writing the catalogue.
const COMMAND_WAIT: Duration = Duration::from_secs(2);

/// How many entries of a folder [`is_store_folder`] looks through for a session folder: a store
/// holds little else, and a large folder that is none is not read whole.
const SESSION_LOOKS: usize = 1_000;

/// The catalogued stores that are still there, and the lines dropped as naming no store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Catalogued {
    /// The stores, once each, in the order they were catalogued.
    pub stores: Vec<PathBuf>,
    /// Folders the catalogue named that are not stores ([`is_store_folder`]), now dropped.
    pub not_stores: Vec<PathBuf>,
}

/// The catalogue of stores, in the user-level home `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    dir: PathBuf,
}

impl Catalogue {
    /// The catalogue kept in `home` (made when first written).
    pub fn new(home: impl Into<PathBuf>) -> Catalogue {
        Catalogue { dir: home.into() }
    }

    /// The catalogue file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(CATALOGUE)
    }

    /// Adds the store at `root` unless it is listed already, or is no store
    /// ([`is_store_folder`]: `--trace-dir /` names none). `hook` bounds the wait for the lock
    /// as a hook's waits are bounded; a catalogue that cannot be written is an error the caller
    /// may ignore (the store itself is made either way).
    pub fn register(&self, root: &Path, hook: bool) -> Result<()> {
        let root = std::path::absolute(root).map_err(|e| StoreError::io(root, e))?;
        let line = root.as_os_str().as_bytes();
        if line.contains(&b'\n') {
            return Ok(());
        }
        // Looked up first without the lock (see the module's text): most calls find it listed.
        if let Ok(home) = Folder::open(&self.dir)
            && let Ok(Some(file)) = home.read(CATALOGUE)
            && lists(&file, line).unwrap_or(false)
        {
            return Ok(());
        }
        let home = self.home()?;
        let wait = if hook { HOOK_LOCK_WAIT } else { COMMAND_WAIT };
        let lock = lock_exclusive(&home, CATALOGUE, wait)?;
        let file = lock.file();
        let io = |e| StoreError::io(&self.path(), e);
        // Looked at only for a store not listed yet, so that a read of a listed store costs no
        // more than the catalogue's read.
        if lists(file, line).map_err(io)? || !is_store_folder(&root) {
            return Ok(());
        }
        // Appended, never rewritten: the writer holds the lock, so the end is where it is now.
        let end = file.metadata().map_err(io)?.len();
        let mut last = [b'\n'];
        if end > 0 {
            file.read_exact_at(&mut last, end - 1).map_err(io)?;
        }
        let mut text = Vec::with_capacity(line.len() + 2);
        if last != [b'\n'] {
            text.push(b'\n');
        }
        text.extend_from_slice(line);
        text.push(b'\n');
        file.write_all_at(&text, end).map_err(io)
    }

    /// Every catalogued store that is still a store ([`is_store_folder`]), once each (two paths
    /// to one folder, say through a link, count once), in the order they were catalogued.
    /// Entries that no longer exist, or name a folder that is no store, are dropped from the
    /// file; the latter are returned for the caller to tell.
    pub fn stores(&self) -> Result<Catalogued> {
        let home = match Folder::open(&self.dir) {
            Ok(home) => home,
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Catalogued::default());
            }
            Err(e) => return Err(e),
        };
        if home
            .size_of(CATALOGUE)
            .map_err(|e| StoreError::io(&self.path(), e))?
            .is_none()
        {
            return Ok(Catalogued::default());
        }
        let lock = lock_exclusive(&home, CATALOGUE, COMMAND_WAIT)?;
        let mut seen = HashSet::new();
        let mut kept = Vec::new();
        let mut found = Catalogued::default();
        // The file is rewritten only when a line was dropped, and only once it was read whole.
        let mut dropped = false;
        let read = each_line(lock.file(), |line| {
            let Some(line) = line else {
                dropped = true;
                return;
            };
            let path = PathBuf::from(OsStr::from_bytes(line));
            let keep = path.is_absolute()
                && std::fs::metadata(&path)
                    .is_ok_and(|meta| meta.is_dir() && seen.insert((meta.dev(), meta.ino())));
            if keep && is_store_folder(&path) {
                kept.extend_from_slice(line);
                kept.push(b'\n');
                found.stores.push(path);
                return;
            }
            if keep {
                found.not_stores.push(path);
            }
            dropped = true;
        })
        .map_err(|e| StoreError::io(&self.path(), e))?;
        if dropped || read != kept.len() as u64 {
            // Only a cleanup: a catalogue that cannot be rewritten still answered.
            let _ = lock.replace(&kept);
        }
        Ok(found)
    }

    /// Makes the home folder when it is missing, so that a store can be made in it (a store
    /// makes only its own folder).
    pub fn make_home(&self) -> Result<()> {
        self.home().map(drop)
    }

    /// The home folder, made (readable by the user alone: traces hold prompts) when missing.
    fn home(&self) -> Result<Folder> {
        match Folder::open(&self.dir) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&self.dir)
                    .map_err(|e| StoreError::io(&self.dir, e))?;
                Folder::open(&self.dir)
            }
            other => other,
        }
    }
}

/// Whether the folder at `path` is a store, as the catalogue takes one: never `/` or a folder
/// under `/proc`, `/sys` or `/dev` but `/dev/shm` (a link is where it leads: `/proc/self`), and
/// otherwise one named `.agent-traces`, or holding the `.gitignore` a store writes when it
/// makes its folder, or a session folder with a `meta.json` (among its first [`SESSION_LOOKS`]
/// entries). A folder that is none is not indexed by `--all-projects`, which writes the index
/// into every store it reads.
pub fn is_store_folder(path: &Path) -> bool {
    let Ok(real) = std::fs::canonicalize(path) else {
        return false;
    };
    let mut parts = real
        .components()
        .skip(1)
        .map(std::path::Component::as_os_str);
    match (parts.next(), parts.next()) {
        (None, _) => return false,
        (Some(top), _) if top == "proc" || top == "sys" => return false,
        // `/dev/shm` is a folder like any (a tmpfs); the rest of `/dev` is devices.
        (Some(top), next) if top == "dev" && next != Some(OsStr::new("shm")) => return false,
        _ => {}
    }
    // The index is not proof: reading a folder (`--trace-dir DIR`) writes one into it.
    if real.file_name() == Some(OsStr::new(STORE_DIR)) || made_by_a_store(&real.join(GITIGNORE)) {
        return true;
    }
    holds_a_session(&real)
}

/// Whether `folder` holds a session folder with a `meta.json` among its first
/// [`SESSION_LOOKS`] entries.
pub(super) fn holds_a_session(folder: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return false;
    };
    entries.take(SESSION_LOOKS).flatten().any(|entry| {
        entry.file_type().is_ok_and(|t| t.is_dir()) && entry.path().join(META).is_file()
    })
}

/// Whether the file at `path` is the `.gitignore` a store writes when it makes its folder.
pub(super) fn made_by_a_store(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(GITIGNORE_TEXT.len());
    file.take(GITIGNORE_TEXT.len() as u64)
        .read_to_end(&mut head)
        .is_ok_and(|_| head == GITIGNORE_TEXT)
}

/// The longest line read as a path: longer than any path Linux opens (`PATH_MAX`).
const LONGEST_LINE: usize = 4096;

/// Calls `each` with every non-empty line of `file`, read from its start to its end in a
/// stream, without its newline; `None` for a line longer than [`LONGEST_LINE`], which names
/// no folder. Returns how many bytes were read.
fn each_line(file: &File, mut each: impl FnMut(Option<&[u8]>)) -> std::io::Result<u64> {
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    let mut read = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(LONGEST_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(read);
        }
        read += n as u64;
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if n > LONGEST_LINE {
            read += reader.skip_until(b'\n')? as u64;
            each(None);
            continue;
        }
        if !line.is_empty() {
            each(Some(&line));
        }
    }
}

/// Whether `file` holds the line `wanted`.
fn lists(file: &File, wanted: &[u8]) -> std::io::Result<bool> {
    let mut found = false;
    each_line(file, |line| found |= line == Some(wanted))?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::layout::INDEX;

    #[test]
    fn stores_are_listed_once_and_gone_ones_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home").join("agent-strace");
        let catalogue = Catalogue::new(&home);
        assert_eq!(catalogue.stores().unwrap(), Catalogued::default());
        let (a, b) = (dir.path().join("a"), dir.path().join(STORE_DIR));
        std::fs::create_dir(&a).unwrap();
        std::fs::write(a.join(GITIGNORE), GITIGNORE_TEXT).unwrap();
        std::fs::create_dir(&b).unwrap();
        catalogue.register(&a, true).unwrap();
        catalogue.register(&b, false).unwrap();
        catalogue.register(&a, true).unwrap();
        // The same folder through a link counts once.
        let link = dir.path().join("link-to-a");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        catalogue.register(&link, false).unwrap();
        assert_eq!(catalogue.stores().unwrap().stores, [a.clone(), b.clone()]);
        std::fs::remove_dir(&b).unwrap();
        assert_eq!(catalogue.stores().unwrap().stores, std::slice::from_ref(&a));
        let text = std::fs::read_to_string(catalogue.path()).unwrap();
        assert_eq!(text, format!("{}\n", a.display()));
        let mode = std::fs::metadata(&home).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_torn_rewrite_leaves_nothing_but_a_path_that_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::new(dir.path());
        let a = dir.path().join(STORE_DIR);
        std::fs::create_dir(&a).unwrap();
        std::fs::write(catalogue.path(), format!("{}\n/no/such/sto", a.display())).unwrap();
        assert_eq!(catalogue.stores().unwrap().stores, std::slice::from_ref(&a));
        let b = dir.path().join("b");
        std::fs::create_dir(&b).unwrap();
        std::fs::write(b.join(GITIGNORE), GITIGNORE_TEXT).unwrap();
        catalogue.register(&b, true).unwrap();
        let text = std::fs::read_to_string(catalogue.path()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn a_folder_is_a_store_by_its_name_its_gitignore_or_a_session() {
        let dir = tempfile::tempdir().unwrap();
        let folder = |name: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(&path).unwrap();
            path
        };
        assert!(is_store_folder(&folder(STORE_DIR)));
        // An index alone is no proof: reading any folder with --trace-dir writes one.
        let indexed = folder("indexed");
        std::fs::write(indexed.join(INDEX), b"").unwrap();
        let made = folder("made");
        std::fs::write(made.join(GITIGNORE), GITIGNORE_TEXT).unwrap();
        assert!(is_store_folder(&made));
        let sessions = folder("sessions/s1");
        std::fs::write(sessions.join(META), b"{}").unwrap();
        assert!(is_store_folder(&dir.path().join("sessions")));

        let plain = folder("plain/s1");
        std::fs::write(plain.join("notes.txt"), b"x").unwrap();
        let project = folder("project");
        std::fs::write(project.join(GITIGNORE), b"target/\n").unwrap();
        // A tmpfs under /dev is a folder like any.
        if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
            let store = shm.path().join(STORE_DIR);
            std::fs::create_dir(&store).unwrap();
            assert!(is_store_folder(&store));
        }
        for none in [
            indexed,
            dir.path().join("plain"),
            project,
            dir.path().join("missing"),
            PathBuf::from("/"),
            PathBuf::from("/proc/self"),
            PathBuf::from("/dev"),
        ] {
            assert!(!is_store_folder(&none), "{}", none.display());
        }
    }
}
