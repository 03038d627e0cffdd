//! Typed, read-only views of an event's data: the one place that knows which JSON keys the
//! writers of the store (our hooks, proxies and importer, and the Python tool) put data under.
//!
//! Events stay raw JSON on disk, lossless and readable by the Python tool. Everything that
//! reads them — analyses, replay, and later policies, exporters and HTML — asks for a [`View`]
//! and reads its fields, so a key is spelled once, here.

use std::borrow::Cow;

use serde_json::Value;

use super::event::{Event, EventType};
use super::file_use::FileUse;
use super::meta::believed_duration_ms;
use super::outcome::{self, RefusedBy, ToolOutcome};
use super::prompt::{self, Prompt, PromptKind};
use super::tools::{self, Agent, Shape, ToolKind, ToolSpec};
use super::usage::{Tokens, believed_tokens};

/// What an event says, by kind.
#[derive(Debug, Clone)]
pub enum View<'a> {
    SessionStart(SessionStart<'a>),
    SessionEnd {
        reason: Option<&'a str>,
    },
    Prompt(Text<'a>),
    Answer(Text<'a>),
    ToolCall(ToolCall<'a>),
    /// A tool's result, or its failure (an `error` event).
    ToolResult(ToolResult<'a>),
    LlmRequest {
        model: Option<&'a str>,
    },
    LlmResponse(LlmResponse<'a>),
    FileTouch(FileTouch<'a>),
    Decision(Decision<'a>),
    /// The model's reasoning before it answered (a `decision` of kind `thinking`).
    Thinking(Text<'a>),
    /// The conversation was compacted: a `decision` of kind `compaction`, or the summary
    /// prompt that older imports (ours and the Python tool's) recorded in its place.
    Compaction(Compaction<'a>),
    Subagent(Subagent<'a>),
    /// An interrupt ended the turn (Claude Code's Interrupt, a `decision` our hook keeps whole).
    Interrupt(Interrupt<'a>),
    Other,
}

/// `session_start`.
#[derive(Debug, Clone)]
pub struct SessionStart<'a> {
    /// How the session began: `startup`, `resume`, `import` …
    pub source: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub model: Option<&'a str>,
    pub transcript_path: Option<&'a str>,
    /// The agent's version (imports take it from the transcript).
    pub version: Option<&'a str>,
    pub git_branch: Option<&'a str>,
    /// The repository as the agent names it, `owner/name` (Copilot CLI's, imported).
    pub git_repository: Option<&'a str>,
    /// The budget ceiling a watchdog set for the session, in dollars (the Python tool writes
    /// `budget_dollars` or `max_cost_dollars`).
    pub budget_usd: Option<f64>,
}

/// The key of the agent's pid (see [`agent_process`]).
pub const AGENT_PID: &str = "agent_pid";
/// The key of the agent's start time, in clock ticks after boot (see [`agent_process`]).
pub const AGENT_STARTED: &str = "agent_started";

/// The agent's process an event records: a hook's `session_start`, or the `decision` that
/// `record` writes when it has started its MCP server. `(pid, start time)`.
pub fn agent_process(event: &Event) -> Option<(u32, u64)> {
    if !matches!(
        event.event_type,
        EventType::SessionStart | EventType::Decision
    ) {
        return None;
    }
    let pid = event.data.get(AGENT_PID)?.as_u64()?;
    Some((
        u32::try_from(pid).ok()?,
        event.data.get(AGENT_STARTED)?.as_u64()?,
    ))
}

/// A prompt or an answer: text that a person or the model wrote.
#[derive(Debug, Clone)]
pub struct Text<'a> {
    /// The text; empty when the event carries none (or carries something else).
    pub text: &'a str,
    /// The text's JSON, for a writer that put something other than a string there.
    pub raw: Option<&'a Value>,
}

/// A tool call.
#[derive(Debug, Clone)]
pub struct ToolCall<'a> {
    /// The agent that named the tool, whose naming of MCP tools [`tools::mcp_names`] reads.
    pub agent: Agent,
    pub tool: &'a str,
    pub kind: ToolKind,
    pub spec: Option<&'static ToolSpec>,
    /// The arguments; `Null` when the call recorded none.
    pub arguments: &'a Value,
    pub tool_use_id: Option<&'a str>,
    /// The folder the call ran in, when the writer recorded one ([`CALL_FOLDER`]): a hook
    /// records it when it is not the folder the agent was started in (a Bash `cd` moved it).
    /// `None`: the call ran where the session started.
    pub cwd: Option<&'a str>,
}

/// The key of the folder a `tool_call` ran in ([`ToolCall::cwd`]), the name agents give it in
/// their payloads. The Python tool ignores it.
pub const CALL_FOLDER: &str = "cwd";

/// The key a `tool_call` made by a skill's inline shell command holds that skill's name in
/// (Claude Code's PreSkillShellCommand: the command ran as the skill loaded, asked of no
/// PreToolUse, and no result was recorded for it). Empty when the agent named no skill.
pub const SKILL_COMMAND: &str = "skill";

/// The skill whose inline shell command `event` (a `tool_call`) is, if it is one: its name,
/// empty when the agent named none ([`SKILL_COMMAND`]).
pub fn skill_of(event: &Event) -> Option<&str> {
    (event.event_type == EventType::ToolCall)
        .then(|| event.data.get(SKILL_COMMAND).and_then(Value::as_str))
        .flatten()
}

/// What a value the store cut to its size limit ends with, before its size in all: `… [cut by
/// agent-strace: N bytes in all]`. A folder holding it names no real folder.
pub const CUT_MARK: &str = "[cut by agent-strace: ";

/// What ends a cut value's kept start: an ellipsis and the value's size in all, in bytes (of
/// JSON text, for a recorded value). Everything that cuts a value (the sink's cap, a proxy's
/// cut copy of a huge message, an exported attribute) ends it the same way, so that no reader
/// takes the size for the bytes cut off.
pub fn cut_marker(size: u64) -> String {
    format!("… {CUT_MARK}{size} bytes in all]")
}

/// The size in all of `text`, in bytes: its own when it was never cut, else the size its cut
/// marker ([`cut_marker`]) names, so that a value cut again says what the first cut did.
pub fn size_in_all(text: &str) -> u64 {
    text.strip_suffix(" bytes in all]")
        .and_then(|rest| rest.rsplit_once(CUT_MARK))
        .and_then(|(kept, size)| {
            let size: u64 = size.parse().ok()?;
            (kept.ends_with("… ") && size > text.len() as u64).then_some(size)
        })
        .unwrap_or(text.len() as u64)
}

/// Whether `value` holds a text the store cut to its size limit ([`cut_marker`]): a call's
/// arguments recorded so keep only their start, and what they did past it is not on record.
pub fn holds_cut(value: &Value) -> bool {
    match value {
        Value::String(text) => size_in_all(text) > text.len() as u64,
        Value::Array(items) => items.iter().any(holds_cut),
        Value::Object(map) => map.values().any(holds_cut),
        _ => false,
    }
}

/// Where a search or a bulk read looks ([`ToolCall::search_scope`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchScope<'a> {
    /// Folders (or files) it searches.
    pub folders: Vec<&'a str>,
    /// Globs of the files it takes, relative to each folder (or to the working folder).
    pub globs: Vec<&'a str>,
}

/// One replacement an edit makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit<'a> {
    pub old: &'a str,
    pub new: &'a str,
}

/// One hunk of the patch an edit tool reported (Claude Code's `structuredPatch`), with the
/// file's own line numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchHunk<'a> {
    pub old_start: u64,
    pub old_lines: u64,
    pub new_start: u64,
    pub new_lines: u64,
    /// Lines as a unified diff writes them: ` `, `-` or `+`, then the text.
    pub lines: Vec<&'a str>,
}

/// A tool's result or failure.
#[derive(Debug, Clone)]
pub struct ToolResult<'a> {
    pub tool: Option<&'a str>,
    pub kind: ToolKind,
    /// What the tool returned: the structured response when one was kept, else its text.
    pub output: Option<&'a Value>,
    /// The result as text, as the writer stored it under `result`.
    pub text: Option<&'a Value>,
    /// Why it failed, or the text that stands for a refused call; `None` for a success.
    pub error: Option<Cow<'a, str>>,
    /// Done, failed, or refused by the user.
    pub outcome: ToolOutcome,
    /// Who refused the call, and why when they said; `None` unless `outcome` is `Rejected`.
    pub refusal: Option<Refusal<'a>>,
    /// An error that names no tool and no call: an API error that ended the turn, the turn's,
    /// a [`ToolResult::protocol_error`] or a [`ToolResult::unrecorded`]; not a tool's.
    pub of_no_call: bool,
    /// An error of no call an MCP proxy recorded of the traffic it carries
    /// ([`super::head::EventHead::protocol_error`]): no turn's and no call's.
    pub protocol_error: bool,
    /// The messages an MCP proxy relayed and did not record, when this is the error its
    /// recorder wrote for falling behind, or 0 when the proxy stopped recording
    /// ([`super::head::EventHead::unrecorded`]): a gap in the recording, no turn's, no call's
    /// and no protocol error.
    pub unrecorded: Option<u64>,
    /// The error of a server the MCP proxy could not launch
    /// ([`super::head::EventHead::launch_failure`]): no turn's and no call's.
    pub launch_failure: bool,
    pub duration_ms: Option<f64>,
    pub tool_use_id: Option<&'a str>,
}

/// Who refused a call, and the reason given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal<'a> {
    pub by: RefusedBy,
    /// Auto mode's classifier's reason: the one our hook recorded beside the refusal
    /// (PermissionDenied's `reason`), else the one the refusal's text gives.
    pub reason: Option<&'a str>,
}

/// A model response.
#[derive(Debug, Clone)]
pub struct LlmResponse<'a> {
    pub model: Option<&'a str>,
    /// Usage by kind, when the writer recorded an API usage object.
    pub usage: Option<Tokens>,
    /// The total the writer recorded, however it spelled it.
    pub total: u64,
    pub duration_ms: Option<f64>,
    /// The usage is a whole session's, summed over its responses (older Copilot CLI writes
    /// only these, at shutdown), so it tells no one response's context.
    pub session_total: bool,
    /// The writer recorded usage, but a count in it is one no response can have (`ApiUsage`):
    /// `usage` is `None` and `total` 0 for that reason, not for want of a record.
    pub unbelieved: bool,
    /// The context window the agent said its model had when it answered ([`CONTEXT_WINDOW`]),
    /// when it said one (Codex does): truer than the price table's window for the model.
    pub context_window: Option<u64>,
}

/// The key of an `llm_response`'s context window, as the agent recorded it.
pub const CONTEXT_WINDOW: &str = "context_window";

/// A file read or written.
#[derive(Debug, Clone)]
pub struct FileTouch<'a> {
    pub path: Option<&'a str>,
    /// The file changed (a `file_write`): written, deleted or moved.
    pub write: bool,
    /// What was done to it, a deletion or a move told from a write.
    pub file_use: FileUse,
    pub tool: Option<&'a str>,
}

/// An event with no kind of its own: a hook event, an MCP method, an HTTP exchange.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    /// What happened: the hook event, the MCP method, the choice, or `METHOD path`.
    pub name: Cow<'a, str>,
    /// The message, reason, trigger or tool that says more.
    pub detail: Option<&'a str>,
    /// This answers an earlier request (an MCP response).
    pub answer: bool,
    pub duration_ms: Option<f64>,
    /// `compaction` for a compaction, as the writer named it.
    pub kind: Option<&'a str>,
}

