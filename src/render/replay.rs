//! A replay line on a terminal: icon, number, offset and colour for the data that
//! [`crate::analysis::replay_line`] computed.

use std::io::{self, Write};

use super::terminal::{self, Painter};
use crate::analysis::replay_line::{DetailKind, LineKind, ReplayLine};

/// How much of a prompt, answer or result one line shows.
pub const TEXT_CHARS: usize = 100;
/// How much of a tool's name one line shows (MCP tools can have long names).
const TOOL_CHARS: usize = 60;

/// Writes `line` as two lines at most: what happened, then its detail, indented by `indent`.
pub fn write_line(
    out: &mut impl Write,
    line: &ReplayLine,
    indent: &str,
    p: Painter,
) -> io::Result<()> {
    let number = p.dim(&format!("#{:<4}", line.number));
    let at = p.dim(&terminal::offset(line.offset_s));
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
        LineKind::Answer => ("🤖", p.bold(&event_type)),
        LineKind::ToolCall => ("→", format!("{} {}", p.blue(&event_type), p.bold(&tool))),
        LineKind::ToolResult => ("←", format!("{} {tool}{took}", p.blue(&event_type))),
        LineKind::Error => ("✗", p.red(format!("{event_type} {tool}").trim_end())),
        // The store calls it an error; what it says is that the user said no.
        LineKind::Rejected => ("⊘", p.yellow(format!("rejected {tool}").trim_end())),
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
