//! Running a program under test: its environment, timed runs, and peak RSS through GNU time.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Res;

pub(crate) const GNU_TIME: &str = "/usr/bin/time";
/// Wall seconds, user and system CPU seconds, peak RSS in KiB.
pub(crate) const GNU_TIME_FORMAT: &str = "%e %U %S %M";

/// The binary cargo built for this bench (the `bench` profile, which inherits `release`).
pub(crate) fn our_binary() -> Res<PathBuf> {
    if let Some(bin) = std::env::var_os("AGENT_STRACE_BIN").filter(|b| !b.is_empty()) {
        return Ok(PathBuf::from(bin));
    }
    let candidates = [
        option_env!("CARGO_BIN_EXE_agent-strace").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/agent-strace")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .ok_or_else(|| "no agent-strace binary: run `cargo build --release` first".into())
}

pub(crate) fn gnu_time_works() -> bool {
    let Ok(dir) = tempfile::tempdir() else {
        return false;
    };
    let out = dir.path().join("rss");
    let ok = Command::new(GNU_TIME)
        .args(["-f", GNU_TIME_FORMAT, "-o"])
        .arg(&out)
        .arg("true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok && read_usage(&out).is_some()
}

/// One program under test, and the environment it runs in.
pub(crate) struct Tool {
    pub(crate) program: PathBuf,
    pub(crate) home: PathBuf,
    pub(crate) cwd: PathBuf,
    pub(crate) gnu_time: bool,
}

pub(crate) struct Cmd {
    pub(crate) args: Vec<String>,
    pub(crate) store: Option<PathBuf>,
    /// More environment variables.
    pub(crate) env: Vec<(&'static str, PathBuf)>,
}

/// `args` run against the store `store` (`AGENT_TRACE_DIR`), or no store.
pub(crate) fn command(store: Option<&Path>, args: &[&str]) -> Cmd {
    Cmd {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        store: store.map(Path::to_path_buf),
        env: Vec::new(),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Drain {
    /// stdout to /dev/null.
    No,
    /// stdout into a pipe that we read to the end, as a pager or `| less` would.
    Yes,
}

/// Wall times of the timed runs, the largest peak RSS seen, and what the command printed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sample {
    pub(crate) wall: Vec<Duration>,
    pub(crate) peak_kib: Option<u64>,
    /// The largest (user + system CPU time) / wall time of the runs under GNU time: above 1,
    /// the process kept more than one core busy.
    pub(crate) cpu_per_wall: Option<f64>,
    pub(crate) out_bytes: u64,
}

impl Sample {
    pub(crate) fn add_usage(&mut self, usage: Option<Usage>) {
        let Some(usage) = usage else { return };
        self.peak_kib = Some(
            self.peak_kib
                .map_or(usage.peak_kib, |p| p.max(usage.peak_kib)),
        );
        if usage.wall_s > 0.0 {
            let ratio = usage.cpu_s / usage.wall_s;
            self.cpu_per_wall = Some(self.cpu_per_wall.map_or(ratio, |r| r.max(ratio)));
        }
    }
}

impl Tool {
    /// Runs the command once; returns its wall time and how many bytes it printed. With
    /// `rss_file`, it runs under GNU time, which writes the peak RSS there.
    pub(crate) fn once(
        &self,
        cmd: &Cmd,
        stdin: Option<&[u8]>,
        drain: Drain,
        rss_file: Option<&Path>,
    ) -> Res<(Duration, u64)> {
        let mut command = self.command(cmd, stdin.is_some(), drain, rss_file);
        let started = Instant::now();
        let mut child = command.spawn()?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A hook may exit without reading all of stdin; that is its business.
            let _ = pipe.write_all(input);
        }
        let mut printed = 0u64;
        if let Some(mut out) = child.stdout.take() {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match out.read(&mut buf)? {
                    0 => break,
                    n => printed += n as u64,
                }
            }
        }
        let mut err = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut err);
        }
        let status = child.wait()?;
        let wall = started.elapsed();
        if !status.success() {
            return Err(self.failed(cmd, status, &err));
        }
        Ok((wall, printed))
    }

    /// Runs the command once, untimed, and returns what it printed on stdout.
    pub(crate) fn output(&self, cmd: &Cmd) -> Res<Vec<u8>> {
        let out = self.command(cmd, false, Drain::Yes, None).output()?;
        if !out.status.success() {
            return Err(self.failed(cmd, out.status, &String::from_utf8_lossy(&out.stderr)));
        }
        Ok(out.stdout)
    }

    pub(crate) fn failed(
        &self,
        cmd: &Cmd,
        status: std::process::ExitStatus,
        err: &str,
    ) -> Box<dyn std::error::Error> {
        format!(
            "`{} {}` exited with {status}: {}",
            self.program.display(),
            cmd.args.join(" "),
            err.trim()
        )
        .into()
    }

    pub(crate) fn command(
        &self,
        cmd: &Cmd,
        stdin: bool,
        drain: Drain,
        rss_file: Option<&Path>,
    ) -> Command {
        let mut command = match rss_file {
            Some(file) => {
                let mut c = Command::new(GNU_TIME);
                c.args(["-f", GNU_TIME_FORMAT, "-o"])
                    .arg(file)
                    .arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        command
            .args(&cmd.args)
            .current_dir(&self.cwd)
            .env("HOME", &self.home)
            .env("AGENT_STRACE_HOME", self.home.join("agent-strace-home"))
            .env("DO_NOT_TRACK", "1")
            .env("NO_COLOR", "1")
            .env_remove("CLAUDE_PROJECT_DIR")
            .env_remove("AGENT_STRACE_REDACT")
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(if drain == Drain::Yes {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped());
        match &cmd.store {
            Some(store) => command.env("AGENT_TRACE_DIR", store),
            None => command.env_remove("AGENT_TRACE_DIR"),
        };
        for (key, value) in &cmd.env {
            command.env(key, value);
        }
        command
    }

    /// Runs a command `warmup` times untimed, `runs` times timed and `rss_runs` times under
    /// GNU time.
    pub(crate) fn repeat(
        &self,
        cmd: &Cmd,
        stdin: Option<&[u8]>,
        drain: Drain,
        warmup: usize,
        runs: usize,
        rss_runs: usize,
    ) -> Res<Sample> {
        self.repeat_with(warmup, runs, rss_runs, |_, rss| {
            self.once(cmd, stdin, drain, rss)
        })
    }

    /// Like [`Tool::repeat`], with `step(i, rss_file)` doing (and timing) run `i`.
    pub(crate) fn repeat_with(
        &self,
        warmup: usize,
        runs: usize,
        rss_runs: usize,
        mut step: impl FnMut(usize, Option<&Path>) -> Res<(Duration, u64)>,
    ) -> Res<Sample> {
        let mut sample = Sample::default();
        for i in 0..warmup {
            step(i, None)?;
        }
        for i in warmup..warmup + runs {
            let (wall, out) = step(i, None)?;
            sample.wall.push(wall);
            sample.out_bytes = out;
        }
        if self.gnu_time {
            let dir = tempfile::tempdir()?;
            let file = dir.path().join("rss");
            for i in warmup + runs..warmup + runs + rss_runs {
                step(i, Some(&file))?;
                sample.add_usage(read_usage(&file));
            }
        }
        Ok(sample)
    }
}

/// What GNU time measured of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    pub(crate) wall_s: f64,
    pub(crate) cpu_s: f64,
    pub(crate) peak_kib: u64,
}

/// The last line of GNU time's output file, in [`GNU_TIME_FORMAT`].
pub(crate) fn read_usage(path: &Path) -> Option<Usage> {
    let text = std::fs::read_to_string(path).ok()?;
    let fields: Vec<&str> = text.lines().last()?.split_whitespace().collect();
    let [wall, user, system, kib] = fields.as_slice() else {
        return None;
    };
    Some(Usage {
        wall_s: wall.parse().ok()?,
        cpu_s: user.parse::<f64>().ok()? + system.parse::<f64>().ok()?,
        peak_kib: kib.parse().ok()?,
    })
}

/// The size of a file, 0 when it is missing.
pub(crate) fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
