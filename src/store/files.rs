//! Opening the store's files without trusting them: no symbolic link inside the store is
//! followed, only regular files are read or written, opening never blocks, and no line is read
//! whole past [`LINE_LIMIT`].
//!
//! Anyone who can write into a store (a shared project folder, a cloned repository) can plant
//! a link or a FIFO where a file of ours should be. So:
//! - every file is opened relative to its folder's descriptor with `O_NOFOLLOW` (a link in its
//!   place is refused), `O_NONBLOCK` (a FIFO cannot hold the open) and `O_NOCTTY`, and is used
//!   only when the opened descriptor is a regular file; files we create are created with
//!   `O_EXCL` where no one else may have made them;
//! - a folder (the store, a session, `.pending`) is opened with `O_NOFOLLOW` too; a folder that
//!   is a symbolic link is followed only when the link belongs to the user running us or to
//!   root, as when someone keeps their traces on another disk. A link someone else planted is
//!   refused ([`StoreError::UntrustedLink`]);
//! - nothing above the store's own folder is created: its parent must exist.
//!
//! Files named from outside the store (a transcript an agent names) are opened by
//! [`open_regular`]: links are followed there, but only a regular file is read.

use std::fs::File;
use std::io::{self, BufRead};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{Result, StoreError};

/// The longest line a reader takes whole, newline included: 64 MiB. A line longer than that is
/// skipped (and counted as a bad line) without being held in memory. The largest line our
/// writers make is 1 MiB (`capture::limit`: 256 KiB a field, 1 MiB an event); the limit is
/// far above that, so that lines another tool wrote are kept too,
/// and low enough that a runaway file cannot take the machine's memory.
pub const LINE_LIMIT: usize = 64 * 1024 * 1024;

/// Flags every open of a store file carries.
fn untrusting() -> OFlags {
    OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC
}

/// A folder of the store, held open so that files are opened relative to it: a link planted
/// in its place after it was opened changes nothing.
#[derive(Debug)]
pub(crate) struct Folder {
    fd: OwnedFd,
    path: PathBuf,
}

impl Folder {
    /// The folder itself as a `File`: a second descriptor of the same open folder, to take a
    /// lock on that leaves no file behind ([`super::lock::lock_folder`]).
    pub(crate) fn as_file(&self) -> io::Result<File> {
        Ok(File::from(self.fd.try_clone()?))
    }

    /// A second descriptor of the same open folder, for a holder that outlives this one.
    pub(crate) fn try_clone(&self) -> Result<Folder> {
        Ok(Folder {
            fd: self
                .fd
                .try_clone()
                .map_err(|e| StoreError::io(&self.path, e))?,
            path: self.path.clone(),
        })
    }