/// An interrupt that ended the turn: who sent it, why and how, as far as the agent said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupt<'a> {
    /// Who: `user` (a person, or a client that does not say), `session` (another session's
    /// agent), `system` (a hook, plugin, permission check or app).
    pub source: Option<&'a str>,
    /// Why: `stop` (Esc, Ctrl+C or an interrupt request), `permission_denied`, `rewind` (back
    /// to an earlier message), `other`.
    pub reason: Option<&'a str>,
    /// How it arrived: `terminal` or `client`, where known.
    pub via: Option<&'a str>,
}

/// The `hook_event_name` of a `decision` that records an interrupt ([`Interrupt`]).
const INTERRUPT: &str = "Interrupt";
/// What the Python tool's proxy and `@trace_tool` keep of a result: its first 200 characters.
const CONTENT_PREVIEW: &str = "content_preview";

/// A compaction of the conversation.
#[derive(Debug, Clone)]
pub struct Compaction<'a> {
    /// `auto` or `manual`, when known.
    pub trigger: Option<&'a str>,
    /// How many tokens of context there were before.
    pub pre_tokens: Option<u64>,
    /// The summary that replaced the conversation so far.
    pub summary: Option<&'a str>,
}

/// A subagent starting or stopping, seen from its parent.
#[derive(Debug, Clone)]
pub struct Subagent<'a> {
    pub start: bool,
    pub child_session: Option<&'a str>,
    pub agent_type: Option<&'a str>,
}

