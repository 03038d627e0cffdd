//! `explain`: what the agent did, phase by phase, in plain English.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::globals::Format;
use super::output::{stdout, warn_bad_lines};
use std::path::Path;

use crate::analysis::phases::{Explained, Moved, PhaseBuilder, Phases, Ran, Rejection, TurnError};
use crate::capture::import::{LoggedUsage, ResponseUsage, logged_usage};
use crate::exit;
use crate::model::command::Verdict;
use crate::model::view::View;
use crate::model::{Agent, Event, RefusedBy, SessionMeta};
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Explain a session in plain English: its phases, what each read, ran and wrote, what failed,
/// what the user refused, and the time retries wasted
///
/// A phase fails when its last test run, build or check failed; a `grep` that finds nothing, a
/// `git commit` with nothing to commit or a call the user refused fails nothing. Attempts at the
/// same goal that failed and were tried again are a retry loop; the time those failed attempts
/// ran is wasted.
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

/// How many files or commands one line lists before saying how many more there are.
const LISTED: usize = 8;

/// Reads a session and splits it into phases (shared with `cost` and `standup`). A session
/// that recorded no usage (hooks never see it) takes it from the log its agent keeps (a Claude
/// Code transcript, a Codex rollout) when that is still readable.
pub(crate) fn phases_of(store: &Store, id: &str) -> Result<Phases> {
    let summary = super::output::summary(store, id)?;
    phases_read(store, &summary.meta)
}

/// [`phases_of`] for a session a listing has read: the listing has warned already when its
/// `meta.json` could not be used (`budget-report` said it twice).
pub(crate) fn phases_of_listed(store: &Store, id: &str) -> Result<Phases> {
    phases_read(store, &store.summary(id)?.meta)
}

/// The phases of the session `meta` describes, its events read now.
fn phases_read(store: &Store, meta: &SessionMeta) -> Result<Phases> {
    let mut events = store.events(&meta.session_id)?;
    let phases = phases_from(store, meta, events.by_ref());
    warn_bad_lines(events.bad_lines(), events.bad_count());
    Ok(phases)
}

/// [`phases_of`] for events already read (replay reads them once for its story and header).
pub(crate) fn phases_from<E: std::borrow::Borrow<Event>>(
    store: &Store,
    meta: &SessionMeta,
    events: impl IntoIterator<Item = E>,
) -> Phases {
    phases_with_log_models(store, meta, events, |_| None)
}

/// [`phases_from`], with the model names the agent's log gives renamed by `rename` where it
/// returns a name (`share` redacts them, as it does the events it was handed).
pub(crate) fn phases_with_log_models<E: std::borrow::Borrow<Event>>(
    store: &Store,
    meta: &SessionMeta,
    events: impl IntoIterator<Item = E>,
    rename: impl Fn(&str) -> Option<String>,
) -> Phases {
    let mut builder = PhaseBuilder::of(meta);
    let (log, logged) = logged_log(store, meta).unzip();
    let LoggedUsage {
        mut responses,
        unbelieved,
    } = logged.unwrap_or_default();
    for response in &mut responses {
        if let Some(name) = rename(&response.model) {
            response.model = name;
        }
    }
    let mut responses = responses.into_iter().peekable();
    let from_log = responses.peek().is_some() || unbelieved > 0;
    for event in events {
        let event = event.borrow();
        while let Some(r) = responses.next_if(|r| r.timestamp <= event.timestamp) {
            builder.usage_at(r.timestamp, &r.model, &r.usage);
        }
        builder.observe(event);
    }
    for r in responses {
        builder.usage_at(r.timestamp, &r.model, &r.usage);
    }
    let mut phases = builder.finish();
    if from_log {
        phases.usage_log = log;
    }
    // The log's responses of unknown usage are the session's, left out of its figures as
    // those of its own events are.
    phases.unbelieved_usage = phases.unbelieved_usage.saturating_add(unbelieved);
    phases
}

