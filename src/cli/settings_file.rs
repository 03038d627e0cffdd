//! Changing a user's settings.json without harm: through a link to the file it names, keeping
//! its mode and owner, every earlier version kept as a numbered backup, and every value but
//! the one we change kept as written (numbers too: `12345678901234567890123` stays that), with
//! its byte order mark and line ends.
//!
//! Only a regular file is read, and opening never waits (a FIFO in the file's place is refused,
//! not waited on). Two setups writing into one folder take turns ([`lock_folder`]), and the
//! file is replaced only if it still holds what was read ([`replace`]): a program that wrote it
//! meanwhile loses nothing.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON object as written: its keys in order, each value as its original text, and whether
/// the text began with a byte order mark and ended its lines with CRLF (both kept).
#[derive(Debug, Default)]
pub(crate) struct RawObject {
    entries: Vec<(String, Box<RawValue>)>,
    bom: bool,
    crlf: bool,
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = RawObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    entries.push(entry);
                }
                Ok(RawObject {
                    entries,
                    ..RawObject::default()
                })
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

impl RawObject {
    /// The object in `text` (an empty or blank text is an empty object), or why it is none. A
    /// UTF-8 byte order mark, which editors on Windows write, is no text.
    pub(crate) fn parse(text: &str) -> Result<RawObject, serde_json::Error> {
        let (bom, text) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut object = if text.trim().is_empty() {
            RawObject::default()
        } else {
            serde_json::from_str::<RawObject>(text)?
        };
        object.bom = bom;
        object.crlf = text.contains("\r\n");
        Ok(object)
    }

    /// A key that the object at `key` holds more than once, if it is an object: decoded, only
    /// the last would be kept, and the others lost from the file when it is written again.
    pub(crate) fn repeated_in(&self, key: &str) -> Option<String> {
        let (_, raw) = self.entries.iter().rev().find(|(k, _)| k == key)?;
        let inner = serde_json::from_str::<RawObject>(raw.get()).ok()?;
        let mut seen = std::collections::HashSet::new();
        inner
            .entries
            .iter()
            .find(|(k, _)| !seen.insert(k.as_str()))
            .map(|(k, _)| k.clone())
    }

    /// The value at `key`, decoded.
    pub(crate) fn get(&self, key: &str) -> Option<Result<Value, serde_json::Error>> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, raw)| serde_json::from_str(raw.get()))
    }

    /// Sets `key` to `value` where it is (its last occurrence), or at the end.
    pub(crate) fn set(&mut self, key: &str, value: &Value) -> Result<(), serde_json::Error> {
        let pretty = serde_json::to_string_pretty(value)?;
        // Nested one level in: every line after the first moves two spaces right. A JSON
        // string holds no raw newline, so lines are the printer's own.
        let nested = pretty.replace('\n', "\n  ");
        let raw = RawValue::from_string(nested)?;
        match self.entries.iter_mut().rev().find(|(k, _)| k == key) {
            Some((_, old)) => *old = raw,
            None => self.entries.push((key.to_owned(), raw)),
        }
        Ok(())
    }

    /// The object as text: one key a line, each other value exactly as it was read, with the
    /// byte order mark and the line ends the text had.
    pub(crate) fn to_text(&self) -> String {
        let text = if self.entries.is_empty() {
            "{}\n".to_owned()
        } else {
            let entries: Vec<String> = self
                .entries
                .iter()
                .map(|(key, raw)| format!("  {}: {}", Value::from(key.as_str()), raw.get()))
                .collect();
            format!("{{\n{}\n}}\n", entries.join(",\n"))
        };
        // A JSON string holds no raw line end: every one is the file's own.
        let text = if self.crlf {
            text.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            text
        };
        if self.bom {
            format!("\u{feff}{text}")
        } else {
            text
        }
    }
}

/// The file a settings path names: a link is followed to the file it points to (relative links
/// from the link's folder), so that writing replaces that file and the link stays a link. A
/// link to nothing is refused: following it would create a file (and its folders) wherever
/// the link says, which may be anywhere.
pub(crate) fn through_links(path: &Path) -> io::Result<PathBuf> {
    let named = path;
    let mut path = path.to_path_buf();
    for hop in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Err(e) if hop > 0 && e.kind() == io::ErrorKind::NotFound => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a symbolic link to {}, which does not exist: create that file or remove the link",
                        named.display(),
                        path.display()
                    ),
                ));
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other(format!(
        "{} goes through too many links",
        path.display()
    )))
}