/// The `kind` of a `decision` that holds the model's reasoning (`reasoning`: its text).
pub const KIND_THINKING: &str = "thinking";
/// The `kind` of a `decision` that records a compaction (`summary`, `trigger`, `pre_tokens`).
pub const KIND_COMPACTION: &str = "compaction";
/// The `choice` of a `decision` that records a hook blocking the agent's stop, the hook's words
/// its `reason`: the `choice` and `reason` are what the Python tool shows of a decision.
pub const STOP_BLOCKED: &str = "stop blocked by a hook";

/// A string field of `value`, if it is there, a string and not empty.
fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl<'a> View<'a> {
    /// The view of `event`, recorded in a session of `agent`.
    pub fn of(event: &'a Event, agent: Agent) -> View<'a> {
        let d = &event.data;
        match &event.event_type {
            EventType::SessionStart => View::SessionStart(SessionStart {
                source: text(d, "source"),
                cwd: text(d, "cwd"),
                model: text(d, "model"),
                transcript_path: text(d, "transcript_path"),
                version: text(d, "version"),
                git_branch: text(d, "git_branch"),
                git_repository: text(d, "git_repository"),
                budget_usd: d
                    .get("budget_dollars")
                    .or_else(|| d.get("max_cost_dollars"))
                    .and_then(Value::as_f64)
                    .filter(|b| *b > 0.0),
            }),
            EventType::SessionEnd => View::SessionEnd {
                reason: text(d, "reason"),
            },
            EventType::UserPrompt => {
                let prompt = Text::of(d.get("prompt"));
                // The Python tool marks a compaction's summary; older imports left it a prompt.
                if d.get("is_compaction_summary") == Some(&Value::Bool(true))
                    || prompt.prompt().kind == PromptKind::CompactionSummary
                {
                    View::Compaction(Compaction {
                        trigger: None,
                        pre_tokens: None,
                        summary: text(d, "context_summary").or(Some(prompt.text)),
                    })
                } else {
                    View::Prompt(prompt)
                }
            }
            EventType::AssistantResponse => View::Answer(Text::of(d.get("text"))),
            EventType::ToolCall => View::ToolCall(ToolCall::of(event, agent)),
            EventType::ToolResult | EventType::Error => {
                View::ToolResult(ToolResult::of(event, agent))
            }
            EventType::LlmRequest => View::LlmRequest {
                model: text(d, "model"),
            },
            EventType::LlmResponse => View::LlmResponse(LlmResponse::of(event)),
            // The Python tool's proxy names an MCP resource read or updated by its `uri`.
            EventType::FileRead | EventType::FileWrite => {
                let write = event.event_type == EventType::FileWrite;
                View::FileTouch(FileTouch {
                    path: text(d, "path").or_else(|| text(d, "uri")),
                    write,
                    file_use: FileUse::of_data(write, &event.data),
                    tool: text(d, "tool_name"),
                })
            }
            EventType::Decision => match text(d, "kind") {
                Some(KIND_THINKING) => View::Thinking(Text::of(d.get("reasoning"))),
                Some(KIND_COMPACTION) => View::Compaction(Compaction {
                    trigger: text(d, "trigger"),
                    pre_tokens: d.get("pre_tokens").and_then(Value::as_u64),
                    summary: text(d, "summary"),
                }),
                _ if text(d, "hook_event_name") == Some(INTERRUPT) => View::Interrupt(Interrupt {
                    source: text(d, "source"),
                    reason: text(d, "reason"),
                    via: text(d, "via"),
                }),
                _ => View::Decision(Decision::of(event)),
            },
            EventType::SubagentStart | EventType::SubagentStop => View::Subagent(Subagent {
                start: event.event_type == EventType::SubagentStart,
                child_session: text(d, "child_session_id"),
                agent_type: text(d, "agent_type"),
            }),
            EventType::Other(_) => View::Other,
        }
    }
}

impl<'a> View<'a> {
    /// The model this event says the session runs (its start, a request, a response), used or
    /// not: what a session that recorded no usage is estimated as.
    pub fn names_model(&self) -> Option<&'a str> {
        let model = match self {
            View::SessionStart(start) => start.model,
            View::LlmRequest { model } => *model,
            View::LlmResponse(response) => response.model,
            _ => None,
        };
        model.filter(|m| !m.trim().is_empty())
    }
}

impl View<'_> {
    /// What the agent read (prompts, results, errors) and wrote (calls' arguments, answers),
    /// in bytes of text: the ground of token estimates for sessions that recorded no usage.
    pub fn payload_sizes(&self) -> (usize, usize) {
        match self {
            View::Prompt(prompt) => (prompt.size(), 0),
            View::ToolResult(result) => (result.size(), 0),
            View::ToolCall(call) => (0, json_size(Some(call.arguments))),
            View::Answer(answer) | View::Thinking(answer) => (0, answer.size()),
            View::Compaction(compaction) => (compaction.summary.map_or(0, str::len), 0),
            _ => (0, 0),
        }
    }
}

impl<'a> Text<'a> {
    fn of(value: Option<&'a Value>) -> Text<'a> {
        Text {
            text: value.and_then(Value::as_str).unwrap_or_default(),
            raw: value,
        }
    }

    /// The text read as a prompt: what a person wrote, or what was added for them.
    pub fn prompt(&self) -> Prompt<'a> {
        prompt::read(self.text)
    }

    /// The text's size in bytes, or its JSON's for a writer that put something else there.
    pub fn size(&self) -> usize {
        json_size(self.raw)
    }
}

/// The size of a value as text: a string's bytes, anything else's JSON.
pub fn json_size(value: Option<&Value>) -> usize {
    value.map_or(0, |v| {
        v.as_str().map_or_else(|| v.to_string().len(), str::len)
    })
}

impl<'a> ToolCall<'a> {
    /// The call an event records; `None` unless it is a `tool_call`.
    pub fn from_event(event: &'a Event, agent: Agent) -> Option<ToolCall<'a>> {
        (event.event_type == EventType::ToolCall).then(|| ToolCall::of(event, agent))
    }

    /// A call not read from an event: one a hook or an importer is about to record, of `tool`
    /// with `arguments`, run where the session started.
    pub fn new(agent: Agent, tool: &'a str, arguments: &'a Value) -> ToolCall<'a> {
        ToolCall {
            agent,
            tool,
            kind: tools::classify(agent, tool),
            spec: tools::spec_of(agent, tool),
            arguments,
            tool_use_id: None,
            cwd: None,
        }
    }

