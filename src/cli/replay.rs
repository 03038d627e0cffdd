//! `replay`: the story of a session, event by event, as it happened.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::SessionArg;
use super::output::{stdout, usage, warn_bad_lines};
use crate::analysis::replay_line::replay_line;
use crate::analysis::tree::{Forest, TreeNode};
use crate::exit;
use crate::model::{Agent, Event, EventType, SessionMeta};
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Replay a session: prompts, tool calls, results, errors and answers, with their timing
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace replay                       # the latest session\n  agent-strace replay 3f2a --filter tool_call,error\n  agent-strace replay --live --speed 4      # play it back with its real pauses, 4x faster\n  agent-strace replay --tree                # the session and its subagents\n  agent-strace replay --expand-subagents    # subagent events under the call that spawned them"
)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Show only these event types (comma-separated, e.g. tool_call,error)
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    filter: Vec<String>,
    /// Show at most N events
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Play back in real time, pausing as long as the session did between events
    #[arg(long)]
    live: bool,
    /// With --live, how many times faster than real time
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "live")]
    speed: f64,
    /// Show the session hierarchy (the session and its subagents) instead of events
    #[arg(long, conflicts_with_all = ["expand_subagents", "live"])]
    tree: bool,
    /// Show each subagent's events under the tool call that spawned it, indented
    #[arg(long)]
    expand_subagents: bool,
}

pub(crate) fn run(args: &ReplayArgs, globals: &Globals) -> Result<u8> {
    let filter = parse_filter(&args.filter)?;
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(usage(format!(
            "--speed must be a positive number, not {}",
            args.speed
        )));
    }
    let store = Store::new(globals.store_root());
    let id = store.select(&args.session.selector())?;
    let paint = Painter::new(globals.colour());
    let mut out = stdout(globals.colour());
    // The session hierarchy is needed only to show it or to expand subagents.
    let forest = if args.tree || args.expand_subagents {
        let (sessions, _) = super::listing::list(&store)?;
        Some(Forest::new(sessions.into_iter().map(|s| s.meta)))
    } else {
        None
    };
    if args.tree {
        if let Some(tree) = forest.as_ref().and_then(|f| f.tree(&id)) {
            write_tree(&mut out, &tree, "", paint)?;
        }
    } else {
        let mut replayer = Replayer {
            store: &store,
            args,
            filter,
            paint,
            shown: 0,
            forest: forest.as_ref(),
        };
        replayer.header(&mut out, &id)?;
        replayer.session(&mut out, &id, 0)?;
    }
    out.flush()?;
    Ok(exit::OK)
}

fn parse_filter(names: &[String]) -> Result<Option<HashSet<EventType>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut kinds = HashSet::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let kind = EventType::parse(name);
        if matches!(kind, EventType::Other(_)) {
            let known: Vec<&str> = EventType::KNOWN.iter().map(EventType::as_str).collect();
            return Err(usage(format!(
                "unknown event type `{name}` in --filter (known: {})",
                known.join(", ")
            )));
        }
        kinds.insert(kind);
    }
    Ok(Some(kinds))
}

struct Replayer<'a> {
    store: &'a Store,
    args: &'a ReplayArgs,
    filter: Option<HashSet<EventType>>,
    paint: Painter,
    shown: usize,
    forest: Option<&'a Forest>,
}

