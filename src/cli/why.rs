//! `why`: the causal chain that led to one event of a session, root first.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::FormatArg;
use super::globals::Format;
use super::output::{stdout, usage, warn_bad_lines};
use super::stores::ScopeArgs;
use crate::analysis::why::{Link, NotFollowed, Relation, Why, why};
use crate::exit;
use crate::model::{Agent, Event};
use crate::render::terminal::{self, Painter};
use crate::store::Selector;

/// Explain why an event happened: the chain of events that led to it, from the prompt (or the
/// session's start) to the event
///
/// Links: a result answers its call (parent_id); a call that tries again the same tool on the
/// same command, file or arguments follows the error before it; a write follows the read of
/// its file; a call that uses a path follows the result that mentioned it; anything else
/// follows the prompt of its turn. A cause comes before what it caused: a parent_id naming the
/// event itself or a later one is not followed, and is named (`parents_not_followed` in JSON).
/// Event numbers are the #N that `replay` prints.
#[derive(Debug, Args)]
#[command(
    override_usage = "agent-strace why [OPTIONS] [SESSION] <EVENT>",
    after_help = "Examples:\n  agent-strace why 42              # event #42 of the latest session\n  agent-strace why 3f2a 42\n  agent-strace why 3f2a 42 --format json"
)]
pub(crate) struct WhyArgs {
    /// The session (id or unique prefix); or, alone, the event number in the latest session
    #[arg(value_name = "SESSION", value_parser = super::args::session_name)]
    first: String,
    /// The event number: the #N that replay prints
    #[arg(value_name = "EVENT")]
    event: Option<String>,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

pub(crate) fn run(args: &WhyArgs, globals: &Globals) -> Result<u8> {
    let (session, number) = match &args.event {
        Some(number) => (Some(args.first.as_str()), number),
        None => (None, &args.first),
    };
    let number: usize = number.parse().map_err(|_| {
        usage(format!(
            "`{number}` is no event number (the #N that replay prints)"
        ))
    })?;
    let (store, id) = super::stores::select(&args.scope, &Selector::from_option(session), globals)?;
    let meta = super::output::summary(&store, &id)?.meta;
    let mut reader = store.events(&id)?;
    let events: Vec<Event> = reader.by_ref().collect();
    warn_bad_lines(reader.bad_lines(), reader.bad_count());
    let agent = Agent::from_name(&meta.agent_name);
    let Some(found) = why(&events, agent, number) else {
        return Err(usage(super::replay::no_event(&id, number, events.len())));
    };
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(
            &mut out,
            &Answer {
                session_id: &id,
                why: &found,
            },
        )?,
        Format::Text => text(&mut out, &found, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

#[derive(serde::Serialize)]
struct Answer<'a> {
    session_id: &'a str,
    #[serde(flatten)]
    why: &'a Why,
}

fn line(link: &Link) -> String {
    let tool = link
        .tool
        .as_deref()
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    let what = link
        .what
        .as_deref()
        .map(|w| format!(": {}", terminal::one_line(w, 90)))
        .unwrap_or_default();
    format!("#{:<4} {}{tool}{what}", link.event, link.event_type)
}

/// How a link led to the next event, in words.
fn reason(link: &Link, next: &Link) -> String {
    let at = link.event;
    let answer = matches!(
        next.event_type.as_str(),
        "tool_result" | "error" | "llm_response"
    );
    let next = next.event;
    let path = link.path.as_deref().unwrap_or("the file");
    match link.leads_by {
        Some(Relation::Parent) if answer => format!("#{next} answers #{at}"),
        Some(Relation::Parent) => format!("#{next} records what #{at} did"),
        Some(Relation::Retry) => format!("#{next} tries again after the error at #{at}"),
        Some(Relation::ReadWrite) => format!("the read at #{at} informed the write of {path}"),
        Some(Relation::PathReference) => {
            format!("the result at #{at} mentioned {path}, which #{next} uses")
        }
        Some(Relation::Prompt) => format!("the prompt at #{at} asked for it"),
        Some(Relation::SessionStart) => "nothing nearer: the session's start".to_owned(),
        None => String::new(),
    }
}

/// Why a `parent_id` was passed over, in words.
fn not_followed(n: &NotFollowed) -> String {
    if n.parent == n.event {
        format!("#{}'s parent_id names itself: not followed.", n.event)
    } else {
        format!(
            "#{}'s parent_id names #{}, which comes after it: not followed.",
            n.event, n.parent
        )
    }
}

fn text(out: &mut impl Write, w: &Why, paint: Painter) -> std::io::Result<()> {
    writeln!(out, "Why did event #{} happen?", w.target)?;
    chain(out, w, paint)?;
    for n in &w.parents_not_followed {
        writeln!(out, "{}", not_followed(n))?;
    }
    Ok(())
}

fn chain(out: &mut impl Write, w: &Why, paint: Painter) -> std::io::Result<()> {
    if w.chain.len() <= 1 {
        if let Some(target) = w.chain.last() {
            writeln!(out, "  {}", line(target))?;
        }
        return writeln!(
            out,
            "It is where the chain starts: nothing before it led to it."
        );
    }
    writeln!(out, "Causal chain (root → target):")?;
    for (i, link) in w.chain.iter().enumerate() {
        let arrow = if i == 0 { "  " } else { "← " };
        let shown = line(link);
        let shown = if i + 1 == w.chain.len() {
            paint.bold(&shown)
        } else {
            shown
        };
        writeln!(out, "  {arrow}{shown}")?;
        if let Some(next) = w.chain.get(i + 1) {
            writeln!(
                out,
                "       {}",
                paint.dim(&format!("({})", reason(link, next)))
            )?;
        }
    }
    Ok(())
}