/// The folder `target` (a path [`through_links`] gave) is in, as the system reaches it: its
/// nearest folder that exists, with every link on the way followed. A project's settings that
/// a link (the file's, or its folder's) takes out of the project would have the hooks written
/// into whatever file of the user's it names.
pub(crate) fn real_folder(target: &Path) -> io::Result<PathBuf> {
    real_folder_within(target, 40)
}

/// [`real_folder`], following at most `links` links that lead nowhere (as the system gives up
/// after 40).
fn real_folder_within(target: &Path, links: u32) -> io::Result<PathBuf> {
    let mut folder = target.parent();
    while let Some(dir) = folder {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        match std::fs::canonicalize(dir) {
            Ok(real) => return Ok(real),
            // A link to nothing: where it points is where the folder would be made (a link
            // out of the project to a folder that is not there yet was taken for the project).
            Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::read_link(dir) {
                Ok(points) if links > 0 => {
                    let base = dir.parent().unwrap_or(Path::new("."));
                    return real_folder_within(&base.join(points).join("file"), links - 1);
                }
                Ok(_) => {
                    return Err(io::Error::from_raw_os_error(
                        rustix::io::Errno::LOOP.raw_os_error(),
                    ));
                }
                Err(_) => folder = dir.parent(),
            },
            Err(e) => return Err(e),
        }
    }
    std::fs::canonicalize(".")
}

/// A settings file as it was read.
#[derive(Debug)]
pub(crate) struct Existing {
    pub(crate) text: String,
    pub(crate) mode: u32,
}

/// The settings file at `target` (no link: see [`through_links`]), `None` when there is none.
/// It is opened without waiting and read only when it is a regular file: a FIFO, a device, a
/// socket or a folder is an error of kind `InvalidInput` saying what it is; a text that is not
/// UTF-8 one of kind `InvalidData`.
pub(crate) fn read(target: &Path) -> io::Result<Option<Existing>> {
    use rustix::fs::{FileType, Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(target, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let stat = rustix::fs::fstat(&fd)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file",
                target.display(),
                crate::store::describe(kind)
            ),
        ));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut File::from(fd), &mut bytes)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))?;
    Ok(Some(Existing {
        text,
        mode: stat.st_mode & 0o7777,
    }))
}

/// How long a setup waits for another one writing into the same folder.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Locks the folder of `target` (created if missing) against other setups until the returned
/// descriptor is dropped, so that two runs at once take turns and each reads what the other
/// wrote. A folder that cannot be opened is not locked: [`replace`] still refuses to write over
/// a change.
pub(crate) fn lock_folder(target: &Path) -> io::Result<Option<std::os::fd::OwnedFd>> {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let Ok(fd) = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return Ok(None);
    };
    let start = std::time::Instant::now();
    loop {
        match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(Some(fd)),
            Err(rustix::io::Errno::WOULDBLOCK) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(io::Error::other(format!(
                    "another agent-strace setup has been writing into {} for {} s",
                    dir.display(),
                    LOCK_WAIT.as_secs()
                )));
            }
            // A file system without locks: the check before the rename is left.
            Err(_) => return Ok(None),
        }
    }
}