    /// Opens the folder at `path` (the store's root), following it when it is a link of the
    /// user's own. Its ancestors are followed as they are; only the folder itself is checked.
    pub(crate) fn open(path: &Path) -> Result<Folder> {
        let (fd, _) = open_folder(rustix::fs::CWD, path, path, Links::Owned)?;
        Ok(Folder {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the folder is owned by this user or by root ([`trusted_owner`]).
    pub(crate) fn owned_by_us(&self) -> Result<bool> {
        let stat = rustix::fs::fstat(&self.fd).map_err(|e| StoreError::io(&self.path, e.into()))?;
        Ok(trusted_owner(stat.st_uid))
    }

    /// A session's folder inside this one (the store), following it when it is a link of the
    /// user's own.
    ///
    /// A link to another session folder of this store is refused
    /// ([`StoreError::LinkedSession`]): that session is read once, under its own name (it was
    /// listed, counted and priced twice).
    pub(crate) fn session(&self, name: &str) -> Result<Folder> {
        let path = self.path.join(name);
        let (fd, followed) = open_folder(&self.fd, Path::new(name), &path, Links::Owned)?;
        if followed && (is_child_of(&fd, &self.fd) || links_within(&self.path, name)) {
            let target = rustix::fs::readlinkat(&self.fd, name, Vec::new())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(StoreError::LinkedSession { path, target });
        }
        Ok(Folder { fd, path })
    }

    /// A store kept inside this one (a workspace's, in `workspaces`), following it when it is a
    /// link of the user's own, as [`Folder::open`] follows the store's own folder.
    pub(crate) fn store(&self, name: &str) -> Result<Folder> {
        let path = self.path.join(name);
        let (fd, _) = open_folder(&self.fd, Path::new(name), &path, Links::Owned)?;
        Ok(Folder { fd, path })
    }

    /// A folder of ours inside this one (`.pending`, a session being written): never a link.
    pub(crate) fn child(&self, name: &str) -> Result<Folder> {
        let path = self.path.join(name);
        let (fd, _) = open_folder(&self.fd, Path::new(name), &path, Links::Refused)?;
        Ok(Folder { fd, path })
    }

    /// Makes the folder `name` inside this one; true when this call made it. Whatever is there
    /// already (a link included) is left alone and checked when opened.
    pub(crate) fn make_child(&self, name: &str) -> Result<bool> {
        self.make_child_with_mode(name, 0o777)
    }

    /// [`Folder::make_child`] with the mode `mode` (less the umask).
    pub(crate) fn make_child_with_mode(&self, name: &str, mode: u32) -> Result<bool> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode)) {
            Ok(()) => Ok(true),
            Err(Errno::EXIST) => Ok(false),
            Err(e) => Err(StoreError::io(&self.path.join(name), e.into())),
        }
    }

