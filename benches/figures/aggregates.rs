//! The figures over all sessions, on a generated store of [`STORE_SESSIONS`] sessions: building
//! the session index from nothing, `list`, `budget-report` and `drift` with the index warm, an
//! `sql` query that groups every tool call, `compare --tag` and `sample` (issue 13), `dashboard`
//! (issue 15), and refreshing the index after one new session.

use std::path::Path;
use std::time::{Duration, Instant};

use agent_strace::store::{Index, Store as LibStore};

use crate::Res;
use crate::generator::{Shape, generate_session, generate_store, session_uuid};
use crate::table::{Row, Targets, fmt_duration};
use crate::tool::{Drain, Sample, Tool, command};

/// Sessions in the generated store, and events in each.
pub(crate) const STORE_SESSIONS: usize = 10_000;
pub(crate) const STORE_EVENTS: usize = 40;
/// The seed of the generated store (session ids are `session_uuid(seed + i)`).
pub(crate) const STORE_SEED: u64 = 0xba25;
/// Timed runs of each command, after one untimed one, and runs under GNU time.
const RUNS: usize = 10;
const RSS_RUNS: usize = 1;
/// Builds of the index from nothing (each after deleting it).
pub(crate) const BUILD_RUNS: usize = 3;
/// A period that holds every generated session (they start 2025-11-23, ten minutes apart).
const PERIOD: [&str; 4] = ["--since", "2025-11-20", "--until", "2026-02-28"];
/// Groups every tool call of every session.
const GROUP_QUERY: &str =
    "SELECT kind, count(*) AS calls, sum(failed) AS failed FROM tool_calls GROUP BY kind";

// The targets of issue 8.
const LIST: Targets = Targets::median(Duration::from_millis(50));
const BUDGET_REPORT: Targets = Targets::median(Duration::from_millis(150));
const BUILD: Targets = Targets::median(Duration::from_secs(5));
const REFRESH: Targets = Targets::median(Duration::from_millis(20));
const SQL: Targets = Targets::median(Duration::from_millis(200));
// The targets of issue 13.
const DRIFT: Targets = Targets::median(Duration::from_millis(200));
/// The window `drift` compares with the sessions before it: the last month of the generated
/// sessions (they start 2025-11-23, ten minutes apart, so 10,000 end late in January).
const DRIFT_SINCE: &str = "2026-01-01";
/// `dashboard` over every session: the index's summaries, as `drift` reads them, so drift's
/// target (issue 15 asks for the dashboard to be fast over 10,000 sessions and names none).
const DASHBOARD: Targets = Targets::median(Duration::from_millis(200));
/// Issue 13's target for `compare --tag` and `sample` on 10,000 sessions.
const COMPARE_TAG: Targets = Targets::median(Duration::from_millis(200));
/// A tag every generated session's command holds (`claude-code (startup)`): `compare --tag`
/// looks at all 10,000 and compares the newest two.
const TAG: &str = "startup";

/// The generated store: what it holds.
pub(crate) struct Store {
    pub(crate) described: String,
    pub(crate) tool_calls: u64,
}

/// Writes the store to `root` (an `.agent-traces` folder).
pub(crate) fn write_store(root: &Path) -> Res<Store> {
    let started = Instant::now();
    let infos = generate_store(root, STORE_SESSIONS, STORE_EVENTS, STORE_SEED)?;
    let bytes: u64 = infos.iter().map(|i| i.bytes).sum();
    let events: usize = infos.iter().map(|i| i.events).sum();
    let calls: u64 = infos.iter().map(|i| i.tool_calls).sum();
    Ok(Store {
        described: format!(
            "{} sessions, {events} events, {:.0} MB of events, {calls} tool calls; generated in {}",
            infos.len(),
            bytes as f64 / 1e6,
            fmt_duration(started.elapsed())
        ),
        tool_calls: calls,
    })
}

/// Deletes the store's index, so that the next command builds it from nothing.
pub(crate) fn remove_index(root: &Path) {
    for name in [".index.sqlite", ".index.sqlite-wal", ".index.sqlite-shm"] {
        let _ = std::fs::remove_file(root.join(name));
    }
}

