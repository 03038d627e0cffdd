//! `standup`: a standup report from a session, without an LLM.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionOrFlag};
use super::globals::Format;
use super::output::{stdout, warn_bad_lines};
use crate::analysis::standup::{PASSED_LATER, Standup, StandupBuilder};
use crate::exit;
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// A standup report from a session: files read and modified, approaches tried (and
/// abandoned), dependencies added, TODO/FIXME written, changes to review, and counts
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace standup\n  agent-strace standup --session 3f2a --format json"
)]
pub(crate) struct StandupArgs {
    #[command(flatten)]
    session: SessionOrFlag,
    #[command(flatten)]
    format: FormatArg,
}

/// How many files a list shows before saying how many more there are.
const LISTED: usize = 10;

pub(crate) fn run(args: &StandupArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let meta = super::output::summary(&store, &id)?.meta;
    let mut builder = StandupBuilder::of(&meta);
    let mut events = store.events(&id)?;
    for event in events.by_ref() {
        builder.observe(&event);
    }
    warn_bad_lines(events.bad_lines(), events.bad_count());
    let doubts = meta.unbelievable().only(&["started_at"]);
    super::output::warn_unbelievable(&id, &doubts, args.format.format);
    let report = builder.finish(&id);
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &report)?,
        Format::Text => text(&mut out, &report, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

fn files(out: &mut impl Write, title: &str, list: &[String]) -> std::io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mut shown: Vec<String> = list.iter().take(LISTED).cloned().collect();
    if list.len() > LISTED {
        shown.push(format!("and {} more", list.len() - LISTED));
    }
    writeln!(
        out,
        "  {title} {} file{}: {}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        shown.join(", ")
    )
}

fn text(out: &mut impl Write, r: &Standup, paint: Painter) -> std::io::Result<()> {
    writeln!(
        out,
        "{} — session {} ({}, {})",
        paint.bold("Standup"),
        paint.cyan(&r.session_id),
        terminal::believed(r.started_at, terminal::local_time),
        terminal::believed(r.duration_s, terminal::duration_secs)
    )?;
    writeln!(out, "{}", paint.bold("Done:"))?;
    let moved: Vec<String> = (r.files_moved.iter())
        .map(|m| format!("{} → {}", m.from, m.to))
        .collect();
    if r.files_modified.is_empty()
        && r.files_read.is_empty()
        && r.files_deleted.is_empty()
        && moved.is_empty()
    {
        writeln!(out, "  No files read or changed.")?;
    }
    files(out, "Modified", &r.files_modified)?;
    files(out, "Deleted", &r.files_deleted)?;
    files(out, "Moved", &moved)?;
    files(out, "Read", &r.files_read)?;
    writeln!(out, "{}", paint.bold("Approaches:"))?;
    for a in &r.approaches {
        let mark = match a.outcome {
            "done" => paint.green("✓"),
            "succeeded after retries" => paint.yellow("✓"),
            PASSED_LATER => paint.yellow("✗"),
            _ => paint.red("✗"),
        };
        let how = if a.outcome == "done" {
            String::new()
        } else {
            format!(" ({})", a.outcome)
        };
        // The command that decided the outcome where one did, else the last one run.
        let command = a
            .decided_by
            .as_ref()
            .or(a.commands.last())
            .map(|c| format!(": {}", terminal::one_line(c, 60)))
            .unwrap_or_default();
        writeln!(out, "  {mark} {}{how}{command}", a.label)?;
    }
    if !r.dependencies.is_empty() || !r.manifests_changed.is_empty() {
        writeln!(out, "{}", paint.bold("Dependencies added:"))?;
        for d in &r.dependencies {
            writeln!(out, "  {}: {}", d.manager, d.package)?;
        }
        for m in &r.manifests_changed {
            writeln!(out, "  {m} changed")?;
        }
    }
    if !r.todos.is_empty() {
        writeln!(out, "{}", paint.bold("TODO/FIXME written:"))?;
        for t in &r.todos {
            writeln!(out, "  {}: {}", t.path, t.text)?;
        }
    }
    if !r.review.is_empty() {
        writeln!(out, "{}", paint.bold("To review:"))?;
        for item in &r.review {
            writeln!(out, "  {} — {}", item.path, paint.yellow(&item.reason))?;
        }
    }
    // Refused calls are no errors: named apart when there are some, as everywhere.
    let rejected = if r.rejections > 0 {
        format!(", {} rejected", r.rejections)
    } else {
        String::new()
    };
    // The API errors that ended turns are no tool's: said apart, as replay's header says them.
    let of_the_turn = if r.turn_errors > 0 {
        format!(" ({} of the turn)", r.turn_errors)
    } else {
        String::new()
    };
    writeln!(
        out,
        "Stats: {}, {}, {}{of_the_turn}{rejected}",
        terminal::count(r.tool_calls, "tool call"),
        terminal::count_as(r.retries, "retry", "retries"),
        terminal::count(r.errors, "error")
    )
}
