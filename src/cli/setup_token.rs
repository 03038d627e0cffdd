//! `setup --otel --write` with a bearer token: the `env` entries that carry it go to Claude
//! Code's `.claude/settings.local.json`, which Claude Code merges over `.claude/settings.json`,
//! the project's shared (usually committed) file, and no backup setup takes keeps a header.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use super::settings_file::{self, RawObject};
use super::setup_otel;
use crate::error::Error;

/// The file beside a project's shared settings that holds the token.
pub(crate) const LOCAL_FILE: &str = "settings.local.json";

/// Whether `--otel`'s token goes apart from the settings file `path`: only a project's shared
/// `settings.json` (not `--global`'s, nor a file named with `--settings`, which the user
/// chose: `named`), and only when there is a token.
pub(crate) fn apart(ours: &Map<String, Value>, path: &Path, named: bool) -> bool {
    !named
        && ours.contains_key(setup_otel::HEADERS)
        && path.file_name().is_some_and(|name| name == "settings.json")
}

/// `ours` split in two: what goes to the shared file, and the entries that carry the token.
pub(crate) fn split(ours: &Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    ours.iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| k != setup_otel::HEADERS)
}

/// `text`, the settings file `target` as it was, without the entries of `env` that carry OTLP
/// headers: what `--otel` backs up of a file it changes. A token rotated out, one moved to the
/// local file, another backend's key `--replace-otel` replaced: a backup would be the one
/// place left holding it, beside the file and git-ignored by no one (`*.bak`). The other
/// entries stay as written; a file with no headers is backed up as it is.
pub(crate) fn without_headers(text: &str, target: &Path) -> Result<String> {
    let mut settings = RawObject::parse(text).map_err(|e| {
        Error::input(format!(
            "{} is not a valid JSON object ({e})",
            target.display()
        ))
    })?;
    let mut env = env_of(&settings, target)?;
    let held = env.len();
    env.retain(|key, _| !setup_otel::header_keys().any(|h| h == *key));
    if env.len() == held {
        return Ok(text.to_owned());
    }
    settings.set("env", &Value::Object(env))?;
    Ok(settings.to_text())
}

/// What follows a line saying what `--replace-otel` replaced or removed: where the old values
/// are, which is the backup but for headers (`dropped`: the backup was taken without them).
pub(crate) fn kept_in_backup(dropped: bool) -> &'static str {
    if dropped {
        "The backup holds them as they were, but for the OTLP headers, which may carry a key: setup keeps none in a backup."
    } else {
        "The backup holds them as they were."
    }
}