impl Replayer<'_> {
    fn header(&self, out: &mut impl Write, id: &str) -> Result<()> {
        let meta = super::output::summary(self.store, id)?.meta;
        let rule = "─".repeat(50);
        writeln!(out, "{}", self.paint.bold("Session Summary"))?;
        writeln!(out, "{rule}")?;
        writeln!(out, "Session: {}", self.paint.cyan(&meta.session_id))?;
        if !meta.command.is_empty() {
            writeln!(out, "Command: {}", meta.command)?;
        }
        if !meta.agent_name.is_empty() {
            writeln!(out, "Agent: {}", meta.agent_name)?;
        }
        if let Some(parent) = &meta.parent_session_id {
            writeln!(out, "Parent: {parent}")?;
        }
        let duration = meta
            .duration_secs()
            .map_or_else(|| "running".to_owned(), |d| format!("{d:.2}s"));
        writeln!(out, "Duration: {duration}")?;
        writeln!(out, "Tool calls: {}", meta.tool_calls)?;
        let errors = format!("Errors: {}", meta.errors);
        writeln!(
            out,
            "{}",
            if meta.errors > 0 {
                self.paint.red(&errors)
            } else {
                errors
            }
        )?;
        writeln!(out, "{rule}")?;
        Ok(())
    }

    /// Replays one session; `depth` > 0 for subagents shown inside their parent.
    fn session(&mut self, out: &mut impl Write, id: &str, depth: usize) -> Result<()> {
        let meta = self.store.read_meta(id).ok();
        let start = meta.as_ref().map(|m| m.started_at);
        let agent = meta.map_or(Agent::Unknown, |m| Agent::from_name(&m.agent_name));
        let mut events = self.store.events(id)?;
        let mut origin: Option<f64> = start.filter(|s| *s > 0.0);
        let mut previous: Option<f64> = None;
        let indent = "│ ".repeat(depth);
        let mut number = 0usize;
        for event in events.by_ref() {
            number += 1;
            if self.args.limit.is_some_and(|limit| self.shown >= limit) {
                break;
            }
            let origin = *origin.get_or_insert(event.timestamp);
            if self
                .filter
                .as_ref()
                .is_none_or(|f| f.contains(&event.event_type))
            {
                if self.args.live {
                    if let Some(prev) = previous {
                        pause(event.timestamp - prev, self.args.speed, out)?;
                    }
                    previous = Some(event.timestamp);
                }
                self.shown += 1;
                let line = replay_line(&event, agent, number, origin);
                crate::render::replay::write_line(out, &line, &indent, self.paint)?;
            }
            if event.event_type == EventType::ToolCall {
                self.expand_children(out, id, &event, depth)?;
            }
        }
        warn_bad_lines(events.bad_lines(), events.bad_count());
        Ok(())
    }

    fn expand_children(
        &mut self,
        out: &mut impl Write,
        id: &str,
        call: &Event,
        depth: usize,
    ) -> Result<()> {
        let Some(forest) = self.forest else {
            return Ok(());
        };
        let children: Vec<String> = forest
            .children(id)
            .iter()
            .filter(|child| {
                forest
                    .meta(child)
                    .and_then(|m| m.parent_event_id.as_deref())
                    == Some(call.event_id.as_str())
            })
            .cloned()
            .collect();
        for child in children {
            let indent = "│ ".repeat(depth + 1);
            if let Some(meta) = forest.meta(&child) {
                writeln!(
                    out,
                    "{indent}{}",
                    self.paint.dim(&subagent_line(meta, depth + 1))
                )?;
            }
            self.session(out, &child, depth + 1)?;
        }
        Ok(())
    }
}

fn subagent_line(meta: &SessionMeta, depth: usize) -> String {
    format!(
        "▶ subagent {} agent={} depth={depth} {}",
        meta.session_id, meta.agent_name, meta.command
    )
}

fn pause(gap: f64, speed: f64, out: &mut impl Write) -> Result<()> {
    // Show what came before the pause before waiting.
    out.flush()?;
    if let Ok(wait) = Duration::try_from_secs_f64((gap / speed).max(0.0)) {
        std::thread::sleep(wait);
    }
    Ok(())
}

fn write_tree(
    out: &mut impl Write,
    node: &TreeNode,
    prefix: &str,
    paint: Painter,
) -> std::io::Result<()> {
    let duration = node
        .duration_s
        .map_or_else(|| "running".to_owned(), terminal::duration_secs);
    writeln!(
        out,
        "{prefix}▶ {} agent={} depth={} {duration}, {} tool calls, {} errors{}",
        paint.cyan(&node.session_id),
        node.agent_name,
        node.depth,
        node.tool_calls,
        node.errors,
        if node.command.is_empty() {
            String::new()
        } else {
            format!("  {}", paint.dim(&node.command))
        },
    )?;
    let child_prefix = format!("{prefix}  ");
    for child in &node.children {
        write_tree(out, child, &child_prefix, paint)?;
    }
    Ok(())
}
