//! How a command's result becomes an exit code, and its error one line on stderr.

use std::io::{self, Write};
use std::process::ExitCode;

use super::globals::Format;
use crate::error::Error;
use crate::exit;
use crate::model::SessionMeta;
use crate::model::meta::Unbelievable;
use crate::model::period::PeriodStarts;
use crate::model::text::count_as;
use crate::render::escape::{Escaping, escape};
use crate::store::{BadLine, SessionSummary, Store};

/// Turns a command's result into its exit code, printing an error as one line (and its hints).
pub(crate) fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if Error::is_broken_pipe(&err) => ExitCode::from(exit::OK),
        Err(err) => {
            let no_store = err.chain().any(|cause| {
                matches!(
                    cause.downcast_ref::<crate::store::StoreError>(),
                    Some(crate::store::StoreError::NoStore(_))
                )
            });
            let error = Error::from(err);
            match super::globals::workspace() {
                // The store's path is the workspace's, whatever folder is named: `--trace-dir`
                // reads that folder's workspace too, so the usual hint would send the user round.
                Ok(Some(name)) if no_store => fail(&error.with_hints_instead(vec![format!(
                    "{env}={name} reads the workspace `{name}` of the store, which has no \
                     sessions yet: unset {env} to read the store itself",
                    env = super::globals::WORKSPACE_ENV
                )])),
                _ => fail(&error),
            }
        }
    }
}

/// Prints `err` and returns its exit code: the one place an error reaches the user.
pub(crate) fn fail(err: &Error) -> ExitCode {
    let _ = io::stderr().write_all(escape(&err.report()).as_bytes());
    ExitCode::from(err.exit_code())
}

/// A mistake in how a command was called that clap cannot see (a bad `--filter` value, say).
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    Error::usage(message).into()
}

/// Refuses an `--output` file whose folder does not exist, before any work is done: a path
/// named on the command line that is not there is bad usage (exit 2), as `exit::USAGE` says,
/// not a failed write. A link or anything but a regular file there is refused now too, as
/// [`replace_file`] refuses it (exit 3), not after the work (`share` of 20,000 events rendered
/// its page for 47 s first); the write checks again, for one put there meanwhile. A file in
/// a trace store is refused too ([`outside_store`]).
pub(crate) fn output_folder(
    path: Option<&std::path::Path>,
    store: &std::path::Path,
) -> anyhow::Result<()> {
    folder_for(path, "--output")?;
    if let Some(path) = path {
        outside_store(path, store, "--output")?;
        replaced_mode(path)?;
    }
    Ok(())
}

/// Refuses a file named by `flag` inside a trace store or a session's folder (exit 2), before
/// any work is done: written there, `export -o .agent-traces/<id>/events.ndjson` replaced the
/// session's events with CSV, every event lost, and the index could be replaced so too. The
/// folder the file goes in is taken by its canonical path (the nearest folder of it that
/// exists, for a command that makes the rest), so `x/../.agent-traces/<id>/…` or a link to the
/// store is caught too. It is refused inside `store`, the store the command reads, and inside
/// any store or session folder that what is on disk shows ([`crate::store::holder_of`]): with
/// `$AGENT_STRACE_WORKSPACE` set the store read is the workspace's, and the project's own store
/// around it, or one `--trace-dir` named, was written into. A list of the stores a command
/// could read would miss one it does not know of (another project's, a copy); what a folder
/// holds names every one. A store not there holds nothing to lose.
pub(crate) fn outside_store(
    path: &std::path::Path,
    store: &std::path::Path,
    flag: &str,
) -> anyhow::Result<()> {
    use crate::store::Holder;
    let folder = path.parent().unwrap_or(std::path::Path::new(""));
    let Some(real) = folder
        .ancestors()
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                dir
            }
        })
        .find_map(|dir| dir.canonicalize().ok())
    else {
        return Ok(());
    };
    let holder = match store.canonicalize() {
        Ok(store) if real.starts_with(&store) => Holder::Store(store),
        _ => match crate::store::holder_of(&real) {
            Some(holder) => holder,
            None => return Ok(()),
        },
    };
    let (what, dir) = match holder {
        Holder::Store(dir) => ("the trace store", dir),
        Holder::Session(dir) => ("the trace store's session folder", dir),
    };
    Err(Error::usage(format!(
        "cannot write {flag} {}: it is inside {what} {}, whose files are the sessions' own; \
         name a file outside it",
        path.display(),
        dir.display()
    ))
    .into())
}

