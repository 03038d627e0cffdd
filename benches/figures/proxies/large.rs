//! The stdio proxy's large-message figure (issue 9): one message of 12 MB and one of 100 MB,
//! and a `Content-Length:` line whose headers never end followed by 100 MB, relayed by `cat`
//! directly and through `record -- cat`: the time until the last byte is back (within 1.5× of
//! direct) and the proxy's peak RSS (the same at 100 MB as at 12 MB).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::echo::CHUNK;
use super::record_command;
use super::recorded::only_session_events;
use crate::Res;
use crate::table::{MIB, Row, Targets, median, print_rows};
use crate::tool::{Drain, GNU_TIME, GNU_TIME_FORMAT, Sample, Tool, read_usage};

/// How much slower than `cat` alone the proxy may relay a large message.
pub(crate) const LARGE_SLOWDOWN: f64 = 1.5;
/// How much more memory the proxy may take for 100 MB than for 12 MB.
pub(crate) const LARGE_RSS_SLACK: f64 = 0.10;

/// One input of the figure.
struct Input {
    name: &'static str,
    bytes: Arc<Vec<u8>>,
    runs: usize,
    /// Whether the relay time has a target (the 12 MB message is there for memory: its time
    /// is mostly the proxy's start-up).
    timed: bool,
    /// Whether to measure the relay alone too (`record` with a store it cannot write), the
    /// floor that recording adds to.
    floor: bool,
    /// The message each direction must be recorded with, as `message_original_bytes`.
    recorded_size: usize,
    /// A message after the large one, which must be recorded too.
    after: Option<&'static str>,
}

/// A `tools/call` result of `size` bytes with its newline: one text block of `x`.
fn result_line(size: usize) -> Vec<u8> {
    let head = br#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":""#;
    let tail = b"\"}]}}";
    let mut line = Vec::with_capacity(size + 1);
    line.extend_from_slice(head);
    line.resize(size - tail.len(), b'x');
    line.extend_from_slice(tail);
    line.push(b'\n');
    line
}

fn inputs() -> Vec<Input> {
    const MB: usize = 1_000_000;
    let after = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let mut unended = b"Content-Length: 5\n".to_vec();
    unended.resize(unended.len() + 100 * MB, b'y');
    unended.push(b'\n');
    unended.extend_from_slice(after.as_bytes());
    unended.push(b'\n');
    vec![
        Input {
            name: "one 12 MB message",
            bytes: Arc::new(result_line(12 * MB)),
            runs: 5,
            timed: false,
            floor: false,
            recorded_size: 12 * MB,
            after: None,
        },
        Input {
            name: "one 100 MB message",
            bytes: Arc::new(result_line(100 * MB)),
            runs: 3,
            timed: true,
            floor: true,
            recorded_size: 100 * MB,
            after: None,
        },
        Input {
            name: "`Content-Length:` with no end, 100 MB",
            bytes: Arc::new(unended),
            runs: 3,
            timed: true,
            floor: false,
            recorded_size: 100 * MB,
            after: Some("ping"),
        },
    ]
}

/// Writes `input` into `command` in 64 KiB writes from one thread while this one reads it back;
/// returns the time from the first byte written to the last byte back.
fn relay_once(mut command: Command, input: &Arc<Vec<u8>>) -> Res<Duration> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let data = Arc::clone(input);
    let started = Instant::now();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for chunk in data.chunks(CHUNK) {
            stdin.write_all(chunk)?;
        }
        Ok(())
    });
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0usize;
    let mut same = true;
    loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            break;
        }
        same &= input.get(got..got + n) == Some(&buf[..n]);
        got += n;
    }
    let relayed = started.elapsed();
    writer.join().map_err(|_| "writer panicked")??;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("exited with {status}").into());
    }
    if !same || got != input.len() {
        return Err("what came back is not what was sent".into());
    }
    Ok(relayed)
}

/// One relay of `input` by `command`, which runs under GNU time when `rss` names its file;
/// adds its time and peak RSS to `sample`.
fn relay_into(
    sample: &mut Sample,
    command: Command,
    input: &Arc<Vec<u8>>,
    rss: Option<&Path>,
) -> Res<()> {
    sample.wall.push(relay_once(command, input)?);
    if let Some(file) = rss {
        sample.add_usage(read_usage(file));
    }
    Ok(())
}

/// `cat`, under GNU time when `rss` names its output file.
fn cat(rss: Option<&Path>) -> Command {
    match rss {
        Some(file) => {
            let mut c = Command::new(GNU_TIME);
            c.args(["-f", GNU_TIME_FORMAT, "-o"]).arg(file).arg("cat");
            c
        }
        None => Command::new("cat"),
    }
}

