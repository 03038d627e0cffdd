//! `cargo bench --bench figures`: the figures agent-strace promises, measured on the release
//! binary as Claude Code runs it (one process per hook) and as a person runs it.
//!
//! Prints tables: median and p99 wall time and peak RSS per figure, with `OVER TARGET` next
//! to any figure that misses its target. It is a measurement, not a test: it exits 0 either way.
//!
//! - Wall time is measured here, from spawning the process to reaping it (and, for `replay`,
//!   to having drained its output from a pipe).
//! - Peak RSS is the child's `ru_maxrss`, read by running it under GNU time (`/usr/bin/time -f
//!   '%e %U %S %M'`) in separate runs, so GNU time's own start-up never counts in the wall
//!   times. Without GNU time (`apt-get install -y time`) the RSS column says `n/a`.
//! - `import` of a Claude Code transcript has its own table: MB/s of transcript, on a 50 MB and
//!   a 200 MB transcript made of the real ones in `../shared/corpus/claude-code` (or
//!   `AGENT_STRACE_CORPUS`), each copy with fresh ids. Peak RSS must not grow with file size.
//! - `AGENT_STRACE_PYTHON=/path/to/agent-strace` (the Python tool, pip `agent-strace==0.103.0`)
//!   adds the same figures for it as a baseline column, with fewer runs.
//! - `AGENT_STRACE_CCUSAGE=/path/to/ccusage` (npm `ccusage@20.0.24`) adds `ccusage session
//!   --json --offline` on the same transcripts as the baseline of the import table.
//! - The stdio proxy (`record -- <server>`) has two tables of its own: the round trip of a
//!   request and its answer, to an echo server directly and through `record`, alternating in
//!   the same run; and 100,000 and 1,000,000 requests written as fast as the pipe takes them,
//!   through `record` to the echo server and to `cat`, with relayed and recorded messages per
//!   second and peak RSS. The echo server is this bench binary, run as `figures --echo-server`.
//! - The HTTP proxy (`record-http <url>`) has one: the round trip of a POST and its answer, to a
//!   minimal server in this process directly and through `record-http`, alternating.
//! - `AGENT_STRACE_BIN=/path` measures another build of ours instead of the one cargo built.
//!
//! `cargo bench --bench figures -- --generate-only DIR` only writes the generated session
//! (100,000 events, about 40 MB) to `DIR/.agent-traces/<id>/` and prints where it is;
//! `-- --generate-transcripts DIR` only writes the two transcripts to `DIR`; `-- --proxy-only`
//! measures only the proxies.
//!
//! See `docs/benchmarks.md` for what each figure means and the last figures measured.

