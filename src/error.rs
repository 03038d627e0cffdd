//! The one error type at the edge: what went wrong, the kind that picks the exit code, and
//! hints that say what to do. Every command's failure becomes one of these, printed in one place
//! as one line: `error: … (hint: …)`.

use std::fmt;
use std::io;

use crate::exit;
use crate::store::StoreError;

/// What kind of failure it is; the kind picks the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A mistake in how the command was called, or a session that cannot be selected.
    Usage,
    /// Input that cannot be used: a corrupt file, a session already in the store.
    Input,
    /// Reading or writing failed.
    Io,
    /// The command `record` should run is not there.
    CommandNotFound,
    /// The command `record` should run is there but cannot be run.
    CommandNotExecutable,
    /// A bug in agent-strace.
    Internal,
}

impl ErrorKind {
    /// The kind of a store error: a session that cannot be named is usage, a file that is not
    /// what it should be is input, the rest is I/O.
    pub fn of_store(err: &StoreError) -> ErrorKind {
        store_kind(err)
    }

    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Input => exit::INPUT,
            ErrorKind::Io => exit::IO,
            ErrorKind::CommandNotFound => exit::COMMAND_NOT_FOUND,
            ErrorKind::CommandNotExecutable => exit::COMMAND_NOT_EXECUTABLE,
            ErrorKind::Internal => exit::INTERNAL,
        }
    }
}

