//! Waiting in tests on what happened, never on the clock: a condition polled until it holds,
//! and a process waited for until it ends, each bounded by a minute only against a hang.
//!
//! CI runs the suite on a loaded two-core machine, where anything may take seconds: a bound
//! here never tells fast from slow (`cargo bench` measures speed), only "happened" from "never
//! will", and says which when it is reached.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long a test waits for what must happen before it calls it a hang.
pub const HANG: Duration = Duration::from_secs(60);

/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(20);

/// Waits until `done` holds; fails, naming `what`, after [`HANG`].
#[track_caller]
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < HANG,
            "waited {HANG:?} in vain until {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// Waits for `child` to end by itself and returns how; kills it and fails, naming `what`, when
/// it is still running after [`HANG`].
#[track_caller]
pub fn ends_by_itself(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() >= HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {HANG:?}, killed");
        }
        std::thread::sleep(POLL);
    }
}

#[test]
fn wait_until_returns_once_the_condition_holds() {
    let mut looked = 0;
    wait_until("it was looked at three times", || {
        looked += 1;
        looked == 3
    });
    assert_eq!(looked, 3);
}

#[test]
fn ends_by_itself_returns_the_exit_status() {
    let mut child = std::process::Command::new("sh")
        .args(["-c", "exit 3"])
        .spawn()
        .unwrap();
    assert_eq!(ends_by_itself(&mut child, "sh").code(), Some(3));
}