/// Whether git ignores `path` (named from the working folder): `None` when git cannot say (no
/// git, no repository, a path outside it). Claude Code git-ignores the local file only when
/// it makes it itself, so a file setup made, or one a user made, may well be committed.
pub(crate) fn git_ignores(path: &Path) -> Option<bool> {
    let status = std::process::Command::new("git")
        // A repository's own settings run nothing here.
        .args(["-c", "core.fsmonitor=false", "check-ignore", "-q", "--"])
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

/// Whether git ignores the token file `path`, warning when git would commit it: what setup
/// says of the file follows what git says. setup leaves `.gitignore` alone: it is the
/// project's shared file, which nothing in the docs says setup writes.
pub(crate) fn ignored_or_warn(path: &Path) -> bool {
    let ignored = git_ignores(path);
    if ignored == Some(false) {
        super::output::warn(format_args!(
            "git does not ignore {0}, which holds AGENT_STRACE_TOKEN: add `{0}*` to the project's .gitignore (its backups too), or a commit may carry the token",
            path.display()
        ));
    }
    ignored == Some(true)
}

/// Says that `target`, a file that was there and holds the OTLP headers now, was made the
/// user's alone (see [`settings_file::replace`]) when its mode, `mode`, let others read it or
/// write it: a header carries AGENT_STRACE_TOKEN or another backend's key.
pub(crate) fn say_made_private(target: &Path, mode: u32, out: &mut impl Write) -> Result<()> {
    let private = settings_file::private_mode(mode);
    if private != mode & 0o7777 {
        writeln!(
            out,
            "Made {} the user's alone ({:o}, was {:o}): it holds the OTLP headers, which carry the collector's token.",
            target.display(),
            private,
            mode & 0o7777
        )?;
    }
    Ok(())
}

/// Makes `target`, a file that was there with mode `mode` and holds the OTLP headers, the
/// user's alone when a run of setup leaves it as it is (nothing to change), saying so: the
/// token may be in a file a user or an older setup left open to others, which a run that
/// changed nothing left so (a write makes it private, see [`settings_file::replace`]).
pub(crate) fn keep_private(target: &Path, mode: u32, out: &mut impl Write) -> Result<()> {
    make_private(target, mode)
        .with_context(|| format!("cannot make {} private", target.display()))?;
    say_made_private(target, mode, out)
}

/// Takes from `target`, whose mode is `mode`, what it lets its group and others do (see
/// [`settings_file::private_mode`]); a link is never followed.
fn make_private(target: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let private = settings_file::private_mode(mode);
    if private == mode & 0o7777 {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
        .open(target)?
        .set_permissions(std::fs::Permissions::from_mode(private))
}

/// The `env` object of `settings` (an empty one when there is none), or the error naming
/// `target` of one that is no object.
pub(crate) fn env_of(settings: &RawObject, target: &Path) -> Result<Map<String, Value>> {
    match settings.get("env").transpose() {
        Ok(None) => Ok(Map::new()),
        Ok(Some(Value::Object(env))) => Ok(env),
        Ok(Some(_)) => {
            Err(Error::input(format!("{}: `env` is not an object", target.display())).into())
        }
        Err(e) => Err(Error::input(format!("{}: `env` ({e})", target.display())).into()),
    }
}

/// The error of an `env` that sends Claude Code's telemetry elsewhere (`conflicts`), which
/// `--replace-otel` would replace.
pub(crate) fn refusal(target: &Path, conflicts: &[String]) -> anyhow::Error {
    Error::input(format!(
        "{}: `env` sends Claude Code's telemetry elsewhere already ({}); written over, {} would go to agent-strace's collector",
        target.display(),
        conflicts.join(", "),
        if conflicts.iter().any(|k| k.ends_with("_HEADERS")) {
            "its headers (another backend's key, perhaps)"
        } else {
            "that backend's telemetry"
        }
    ))
    .with_hint("run again with --replace-otel to replace and remove them (the file is backed up first), or set up without --otel")
    .into()
}

/// The token's entries merged into the local settings file, ready to be written once the
/// shared file is.
pub(crate) struct Local {
    target: PathBuf,
    existing: Option<String>,
    mode: u32,
    settings: RawObject,
    /// What `--replace-otel` replaced or removed there.
    said: Vec<String>,
    changed: bool,
}

impl Local {
    /// Reads `target` (the local file, links followed by the caller) and merges `token` (the
    /// entries that carry it) into its `env`. Claude Code reads that file over the shared one,
    /// so what it sets wins: an endpoint or per-signal entries of another backend there are
    /// refused as in the shared file (`ours` is the whole block), or with `replace` removed.
    pub(crate) fn prepare(
        target: PathBuf,
        ours: &Map<String, Value>,
        token: &Map<String, Value>,
        replace: bool,
    ) -> Result<Local> {
        let existing = settings_file::read(&target)
            .map_err(|e| super::setup::unusable(e, format!("cannot read {}", target.display())))?;
        let (existing, mode) = match existing {
            Some(e) => (Some(e.text), e.mode),
            None => (None, 0o644),
        };
        let mut settings =
            RawObject::parse(existing.as_deref().unwrap_or_default()).map_err(|e| {
                Error::input(format!(
                    "{} is not a valid JSON object ({e})",
                    target.display()
                ))
                .with_hint("fix it or move it away first")
            })?;
        let mut env = env_of(&settings, &target)?;
        // What Claude Code sees: this file's endpoint, else the shared file's, which is ours.
        let mut seen = env.clone();
        if let Some(endpoint) = ours.get(setup_otel::ENDPOINT) {
            seen.entry(setup_otel::ENDPOINT)
                .or_insert_with(|| endpoint.clone());
        }
        let conflicts = setup_otel::conflicts(&seen, ours);
        if !conflicts.is_empty() && !replace {
            return Err(refusal(&target, &conflicts));
        }
        let (replaced, removed) = setup_otel::replace_conflicts(&mut env, token, &conflicts);
        let mut said = Vec::new();
        if !replaced.is_empty() {
            said.push(format!("Replaced {} in `env`", replaced.join(", ")));
        }
        if !removed.is_empty() {
            said.push(format!("Removed {} from `env`", removed.join(", ")));
        }
        let changed = setup_otel::merge_env(&mut env, token) || !removed.is_empty();
        if changed {
            settings.set("env", &Value::Object(env))?;
        }
        Ok(Local {
            target,
            existing,
            mode,
            settings,
            said,
            changed,
        })
    }

    /// Writes the file when it changed (a backup of it first), saying so.
    pub(crate) fn write(&self, out: &mut impl Write) -> Result<()> {
        let target = &self.target;
        if !self.changed {
            if self.existing.is_some() {
                keep_private(target, self.mode, out)?;
            }
            return Ok(());
        }
        if self.existing.is_some()
            && (self.mode & 0o200 == 0
                || rustix::fs::access(target, rustix::fs::Access::WRITE_OK).is_err())
        {
            return Err(Error::input(format!(
                "{} is read-only: setup changes it only once you let it (chmod u+w)",
                target.display()
            ))
            .into());
        }
        let mut dropped = false;
        if let Some(text) = &self.existing {
            let backed_up = without_headers(text, target)?;
            dropped = backed_up != *text;
            // The file that holds the token: its backup is the user's alone, whatever it is.
            settings_file::back_up_saying(target, &backed_up, settings_file::PRIVATE, out)?;
        }
        settings_file::replace(
            target,
            &self.settings.to_text(),
            self.existing.as_deref(),
            true,
        )
        .with_context(|| format!("cannot write {}", target.display()))?;
        if self.existing.is_some() {
            say_made_private(target, self.mode, out)?;
        }
        for line in &self.said {
            writeln!(
                out,
                "{line} of {}. {}",
                target.display(),
                kept_in_backup(dropped)
            )?;
        }
        Ok(())
    }

    /// Where the token went.
    pub(crate) fn path(&self) -> &Path {
        &self.target
    }
}
