//! The normal form of a hook payload: which agent, which session, what happened (a tool call
//! with its name, input and id, a prompt, an answer …), whatever agent sent it.
//!
//! Each agent's wire module ([`super::claude_code`], [`super::vscode`]) reads its own payloads
//! into this form and the recorder reads only this form. The remaining fields keep the store's
//! names (snake_case: `permission_mode`, `stop_hook_active`, `reason` …), so what an agent says
//! beyond the typed parts is recorded the same way for every agent.

use serde_json::{Map, Value};

use crate::capture::sink::Privacy;
use crate::model::{Agent, deep_json};

/// The hook events, plus any an agent may add later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    SessionStart,
    SessionEnd,
    UserPromptSubmit,
    PreToolUse,
    PostToolUse,
    PostToolUseFailure,
    Stop,
    SubagentStart,
    SubagentStop,
    Notification,
    PreCompact,
    PostCompact,
    PermissionRequest,
    /// A shell command written in a skill or slash command is about to run as the skill
    /// loads (Claude Code's PreSkillShellCommand): the payload names the shell tool and the
    /// command as a tool call, and the command never reaches PreToolUse.
    SkillShellCommand,
    /// Claude Code's auto mode refused a call (its classifier said no): the payload names the
    /// call as a tool call, with the classifier's `reason`. The call never runs, and no
    /// PostToolUse or PostToolUseFailure follows.
    PermissionDenied,
    /// The turn ended in an API error, in place of Stop (Claude Code's StopFailure): the
    /// payload has `error` (its kind), `error_details` and `last_assistant_message`.
    StopFailure,
    /// An interrupt ended the main conversation's turn, in place of Stop (Claude Code's
    /// Interrupt, from 2.1.335): the payload has `source` (`user`, `session`, `system`), `reason`
    /// (`stop`, `permission_denied`, `rewind`, `other`) and, where known, `via` (`terminal`,
    /// `client`). No answer comes with it.
    Interrupt,
    /// A call to the model is about to be made (Gemini CLI's BeforeModel): the payload names
    /// the model.
    ModelRequest,
    /// A chunk of the model's streamed response (Gemini CLI's AfterModel, once per chunk):
    /// `text`, `model`, `usage` (the store's convention, cumulative for the response),
    /// `reported_usage` and, on the chunk that ends it, `finish_reason`, under those names in
    /// [`HookPayload::fields`].
    ModelResponse,
    Other(String),
}

/// The `hook <event>` argument for each event, in the order `--help` lists them.
pub const HOOK_ARGS: [(&str, HookEvent); 17] = [
    ("session-start", HookEvent::SessionStart),
    ("session-end", HookEvent::SessionEnd),
    ("user-prompt", HookEvent::UserPromptSubmit),
    ("pre-tool", HookEvent::PreToolUse),
    ("post-tool", HookEvent::PostToolUse),
    ("post-tool-failure", HookEvent::PostToolUseFailure),
    ("stop", HookEvent::Stop),
    ("stop-failure", HookEvent::StopFailure),
    ("subagent-start", HookEvent::SubagentStart),
    ("subagent-stop", HookEvent::SubagentStop),
    ("notification", HookEvent::Notification),
    ("pre-compact", HookEvent::PreCompact),
    ("post-compact", HookEvent::PostCompact),
    ("permission-request", HookEvent::PermissionRequest),
    ("permission-denied", HookEvent::PermissionDenied),
    ("skill-shell-command", HookEvent::SkillShellCommand),
    ("interrupt", HookEvent::Interrupt),
];