    fn of(event: &'a Event, agent: Agent) -> ToolCall<'a> {
        let tool = text(&event.data, "tool_name").unwrap_or_default();
        ToolCall {
            agent,
            tool,
            kind: tools::classify(agent, tool),
            spec: tools::spec_of(agent, tool),
            arguments: event.data.get("arguments").unwrap_or(&Value::Null),
            tool_use_id: text(&event.data, "tool_use_id"),
            cwd: text(&event.data, CALL_FOLDER),
        }
    }

    /// A string argument, if the call has it and it is not empty.
    pub fn arg(&self, key: &str) -> Option<&'a str> {
        text(self.arguments, key)
    }

    /// The file a file tool reads or writes.
    pub fn path(&self) -> Option<&'a str> {
        if !self.kind.is_file() {
            return None;
        }
        self.spec
            .and_then(|s| s.subject)
            .and_then(|key| self.arg(key))
            .or_else(|| self.arg("file_path"))
            .or_else(|| self.arg("path"))
    }

    /// What a file tool does to the file it names ([`ToolCall::path`]): reads it, writes it,
    /// or deletes it (Cursor's `Delete`, [`tools::deletes_its_file`]). `None` for another
    /// tool.
    pub fn file_use(&self) -> Option<FileUse> {
        match self.kind {
            ToolKind::ReadFile => Some(FileUse::Read),
            ToolKind::WriteFile if tools::deletes_its_file(self.agent, self.tool) => {
                Some(FileUse::Delete)
            }
            ToolKind::WriteFile => Some(FileUse::Write),
            _ => None,
        }
    }

    /// The command a shell tool runs.
    pub fn command(&self) -> Option<&'a str> {
        if self.kind != ToolKind::Shell {
            return None;
        }
        self.spec
            .and_then(|s| s.subject)
            .and_then(|key| self.arg(key))
            .or_else(|| self.arg("command"))
    }

    /// The line a shell tool runs, as its user reads it: the command ([`ToolCall::command`]),
    /// or of a command given as a list of words (Codex's older `shell` tool, a
    /// `local_shell_call`: `["bash", "-lc", "cat k"]`) the script the shell is handed (`cat
    /// k`), as Codex shows it, else the words quoted as Bash would take them back.
    pub fn command_line(&self) -> Option<Cow<'a, str>> {
        if let Some(command) = self.command() {
            return Some(Cow::Borrowed(command));
        }
        if self.kind != ToolKind::Shell {
            return None;
        }
        let words = self.command_words()?;
        if let [shell, flag, script] = words.as_slice()
            && hands_a_script(shell, flag)
        {
            return Some(Cow::Borrowed(script));
        }
        let words: Vec<String> = words.into_iter().map(str::to_owned).collect();
        (!words.is_empty()).then(|| Cow::Owned(super::policy::shell::join(&words)))
    }

    /// The words of a command given as a list (Codex's older `shell` tool, a
    /// `local_shell_call`: `["bash", "-lc", "cat k"]`), when every one is text.
    pub fn command_words(&self) -> Option<Vec<&'a str>> {
        let key = self.spec.and_then(|s| s.subject).unwrap_or("command");
        self.arguments
            .get(key)?
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect()
    }

    /// The texts a write puts into its file: the new content, or each edit's new text.
    pub fn written_texts(&self) -> Vec<&'a str> {
        if self.kind != ToolKind::WriteFile {
            return Vec::new();
        }
        if let Some(edits) = self.arguments.get("edits").and_then(Value::as_array) {
            return edits.iter().filter_map(|e| text(e, "new_string")).collect();
        }
        ["content", "new_string", "new_source"]
            .iter()
            .find_map(|k| self.arg(k))
            .into_iter()
            .collect()
    }

    /// The replacements an edit makes, in order (`old_string` → `new_string`, or each of its
    /// `edits`); empty for a tool that is no edit.
    pub fn edits(&self) -> Vec<Edit<'a>> {
        if self.kind != ToolKind::WriteFile {
            return Vec::new();
        }
        let one = |e: &'a Value| {
            let old = text(e, "old_string");
            let new = e.get("new_string").and_then(Value::as_str);
            (old.is_some() || new.is_some()).then(|| Edit {
                old: old.unwrap_or_default(),
                new: new.unwrap_or_default(),
            })
        };
        match self.arguments.get("edits").and_then(Value::as_array) {
            Some(edits) => edits.iter().filter_map(one).collect(),
            None => one(self.arguments).into_iter().collect(),
        }
    }

    /// Every file a file tool names: its one path, else each path of its list of edits
    /// (VS Code's `multi_replace_string_in_file`: `replacements[].filePath`).
    pub fn files(&self) -> Vec<&'a str> {
        if !self.kind.is_file() {
            return Vec::new();
        }
        if let Some(path) = self.path() {
            return vec![path];
        }
        let mut out = Vec::new();
        for value in self
            .arguments
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for item in value.as_array().into_iter().flatten() {
                if let Some(path) = ["filePath", "file_path", "path"]
                    .iter()
                    .find_map(|key| text(item, key))
                {
                    out.push(path);
                }
            }
        }
        out
    }

    /// Where a search or a bulk read looks: the folders it names and the globs of the files it
    /// takes, each string of a list counted (Claude Code's `Grep` `path` and `glob`, Gemini
    /// CLI's `dir_path`, `include` and `read_many_files` `include` list, VS Code's
    /// `includePattern`, a glob tool's pattern). Empty for a tool that is neither.
    pub fn search_scope(&self) -> SearchScope<'a> {
        let mut scope = SearchScope::default();
        if !(self.kind == ToolKind::Search
            || (self.kind == ToolKind::ReadFile && self.path().is_none()))
        {
            return scope;
        }
        let strings = |key: &str, into: &mut Vec<&'a str>| match self.arguments.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => into.push(s),
            Some(Value::Array(items)) => into.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.trim().is_empty()),
            ),
            _ => {}
        };
        for key in ["path", "dir_path", "directory", "dirPath"] {
            strings(key, &mut scope.folders);
        }
        // Claude Code trims a path before it resolves it (`" secrets"` searches `secrets`):
        // spaces around a folder name no folder anyone would deny.
        for folder in &mut scope.folders {
            *folder = folder.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        }
        for key in [
            "glob",
            "include",
            "include_pattern",
            "includePattern",
            "file_pattern",
            "paths",
        ] {
            strings(key, &mut scope.globs);
        }
        if let Some(spec) = self.spec
            && spec.shape == Shape::Glob
            && let Some(key) = spec.subject
        {
            strings(key, &mut scope.globs);
        }
        scope
    }

    /// The whole content a write puts in its file (`Write`'s `content`, a notebook cell's
    /// `new_source`).
    pub fn content(&self) -> Option<&'a str> {
        if self.kind != ToolKind::WriteFile {
            return None;
        }
        self.arguments
            .get("content")
            .or_else(|| self.arguments.get("new_source"))
            .and_then(Value::as_str)
    }

    /// The one argument worth showing on a line: the command, the path, the pattern, the URL.
    pub fn gist(&self) -> Option<String> {
        let shown = self.spec.and_then(|spec| {
            let subject = spec.subject.and_then(|key| self.arg(key));
            match spec.shape {
                Shape::Plain | Shape::Path => subject.map(str::to_owned),
                Shape::Command => self.command_line().map(|c| format!("$ {c}")),
                Shape::Glob => subject.map(|p| match self.arg("path") {
                    Some(path) => format!("{p} in {path}"),
                    None => p.to_owned(),
                }),
                Shape::Grep => subject.map(|p| match self.arg("path") {
                    Some(path) => format!("/{p}/ in {path}"),
                    None => format!("/{p}/"),
                }),
                Shape::Spawn => self
                    .arg("description")
                    .or_else(|| self.arg("prompt"))
                    .map(|d| format!("\"{d}\"")),
                Shape::Todos => todos_gist(self.arguments),
            }
        });
        shown.or_else(|| generic_argument(self.arguments))
    }

    /// Whether the gist is a path (whose end says more than its start).
    pub fn gist_is_path(&self) -> bool {
        self.spec.is_some_and(|s| s.shape == Shape::Path)
    }

    /// The tool and its arguments with keys sorted: equal for the same call made twice.
    pub fn signature(&self) -> String {
        format!("{}\u{0}{}", self.tool, canonical(self.arguments))
    }
}

