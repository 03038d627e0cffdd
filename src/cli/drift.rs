//! `drift`: has the agent's behaviour shifted? The recent sessions' fingerprint against the
//! sessions before them, or against a saved baseline.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use chrono::Local;
use clap::Args;
use serde::Serialize;

use super::Globals;
use super::args::FormatArg;
use super::globals::Format;
use super::output::stdout;
use super::stores::ScopeArgs;
use crate::analysis::copies::{Copy, Kept};
use crate::analysis::drift::{
    self, BASELINE_LIMIT, BaselineError, DriftReport, Fingerprint, Gathered, Label, SessionFigures,
};
use crate::error::Error;
use crate::exit;
use crate::model::period::PeriodStarts;
use crate::model::text;
use crate::render::terminal::{self, Painter};

/// Has the agent's behaviour drifted? Recent sessions against earlier ones or a saved baseline
///
/// The sessions since --since (30 days unless given) are compared with the sessions before them,
/// or with a baseline saved by --save-baseline, over six dimensions: tool mix, error rate, retry
/// rate, blast radius (files written), session duration and decision depth. Each dimension is a
/// distribution over the sessions, compared by its Jensen–Shannon divergence (0: the same, 1:
/// nothing in common); the overall drift is their mean. Exits 1 when the overall drift is above
/// --threshold. A subagent counts as a session of its own, as in `sample` (`list` counts
/// sessions without them). A baseline file is under 2 KB: commit it beside the agent's settings.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace drift                   # the last 30 days against the days before\n  agent-strace drift --since 7d --threshold 0.1 --format json\n  agent-strace drift --since 30d --save-baseline ci/agent-baseline.json\n  agent-strace drift --since 7d --baseline ci/agent-baseline.json\n  agent-strace drift --all-projects"
)]
pub(crate) struct DriftArgs {
    #[arg(long, value_name = "WHEN", help = concat!(
        "The recent window: sessions that started since WHEN, ", super::args::when_forms!(),
        " [default: 30d]"
    ))]
    since: Option<String>,
    /// Compare with the fingerprint saved in FILE instead of the sessions before the window
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Save the window's fingerprint to FILE as a baseline, and compare nothing
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    save_baseline: Option<PathBuf>,
    /// The overall drift above which the command exits 1
    #[arg(long, value_name = "SCORE", default_value_t = 0.2)]
    threshold: f64,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// What the report is printed with: where its reference came from.
#[derive(Debug, Serialize)]
struct Output<'a> {
    /// `before_window` or `baseline_file`.
    reference_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_file: Option<String>,
    window_since: f64,
    #[serde(flatten)]
    report: &'a DriftReport,
}