impl HookEvent {
    /// The event's name in payloads and in settings.json (Claude Code and VS Code share them).
    pub fn wire_name(&self) -> &str {
        match self {
            HookEvent::SessionStart => "SessionStart",
            HookEvent::SessionEnd => "SessionEnd",
            HookEvent::UserPromptSubmit => "UserPromptSubmit",
            HookEvent::PreToolUse => "PreToolUse",
            HookEvent::PostToolUse => "PostToolUse",
            HookEvent::PostToolUseFailure => "PostToolUseFailure",
            HookEvent::Stop => "Stop",
            HookEvent::SubagentStart => "SubagentStart",
            HookEvent::SubagentStop => "SubagentStop",
            HookEvent::Notification => "Notification",
            HookEvent::PreCompact => "PreCompact",
            HookEvent::PostCompact => "PostCompact",
            HookEvent::PermissionRequest => "PermissionRequest",
            HookEvent::SkillShellCommand => "PreSkillShellCommand",
            HookEvent::PermissionDenied => "PermissionDenied",
            HookEvent::StopFailure => "StopFailure",
            HookEvent::Interrupt => "Interrupt",
            // Only Gemini CLI has them, under these names.
            HookEvent::ModelRequest => "BeforeModel",
            HookEvent::ModelResponse => "AfterModel",
            HookEvent::Other(name) => name,
        }
    }

    pub fn from_wire_name(name: &str) -> HookEvent {
        HOOK_ARGS
            .iter()
            .map(|(_, event)| event)
            .find(|event| event.wire_name() == name)
            .map_or_else(|| HookEvent::Other(name.to_owned()), HookEvent::clone)
    }

    /// From a `hook <event>` argument; `None` for an argument that names no known event.
    pub fn from_arg(arg: &str) -> Option<HookEvent> {
        HOOK_ARGS
            .iter()
            .find(|(name, _)| *name == arg)
            .map(|(_, event)| event.clone())
            .or_else(|| {
                let known = HookEvent::from_wire_name(arg);
                (!matches!(known, HookEvent::Other(_))).then_some(known)
            })
    }

    /// Whether the event is about one tool call (and so must name the tool).
    pub fn is_tool_event(&self) -> bool {
        matches!(
            self,
            HookEvent::PreToolUse
                | HookEvent::PostToolUse
                | HookEvent::PostToolUseFailure
                | HookEvent::SkillShellCommand
        )
    }

    /// Whether the agent's settings give the event's hooks a tool-name matcher (an empty one
    /// matches every tool): the events about one call, the question asked before one, and auto
    /// mode's refusal of one (Claude Code matches PermissionDenied on `tool_name`).
    pub fn takes_tool_matcher(&self) -> bool {
        self.is_tool_event()
            || matches!(
                self,
                HookEvent::PermissionRequest | HookEvent::PermissionDenied
            )
    }

    /// Whether the event asks about a call before it runs, so that the policy in force can
    /// still stop it.
    pub fn asks_before_a_call(&self) -> bool {
        matches!(
            self,
            HookEvent::PreToolUse | HookEvent::PermissionRequest | HookEvent::SkillShellCommand
        )
    }
}

/// One tool call as a payload describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    pub name: String,
    /// The arguments, an object (empty when the payload gives none).
    pub input: Value,
    /// The agent's id of the call, which links a result to its call.
    pub id: Option<String>,
    /// What the tool returned (post-tool).
    pub response: Option<Value>,
    /// Why it failed (post-tool-failure).
    pub error: Option<Value>,
}

/// Where the agent's last answer can be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The payload carries it.
    Text(String),
    /// The last assistant text of a Claude Code transcript at this path.
    ClaudeTranscript(String),
    /// The turn's answer in GitHub Copilot CLI's `events.jsonl` at this path, which Copilot
    /// may write after its stop hook has run (the session's end looks again).
    CopilotEvents(String),
    /// Not written yet on the hook's machine when its hook looked (a collector's payload): a
    /// follower there looks again and sends it. Never read here.
    Elsewhere,
}

impl Answer {
    /// The answer's text: the payload's, or read from the file it names (`None` when that
    /// cannot be read or holds none).
    pub fn read(&self) -> Option<String> {
        self.read_checked().ok().flatten()
    }

