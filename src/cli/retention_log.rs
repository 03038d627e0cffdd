//! Where `retention clean` logs its deletions when a settings file's `log_path` says: the checks
//! that path must pass before anything is deleted, and the append of one line per deletion.
//!
//! A repository's `.agent-strace.yaml` chooses the path, and the line it takes holds a session
//! id the repository's store chose too (`x$(touch PWNED)`): a log appended to a script, a git
//! hook or a file a shell reads would run it. So the log goes only to a file that is the log:
//! inside the project (unless the settings file was named with `--config`), outside any `.git`
//! folder, in a folder that exists, and, when the file is there already, a regular file no one
//! may execute whose every line is a deletion line.

use std::io::{BufRead, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::Result;

use super::output::warn;
use crate::error::Error;
use crate::store::Store;

/// Why a log_path in a `.git` folder is refused.
const IN_GIT: &str =
    "is inside a .git folder, whose hooks git runs: the retention log is never written there";

/// The longest line of an existing log read when checking it: a deletion line is far shorter.
const LINE_LIMIT: u64 = 64 * 1024;

/// The file a `log_path` of the settings file `settings` names (relative to `cwd`), once it
/// passes the checks of this module's header; `in_project` when the settings file was found in
/// the project rather than named with `--config`, so that the log must be inside the project.
pub(super) fn checked(
    written: &Path,
    cwd: &Path,
    settings: &Path,
    in_project: bool,
) -> Result<PathBuf> {
    let refuse = |why: String| -> anyhow::Error {
        Error::input(format!(
            "{}: log_path `{}` {why}",
            settings.display(),
            written.display()
        ))
        .into()
    };
    let log = cwd.join(written);
    if in_git(&log) {
        return Err(refuse(IN_GIT.to_owned()));
    }
    if log.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return Err(refuse("is a folder, not a file".to_owned()));
    }
    let (Some(name), Some(parent)) = (log.file_name(), log.parent()) else {
        return Err(refuse("names no file".to_owned()));
    };
    let folder = match parent.canonicalize() {
        Ok(folder) => folder,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(format!(
                "is in a folder that does not exist ({})",
                parent.display()
            )));
        }
        Err(e) => {
            return Err(Error::io(format!(
                "{}: log_path `{}`: cannot look at its folder {}: {e}",
                settings.display(),
                written.display(),
                parent.display()
            ))
            .into());
        }
    };
    // A link on the way may lead into one.
    if in_git(&folder) {
        return Err(refuse(IN_GIT.to_owned()));
    }
    if in_project {
        let project = settings.parent().and_then(|p| p.canonicalize().ok());
        if !project.as_ref().is_some_and(|p| folder.starts_with(p)) {
            return Err(refuse(format!(
                "is outside the project ({}); the retention log is written only inside it, or where a settings file named with --config says",
                settings
                    .parent()
                    .map_or_else(String::new, |p| p.display().to_string())
            )));
        }
    }
    let file = folder.join(name);
    if let Some(why) = not_the_log(&file) {
        return Err(refuse(why));
    }
    Ok(log)
}

/// Whether a path goes through a folder named `.git` (or is one).
fn in_git(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, Component::Normal(name) if name == ".git"))
}

/// Why an existing file at `path` is not one the log could have made, if it is not: a link, no
/// regular file, a file someone may execute, or one with a line that is no deletion line.
/// Nothing there is fine: the log makes it.
fn not_the_log(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match path.symlink_metadata() {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(format!("cannot be looked at: {e}")),
    };
    if meta.file_type().is_symlink() {
        return Some("is a link: the retention log is written through none".to_owned());
    }
    if !meta.is_file() {
        return Some("is not a regular file".to_owned());
    }
    if meta.permissions().mode() & 0o111 != 0 {
        return Some("is executable: the retention log is appended to no program".to_owned());
    }
    let file = match open_no_follow(path, false) {
        Ok(file) => file,
        Err(e) => return Some(format!("cannot be read: {e}")),
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        number += 1;
        line.clear();
        match (&mut reader).take(LINE_LIMIT).read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(_) if is_deletion_line(&line) => {}
            Ok(_) => {
                return Some(format!(
                    "holds a line that is not the retention log's (line {number}): the log is appended only to a file of its own lines"
                ));
            }
            Err(e) => return Some(format!("cannot be read: {e}")),
        }
    }
}

/// Whether a line is one the log writes, ours or the Python tool's: a JSON object with a
/// `deleted_at` and a `session_id`, ended by a line end.
fn is_deletion_line(line: &[u8]) -> bool {
    let Some(body) = line.strip_suffix(b"\n") else {
        return false;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).is_ok_and(|o| {
        o.get("deleted_at")
            .is_some_and(serde_json::Value::is_string)
            && o.get("session_id")
                .is_some_and(serde_json::Value::is_string)
    })
}

/// Logs one deletion as the Python tool does: `{"deleted_at": …, "session_id": …}`.
pub(super) fn log(store: &Store, path: Option<&Path>, session_id: &str) {
    let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let line = serde_json::json!({"deleted_at": stamp, "session_id": session_id}).to_string();
    let written = match path {
        None => store.log_retention(&line).map_err(|e| e.to_string()),
        Some(path) => append_line(path, &line).map_err(|e| format!("{}: {e}", path.display())),
    };
    if let Err(e) = written {
        warn(format_args!("cannot log the deletion of {session_id}: {e}"));
    }
}

/// Appends a line to a log file the user named, never through a link, nor to a file made
/// executable since it was checked.
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut file = open_no_follow(path, true)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.permissions().mode() & 0o111 != 0 {
        return Err(std::io::Error::other("an executable file"));
    }
    file.write_all(format!("{line}\n").as_bytes())
}

/// Opens `path` to read or to append (made if missing): a link is refused, and a FIFO fails at
/// once instead of waiting for a writer or reader.
fn open_no_follow(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = i32::try_from((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits())
        .unwrap_or(0);
    std::fs::OpenOptions::new()
        .read(!append)
        .append(append)
        .create(append)
        .custom_flags(flags)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::is_deletion_line;

    #[test]
    fn a_deletion_line_is_ours_or_the_python_tools_and_nothing_else() {
        assert!(is_deletion_line(
            b"{\"deleted_at\":\"2026-01-01T00:00:00Z\",\"session_id\":\"a\"}\n"
        ));
        assert!(is_deletion_line(
            b"{\"deleted_at\": \"2026-01-01T00:00:00Z\", \"session_id\": \"a\"}\n"
        ));
        for other in [
            &b"#!/bin/sh\n"[..],
            b"{\"deleted_at\":\"t\",\"session_id\":\"a\"}",
            b"{\"session_id\":\"a\"}\n",
            b"{\"deleted_at\":1,\"session_id\":\"a\"}\n",
            b"\n",
            b"[]\n",
        ] {
            assert!(
                !is_deletion_line(other),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
