//! Issue 15's figures: `replay --format html` and `share` of the 100,000-event session (with
//! model usage, so the page carries a cost counter): how long generating the page takes, and
//! how big the page is beside the session's `events.ndjson` (the target is at most twice).
//! When the environment names a browser (`AGENT_STRACE_CHROMIUM` and `AGENT_STRACE_PLAYWRIGHT`,
//! as tests/run.sh sets them), also how fast the page opens and scrolls in headless Chromium,
//! through the browser test's own script (tests/browser/big.mjs): the first paint (target
//! ≤ 2 s from navigation), the page's own part of it and a scroll frame. The browser test
//! checks what the page shows; these times are measured here, where a loaded machine makes a
//! figure late rather than a test red.
//!
//! `cargo bench --bench figures -- --html-only` measures only these.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::Res;
use super::generator::{Shape, generate_session, session_uuid};
use super::table::{
    MIB, Row, Target, Targets, Unit, Verdict, fmt_duration, load_average, machine, median,
    print_rows, print_verdict,
};
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
        let page = work.join("html").join(page_name(args[0]));
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

/// The file `rows` writes the page of `command` to: `replay`'s is the one [`opening`] opens.
fn page_name(command: &str) -> &'static str {
    if command == "replay" {
        REPLAY_PAGE
    } else {
        "share.html"
    }
}

const REPLAY_PAGE: &str = "replay.html";

/// How often the page is opened in Chromium.
const OPEN_RUNS: usize = 3;

/// The first paint issue 15 asks for, from navigation start.
const FIRST_PAINT: Target = Target::at_most("first paint", 2.0, Unit::Seconds);
/// The page's own share of it, from its script's start (Chromium has read the HTML) to the
/// first paint.
const SCRIPT: Target = Target::at_most("script to first paint", 1.0, Unit::Seconds);
/// A frame while scrolling seven screens a frame, averaged over 60 frames.
const FRAME: Target = Target::at_most("scroll frame", 0.1, Unit::Seconds);

/// What opening the page in Chromium took, each run: seconds from navigation to the first
/// paint, from the script's start to it, and the mean scroll frame.
pub(crate) struct Opening {
    first_paint: Vec<Duration>,
    script: Vec<Duration>,
    frame: Vec<Duration>,
}

impl Opening {
    /// Opens the page `rows` wrote under `work` [`OPEN_RUNS`] times, or `None` (with a note)
    /// when no browser is named.
    pub(crate) fn measure(work: &Path, notes: &mut Vec<String>) -> Res<Option<Opening>> {
        let chromium = std::env::var_os("AGENT_STRACE_CHROMIUM").filter(|v| !v.is_empty());
        let playwright = std::env::var_os("AGENT_STRACE_PLAYWRIGHT").filter(|v| !v.is_empty());
        let (Some(chromium), Some(playwright)) = (chromium, playwright) else {
            notes.push(
                "no first-paint figure: AGENT_STRACE_CHROMIUM and AGENT_STRACE_PLAYWRIGHT are \
                 not set (tests/run.sh installs Chromium and playwright-core and sets them)"
                    .to_owned(),
            );
            return Ok(None);
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/big.mjs");
        let page = work.join("html").join(REPLAY_PAGE);
        let input = serde_json::json!({ "path": page }).to_string();
        let mut opening = Opening {
            first_paint: Vec::new(),
            script: Vec::new(),
            frame: Vec::new(),
        };
        for run in 1..=OPEN_RUNS {
            eprintln!("figures: the 100k-event page in Chromium, run {run} of {OPEN_RUNS}");
            let output =
                Command::new(std::env::var_os("AGENT_STRACE_NODE").unwrap_or("node".into()))
                    .arg(&script)
                    .arg(&input)
                    .env("AGENT_STRACE_CHROMIUM", &chromium)
                    .env("AGENT_STRACE_PLAYWRIGHT", &playwright)
                    .output()?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                return Err(format!(
                    "{} failed ({}): {}",
                    script.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                )
                .into());
            }
            let seen: serde_json::Value = stdout
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("RESULT "))
                .ok_or("the browser script reported no RESULT line")?
                .parse()?;
            let ms = |v: &serde_json::Value| -> Res<Duration> {
                let ms = v.as_f64().ok_or_else(|| format!("no figure in {seen}"))?;
                Ok(Duration::try_from_secs_f64(ms / 1000.0)?)
            };
            let marks = &seen["marks"];
            let paint = ms(&marks["first-paint"])?;
            opening.first_paint.push(paint);
            opening
                .script
                .push(paint.saturating_sub(ms(&marks["start"])?));
            opening.frame.push(ms(&seen["frames"]["mean"])?);
        }
        Ok(Some(opening))
    }

    /// The medians, under a heading of their own.
    pub(crate) fn print(&self) {
        println!();
        println!("the 100k-event page in headless Chromium ({OPEN_RUNS} runs, medians):");
        println!();
        for (what, sample) in [
            ("first paint, from navigation", &self.first_paint),
            ("of which the page's script", &self.script),
            ("scroll frame, 7 screens a frame", &self.frame),
        ] {
            println!("  {what:<34} {}", fmt_duration(median(sample)));
        }
    }

    pub(crate) fn verdicts(&self) -> Vec<Verdict> {
        let secs = |sample: &[Duration]| Some(median(sample).as_secs_f64());
        vec![
            Verdict::new("the 100k-event page in Chromium")
                .check(FIRST_PAINT, secs(&self.first_paint))
                .check(SCRIPT, secs(&self.script))
                .check(FRAME, secs(&self.frame)),
        ]
    }
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
    let opening = Opening::measure(work.path(), &mut notes)?;
    super::print_header("the HTML pages only", &machine(), &load_start, &bin);
    println!();
    print_rows(&rows, false);
    let mut verdicts: Vec<Verdict> = rows.iter().map(Row::verdict).collect();
    if let Some(opening) = &opening {
        opening.print();
        verdicts.extend(opening.verdicts());
    }
    print_verdict(&verdicts, &notes);
    Ok(())
}