/// A model name with its secrets redacted, when it held any: for
/// [`phases_with_log_models`], where a page or a tool shows redacted events.
pub(crate) fn redacted_model(model: &str) -> Option<String> {
    match crate::redact::redact_str(model) {
        std::borrow::Cow::Owned(clean) => Some(clean),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// The model responses the log of a session's agent holds (a Claude Code transcript, a Codex
/// rollout), when the session recorded no usage of its own (hooks never see it) and that log
/// is still readable; else none.
pub(crate) fn logged_responses(store: &Store, meta: &SessionMeta) -> Vec<ResponseUsage> {
    logged_log(store, meta)
        .map(|(_, logged)| logged.responses)
        .unwrap_or_default()
}

/// [`logged_responses`], with the path of the log they were read from and the count of its
/// responses of unknown usage.
pub(crate) fn logged_log(store: &Store, meta: &SessionMeta) -> Option<(String, LoggedUsage)> {
    if meta.total_tokens != 0 {
        return None;
    }
    let agent = Agent::from_name(&meta.agent_name);
    let path = transcript_of(store, &meta.session_id)?;
    let responses = logged_usage(agent, Path::new(&path))?;
    Some((path, responses))
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
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let summary = super::output::summary(&store, &id)?;
    let mut events = store.events(&id)?;
    let phases = phases_from(&store, &summary.meta, events.by_ref());
    warn_bad_lines(events.bad_lines(), events.bad_count());
    // The start is the one figure of the metadata explain shows (as its duration).
    let doubts = summary.meta.unbelievable().only(&["started_at"]);
    super::output::warn_unbelievable(&id, &doubts, args.format.format);
    let explained = Explained {
        phases,
        session_id: id,
        running: summary.meta.ended_at.is_none(),
    };
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &explained)?,
        Format::Text => text(&mut out, &explained, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// What makes the count of errors differ from the failures listed: errors that were answers
/// (`1 an answer, not a failure: nothing to commit`), failures that reported no error; empty
/// when nothing does. `diff --semantic` says the same of each session.
pub(crate) fn errors_told_apart(
    errors_answered: &BTreeMap<String, u64>,
    failures_without_error: u64,
) -> String {
    let mut parts = Vec::new();
    let answered: u64 = errors_answered.values().sum();
    if answered > 0 {
        let what: Vec<&str> = errors_answered.keys().map(String::as_str).collect();
        let answers = if answered == 1 {
            "an answer, not a failure"
        } else {
            "answers, not failures"
        };
        parts.push(format!("{answered} {answers}: {}", what.join(", ")));
    }
    if failures_without_error > 0 {
        parts.push(format!(
            "{} listed reported no error",
            terminal::count(failures_without_error, "failure")
        ));
    }
    parts.join("; ")
}

fn listed<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let mut items = items.into_iter();
    let shown: Vec<S> = items.by_ref().take(LISTED).collect();
    let mut text = shown
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    let more = items.count();
    if more > 0 {
        let _ = write!(text, " and {more} more");
    }
    text
}

/// A move as a list names it: `a.txt → b.txt`.
fn moved(moved: &Moved) -> String {
    format!("{} → {}", moved.from, moved.to)
}

/// A share of the session's time: never negative, never "-0%", and "<1%" rather than "0%" for
/// a little.
fn share(part: f64, whole: f64) -> String {
    if !(part > 0.0 && whole > 0.0) {
        return "0%".to_owned();
    }
    let pct = (part / whole * 100.0).min(100.0);
    if pct < 0.5 {
        "<1%".to_owned()
    } else {
        format!("{pct:.0}%")
    }
}

/// One command of a phase: ✗ when it failed, ⊘ when the user or auto mode refused it, why in
/// brackets (auto mode's refusal says so there), and whether it tried a failed goal again.
fn ran_line(ran: &Ran, paint: Painter) -> String {
    let command = terminal::one_line(&ran.command, 100);
    let mark = match ran.verdict {
        Some(Verdict::Failed) => paint.red(" ✗"),
        Some(Verdict::Rejected) => paint.yellow(" ⊘ rejected"),
        _ => String::new(),
    };
    let note = ran
        .note
        .as_deref()
        .filter(|_| ran.verdict != Some(Verdict::Passed))
        .map(|n| paint.dim(&format!(" ({})", terminal::one_line(n, 60))))
        .unwrap_or_default();
    let retry = if ran.retry {
        paint.yellow(" ← retry")
    } else {
        String::new()
    };
    format!("  Ran: {command}{mark}{note}{retry}")
}

/// `heading` with the count of `errors`, then a line for each (its phase where `phased`); nothing
/// when there are none.
fn errors_under(
    out: &mut impl Write,
    paint: Painter,
    heading: &str,
    errors: &[TurnError],
    phased: bool,
) -> std::io::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        paint.bold(&format!("{heading} ({}):", errors.len()))
    )?;
    for e in errors {
        let phase = if phased {
            format!(" phase {}", e.phase)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  #{} {}{phase}: {}",
            e.event,
            terminal::clock(e.at_s),
            paint.red(&terminal::one_line(&e.message, 120)),
        )?;
    }
    Ok(())
}

