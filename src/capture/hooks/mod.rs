//! Agent hooks: one process per hook event, whichever agent runs it, recorded into the store.
//!
//! # Architecture
//! - [`payload`]: the normal form every agent's payload is read into.
//! - [`claude_code`], [`codex`], [`copilot`], [`cursor`], [`gemini`], [`vscode`]: each agent's
//!   wire format, read into the normal form (and its denial printer).
//! - [`record`]: the one recorder: what each event becomes in the store; [`streamed`]: its
//!   part for model responses whose hooks see them in chunks (Gemini CLI).
//! - [`spawn`]: pairing subagents with the calls that spawned them, by what they share.
//! - [`outcome`]: what the hook decided; [`reply`]: how each agent is told it (printed by
//!   `cli/hook.rs`).
//!
//! Which agent sent a payload: the one `hook --agent <name>` names, when the command line says
//! (setup writes it into each agent's own config, which only that agent reads); else what
//! [`Signals`] and the payload tell, because VS Code, Cursor and Copilot CLI also run the plain
//! `agent-strace hook …` commands of Claude Code's settings files (docs/agents.md §8).

pub mod claude_code;
pub mod codex;
pub mod copilot;
pub mod cursor;
pub mod gemini;
pub mod outcome;
pub mod payload;
mod record;
pub mod reply;
mod spawn;
mod streamed;
mod unanswered;
pub mod vscode;

pub use outcome::Outcome;
pub use payload::{Answer, HOOK_ARGS, HookEvent, HookPayload, LastResponse, PayloadError, ToolUse};
pub use record::{
    LateAnswer, Ran, Recorded, copilot_answer_when_written, judge, may_leave_answer_pending,
    outcome, owes_part, record, record_attributed, record_late_answer, record_sent_late_answer,
};
pub use reply::{Reply, reply};

use serde_json::{Map, Value};

use super::bounded_json;

use crate::model::Agent;

/// What tells the agent apart besides the payload: the `--agent` the command line names and
/// the variables each agent sets in its hooks' environment (collected by `cli`, which alone
/// reads the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// `hook --agent <name>`: written by setup into the agent's own config; trusted.
    pub declared: Option<Agent>,
    /// `CURSOR_VERSION` is set.
    pub cursor: bool,
    /// `GEMINI_SESSION_ID` is set.
    pub gemini: bool,
    /// `COPILOT_CLI=1`.
    pub copilot: bool,
}

/// Reads a payload from stdin's bytes into the normal form, telling the agent by its fields.
/// `arg` is the `hook <event>` argument, used when the payload does not name its event.
pub fn read_payload(
    arg: &str,
    stdin: &[u8],
    signals: &Signals,
) -> Result<HookPayload, PayloadError> {
    read_hook(arg, stdin, signals).map(|read| read.payload)
}

/// A payload read, and what its shape says about the file that ran the hook.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadHook {
    pub payload: HookPayload,
    /// The payload has the shape Claude Code's settings files give every agent that runs them
    /// (Claude's snake_case, or VS Code's camelCase common fields), not the agent's own.
    pub claude_shaped: bool,
}

impl ReadHook {
    /// The agent whose own agent-strace hooks, if installed, make this invocation a duplicate
    /// (docs/agents.md §8): a hook without `--agent` (so from Claude Code's settings files, or a
    /// copied command) that VS Code or Copilot CLI ran with a Claude-shaped payload, or that
    /// Cursor ran with any payload.
    /// Whether that agent's own hooks are installed is for the caller to find out (it is a
    /// look at the agent's config files).
    pub fn duplicate_unless_alone(&self, signals: &Signals) -> Option<Agent> {
        let agent = self.payload.agent;
        // Cursor gives the hooks of Claude's files its own payload (`beforeSubmitPrompt`,
        // `conversation_id`, `cursor_version`: seen from Cursor 2.5 in claude-mem#838 and
        // from 3.13 in clawd-on-desk#776), so for Cursor the shape tells nothing: a hook
        // without `--agent` is the Claude-file run whatever it was given.
        let from_claude_files = self.claude_shaped || agent == Agent::Cursor;
        (signals.declared.is_none()
            && from_claude_files
            && matches!(agent, Agent::Cursor | Agent::VsCode | Agent::Copilot))
        .then_some(agent)
    }
}