/// Copies `text` (the file as it was) to the first free of `NAME.bak`, `NAME.bak.1`,
/// `NAME.bak.2` … beside `path`, created new so that no earlier backup is ever overwritten.
/// The backup keeps the file's mode: settings often hold keys.
pub(crate) fn back_up(path: &Path, text: &str, mode: u32) -> io::Result<PathBuf> {
    let name = path.file_name().map_or_else(
        || "settings.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    for n in 0..10_000 {
        let backup = if n == 0 {
            path.with_file_name(format!("{name}.bak"))
        } else {
            path.with_file_name(format!("{name}.bak.{n}"))
        };
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode & 0o777)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
            .open(&backup);
        match file {
            Ok(mut file) => {
                file.write_all(text.as_bytes())?;
                file.sync_all()?;
                return Ok(backup);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free backup name"))
}

/// Backs up `text`, the file `target` as it was (see [`back_up`]), and says where to `out`.
pub(crate) fn back_up_saying(
    target: &Path,
    text: &str,
    mode: u32,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let backup = back_up(target, text, mode)
        .with_context(|| format!("cannot back up {}", target.display()))?;
    writeln!(
        out,
        "Backed up {} to {}",
        target.display(),
        backup.display()
    )?;
    Ok(())
}

/// Replaces the file at `target` (no link: see [`through_links`]) by `text` atomically: a new
/// file beside it with the old one's mode and owner, renamed over it. A file that is not there
/// yet is created with the default mode. `private` (the text holds a token or an OTLP header):
/// a new file is 0600, and an old one loses what its mode lets its group and others do, since
/// its mode was chosen for what it held before. `was` is the text the change was made from (`None`:
/// there was no file): when the file holds something else by the time of the rename (another
/// program wrote it meanwhile), nothing is written and the error says so.
pub(crate) fn replace(
    target: &Path,
    text: &str,
    was: Option<&str>,
    private: bool,
) -> io::Result<()> {
    let old = match std::fs::metadata(target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let temp = temp_beside(target);
    let mut options = OpenOptions::new();
    options
        .write(true)
        .create_new(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed());
    let mode = match &old {
        Some(old) if private => Some(private_mode(old.mode())),
        Some(old) => Some(old.mode() & 0o7777),
        None => private.then_some(PRIVATE),
    };
    if let Some(mode) = mode {
        options.mode(mode);
    }
    let mut file = options.open(&temp)?;
    let written = (|| -> io::Result<()> {
        if let (Some(old), Some(mode)) = (&old, mode) {
            keep_owner(&file, old)?;
            // The mode given at creation passed through the umask: set it as it was.
            file.set_permissions(Permissions::from_mode(mode))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    let unchanged = || -> io::Result<()> {
        let now = read(target)?;
        if now.as_ref().map(|e| e.text.as_str()) == was {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "{} changed while setup was writing it (another program wrote it): nothing written; run setup again",
            target.display()
        )))
    };
    if let Err(e) = written
        .and_then(|()| unchanged())
        .and_then(|()| std::fs::rename(&temp, target))
    {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable once the folder is; a folder that cannot be synced is no
        // reason to fail a write that happened.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The mode of a file setup makes to hold a secret, and of a backup of one: the user's alone.
pub(crate) const PRIVATE: u32 = 0o600;

/// `mode` (a file's) without what it lets the file's group and others do.
pub(crate) fn private_mode(mode: u32) -> u32 {
    mode & 0o7777 & !0o077
}

/// Gives `file` the owner and group of `old`, when they differ from ours.
fn keep_owner(file: &File, old: &std::fs::Metadata) -> io::Result<()> {
    let ours = file.metadata()?;
    if (ours.uid(), ours.gid()) == (old.uid(), old.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot keep the file's owner ({}:{}): {e}",
                old.uid(),
                old.gid()
            ),
        )
    })
}

fn temp_beside(target: &Path) -> PathBuf {
    let name = target.file_name().map_or_else(
        || "settings.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    target.with_file_name(format!(".{name}.agent-strace-{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_we_do_not_change_keep_their_text() {
        let text = r#"{
  "big": 12345678901234567890123,
  "float": 1.50,
  "nested": {"a": [1, 2e3]},
  "hooks": {"Stop": []}
}
"#;
        let mut object = RawObject::parse(text).unwrap();
        assert_eq!(object.to_text(), text);
        let mut hooks = object.get("hooks").unwrap().unwrap();
        hooks["Stop"] = serde_json::json!([{"hooks": [{"command": "x"}]}]);
        object.set("hooks", &hooks).unwrap();
        let out = object.to_text();
        assert!(out.contains("\"big\": 12345678901234567890123,"), "{out}");
        assert!(out.contains("\"float\": 1.50,"), "{out}");
        assert!(out.contains("\"nested\": {\"a\": [1, 2e3]},"), "{out}");
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["hooks"], hooks);
    }

    #[test]
    fn an_empty_text_is_an_empty_object_and_a_list_is_refused() {
        let mut object = RawObject::parse("  \n").unwrap();
        object.set("hooks", &serde_json::json!({})).unwrap();
        assert_eq!(object.to_text(), "{\n  \"hooks\": {}\n}\n");
        assert!(RawObject::parse("[1]").is_err());
    }
}
