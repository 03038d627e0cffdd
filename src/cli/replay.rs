//! `replay`: the story of a session, event by event, as it happened.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::Globals;
use super::output::{UsageError, stdout, warn_bad_lines};
use crate::analysis::describe::{call_argument, result_gist};
use crate::analysis::tree::{Forest, TreeNode};
use crate::exit;
use crate::model::{Event, EventType, SessionMeta};
use crate::render::terminal::{self, Painter};
use crate::store::{Selector, Store};

/// Replay a session: prompts, tool calls, results, errors and answers, with their timing
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace replay                       # the latest session\n  agent-strace replay 3f2a --filter tool_call,error\n  agent-strace replay --live --speed 4      # play it back with its real pauses, 4x faster\n  agent-strace replay --tree                # the session and its subagents\n  agent-strace replay --expand-subagents    # subagent events under the call that spawned them"
)]
pub(crate) struct ReplayArgs {
    /// Session id or unique prefix [default: the latest session]
    session: Option<String>,
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

/// How much of a prompt, answer or result one line shows.
const TEXT_CHARS: usize = 100;
/// Tools whose telling argument is a path, whose end says more than its start.
const PATH_TOOLS: [&str; 7] = [
    "Read",
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "NotebookRead",
    "LS",
];

pub(crate) fn run(args: &ReplayArgs, globals: &Globals) -> Result<u8> {
    let filter = parse_filter(&args.filter)?;
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(UsageError(format!(
            "--speed must be a positive number, not {}",
            args.speed
        ))
        .into());
    }
    let store = Store::new(globals.store_root());
    let id = store.select(&Selector::from_option(args.session.as_deref()))?;
    let paint = Painter::new(globals.colour());
    let mut out = stdout();
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
            return Err(UsageError(format!(
                "unknown event type `{name}` in --filter (known: {})",
                known.join(", ")
            ))
            .into());
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
        let meta = self.store.summary(id)?.meta;
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
        let start = self.store.read_meta(id).map(|m| m.started_at).ok();
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
                self.event(out, &event, number, event.timestamp - origin, &indent)?;
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

