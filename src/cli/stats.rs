//! `stats`: calls, durations and errors per tool, and the session's totals.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::globals::Format;
use super::output::{stdout, warn_bad_lines, warn_unbelievable};
use crate::analysis::stats::{Stats, StatsBuilder, UsageLog, owed_files, unanswered_files};
use crate::exit;
use crate::model::tools::Agent;
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Show per-tool call counts, durations (total, mean, p95) and errors for a session
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace stats\n  agent-strace stats 3f2a --include-subagents --format json"
)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Roll up the session and all its subagents (the duration is then the wall time they
    /// took together, overlaps counted once)
    #[arg(long)]
    include_subagents: bool,
    #[command(flatten)]
    format: FormatArg,
}

pub(crate) fn run(args: &StatsArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let sessions = if args.include_subagents {
        super::listing::family(&store, &[&id])?
            .forest
            .descendants(&id)
    } else {
        vec![id]
    };
    let mut builder = StatsBuilder::new();
    let mut usage_logs = Vec::new();
    for session in &sessions {
        let summary = super::output::summary(&store, session)?;
        // A session holding copies of its events is scanned in one part, so that each copy
        // meets its original ([`StatsBuilder::merge`]).
        let parts = if summary.counters.as_ref().is_some_and(|c| c.copies > 0) {
            1
        } else {
            2
        };
        let meta = summary.meta;
        // Its counts are the events', not the metadata's: only its times are shown.
        let unbelievable = meta.unbelievable().only(&["started_at", "ended_at"]);
        warn_unbelievable(session, &unbelievable, args.format.format);
        builder.session(
            session,
            meta.duration_figure(
                &unbelievable,
                meta.ended_at.map(|end| (meta.started_at, end)),
            ),
        );
        // Only a session that recorded no usage (hooks never see it) has its log read.
        // A log with no response whose usage can be believed has none that `cost` prices;
        // one whose responses are all of unknown usage is said still.
        if let Some((path, logged)) = super::explain::logged_log(&store, &meta)
            && (!logged.responses.is_empty() || logged.unbelieved > 0)
        {
            usage_logs.push(UsageLog {
                session: session.clone(),
                path,
                responses: logged.responses.len() as u64,
                tokens: logged
                    .responses
                    .iter()
                    .fold(0, |sum, r| sum.saturating_add(r.usage.total())),
                unbelieved: logged.unbelieved,
            });
        }
        // Two threads: the machines this runs on have at least two cores, and a long session
        // is read twice as fast.
        let (parts, report) =
            store.scan_parallel(session, parts, StatsBuilder::new, StatsBuilder::observe)?;
        for part in parts {
            builder.merge(part);
        }
        warn_bad_lines(&report.bad, report.bad_count);
        // Our recorders write a file event for each file a call touched for certain, which the
        // scan counts; another tool's (the Python tool's hooks and import) write none, and the
        // files are its calls', as every reader counts them. Its lines that do not parse were
        // warned of above.
        // A call no result answered touched its files too, with no file event of ours after
        // it (Cursor sends no result for a read): its session is read again only when some
        // call may have none.
        let agent = Agent::from_name(&meta.agent_name);
        if !store.keeps_counters(session) {
            builder.owed(owed_files(store.events(session)?, agent));
        } else if builder.may_leave_calls_open() {
            builder.owed(unanswered_files(store.events(session)?, agent));
        }
    }
    let mut stats = builder.finish();
    stats.usage_logs = usage_logs;
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &stats)?,
        Format::Text => text(&mut out, &stats, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// What `stats` and `explain` say of MCP servers the proxy could not launch (`n` of them).
pub(super) fn launch_failures_line(n: u64) -> String {
    let what = if n == 1 {
        "The MCP server could not be launched".to_owned()
    } else {
        format!(
            "{} MCP servers could not be launched",
            terminal::thousands(n)
        )
    };
    format!("{what}: its command could not be run, so no call or turn of the agent's failed")
}

/// What `stats` says of the errors an MCP proxy recorded of its traffic (`n` of them).
fn protocol_errors_line(n: u64) -> String {
    format!(
        "Protocol errors: {} (a message of the MCP traffic that is no JSON-RPC, or the answer to one: no call or turn failed)",
        terminal::thousands(n)
    )
}

/// What `stats` says of the messages an MCP proxy relayed and did not record (`n` of them).
fn unrecorded_messages_line(n: u64) -> String {
    format!(
        "Unrecorded messages: {} (the MCP proxy's recorder fell behind and relayed them unrecorded: a gap in the recording, no call or turn failed)",
        terminal::thousands(n)
    )
}

/// What `stats` says of the times an MCP proxy stopped recording (`n` of them).
fn recording_stopped_line(n: u64) -> String {
    format!(
        "Recording stopped: {} (the MCP proxy recorded nothing more of the traffic it relayed: a gap in the recording, no call or turn failed)",
        terminal::thousands(n)
    )
}

fn text(out: &mut impl Write, stats: &Stats, paint: Painter) -> std::io::Result<()> {
    let title = match stats.sessions.as_slice() {
        [one] => format!("Session {one}"),
        [first, rest @ ..] => format!(
            "Session {first} and {}",
            terminal::count(rest.len() as u64, "subagent session")
        ),
        [] => "No session".to_owned(),
    };
    writeln!(out, "{}", paint.bold(&title))?;
    let duration = terminal::believed(stats.duration_s, |d| {
        d.map_or_else(|| "running".to_owned(), terminal::duration_secs)
    });
    let rejected = if stats.rejections > 0 {
        format!(
            "   Rejected: {}",
            paint.yellow(&terminal::thousands(stats.rejections))
        )
    } else {
        String::new()
    };
    // The turn's errors (an API error that ended it) are no tool's: said apart, as explain does.
    let turn_errors = stats.errors.saturating_sub(stats.tool_errors);
    let apart = if turn_errors > 0 {
        format!(
            " ({} of tools, {} of the turn)",
            terminal::thousands(stats.tool_errors),
            terminal::thousands(turn_errors)
        )
    } else {
        String::new()
    };
    // Copies of earlier events (a transcript that repeats its history) are stored lines that
    // count in no other figure.
    let copies = if stats.copies > 0 {
        format!(
            " ({} of earlier ones)",
            terminal::count_as(stats.copies, "copy", "copies")
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "Duration: {duration}   Events: {}{copies}   Prompts: {}   Tool calls: {}   Errors: {}{apart}{rejected}",
        terminal::thousands(stats.events),
        terminal::thousands(stats.user_prompts),
        terminal::thousands(stats.tool_calls),
        paint.errors(
            &terminal::thousands(stats.errors),
            stats.tool_errors,
            turn_errors
        ),
    )?;
    // A server that never started is no error of a call or a turn: said on its own line.
    if stats.launch_failures > 0 {
        writeln!(
            out,
            "{}",
            paint.yellow(&launch_failures_line(stats.launch_failures))
        )?;
    }
    if stats.protocol_errors > 0 {
        writeln!(
            out,
            "{}",
            paint.yellow(&protocol_errors_line(stats.protocol_errors))
        )?;
    }
    if stats.unrecorded_messages > 0 {
        writeln!(
            out,
            "{}",
            paint.yellow(&unrecorded_messages_line(stats.unrecorded_messages))
        )?;
    }
    if stats.recording_stopped > 0 {
        writeln!(
            out,
            "{}",
            paint.yellow(&recording_stopped_line(stats.recording_stopped))
        )?;
    }
    let removed = terminal::removed_tail(stats.files_deleted, stats.files_moved);
    writeln!(
        out,
        "Reads: {}   Writes: {}   Files: {} ({} read, {} written{removed})   LLM requests: {}   Tokens: {}",
        terminal::thousands(stats.reads),
        terminal::thousands(stats.writes),
        terminal::thousands(stats.files),
        terminal::thousands(stats.files_read),
        terminal::thousands(stats.files_written),
        terminal::thousands(stats.llm_requests),
        terminal::thousands(stats.tokens)
    )?;
    if let Some(note) = terminal::unbelieved_usage_note(stats.unbelieved_usage) {
        writeln!(out, "{}", paint.dim(&note))?;
    }
    for log in &stats.usage_logs {
        // `cost` prices this usage; `list` and `sql` show the store's estimate.
        let priced = if log.responses > 0 {
            format!(
                "{} and {} tokens, which `cost` prices",
                terminal::count(log.responses, "LLM response"),
                terminal::thousands(log.tokens),
            )
        } else {
            "no LLM response whose usage can be believed".to_owned()
        };
        let unknown = if log.unbelieved > 0 {
            format!(
                "; {} of unknown usage ({}) {} left out",
                terminal::count(log.unbelieved, "LLM response"),
                terminal::UNBELIEVED_USAGE,
                if log.unbelieved == 1 { "is" } else { "are" }
            )
        } else {
            String::new()
        };
        let note = format!(
            "No {}usage was recorded{}: the agent's log {} holds {priced}{unknown}.",
            if stats.unbelieved_usage > 0 {
                "believable "
            } else {
                ""
            },
            if stats.sessions.len() > 1 {
                format!(" in {}", log.session)
            } else {
                String::new()
            },
            terminal::one_line(&log.path, 120),
        );
        writeln!(out, "{}", paint.dim(&note))?;
    }
    if stats.tools.is_empty() {
        return writeln!(out, "\nNo tool calls.");
    }
    let width = terminal::column_width(stats.tools.iter().map(|t| t.tool.as_str()), 4, 48);
    // The column of refused calls is shown only when there are any.
    let with_rejections = stats.rejections > 0;
    let rejected_head = if with_rejections { "  REJECTED" } else { "" };
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "{:<width$}  {:>6}  {:>6}{rejected_head}  {:>9}  {:>9}  {:>9}",
            "TOOL", "CALLS", "ERRORS", "TOTAL", "MEAN", "P95"
        ))
    )?;
    for tool in &stats.tools {
        let time = |ms: Option<f64>| ms.map_or_else(|| "-".to_owned(), terminal::duration_ms);
        let errors = format!("{:>6}", terminal::thousands(tool.errors));
        let rejected = if with_rejections {
            let n = format!("{:>8}", terminal::thousands(tool.rejections));
            if tool.rejections > 0 {
                format!("  {}", paint.yellow(&n))
            } else {
                format!("  {n}")
            }
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}  {:>6}  {}{rejected}  {:>9}  {:>9}  {:>9}",
            terminal::cell(&tool.tool, width),
            terminal::thousands(tool.calls),
            if tool.errors > 0 {
                paint.red(&errors)
            } else {
                errors
            },
            time((tool.timed > 0).then_some(tool.total_ms)),
            time(tool.mean_ms),
            time(tool.p95_ms),
        )?;
    }
    Ok(())
}
