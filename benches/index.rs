//! The session index's figures on a store of 10,000 sessions: `list` and `budget-report` with
//! the index warm, building it from nothing, refreshing it after one new session, an `sql`
//! query that groups every tool call, and the index's size. `cargo bench --bench index`.
//!
//! A bench of its own for now (its own generator and table, written before benches/figures/
//! existed); it belongs in that folder as a module stating its targets through `table::Target`.
//!
//! `-- --generate-only DIR` writes the store to `DIR/.agent-traces` and stops.
//! `AGENT_STRACE_BEFORE=/path/to/agent-strace` also measures another build (main's, say) on the
//! same store, for before/after figures.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_strace::model::{Counters, EventHead};
use agent_strace::store::Store;
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const SESSIONS: usize = 10_000;
/// One session in this many has a subagent session.
const SUBAGENT_EVERY: usize = 10;
const WARM_RUNS: usize = 10;
const COLD_RUNS: usize = 3;
const DAY: f64 = 86_400.0;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::new();
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(digits);
        s
    }
    fn text(&mut self, bytes: usize) -> String {
        const WORDS: &[&str] = &[
            "fn", "let", "match", "result", "error", "config", "parse", "store", "session",
            "index", "value", "return", "struct", "impl", "test", "assert", "path", "file",
        ];
        let mut s = String::with_capacity(bytes + 16);
        while s.len() < bytes {
            s.push_str(WORDS[self.below(WORDS.len())]);
            s.push(if self.below(12) == 0 { '\n' } else { ' ' });
        }
        s
    }
}

const TOOLS: &[&str] = &[
    "Read", "Edit", "Bash", "Grep", "Write", "Glob", "Bash", "Read",
];
const PROMPTS: &[&str] = &[
    "fix the failing test in the parser",
    "add a --limit flag to list",
    "refactor the store reader",
    "why is the build slow?",
    "write docs for the index",
];

