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

/// What a post-mortem tells of a session's events, gathered as they come: a watch keeps this,
/// not the events (it held every event of the session, 931 MB for a 315 MB events file).
#[derive(Debug, Clone, Default)]
pub struct LastActs {
    /// The last tool call, and its event number.
    last_call: Option<(Event, usize)>,
    last_text: Option<String>,
    model: Option<String>,
    /// The files written, each once, in the order first written (the last [`FILES_KEPT`]).
    files: std::collections::VecDeque<String>,
    files_written: usize,
    events: usize,
}

/// The most files a post-mortem names: its paragraph shows the ten latest.
const FILES_KEPT: usize = 10_000;

impl LastActs {
    /// Takes in the session's next event.
    pub fn observe(&mut self, event: &Event, agent: Agent) {
        self.events += 1;
        match View::of(event, agent) {
            View::ToolCall(call) => {
                // A file deleted (Cursor's `Delete`) is no file modified.
                if call.file_use() == Some(crate::model::file_use::FileUse::Write)
                    && let Some(path) = call.path()
                    && !self.files.iter().any(|f| f == path)
                {
                    self.files_written += 1;
                    if self.files.len() == FILES_KEPT {
                        self.files.pop_front();
                    }
                    self.files.push_back(path.to_owned());
                }
                self.last_call = Some((event.clone(), self.events));
            }
            View::Answer(answer) if !answer.text.is_empty() => {
                self.last_text = Some(answer.text.chars().take(RESPONSE_LIMIT).collect());
            }
            View::LlmResponse(r) => self.name_model(r.model),
            View::SessionStart(s) => self.name_model(s.model),
            View::LlmRequest { model } => self.name_model(model),
            _ => {}
        }
    }
}

impl LastActs {
    /// The model an event names, if it names one, is the model from then on.
    fn name_model(&mut self, model: Option<&str>) {
        if let Some(model) = model {
            self.model = Some(model.to_owned());
        }
    }
}

impl PostMortem {
    /// The post-mortem of `session_id`, whose events so far are `events`.
    pub fn of(session_id: &str, events: &[Event], agent: Agent, death: &Death<'_>) -> PostMortem {
        let mut acts = LastActs::default();
        for event in events {
            acts.observe(event, agent);
        }
        PostMortem::of_acts(session_id, &acts, agent, death)
    }

    /// The post-mortem of `session_id`, from what its events so far told.
    pub fn of_acts(
        session_id: &str,
        acts: &LastActs,
        agent: Agent,
        death: &Death<'_>,
    ) -> PostMortem {
        let last_call = acts.last_call.as_ref().and_then(|(event, number)| {
            let call = crate::model::view::ToolCall::from_event(event, agent)?;
            Some((
                call.tool.to_owned(),
                call.arguments.clone(),
                *number,
                call.gist(),
            ))
        });
        let (last_text, model) = (acts.last_text.clone(), acts.model.clone());
        let files = &acts.files;
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
        if let Some((tool, _, number, gist)) = &last_call {
            let what = gist.clone().unwrap_or_default();
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
                crate::model::text::count(acts.files_written as u64, "file"),
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
                |(tool, arguments, _, _)| json!({"tool_name": tool, "arguments": arguments}),
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
