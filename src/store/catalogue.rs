//! The catalogue: one small file in the user-level home listing every store on the machine,
//! so that commands can read all of them (`--all-projects`).
//!
//! # Format
//! One absolute path of a store folder a line (bytes, as the file system spells it), in the
//! order the stores were made. A path holding a newline cannot be written on a line and is not
//! catalogued.
//!
//! # Writers and readers
//! A store is catalogued once, when it is made (by a hook, an import or a proxy: every writer
//! makes the store's folder through one function), so a hook pays for it only on the first
//! event a project ever records; commands that read a store catalogue it too when it is not
//! listed (a store made by an older version). Entries whose folder is gone are dropped when
//! the catalogue is read. The file is its own lock: writers take it exclusively (a hook waits
//! at most [`HOOK_LOCK_WAIT`]), read it, and rewrite it in place. A rewrite only ever shortens
//! or appends to what it read, so a crash between its write and its truncation leaves at worst
//! a piece of an old line: a path that does not exist, dropped by the next read.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::Folder;
use super::lock::{HOOK_LOCK_WAIT, lock_exclusive};
use super::{Result, StoreError};

/// The catalogue's file name in the user-level home.
pub const CATALOGUE: &str = "stores";

/// How long a command (not a hook) waits for another process writing the catalogue.
const COMMAND_WAIT: Duration = Duration::from_secs(2);

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

    /// Adds the store at `root` unless it is listed already. `hook` bounds the wait for the lock
    /// as a hook's waits are bounded; a catalogue that cannot be written is an error the caller
    /// may ignore (the store itself is made either way).
    pub fn register(&self, root: &Path, hook: bool) -> Result<()> {
        let root = std::path::absolute(root).map_err(|e| StoreError::io(root, e))?;
        if root.as_os_str().as_bytes().contains(&b'\n') {
            return Ok(());
        }
        let home = self.home()?;
        let wait = if hook { HOOK_LOCK_WAIT } else { COMMAND_WAIT };
        let lock = lock_exclusive(&home, CATALOGUE, wait)?;
        let text = lock.read().map_err(|e| StoreError::io(&self.path(), e))?;
        if lines(&text).any(|line| line == root.as_os_str().as_bytes()) {
            return Ok(());
        }
        let mut text = text;
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        text.extend_from_slice(root.as_os_str().as_bytes());
        text.push(b'\n');
        lock.replace(&text)
            .map_err(|e| StoreError::io(&self.path(), e))
    }

    /// Every catalogued store that is still a folder, once each (two paths to one folder, say
    /// through a link, count once), in the order they were catalogued. Entries that no longer
    /// exist are dropped from the file.
    pub fn stores(&self) -> Result<Vec<PathBuf>> {
        let home = match Folder::open(&self.dir) {
            Ok(home) => home,
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        if home
            .size_of(CATALOGUE)
            .map_err(|e| StoreError::io(&self.path(), e))?
            .is_none()
        {
            return Ok(Vec::new());
        }
        let lock = lock_exclusive(&home, CATALOGUE, COMMAND_WAIT)?;
        let text = lock.read().map_err(|e| StoreError::io(&self.path(), e))?;
        let mut seen = HashSet::new();
        let mut kept = Vec::new();
        let mut stores = Vec::new();
        for line in lines(&text) {
            let path = PathBuf::from(OsStr::from_bytes(line));
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_dir() || !path.is_absolute() {
                continue;
            }
            if seen.insert((meta.dev(), meta.ino())) {
                kept.extend_from_slice(line);
                kept.push(b'\n');
                stores.push(path);
            }
        }
        if kept != text {
            // Only a cleanup: a catalogue that cannot be rewritten still answered.
            let _ = lock.replace(&kept);
        }
        Ok(stores)
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

/// The non-empty lines of `text`.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|b| *b == b'\n').filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn stores_are_listed_once_and_gone_ones_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home").join("agent-strace");
        let catalogue = Catalogue::new(&home);
        assert!(catalogue.stores().unwrap().is_empty());
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        catalogue.register(&a, true).unwrap();
        catalogue.register(&b, false).unwrap();
        catalogue.register(&a, true).unwrap();
        // The same folder through a link counts once.
        let link = dir.path().join("link-to-a");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        catalogue.register(&link, false).unwrap();
        assert_eq!(catalogue.stores().unwrap(), [a.clone(), b.clone()]);
        std::fs::remove_dir(&b).unwrap();
        assert_eq!(catalogue.stores().unwrap(), std::slice::from_ref(&a));
        let text = std::fs::read_to_string(catalogue.path()).unwrap();
        assert_eq!(text, format!("{}\n", a.display()));
        let mode = std::fs::metadata(&home).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_torn_rewrite_leaves_nothing_but_a_path_that_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::new(dir.path());
        let a = dir.path().join("a");
        std::fs::create_dir(&a).unwrap();
        std::fs::write(catalogue.path(), format!("{}\n/no/such/sto", a.display())).unwrap();
        assert_eq!(catalogue.stores().unwrap(), std::slice::from_ref(&a));
        catalogue.register(&dir.path().join("b"), true).unwrap();
        let text = std::fs::read_to_string(catalogue.path()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }
}