/// The rows of the figures over all sessions, measured on a store written under `work`.
pub(crate) fn bench_aggregates(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Vec<Row>> {
    eprintln!("figures: generating a store of {STORE_SESSIONS} sessions");
    let root = work.join("many").join(".agent-traces");
    let store = write_store(&root)?;
    notes.push(format!("the store of many sessions: {}", store.described));
    let mut rows = Vec::new();

    eprintln!("figures: building the index of {STORE_SESSIONS} sessions");
    let list_cmd = command(Some(&root), &["list", "--format", "json"]);
    let build = tool.repeat_with(0, BUILD_RUNS, RSS_RUNS, |_, rss| {
        remove_index(&root);
        tool.once(&list_cmd, None, Drain::Yes, rss)
    })?;
    rows.push(Row::new(
        "build the index from nothing (`list`)",
        build,
        BUILD,
    ));
    let index_bytes = std::fs::metadata(root.join(".index.sqlite")).map_or(0, |m| m.len());
    notes.push(format!(
        "the index of {STORE_SESSIONS} sessions: {:.1} MB",
        index_bytes as f64 / 1e6
    ));

    eprintln!("figures: list, budget-report and sql on {STORE_SESSIONS} sessions");
    let listed = tool.output(&list_cmd)?;
    let sessions = serde_json::from_slice::<serde_json::Value>(&listed)
        .ok()
        .and_then(|v| v.as_array().map(Vec::len));
    notes.push(match sessions {
        Some(n) if n == STORE_SESSIONS => format!("list --format json listed all {n} sessions"),
        Some(n) => format!("WARNING: list --format json listed {n} of {STORE_SESSIONS} sessions"),
        None => "WARNING: list --format json printed no JSON list".to_owned(),
    });
    let list = tool.repeat(&list_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new(
        format!("list --format json, {STORE_SESSIONS} sessions, index warm"),
        list,
        LIST,
    ));

    let mut report_args = vec!["budget-report", "--format", "json"];
    report_args.extend(PERIOD);
    let report_cmd = command(Some(&root), &report_args);
    // The first run after a build computes every session's spend and caches it in the index.
    let first = tool.repeat(&report_cmd, None, Drain::Yes, 0, 1, 0)?;
    rows.push(Row::new(
        "budget-report, first run after a build",
        first,
        Targets::none(),
    ));
    let report = tool.repeat(&report_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new(
        format!("budget-report, {STORE_SESSIONS} sessions, index warm"),
        report,
        BUDGET_REPORT,
    ));

    let drift_cmd = command(
        Some(&root),
        &[
            "drift",
            "--since",
            DRIFT_SINCE,
            "--threshold",
            "1",
            "--format",
            "json",
        ],
    );
    notes.push(check_drift(&tool.output(&drift_cmd)?));
    let drift = tool.repeat(&drift_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new(
        format!("drift --since {DRIFT_SINCE}, {STORE_SESSIONS} sessions, index warm"),
        drift,
        DRIFT,
    ));

    let dashboard_cmd = command(Some(&root), &["dashboard", "--format", "json"]);
    notes.push(check_dashboard(
        &tool.output(&dashboard_cmd)?,
        store.tool_calls,
    ));
    let dashboard = tool.repeat(&dashboard_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new(
        format!("dashboard --format json, {STORE_SESSIONS} sessions, index warm"),
        dashboard,
        DASHBOARD,
    ));

    let sql_cmd = command(Some(&root), &["sql", "--format", "json", GROUP_QUERY]);
    notes.push(check_sql(&tool.output(&sql_cmd)?, store.tool_calls));
    let sql = tool.repeat(&sql_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new("sql: every tool call grouped by kind", sql, SQL));

    let compare_cmd = command(Some(&root), &["compare", "--tag", TAG, "--format", "json"]);
    notes.push(check_compare(&tool.output(&compare_cmd)?));
    let compare = tool.repeat(&compare_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new(
        format!("compare --tag, {STORE_SESSIONS} sessions, index warm"),
        compare,
        COMPARE_TAG,
    ));

    let sample_cmd = command(Some(&root), &["sample", "--strategy", "worst", "--n", "20"]);
    let sampled = tool.output(&sample_cmd)?;
    let lines = sampled
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    notes.push(if lines == 20 {
        "sample --strategy worst wrote 20 sessions".to_owned()
    } else {
        format!("WARNING: sample --strategy worst --n 20 wrote {lines} sessions")
    });
    let sample = tool.repeat(&sample_cmd, None, Drain::Yes, 0, RUNS, RSS_RUNS)?;
    rows.push(Row::new(
        format!("sample --strategy worst --n 20, {STORE_SESSIONS} sessions, index warm"),
        sample,
        COMPARE_TAG,
    ));

    eprintln!("figures: refreshing the index in process");
    let (refresh, unchanged) = bench_refresh(&root, notes)?;
    rows.push(Row::new(
        "refresh after one new session (in process)",
        refresh,
        REFRESH,
    ));
    rows.push(Row::new(
        "refresh with nothing new (in process)",
        unchanged,
        Targets::none(),
    ));
    Ok(rows)
}

/// Whether `compare --tag` compared the two newest generated sessions, the older as A.
fn check_compare(out: &[u8]) -> String {
    let seed = |i: usize| session_uuid(STORE_SEED.wrapping_add(i as u64));
    let (a, b) = (seed(STORE_SESSIONS - 2), seed(STORE_SESSIONS - 1));
    let got = serde_json::from_slice::<serde_json::Value>(out)
        .ok()
        .map(|v| {
            (
                v["a"]["session_id"].as_str().unwrap_or_default().to_owned(),
                v["b"]["session_id"].as_str().unwrap_or_default().to_owned(),
            )
        });
    match got {
        Some((x, y)) if x == a && y == b => {
            "compare --tag compared the two newest sessions".to_owned()
        }
        Some((x, y)) => format!("WARNING: compare --tag compared {x} and {y}, not {a} and {b}"),
        None => "WARNING: compare --tag printed no JSON".to_owned(),
    }
}

/// Whether the dashboard counted every generated session and tool call.
fn check_dashboard(out: &[u8], calls: u64) -> String {
    let totals = serde_json::from_slice::<serde_json::Value>(out)
        .ok()
        .and_then(|v| {
            Some((
                v["totals"]["sessions"].as_u64()?,
                v["totals"]["tool_calls"].as_u64()?,
                v["buckets"].as_array()?.len(),
            ))
        });
    match totals {
        Some((sessions, counted, buckets))
            if sessions == STORE_SESSIONS as u64 && counted == calls =>
        {
            format!(
                "dashboard counted all {sessions} sessions and {counted} tool calls in {buckets} buckets"
            )
        }
        Some((sessions, counted, _)) => format!(
            "WARNING: dashboard counted {sessions} of {STORE_SESSIONS} sessions and {counted} of {calls} tool calls"
        ),
        None => "WARNING: dashboard printed no JSON totals".to_owned(),
    }
}

/// Whether the grouped query counted every generated tool call.
fn check_sql(out: &[u8], expected: u64) -> String {
    let counted = serde_json::from_slice::<serde_json::Value>(out)
        .ok()
        .and_then(|v| {
            v.as_array()
                .map(|rows| rows.iter().filter_map(|r| r["calls"].as_u64()).sum::<u64>())
        });
    match counted {
        Some(n) if n == expected => format!("sql counted all {n} tool calls"),
        Some(n) => format!("WARNING: sql counted {n} of {expected} tool calls"),
        None => "WARNING: sql printed no JSON rows".to_owned(),
    }
}

/// Whether drift compared every generated session (the window and the sessions before it).
fn check_drift(out: &[u8]) -> String {
    let report = serde_json::from_slice::<serde_json::Value>(out).ok();
    let sides = report.as_ref().and_then(|r| {
        Some((
            r["reference"]["sessions"].as_u64()?,
            r["current"]["sessions"].as_u64()?,
            r["overall"].as_f64()?,
        ))
    });
    match sides {
        Some((before, window, overall)) if before + window == STORE_SESSIONS as u64 => format!(
            "drift compared {window} sessions since {DRIFT_SINCE} with the {before} before \
             (overall drift {overall:.3})"
        ),
        Some((before, window, _)) => format!(
            "WARNING: drift compared {} of {STORE_SESSIONS} sessions",
            before + window
        ),
        None => "WARNING: drift printed no JSON report".to_owned(),
    }
}

/// Refreshing the index in this process, as a command does before it reads: open it, look at
/// every session, fold what is new. First after one new session each time, then with nothing
/// new.
fn bench_refresh(root: &Path, notes: &mut Vec<String>) -> Res<(Sample, Sample)> {
    let store = LibStore::new(root);
    store.fresh_index()?;
    let mut refresh = Sample::default();
    let mut folded = 0;
    for i in 0..RUNS {
        let seed = STORE_SEED.wrapping_add(1_000_000 + i as u64);
        let shape = Shape {
            events: STORE_EVENTS,
            started: 1_800_000_000.0 + i as f64,
            usage: true,
            ours: true,
        };
        generate_session(root, &session_uuid(seed), seed, &shape)?;
        let started = Instant::now();
        let mut index = Index::open(&store)?;
        let report = index.refresh(&store)?;
        refresh.wall.push(started.elapsed());
        folded += report.folded;
    }
    notes.push(if folded == RUNS as u64 {
        format!("each of the {RUNS} refreshes folded its one new session")
    } else {
        format!("WARNING: {RUNS} refreshes after one new session folded {folded} sessions")
    });
    let mut unchanged = Sample::default();
    for _ in 0..RUNS {
        let started = Instant::now();
        store.fresh_index()?;
        unchanged.wall.push(started.elapsed());
    }
    Ok((refresh, unchanged))
}
