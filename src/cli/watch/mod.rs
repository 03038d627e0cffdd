//! `watch`: follows a live session, prints its events as they come, and enforces rules on it:
//! alert, pause (SIGSTOP) or kill (SIGTERM, then SIGKILL) the agent's process.
//!
//! # Parts
//! - this file: the flags, the rules they make, and the loop that follows the session.
//! - [`act`]: signals to the agent, and the `--on-death` command.
//! - [`stream`]: `--stream-to`, NDJSON batches POSTed from a thread of their own.
//!
//! A watch never leaves the agent paused behind it: Ctrl-C, SIGTERM, SIGHUP, the session's
//! end, and a panic all continue an agent the watch paused before it exits.

mod act;
mod stream;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use super::Globals;
use super::args::SessionArg;
use super::globals::Format;
use super::output::{stdout, to_stderr, usage, warn_bad_lines};
use crate::analysis::replay_line::{
    ErrorsApart, HEADER_FIELDS, Numbered, Story, StoryOptions, header,
};
use crate::analysis::watch::postmortem::{Death, LastActs, PostMortem};
use crate::analysis::watch::{Action, Condition, Metric, Rule, Violation, Watcher};
use crate::capture::process::{AgentProcess, Liveness};
use crate::capture::sink::system_time;
use crate::capture::transcript::{TranscriptSizes, transcript_sizes, transcript_usage};
use crate::error::Error;
use crate::exit;
use crate::model::duration::parse_seconds;
use crate::model::text;
use crate::model::usage::LEAST_BUDGET_USD;
use crate::model::view::View;
use crate::model::{Agent, Ending, Event};
use crate::render::escape::escape;
use crate::render::replay::{write_header, write_line};
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Watch a live session: show its events as they come, and alert, pause or kill the agent
/// when a rule breaks
///
/// Rules come from --timeout, --budget and --max-context-pct (acting as --on-violation says)
/// and from a --rules file, each with its own action. pause sends SIGSTOP to the agent's
/// process (as the hooks recorded it) until `watch --resume`; kill sends SIGTERM, then SIGKILL
/// after 5 s, and writes watchdog-postmortem.json in the session's folder. Stopping the watch
/// (Ctrl-C) leaves the agent running. The watch ends with the session (its session_end), when
/// the agent's process exits, or, for a session with no process recorded, after --idle with no
/// new event. Exits 1 when a rule broke.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace watch --timeout 30m --budget 5.00 --on-violation kill\n  agent-strace watch --rules .watch-rules.json --dry-run   # say what it would do, do nothing\n  agent-strace watch --resume                             # continue a paused agent\n  agent-strace watch --on-violation kill --budget 5 --on-death 'python recover.py {post_mortem_path}'\n\nA rules file (JSON) is a list of rules:\n  [{\"condition\": \"cost_usd\", \"threshold\": 0.50, \"action\": \"kill\"},\n   {\"condition\": \"file_path\", \"glob\": \"**/production.env\", \"action\": \"kill\"},\n   {\"condition\": \"files_modified > 30\", \"action\": \"pause\"}]\nConditions: cost_usd, duration_minutes, files_modified, files_deleted, files_moved, tool_calls,\nconsecutive_test_failures, error_rate (0-1, from 5 finished calls), context_pct, file_path (a\nglob). A threshold fires when the figure reaches it; a written comparison (>, >=, <, <=, ==) as it\nsays."
)]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    session: SessionArg,
    /// A JSON file of rules, each with its own action (see below)
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Break when the session has run this long (30s, 5m, 2h, 1h30m)
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Break when the session has cost this many dollars
    #[arg(long, value_name = "USD")]
    budget: Option<f64>,
    /// Break when a response's context reaches N% of its model's window
    #[arg(long, value_name = "N")]
    max_context_pct: Option<f64>,
    /// The context window context_pct measures every response against, in tokens [default:
    /// the one the agent recorded, else the model's; a model whose window is not known has no
    /// context_pct]
    #[arg(long, value_name = "TOKENS", value_parser = super::args::positive::<u64>)]
    context_window: Option<u64>,
    /// What --timeout, --budget and --max-context-pct do when they break
    #[arg(long, value_name = "ACTION", value_parser = ["kill", "pause", "alert"], default_value = "alert")]
    on_violation: String,
    /// After a kill, run this command ({post_mortem_path} is replaced; no shell reads it)
    #[arg(long, value_name = "CMD")]
    on_death: Option<String>,
    /// POST the session's events to this URL as NDJSON batches
    #[arg(long, value_name = "URL")]
    stream_to: Option<String>,
    /// With --stream-to, the most events in one POST
    #[arg(long, value_name = "N", default_value_t = 10, requires = "stream_to")]
    stream_batch_size: usize,
    /// With --stream-to, the longest an event waits before it is sent (2s, 500ms; a bare
    /// number is seconds: 0.5)
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2s",
        requires = "stream_to"
    )]
    stream_flush_interval: String,
    /// Stop after this long with no new event (30s, 10m); by default 10m for a session with no
    /// agent process recorded (nothing else tells that it is over), never for one with a
    /// process
    #[arg(long, value_name = "DURATION")]
    idle: Option<String>,
    /// Evaluate the rules and say what would be done, without signalling anything
    #[arg(long)]
    dry_run: bool,
    /// Continue the session's paused agent (SIGCONT) and exit
    #[arg(long, conflicts_with_all = ["rules", "timeout", "budget", "max_context_pct", "context_window", "stream_to", "dry_run", "on_death", "idle"])]
    resume: bool,
    /// Internal: the process a pausing watch leaves behind, which continues the agent
    /// `PID:STARTED` when the watch's end of its stdin closes, however the watch ended
    #[arg(long, hide = true, value_name = "PID:STARTED")]
    guard: Option<String>,
}