/// A to-do list's gist: how many it holds (Claude Code's and Gemini CLI's `todos`), or for a
/// plan of steps (Codex's `update_plan`) how many and the one in progress.
fn todos_gist(arguments: &Value) -> Option<String> {
    if let Some(todos) = arguments.get("todos").and_then(Value::as_array) {
        return Some(format!("{} todos", todos.len()));
    }
    let steps = arguments.get("plan").and_then(Value::as_array)?;
    let doing = steps
        .iter()
        .find(|s| s.get("status").and_then(Value::as_str) == Some("in_progress"))
        .and_then(|s| s.get("step").and_then(Value::as_str));
    let count = match steps.len() {
        1 => "1 step".to_owned(),
        n => format!("{n} steps"),
    };
    Some(match doing {
        Some(step) => format!("{count}, doing: {step}"),
        None => count,
    })
}

/// Whether `shell` given `flag` runs the next word as its script: `bash -lc`, `sh -c`,
/// `powershell.exe -Command`, `cmd /c`.
fn hands_a_script(shell: &str, flag: &str) -> bool {
    let name = shell.rsplit(['/', '\\']).next().unwrap_or(shell);
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    match name {
        "bash" | "sh" | "zsh" | "dash" | "ksh" => flag
            .strip_prefix('-')
            .is_some_and(|f| f.ends_with('c') && f.chars().all(|c| "lic".contains(c))),
        "powershell" | "pwsh" => flag.eq_ignore_ascii_case("-command") || flag == "-c",
        "cmd" => flag.eq_ignore_ascii_case("/c"),
        _ => false,
    }
}

/// For tools we do not know (MCP tools among them): the first string argument whose name says
/// what it is, else any first string, else the arguments as compact JSON.
fn generic_argument(arguments: &Value) -> Option<String> {
    const TELLING: [&str; 9] = [
        "command",
        "path",
        "file_path",
        "url",
        "query",
        "pattern",
        "name",
        "prompt",
        "text",
    ];
    let map = arguments.as_object()?;
    if map.is_empty() {
        return None;
    }
    for key in TELLING {
        if let Some(s) = text(arguments, key) {
            return Some(s.to_owned());
        }
    }
    map.values()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .or_else(|| Some(arguments.to_string()))
}

/// A value as JSON with object keys sorted, so equal values give equal text.
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

impl<'a> Refusal<'a> {
    /// The refusal an `error` event (`d`, its data) records. Our hook records auto mode's
    /// (Claude Code's PermissionDenied) with the classifier's `reason`; a transcript holds only
    /// the words Claude Code gave the model, which say it too.
    fn of(d: &'a Value) -> Refusal<'a> {
        let message = text(d, "error")
            .or_else(|| text(d, "message"))
            .unwrap_or_default();
        let by = if text(d, "hook_event_name") == Some("PermissionDenied") {
            RefusedBy::AutoMode
        } else {
            outcome::refused_by(message)
        };
        let reason = match by {
            RefusedBy::AutoMode => text(d, "reason")
                .filter(|r| !r.trim().is_empty())
                .or_else(|| outcome::auto_mode_reason(message)),
            RefusedBy::User => None,
        };
        Refusal { by, reason }
    }
}

impl<'a> ToolResult<'a> {
    fn of(event: &'a Event, agent: Agent) -> ToolResult<'a> {
        let d = &event.data;
        let tool = text(d, "tool_name");
        let error = (event.event_type == EventType::Error).then(|| {
            match d.get("error").or_else(|| d.get("message")) {
                Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
                Some(Value::Null) | None => Cow::Borrowed(""),
                Some(other) => Cow::Owned(other.to_string()),
            }
        });
        let outcome = error.as_deref().map_or(ToolOutcome::Ok, |message| {
            let interrupted = d.get("is_interrupt").and_then(Value::as_bool) == Some(true);
            ToolOutcome::of_error(message, interrupted)
        });
        let refusal = (outcome == ToolOutcome::Rejected).then(|| Refusal::of(d));
        // An id of the request it answers (the Python tool's proxies, which set no
        // `parent_id`) names a call too: text, or a JSON-RPC id's number.
        let launch_failure = event.event_type == EventType::Error
            && d.get(super::head::LAUNCH_FAILURE) == Some(&Value::Bool(true));
        let of_no_call = event.event_type == EventType::Error
            && !launch_failure
            && tool.is_none()
            && event.parent_id.is_none()
            && text(d, "tool_use_id").is_none()
            && super::head::Id::of_value(d.get("request_id"))
                .hash
                .is_none();
        let unrecorded = d
            .get(super::head::UNRECORDED_MESSAGES)
            .and_then(Value::as_u64)
            .or_else(|| {
                (d.get(super::head::RECORDING_STOPPED) == Some(&Value::Bool(true))).then_some(0)
            })
            .filter(|_| of_no_call && outcome == ToolOutcome::Failed);
        let protocol_error = of_no_call && text(d, "direction").is_some() && unrecorded.is_none();
        ToolResult {
            tool,
            kind: tool.map_or(ToolKind::Other, |t| tools::classify(agent, t)),
            output: d
                .get("tool_response")
                .or_else(|| d.get("result"))
                .or_else(|| d.get(CONTENT_PREVIEW))
                .filter(|v| !v.is_null()),
            text: d
                .get("result")
                .or_else(|| d.get(CONTENT_PREVIEW))
                .filter(|v| !v.is_null()),
            error,
            outcome,
            refusal,
            of_no_call,
            protocol_error,
            unrecorded,
            launch_failure,
            duration_ms: believed_duration_ms(event.duration_ms),
            tool_use_id: text(d, "tool_use_id"),
        }
    }

    /// The tool failed (a refused call did not fail: see [`ToolResult::rejected`]).
    pub fn failed(&self) -> bool {
        self.outcome == ToolOutcome::Failed
    }

    /// The user refused or stopped the call.
    pub fn rejected(&self) -> bool {
        self.outcome == ToolOutcome::Rejected
    }

    /// The call failed only because a call made beside it in a parallel batch failed: it
    /// never ran, so its input was never tried ([`outcome::cancelled_by_sibling`]).
    pub fn cancelled_by_sibling(&self) -> bool {
        self.failed()
            && self
                .error
                .as_deref()
                .is_some_and(outcome::cancelled_by_sibling)
    }

    /// The size of what came back (the result's text, else its structure, else the error).
    pub fn size(&self) -> usize {
        match &self.error {
            Some(e) => e.len(),
            None => json_size(self.text.or(self.output)),
        }
    }

    /// Everything that came back, as text: the error; a command's output (stdout, then
    /// stderr); the text the tool returned; else its JSON, pretty-printed.
    pub fn full_text(&self) -> Option<Cow<'a, str>> {
        if let Some(error) = &self.error {
            return Some(error.clone());
        }
        let output = self.output?;
        if let Value::Object(map) = output {
            let field = |k: &str| map.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            if map.contains_key("stdout") || map.contains_key("stderr") {
                let parts: Vec<&str> = [field("stdout"), field("stderr")]
                    .into_iter()
                    .flatten()
                    .collect();
                return Some(Cow::Owned(parts.join("\n")));
            }
        }
        if let Some(s) = self.text.and_then(Value::as_str) {
            return Some(Cow::Borrowed(s));
        }
        match output {
            Value::String(s) => Some(Cow::Borrowed(s)),
            Value::Array(_) => content_text(output).map(Cow::Owned),
            other => serde_json::to_string_pretty(other).ok().map(Cow::Owned),
        }
    }