/// Writes one session (and returns its event count); `parent` makes it a subagent session.
fn session(
    store: &Path,
    id: &str,
    started: f64,
    rng: &mut Rng,
    parent: Option<(&str, &str)>,
) -> Res<usize> {
    let dir = store.join(id);
    std::fs::create_dir_all(&dir)?;
    let mut lines = Vec::new();
    let mut now = started;
    let mut emit = |kind: &str,
                    parent_id: Option<&str>,
                    duration: Option<f64>,
                    data: Value,
                    now: f64,
                    rng: &mut Rng| {
        let event_id = rng.hex(12);
        let mut e =
            json!({"event_type": kind, "timestamp": now, "event_id": event_id, "session_id": id});
        if let Some(p) = parent_id {
            e["parent_id"] = p.into();
        }
        if let Some(d) = duration {
            e["duration_ms"] = d.into();
        }
        e["data"] = data;
        lines.push(e.to_string());
        event_id
    };
    emit(
        "session_start",
        None,
        None,
        json!({"source": "startup", "cwd": "/work/project", "model": "claude-sonnet-4-5"}),
        now,
        rng,
    );
    let prompts = 1 + rng.below(2);
    for _ in 0..prompts {
        now += 5.0;
        let prompt = PROMPTS[rng.below(PROMPTS.len())];
        emit(
            "user_prompt",
            None,
            None,
            json!({"prompt": prompt}),
            now,
            rng,
        );
        for _ in 0..4 + rng.below(6) {
            now += 2.0;
            let usage = json!({"input_tokens": 3 + rng.below(50), "output_tokens": 50 + rng.below(400),
                "cache_creation_input_tokens": rng.below(4000), "cache_read_input_tokens": 10_000 + rng.below(40_000)});
            emit(
                "llm_response",
                None,
                None,
                json!({"model": "claude-sonnet-4-5-20250929", "usage": usage}),
                now,
                rng,
            );
            let tool = TOOLS[rng.below(TOOLS.len())];
            let path = format!(
                "/work/project/src/{}.rs",
                ["lib", "store", "index", "cli", "model"][rng.below(5)]
            );
            let arguments = match tool {
                "Bash" => {
                    let command =
                        ["cargo test", "cargo build", "ls -la", "git status"][rng.below(4)];
                    json!({ "command": command })
                }
                "Grep" | "Glob" => json!({"pattern": "fn main", "path": "/work/project"}),
                "Edit" => {
                    json!({"file_path": path, "old_string": rng.text(80), "new_string": rng.text(80)})
                }
                "Write" => json!({"file_path": path, "content": rng.text(300)}),
                _ => json!({"file_path": path}),
            };
            now += 0.5;
            let call = emit(
                "tool_call",
                None,
                None,
                json!({"tool_name": tool, "arguments": arguments}),
                now,
                rng,
            );
            now += 0.7;
            if rng.below(10) == 0 {
                emit(
                    "error",
                    Some(&call),
                    Some(700.0),
                    json!({"tool_name": tool, "error": "exit status 101"}),
                    now,
                    rng,
                );
                continue;
            }
            let size = 400 + rng.below(600);
            let result = rng.text(size);
            emit(
                "tool_result",
                Some(&call),
                Some(700.0),
                json!({"tool_name": tool, "result": result}),
                now,
                rng,
            );
            match tool {
                "Read" => {
                    emit(
                        "file_read",
                        Some(&call),
                        None,
                        json!({"path": path, "tool_name": tool}),
                        now,
                        rng,
                    );
                }
                "Edit" | "Write" => {
                    emit(
                        "file_write",
                        Some(&call),
                        None,
                        json!({"path": path, "tool_name": tool}),
                        now,
                        rng,
                    );
                }
                _ => {}
            }
        }
        now += 3.0;
        emit(
            "assistant_response",
            None,
            None,
            json!({"text": rng.text(200)}),
            now,
            rng,
        );
    }
    now += 1.0;
    emit(
        "session_end",
        None,
        None,
        json!({"reason": "prompt_input_exit"}),
        now,
        rng,
    );
    let events = lines.len();
    let text = lines.join("\n") + "\n";
    std::fs::write(dir.join("events.ndjson"), &text)?;
    // As our hooks leave a session: meta without counters, and the counters cache in
    // `.counters`, caught up to the end of the events.
    let mut counters = Counters::default();
    for line in text.lines() {
        counters.observe(&serde_json::from_str::<EventHead<'_>>(line)?);
    }
    let cache = json!({"offset": text.len(), "counters": counters});
    std::fs::write(dir.join(".counters"), cache.to_string())?;
    let mut meta = json!({
        "session_id": id, "started_at": started, "agent_name": "claude-code",
        "command": "claude-code (startup)",
    });
    if let Some((parent_id, event)) = parent {
        meta["parent_session_id"] = parent_id.into();
        meta["parent_event_id"] = event.into();
        meta["depth"] = 1.into();
    }
    std::fs::write(dir.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    Ok(events)
}

/// Writes the store: 10,000 top-level sessions over the last 14 days, one in ten with a
/// subagent session. Returns the number of events.
fn generate(store: &Path) -> Res<usize> {
    std::fs::create_dir_all(store)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    let first = now - 14.0 * DAY;
    let mut events = 0;
    for i in 0..SESSIONS {
        let id = format!("{}-{}", rng.hex(8), rng.hex(12));
        let started = (first + i as f64 * 14.0 * DAY / SESSIONS as f64).round();
        events += session(store, &id, started, &mut rng, None)?;
        if i % SUBAGENT_EVERY == 0 {
            let child = format!("agent-{}-{id}", rng.hex(7));
            events += session(
                store,
                &child,
                started + 30.0,
                &mut rng,
                Some((&id, "0123456789ab")),
            )?;
        }
    }
    Ok(events)
}

fn our_binary() -> PathBuf {
    std::env::var_os("AGENT_STRACE_BIN")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_BIN_EXE_agent-strace").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target/release/agent-strace"))
}

fn run(bin: &Path, store: &Path, args: &[&str]) -> Res<Duration> {
    let start = Instant::now();
    let status = Command::new(bin)
        .args(args)
        .env("AGENT_TRACE_DIR", store)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let took = start.elapsed();
    if !status.success() {
        return Err(format!("{} {args:?} failed: {status}", bin.display()).into());
    }
    Ok(took)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn times(n: usize, mut f: impl FnMut() -> Res<Duration>) -> Res<Duration> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        samples.push(f()?);
    }
    Ok(median(samples))
}

fn remove_index(store: &Path) {
    for name in [".index.sqlite", ".index.sqlite-wal", ".index.sqlite-shm"] {
        let _ = std::fs::remove_file(store.join(name));
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".index.sqlite")
        {
            continue;
        }
        if path.is_dir() {
            total += dir_bytes(&path);
        } else {
            total += entry.metadata().map_or(0, |m| m.len());
        }
    }
    total
}

