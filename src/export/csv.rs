//! One row per event as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when
//! they hold a comma, a quote or a line break), with columns that stay the same whatever agent
//! recorded the session: each is read through the model's views, never from a writer's keys.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat};

use super::Exported;
use crate::model::answers::{AnsweredResponse, answered_responses};
use crate::model::view::View;
use crate::model::{Agent, Event};

/// The columns, in order. Adding one is a change users see (documented in docs/export.md);
/// renaming or moving one breaks their spreadsheets.
pub const COLUMNS: [&str; 19] = [
    "session_id",
    "event_id",
    "parent_id",
    "timestamp",
    "time",
    "event_type",
    "tool",
    "tool_use_id",
    "outcome",
    "duration_ms",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "path",
    "command",
    "error",
    "text",
];

/// A field as RFC 4180 writes it: quoted (with quotes doubled) when it holds a comma, a quote
/// or a line break, as it is otherwise; and text a spreadsheet would run as a formula kept
/// from running (see [`could_run`]): a `'` before it, quoted.
pub fn field(text: &str) -> std::borrow::Cow<'_, str> {
    if could_run(text) {
        format!("\"'{}\"", text.replace('"', "\"\"")).into()
    } else if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

/// Whether Excel, LibreOffice or Google Sheets would take `text` for a formula (CSV injection,
/// OWASP): it starts with `=`, `+`, `-`, `@`, a tab or a carriage return, also after spaces
/// and line feeds (which a spreadsheet may trim on import), or with the full-width `＝`, `＋`,
/// `－`, `＠` (which Excel takes for their ASCII forms when an East Asian input method is on),
/// and is not a number. A session's prompt or command such as `=HYPERLINK(…)` would run when
/// the file is opened; a number (`-3`, `+1.5e3`) is read as that number whatever its sign, so
/// it is left alone.
fn could_run(text: &str) -> bool {
    const STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    let trimmed = text.trim_start_matches([' ', '\n']);
    (text.starts_with(STARTS) || trimmed.starts_with(STARTS))
        && trimmed.trim_end().parse::<f64>().is_err()
}

/// Writes the header and one row per event of `session` and of its subagents (parents before
/// children), each row naming its session.
pub fn write(out: &mut dyn Write, session: &Exported) -> io::Result<()> {
    write!(out, "{}\r\n", COLUMNS.join(","))?;
    for s in session.all() {
        let agent = s.agent();
        let answered = answered_responses(&s.events);
        for (i, event) in s.events.iter().enumerate() {
            let row: Vec<String> = row(event, agent, answered.get(&i))
                .iter()
                .map(|f| field(f).into_owned())
                .collect();
            write!(out, "{}\r\n", row.join(","))?;
        }
    }
    Ok(())
}

/// The fields of one event's row, unquoted, in [`COLUMNS`]' order; `answered` is the response
/// an answer starts, when its usage is on it (the Python tool's import).
fn row(
    event: &Event,
    agent: Agent,
    answered: Option<&AnsweredResponse<'_>>,
) -> [String; COLUMNS.len()] {
    let mut tool = None;
    let mut tool_use_id = None;
    let mut outcome = None;
    let mut model = None;
    let mut tokens = None;
    let mut path = None;
    let mut command = None;
    let mut error = None;
    let mut text = None;
    let view = View::of(event, agent);
    match &view {
        View::SessionStart(start) => model = start.model,
        View::Prompt(t) | View::Thinking(t) => text = Some(t.text),
        // A streamed response's usage is on each of its lines: its first one carries it.
        View::Answer(t) => {
            text = Some(t.text);
            if let Some(response) = answered {
                model = response.model;
                tokens = Some(response.tokens);
            }
        }
        View::ToolCall(call) => {
            tool = Some(call.tool);
            tool_use_id = call.tool_use_id;
            path = call.path();
            command = call.command_line();
        }
        View::ToolResult(result) => {
            tool = result.tool;
            tool_use_id = result.tool_use_id;
            outcome = Some(result.outcome.as_str());
            error = result.error.as_deref();
        }
        View::LlmRequest { model: m } => model = *m,
        View::LlmResponse(response) => {
            model = response.model;
            tokens = response.usage;
        }
        View::FileTouch(touch) => {
            path = touch.path;
            tool = touch.tool;
        }
        View::Decision(decision) => text = decision.detail,
        View::Interrupt(interrupt) => text = interrupt.reason,
        View::Compaction(compaction) => text = compaction.summary,
        View::Subagent(sub) => text = sub.agent_type,
        View::SessionEnd { reason } => text = *reason,
        View::Other => {}
    }
    let owned = |s: Option<&str>| s.unwrap_or_default().to_owned();
    let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    [
        event.session_id.clone(),
        event.event_id.clone(),
        event.parent_id.clone().unwrap_or_default(),
        // An event at an unknown time (a line with no `timestamp`) has none to give: its NaN
        // was written as `NaN`, at 1970-01-01T00:00:00.000Z.
        if event.time_unknown() {
            String::new()
        } else {
            event.timestamp.to_string()
        },
        time(event.timestamp),
        event.event_type.as_str().to_owned(),
        owned(tool),
        owned(tool_use_id),
        owned(outcome),
        event.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        owned(model),
        count(tokens.map(|t| t.input)),
        count(tokens.map(|t| t.output)),
        count(tokens.map(|t| t.cache_read)),
        count(tokens.map(|t| t.cache_creation)),
        owned(path),
        command
            .map(std::borrow::Cow::into_owned)
            .unwrap_or_default(),
        owned(error),
        owned(text),
    ]
}

/// A timestamp as RFC 3339 in UTC with milliseconds, the millisecond it falls in (as a clock
/// shows it); empty when it is no time. Rounded to the nearest, an event at `09:59:59.9998`
/// read `10:00:00.000`, in a period `--since 10:00` leaves it out of. To the microsecond first:
/// `.123` as a float is a hair under it, and is the millisecond 123.
fn time(timestamp: f64) -> String {
    if timestamp.is_nan() {
        return String::new();
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "microseconds since the epoch fit an i64 (saturating past it)"
    )]
    let micros = (timestamp * 1e6).round() as i64;
    DateTime::from_timestamp_millis(micros.div_euclid(1000))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{field, time};

    /// The millisecond a time falls in, as a clock shows it, never the next second's.
    #[test]
    fn a_time_is_the_millisecond_it_falls_in() {
        assert_eq!(time(1_795_600_799.999_8), "2026-11-25T09:59:59.999Z");
        assert_eq!(time(1_795_600_800.123), "2026-11-25T10:00:00.123Z");
        assert_eq!(time(1_795_600_800.000_456), "2026-11-25T10:00:00.000Z");
        assert_eq!(time(-0.25), "1969-12-31T23:59:59.750Z");
        assert_eq!(time(f64::NAN), "");
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(""), "");
    }

    #[test]
    fn text_a_spreadsheet_would_run_is_kept_text_and_numbers_stay_numbers() {
        assert_eq!(field("=1+1"), "\"'=1+1\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(field("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"");
        assert_eq!(field("-rf"), "\"'-rf\"");
        assert_eq!(field("\t=x"), "\"'\t=x\"");
        assert_eq!(field("=\"a\",b"), "\"'=\"\"a\"\",b\"");
        for number in ["-3", "-2.5", "+1.5e3", "-1e-300", "0"] {
            assert_eq!(field(number), number);
        }
        assert_eq!(field("a=b"), "a=b");
    }
}