pub(crate) fn run(args: &DriftArgs, globals: &Globals) -> Result<u8> {
    if !(args.threshold.is_finite() && args.threshold > 0.0 && args.threshold <= 1.0) {
        return Err(Error::usage(format!(
            "--threshold {} is no drift score: give a number above 0 and at most 1",
            text::real(args.threshold)
        ))
        .into());
    }
    super::output::not_dash(args.save_baseline.as_deref(), "--save-baseline")?;
    let now = Local::now().timestamp_millis() as f64 / 1000.0;
    let since = super::args::instant(
        args.since.as_deref().unwrap_or("30d"),
        "--since",
        now,
        false,
    )?;
    let baseline = args
        .baseline
        .as_ref()
        .map(|path| read_baseline(path))
        .transpose()?;

    // Each session's few figures, gathered as its summary is read: the window's and those
    // before it.
    let mut recent = Gathered::default();
    let mut before = Gathered::default();
    let mut newest: Option<f64> = None;
    let mut any = false;
    // The window ends now: a session dated after it is in neither window.
    let mut starts = PeriodStarts::ending_now(now);
    let stores = args.scope.stores_unnamed(globals)?;
    // Each session's figures with its store (by its place among the stores), and what tells
    // each store's copy of a session from another store's.
    let mut found = Vec::new();
    let mut copies: Vec<Vec<Copy>> = Vec::new();
    for (i, located) in stores.iter().enumerate() {
        let mut here = Vec::new();
        super::listing::each_summary(&located.store, |meta, summary| {
            any = true;
            here.push(super::listing::copy_of(meta, &summary));
            let Some(started) = super::output::start_in_period(&mut starts, meta) else {
                return;
            };
            let figures = SessionFigures::of(started, &summary);
            found.push((i, meta.session_id.clone(), figures, summary.tools));
        })?;
        copies.push(here);
    }
    // A session in two stores (a copy) counts once, from the copy the dashboard counts.
    let kept = Kept::of(&copies);
    for (i, id, figures, tools) in found {
        if !kept.counts(i, &id) {
            continue;
        }
        let started = figures.started_at;
        newest = Some(newest.map_or(started, |n: f64| n.max(started)));
        let gathered = if started >= since {
            &mut recent
        } else {
            &mut before
        };
        gathered.add(figures, &tools);
    }
    super::output::warn_ahead(&starts);
    if let ([only], false) = (stores.as_slice(), any) {
        return Err(super::stores::no_sessions(&only.store));
    }
    if recent.is_empty() {
        let since = terminal::local_time(since);
        // As budget-report and optimize say it: where the sessions are instead.
        let err = match newest {
            Some(at) => Error::usage(format!(
                "no session started since {since}; the newest started {}",
                terminal::local_time(at)
            ))
            .with_hint(format!("try --since {}", terminal::local_day(at))),
            None if any => Error::usage(format!(
                "no session started since {since}; no session recorded has a start a session can have"
            )),
            None => Error::usage(format!(
                "no session started since {since}; no session is recorded"
            )),
        };
        return Err(err.into());
    }
    let current = recent.fingerprint();
    let mut out = stdout(globals.colour());
    if let Some(path) = &args.save_baseline {
        let text = current.to_file();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::io(format!("{}: cannot make the folder: {e}", dir.display()))
            })?;
        }
        // Written whole and renamed into place, as every file a command writes where the user
        // says: a FIFO there would hold the write forever, a link would send it elsewhere.
        super::sample::write_file(path, &[text.clone().into_bytes()], &globals.store_root())?;
        writeln!(
            out,
            "Saved the fingerprint of {} (since {}) to {} ({} bytes).",
            terminal::count(current.sessions, "session"),
            terminal::local_time(since),
            path.display(),
            text.len()
        )?;
        out.flush()?;
        return Ok(exit::OK);
    }
    let (reference, source) = match baseline {
        Some(fp) => (fp, "baseline_file"),
        None if before.is_empty() => {
            return Err(Error::usage(format!(
                "no session started before {} to compare the window with",
                terminal::local_time(since)
            ))
            .with_hint("give an earlier --since, or --baseline FILE saved with --save-baseline")
            .into());
        }
        None => (before.fingerprint(), "before_window"),
    };
    let report = drift::compare(&reference, &current, args.threshold);
    let output = Output {
        reference_source: source,
        baseline_file: args.baseline.as_ref().map(|p| p.display().to_string()),
        window_since: since,
        report: &report,
    };
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &output)?,
        Format::Text => text(&mut out, &output, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(if report.exceeded {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// The baseline in `path`: missing is usage, unreadable is I/O, not a baseline is input. It is
/// read as every file the user names is (`settings::read_named`): a FIFO or a device is refused
/// saying what it is, never waited on or read without end.
fn read_baseline(path: &std::path::Path) -> Result<Fingerprint> {
    let shown = path.display().to_string();
    if path.symlink_metadata().is_err() {
        return Err(Error::usage(format!("{shown}: no such baseline file"))
            .with_hint("save one with `agent-strace drift --save-baseline FILE`")
            .into());
    }
    let text = super::settings::read_named(&shown, path).map_err(|e| e.as_error())?;
    if text.len() > 64 * BASELINE_LIMIT {
        return Err(Error::input(format!("{shown}: too large for a drift baseline")).into());
    }
    // Read as a settings file is: a byte order mark an editor wrote first is no text.
    Fingerprint::from_file(super::settings::without_bom(&text)).map_err(|e| {
        let err = Error::input(format!("{shown}: {e}"));
        match e {
            BaselineError::PythonTool { first_day } => err
                .with_hint(format!(
                    "save this build's own, of the sessions since the day the Python tool's \
                     starts, in its place: agent-strace drift --since {} --save-baseline {shown}",
                    first_day.as_deref().unwrap_or("WHEN")
                ))
                .into(),
            _ => err.into(),
        }
    })
}

/// The local day of an instant.
fn day(ts: Option<f64>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0))
        .map_or_else(
            || "-".to_owned(),
            |t| t.with_timezone(&Local).format("%Y-%m-%d").to_string(),
        )
}

fn text(out: &mut impl Write, o: &Output<'_>, paint: Painter) -> std::io::Result<()> {
    let r = o.report;
    let label = |l: Label, text: &str| match l {
        Label::Stable => paint.green(text),
        Label::Moderate => paint.yellow(text),
        Label::High => paint.red(text),
    };
    let name = |l: Label| match l {
        Label::Stable => "stable",
        Label::Moderate => "moderate",
        Label::High => "high",
    };
    writeln!(
        out,
        "Behavioural drift {:.3}: {} (threshold {})",
        r.overall,
        label(r.label, name(r.label)),
        text::given(r.threshold, 2)
    )?;
    let reference = match &o.baseline_file {
        Some(file) => format!("the baseline {file}"),
        None => "the sessions before the window".to_owned(),
    };
    writeln!(
        out,
        "Reference: {}, {} to {} ({reference})",
        terminal::count(r.reference.sessions, "session"),
        day(r.reference.first_started),
        day(r.reference.last_started)
    )?;
    writeln!(
        out,
        "Current:   {}, {} to {} (since {})",
        terminal::count(r.current.sessions, "session"),
        day(r.current.first_started),
        day(r.current.last_started),
        terminal::local_time(o.window_since)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  {:<17} {:>6}  {:<8}  {:<28}  Current",
        "Dimension", "Drift", "Status", "Reference"
    )?;
    for d in &r.dimensions {
        let (before, now) = if d.name == "tool_mix" {
            let tools = |v: &[(String, f64)]| {
                v.iter()
                    .map(|(t, s)| format!("{} {:.0}%", terminal::one_line(t, 16), s * 100.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            (tools(&d.reference_tools), tools(&d.current_tools))
        } else {
            let show = |s: Option<drift::Stats>| {
                s.map_or_else(String::new, |s| {
                    let v = |x: f64| match d.name {
                        "session_duration" => terminal::duration_secs(x),
                        "error_rate" | "retry_rate" => format!("{:.0}%", x * 100.0),
                        _ => format!("{x:.1}"),
                    };
                    format!("median {}, p95 {}", v(s.p50), v(s.p95))
                })
            };
            (show(d.reference), show(d.current))
        };
        let status = format!("{:<8}", name(d.label));
        writeln!(
            out,
            "  {:<17} {:>6.3}  {}  {}  {}",
            d.name,
            d.divergence,
            label(d.label, &status),
            terminal::cell(&before, 28),
            now
        )?;
    }
    if r.few_sessions {
        writeln!(
            out,
            "\nNote: under {} sessions on a side, much of the drift is chance.",
            drift::FEW_SESSIONS
        )?;
    }
    if r.exceeded {
        writeln!(
            out,
            "\nDrift {:.3} is above the threshold {}.",
            r.overall,
            text::given(r.threshold, 2)
        )?;
    }
    Ok(())
}
