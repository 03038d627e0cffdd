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
//! - The session index built from nothing over sessions the Python tool wrote ([`python_index`]):
//!   50 sessions shaped as its `import` writes them (about 100 MB, no `.counters`, so every
//!   event is folded), one of 20 MB and one of 2 MB, with MB/s of events so that linearity
//!   shows. It runs with the figures over all sessions, in the default run and in
//!   `--aggregates-only`.
//! - `AGENT_STRACE_BIN=/path` measures another build of ours instead of the one cargo built.
//!
//! `cargo bench --bench figures -- --generate-only DIR` only writes the generated session
//! (100,000 events, about 40 MB) to `DIR/.agent-traces/<id>/` and prints where it is;
//! `-- --generate-transcripts DIR` only writes the two transcripts to `DIR`; `-- --generate-store
//! DIR` only writes the store of 10,000 sessions to `DIR/.agent-traces/`;
//! `-- --generate-python-store DIR` only writes the Python tool's sessions of [`python_index`]
//! to `DIR/python-{many,one,small}/.agent-traces/`; `-- --proxy-only` measures only the
//! proxies, `-- --aggregates-only` only the commands over all sessions.
//! `-- --collector-only` measures only the collector under load ([`collector`], issue 14).
//! `-- --capture-only` measures only issue 8's capture figures ([`capture`]): `import --all` of
//! a history of many transcripts against ccusage, and `hook pre-tool` on a new and a long session.
//! `-- --policy-only` measures only what a 50-rule policy adds to `hook pre-tool` ([`policy`]).
//! `-- --agents-only` measures only each agent's own hooks, Cursor's and Copilot CLI's ([`agents`]).
//! `-- --html-only` measures only issue 15's HTML pages of the 100k-event session ([`html`]).
//!
//! See `docs/benchmarks.md` for what each figure means and the last figures measured.
//!
//! # Layout
//!
//! This file parses the arguments and runs the figures in order. Each kind of figure has its
//! module: [`hooks`] (and [`python`], the Python tool's baseline), [`import`] (transcripts made
//! by [`corpus`]), [`proxies`], [`aggregates`] (commands over a store of many sessions made by
//! [`generator`], which the tests share, and the session index over it), [`python_index`] (the
//! index over the Python tool's sessions, also made by [`generator`]). [`tool`] runs a program
//! and measures it; [`table`] states targets ([`table::Target`]), judges figures
//! ([`table::Verdict`]) and prints the tables, so that every miss is reported the same way.

mod agent_gemini;
mod agents;
mod aggregates;
mod capture;
mod codex;
mod collector;
mod corpus;
mod floor;
mod generator;
mod hooks;
mod html;
mod import;
mod policy;
mod proxies;
mod python;
mod python_index;
mod table;
mod tool;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use generator::{GenInfo, generate, session_uuid};
use hooks::{
    COLD_RUNS, HOOK_RSS_RUNS, HOOK_RUNS, HOOK_WARMUP, bench_cold_hook, bench_post_tool,
    bench_pre_tool, check_cold_counters, check_hook_store, check_links, copy_session,
};
use table::{
    MIB, Row, Targets, Verdict, fmt_duration, load_average, machine, print_rows, print_verdict,
};
use tool::{Drain, GNU_TIME, Tool, command, file_len, gnu_time_works, our_binary};

/// Timed runs of `stats` and `replay` on the generated session, after one untimed one.
const READ_RUNS: usize = 10;
const READ_RSS_RUNS: usize = 2;

