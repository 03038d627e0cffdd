//! The agent's process: found by the hooks (their parent) and by `record` (its child), recorded
//! in the session's `session_start`, and later checked and signalled by `watch`.
//!
//! A pid alone names a process only while it lives: once it exits, the kernel may give the
//! number to another. So a process is recorded with its start time (clock ticks after boot,
//! field 22 of `/proc/<pid>/stat`), and nothing is signalled unless the process under that
//! pid still started then. Where there is no `/proc`, no process is recorded or signalled.
//! On Linux the signal goes through a pidfd opened before that check, so the number cannot be
//! given to another process between the check and the signal.
//!
//! Whoever writes a session's events can name any process of the user's in them, so some are
//! never signalled whatever a session says: init, the process that would send the signal, and
//! its ancestors (the shell or terminal a watch runs in). No agent a watch follows is one of
//! them, and losing one harms the user most.

use std::io;

use rustix::process::{Pid, Signal};

/// A process, named so that a reused pid is never taken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgentProcess {
    pub pid: u32,
    /// When it started, in clock ticks after boot.
    pub started: u64,
}

/// What became of a recorded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Running,
    /// Stopped by a signal (SIGSTOP, SIGTSTP): state `T`.
    Stopped,
    /// Gone: exited (a zombie counts), or its pid now names another process.
    Gone,
}

/// The fields of `/proc/<pid>/stat` a check needs.
#[derive(Debug, Clone, Copy)]
struct Stat {
    state: u8,
    ppid: u32,
    started: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    Some(Stat {
        state: *fields.first()?.as_bytes().first()?,
        ppid: fields.get(1)?.parse().ok()?,
        started: fields.get(19)?.parse().ok()?,
    })
}

/// Whether `pid` is a shell running `-c` with a hook command: the wrapper an agent starts a
/// hook through, not the agent itself.
fn is_hook_shell(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let shell = args
        .first()
        .and_then(|a| a.rsplit(|&b| b == b'/').next())
        .is_some_and(|name| matches!(name, b"sh" | b"bash" | b"dash" | b"zsh"));
    shell
        && args.get(1).is_some_and(|a| *a == b"-c")
        && args
            .get(2)
            .is_some_and(|c| c.windows(5).any(|w| w == b"hook "))
}

impl AgentProcess {
    /// The process `pid` as it is now; `None` when it is not there (or there is no `/proc`).
    pub fn of(pid: u32) -> Option<AgentProcess> {
        let stat = stat(pid)?;
        Some(AgentProcess {
            pid,
            started: stat.started,
        })
    }

    /// The agent that ran this hook: the parent process, or the parent's parent when the
    /// parent is the `sh -c` an agent wraps a hook command in (it exits with the hook).
    pub fn of_hook() -> Option<AgentProcess> {
        let parent = rustix::process::getppid()?
            .as_raw_nonzero()
            .get()
            .cast_unsigned();
        if is_hook_shell(parent) {
            let grandparent = stat(parent)?.ppid;
            return AgentProcess::of(grandparent).filter(|_| grandparent > 1);
        }
        AgentProcess::of(parent).filter(|_| parent > 1)
    }

    /// The processes it started and theirs, as they are now, parents before their children:
    /// an agent's running tool commands (a `bash -c` and what it runs), which a signal to the
    /// agent alone leaves running (paused, the agent's command went on writing; killed, it
    /// went on under init). Only those of the agent's own user; none when it is gone.
    pub fn descendants(&self) -> Vec<AgentProcess> {
        if self.liveness() == Liveness::Gone {
            return Vec::new();
        }
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut children: std::collections::HashMap<u32, Vec<(u32, Stat)>> =
            std::collections::HashMap::new();
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(stat) = stat(pid) {
                children.entry(stat.ppid).or_default().push((pid, stat));
            }
        }
        let owner = self.owner();
        let mut found = Vec::new();
        let mut next = vec![self.pid];
        // Bounded: /proc changes as it is read, and a pid may come round again.
        while let Some(parent) = next.pop() {
            for (pid, stat) in children.remove(&parent).unwrap_or_default() {
                let child = AgentProcess {
                    pid,
                    started: stat.started,
                };
                if found.len() < 4096 && child.owner() == owner {
                    found.push(child);
                    next.push(pid);
                }
            }
        }
        found
    }

    /// What the process is now: running, stopped, or gone (its pid free or reused).
    pub fn liveness(&self) -> Liveness {
        match stat(self.pid) {
            Some(now) if now.started == self.started => match now.state {
                b'T' | b't' => Liveness::Stopped,
                b'Z' | b'X' | b'x' => Liveness::Gone,
                _ => Liveness::Running,
            },
            _ => Liveness::Gone,
        }
    }

    /// The user the process runs as (the owner of its `/proc` folder); `None` when it is gone.
    pub fn owner(&self) -> Option<u32> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/proc/{}", self.pid))
            .ok()
            .map(|m| m.uid())
    }

    /// Why this process is never signalled, whatever a session recorded: it is init, this
    /// process, or one of this process's ancestors. `None` for any other process.
    pub fn never_signalled(&self) -> Option<&'static str> {
        let me = std::process::id();
        if self.pid <= 1 {
            return Some("init");
        }
        if self.pid == me {
            return Some("this watch itself");
        }
        // Bounded: a process tree is shallow, and /proc may change as it is read.
        let mut pid = me;
        for _ in 0..256 {
            let Some(parent) = stat(pid).map(|s| s.ppid).filter(|&p| p > 1) else {
                break;
            };
            if parent == self.pid {
                return Some("an ancestor of this watch (the shell or terminal it runs in)");
            }
            pid = parent;
        }
        None
    }

    /// Sends `signal`, after checking that the pid still names this process and is not one
    /// that is never signalled.
    ///
    /// The pidfd is opened first: it names whichever process has the pid then, for as long as
    /// that one lives. If the process under the pid started when this one did once the pidfd is
    /// open, the pidfd names this process, and the signal reaches it or nothing (it exited
    /// since), never a process the pid was given to between the check and the signal.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        if let Some(why) = self.never_signalled() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("process {} is {why}: never signalled", self.pid),
            ));
        }
        let exited = || {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("process {} has exited", self.pid),
            )
        };
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let pidfd = match open_pidfd(pid) {
            Err(rustix::io::Errno::SRCH) => return Err(exited()),
            pidfd => pidfd.map_err(io::Error::from)?,
        };
        if self.liveness() == Liveness::Gone {
            return Err(exited());
        }
        let sent = match &pidfd {
            Some(pidfd) => send_through(pidfd, signal),
            None => rustix::process::kill_process(pid, signal),
        };
        match sent {
            Err(rustix::io::Errno::SRCH) => Err(exited()),
            sent => sent.map_err(io::Error::from),
        }
    }
}