mod http_latency;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Events in the generated session.
const SESSION_EVENTS: usize = 100_000;
/// Timed runs of each hook figure, after [`HOOK_WARMUP`] untimed ones.
const HOOK_RUNS: usize = 300;
const HOOK_WARMUP: usize = 20;
/// Extra runs of each hook under GNU time for its peak RSS (the largest is reported).
const HOOK_RSS_RUNS: usize = 20;
/// Timed runs of `stats` and `replay` on the generated session, after one untimed one.
const READ_RUNS: usize = 10;
const READ_RSS_RUNS: usize = 2;
/// The first hook on a session the store has no counters cache for folds every event once.
const COLD_RUNS: usize = 3;
/// Runs of the Python baseline.
const PY_HOOK_RUNS: usize = 20;
const PY_HOOK_WARMUP: usize = 2;
const PY_RSS_RUNS: usize = 2;
const PY_READ_RUNS: usize = 3;
/// A Python read command slower than this is not run again.
const PY_READ_GIVE_UP: Duration = Duration::from_secs(20);
/// The size of the PreToolUse payload sent on stdin.
const PAYLOAD_BYTES: usize = 2048;
/// Sizes of the transcripts generated for `import`, in bytes. Peak RSS may not grow from the
/// first to the others by more than [`IMPORT_RSS_SLACK`], about the run-to-run noise.
const IMPORT_SIZES: [u64; 2] = [50_000_000, 200_000_000];
/// Timed runs of `import` on each, and runs under GNU time.
const IMPORT_RUNS: usize = 5;
const IMPORT_RSS_RUNS: usize = 1;
/// Runs of the ccusage baseline on each.
const CCUSAGE_RUNS: usize = 3;
const CCUSAGE_RSS_RUNS: usize = 1;
/// The import target, in MB (10^6 bytes) of transcript per second of wall time.
const IMPORT_MB_S: f64 = 300.0;
const IMPORT_RSS_SLACK: f64 = 0.10;
const GNU_TIME: &str = "/usr/bin/time";
/// Wall seconds, user and system CPU seconds, peak RSS in KiB.
const GNU_TIME_FORMAT: &str = "%e %U %S %M";
const MIB: u64 = 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == ECHO_SERVER) {
        if let Err(e) = echo_server() {
            eprintln!("echo server: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--generate-only") {
        let Some(dir) = args.get(pos + 1) else {
            eprintln!("usage: cargo bench --bench figures -- --generate-only DIR");
            std::process::exit(2);
        };
        let root = Path::new(dir).join(".agent-traces");
        let started = Instant::now();
        match generate(&root, &session_uuid(0x5eed), 0x5eed) {
            Ok(info) => println!(
                "wrote {} events ({} bytes, {} tool calls, {} errors) to {} in {}",
                info.events,
                info.bytes,
                info.tool_calls,
                info.errors,
                root.join(&info.session_id).display(),
                fmt_duration(started.elapsed())
            ),
            Err(e) => {
                eprintln!("cannot generate the session: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--generate-transcripts") {
        let Some(dir) = args.get(pos + 1) else {
            eprintln!("usage: cargo bench --bench figures -- --generate-transcripts DIR");
            std::process::exit(2);
        };
        let started = Instant::now();
        let written = load_corpus(&corpus_dir())
            .and_then(|corpus| write_transcripts(&corpus, Path::new(dir)));
        match written {
            Ok(transcripts) => {
                for t in transcripts {
                    println!(
                        "wrote {} ({} bytes, {} lines, {} copies of the corpus, session {})",
                        t.path.display(),
                        t.bytes,
                        t.lines,
                        t.copies,
                        t.session_id
                    );
                }
                println!("in {}", fmt_duration(started.elapsed()));
            }
            Err(e) => {
                eprintln!("cannot generate the transcripts: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let proxy_only = args.iter().any(|a| a == "--proxy-only");
    if let Err(e) = run(proxy_only) {
        eprintln!("figures: {e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn run(proxy_only: bool) -> Res<()> {
    let total = Instant::now();
    let bin = our_binary()?;
    let gnu_time = gnu_time_works();
    let python = std::env::var_os("AGENT_STRACE_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let work = tempfile::Builder::new()
        .prefix("agent-strace-figures")
        .tempdir()?;
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;

    eprintln!("figures: measuring {}", bin.display());
    if !gnu_time {
        eprintln!(
            "figures: {GNU_TIME} -f %M does not work here: peak RSS is n/a (apt-get install -y time)"
        );
    }
    let machine = machine();
    let load_start = load_average();

    let ours = Tool {
        program: bin.clone(),
        home: home.clone(),
        cwd: work.path().to_path_buf(),
        gnu_time,
    };
    if proxy_only {
        let mut notes = Vec::new();
        let proxy = bench_proxy(&ours, work.path(), &mut notes);
        println!("agent-strace figures: the proxies only");
        println!(
            "machine: {machine}\nload:    {load_start} at the start, {} at the end",
            load_average()
        );
        println!("binary:  {}", bin.display());
        print_proxy(&proxy);
        print_verdict(&[], &[], &proxy.over(), &notes);
        println!("\n(total bench time {})", fmt_duration(total.elapsed()));
        return Ok(());
    }

    // The generated session, kept pristine for stats/replay and copied for the hook figures.
    let session_id = session_uuid(0x5eed);
    let pristine = work.path().join("pristine").join(".agent-traces");
    let gen_started = Instant::now();
    let info = generate(&pristine, &session_id, 0x5eed)?;
    let gen_time = gen_started.elapsed();
    eprintln!(
        "figures: generated {} events, {:.1} MB, in {}",
        info.events,
        info.bytes as f64 / 1e6,
        fmt_duration(gen_time)
    );

    let mut rows = Vec::new();
    let mut notes = Vec::new();

    // 4. Bare process start.
    eprintln!("figures: --version");
    let start = ours.repeat(
        &command(None, &["--version"]),
        None,
        Drain::No,
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    rows.push(Row::new(
        "process start (`--version`)",
        start,
        Target::none(),
    ));

    // 1. pre-tool on an existing session.
    eprintln!("figures: hook pre-tool");
    let store1 = work.path().join("s1").join(".agent-traces");
    let hook_session = session_uuid(0xabc);
    let pre = bench_pre_tool(
        &ours,
        &store1,
        &hook_session,
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    notes.extend(check_hook_store(&store1, "pre-tool"));
    rows.push(Row::new("hook pre-tool, 2 KB payload", pre, Target::hook()));

    // 2. post-tool on a session of 100,000 events, each after its matching pre-tool.
    eprintln!("figures: hook post-tool on the 100k-event session");
    let store2 = work.path().join("s2").join(".agent-traces");
    copy_session(&pristine, &store2, &session_id)?;
    let cold = bench_cold_hook(&ours, &store2, &session_id, COLD_RUNS)?;
    let cold_hooks = COLD_RUNS as u64 + u64::from(gnu_time);
    notes.extend(check_cold_counters(&store2, &session_id, &info, cold_hooks));
    let events_before = file_len(&store2.join(&session_id).join("events.ndjson"));
    let post = bench_post_tool(
        &ours,
        &store2,
        &session_id,
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    notes.push(check_links(
        &store2.join(&session_id).join("events.ndjson"),
        events_before,
        HOOK_WARMUP + HOOK_RUNS + HOOK_RSS_RUNS,
    ));
    notes.extend(check_hook_store(&store2, "post-tool"));
    rows.push(Row::new(
        "hook post-tool, 100k-event session",
        post,
        Target::hook(),
    ));
    rows.push(Row::new(
        "first hook on a 100k session without .counters",
        cold,
        Target::none(),
    ));

    // 3. stats and replay on the generated session.
    eprintln!("figures: stats and replay on the 100k-event session");
    let stats_cmd = command(Some(&pristine), &["stats", &session_id]);
    let stats = ours.repeat(&stats_cmd, None, Drain::Yes, 1, READ_RUNS, READ_RSS_RUNS)?;
    let replay_cmd = command(Some(&pristine), &["replay", &session_id]);
    let replay = ours.repeat(&replay_cmd, None, Drain::Yes, 1, READ_RUNS, READ_RSS_RUNS)?;
    notes.push(format!(
        "stats printed {} bytes; replay printed {} bytes into the pipe",
        stats.out_bytes, replay.out_bytes
    ));
    rows.push(Row::new(
        "stats, 100k events / 40 MB",
        stats,
        Target::stats(),
    ));
    rows.push(Row::new(
        "replay into a pipe, 100k events",
        replay,
        Target::replay(),
    ));

    // 6. import of a Claude Code transcript, and the ccusage baseline.
    let ccusage = std::env::var_os("AGENT_STRACE_CCUSAGE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let (import_rows, import_info) =
        match bench_imports(&ours, work.path(), ccusage.as_deref(), &mut notes) {
            Ok((rows, info)) => (rows, Some(info)),
            Err(e) => {
                notes.push(format!("WARNING: no import figure: {e}"));
                (Vec::new(), None)
            }
        };

    // 7. The stdio proxy: latency against a direct connection, throughput, memory.
    let proxy = bench_proxy(&ours, work.path(), &mut notes);

    // 5. The Python baseline.
    if let Some(py) = &python {
        eprintln!("figures: Python baseline {}", py.display());
        let py_tool = Tool {
            program: py.clone(),
            home: home.clone(),
            cwd: work.path().to_path_buf(),
            gnu_time,
        };
        match python_baseline(&py_tool, work.path(), &session_id) {
            Ok(figures) => {
                for (row, figure) in rows.iter_mut().zip(figures) {
                    row.python = figure;
                }
            }
            Err(e) => notes.push(format!("the Python baseline failed: {e}")),
        }
    }

    let machine = format!(
        "{machine}\nload:    {load_start} at the start, {} at the end (1-minute load average; \
         above ~0.5 other work was running and the figures are noisy)",
        load_average()
    );
    print_report(&machine, &bin, &info, gen_time, &rows, python.as_deref());
    print_import(&import_rows, import_info.as_deref(), ccusage.as_deref());
    print_proxy(&proxy);
    print_verdict(&rows, &import_rows, &proxy.over(), &notes);
    println!("\n(total bench time {})", fmt_duration(total.elapsed()));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

/// The binary cargo built for this bench (the `bench` profile, which inherits `release`).
fn our_binary() -> Res<PathBuf> {
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

fn gnu_time_works() -> bool {
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
struct Tool {
    program: PathBuf,
    home: PathBuf,
    cwd: PathBuf,
    gnu_time: bool,
}

struct Cmd {
    args: Vec<String>,
    store: Option<PathBuf>,
    /// More environment variables.
    env: Vec<(&'static str, PathBuf)>,
}

/// `args` run against the store `store` (`AGENT_TRACE_DIR`), or no store.
fn command(store: Option<&Path>, args: &[&str]) -> Cmd {
    Cmd {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        store: store.map(Path::to_path_buf),
        env: Vec::new(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Drain {
    /// stdout to /dev/null.
    No,
    /// stdout into a pipe that we read to the end, as a pager or `| less` would.
    Yes,
}

/// Wall times of the timed runs, the largest peak RSS seen, and what the command printed.
#[derive(Debug, Default, Clone)]
struct Sample {
    wall: Vec<Duration>,
    peak_kib: Option<u64>,
    /// The largest (user + system CPU time) / wall time of the runs under GNU time: above 1,
    /// the process kept more than one core busy.
    cpu_per_wall: Option<f64>,
    out_bytes: u64,
}

impl Sample {
    fn add_usage(&mut self, usage: Option<Usage>) {
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
    fn once(
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
    fn output(&self, cmd: &Cmd) -> Res<Vec<u8>> {
        let out = self.command(cmd, false, Drain::Yes, None).output()?;
        if !out.status.success() {
            return Err(self.failed(cmd, out.status, &String::from_utf8_lossy(&out.stderr)));
        }
        Ok(out.stdout)
    }

    fn failed(
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

    fn command(&self, cmd: &Cmd, stdin: bool, drain: Drain, rss_file: Option<&Path>) -> Command {
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
    fn repeat(
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
    fn repeat_with(
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
struct Usage {
    wall_s: f64,
    cpu_s: f64,
    peak_kib: u64,
}

/// The last line of GNU time's output file, in [`GNU_TIME_FORMAT`].
fn read_usage(path: &Path) -> Option<Usage> {
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

// ---------------------------------------------------------------------------------------------
// The hook figures
// ---------------------------------------------------------------------------------------------

const PROJECT: &str = "/home/dev/project";

fn bench_pre_tool(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    std::fs::create_dir_all(store)?;
    let start = command(Some(store), &["hook", "session-start"]);
    tool.once(
        &start,
        Some(session_start_payload(session).as_bytes()),
        Drain::No,
        None,
    )?;
    let cmd = command(Some(store), &["hook", "pre-tool"]);
    tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let payload = pre_tool_payload(session, i);
        tool.once(&cmd, Some(payload.as_bytes()), Drain::No, rss)
    })
}

/// Each post-tool runs right after the pre-tool of the same call; only the post-tool is timed.
fn bench_post_tool(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    let pre = command(Some(store), &["hook", "pre-tool"]);
    let post = command(Some(store), &["hook", "post-tool"]);
    tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        // Distinct from the ids the cold figure used.
        let i = i + 1_000_000;
        tool.once(
            &pre,
            Some(pre_tool_payload(session, i).as_bytes()),
            Drain::No,
            None,
        )?;
        tool.once(
            &post,
            Some(post_tool_payload(session, i).as_bytes()),
            Drain::No,
            rss,
        )
    })
}

/// The first hook on a session that has no `.counters` (one written by another tool):
/// it folds every event into the cache once. Timed on the pre-tool; the cache is removed
/// before each run.
fn bench_cold_hook(tool: &Tool, store: &Path, session: &str, runs: usize) -> Res<Sample> {
    let pre = command(Some(store), &["hook", "pre-tool"]);
    let post = command(Some(store), &["hook", "post-tool"]);
    let cache = store.join(session).join(".counters");
    let mut sample = Sample::default();
    for i in 0..runs {
        let _ = std::fs::remove_file(&cache);
        let (wall, _) = tool.once(
            &pre,
            Some(pre_tool_payload(session, i).as_bytes()),
            Drain::No,
            None,
        )?;
        sample.wall.push(wall);
        tool.once(
            &post,
            Some(post_tool_payload(session, i).as_bytes()),
            Drain::No,
            None,
        )?;
    }
    if tool.gnu_time {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("rss");
        let _ = std::fs::remove_file(&cache);
        tool.once(
            &pre,
            Some(pre_tool_payload(session, runs).as_bytes()),
            Drain::No,
            Some(&file),
        )?;
        sample.add_usage(read_usage(&file));
        tool.once(
            &post,
            Some(post_tool_payload(session, runs).as_bytes()),
            Drain::No,
            None,
        )?;
    }
    Ok(sample)
}

fn transcript_path(session: &str) -> String {
    format!("/home/dev/.claude/projects/-home-dev-project/{session}.jsonl")
}

fn session_start_payload(session: &str) -> String {
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "SessionStart",
        "source": "startup",
    })
    .to_string()
}

/// The `tool_input` of call `i`: a Bash command padded so that the PreToolUse payload is
/// [`PAYLOAD_BYTES`] long.
fn tool_input(session: &str, i: usize) -> Value {
    let base = |pad: &str| {
        json!({
            "command": format!(
                "cd {PROJECT} && cargo test --workspace --all-features -- --test-threads=2 2>&1 \
                 | tee /tmp/test-run-{i:07}.log | grep -E '^(test result|error|warning)' {pad}"
            ),
            "description": "Run the whole test suite and keep its log",
        })
    };
    let probe = json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": base(""),
    })
    .to_string();
    let mut pad = String::from("# ");
    let words = [
        "keep", "the", "output", "of", "every", "crate", "so", "that", "failures", "can", "be",
        "compared", "across", "runs", "later",
    ];
    let mut w = i;
    while probe.len() + pad.len() + 1 < PAYLOAD_BYTES {
        pad.push_str(words[w % words.len()]);
        pad.push(' ');
        w += 1;
    }
    pad.truncate(PAYLOAD_BYTES.saturating_sub(probe.len()));
    base(pad.trim_end())
}

fn pre_tool_payload(session: &str, i: usize) -> String {
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": tool_input(session, i),
    })
    .to_string()
}

/// The PostToolUse of call `i`: the same input and about 1 KB of output.
fn post_tool_payload(session: &str, i: usize) -> String {
    let mut stdout = String::new();
    for n in 0..14 {
        let _ = writeln!(
            stdout,
            "test result: ok. {} passed; 0 failed; 0 ignored; finished in 0.{n:02}s",
            40 + n
        );
    }
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": tool_input(session, i),
        "tool_response": {
            "stdout": stdout,
            "stderr": "",
            "interrupted": false,
            "isImage": false,
        },
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// Checks that the figures measured what they claim
// ---------------------------------------------------------------------------------------------

/// Anything the hooks logged as a failure.
fn check_hook_store(store: &Path, what: &str) -> Option<String> {
    let log = store.join("hook-errors.log");
    let text = std::fs::read_to_string(&log).ok()?;
    let first = text.lines().next().unwrap_or_default();
    Some(format!(
        "WARNING: {what} hooks logged {} errors in {}; first: {first}",
        text.lines().count(),
        log.display()
    ))
}

/// After the cold folds, the counters the binary derived must be the ones the generator wrote.
fn check_cold_counters(store: &Path, session: &str, info: &GenInfo, hooks: u64) -> Option<String> {
    let text = std::fs::read_to_string(store.join(session).join("meta.json")).ok()?;
    let meta: Value = serde_json::from_str(&text).ok()?;
    let calls = meta.get("tool_calls").and_then(Value::as_u64).unwrap_or(0);
    let errors = meta.get("errors").and_then(Value::as_u64).unwrap_or(0);
    let expected = info.tool_calls + hooks;
    if calls == expected && errors == info.errors {
        None
    } else {
        Some(format!(
            "WARNING: after the cold hooks meta.json says {calls} tool calls and {errors} errors; \
             expected {expected} and {}",
            info.errors
        ))
    }
}

/// Every tool_result the timed post-tools wrote must name the tool_call just before it.
fn check_links(events: &Path, from: u64, expected: usize) -> String {
    let mut results = 0usize;
    let mut linked = 0usize;
    let Ok(mut file) = File::open(events) else {
        return format!("WARNING: cannot open {}", events.display());
    };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return "WARNING: cannot seek the events file".to_owned();
    }
    let mut last_call: Option<String> = None;
    for line in BufReader::new(file).lines().map_while(Result::ok) {
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match event["event_type"].as_str() {
            Some("tool_call") => last_call = event["event_id"].as_str().map(str::to_owned),
            Some("tool_result") => {
                results += 1;
                if event["parent_id"].as_str().is_some()
                    && event["parent_id"].as_str() == last_call.as_deref()
                    && event["duration_ms"].is_number()
                {
                    linked += 1;
                }
            }
            _ => {}
        }
    }
    let verdict = if linked == expected && results == expected {
        "ok"
    } else {
        "WARNING: not every post-tool linked to its call"
    };
    format!(
        "post-tool linking: {linked} of {results} results linked to their call (expected {expected}): {verdict}"
    )
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn copy_session(from_store: &Path, to_store: &Path, session: &str) -> Res<()> {
    let to = to_store.join(session);
    std::fs::create_dir_all(&to)?;
    for name in ["meta.json", "events.ndjson"] {
        std::fs::copy(from_store.join(session).join(name), to.join(name))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The Python baseline
// ---------------------------------------------------------------------------------------------

/// The same figures for the Python agent-strace, in the order of the rows.
fn python_baseline(py: &Tool, work: &Path, session: &str) -> Res<Vec<Option<Sample>>> {
    // The Python hooks name a session by the first 16 characters of Claude Code's id, and
    // check that every event's session_id is its folder's name.
    let py_session: String = session.chars().take(16).collect();
    let pristine = work.join("py-pristine").join(".agent-traces");
    generate(&pristine, &py_session, 0x5eed)?;

    let version = py.repeat(
        &command(None, &["--version"]),
        None,
        Drain::No,
        1,
        PY_HOOK_RUNS,
        PY_RSS_RUNS,
    )?;

    let store1 = work.join("py1").join(".agent-traces");
    let hook_session = session_uuid(0xabc);
    let pre = bench_pre_tool(
        py,
        &store1,
        &hook_session,
        PY_HOOK_WARMUP,
        PY_HOOK_RUNS,
        PY_RSS_RUNS,
    )?;

    let store2 = work.join("py2").join(".agent-traces");
    copy_session(&pristine, &store2, &py_session)?;
    // Python keeps counters in meta.json, so it has no cold figure; its first hook is timed
    // the same way for the comparison.
    let cold = bench_cold_hook(py, &store2, session, 1)?;
    let post = bench_post_tool(
        py,
        &store2,
        session,
        PY_HOOK_WARMUP,
        PY_HOOK_RUNS,
        PY_RSS_RUNS,
    )?;

    let read = |args: &[&str]| -> Res<Sample> {
        let cmd = command(Some(&pristine), args);
        let (first, out) = py.once(&cmd, None, Drain::Yes, None)?;
        let mut sample = Sample {
            wall: vec![first],
            out_bytes: out,
            ..Sample::default()
        };
        let runs = if first > PY_READ_GIVE_UP {
            0
        } else {
            PY_READ_RUNS - 1
        };
        let more = py.repeat(&cmd, None, Drain::Yes, 0, runs, 1)?;
        sample.wall.extend(more.wall);
        sample.peak_kib = more.peak_kib;
        Ok(sample)
    };
    let stats = read(&["stats", &py_session])?;
    let replay = read(&["replay", &py_session])?;
    Ok(vec![
        Some(version),
        Some(pre),
        Some(post),
        Some(cold),
        Some(stats),
        Some(replay),
    ])
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Target {
    median: Option<Duration>,
    p99: Option<Duration>,
    peak_kib: Option<u64>,
}

impl Target {
    fn none() -> Self {
        Target {
            median: None,
            p99: None,
            peak_kib: None,
        }
    }
    fn hook() -> Self {
        Target {
            median: Some(Duration::from_millis(2)),
            p99: Some(Duration::from_millis(5)),
            peak_kib: Some(10 * MIB),
        }
    }
    fn stats() -> Self {
        Target {
            median: Some(Duration::from_millis(100)),
            p99: None,
            peak_kib: Some(30 * MIB),
        }
    }
    fn replay() -> Self {
        Target {
            median: Some(Duration::from_millis(300)),
            p99: None,
            peak_kib: None,
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.median {
            parts.push(format!("median ≤ {}", fmt_duration(m)));
        }
        if let Some(p) = self.p99 {
            parts.push(format!("p99 ≤ {}", fmt_duration(p)));
        }
        if let Some(k) = self.peak_kib {
            parts.push(format!("≤ {} MiB", k / MIB));
        }
        if parts.is_empty() {
            "(reference)".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

struct Row {
    name: &'static str,
    ours: Sample,
    target: Target,
    python: Option<Sample>,
}

impl Row {
    fn new(name: &'static str, ours: Sample, target: Target) -> Self {
        Row {
            name,
            ours,
            target,
            python: None,
        }
    }

    /// What misses its target, if anything.
    fn misses(&self) -> Vec<&'static str> {
        let mut misses = Vec::new();
        let (median, p99) = (median(&self.ours.wall), p99(&self.ours.wall));
        if self.target.median.is_some_and(|t| median > t) {
            misses.push("median");
        }
        if self.target.p99.is_some_and(|t| p99 > t) {
            misses.push("p99");
        }
        if let (Some(t), Some(peak)) = (self.target.peak_kib, self.ours.peak_kib)
            && peak > t
        {
            misses.push("RSS");
        }
        misses
    }
}

fn sorted(samples: &[Duration]) -> Vec<Duration> {
    let mut s = samples.to_vec();
    s.sort();
    s
}

/// Nearest-rank percentile.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let s = sorted(samples);
    if s.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn median(samples: &[Duration]) -> Duration {
    let s = sorted(samples);
    match s.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2,
    }
}

fn p99(samples: &[Duration]) -> Duration {
    percentile(samples, 99.0)
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn print_report(
    machine: &str,
    bin: &Path,
    info: &GenInfo,
    gen_time: Duration,
    rows: &[Row],
    python: Option<&Path>,
) {
    println!("agent-strace figures");
    println!("machine: {machine}");
    println!("binary:  {}", bin.display());
    if let Some(py) = python {
        println!("python:  {}", py.display());
    }
    println!(
        "session: {} events, {} bytes ({:.0} bytes/line), {} tool calls, {} errors; generated in {}",
        info.events,
        info.bytes,
        info.bytes as f64 / info.events as f64,
        info.tool_calls,
        info.errors,
        fmt_duration(gen_time)
    );
    println!();
    let mut header = String::from("| figure | runs | median | p99 | peak RSS | target | verdict |");
    let mut rule = String::from("|---|---:|---:|---:|---:|---|---|");
    if python.is_some() {
        header.push_str(" python runs | python median | python p99 | python peak RSS |");
        rule.push_str("---:|---:|---:|---:|");
    }
    println!("{header}");
    println!("{rule}");
    for row in rows {
        let misses = row.misses();
        let verdict = if row.target.median.is_none() && row.target.peak_kib.is_none() {
            "-".to_owned()
        } else if misses.is_empty() {
            "ok".to_owned()
        } else {
            format!("**OVER TARGET** ({})", misses.join(", "))
        };
        let mut line = format!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            row.ours.wall.len(),
            fmt_duration(median(&row.ours.wall)),
            fmt_duration(p99(&row.ours.wall)),
            fmt_rss(row.ours.peak_kib),
            row.target.describe(),
            verdict
        );
        if python.is_some() {
            match &row.python {
                Some(py) => {
                    let _ = write!(
                        line,
                        " {} | {} | {} | {} |",
                        py.wall.len(),
                        fmt_duration(median(&py.wall)),
                        fmt_duration(p99(&py.wall)),
                        fmt_rss(py.peak_kib)
                    );
                }
                None => line.push_str(" - | - | - | - |"),
            }
        }
        println!("{line}");
    }
}

fn print_verdict(rows: &[Row], import_rows: &[ImportRow], proxy_over: &[String], notes: &[String]) {
    let over: Vec<String> = rows
        .iter()
        .filter(|r| !r.misses().is_empty())
        .map(|r| r.name.to_owned())
        .chain(
            import_rows
                .iter()
                .filter(|r| !r.misses().is_empty())
                .map(ImportRow::name),
        )
        .chain(proxy_over.iter().cloned())
        .collect();
    println!();
    if over.is_empty() {
        println!("All figures with a target are within it.");
    } else {
        println!("OVER TARGET: {}", over.join("; "));
    }
    for note in notes {
        println!("note: {note}");
    }
}

/// The 1-minute load average, as /proc/loadavg says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cpus} CPUs, {model}, Linux {kernel}")
}

// ---------------------------------------------------------------------------------------------
// The session generator
// ---------------------------------------------------------------------------------------------

/// What [`generate`] wrote.
struct GenInfo {
    session_id: String,
    events: usize,
    bytes: u64,
    tool_calls: u64,
    errors: u64,
}

/// xorshift64*: small, deterministic, good enough to vary generated text.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(digits);
        s
    }
}

/// A version-4 UUID made from `seed`.
fn session_uuid(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let h = rng.hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

const WORDS: &[&str] = &[
    "config", "parse", "session", "event", "store", "reader", "writer", "handle", "request",
    "buffer", "index", "token", "line", "path", "error", "result", "value", "output", "input",
    "cache", "lock", "counter", "offset", "record", "hook", "payload", "state", "tree", "node",
    "span", "limit", "filter", "render", "format", "replay", "stats", "meta", "pending", "claim",
];
const TYPES: &[&str] = &[
    "Event", "Store", "Session", "Config", "Counters", "Path", "String", "Value", "Reader",
    "Payload",
];
const DIRS: &[&str] = &[
    "src/store",
    "src/cli",
    "src/model",
    "src/capture",
    "src/render",
    "tests",
];
const PROMPTS: &[&str] = &[
    "The replay command shows the wrong duration for tool results that follow a compaction. \
     Find out why, fix it, and add a regression test next to the existing replay tests.",
    "Add a --since flag to list that takes a date or a relative time like 2h and filters the \
     sessions by their start time. Keep the output format unchanged otherwise.",
    "The hook is too slow when the session is large. Profile it and make the common path \
     cheaper without changing the store format.",
    "Refactor the stats module so the per-tool percentiles are computed in one pass, and make \
     sure the JSON output keeps the same keys.",
];

fn ident(rng: &mut Rng) -> String {
    format!("{}_{}", rng.pick(WORDS), rng.pick(WORDS))
}

fn code_line(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => format!(
            "    let {} = {}(&{})?;",
            ident(rng),
            ident(rng),
            rng.pick(WORDS)
        ),
        1 => format!(
            "    if {}.is_empty() {{ return Ok(None); }}",
            rng.pick(WORDS)
        ),
        2 => format!(
            "pub fn {}({}: &{}) -> Result<{}> {{",
            ident(rng),
            rng.pick(WORDS),
            rng.pick(TYPES),
            rng.pick(TYPES)
        ),
        3 => format!(
            "    // {} the {} before the {} is {}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS)
        ),
        4 => "}".to_owned(),
        5 => format!(
            "    {}.{}({}, {});",
            rng.pick(WORDS),
            ident(rng),
            rng.pick(WORDS),
            rng.below(4096)
        ),
        _ => format!(
            "    match {} {{ Some(x) => x, None => \"{}\" }}",
            rng.pick(WORDS),
            rng.pick(WORDS)
        ),
    }
}

fn code(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        s.push_str(&code_line(rng));
        s.push('\n');
    }
    s
}

fn log_line(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!(
            "   Compiling {}-{} v0.{}.{}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(20),
            rng.below(10)
        ),
        1 => format!("test {}::{} ... ok", rng.pick(WORDS), ident(rng)),
        2 => format!(
            "{}/{}.rs:{}:{}: warning: unused variable `{}`",
            rng.pick(DIRS),
            rng.pick(WORDS),
            rng.range(1, 400),
            rng.range(1, 80),
            rng.pick(WORDS)
        ),
        3 => format!(
            "-rw-r--r-- 1 dev dev {:>6} Nov 24 10:{:02} {}.rs",
            rng.below(40_000),
            rng.below(60),
            rng.pick(WORDS)
        ),
        _ => format!(
            "test result: ok. {} passed; 0 failed; 0 ignored; finished in {}.{:02}s",
            rng.below(200),
            rng.below(9),
            rng.below(100)
        ),
    }
}

fn log(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        s.push_str(&log_line(rng));
        s.push('\n');
    }
    s
}

fn file_path(rng: &mut Rng) -> String {
    format!("{PROJECT}/{}/{}.rs", rng.pick(DIRS), rng.pick(WORDS))
}

/// One tool call: (tool, arguments, result, file event kind and path, error message).
struct Call {
    tool: &'static str,
    arguments: Value,
    result: Value,
    file: Option<(&'static str, String)>,
    error: Option<String>,
}

fn tool_call(rng: &mut Rng) -> Call {
    let roll = rng.below(100);
    let failing = rng.chance(0.03);
    let (tool, arguments, result, file, error) = match roll {
        0..=29 => {
            let command = match rng.below(4) {
                0 => "cargo test --workspace 2>&1 | tail -40".to_owned(),
                1 => format!(
                    "cargo clippy --all-targets -- -D warnings 2>&1 | grep {}",
                    rng.pick(WORDS)
                ),
                2 => format!("ls -la {PROJECT}/{}", rng.pick(DIRS)),
                _ => format!("git diff --stat HEAD~{}", rng.range(1, 9)),
            };
            let arguments = json!({"command": command, "description": "Check the build"});
            let n = rng.range(120, 320);
            let stdout = log(rng, n);
            let result = json!({
                "stdout": stdout,
                "stderr": "",
                "interrupted": false,
                "isImage": false,
            });
            let error = failing.then(|| {
                format!(
                    "Exit code 101\nerror[E0425]: cannot find value `{}` in this scope\n --> {}:{}:{}",
                    ident(rng),
                    file_path(rng),
                    rng.range(1, 400),
                    rng.range(1, 80)
                )
            });
            ("Bash", arguments, result, None, error)
        }
        30..=59 => {
            let path = file_path(rng);
            let content = {
                let n = rng.range(120, 360);
                code(rng, n)
            };
            let lines = content.lines().count();
            let result = json!({
                "type": "text",
                "file": {
                    "filePath": path,
                    "content": content,
                    "numLines": lines,
                    "startLine": 1,
                    "totalLines": lines + rng.below(300),
                },
            });
            let error = failing.then(|| format!("File does not exist: {path}"));
            let file = Some(("file_read", path.clone()));
            ("Read", json!({"file_path": path}), result, file, error)
        }
        60..=74 => {
            let path = file_path(rng);
            let old = {
                let n = rng.range(40, 120);
                code(rng, n)
            };
            let new = {
                let n = rng.range(40, 140);
                code(rng, n)
            };
            let arguments = json!({"file_path": path, "old_string": old, "new_string": new});
            let start = rng.range(1, 400);
            let patch: Vec<String> = old
                .lines()
                .map(|l| format!("-{l}"))
                .chain(new.lines().map(|l| format!("+{l}")))
                .collect();
            let result = json!({
                "filePath": path,
                "oldString": old,
                "newString": new,
                "structuredPatch": [{
                    "oldStart": start, "oldLines": old.lines().count(),
                    "newStart": start, "newLines": new.lines().count(),
                    "lines": patch,
                }],
                "userModified": false,
                "replaceAll": false,
            });
            let error = failing
                .then(|| "String to replace not found in file.\nString: ".to_owned() + old.trim());
            let file = Some(("file_write", path.clone()));
            ("Edit", arguments, result, file, error)
        }
        75..=84 => {
            let pattern = format!("fn {}", ident(rng));
            let files: Vec<String> = (0..rng.range(2, 9)).map(|_| file_path(rng)).collect();
            let arguments =
                json!({"pattern": pattern, "path": PROJECT, "output_mode": "files_with_matches"});
            let result =
                json!({"mode": "files_with_matches", "numFiles": files.len(), "filenames": files});
            ("Grep", arguments, result, None, None)
        }
        85..=92 => {
            let files: Vec<String> = (0..rng.range(3, 10)).map(|_| file_path(rng)).collect();
            let arguments = json!({"pattern": format!("{}/**/*.rs", rng.pick(DIRS))});
            let result = json!({
                "filenames": files, "durationMs": rng.range(2, 40),
                "numFiles": files.len(), "truncated": false,
            });
            ("Glob", arguments, result, None, None)
        }
        _ => {
            let path = file_path(rng);
            let content = {
                let n = rng.range(150, 400);
                code(rng, n)
            };
            let arguments = json!({"file_path": path, "content": content});
            let result = json!({"type": "create", "filePath": path, "structuredPatch": []});
            let file = Some(("file_write", path.clone()));
            ("Write", arguments, result, file, None)
        }
    };
    Call {
        tool,
        arguments,
        result,
        file,
        error,
    }
}

/// Writes events one line each, counting what it wrote.
struct Writer<'a> {
    out: BufWriter<File>,
    rng: &'a mut Rng,
    session: String,
    now: f64,
    lines: usize,
    bytes: u64,
    tool_calls: u64,
    errors: u64,
    first: f64,
}

impl Writer<'_> {
    fn tick(&mut self, lo: f64, hi: f64) -> f64 {
        self.now += lo + self.rng.unit() * (hi - lo);
        self.now = (self.now * 1e6).round() / 1e6;
        self.now
    }

    fn emit(
        &mut self,
        kind: &str,
        parent: Option<&str>,
        duration_ms: Option<f64>,
        data: Value,
    ) -> Res<String> {
        let id = self.rng.hex(12);
        let mut event = serde_json::Map::new();
        event.insert("event_type".into(), kind.into());
        event.insert("timestamp".into(), self.now.into());
        event.insert("event_id".into(), id.clone().into());
        event.insert("session_id".into(), self.session.clone().into());
        if let Some(p) = parent {
            event.insert("parent_id".into(), p.into());
        }
        if let Some(d) = duration_ms {
            event.insert("duration_ms".into(), d.into());
        }
        event.insert("data".into(), data);
        let mut line = serde_json::to_vec(&Value::Object(event))?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.lines += 1;
        self.bytes += line.len() as u64;
        match kind {
            "tool_call" => self.tool_calls += 1,
            "error" => self.errors += 1,
            _ => {}
        }
        Ok(id)
    }

    /// A call, its result (or error), and the file event of a file tool: 2 or 3 lines.
    fn tool(&mut self) -> Res<()> {
        let call = tool_call(self.rng);
        self.tick(0.1, 1.5);
        let call_id = self.emit(
            "tool_call",
            None,
            None,
            json!({"tool_name": call.tool, "arguments": call.arguments}),
        )?;
        let started = self.now;
        self.tick(0.005, 2.0);
        let took = ((self.now - started) * 1000.0 * 1000.0).round() / 1000.0;
        if let Some(error) = call.error {
            self.emit(
                "error",
                Some(&call_id),
                Some(took),
                json!({"tool_name": call.tool, "error": error}),
            )?;
            return Ok(());
        }
        self.emit(
            "tool_result",
            Some(&call_id),
            Some(took),
            json!({"tool_name": call.tool, "result": call.result}),
        )?;
        if let Some((kind, path)) = call.file {
            self.emit(
                kind,
                Some(&call_id),
                None,
                json!({"path": path, "tool_name": call.tool}),
            )?;
        }
        Ok(())
    }

    fn prompt(&mut self) -> Res<()> {
        self.tick(5.0, 60.0);
        let prompt = self.rng.pick(PROMPTS).to_owned();
        self.emit("user_prompt", None, None, json!({ "prompt": prompt }))?;
        Ok(())
    }

    fn answer(&mut self) -> Res<()> {
        self.tick(1.0, 10.0);
        let text = format!(
            "Done. I changed `{}` in {} and `{}` in {}; `cargo test` passes. {}",
            ident(self.rng),
            file_path(self.rng),
            ident(self.rng),
            file_path(self.rng),
            "The remaining warning is unrelated and predates this change."
        );
        self.emit(
            "assistant_response",
            None,
            None,
            json!({"text": text, "stop_hook_active": false}),
        )?;
        Ok(())
    }
}

/// Writes a Claude Code session of [`SESSION_EVENTS`] events to `store/<session_id>/`, with a
/// `meta.json` holding its counters the way the Python tool keeps them (and no
/// `.counters`, as the Python tool writes none).
fn generate(store: &Path, session_id: &str, seed: u64) -> Res<GenInfo> {
    let dir = store.join(session_id);
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng::new(seed);
    let started = 1_763_900_000.25;
    let out = BufWriter::with_capacity(1 << 20, File::create(dir.join("events.ndjson"))?);
    let mut w = Writer {
        out,
        rng: &mut rng,
        session: session_id.to_owned(),
        now: started,
        lines: 0,
        bytes: 0,
        tool_calls: 0,
        errors: 0,
        first: started,
    };
    w.emit(
        "session_start",
        None,
        None,
        json!({
            "source": "startup",
            "model": "claude-sonnet-4-5",
            "cwd": PROJECT,
            "transcript_path": transcript_path(session_id),
            "permission_mode": "default",
        }),
    )?;
    // Leave room for the last answer and the session_end.
    let last = SESSION_EVENTS - 2;
    let mut since_prompt = usize::MAX;
    while w.lines < last {
        if since_prompt >= 198 {
            if since_prompt != usize::MAX {
                w.answer()?;
            }
            if w.lines < last {
                w.prompt()?;
            }
            since_prompt = 0;
            continue;
        }
        if last - w.lines < 3 {
            w.answer()?;
            continue;
        }
        let before = w.lines;
        w.tool()?;
        since_prompt += w.lines - before;
    }
    w.answer()?;
    w.tick(1.0, 5.0);
    w.emit(
        "session_end",
        None,
        None,
        json!({"reason": "prompt_input_exit"}),
    )?;
    let ended = w.now;
    w.out.flush()?;
    let info = GenInfo {
        session_id: session_id.to_owned(),
        events: w.lines,
        bytes: w.bytes,
        tool_calls: w.tool_calls,
        errors: w.errors,
    };
    let meta = json!({
        "session_id": session_id,
        "started_at": w.first,
        "ended_at": ended,
        "agent_name": "claude-code",
        "command": "claude-code (startup)",
        "tool_calls": info.tool_calls,
        "errors": info.errors,
        "total_duration_ms": ((ended - w.first) * 1000.0 * 1000.0).round() / 1000.0,
    });
    std::fs::write(dir.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    Ok(info)
}

// ---------------------------------------------------------------------------------------------
// The import figure
// ---------------------------------------------------------------------------------------------

/// The real Claude Code transcripts the generated ones are made of: `AGENT_STRACE_CORPUS`, else
/// the shared corpus beside the repository.
fn corpus_dir() -> PathBuf {
    std::env::var_os("AGENT_STRACE_CORPUS")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/claude-code"),
            PathBuf::from,
        )
}

/// The lines of every main transcript in the corpus, parsed once.
struct Corpus {
    files: usize,
    bytes: u64,
    lines: Vec<Value>,
    /// Lines that are not a JSON object (the corpus has a few `//` comments).
    dropped: usize,
}

fn load_corpus(dir: &Path) -> Res<Corpus> {
    let mut files = Vec::new();
    collect_transcripts(dir, &mut files)
        .map_err(|e| format!("cannot read the corpus {}: {e}", dir.display()))?;
    files.sort();
    if files.is_empty() {
        return Err(format!("no transcripts in {}", dir.display()).into());
    }
    let mut corpus = Corpus {
        files: files.len(),
        bytes: 0,
        lines: Vec::new(),
        dropped: 0,
    };
    for file in &files {
        let text = std::fs::read(file)?;
        corpus.bytes += text.len() as u64;
        for line in text.split(|b| *b == b'\n').map(<[u8]>::trim_ascii) {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(value @ Value::Object(_)) => corpus.lines.push(value),
                _ => corpus.dropped += 1,
            }
        }
    }
    Ok(corpus)
}

/// Main transcripts: the `*.jsonl` files under `dir`, except those in `subagents` folders.
fn collect_transcripts(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "subagents") {
                collect_transcripts(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    Ok(())
}

/// A generated transcript, and what an import of it must find.
struct Transcript {
    path: PathBuf,
    session_id: String,
    bytes: u64,
    lines: u64,
    /// Corpus copies begun (the last one is cut where the file reached its size).
    copies: usize,
    /// API responses: distinct `message.id` + `requestId` of assistant lines.
    responses: u64,
    /// `tool_use` blocks of assistant lines.
    tool_calls: u64,
}

/// Keys whose string value names a line, a response or a tool call; each copy of the corpus
/// gets its own by a `-c<N>` suffix. `parentUuid` and the like get the same suffix as the
/// `uuid` they name, so links stay within their copy.
const ID_KEYS: [&str; 12] = [
    "uuid",
    "parentUuid",
    "leafUuid",
    "logicalParentUuid",
    "messageId",
    "snapshotMessageId",
    "requestId",
    "toolUseID",
    "parentToolUseID",
    "sourceToolAssistantUUID",
    "sourceToolUseID",
    "tool_use_id",
];

/// Makes one copy of a corpus line unique: ids get `suffix`, every `sessionId` becomes
/// `session_id`. An `id` is rewritten when it is an API message or tool-use id.
fn rewrite_ids(value: &mut Value, suffix: &str, session_id: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if let Value::String(s) = v {
                    if key == "sessionId" {
                        session_id.clone_into(s);
                    } else if ID_KEYS.contains(&key.as_str())
                        || (key == "id"
                            && ["msg_", "toolu_", "srvtoolu_"]
                                .iter()
                                .any(|p| s.starts_with(p)))
                    {
                        s.push_str(suffix);
                    }
                } else {
                    rewrite_ids(v, suffix, session_id);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                rewrite_ids(v, suffix, session_id);
            }
        }
        _ => {}
    }
}

/// Writes the corpus over and over, each copy with its own ids, as one session of `size`
/// bytes (cut after the line that reaches it).
fn write_transcript(corpus: &Corpus, path: &Path, session_id: &str, size: u64) -> Res<Transcript> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut t = Transcript {
        path: path.to_path_buf(),
        session_id: session_id.to_owned(),
        bytes: 0,
        lines: 0,
        copies: 0,
        responses: 0,
        tool_calls: 0,
    };
    let mut responses = std::collections::HashSet::new();
    let mut line = Vec::with_capacity(1 << 16);
    'copies: for copy in 1.. {
        t.copies = copy;
        let suffix = format!("-c{copy}");
        for original in &corpus.lines {
            let mut value = original.clone();
            rewrite_ids(&mut value, &suffix, session_id);
            if value["type"] == "assistant" && value["message"].is_object() {
                let key = (
                    value["message"]["id"].as_str().map(str::to_owned),
                    value["requestId"].as_str().map(str::to_owned),
                );
                // Lines without either id are a response each.
                if (key.0.is_none() && key.1.is_none()) || responses.insert(key) {
                    t.responses += 1;
                }
                if let Some(blocks) = value["message"]["content"].as_array() {
                    t.tool_calls +=
                        blocks.iter().filter(|b| b["type"] == "tool_use").count() as u64;
                }
            }
            line.clear();
            serde_json::to_writer(&mut line, &value)?;
            line.push(b'\n');
            out.write_all(&line)?;
            t.bytes += line.len() as u64;
            t.lines += 1;
            if t.bytes >= size {
                break 'copies;
            }
        }
    }
    // On disk before the runs, so that no writeback of it overlaps them.
    out.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()?;
    Ok(t)
}

/// Both generated transcripts, written to `dir`.
fn write_transcripts(corpus: &Corpus, dir: &Path) -> Res<Vec<Transcript>> {
    std::fs::create_dir_all(dir)?;
    IMPORT_SIZES
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let session = session_uuid(0x1a2b + i as u64);
            let path = dir.join(format!("{}mb-{session}.jsonl", size / 1_000_000));
            write_transcript(corpus, &path, &session, size)
        })
        .collect()
}

/// The import figures: both transcripts generated from the corpus, imported by us and, with
/// `ccusage`, summed by ccusage. Returns the rows and a description of the transcripts.
fn bench_imports(
    ours: &Tool,
    work: &Path,
    ccusage: Option<&Path>,
    notes: &mut Vec<String>,
) -> Res<(Vec<ImportRow>, String)> {
    let dir = corpus_dir();
    let started = Instant::now();
    let corpus = load_corpus(&dir)?;
    let transcripts = write_transcripts(&corpus, &work.join("transcripts"))?;
    let info = format!(
        "the {} main transcripts of {} ({:.1} MB, {} JSON lines, {} other lines dropped) \
         repeated with fresh ids per copy into one session each of {}; generated in {}",
        corpus.files,
        dir.display(),
        corpus.bytes as f64 / 1e6,
        corpus.lines.len(),
        corpus.dropped,
        transcripts
            .iter()
            .map(|t| format!("{} bytes ({} lines, {} copies)", t.bytes, t.lines, t.copies))
            .collect::<Vec<_>>()
            .join(" and "),
        fmt_duration(started.elapsed())
    );
    drop(corpus);
    let cc_tool = ccusage.map(|program| Tool {
        program: program.to_path_buf(),
        home: ours.home.clone(),
        cwd: ours.cwd.clone(),
        gnu_time: ours.gnu_time,
    });
    let mut rows: Vec<ImportRow> = Vec::new();
    for t in &transcripts {
        let mb = t.bytes as f64 / 1e6;
        eprintln!("figures: import {mb:.0} MB");
        let (ours_sample, tokens) =
            bench_import(ours, work, t, IMPORT_RUNS, IMPORT_RSS_RUNS, notes)?;
        let cc_sample = match &cc_tool {
            Some(cc) => {
                eprintln!("figures: ccusage on {mb:.0} MB");
                match bench_ccusage(cc, work, t, tokens, CCUSAGE_RUNS, CCUSAGE_RSS_RUNS, notes) {
                    Ok(sample) => Some(sample),
                    Err(e) => {
                        notes.push(format!("the ccusage baseline failed: {e}"));
                        None
                    }
                }
            }
            None => None,
        };
        rows.push(ImportRow {
            bytes: t.bytes,
            flat_vs_kib: rows.first().and_then(|r| r.ours.peak_kib),
            ours: ours_sample,
            ccusage: cc_sample,
        });
    }
    for t in &transcripts {
        let _ = std::fs::remove_file(&t.path);
    }
    Ok((rows, info))
}

/// Tokens in, out, cache write, cache read.
type Tokens = [u64; 4];

/// Imports `transcript` into a fresh store each run (created by the import, removed after it,
/// untimed). The first, untimed, run reports in JSON, and its figures are checked; returns the
/// token totals it reported.
fn bench_import(
    tool: &Tool,
    work: &Path,
    transcript: &Transcript,
    runs: usize,
    rss_runs: usize,
    notes: &mut Vec<String>,
) -> Res<(Sample, Option<Tokens>)> {
    let file = transcript.path.to_string_lossy().into_owned();
    let run_in = |store: &Path, json: bool| {
        let store = store.to_string_lossy().into_owned();
        let mut args = vec!["--trace-dir", &store, "import", &file];
        if json {
            args.extend(["--format", "json"]);
        }
        command(None, &args)
    };
    let store = work.join("import-check");
    let report = tool.output(&run_in(&store, true));
    std::fs::remove_dir_all(&store)?;
    let (note, tokens) = check_import(transcript, &report?);
    notes.push(note);
    let sample = tool.repeat_with(0, runs, rss_runs, |i, rss| {
        let store = work.join(format!("import-{i}"));
        let result = tool.once(&run_in(&store, false), None, Drain::Yes, rss);
        std::fs::remove_dir_all(&store)?;
        result
    })?;
    Ok((sample, tokens))
}

/// The import must have read every line, and found every response and tool call.
fn check_import(t: &Transcript, stdout: &[u8]) -> (String, Option<Tokens>) {
    let Ok(reports) = serde_json::from_slice::<Value>(stdout) else {
        return (
            "WARNING: import --format json printed no JSON".to_owned(),
            None,
        );
    };
    let r = &reports[0];
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    let tokens = ["input", "output", "cache_creation", "cache_read"]
        .map(|k| r["tokens"][k].as_u64().unwrap_or(0));
    let malformed = r["malformed"].as_array().map_or(0, Vec::len);
    let found = format!(
        "{} lines, {} responses, {} tool calls, {malformed} malformed, {} events written, \
         {}",
        n("lines"),
        n("responses"),
        n("tool_calls"),
        n("events"),
        fmt_tokens(tokens)
    );
    let ok = n("lines") == t.lines
        && n("responses") == t.responses
        && n("tool_calls") == t.tool_calls
        && malformed == 0
        && r["session_id"] == t.session_id.as_str();
    let note = if ok {
        format!(
            "import of the {:.0} MB transcript: {found}: as generated",
            t.bytes as f64 / 1e6
        )
    } else {
        format!(
            "WARNING: import of the {:.0} MB transcript found {found}; generated {} lines, {} \
             responses, {} tool calls",
            t.bytes as f64 / 1e6,
            t.lines,
            t.responses,
            t.tool_calls
        )
    };
    (note, Some(tokens))
}

fn fmt_tokens([input, output, write, read]: Tokens) -> String {
    format!("tokens in {input} / out {output} / cache write {write} / cache read {read}")
}

/// `ccusage session --json --offline` with the transcript as its only session.
fn bench_ccusage(
    tool: &Tool,
    work: &Path,
    transcript: &Transcript,
    ours: Option<Tokens>,
    runs: usize,
    rss_runs: usize,
    notes: &mut Vec<String>,
) -> Res<Sample> {
    let config = work.join(format!("ccusage-{}", transcript.session_id));
    let project = config.join("projects").join("bench");
    std::fs::create_dir_all(&project)?;
    let file = project.join(format!("{}.jsonl", transcript.session_id));
    if std::fs::hard_link(&transcript.path, &file).is_err() {
        std::fs::copy(&transcript.path, &file)?;
    }
    let mut cmd = command(None, &["session", "--json", "--offline"]);
    cmd.env.push(("CLAUDE_CONFIG_DIR", config));
    let out: Value = serde_json::from_slice(&tool.output(&cmd)?)?;
    let sessions = out["session"].as_array().map_or(0, Vec::len);
    let tokens = [
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
    ]
    .map(|k| out["totals"][k].as_u64().unwrap_or(0));
    let verdict = if ours == Some(tokens) {
        "the same as the import's"
    } else {
        "NOT the import's"
    };
    notes.push(format!(
        "ccusage on the {:.0} MB transcript: {sessions} session(s), {}: {verdict}",
        transcript.bytes as f64 / 1e6,
        fmt_tokens(tokens)
    ));
    tool.repeat(&cmd, None, Drain::Yes, 0, runs, rss_runs)
}

/// One transcript size: ours, and the ccusage baseline.
struct ImportRow {
    bytes: u64,
    ours: Sample,
    ccusage: Option<Sample>,
    /// The peak RSS this one may not exceed by more than [`IMPORT_RSS_SLACK`]: the smallest
    /// transcript's.
    flat_vs_kib: Option<u64>,
}

impl ImportRow {
    fn name(&self) -> String {
        format!("import, {:.0} MB transcript", self.bytes as f64 / 1e6)
    }

    /// MB (10^6 bytes) per second of median wall time.
    fn rate(&self, sample: &Sample) -> f64 {
        self.bytes as f64 / 1e6 / median(&sample.wall).as_secs_f64().max(1e-9)
    }

    fn rss_limit(&self) -> Option<u64> {
        self.flat_vs_kib
            .map(|k| k + (k as f64 * IMPORT_RSS_SLACK) as u64)
    }

    fn misses(&self) -> Vec<&'static str> {
        let mut misses = Vec::new();
        if self.rate(&self.ours) < IMPORT_MB_S {
            misses.push("MB/s");
        }
        if let (Some(limit), Some(peak)) = (self.rss_limit(), self.ours.peak_kib)
            && peak > limit
        {
            misses.push("RSS grows with file size");
        }
        misses
    }

    fn target(&self) -> String {
        match self.rss_limit() {
            Some(limit) => format!(
                "≥ {IMPORT_MB_S:.0} MB/s, ≤ {} (the smaller file's + {:.0}%)",
                fmt_rss(Some(limit)),
                IMPORT_RSS_SLACK * 100.0
            ),
            None => format!("≥ {IMPORT_MB_S:.0} MB/s"),
        }
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}"))
}

fn print_import(rows: &[ImportRow], info: Option<&str>, ccusage: Option<&Path>) {
    let Some(info) = info else { return };
    println!();
    println!("transcript import: {info}");
    if let Some(cc) = ccusage {
        println!("ccusage: {}", cc.display());
    }
    println!();
    let mut header = String::from(
        "| figure | runs | median | MB/s | slowest | peak RSS | CPU/wall | target | verdict |",
    );
    let mut rule = String::from("|---|---:|---:|---:|---:|---:|---:|---|---|");
    if ccusage.is_some() {
        header.push_str(
            " ccusage runs | ccusage median | ccusage MB/s | ccusage peak RSS | ccusage CPU/wall |",
        );
        rule.push_str("---:|---:|---:|---:|---:|");
    }
    println!("{header}");
    println!("{rule}");
    for row in rows {
        let misses = row.misses();
        let verdict = if misses.is_empty() {
            "ok".to_owned()
        } else {
            format!("**OVER TARGET** ({})", misses.join(", "))
        };
        let mut line = format!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {verdict} |",
            row.name(),
            row.ours.wall.len(),
            fmt_duration(median(&row.ours.wall)),
            row.rate(&row.ours),
            fmt_duration(p99(&row.ours.wall)),
            fmt_rss(row.ours.peak_kib),
            fmt_ratio(row.ours.cpu_per_wall),
            row.target(),
        );
        if ccusage.is_some() {
            match &row.ccusage {
                Some(cc) => {
                    let _ = write!(
                        line,
                        " {} | {} | {:.0} | {} | {} |",
                        cc.wall.len(),
                        fmt_duration(median(&cc.wall)),
                        row.rate(cc),
                        fmt_rss(cc.peak_kib),
                        fmt_ratio(cc.cpu_per_wall)
                    );
                }
                None => line.push_str(" - | - | - | - | - |"),
            }
        }
        println!("{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// The stdio proxy figures
// ---------------------------------------------------------------------------------------------

/// Round trips timed on each connection, direct and through the proxy, after
/// [`PROXY_WARMUP`] untimed ones on each.
const PROXY_ROUND_TRIPS: usize = 5_000;
const PROXY_WARMUP: usize = 200;
/// What the proxy may add to the median round trip.
const PROXY_ADDED: Duration = Duration::from_micros(100);
/// Requests the client writes in each throughput run, and runs of each size, through `record`
/// to the echo server; to `cat`, fewer runs.
const FLOW_SIZES: [(usize, usize); 2] = [(100_000, 3), (1_000_000, 2)];
const FLOW_SIZES_CAT: [(usize, usize); 2] = [(100_000, 2), (1_000_000, 1)];
/// The throughput target: client messages relayed per second.
const FLOW_MSG_S: f64 = 20_000.0;
/// Peak RSS on the largest run may exceed the smallest's by this much.
const FLOW_RSS_SLACK: f64 = 0.10;
/// The argument that turns this bench binary into the echo server.
const ECHO_SERVER: &str = "--echo-server";
/// Pipe reads and writes of the bench, as big as the proxy's.
const CHUNK: usize = 64 * 1024;

/// Request `i`: a `tools/call` of 101–106 bytes with its newline.
fn request_line(i: usize, out: &mut Vec<u8>) {
    let _ = writeln!(
        out,
        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}}}}}}"#
    );
}

/// The echo server's answer to the request with id `id` (the id's JSON text).
fn response_line(id: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id);
    out.extend_from_slice(
        br#","result":{"content":[{"type":"text","text":"hi"}],"isError":false}}"#,
    );
    out.push(b'\n');
}

/// The `"id":` number of a request line as [`request_line`] writes it.
fn request_id(line: &[u8]) -> Option<&[u8]> {
    let key = br#""id":"#;
    let at = line.windows(key.len()).position(|w| w == key)? + key.len();
    let len = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    (len > 0).then(|| &line[at..at + len])
}

/// `figures --echo-server`: the MCP server of the proxy figures. Answers each request line
/// with a `tools/call` result carrying the same id, at once; it writes when it has read all
/// that is waiting, so a burst of requests gets its answers in few writes, and a lone request
/// its answer in one.
fn echo_server() -> std::io::Result<()> {
    let mut input = BufReader::with_capacity(CHUNK, std::io::stdin().lock());
    let mut out = BufWriter::with_capacity(CHUNK, std::io::stdout().lock());
    let mut line = Vec::with_capacity(256);
    let mut answer = Vec::with_capacity(256);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if let Some(id) = request_id(&line) {
            answer.clear();
            response_line(id, &mut answer);
            out.write_all(&answer)?;
        }
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
    out.flush()
}

/// The echo server's command: this bench binary.
fn echo_command() -> Res<Vec<String>> {
    let exe = std::env::current_exe()?;
    Ok(vec![
        exe.to_string_lossy().into_owned(),
        ECHO_SERVER.to_owned(),
    ])
}

/// `agent-strace --trace-dir <store> record --name <name> -- <child>`.
fn record_command(store: &Path, name: &str, child: &[String]) -> Cmd {
    let store = store.to_string_lossy().into_owned();
    let mut args = vec!["--trace-dir", &store, "record", "--name", name, "--"];
    args.extend(child.iter().map(String::as_str));
    command(None, &args)
}

/// A process spoken to one line at a time.
struct Conn {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: BufReader<std::process::ChildStdout>,
    stderr: Option<std::thread::JoinHandle<String>>,
    line: Vec<u8>,
}

impl Conn {
    fn new(mut command: Command) -> Res<Conn> {
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
    fn round_trip(&mut self, request: &[u8]) -> Res<Duration> {
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
    fn close(mut self) -> Res<(Duration, String)> {
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
struct Latency {
    direct: Vec<Duration>,
    proxied: Vec<Duration>,
    /// The proxy's peak RSS over the whole session (it runs under GNU time).
    proxy_peak_kib: Option<u64>,
    /// From closing the proxy's stdin to reaping it.
    proxy_exit: Duration,
}

impl Latency {
    fn added(&self) -> Duration {
        median(&self.proxied).saturating_sub(median(&self.direct))
    }

    /// The difference of medians, in µs, negative when the proxy was faster.
    fn added_us(&self) -> f64 {
        (median(&self.proxied).as_secs_f64() - median(&self.direct).as_secs_f64()) * 1e6
    }

    fn misses(&self) -> Vec<&'static str> {
        if self.added() > PROXY_ADDED {
            vec!["added median"]
        } else {
            Vec::new()
        }
    }
}

fn bench_latency(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Latency> {
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

/// What a session's `events.ndjson` holds, counted without parsing it.
#[derive(Default)]
struct Recorded {
    lines: u64,
    bytes: u64,
    by_type: std::collections::BTreeMap<String, u64>,
    /// Events with a `parent_id`.
    linked: u64,
}

/// The events file of the one session in `store`.
fn only_session_events(store: &Path) -> Res<PathBuf> {
    let mut dirs = std::fs::read_dir(store)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir());
    let dir = dirs.next().ok_or("record made no session")?;
    if dirs.next().is_some() {
        return Err("record made more than one session".into());
    }
    Ok(dir.join("events.ndjson"))
}

fn count_recorded(store: &Path) -> Res<Recorded> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(only_session_events(store)?)?);
    let mut rec = Recorded::default();
    let mut line = Vec::with_capacity(1024);
    let prefix = br#"{"event_type":""#;
    let parent = br#""parent_id":""#;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        rec.lines += 1;
        rec.bytes += line.len() as u64;
        let kind = line
            .strip_prefix(prefix)
            .and_then(|rest| rest.split(|&b| b == b'"').next())
            .map_or_else(
                || "?".to_owned(),
                |k| String::from_utf8_lossy(k).into_owned(),
            );
        *rec.by_type.entry(kind).or_default() += 1;
        // The parent comes right after the session id, within the first 200 bytes.
        let head = &line[..line.len().min(200)];
        if head.windows(parent.len()).any(|w| w == parent) {
            rec.linked += 1;
        }
    }
    Ok(rec)
}

impl Recorded {
    fn found(&self) -> String {
        let types: Vec<String> = self
            .by_type
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        format!(
            "{} events ({:.1} MB): {}; {} with a parent",
            self.lines,
            self.bytes as f64 / 1e6,
            types.join(", "),
            self.linked
        )
    }

    /// A note on what `what` recorded against what it should have: a session start and end
    /// around `expected` counts of event types, and `linked` events with a parent.
    fn check(
        &self,
        what: &str,
        messages: u64,
        expected: &[(&str, u64)],
        linked: Option<u64>,
    ) -> String {
        let mut want: std::collections::BTreeMap<String, u64> = expected
            .iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect();
        want.insert("session_start".to_owned(), 1);
        want.insert("session_end".to_owned(), 1);
        let ok = want == self.by_type && linked.is_none_or(|l| l == self.linked);
        let early = self.by_type.get("decision").copied().unwrap_or(0);
        let why = if early > 0 && linked.is_some() {
            format!(
                " ({early} answers recorded as an unlinked `decision`: each was recorded before \
                 its request, which then stays open)"
            )
        } else {
            String::new()
        };
        let verdict = if ok {
            ": as sent"
        } else {
            ": NOT what was sent"
        };
        format!(
            "{}{what}: {messages} requests; recorded {}{verdict}{why}",
            if ok { "" } else { "WARNING: " },
            self.found(),
        )
    }
}

/// One throughput run.
struct Flow {
    /// From the first byte written to the last byte back.
    relayed: Duration,
    /// From the first byte written to the proxy reaped (every message recorded).
    exited: Duration,
    /// From the last byte written (stdin closed) to the proxy reaped.
    exit_after_input: Duration,
    /// The proxy's RSS and the events recorded when the last byte came back.
    rss_at_relayed_kib: Option<u64>,
    recorded_at_relayed: u64,
    usage: Option<Usage>,
    recorded: Recorded,
    /// Whether what came back was exactly what was expected.
    same: bool,
}

/// The proxy's pid: the child's, or under GNU time its child's.
fn proxy_pid(child: u32, under_time: bool) -> Option<u32> {
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

fn rss_kib(pid: u32) -> Option<u64> {
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
fn flow_once(
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
struct FlowRow {
    child: &'static str,
    messages: usize,
    bytes: usize,
    runs: Vec<Flow>,
    /// The smallest size's peak RSS, which this one may not exceed by [`FLOW_RSS_SLACK`].
    flat_vs_kib: Option<u64>,
}

impl FlowRow {
    fn name(&self) -> String {
        format!(
            "`record -- {}`, {}k requests",
            self.child,
            self.messages / 1000
        )
    }

    fn rate(&self, pick: impl Fn(&Flow) -> Duration) -> f64 {
        let walls: Vec<Duration> = self.runs.iter().map(pick).collect();
        self.messages as f64 / median(&walls).as_secs_f64().max(1e-9)
    }

    fn peak_kib(&self) -> Option<u64> {
        self.runs
            .iter()
            .filter_map(|r| r.usage)
            .map(|u| u.peak_kib)
            .max()
    }

    fn rss_limit(&self) -> Option<u64> {
        self.flat_vs_kib
            .map(|k| k + (k as f64 * FLOW_RSS_SLACK) as u64)
    }

    fn misses(&self) -> Vec<&'static str> {
        let mut misses = Vec::new();
        if self.rate(|f| f.relayed) < FLOW_MSG_S {
            misses.push("msg/s");
        }
        if let (Some(limit), Some(peak)) = (self.rss_limit(), self.peak_kib())
            && peak > limit
        {
            misses.push("RSS grows with messages");
        }
        misses
    }

    fn target(&self) -> String {
        match self.rss_limit() {
            Some(limit) => format!(
                "≥ {FLOW_MSG_S:.0} msg/s, ≤ {} (the 100k run's + {:.0}%)",
                fmt_rss(Some(limit)),
                FLOW_RSS_SLACK * 100.0
            ),
            None => format!("≥ {FLOW_MSG_S:.0} msg/s"),
        }
    }
}

/// The throughput figure for one child: `echo` (the echo server, which answers each request)
/// or `cat` (which sends each request back as it is).
fn bench_flow(
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

/// The proxy figures.
struct Proxy {
    latency: Option<Latency>,
    flows: Vec<FlowRow>,
    http: Option<http_latency::HttpLatency>,
}

impl Proxy {
    fn over(&self) -> Vec<String> {
        let mut over = Vec::new();
        if let Some(l) = &self.latency
            && !l.misses().is_empty()
        {
            over.push("stdio proxy latency".to_owned());
        }
        over.extend(
            self.flows
                .iter()
                .filter(|r| !r.misses().is_empty())
                .map(FlowRow::name),
        );
        over
    }
}

fn bench_proxy(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Proxy {
    eprintln!("figures: proxy latency, {PROXY_ROUND_TRIPS} round trips direct and through record");
    let latency = match bench_latency(tool, work, notes) {
        Ok(l) => Some(l),
        Err(e) => {
            notes.push(format!("WARNING: no proxy latency figure: {e}"));
            None
        }
    };
    let mut flows = Vec::new();
    for child in ["echo", "cat"] {
        match bench_flow(tool, work, child, notes) {
            Ok(rows) => flows.extend(rows),
            Err(e) => notes.push(format!(
                "WARNING: no proxy throughput figure with {child}: {e}"
            )),
        }
    }
    eprintln!(
        "figures: HTTP proxy latency, {} round trips direct and through record-http",
        http_latency::HTTP_ROUND_TRIPS
    );
    let http = match http_latency::bench_http(&tool.program, work) {
        Ok(l) => Some(l),
        Err(e) => {
            notes.push(format!("WARNING: no HTTP proxy latency figure: {e}"));
            None
        }
    };
    Proxy {
        latency,
        flows,
        http,
    }
}

fn print_http(l: &http_latency::HttpLatency) {
    println!();
    println!(
        "HTTP proxy latency: {} keep-alive POST round trips of a `tools/call` request and its \
         JSON answer, to a minimal server directly and through `record-http`, alternating, after \
         {} untimed each",
        http_latency::HTTP_ROUND_TRIPS,
        http_latency::HTTP_WARMUP
    );
    println!();
    println!(
        "| figure | round trips | direct median | direct p99 | proxied median | proxied p99 \
         | added (median) | recorded calls / results / linked |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let added = (median(&l.proxied).as_secs_f64() - median(&l.direct).as_secs_f64()) * 1e6;
    println!(
        "| POST round trip | {} | {} | {} | {} | {} | {added:+.0} µs | {} / {} / {} |",
        l.proxied.len(),
        fmt_us(median(&l.direct)),
        fmt_us(p99(&l.direct)),
        fmt_us(median(&l.proxied)),
        fmt_us(p99(&l.proxied)),
        l.recorded.0,
        l.recorded.1,
        l.recorded.2,
    );
}

fn fmt_us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn print_proxy(proxy: &Proxy) {
    if let Some(http) = &proxy.http {
        print_http(http);
    }
    if let Some(l) = &proxy.latency {
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
        let verdict = if l.misses().is_empty() {
            "ok".to_owned()
        } else {
            format!("**OVER TARGET** ({})", l.misses().join(", "))
        };
        println!(
            "| request/response round trip | {} | {} | {} | {} | {} | {:+.0} µs | {} | {} | added ≤ {} | {verdict} |",
            l.proxied.len(),
            fmt_us(median(&l.direct)),
            fmt_us(p99(&l.direct)),
            fmt_us(median(&l.proxied)),
            fmt_us(p99(&l.proxied)),
            l.added_us(),
            fmt_rss(l.proxy_peak_kib),
            fmt_duration(l.proxy_exit),
            fmt_us(PROXY_ADDED),
        );
    }
    if proxy.flows.is_empty() {
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
    for row in &proxy.flows {
        let misses = row.misses();
        let verdict = if misses.is_empty() {
            "ok".to_owned()
        } else {
            format!("**OVER TARGET** ({})", misses.join(", "))
        };
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
            "| {} | {} | {:.1} | {:.0} | {:.0} | {} | {} | {recorded_share:.0}% | {} | {} | {} | {verdict} |",
            row.name(),
            row.runs.len(),
            row.bytes as f64 / 1e6,
            row.rate(|f| f.relayed),
            row.rate(|f| f.exited),
            fmt_duration(median(&exits)),
            fmt_rss(last.and_then(|f| f.rss_at_relayed_kib)),
            fmt_rss(row.peak_kib()),
            fmt_ratio(cpu),
            row.target(),
        );
    }
}
