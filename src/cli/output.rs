//! How a command's result becomes an exit code, and its error one line on stderr.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::exit;
use crate::store::{BadLine, StoreError};

/// Turns a command's result into its exit code, printing an error as one line.
pub(crate) fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(exit::OK),
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {err:#}");
            ExitCode::from(code_for(&err))
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return match store {
                StoreError::NoStore(_)
                | StoreError::NoSessions(_)
                | StoreError::UnknownSession(_)
                | StoreError::AmbiguousSession { .. }
                | StoreError::InvalidSessionId(_) => exit::USAGE,
                StoreError::Corrupt { .. } | StoreError::SessionExists(_) => exit::INPUT,
                StoreError::Io { .. } | StoreError::LockTimeout(_) => exit::IO,
            };
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return exit::USAGE;
        }
    }
    exit::IO
}

/// A mistake in how a command was called that clap cannot see (a bad `--filter` value, say).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// Warns on stderr about lines a reader skipped.
pub(crate) fn warn_bad_lines(bad: &[BadLine], total: u64) {
    let mut stderr = io::stderr().lock();
    for line in bad {
        let _ = writeln!(stderr, "warning: {line}");
    }
    let shown = bad.len() as u64;
    if total > shown {
        let _ = writeln!(
            stderr,
            "warning: {} more malformed lines skipped",
            total - shown
        );
    }
}

/// Standard output, buffered; commands write through it and flush at the end.
pub(crate) fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}