    /// Removes the folder `name` inside this one if it is empty; anything in it keeps it.
    pub(crate) fn remove_empty_child(&self, name: &str) {
        let _ = rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR);
    }

    /// The folder `name` inside this one, made first when it is not there.
    pub(crate) fn child_made(&self, name: &str) -> Result<Folder> {
        self.child_made_with_mode(name, 0o777)
    }

    /// [`Folder::child_made`], made with the mode `mode` (less the umask).
    pub(crate) fn child_made_with_mode(&self, name: &str, mode: u32) -> Result<Folder> {
        self.make_child_with_mode(name, mode)?;
        self.child(name)
    }

    /// Opens `name` for reading; `None` when there is no such file.
    pub(crate) fn read(&self, name: &str) -> Result<Option<File>> {
        match self.open_file(name, OFlags::RDONLY) {
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Opens `name` for appending (and reading), creating it when it is not there.
    pub(crate) fn append(&self, name: &str) -> Result<File> {
        self.open_file(name, OFlags::RDWR | OFlags::APPEND | OFlags::CREATE)
    }

    /// Opens `name` for reading and writing in place, creating it when it is not there.
    pub(crate) fn read_write(&self, name: &str) -> Result<File> {
        self.open_file(name, OFlags::RDWR | OFlags::CREATE)
    }

    /// Creates `name`, which must not exist; `None` when something is there already.
    pub(crate) fn create_new(&self, name: &str) -> Result<Option<File>> {
        match self.open_file(name, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL) {
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Writes a new file `name` with `bytes`, replacing a stale one left by a process that died
    /// (a temporary file with our name on it).
    pub(crate) fn write_new(&self, name: &str, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let file = if let Some(file) = self.create_new(name)? {
            file
        } else {
            self.remove(name)?;
            self.create_new(name)?.ok_or_else(|| {
                StoreError::io(
                    &self.path.join(name),
                    io::Error::from(io::ErrorKind::AlreadyExists),
                )
            })?
        };
        (&file)
            .write_all(bytes)
            .map_err(|e| StoreError::io(&self.path.join(name), e))
    }

    fn open_file(&self, name: &str, flags: OFlags) -> Result<File> {
        let path = || self.path.join(name);
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            flags | untrusting(),
            Mode::from_raw_mode(0o666),
        )
        .map_err(|e| match e {
            // `O_NOFOLLOW` met a link; `EISDIR`: a folder opened for writing.
            Errno::LOOP => StoreError::NotRegular {
                path: path(),
                what: "a symbolic link",
                expected: PLAIN_FILE,
            },
            Errno::ISDIR => StoreError::NotRegular {
                path: path(),
                what: "a folder",
                expected: PLAIN_FILE,
            },
            // A FIFO opened for writing with no reader.
            Errno::NXIO => StoreError::NotRegular {
                path: path(),
                what: "a FIFO",
                expected: PLAIN_FILE,
            },
            e => StoreError::io(&path(), e.into()),
        })?;
        check_regular(&fd, &path())?;
        Ok(File::from(fd))
    }

    /// Gives `from` the second name `to` (a hard link, never following `from`).
    pub(crate) fn link(&self, from: &str, to: &str) -> io::Result<()> {
        rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty()).map_err(Into::into)
    }

    /// Renames `from` to `to` within this folder (a link is moved, never followed).
    pub(crate) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to).map_err(Into::into)
    }

    /// Swaps the entries `a` and `b` of this folder in one step (`renameat2` with
    /// `RENAME_EXCHANGE`), so that no one looking sees neither; a file system that cannot
    /// swaps them with two renames (through a hidden name) instead. `NotFound` when either is
    /// not there.
    pub(crate) fn exchange(&self, a: &str, b: &str) -> io::Result<()> {
        match rustix::fs::renameat_with(&self.fd, a, &self.fd, b, rustix::fs::RenameFlags::EXCHANGE)
        {
            Ok(()) => Ok(()),
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
                let aside = format!("{a}.swap");
                self.rename(b, &aside)?;
                if let Err(e) = self.rename(a, b) {
                    let _ = self.rename(&aside, b);
                    return Err(e);
                }
                self.rename(&aside, a)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the file (or link) `name`; `Ok` when it was not there.
    pub(crate) fn remove(&self, name: &str) -> Result<()> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(StoreError::io(&self.path.join(name), e.into())),
        }
    }

    /// Removes `name` like [`Folder::remove`], saying whether this call removed it: of many
    /// processes removing one name, exactly one gets true.
    pub(crate) fn claim(&self, name: &str) -> io::Result<bool> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of the entry `name` (a link is not followed); `None` when it is not there.
    pub(crate) fn size_of(&self, name: &str) -> io::Result<Option<u64>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(u64::try_from(stat.st_size).unwrap_or(0))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of `name` when it is a regular file (a link is not followed); `None` when it
    /// is not there or is something else.
    pub(crate) fn regular_size(&self, name: &str) -> io::Result<Option<u64>> {
        Ok(self
            .regular_stat(name)?
            .map(|stat| u64::try_from(stat.st_size).unwrap_or(0)))
    }

    /// When `name` was last modified, when it is a regular file (a link is not followed);
    /// `None` when it is not there or is something else.
    pub(crate) fn regular_modified(&self, name: &str) -> io::Result<Option<std::time::SystemTime>> {
        Ok(self.regular_stat(name)?.map(|stat| {
            let seconds = u64::try_from(stat.st_mtime).unwrap_or(0);
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)
        }))
    }

    /// When `name`'s status last changed (a rename changes it), when it is a regular file (a
    /// link is not followed); `None` when it is not there or is something else.
    pub(crate) fn regular_changed(&self, name: &str) -> io::Result<Option<std::time::SystemTime>> {
        Ok(self.regular_stat(name)?.map(|stat| {
            let seconds = u64::try_from(stat.st_ctime).unwrap_or(0);
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)
        }))
    }

    /// What `statat` says of `name` when it is a regular file (a link is not followed);
    /// `None` when it is not there or is something else.
    fn regular_stat(&self, name: &str) -> io::Result<Option<rustix::fs::Stat>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => {
                Ok(Some(stat))
            }
            Ok(_) | Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `other` is this very folder (the same device and inode), however each was
    /// reached: a session folder swapped for a new one under its name is not the same.
    pub(crate) fn is_same(&self, other: &Folder) -> bool {
        match (rustix::fs::fstat(&self.fd), rustix::fs::fstat(&other.fd)) {
            (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
            _ => false,
        }
    }

    /// The names in this folder.
    pub(crate) fn names(&self) -> Result<Vec<String>> {
        // `/proc/self/fd/N` would need /proc; opening "." through the descriptor does not.
        let dir = rustix::fs::openat(
            &self.fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| StoreError::io(&self.path, e.into()))?;
        let mut names = Vec::new();
        let dir =
            rustix::fs::Dir::read_from(&dir).map_err(|e| StoreError::io(&self.path, e.into()))?;
        for entry in dir {
            let entry = entry.map_err(|e| StoreError::io(&self.path, e.into()))?;
            if let Ok(name) = entry.file_name().to_str()
                && name != "."
                && name != ".."
            {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }
}

/// Which links a folder may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Links {
    /// None: folders only we make, which no one has a reason to link.
    Refused,
    /// Those owned by the user running us or by root: a store or a session kept elsewhere.
    Owned,
}

/// Opens the folder `name` relative to `dir` with `flags`; a folder this user may enter but not
/// list (mode 711) is opened as a path only (`O_PATH`), which is all that opening the files in
/// it by name takes: such a store kept its readers from the sessions they knew the ids of.
fn open_dir(dir: impl AsFd, name: &Path, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    match rustix::fs::openat(&dir, name, flags, Mode::empty()) {
        Err(Errno::ACCESS) => {
            // `O_PATH` keeps only `O_DIRECTORY`, `O_NOFOLLOW` and `O_CLOEXEC` of `flags`.
            let fd = rustix::fs::openat(&dir, name, flags | OFlags::PATH, Mode::empty())?;
            // A folder this user may not enter either (mode 000) stays refused by its name.
            rustix::fs::accessat(&fd, ".", rustix::fs::Access::EXEC_OK, AtFlags::EACCESS)
                .map_err(|_| Errno::ACCESS)?;
            Ok(fd)
        }
        other => other,
    }
}

/// Whether the entry `name` of the store's folder `root`, a symbolic link, leads to a folder
/// directly inside `root`: another session folder of the store. Looked at by path, for
/// listings, which meet links rarely.
pub(crate) fn links_within(root: &Path, name: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(store) = std::fs::metadata(root) else {
        return false;
    };
    let is_store = |folder: &Path| {
        std::fs::metadata(folder).is_ok_and(|m| m.dev() == store.dev() && m.ino() == store.ino())
    };
    let link = root.join(name);
    // Where the link leads in the end (`..` after a link is the parent of what it leads to),
    // or, one step, what it names: a link to another session's link (one kept on another
    // disk) is that session again too.
    let named = std::fs::read_link(&link).map(|to| root.join(to));
    is_store(&link.join("..")) || named.is_ok_and(|to| to.parent().is_some_and(is_store))
}

/// Whether the folder `child` is directly inside the folder `parent` (its `..` is `parent`).
fn is_child_of(child: &OwnedFd, parent: &OwnedFd) -> bool {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(up) = rustix::fs::openat(child, "..", flags, Mode::empty()) else {
        return false;
    };
    match (rustix::fs::fstat(&up), rustix::fs::fstat(parent)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Opens a folder at `name` relative to `dir`, following a link only when `links` allows it;
/// also whether it was a link, followed.
fn open_folder(dir: impl AsFd, name: &Path, shown: &Path, links: Links) -> Result<(OwnedFd, bool)> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    match open_dir(&dir, name, flags | OFlags::NOFOLLOW) {
        Ok(fd) => Ok((fd, false)),
        // A link (`ELOOP`), or something that is not a folder (`ENOTDIR`, also what some
        // systems answer for a link).
        Err(Errno::LOOP | Errno::NOTDIR) => {
            let stat = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| StoreError::io(shown, e.into()))?;
            let kind = FileType::from_raw_mode(stat.st_mode);
            if kind != FileType::Symlink || links == Links::Refused {
                return Err(StoreError::NotRegular {
                    path: shown.to_path_buf(),
                    what: describe(kind),
                    expected: FOLDER,
                });
            }
            if !trusted_owner(stat.st_uid) {
                return Err(StoreError::UntrustedLink(shown.to_path_buf()));
            }
            let fd = open_dir(&dir, name, flags).map_err(|e| match e {
                Errno::NOTDIR => StoreError::NotRegular {
                    path: shown.to_path_buf(),
                    what: "a symbolic link to something that is not a folder",
                    expected: FOLDER,
                },
                e => StoreError::io(shown, e.into()),
            })?;
            Ok((fd, true))
        }
        Err(e) => Err(StoreError::io(shown, e.into())),
    }
}

/// What the store keeps where it found something else, for [`StoreError::NotRegular`].
const PLAIN_FILE: &str = "a plain file";
const FOLDER: &str = "a folder";

/// Whether a link owned by `uid` may be followed: it is the user's own, or root's.
pub(crate) fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == rustix::process::geteuid().as_raw()
}