struct Row {
    what: &'static str,
    before: Option<Duration>,
    after: Duration,
    target: Option<Duration>,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

const GROUP_QUERY: &str =
    "SELECT kind, count(*) AS calls, sum(failed) AS failed FROM tool_calls GROUP BY kind";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--generate-only") {
        let dir = PathBuf::from(args.get(i + 1).ok_or("--generate-only needs a folder")?);
        let events = generate(&dir.join(".agent-traces"))?;
        println!(
            "wrote {SESSIONS} sessions (+ subagents), {events} events, to {}",
            dir.display()
        );
        return Ok(());
    }
    let work = tempfile::tempdir()?;
    let store = work.path().join(".agent-traces");
    let started = Instant::now();
    let events = generate(&store)?;
    let store_bytes = dir_bytes(&store);
    println!(
        "store: {SESSIONS} sessions + {} subagent sessions, {events} events, {:.0} MB (written in {:.1} s)",
        SESSIONS / SUBAGENT_EVERY,
        store_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let ours = our_binary();
    let before = std::env::var_os("AGENT_STRACE_BEFORE").map(PathBuf::from);
    let mut rows = Vec::new();

    let (list_before, budget_before) = match &before {
        Some(old) => (
            Some(times(COLD_RUNS, || {
                run(old, &store, &["list", "--format", "json"])
            })?),
            Some(times(COLD_RUNS, || run(old, &store, &["budget-report"]))?),
        ),
        None => (None, None),
    };
    let build = times(COLD_RUNS, || {
        remove_index(&store);
        run(&ours, &store, &["list", "--format", "json"])
    })?;
    rows.push(Row {
        what: "build the index from nothing (list)",
        before: None,
        after: build,
        target: Some(Duration::from_secs(5)),
    });
    let index_bytes = std::fs::metadata(store.join(".index.sqlite"))?.len();
    let list = times(WARM_RUNS, || {
        run(&ours, &store, &["list", "--format", "json"])
    })?;
    rows.push(Row {
        what: "list --format json, index warm",
        before: list_before,
        after: list,
        target: Some(Duration::from_millis(50)),
    });
    // The first run computes and caches every session's spend.
    let budget_first = run(&ours, &store, &["budget-report"])?;
    let budget = times(WARM_RUNS, || run(&ours, &store, &["budget-report"]))?;
    rows.push(Row {
        what: "budget-report, first run (caches spends)",
        before: None,
        after: budget_first,
        target: None,
    });
    rows.push(Row {
        what: "budget-report, index warm",
        before: budget_before,
        after: budget,
        target: Some(Duration::from_millis(150)),
    });
    let sql = times(WARM_RUNS, || {
        run(&ours, &store, &["sql", "--format", "csv", GROUP_QUERY])
    })?;
    rows.push(Row {
        what: "sql: group every tool call by kind",
        before: None,
        after: sql,
        target: Some(Duration::from_millis(200)),
    });

    // Refreshing after one new session, in process: open, look at every folder, fold the new one.
    let lib_store = Store::new(&store);
    lib_store.fresh_index()?;
    let mut rng = Rng(42);
    let refresh = times(WARM_RUNS, || {
        let id = format!("new-{}", rng.hex(12));
        session(&store, &id, 1_800_000_000.0, &mut rng, None)?;
        let start = Instant::now();
        lib_store.fresh_index()?;
        Ok(start.elapsed())
    })?;
    let unchanged = times(WARM_RUNS, || {
        let start = Instant::now();
        lib_store.fresh_index()?;
        Ok(start.elapsed())
    })?;
    rows.push(Row {
        what: "refresh after one new session (in process)",
        before: None,
        after: refresh,
        target: Some(Duration::from_millis(20)),
    });
    rows.push(Row {
        what: "refresh with nothing new (in process)",
        before: None,
        after: unchanged,
        target: None,
    });

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\n{:<46} {:>10} {:>10} {:>10}",
        "figure", "before", "after", "target"
    )?;
    let mut over = Vec::new();
    for r in &rows {
        let miss = r.target.is_some_and(|t| r.after > t);
        if miss {
            over.push(r.what);
        }
        writeln!(
            out,
            "{:<46} {:>10} {:>10} {:>10}{}",
            r.what,
            r.before.map_or_else(|| "-".to_owned(), ms),
            ms(r.after),
            r.target.map_or_else(|| "-".to_owned(), ms),
            if miss { "  OVER TARGET" } else { "" }
        )?;
    }
    writeln!(
        out,
        "\nindex: {:.1} MB for {:.0} MB of store ({:.0}%), {:.0} bytes per event ({events} events)",
        index_bytes as f64 / 1e6,
        store_bytes as f64 / 1e6,
        index_bytes as f64 * 100.0 / store_bytes as f64,
        index_bytes as f64 / events as f64
    )?;
    if over.is_empty() {
        writeln!(out, "every figure within its target")?;
    } else {
        writeln!(out, "over target: {}", over.join(", "))?;
    }
    Ok(())
}
