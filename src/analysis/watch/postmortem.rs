//! The post-mortem of a session whose agent a watch rule killed: why, when, what it had
//! spent, what it was doing, and a paragraph for whoever (or whatever) picks the work up.
//! Its fields are those of the Python tool's `watchdog-postmortem.json`, plus the rule.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Figures, Violation};
use crate::model::text::one_line;
use crate::model::usage::dollars;
use crate::model::view::View;
use crate::model::{Agent, Event};

/// The most of the last response kept in a post-mortem, in characters.
const RESPONSE_LIMIT: usize = 4_000;

/// What `watchdog-postmortem.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostMortem {
    pub session_id: String,
    /// Seconds since the epoch.
    pub terminated_at: f64,
    pub reason: String,
    pub rule: String,
    pub elapsed_seconds: f64,
    pub cost_at_death: f64,
    /// Models whose usage has no known price, in name order: `cost_at_death` counts them at
    /// $0, so it is less than was spent. Added after the Python tool's fields: its files
    /// and older ones of ours have no such list, which says nothing either way.
    pub cost_unpriced_models: Vec<String>,
    /// The signal that ended it: `SIGTERM`, or `SIGKILL` when it outlived the grace period.
    pub signal: String,
    pub agent_pid: u32,
    /// `{"tool_name", "arguments"}` of the last call, or null.
    pub last_tool_call: Value,
    /// `{"model", "content"}` of the last answer, or null.
    pub last_llm_response: Value,
    pub recovery_context: String,
}

/// What happened to the agent, for the post-mortem.
#[derive(Debug, Clone)]
pub struct Death<'a> {
    pub violation: &'a Violation,
    pub figures: &'a Figures,
    /// Models with usage and no known price, in name order (`figures.cost_usd` counts them at
    /// $0).
    pub unpriced: &'a [String],
    pub at: f64,
    pub signal: &'a str,
    pub pid: u32,
}

impl PostMortem {
    /// The post-mortem of `session_id`, whose events so far are `events`.
    pub fn of(session_id: &str, events: &[Event], agent: Agent, death: &Death<'_>) -> PostMortem {
        let mut last_call: Option<(String, Value, usize)> = None;
        let mut last_text: Option<String> = None;
        let mut model: Option<String> = None;
        let mut files: Vec<String> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            match View::of(event, agent) {
                View::ToolCall(call) => {
                    if call.kind == crate::model::ToolKind::WriteFile
                        && let Some(path) = call.path()
                        && !files.iter().any(|f| f == path)
                    {
                        files.push(path.to_owned());
                    }
                    last_call = Some((call.tool.to_owned(), call.arguments.clone(), i + 1));
                }
                View::Answer(answer) if !answer.text.is_empty() => {
                    last_text = Some(answer.text.to_owned());
                }
                View::LlmResponse(r) => model = r.model.map(str::to_owned).or(model),
                View::SessionStart(s) => model = s.model.map(str::to_owned).or(model),
                View::LlmRequest { model: m } => model = m.map(str::to_owned).or(model),
                _ => {}
            }
        }
        let figures = death.figures;
        let violation = death.violation;
        let spent = if death.unpriced.is_empty() {
            format!("{} spent", dollars(figures.cost_usd))
        } else {
            format!(
                "{}? spent, {} counted at $0: no known price",
                dollars(figures.cost_usd),
                death.unpriced.join(", ")
            )
        };
        let mut recovery = format!(
            "Session {session_id} was stopped by agent-strace watch after {:.0}s ({spent}): {} broke: {}.",
            figures.elapsed_s, violation.rule, violation.reason
        );
        if let Some((tool, _, number)) = &last_call {
            let what = crate::model::view::ToolCall::from_event(&events[number - 1], agent)
                .and_then(|c| c.gist())
                .unwrap_or_default();
            let _ = write!(
                recovery,
                " Its last tool call was {tool} {} (event #{number}); check whether it finished before continuing.",
                one_line(&what, 200)
            );
        }
        if !files.is_empty() {
            let shown: Vec<&str> = files.iter().rev().take(10).map(String::as_str).collect();
            let _ = write!(
                recovery,
                " It had modified {}, latest first: {}.",
                crate::model::text::count(files.len() as u64, "file"),
                shown.join(", ")
            );
        }
        recovery.push_str(
            " To continue, start a new session with this paragraph, review those changes, and address the reason above (raise the limit, or split the task) first.",
        );
        PostMortem {
            session_id: session_id.to_owned(),
            terminated_at: death.at,
            reason: format!("{}: {}", violation.rule, violation.reason),
            rule: violation.rule.clone(),
            elapsed_seconds: (figures.elapsed_s * 100.0).round() / 100.0,
            cost_at_death: (figures.cost_usd * 1e6).round() / 1e6,
            cost_unpriced_models: death.unpriced.to_vec(),
            signal: death.signal.to_owned(),
            agent_pid: death.pid,
            last_tool_call: last_call.map_or(
                Value::Null,
                |(tool, arguments, _)| json!({"tool_name": tool, "arguments": arguments}),
            ),
            last_llm_response: if last_text.is_some() || model.is_some() {
                json!({
                    "model": model,
                    "content": last_text.map(|t| t.chars().take(RESPONSE_LIMIT).collect::<String>()),
                })
            } else {
                Value::Null
            },
            recovery_context: recovery,
        }
    }
}