    /// The answer's text as [`Answer::read`] reads it, or why the file it names can never hold
    /// it (a FIFO, a device: not a regular file), said at once rather than waited on.
    pub fn read_checked(&self) -> std::io::Result<Option<String>> {
        Ok(match self {
            Answer::Text(text) => Some(text.clone()),
            Answer::ClaudeTranscript(path) => {
                let path = std::path::Path::new(path);
                // A FIFO or a device would be skipped by the read all the same, but silently.
                crate::store::regular_len(path)?;
                crate::capture::transcript::last_assistant_text(path)
            }
            Answer::Elsewhere => None,
            Answer::CopilotEvents(path) => super::copilot::answer_when_written(
                std::path::Path::new(path),
                super::copilot::IN_A_HOOK,
            )?,
        })
    }
}

/// The times an agent's stamp on a hook's event is taken in (seconds since the epoch): 2000 to
/// 2100. A hook runs as its event happens, so no stamp before any agent existed is one: a stamp
/// of a few milliseconds after 1970 (seconds read as milliseconds, or a broken clock) made a
/// session 57 years long, `1e308` left it out of every total, and a 1970 stamp on one call
/// booked its cost to 1970-01-01. Outside it, the stamp is kept as sent and the hook's own
/// clock stamps the event.
pub const AGENT_TIMES: std::ops::Range<f64> = 946_684_800.0..4_102_444_800.0;

/// `seconds`, when it is a time an agent's event can have ([`AGENT_TIMES`]).
pub fn agent_time(seconds: f64) -> Option<f64> {
    AGENT_TIMES.contains(&seconds).then_some(seconds)
}

/// An ISO 8601 time (`2026-02-09T10:30:00.000Z`), when it is one an agent's event can have.
pub fn iso_agent_time(text: &str) -> Option<f64> {
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    agent_time(at.timestamp_micros() as f64 / 1e6)
}

/// A checked payload, in the normal form.
#[derive(Debug, Clone, PartialEq)]
pub struct HookPayload {
    pub agent: Agent,
    pub event: HookEvent,
    pub session_id: String,
    /// The folder the agent works in; where the store is looked for.
    pub cwd: Option<String>,
    /// The folder the agent was started in, as the hook's environment tells it
    /// (`CLAUDE_PROJECT_DIR`, which Claude Code, Gemini CLI and Copilot CLI set), else as the
    /// payload names it (Cursor's `workspace_roots[0]`, set by its wire module; the others'
    /// leave it `None`). A call whose `cwd` is another folder records where it ran
    /// ([`crate::model::view::CALL_FOLDER`]).
    pub launch: Option<String>,
    /// When the agent says the event happened (seconds since the epoch), if it says a time an
    /// event can have ([`agent_time`]).
    pub at: Option<f64>,
    /// Set on payloads fired inside a subagent, and on subagent start/stop.
    pub agent_id: Option<String>,
    /// The kind of subagent (`Explore`, `Plan` …).
    pub agent_type: Option<String>,
    pub tool: Option<ToolUse>,
    /// What the user typed (a string as sent; kept as any JSON value).
    pub prompt: Option<Value>,
    /// The agent's answer, on stop and subagent stop.
    pub answer: Option<Answer>,
    /// How the session started (`startup`, `resume`, `new` …).
    pub source: Option<String>,
    /// Every other field the agent sent, under the store's names; fields the agent's wire
    /// module does not know are kept here too.
    pub fields: Map<String, Value>,
    /// The names in `fields` the wire module did not know, in the order sent.
    pub unknown: Vec<String>,
    /// Where the exact counts of the agent's last model response are, when its hooks pass on
    /// only part of them (Gemini CLI).
    pub last_response: Option<LastResponse>,
}

/// Where the exact counts of an agent's last model response are.
#[derive(Debug, Clone, PartialEq)]
pub enum LastResponse {
    /// Gemini CLI's chat at this path (the payload's `transcript_path`).
    GeminiChat(String),
    /// Read from the chat on the hook's machine and sent with the payload (to a collector,
    /// which never reads a path a client names).
    Sent(crate::capture::import::gemini_chat::ResponseCounts),
}