/// Whether a `hook <event>` argument names an event of some agent's hooks: ours, Claude Code's
/// (VS Code's), Copilot CLI's, Gemini CLI's or Cursor's.
pub fn is_event_name(arg: &str) -> bool {
    copilot::event_of_arg(arg).is_some()
        || gemini::OWN_EVENTS.contains(&arg)
        || cursor::SETUP_EVENTS.contains(&arg)
}

/// The payload field that says how many of its array items and object entries were not read
/// (see [`bounded_json`]).
pub const LEFT_OUT: &str = "json_values_left_out";

/// [`read_payload`], saying also whether the payload came Claude-shaped.
pub fn read_hook(arg: &str, stdin: &[u8], signals: &Signals) -> Result<ReadHook, PayloadError> {
    read_fields(arg, object(stdin)?, signals)
}

/// The session id a payload that cannot be recorded is judged under: it names no session, and
/// nothing is written under it.
const UNRECORDED: &str = "unrecorded";

/// A payload [`read_hook`] refused for its plumbing, read once more only so that the tool call
/// it names can still be judged by the policy: a field of the wrong type that says where the
/// session lives or what the event is called (`cwd`, `transcript_path`, `agent_id`,
/// `timestamp` …) is left out, and a session id that is missing or cannot name a folder is
/// replaced by one that names none. Whatever the agent's hook sent wrong around the call, a
/// call the policy denies stays denied; the payload is still not recorded. `None` when the
/// call itself cannot be read (not JSON, no tool, a tool name that is not a string).
pub fn read_for_judging(arg: &str, stdin: &[u8], signals: &Signals) -> Option<HookPayload> {
    mended(arg, object(stdin).ok()?, signals, 16)
}

/// The fields that may hold a payload's session id, in the agents' spellings.
const SESSION_KEYS: [&str; 3] = ["session_id", "sessionId", "conversation_id"];

/// The fields that may hold an id a folder is named by: the session's ([`SESSION_KEYS`]) and a
/// subagent's, in the agents' spellings.
pub const ID_KEYS: [&str; 5] = [
    SESSION_KEYS[0],
    SESSION_KEYS[1],
    SESSION_KEYS[2],
    "agent_id",
    "subagent_id",
];

/// [`read_for_judging`]'s reading: each round mends the one field the reader named, for at most
/// `rounds` rounds (a payload has only so many fields).
fn mended(
    arg: &str,
    mut fields: Map<String, Value>,
    signals: &Signals,
    rounds: u8,
) -> Option<HookPayload> {
    let rounds = rounds.checked_sub(1)?;
    let present = SESSION_KEYS
        .into_iter()
        .find(|key| fields.contains_key(*key));
    match read_fields(arg, fields.clone(), signals) {
        Ok(read) => return Some(read.payload),
        Err(PayloadError::Missing(key) | PayloadError::WrongType(key, _))
            if SESSION_KEYS.contains(&key) =>
        {
            let Some(present) = present else {
                // No session field at all: its spelling is part of the agent's shape (Copilot
                // CLI's camelCase has `sessionId`), so each is tried.
                return SESSION_KEYS.into_iter().find_map(|key| {
                    let mut fields = fields.clone();
                    fields.insert(key.into(), UNRECORDED.into());
                    mended(arg, fields, signals, rounds)
                });
            };
            fields.insert(present.into(), UNRECORDED.into());
        }
        Err(PayloadError::BadSessionId(_)) => {
            fields.insert(present.unwrap_or("session_id").into(), UNRECORDED.into());
        }
        Err(PayloadError::WrongType(key, _)) if !key.starts_with("tool") => {
            // Under the name the agent sent it by (Copilot CLI's camelCase is read under the
            // store's names).
            fields.remove(key);
            for alias in copilot::camel_names(key) {
                fields.remove(alias);
            }
        }
        Err(_) => return None,
    }
    mended(arg, fields, signals, rounds)
}