/// How long the loop sleeps at most without a change to the session: time rules and the
/// agent's exit are noticed within this.
const WAKE: Duration = Duration::from_millis(500);

/// About the most of the events file read at once (whole chunks of a MiB).
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// After the agent exits, the events file is read on until it has not grown for this long:
/// hooks the agent started may still be writing (a Stop hook that ends just after it).
const LAST_WORDS_QUIET: Duration = Duration::from_secs(1);

/// The longest the events file is read on after the agent exits, however it grows.
const LAST_WORDS_AT_MOST: Duration = Duration::from_secs(5);

/// How long a session with no agent process recorded may stay silent before the watch stops,
/// unless --idle says otherwise.
const IDLE_WITHOUT_PROCESS: Duration = Duration::from_secs(10 * 60);

/// The transcript (and its subagents') is read for usage at most this often.
const TRANSCRIPT_EVERY: Duration = Duration::from_secs(2);

/// `--idle`'s wait. Past what a wait can hold (some 584 billion years), Rust's words were
/// "value is either too big or NaN".
fn idle_wait(text: &str) -> Result<Duration> {
    let seconds = parse_seconds(text).map_err(|e| usage(format!("--idle: {e}")))?;
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| usage(format!("--idle: `{text}` is longer than any wait can be")))
}

