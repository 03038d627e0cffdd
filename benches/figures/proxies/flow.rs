//! The stdio proxy's throughput figure: requests written into `record` as fast as the pipe
//! takes them, relayed and recorded messages per second, and memory that stays flat.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::echo::{CHUNK, echo_command, request_line, response_line};
use super::record_command;
use super::recorded::{Recorded, count_recorded, only_session_events};
use crate::Res;
use crate::import::growth;
use crate::table::{Target, Unit, Verdict, fmt_duration, fmt_ratio, fmt_rss, median};
use crate::tool::{Drain, Tool, Usage, file_len, read_usage};

/// Requests the client writes in each throughput run, and runs of each size, through `record`
/// to the echo server; to `cat`, fewer runs.
pub(crate) const FLOW_SIZES: [(usize, usize); 2] = [(100_000, 3), (1_000_000, 2)];
pub(crate) const FLOW_SIZES_CAT: [(usize, usize); 2] = [(100_000, 2), (1_000_000, 1)];
/// The throughput target: client messages relayed per second.
pub(crate) const FLOW_MSG_S: f64 = 20_000.0;
/// Peak RSS on the largest run may exceed the smallest's by this much.
pub(crate) const FLOW_RSS_SLACK: f64 = 0.10;

/// One throughput run.
pub(crate) struct Flow {
    /// From the first byte written to the last byte back.
    pub(crate) relayed: Duration,
    /// From the first byte written to the proxy reaped (every message recorded).
    pub(crate) exited: Duration,
    /// From the last byte written (stdin closed) to the proxy reaped.
    pub(crate) exit_after_input: Duration,
    /// The proxy's RSS and the events recorded when the last byte came back.
    pub(crate) rss_at_relayed_kib: Option<u64>,
    pub(crate) recorded_at_relayed: u64,
    pub(crate) usage: Option<Usage>,
    pub(crate) recorded: Recorded,
    /// Whether what came back was exactly what was expected.
    pub(crate) same: bool,
}