/// Fails unless the opened descriptor is a regular file.
fn check_regular(fd: &OwnedFd, path: &Path) -> Result<()> {
    let stat = rustix::fs::fstat(fd).map_err(|e| StoreError::io(path, e.into()))?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => Ok(()),
        kind => Err(StoreError::NotRegular {
            path: path.to_path_buf(),
            what: describe(kind),
            expected: PLAIN_FILE,
        }),
    }
}

/// What a file of `kind` is, for a line that says why it was not read: "a FIFO", "a folder".
pub fn describe(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "a file",
        FileType::Directory => "a folder",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Unknown => "a file of an unknown kind",
    }
}

/// Opens a file named from outside the store (a transcript an agent names) for reading: links
/// are followed, but only a regular file is opened, and a FIFO cannot hold the open.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let fd = rustix::fs::openat(
        rustix::fs::CWD,
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let stat = rustix::fs::fstat(&fd)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::RegularFile {
        return Err(not_regular(path, kind));
    }
    Ok(File::from(fd))
}

/// The length of a file named from outside the store, looked at without opening it (links are
/// followed, as [`open_regular`] follows them): `None` when nothing is there, and an error
/// saying what is there when it is not a regular file (a FIFO, a device, a folder), so that a
/// caller waiting for the file to grow can stop at once.
pub fn regular_len(path: &Path) -> io::Result<Option<u64>> {
    match rustix::fs::stat(path) {
        Ok(stat) => match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => Ok(Some(u64::try_from(stat.st_size).unwrap_or(0))),
            kind => Err(not_regular(path, kind)),
        },
        Err(Errno::NOENT | Errno::NOTDIR) => Ok(None),
        Err(e) => Err(io::Error::new(
            io::Error::from(e).kind(),
            format!("{}: {e}", path.display()),
        )),
    }
}

