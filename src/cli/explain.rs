//! `explain`: what the agent did, phase by phase, in plain English.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::globals::Format;
use super::output::{stdout, warn_bad_lines};
use std::path::Path;

use crate::analysis::phases::{PhaseBuilder, Phases};
use crate::capture::import::transcript_usage;
use crate::exit;
use crate::model::Agent;
use crate::model::view::View;
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Explain a session in plain English: its phases, what each read, ran and wrote, what failed,
/// and the time retries wasted
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace explain\n  agent-strace explain 3f2a --format json"
)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    session: SessionArg,
    #[command(flatten)]
    format: FormatArg,
}

#[derive(Serialize)]
struct Explained {
    session_id: String,
    #[serde(flatten)]
    phases: Phases,
}

/// How many files or commands one line lists before saying how many more there are.
const LISTED: usize = 8;

/// Reads a session and splits it into phases (shared with `cost` and `standup`). A session
/// that recorded no usage (hooks never see it) takes it from its Claude Code transcript when
/// that is still readable.
pub(crate) fn phases_of(store: &Store, id: &str) -> Result<Phases> {
    let summary = super::output::summary(store, id)?;
    let agent = Agent::from_name(&summary.meta.agent_name);
    let mut builder = PhaseBuilder::new(agent, Some(summary.meta.started_at));
    let mut responses = if summary.meta.total_tokens == 0 {
        transcript_of(store, id)
            .and_then(|path| transcript_usage(Path::new(&path)).ok())
            .unwrap_or_default()
    } else {
        Vec::new()
    }
    .into_iter()
    .peekable();
    let mut events = store.events(id)?;
    for event in events.by_ref() {
        while let Some(r) = responses.next_if(|r| r.timestamp <= event.timestamp) {
            builder.usage_at(r.timestamp, &r.model, &r.usage);
        }
        builder.observe(&event);
    }
    for r in responses {
        builder.usage_at(r.timestamp, &r.model, &r.usage);
    }
    warn_bad_lines(events.bad_lines(), events.bad_count());
    Ok(builder.finish())
}

/// The transcript a hook-recorded session names in its `session_start`.
fn transcript_of(store: &Store, id: &str) -> Option<String> {
    let events = store.events(id).ok()?;
    events
        .take(20)
        .find_map(|e| match View::of(&e, Agent::Unknown) {
            View::SessionStart(start) if start.source != Some("import") => {
                start.transcript_path.map(str::to_owned)
            }
            _ => None,
        })
}

pub(crate) fn run(args: &ExplainArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let id = store.select(&args.session.selector())?;
    let explained = Explained {
        phases: phases_of(&store, &id)?,
        session_id: id,
    };
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &explained)?,
        Format::Text => text(&mut out, &explained, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

fn listed(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > LISTED {
        let _ = write!(text, " and {} more", items.len() - LISTED);
    }
    text
}

fn text(out: &mut impl Write, e: &Explained, paint: Painter) -> std::io::Result<()> {
    let p = &e.phases;
    writeln!(
        out,
        "Session: {} ({}, {} events)",
        paint.cyan(&e.session_id),
        terminal::duration_secs(p.duration_s),
        p.events
    )?;
    for phase in &p.phases {
        let failed = if phase.failed {
            format!(" — {}", paint.red("FAILED"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}{failed} ({}–{}, {} events)",
            paint.bold(&format!("Phase {}: {}", phase.index, phase.label)),
            terminal::clock(phase.start_s),
            terminal::clock(phase.end_s),
            phase.events
        )?;
        if !phase.read.is_empty() {
            writeln!(out, "  Read: {}", listed(&phase.read))?;
        }
        for ran in phase.ran.iter().take(LISTED * 2) {
            let command = terminal::one_line(&ran.command, 100);
            let retry = if ran.retry {
                paint.yellow(" ← retry")
            } else {
                String::new()
            };
            let failed = if ran.failed {
                paint.red(" ✗")
            } else {
                String::new()
            };
            writeln!(out, "  Ran: {command}{failed}{retry}")?;
        }
        if phase.ran.len() > LISTED * 2 {
            writeln!(
                out,
                "  … and {} more commands",
                phase.ran.len() - LISTED * 2
            )?;
        }
        if !phase.wrote.is_empty() {
            writeln!(out, "  Wrote: {}", listed(&phase.wrote))?;
        }
    }
    let read = p.files.iter().filter(|f| f.reads > 0).count();
    let written = p.files.iter().filter(|f| f.writes > 0).count();
    writeln!(out, "Files touched: {read} read, {written} written")?;
    let share = if p.duration_s > 0.0 {
        p.wasted_s / p.duration_s * 100.0
    } else {
        0.0
    };
    writeln!(
        out,
        "Retries: {} (wasted {}, {share:.0}% of session)",
        p.retries,
        terminal::duration_secs(p.wasted_s)
    )
}
