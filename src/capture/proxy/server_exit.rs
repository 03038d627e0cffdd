//! The stdio server's exit, watched while its output is read: once the server has exited, the
//! relay ends when its output goes quiet for a while, even if a process it started still holds the pipe
//! (a `cmd &` in a launcher script). Reading on to the pipe's end held the proxy, the client
//! that waits for it, and the server's exit code for as long as that process lived, and a
//! client's SIGTERM could not end it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;

/// How long the output of a server that has exited may stay quiet before the relay ends: what
/// it wrote before it exited is in the pipe already, so this is only for a process it left
/// behind that is still writing.
pub const QUIET_AFTER_EXIT: Duration = Duration::from_millis(500);

/// One server's exit, as a pidfd (Linux 5.3 on) that polls readable once the process has ended.
#[derive(Debug)]
pub struct ServerExit {
    /// `None` where pidfds are not had: then the relay reads to the pipe's end, as it did.
    pidfd: Option<OwnedFd>,
    /// Whether the server was seen to have exited.
    exited: bool,
    quiet: Duration,
}

impl ServerExit {
    /// Watches the process `pid`, a child of this process not waited for yet (so its pid is
    /// still its own).
    pub fn of(pid: u32) -> ServerExit {
        ServerExit {
            pidfd: pidfd(pid),
            exited: false,
            quiet: QUIET_AFTER_EXIT,
        }
    }

    /// Waits until `output` has bytes to read, or has ended: true. False when the server has
    /// exited and `output` has had nothing to read for [`QUIET_AFTER_EXIT`] since this call
    /// (the wait starts again at each call, so a process still writing is read to its end).
    pub fn readable(&mut self, output: BorrowedFd<'_>) -> bool {
        let Some(pidfd) = &self.pidfd else {
            return true;
        };
        let quiet = Timespec {
            tv_sec: self.quiet.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: self.quiet.subsec_nanos().into(),
        };
        loop {
            let mut fds = [
                PollFd::from_borrowed_fd(output, PollFlags::IN),
                PollFd::from_borrowed_fd(pidfd.as_fd(), PollFlags::IN),
            ];
            // Once it has exited, only the output is waited on, and for a while.
            let (watched, timeout) = if self.exited {
                (1, Some(&quiet))
            } else {
                (2, None)
            };
            let ready = match poll(&mut fds[..watched], timeout) {
                Ok(ready) => ready,
                Err(Errno::INTR) => continue,
                // Cannot wait on both: the read waits on the output alone, as it did.
                Err(_) => return true,
            };
            if !fds[0].revents().is_empty() {
                return true;
            }
            if ready == 0 {
                return false;
            }
            if watched == 2 && !fds[1].revents().is_empty() {
                self.exited = true;
            }
        }
    }
}

/// A pidfd of the child `pid`; `None` where there is none to be had (not Linux, before 5.3, a
/// sandbox that refuses the call).
#[cfg(target_os = "linux")]
fn pidfd(pid: u32) -> Option<OwnedFd> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

#[cfg(not(target_os = "linux"))]
fn pidfd(_pid: u32) -> Option<OwnedFd> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    /// A server that exits while a process it started holds its output open ends the wait once
    /// the output is quiet; one with output to read, or whose output ended, is read.
    #[test]
    fn an_exited_server_ends_the_wait_once_its_output_is_quiet() {
        let mut server = Command::new("sh")
            .args(["-c", "echo hello; sleep 5 & exit 3"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut watch = ServerExit::of(server.id());
        watch.quiet = Duration::from_millis(50);
        let mut output = server.stdout.take().unwrap();
        // "hello" is there to read.
        assert!(watch.readable(output.as_fd()));
        let mut line = [0u8; 6];
        std::io::Read::read_exact(&mut output, &mut line).unwrap();
        assert_eq!(&line, b"hello\n");
        let started = Instant::now();
        assert!(!watch.readable(output.as_fd()));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(server.wait().unwrap().code(), Some(3));

        let (reader, mut writer) = std::io::pipe().unwrap();
        let mut alive = Command::new("sleep").arg("5").spawn().unwrap();
        let mut watch = ServerExit::of(alive.id());
        writer.write_all(b"x").unwrap();
        assert!(watch.readable(reader.as_fd()));
        drop(writer);
        alive.kill().unwrap();
        alive.wait().unwrap();
    }
}
