//! Which Claude Code release is installed, asked of `claude --version`, so that `setup` writes
//! no hook event that release would reject (and with it the whole settings file).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::capture::hooks::claude_code::{Version, parse_version};

/// How long `claude --version` may take: a release prints at once; a `claude` that waits (a
/// wrapper asking something) must not hold `setup`.
const PATIENCE: Duration = Duration::from_secs(5);

/// The release the `claude` on PATH says it is, or `None` when there is none, it did not
/// answer in time, or its answer is not a release.
pub(crate) fn installed() -> Option<Version> {
    let mut child = Command::new("claude")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < PATIENCE => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut printed = String::new();
    // A version is a line: more is not one, and a child that handed its pipe on must not
    // make this read wait for a grandchild.
    child
        .stdout
        .take()?
        .take(4096)
        .read_to_string(&mut printed)
        .ok()?;
    parse_version(&printed)
}