/// Refuses `-` as the file named by `flag`: many tools take it for standard output, and a file
/// named `-` in the current folder was a surprise.
pub(crate) fn not_dash(path: Option<&std::path::Path>, flag: &str) -> anyhow::Result<()> {
    if path.is_some_and(|path| path.as_os_str() == "-") {
        return Err(Error::usage(format!("cannot write {flag} -"))
            .with_hint(format!(
                "a command that writes to standard output does so when {flag} is left out; for a file named -, name ./-"
            ))
            .into());
    }
    Ok(())
}

/// Refuses a file named by `flag` with a name ending in `/`, before any work is done: `new/`
/// or `file/` names a folder, where a file is to be written. The path drops the `/` (its
/// parent is `.`), and the write failed at the end as an I/O error (exit 4) with "Not a
/// directory". A folder that is there is refused where the file is written, as one named
/// without the `/` is. For a command that makes the file's folder, which [`folder_for`] would
/// refuse when missing.
pub(crate) fn not_a_folder_name(path: &std::path::Path, flag: &str) -> anyhow::Result<()> {
    if std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).ends_with(b"/") && !path.is_dir() {
        return Err(Error::usage(format!("cannot write {}", path.display()))
            .with_hint(format!(
                "a name ending in / names a folder: name a file for {flag}"
            ))
            .into());
    }
    Ok(())
}

/// [`output_folder`] for a file named by `flag` (`--target`).
pub(crate) fn folder_for(path: Option<&std::path::Path>, flag: &str) -> anyhow::Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    not_dash(Some(path), flag)?;
    not_a_folder_name(path, flag)?;
    let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let hint = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => format!("{} is not a folder", dir.display()),
        Err(_) => format!(
            "the folder {} does not exist: create it, or name another {flag}",
            dir.display()
        ),
    };
    Err(Error::usage(format!("cannot write {}", path.display()))
        .with_hint(hint)
        .into())
}

/// Writes the file whole under a temporary name beside it and renames it into place, so a
/// reader never sees half of it; a link or anything but a regular file where it goes is
/// refused. A file replaced keeps its mode (a private file stays private); a new one is made
/// with `new_mode` (less the umask). The temporary name is new to this run (process id and a
/// count, created exclusively, so never through a link): one a killed run left behind is
/// stepped over, never written into.
pub(crate) fn replace_file(
    path: &std::path::Path,
    lines: &[impl AsRef<[u8]>],
    new_mode: u32,
) -> anyhow::Result<()> {
    replace_file_with(path, new_mode, |file| {
        for line in lines {
            file.write_all(line.as_ref())?;
        }
        Ok(())
    })
}

/// The mode of the file [`replace_file`] would replace at `path`, `None` when there is none;
/// a link or anything but a regular file there is refused (exit 3).
fn replaced_mode(path: &std::path::Path) -> anyhow::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::input(format!(
            "{} is not a regular file (a link, a folder …): name another file",
            path.display()
        ))
        .into()),
        Ok(meta) => Ok(Some(meta.permissions().mode() & 0o7777)),
        Err(_) => Ok(None),
    }
}

