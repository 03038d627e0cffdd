//! What a watch does to the agent's process: pause, continue, stop, and the post-mortem and
//! `--on-death` command that follow a stop.
//!
//! Every signal goes through [`AgentProcess::signal`], which checks that the pid still names
//! the process the hooks recorded (same start time), so a pid the kernel gave to another
//! process since is never signalled.

use std::path::Path;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::capture::process::{AgentProcess, Liveness};

/// How long a stopped agent has to exit after SIGTERM before SIGKILL.
pub(super) const GRACE: Duration = Duration::from_secs(5);

/// How often the end of a stopped agent is looked for during the grace period.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// Pauses the agent (SIGSTOP), and then the commands it runs: stopped first, it starts no
/// more of them.
pub(super) fn pause(agent: &AgentProcess) -> std::io::Result<()> {
    agent.signal(Signal::STOP)?;
    // Twice: a command may have started another between the first look and its stop.
    for _ in 0..2 {
        to_each(&agent.descendants(), Signal::STOP);
    }
    Ok(())
}

/// Continues a paused agent (SIGCONT), the commands it runs first (they are its still: a
/// stopped process's children are not handed on).
pub(super) fn resume(agent: &AgentProcess) -> std::io::Result<()> {
    to_each(&agent.descendants(), Signal::CONT);
    agent.signal(Signal::CONT)
}

/// Stops the agent and the commands it runs: SIGTERM (and SIGCONT, since a paused process
/// cannot act on SIGTERM), then SIGKILL to what is still there after [`GRACE`]. The commands
/// are found before the agent is signalled: once it exits they are init's, and a kill of the
/// agent alone left its running `rm -rf` or deploy going. Returns the signal that ended the
/// agent.
pub(super) fn kill(agent: &AgentProcess) -> std::io::Result<&'static str> {
    let mut commands = agent.descendants();
    agent.signal(Signal::TERM)?;
    to_each(&commands, Signal::TERM);
    // Again: a command may have started another between the first look and its signal.
    let later: Vec<AgentProcess> = agent
        .descendants()
        .into_iter()
        .filter(|p| !commands.contains(p))
        .collect();
    to_each(&later, Signal::TERM);
    commands.extend(later);
    if agent.liveness() == Liveness::Stopped {
        let _ = agent.signal(Signal::CONT);
    }
    to_each(&commands, Signal::CONT);
    let gone = |p: &AgentProcess| p.liveness() == Liveness::Gone;
    let start = Instant::now();
    while start.elapsed() < GRACE && !(gone(agent) && commands.iter().all(gone)) {
        std::thread::sleep(LOOK_EVERY);
    }
    to_each(&commands, Signal::KILL);
    if gone(agent) {
        return Ok("SIGTERM");
    }
    match agent.signal(Signal::KILL) {
        Ok(()) => Ok("SIGKILL"),
        // It exited between the last look and the signal.
        Err(_) if agent.liveness() == Liveness::Gone => Ok("SIGTERM"),
        Err(e) => Err(e),
    }
}

/// Sends `signal` to each of `processes` still there, each checked as the agent is (a pid
/// given to another process since is never signalled).
fn to_each(processes: &[AgentProcess], signal: Signal) {
    for process in processes {
        if process.liveness() != Liveness::Gone {
            let _ = process.signal(signal);
        }
    }
}

/// Starts the guard of an agent about to be paused: this binary as `watch --guard
/// PID:STARTED`, in a process group of its own (a Ctrl-C or hang-up meant for the watch does
/// not reach it), its stdin a pipe whose other end only this watch holds. It is started before
/// the SIGSTOP, never after: a watch killed between the two left an agent stopped for good.
pub(super) fn start_guard(agent: &AgentProcess) -> std::io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    std::process::Command::new(exe)
        .args([
            "watch",
            "--guard",
            &format!("{}:{}", agent.pid, agent.started),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
}

/// How long a guard whose watch died looks for the agent to stop: the watch may have sent the
/// SIGSTOP just before it died, and the kernel stops a process only once it next runs.
const STOP_IN_FLIGHT: Duration = Duration::from_secs(2);

/// The guard's life: wait until the watch's end of stdin closes (the watch was killed
/// outright; a watch that ends any other way continues the agent and ends its guard itself),
/// then continue the agent if it is stopped, or stops within [`STOP_IN_FLIGHT`].
pub(super) fn guard(agent: &str) -> anyhow::Result<u8> {
    use std::io::Read;
    let parsed = agent.split_once(':').and_then(|(pid, started)| {
        Some(AgentProcess {
            pid: pid.parse().ok()?,
            started: started.parse().ok()?,
        })
    });
    let Some(agent) = parsed else {
        return Err(crate::error::Error::usage(format!(
            "--guard takes PID:STARTED, not `{agent}`"
        ))
        .into());
    };
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    let start = Instant::now();
    loop {
        match agent.liveness() {
            Liveness::Stopped => {
                let _ = resume(&agent);
                break;
            }
            Liveness::Gone => break,
            _ if start.elapsed() >= STOP_IN_FLIGHT => break,
            Liveness::Running => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Ok(crate::exit::OK)
}

/// Splits an `--on-death` command into words as a shell would (quotes and backslashes), with
/// `{post_mortem_path}` put in each word afterwards: the path is one argument whatever it
/// holds, and no shell ever reads it.
pub(super) fn on_death_argv(command: &str, post_mortem: &Path) -> Result<Vec<String>, String> {
    let path = post_mortem.to_string_lossy();
    let words = split_words(command)?;
    if words.is_empty() {
        return Err("--on-death names no command".to_owned());
    }
    Ok(words
        .into_iter()
        .map(|w| w.replace("{post_mortem_path}", &path))
        .collect())
}

fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("--on-death has an unclosed '".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("--on-death has an unclosed \"".to_owned()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("--on-death has an unclosed \"".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_death_words_split_like_a_shell_and_the_path_stays_one_word() {
        let argv = on_death_argv(
            "python 'recover me.py' --post-mortem {post_mortem_path} \"a b\"",
            Path::new("/t/x y; rm -rf ~/watchdog-postmortem.json"),
        )
        .unwrap();
        assert_eq!(
            argv,
            [
                "python",
                "recover me.py",
                "--post-mortem",
                "/t/x y; rm -rf ~/watchdog-postmortem.json",
                "a b"
            ]
        );
        assert!(on_death_argv("echo 'open", Path::new("/p")).is_err());
        assert!(on_death_argv("   ", Path::new("/p")).is_err());
    }
}