/// A failure with its kind and hints.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    /// The message with its causes, on one line.
    message: String,
    hints: Vec<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    pub fn input(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Input, message)
    }

    pub fn io(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, message)
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hints.push(hint.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The error with `hints` in place of those it had: a caller that knows more than the
    /// error's source (the workspace a store path was made of) says what to do instead.
    #[must_use]
    pub fn with_hints_instead(mut self, hints: Vec<String>) -> Error {
        self.hints = hints;
        self
    }

    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    /// The error as stderr shows it: one line, `error: …`, with its hints in brackets.
    pub fn report(&self) -> String {
        let mut text = format!("error: {}", self.message);
        for hint in &self.hints {
            text.push_str(" (hint: ");
            text.push_str(hint);
            text.push(')');
        }
        text.push('\n');
        text
    }

    /// Whether the failure is only that the reader of our output went away (`| head`).
    pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
        err.chain().any(|cause| {
            let io = cause.downcast_ref::<io::Error>().map(io::Error::kind);
            // serde_json's writers wrap the io::Error without naming it as their source.
            let json = || {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            };
            io.or_else(json) == Some(io::ErrorKind::BrokenPipe)
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Error {
        let message = err.to_string();
        let kind = store_kind(&err);
        let error = Error::new(kind, message);
        match err {
            StoreError::AmbiguousSession { .. } => {
                error.with_hint("give more characters of the session id")
            }
            StoreError::UnknownSession(_) => {
                error.with_hint("`agent-strace list --all` shows the sessions in the store")
            }
            StoreError::NoStore(_) => error.with_hint(NO_STORE_HINT),
            StoreError::NoSessions(_) => error.with_hint(
                "`agent-strace import --all` imports the sessions Claude Code kept, `agent-strace list --all-projects` lists every store's sessions",
            ),
            _ => error,
        }
    }
}

/// What to do when there is no store here: each way there is to one, in one line.
const NO_STORE_HINT: &str = "`agent-strace setup --write` records this project's sessions from now on, `agent-strace import --all` imports those Claude Code kept, `--trace-dir DIR` reads a store elsewhere, `agent-strace list --all-projects` lists every store's sessions";

fn store_kind(err: &StoreError) -> ErrorKind {
    match err {
        StoreError::NoStore(_)
        | StoreError::NoSessions(_)
        | StoreError::UnknownSession(_)
        | StoreError::AmbiguousSession { .. }
        | StoreError::InvalidSessionId(_) => ErrorKind::Usage,
        StoreError::Corrupt { .. }
        | StoreError::SessionExists(_)
        | StoreError::NotRegular { .. }
        | StoreError::UntrustedLink(_)
        | StoreError::ForeignStore(_)
        | StoreError::UnusableFolder { .. }
        | StoreError::LinkedSession { .. }
        | StoreError::KeptElsewhere { .. } => ErrorKind::Input,
        StoreError::Io { .. } | StoreError::LockTimeout(_) => ErrorKind::Io,
    }
}

impl From<anyhow::Error> for Error {
    /// The kind of the first cause that has one (our own error, a store error), else I/O: the
    /// failures left are reading and writing.
    fn from(err: anyhow::Error) -> Error {
        let message = chain_text(&err);
        for cause in err.chain() {
            if let Some(ours) = cause.downcast_ref::<Error>() {
                return Error {
                    kind: ours.kind,
                    message,
                    hints: ours.hints.clone(),
                };
            }
            if let Some(store) = cause.downcast_ref::<StoreError>() {
                let hints = Error::from(clone_store_shape(store)).hints;
                return Error {
                    kind: store_kind(store),
                    message,
                    hints,
                };
            }
        }
        Error::io(message)
    }
}

/// The causes of `err`, outermost first, joined by `: ` as anyhow's `{:#}` joins them, but
/// each said once: a cause whose text already ends the one before is left out. An error that
/// shows its source and also names it as its source (`StoreError::Io` is `{path}: {source}`,
/// as many errors are) printed the OS's reason twice: `…: Permission denied (os error 13):
/// Permission denied (os error 13)`.
pub(crate) fn chain_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut last = String::new();
    for cause in err.chain() {
        let said = cause.to_string();
        if said.is_empty() || (!last.is_empty() && last.ends_with(&said)) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
        last = said;
    }
    text
}

/// A copy of a store error good enough to pick its hints (store errors hold an `io::Error`,
/// which cannot be cloned).
fn clone_store_shape(err: &StoreError) -> StoreError {
    match err {
        StoreError::NoStore(p) => StoreError::NoStore(p.clone()),
        StoreError::NoSessions(p) => StoreError::NoSessions(p.clone()),
        StoreError::AmbiguousSession { prefix, candidates } => StoreError::AmbiguousSession {
            prefix: prefix.clone(),
            candidates: candidates.clone(),
        },
        StoreError::UnknownSession(s) => StoreError::UnknownSession(s.clone()),
        other => StoreError::Corrupt {
            path: std::path::PathBuf::new(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn kinds_pick_exit_codes_through_context() {
        let err: anyhow::Error =
            anyhow::Error::new(Error::usage("bad --filter")).context("reading the arguments");
        let e = Error::from(err);
        assert_eq!(e.exit_code(), exit::USAGE);
        assert_eq!(e.report(), "error: reading the arguments: bad --filter\n");
    }

    #[test]
    fn store_errors_carry_hints() {
        let err = Err::<(), _>(StoreError::UnknownSession("ab12".into()))
            .context("replay")
            .unwrap_err();
        let e = Error::from(err);
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(e.report().contains("(hint: `agent-strace list --all`"));
        assert_eq!(e.report().lines().count(), 1);
    }

    #[test]
    fn a_source_its_error_already_shows_is_said_once() {
        let os = std::io::Error::from_raw_os_error(13);
        let err = anyhow::Error::new(StoreError::io(std::path::Path::new("/s/events.ndjson"), os))
            .context("reading the session");
        let report = Error::from(err).report();
        assert_eq!(
            report,
            "error: reading the session: /s/events.ndjson: Permission denied (os error 13)\n"
        );
    }

    #[test]
    fn anything_else_is_io() {
        let e = Error::from(anyhow::anyhow!("disk on fire"));
        assert_eq!((e.kind(), e.exit_code()), (ErrorKind::Io, exit::IO));
    }
}
