//! The figures over all sessions: `list` and `budget-report` on a generated store of
//! [`STORE_SESSIONS`] sessions, each after one untimed run (which, once the store has an index,
//! leaves it warm).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::Res;
use crate::generator::generate_store;
use crate::table::{Row, Targets, fmt_duration};
use crate::tool::{Drain, Tool, command};

/// Sessions in the generated store, and events in each.
pub(crate) const STORE_SESSIONS: usize = 10_000;
pub(crate) const STORE_EVENTS: usize = 40;
/// The seed of the generated store (session ids are `session_uuid(seed + i)`).
pub(crate) const STORE_SEED: u64 = 0xba25;
/// Timed runs of each command, after one untimed one, and runs under GNU time.
const RUNS: usize = 5;
const RSS_RUNS: usize = 1;
/// A period that holds every generated session (they start 2025-11-23, ten minutes apart).
const PERIOD: [&str; 4] = ["--since", "2025-11-20", "--until", "2026-02-28"];

const LIST: Targets = Targets::median(Duration::from_millis(50));
const BUDGET_REPORT: Targets = Targets::median(Duration::from_millis(150));

/// The generated store: where it is and what it holds.
pub(crate) struct Store {
    pub(crate) described: String,
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
    })
}

/// The rows of the figures over all sessions, measured on a store written under `work`.
pub(crate) fn bench_aggregates(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Vec<Row>> {
    eprintln!("figures: generating a store of {STORE_SESSIONS} sessions");
    let root = work.join("many").join(".agent-traces");
    let store = write_store(&root)?;
    notes.push(format!("the store of many sessions: {}", store.described));

    eprintln!("figures: list and budget-report on {STORE_SESSIONS} sessions");
    let list_cmd = command(Some(&root), &["list", "--format", "json"]);
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

    let mut report_args = vec!["budget-report", "--format", "json"];
    report_args.extend(PERIOD);
    let report_cmd = command(Some(&root), &report_args);
    let report = tool.repeat(&report_cmd, None, Drain::Yes, 1, RUNS, RSS_RUNS)?;
    Ok(vec![
        Row::new(
            format!("list --format json, {STORE_SESSIONS} sessions"),
            list,
            LIST,
        ),
        Row::new(
            format!("budget-report, {STORE_SESSIONS} sessions"),
            report,
            BUDGET_REPORT,
        ),
    ])
}