    fn event(
        &self,
        out: &mut impl Write,
        event: &Event,
        number: usize,
        offset: f64,
        indent: &str,
    ) -> Result<()> {
        let p = self.paint;
        let number = p.dim(&format!("#{number:<4}"));
        let at = p.dim(&terminal::offset(offset));
        let tool = event.data_str("tool_name").unwrap_or("");
        let (icon, label, detail): (&str, String, Option<String>) = match &event.event_type {
            EventType::SessionStart => (
                "▶",
                p.green("session_start"),
                event.data_str("source").map(|s| p.dim(s)),
            ),
            EventType::SessionEnd => (
                "■",
                p.green("session_end"),
                event.data_str("reason").map(|s| p.dim(s)),
            ),
            EventType::UserPrompt => (
                "👤",
                p.bold("user_prompt"),
                quoted(event.data.get("prompt")),
            ),
            EventType::AssistantResponse => (
                "🤖",
                p.bold("assistant_response"),
                quoted(event.data.get("text")),
            ),
            EventType::ToolCall => {
                let argument = event
                    .data
                    .get("arguments")
                    .and_then(|a| call_argument(tool, a))
                    .map(|a| {
                        if PATH_TOOLS.contains(&tool) {
                            terminal::path_tail(&a, TEXT_CHARS)
                        } else {
                            terminal::one_line(&a, TEXT_CHARS)
                        }
                    });
                (
                    "→",
                    format!("{} {}", p.blue("tool_call"), p.bold(tool)),
                    argument,
                )
            }
            EventType::ToolResult => {
                let took = event
                    .duration_ms
                    .map(|ms| format!(" ({})", terminal::duration_ms(ms)))
                    .unwrap_or_default();
                let gist = event
                    .data
                    .get("tool_response")
                    .or_else(|| event.data.get("result"))
                    .and_then(result_gist)
                    .map(|g| p.dim(&terminal::one_line(&g, TEXT_CHARS)));
                ("←", format!("{} {tool}{took}", p.blue("tool_result")), gist)
            }
            EventType::Error => {
                let message = event
                    .data
                    .get("error")
                    .or_else(|| event.data.get("message"))
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                    .map(|e| p.red(&terminal::one_line(&e, TEXT_CHARS)));
                ("✗", p.red(format!("error {tool}").trim_end()), message)
            }
            EventType::FileRead => (
                "📖",
                p.cyan("file_read"),
                event
                    .data_str("path")
                    .map(|path| terminal::path_tail(path, TEXT_CHARS)),
            ),
            EventType::FileWrite => (
                "✏️",
                p.yellow("file_write"),
                event
                    .data_str("path")
                    .map(|path| terminal::path_tail(path, TEXT_CHARS)),
            ),
            EventType::LlmRequest => (
                "⇢",
                p.magenta("llm_request"),
                event.data_str("model").map(str::to_owned),
            ),
            EventType::LlmResponse => {
                let took = event
                    .duration_ms
                    .filter(|ms| *ms > 0.0)
                    .map(|ms| format!(" ({})", terminal::duration_ms(ms)))
                    .unwrap_or_default();
                (
                    "⇠",
                    format!("{}{took}", p.magenta("llm_response")),
                    usage_line(event),
                )
            }
            EventType::Decision => {
                let http = event
                    .data_str("http_method")
                    .map(|m| format!("{m} {}", event.data_str("path").unwrap_or_default()));
                let name = event
                    .data_str("hook_event_name")
                    .or_else(|| event.data_str("method"))
                    .or_else(|| event.data_str("choice"))
                    .or(http.as_deref())
                    .unwrap_or("decision");
                // An MCP answer: which request it answers, and how long that took.
                let answered = if event.data.get("response") == Some(&Value::Bool(true)) {
                    match event.duration_ms {
                        Some(ms) => format!(" answered ({})", terminal::duration_ms(ms)),
                        None => " answered".to_owned(),
                    }
                } else {
                    String::new()
                };
                let detail = event
                    .data_str("message")
                    .or_else(|| event.data_str("reason"))
                    .or_else(|| event.data_str("trigger"))
                    .or_else(|| event.data_str("tool_name"))
                    .map(|d| terminal::one_line(d, TEXT_CHARS));
                (
                    "◆",
                    format!("{} {name}{answered}", p.magenta("decision")),
                    detail,
                )
            }
            EventType::SubagentStart | EventType::SubagentStop => {
                let child = event
                    .data_str("child_session_id")
                    .or_else(|| event.data_str("agent_type"))
                    .map(str::to_owned);
                ("⑂", p.magenta(event.event_type.as_str()), child)
            }
            EventType::Other(name) => ("·", name.clone(), None),
        };
        writeln!(out, "{indent}{number} {at} {icon} {label}")?;
        if let Some(detail) = detail.filter(|d| !d.is_empty()) {
            writeln!(out, "{indent}{:13}{detail}", "")?;
        }
        Ok(())
    }
}

/// `model · in 3 · out 27 · cache write 17696 · cache read 88231`
fn usage_line(event: &Event) -> Option<String> {
    let usage = event.data.get("usage");
    let n = |key: &str| usage.and_then(|u| u.get(key)).and_then(Value::as_u64);
    let mut parts: Vec<String> = event
        .data_str("model")
        .map(str::to_owned)
        .into_iter()
        .collect();
    for (label, key) in [
        ("in", "input_tokens"),
        ("out", "output_tokens"),
        ("cache write", "cache_creation_input_tokens"),
        ("cache read", "cache_read_input_tokens"),
    ] {
        if let Some(value) = n(key) {
            parts.push(format!("{label} {value}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn quoted(text: Option<&Value>) -> Option<String> {
    let text = text?.as_str()?;
    let text = terminal::one_line(&terminal::strip_markdown(text), TEXT_CHARS);
    (!text.is_empty()).then(|| format!("\"{text}\""))
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
