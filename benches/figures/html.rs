//! Issue 15's figures: `replay --format html` and `share` of the 100,000-event session (with
//! model usage, so the page carries a cost counter): how long generating the page takes, and
//! how big the page is beside the session's `events.ndjson` (the target is at most twice).
//! How fast the page opens in Chromium is measured by the browser test
//! (tests/html_replay.rs, `a_100k_event_session_stays_small_and_opens_fast`), which needs a
//! browser; docs/benchmarks.md quotes both.
//!
//! `cargo bench --bench figures -- --html-only` measures only these.

use std::path::Path;
use std::time::Duration;

use super::Res;
use super::generator::{Shape, generate_session, session_uuid};
use super::table::{MIB, Row, Targets, load_average, machine, print_rows, print_verdict};
use super::tool::{Drain, Tool, command, gnu_time_works, our_binary};

/// The flag that measures only these figures.
pub(crate) const HTML_ONLY: &str = "--html-only";

const RUNS: usize = 5;
const RSS_RUNS: usize = 1;

/// Generating the page of 100,000 events: well under the 2 s the page takes to open.
const PAGE: Targets = Targets {
    median: Some(Duration::from_secs(2)),
    p99: None,
    peak_kib: Some(1024 * MIB),
};

/// The rows of the page figures, measured on a session generated in `work`; the sizes go to
/// `notes`, with a warning when a page is over twice `events.ndjson`.
pub(crate) fn rows(ours: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Vec<Row>> {
    let store = work.join("html").join(".agent-traces");
    let id = session_uuid(0x4e7d);
    let shape = Shape {
        usage: true,
        ..Shape::big()
    };
    let info = generate_session(&store, &id, 0x4e7d, &shape)?;
    let ndjson = std::fs::metadata(store.join(&id).join("events.ndjson"))?.len();
    let mut rows = Vec::new();
    for (label, args) in [
        (
            "replay --format html, 100k events",
            vec!["replay", "--format", "html"],
        ),
        ("share, 100k events", vec!["share"]),
    ] {
        eprintln!("figures: {label}");
        let page = work.join("html").join("page.html");
        let mut line = args.clone();
        line.extend([id.as_str(), "-o", page.to_str().ok_or("a path")?]);
        let cmd = command(Some(&store), &line);
        let sample = ours.repeat(&cmd, None, Drain::Yes, 1, RUNS, RSS_RUNS)?;
        let bytes = std::fs::metadata(&page)?.len();
        let ratio = bytes as f64 / ndjson as f64;
        notes.push(format!(
            "{label}: page {:.1} MB for {} events in {:.1} MB of events.ndjson: {ratio:.2}x{}",
            bytes as f64 / 1e6,
            info.events,
            ndjson as f64 / 1e6,
            if ratio > 2.0 {
                " — OVER the 2x target"
            } else {
                " (target ≤ 2x)"
            }
        ));
        rows.push(Row::new(label, sample, PAGE));
    }
    Ok(rows)
}

/// `--html-only`: the page figures alone.
pub(crate) fn bench_html() -> Res<()> {
    let bin = our_binary()?;
    let work = tempfile::Builder::new()
        .prefix("agent-strace-html-bench")
        .tempdir()?;
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let ours = Tool {
        program: bin.clone(),
        home,
        cwd: work.path().to_path_buf(),
        gnu_time: gnu_time_works(),
    };
    let load_start = load_average();
    let mut notes = Vec::new();
    let rows = rows(&ours, work.path(), &mut notes)?;
    super::print_header("the HTML pages only", &machine(), &load_start, &bin);
    println!();
    print_rows(&rows, false);
    print_verdict(&rows.iter().map(Row::verdict).collect::<Vec<_>>(), &notes);
    Ok(())
}
