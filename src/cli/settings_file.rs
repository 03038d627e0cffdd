//! Changing a user's settings.json without harm: through a link to the file it names, keeping
//! its mode and owner, every earlier version kept as a numbered backup, and every value but
//! the one we change kept as written (numbers too: `12345678901234567890123` stays that).

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON object as written: its keys in order, each value as its original text.
#[derive(Debug, Default)]
pub(crate) struct RawObject(Vec<(String, Box<RawValue>)>);

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
                Ok(RawObject(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

impl RawObject {
    /// The object in `text` (an empty or blank text is an empty object), or why it is none.
    pub(crate) fn parse(text: &str) -> Result<RawObject, serde_json::Error> {
        if text.trim().is_empty() {
            return Ok(RawObject::default());
        }
        serde_json::from_str(text)
    }

    /// The value at `key`, decoded.
    pub(crate) fn get(&self, key: &str) -> Option<Result<Value, serde_json::Error>> {
        self.0
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
        match self.0.iter_mut().rev().find(|(k, _)| k == key) {
            Some((_, old)) => *old = raw,
            None => self.0.push((key.to_owned(), raw)),
        }
        Ok(())
    }

    /// The object as text: one key a line, each other value exactly as it was read.
    pub(crate) fn to_text(&self) -> String {
        if self.0.is_empty() {
            return "{}\n".to_owned();
        }
        let entries: Vec<String> = self
            .0
            .iter()
            .map(|(key, raw)| format!("  {}: {}", Value::from(key.as_str()), raw.get()))
            .collect();
        format!("{{\n{}\n}}\n", entries.join(",\n"))
    }
}

/// The file a settings path names: a link is followed to the file it points to (relative links
/// from the link's folder), so that writing replaces that file and the link stays a link.
pub(crate) fn through_links(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other(format!(
        "{} goes through too many links",
        path.display()
    )))
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

/// Replaces the file at `target` (no link: see [`through_links`]) by `text` atomically: a new
/// file beside it with the old one's mode and owner, renamed over it. A file that is not there
/// yet is created with the default mode.
pub(crate) fn replace(target: &Path, text: &str) -> io::Result<()> {
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
    if let Some(old) = &old {
        options.mode(old.mode() & 0o7777);
    }
    let mut file = options.open(&temp)?;
    let written = (|| -> io::Result<()> {
        if let Some(old) = &old {
            keep_owner(&file, old)?;
            // The mode given at creation passed through the umask: set it as it was.
            file.set_permissions(Permissions::from_mode(old.mode() & 0o7777))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, target)) {
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