/// The text of a small file named from outside the store (a git repository's `HEAD`, an
/// agent's hooks file), opened as [`open_regular`] opens it: only a regular file is read, a
/// FIFO cannot hold the open, and a file over `limit` bytes is an error, not read whole.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than {limit} bytes", path.display()),
        ));
    }
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The error for a file named from outside the store that is `kind`, not a regular file.
fn not_regular(path: &Path, kind: FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is {}, not a regular file",
            path.display(),
            describe(kind)
        ),
    )
}

/// What an entry of a folder named from outside the store is, as it stands there: a link is
/// never followed to say what it points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
    /// A symbolic link, to whatever it points at.
    Link,
    /// A FIFO, a socket or a device.
    Other,
}

/// What the entry at `path` is, its last component not followed (`None` when nothing is
/// there).
pub fn entry_kind(path: &Path) -> Option<EntryKind> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|meta| kind_of(meta.file_type()))
}

/// What the entry at `path` is ([`describe`]: "a FIFO", "a device"), its last component not
/// followed and nothing opened; `None` when nothing is there.
pub fn describe_entry(path: &Path) -> Option<&'static str> {
    rustix::fs::lstat(path)
        .ok()
        .map(|stat| describe(FileType::from_raw_mode(stat.st_mode)))
}

fn kind_of(kind: std::fs::FileType) -> EntryKind {
    if kind.is_symlink() {
        EntryKind::Link
    } else if kind.is_dir() {
        EntryKind::Folder
    } else if kind.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

/// The entries of `dir`, a folder named from outside the store (an agent's log folder), in
/// name order, each with what it is as it stands there: links in it are not followed, for the
/// caller to leave out and say. Nothing when the folder cannot be read.
///
/// Whoever can write into an agent's folder (the agent itself, running a tool) can plant a
/// link to `/etc/shadow`, `/dev/zero`, a FIFO or a huge file elsewhere where a log would be.
pub fn folder_entries(dir: &Path) -> Vec<(PathBuf, EntryKind)> {
    read_folder_entries(dir).unwrap_or_default()
}

/// [`folder_entries`], failing when the folder cannot be read: for a caller that must say a
/// folder it was asked to search was not searched.
pub fn read_folder_entries(dir: &Path) -> io::Result<Vec<(PathBuf, EntryKind)>> {
    let mut out: Vec<(PathBuf, EntryKind)> = std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| Some((e.path(), kind_of(e.file_type().ok()?))))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The UTF-8 byte order mark, which an editor on Windows (or PowerShell's `>`) puts at the start
/// of a file it saves.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The JSON text of a line of a log named from outside the store: the line without the spaces
/// and line end around it, nor a byte order mark before it (JSON has none, and serde_json reads
/// none). Every reader of an agent's log reads its lines through this, so that a log saved with
/// a mark (or two logs joined, the second's mark mid-file) is read whole; the mark's bytes still
/// count where a line starts and ends, so offsets into the file stay true.
pub fn json_text(line: &[u8]) -> &[u8] {
    without_bom(line.trim_ascii()).trim_ascii_start()
}

/// `text` without the byte order mark it starts with, if it does: a log that is one JSON
/// document, read whole.
pub fn without_bom(text: &[u8]) -> &[u8] {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// What [`read_line`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRead {
    /// Bytes consumed from the reader, the newline included; 0 at the end.
    pub consumed: usize,
    /// Whether the line ended with a newline (an unfinished last line did not).
    pub ended: bool,
    /// Whether the line was longer than the limit: it was consumed, but `buf` is left empty.
    pub too_long: bool,
}

/// Reads one line into `buf` (cleared first), newline included, holding at most `limit` bytes
/// of it: a longer line is consumed to its end without being kept.
pub fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<LineRead> {
    let read = read_line_within(reader, buf, limit)?;
    if !read.too_long {
        return Ok(read);
    }
    let (rest, ended) = skip_line(reader)?;
    Ok(LineRead {
        consumed: read.consumed + rest,
        ended,
        too_long: true,
    })
}

/// Reads one line as [`read_line`] does, except that a line longer than `limit` is left
/// `limit` bytes in (`too_long`, not `ended`, `buf` empty): for a reader that wants nothing
/// of such a line, as one looking at a file's first lines, which need not read on through
/// gigabytes to the line's end ([`skip_line`] goes there).
pub fn read_line_within(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let n = io::Read::take(&mut *reader, limit as u64).read_until(b'\n', buf)?;
    let ended = buf.last() == Some(&b'\n');
    let too_long = !ended && n >= limit;
    if too_long {
        buf.clear();
    }
    Ok(LineRead {
        consumed: n,
        ended,
        too_long,
    })
}

/// Consumes the rest of the line `reader` is in, its newline included: the bytes consumed, and
/// whether a newline ended them (else the reader is at its end).
pub fn skip_line(reader: &mut impl BufRead) -> io::Result<(usize, bool)> {
    let mut consumed = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, false));
        }
        if let Some(i) = memchr::memchr(b'\n', available) {
            reader.consume(i + 1);
            return Ok((consumed + i + 1, true));
        }
        let len = available.len();
        reader.consume(len);
        consumed += len;
    }
}