    /// The patch an edit tool reported, with the file's line numbers, when it reported one.
    pub fn patch(&self) -> Vec<PatchHunk<'a>> {
        let Some(hunks) = self
            .output
            .and_then(|o| o.get("structuredPatch"))
            .and_then(Value::as_array)
        else {
            return Vec::new();
        };
        hunks
            .iter()
            .filter_map(|h| {
                let number = |k: &str| h.get(k).and_then(Value::as_u64).unwrap_or(0);
                Some(PatchHunk {
                    old_start: number("oldStart"),
                    old_lines: number("oldLines"),
                    new_start: number("newStart"),
                    new_lines: number("newLines"),
                    lines: h
                        .get("lines")?
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_str)
                        .collect(),
                })
            })
            .collect()
    }

    /// A one-line gist of the result, when it has a telling line (command output, an error).
    pub fn gist(&self) -> Option<String> {
        self.output.and_then(result_gist)
    }
}

/// A one-line gist of a result: the last line of command output (where its verdict is), the
/// first line of anything else.
fn result_gist(result: &Value) -> Option<String> {
    let pick = |text: &str, last: bool| {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if last {
            lines.next_back()
        } else {
            lines.next()
        }
        .map(str::to_owned)
    };
    match result {
        Value::String(s) => pick(s, false),
        Value::Object(map) => {
            let field = |k: &str| {
                map.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            };
            // Command output ends with its verdict ("24 passed in 0.81s"): show the last line.
            if let Some(out) = field("stdout").or_else(|| field("stderr")) {
                return pick(out, true);
            }
            field("error")
                .or_else(|| field("output"))
                .or_else(|| field("result"))
                .map(str::to_owned)
                .or_else(|| map.get("content").and_then(content_text))
                .and_then(|t| pick(&t, false))
        }
        Value::Array(_) => content_text(result).and_then(|t| pick(&t, false)),
        _ => None,
    }
}

/// The text of an MCP-style content array (`[{"type":"text","text":...}]`).
fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => blocks
            .iter()
            .find_map(|b| b.get("text").and_then(Value::as_str).map(str::to_owned)),
        _ => None,
    }
}

impl LlmResponse<'_> {
    /// Whether this response's usage is priced at long-context rates by the models that have
    /// them (see [`super::pricing::long_context`]): never for a session's total.
    pub fn long_context(&self) -> bool {
        self.usage
            .is_some_and(|t| super::pricing::long_context(&t, !self.session_total))
    }
}

/// A response's usage was recorded, but holds a count no response can have ([`ApiUsage`]):
/// an `llm_response` ([`LlmResponse::unbelieved`]), or an `assistant_response` carrying
/// usage (the Python tool's import). Its tokens are unknown: readers count none, and say so.
///
/// [`ApiUsage`]: super::usage::ApiUsage
pub fn unbelieved_usage(event: &Event) -> bool {
    match event.event_type {
        EventType::LlmResponse => LlmResponse::of(event).unbelieved,
        EventType::AssistantResponse => event
            .data
            .get("usage")
            .filter(|u| u.is_object())
            .is_some_and(|u| Tokens::read_usage(u).is_none()),
        _ => false,
    }
}

/// The counts an `llm_response` with no usage object may hold beside its model, named as a
/// usage object names them (the Python tool's SDK integrations write the first two).
const TOP_LEVEL_USAGE: [&str; 4] = [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
];

