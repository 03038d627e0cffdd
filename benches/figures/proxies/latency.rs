//! The stdio proxy's latency figure: what `record` adds to a request/response round trip,
//! against the echo server reached directly in the same run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::echo::{CHUNK, echo_command, request_line, response_line};
use super::record_command;
use super::recorded::count_recorded;
use crate::Res;
use crate::table::{Target, Unit, Verdict, fmt_duration, fmt_rss, fmt_us, median, p99};
use crate::tool::{Drain, Tool, read_usage};

/// Round trips timed on each connection, direct and through the proxy, after
/// [`PROXY_WARMUP`] untimed ones on each.
pub(crate) const PROXY_ROUND_TRIPS: usize = 5_000;
pub(crate) const PROXY_WARMUP: usize = 200;
/// What the proxy may add to the median round trip.
pub(crate) const PROXY_ADDED: Duration = Duration::from_micros(100);

/// A process spoken to one line at a time.
pub(crate) struct Conn {
    pub(crate) child: std::process::Child,
    pub(crate) stdin: Option<std::process::ChildStdin>,
    pub(crate) stdout: BufReader<std::process::ChildStdout>,
    pub(crate) stderr: Option<std::thread::JoinHandle<String>>,
    pub(crate) line: Vec<u8>,
}

impl Conn {
    pub(crate) fn new(mut command: Command) -> Res<Conn> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        Ok(Conn {
            child,
            stdin,
            stdout: BufReader::with_capacity(CHUNK, stdout),
            stderr,
            line: Vec::with_capacity(256),
        })
    }

    /// Writes `request` (one write) and waits for the line that answers it.
    pub(crate) fn round_trip(&mut self, request: &[u8]) -> Res<Duration> {
        let started = Instant::now();
        self.stdin
            .as_mut()
            .ok_or("stdin closed")?
            .write_all(request)?;
        self.line.clear();
        self.stdout.read_until(b'\n', &mut self.line)?;
        Ok(started.elapsed())
    }

    /// Closes its stdin and reaps it; returns how long that took and what it printed on
    /// stderr.
    pub(crate) fn close(mut self) -> Res<(Duration, String)> {
        let started = Instant::now();
        drop(self.stdin.take());
        let mut rest = Vec::new();
        self.stdout.read_to_end(&mut rest)?;
        let status = self.child.wait()?;
        let took = started.elapsed();
        let err = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        if !status.success() || !rest.is_empty() {
            return Err(format!(
                "exited with {status} after {} stray bytes: {}",
                rest.len(),
                err.trim()
            )
            .into());
        }
        Ok((took, err))
    }
}

/// The latency figure: request/response round trips to the echo server directly and through
/// `record`, alternating between the two, in the same run.
pub(crate) struct Latency {
    pub(crate) direct: Vec<Duration>,
    pub(crate) proxied: Vec<Duration>,
    /// The proxy's peak RSS over the whole session (it runs under GNU time).
    pub(crate) proxy_peak_kib: Option<u64>,
    /// From closing the proxy's stdin to reaping it.
    pub(crate) proxy_exit: Duration,
}

impl Latency {
    /// The difference of medians, in µs, negative when the proxy was faster.
    pub(crate) fn added_us(&self) -> f64 {
        (median(&self.proxied).as_secs_f64() - median(&self.direct).as_secs_f64()) * 1e6
    }

    pub(crate) fn verdict(&self) -> Verdict {
        Verdict::new("stdio proxy latency").check(
            Target::at_most(
                "added median",
                PROXY_ADDED.as_secs_f64() * 1e6,
                Unit::Micros,
            ),
            Some(self.added_us()),
        )
    }

    /// The latency table.
    pub(crate) fn print(&self) {
        println!();
        println!(
            "stdio proxy latency: {PROXY_ROUND_TRIPS} round trips of a `tools/call` request \
         (~105 bytes) and its answer, to the echo server directly and through `record`, \
         alternating, after {PROXY_WARMUP} untimed each"
        );
        println!();
        println!(
            "| figure | round trips | direct median | direct p99 | proxied median | proxied p99 \
         | added (median) | proxy peak RSS | proxy exit | target | verdict |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        let verdict = self.verdict();
        println!(
            "| request/response round trip | {} | {} | {} | {} | {} | {:+.0} µs | {} | {} | {} | {} |",
            self.proxied.len(),
            fmt_us(median(&self.direct)),
            fmt_us(p99(&self.direct)),
            fmt_us(median(&self.proxied)),
            fmt_us(p99(&self.proxied)),
            self.added_us(),
            fmt_rss(self.proxy_peak_kib),
            fmt_duration(self.proxy_exit),
            verdict.targets(),
            verdict.cell(),
        );
    }
}

pub(crate) fn bench_latency(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Latency> {
    let echo = echo_command()?;
    let store = work.join("proxy-latency");
    let dir = tempfile::tempdir()?;
    let rss_file = dir.path().join("rss");
    let rss = tool.gnu_time.then_some(rss_file.as_path());
    let mut direct_cmd = Command::new(&echo[0]);
    direct_cmd.args(&echo[1..]);
    let mut direct = Conn::new(direct_cmd)?;
    let record = record_command(&store, "echo", &echo);
    let mut proxied = Conn::new(tool.command(&record, true, Drain::Yes, rss))?;

    let mut lat = Latency {
        direct: Vec::with_capacity(PROXY_ROUND_TRIPS),
        proxied: Vec::with_capacity(PROXY_ROUND_TRIPS),
        proxy_peak_kib: None,
        proxy_exit: Duration::ZERO,
    };
    let (mut request, mut expected) = (Vec::new(), Vec::new());
    let mut wrong = 0usize;
    for i in 0..PROXY_WARMUP + PROXY_ROUND_TRIPS {
        request.clear();
        request_line(i, &mut request);
        expected.clear();
        response_line(i.to_string().as_bytes(), &mut expected);
        // Each goes first every other time, so neither always follows the other's wake-ups.
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let conn = if which == 0 {
                &mut direct
            } else {
                &mut proxied
            };
            let took = conn.round_trip(&request)?;
            if conn.line != expected {
                wrong += 1;
            }
            if i >= PROXY_WARMUP {
                if which == 0 {
                    lat.direct.push(took);
                } else {
                    lat.proxied.push(took);
                }
            }
        }
    }
    direct.close()?;
    let (exit, err) = proxied.close()?;
    lat.proxy_exit = exit;
    if rss.is_some() {
        lat.proxy_peak_kib = read_usage(&rss_file).map(|u| u.peak_kib);
    }
    let trips = PROXY_WARMUP + PROXY_ROUND_TRIPS;
    if wrong > 0 {
        notes.push(format!(
            "WARNING: proxy latency: {wrong} of {} answers were not the expected line",
            2 * trips
        ));
    }
    if !err.trim().is_empty() {
        notes.push(format!(
            "WARNING: proxy latency: record said: {}",
            err.trim()
        ));
    }
    let rec = count_recorded(&store)?;
    notes.push(rec.check(
        "proxy latency",
        trips as u64,
        &[("tool_call", trips as u64), ("tool_result", trips as u64)],
        Some(trips as u64),
    ));
    std::fs::remove_dir_all(&store)?;
    Ok(lat)
}