/// Stdin's JSON object.
fn object(stdin: &[u8]) -> Result<Map<String, Value>, PayloadError> {
    // Some editors prefix a byte-order mark; it is not part of the JSON.
    let bytes = stdin.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stdin);
    if bytes.trim_ascii().is_empty() {
        return Err(PayloadError::Empty);
    }
    let read = match bounded_json::from_slice(bytes, bounded_json::PAYLOAD_VALUES) {
        Ok(read) => read,
        // Node cuts strings inside emoji and writes the halves as lone surrogate escapes; such
        // a payload is read with each one taken as U+FFFD, as the store's reader does.
        Err(e) => crate::model::json_mend::replace_lone_surrogates(bytes)
            .and_then(|fixed| bounded_json::from_slice(&fixed, bounded_json::PAYLOAD_VALUES).ok())
            .ok_or_else(|| PayloadError::NotJson(e.to_string()))?,
    };
    let Value::Object(mut fields) = read.value else {
        return Err(PayloadError::NotAnObject);
    };
    if read.left_out > 0 {
        // Said in the payload, as a field no agent sends, so that it reaches the event.
        fields.insert(LEFT_OUT.into(), read.left_out.into());
    }
    Ok(fields)
}

/// A payload's fields read into the normal form, as the agent that sent them writes them.
fn read_fields(
    arg: &str,
    fields: Map<String, Value>,
    signals: &Signals,
) -> Result<ReadHook, PayloadError> {
    let agent = agent_of(&fields, signals);
    let claude_shaped = match agent {
        Agent::Cursor => !cursor::is_native(&fields),
        Agent::Copilot => !copilot::is_camel(&fields),
        Agent::VsCode => true,
        _ => false,
    };
    let payload = match agent {
        Agent::GeminiCli => gemini::read(arg, fields),
        Agent::Codex => codex::read(arg, fields),
        Agent::Cursor => cursor::read(arg, fields),
        Agent::Copilot => copilot::read(arg, fields),
        Agent::VsCode if vscode::is_vscode(&fields) => vscode::read(arg, fields),
        Agent::VsCode => claude_code::read(arg, fields).map(|mut p| {
            p.agent = Agent::VsCode;
            p
        }),
        _ => claude_code::read(arg, fields),
    }?;
    Ok(ReadHook {
        payload,
        claude_shaped,
    })
}

/// Which agent sent a payload (docs/agents.md §8): the one `--agent` names; else what only
/// one agent's payload holds (Cursor's `cursor_version`, one of Gemini CLI's event names,
/// Copilot CLI's camelCase payload with `sessionId` and no `hookEventName`, VS Code's camelCase
/// common fields, Codex's `turn_id` or a rollout as its transcript); else the environment
/// (`CURSOR_VERSION`, `GEMINI_SESSION_ID`, `COPILOT_CLI=1`), which says who ran a
/// Claude-shaped payload; else Claude Code. The payload comes first because the environment
/// is inherited: an agent started from another's terminal carries its variables, and the
/// answer must be in the format of the agent that waits for it.
fn agent_of(fields: &Map<String, Value>, signals: &Signals) -> Agent {
    match signals.declared {
        // VS Code runs the hook files of Copilot CLI too; its payload tells it apart (it names
        // its event, and Copilot's camelCase payload never does), whatever the environment: a
        // VS Code started from a Copilot CLI terminal inherits `COPILOT_CLI=1`.
        Some(Agent::Copilot) if vscode::is_vscode(fields) && !copilot::is_camel(fields) => {
            return Agent::VsCode;
        }
        Some(
            agent @ (Agent::ClaudeCode
            | Agent::Cursor
            | Agent::Copilot
            | Agent::VsCode
            | Agent::GeminiCli
            | Agent::Codex),
        ) => {
            return agent;
        }
        _ => {}
    }
    // The environment is inherited: Claude Code started from a Cursor or Copilot terminal may
    // carry their variables. A transcript of Claude Code's own says the payload is its.
    let claude_transcript = fields
        .get("transcript_path")
        .and_then(Value::as_str)
        .is_some_and(|path| path.contains("/.claude/projects/"));
    let (env_cursor, env_gemini, env_copilot) = if claude_transcript {
        (false, false, false)
    } else {
        (signals.cursor, signals.gemini, signals.copilot)
    };
    if fields.contains_key("cursor_version") {
        Agent::Cursor
    } else if gemini::is_gemini(fields) {
        Agent::GeminiCli
    } else if copilot::is_camel(fields) {
        Agent::Copilot
    } else if vscode::is_vscode(fields) {
        Agent::VsCode
    } else if codex::is_codex(fields) {
        Agent::Codex
    } else if env_cursor {
        Agent::Cursor
    } else if env_gemini {
        Agent::GeminiCli
    } else if env_copilot {
        Agent::Copilot
    } else {
        Agent::ClaudeCode
    }
}