/// A hook: what Claude Code waits for before and after every tool call.
pub(crate) const HOOK: Targets = Targets {
    median: Some(Duration::from_millis(2)),
    p99: Some(Duration::from_millis(5)),
    peak_kib: Some(10 * MIB),
};
const STATS: Targets = Targets {
    median: Some(Duration::from_millis(100)),
    p99: None,
    peak_kib: Some(30 * MIB),
};
const REPLAY: Targets = Targets {
    median: Some(Duration::from_millis(300)),
    p99: None,
    peak_kib: None,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == proxies::ECHO_SERVER) {
        if let Err(e) = proxies::echo_server() {
            eprintln!("echo server: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.iter().any(|a| a == policy::POLICY_ONLY) {
        if let Err(e) = policy::bench_policy(&args) {
            eprintln!("figures: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.iter().any(|a| a == collector::COLLECTOR_ONLY) {
        if let Err(e) = collector::bench_collector(&args) {
            eprintln!("figures: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.iter().any(|a| a == html::HTML_ONLY) {
        if let Err(e) = html::bench_html() {
            eprintln!("figures: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.iter().any(|a| a == floor::IMPORT_FLOOR) {
        if let Err(e) = floor::run(&args) {
            eprintln!("import floor: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.iter().any(|a| a == capture::CAPTURE_ONLY) {
        if let Err(e) = capture::bench_capture(&args) {
            eprintln!("figures: {e}");
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
        let written = corpus::load_corpus(&corpus::corpus_dir())
            .and_then(|corpus| corpus::write_transcripts(&corpus, Path::new(dir)));
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
    if let Some(pos) = args.iter().position(|a| a == "--generate-store") {
        let Some(dir) = args.get(pos + 1) else {
            eprintln!("usage: cargo bench --bench figures -- --generate-store DIR");
            std::process::exit(2);
        };
        let root = Path::new(dir).join(".agent-traces");
        match aggregates::write_store(&root) {
            Ok(store) => println!("wrote {} to {}", store.described, root.display()),
            Err(e) => {
                eprintln!("cannot generate the store: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--generate-python-store") {
        let Some(dir) = args.get(pos + 1) else {
            eprintln!("usage: cargo bench --bench figures -- --generate-python-store DIR");
            std::process::exit(2);
        };
        match python_index::write_stores(Path::new(dir)) {
            Ok(stores) => {
                for store in stores {
                    println!("wrote {} to {}", store.described(), store.root.display());
                }
            }
            Err(e) => {
                eprintln!("cannot generate the Python tool's sessions: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let only = if args.iter().any(|a| a == "--proxy-only") {
        Only::Proxies
    } else if args.iter().any(|a| a == "--aggregates-only") {
        Only::Aggregates
    } else if args
        .iter()
        .any(|a| a == agents::AGENTS_ONLY || a == "--agent-hooks-only")
    {
        Only::Agents
    } else {
        Only::All
    };
    if let Err(e) = run(only) {
        eprintln!("figures: {e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Every agent's own hooks but Claude Code's (issue 12), each held to Claude Code's target:
/// Codex's, Gemini CLI's, then Cursor's and Copilot CLI's.
fn other_agents(ours: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Vec<Row>> {
    eprintln!("figures: hook --agent codex pre-tool and post-tool");
    let store_codex = work.join("s-codex").join(".agent-traces");
    let (codex_pre, codex_post) = codex::bench_codex_hooks(
        ours,
        &store_codex,
        &session_uuid(0xc0de),
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    notes.extend(check_hook_store(&store_codex, "Codex"));
    let mut rows = vec![
        Row::new("hook pre-tool, Codex, 2 KB payload", codex_pre, HOOK),
        Row::new("hook post-tool, Codex, new session", codex_post, HOOK),
    ];
    rows.extend(agent_gemini::rows(ours, work, notes)?);
    rows.extend(agents::rows(agents::bench_agent_hooks(
        ours,
        work,
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
        notes,
    )?));
    Ok(rows)
}

/// Which figures a run measures.
#[derive(Clone, Copy, PartialEq)]
enum Only {
    All,
    Proxies,
    Aggregates,
    /// Claude Code's pre-tool beside each other agent's hooks.
    Agents,
}

fn run(only: Only) -> Res<()> {
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
    if only != Only::All {
        let mut notes = Vec::new();
        let verdicts = if only == Only::Agents {
            let store = work.path().join("s1").join(".agent-traces");
            let pre = bench_pre_tool(
                &ours,
                &store,
                &session_uuid(0xabc),
                HOOK_WARMUP,
                HOOK_RUNS,
                HOOK_RSS_RUNS,
            )?;
            let mut rows = vec![Row::new("hook pre-tool, 2 KB payload", pre, HOOK)];
            rows.extend(other_agents(&ours, work.path(), &mut notes)?);
            print_header("each agent's hooks only", &machine, &load_start, &bin);
            println!();
            print_rows(&rows, false);
            rows.iter().map(Row::verdict).collect()
        } else if only == Only::Proxies {
            let proxy = proxies::bench_proxy(&ours, work.path(), &mut notes);
            print_header("the proxies only", &machine, &load_start, &bin);
            proxies::print_proxy(&proxy);
            proxy.verdicts()
        } else {
            let rows = aggregates::bench_aggregates(&ours, work.path(), &mut notes)?;
            let python_rows = python_index::bench_python_index(&ours, work.path(), &mut notes)?;
            print_header(
                "the figures over all sessions only",
                &machine,
                &load_start,
                &bin,
            );
            println!();
            print_rows(&rows, false);
            python_index::print_python_index(&python_rows);
            rows.iter()
                .map(Row::verdict)
                .chain(python_rows.iter().map(python_index::IndexRow::verdict))
                .collect()
        };
        print_verdict(&verdicts, &notes);
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
        Targets::none(),
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
    rows.push(Row::new("hook pre-tool, 2 KB payload", pre, HOOK));

    // 1b. Each other agent's own hooks (issue 12), held to the same target.
    rows.extend(other_agents(&ours, work.path(), &mut notes)?);

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
    rows.push(Row::new("hook post-tool, 100k-event session", post, HOOK));
    rows.push(Row::new(
        "first hook on a 100k session without .counters",
        cold,
        Targets::none(),
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
    rows.push(Row::new("stats, 100k events / 40 MB", stats, STATS));
    rows.push(Row::new("replay into a pipe, 100k events", replay, REPLAY));
    // The HTML page of a 100k-event session (issue 15): generation time and size.
    let mut opening = None;
    match html::rows(&ours, work.path(), &mut notes) {
        Ok(html_rows) => {
            rows.extend(html_rows);
            match html::Opening::measure(work.path(), &mut notes) {
                Ok(measured) => opening = measured,
                Err(e) => notes.push(format!("WARNING: no first-paint figure: {e}")),
            }
        }
        Err(e) => notes.push(format!("WARNING: no HTML page figure: {e}")),
    }

    // 6. import of a Claude Code transcript, and the ccusage baseline.
    let ccusage = std::env::var_os("AGENT_STRACE_CCUSAGE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let (import_rows, import_info) =
        match import::bench_imports(&ours, work.path(), ccusage.as_deref(), &mut notes) {
            Ok((rows, info)) => (rows, Some(info)),
            Err(e) => {
                notes.push(format!("WARNING: no import figure: {e}"));
                (Vec::new(), None)
            }
        };

    // 7. The stdio proxy: latency against a direct connection, throughput, memory.
    let proxy = proxies::bench_proxy(&ours, work.path(), &mut notes);

    // 8. Commands over all sessions, on a store of many.
    let aggregate_rows = match aggregates::bench_aggregates(&ours, work.path(), &mut notes) {
        Ok(rows) => rows,
        Err(e) => {
            notes.push(format!("WARNING: no figures over all sessions: {e}"));
            Vec::new()
        }
    };
    // 8b. The index built from nothing over sessions the Python tool wrote.
    let python_index_rows = match python_index::bench_python_index(&ours, work.path(), &mut notes) {
        Ok(rows) => rows,
        Err(e) => {
            notes.push(format!(
                "WARNING: no figure of the index over the Python tool's sessions: {e}"
            ));
            Vec::new()
        }
    };

    // 5. The Python baseline.
    if let Some(py) = &python {
        eprintln!("figures: Python baseline {}", py.display());
        let py_tool = Tool {
            program: py.clone(),
            home: home.clone(),
            cwd: work.path().to_path_buf(),
            gnu_time,
        };
        match python::python_baseline(&py_tool, work.path(), &session_id) {
            Ok(figures) => {
                for (row, figure) in rows.iter_mut().zip(figures) {
                    row.python = figure;
                }
            }
            Err(e) => notes.push(format!("the Python baseline failed: {e}")),
        }
    }

    print_header("", &machine, &load_start, &bin);
    print_session(&info, gen_time, python.as_deref());
    print_rows(&rows, python.is_some());
    import::print_import(&import_rows, import_info.as_deref(), ccusage.as_deref());
    proxies::print_proxy(&proxy);
    if let Some(opening) = &opening {
        opening.print();
    }
    if !aggregate_rows.is_empty() {
        println!();
        println!("over all sessions:");
        println!();
        print_rows(&aggregate_rows, false);
    }
    python_index::print_python_index(&python_index_rows);
    let verdicts: Vec<Verdict> = rows
        .iter()
        .chain(&aggregate_rows)
        .map(Row::verdict)
        .chain(
            python_index_rows
                .iter()
                .map(python_index::IndexRow::verdict),
        )
        .chain(import_rows.iter().map(import::ImportRow::verdict))
        .chain(proxy.verdicts())
        .chain(opening.iter().flat_map(html::Opening::verdicts))
        .collect();
    print_verdict(&verdicts, &notes);
    println!("\n(total bench time {})", fmt_duration(total.elapsed()));
    Ok(())
}

/// The lines that open the report: what was measured, where, and how busy the machine was.
fn print_header(only: &str, machine: &str, load_start: &str, bin: &Path) {
    if only.is_empty() {
        println!("agent-strace figures");
    } else {
        println!("agent-strace figures: {only}");
    }
    println!(
        "machine: {machine}\nload:    {load_start} at the start, {} at the end (1-minute load \
         average; above ~0.5 other work was running and the figures are noisy)",
        load_average()
    );
    println!("binary:  {}", bin.display());
}

/// What the generated session holds, above the table of command figures.
fn print_session(info: &GenInfo, gen_time: Duration, python: Option<&Path>) {
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
}