pub(crate) fn run(args: &WatchArgs, globals: &Globals) -> Result<u8> {
    if let Some(agent) = &args.guard {
        return act::guard(agent);
    }
    let rules = rules(args, globals)?;
    let idle = args.idle.as_deref().map(idle_wait).transpose()?;
    let on_death = args.on_death.as_deref();
    if on_death.is_some() && !rules.iter().any(|r| r.action == Action::Kill) {
        return Err(usage("--on-death runs after a kill, but no rule kills"));
    }
    if let Some(command) = on_death {
        act::on_death_argv(command, Path::new("x")).map_err(usage)?;
    }
    let stream = match &args.stream_to {
        Some(url) => {
            let interval = parse_seconds(&args.stream_flush_interval)
                .map_err(|e| usage(format!("--stream-flush-interval: {e}")))?;
            Some(
                stream::StreamConfig::new(
                    url,
                    args.stream_batch_size,
                    Duration::try_from_secs_f64(interval).unwrap_or(Duration::from_secs(2)),
                )
                .map_err(usage)?,
            )
        }
        None => None,
    };
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    if args.resume {
        return resume(&store, &id);
    }
    let summary = super::output::summary(&store, &id)?;
    let apart = ErrorsApart {
        rejections: summary.rejections,
        turn_errors: summary.turn_errors,
    };
    let meta = summary.meta;
    record_budget(&store, &id, &rules, args.dry_run);
    let agent = Agent::from_name(&meta.agent_name);
    let paint = Painter::new(globals.colour());
    let mut out = stdout(globals.colour());

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("cannot handle Ctrl-C")?;
    }
    let mut follower = store.follow(&id)?;
    // A long hole in the events file takes hours to read: a stop is heeded between chunks.
    follower.stop_on(Arc::clone(&stop));
    // A batch at a time: a watch started on a long session held all of it at once.
    follower.in_batches_of(BATCH_BYTES);
    let first = follower.read_new()?;
    // Time counts from the start, or from the first event when the recorded start is one no
    // running session can have, else from now: a start in the year -17678 broke every time
    // limit at once, and killed the agent, as did one in 1970 or a first event at -1e12; a
    // start in 2096 or events with no time made a time limit that never fired.
    let now = system_time();
    let running_since = |t: &f64| {
        (now - crate::model::meta::BELIEVABLE_DURATION_SECS
            ..=now + crate::model::event::CLOCK_SKEW_SECS)
            .contains(t)
    };
    let started = Some(meta.started_at)
        .filter(running_since)
        .or_else(|| {
            first
                .iter()
                .map(|e| e.timestamp)
                .filter(running_since)
                .min_by(f64::total_cmp)
        })
        .unwrap_or_else(|| {
            Session::say(
                "the session records no start this watch can believe: time limits count from now",
            );
            now
        });
    let doubts = meta.unbelievable().only(&HEADER_FIELDS);
    super::output::warn_unbelievable(&id, &doubts, Format::Text);
    // Who recorded the session, as its events file says now: the file may be replaced or
    // removed later (by the agent, to disarm the watch), which changes no verdict.
    let recorder = store.events_owner(&id);
    let mut session = Session {
        store: &store,
        id: &id,
        recorder,
        agent,
        args,
        watcher: Watcher::new(agent, started, rules).with_context_window(args.context_window),
        acts: LastActs::default(),
        events_seen: 0,
        // Replaced by the session's own when it recorded one.
        process: None,
        refused: HashSet::new(),
        transcript: None,
        transcript_seen: None,
        transcript_read: None,
        transcript_unread_said: false,
        paused: Paused {
            agent: None,
            guard: None,
        },
        broke: false,
        killed: false,
        ending: Ending::default(),
    };
    if let Some(process) = ancestor_process(&store, meta.parent_session_id.as_deref()) {
        session.process = session.signallable(process);
    }
    let mut head = meta.clone();
    let mut ending = Ending::default();
    ending.observe_all(&first, system_time());
    if !ending.ended() {
        head.ended_at = None;
    }
    if let Some(lasted) = head.believed_duration_secs() {
        session.watcher.ended_after(lasted);
    }
    let numbered: Vec<Numbered> = first
        .iter()
        .enumerate()
        .map(|(i, e)| Numbered {
            number: i + 1,
            event: e.clone(),
        })
        .collect();
    write_header(
        &mut out,
        &header(&head, apart, agent, &numbered, None),
        paint,
    )?;
    out.flush()?;
    let mut story = Story::new(agent, meta.believed_start(), StoryOptions::default());
    let mut streamer = stream.map(stream::Streamer::start);
    // The process the events so far recorded, so that the announcement names it.
    if let Some(process) = first.iter().rev().find_map(recorded_process) {
        session.process = session.signallable(process);
    }
    let uncounted = !counts_usage(&first, agent);
    let mut last_news = Instant::now();
    let mut batch = first;
    // When the agent was seen gone: what its hooks write after is still read, a moment.
    let mut gone_at: Option<Instant> = None;
    // The bad lines said so far: each is said as soon as it is skipped, as an event the rules
    // never saw went by (they were said only when the watch ended).
    let mut bad_said = 0;
    session.announce(uncounted);
    loop {
        // A read that stopped short of the file's end (a batch of a long file, a long hole) is
        // no silence: --idle counts from when the watch has caught up. A watch slow to read (a
        // loaded machine, --idle 1s) stopped with the events after a hole still unread.
        if !batch.is_empty() || follower.has_more() {
            last_news = Instant::now();
        }
        let bad = follower.bad_lines();
        warn_bad_lines(&bad[bad_said..], (bad.len() - bad_said) as u64);
        bad_said = bad.len();
        let start = session.events_seen;
        let new: Vec<Numbered> = batch
            .into_iter()
            .enumerate()
            .map(|(i, event)| Numbered {
                number: start + i + 1,
                event,
            })
            .collect();
        for n in &new {
            session.observe(&n.event);
            if let Some(s) = &mut streamer {
                s.send(serde_json::to_string(&n.event).unwrap_or_default());
            }
        }
        for line in story.lines(new) {
            write_line(&mut out, &line, "", paint)?;
        }
        out.flush()?;
        session.read_transcript();
        for violation in session.watcher.check(system_time()) {
            session.act(&violation)?;
            if session.killed {
                break;
            }
        }
        // A cost rule that stays under its ceiling because a model is counted at $0 says
        // little: the watch says so once a model.
        for unjudged in session.watcher.unjudged() {
            if session.killed {
                break;
            }
            let rules: Vec<String> = unjudged.rules.iter().map(|r| format!("`{r}`")).collect();
            Session::say(&format!(
                "cost rule{} {} cannot be judged in full: model {} has no price (its usage counts as $0)",
                if rules.len() == 1 { "" } else { "s" },
                rules.join(", "),
                unjudged.model
            ));
        }
        // A context rule that never fires because a model's window is not known says
        // little: the watch says so once a model.
        for unmeasured in session.watcher.unmeasured() {
            if session.killed {
                break;
            }
            let rules: Vec<String> = unmeasured.rules.iter().map(|r| format!("`{r}`")).collect();
            Session::say(&format!(
                "context rule{} {} cannot judge model {}: its context window is not known, so its context_pct is unknown (give one with --context-window)",
                if rules.len() == 1 { "" } else { "s" },
                rules.join(", "),
                unmeasured.model
            ));
        }
        // As `cost` says it, once: later such responses are not told.
        if let Some(n) = session.watcher.unbelieved_news() {
            Session::say(&format!(
                "{} recorded usage no response can have ({}): {} tokens are unknown, and rules on cost and context count none of them",
                terminal::count(n, "LLM response"),
                terminal::UNBELIEVED_USAGE,
                if n == 1 { "its" } else { "their" }
            ));
        }
        if session.killed || session.ending.ended() {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            to_stderr(format_args!("watch: stopped; the agent goes on\n"));
            break;
        }
        if gone_at.is_none() && session.agent_gone() {
            gone_at = Some(Instant::now());
        }
        if let Some(gone) = gone_at
            && (gone.elapsed() >= LAST_WORDS_AT_MOST
                || last_news.max(gone).elapsed() >= LAST_WORDS_QUIET)
        {
            break;
        }
        // Only the agent's exit or the session's end tells a watch that nothing more will come;
        // with no process to look at (yet: a later event may record one), a session silent for
        // long is taken for over.
        if let Some(idle) =
            idle.or_else(|| session.process.is_none().then_some(IDLE_WITHOUT_PROCESS))
            && last_news.elapsed() >= idle
        {
            to_stderr(format_args!(
                "watch: no new event for {}{}; stopped (watch it again if the session goes on)\n",
                args.idle.as_deref().unwrap_or("10m"),
                if session.process.is_none() {
                    " and no agent process recorded to tell whether it runs"
                } else {
                    ""
                }
            ));
            break;
        }
        if !follower.has_more() {
            follower.wait(if gone_at.is_some() {
                LAST_WORDS_QUIET / 4
            } else {
                WAKE
            });
        }
        batch = follower.read_new()?;
        if let Some(why) = follower.take_refused() {
            Session::say(&format!(
                "something else was put in the session's events file's place ({why}): it is not followed, and the file already open is read on"
            ));
        }
        if let Some(cut) = follower.take_cut() {
            let how = if cut.replaced {
                "replaced by another file"
            } else {
                "cut in place"
            };
            Session::say(&format!(
                "the session's events file was {how} ({} bytes had been read; it holds {} now): it is read again from its start, and the events seen before are not counted again",
                cut.was, cut.now
            ));
        }
    }
    // Past the first few, the rest are counted.
    warn_bad_lines(&[], follower.bad_count() - bad_said as u64);
    session.paused.release();
    if let Some(s) = streamer {
        s.finish();
    }
    Ok(if session.broke {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// Whether `events` give a cost rule usage to count: a response with its tokens, or a
/// transcript to read them from (hooks never see responses; Claude Code's name its transcript).
fn counts_usage(events: &[Event], agent: Agent) -> bool {
    events.iter().any(|e| match View::of(e, agent) {
        View::LlmResponse(response) => response.usage.is_some(),
        View::SessionStart(start) => {
            start.source != Some("import") && start.transcript_path.is_some()
        }
        _ => false,
    })
}

/// The rules of this watch: the ceilings the flags set, then the rules file's.
fn rules(args: &WatchArgs, globals: &Globals) -> Result<Vec<Rule>> {
    let action = match args.on_violation.as_str() {
        "kill" => Action::Kill,
        "pause" => Action::Pause,
        _ => Action::Alert,
    };
    let mut rules = Vec::new();
    let ceiling = |metric: Metric, threshold: f64| Condition::Compare {
        metric,
        op: crate::analysis::watch::rules::Op::AtLeast,
        threshold,
    };
    if let Some(text) = &args.timeout {
        let seconds = parse_seconds(text).map_err(|e| usage(format!("--timeout: {e}")))?;
        rules.push(Rule::new(
            Some(format!("timeout {text}")),
            ceiling(Metric::DurationMinutes, seconds / 60.0),
            action,
        ));
    }
    if let Some(budget) = args.budget {
        // As `lint`'s budget-proximity setting takes one: a budget under a millionth of a
        // dollar (5e-324), which any spend at all breaks, was taken and recorded for `lint`.
        if !(budget.is_finite() && budget >= LEAST_BUDGET_USD) {
            return Err(usage(format!(
                "--budget must be dollars, {} or more, not {}",
                terminal::dollars_given(LEAST_BUDGET_USD),
                text::real(budget)
            )));
        }
        rules.push(Rule::new(
            Some(format!("budget {}", terminal::dollars_given(budget))),
            ceiling(Metric::CostUsd, budget),
            action,
        ));
    }
    if let Some(pct) = args.max_context_pct {
        if !(pct.is_finite() && pct > 0.0 && pct <= 100.0) {
            return Err(usage(format!(
                "--max-context-pct must be greater than 0 and at most 100, not {}",
                text::real(pct)
            )));
        }
        rules.push(Rule::new(
            Some(format!("context {}%", text::real(pct))),
            ceiling(Metric::ContextPct, pct),
            action,
        ));
    }
    if let Some(path) = &args.rules {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let shown = path.display().to_string();
        let full = cwd.join(path);
        if full.symlink_metadata().is_err() {
            return Err(usage(format!("{shown}: no such rules file")));
        }
        let text = super::settings::read_named(&shown, &full).map_err(|e| e.as_error())?;
        let file_rules =
            super::settings::parse_watch_rules(&shown, &text).map_err(|e| e.as_error())?;
        rules.extend(file_rules);
    }
    let _ = globals;
    Ok(rules)
}

/// Records the lowest cost ceiling this watch holds the session to (`--budget`, a rules file's
/// `cost_usd` rule), for `lint`'s budget-proximity rule. A dry run holds it to nothing.
fn record_budget(store: &Store, id: &str, rules: &[Rule], dry_run: bool) {
    use crate::analysis::watch::rules::Op;
    let ceiling = rules
        .iter()
        .filter_map(|rule| match rule.condition {
            Condition::Compare {
                metric: Metric::CostUsd,
                op: Op::AtLeast | Op::Above,
                threshold,
            } if threshold > 0.0 => Some(threshold),
            _ => None,
        })
        .reduce(f64::min);
    let Some(budget) = ceiling.filter(|_| !dry_run) else {
        return;
    };
    if let Err(e) = store.write_watch_budget(id, budget, system_time()) {
        to_stderr(format_args!(
            "watch: the budget ceiling was not recorded for lint ({e})\n"
        ));
    }
}

/// `watch --resume`: continues the session's agent.
fn resume(store: &Store, id: &str) -> Result<u8> {
    let events: Vec<Event> = store.events(id)?.collect();
    let parent = store
        .read_meta_to_read(id)
        .ok()
        .and_then(|m| m.parent_session_id);
    let agent = events
        .iter()
        .rev()
        .find_map(recorded_process)
        .or_else(|| ancestor_process(store, parent.as_deref()))
        .and_then(|p| signallable(store.events_owner(id), id, p))
        .ok_or_else(|| {
        Error::usage(format!(
            "session {id} recorded no agent process to continue (its hooks predate agent-strace watch, or it was imported)"
        ))
    })?;
    match agent.liveness() {
        Liveness::Gone => Err(Error::usage(format!(
            "the agent of session {id} (pid {}) has exited",
            agent.pid
        ))
        .into()),
        Liveness::Running => {
            to_stderr(format_args!(
                "watch: the agent of session {id} (pid {}) is not paused\n",
                agent.pid
            ));
            Ok(exit::OK)
        }
        Liveness::Stopped => {
            act::resume(&agent).with_context(|| format!("cannot continue pid {}", agent.pid))?;
            to_stderr(format_args!(
                "watch: continued the agent of session {id} (pid {}, SIGCONT)\n",
                agent.pid
            ));
            Ok(exit::OK)
        }
    }
}

/// The agent process an event recorded (a hook's `session_start`, `record`'s server start).
fn recorded_process(event: &Event) -> Option<AgentProcess> {
    let (pid, started) = crate::model::view::agent_process(event)?;
    Some(AgentProcess { pid, started })
}

/// `process`, if it runs as the user who recorded the session (who owns its events file) and
/// is none that is never signalled (init, this watch, its ancestors): whoever can write a
/// session's events could otherwise name any process this watch may signal, another user's
/// when the watch runs as root, or the shell the watch runs in. Says so when it is not.
fn signallable(recorder: Option<u32>, id: &str, process: AgentProcess) -> Option<AgentProcess> {
    match refusal(recorder, id, process) {
        Ok(process) => Some(process),
        Err(why) => {
            to_stderr(format_args!("{why}\n"));
            None
        }
    }
}

/// `process`, or why it is never signalled (see [`signallable`]), in a line.
fn refusal(recorder: Option<u32>, id: &str, process: AgentProcess) -> Result<AgentProcess, String> {
    if let Some(why) = process.never_signalled() {
        return Err(format!(
            "watch: the agent process session {id} recorded (pid {}) is {why}: it will not be signalled",
            process.pid
        ));
    }
    match process.owner() {
        // Gone: nothing will be signalled, and the signal's own check says so.
        None => Ok(process),
        Some(owner) if Some(owner) == recorder => Ok(process),
        Some(owner) => Err(format!(
            "watch: the agent process session {id} recorded (pid {}) runs as user {owner}, not as the user who recorded the session ({}): it will not be signalled",
            process.pid,
            recorder.map_or_else(|| "unknown".to_owned(), |u| u.to_string())
        )),
    }
}

/// The process of a subagent's session, which records none of its own (a subagent runs inside
/// its parent's agent process): the last one its parent recorded, or the parent's parent's.
fn ancestor_process(store: &Store, parent: Option<&str>) -> Option<AgentProcess> {
    let mut parent = parent.map(str::to_owned);
    // Bounded: a store someone edited may link sessions in a circle.
    for _ in 0..16 {
        let id = parent?;
        let events: Vec<Event> = store.events(&id).ok()?.collect();
        if let Some(process) = events.iter().rev().find_map(recorded_process) {
            return Some(process);
        }
        parent = store.read_meta_to_read(&id).ok()?.parent_session_id;
    }
    None
}

/// An agent this watch paused: continued when the watch ends, however it ends. A panic or a
/// signal is handled here; for a watch killed outright (SIGKILL, the OOM killer), a guard
/// process, started before the first pause, continues the agent when the watch's end of its
/// pipe closes.
struct Paused {
    agent: Option<AgentProcess>,
    guard: Option<std::process::Child>,
}

impl Paused {
    /// Makes sure a guard is running before `agent` is stopped.
    fn arm(&mut self, agent: &AgentProcess) {
        if self.guard.is_none() {
            self.guard = act::start_guard(agent)
                .map_err(|e| {
                    to_stderr(format_args!(
                        "watch: no guard for the paused agent ({e}): if this watch is killed, run `kill -CONT {}`\n",
                        agent.pid
                    ));
                })
                .ok();
        }
    }

    fn set(&mut self, agent: AgentProcess) {
        self.agent = Some(agent);
    }

    fn release(&mut self) {
        if let Some(agent) = self.agent.take()
            && agent.liveness() == Liveness::Stopped
        {
            match act::resume(&agent) {
                Ok(()) => to_stderr(format_args!(
                    "watch: continued the agent (pid {}) it had paused\n",
                    agent.pid
                )),
                Err(e) => to_stderr(format_args!(
                    "watch: could not continue the agent (pid {}): {e}; run `kill -CONT {}`\n",
                    agent.pid, agent.pid
                )),
            }
        }
        if let Some(mut guard) = self.guard.take() {
            // This watch ran its own ending, so the guard has nothing to do: ended here, not
            // left to wait for a stop that will not come.
            let _ = guard.kill();
            let _ = guard.wait();
        }
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.release();
    }
}

/// What the watch knows of the session it follows.
struct Session<'a> {
    store: &'a Store,
    id: &'a str,
    /// The user who owned the session's events file when the watch found it (see
    /// [`Session::recorder`]).
    recorder: Option<u32>,
    agent: Agent,
    args: &'a WatchArgs,
    watcher: Watcher,
    /// What the post-mortem tells of the events so far (not the events: a watch of a long
    /// session held every one of them).
    acts: LastActs,
    events_seen: usize,
    process: Option<AgentProcess>,
    /// The processes the session named that the watch said it will not signal.
    refused: HashSet<AgentProcess>,
    transcript: Option<PathBuf>,
    /// The lengths of the transcript and of its subagents' when they were last read.
    transcript_seen: Option<TranscriptSizes>,
    transcript_read: Option<Instant>,
    /// Whether the watch said the transcript cannot be read.
    transcript_unread_said: bool,
    paused: Paused,
    broke: bool,
    killed: bool,
    /// Whether the events seen so far end the session: its latest is its end.
    ending: Ending,
}

impl Session<'_> {
    /// Who recorded the session: the owner of its events file when the watch first found one,
    /// kept from then on (a file replaced or removed later changes no verdict). Asked again
    /// while there was none: a watch started before the session's first event found none.
    /// [`signallable`], saying why a process is not once a process: the session's start is
    /// read before the watch begins and again as its first event, and the warning came twice.
    fn signallable(&mut self, process: AgentProcess) -> Option<AgentProcess> {
        match refusal(self.recorder(), self.id, process) {
            Ok(process) => Some(process),
            Err(why) => {
                if self.refused.insert(process) {
                    to_stderr(format_args!("{why}\n"));
                }
                None
            }
        }
    }

    fn recorder(&mut self) -> Option<u32> {
        if self.recorder.is_none() {
            self.recorder = self.store.events_owner(self.id);
        }
        self.recorder
    }

    /// The header line on stderr: the session, its process and the rules; and, when a cost
    /// rule has no usage to count (`uncounted`), that it sees $0.
    fn announce(&self, uncounted: bool) {
        let process = self.process.map_or_else(
            || "no agent process recorded: rules can only alert".to_owned(),
            |p| format!("agent pid {}", p.pid),
        );
        let rules: Vec<String> = self
            .watcher
            .rules()
            .iter()
            .map(|r| format!("{} → {}", r.name, r.action.as_str()))
            .collect();
        let dry = if self.args.dry_run { " [dry run]" } else { "" };
        to_stderr(format_args!(
            "{}",
            escape(&format!(
                "watch: session {} ({process}){dry}; rules: {}\n",
                self.id,
                if rules.is_empty() {
                    "none".to_owned()
                } else {
                    rules.join("; ")
                }
            ))
        ));
        let cost_rule = self.watcher.rules().iter().any(|r| {
            matches!(
                r.condition,
                Condition::Compare {
                    metric: Metric::CostUsd,
                    ..
                }
            )
        });
        if cost_rule && uncounted {
            Self::say(
                "the session records no token usage so far and names no transcript to read it from: cost rules see $0, not the estimate from payload sizes that `list` and `cost` show",
            );
        }
    }

    fn observe(&mut self, event: &Event) {
        if let Some(process) = recorded_process(event) {
            self.process = self.signallable(process);
        }
        if let View::SessionStart(start) = View::of(event, self.agent)
            && start.source != Some("import")
            && let Some(path) = start.transcript_path
        {
            self.transcript = Some(PathBuf::from(path));
        }
        // Ended only while its end is the latest event: an agent may resume a session under the
        // same id after its end (Claude Code's `--resume`), and a watch of it went no further
        // than the end it had seen; events recorded late, after the end in the file but
        // earlier (a proxy's kept batch), kept a watch of an ended session going for ever.
        self.ending.observe(event, system_time());
        self.watcher.observe(event);
        self.acts.observe(event, self.agent);
        self.events_seen += 1;
    }

    /// Reads the transcript's usage again when it or a subagent's transcript grew, at most
    /// every [`TRANSCRIPT_EVERY`]: a subagent at work writes only its own, and its spend went
    /// unseen (a budget unbroken) until the main transcript was next written.
    fn read_transcript(&mut self) {
        let Some(path) = self.transcript.clone() else {
            return;
        };
        let path = path.as_path();
        if self
            .transcript_read
            .is_some_and(|at| at.elapsed() < TRANSCRIPT_EVERY)
        {
            return;
        }
        let sizes = match transcript_sizes(path) {
            Ok(sizes) => sizes,
            Err(e) => {
                self.transcript_unread(path, &e);
                return;
            }
        };
        if self.transcript_seen.as_ref() == Some(&sizes) {
            return;
        }
        self.transcript_read = Some(Instant::now());
        self.transcript_seen = Some(sizes);
        match transcript_usage(path) {
            Ok(logged) => {
                self.watcher.transcript_usage(
                    (logged.responses.iter()).map(|r| (r.model.as_str(), r.usage, !r.subagent)),
                );
                self.watcher.transcript_unbelieved(logged.unbelieved);
            }
            Err(e) => self.transcript_unread(path, &e),
        }
    }

    /// Says once that the transcript the session names cannot be read: its cost rules then
    /// count no usage from it (they saw $0 and said nothing).
    fn transcript_unread(&mut self, path: &Path, e: &std::io::Error) {
        if std::mem::replace(&mut self.transcript_unread_said, true) {
            return;
        }
        Self::say(&format!(
            "the session's transcript {} cannot be read ({e}): rules on cost and context count no usage from it",
            path.display()
        ));
    }

    /// Whether the agent has exited without ending its session (a crash): nothing more will
    /// come but what its hooks still write.
    fn agent_gone(&self) -> bool {
        let Some(process) = self.process else {
            return false;
        };
        if process.liveness() == Liveness::Gone {
            to_stderr(format_args!(
                "watch: the agent (pid {}) has exited; what its hooks still write is read, then the watch stops\n",
                process.pid
            ));
            return true;
        }
        false
    }

    fn say(text: &str) {
        to_stderr(format_args!("{}\n", escape(&format!("watch: {text}"))));
    }

    fn act(&mut self, v: &Violation) -> Result<()> {
        self.broke = true;
        let what = format!("rule `{}` broke: {}", v.rule, v.reason);
        // Looked at again before a signal: the process may have become another user's since
        // the session named it (a set-user-id program run in its place, under the same pid and
        // start), and only a process of the user who recorded the session is signalled.
        if v.action != Action::Alert {
            self.process = self.process.and_then(|p| self.signallable(p));
        }
        let process = self.process;
        match (v.action, process) {
            (Action::Alert, _) => Self::say(&format!("ALERT {what}")),
            (_, None) => Self::say(&format!(
                "ALERT {what}; no agent process is recorded for this session, so it cannot be {}",
                if v.action == Action::Kill {
                    "killed"
                } else {
                    "paused"
                }
            )),
            (Action::Pause, Some(p)) if self.args.dry_run => Self::say(&format!(
                "{what}; would pause the agent (pid {}, SIGSTOP) [dry run]",
                p.pid
            )),
            (Action::Kill, Some(p)) if self.args.dry_run => Self::say(&format!(
                "{what}; would kill the agent (pid {}, SIGTERM then SIGKILL after 5 s) and write {} [dry run]",
                p.pid,
                crate::store::POSTMORTEM
            )),
            // Paused by someone else already: this watch did not stop it, and does not
            // continue it when it ends.
            (Action::Pause, Some(p)) if p.liveness() == Liveness::Stopped => Self::say(&format!(
                "PAUSE {what}; the agent (pid {}) is paused already, by another: it is left so",
                p.pid
            )),
            (Action::Pause, Some(p)) => {
                // The guard first: a watch killed between the SIGSTOP and the guard's start
                // left the agent stopped with no one to continue it.
                self.paused.arm(&p);
                match act::pause(&p) {
                    Ok(()) => {
                        self.paused.set(p);
                        Self::say(&format!(
                            "PAUSE {what}; paused the agent (pid {}, SIGSTOP): `agent-strace watch {} --resume` continues it",
                            p.pid, self.id
                        ));
                    }
                    Err(e) => {
                        Self::say(&format!("ALERT {what}; could not pause pid {}: {e}", p.pid));
                    }
                }
            }
            (Action::Kill, Some(p)) => self.kill(v, &what, p)?,
        }
        Ok(())
    }

    fn kill(&mut self, v: &Violation, what: &str, p: AgentProcess) -> Result<()> {
        Self::say(&format!(
            "KILL {what}; stopping the agent (pid {}, SIGTERM)",
            p.pid
        ));
        let figures = self.watcher.figures().clone();
        let unpriced: Vec<String> = self
            .watcher
            .unpriced_models()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let signal = match act::kill(&p) {
            Ok(signal) => signal,
            Err(e) => {
                Self::say(&format!("could not kill pid {}: {e}", p.pid));
                return Ok(());
            }
        };
        self.paused.agent = None;
        self.killed = true;
        let death = Death {
            violation: v,
            figures: &figures,
            unpriced: &unpriced,
            at: system_time(),
            signal,
            pid: p.pid,
        };
        let report = PostMortem::of_acts(self.id, &self.acts, self.agent, &death);
        let json = serde_json::to_string_pretty(&report)?;
        // The agent is dead whatever the store takes: that is said, and --on-death runs.
        let path = match self.store.write_postmortem(self.id, json.as_bytes()) {
            Ok(path) => {
                Self::say(&format!(
                    "the agent (pid {}) ended by {signal}; post-mortem in {}",
                    p.pid,
                    path.display()
                ));
                path
            }
            Err(e) => {
                Self::say(&format!(
                    "the agent (pid {}) ended by {signal}; the post-mortem could not be written ({e})",
                    p.pid
                ));
                self.store.postmortem_path(self.id)
            }
        };
        if let Some(command) = &self.args.on_death {
            let argv = act::on_death_argv(command, &path).map_err(usage)?;
            match std::process::Command::new(&argv[0])
                .args(&argv[1..])
                .status()
            {
                Ok(status) if status.success() => {}
                Ok(status) => Self::say(&format!("--on-death command ended with {status}")),
                Err(e) => Self::say(&format!("--on-death command could not run: {e}")),
            }
        }
        Ok(())
    }
}