/// [`replace_file`] with what `write` writes, as it goes: a file of a session need not be
/// held whole first. An error of `write`'s own (a session that cannot be read) leaves no file,
/// as a failed write does.
pub(crate) fn replace_file_with(
    path: &std::path::Path,
    new_mode: u32,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let old = replaced_mode(path)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path.file_name().unwrap_or(std::ffi::OsStr::new("output"));
    let fail = |e: std::io::Error| Error::io(format!("cannot write {}: {e}", path.display()));
    let mut n = 0;
    let (temp, mut file) = loop {
        let temp = dir.join(temp_name(name, std::process::id(), n));
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(old.unwrap_or(new_mode))
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
            .open(&temp);
        match opened {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(fail(e).into()),
        }
    };
    let written = (|| -> anyhow::Result<()> {
        if let Some(mode) = old {
            // The mode given at creation passed through the umask: set it as it was.
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut file);
        write(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        file.sync_all()?;
        Ok(std::fs::rename(&temp, path)?)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(match e.downcast::<io::Error>() {
            Ok(e) => fail(e).into(),
            Err(e) => e,
        });
    }
    Ok(())
}

/// How long a temporary name may be whatever the name it stands for: shorter than any file
/// system's longest name.
const SHORT_NAME: usize = 64;

/// The temporary name of `name` for the `n`th try of process `pid`: hidden, and never longer
/// than `name` itself unless that is shorter than [`SHORT_NAME`] bytes. A name as long as the
/// file system allows (255 bytes on most) was refused as too long by its temporary name, which
/// added 25 bytes to it; the part of `name` the temporary name keeps is only for a person to
/// see what it was for, so it is cut (between characters when it is UTF-8).
fn temp_name(name: &std::ffi::OsStr, pid: u32, n: u32) -> std::ffi::OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let suffix = format!(".agent-strace-{pid}-{n}.tmp");
    let name = name.as_bytes();
    let room = name.len().max(SHORT_NAME) - 1 - suffix.len();
    let mut keep = name.len().min(room);
    if let Ok(text) = std::str::from_utf8(name) {
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
    }
    let mut temp = Vec::with_capacity(1 + keep + suffix.len());
    temp.push(b'.');
    temp.extend_from_slice(&name[..keep]);
    temp.extend_from_slice(suffix.as_bytes());
    std::ffi::OsString::from_vec(temp)
}

/// Writes `text` to stderr as it is. Diagnostics go through here (or [`warn`]), never through
/// `eprintln!`: a stderr that cannot be written (closed, full) must not stop a command, let
/// alone a hook, so what cannot be written is dropped.
pub(crate) fn to_stderr(text: std::fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(text);
}

/// The privacy flags a proxy (`record`, `record-http`) was given: its warnings quote what it
/// relays and where (a server's command line, an upstream URL with a token in its path, the
/// store's answer), and go where a terminal, a CI log or a redirect keeps them, so they are
/// scrubbed as its events and its lines in hook-errors.log are. Set once, when the flags are
/// read; the warnings are told through plain `fn(&str)`s, which hold nothing.
static PROXY_PRIVACY: std::sync::OnceLock<crate::capture::sink::Privacy> =
    std::sync::OnceLock::new();

/// Scrubs this process's proxy warnings ([`proxy_warn`]) with `privacy` from now on.
pub(crate) fn scrub_proxy_warnings(privacy: &crate::capture::sink::Privacy) {
    let _ = PROXY_PRIVACY.set(privacy.clone());
}

/// A proxy's warning on stderr, `prefix: message`, scrubbed with its privacy flags.
pub(crate) fn proxy_warn(prefix: &str, message: &str) {
    let message = PROXY_PRIVACY
        .get()
        .map_or(std::borrow::Cow::Borrowed(message), |p| {
            p.apply_str(message)
        });
    to_stderr(format_args!("{prefix}: {message}\n"));
}

/// A session's summary, with a warning when its `meta.json` could not be used and the session
/// is described by its events instead.
pub(crate) fn summary(store: &Store, id: &str) -> anyhow::Result<SessionSummary> {
    Ok(warned(store.summary(id)?))
}

/// [`summary`] with the whole of `meta.json` ([`Store::whole_summary`]), for a command that
/// gives the session's meta itself: a view leaves out what no view shows of it.
pub(crate) fn whole_summary(store: &Store, id: &str) -> anyhow::Result<SessionSummary> {
    Ok(warned(store.whole_summary(id)?))
}

/// `summary`, once its warning, if any, is said.
fn warned(summary: SessionSummary) -> SessionSummary {
    if let Some(warning) = summary.meta_warning() {
        warn(warning);
    }
    summary
}

/// One warning line on stderr, its text escaped (it may quote a session); a stderr that cannot
/// be written is no reason to fail.
pub(crate) fn warn(text: impl std::fmt::Display) {
    let line = format!("warning: {}\n", escape(&text.to_string()));
    let _ = io::stderr().write_all(line.as_bytes());
}

/// Warns once that session `id` holds figures no session can (see
/// [`crate::model::SessionMeta::unbelievable`]), naming them with their values and saying how
/// the view gives them; nothing when it holds none.
pub(crate) fn warn_unbelievable(id: &str, fields: &Unbelievable, format: Format) {
    let done = match format {
        Format::Text => "shown as ?",
        Format::Json => "given as null",
    };
    if let Some(warning) = fields.warning(id, done) {
        warn(warning);
    }
}

/// The start to place session `meta` in a period by ([`PeriodStarts::start`]): `None` for one
/// after a period that ends now (counted for [`warn_ahead`]), and, with one warning, for one no
/// session can have, which is in no period.
pub(crate) fn start_in_period(period: &mut PeriodStarts, meta: &SessionMeta) -> Option<f64> {
    period.start(meta).map_err(warn).ok().flatten()
}

/// Warns once of the sessions `period`, which ended now, left out for starting after it.
pub(crate) fn warn_ahead(period: &PeriodStarts) {
    if let Some(warning) = period.warning() {
        warn(warning);
    }
}

/// Warns on stderr about lines a reader skipped.
pub(crate) fn warn_bad_lines(bad: &[BadLine], total: u64) {
    let mut stderr = io::stderr().lock();
    for line in bad {
        let _ = writeln!(stderr, "warning: {}", escape(&line.to_string()));
    }
    let shown = bad.len() as u64;
    if total > shown {
        let more = count_as(total - shown, "more malformed line", "more malformed lines");
        let _ = writeln!(stderr, "warning: {more} skipped");
    }
}

/// Standard output, buffered; commands write through it and flush at the end. Whatever is
/// written has its control characters escaped (see [`Escaping`]): reports quote sessions, and
/// a session must not drive the terminal; our own colour passes when `colour` is on.
pub(crate) fn stdout(colour: bool) -> io::BufWriter<Escaping<io::StdoutLock<'static>>> {
    io::BufWriter::with_capacity(64 * 1024, Escaping::new(io::stdout().lock(), colour))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use super::{SHORT_NAME, temp_name};

    #[test]
    fn a_temporary_name_is_never_longer_than_a_long_name_it_stands_for() {
        for len in [1, 30, SHORT_NAME, 100, 200, 240, 255] {
            let name = "b".repeat(len);
            let temp = temp_name(OsStr::new(&name), u32::MAX, 999);
            let temp = temp.as_bytes();
            assert!(temp.len() <= len.max(SHORT_NAME), "{len}: {}", temp.len());
            assert!(temp.starts_with(b".b") && temp.ends_with(b"-999.tmp"));
        }
        let short = temp_name(OsStr::new("page.html"), 42, 0);
        assert_eq!(short, ".page.html.agent-strace-42-0.tmp");
    }

    #[test]
    fn a_utf8_name_is_cut_between_characters_and_any_other_between_bytes() {
        let name = "é".repeat(120);
        let temp = temp_name(OsStr::new(&name), 42, 0);
        let text = temp.to_str().expect("still UTF-8");
        assert!(text.len() <= name.len() && text.contains("éé"));
        let bytes = [0xff_u8; 250];
        let temp = temp_name(OsStr::from_bytes(&bytes), 42, 0);
        assert!(temp.as_bytes().len() <= bytes.len());
    }
}