impl<'a> LlmResponse<'a> {
    /// The response an event records; `None` unless it is an `llm_response`.
    pub fn from_event(event: &'a Event) -> Option<LlmResponse<'a>> {
        (event.event_type == EventType::LlmResponse).then(|| LlmResponse::of(event))
    }

    fn of(event: &'a Event) -> LlmResponse<'a> {
        let d = &event.data;
        // A usage object that holds a count no response can have is unknown: no usage, and no
        // total (`ApiUsage`).
        let recorded = d.get("usage").filter(|u| u.is_object()).map(Cow::Borrowed);
        // The Python tool's SDK integrations (Anthropic, OpenAI, LiteLLM) write a response's
        // counts beside its model, with no usage object: those counts are its usage.
        let recorded = recorded.or_else(|| {
            let beside: serde_json::Map<String, Value> = TOP_LEVEL_USAGE
                .iter()
                .filter_map(|&k| Some((k.to_owned(), d.get(k)?.clone())))
                .collect();
            let counts =
                beside.contains_key("input_tokens") || beside.contains_key("output_tokens");
            counts.then(|| Cow::Owned(Value::Object(beside)))
        });
        let usage = recorded.as_deref().and_then(Tokens::read_usage);
        let number = |key: &str| d.get(key).and_then(Value::as_u64);
        let (total, unbelieved) = match (&recorded, usage) {
            (_, Some(t)) => (t.total(), false),
            (Some(_), None) => (0, true),
            (None, None) => {
                let total = number("total_tokens")
                    .or_else(|| number("tokens"))
                    .unwrap_or_else(|| {
                        number("input_tokens")
                            .unwrap_or(0)
                            .saturating_add(number("output_tokens").unwrap_or(0))
                    });
                believed_tokens(total).map_or((0, true), |total| (total, false))
            }
        };
        LlmResponse {
            model: text(d, "model"),
            usage,
            total,
            duration_ms: believed_duration_ms(event.duration_ms),
            session_total: text(d, "scope") == Some("session"),
            unbelieved,
            context_window: number(CONTEXT_WINDOW).filter(|w| *w > 0),
        }
    }
}

impl Interrupt<'_> {
    /// Who interrupted, in the words readers show: `the user` when the agent did not say.
    pub fn by_words(&self) -> &str {
        match self.source {
            None | Some("user") => "the user",
            Some("session") => "another session",
            Some("system") => "the system",
            Some(other) => other,
        }
    }

    /// Why and how, in words (`stopped, in the terminal`); `None` when the agent said neither.
    pub fn detail(&self) -> Option<String> {
        let why = self.reason.map(|reason| match reason {
            "stop" => "stopped",
            "permission_denied" => "a permission was denied",
            "rewind" => "rewound to an earlier message",
            other => other,
        });
        let how = self.via.map(|via| match via {
            "terminal" => "in the terminal".to_owned(),
            "client" => "from a client".to_owned(),
            other => format!("via {other}"),
        });
        let parts: Vec<String> = why.map(str::to_owned).into_iter().chain(how).collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl<'a> Decision<'a> {
    fn of(event: &'a Event) -> Decision<'a> {
        let d = &event.data;
        let http = text(d, "http_method")
            .map(|m| Cow::Owned(format!("{m} {}", text(d, "path").unwrap_or_default())));
        let name = text(d, "hook_event_name")
            .or_else(|| text(d, "method"))
            .or_else(|| text(d, "choice"))
            .map(Cow::Borrowed)
            .or(http)
            .unwrap_or(Cow::Borrowed("decision"));
        Decision {
            name,
            detail: text(d, "message")
                .or_else(|| text(d, "reason"))
                .or_else(|| text(d, "trigger"))
                .or_else(|| text(d, "tool_name")),
            answer: d.get("response") == Some(&Value::Bool(true)),
            duration_ms: believed_duration_ms(event.duration_ms),
            kind: text(d, "kind"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cut_text_is_as_large_as_its_marker_says() {
        let cut = format!("abc{}", cut_marker(5000));
        assert_eq!(size_in_all(&cut), 5000);
        assert_eq!(size_in_all("abc"), 3);
        // A marker saying less than the text holds, or with no ellipsis, is no cut's.
        let small = format!("abc{}", cut_marker(3));
        assert_eq!(size_in_all(&small), small.len() as u64);
        let unmarked = format!("abc{CUT_MARK}5000 bytes in all]");
        assert_eq!(size_in_all(&unmarked), unmarked.len() as u64);
    }

    fn event(kind: EventType, data: Value) -> Event {
        Event::new(kind, 1.0, "e".into(), "s".into()).with_data(data)
    }

    fn call(tool: &str, arguments: Value) -> Event {
        let mut data = json!({"tool_name": tool});
        data["arguments"] = arguments;
        event(EventType::ToolCall, data)
    }

    fn gist(tool: &str, arguments: Value) -> Option<String> {
        let e = call(tool, arguments);
        ToolCall::from_event(&e, Agent::ClaudeCode)?.gist()
    }

    #[test]
    fn a_command_given_as_words_is_shown_as_its_line() {
        let line = |words: Value| {
            let e = call("shell", json!({ "command": words }));
            let call = ToolCall::from_event(&e, Agent::Codex).unwrap();
            (call.command().is_some(), call.gist().unwrap())
        };
        // `command` is the text a tool was given; the line shown is read from the list.
        assert_eq!(
            line(json!(["bash", "-lc", "cat k"])),
            (false, "$ cat k".into())
        );
        assert_eq!(line(json!(["/bin/sh", "-c", "ls"])).1, "$ ls");
        assert_eq!(
            line(json!(["powershell.exe", "-Command", "gc k"])).1,
            "$ gc k"
        );
        assert_eq!(line(json!(["CMD", "/C", "type k"])).1, "$ type k");
        assert_eq!(
            line(json!(["rg", "-n", "a b", "src"])).1,
            "$ rg -n 'a b' src"
        );
        // A shell given more than a script: its words.
        assert_eq!(
            line(json!(["bash", "-c", "echo $0", "x"])).1,
            "$ bash -c 'echo $0' x"
        );
        assert_eq!(line(json!(["bash", "-x", "run.sh"])).1, "$ bash -x run.sh");
    }

    #[test]
    fn known_tools_show_their_telling_argument() {
        assert_eq!(gist("Bash", json!({"command": "ls"})).unwrap(), "$ ls");
        assert_eq!(
            gist("Read", json!({"file_path": "/a.rs"})).unwrap(),
            "/a.rs"
        );
        assert_eq!(
            gist("Glob", json!({"pattern": "**/*.rs"})).unwrap(),
            "**/*.rs"
        );
        assert_eq!(
            gist("Grep", json!({"pattern": "fn", "path": "src"})).unwrap(),
            "/fn/ in src"
        );
        assert_eq!(
            gist("Task", json!({"description": "look", "prompt": "p"})).unwrap(),
            "\"look\""
        );
        assert_eq!(
            gist(
                "mcp__github__get_issue",
                json!({"owner": "o", "issue_number": 3})
            )
            .unwrap(),
            "o"
        );
        assert_eq!(gist("X", json!({"n": 1})).unwrap(), "{\"n\":1}");
        assert_eq!(gist("X", json!({})), None);
    }

    #[test]
    fn calls_name_their_file_and_command() {
        let e = call(
            "NotebookEdit",
            json!({"notebook_path": "/n.ipynb", "new_source": "x"}),
        );
        let c = ToolCall::from_event(&e, Agent::ClaudeCode).unwrap();
        assert_eq!(c.kind, ToolKind::WriteFile);
        assert_eq!(c.path(), Some("/n.ipynb"));
        assert_eq!(c.command(), None);
        assert_eq!(c.written_texts(), vec!["x"]);
        let e = call(
            "MultiEdit",
            json!({"file_path": "/a", "edits": [{"new_string": "1"}, {"new_string": "2"}]}),
        );
        let c = ToolCall::from_event(&e, Agent::ClaudeCode).unwrap();
        assert_eq!(c.written_texts(), vec!["1", "2"]);
        let e = call("Bash", json!({"command": "cargo test"}));
        let c = ToolCall::from_event(&e, Agent::ClaudeCode).unwrap();
        assert_eq!((c.command(), c.path()), (Some("cargo test"), None));
    }

    #[test]
    fn signatures_ignore_key_order() {
        let a = call("Bash", json!({"command": "ls", "timeout": 5}));
        let b = call("Bash", json!({"timeout": 5, "command": "ls"}));
        let sig = |e: &Event| {
            ToolCall::from_event(e, Agent::ClaudeCode)
                .unwrap()
                .signature()
        };
        assert_eq!(sig(&a), sig(&b));
    }

    #[test]
    fn results_and_errors() {
        let ok = event(
            EventType::ToolResult,
            json!({"tool_name": "Bash", "result": "x", "tool_response": {"stdout": "\n....\n75 passed\n", "stderr": ""}}),
        );
        let View::ToolResult(r) = View::of(&ok, Agent::ClaudeCode) else {
            panic!("a result")
        };
        assert!(!r.failed());
        assert_eq!(r.kind, ToolKind::Shell);
        assert_eq!(r.gist().unwrap(), "75 passed");
        let err = event(
            EventType::Error,
            json!({"tool_name": "Bash", "error": {"code": 1}}),
        );
        let View::ToolResult(r) = View::of(&err, Agent::ClaudeCode) else {
            panic!("a failure")
        };
        assert_eq!(r.error.as_deref(), Some("{\"code\":1}"));
        let mcp = event(
            EventType::ToolResult,
            json!({"result": [{"type": "text", "text": "hi"}]}),
        );
        let View::ToolResult(r) = View::of(&mcp, Agent::Mcp) else {
            panic!("a result")
        };
        assert_eq!(r.gist().unwrap(), "hi");
    }

    #[test]
    fn an_interrupt_says_who_why_and_how() {
        let interrupt = |data: Value| {
            let e = event(EventType::Decision, data);
            match View::of(&e, Agent::ClaudeCode) {
                View::Interrupt(i) => Some((i.by_words().to_owned(), i.detail())),
                _ => None,
            }
        };
        assert_eq!(
            interrupt(
                json!({"hook_event_name": "Interrupt", "source": "user", "reason": "stop", "via": "client"})
            ),
            Some((
                "the user".to_owned(),
                Some("stopped, from a client".to_owned())
            ))
        );
        assert_eq!(
            interrupt(
                json!({"hook_event_name": "Interrupt", "source": "session", "reason": "rewind"})
            ),
            Some((
                "another session".to_owned(),
                Some("rewound to an earlier message".to_owned())
            ))
        );
        assert_eq!(
            interrupt(json!({"hook_event_name": "Interrupt"})),
            Some(("the user".to_owned(), None))
        );
        assert_eq!(
            interrupt(json!({"hook_event_name": "Notification", "reason": "stop"})),
            None
        );
    }

    #[test]
    fn a_refusal_says_who_refused_and_an_error_of_no_call_is_the_turns() {
        let result = |data: Value| {
            let e = event(EventType::Error, data);
            let View::ToolResult(r) = View::of(&e, Agent::ClaudeCode) else {
                panic!("an error")
            };
            let refusal = r.refusal.map(|r| (r.by, r.reason.map(str::to_owned)));
            (refusal, r.of_no_call)
        };
        let auto = |reason: &str| Some((RefusedBy::AutoMode, Some(reason.to_owned())));
        // Our hook's record of a PermissionDenied, and a transcript's text alone.
        assert_eq!(
            result(
                json!({"tool_name": "Bash", "error": "Permission for this action has been denied. Reason: x", "hook_event_name": "PermissionDenied", "reason": "the reason"})
            ),
            (auto("the reason"), false)
        );
        assert_eq!(
            result(
                json!({"tool_name": "Bash", "error": "Permission for this action has been denied. Reason: deletes files"})
            ),
            (auto("deletes files"), false)
        );
        assert_eq!(
            result(json!({"tool_name": "Bash", "error": "User rejected tool use"})).0,
            Some((RefusedBy::User, None))
        );
        assert_eq!(
            result(json!({"tool_name": "Bash", "error": "exit 1"})),
            (None, false)
        );
        assert_eq!(
            result(json!({"error": "API error (rate_limit)", "hook_event_name": "StopFailure"})),
            (None, true)
        );
        assert!(!result(json!({"error": "x", "tool_use_id": "toolu_1"})).1);
    }

    #[test]
    fn responses_read_every_spelling_of_usage() {
        let e = event(
            EventType::LlmResponse,
            json!({"model": "m", "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 10}}),
        );
        let r = LlmResponse::from_event(&e).unwrap();
        assert_eq!((r.model, r.total), (Some("m"), 17));
        assert_eq!(r.usage.unwrap().cache_read, 10);
        let e = event(
            EventType::LlmResponse,
            json!({"input_tokens": 3, "output_tokens": 4}),
        );
        // Counts beside the model (the Python tool's SDK integrations) are its usage.
        let r = LlmResponse::from_event(&e).unwrap();
        assert_eq!(r.total, 7);
        assert_eq!(r.usage.map(|u| (u.input, u.output)), Some((3, 4)));
        let e = event(EventType::LlmResponse, json!({"total_tokens": 9}));
        let r = LlmResponse::from_event(&e).unwrap();
        assert_eq!((r.total, r.usage), (9, None));
    }

    #[test]
    fn decisions_name_what_happened() {
        let e = event(
            EventType::Decision,
            json!({"http_method": "POST", "path": "/mcp"}),
        );
        let View::Decision(d) = View::of(&e, Agent::Mcp) else {
            panic!("a decision")
        };
        assert_eq!(d.name, "POST /mcp");
        let e = event(
            EventType::Decision,
            json!({"method": "tools/list", "response": true}),
        );
        let View::Decision(d) = View::of(&e, Agent::Mcp) else {
            panic!("a decision")
        };
        assert!(d.answer);
        assert_eq!(d.name, "tools/list");
    }
}