/// What a run recorded, against what it should have: each direction's message as a cut copy
/// of its real size, what came after it, the session's end, and no line near the message's
/// size.
fn check_recorded(store: &Path, input: &Input, notes: &mut Vec<String>) -> Res<()> {
    let text = std::fs::read_to_string(only_session_events(store)?)?;
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let cut = events
        .iter()
        .filter(|e| e["data"]["message_original_bytes"] == input.recorded_size)
        .count();
    let after = input.after.map_or(2, |method| {
        events
            .iter()
            .filter(|e| e["data"]["method"] == method)
            .count()
    });
    let ended = events
        .last()
        .is_some_and(|e| e["event_type"] == "session_end");
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    let ok = cut == 2 && after == 2 && ended && longest < 1024 * 1024;
    notes.push(format!(
        "{}{} through `record -- cat`: {} events, {cut} cut copies of {} bytes{}, {}, longest \
         line {:.0} KB{}",
        if ok { "" } else { "WARNING: " },
        input.name,
        events.len(),
        input.recorded_size,
        input
            .after
            .map(|m| format!(", `{m}` after it recorded {after} times"))
            .unwrap_or_default(),
        if ended {
            "session ended"
        } else {
            "session NOT ended"
        },
        longest as f64 / 1e3,
        if ok { ": as sent" } else { ": NOT as sent" }
    ));
    Ok(())
}

/// The figure's rows: for each input, `cat` alone and `record -- cat` (and for the 100 MB
/// message `record` not recording), run after run in turn, so that a change in the machine's
/// load falls on all of them.
pub(crate) fn bench_large(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let rss_file = dir.path().join("rss");
    let rss = tool.gnu_time.then_some(rss_file.as_path());
    // A file where the store should be: `record` relays without recording.
    let unwritable = work.join("proxy-large-not-a-store");
    std::fs::write(&unwritable, "")?;
    let record = |store: &Path| {
        tool.command(
            &record_command(store, "cat", &["cat".to_owned()]),
            true,
            Drain::Yes,
            rss,
        )
    };
    let mut rows = Vec::new();
    let mut first_peak: Option<u64> = None;
    for input in inputs() {
        eprintln!(
            "figures: proxy large messages, {} ({:.0} MB), {} runs each way",
            input.name,
            input.bytes.len() as f64 / 1e6,
            input.runs
        );
        let (mut direct, mut proxied, mut relay_only) =
            (Sample::default(), Sample::default(), Sample::default());
        for run in 0..input.runs {
            relay_into(&mut direct, cat(rss), &input.bytes, rss)?;
            let store = work.join(format!("proxy-large-{run}"));
            relay_into(&mut proxied, record(&store), &input.bytes, rss)?;
            if run == 0 {
                check_recorded(&store, &input, notes)?;
            }
            std::fs::remove_dir_all(&store)?;
            if input.floor {
                relay_into(&mut relay_only, record(&unwritable), &input.bytes, rss)?;
            }
        }
        let direct_median = median(&direct.wall);
        let ratio =
            |sample: &Sample| median(&sample.wall).as_secs_f64() / direct_median.as_secs_f64();
        notes.push(format!(
            "{}: through `record -- cat` {:.2}× the time of `cat` alone",
            input.name,
            ratio(&proxied)
        ));
        // The first (smallest) input's peak is the bound for the larger ones.
        let peak_kib = first_peak.map(|kib| (kib as f64 * (1.0 + LARGE_RSS_SLACK)) as u64);
        if first_peak.is_none() {
            first_peak = proxied.peak_kib;
        }
        rows.push(Row::new(
            format!("{}, `cat` alone", input.name),
            direct,
            Targets::none(),
        ));
        if input.floor {
            notes.push(format!(
                "{}: relayed by `record` without recording {:.2}× the time of `cat` alone",
                input.name,
                ratio(&relay_only)
            ));
            rows.push(Row::new(
                format!("{}, `record -- cat` not recording", input.name),
                relay_only,
                Targets::none(),
            ));
        }
        rows.push(Row::new(
            format!("{}, `record -- cat`", input.name),
            proxied,
            Targets {
                median: input.timed.then_some(direct_median.mul_f64(LARGE_SLOWDOWN)),
                p99: None,
                peak_kib: peak_kib.or(Some(32 * MIB)),
            },
        ));
    }
    std::fs::remove_file(&unwritable)?;
    Ok(rows)
}

pub(crate) fn print_large(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "stdio proxy, large messages: one message written in 64 KiB writes by one thread and \
         read back by another, through `cat` alone and through `record -- cat`, from the first \
         byte written to the last byte back; peak RSS of `cat` or of the proxy (GNU time); \
         \"not recording\" is `record` with a store it cannot write, the relay alone. \
         Targets: at 100 MB the proxy within {LARGE_SLOWDOWN}× of `cat` alone (median), and its \
         peak RSS within {:.0}% of its peak at 12 MB (32 MiB at 12 MB)",
        LARGE_RSS_SLACK * 100.0
    );
    println!();
    print_rows(rows, false);
}
