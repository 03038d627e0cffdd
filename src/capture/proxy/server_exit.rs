//! The stdio server's exit, watched while its output is read: once the server has exited, the
//! relay ends when its output goes quiet, even if a process it started still holds the pipe
//! (a `cmd &` in a launcher script). Reading on to the pipe's end held the proxy, the client
//! that waits for it, and the server's exit code for as long as that process lived, and a
//! client's SIGTERM could not end it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

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
    /// When the server was seen to have exited.
    exited: Option<Instant>,
    quiet: Duration,
}

impl ServerExit {
    /// Watches the process `pid`, a child of this process not waited for yet (so its pid is
    /// still its own).
    pub fn of(pid: u32) -> ServerExit {
        let pidfd = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .and_then(|pid| {
                rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
            });
        ServerExit {
            pidfd,
            exited: None,
            quiet: QUIET_AFTER_EXIT,
        }
    }

    /// Waits until `output` has bytes to read, or has ended: true. False when the server has
    /// exited and `output` stayed quiet for [`QUIET_AFTER_EXIT`] since: the relay ends there.
    pub fn readable(&mut self, output: BorrowedFd<'_>) -> bool {
        let Some(pidfd) = &self.pidfd else {
            return true;
        };
        loop {
            let wait = self
                .exited
                .map(|at| self.quiet.saturating_sub(at.elapsed()));
            if wait == Some(Duration::ZERO) {
                return false;
            }
            let timeout = wait.map(|left| Timespec {
                tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            });
            let mut fds = [
                PollFd::from_borrowed_fd(output, PollFlags::IN),
                PollFd::from_borrowed_fd(pidfd.as_fd(), PollFlags::IN),
            ];
            // Once it has exited, only the output is waited on.
            let watched = if self.exited.is_some() { 1 } else { 2 };
            match poll(&mut fds[..watched], timeout.as_ref()) {
                Ok(_) => {}
                Err(Errno::INTR) => continue,
                // Cannot wait on both: the read waits on the output alone, as it did.
                Err(_) => return true,
            }
            if !fds[0].revents().is_empty() {
                return true;
            }
            if watched == 2 && !fds[1].revents().is_empty() {
                self.exited = Some(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

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
