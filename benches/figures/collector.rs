//! The collector's load figure (issue 14): N clients on loopback POST batches of events to
//! `agent-strace server` over kept-alive connections; accepted events a second (target ≥
//! 50,000/s on the 2-core machine), the p99 latency of a request, and the stored count, which
//! must equal the sent count.
//!
//! `cargo bench --bench figures -- --collector-only [--clients N] [--events N] [--batch N]
//! [--seconds S] [--store-dir DIR]`:
//!
//! - `--clients N` (default 4) connections posting at once, each to sessions of its own;
//! - `--events N` (default 400,000) events in all, in batches of `--batch N` (default 500);
//! - `--seconds S` (default 60): the clients stop sending at this bound, whatever is left;
//! - `--store-dir DIR`: the collector's storage [default: a temporary folder under target/].
//!
//! Each event is a `tool_call` of about 250 bytes, as a hook or proxy sends it. The collector
//! runs with its defaults (secrets redacted, counters caught up after every batch) but for the
//! rate limit, off, since every client is 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Res;
use crate::table::{
    Target, Unit, Verdict, fmt_duration, load_average, machine, p99, print_verdict,
};
use crate::tool::our_binary;

/// The flag that runs this figure alone.
pub(crate) const COLLECTOR_ONLY: &str = "--collector-only";

const THROUGHPUT: Target =
    Target::at_least("accepted events/s", 50_000.0, Unit::PerSecond("events/s"));

fn flag(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn bench_collector(args: &[String]) -> Res<()> {
    let clients = flag(args, "--clients", 4).max(1) as usize;
    let total = flag(args, "--events", 400_000);
    let batch = flag(args, "--batch", 500).max(1);
    let bound = Duration::from_secs(flag(args, "--seconds", 60));
    let bin = our_binary()?;
    let scratch = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-collector");
    std::fs::create_dir_all(&scratch)?;
    let holder = tempfile::tempdir_in(&scratch)?;
    let storage = args
        .iter()
        .position(|a| a == "--store-dir")
        .and_then(|i| args.get(i + 1))
        .map_or_else(
            || holder.path().join("traces"),
            |d| Path::new(d).join("traces"),
        );
    let mut server = Command::new(&bin)
        .args(["server", "--port", "0", "--rate-limit", "0", "--storage"])
        .arg(&storage)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(server.stderr.take().ok_or("no stderr")?).read_line(&mut first)?;
    let port: u16 = first
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("the collector did not say its port: {first}"))?;

    let batches_each = total.div_ceil(batch * clients as u64);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            std::thread::spawn(move || {
                post_batches(port, client, batches_each, batch, started, bound)
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut sent, mut accepted) = (0u64, 0u64);
    for worker in workers {
        let done = worker.join().map_err(|_| "a client panicked")??;
        latencies.extend(done.latencies);
        sent += done.sent;
        accepted += done.accepted;
    }
    let wall = started.elapsed();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    let _ = server.wait();
    let stored = count_lines(&storage)?;
    let rate = accepted as f64 / wall.as_secs_f64();
    println!("## The collector under load ({})", machine());
    println!();
    println!(
        "{clients} clients, {sent} events in batches of {batch}, load average {}",
        load_average()
    );
    println!();
    println!("| figure | measured | target | verdict |");
    println!("|---|---|---|---|");
    let verdict = Verdict::new("collector throughput").check(THROUGHPUT, Some(rate));
    println!(
        "| accepted events/s | {rate:.0} ({accepted} in {}) | {} | {} |",
        fmt_duration(wall),
        verdict.targets(),
        verdict.cell()
    );
    println!(
        "| request latency p99 | {} (median {}) | - | - |",
        fmt_duration(p99(&latencies)),
        fmt_duration(crate::table::median(&latencies))
    );
    println!(
        "| stored / sent / accepted | {stored} / {sent} / {accepted} | equal | {} |",
        if stored == sent && sent == accepted {
            "ok"
        } else {
            "**LOST EVENTS**"
        }
    );
    print_verdict(&[verdict], &[]);
    if stored != sent || sent != accepted {
        return Err(format!("{sent} events sent, {accepted} accepted, {stored} stored").into());
    }
    Ok(())
}

struct Done {
    latencies: Vec<Duration>,
    sent: u64,
    accepted: u64,
}

/// One client: a kept-alive connection posting `batches` batches, or fewer when `bound` passes.
fn post_batches(
    port: u16,
    client: usize,
    batches: u64,
    size: u64,
    started: Instant,
    bound: Duration,
) -> Res<Done> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut done = Done {
        latencies: Vec::with_capacity(batches as usize),
        sent: 0,
        accepted: 0,
    };
    let mut body = Vec::with_capacity((size * 300) as usize);
    for round in 0..batches {
        if started.elapsed() > bound {
            break;
        }
        body.clear();
        for i in 0..size {
            let session = format!("load-{client}-{}", round % 8);
            writeln!(
                body,
                r#"{{"event_type":"tool_call","timestamp":{}.5,"event_id":"{client:02x}{round:06x}{i:04x}","session_id":"{session}","data":{{"tool_name":"Bash","tool_use_id":"toolu_{round}_{i}","arguments":{{"command":"cargo test --test main collector -- --nocapture","description":"run the tests"}}}}}}"#,
                1_700_000_000 + round
            )?;
        }
        let head = format!(
            "POST /events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let start = Instant::now();
        stream.write_all(head.as_bytes())?;
        stream.write_all(&body)?;
        let (status, answer) = read_answer(&mut reader)?;
        done.latencies.push(start.elapsed());
        done.sent += size;
        if status != 200 {
            return Err(format!("the collector answered {status}: {answer}").into());
        }
        let answer: serde_json::Value = serde_json::from_str(&answer)?;
        done.accepted += answer["accepted"].as_u64().unwrap_or(0);
    }
    Ok(done)
}

fn read_answer(reader: &mut BufReader<TcpStream>) -> Res<(u16, String)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Event lines in every session of the storage.
fn count_lines(storage: &Path) -> Res<u64> {
    let mut lines = 0;
    for entry in std::fs::read_dir(storage)?.flatten() {
        let events = entry.path().join("events.ndjson");
        if let Ok(text) = std::fs::read(&events) {
            lines += text
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count() as u64;
        }
    }
    Ok(lines)
}
