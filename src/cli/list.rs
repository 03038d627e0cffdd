//! `list`: the sessions in the store, newest first.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Globals;
use super::args::FormatArg;
use super::globals::Format;
use super::output::stdout;
use crate::exit;
use crate::render::terminal::{self, Painter};
use crate::store::{IndexedSession, Store};

/// List recorded sessions, newest first
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace list\n  agent-strace list --last 5\n  agent-strace list --all --format json"
)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    format: FormatArg,
    /// Also list subagent sessions (shown under `replay --tree` otherwise)
    #[arg(long)]
    all: bool,
    /// Show only the N newest sessions
    #[arg(long, value_name = "N")]
    last: Option<usize>,
}

#[derive(Debug, Serialize)]
struct ListedSession {
    session_id: String,
    started_at: f64,
    ended_at: Option<f64>,
    duration_s: Option<f64>,
    agent_name: String,
    command: String,
    tool_calls: u64,
    errors: u64,
    llm_requests: u64,
    total_tokens: u64,
    parent_session_id: Option<String>,
    first_prompt: Option<String>,
}

/// How much of the first prompt is kept: enough to recognise the session.
const PROMPT_CHARS: usize = 60;

pub(crate) fn run(args: &ListArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let listing = super::listing::sessions(&store)?;
    let listed: Vec<ListedSession> = listing
        .sessions
        .into_iter()
        .filter(|s| args.all || s.summary.meta.parent_session_id.is_none())
        .take(args.last.unwrap_or(usize::MAX))
        .map(listed)
        .collect();
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &listed)?,
        Format::Text => text(&mut out, &listed, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

fn listed(session: IndexedSession) -> ListedSession {
    let meta = session.summary.meta;
    let first_prompt = session.first_prompt;
    ListedSession {
        // Milliseconds are the precision timestamps carry; more digits are float noise.
        duration_s: meta.duration_secs().map(|d| (d * 1000.0).round() / 1000.0),
        session_id: meta.session_id,
        started_at: meta.started_at,
        ended_at: meta.ended_at,
        agent_name: meta.agent_name,
        command: meta.command,
        tool_calls: meta.tool_calls,
        errors: meta.errors,
        llm_requests: meta.llm_requests,
        total_tokens: meta.total_tokens,
        parent_session_id: meta.parent_session_id,
        first_prompt,
    }
}

fn text(out: &mut impl Write, sessions: &[ListedSession], paint: Painter) -> std::io::Result<()> {
    if sessions.is_empty() {
        return writeln!(out, "No sessions recorded yet.");
    }
    let id_width = sessions
        .iter()
        .map(|s| s.session_id.len())
        .max()
        .unwrap_or(10)
        .max(10);
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "{:<id_width$}  {:<16}  {:>9}  {:<12}  {:>5}  {:>6}  FIRST PROMPT",
            "SESSION", "STARTED", "DURATION", "AGENT", "TOOLS", "ERRORS"
        ))
    )?;
    for s in sessions {
        let duration = s
            .duration_s
            .map_or_else(|| "running".to_owned(), terminal::duration_secs);
        let errors = format!("{:>6}", s.errors);
        let errors = if s.errors > 0 {
            paint.red(&errors)
        } else {
            errors
        };
        let prompt = s
            .first_prompt
            .as_deref()
            .map(|p| format!("\"{}\"", terminal::one_line(p, PROMPT_CHARS)));
        writeln!(
            out,
            "{}  {:<16}  {:>9}  {:<12}  {:>5}  {errors}  {}",
            paint.cyan(&format!("{:<id_width$}", s.session_id)),
            terminal::local_time(s.started_at),
            duration,
            terminal::one_line(&s.agent_name, 12),
            s.tool_calls,
            prompt.unwrap_or_default(),
        )?;
    }
    Ok(())
}