/// Consumes the newlines that come next in `reader`, each an empty line: how many. A run of
/// them is passed at the speed of memory, not a line read at a time (a file of 768 MB of
/// newlines took 20 s to read line by line).
pub fn skip_newlines(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let run = leading_newlines(available);
        let all = run == available.len();
        reader.consume(run);
        skipped += run as u64;
        if !all || run == 0 {
            return Ok(skipped);
        }
    }
}

/// How many newlines `bytes` begins with, compared a block at a time (one `memcmp` each).
fn leading_newlines(bytes: &[u8]) -> usize {
    const NEWLINES: [u8; 4096] = [b'\n'; 4096];
    let mut run = 0;
    for block in bytes.chunks(NEWLINES.len()) {
        if block == &NEWLINES[..block.len()] {
            run += block.len();
        } else {
            return run + block.iter().take_while(|&&b| b == b'\n').count();
        }
    }
    run
}

/// Starts `line`, about to be appended to `file`, with a line break when the file does not end
/// with one: a writer that died mid-line, an editor or another tool left none, and a line
/// glued to it made both unreadable.
pub(super) fn on_a_line_of_its_own(
    file: &std::fs::File,
    line: &mut Vec<u8>,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let mut last = [0u8; 1];
    if len > 0 && (file.read_exact_at(&mut last, len - 1).is_err() || last[0] != b'\n') {
        line.insert(0, b'\n');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_past_the_limit_is_skipped_whole() {
        let text = b"short\n0123456789abc\nnext\ntail";
        let mut reader = io::BufReader::with_capacity(4, &text[..]);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        loop {
            let read = read_line(&mut reader, &mut buf, 8).unwrap();
            if read.consumed == 0 {
                break;
            }
            seen.push((String::from_utf8_lossy(&buf).into_owned(), read));
        }
        let lines: Vec<(&str, usize, bool, bool)> = seen
            .iter()
            .map(|(l, r)| (l.as_str(), r.consumed, r.ended, r.too_long))
            .collect();
        assert_eq!(
            lines,
            [
                ("short\n", 6, true, false),
                ("", 14, true, true),
                ("next\n", 5, true, false),
                ("tail", 4, false, false),
            ]
        );
    }

    #[test]
    fn a_line_past_the_limit_can_be_left_where_the_limit_is_and_newlines_skipped_at_once() {
        let text = b"0123456789abc\nnext\n\n\n\nlast";
        let mut reader = io::BufReader::with_capacity(4, &text[..]);
        let mut buf = Vec::new();
        let read = read_line_within(&mut reader, &mut buf, 8).unwrap();
        assert_eq!((read.consumed, read.ended, read.too_long), (8, false, true));
        assert!(buf.is_empty());
        assert_eq!(skip_line(&mut reader).unwrap(), (6, true));
        assert_eq!(skip_newlines(&mut reader).unwrap(), 0);
        let read = read_line_within(&mut reader, &mut buf, 8).unwrap();
        assert_eq!(
            (read.consumed, read.too_long, &buf[..]),
            (5, false, &b"next\n"[..])
        );
        // Across the reader's small buffer.
        assert_eq!(skip_newlines(&mut reader).unwrap(), 3);
        assert_eq!(skip_line(&mut reader).unwrap(), (4, false));
        assert_eq!(leading_newlines(&[b'\n'; 5000]), 5000);
        let mut mixed = vec![b'\n'; 4100];
        mixed[4097] = b' ';
        assert_eq!(leading_newlines(&mixed), 4097);
    }

    #[test]
    fn planted_links_and_fifos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let store = dir.path().join("store");
        std::fs::create_dir(&store).unwrap();
        std::os::unix::fs::symlink(&victim, store.join("link")).unwrap();
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            store.join("fifo"),
            Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let folder = Folder::open(&store).unwrap();
        for name in ["link", "fifo"] {
            assert!(matches!(
                folder.append(name),
                Err(StoreError::NotRegular { .. })
            ));
            assert!(matches!(
                folder.read(name),
                Err(StoreError::NotRegular { .. })
            ));
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(folder.read("absent").unwrap().is_none());
        assert!(open_regular(&store.join("fifo")).is_err());
        assert!(open_regular(&store.join("link")).is_ok());
    }
}