impl LastResponse {
    /// The counts: the chat's, read now, or the ones sent.
    pub fn read(&self) -> Option<crate::capture::import::gemini_chat::ResponseCounts> {
        match self {
            LastResponse::GeminiChat(path) => {
                crate::capture::import::gemini_chat::last_response(std::path::Path::new(path))
            }
            LastResponse::Sent(counts) => Some(*counts),
        }
    }
}

impl HookPayload {
    /// When the event happened, as it is recorded: the agent's own time ([`HookPayload::at`]),
    /// unless it is later than the recorder's clock `now` by more than
    /// [`crate::model::event::CLOCK_SKEW_SECS`]; then `now`. A hook runs as its event happens,
    /// so a stamp far ahead is a wrong clock, not a time: one in 2099 made its session the
    /// latest for ever (`list`, `replay`, `retention`, `dashboard`).
    pub fn stamp(&self, now: f64) -> f64 {
        self.at
            .filter(|at| *at <= now + crate::model::event::CLOCK_SKEW_SECS)
            .unwrap_or(now)
    }

    /// The folders the policy that judges this payload's call is looked for from: the folder
    /// the agent works in (`cwd`), or, for a Cursor workspace of several roots, the roots that
    /// hold the call's paths ([`super::cursor::policy_folders`]). Empty when the payload names
    /// no folder.
    pub fn policy_folders(&self) -> Vec<String> {
        match self.agent {
            Agent::Cursor => super::cursor::policy_folders(self),
            _ => self.cwd.clone().into_iter().collect(),
        }
    }

    /// Takes the session's id as the store keeps it ([`Privacy::session_id`]): one that holds
    /// a secret never names a folder. Every way a payload reaches the recorder (a local hook, the
    /// collector's `/hooks`, a kept call recorded here) takes it so, before anything looks the
    /// session up. A subagent's id is taken so where it names a folder
    /// ([`Privacy::subagent_session_id`]), and kept as sent otherwise: it also names the
    /// subagent's transcript on the hook's machine.
    pub fn scrub_session_id(&mut self, privacy: &Privacy) {
        if let std::borrow::Cow::Owned(id) = privacy.session_id(&self.session_id) {
            self.session_id = id;
        }
    }

    /// A string field of `fields`, if present and not empty.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// Why a payload was not recorded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("stdin was empty")]
    Empty,
    #[error("stdin is not JSON: {0}")]
    NotJson(String),
    #[error("the payload is not a JSON object")]
    NotAnObject,
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    #[error("field `{0}` is not a {1}")]
    WrongType(&'static str, &'static str),
    // Debug formatting escapes what a terminal would draw deceptively (bidi controls).
    #[error("session id {0:?} cannot name a session folder")]
    BadSessionId(String),
    #[error("unknown hook event `{0}` and the payload names none")]
    UnknownEvent(String),
}

/// Reading a wire payload's fields, each check naming the field it failed on. Fields that only
/// say where the session lives (its id, the event's name, the time) are taken out; every other
/// field stays, to be recorded as sent.
pub(super) struct Fields(pub(super) Map<String, Value>);

impl Fields {
    /// Takes a plumbing string field that must be there and not empty.
    fn take_required(&mut self, key: &'static str) -> Result<String, PayloadError> {
        match self.0.remove(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            None | Some(Value::Null | Value::String(_)) => Err(PayloadError::Missing(key)),
            Some(_) => Err(PayloadError::WrongType(key, "string")),
        }
    }

