//! `retention status` and `retention clean`: how much the store holds and which sessions a
//! retention policy deletes (age, then count, then size; a session with its subagents counts
//! once and goes whole), from the flags or .agent-strace.yaml.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::Globals;
use super::args::FormatArg;
use super::globals::Format;
use super::output::{stdout, warn};
use super::settings::{self, OnDelete, StraceSettings};
use crate::analysis::retention::{Candidate, Limits, Plan, Reason, plan};
use crate::error::Error;
use crate::exit;
use crate::model::text;
use crate::render::terminal::{count, human_size, local_time};
use crate::store::{Deleted, Store};

/// Show what the store holds, or delete the sessions past the retention limits
///
/// Limits come from the flags, else from `retention:` in the nearest .agent-strace.yaml (the
/// Python tool's file): max_age_days, then max_sessions, then max_size_mb, oldest sessions
/// first. The limits count sessions as `list` shows them: a session with its subagents is one
/// session, as old as it and as large as all of them, kept or deleted whole. Sizes are those of
/// the sessions' files: the store's index and logs beside them, the workspaces' stores in it
/// and a session that cannot be read are counted apart (status shows them), in no limit, and never deleted. A session still
/// being written (not ended, or resumed after its end; its events written in the last 10
/// minutes) is never deleted, nor is the rest of its tree. Each deletion is logged in the store's retention.log: session id
/// and time, never content.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace retention status\n  agent-strace retention clean --dry-run --max-age-days 30\n  agent-strace retention clean --max-sessions 1000 --max-size-mb 500"
)]
pub(crate) struct RetentionArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Sessions, their size (and apart, the index and logs and any session that cannot be
    /// read), the oldest session, and what the limits would delete
    Status(LimitArgs),
    /// Delete the sessions past the limits (--dry-run: only say which)
    Clean {
        /// Say what would be deleted; delete nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

#[derive(Debug, Args)]
struct LimitArgs {
    /// Delete sessions that started more than N days ago
    #[arg(long, value_name = "N")]
    max_age_days: Option<f64>,
    /// Keep only the N most recent sessions (a session with its subagents counts once)
    #[arg(long, value_name = "N", value_parser = super::args::whole::<u64>)]
    max_sessions: Option<u64>,
    /// Delete the oldest sessions until the sessions' files hold at most N MB (the index and
    /// logs beside them are not counted)
    #[arg(long, value_name = "N")]
    max_size_mb: Option<f64>,
    /// The settings file [default: the nearest .agent-strace.yaml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// A session whose events were written this recently, and that has not ended, is live.
const LIVE_FOR_SECS: f64 = 600.0;

pub(crate) fn run(args: &RetentionArgs, globals: &Globals) -> Result<u8> {
    let (limits_args, dry_run, cleaning) = match &args.action {
        Action::Status(limits) => (limits, true, false),
        Action::Clean { dry_run, limits } => (limits, *dry_run, true),
    };
    let (limits, on_delete, log_path, source) = limits(limits_args)?;
    let store = Store::new(globals.store_root());
    let now = crate::capture::sink::system_time();
    super::stores::require_unnamed(&store)?;
    super::stores::warn_if_open_to_others(&store);
    let mut failed = 0;
    // The deletions a run killed part way left (a session's folder renamed aside, not yet
    // removed), which no listing shows: finished and logged first, as the run would have.
    let mut finished = Vec::new();
    if cleaning && !dry_run {
        for (id, removed) in store.finish_cut_short().unwrap_or_default() {
            match removed {
                Ok(()) => {
                    if on_delete == OnDelete::Log {
                        super::retention_log::log(&store, log_path.as_deref(), &id);
                    }
                    finished.push(id);
                }
                Err(e) => {
                    failed += 1;
                    warn(format_args!(
                        "cannot finish the deletion of {id} a run cut short: {e}"
                    ));
                }
            }
        }
    }
    let cut_short = store.cut_short().unwrap_or_default().into_iter().fold(
        Unread::default(),
        |sum, (_, bytes)| Unread {
            sessions: sum.sessions + 1,
            bytes: sum.bytes + bytes,
        },
    );
    let listing = super::listing::sessions(&store)?;
    // When each session's events were last written, as the plan saw it: a session written
    // since it was chosen for being idle is kept.
    let written_at = std::cell::RefCell::new(std::collections::HashMap::new());
    let candidate = |meta: &crate::model::SessionMeta| {
        let id = meta.session_id.clone();
        let written = store.events_written_at(&id).unwrap_or(0.0);
        // A start no session can have (the year -17678, or 2128) would make the session the
        // first to go, or never go: its age is that of its events' file instead.
        let doubts = meta.unbelievable().only(&["started_at"]);
        if let Some(warning) = doubts.warning(&id, "its age is that of its events' file") {
            warn(warning);
        }
        let started_at = if !doubts.is_empty() {
            written
        } else if meta.starts_ahead_of(now) {
            // Dated by its first event instead (kept apart when that is ahead too).
            store.start_to_order_by(meta)
        } else {
            meta.started_at
        };
        written_at
            .borrow_mut()
            .insert(id.clone(), store.events_written_at(&id));
        Candidate {
            bytes: store.session_bytes(&id).unwrap_or(0),
            live: now - written < LIVE_FOR_SECS
                && (meta.ended_at.is_none() || goes_on_after_its_end(&store, &id)),
            started_at,
            parent_session_id: meta.parent_session_id.clone(),
            session_id: id,
        }
    };
    // A session that starts later than this machine's clock allows (2099), with no event at a
    // time it allows either, is dated nowhere: as the newest it kept out the real sessions a
    // limit deleted, as the oldest it would go first for a wrong clock. Like a session that
    // cannot be read, no limit counts or deletes it.
    let mut ahead = Unread::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    for meta in listing.sessions.iter().map(|s| &s.summary.meta) {
        if meta.starts_ahead_of(now)
            && meta.unbelievable().only(&["started_at"]).is_empty()
            && store.start_to_order_by(meta) == f64::NEG_INFINITY
        {
            warn(format_args!(
                "session {} starts later than this machine's clock ({}), as do its events; no \
                 limit counts or deletes it",
                meta.session_id,
                crate::render::terminal::local_time(meta.started_at)
            ));
            ahead.sessions += 1;
            ahead.bytes += store.session_bytes(&meta.session_id).unwrap_or(0);
        } else {
            candidates.push(candidate(meta));
        }
    }
    // A subagent the listing could not read, whose metadata names a listed parent, goes with
    // its parent's tree: deleting the parent alone would leave it without one. Any other
    // session that cannot be read is counted apart: its age is unknown, so no limit takes it.
    let mut unread = Unread::default();
    for unreadable in super::listing::unreadable(&store, &listing) {
        if let Some(meta) = &unreadable.meta
            && meta
                .parent_session_id
                .as_ref()
                .is_some_and(|parent| candidates.iter().any(|c| &c.session_id == parent))
        {
            candidates.push(candidate(meta));
        } else {
            unread.sessions += 1;
            unread.bytes += store.session_bytes(&unreadable.id).unwrap_or(0);
        }
    }
    // Measured with the index closed, as it stays on disk: open, it has a write-ahead log
    // beside it, which its closing folds in and removes.
    drop(listing);
    let beside_sessions_bytes = store.bytes_beside_sessions().unwrap_or_else(|err| {
        warn(format_args!(
            "the size of the store's own files is unknown: {err}"
        ));
        0
    });
    let workspaces_bytes = store.workspaces_bytes();
    let plan = plan(&candidates, &limits, now);
    let mut deleted = Vec::new();
    if cleaning && !dry_run {
        for d in &plan.delete {
            // Children before parents, and the root only once all of them are gone: a
            // deletion that fails leaves a smaller tree, never a subagent without its parent.
            for id in d.subagents.iter().rev().chain([&d.session_id]) {
                let seen = written_at.borrow().get(id).copied().flatten();
                let kept = match store.delete_session_unless_written(id, seen) {
                    Ok(Deleted::Gone) => false,
                    Ok(Deleted::KeptWritten) => {
                        warn(format_args!(
                            "kept {id}: it was written to while being deleted"
                        ));
                        true
                    }
                    Err(e) => {
                        failed += 1;
                        warn(format_args!("cannot delete {id}: {e}"));
                        true
                    }
                };
                if kept {
                    if *id != d.session_id {
                        warn(format_args!(
                            "kept {} so that no subagent of it is left without it",
                            d.session_id
                        ));
                    }
                    break;
                }
                deleted.push(id.clone());
                if on_delete == OnDelete::Log {
                    super::retention_log::log(&store, log_path.as_deref(), id);
                }
            }
        }
    }
    // What was freed, from the sessions deleted: after a failure, less than the plan's.
    let freed_bytes = candidates
        .iter()
        .filter(|c| deleted.contains(&c.session_id))
        .map(|c| c.bytes)
        .sum();
    let report = Report {
        limits,
        limits_from: source,
        dry_run,
        plan: &plan,
        deleted: &deleted,
        freed_bytes,
        beside_sessions_bytes,
        workspaces_bytes,
        unreadable: unread,
        ahead_of_clock: ahead,
        cut_short,
        finished: &finished,
    };
    let mut out = stdout(globals.colour());
    match limits_args.format.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Text => text(&mut out, &report, cleaning, now)?,
    }
    out.flush()?;
    Ok(if failed > 0 { exit::IO } else { exit::OK })
}

#[derive(serde::Serialize)]
struct Report<'a> {
    limits: Limits,
    /// The settings file the limits came from; none when they came from the flags (or there
    /// are none).
    limits_from: Option<String>,
    dry_run: bool,
    plan: &'a Plan,
    deleted: &'a [String],
    /// The bytes the sessions in `deleted` held.
    freed_bytes: u64,
    /// The bytes of the store's own files beside the sessions (the index, the logs), which
    /// `plan.total_bytes` and no limit count.
    beside_sessions_bytes: u64,
    /// The bytes of the workspaces' stores in this one (`workspaces/`): stores of their own,
    /// which no figure of `plan`, no limit and `beside_sessions_bytes` count.
    workspaces_bytes: u64,
    /// The sessions that cannot be read, which no figure of `plan` counts and no limit deletes.
    unreadable: Unread,
    /// The sessions that start, as do their events, later than this machine's clock allows,
    /// which no figure of `plan` counts and no limit deletes.
    ahead_of_clock: Unread,
    /// The deletions a run cut short (killed) left unfinished, which the next `retention
    /// clean` finishes: sessions no figure of `plan` counts.
    cut_short: Unread,
    /// The sessions whose deletion, cut short by an earlier run, this run finished.
    finished: &'a [String],
}

/// Sessions that cannot be read, and the bytes their folders hold.
#[derive(Debug, Default, serde::Serialize)]
struct Unread {
    sessions: u64,
    bytes: u64,
}

fn text(out: &mut impl Write, r: &Report<'_>, cleaning: bool, now: f64) -> Result<()> {
    let p = r.plan;
    if !cleaning {
        if p.subagent_sessions == 0 {
            writeln!(out, "Sessions:  {}", p.sessions)?;
        } else {
            writeln!(
                out,
                "Sessions:  {} (and {} under them)",
                p.sessions,
                count(p.subagent_sessions as u64, "subagent session")
            )?;
        }
        writeln!(
            out,
            "Size:      {} in the sessions' files (what --max-size-mb limits)",
            human_size(p.total_bytes)
        )?;
        if r.beside_sessions_bytes > 0 {
            writeln!(
                out,
                "           {} more in the index and logs beside them, which no limit counts",
                human_size(r.beside_sessions_bytes)
            )?;
        }
        if r.workspaces_bytes > 0 {
            writeln!(
                out,
                "           {} more in the workspaces' stores (workspaces/), each a store of its \
                 own, which no limit here counts or deletes",
                human_size(r.workspaces_bytes)
            )?;
        }
        if r.unreadable.sessions > 0 {
            writeln!(
                out,
                "Unread:    {} that cannot be read ({}), which no limit counts or deletes",
                count(r.unreadable.sessions, "session"),
                human_size(r.unreadable.bytes)
            )?;
        }
        if r.ahead_of_clock.sessions > 0 {
            writeln!(
                out,
                "Ahead:     {} starting later than this machine's clock ({}), which no limit \
                 counts or deletes",
                count(r.ahead_of_clock.sessions, "session"),
                human_size(r.ahead_of_clock.bytes)
            )?;
        }
        if r.cut_short.sessions > 0 {
            writeln!(
                out,
                "Left:      {} whose deletion a run cut short ({}), which the next `retention \
                 clean` finishes",
                count(r.cut_short.sessions, "session"),
                human_size(r.cut_short.bytes)
            )?;
        }
        if let Some(oldest) = &p.oldest {
            writeln!(
                out,
                "Oldest:    {} ({}, {:.1} days ago)",
                oldest.session_id,
                local_time(oldest.started_at),
                (now - oldest.started_at) / 86_400.0
            )?;
        }
        writeln!(
            out,
            "Limits:    {}",
            describe(&r.limits, r.limits_from.as_deref())
        )?;
    }
    if !r.finished.is_empty() {
        writeln!(
            out,
            "Finished the deletion of {} a run cut short: {}",
            count(r.finished.len() as u64, "session"),
            r.finished.join(", ")
        )?;
    }
    if !r.limits.any() {
        writeln!(
            out,
            "No retention limits are set: give --max-age-days, --max-sessions or --max-size-mb, or write them under `retention:` in .agent-strace.yaml."
        )?;
        return Ok(());
    }
    if p.delete.is_empty() && p.spared_live.is_empty() {
        writeln!(
            out,
            "Nothing to delete: every session is within the limits."
        )?;
    } else if p.delete.is_empty() {
        writeln!(out, "Nothing to delete.")?;
    } else if r.dry_run {
        writeln!(
            out,
            "{} {}, {}:",
            if cleaning {
                "Would delete"
            } else {
                "The limits delete"
            },
            sessions_and_subagents(p.delete.len(), p.sessions_to_delete()),
            human_size(p.bytes_to_free)
        )?;
        let id_width = p
            .delete
            .iter()
            .map(|d| d.session_id.len())
            .max()
            .unwrap_or(0);
        for d in &p.delete {
            let with = if d.subagents.is_empty() {
                String::new()
            } else {
                format!(
                    ", with {}",
                    count(d.subagents.len() as u64, "subagent session")
                )
            };
            writeln!(
                out,
                "  {:<id_width$}  {}  {:>9}  {}{with}",
                d.session_id,
                local_time(d.started_at),
                human_size(d.bytes),
                reason(d.reason, &r.limits)
            )?;
        }
        if !cleaning {
            writeln!(out, "Run `agent-strace retention clean` to delete them.")?;
        }
    } else {
        let roots = p
            .delete
            .iter()
            .filter(|d| r.deleted.contains(&d.session_id))
            .count();
        writeln!(
            out,
            "Deleted {}, {} freed.",
            sessions_and_subagents(roots, r.deleted.len()),
            human_size(r.freed_bytes)
        )?;
    }
    if !p.spared_live.is_empty() {
        writeln!(
            out,
            "Kept {} still being written: {}",
            count(p.spared_live.len() as u64, "session"),
            p.spared_live.join(", ")
        )?;
    }
    Ok(())
}

/// `3 sessions`, or `3 sessions with 5 subagent sessions` when `all`, the sessions with their
/// subagents, are more.
fn sessions_and_subagents(sessions: usize, all: usize) -> String {
    let subagents = all.saturating_sub(sessions);
    if sessions == 0 && subagents > 0 {
        // A failure kept a tree's root after some of its subagents went.
        return count(subagents as u64, "subagent session");
    }
    let sessions = count(sessions as u64, "session");
    if subagents == 0 {
        sessions
    } else {
        format!(
            "{sessions} with {}",
            count(subagents as u64, "subagent session")
        )
    }
}

/// The limit that deletes a session, worded as the `Limits:` line words it.
fn reason(reason: Reason, limits: &Limits) -> String {
    match reason {
        Reason::MaxAgeDays => age_limit(limits.max_age_days.unwrap_or_default()),
        Reason::MaxSessions => sessions_limit(limits.max_sessions.unwrap_or_default()),
        Reason::MaxSizeMb => size_limit(limits.max_size_mb.unwrap_or_default()),
    }
}

fn age_limit(days: f64) -> String {
    // `1` as the user wrote it, as it prints: `max 1 day`, `max 1.5 days`.
    let said = text::figure(days);
    let unit = if said == "1" { "day" } else { "days" };
    format!("max {said} {unit}")
}

fn sessions_limit(sessions: u64) -> String {
    format!("max {}", count(sessions, "session"))
}

fn size_limit(mb: f64) -> String {
    format!("max {} MB", text::figure(mb))
}

fn describe(limits: &Limits, from: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(d) = limits.max_age_days {
        parts.push(age_limit(d));
    }
    if let Some(n) = limits.max_sessions {
        parts.push(sessions_limit(n));
    }
    if let Some(mb) = limits.max_size_mb {
        parts.push(size_limit(mb));
    }
    if parts.is_empty() {
        return "none".to_owned();
    }
    match from {
        Some(file) => format!("{} (from {file})", parts.join(", ")),
        None => parts.join(", "),
    }
}

/// The limits in force: each flag given wins over the settings file's value.
fn limits(args: &LimitArgs) -> Result<(Limits, OnDelete, Option<PathBuf>, Option<String>)> {
    for (flag, value) in [
        ("--max-age-days", args.max_age_days),
        ("--max-size-mb", args.max_size_mb),
    ] {
        if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(Error::usage(format!("{flag} must be a number of 0 or more")).into());
        }
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let loaded =
        settings::load::<StraceSettings>(&cwd, args.config.as_deref()).map_err(|e| e.as_error())?;
    let (file, source) = match &loaded {
        Some(l) => (
            l.settings.retention(),
            Some(
                l.path
                    .strip_prefix(&cwd)
                    .unwrap_or(&l.path)
                    .display()
                    .to_string(),
            ),
        ),
        None => (settings::Retention::default(), None),
    };
    let limits = Limits {
        max_age_days: args.max_age_days.or(file.max_age_days),
        max_sessions: args.max_sessions.or(file.max_sessions),
        max_size_mb: args.max_size_mb.or(file.max_size_mb),
    };
    let from_file = (limits.max_age_days != args.max_age_days
        || limits.max_sessions != args.max_sessions
        || limits.max_size_mb != args.max_size_mb)
        .then_some(source)
        .flatten();
    // An empty log_path is the store's log, as the Python tool reads it.
    let log_path = match (&file.log_path, &loaded) {
        (Some(written), Some(loaded))
            if !written.as_os_str().is_empty() && file.on_delete == OnDelete::Log =>
        {
            let in_project = args.config.is_none();
            Some(super::retention_log::checked(
                written,
                &cwd,
                &loaded.path,
                in_project,
            )?)
        }
        _ => None,
    };
    Ok((limits, file.on_delete, log_path, from_file))
}

/// Whether the session's latest event is not its end although it recorded one: an agent
/// resumed it under the same id (Claude Code's `--resume` does), and it is being written again
/// (events recorded late, earlier than the end, do not reopen it). Read only for a session
/// written in the last minutes.
fn goes_on_after_its_end(store: &Store, id: &str) -> bool {
    store.events(id).is_ok_and(|events| {
        let mut events = events.peekable();
        let any = events.peek().is_some();
        let mut ending = crate::model::Ending::default();
        ending.observe_all(events, crate::store::system_time());
        any && !ending.ended()
    })
}