/// A child of this process, as its parent signals it: the pidfd is taken while the child
/// cannot have been reaped (its parent reaps it), so it names that child for good, and a signal
/// sent after the reaping reaches nothing rather than a process the pid was given to since.
/// Where there is no pidfd the signal goes by pid.
#[derive(Debug)]
pub struct OwnChild {
    pid: Pid,
    pidfd: Option<std::os::fd::OwnedFd>,
}

impl OwnChild {
    /// The child `pid` of this process, not reaped yet; `None` for a pid no process can have.
    pub fn new(pid: u32) -> Option<OwnChild> {
        let pid = i32::try_from(pid).ok().and_then(Pid::from_raw)?;
        Some(OwnChild {
            pid,
            pidfd: open_pidfd(pid).ok().flatten(),
        })
    }

    /// Sends `signal` to the child, by a system call: no `kill(1)` on the PATH is needed.
    pub fn signal(&self, signal: Signal) -> rustix::io::Result<()> {
        match &self.pidfd {
            Some(pidfd) => send_through(pidfd, signal),
            None => rustix::process::kill_process(self.pid, signal),
        }
    }

    /// Whether the child is in this process's process group, so that what the kernel sends to
    /// the group (a terminal's Ctrl-C) reaches it too. Not once it has left it.
    pub fn in_my_process_group(&self) -> bool {
        rustix::process::getpgid(Some(self.pid)).is_ok_and(|its| its == rustix::process::getpgrp())
    }
}

/// Of `signals`, those this process does not ignore: `nohup` starts a process ignoring SIGHUP,
/// a shell its background jobs ignoring SIGINT, and a process starts ignoring what its parent
/// ignored. Read from `/proc/self/status`; where there is none, none is taken as ignored.
pub fn not_ignored(signals: &[i32]) -> Vec<i32> {
    let ignored = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let mask = status
                .lines()
                .find_map(|line| line.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .unwrap_or(0);
    let is_ignored = |signal: i32| {
        u32::try_from(signal - 1)
            .ok()
            .and_then(|bit| ignored.checked_shr(bit))
            .is_some_and(|mask| mask & 1 == 1)
    };
    signals
        .iter()
        .copied()
        .filter(|&s| !is_ignored(s))
        .collect()
}

/// A pidfd naming the process under `pid` now; `None` where there is none to be had (before
/// Linux 5.3, a sandbox that refuses the call, not Linux): the signal then goes by pid, after
/// the same check.
#[cfg(target_os = "linux")]
fn open_pidfd(pid: Pid) -> rustix::io::Result<Option<std::os::fd::OwnedFd>> {
    use rustix::io::Errno;
    match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        Ok(pidfd) => Ok(Some(pidfd)),
        Err(Errno::NOSYS | Errno::PERM) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_pidfd(_pid: Pid) -> rustix::io::Result<Option<std::os::fd::OwnedFd>> {
    Ok(None)
}

#[cfg(target_os = "linux")]
fn send_through(pidfd: &std::os::fd::OwnedFd, signal: Signal) -> rustix::io::Result<()> {
    rustix::process::pidfd_send_signal(pidfd, signal)
}

#[cfg(not(target_os = "linux"))]
fn send_through(_pidfd: &std::os::fd::OwnedFd, _signal: Signal) -> rustix::io::Result<()> {
    Err(rustix::io::Errno::NOSYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_running_and_a_changed_start_is_another_process() {
        let me = AgentProcess::of(std::process::id()).expect("/proc/self");
        assert_eq!(me.liveness(), Liveness::Running);
        let other = AgentProcess {
            started: me.started + 1,
            ..me
        };
        assert_eq!(other.liveness(), Liveness::Gone);
        assert!(other.signal(Signal::CONT).is_err());
    }

    #[test]
    fn a_child_is_signalled_through_its_pidfd_and_once_reaped_it_has_exited() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let process = AgentProcess::of(child.id()).expect("/proc");
        process.signal(Signal::KILL).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        let error = process.signal(Signal::KILL).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
    }
}