    /// Takes a plumbing string field that may be absent or null.
    pub(super) fn take_optional(
        &mut self,
        key: &'static str,
    ) -> Result<Option<String>, PayloadError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(PayloadError::WrongType(key, "string")),
        }
    }

    /// The ISO 8601 time at `key` (Gemini CLI's and VS Code's `timestamp`), taken when it is
    /// one an event can have ([`agent_time`]); else kept as sent, and the hook's own clock
    /// stamps the event.
    pub(super) fn take_iso_time(&mut self, key: &'static str) -> Result<Option<f64>, PayloadError> {
        let Some(text) = self.take_optional(key)? else {
            return Ok(None);
        };
        let at = iso_agent_time(&text);
        if at.is_none() {
            self.0.insert(key.into(), text.into());
        }
        Ok(at)
    }

    /// A string field that may be absent or null, left in place.
    pub(super) fn optional(&self, key: &'static str) -> Result<Option<String>, PayloadError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(PayloadError::WrongType(key, "string")),
        }
    }

    /// A string field's text when it is there, a string and not empty; anything else is no
    /// text (the field stays in the record as it came).
    pub(super) fn text(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// Takes the event's name: the payload's own name for it wins over the `hook <event>`
    /// argument.
    pub(super) fn take_event(
        &mut self,
        key: &'static str,
        arg: &str,
    ) -> Result<HookEvent, PayloadError> {
        match self.0.remove(key) {
            Some(Value::String(name)) if !name.is_empty() => Ok(HookEvent::from_wire_name(&name)),
            None | Some(Value::Null) => {
                HookEvent::from_arg(arg).ok_or_else(|| PayloadError::UnknownEvent(arg.to_owned()))
            }
            Some(_) => Err(PayloadError::WrongType(key, "string")),
        }
    }

    /// Takes the session id, checked to name a folder.
    pub(super) fn take_session(&mut self, key: &'static str) -> Result<String, PayloadError> {
        let id = self.take_required(key)?;
        if crate::store::is_valid_session_id(&id) {
            Ok(id)
        } else {
            Err(PayloadError::BadSessionId(id))
        }
    }

    /// The subagent id, when there is one (an id that cannot name a folder as it is gets a
    /// safe session id of its own: [`crate::store::subagent_session_id`]).
    pub(super) fn agent_id(&self) -> Result<Option<String>, PayloadError> {
        Ok(self.optional("agent_id")?.filter(|id| !id.is_empty()))
    }

    /// The tool call (`tool_name`, `tool_input`, `tool_use_id`, `tool_response`, `error`); a
    /// tool event must name its tool. Arguments given as the JSON text of an object are that
    /// object.
    ///
    /// A result's response can be a whole command's output, tens of megabytes: it is moved
    /// out of the fields (a null left in its place) where a copy held it twice, for a result
    /// is recorded from [`ToolUse::response`] alone. Any other event's fields stay whole (a
    /// decision point records them all).
    pub(super) fn tool(&mut self, event: &HookEvent) -> Result<Option<ToolUse>, PayloadError> {
        let name = match self.0.get("tool_name") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            None | Some(Value::Null | Value::String(_)) if event.is_tool_event() => {
                return Err(PayloadError::Missing("tool_name"));
            }
            None | Some(Value::Null | Value::String(_)) => None,
            Some(_) => return Err(PayloadError::WrongType("tool_name", "string")),
        };
        let Some(name) = name else {
            return Ok(None);
        };
        Ok(Some(ToolUse {
            name,
            input: match self.0.get("tool_input") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                // The arguments sent as their JSON text (Copilot CLI's `toolArgs`, or a wrapper
                // that encoded them twice) are the object they spell: read as a string, the
                // call would be judged and recorded with no arguments at all.
                Some(Value::String(text)) => match deep_json::from_slice(text.as_bytes()) {
                    Ok(object @ Value::Object(_)) => object,
                    _ => Value::String(text.clone()),
                },
                Some(input) => input.clone(),
            },
            id: self
                .0
                .get("tool_use_id")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
                .map(str::to_owned),
            response: match event {
                HookEvent::PostToolUse | HookEvent::PostToolUseFailure => {
                    self.0.get_mut("tool_response").map(Value::take)
                }
                _ => self.0.get("tool_response").cloned(),
            },
            error: self.0.get("error").cloned(),
        }))
    }

    /// The names of the fields that are not in `known`.
    pub(super) fn unknown(&self, known: &[&str]) -> Vec<String> {
        self.0
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}