fn text(out: &mut impl Write, e: &Explained, paint: Painter) -> std::io::Result<()> {
    let p = &e.phases;
    let running = if e.running { "running, " } else { "" };
    let so_far = if e.running && p.duration_s.believed {
        " so far"
    } else {
        ""
    };
    writeln!(
        out,
        "Session: {} ({running}{}{so_far}, {})",
        paint.cyan(&e.session_id),
        terminal::believed(p.duration_s, terminal::duration_secs),
        terminal::count(p.events, "event")
    )?;
    for phase in &p.phases {
        let failed = if phase.failed {
            format!(" — {}", paint.red("FAILED"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}{failed} ({}–{}, {})",
            paint.bold(&format!("Phase {}: {}", phase.index, phase.label)),
            terminal::clock(phase.start_s),
            terminal::clock(phase.end_s),
            terminal::count(phase.events, "event")
        )?;
        if !phase.read.is_empty() {
            writeln!(out, "  Read: {}", listed(&phase.read))?;
        }
        // Past the first commands only those that failed, were refused or were retried are
        // shown: a failure is never hidden in the count of the rest.
        let mut hidden = 0;
        for (i, ran) in phase.ran.iter().enumerate() {
            let telling =
                ran.retry || matches!(ran.verdict, Some(Verdict::Failed | Verdict::Rejected));
            if i < LISTED * 2 || telling {
                writeln!(out, "{}", ran_line(ran, paint))?;
            } else {
                hidden += 1;
            }
        }
        if hidden > 0 {
            writeln!(
                out,
                "  … and {}, none failed",
                terminal::count(hidden, "more command")
            )?;
        }
        if !phase.wrote.is_empty() {
            writeln!(out, "  Wrote: {}", listed(&phase.wrote))?;
        }
        if !phase.deleted.is_empty() {
            writeln!(out, "  Deleted: {}", listed(&phase.deleted))?;
        }
        if !phase.moved.is_empty() {
            writeln!(out, "  Moved: {}", listed(phase.moved.iter().map(moved)))?;
        }
    }
    if !p.failures.is_empty() {
        writeln!(
            out,
            "{}",
            paint.bold(&format!("Failures ({}):", p.failures.len()))
        )?;
        for f in &p.failures {
            let what = f
                .what
                .as_deref()
                .map(|w| format!(" {}", terminal::one_line(w, 80)))
                .unwrap_or_default();
            let note = match &f.note {
                Some(note) if !f.message.is_empty() => format!("{note}: "),
                Some(note) => note.clone(),
                None => String::new(),
            };
            writeln!(
                out,
                "  #{} {} phase {}: {}{what} — {}{}",
                f.event,
                terminal::clock(f.at_s),
                f.phase,
                f.tool,
                note,
                paint.red(&terminal::one_line(&f.message, 120)),
            )?;
        }
    }
    for e in &p.launch_failures {
        writeln!(
            out,
            "{}",
            paint.yellow(&super::stats::launch_failures_line(1))
        )?;
        writeln!(
            out,
            "  #{} {}: {}",
            e.event,
            terminal::clock(e.at_s),
            paint.red(&terminal::one_line(&e.message, 120)),
        )?;
    }
    // A message of the MCP traffic that is no JSON-RPC, or the server's answer to one.
    errors_under(
        out,
        paint,
        "Protocol errors, not of a call or a turn",
        &p.protocol_errors,
        false,
    )?;
    // Messages the MCP proxy relayed and its recorder, fallen behind or stopped, did not
    // record: our capture's gap, not the agent's or the server's error.
    errors_under(
        out,
        paint,
        "Gaps in the recording (the proxy's recorder fell behind or stopped), not of a call or a turn",
        &p.recording_gaps,
        false,
    )?;
    errors_under(
        out,
        paint,
        "Errors of the turn, not of a tool",
        &p.turn_errors,
        true,
    )?;
    // The user's refusals, then auto mode's: the user was not asked about the latter.
    for by in [RefusedBy::User, RefusedBy::AutoMode] {
        let rejected: Vec<&Rejection> = p.rejected.iter().filter(|r| r.by == by).collect();
        if rejected.is_empty() {
            continue;
        }
        let title = match by {
            RefusedBy::User => "Rejected by the user",
            RefusedBy::AutoMode => "Refused by auto mode's classifier",
        };
        writeln!(
            out,
            "{}",
            paint.bold(&format!("{title} ({}):", rejected.len()))
        )?;
        for r in rejected {
            let what = r
                .what
                .as_deref()
                .map(|w| format!(" {}", terminal::one_line(w, 100)))
                .unwrap_or_default();
            let reason = r
                .reason
                .as_deref()
                .map(|why| format!(" — {}", terminal::one_line(why, 120)))
                .unwrap_or_default();
            writeln!(
                out,
                "  #{} {} phase {}: {}{what}{reason}",
                r.event,
                terminal::clock(r.at_s),
                r.phase,
                r.tool
            )?;
        }
    }
    if !p.retry_loops.is_empty() {
        writeln!(
            out,
            "{}",
            paint.bold(&format!("Retry loops ({}):", p.retry_loops.len()))
        )?;
        for l in &p.retry_loops {
            let ended = if l.resolved {
                paint.green("then it worked")
            } else {
                paint.red("still failing")
            };
            writeln!(
                out,
                "  {} — {} attempts in {} ({}–{}), {ended}",
                terminal::one_line(&l.what, 80),
                l.attempts.len(),
                terminal::duration_secs(l.duration_s),
                terminal::clock(l.start_s),
                terminal::clock(l.end_s),
            )?;
        }
    }
    // The words `stats` uses for the same figures, and where they part from the failures
    // listed above; the turn's errors (an API error that ended it) are no tool's, said apart.
    let mut apart = Vec::new();
    if !p.turn_errors.is_empty() {
        apart.push(format!(
            "{} of tools, {} of the turn",
            terminal::thousands(p.tool_errors),
            terminal::thousands(p.turn_errors.len() as u64)
        ));
    }
    apart.push(errors_told_apart(
        &p.errors_answered,
        p.failures_without_error,
    ));
    apart.retain(|a| !a.is_empty());
    let apart = if apart.is_empty() {
        String::new()
    } else {
        format!(" ({})", apart.join("; "))
    };
    let interrupted = if p.interrupted_turns > 0 {
        format!(
            "   Interrupted turns: {}",
            terminal::thousands(p.interrupted_turns)
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "Tool calls: {}   Errors: {}{apart}   Rejected: {}{interrupted}",
        terminal::thousands(p.tool_calls),
        terminal::thousands(p.errors),
        terminal::thousands(p.rejections)
    )?;
    let read = p.files.iter().filter(|f| f.reads > 0).count();
    let written = p.files.iter().filter(|f| f.writes > 0).count();
    let deleted = p.files.iter().filter(|f| f.deletes > 0).count();
    let moved = p.files.iter().filter(|f| f.moves > 0).count();
    let removed = terminal::removed_tail(deleted as u64, moved as u64);
    writeln!(
        out,
        "Files touched: {} read, {} written{removed}",
        terminal::thousands(read as u64),
        terminal::thousands(written as u64)
    )?;
    writeln!(
        out,
        "Retries: {} (wasted {}, {} of session)",
        terminal::thousands(p.retries),
        terminal::duration_secs(p.wasted_s),
        p.duration_s.known().map_or_else(
            || terminal::UNKNOWN.to_owned(),
            |whole| share(p.wasted_s, whole)
        )
    )
}
