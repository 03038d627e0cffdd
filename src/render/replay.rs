//! A replay line on a terminal: icon, number, offset and colour for the data that
//! [`crate::analysis::replay_line`] computed.

use std::io::{self, Write};

use super::terminal::{self, Painter};
use crate::analysis::replay_line::{BY_THE_USER, DetailKind, LineKind, ReplayHeader, ReplayLine};
use crate::analysis::replay_show::{Body, DiffTag, EventDetail};

/// How much of a prompt, answer or result one line shows.
pub const TEXT_CHARS: usize = 100;
/// How much of a tool's name one line shows (MCP tools can have long names).
const TOOL_CHARS: usize = 60;

/// Writes the header: which session, what it is about, when, how long, where, by which agent
/// and models, and what it cost.
pub fn write_header(out: &mut impl Write, h: &ReplayHeader, p: Painter) -> io::Result<()> {
    let rule = "─".repeat(50);
    writeln!(out, "{}", p.bold("Session Summary"))?;
    writeln!(out, "{rule}")?;
    writeln!(out, "Session: {}", p.cyan(&h.session_id))?;
    if let Some(title) = &h.title {
        writeln!(
            out,
            "Title: {}",
            p.bold(&terminal::one_line(title, TEXT_CHARS))
        )?;
    }
    writeln!(
        out,
        "Started: {}",
        terminal::believed(h.started_at, terminal::local_time)
    )?;
    let duration = terminal::believed(h.duration_s, |d| {
        d.map_or_else(|| "running".to_owned(), terminal::duration_secs)
    });
    writeln!(out, "Duration: {duration}")?;
    if let Some(cwd) = &h.cwd {
        let branch = h
            .git_branch
            .as_deref()
            .map(|b| format!(" (branch {})", terminal::one_line(b, TOOL_CHARS)))
            .unwrap_or_default();
        writeln!(
            out,
            "Where: {}{branch}",
            terminal::path_tail(cwd, TEXT_CHARS)
        )?;
    } else if let Some(branch) = &h.git_branch {
        writeln!(out, "Branch: {}", terminal::one_line(branch, TOOL_CHARS))?;
    }
    if !h.agent.is_empty() {
        let version = h
            .agent_version
            .as_deref()
            .map(|v| format!(" {}", terminal::one_line(v, TOOL_CHARS)))
            .unwrap_or_default();
        // Agent and command as recorded: the writer escapes what a terminal would act on, and
        // the escape stays readable.
        writeln!(out, "Agent: {}{version}", h.agent)?;
    }
    if !h.command.is_empty() {
        writeln!(out, "Command: {}", h.command)?;
    }
    if let Some(parent) = &h.parent_session_id {
        writeln!(out, "Parent: {parent}")?;
    }
    if !h.models.is_empty() {
        let models: Vec<String> = h
            .models
            .iter()
            .map(|m| terminal::one_line(m, TOOL_CHARS))
            .collect();
        writeln!(out, "Models: {}", models.join(", "))?;
    }
    if let Some(usd) = h.cost_usd {
        // One parenthesis for both notes: `(estimated from payload sizes, its subagent included)`.
        let mut notes = Vec::new();
        // A session that recorded usage with a subagent that did not was said to be
        // estimated, all of it.
        if h.cost_partly_estimated {
            notes.push("partly estimated from payload sizes".to_owned());
        } else if h.cost_estimated {
            notes.push("estimated from payload sizes".to_owned());
        }
        if !h.cost_unpriced_models.is_empty() {
            notes.push(format!(
                "{} counted at $0: no known price",
                h.cost_unpriced_models.join(", ")
            ));
        }
        // Left out, as `cost` leaves them out (and says so).
        if h.cost_unbelieved_usage > 0 {
            notes.push(format!(
                "{} of unknown usage left out",
                terminal::count(h.cost_unbelieved_usage, "response")
            ));
        }
        match h.subagents {
            0 => {}
            1 => notes.push("its subagent included".to_owned()),
            n => notes.push(format!("its {n} subagents included")),
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        writeln!(
            out,
            "Cost: {}{notes}",
            terminal::dollars_marked(usd, !h.cost_unpriced_models.is_empty())
        )?;
    }
    writeln!(
        out,
        "Tool calls: {}",
        terminal::believed(h.tool_calls, terminal::thousands)
    )?;
    // The turn's errors (an API error that ended it) are no tool's: said apart, as explain does.
    let apart = match (h.errors.known(), h.tool_errors.known()) {
        (Some(all), Some(tools)) if tools < all => {
            format!(
                " ({} of tools, {} of the turn)",
                terminal::thousands(tools),
                terminal::thousands(all - tools)
            )
        }
        _ => String::new(),
    };
    let errors = format!(
        "Errors: {}{apart}",
        terminal::believed(h.errors, terminal::thousands)
    );
    // `stats`'s words for the same figures, rejections named only when there are some.
    let rejected = if h.rejections > 0 {
        format!(
            "   Rejected: {}",
            p.yellow(&terminal::thousands(h.rejections))
        )
    } else {
        String::new()
    };
    writeln!(out, "{}{rejected}", {
        // Unknown tool errors count as tool errors: red, as before the split was known.
        let all = h.errors.known().unwrap_or(0);
        let tools = h.tool_errors.known().unwrap_or(all);
        p.errors(&errors, tools, all.saturating_sub(tools))
    })?;
    writeln!(out, "{rule}")
}

/// Writes `line` as two lines at most: what happened, then its detail, indented by `indent`.
pub fn write_line(
    out: &mut impl Write,
    line: &ReplayLine,
    indent: &str,
    p: Painter,
) -> io::Result<()> {
    let number = p.dim(&format!("#{:<4}", line.number));
    // An event stamped at a time no session can have is at an unknown time.
    let at = p.dim(
        &line
            .offset_s
            .map_or_else(|| format!("{:>7}", terminal::UNKNOWN), terminal::offset),
    );
    let tool = line
        .tool
        .as_deref()
        .map(|t| terminal::one_line(t, TOOL_CHARS))
        .unwrap_or_default();
    let took = line
        .duration_ms
        .map(|ms| format!(" ({})", terminal::duration_ms(ms)))
        .unwrap_or_default();
    let event_type = terminal::one_line(&line.event_type, TOOL_CHARS);
    let (icon, label) = match line.kind {
        LineKind::SessionStart => ("▶", p.green(&event_type)),
        LineKind::SessionEnd => ("■", p.green(&event_type)),
        LineKind::Prompt => ("👤", p.bold(&event_type)),
        LineKind::Interrupted => {
            let by = terminal::one_line(line.name.as_deref().unwrap_or(BY_THE_USER), TOOL_CHARS);
            ("✋", p.yellow(&format!("interrupted by {by}")))
        }
        LineKind::Note => ("·", p.dim(&event_type)),
        LineKind::Answer => ("🤖", p.bold(&event_type)),
        LineKind::Thinking => ("💭", p.dim("thinking")),
        LineKind::Compaction => ("⧉", p.magenta("compaction")),
        LineKind::ToolCall => {
            // A skill's inline shell command: which skill ran it.
            let skill = match line.name.as_deref() {
                Some("") => p.dim(" (a skill's command)"),
                Some(name) => p.dim(&format!(
                    " (skill {})",
                    terminal::one_line(name, TOOL_CHARS)
                )),
                None => String::new(),
            };
            let label = format!("{} {}{skill}", p.blue(&event_type), p.bold(&tool));
            ("→", label)
        }
        LineKind::ToolResult => ("←", format!("{} {tool}{took}", p.blue(&event_type))),
        LineKind::Error => ("✗", p.red(format!("{event_type} {tool}").trim_end())),
        // The store calls it an error; what it says is that the user said no.
        LineKind::Rejected => {
            let by = match line.refused_by {
                Some(by) => format!(" (by {})", by.as_words()),
                None => String::new(),
            };
            ("⊘", p.yellow(format!("rejected {tool}{by}").trim_end()))
        }
        // A file call folded with its result and file event shows the call's tool and time.
        LineKind::FileRead if line.tool.is_some() => (
            "📖",
            format!("{} {}{took}", p.cyan(&event_type), p.bold(&tool)),
        ),
        LineKind::FileWrite if line.tool.is_some() => (
            "✏️",
            format!("{} {}{took}", p.yellow(&event_type), p.bold(&tool)),
        ),
        LineKind::FileRead => ("📖", p.cyan(&event_type)),
        LineKind::FileWrite => ("✏️", p.yellow(&event_type)),
        LineKind::LlmRequest => ("⇢", p.magenta(&event_type)),
        LineKind::LlmResponse => ("⇠", format!("{}{took}", p.magenta(&event_type))),
        LineKind::Decision => {
            let name = terminal::one_line(line.name.as_deref().unwrap_or("decision"), TEXT_CHARS);
            let answered = if line.answered {
                format!(" answered{took}")
            } else {
                String::new()
            };
            ("◆", format!("{} {name}{answered}", p.magenta(&event_type)))
        }
        LineKind::Subagent => ("⑂", p.magenta(&event_type)),
        LineKind::Other => ("·", event_type.clone()),
    };
    writeln!(out, "{indent}{number} {at} {icon} {label}")?;
    if let Some(detail) = line
        .detail
        .as_deref()
        .and_then(|d| detail_text(d, line.detail_kind, p))
    {
        writeln!(out, "{indent}{:13}{detail}", "")?;
    }
    Ok(())
}

/// Writes one event whole: its line, then each section under its title, in full.
pub fn write_detail(out: &mut impl Write, detail: &EventDetail, p: Painter) -> io::Result<()> {
    write_line(out, &detail.line, "", p)?;
    for section in &detail.sections {
        writeln!(out)?;
        writeln!(out, "{}", p.bold(&format!("── {} ", section.title)))?;
        match &section.body {
            Body::Text { text } => {
                for line in text.lines() {
                    writeln!(out, "{line}")?;
                }
            }
            Body::Diff { lines } => {
                for line in lines {
                    let text = &line.text;
                    let shown = match line.tag {
                        DiffTag::File => p.bold(text),
                        DiffTag::Hunk => p.cyan(text),
                        DiffTag::Context => format!(" {text}"),
                        DiffTag::Removed => p.red(&format!("-{text}")),
                        DiffTag::Added => p.green(&format!("+{text}")),
                    };
                    writeln!(out, "{shown}")?;
                }
            }
        }
    }
    Ok(())
}

fn detail_text(detail: &str, kind: DetailKind, p: Painter) -> Option<String> {
    let text = match kind {
        DetailKind::Quote => {
            let text = terminal::one_line(&terminal::strip_markdown(detail), TEXT_CHARS);
            return (!text.is_empty()).then(|| format!("\"{text}\""));
        }
        DetailKind::Path => terminal::path_tail(detail, TEXT_CHARS),
        DetailKind::Text => terminal::one_line(detail, TEXT_CHARS),
        DetailKind::Muted => p.dim(&terminal::one_line(detail, TEXT_CHARS)),
        DetailKind::Error => p.red(&terminal::one_line(detail, TEXT_CHARS)),
    };
    (!text.is_empty()).then_some(text)
}