/// The proxy's pid: the child's, or under GNU time its child's.
pub(crate) fn proxy_pid(child: u32, under_time: bool) -> Option<u32> {
    if !under_time {
        return Some(child);
    }
    std::fs::read_to_string(format!("/proc/{child}/task/{child}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Writes `input` into `record -- child` from one thread while this one reads what comes
/// back, compared with `expected`.
pub(crate) fn flow_once(
    tool: &Tool,
    store: &Path,
    child: &[String],
    input: &std::sync::Arc<Vec<u8>>,
    expected: &[u8],
    rss_file: Option<&Path>,
) -> Res<Flow> {
    let mut command = tool.command(
        &record_command(store, "flow", child),
        true,
        Drain::Yes,
        rss_file,
    );
    command.stderr(Stdio::null());
    let mut proc = command.spawn()?;
    let pid = proc.id();
    let mut stdin = proc.stdin.take().ok_or("no stdin")?;
    let mut stdout = proc.stdout.take().ok_or("no stdout")?;
    let data = std::sync::Arc::clone(input);
    let started = Instant::now();
    let writer = std::thread::spawn(move || -> std::io::Result<Instant> {
        for chunk in data.chunks(CHUNK) {
            stdin.write_all(chunk)?;
        }
        drop(stdin);
        Ok(Instant::now())
    });
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0usize;
    let mut same = true;
    let mut relayed = None;
    let (mut rss_at, mut recorded_at) = (None, 0);
    loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let end = got + n;
        if end <= expected.len() {
            same &= buf[..n] == expected[got..end];
        } else {
            same = false;
        }
        got = end;
        if got == expected.len() && relayed.is_none() {
            relayed = Some(started.elapsed());
            rss_at = proxy_pid(pid, rss_file.is_some()).and_then(rss_kib);
            recorded_at = only_session_events(store).map_or(0, |p| file_len(&p));
        }
    }
    let closed = writer.join().map_err(|_| "writer panicked")??;
    let status = proc.wait()?;
    let exited = started.elapsed();
    let exit_after_input = closed.elapsed();
    if !status.success() {
        return Err(format!("record exited with {status}").into());
    }
    let recorded = count_recorded(store)?;
    std::fs::remove_dir_all(store)?;
    Ok(Flow {
        relayed: relayed.unwrap_or(exited),
        exited,
        exit_after_input,
        rss_at_relayed_kib: rss_at,
        recorded_at_relayed: recorded_at,
        usage: rss_file.and_then(read_usage),
        recorded,
        same: same && got == expected.len(),
    })
}

/// One size of one throughput figure.
pub(crate) struct FlowRow {
    pub(crate) child: &'static str,
    pub(crate) messages: usize,
    pub(crate) bytes: usize,
    pub(crate) runs: Vec<Flow>,
    /// The smallest size's peak RSS, which this one may not exceed by [`FLOW_RSS_SLACK`].
    pub(crate) flat_vs_kib: Option<u64>,
}

impl FlowRow {
    pub(crate) fn name(&self) -> String {
        format!(
            "`record -- {}`, {}k requests",
            self.child,
            self.messages / 1000
        )
    }

    pub(crate) fn rate(&self, pick: impl Fn(&Flow) -> Duration) -> f64 {
        let walls: Vec<Duration> = self.runs.iter().map(pick).collect();
        self.messages as f64 / median(&walls).as_secs_f64().max(1e-9)
    }

    pub(crate) fn peak_kib(&self) -> Option<u64> {
        self.runs
            .iter()
            .filter_map(|r| r.usage)
            .map(|u| u.peak_kib)
            .max()
    }

    /// The figure against its targets: the relayed rate, and peak RSS no more than
    /// [`FLOW_RSS_SLACK`] above the smallest size's.
    pub(crate) fn verdict(&self) -> Verdict {
        let rate = Target::at_least("rate", FLOW_MSG_S, Unit::PerSecond("msg/s"));
        let verdict = Verdict::new(self.name()).check(rate, Some(self.rate(|f| f.relayed)));
        match self.flat_vs_kib {
            Some(first) => verdict.check(
                Target::at_most(
                    "peak RSS over the 100k run's",
                    FLOW_RSS_SLACK * 100.0,
                    Unit::Percent,
                ),
                self.peak_kib().map(|peak| growth(first, peak)),
            ),
            None => verdict,
        }
    }
}

/// The throughput figure for one child: `echo` (the echo server, which answers each request)
/// or `cat` (which sends each request back as it is).
pub(crate) fn bench_flow(
    tool: &Tool,
    work: &Path,
    child_name: &'static str,
    notes: &mut Vec<String>,
) -> Res<Vec<FlowRow>> {
    let child = if child_name == "cat" {
        vec!["cat".to_owned()]
    } else {
        echo_command()?
    };
    let dir = tempfile::tempdir()?;
    let rss_file = dir.path().join("rss");
    let mut rows: Vec<FlowRow> = Vec::new();
    let sizes = if child_name == "cat" {
        FLOW_SIZES_CAT
    } else {
        FLOW_SIZES
    };
    for (messages, runs) in sizes {
        eprintln!("figures: proxy throughput, record -- {child_name}, {messages} requests");
        let mut input = Vec::with_capacity(messages * 106);
        let mut expected = Vec::with_capacity(messages * 100);
        for i in 0..messages {
            let at = input.len();
            request_line(i, &mut input);
            if child_name == "cat" {
                expected.extend_from_slice(&input[at..]);
            } else {
                response_line(i.to_string().as_bytes(), &mut expected);
            }
        }
        let input = std::sync::Arc::new(input);
        let mut row = FlowRow {
            child: child_name,
            messages,
            bytes: input.len(),
            runs: Vec::new(),
            flat_vs_kib: rows.first().and_then(FlowRow::peak_kib),
        };
        for run in 0..runs {
            let store = work.join(format!("proxy-flow-{child_name}-{messages}-{run}"));
            let rss = tool.gnu_time.then_some(rss_file.as_path());
            let flow = flow_once(tool, &store, &child, &input, &expected, rss)?;
            if !flow.same {
                notes.push(format!(
                    "WARNING: {}: what came back is not what was expected",
                    row.name()
                ));
            }
            if run == 0 {
                let m = messages as u64;
                // `cat` sends every request back as a request from the server.
                let want: Vec<(&str, u64)> = if child_name == "cat" {
                    vec![("tool_call", 2 * m)]
                } else {
                    vec![("tool_call", m), ("tool_result", m)]
                };
                let linked = (child_name != "cat").then_some(m);
                notes.push(flow.recorded.check(&row.name(), m, &want, linked));
            }
            row.runs.push(flow);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The throughput table.
pub(crate) fn print_flows(flows: &[FlowRow]) {
    if flows.is_empty() {
        return;
    }
    println!();
    println!(
        "stdio proxy throughput: requests written as fast as the pipe takes them by one thread, \
         what comes back read by another; msg/s counts each request once"
    );
    println!();
    println!(
        "| figure | runs | MB in | relayed msg/s | recorded msg/s | exit after input ends \
         | RSS when all relayed | recorded when all relayed | peak RSS | CPU/wall | target | verdict |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for row in flows {
        let verdict = row.verdict();
        let exits: Vec<Duration> = row.runs.iter().map(|f| f.exit_after_input).collect();
        let last = row.runs.last();
        let recorded_share = last.map_or(0.0, |f| {
            f.recorded_at_relayed as f64 / f.recorded.bytes.max(1) as f64 * 100.0
        });
        let cpu = row
            .runs
            .iter()
            .filter_map(|f| f.usage)
            .filter(|u| u.wall_s > 0.0)
            .map(|u| u.cpu_s / u.wall_s)
            .reduce(f64::max);
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.0} | {} | {} | {recorded_share:.0}% | {} | {} | {} | {} |",
            row.name(),
            row.runs.len(),
            row.bytes as f64 / 1e6,
            row.rate(|f| f.relayed),
            row.rate(|f| f.exited),
            fmt_duration(median(&exits)),
            fmt_rss(last.and_then(|f| f.rss_at_relayed_kib)),
            fmt_rss(row.peak_kib()),
            fmt_ratio(cpu),
            verdict.targets(),
            verdict.cell(),
        );
    }
}
